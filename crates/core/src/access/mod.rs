//! Access to customer accounts: the role-assumption port, the session naming that makes every
//! call attributable in the customer's CloudTrail, and the permission table that narrows each
//! session to one task (`permissions`). The STS adapter is in `costradar-aws`.

pub mod permissions;

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::{ExternalId, RoleArn, TenantId};

/// `costradar-<tenant>-<unix-time>`: what the customer sees in CloudTrail as the session name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionName(String);

impl SessionName {
    pub fn new(tenant: &TenantId, at: DateTime<Utc>) -> Self {
        let s = format!("costradar-{}-{}", tenant, at.timestamp());
        // STS allows 2..=64 of [\w+=,.@-]; tenant ids are 18 characters, so this always fits.
        debug_assert!(s.len() <= 64);
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Sessions are short: 15 minutes, the STS minimum.
pub const SESSION_SECONDS: i32 = 900;

pub struct AssumeRequest<'a> {
    pub role_arn: &'a RoleArn,
    /// `None` only for the verifier's negative check.
    pub external_id: Option<&'a ExternalId>,
    pub session_name: &'a SessionName,
    /// Inline session policy that narrows the session to one task's actions.
    pub policy: Option<&'a str>,
    /// Managed session policies (ARNs of policies in the role's account), with `policy`.
    pub policy_arns: &'a [String],
}

#[derive(Clone)]
pub struct TemporaryCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expiration: DateTime<Utc>,
}

impl fmt::Debug for TemporaryCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TemporaryCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("expiration", &self.expiration)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AssumeError {
    /// The trust policy refused us (or the role does not exist: STS does not say which).
    #[error("access denied: {0}")]
    AccessDenied(String),
    #[error("throttled: {0}")]
    Throttled(String),
    /// Network or service trouble: worth retrying.
    #[error("STS unavailable: {0}")]
    Unavailable(String),
    /// Anything else (a malformed policy, a disabled region): retrying will not help.
    #[error("{0}")]
    Other(String),
}

#[async_trait]
pub trait RoleAssumer: Send + Sync {
    async fn assume(&self, req: &AssumeRequest<'_>) -> Result<TemporaryCredentials, AssumeError>;
}
