//! A tenant: one customer of the operator, with its ExternalId and its settings. Ingest tokens
//! belong to its accounts (`domain::token`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ExternalId, TenantId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantStatus {
    Active,
    /// Deleted by the operator: its accounts are disconnected, its items carry a TTL.
    Deleted,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub external_id: ExternalId,
    pub status: TenantStatus,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub deleted_at: Option<DateTime<Utc>>,
    /// A real-time change becomes a finding from this monthly amount (default $100).
    #[serde(default)]
    pub realtime_threshold_usd: Option<rust_decimal::Decimal>,
    /// A Slack-compatible incoming webhook (HTTPS) that gets this tenant's real-time findings.
    /// A secret of the tenant's: never logged, never shown in full.
    #[serde(default)]
    pub notify_webhook_url: Option<String>,
    /// Scan thresholds; `None`: the documented defaults (`domain::settings`).
    #[serde(default)]
    pub scan_settings: Option<super::settings::ScanSettings>,
    /// The tenant's digest (`crate::digest`): off by default.
    #[serde(default)]
    pub digest: super::settings::DigestSettings,
    /// How long this tenant's CUR reports are kept in the reports bucket (default 7 days).
    #[serde(default)]
    pub report_retention_days: super::settings::ReportRetention,
    /// Optimistic-concurrency version: every write says which version it read.
    pub version: u64,
}

/// Debug output redacts the webhook URL: it is a secret of the tenant's.
impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("external_id", &self.external_id)
            .field("status", &self.status)
            .field("created_at", &self.created_at)
            .field("deleted_at", &self.deleted_at)
            .field("realtime_threshold_usd", &self.realtime_threshold_usd)
            .field("notify_webhook_url", &self.notify_webhook_url.as_ref().map(|_| "<redacted>"))
            .field("scan_settings", &self.scan_settings)
            .field("digest", &self.digest)
            .field("report_retention_days", &self.report_retention_days)
            .field("version", &self.version)
            .finish()
    }
}

impl Tenant {
    pub fn new(id: TenantId, name: String, external_id: ExternalId, now: DateTime<Utc>) -> Self {
        Self {
            id,
            name,
            external_id,
            status: TenantStatus::Active,
            created_at: now,
            deleted_at: None,
            realtime_threshold_usd: None,
            notify_webhook_url: None,
            scan_settings: None,
            digest: Default::default(),
            report_retention_days: Default::default(),
            version: 0,
        }
    }
}
