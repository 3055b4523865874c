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

#[derive(Clone, PartialEq, Serialize, Deserialize)]
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

/// Debug output redacts the webhook URL: it is a secret of the tenant's.
impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("external_id", &self.external_id)
            .field("tokens", &self.tokens)
            .field("status", &self.status)
            .field("created_at", &self.created_at)
            .field("deleted_at", &self.deleted_at)
            .field("realtime_threshold_usd", &self.realtime_threshold_usd)
            .field("notify_webhook_url", &self.notify_webhook_url.as_ref().map(|_| "<redacted>"))
            .field("scan_settings", &self.scan_settings)
            .field("version", &self.version)
            .finish()
    }
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

    /// Installs a new token; at most two are valid at once, and the one still deployed is never
    /// cut short. Outside a rotation, the current token stays valid for `overlap`. Inside one (a
    /// previous token is still in its overlap), the rotation is idempotent: the previous token
    /// keeps its deadline, and the new token replaces the pending one that has not taken over.
    /// Returns when the previous token stops working.
    pub fn rotate_token(&mut self, new: TokenHash, now: DateTime<Utc>, overlap: Duration) -> DateTime<Utc> {
        let previous_deadline = self.tokens.iter().filter(|t| t.valid_at(now)).filter_map(|t| t.expires_at).max();
        match previous_deadline {
            Some(deadline) => {
                // Keep the deployed token; drop the pending one and anything already expired.
                self.tokens.retain(|t| t.expires_at.is_some() && t.valid_at(now));
                self.tokens.push(TokenCredential { hash: new, created_at: now, expires_at: None });
                deadline
            }
            None => {
                self.tokens.retain(|t| t.expires_at.is_none());
                for t in &mut self.tokens {
                    t.expires_at = Some(now + overlap);
                }
                self.tokens.push(TokenCredential { hash: new, created_at: now, expires_at: None });
                now + overlap
            }
        }
    }

    /// Stops every token but the newest at once (a rotation's overlap cut short, or a leaked
    /// previous token). Returns how many stopped.
    pub fn revoke_previous_tokens(&mut self, now: DateTime<Utc>) -> usize {
        let before = self.tokens.iter().filter(|t| t.valid_at(now)).count();
        let newest = self.tokens.iter().map(|t| t.created_at).max();
        self.tokens.retain(|t| Some(t.created_at) == newest && t.expires_at.is_none());
        before - self.tokens.len()
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
    fn a_second_rotation_inside_the_overlap_keeps_the_deployed_token() {
        let now = Utc::now();
        let (mut t, first) = tenant(now);
        let (second, third, fourth) = (IngestToken::generate(), IngestToken::generate(), IngestToken::generate());
        let deadline = t.rotate_token(second.hash(), now, Duration::hours(24));
        assert_eq!(t.rotate_token(third.hash(), now + Duration::minutes(1), Duration::hours(24)), deadline);
        assert_eq!(t.tokens.len(), 2);
        let later = now + Duration::minutes(2);
        assert!(t.accepts_token(&first.hash(), later), "still deployed: keeps its deadline");
        assert!(!t.accepts_token(&second.hash(), later), "the pending token was replaced");
        assert!(t.accepts_token(&third.hash(), later));
        assert!(!t.accepts_token(&first.hash(), deadline));
        // After the overlap, a rotation starts a new one.
        let after = deadline + Duration::hours(1);
        assert_eq!(t.rotate_token(fourth.hash(), after, Duration::hours(24)), after + Duration::hours(24));
        assert_eq!(t.tokens.len(), 2);
        assert!(t.accepts_token(&third.hash(), after) && t.accepts_token(&fourth.hash(), after));
        // Revoking stops all but the newest at once.
        assert_eq!(t.revoke_previous_tokens(after), 1);
        assert!(!t.accepts_token(&third.hash(), after) && t.accepts_token(&fourth.hash(), after));
    }

    #[test]
    fn deleted_tenant_accepts_nothing() {
        let now = Utc::now();
        let (mut t, tok) = tenant(now);
        t.status = TenantStatus::Deleted;
        assert!(!t.accepts_token(&tok.hash(), now));
    }
}
