//! The tenant digest (`costradar_core::digest`) on real components: the DynamoDB store and its
//! `DIGEST#` markers in moto, the operator's SNS topic in moto delivering to a loopback HTTP
//! subscriber, and the tenant's Slack-compatible webhook on loopback; the digest settings
//! through the onboarding API's `PATCH /tenants/{id}` on the same table
//! (`tools/with-moto.sh cargo test -p costradar-tests --test digest`).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use costradar_aws::notify::AwsNotifier;
use costradar_aws::DynamoStore;
use costradar_core::digest::{DigestService, Outcome};
use costradar_core::domain::finding::Finding;
use costradar_core::domain::settings::{DigestFrequency, DigestSettings, DigestWeekday};
use costradar_core::domain::*;
use costradar_core::onboarding::api::{self, ApiRequest};
use costradar_core::onboarding::Onboarding;
use costradar_core::store::{FindingStore, TenantStore};
use costradar_core::testing::FakeAssumer;
use costradar_tests::{fresh_table, items, sdk_config, CaptureServer};
use rust_decimal::Decimal;
use serde_json::{json, Value};

fn at(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).unwrap()
}

fn account() -> AccountId {
    AccountId::parse("123456789012").unwrap()
}

async fn tenant(store: &DynamoStore, digest: DigestSettings, webhook: &str) -> Tenant {
    let mut t = Tenant::new(TenantId::generate(), "Acme".into(), ExternalId::generate(), at(1, 0));
    t.digest = digest;
    t.notify_webhook_url = Some(webhook.to_owned());
    store.save_tenant(&mut t).await.unwrap();
    t
}

fn finding(t: &Tenant, id: &str, usd: i64, seen: DateTime<Utc>) -> Finding {
    Finding {
        monthly_savings_usd: Some(Decimal::from(usd)),
        ..Finding::open(
            t.id.clone(),
            account(),
            "us-east-1",
            "ebs.unattached-volume",
            id,
            "Unattached EBS volume",
            seen,
        )
    }
}

/// The operator's topic in moto, with a loopback HTTP subscriber that sees what SNS delivers.
async fn topic(sdk: &aws_config::SdkConfig, subscriber: &CaptureServer) -> String {
    let sns = aws_sdk_sns::Client::new(sdk);
    let arn = sns.create_topic().name("costradar-digest").send().await.unwrap().topic_arn.unwrap();
    sns.subscribe().topic_arn(&arn).protocol("http").endpoint(format!("{}/sns", subscriber.url)).send().await.unwrap();
    arn
}

