//! The STS adapter of `costradar_core::access::RoleAssumer`, and the SDK configurations for
//! sessions in customer accounts.

use async_trait::async_trait;
use aws_sdk_sts::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_sts::types::PolicyDescriptorType;
use chrono::{DateTime, Utc};
use costradar_core::access::{AssumeError, AssumeRequest, RoleAssumer, TemporaryCredentials, SESSION_SECONDS};
use costradar_core::domain::RoleArn;

pub struct StsRoleAssumer {
    client: aws_sdk_sts::Client,
}

impl StsRoleAssumer {
    pub fn new(client: aws_sdk_sts::Client) -> Self {
        Self { client }
    }

    pub fn from_sdk(config: &aws_config::SdkConfig) -> Self {
        Self::new(aws_sdk_sts::Client::new(config))
    }
}

#[async_trait]
impl RoleAssumer for StsRoleAssumer {
    async fn assume(&self, req: &AssumeRequest<'_>) -> Result<TemporaryCredentials, AssumeError> {
        let out = self
            .client
            .assume_role()
            .role_arn(req.role_arn.as_str())
            .set_external_id(req.external_id.map(|e| e.as_str().to_owned()))
            .role_session_name(req.session_name.as_str())
            .duration_seconds(SESSION_SECONDS)
            .set_policy(req.policy.map(str::to_owned))
            .set_policy_arns(
                (!req.policy_arns.is_empty())
                    .then(|| req.policy_arns.iter().map(|a| PolicyDescriptorType::builder().arn(a).build()).collect()),
            )
            .send()
            .await
            .map_err(|e| {
                let detail = format!("{}", DisplayErrorContext(&e));
                match e.code() {
                    Some("AccessDenied" | "AccessDeniedException") => AssumeError::AccessDenied(detail),
                    Some("Throttling" | "ThrottlingException" | "RequestLimitExceeded") => {
                        AssumeError::Throttled(detail)
                    }
                    Some("InternalFailure" | "ServiceUnavailable" | "InternalError") => {
                        AssumeError::Unavailable(detail)
                    }
                    Some(_) => AssumeError::Other(detail),
                    None => AssumeError::Unavailable(detail),
                }
            })?;
        let c = out.credentials.ok_or_else(|| AssumeError::Other("STS answered without credentials".into()))?;
        let expiration = DateTime::<Utc>::from_timestamp(c.expiration.secs(), 0).unwrap_or_else(Utc::now);
        Ok(TemporaryCredentials {
            access_key_id: c.access_key_id,
            secret_access_key: c.secret_access_key,
            session_token: c.session_token,
            expiration,
        })
    }
}

/// SDK configuration for calls into a customer account: the assumed session's credentials, the
/// region, and adaptive retry (throttling backs off across calls). Everything else (endpoint,
/// timeouts) comes from `base`.
pub fn customer_config(
    base: &aws_config::SdkConfig,
    creds: &TemporaryCredentials,
    region: &str,
) -> aws_config::SdkConfig {
    let credentials = aws_sdk_sts::config::Credentials::new(
        &creds.access_key_id,
        &creds.secret_access_key,
        Some(creds.session_token.clone()),
        Some(creds.expiration.into()),
        "costradar-assumed-role",
    );
    base.to_builder()
        .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(credentials))
        .region(aws_config::Region::new(region.to_owned()))
        .retry_config(aws_config::retry::RetryConfig::adaptive())
        .build()
}

/// The SDK configuration that verification runs with: the base credentials, or, with
/// `verify_as`, a session of that role (the scan role, which customer roles trust) narrowed by a
/// session policy to assuming customer roles and nothing else.
pub async fn verifier_sdk_config(base: &aws_config::SdkConfig, verify_as: Option<&RoleArn>) -> aws_config::SdkConfig {
    let Some(role) = verify_as else { return base.clone() };
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": format!("arn:aws:iam::*:role/{}", costradar_core::domain::CUSTOMER_ROLE_NAME),
        }]
    });
    let provider = aws_config::sts::AssumeRoleProvider::builder(role.as_str())
        .session_name("costradar-verify")
        .policy(policy.to_string())
        .configure(base)
        .build()
        .await;
    base.to_builder().credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(provider)).build()
}
