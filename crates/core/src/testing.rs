//! Test doubles for the ports, behind the `test-support` feature (enabled only from
//! dev-dependencies). The real adapters are tested against moto and smithy mocks; these
//! stand in where a test is about the code above the port.

use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{Duration, Utc};
use url::Url;

use crate::access::{AssumeError, AssumeRequest, RoleAssumer, TemporaryCredentials};
use crate::onboarding::custom_resource::ResponseSender;
use crate::onboarding::{OnboardingSettings, VerifyOptions};

/// STS as a correctly configured customer role answers: with the ExternalId yes, without no.
/// `open()` answers yes to both (a role missing its ExternalId condition); `denying()` no to both.
pub struct FakeAssumer {
    with_id: bool,
    without_id: bool,
}

impl FakeAssumer {
    pub fn enforcing() -> Self {
        Self { with_id: true, without_id: false }
    }
    pub fn open() -> Self {
        Self { with_id: true, without_id: true }
    }
    pub fn denying() -> Self {
        Self { with_id: false, without_id: false }
    }
}

#[async_trait]
impl RoleAssumer for FakeAssumer {
    async fn assume(&self, req: &AssumeRequest<'_>) -> Result<TemporaryCredentials, AssumeError> {
        let allowed = if req.external_id.is_some() { self.with_id } else { self.without_id };
        if allowed {
            Ok(TemporaryCredentials {
                access_key_id: "ASIAFAKE".into(),
                secret_access_key: "fake".into(),
                session_token: "fake".into(),
                expiration: Utc::now() + Duration::minutes(15),
            })
        } else {
            Err(AssumeError::AccessDenied("not authorized to perform sts:AssumeRole".into()))
        }
    }
}

/// STS over a world of customer roles, each trusting one ExternalId and refusing sessions
/// without it, as the costradar stack creates them. A role that is not in the world does not
/// exist: AccessDenied, as STS answers for a missing role too.
#[derive(Default)]
pub struct RoleWorld {
    roles: Mutex<std::collections::HashMap<String, String>>,
    /// AssumeRole calls so far.
    pub assumes: std::sync::atomic::AtomicUsize,
}

impl RoleWorld {
    /// `role_arn` now exists and trusts `external_id`.
    pub fn trust(&self, role_arn: &str, external_id: &str) {
        self.roles.lock().unwrap().insert(role_arn.to_owned(), external_id.to_owned());
    }
}

#[async_trait]
impl RoleAssumer for RoleWorld {
    async fn assume(&self, req: &AssumeRequest<'_>) -> Result<TemporaryCredentials, AssumeError> {
        self.assumes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let trusted = self.roles.lock().unwrap().get(&req.role_arn.to_string()).cloned();
        match (trusted, req.external_id) {
            (Some(id), Some(given)) if given.as_str() == id => FakeAssumer::enforcing().assume(req).await,
            _ => {
                Err(AssumeError::AccessDenied(format!("not authorized to perform sts:AssumeRole on {}", req.role_arn)))
            }
        }
    }
}

/// Records every PUT instead of sending it.
#[derive(Default)]
pub struct RecordingSender {
    pub sent: Mutex<Vec<(Url, String)>>,
}

#[async_trait]
impl ResponseSender for RecordingSender {
    async fn put(&self, url: &Url, body: &str) -> Result<(), String> {
        self.sent.lock().unwrap().push((url.clone(), body.to_owned()));
        Ok(())
    }
}

impl RecordingSender {
    /// The bodies sent so far, parsed.
    pub fn bodies(&self) -> Vec<serde_json::Value> {
        self.sent.lock().unwrap().iter().map(|(_, b)| serde_json::from_str(b).expect("JSON body")).collect()
    }
}

/// Production settings for a fictional operator account `111122223333` in us-east-1, with
/// verification budgets short enough for tests. `emulator` as in `COSTRADAR_LOCAL_EMULATOR`.
pub fn settings(emulator: bool) -> OnboardingSettings {
    let mut s = OnboardingSettings::from_lookup(|k| {
        Some(
            match k {
                "COSTRADAR_ACCOUNT_ID" => "111122223333",
                "AWS_REGION" => "us-east-1",
                "COSTRADAR_TOPIC_ARN" => {
                    "arn:aws:sns:us-east-1:111122223333:costradar-CustomResourceTopic-9XyZ1AbC2dEf"
                }
                "COSTRADAR_TEMPLATE_URL" => "https://costradar-artifacts.s3.amazonaws.com/costradar-role.yaml",
                "COSTRADAR_RECEIVER_URL" => "https://abc.lambda-url.us-east-1.on.aws",
                "COSTRADAR_LOCAL_EMULATOR" if emulator => "1",
                "AWS_ENDPOINT_URL" if emulator => "http://127.0.0.1:5000",
                _ => return None,
            }
            .to_owned(),
        )
    })
    .expect("test settings");
    let quick = VerifyOptions {
        budget: std::time::Duration::from_secs(3),
        first_backoff: std::time::Duration::from_millis(100),
        max_backoff: std::time::Duration::from_millis(500),
        check_refused_without_external_id: !emulator,
    };
    s.verify = quick.clone();
    s.verify_interactive = quick;
    s
}

/// A clock the test moves by hand.
pub struct ManualClock(Mutex<chrono::DateTime<Utc>>);

impl ManualClock {
    pub fn new(at: chrono::DateTime<Utc>) -> Self {
        Self(Mutex::new(at))
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl crate::domain::Clock for ManualClock {
    fn now(&self) -> chrono::DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// A new tenant with manually connected accounts (the roles named by `role_arns`, verified by
/// the onboarding's assumer); returns the tenant and each account's ingest token, in order.
pub async fn tenant_with_accounts(
    svc: &crate::onboarding::Onboarding,
    name: &str,
    role_arns: &[&str],
) -> (crate::domain::Tenant, Vec<String>) {
    let tenant = svc.create_tenant(name).await.expect("create tenant").tenant;
    let mut tokens = Vec::new();
    for role_arn in role_arns {
        let req = crate::onboarding::AccountRequest {
            role_arn: (*role_arn).to_owned(),
            regions: vec![],
            cur: None,
            registration: crate::domain::Registration::Manual,
        };
        let connected = svc.connect_account(&tenant.id, req, &svc.settings().verify).await.expect("connect");
        tokens.push(connected.ingest_token.expect("a first connection issues a token").expose().to_owned());
    }
    (tenant, tokens)
}

/// An environment for a `Config::from_lookup`: the variables of `base`, with `changes` applied
/// (`None` removes the variable).
pub fn environment(base: &[(&str, &str)], changes: &[(&str, Option<&str>)]) -> impl Fn(&str) -> Option<String> {
    let mut m: std::collections::HashMap<String, String> =
        base.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    for (k, v) in changes {
        match v {
            Some(v) => m.insert((*k).to_owned(), (*v).to_owned()),
            None => m.remove(*k),
        };
    }
    move |k| m.get(k).cloned()
}

/// Asserts that a configuration error names `var` in a bounded message without control
/// characters, and returns it.
pub fn refused_config(
    result: Result<impl std::fmt::Debug, crate::config::ConfigError>,
    var: &str,
) -> crate::config::ConfigError {
    let e = result.expect_err("the configuration was accepted");
    assert_eq!(e.var, var);
    let text = e.to_string();
    assert!(text.starts_with(&format!("configuration: {var}: ")), "{text}");
    assert!(text.len() < 300 && !text.chars().any(char::is_control), "{text:?}");
    e
}
