//! A customer AWS account connected to a tenant, and its lifecycle:
//!
//! ```text
//! pending ──> active | insecure | failed
//! active  ──> revoked (AccessDenied on a later assume) | insecure | disconnected (stack deleted)
//! insecure, failed, revoked ──> active | insecure | failed | revoked (verified again)
//! any     ──> disconnected;  disconnected ──> pending (registered again)
//! ```
//!
//! Every transition is kept with its time and reason.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{AccountId, InvalidInput, RoleArn, TenantId, Tokens};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Pending,
    Active,
    /// The role can be assumed without the ExternalId: never used until fixed.
    Insecure,
    Failed,
    Revoked,
    Disconnected,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Insecure => "insecure",
            Self::Failed => "failed",
            Self::Revoked => "revoked",
            Self::Disconnected => "disconnected",
        }
    }

    pub fn can_become(self, to: AccountStatus) -> bool {
        use AccountStatus::*;
        match (self, to) {
            (_, Disconnected) => self != Disconnected,
            (Disconnected, Pending) => true,
            (Pending, Active | Insecure | Failed) => true,
            (Active, Revoked | Insecure) => true,
            (Insecure | Failed | Revoked, Active | Insecure | Failed | Revoked) => self != to,
            _ => false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub from: AccountStatus,
    pub to: AccountStatus,
    pub at: DateTime<Utc>,
    pub reason: String,
}

/// How the account was connected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Registration {
    Manual,
    CustomResource { stack_id: String },
}

impl Registration {
    /// The stack that registered the account, when a stack did.
    pub fn stack_id(&self) -> Option<&str> {
        match self {
            Self::Manual => None,
            Self::CustomResource { stack_id } => Some(stack_id),
        }
    }
}

/// Where the customer's CUR 2.0 export can be queried, as their stack created it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurSettings {
    pub bucket: String,
    pub database: String,
    pub table: String,
    pub workgroup: String,
}

