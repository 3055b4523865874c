//! Onboarding against moto: DynamoDB for state, STS for AssumeRole, a loopback server for
//! CloudFormation's response URL. moto does not enforce `sts:ExternalId`, so these run in
//! emulator mode (negative check off); that check is covered by the smithy-mocks tests.

use std::sync::Arc;

use costradar_aws::response::HttpResponseSender;
use costradar_aws::DynamoStore;
use costradar_aws::StsRoleAssumer;
use costradar_core::domain::*;
use costradar_core::onboarding::custom_resource::Outcome;
use costradar_core::onboarding::{AccountRequest, Onboarding, OnboardingError};
use costradar_core::store::{AccountStore, TenantStore};
use costradar_tests::{custom_resource_message, fresh_table, sdk_config, CaptureServer};
use serde_json::Value;

async fn service() -> (Onboarding, DynamoStore) {
    let store = fresh_table("onboarding").await;
    let sdk = sdk_config().await;
    let svc = Onboarding::new(
        Arc::new(store.clone()),
        Arc::new(StsRoleAssumer::from_sdk(&sdk)),
        Arc::new(SystemClock),
        costradar_core::testing::settings(true),
    );
    (svc, store)
}

fn with_tenant(t: &Tenant, response_url: &str) -> impl FnOnce(&mut Value) {
    let response_url = response_url.to_owned();
    let t = t.clone();
    move |m: &mut Value| {
        m["ResourceProperties"]["TenantId"] = t.id.as_str().into();
        m["ResourceProperties"]["ExternalId"] = t.external_id.as_str().into();
        m["ResponseURL"] = response_url.into();
    }
}

#[tokio::test]
async fn custom_resource_create_replay_update_delete() {
    let (svc, store) = service().await;
    let created = svc.create_tenant("Acme").await.unwrap();
    let t = created.tenant;
    let server = CaptureServer::start(200).await;
    let sender = HttpResponseSender::new(&svc.settings().response_urls);
    let url = format!("{}/cfn-response?X-Amz-Signature=abc", server.url);

    // Create: verified, registered, answered SUCCESS through a real HTTP PUT.
    let msg = custom_resource_message("onboarding/custom-resource-create.sns.json", with_tenant(&t, &url));
    let out = svc.handle_custom_resource(&sender, &msg).await.unwrap();
    assert!(matches!(out, Outcome::Answered { success: true, .. }), "{out:?}");
    let puts = server.captured();
    assert_eq!(puts.len(), 1);
    assert_eq!(puts[0].method, "PUT");
    assert_eq!(puts[0].path, "/cfn-response?X-Amz-Signature=abc");
    let body: Value = serde_json::from_str(&puts[0].body).unwrap();
    assert_eq!(body["Status"], "SUCCESS");
    assert_eq!(body["RequestId"], "8e4b2c1a-7d3f-4a5b-9c6d-1e2f3a4b5c6d");
    assert_eq!(body["LogicalResourceId"], "CostradarConnection");
    assert_eq!(body["PhysicalResourceId"], format!("costradar-{}-123456789012", t.id));
    assert_eq!(body["Data"]["AccountStatus"], "active");
    // The account's ingest token goes to the stack (its Connection), masked by CloudFormation.
    assert_eq!(body["NoEcho"], true);
    let first_token = body["Data"]["IngestToken"].as_str().unwrap().to_owned();
    let account_id = AccountId::parse("123456789012").unwrap();
    let a = store.get_account(&t.id, &account_id).await.unwrap().unwrap();
    assert_eq!(a.status, AccountStatus::Active);
    assert_eq!(a.regions, vec!["us-east-1", "eu-west-1"]);
    assert!(matches!(a.registration, Registration::CustomResource { .. }));
    let now = chrono::Utc::now();
    assert!(a.tokens.accepts(&TokenHash::of(&first_token), now));
    // costradar keeps its hash only: once CloudFormation has the answer, no item holds the token.
    assert_eq!(items_containing(store.table(), &first_token).await, 0);

    // SNS delivers again: the recorded answer (without the token CloudFormation already has) is
    // replayed, and nothing changes.
    let out = svc.handle_custom_resource(&sender, &msg).await.unwrap();
    assert_eq!(out, Outcome::Replayed);
    let puts = server.captured();
    assert_eq!(puts.len(), 2);
    let replayed: Value = serde_json::from_str(&puts[1].body).unwrap();
    assert_eq!((&replayed["Status"], &replayed["RequestId"]), (&body["Status"], &body["RequestId"]));
    assert!(replayed["Data"].get("IngestToken").is_none());
    assert_eq!(store.get_account(&t.id, &account_id).await.unwrap().unwrap(), a);

    // Update: a region list change is recorded.
    let msg = custom_resource_message("onboarding/custom-resource-update.sns.json", |m| {
        with_tenant(&t, &url)(m);
        m["ResourceProperties"]["Regions"] = serde_json::json!(["eu-west-1"]);
    });
    let out = svc.handle_custom_resource(&sender, &msg).await.unwrap();
    assert!(matches!(out, Outcome::Answered { success: true, .. }), "{out:?}");
    let a = store.get_account(&t.id, &account_id).await.unwrap().unwrap();
    assert_eq!(a.regions, vec!["eu-west-1"]);
    // Every update rotates the token the stack then deploys; the deployed one keeps working for
    // the overlap, while CloudFormation updates the Connection.
    let update: Value = serde_json::from_str(&server.captured()[2].body).unwrap();
    let second_token = update["Data"]["IngestToken"].as_str().unwrap();
    assert_ne!(second_token, first_token);
    assert!(a.tokens.accepts(&TokenHash::of(second_token), now));
    assert!(a.tokens.accepts(&TokenHash::of(&first_token), now + chrono::Duration::hours(23)));
    assert!(!a.tokens.accepts(&TokenHash::of(&first_token), now + chrono::Duration::hours(25)));

    // Delete: SUCCESS, the account is disconnected and another tenant may now connect it.
    let msg = custom_resource_message("onboarding/custom-resource-delete.sns.json", with_tenant(&t, &url));
    let out = svc.handle_custom_resource(&sender, &msg).await.unwrap();
    assert!(matches!(out, Outcome::Answered { success: true, .. }), "{out:?}");
    let a = store.get_account(&t.id, &account_id).await.unwrap().unwrap();
    assert_eq!(a.status, AccountStatus::Disconnected);
    assert_eq!(a.history.last().unwrap().reason, "the customer deleted the costradar stack");
    let other = svc.create_tenant("Other").await.unwrap().tenant;
    let req = AccountRequest {
        role_arn: a.role_arn.to_string(),
        regions: vec![],
        cur: None,
        registration: Registration::Manual,
    };
    let b = svc.connect_account(&other.id, req, &svc.settings().verify).await.unwrap();
    assert_eq!(b.account.status, AccountStatus::Active);
}

