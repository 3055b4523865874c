//! The receiver service over the in-memory store: authentication, account checks, status
//! codes, de-duplication, and a store that fails. Every bad-input case asserts the status and
//! that the store did not change.

use std::sync::Arc;
use std::time::Duration;

use costradar_core::domain::*;
use costradar_core::onboarding::Onboarding;
use costradar_core::pricing::Bundled;
use costradar_core::receiver::Receiver;
use costradar_core::store::{EventStore, MemoryStore, RateScope, RateStore};
use costradar_core::testing::{settings, tenant_with_accounts, FakeAssumer};
use serde_json::{json, Value};

/// A small price book of the bundled format (schema 2), so the figures below are worked by hand.
const PRICES: &str = r#"{
  "schema": 2, "currency": "USD", "generated": "2026-11-01",
  "sources": [{"id": "test", "what": "hand-picked rates", "where": "this file", "as_of": "2026-11-01"}],
  "regions": {"us-east-1": {
    "ec2:m5.2xlarge:linux:shared": ["0.384", 0], "ec2:m4.xlarge:linux:shared": ["0.20", 0],
    "ec2:m6i.xlarge:linux:shared": ["0.192", 0], "ec2:p4d.24xlarge:linux:shared": ["32.7726", 0],
    "ec2:m7g.2xlarge:linux:shared": ["0.3264", 0],
    "ebs:gp2:gb-month": ["0.10", 0], "ebs:gp3:gb-month": ["0.08", 0], "ebs:gp3:iops-month": ["0.005", 0],
    "ebs:gp3:throughput-mibps-month": ["0.04", 0],
    "vpc:public-ipv4:hour": ["0.005", 0], "nat:hour": ["0.045", 0], "nat:gb": ["0.045", 0],
    "sagemaker:ml.g5.xlarge:inference:hour": ["1.41", 0], "sagemaker:ml.m5.xlarge:inference:hour": ["0.23", 0]
  }}
}"#;

/// The test's book, for the life of the test process (the receiver holds a `&'static` book).
fn prices() -> &'static Bundled {
    static BOOK: std::sync::OnceLock<Bundled> = std::sync::OnceLock::new();
    BOOK.get_or_init(|| Bundled::parse(PRICES).unwrap())
}
struct World {
    store: Arc<MemoryStore>,
    receiver: Receiver,
    tenant: TenantId,
    token: String,
    /// The token of 210987654321, a disconnected account of the tenant.
    disconnected_token: String,
    /// The token of an account of another tenant.
    other_token: String,
}

async fn world() -> World {
    let store = Arc::new(MemoryStore::new());
    let svc =
        Onboarding::new(store.clone(), Arc::new(FakeAssumer::enforcing()), Arc::new(SystemClock), settings(false));
    let (tenant, mut tokens) = tenant_with_accounts(
        &svc,
        "Acme",
        &["arn:aws:iam::123456789012:role/CostradarReadOnly", "arn:aws:iam::210987654321:role/CostradarReadOnly"],
    )
    .await;
    let (_, mut other) =
        tenant_with_accounts(&svc, "Other", &["arn:aws:iam::333344445555:role/CostradarReadOnly"]).await;
    let t = tenant.id.clone();
    // 210987654321 is then disconnected: its events are refused.
    svc.disconnect_account(&t, &AccountId::parse("210987654321").unwrap(), "test").await.unwrap();
    let receiver = Receiver::new(store.clone(), prices(), Arc::new(SystemClock)).with_cache_ttl(Duration::ZERO);
    World {
        store,
        receiver,
        tenant: t,
        disconnected_token: tokens.remove(1),
        token: tokens.remove(0),
        other_token: other.remove(0),
    }
}

