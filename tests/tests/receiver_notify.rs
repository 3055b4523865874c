//! Notifications after the commit: SNS and EventBridge in moto, a Slack-compatible webhook on
//! loopback. A failed delivery never fails the request; it is queued in the outbox and retried.

use std::sync::Arc;
use std::time::Duration;

use costradar_aws::notify::AwsNotifier;
use costradar_core::domain::*;
use costradar_core::onboarding::Onboarding;
use costradar_core::receiver::notify::{Notifications, Target};
use costradar_core::receiver::Receiver;
use costradar_core::store::{EventStore, MemoryStore, NotificationOutbox, TenantStore};
use costradar_core::testing::{settings, FakeAssumer, ManualClock};
use costradar_tests::{event, fresh_table, sdk_config, CaptureServer};

struct World {
    store: Arc<MemoryStore>,
    tenant: TenantId,
    token: String,
    clock: Arc<ManualClock>,
}

async fn world(webhook: Option<&str>) -> World {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let svc = Onboarding::new(store.clone(), Arc::new(FakeAssumer::enforcing()), clock.clone(), settings(false));
    let (created, mut tokens) = costradar_core::testing::tenant_with_accounts(
        &svc,
        "Acme",
        &["arn:aws:iam::123456789012:role/CostradarReadOnly"],
    )
    .await;
    let mut tenant = store.get_tenant(&created.id).await.unwrap().unwrap();
    tenant.notify_webhook_url = webhook.map(str::to_owned);
    store.save_tenant(&mut tenant).await.unwrap();
    World { store, tenant: tenant.id, token: tokens.remove(0), clock }
}

impl World {
    fn receiver(&self, targets: Vec<Target>, sdk: &aws_config::SdkConfig) -> Receiver {
        let notifications = Notifications::new(targets, Box::new(AwsNotifier::from_sdk(sdk)));
        let mut r = Receiver::new(self.store.clone(), costradar_core::pricing::bundled(), self.clock.clone())
            .with_cache_ttl(Duration::ZERO)
            .with_notifications(Arc::new(notifications));
        r.notify_retry_every = Duration::ZERO;
        r
    }

    async fn send(&self, receiver: &Receiver, fixture: &str, id: &str) -> u16 {
        let mut ev = event(fixture);
        ev["id"] = id.into();
        let body = serde_json::to_vec(&ev).unwrap();
        let path = format!("/events/{}", self.tenant);
        let reply = receiver.handle("POST", &path, Some(&self.token), Some("application/json"), &body).await;
        assert!(reply.status < 300, "{}", reply.body);
        reply.status
    }
}

#[tokio::test]
async fn findings_go_to_sns_eventbridge_and_the_webhook() {
    let sdk = sdk_config().await;
    let topic = aws_sdk_sns::Client::new(&sdk).create_topic().name("costradar-findings").send().await.unwrap();
    let hook = CaptureServer::start(200).await;
    let w = world(Some(&format!("{}/services/T000/B000/XXXX", hook.url))).await;
    let targets = vec![
        Target::Sns { topic_arn: topic.topic_arn().unwrap().to_owned() },
        Target::EventBridge { bus: "default".into() },
    ];
    let receiver = w.receiver(targets, &sdk);

    w.send(&receiver, "receiver/ec2-run-instances-gpu.json", "gpu-1").await;
    // Nothing failed: nothing queued.
    assert!(w.store.list_pending(&w.tenant, 10).await.unwrap().is_empty());
    let got = hook.captured();
    assert_eq!(got.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&got[0].body).unwrap();
    let text = body["text"].as_str().unwrap();
    assert!(text.contains("p4d.24xlarge") && text.contains("$16029.08/month"), "{text}");
    assert!(text.ends_with("By arn:aws:iam::123456789012:user/bob"), "who made the change: {text}");
    // Slack-compatible: only `text`.
    assert_eq!(body.as_object().unwrap().len(), 1);

    // An event below the threshold and not always-flagged: no finding, no notification.
    w.send(&receiver, "receiver/ec2-allocate-address.json", "eip-1").await;
    assert_eq!(hook.captured().len(), 1);
}

#[tokio::test]
async fn a_failed_notification_is_queued_and_retried_without_failing_the_event() {
    let sdk = sdk_config().await;
    let down = CaptureServer::start(500).await;
    let w = world(Some(&down.url)).await;
    // A topic that does not exist: SNS refuses every publish.
    let missing_topic = "arn:aws:sns:us-east-1:123456789012:costradar-missing".to_owned();
    let receiver = w.receiver(vec![Target::Sns { topic_arn: missing_topic }], &sdk);

    assert_eq!(w.send(&receiver, "receiver/ec2-run-instances-gpu.json", "gpu-2").await, 200);
    assert!(w.store.get_event(&w.tenant, "gpu-2").await.unwrap().is_some(), "the event is stored regardless");
    let mut pending = w.store.list_pending(&w.tenant, 10).await.unwrap();
    pending.sort_by(|a, b| a.target.cmp(&b.target));
    let targets: Vec<_> = pending.iter().map(|p| (p.target.as_str(), p.attempts)).collect();
    assert_eq!(targets, [("sns", 1), ("webhook", 1)]);
    assert_eq!(pending[1].last_error, "webhook: HTTP 500");
    assert!(!pending[1].last_error.contains(&down.url), "the webhook URL is a secret");

    // The webhook comes back (a new URL); SNS is still failing. The retry waits for its back-off.
    let up = CaptureServer::start(200).await;
    let mut tenant = w.store.get_tenant(&w.tenant).await.unwrap().unwrap();
    tenant.notify_webhook_url = Some(up.url.clone());
    w.store.save_tenant(&mut tenant).await.unwrap();
    w.send(&receiver, "receiver/unknown-event.json", "other-1").await;
    assert!(up.captured().is_empty(), "not due before its back-off");

    w.clock.advance(chrono::Duration::minutes(2));
    w.send(&receiver, "receiver/unknown-event.json", "other-2").await;
    assert_eq!(up.captured().len(), 1, "delivered on retry");
    let left = w.store.list_pending(&w.tenant, 10).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!((left[0].target.as_str(), left[0].attempts), ("sns", 2));
}

#[tokio::test]
async fn the_outbox_round_trips_through_dynamodb() {
    let store = fresh_table("notify").await;
    let tenant = TenantId::parse("t-0123456789abcdef").unwrap();
    let pending = costradar_core::store::PendingNotification {
        event_id: "e-1".into(),
        target: "webhook".into(),
        payload: serde_json::json!({"text": "hi"}),
        attempts: 3,
        last_error: "webhook: timed out".into(),
        next_attempt_at: chrono::Utc::now(),
    };
    let expires = chrono::Utc::now() + chrono::Duration::days(30);
    store.save_pending(&tenant, &pending, expires).await.unwrap();
    assert_eq!(store.list_pending(&tenant, 10).await.unwrap(), vec![pending.clone()]);
    store.delete_pending(&tenant, "e-1", "webhook").await.unwrap();
    assert!(store.list_pending(&tenant, 10).await.unwrap().is_empty());
}
