//! Ingest tokens, by hash: what an account's EventBridge connection presents as `x-api-key`.
//!
//! A token is bound to one account (docs/security.md, scenario 3): a member account's admin can
//! read its own token from its Secrets Manager, and with it post events for that account only.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::TokenHash;

/// One accepted token. `expires_at` is set on the old token when it is rotated out, so both
/// work during the overlap window.
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

/// What the API shows of a token: never its hash.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TokenView {
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The tokens an account accepts: at most two at once (the current one, and the previous one
/// during a rotation's overlap).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Tokens(Vec<TokenCredential>);

impl Tokens {
    pub fn new(hash: TokenHash, now: DateTime<Utc>) -> Self {
        Self(vec![TokenCredential { hash, created_at: now, expires_at: None }])
    }

    /// Whether a presented token is currently accepted. Every stored hash is compared, in
    /// constant time, whatever the outcome of the others.
    pub fn accepts(&self, presented: &TokenHash, now: DateTime<Utc>) -> bool {
        self.0.iter().fold(false, |acc, t| acc | (t.hash.matches(presented) & t.valid_at(now)))
    }

    /// Installs a new token; at most two are valid at once, and the one still deployed is never
    /// cut short. Outside a rotation, the current token stays valid for `overlap`. Inside one (a
    /// previous token is still in its overlap), the rotation is idempotent: the previous token
    /// keeps its deadline, and the new token replaces the pending one that has not taken over.
    /// Returns when the previous token stops working (`now` when there was none).
    pub fn rotate(&mut self, new: TokenHash, now: DateTime<Utc>, overlap: Duration) -> DateTime<Utc> {
        let fresh = TokenCredential { hash: new, created_at: now, expires_at: None };
        if self.0.is_empty() {
            self.0.push(fresh);
            return now;
        }
        let previous_deadline = self.0.iter().filter(|t| t.valid_at(now)).filter_map(|t| t.expires_at).max();
        match previous_deadline {
            Some(deadline) => {
                // Keep the deployed token; drop the pending one and anything already expired.
                self.0.retain(|t| t.expires_at.is_some() && t.valid_at(now));
                self.0.push(fresh);
                deadline
            }
            None => {
                self.0.retain(|t| t.expires_at.is_none());
                for t in &mut self.0 {
                    t.expires_at = Some(now + overlap);
                }
                self.0.push(fresh);
                now + overlap
            }
        }
    }

    /// Stops every token but the newest at once (a rotation's overlap cut short, or a leaked
    /// previous token). Returns how many stopped.
    pub fn revoke_previous(&mut self, now: DateTime<Utc>) -> usize {
        let before = self.0.iter().filter(|t| t.valid_at(now)).count();
        let newest = self.0.iter().map(|t| t.created_at).max();
        self.0.retain(|t| Some(t.created_at) == newest && t.expires_at.is_none());
        before - self.0.len()
    }

    pub fn views(&self) -> Vec<TokenView> {
        self.0.iter().map(|c| TokenView { created_at: c.created_at, expires_at: c.expires_at }).collect()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::IngestToken;

    #[test]
    fn rotation_overlap_then_expiry() {
        let now = Utc::now();
        let old = IngestToken::generate();
        let mut t = Tokens::new(old.hash(), now);
        assert!(t.accepts(&old.hash(), now));
        let new = IngestToken::generate();
        t.rotate(new.hash(), now, Duration::hours(24));
        assert!(t.accepts(&old.hash(), now + Duration::hours(23)));
        assert!(t.accepts(&new.hash(), now + Duration::hours(23)));
        assert!(!t.accepts(&old.hash(), now + Duration::hours(24)));
        assert!(t.accepts(&new.hash(), now + Duration::days(400)));
        assert!(!t.accepts(&TokenHash::of("crt_guess"), now));
    }

    #[test]
    fn a_second_rotation_inside_the_overlap_keeps_the_deployed_token() {
        let now = Utc::now();
        let first = IngestToken::generate();
        let mut t = Tokens::new(first.hash(), now);
        let (second, third, fourth) = (IngestToken::generate(), IngestToken::generate(), IngestToken::generate());
        let deadline = t.rotate(second.hash(), now, Duration::hours(24));
        assert_eq!(t.rotate(third.hash(), now + Duration::minutes(1), Duration::hours(24)), deadline);
        assert_eq!(t.len(), 2);
        let later = now + Duration::minutes(2);
        assert!(t.accepts(&first.hash(), later), "still deployed: keeps its deadline");
        assert!(!t.accepts(&second.hash(), later), "the pending token was replaced");
        assert!(t.accepts(&third.hash(), later));
        assert!(!t.accepts(&first.hash(), deadline));
        // After the overlap, a rotation starts a new one.
        let after = deadline + Duration::hours(1);
        assert_eq!(t.rotate(fourth.hash(), after, Duration::hours(24)), after + Duration::hours(24));
        assert_eq!(t.len(), 2);
        assert!(t.accepts(&third.hash(), after) && t.accepts(&fourth.hash(), after));
        // Revoking stops all but the newest at once.
        assert_eq!(t.revoke_previous(after), 1);
        assert!(!t.accepts(&third.hash(), after) && t.accepts(&fourth.hash(), after));
    }

    #[test]
    fn no_token_accepts_nothing_and_a_first_rotation_installs_one() {
        let now = Utc::now();
        let mut t = Tokens::default();
        let tok = IngestToken::generate();
        assert!(!t.accepts(&tok.hash(), now));
        assert_eq!(t.rotate(tok.hash(), now, Duration::hours(24)), now);
        assert!(t.accepts(&tok.hash(), now));
        assert!(t.views().iter().all(|v| v.expires_at.is_none()));
    }
}