/// SNS notifications (not the subscription confirmation) the subscriber received.
async fn notifications(subscriber: &CaptureServer, want: usize) -> Vec<Value> {
    for _ in 0..50 {
        let got: Vec<Value> = subscriber
            .captured()
            .iter()
            .filter_map(|c| serde_json::from_str::<Value>(&c.body).ok())
            .filter(|v| v["Type"] == "Notification")
            .collect();
        if got.len() >= want {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("SNS delivered fewer than {want} notifications: {:?}", subscriber.captured());
}

#[tokio::test]
async fn a_due_digest_goes_to_the_topic_and_the_webhook_once_per_period() {
    let sdk = sdk_config().await;
    let store = fresh_table("digest").await;
    let subscriber = CaptureServer::start(200).await;
    let hook = CaptureServer::start(200).await;
    let arn = topic(&sdk, &subscriber).await;
    let daily = DigestSettings { frequency: DigestFrequency::Daily, ..DigestSettings::default() };
    let t = tenant(&store, daily, &format!("{}/services/T/B/secret", hook.url)).await;
    // Weekly on Friday: 2026-12-07 is a Monday, so not due.
    let fri = DigestSettings { frequency: DigestFrequency::Weekly, weekday: DigestWeekday::Friday };
    let other = tenant(&store, fri, &format!("{}/other", hook.url)).await;
    let quiet = tenant(&store, daily, &format!("{}/quiet", hook.url)).await;
    store
        .upsert_findings(&t.id, &[finding(&t, "vol-new", 1250, at(6, 9)), finding(&t, "vol-old", 40, at(1, 9))])
        .await
        .unwrap();
    store.upsert_findings(&other.id, &[finding(&other, "vol-x", 5, at(6, 9))]).await.unwrap();
    store.upsert_findings(&quiet.id, &[finding(&quiet, "vol-y", 5, at(2, 9))]).await.unwrap();

    let svc = DigestService::new(Arc::new(store.clone()), Arc::new(AwsNotifier::from_sdk(&sdk)), Some(arn));
    let run = svc.run_all(at(7, 7)).await.unwrap();
    assert_eq!((run.tenants, run.sent, run.not_due, run.nothing_to_say, run.failed), (3, 1, 1, 1, 0), "{run:?}");

    // The webhook: Slack-compatible, `text` only.
    let got = hook.captured();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].path, "/services/T/B/secret");
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body.as_object().unwrap().len(), 1);
    let text = body["text"].as_str().unwrap();
    assert!(text.starts_with("costradar daily digest for Acme (2026-12-06)\n"), "{text}");
    assert!(text.contains("New: 1 open finding, $1,250.00/month of savings"), "{text}");
    assert!(text.contains("1. $1,250.00/month: Unattached EBS volume vol-new"), "{text}");
    assert!(text.contains("2. $40.00/month: Unattached EBS volume vol-old"), "{text}");
    assert!(text.ends_with("Anomalies: no CUR analysis (no account has a CUR export connected)"), "{text}");

    // SNS: the whole JSON body, under its own subject.
    let sns = notifications(&subscriber, 1).await;
    assert_eq!(sns[0]["Subject"], "costradar digest");
    let message: Value = serde_json::from_str(sns[0]["Message"].as_str().unwrap()).unwrap();
    assert_eq!(message["text"], text);
    let d = &message["digest"];
    assert_eq!((d["tenant_id"].as_str(), d["period"]["id"].as_str()), (Some(t.id.as_str()), Some("daily-2026-12-07")));
    assert_eq!(d["new"], json!({"findings": 1, "complete": true, "monthly_savings_usd": "1250.00"}));
    assert_eq!(d["top_open"].as_array().unwrap().len(), 2);

    // The marker: one item with a TTL, and a second invocation the same day sends nothing.
    let markers: Vec<_> = items(store.table())
        .await
        .into_iter()
        .filter(|i| i["SK"].as_s().is_ok_and(|s| s == "DIGEST#daily-2026-12-07"))
        .collect();
    assert_eq!(markers.len(), 1);
    let ttl: i64 = markers[0][costradar_core::store::schema::TTL].as_n().unwrap().parse().unwrap();
    assert_eq!(ttl, (at(7, 7) + chrono::Duration::days(costradar_core::digest::MARKER_RETENTION_DAYS)).timestamp());
    let again = svc.run_all(at(7, 19)).await.unwrap();
    assert_eq!((again.sent, again.already_sent), (0, 1), "{again:?}");
    assert_eq!(svc.send(&t, at(7, 20)).await.unwrap(), Outcome::AlreadySent { period: "daily-2026-12-07".into() });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(hook.captured().len(), 1);
    assert_eq!(notifications(&subscriber, 1).await.len(), 1);
}

