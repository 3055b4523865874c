//! Ports for findings of every source, scan memory and run records.
//!
//! # Using [`FindingStore`] (scans, CUR anomalies, anything that finds something)
//!
//! A finding is keyed by (account, rule, resource): `FINDING#<account>#<rule>#<resource>` in
//! the tenant's partition. Any rule id works; use a prefix per source (`ebs.`, `cur.anomaly`,
//! ...) so that resolution can be limited to the rules a run speaks for.
//!
//! 1. Build [`Finding`]s with `status: Open` (or `Suppressed`), `first_seen` and `last_seen`
//!    set to the run's time, and call [`FindingStore::upsert_findings`] with all of them. It is
//!    idempotent: a finding seen before keeps its `first_seen`, everything else (amounts,
//!    evidence, `last_seen`, status) is replaced; a resolved finding seen again is reopened.
//! 2. When the run saw everything it looks at (a *complete* run), call
//!    [`FindingStore::resolve_unseen`] with the run's start time and your rule prefixes: the
//!    open findings of those rules in that account and region not seen since are resolved. A
//!    partial or failed run must not call it (absence proves nothing then).
//! 3. Respect the tenant's [`Suppression`]s ([`FindingStore::list_suppressions`]) by storing
//!    matching findings with status `Suppressed` and `suppressed_by`.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Page, PageRequest, StoreError};
use crate::domain::finding::{Finding, Suppression};
use crate::domain::scan_run::RunRecord;
use crate::domain::{AccountId, TenantId};

/// What an upsert did, by finding key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpsertSummary {
    /// New findings.
    pub opened: Vec<String>,
    /// Resolved before, seen again.
    pub reopened: Vec<String>,
    /// Seen before and still open or suppressed: `last_seen` moved.
    pub updated: usize,
}

/// Which findings to resolve.
#[derive(Clone, Debug)]
pub struct ResolveScope<'a> {
    pub account_id: &'a AccountId,
    pub region: &'a str,
    /// Only findings whose rule starts with one of these.
    pub rule_prefixes: &'a [&'a str],
    /// Findings last seen before this (the complete run's start) are resolved.
    pub seen_before: DateTime<Utc>,
}

