//! Role verification: the role must be assumable with the tenant's ExternalId and refused
//! without it. A role created seconds ago may be unassumable while IAM propagates, so
//! AccessDenied is retried with back-off inside a bounded budget.

use std::time::Duration;

use tokio::time::Instant;

use crate::access::{AssumeError, AssumeRequest, RoleAssumer, SessionName};
use crate::domain::{AccountStatus, ExternalId, RoleArn};

#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// How long AccessDenied (or throttling) is retried before giving up.
    pub budget: Duration,
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// Off only against an emulator that does not enforce `sts:ExternalId` (moto); see
    /// `OnboardingSettings::from_env`. With it off, an account can never become `insecure`.
    pub check_refused_without_external_id: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            budget: Duration::from_secs(60),
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(8),
            check_refused_without_external_id: true,
        }
    }
}

/// The outcome: `Active`, `Insecure` or `Failed`, with a reason the customer can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub status: AccountStatus,
    pub reason: String,
    /// The with-ExternalId assume was refused throughout: for an account that used to work,
    /// this means access was revoked.
    pub access_denied: bool,
    /// AssumeRole with the ExternalId succeeded: the caller controls a role in the account that
    /// trusts this tenant. Nothing about an account is written, and no claim taken, before this.
    pub proved: bool,
}

pub const INSECURE_REASON: &str =
    "the role can be assumed WITHOUT the ExternalId, so it is open to the confused-deputy problem. \
Add `\"Condition\": {\"StringEquals\": {\"sts:ExternalId\": \"<your ExternalId>\"}}` to the role's trust policy \
(the costradar stack does this for you), then verify again. costradar will not use this account until then.";

/// The session policy of a verification: the session proves that the role can be assumed and
/// can do nothing else (a session's rights are the role's intersected with this).
pub const VERIFY_SESSION_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}"#;

pub async fn verify_role(
    assumer: &dyn RoleAssumer,
    role: &RoleArn,
    external_id: &ExternalId,
    session: &SessionName,
    opts: &VerifyOptions,
) -> Verdict {
    let started = Instant::now();
    let mut backoff = opts.first_backoff;
    let with_id = AssumeRequest {
        role_arn: role,
        external_id: Some(external_id),
        session_name: session,
        policy: Some(VERIFY_SESSION_POLICY),
        policy_arns: &[],
    };
    loop {
        match assumer.assume(&with_id).await {
            Ok(_) => break,
            Err(e @ (AssumeError::AccessDenied(_) | AssumeError::Throttled(_) | AssumeError::Unavailable(_))) => {
                if started.elapsed() + backoff > opts.budget {
                    let access_denied = matches!(e, AssumeError::AccessDenied(_));
                    let reason = if access_denied {
                        format!(
                            "costradar could not assume {role} with this tenant's ExternalId (AccessDenied for {}s). \
                             Check that the role exists, that its trust policy allows costradar's scanner role, \
                             and that it requires the ExternalId given to your costradar stack.",
                            opts.budget.as_secs()
                        )
                    } else {
                        format!("costradar could not reach AWS STS to verify {role}; verify again later ({e})")
                    };
                    return Verdict { status: AccountStatus::Failed, reason, access_denied, proved: false };
                }
                tracing::info!(role = %role, error = %e, backoff_ms = backoff.as_millis() as u64, "assume refused; retrying (IAM propagation)");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(opts.max_backoff);
            }
            Err(AssumeError::Other(msg)) => {
                return Verdict {
                    status: AccountStatus::Failed,
                    reason: format!("costradar could not assume {role}: {msg}"),
                    access_denied: false,
                    proved: false,
                };
            }
        }
    }
    if !opts.check_refused_without_external_id {
        return Verdict {
            status: AccountStatus::Active,
            reason: "verified with the ExternalId (the check without it was skipped: emulator mode)".into(),
            access_denied: false,
            proved: true,
        };
    }
    let without_id = AssumeRequest { external_id: None, ..with_id };
    let mut backoff = opts.first_backoff;
    loop {
        match assumer.assume(&without_id).await {
            Err(AssumeError::AccessDenied(_)) => {
                return Verdict {
                    status: AccountStatus::Active,
                    reason: "verified: the role can be assumed with the ExternalId and is refused without it".into(),
                    access_denied: false,
                    proved: true,
                }
            }
            Ok(_) => {
                return Verdict {
                    status: AccountStatus::Insecure,
                    reason: INSECURE_REASON.into(),
                    access_denied: false,
                    proved: true,
                }
            }
            Err(e @ (AssumeError::Throttled(_) | AssumeError::Unavailable(_)))
                if started.elapsed() + backoff <= opts.budget =>
            {
                tracing::info!(role = %role, error = %e, "negative check inconclusive; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(opts.max_backoff);
            }
            Err(e) => {
                return Verdict {
                    status: AccountStatus::Failed,
                    reason: format!(
                        "costradar could not confirm that {role} refuses sessions without the ExternalId: {e}"
                    ),
                    access_denied: false,
                    proved: true,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{AssumeError, TemporaryCredentials};
    use std::sync::Mutex;

    /// Records the session policy of every assume.
    #[derive(Default)]
    struct Recording(Mutex<Vec<Option<String>>>);

    #[async_trait::async_trait]
    impl RoleAssumer for Recording {
        async fn assume(&self, req: &AssumeRequest<'_>) -> Result<TemporaryCredentials, AssumeError> {
            self.0.lock().unwrap().push(req.policy.map(str::to_owned));
            if req.external_id.is_some() {
                Ok(TemporaryCredentials {
                    access_key_id: "ASIAFAKE".into(),
                    secret_access_key: "fake".into(),
                    session_token: "fake".into(),
                    expiration: chrono::Utc::now() + chrono::Duration::minutes(15),
                })
            } else {
                Err(AssumeError::AccessDenied("no".into()))
            }
        }
    }

    #[tokio::test]
    async fn every_verification_session_can_do_nothing_but_get_caller_identity() {
        let assumer = Recording::default();
        let role = RoleArn::parse("arn:aws:iam::123456789012:role/CostradarReadOnly").unwrap();
        let tenant = crate::domain::TenantId::generate();
        let session = SessionName::new(&tenant, chrono::Utc::now());
        let v = verify_role(&assumer, &role, &ExternalId::generate(), &session, &VerifyOptions::default()).await;
        assert_eq!(v.status, AccountStatus::Active);
        let policies = assumer.0.lock().unwrap().clone();
        assert_eq!(policies.len(), 2, "with and without the ExternalId");
        for p in policies {
            let doc: serde_json::Value = serde_json::from_str(p.as_deref().expect("a session policy")).unwrap();
            assert_eq!(doc["Statement"].as_array().unwrap().len(), 1);
            assert_eq!(doc["Statement"][0]["Effect"], "Allow");
            assert_eq!(doc["Statement"][0]["Action"], "sts:GetCallerIdentity");
        }
    }
}