fn cloudtrail(id: &str, event_name: &str, request: Value, response: Value) -> Value {
    json!({
        "version": "0", "id": id, "detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2",
        "account": "123456789012", "time": "2026-11-20T10:00:00Z", "region": "us-east-1", "resources": [],
        "detail": {
            "eventVersion": "1.09", "eventSource": "ec2.amazonaws.com", "eventName": event_name, "awsRegion": "us-east-1",
            "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/DevOps/alice"},
            "sourceIPAddress": "198.51.100.7", "requestParameters": request, "responseElements": response
        }
    })
}

fn run_instances(id: &str, instance_type: &str, ids: &[&str]) -> Value {
    let items: Vec<Value> = ids
        .iter()
        .map(|i| json!({"instanceId": i, "instanceType": instance_type, "placement": {"tenancy": "default"}}))
        .collect();
    cloudtrail(
        id,
        "RunInstances",
        json!({"instanceType": instance_type, "instancesSet": {"items": [{"minCount": ids.len(), "maxCount": ids.len()}]}}),
        json!({"instancesSet": {"items": items}}),
    )
}

impl World {
    async fn post(&self, token: Option<&str>, content_type: Option<&str>, body: &[u8]) -> (u16, Value) {
        let r = self.receiver.handle("POST", &format!("/events/{}", self.tenant), token, content_type, body).await;
        (r.status, r.body)
    }

    /// Posts with account 123456789012's token. An accepted event's answer says only that
    /// (checked here); the body returned holds the event as stored, under `event`.
    async fn send(&self, event: &Value) -> (u16, Value) {
        let (status, body) = self.post(Some(&self.token), Some("application/json"), event.to_string().as_bytes()).await;
        if body["status"] != "accepted" {
            return (status, body);
        }
        let id = event["id"].as_str().unwrap();
        assert_eq!(body, json!({"status": "accepted", "event_id": id}), "no price, no rate in the answer");
        let stored = self.store.get_event(&self.tenant, id).await.unwrap().expect("stored before the 200");
        (status, json!({"status": "accepted", "event": stored}))
    }
}

#[tokio::test]
async fn a_priced_event_is_stored_once_with_its_finding() {
    let w = world().await;
    let ev = run_instances("11111111-1111-4111-8111-111111111111", "m5.2xlarge", &["i-0aaa", "i-0bbb"]);
    let (status, body) = w.send(&ev).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "accepted");
    // 2 × $0.384/h × 730 h = $560.64/month, over the $100 threshold.
    assert_eq!(body["event"]["monthly_cost_usd"], "560.64");
    assert_eq!(body["event"]["price_source"], "bundled");
    let finding = &body["event"]["finding"];
    assert_eq!(finding["rule"], "realtime.cost-increase");
    // Graviton: 2 × (0.384 − 0.3264) × 730 = $84.10 saved.
    assert_eq!(finding["alternative"]["monthly_savings_usd"], "84.10");
    let stored = w.store.get_finding(&w.tenant, "123456789012#realtime.cost-increase#i-0aaa").await.unwrap().unwrap();
    assert_eq!(stored.actor.as_deref(), Some("arn:aws:sts::123456789012:assumed-role/DevOps/alice"));

    // The same event again: 200, nothing new written.
    let before = w.store.snapshot();
    let (status, body) = w.send(&ev).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("duplicate")));
    assert_eq!(w.store.snapshot(), before);

    // A later StopInstances for one of them is priced from the remembered type: −$280.32.
    let stop = cloudtrail(
        "22222222-2222-4222-8222-222222222222",
        "StopInstances",
        json!({"instancesSet": {"items": [{"instanceId": "i-0aaa"}]}}),
        json!({"instancesSet": {"items": [{"instanceId": "i-0aaa", "currentState": {"code": 64, "name": "stopping"}}]}}),
    );
    let (status, body) = w.send(&stop).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["event"]["monthly_cost_usd"], "-280.32");
    assert!(body["event"]["finding"].is_null(), "a saving is not a finding");
}

