//! The in-memory twin of the finding, observation and run ports (same keys and semantics as
//! the DynamoDB adapter).

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::super::findings::{check_finding, merge_upsert, resolvable, withdrawn_saving_sk};
use super::*;
use crate::domain::finding::{Finding, FindingStatus, Suppression};
use crate::domain::scan_run::RunRecord;
use crate::domain::triage::RealisedSaving;

#[async_trait]
impl FindingStore for MemoryStore {
    async fn upsert_findings(&self, tenant: &TenantId, findings: &[Finding]) -> Result<UpsertSummary, StoreError> {
        findings.iter().try_for_each(check_finding)?;
        let mut items = self.guard()?;
        let pk = tenant_pk(tenant);
        let mut summary = UpsertSummary::default();
        for f in findings {
            let key = (pk.clone(), finding_sk(&f.key()));
            let stored: Option<Finding> = items.get(&key).map(|i| from_body(&i.body)).transpose()?;
            let (merged, outcome) = merge_upsert(f, stored.as_ref());
            if outcome == super::super::findings::Outcome::Reopened {
                if let Some(sk) = stored.as_ref().and_then(withdrawn_saving_sk) {
                    items.remove(&(pk.clone(), sk));
                }
            }
            let version = items.get(&key).map_or(1, |i| i.version + 1);
            items.insert(key, Item { body: to_body(&merged), version, expires_at: None });
            summary.add(f.key(), outcome);
        }
        Ok(summary)
    }

    async fn resolve_unseen(
        &self,
        tenant: &TenantId,
        scope: &ResolveScope<'_>,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        let mut items = self.guard()?;
        let pk = tenant_pk(tenant);
        let prefix = findings_of_account(scope.account_id);
        let mut resolved = Vec::new();
        let mut realised = Vec::new();
        for ((p, sk), item) in items.range_mut((pk.clone(), prefix.clone())..) {
            if *p != pk || !sk.starts_with(&prefix) {
                break;
            }
            let mut f: Finding = from_body(&item.body)?;
            if resolvable(&f, scope) {
                realised.extend(RealisedSaving::of(&f, now));
                f.status = FindingStatus::Resolved;
                f.resolved_at = Some(now);
                item.body = to_body(&f);
                item.version += 1;
                resolved.push(f.key());
            }
        }
        for r in realised {
            let key = (pk.clone(), saving_sk(&r.month(), &r.key));
            items.insert(key, Item { body: to_body(&r), version: 1, expires_at: None });
        }
        Ok(resolved)
    }

    async fn list_findings(
        &self,
        tenant: &TenantId,
        account_id: Option<&AccountId>,
        req: &PageRequest,
    ) -> Result<Page<Finding>, StoreError> {
        let limit = req.limit().map_err(|_| StoreError::InvalidCursor)?;
        let start = req.cursor.as_deref().map(|c| decode_long_cursor(c, |s| Some(s.to_owned()))).transpose()?;
        let items = self.guard()?;
        let pk = tenant_pk(tenant);
        let prefix = account_id.map_or_else(|| FINDING_PREFIX.to_owned(), findings_of_account);
        let mut all = Vec::new();
        for ((p, sk), item) in items.range((pk.clone(), prefix.clone())..) {
            if *p != pk || !sk.starts_with(&prefix) {
                break;
            }
            let key = &sk[FINDING_PREFIX.len()..];
            if start.as_deref().is_some_and(|s| key <= s) {
                continue;
            }
            all.push((key.to_owned(), from_body::<Finding>(&item.body)?));
            if all.len() == limit as usize {
                break;
            }
        }
        Ok(page(all, limit, encode_cursor))
    }

    async fn save_suppression(&self, tenant: &TenantId, s: &Suppression) -> Result<(), StoreError> {
        let key = (tenant_pk(tenant), suppression_sk(&s.id));
        self.guard()?.insert(key, Item { body: to_body(s), version: 1, expires_at: None });
        Ok(())
    }

    async fn delete_suppression(&self, tenant: &TenantId, id: &str) -> Result<bool, StoreError> {
        Ok(self.guard()?.remove(&(tenant_pk(tenant), suppression_sk(id))).is_some())
    }

    async fn list_suppressions(&self, tenant: &TenantId) -> Result<Vec<Suppression>, StoreError> {
        let pk = tenant_pk(tenant);
        self.guard()?
            .range((pk.clone(), SUPPRESSION_PREFIX.to_owned())..)
            .take_while(|((p, sk), _)| *p == pk && sk.starts_with(SUPPRESSION_PREFIX))
            .map(|(_, i)| from_body(&i.body))
            .collect()
    }
}

#[async_trait]
impl ObservationStore for MemoryStore {
    async fn observe(
        &self,
        tenant: &TenantId,
        account_id: &AccountId,
        region: &str,
        condition: &str,
        present: &[String],
        now: DateTime<Utc>,
    ) -> Result<HashMap<String, DateTime<Utc>>, StoreError> {
        let mut items = self.guard()?;
        let pk = tenant_pk(tenant);
        let prefix = observations_prefix(account_id, region, condition);
        let mut known: HashMap<String, DateTime<Utc>> = HashMap::new();
        let mut gone = Vec::new();
        for ((p, sk), item) in items.range((pk.clone(), prefix.clone())..) {
            if *p != pk || !sk.starts_with(&prefix) {
                break;
            }
            let id = sk[prefix.len()..].to_owned();
            let since: DateTime<Utc> = from_body(&item.body["since"])?;
            known.insert(id.clone(), since);
            gone.push((sk.clone(), id));
        }
        let present_set: std::collections::HashSet<&str> = present.iter().map(String::as_str).collect();
        for (sk, id) in gone {
            if !present_set.contains(id.as_str()) {
                items.remove(&(pk.clone(), sk));
                known.remove(&id);
            }
        }
        for id in present {
            if !known.contains_key(id) {
                items.insert(
                    (pk.clone(), format!("{prefix}{id}")),
                    Item { body: serde_json::json!({ "since": now }), version: 1, expires_at: None },
                );
                known.insert(id.clone(), now);
            }
        }
        Ok(known)
    }
}

#[async_trait]
impl RunStore for MemoryStore {
    async fn save_run(&self, tenant: &TenantId, run: &RunRecord, expires_at: DateTime<Utc>) -> Result<(), StoreError> {
        let key = (tenant_pk(tenant), run_sk(&run.run_id));
        self.guard()?.insert(key, Item { body: to_body(run), version: 1, expires_at: Some(expires_at.timestamp()) });
        Ok(())
    }

    async fn get_run(&self, tenant: &TenantId, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        self.guard()?.get(&(tenant_pk(tenant), run_sk(run_id))).map(|i| from_body(&i.body)).transpose()
    }

    async fn list_runs(&self, tenant: &TenantId, page: &PageRequest) -> Result<Page<RunRecord>, StoreError> {
        self.runs_page(tenant, page)
    }
}
