//! Hostile and malformed input to the operator API and the custom resource: every case gets a
//! clear error and leaves the store exactly as it was (compared item by item).

use std::sync::Arc;

use costradar_core::domain::*;
use costradar_core::onboarding::api::{self, ApiRequest};
use costradar_core::onboarding::custom_resource::{Outcome, GENERIC_REASON};
use costradar_core::onboarding::{AccountRequest, Onboarding};
use costradar_core::store::{MemoryStore, TenantStore};
use costradar_core::testing::{settings, FakeAssumer, RecordingSender};
use costradar_tests::custom_resource_message;
use serde_json::{json, Value};

struct World {
    store: Arc<MemoryStore>,
    svc: Onboarding,
    tenant: Tenant,
    other: Tenant,
    deleted: TenantId,
}

const ROLE: &str = "arn:aws:iam::123456789012:role/CostradarReadOnly";
const RESPONSE_URL: &str =
    "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?X-Amz-Signature=abc";

async fn world() -> World {
    let store = Arc::new(MemoryStore::new());
    let svc =
        Onboarding::new(store.clone(), Arc::new(FakeAssumer::enforcing()), Arc::new(SystemClock), settings(false));
    let tenant = svc.create_tenant("Acme").await.unwrap().tenant;
    let other = svc.create_tenant("Other").await.unwrap().tenant;
    let deleted = svc.create_tenant("Gone").await.unwrap().tenant.id;
    svc.delete_tenant(&deleted).await.unwrap();
    let req = AccountRequest { role_arn: ROLE.into(), regions: vec![], cur: None, registration: Registration::Manual };
    assert_eq!(
        svc.connect_account(&other.id, req, &svc.settings().verify).await.unwrap().account.status,
        AccountStatus::Active
    );
    World { store, svc, tenant, other, deleted }
}

struct Case {
    name: &'static str,
    method: &'static str,
    path: String,
    query: &'static str,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
}

fn case(
    name: &'static str,
    method: &'static str,
    path: String,
    body: Value,
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
) -> Case {
    let body = if body.is_null() { Vec::new() } else { body.to_string().into_bytes() };
    Case { name, method, path, query: "", content_type: Some("application/json"), body, status, code, field }
}