#[tokio::test]
async fn an_endpoint_is_priced_from_the_configuration_event_before_it() {
    let w = world().await;
    let fixture = |name: &str| -> Value {
        let path = costradar_tests::repo_root().join(format!("events/receiver/{name}.json"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let config = fixture("sagemaker-create-endpoint-config");
    let endpoint = fixture("sagemaker-create-endpoint");

    // Before its configuration is seen: accepted, unpriced, with the reason.
    let mut early = endpoint.clone();
    early["id"] = json!("55555555-5555-4555-8555-555555555555");
    early["detail"]["requestParameters"]["endpointConfigName"] = json!("never-seen-cfg");
    let (status, body) = w.send(&early).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["event"]["monthly_cost_usd"].is_null());
    assert!(body["event"]["unpriced_reason"].as_str().unwrap().contains("never-seen-cfg"), "{body}");

    // The configuration costs nothing itself.
    let (status, body) = w.send(&config).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["event"]["kind"], "sagemaker.create-endpoint-config");
    assert!(body["event"]["monthly_cost_usd"].is_null());

    // The endpoint: 2 × ml.g5.xlarge at $1.41/h + 1 × ml.m5.xlarge at $0.23/h (the serverless
    // variant has no instances) = $3.05/h × 730 h = $2,226.50/month.
    let (status, body) = w.send(&endpoint).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["event"]["kind"], "sagemaker.create-endpoint");
    assert_eq!(body["event"]["monthly_cost_usd"], "2226.50", "{body}");
    assert_eq!(body["event"]["finding"]["rule"], "realtime.cost-increase");
    // Priced at real-time inference rates, named in the breakdown (never notebook rates).
    let breakdown = body["event"]["breakdown"].to_string();
    assert!(breakdown.contains("ml.g5.xlarge real-time inference at $1.41/h"), "{breakdown}");
}

#[tokio::test]
async fn tenant_rates_and_the_price_list_cache_outrank_the_bundled_book() {
    use costradar_core::pricing::{PriceSource, Rate, RateTable, Sku};
    let w = world().await;
    let rate = |usd: &str, source| Rate { usd: usd.parse().unwrap(), source, as_of: "2026-11-01".into() };
    let sku = |t: &str| Sku::ec2(t);
    let mut list = RateTable::default();
    list.insert("us-east-1", sku("m5.2xlarge"), rate("0.40", PriceSource::PriceListApi));
    list.insert("us-east-1", sku("m7g.2xlarge"), rate("0.30", PriceSource::PriceListApi));
    w.store.save_rates(RateScope::PriceList, &list).await.unwrap();

    // The Price List cache beats the snapshot: 1 × $0.40 × 730 = $292.
    let ev = run_instances("33333333-3333-4333-8333-333333333333", "m5.2xlarge", &["i-0ccc"]);
    let (status, body) = w.send(&ev).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["event"]["monthly_cost_usd"], "292.00");
    assert_eq!(body["event"]["price_source"], "price_list_api");

    // The tenant's CUR rate beats both: 1 × $0.25 × 730 = $182.50.
    let mut mine = RateTable::default();
    mine.insert("us-east-1", sku("m5.2xlarge"), rate("0.25", PriceSource::TenantRates));
    w.store.save_rates(RateScope::Tenant(&w.tenant), &mine).await.unwrap();
    let ev = run_instances("44444444-4444-4444-8444-444444444444", "m5.2xlarge", &["i-0ddd"]);
    let (status, body) = w.send(&ev).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["event"]["monthly_cost_usd"], "182.50");
    assert_eq!(body["event"]["price_source"], "tenant_rates");
    // Another tenant's rates are not used for this one.
    assert!(w.store.get_rates(RateScope::Tenant(&TenantId::generate())).await.unwrap().is_empty());
}

