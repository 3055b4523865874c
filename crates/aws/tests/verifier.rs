//! The verifier's decisions against STS responses moto cannot produce (it does not enforce
//! `sts:ExternalId`): smithy mocks on the real SDK client, through the real STS adapter.
//! Time is paused, so back-off sleeps cost nothing and elapsed time is exact.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sts::error::ErrorMetadata;
use aws_sdk_sts::operation::assume_role::{AssumeRoleError, AssumeRoleOutput};
use aws_sdk_sts::types::Credentials;
use aws_sdk_sts::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use chrono::Utc;
use costradar_aws::StsRoleAssumer;
use costradar_core::access::SessionName;
use costradar_core::domain::*;
use costradar_core::onboarding::{verify_role, AccountRequest, Onboarding, OnboardingSettings, VerifyOptions};
use costradar_core::store::{AccountStore, MemoryStore};

fn creds() -> AssumeRoleOutput {
    AssumeRoleOutput::builder()
        .credentials(
            Credentials::builder()
                .access_key_id("ASIAEXAMPLE")
                .secret_access_key("secret")
                .session_token("token")
                .expiration(aws_sdk_sts::primitives::DateTime::from_secs(Utc::now().timestamp() + 900))
                .build()
                .unwrap(),
        )
        .build()
}

fn denied() -> AssumeRoleError {
    AssumeRoleError::generic(
        ErrorMetadata::builder()
            .code("AccessDenied")
            .message(
                "User: arn:aws:sts::111122223333:assumed-role/costradar/x is not authorized to perform: sts:AssumeRole",
            )
            .build(),
    )
}

fn throttled() -> AssumeRoleError {
    AssumeRoleError::generic(ErrorMetadata::builder().code("Throttling").message("Rate exceeded").build())
}

fn fixture() -> (RoleArn, ExternalId, SessionName) {
    let tenant = TenantId::generate();
    (
        RoleArn::parse("arn:aws:iam::123456789012:role/CostradarReadOnly").unwrap(),
        ExternalId::generate(),
        SessionName::new(&tenant, Utc::now()),
    )
}

fn opts() -> VerifyOptions {
    VerifyOptions::default()
}

#[tokio::test(start_paused = true)]
async fn with_id_succeeds_and_without_is_refused_means_active() {
    let (role, ext, session) = fixture();
    let ext_s = ext.as_str().to_owned();
    let session_s = session.as_str().to_owned();
    let with = mock!(Client::assume_role)
        .match_requests(move |r| {
            r.external_id() == Some(ext_s.as_str())
                && r.role_session_name() == Some(session_s.as_str())
                && r.duration_seconds() == Some(900)
                && r.role_arn() == Some("arn:aws:iam::123456789012:role/CostradarReadOnly")
        })
        .then_output(creds);
    let without = mock!(Client::assume_role).match_requests(|r| r.external_id().is_none()).then_error(denied);
    let client = mock_client!(aws_sdk_sts, RuleMode::MatchAny, [&with, &without]);
    let v = verify_role(&StsRoleAssumer::new(client), &role, &ext, &session, &opts()).await;
    assert_eq!(v.status, AccountStatus::Active, "{}", v.reason);
    assert_eq!((with.num_calls(), without.num_calls()), (1, 1));
    assert!(session.as_str().starts_with("costradar-t-"));
}

