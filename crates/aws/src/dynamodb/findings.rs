//! DynamoDB adapter of the finding, observation and run ports.
//!
//! Upserts read the stored findings with `BatchGetItem` (100 keys a call) and write with
//! `BatchWriteItem` (25 a call): a scan of 1,000 findings costs 10 reads and 40 writes, not
//! 1,000 conditional updates. Resolution is a conditional update per finding, on the
//! `last_seen` the query read, so an upsert racing it wins.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, Put, ReturnValue, TransactWriteItem, Update, WriteRequest,
};
use chrono::{DateTime, Utc};

use costradar_core::store::findings::{check_finding, merge_upsert, resolvable, withdrawn_saving_sk, Outcome};

use super::*;
use costradar_core::domain::finding::{Finding, FindingStatus, Suppression};
use costradar_core::domain::scan_run::RunRecord;
use costradar_core::domain::triage::RealisedSaving;

fn attr<T: serde::Serialize>(v: &T) -> AttributeValue {
    serde_dynamo::to_attribute_value(v).expect("plain values serialise")
}

#[async_trait]
impl FindingStore for DynamoStore {
    async fn upsert_findings(&self, tenant: &TenantId, findings: &[Finding]) -> Result<UpsertSummary, StoreError> {
        findings.iter().try_for_each(check_finding)?;
        let pk = tenant_pk(tenant);
        // The last of repeated keys wins, as in the in-memory adapter.
        let mut by_key: HashMap<String, &Finding> = HashMap::new();
        let mut order = Vec::new();
        for f in findings {
            if by_key.insert(f.key(), f).is_none() {
                order.push(f.key());
            }
        }
        let stored: HashMap<String, Finding> = self
            .batch_get(order.iter().map(|k| key(&finding_pk(tenant, k), finding_sk(k))).collect())
            .await?
            .into_iter()
            .map(|item| from_item::<Finding>(item).map(|f| (f.key(), f)))
            .collect::<Result<_, _>>()?;
        let mut summary = UpsertSummary::default();
        let mut writes = Vec::new();
        // Keys repeated in the input count once, with the first outcome.
        let mut counted = HashSet::new();
        for f in findings {
            if !counted.insert(f.key()) {
                continue;
            }
            let latest = by_key[&f.key()];
            let old = stored.get(&f.key());
            let (merged, outcome) = merge_upsert(latest, old);
            // A reopened finding's realised saving did not last: its ledger entry goes.
            if let Some(sk) = old.filter(|_| outcome == Outcome::Reopened).and_then(withdrawn_saving_sk) {
                let del = DeleteRequest::builder().set_key(Some(key(&pk, sk))).build().expect("delete");
                writes.push(WriteRequest::builder().delete_request(del).build());
            }
            writes.push(put(finding_item(tenant, &merged)));
            summary.add(f.key(), outcome);
        }
        self.batch_write(writes).await?;
        Ok(summary)
    }

    async fn resolve_unseen(
        &self,
        tenant: &TenantId,
        scope: &ResolveScope<'_>,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        let pk = tenant_pk(tenant);
        let mut resolved = Vec::new();
        // The account's findings are spread over every shard: one Query (paginated) each.
        let mut items = Vec::new();
        for shard in shard_pks(tenant) {
            items.extend(self.query_prefix(&shard, &findings_of_account(scope.account_id)).await?);
        }
        for item in items {
            let last_seen = item.get("last_seen").cloned();
            let (item_pk, sk) = (item.get(PK).cloned(), item.get(SK).cloned());
            let f: Finding = from_item(item)?;
            if !resolvable(&f, scope) {
                continue;
            }
            let (Some(last_seen), Some(item_pk), Some(sk)) = (last_seen, item_pk, sk) else { continue };
            let update = Update::builder()
                .table_name(&self.table)
                .key(PK, item_pk)
                .key(SK, sk)
                .update_expression("SET #st = :resolved, resolved_at = :now")
                .condition_expression("last_seen = :seen AND #st = :old")
                .expression_attribute_names("#st", "status")
                .expression_attribute_values(":resolved", attr(&FindingStatus::Resolved))
                .expression_attribute_values(":now", attr(&now))
                .expression_attribute_values(":seen", last_seen)
                .expression_attribute_values(":old", attr(&f.status))
                .build()
                .expect("update");
            if self.resolve_one(&pk, update, RealisedSaving::of(&f, now)).await? {
                resolved.push(f.key());
            }
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
        let prefix = account_id.map_or_else(|| FINDING_PREFIX.to_owned(), findings_of_account);
        // One Query per shard, each from the same position (the sort key does not name the
        // shard, so the last key of a page is a position in every shard), merged in key order.
        let mut merged = Vec::new();
        let mut more = false;
        for pk in shard_pks(tenant) {
            let mut q = self.prefix_query(&pk, &prefix).limit(limit as i32);
            if let Some(k) = &start {
                q = q.exclusive_start_key(PK, s(&pk)).exclusive_start_key(SK, s(finding_sk(k)));
            }
            let out = q.send().await.map_err(unavailable)?;
            more |= out.last_evaluated_key().is_some();
            for item in out.items.unwrap_or_default() {
                let sk = item.get(SK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                merged.push((sk, item));
            }
        }
        merged.sort_by(|a, b| a.0.cmp(&b.0));
        more |= merged.len() > limit as usize;
        merged.truncate(limit as usize);
        let next_cursor = match merged.last() {
            Some((sk, _)) if more && merged.len() == limit as usize => {
                Some(encode_cursor(sk.strip_prefix(FINDING_PREFIX).unwrap_or(sk)))
            }
            _ => None,
        };
        let items = merged.into_iter().map(|(_, item)| from_item(item)).collect::<Result<_, _>>()?;
        Ok(Page { items, next_cursor })
    }

    async fn save_suppression(&self, tenant: &TenantId, sup: &Suppression) -> Result<(), StoreError> {
        let mut item = to_item(sup);
        item.insert(PK.into(), s(tenant_pk(tenant)));
        item.insert(SK.into(), s(suppression_sk(&sup.id)));
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(unavailable)?;
        Ok(())
    }

    async fn delete_suppression(&self, tenant: &TenantId, id: &str) -> Result<bool, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(&tenant_pk(tenant), suppression_sk(id))))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }

    async fn list_suppressions(&self, tenant: &TenantId) -> Result<Vec<Suppression>, StoreError> {
        // Suppressions refuse unknown fields (they come from users): drop the keys first.
        let strip = |mut item: Item| {
            item.remove(PK);
            item.remove(SK);
            item
        };
        self.query_prefix(&tenant_pk(tenant), SUPPRESSION_PREFIX).await?.into_iter().map(strip).map(from_item).collect()
    }
}

