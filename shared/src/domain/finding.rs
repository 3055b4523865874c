//! A finding: something that costs money and could cost less, keyed by
//! (account, rule, resource). Real-time findings come from events; scans upsert theirs.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::TenantId;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    Open,
    Resolved,
    Suppressed,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub tenant_id: TenantId,
    pub account_id: String,
    pub region: String,
    pub rule: String,
    pub resource_id: String,
    pub title: String,
    pub evidence: Vec<String>,
    pub monthly_cost_usd: Option<Decimal>,
    pub monthly_savings_usd: Option<Decimal>,
    pub alternative: Option<String>,
    /// Who made the change, for real-time findings.
    pub actor: Option<String>,
    pub source_event: Option<String>,
    pub price_source: Option<String>,
    pub status: FindingStatus,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

impl Finding {
    /// The sort-key suffix: unique per (account, rule, resource).
    pub fn key(&self) -> String {
        format!("{}#{}#{}", self.account_id, self.rule, self.resource_id)
    }
}