#[tokio::test]
async fn always_flagged_changes_and_their_alternatives() {
    let w = world().await;
    // A previous-generation launch under the threshold is still flagged: 1 × m4.xlarge = $146/month;
    // m6i.xlarge saves (0.20 − 0.192) × 730 = $5.84.
    let (_, body) = w.send(&run_instances("33333333-3333-4333-8333-333333333333", "m4.xlarge", &["i-0ccc"])).await;
    assert_eq!(body["event"]["finding"]["rule"], "realtime.previous-generation");
    assert_eq!(body["event"]["finding"]["alternative"]["monthly_savings_usd"], "5.84");
    // A GPU launch: $32.7726 × 730 = $23,923.998 → $23,924.00.
    let (_, body) = w.send(&run_instances("44444444-4444-4444-8444-444444444444", "p4d.24xlarge", &["i-0ddd"])).await;
    assert_eq!(body["event"]["monthly_cost_usd"], "23924.00");
    assert_eq!(body["event"]["finding"]["rule"], "realtime.accelerated-instance");
    // A 500 GiB gp2 volume: $50/month; gp3 at 1500 → 3000 IOPS and 250 MiB/s:
    // 500 × 0.08 + (250 − 125) × 0.04 = $45, saving $5.
    let vol = cloudtrail(
        "55555555-5555-4555-8555-555555555555",
        "CreateVolume",
        json!({"size": 500, "volumeType": "gp2"}),
        json!({"volumeId": "vol-0eee", "size": "500", "volumeType": "gp2"}),
    );
    let (_, body) = w.send(&vol).await;
    assert_eq!(body["event"]["monthly_cost_usd"], "50.00");
    assert_eq!(body["event"]["finding"]["rule"], "realtime.gp2-volume");
    assert_eq!(body["event"]["finding"]["alternative"]["monthly_savings_usd"], "5.00");
    // An Elastic IP: 0.005 × 730 = $3.65, under the threshold: recorded, no finding.
    let eip = cloudtrail(
        "66666666-6666-4666-8666-666666666666",
        "AllocateAddress",
        json!({"domain": "vpc"}),
        json!({"allocationId": "eipalloc-0fff", "publicIp": "203.0.113.9"}),
    );
    let (status, body) = w.send(&eip).await;
    assert_eq!(status, 200);
    assert_eq!(body["event"]["monthly_cost_usd"], "3.65");
    assert!(body["event"]["finding"].is_null());
}

#[tokio::test]
async fn unknown_events_are_accepted_without_a_price() {
    let w = world().await;
    let mut ev =
        cloudtrail("77777777-7777-4777-8777-777777777777", "PutBucketTagging", json!({"bucketName": "b"}), Value::Null);
    ev["detail"]["eventSource"] = json!("s3.amazonaws.com");
    let (status, body) = w.send(&ev).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["event"]["kind"], "unknown");
    assert!(body["event"]["monthly_cost_usd"].is_null());
    assert!(w.store.get_event(&w.tenant, "77777777-7777-4777-8777-777777777777").await.unwrap().is_some());
}

/// (name, api key, content type, body, expected status).
type RequestCase<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Vec<u8>, u16);