#[tokio::test(start_paused = true)]
async fn assumable_without_external_id_is_insecure() {
    let (role, ext, session) = fixture();
    let any = mock!(Client::assume_role).then_output(creds);
    let client = mock_client!(aws_sdk_sts, RuleMode::MatchAny, [&any]);
    let v = verify_role(&StsRoleAssumer::new(client), &role, &ext, &session, &opts()).await;
    assert_eq!(v.status, AccountStatus::Insecure);
    assert!(v.reason.contains("WITHOUT the ExternalId") && v.reason.contains("sts:ExternalId"), "{}", v.reason);
    assert_eq!(any.num_calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn access_denied_during_iam_propagation_is_retried() {
    let (role, ext, session) = fixture();
    let with = mock!(Client::assume_role)
        .match_requests(|r| r.external_id().is_some())
        .sequence()
        .error(denied)
        .times(3)
        .output(creds)
        .build();
    let without = mock!(Client::assume_role).match_requests(|r| r.external_id().is_none()).then_error(denied);
    let client = mock_client!(aws_sdk_sts, RuleMode::MatchAny, [&with, &without]);
    let start = tokio::time::Instant::now();
    let v = verify_role(&StsRoleAssumer::new(client), &role, &ext, &session, &opts()).await;
    assert_eq!(v.status, AccountStatus::Active, "{}", v.reason);
    assert_eq!(with.num_calls(), 4);
    // Back-off 1 s, 2 s, 4 s.
    assert_eq!(start.elapsed(), Duration::from_secs(7));
}

#[tokio::test(start_paused = true)]
async fn access_denied_throughout_fails_within_the_budget() {
    let (role, ext, session) = fixture();
    let with = mock!(Client::assume_role).match_requests(|r| r.external_id().is_some()).then_error(denied);
    let client = mock_client!(aws_sdk_sts, RuleMode::MatchAny, [&with]);
    let start = tokio::time::Instant::now();
    let v = verify_role(&StsRoleAssumer::new(client), &role, &ext, &session, &opts()).await;
    assert_eq!(v.status, AccountStatus::Failed);
    assert!(v.access_denied);
    assert!(v.reason.contains("AccessDenied for 60s"), "{}", v.reason);
    assert!(start.elapsed() <= Duration::from_secs(60), "{:?}", start.elapsed());
    // Attempts at 0, 1, 3, 7, 15, 23, 31, 39, 47 and 55 s; one more 8 s back-off would overrun.
    assert_eq!(with.num_calls(), 10);
    assert_eq!(start.elapsed(), Duration::from_secs(55));
}

#[tokio::test(start_paused = true)]
async fn throttling_is_retried_and_other_errors_are_not() {
    let (role, ext, session) = fixture();
    let with = mock!(Client::assume_role)
        .match_requests(|r| r.external_id().is_some())
        .sequence()
        .error(throttled)
        .times(2)
        .output(creds)
        .build();
    let without = mock!(Client::assume_role).match_requests(|r| r.external_id().is_none()).then_error(denied);
    let client = mock_client!(aws_sdk_sts, RuleMode::MatchAny, [&with, &without]);
    let v = verify_role(&StsRoleAssumer::new(client), &role, &ext, &session, &opts()).await;
    assert_eq!(v.status, AccountStatus::Active, "{}", v.reason);

    let disabled = mock!(Client::assume_role).then_error(|| {
        AssumeRoleError::generic(
            ErrorMetadata::builder()
                .code("RegionDisabledException")
                .message("STS is not activated in this region")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_sts, RuleMode::MatchAny, [&disabled]);
    let v = verify_role(&StsRoleAssumer::new(client), &role, &ext, &session, &opts()).await;
    assert_eq!(v.status, AccountStatus::Failed);
    assert!(!v.access_denied);
    assert_eq!(disabled.num_calls(), 1, "a non-retryable error is not retried");
}

fn settings() -> OnboardingSettings {
    OnboardingSettings::from_lookup(|k| {
        Some(
            match k {
                "COSTRADAR_ACCOUNT_ID" => "111122223333",
                "AWS_REGION" => "us-east-1",
                "COSTRADAR_TOPIC_ARN" => "arn:aws:sns:us-east-1:111122223333:costradar-cr",
                "COSTRADAR_TEMPLATE_URL" => "https://example-bucket.s3.amazonaws.com/costradar-role.yaml",
                _ => return None,
            }
            .to_owned(),
        )
    })
    .unwrap()
}

#[tokio::test(start_paused = true)]
async fn an_active_account_that_is_later_refused_is_revoked() {
    let store = Arc::new(MemoryStore::new());
    let ok_with = mock!(Client::assume_role).match_requests(|r| r.external_id().is_some()).then_output(creds);
    let denied_without = mock!(Client::assume_role).match_requests(|r| r.external_id().is_none()).then_error(denied);
    let client = mock_client!(aws_sdk_sts, RuleMode::MatchAny, [&ok_with, &denied_without]);
    let svc = Onboarding::new(store.clone(), Arc::new(StsRoleAssumer::new(client)), Arc::new(SystemClock), settings());
    let t = svc.create_tenant("Acme").await.unwrap();
    let req = AccountRequest {
        role_arn: "arn:aws:iam::123456789012:role/CostradarReadOnly".into(),
        regions: vec![],
        cur: None,
        registration: Registration::Manual,
    };
    let a = svc.connect_account(&t.tenant.id, req, &opts()).await.unwrap().account;
    assert_eq!(a.status, AccountStatus::Active);

    // The customer deletes the role: every assume is refused from now on.
    let all_denied = mock!(Client::assume_role).then_error(denied);
    let client = mock_client!(aws_sdk_sts, RuleMode::MatchAny, [&all_denied]);
    let svc = Onboarding::new(store.clone(), Arc::new(StsRoleAssumer::new(client)), Arc::new(SystemClock), settings());
    let a = svc.verify_account(&t.tenant.id, &a.account_id, &opts()).await.unwrap();
    assert_eq!(a.status, AccountStatus::Revoked);
    let stored = store.get_account(&t.tenant.id, &a.account_id).await.unwrap().unwrap();
    let last = stored.history.last().unwrap();
    assert_eq!((last.from, last.to), (AccountStatus::Active, AccountStatus::Revoked));
    assert!(last.reason.contains("AccessDenied"));
}
