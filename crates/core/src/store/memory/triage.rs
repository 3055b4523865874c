//! The in-memory twin of the findings API's reads and changes. The indexes are not stored:
//! each page computes the index sort keys from the items (the same `keys` functions the
//! DynamoDB adapter writes), then reads `limit` entries after the cursor and filters them, as a
//! DynamoDB Query with Limit and a FilterExpression does.

use async_trait::async_trait;

use super::super::triage::{decode_event_cursor, decode_run_cursor, event_time_sk, valid_finding_key, OpenSaving};
use super::*;
use crate::domain::finding::{Finding, FindingStatus};
use crate::domain::scan_run::RunRecord;
use crate::domain::triage::{FindingChange, RealisedSaving, SavingConfirmation};

/// A page of `entries` (index sort key, item) in descending key order, after `after` (a sort
/// key from a cursor): `limit` entries are read, those failing `keep` dropped, and the cursor
/// is the last entry read when `limit` were.
fn index_page<T>(
    mut entries: Vec<(String, T)>,
    after: Option<&str>,
    limit: u32,
    keep: impl Fn(&T) -> bool,
    cursor_of: impl Fn(&str) -> String,
) -> Page<T> {
    entries.sort_by(|a, b| b.0.cmp(&a.0));
    let read: Vec<(String, T)> =
        entries.into_iter().filter(|(sk, _)| after.is_none_or(|a| sk.as_str() < a)).take(limit as usize).collect();
    let next_cursor = (read.len() == limit as usize).then(|| read.last().map(|(sk, _)| cursor_of(sk))).flatten();
    Page { items: read.into_iter().map(|(_, t)| t).filter(|t| keep(t)).collect(), next_cursor }
}

impl MemoryStore {
    /// The bodies of the partition `pk`'s items under `prefix`.
    fn bodies(&self, pk: &str, prefix: &str) -> Result<Vec<(String, Value)>, StoreError> {
        Ok(self
            .guard()?
            .range((pk.to_owned(), prefix.to_owned())..)
            .take_while(|((p, sk), _)| p == pk && sk.starts_with(prefix))
            .map(|((_, sk), i)| (sk.clone(), i.body.clone()))
            .collect())
    }

    pub(super) fn events_page(
        &self,
        tenant: &TenantId,
        filter: &EventFilter,
        req: &PageRequest,
    ) -> Result<Page<Value>, StoreError> {
        let limit = req.limit().map_err(|_| StoreError::InvalidCursor)?;
        let after = req.cursor.as_deref().map(decode_event_cursor).transpose()?;
        let mut entries = Vec::new();
        for (sk, body) in self.bodies(&tenant_pk(tenant), EVENT_PREFIX)? {
            if let Some(isk) = event_time_sk(&sk[EVENT_PREFIX.len()..], &body) {
                entries.push((isk, body));
            }
        }
        Ok(index_page(entries, after.as_deref(), limit, |e| filter.matches(e), encode_cursor))
    }

    pub(super) fn runs_page(&self, tenant: &TenantId, req: &PageRequest) -> Result<Page<RunRecord>, StoreError> {
        let limit = req.limit().map_err(|_| StoreError::InvalidCursor)?;
        let after = req.cursor.as_deref().map(decode_run_cursor).transpose()?;
        let mut entries = Vec::new();
        for (_, body) in self.bodies(&tenant_pk(tenant), RUN_PREFIX)? {
            let run: RunRecord = from_body(&body)?;
            entries.push((time_sk(run.finished_at, &run.run_id), run));
        }
        Ok(index_page(entries, after.as_deref(), limit, |_| true, encode_cursor))
    }
}