#[tokio::test]
async fn bad_requests_get_permanent_codes_and_change_nothing() {
    let w = world().await;
    let good = run_instances("88888888-8888-4888-8888-888888888888", "m5.2xlarge", &["i-01"]);
    let with = |f: &dyn Fn(&mut Value)| {
        let mut e = good.clone();
        f(&mut e);
        e.to_string().into_bytes()
    };
    let json = Some("application/json");
    let token = Some(w.token.as_str());
    let huge = vec![b' '; 256 * 1024 + 1];
    let long_token = "x".repeat(300);
    let cases: Vec<RequestCase> = vec![
        ("no token", None, json, good.to_string().into_bytes(), 401),
        ("empty token", Some(""), json, good.to_string().into_bytes(), 401),
        ("wrong token", Some("crt_wrong"), json, good.to_string().into_bytes(), 401),
        ("another tenant's token", Some(&w.other_token), json, good.to_string().into_bytes(), 401),
        ("oversize token", Some(&long_token), json, good.to_string().into_bytes(), 401),
        ("wrong content type", token, Some("text/plain"), good.to_string().into_bytes(), 400),
        ("no content type", token, None, good.to_string().into_bytes(), 400),
        ("malformed JSON", token, json, b"{\"id\": ".to_vec(), 400),
        ("not an object", token, json, b"[1,2,3]".to_vec(), 400),
        ("empty body", token, json, Vec::new(), 400),
        ("oversize body", token, json, huge, 413),
        (
            "missing id",
            token,
            json,
            with(&|e| {
                e.as_object_mut().unwrap().remove("id");
            }),
            400,
        ),
        (
            "missing detail-type",
            token,
            json,
            with(&|e| {
                e.as_object_mut().unwrap().remove("detail-type");
            }),
            400,
        ),
        (
            "missing account",
            token,
            json,
            with(&|e| {
                e.as_object_mut().unwrap().remove("account");
            }),
            400,
        ),
        (
            "missing region",
            token,
            json,
            with(&|e| {
                e.as_object_mut().unwrap().remove("region");
            }),
            400,
        ),
        ("id of the wrong type", token, json, with(&|e| e["id"] = json!(42)), 400),
        ("hostile id", token, json, with(&|e| e["id"] = json!("../../EVENT#x")), 400),
        ("account of the wrong type", token, json, with(&|e| e["account"] = json!(123456789012u64)), 400),
        ("malformed account", token, json, with(&|e| e["account"] = json!("12345")), 400),
        ("malformed region", token, json, with(&|e| e["region"] = json!("moon-1")), 400),
        ("GovCloud region", token, json, with(&|e| e["region"] = json!("us-gov-west-1")), 400),
        ("detail not an object", token, json, with(&|e| e["detail"] = json!("x")), 400),
        ("detail null", token, json, with(&|e| e["detail"] = Value::Null), 400),
        ("detail an array", token, json, with(&|e| e["detail"] = json!([{"eventName": "RunInstances"}])), 400),
        (
            "missing detail",
            token,
            json,
            with(&|e| {
                e.as_object_mut().unwrap().remove("detail");
            }),
            400,
        ),
        (
            "deeply nested detail",
            token,
            json,
            format!(r#"{{"id":"1","detail-type":"x","source":"y","account":"123456789012","region":"us-east-1","detail":{{"a":{}1{}}}}}"#, "[".repeat(5_000), "]".repeat(5_000)).into_bytes(),
            400,
        ),
        ("time not a time", token, json, with(&|e| e["time"] = json!("yesterday")), 400),
        (
            "negative count",
            token,
            json,
            with(&|e| {
                e["detail"]["responseElements"] = Value::Null;
                e["detail"]["requestParameters"]["instancesSet"]["items"][0]["minCount"] = json!(-5);
            }),
            400,
        ),
        (
            "huge count",
            token,
            json,
            with(&|e| {
                e["detail"]["responseElements"] = Value::Null;
                e["detail"]["requestParameters"]["instancesSet"]["items"][0]["minCount"] = json!(1_000_000_000u64);
            }),
            400,
        ),
        (
            "count of the wrong type",
            token,
            json,
            with(&|e| {
                e["detail"]["responseElements"] = Value::Null;
                e["detail"]["requestParameters"]["instancesSet"]["items"][0]["minCount"] = json!({"n": 1});
            }),
            400,
        ),
        (
            "volume size of the wrong type",
            token,
            json,
            cloudtrail(
                "99999999-9999-4999-8999-999999999999",
                "CreateVolume",
                json!({"size": "big", "volumeType": "gp2"}),
                Value::Null,
            )
            .to_string()
            .into_bytes(),
            400,
        ),
        // A token is bound to its account: another account's events with it are refused, with the
        // same answer as a wrong token.
        ("account not in the tenant", token, json, with(&|e| e["account"] = json!("999999999999")), 401),
        ("another account's event", token, json, with(&|e| e["account"] = json!("210987654321")), 401),
        (
            "disconnected account, its own token",
            Some(&w.disconnected_token),
            json,
            with(&|e| e["account"] = json!("210987654321")),
            403,
        ),
        ("unicode in the id", token, json, with(&|e| e["id"] = json!("ünïcödé")), 400),
        ("NUL in the id", token, json, with(&|e| e["id"] = json!("abc\u{0}def")), 400),
        ("oversize id", token, json, with(&|e| e["id"] = json!("a".repeat(300))), 400),
        ("JSON null", token, json, b"null".to_vec(), 400),
        ("invalid UTF-8", token, json, vec![b'{', 0xff, 0xfe, b'}'], 400),
        ("deeply nested JSON", token, json, format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(), 400),
        ("duplicate keys", token, json, br#"{"id": "a", "id": "b"}"#.to_vec(), 400),
        ("a JSON look-alike content type", token, Some("application/jsonx"), good.to_string().into_bytes(), 400),
        ("detail-type of the wrong type", token, json, with(&|e| e["detail-type"] = json!(["x"])), 400),
        ("account with letters", token, json, with(&|e| e["account"] = json!("12345678901a")), 400),
        ("empty region", token, json, with(&|e| e["region"] = json!("")), 400),
        ("time of the wrong type", token, json, with(&|e| e["time"] = json!(1700000000)), 400),
        ("China region", token, json, with(&|e| e["region"] = json!("cn-north-1")), 400),
    ];
    assert!(cases.len() >= 40, "{} cases", cases.len());
    for (name, key, ct, body, status) in cases {
        let before = w.store.snapshot();
        let (got, reply) = w.post(key, ct, &body).await;
        assert_eq!(got, status, "{name}: {reply}");
        assert!(reply["error"]["code"].is_string(), "{name}: {reply}");
        assert!(
            !reply.to_string().contains("panicked") && !reply.to_string().contains("src/"),
            "{name} leaked internals: {reply}"
        );
        assert_eq!(w.store.snapshot(), before, "{name} changed the store");
    }
    // Routes and methods.
    let r = w.receiver.handle("GET", &format!("/events/{}", w.tenant), Some(&w.token), json, b"").await;
    assert_eq!(r.status, 405);
    let r = w.receiver.handle("POST", "/events/not-a-tenant", Some(&w.token), json, good.to_string().as_bytes()).await;
    assert_eq!(r.status, 404);
    let r = w.receiver.handle("POST", "/admin", Some(&w.token), json, good.to_string().as_bytes()).await;
    assert_eq!(r.status, 404);
    // Unknown tenant: the same 401 as a wrong token, so tenant ids cannot be probed.
    let r = w
        .receiver
        .handle("POST", "/events/t-0000000000000000", Some(&w.token), json, good.to_string().as_bytes())
        .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn a_store_failure_is_transient_and_the_retry_is_stored_exactly_once() {
    let w = world().await;
    let ev = run_instances("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "m5.2xlarge", &["i-0a1"]);
    let before = w.store.snapshot();
    w.store.set_unavailable(true);
    let (status, body) = w.send(&ev).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "unavailable");
    w.store.set_unavailable(false);
    assert_eq!(w.store.snapshot(), before, "nothing acknowledged, nothing stored");
    // EventBridge retries: stored once; a second retry is a duplicate.
    assert_eq!(w.send(&ev).await.1["status"], "accepted");
    assert_eq!(w.send(&ev).await.1["status"], "duplicate");
    let events = w.store.snapshot().iter().filter(|(_, sk, _, _)| sk.starts_with("EVENT#")).count();
    assert_eq!(events, 1);
}

#[tokio::test]
async fn rotated_out_and_revoked_tokens_stop_working() {
    let store = Arc::new(MemoryStore::new());
    let svc =
        Onboarding::new(store.clone(), Arc::new(FakeAssumer::enforcing()), Arc::new(SystemClock), settings(false));
    let (tenant, mut tokens) =
        tenant_with_accounts(&svc, "Acme", &["arn:aws:iam::123456789012:role/CostradarReadOnly"]).await;
    let t = tenant.id.clone();
    let receiver = Receiver::new(store.clone(), prices(), Arc::new(SystemClock)).with_cache_ttl(Duration::ZERO);
    let post = |token: String, id: &'static str| {
        let receiver = &receiver;
        let t = t.clone();
        async move {
            let ev = run_instances(id, "m5.2xlarge", &["i-1"]);
            receiver
                .handle(
                    "POST",
                    &format!("/events/{t}"),
                    Some(&token),
                    Some("application/json"),
                    ev.to_string().as_bytes(),
                )
                .await
                .status
        }
    };
    let old = tokens.remove(0);
    let account = AccountId::parse("123456789012").unwrap();
    let new = svc.rotate_token(&t, &account).await.unwrap().ingest_token.expose().to_owned();
    assert_eq!(
        post(old.clone(), "bbbbbbbb-0000-4000-8000-000000000001").await,
        200,
        "the old token works during the overlap"
    );
    assert_eq!(post(new.clone(), "bbbbbbbb-0000-4000-8000-000000000002").await, 200);
    svc.delete_tenant(&t).await.unwrap();
    assert_eq!(
        post(new, "bbbbbbbb-0000-4000-8000-000000000003").await,
        401,
        "a deleted tenant's token stops at once (cache TTL 0 here, 30 s in Lambda)"
    );
}

/// Odd but valid events are accepted and stored exactly once: the event item, the finding item
/// when there is one, and the launched instances' types (for later events). A repeat changes nothing.
#[tokio::test]
async fn odd_valid_events_are_stored_exactly_once() {
    let w = world().await;
    let unicode_tags = {
        let mut e = run_instances("bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb", "m5.2xlarge", &["i-0b1"]);
        e["detail"]["requestParameters"]["tagSpecificationSet"] =
            json!({"items": [{"resourceType": "instance", "tags": [{"key": "Name", "value": "数据库 🚀 <script>"}]}]});
        e
    };
    let cases: Vec<(&str, Value, &[&str])> = vec![
        // Unknown to the price list: accepted, unpriced, no finding.
        (
            "unknown instance type",
            run_instances("cccccccc-cccc-4ccc-8ccc-cccccccccccc", "m99.mega", &["i-0c1"]),
            &["EVENT#", "INSTANCE#"],
        ),
        ("unicode tag values", unicode_tags, &["EVENT#", "FINDING#", "INSTANCE#"]),
        (
            "unknown event",
            json!({"version": "0", "id": "dddddddd-dddd-4ddd-8ddd-dddddddddddd", "detail-type": "Something New", "source": "aws.future",
            "account": "123456789012", "time": "2026-11-20T10:00:00Z", "region": "us-east-1", "resources": [], "detail": {"x": [1, {"y": null}]}}),
            &["EVENT#"],
        ),
    ];
    for (name, event, kinds) in cases {
        let before = w.store.snapshot();
        let (status, reply) = w.send(&event).await;
        assert_eq!(status, 200, "{name}: {reply}");
        let after = w.store.snapshot();
        let added: Vec<&String> =
            after.iter().map(|(_, sk, _, _)| sk).filter(|sk| !before.iter().any(|(_, b, _, _)| b == *sk)).collect();
        assert_eq!(added.len(), kinds.len(), "{name}: {added:?}");
        for k in kinds {
            assert!(added.iter().any(|sk| sk.starts_with(k)), "{name}: no {k} in {added:?}");
        }
        // The same id again: 200, nothing written.
        let (status, reply) = w.send(&event).await;
        assert_eq!((status, reply["status"].as_str()), (200, Some("duplicate")), "{name}");
        assert_eq!(w.store.snapshot().len(), after.len(), "{name}: the repeat wrote something");
    }
}
