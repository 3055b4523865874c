//! The port behind the findings API: findings as people browse them (filtered, sorted, one
//! Query a page), their history, people's changes, and the savings ledger.
//!
//! # Indexes
//!
//! Every finding write (upsert, event, change) also writes two index keys, both in the
//! partition `TENANT#<id>#FINDINGS` ([`keys::findings_index_pk`]):
//! - GSI2 (`GSI2SK = <cents, 15 digits>#<key>`, [`keys::savings_sk`]): by monthly saving;
//! - GSI1 (`GSI1SK = <first_seen>#<key>`, [`keys::time_sk`]): by first sighting.
//!
//! Events (`TENANT#<id>#EVENTS`, by `received_at`) and run records (`TENANT#<id>#RUNS`, by
//! `finished_at`) have GSI1 keys too. Both adapters build them with the functions of [`keys`].
//!
//! Findings' and events' index partitions are write-sharded (`keys::finding_index_pk`,
//! `keys::event_index_pk`: `...#S<n>`, 8 shards): the DynamoDB adapter's page is one Query per
//! shard, merged, with the same cursor (docs/scale.md).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::findings::valid_run_id;
use super::keys::{self, decode_cursor, decode_long_cursor, encode_cursor, split_index_sk};
use super::{Page, PageRequest, StoreError};
use crate::domain::finding::{Finding, FindingStatus, Suppression};
use crate::domain::triage::{FindingChange, RealisedSaving, SavingConfirmation, Source, Triage};
use crate::domain::{AccountId, TenantId};

/// What a findings page keeps. Every field is optional; all given ones must hold.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FindingFilter {
    pub account_id: Option<AccountId>,
    pub region: Option<String>,
    /// A rule's prefix before its first '.' (`ebs`, `realtime`, `cur`, ...).
    pub service: Option<String>,
    pub rule: Option<String>,
    pub source: Option<Source>,
    pub status: Option<FindingStatus>,
    /// At least this monthly saving, in whole cents (compared with the saving rounded to the
    /// cent, as GSI2 holds it).
    pub min_monthly_savings_usd: Option<Decimal>,
    /// A case-sensitive substring of the resource id.
    pub resource_contains: Option<String>,
}

impl FindingFilter {
    /// Whether `f` passes: the in-memory twin of the DynamoDB adapter's FilterExpression.
    pub fn matches(&self, f: &Finding) -> bool {
        let is = |want: &Option<String>, got: &str| want.as_deref().is_none_or(|w| w == got);
        self.account_id.as_ref().is_none_or(|a| *a == f.account_id)
            && is(&self.region, &f.region)
            && self.service.as_deref().is_none_or(|s| f.rule.strip_prefix(s).is_some_and(|r| r.starts_with('.')))
            && is(&self.rule, &f.rule)
            && self.source.is_none_or(|s| Source::of_rule(&f.rule) == s)
            && self.status.is_none_or(|s| s == f.status)
            && self
                .min_monthly_savings_usd
                .is_none_or(|m| keys::savings_sort_value(f.monthly_savings_usd) >= keys::savings_sort_value(Some(m)))
            && self.resource_contains.as_deref().is_none_or(|q| f.resource_id.contains(q))
    }
}

/// A findings page's order; both are descending.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FindingSort {
    /// Largest monthly saving first (GSI2).
    #[default]
    Savings,
    /// Newest first sighting first (GSI1).
    FirstSeen,
}

impl FindingSort {
    fn tag(self) -> char {
        match self {
            Self::Savings => 's',
            Self::FirstSeen => 'f',
        }
    }

    /// The index sort key of `f` in this order.
    pub fn sort_key(self, f: &Finding) -> String {
        match self {
            Self::Savings => keys::savings_sk(f),
            Self::FirstSeen => keys::time_sk(f.first_seen, &f.key()),
        }
    }

    /// A page's cursor: the order's tag and the last index sort key read.
    pub fn cursor(self, sk: &str) -> String {
        encode_cursor(&format!("{}|{sk}", self.tag()))
    }