#[async_trait]
impl TriageStore for MemoryStore {
    async fn query_findings(
        &self,
        tenant: &TenantId,
        filter: &FindingFilter,
        sort: FindingSort,
        req: &PageRequest,
    ) -> Result<Page<Finding>, StoreError> {
        let limit = req.limit().map_err(|_| StoreError::InvalidCursor)?;
        let after = req.cursor.as_deref().map(|c| sort.decode(c)).transpose()?.map(|(sk, _)| sk);
        let floor = filter.min_monthly_savings_usd.map(|m| savings_sort_value(Some(m)));
        let mut entries = Vec::new();
        for (_, body) in self.bodies(&tenant_pk(tenant), FINDING_PREFIX)? {
            let f: Finding = from_body(&body)?;
            let sk = sort.sort_key(&f);
            // The savings order's key condition: nothing below the minimum is read at all.
            if sort == FindingSort::Savings && floor.as_deref().is_some_and(|m| sk.as_str() < m) {
                continue;
            }
            entries.push((sk, f));
        }
        Ok(index_page(entries, after.as_deref(), limit, |f| filter.matches(f), |sk| sort.cursor(sk)))
    }

    async fn finding_history(&self, tenant: &TenantId, key: &str) -> Result<Vec<FindingChange>, StoreError> {
        let mut out = Vec::new();
        for (_, body) in self.bodies(&tenant_pk(tenant), &finding_log_prefix(key))? {
            if body["finding_key"].as_str() == Some(key) {
                out.push(from_body(&body["change"])?);
            }
        }
        Ok(out)
    }

    async fn change_finding(&self, tenant: &TenantId, u: &FindingUpdate) -> Result<(), StoreError> {
        if !valid_finding_key(&u.key) {
            return Err(StoreError::Invalid("not a finding key".into()));
        }
        let mut items = self.guard()?;
        let pk = tenant_pk(tenant);
        let fkey = (pk.clone(), finding_sk(&u.key));
        let mut f: Finding = from_body(&items.get(&fkey).ok_or(StoreError::NotFound)?.body)?;
        if f.triage.as_ref().map_or(0, |t| t.changes) != u.expected_changes {
            return Err(StoreError::VersionConflict);
        }
        let log_key = (pk.clone(), finding_log_sk(&u.key, u.entry.at, u.entry.seq));
        if items.contains_key(&log_key) {
            return Err(StoreError::VersionConflict);
        }
        f.triage = Some(u.triage.clone());
        if let Some((status, by)) = &u.suppress {
            f.status = *status;
            f.suppressed_by = Some(by.clone());
        }
        let item = items.get_mut(&fkey).expect("checked above");
        item.body = to_body(&f);
        item.version += 1;
        let log = serde_json::json!({ "finding_key": u.key, "change": u.entry });
        items.insert(log_key, Item { body: log, version: 1, expires_at: None });
        if let Some(s) = &u.suppression {
            items.insert((pk, suppression_sk(&s.id)), Item { body: to_body(s), version: 1, expires_at: None });
        }
        Ok(())
    }

    async fn open_savings(&self, tenant: &TenantId) -> Result<Vec<OpenSaving>, StoreError> {
        let mut out = Vec::new();
        for (_, body) in self.bodies(&tenant_pk(tenant), FINDING_PREFIX)? {
            let f: Finding = from_body(&body)?;
            let positive = savings_sort_value(f.monthly_savings_usd) > savings_sort_value(None);
            if positive && f.status == FindingStatus::Open && f.savings_included_in.is_none() {
                out.push(OpenSaving {
                    account_id: f.account_id,
                    rule: f.rule,
                    first_seen: f.first_seen,
                    monthly_savings_usd: f.monthly_savings_usd.unwrap_or_default(),
                });
            }
        }
        Ok(out)
    }

    async fn realised_savings(&self, tenant: &TenantId) -> Result<Vec<RealisedSaving>, StoreError> {
        self.bodies(&tenant_pk(tenant), SAVING_PREFIX)?.iter().map(|(_, b)| from_body(b)).collect()
    }

    async fn record_confirmation(
        &self,
        tenant: &TenantId,
        entry: &RealisedSaving,
        confirmation: &SavingConfirmation,
    ) -> Result<bool, StoreError> {
        let mut items = self.guard()?;
        let Some(item) = items.get_mut(&(tenant_pk(tenant), saving_sk(&entry.month(), &entry.key))) else {
            return Ok(false);
        };
        let mut stored: RealisedSaving = from_body(&item.body)?;
        if stored.realised_at != entry.realised_at || !stored.awaits_confirmation() {
            return Ok(false);
        }
        stored.confirmation = Some(confirmation.clone());
        item.body = to_body(&stored);
        item.version += 1;
        Ok(true)
    }
}