#[tokio::test]
async fn api_bad_input_table() {
    let w = world().await;
    let t = w.tenant.id.as_str();
    let accounts = format!("/tenants/{t}/accounts");
    let huge_name = "x".repeat(129);
    let mut cases = vec![
        Case {
            body: b"{not json".to_vec(),
            ..case("body is not JSON", "POST", "/tenants".into(), Value::Null, 400, "invalid_request", Some("body"))
        },
        case("missing name", "POST", "/tenants".into(), json!({}), 400, "invalid_request", Some("name")),
        case("empty name", "POST", "/tenants".into(), json!({"name": "  "}), 400, "invalid_request", Some("name")),
        case(
            "oversize name",
            "POST",
            "/tenants".into(),
            json!({"name": huge_name}),
            400,
            "invalid_request",
            Some("name"),
        ),
        case(
            "control character in name",
            "POST",
            "/tenants".into(),
            json!({"name": "a\u{7}b"}),
            400,
            "invalid_request",
            Some("name"),
        ),
        case(
            "name of the wrong type",
            "POST",
            "/tenants".into(),
            json!({"name": 42}),
            400,
            "invalid_request",
            Some("name"),
        ),
        case(
            "unknown field",
            "POST",
            "/tenants".into(),
            json!({"name": "A", "external_id": "mine"}),
            400,
            "invalid_request",
            Some("external_id"),
        ),
        Case {
            content_type: Some("text/plain"),
            ..case(
                "wrong content type",
                "POST",
                "/tenants".into(),
                json!({"name": "A"}),
                415,
                "unsupported_media_type",
                None,
            )
        },
        Case {
            content_type: None,
            ..case(
                "no content type",
                "POST",
                "/tenants".into(),
                json!({"name": "A"}),
                415,
                "unsupported_media_type",
                None,
            )
        },
        Case {
            body: vec![b' '; 16 * 1024 + 1],
            ..case("body over 16 KiB", "POST", "/tenants".into(), Value::Null, 413, "payload_too_large", None)
        },
        case(
            "malformed tenant id",
            "GET",
            "/tenants/..%2F..%2Fetc".into(),
            Value::Null,
            400,
            "invalid_request",
            Some("tenant_id"),
        ),
        case("unknown tenant", "GET", "/tenants/t-0000000000000000".into(), Value::Null, 404, "tenant_not_found", None),
        case(
            "deleted tenant",
            "POST",
            format!("/tenants/{}/accounts/123456789012/rotate-token", w.deleted),
            Value::Null,
            404,
            "tenant_not_found",
            None,
        ),
        case(
            "malformed role ARN",
            "POST",
            accounts.clone(),
            json!({"role_arn": "arn:aws:iam::123456789012:user/bob"}),
            400,
            "invalid_request",
            Some("role_arn"),
        ),
        case(
            "GovCloud role",
            "POST",
            accounts.clone(),
            json!({"role_arn": "arn:aws-us-gov:iam::123456789012:role/R"}),
            400,
            "unsupported_partition",
            Some("role_arn"),
        ),
        case(
            "China role",
            "POST",
            accounts.clone(),
            json!({"role_arn": "arn:aws-cn:iam::123456789012:role/R"}),
            400,
            "unsupported_partition",
            Some("role_arn"),
        ),
        case(
            "11-digit account",
            "POST",
            accounts.clone(),
            json!({"role_arn": "arn:aws:iam::12345678901:role/R"}),
            400,
            "invalid_request",
            Some("role_arn"),
        ),
        case(
            "role name too long",
            "POST",
            accounts.clone(),
            json!({"role_arn": format!("arn:aws:iam::123456789012:role/{}", "r".repeat(65))}),
            400,
            "invalid_request",
            Some("role_arn"),
        ),
        case(
            "bad region",
            "POST",
            accounts.clone(),
            json!({"role_arn": ROLE, "regions": ["us-east-1", "mars-1"]}),
            400,
            "invalid_request",
            Some("regions"),
        ),
        case(
            "China region",
            "POST",
            accounts.clone(),
            json!({"role_arn": ROLE, "regions": ["cn-north-1"]}),
            400,
            "invalid_request",
            Some("regions"),
        ),
        case(
            "regions of the wrong type",
            "POST",
            accounts.clone(),
            json!({"role_arn": ROLE, "regions": "us-east-1"}),
            400,
            "invalid_request",
            Some("regions"),
        ),
        case(
            "bad CUR bucket",
            "POST",
            accounts.clone(),
            json!({"role_arn": ROLE, "cur": {"bucket": "Not_A_Bucket", "database": "d", "table": "t", "workgroup": "w"}}),
            400,
            "invalid_request",
            Some("cur.bucket"),
        ),
        case(
            "account connected to another tenant",
            "POST",
            accounts.clone(),
            json!({"role_arn": ROLE}),
            409,
            "account_claimed",
            None,
        ),
        case(
            "malformed account id",
            "DELETE",
            format!("{accounts}/12345"),
            Value::Null,
            400,
            "invalid_request",
            Some("account_id"),
        ),
        case(
            "unknown account",
            "POST",
            format!("{accounts}/999999999999/verify"),
            Value::Null,
            404,
            "account_not_found",
            None,
        ),
        case("method not allowed", "PUT", "/tenants".into(), Value::Null, 405, "method_not_allowed", None),
        case(
            "rotating the token of another tenant's account",
            "POST",
            format!("/tenants/{}/accounts/123456789012/rotate-token", w.tenant.id),
            Value::Null,
            404,
            "account_not_found",
            None,
        ),
        case(
            "revoking tokens of a malformed account id",
            "POST",
            format!("/tenants/{}/accounts/12345/revoke-token", w.tenant.id),
            Value::Null,
            400,
            "invalid_request",
            Some("account_id"),
        ),
        case(
            "GET on revoke-token",
            "GET",
            format!("/tenants/{}/accounts/123456789012/revoke-token", w.tenant.id),
            Value::Null,
            405,
            "method_not_allowed",
            None,
        ),
        case("unknown route", "GET", "/admin".into(), Value::Null, 404, "route_not_found", None),
    ];
    let settings = format!("/tenants/{t}");
    for (name, body, field) in [
        ("webhook over plain http", json!({"notify_webhook_url": "http://hooks.example.com/x"}), "notify_webhook_url"),
        (
            "webhook to an IP address",
            json!({"notify_webhook_url": "https://169.254.169.254/latest"}),
            "notify_webhook_url",
        ),
        (
            "webhook with credentials",
            json!({"notify_webhook_url": "https://u:p@hooks.example.com/x"}),
            "notify_webhook_url",
        ),
        ("webhook not a URL", json!({"notify_webhook_url": "hooks"}), "notify_webhook_url"),
        ("negative threshold", json!({"realtime_threshold_usd": -1}), "realtime_threshold_usd"),
        ("threshold of the wrong type", json!({"realtime_threshold_usd": [1]}), "realtime_threshold_usd"),
        ("unknown setting", json!({"threshold": 5}), "threshold"),
        ("unknown digest frequency", json!({"digest": "hourly"}), "digest"),
        ("digest frequency in capitals", json!({"digest": "DAILY"}), "digest"),
        ("digest of the wrong type", json!({"digest": 7}), "digest"),
        ("digest as an object", json!({"digest": {"frequency": "daily"}}), "digest"),
        ("unknown digest weekday", json!({"digest": "weekly", "digest_weekday": "funday"}), "digest_weekday"),
        ("digest weekday without a weekly digest", json!({"digest_weekday": "friday"}), "digest_weekday"),
        ("digest weekday when daily", json!({"digest": "daily", "digest_weekday": "friday"}), "digest_weekday"),
        ("digest weekday as a number", json!({"digest": "weekly", "digest_weekday": 5}), "digest_weekday"),
        ("a good threshold beside a bad digest", json!({"realtime_threshold_usd": 5, "digest": "x"}), "digest"),
        (
            "scan setting out of range",
            json!({"scan_settings": {"idle_window_days": 0}}),
            "scan_settings.idle_window_days",
        ),
        ("unknown scan setting", json!({"scan_settings": {"idle_window_dayz": 3}}), "scan_settings.idle_window_dayz"),
        (
            "scan setting of the wrong type",
            json!({"scan_settings": {"trusted_advisor": "yes"}}),
            "scan_settings.trusted_advisor",
        ),
        ("scan settings not an object", json!({"scan_settings": [1]}), "scan_settings"),
        (
            "a good threshold beside bad scan settings",
            json!({"realtime_threshold_usd": 5, "scan_settings": {"max_concurrent_regions": 33}}),
            "scan_settings.max_concurrent_regions",
        ),
    ] {
        cases.push(case(name, "PATCH", settings.clone(), body, 400, "invalid_request", Some(field)));
    }
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("limit=101", "limit"),
        ("cursor=%25%25", "cursor"),
        ("admin=1", "admin"),
    ] {
        cases.push(Case {
            query,
            ..case("bad query", "GET", "/tenants".into(), Value::Null, 400, "invalid_request", Some(field))
        });
    }
    assert!(cases.len() >= 25);
    for c in &cases {
        let before = w.store.snapshot();
        let resp = api::handle(
            &w.svc,
            ApiRequest { method: c.method, path: &c.path, query: c.query, content_type: c.content_type, body: &c.body },
        )
        .await;
        assert_eq!(resp.status, c.status, "{}: {}", c.name, resp.body);
        assert_eq!(resp.body["error"]["code"], c.code, "{}: {}", c.name, resp.body);
        assert!(!resp.body["error"]["message"].as_str().unwrap().is_empty(), "{}", c.name);
        if let Some(f) = c.field {
            assert_eq!(resp.body["error"]["field"], f, "{}: {}", c.name, resp.body);
        }
        assert_eq!(w.store.snapshot(), before, "{} changed the store", c.name);
    }
    // The GovCloud refusal says why in words a customer understands.
    let resp = api::handle(
        &w.svc,
        ApiRequest {
            method: "POST",
            path: &accounts,
            query: "",
            content_type: Some("application/json"),
            body: br#"{"role_arn":"arn:aws-us-gov:iam::123456789012:role/R"}"#,
        },
    )
    .await;
    assert!(resp.body["error"]["message"].as_str().unwrap().contains("aws-us-gov partition is not supported"));
    assert_eq!(w.other.status, TenantStatus::Active);
}