#[async_trait]
pub trait FindingStore: Send + Sync {
    /// Idempotent upsert keyed by (account, rule, resource); see the module docs.
    async fn upsert_findings(&self, tenant: &TenantId, findings: &[Finding]) -> Result<UpsertSummary, StoreError>;
    /// Resolves the open (or suppressed) findings in scope not seen since `seen_before`;
    /// returns their keys. A finding upserted concurrently is left alone.
    async fn resolve_unseen(
        &self,
        tenant: &TenantId,
        scope: &ResolveScope<'_>,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError>;
    /// The tenant's findings in key order, optionally of one account.
    async fn list_findings(
        &self,
        tenant: &TenantId,
        account_id: Option<&AccountId>,
        page: &PageRequest,
    ) -> Result<Page<Finding>, StoreError>;
    /// Creates or replaces a suppression (by id). Validate it first.
    async fn save_suppression(&self, tenant: &TenantId, suppression: &Suppression) -> Result<(), StoreError>;
    /// Whether it existed.
    async fn delete_suppression(&self, tenant: &TenantId, id: &str) -> Result<bool, StoreError>;
    async fn list_suppressions(&self, tenant: &TenantId) -> Result<Vec<Suppression>, StoreError>;
}

/// What a scan remembers between runs that AWS does not record: since when a resource has been
/// in some condition (an EBS volume unattached, a load balancer without healthy targets).
#[async_trait]
pub trait ObservationStore: Send + Sync {
    /// Records that exactly `present` (resource ids) are in `condition` now, and returns since
    /// when each has been: the first observation, kept across calls. Ids not in `present` are
    /// forgotten (they left the condition), so a volume attached and detached again starts
    /// afresh. Call it only with a complete listing of the region.
    async fn observe(
        &self,
        tenant: &TenantId,
        account_id: &AccountId,
        region: &str,
        condition: &str,
        present: &[String],
        now: DateTime<Utc>,
    ) -> Result<HashMap<String, DateTime<Utc>>, StoreError>;
}

/// Scan run records (`RUN#<run-id>`, one per tenant and run), kept until `expires_at`.
#[async_trait]
pub trait RunStore: Send + Sync {
    async fn save_run(&self, tenant: &TenantId, run: &RunRecord, expires_at: DateTime<Utc>) -> Result<(), StoreError>;
    async fn get_run(&self, tenant: &TenantId, run_id: &str) -> Result<Option<RunRecord>, StoreError>;
    /// The tenant's run records, newest `finished_at` first: one Query of GSI1 a page.
    async fn list_runs(&self, tenant: &TenantId, page: &PageRequest) -> Result<Page<RunRecord>, StoreError>;
}

/// Run ids come from Step Functions execution names (1-80 of `[A-Za-z0-9_-]`) or the CLI.
pub fn valid_run_id(id: &str) -> bool {
    (1..=80).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Merges an incoming finding with the stored one: keeps `first_seen` and people's decisions
/// ([`keep_user_state`]), reopens a resolved one. Returns the finding to store and what happened.
pub fn merge_upsert(incoming: &Finding, stored: Option<&Finding>) -> (Finding, Outcome) {
    use crate::domain::finding::FindingStatus::*;
    let mut f = incoming.clone();
    f.resolved_at = None;
    match stored {
        None => (f, Outcome::Opened),
        Some(old) => {
            f.first_seen = old.first_seen.min(incoming.first_seen);
            keep_user_state(&mut f, old);
            let outcome =
                if old.status == Resolved && f.status != Resolved { Outcome::Reopened } else { Outcome::Updated };
            (f, outcome)
        }
    }
}

/// What a new sighting of a finding (a scan, an event, a CUR run) must not undo: people's
/// triage, and a suppression they made through the API (scans apply it anyway; events and CUR
/// runs do not read suppressions).
pub fn keep_user_state(new: &mut Finding, old: &Finding) {
    use crate::domain::finding::FindingStatus::*;
    new.triage = old.triage.clone();
    let suppressed_by_a_person = old.triage.as_ref().is_some_and(|t| t.suppression_id.is_some());
    if suppressed_by_a_person && new.status == Open && old.suppressed_by.is_some() {
        new.status = Suppressed;
        new.suppressed_by = old.suppressed_by.clone();
    }
}

/// The realised-saving entry a reopened finding withdraws (`SAVING#<month>#<key>` of its last
/// resolution): the saving did not last, so it no longer counts.
pub fn withdrawn_saving_sk(stored: &Finding) -> Option<String> {
    let at = stored.resolved_at.filter(|_| stored.status == crate::domain::finding::FindingStatus::Resolved)?;
    Some(super::keys::saving_sk(&at.format("%Y-%m").to_string(), &stored.key()))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Opened,
    Reopened,
    Updated,
}

impl UpsertSummary {
    pub fn add(&mut self, key: String, outcome: Outcome) {
        match outcome {
            Outcome::Opened => self.opened.push(key),
            Outcome::Reopened => self.reopened.push(key),
            Outcome::Updated => self.updated += 1,
        }
    }
}

/// Whether a stored finding is resolved by a complete run.
pub fn resolvable(f: &Finding, scope: &ResolveScope<'_>) -> bool {
    use crate::domain::finding::FindingStatus::*;
    &f.account_id == scope.account_id
        && f.region == scope.region
        && matches!(f.status, Open | Suppressed)
        && f.last_seen < scope.seen_before
        && scope.rule_prefixes.iter().any(|p| f.rule.starts_with(p))
}

/// Resource ids may hold `#` (log group names); the key ends with the resource, so only the
/// account and rule must not. Refuses findings whose key would be ambiguous.
pub fn check_finding(f: &Finding) -> Result<(), StoreError> {
    if f.rule.contains('#') || f.rule.is_empty() || f.resource_id.is_empty() {
        return Err(StoreError::Corrupt(format!(
            "finding key parts must not be empty or contain '#' (the account id cannot): {}",
            f.key()
        )));
    }
    Ok(())
}
