//! A tenant: one customer of the operator, with its ExternalId and its ingest-token hashes.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{ExternalId, TenantId, TokenHash};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantStatus {
    Active,
    /// Deleted by the operator: tokens stop working at once, its items carry a TTL.
    Deleted,
}

/// One accepted ingest token, by hash. `expires_at` is set on the old token when it is rotated
/// out, so both work during the overlap window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCredential {
    pub hash: TokenHash,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl TokenCredential {
    fn valid_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|t| now < t)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub external_id: ExternalId,
    pub tokens: Vec<TokenCredential>,
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
    /// Scan thresholds; `None`: the documented defaults (`rules::settings`).
    #[serde(default)]
    pub scan_settings: Option<crate::rules::settings::ScanSettings>,
    /// Optimistic-concurrency version: every write says which version it read.
    pub version: u64,
}

impl Tenant {
    pub fn new(id: TenantId, name: String, external_id: ExternalId, token: TokenHash, now: DateTime<Utc>) -> Self {
        Self {
            id,
            name,
            external_id,
            tokens: vec![TokenCredential { hash: token, created_at: now, expires_at: None }],
            status: TenantStatus::Active,
            created_at: now,
            deleted_at: None,
            realtime_threshold_usd: None,
            notify_webhook_url: None,
            scan_settings: None,
            version: 0,
        }
    }

    /// Whether a presented token is currently accepted. Every stored hash is compared, in
    /// constant time, whatever the outcome of the others.
    pub fn accepts_token(&self, presented: &TokenHash, now: DateTime<Utc>) -> bool {
        if self.status != TenantStatus::Active {
            return false;
        }
        self.tokens.iter().fold(false, |acc, t| acc | (t.hash.matches(presented) & t.valid_at(now)))
    }

    /// Installs a new token. The current one stays valid for `overlap`; any token already
    /// rotated out is dropped, so at most two are valid at once.
    pub fn rotate_token(&mut self, new: TokenHash, now: DateTime<Utc>, overlap: Duration) {
        self.tokens.retain(|t| t.expires_at.is_none());
        for t in &mut self.tokens {
            t.expires_at = Some(now + overlap);
        }
        self.tokens.push(TokenCredential { hash: new, created_at: now, expires_at: None });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::IngestToken;

    fn tenant(now: DateTime<Utc>) -> (Tenant, IngestToken) {
        let tok = IngestToken::generate();
        let t = Tenant::new(TenantId::generate(), "Acme".into(), ExternalId::generate(), tok.hash(), now);
        (t, tok)
    }

    #[test]
    fn rotation_overlap_then_expiry() {
        let now = Utc::now();
        let (mut t, old) = tenant(now);
        assert!(t.accepts_token(&old.hash(), now));
        let new = IngestToken::generate();
        t.rotate_token(new.hash(), now, Duration::hours(24));
        assert!(t.accepts_token(&old.hash(), now + Duration::hours(23)));
        assert!(t.accepts_token(&new.hash(), now + Duration::hours(23)));
        assert!(!t.accepts_token(&old.hash(), now + Duration::hours(24)));
        assert!(t.accepts_token(&new.hash(), now + Duration::days(400)));
        assert!(!t.accepts_token(&TokenHash::of("crt_guess"), now));
    }

    #[test]
    fn at_most_two_tokens_after_repeated_rotation() {
        let now = Utc::now();
        let (mut t, first) = tenant(now);
        let second = IngestToken::generate();
        let third = IngestToken::generate();
        t.rotate_token(second.hash(), now, Duration::hours(24));
        t.rotate_token(third.hash(), now + Duration::minutes(1), Duration::hours(24));
        assert_eq!(t.tokens.len(), 2);
        assert!(!t.accepts_token(&first.hash(), now + Duration::minutes(2)));
        assert!(t.accepts_token(&second.hash(), now + Duration::minutes(2)));
        assert!(t.accepts_token(&third.hash(), now + Duration::minutes(2)));
    }

    #[test]
    fn deleted_tenant_accepts_nothing() {
        let now = Utc::now();
        let (mut t, tok) = tenant(now);
        t.status = TenantStatus::Deleted;
        assert!(!t.accepts_token(&tok.hash(), now));
    }
}