#[tokio::test]
async fn response_url_redirects_are_not_followed() {
    let (svc, _store) = service().await;
    let t = svc.create_tenant("Acme").await.unwrap().tenant;
    let server = CaptureServer::start(302).await;
    let sender = HttpResponseSender::new(&svc.settings().response_urls);
    let url = format!("{}/r?X-Amz-Signature=abc", server.url);
    let msg = custom_resource_message("onboarding/custom-resource-create.sns.json", with_tenant(&t, &url));
    // The PUT got a 302: that is a failure to answer (SNS will retry), and the Location was
    // never requested (the capture server would have logged a second request).
    let err = svc.handle_custom_resource(&sender, &msg).await.unwrap_err();
    assert!(err.0.contains("302"), "{err}");
    assert_eq!(server.captured().len(), 1);
    // The retry replays the recorded answer instead of doing the work again.
    assert!(svc.handle_custom_resource(&sender, &msg).await.is_err());
    let puts = server.captured();
    assert_eq!(puts.len(), 2);
    assert_eq!(puts[0].body, puts[1].body);
}

#[tokio::test]
async fn delete_tenant_disconnects_accounts_and_sets_ttl() {
    let (svc, store) = service().await;
    let t = svc.create_tenant("Acme").await.unwrap().tenant;
    for n in 0..3 {
        let req = AccountRequest {
            role_arn: format!("arn:aws:iam::{:012}:role/CostradarReadOnly", 200_000_000_000u64 + n),
            regions: vec!["us-east-1".into()],
            cur: None,
            registration: Registration::Manual,
        };
        assert_eq!(
            svc.connect_account(&t.id, req, &svc.settings().verify).await.unwrap().account.status,
            AccountStatus::Active
        );
    }
    let d = svc.delete_tenant(&t.id).await.unwrap();
    assert_eq!(d.accounts_disconnected, 3);
    assert_eq!(d.items_expiring, 4);
    assert!(matches!(svc.tenant(&t.id).await, Err(OnboardingError::TenantNotFound)));
    let stored = store.get_tenant(&t.id).await.unwrap().unwrap();
    assert_eq!(stored.status, TenantStatus::Deleted);
    // Every item of the tenant, in both its partitions, carries the TTL attribute DynamoDB
    // expires on.
    let client = aws_sdk_dynamodb::Client::new(&sdk_config().await);
    let mut items = Vec::new();
    for pk in [format!("TENANT#{}", t.id), format!("REGISTRY#{}", t.id)] {
        let out = client
            .query()
            .table_name(store.table())
            .key_condition_expression("PK = :p")
            .expression_attribute_values(":p", aws_sdk_dynamodb::types::AttributeValue::S(pk))
            .send()
            .await
            .unwrap();
        items.extend(out.items.unwrap());
    }
    assert_eq!(items.len(), 4, "the tenant record and its three accounts");
    for i in &items {
        let ttl: i64 = i["expires_at"].as_n().unwrap().parse().unwrap();
        assert_eq!(ttl, d.expires_at.timestamp());
    }
    // The accounts' claims are released: another tenant can connect them.
    let other = svc.create_tenant("Other").await.unwrap().tenant;
    let req = AccountRequest {
        role_arn: "arn:aws:iam::200000000000:role/CostradarReadOnly".into(),
        regions: vec![],
        cur: None,
        registration: Registration::Manual,
    };
    assert_eq!(
        svc.connect_account(&other.id, req, &svc.settings().verify).await.unwrap().account.status,
        AccountStatus::Active
    );
}