impl CurSettings {
    pub fn validate(&self) -> Result<(), InvalidInput> {
        let bucket_ok = (3..=63).contains(&self.bucket.len())
            && self.bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && !self.bucket.starts_with(['-', '.'])
            && !self.bucket.ends_with(['-', '.']);
        if !bucket_ok {
            return Err(InvalidInput::new("cur.bucket", "not a valid S3 bucket name"));
        }
        let glue_ok = |s: &str| {
            (1..=255).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        };
        if !glue_ok(&self.database) {
            return Err(InvalidInput::new("cur.database", "a Glue database name is 1-255 of a-z, 0-9 and _"));
        }
        if !glue_ok(&self.table) {
            return Err(InvalidInput::new("cur.table", "a Glue table name is 1-255 of a-z, 0-9 and _"));
        }
        let wg_ok = (1..=128).contains(&self.workgroup.len())
            && self.workgroup.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if !wg_ok {
            return Err(InvalidInput::new(
                "cur.workgroup",
                "an Athena workgroup name is 1-128 of A-Z, a-z, 0-9 and ._-",
            ));
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub tenant_id: TenantId,
    pub account_id: AccountId,
    pub role_arn: RoleArn,
    pub status: AccountStatus,
    pub status_reason: String,
    pub status_changed_at: DateTime<Utc>,
    /// Most recent last; capped at [`Account::HISTORY_LIMIT`].
    pub history: Vec<Transition>,
    pub regions: Vec<String>,
    #[serde(default)]
    pub cur: Option<CurSettings>,
    pub registration: Registration,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub last_verified_at: Option<DateTime<Utc>>,
    /// When the scheduled scan is next due; `None`: at the next run.
    #[serde(default)]
    pub next_scan_at: Option<DateTime<Utc>>,
    /// The ingest tokens this account's events are accepted with (hashes only).
    #[serde(default)]
    pub tokens: Tokens,
    pub version: u64,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("an account cannot go from {from} to {to}", from = from.as_str(), to = to.as_str())]
pub struct InvalidTransition {
    pub from: AccountStatus,
    pub to: AccountStatus,
}

impl Account {
    pub const HISTORY_LIMIT: usize = 50;

    pub fn new_pending(
        tenant_id: TenantId,
        role_arn: RoleArn,
        regions: Vec<String>,
        cur: Option<CurSettings>,
        registration: Registration,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            tenant_id,
            account_id: role_arn.account_id().clone(),
            role_arn,
            status: AccountStatus::Pending,
            status_reason: "registered; waiting for role verification".into(),
            status_changed_at: now,
            history: Vec::new(),
            regions,
            cur,
            registration,
            created_at: now,
            last_verified_at: None,
            next_scan_at: None,
            tokens: Tokens::default(),
            version: 0,
        }
    }

    /// Moves to `to`, recording why. Refuses transitions the lifecycle does not have.
    pub fn transition(
        &mut self,
        to: AccountStatus,
        reason: impl Into<String>,
        now: DateTime<Utc>,
    ) -> Result<(), InvalidTransition> {
        if !self.status.can_become(to) {
            return Err(InvalidTransition { from: self.status, to });
        }
        let reason = reason.into();
        self.history.push(Transition { from: self.status, to, at: now, reason: reason.clone() });
        if self.history.len() > Self::HISTORY_LIMIT {
            let excess = self.history.len() - Self::HISTORY_LIMIT;
            self.history.drain(..excess);
        }
        self.status = to;
        self.status_reason = reason;
        self.status_changed_at = now;
        Ok(())
    }

    /// Whether scans and the receiver may use this account.
    pub fn is_usable(&self) -> bool {
        self.status == AccountStatus::Active
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AccountStatus::*;

    fn account() -> Account {
        Account::new_pending(
            TenantId::generate(),
            RoleArn::parse("arn:aws:iam::123456789012:role/CostradarReadOnly").unwrap(),
            vec!["us-east-1".into()],
            None,
            Registration::Manual,
            Utc::now(),
        )
    }

    #[test]
    fn lifecycle_keeps_time_and_reason() {
        let mut a = account();
        let t0 = Utc::now();
        a.transition(Active, "verified", t0).unwrap();
        a.transition(Revoked, "AccessDenied on assume", t0).unwrap();
        a.transition(Disconnected, "stack deleted", t0).unwrap();
        a.transition(Pending, "registered again", t0).unwrap();
        assert_eq!(a.history.len(), 4);
        assert_eq!(a.history[1].from, Active);
        assert_eq!(a.history[1].reason, "AccessDenied on assume");
        assert_eq!(a.status_reason, "registered again");
    }

    #[test]
    fn refused_transitions_change_nothing() {
        let mut a = account();
        let before = a.clone();
        for to in [Pending, Revoked] {
            assert!(a.transition(to, "x", Utc::now()).is_err());
        }
        assert_eq!(a, before);
        a.transition(Disconnected, "gone", Utc::now()).unwrap();
        assert!(a.transition(Active, "x", Utc::now()).is_err());
        assert!(a.transition(Disconnected, "x", Utc::now()).is_err());
    }

    #[test]
    fn insecure_is_never_usable() {
        let mut a = account();
        a.transition(Insecure, "assumable without ExternalId", Utc::now()).unwrap();
        assert!(!a.is_usable());
        a.transition(Active, "fixed", Utc::now()).unwrap();
        assert!(a.is_usable());
    }

    #[test]
    fn history_is_capped() {
        let mut a = account();
        a.transition(Failed, "x", Utc::now()).unwrap();
        for i in 0..100 {
            let to = if i % 2 == 0 { Revoked } else { Failed };
            a.transition(to, format!("{i}"), Utc::now()).unwrap();
        }
        assert_eq!(a.history.len(), Account::HISTORY_LIMIT);
        assert_eq!(a.history.last().unwrap().reason, "99");
    }

    #[test]
    fn cur_settings_are_validated() {
        let ok = CurSettings {
            bucket: "acme-cur-123".into(),
            database: "costradar_cur".into(),
            table: "data".into(),
            workgroup: "costradar".into(),
        };
        assert!(ok.validate().is_ok());
        for (f, bad) in [
            ("cur.bucket", CurSettings { bucket: "Bad_Bucket".into(), ..ok.clone() }),
            ("cur.database", CurSettings { database: "x; DROP TABLE".into(), ..ok.clone() }),
            ("cur.table", CurSettings { table: "".into(), ..ok.clone() }),
            ("cur.workgroup", CurSettings { workgroup: "a b".into(), ..ok.clone() }),
        ] {
            assert_eq!(bad.validate().unwrap_err().field, f);
        }
    }
}