impl DynamoStore {
    /// Resolves one finding (a conditional update) and, when it had a saving that counts, records
    /// the saving as realised in the same transaction (`SAVING#<month>#<key>`: resolving again
    /// in the same month rewrites the same entry). `false` when the condition failed (an upsert
    /// came first, or another run resolved it).
    async fn resolve_one(&self, pk: &str, update: Update, saving: Option<RealisedSaving>) -> Result<bool, StoreError> {
        let Some(r) = saving else {
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(update.key))
                .update_expression(update.update_expression)
                .set_condition_expression(update.condition_expression)
                .set_expression_attribute_names(update.expression_attribute_names)
                .set_expression_attribute_values(update.expression_attribute_values)
                .send()
                .await;
            return match result {
                Ok(_) => Ok(true),
                Err(e) if is_conditional_failure(&e) => Ok(false),
                Err(e) => Err(unavailable(e)),
            };
        };
        let mut item = to_item(&r);
        item.insert(PK.into(), s(pk));
        item.insert(SK.into(), s(saving_sk(&r.month(), &r.key)));
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            TransactWriteItem::builder()
                .put(Put::builder().table_name(&self.table).set_item(Some(item)).build().expect("put"))
                .build(),
        ];
        match self.transact(items).await {
            Ok(()) => Ok(true),
            Err(Ok(_)) => Ok(false),
            Err(Err(e)) => Err(e),
        }
    }
}

#[async_trait]
impl ObservationStore for DynamoStore {
    async fn observe(
        &self,
        tenant: &TenantId,
        account_id: &AccountId,
        region: &str,
        condition: &str,
        present: &[String],
        now: DateTime<Utc>,
    ) -> Result<HashMap<String, DateTime<Utc>>, StoreError> {
        let pk = observations_pk(tenant, account_id, region, condition);
        let prefix = observations_prefix(account_id, region, condition);
        let present_set: HashSet<&str> = present.iter().map(String::as_str).collect();
        let mut known = HashMap::new();
        let mut writes = Vec::new();
        for item in self.query_prefix(&pk, &prefix).await? {
            let sk = item.get(SK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            let id = sk.strip_prefix(&prefix).unwrap_or_default().to_owned();
            if present_set.contains(id.as_str()) {
                let since: DateTime<Utc> = item
                    .get("since")
                    .cloned()
                    .map(serde_dynamo::from_attribute_value)
                    .transpose()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?
                    .ok_or_else(|| StoreError::Corrupt(format!("{sk} has no time")))?;
                known.insert(id, since);
            } else {
                let del = DeleteRequest::builder().set_key(Some(key(&pk, sk))).build().expect("delete");
                writes.push(WriteRequest::builder().delete_request(del).build());
            }
        }
        for id in present {
            if !known.contains_key(id) {
                let mut item = key(&pk, format!("{prefix}{id}"));
                item.insert("since".into(), attr(&now));
                writes.push(put(item));
                known.insert(id.clone(), now);
            }
        }
        self.batch_write(writes).await?;
        Ok(known)
    }
}

#[async_trait]
impl RunStore for DynamoStore {
    async fn save_run(&self, tenant: &TenantId, run: &RunRecord, expires_at: DateTime<Utc>) -> Result<(), StoreError> {
        let mut item = to_item(run);
        item.insert(PK.into(), s(tenant_pk(tenant)));
        item.insert(SK.into(), s(run_sk(&run.run_id)));
        item.insert(GSI1PK.into(), s(runs_index_pk(tenant)));
        item.insert(GSI1SK.into(), s(time_sk(run.finished_at, &run.run_id)));
        item.insert(TTL.into(), n(expires_at.timestamp()));
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(unavailable)?;
        Ok(())
    }

    async fn get_run(&self, tenant: &TenantId, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        self.get(tenant_pk(tenant), run_sk(run_id)).await?.map(from_item).transpose()
    }

    async fn list_runs(&self, tenant: &TenantId, page: &PageRequest) -> Result<Page<RunRecord>, StoreError> {
        self.runs_page(tenant, page).await
    }
}