    /// The index sort key a cursor of this order carries, and the finding key inside it. A
    /// cursor of the other order, or one whose key is not a finding key, is refused.
    pub fn decode(self, cursor: &str) -> Result<(String, String), StoreError> {
        decode_long_cursor(cursor, |s| {
            let sk = s.strip_prefix(self.tag())?.strip_prefix('|')?;
            let (_, key) = keys::split_index_sk(sk, self == Self::Savings)?;
            valid_finding_key(key).then(|| (sk.to_owned(), key.to_owned()))
        })
    }
}

/// `<12 digits>#<rule without '#'>#<resource>`, no control characters, at most 1,000 bytes.
pub fn valid_finding_key(key: &str) -> bool {
    let mut parts = key.splitn(3, '#');
    let (Some(account), Some(rule), Some(resource)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    AccountId::parse(account).is_ok()
        && !rule.is_empty()
        && !resource.is_empty()
        && key.len() <= 1000
        && !key.chars().any(char::is_control)
}

/// Events newest first, optionally of one account and one kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub account_id: Option<AccountId>,
    pub kind: Option<String>,
}

impl EventFilter {
    /// Whether a stored event (the receiver's priced event) passes.
    pub fn matches(&self, event: &serde_json::Value) -> bool {
        self.account_id.as_ref().is_none_or(|a| event["account"].as_str() == Some(a.as_str()))
            && self.kind.as_deref().is_none_or(|k| event["kind"].as_str() == Some(k))
    }
}

/// The GSI1 key of a stored event: its `received_at` and id. Events the receiver stores carry
/// `received_at`; one without it is not listed.
pub fn event_time_sk(event_id: &str, event: &serde_json::Value) -> Option<String> {
    let at: DateTime<Utc> = serde_json::from_value(event.get("received_at")?.clone()).ok()?;
    Some(keys::time_sk(at, event_id))
}

/// An event page's cursor: its GSI1 sort key (`<received_at>#<event id>`).
pub fn decode_event_cursor(cursor: &str) -> Result<String, StoreError> {
    decode_long_cursor(cursor, |s| {
        let (_, id) = split_index_sk(s, false)?;
        (id.len() <= 512 && !id.chars().any(char::is_control)).then(|| s.to_owned())
    })
}

/// A run page's cursor: its GSI1 sort key (`<finished_at>#<run id>`).
pub fn decode_run_cursor(cursor: &str) -> Result<String, StoreError> {
    decode_cursor(cursor, |s| {
        let (_, id) = split_index_sk(s, false)?;
        valid_run_id(id).then(|| s.to_owned())
    })
}

/// A change to one finding, written in one transaction: the finding's triage (and, for a
/// suppression, its status and `suppressed_by`), the suppression itself, and the history entry.
#[derive(Clone, Debug, PartialEq)]
pub struct FindingUpdate {
    pub key: String,
    /// `triage.changes` as read before the change (0: no triage yet). The write fails with
    /// [`StoreError::VersionConflict`] if another change came first.
    pub expected_changes: u32,
    pub triage: Triage,
    /// `Some` to suppress: the new status and `suppressed_by`.
    pub suppress: Option<(FindingStatus, String)>,
    pub suppression: Option<Suppression>,
    pub entry: FindingChange,
}

/// What the ledger needs of an open finding that counts in totals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenSaving {
    pub account_id: AccountId,
    pub rule: String,
    pub first_seen: DateTime<Utc>,
    pub monthly_savings_usd: Decimal,
}

