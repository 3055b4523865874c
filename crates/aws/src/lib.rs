//! costradar's adapters over the AWS SDK (and the one HTTP client that answers CloudFormation),
//! each behind a port of `costradar-core`: the DynamoDB store, STS, the per-service scanners,
//! Athena, the Price List API, real-time enrichment and notifications.

pub mod athena;
pub mod cognito;
pub mod dynamodb;
pub mod enrich;
pub mod health;
pub mod notify;
pub mod price_list;
pub mod reports;
pub mod response;
pub mod runs_bucket;
pub mod scan;
pub mod sts;

pub use aws_config::SdkConfig;
pub use dynamodb::DynamoStore;
pub use sts::{customer_config, verifier_sdk_config, StsRoleAssumer};

/// Shared SDK configuration. `endpoint_url` points every client at an emulator (moto) for tests
/// and the local demo; in Lambda it is `None` and the SDK's own resolution applies.
pub async fn sdk_config(endpoint_url: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}