#[tokio::test]
async fn a_digest_no_target_took_is_sent_by_the_retry() {
    let sdk = sdk_config().await;
    let store = fresh_table("digest").await;
    let down = CaptureServer::start(500).await;
    let daily = DigestSettings { frequency: DigestFrequency::Daily, ..DigestSettings::default() };
    let mut t = tenant(&store, daily, &format!("{}/hook", down.url)).await;
    store.upsert_findings(&t.id, &[finding(&t, "vol-1", 3, at(6, 9))]).await.unwrap();
    // A topic that does not exist and a webhook answering 500: nothing delivered.
    let missing = "arn:aws:sns:us-east-1:123456789012:costradar-missing".to_owned();
    let svc = DigestService::new(Arc::new(store.clone()), Arc::new(AwsNotifier::from_sdk(&sdk)), Some(missing));
    let e = svc.send(&t, at(7, 7)).await.unwrap_err().to_string();
    assert_eq!(e, "the digest reached no target: sns, webhook");
    assert!(!e.contains(&down.url), "the webhook URL is a secret");
    let run = svc.run_all(at(7, 7)).await.unwrap();
    assert_eq!((run.failed, run.sent), (1, 0), "counted, not raised");
    // The webhook comes back: the same day's retry sends, once.
    let up = CaptureServer::start(200).await;
    t.notify_webhook_url = Some(format!("{}/hook", up.url));
    store.save_tenant(&mut t).await.unwrap();
    let o = svc.send(&t, at(7, 8)).await.unwrap();
    assert_eq!(
        o,
        Outcome::Sent {
            period: "daily-2026-12-07".into(),
            delivered: vec!["webhook".into()],
            failed: vec!["sns".into()]
        }
    );
    assert_eq!(svc.send(&t, at(7, 9)).await.unwrap(), Outcome::AlreadySent { period: "daily-2026-12-07".into() });
    assert_eq!(up.captured().len(), 1);
}

async fn patch(svc: &Onboarding, id: &TenantId, body: Value) -> api::ApiResponse {
    let path = format!("/tenants/{id}");
    let body = body.to_string();
    let req = ApiRequest {
        method: "PATCH",
        path: &path,
        query: "",
        content_type: Some("application/json"),
        body: body.as_bytes(),
    };
    api::handle(svc, req).await
}

#[tokio::test]
async fn the_tenant_update_sets_the_digest_and_refuses_hostile_values_changing_nothing() {
    let store = fresh_table("digest").await;
    let svc = Onboarding::new(
        Arc::new(store.clone()),
        Arc::new(FakeAssumer::enforcing()),
        Arc::new(SystemClock),
        costradar_core::testing::settings(false),
    );
    let t = svc.create_tenant("Acme").await.unwrap().tenant;
    assert_eq!(t.digest, DigestSettings::default());
    let r = patch(&svc, &t.id, json!({"digest": "weekly", "digest_weekday": "friday"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["tenant"]["digest"], json!({"frequency": "weekly", "weekday": "friday"}));
    let stored = store.get_tenant(&t.id).await.unwrap().unwrap();
    assert_eq!(stored.digest, DigestSettings { frequency: DigestFrequency::Weekly, weekday: DigestWeekday::Friday });

    let before = items(store.table()).await;
    for (body, field) in [
        (json!({"digest": "hourly"}), "digest"),
        (json!({"digest": "weekly", "digest_weekday": "Friday"}), "digest_weekday"),
        (json!({"digest": "daily", "digest_weekday": "monday"}), "digest_weekday"),
        (json!({"digest": "weekly\u{0}"}), "digest"),
        (json!({"digest": "x".repeat(10_000)}), "digest"),
        (json!({"digest": ["daily"]}), "digest"),
        (json!({"digest_weekday": 1}), "digest_weekday"),
        (json!({"realtime_threshold_usd": 7, "digest": "sometimes"}), "digest"),
    ] {
        let r = patch(&svc, &t.id, body.clone()).await;
        let said = r.body.to_string();
        assert_eq!(r.status, 400, "{body:.80}: {said:.300}");
        assert!(said.contains(field), "{body:.80}: {said:.300}");
        assert!(said.len() < 2_000, "the answer does not echo a huge value");
    }
    // Over the API's body limit: refused before it is read.
    let r = patch(&svc, &t.id, json!({"digest": "x".repeat(100_000)})).await;
    assert_eq!(r.status, 413);
    assert_eq!(items(store.table()).await, before, "nothing changed");
    // null resets; a tenant that does not exist is a 404 like any other.
    let r = patch(&svc, &t.id, json!({"digest": null})).await;
    assert_eq!(r.body["tenant"]["digest"], json!({"frequency": "off", "weekday": "monday"}));
    let r = patch(&svc, &TenantId::generate(), json!({"digest": "daily"})).await;
    assert_eq!(r.status, 404, "{}", r.body);
}