/// A custom-resource message for `tenant`, edited.
fn message(tenant: &Tenant, fixture: &str, edit: impl FnOnce(&mut Value)) -> String {
    let (id, ext) = (tenant.id.to_string(), tenant.external_id.as_str().to_owned());
    custom_resource_message(fixture, move |m| {
        m["ResourceProperties"]["TenantId"] = id.into();
        m["ResourceProperties"]["ExternalId"] = ext.into();
        m["ResponseURL"] = RESPONSE_URL.into();
        edit(m);
    })
}

const CREATE: &str = "onboarding/custom-resource-create.sns.json";
const DELETE: &str = "onboarding/custom-resource-delete.sns.json";

#[tokio::test]
async fn custom_resource_bad_input_table() {
    let w = world().await;
    let t = &w.tenant;
    enum Expect {
        Refused,
        Failed(&'static str),
        Succeeded,
    }
    let long = "x".repeat(70 * 1024);
    let cases: Vec<(&str, String, Expect)> = vec![
        (
            "metadata-service URL",
            message(t, CREATE, |m| m["ResponseURL"] = "http://169.254.169.254/latest/meta-data/iam".into()),
            Expect::Refused,
        ),
        (
            "look-alike host",
            message(t, CREATE, |m| {
                m["ResponseURL"] = "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com.evil.example/x?X-Amz-Signature=a".into()
            }),
            Expect::Refused,
        ),
        (
            "loopback URL outside emulator mode",
            message(t, CREATE, |m| m["ResponseURL"] = "http://127.0.0.1:8080/x".into()),
            Expect::Refused,
        ),
        (
            "unsigned URL",
            message(t, CREATE, |m| {
                m["ResponseURL"] = "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x".into()
            }),
            Expect::Refused,
        ),
        (
            "no ResponseURL",
            message(t, CREATE, |m| {
                m.as_object_mut().unwrap().remove("ResponseURL");
            }),
            Expect::Refused,
        ),
        ("not JSON", "{\"RequestType\": \"Create\",".into(), Expect::Refused),
        (
            "oversize message",
            message(t, CREATE, |m| m["ResourceProperties"]["Padding"] = long.clone().into()),
            Expect::Refused,
        ),
        (
            "unknown tenant",
            message(t, CREATE, |m| m["ResourceProperties"]["TenantId"] = "t-0000000000000000".into()),
            Expect::Failed(GENERIC_REASON),
        ),
        (
            "wrong ExternalId",
            message(t, CREATE, |m| m["ResourceProperties"]["ExternalId"] = ExternalId::generate().as_str().into()),
            Expect::Failed(GENERIC_REASON),
        ),
        (
            "another tenant's ExternalId",
            message(t, CREATE, |m| m["ResourceProperties"]["ExternalId"] = w.other.external_id.as_str().into()),
            Expect::Failed(GENERIC_REASON),
        ),
        (
            "deleted tenant",
            message(t, CREATE, |m| m["ResourceProperties"]["TenantId"] = w.deleted.as_str().into()),
            Expect::Failed(GENERIC_REASON),
        ),
        (
            "GovCloud role",
            message(t, CREATE, |m| {
                m["ResourceProperties"]["RoleArn"] = "arn:aws-us-gov:iam::123456789012:role/R".into()
            }),
            Expect::Failed("not supported"),
        ),
        (
            "AccountId differs from the role's",
            message(t, CREATE, |m| m["ResourceProperties"]["AccountId"] = "210987654321".into()),
            Expect::Failed("same account"),
        ),
        (
            "role in another account than the stack",
            message(t, CREATE, |m| {
                m["ResourceProperties"]["RoleArn"] = "arn:aws:iam::210987654321:role/CostradarReadOnly".into();
                m["ResourceProperties"]["AccountId"] = "210987654321".into();
            }),
            Expect::Failed("same account"),
        ),
        (
            "malformed RequestId",
            message(t, CREATE, |m| m["RequestId"] = "a b; DROP".into()),
            Expect::Failed("malformed RequestId"),
        ),
        (
            "oversize LogicalResourceId",
            message(t, CREATE, |m| m["LogicalResourceId"] = "L".repeat(300).into()),
            Expect::Failed("malformed LogicalResourceId"),
        ),
        (
            "missing RoleArn",
            message(t, CREATE, |m| {
                m["ResourceProperties"].as_object_mut().unwrap().remove("RoleArn");
            }),
            Expect::Failed("malformed ResourceProperties"),
        ),
        (
            "Regions of the wrong type",
            message(t, CREATE, |m| m["ResourceProperties"]["Regions"] = 7.into()),
            Expect::Failed("malformed ResourceProperties"),
        ),
        (
            "bad region",
            message(t, CREATE, |m| m["ResourceProperties"]["Regions"] = json!(["us-gov-west-1"])),
            Expect::Failed("commercial partition"),
        ),
        (
            "partial CUR settings",
            message(t, CREATE, |m| m["ResourceProperties"]["CurBucket"] = "acme-cur".into()),
            Expect::Failed("together or not at all"),
        ),
        (
            "unknown RequestType",
            message(t, CREATE, |m| m["RequestType"] = "Explode".into()),
            Expect::Failed("malformed"),
        ),
        (
            "Delete with a wrong ExternalId",
            message(t, DELETE, |m| m["ResourceProperties"]["ExternalId"] = ExternalId::generate().as_str().into()),
            Expect::Succeeded,
        ),
        ("Delete of another tenant's account", message(t, DELETE, |_| {}), Expect::Succeeded),
    ];
    for (name, msg, expect) in cases {
        let sender = RecordingSender::default();
        let before = w.store.snapshot();
        let out = w.svc.handle_custom_resource(&sender, &msg).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        let sent = sender.bodies();
        match expect {
            Expect::Refused => {
                assert!(matches!(out, Outcome::Refused(_)), "{name}: {out:?}");
                assert!(sent.is_empty(), "{name}: called a refused URL");
            }
            Expect::Failed(reason) => {
                assert_eq!(sent.len(), 1, "{name}");
                assert_eq!(sent[0]["Status"], "FAILED", "{name}");
                let got = sent[0]["Reason"].as_str().unwrap();
                assert!(got.contains(reason), "{name}: {got}");
            }
            Expect::Succeeded => {
                assert_eq!(sent.len(), 1, "{name}");
                assert_eq!(sent[0]["Status"], "SUCCESS", "{name}");
            }
        }
        assert_eq!(w.store.snapshot(), before, "{name} changed the store");
    }
    // The other tenant's account is still connected after the hostile Delete.
    let a = w.svc.account(&w.other.id, &AccountId::parse("123456789012").unwrap()).await.unwrap();
    assert_eq!(a.status, AccountStatus::Active);
}

#[tokio::test]
async fn a_role_open_without_external_id_fails_the_stack_and_is_never_used() {
    let store = Arc::new(MemoryStore::new());
    let svc = Onboarding::new(store.clone(), Arc::new(FakeAssumer::open()), Arc::new(SystemClock), settings(false));
    let t = svc.create_tenant("Acme").await.unwrap().tenant;
    let sender = RecordingSender::default();
    let out = svc.handle_custom_resource(&sender, &message(&t, CREATE, |_| {})).await.unwrap();
    assert!(matches!(out, Outcome::Answered { success: false, .. }), "{out:?}");
    let body = &sender.bodies()[0];
    assert_eq!(body["Status"], "FAILED");
    assert!(body["Reason"].as_str().unwrap().contains("sts:ExternalId"));
    let a = svc.account(&t.id, &AccountId::parse("123456789012").unwrap()).await.unwrap();
    assert_eq!(a.status, AccountStatus::Insecure);
    assert!(!a.is_usable());
}

#[tokio::test]
async fn unavailable_store_is_transient_and_leaves_no_trace() {
    let store = Arc::new(MemoryStore::new());
    let svc =
        Onboarding::new(store.clone(), Arc::new(FakeAssumer::enforcing()), Arc::new(SystemClock), settings(false));
    let t = svc.create_tenant("Acme").await.unwrap().tenant;
    let msg = message(&t, CREATE, |_| {});
    store.set_unavailable(true);
    let sender = RecordingSender::default();
    assert!(svc.handle_custom_resource(&sender, &msg).await.is_err(), "Create must be retried");
    assert!(sender.bodies().is_empty());
    // Delete is answered SUCCESS even so: never block a customer's stack deletion.
    let out = svc.handle_custom_resource(&sender, &message(&t, DELETE, |_| {})).await.unwrap();
    assert!(matches!(out, Outcome::Answered { success: true, .. }));
    store.set_unavailable(false);
    let sender = RecordingSender::default();
    let out = svc.handle_custom_resource(&sender, &msg).await.unwrap();
    assert!(matches!(out, Outcome::Answered { success: true, .. }), "the retry does the work: {out:?}");
}

#[tokio::test]
async fn tenant_settings_change_and_reset() {
    let w = world().await;
    let path = format!("/tenants/{}", w.tenant.id);
    let patch = |body: Value| {
        let path = path.clone();
        let svc = &w.svc;
        async move {
            let body = body.to_string();
            api::handle(
                svc,
                ApiRequest {
                    method: "PATCH",
                    path: &path,
                    query: "",
                    content_type: Some("application/json"),
                    body: body.as_bytes(),
                },
            )
            .await
        }
    };
    let resp = patch(
        json!({"realtime_threshold_usd": 250, "notify_webhook_url": "https://hooks.slack.com/services/T/B/secret"}),
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.body["tenant"]["realtime_threshold_usd"], "250");
    // The URL is a secret: only its host is shown.
    assert_eq!(resp.body["tenant"]["notify_webhook"], "https://hooks.slack.com/…");
    let stored = w.store.get_tenant(&w.tenant.id).await.unwrap().unwrap();
    assert_eq!(stored.notify_webhook_url.as_deref(), Some("https://hooks.slack.com/services/T/B/secret"));
    // Leaving a field out keeps it; null resets it.
    let resp = patch(json!({"notify_webhook_url": null})).await;
    assert_eq!(resp.body["tenant"]["realtime_threshold_usd"], "250");
    assert_eq!(resp.body["tenant"]["notify_webhook"], Value::Null);
    let resp = patch(json!({"realtime_threshold_usd": null})).await;
    assert_eq!(resp.body["tenant"]["realtime_threshold_usd"], "100");
    // Scan settings: the keys given over the defaults; null: the defaults again.
    let resp = patch(json!({"scan_settings": {"unattached_volume_days": 3, "trusted_advisor": false}})).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let scan = w.store.get_tenant(&w.tenant.id).await.unwrap().unwrap().scan_settings.unwrap();
    assert_eq!((scan.unattached_volume_days, scan.trusted_advisor, scan.snapshot_age_days), (3, false, 90));
    let resp = patch(json!({"scan_settings": null})).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(w.store.get_tenant(&w.tenant.id).await.unwrap().unwrap().scan_settings, None);
}