#[tokio::test]
async fn an_account_token_is_shown_once_and_only_its_hash_is_stored() {
    let (svc, store) = service().await;
    let t = svc.create_tenant("Acme").await.unwrap().tenant;
    let req = AccountRequest {
        role_arn: "arn:aws:iam::123456789012:role/CostradarReadOnly".into(),
        regions: vec![],
        cur: None,
        registration: Registration::Manual,
    };
    let connected = svc.connect_account(&t.id, req.clone(), &svc.settings().verify).await.unwrap();
    let first = connected.ingest_token.expect("a first connection issues a token");
    // Connecting a manual account again leaves its deployed token alone.
    let again = svc.connect_account(&t.id, req, &svc.settings().verify).await.unwrap();
    assert!(again.ingest_token.is_none());
    let account = connected.account.account_id;
    let rotated = svc.rotate_token(&t.id, &account).await.unwrap();
    let a = store.get_account(&t.id, &account).await.unwrap().unwrap();
    let now = chrono::Utc::now();
    assert!(a.tokens.accepts(&first.hash(), now));
    assert!(a.tokens.accepts(&rotated.ingest_token.hash(), now));
    assert!(!a.tokens.accepts(&first.hash(), rotated.previous_expires_at));
    // Only hashes are stored.
    for token in [first.expose(), rotated.ingest_token.expose()] {
        assert_eq!(items_containing(store.table(), token).await, 0);
    }
}

#[tokio::test]
async fn quick_create_link_carries_the_parameters() {
    let (svc, _) = service().await;
    let created = svc.create_tenant("Acme").await.unwrap();
    let url = url::Url::parse(&created.quick_create_url.replace('#', "%23")).unwrap();
    assert_eq!(url.host_str(), Some("us-east-1.console.aws.amazon.com"));
    let link = &created.quick_create_url;
    assert!(link.contains(&format!("param_TenantId={}", created.tenant.id)));
    assert!(link.contains(&format!("param_ExternalId={}", created.tenant.external_id.as_str())));
    assert!(link.contains("param_CostradarAccountId=111122223333"));
    assert!(link.contains("param_CustomResourceTopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A111122223333%3A"));
    assert!(link.contains("templateURL=https%3A%2F%2Fcostradar-artifacts.s3.amazonaws.com%2Fcostradar-role.yaml"));
}

/// Items of the table whose text contains `needle` (a token must never be one).
async fn items_containing(table: &str, needle: &str) -> usize {
    costradar_tests::items(table).await.iter().filter(|i| format!("{i:?}").contains(needle)).count()
}

/// In AWS, verification runs as the scan role (`COSTRADAR_VERIFY_AS_ROLE_ARN`): customer roles
/// trust only the scan and cur-query roles. Against moto's STS, the verifier's configuration
/// calls as a session of that role, named for what it does.
#[tokio::test]
async fn verification_calls_as_a_session_of_the_scan_role() {
    let base = sdk_config().await;
    let scan_role = RoleArn::parse("arn:aws:iam::123456789012:role/costradar/costradar-scan-us-east-1").unwrap();
    let sts = aws_sdk_sts::Client::new(&costradar_aws::verifier_sdk_config(&base, Some(&scan_role)).await);
    let me = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some("arn:aws:sts::123456789012:assumed-role/costradar-scan-us-east-1/costradar-verify"));
    // Without a role to verify as (local runs), the function's own credentials.
    let own = aws_sdk_sts::Client::new(&costradar_aws::verifier_sdk_config(&base, None).await);
    assert_ne!(own.get_caller_identity().send().await.unwrap().arn(), me.arn());
}