#[async_trait]
pub trait TriageStore: Send + Sync {
    /// One page of the tenant's findings in `sort` order with `filter`: exactly **one Query**
    /// (GSI2 or GSI1; a minimum saving with the savings order is part of its key condition,
    /// every other filter a FilterExpression). The Query reads `limit` index entries and then
    /// filters them, so a page may hold fewer than `limit` findings, even none, and still have
    /// a cursor. Findings written before the indexes existed are not in them until rewritten.
    async fn query_findings(
        &self,
        tenant: &TenantId,
        filter: &FindingFilter,
        sort: FindingSort,
        page: &PageRequest,
    ) -> Result<Page<Finding>, StoreError>;
    /// The finding's history, oldest first.
    async fn finding_history(&self, tenant: &TenantId, key: &str) -> Result<Vec<FindingChange>, StoreError>;
    /// Writes a change in one transaction ([`FindingUpdate`]); [`StoreError::NotFound`] if the
    /// finding does not exist, [`StoreError::VersionConflict`] if it changed since it was read.
    async fn change_finding(&self, tenant: &TenantId, update: &FindingUpdate) -> Result<(), StoreError>;
    /// Every open finding with a positive saving that counts in totals (no
    /// `savings_included_in`). Reads the tenant's GSI2 entries above zero, all pages.
    async fn open_savings(&self, tenant: &TenantId) -> Result<Vec<OpenSaving>, StoreError>;
    /// Every realised ledger entry of the tenant (`SAVING#`), all pages.
    async fn realised_savings(&self, tenant: &TenantId) -> Result<Vec<RealisedSaving>, StoreError>;
    /// The realised entries of `account` still waiting for the bill
    /// ([`RealisedSaving::awaits_confirmation`]), oldest realisation first: the tenant's
    /// [`Self::realised_savings`], filtered.
    async fn pending_confirmations(
        &self,
        tenant: &TenantId,
        account: &AccountId,
    ) -> Result<Vec<RealisedSaving>, StoreError> {
        let mut out = self.realised_savings(tenant).await?;
        out.retain(|r| r.account_id == *account && r.awaits_confirmation());
        oldest_first(&mut out);
        Ok(out)
    }
    /// Writes `confirmation` on the ledger entry of `entry` (`SAVING#<month>#<key>`), on the
    /// condition that the entry is still the one read (same `realised_at`) and still awaits
    /// confirmation: `false` (nothing written) when it was withdrawn, realised again, or
    /// settled meanwhile, so a second analysis never settles an entry twice.
    async fn record_confirmation(
        &self,
        tenant: &TenantId,
        entry: &RealisedSaving,
        confirmation: &SavingConfirmation,
    ) -> Result<bool, StoreError>;
}

/// Sorts ledger entries as [`TriageStore::pending_confirmations`] returns them.
pub fn oldest_first(entries: &mut [RealisedSaving]) {
    entries.sort_by(|a, b| (a.realised_at, &a.key).cmp(&(b.realised_at, &b.key)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_bound_to_their_order_and_to_finding_keys() {
        let sk = "000000000001250#123456789012#ebs.unattached-volume#vol-1";
        let c = FindingSort::Savings.cursor(sk);
        assert_eq!(
            FindingSort::Savings.decode(&c).unwrap(),
            (sk.to_owned(), "123456789012#ebs.unattached-volume#vol-1".to_owned())
        );
        assert_eq!(FindingSort::FirstSeen.decode(&c), Err(StoreError::InvalidCursor));
        for bad in ["s|12#123456789012#r#x", "s|000000000001250#12345#r#x", "s|000000000001250#123456789012#r"] {
            assert_eq!(FindingSort::Savings.decode(&encode_cursor(bad)), Err(StoreError::InvalidCursor), "{bad}");
        }
        let t = FindingSort::FirstSeen.cursor("2026-11-22T12:00:00.000000Z#123456789012#r#x");
        assert!(FindingSort::FirstSeen.decode(&t).is_ok());
        assert_eq!(FindingSort::FirstSeen.decode("!!"), Err(StoreError::InvalidCursor));
        // A long resource id still round-trips.
        let long = format!("000000000000000#123456789012#logs.never-expire#{}", "a".repeat(900));
        assert!(FindingSort::Savings.decode(&FindingSort::Savings.cursor(&long)).is_ok());
    }

    #[test]
    fn savings_sort_values_order_as_amounts() {
        let v = |s: &str| keys::savings_sort_value(Some(s.parse().unwrap()));
        assert_eq!(v("12.345"), "000000000001235");
        assert_eq!(v("-3"), "000000000000000");
        assert_eq!(keys::savings_sort_value(None), "000000000000000");
        assert!(v("9.99") < v("10.00") && v("10.00") < v("1000"));
        assert_eq!(v("99999999999999999"), "999999999999999");
    }
}
