//! Adapters to AWS: role assumption (ExternalId, session names, session policies) and, in later
//! issues, the per-service scanners. The only module besides `store::dynamodb` that touches
//! the SDK.

pub mod permissions;
pub mod price_list;
pub mod scan;
pub mod sts;

pub use aws_config::SdkConfig;
pub use sts::{
    customer_config, verifier_sdk_config, AssumeError, AssumeRequest, RoleAssumer, SessionName, StsRoleAssumer,
    TemporaryCredentials,
};

/// Shared SDK configuration. `endpoint_url` points every client at an emulator (moto) for tests
/// and the local demo; in Lambda it is `None` and the SDK's own resolution applies.
pub async fn sdk_config(endpoint_url: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}
