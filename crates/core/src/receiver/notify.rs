//! Notifications of real-time findings, sent AFTER the event and its finding are committed.
//!
//! Targets: the operator's SNS topic and/or EventBridge bus (environment `NOTIFY_TOPIC_ARN`,
//! `NOTIFY_EVENT_BUS`), and the tenant's Slack-compatible webhook when one is configured. A failed
//! delivery never fails the request: it goes to the store's outbox ([`PendingNotification`]) and
//! is retried with back-off on the tenant's later events, until it succeeds or
//! [`MAX_ATTEMPTS`] is reached (the entry then stays, for audit, until its TTL).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::domain::finding::Finding;
use crate::domain::money::usd;
use crate::domain::Tenant;
use crate::store::{NotificationOutbox, PendingNotification, StoreError};

/// A webhook gets this long; a slow chat service must not slow the receiver down.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(2);
pub const MAX_ATTEMPTS: u32 = 12;
/// Outbox entries are kept this long, delivered or not.
const OUTBOX_RETENTION_DAYS: i64 = 30;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Sns { topic_arn: String },
    EventBridge { bus: String },
    Webhook { url: String },
}

impl Target {
    /// The outbox key part: one entry per (event, target kind).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Sns { .. } => "sns",
            Self::EventBridge { .. } => "eventbridge",
            Self::Webhook { .. } => "webhook",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotifyError(pub String);

/// Delivers one payload to one target.
#[async_trait]
pub trait Notifier: Send + Sync {
    async fn send(&self, target: &Target, payload: &Value) -> Result<(), NotifyError>;
}

/// The notification of a finding: the finding itself, and a one-line `text` that Slack-compatible
/// webhooks display.
pub fn payload(tenant: &Tenant, finding: &Finding) -> Value {
    let money = |d: Option<rust_decimal::Decimal>| d.map(|d| format!("${}/month", usd(d)));
    let mut text = format!("costradar: {} in account {} ({})", finding.title, finding.account_id, finding.region);
    if let Some(m) = money(finding.monthly_cost_usd) {
        text.push_str(&format!(", {m}"));
    }
    if let (Some(alt), Some(save)) = (&finding.alternative, money(finding.monthly_savings_usd)) {
        text.push_str(&format!(". Cheaper: {alt}, saves {save}"));
    }
    if let Some(actor) = &finding.actor {
        text.push_str(&format!(". By {actor}"));
    }
    json!({ "text": slack_escape(&text), "tenant_id": tenant.id, "finding": finding })
}

/// Slack's three control characters, escaped as its message formatting asks: text taken from
/// an event (a resource name, an actor) cannot mention `<!channel>` or hide a link.
pub fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Which targets a tenant's findings go to, and the sender.
pub struct Notifications {
    operator_targets: Vec<Target>,
    notifier: Box<dyn Notifier>,
}

impl Notifications {
    pub fn new(operator_targets: Vec<Target>, notifier: Box<dyn Notifier>) -> Self {
        Self { operator_targets, notifier }
    }

    fn targets(&self, tenant: &Tenant) -> Vec<Target> {
        let mut t = self.operator_targets.clone();
        if let Some(url) = &tenant.notify_webhook_url {
            t.push(Target::Webhook { url: url.clone() });
        }
        t
    }

    /// Sends a committed finding everywhere it should go. Failures are queued in the outbox;
    /// returns how many deliveries failed. Only an outbox write failure is an error, and the
    /// caller logs it: the event itself is already safe.
    pub async fn deliver(
        &self,
        outbox: &dyn NotificationOutbox,
        tenant: &Tenant,
        event_id: &str,
        finding: &Finding,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let body = payload(tenant, finding);
        let mut failed = 0;
        for target in self.targets(tenant) {
            if let Err(e) = self.notifier.send(&target, &body).await {
                failed += 1;
                tracing::warn!(tenant = %tenant.id, target = target.name(), error = %e, "notification failed; queued for retry");
                let pending = PendingNotification {
                    event_id: event_id.to_owned(),
                    target: target.name().to_owned(),
                    payload: body.clone(),
                    attempts: 1,
                    last_error: e.0,
                    next_attempt_at: now + backoff(1),
                };
                outbox.save_pending(&tenant.id, &pending, now + chrono::Duration::days(OUTBOX_RETENTION_DAYS)).await?;
            }
        }
        Ok(failed)
    }

    /// Retries the tenant's due notifications; returns (delivered, still pending).
    pub async fn retry(
        &self,
        outbox: &dyn NotificationOutbox,
        tenant: &Tenant,
        now: DateTime<Utc>,
    ) -> Result<(usize, usize), StoreError> {
        let targets = self.targets(tenant);
        let (mut delivered, mut pending) = (0, 0);
        for mut p in outbox.list_pending(&tenant.id, 25).await? {
            if p.attempts >= MAX_ATTEMPTS || p.next_attempt_at > now {
                pending += 1;
                continue;
            }
            // The target as configured now (a webhook URL may have changed since).
            let Some(target) = targets.iter().find(|t| t.name() == p.target) else {
                outbox.delete_pending(&tenant.id, &p.event_id, &p.target).await?;
                continue;
            };
            match self.notifier.send(target, &p.payload).await {
                Ok(()) => {
                    outbox.delete_pending(&tenant.id, &p.event_id, &p.target).await?;
                    delivered += 1;
                }
                Err(e) => {
                    p.attempts += 1;
                    p.last_error = e.0;
                    p.next_attempt_at = now + backoff(p.attempts);
                    outbox.save_pending(&tenant.id, &p, now + chrono::Duration::days(OUTBOX_RETENTION_DAYS)).await?;
                    pending += 1;
                }
            }
        }
        Ok((delivered, pending))
    }
}

/// 1, 2, 4, ... minutes after attempt n, at most 6 hours.
fn backoff(attempts: u32) -> chrono::Duration {
    chrono::Duration::minutes((1i64 << attempts.saturating_sub(1).min(9)).min(360))
}
