//! DynamoDB adapter of the findings API's port ([`TriageStore`]) and of the events and runs
//! pages. Each page is one Query of an index (GSI2 by saving; GSI1 by time), newest or largest
//! first, with `Limit` = the page size: filters not in the key condition are a
//! FilterExpression, applied to the items the Query read.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};

use costradar_core::domain::finding::{Finding, FindingStatus};
use costradar_core::domain::scan_run::RunRecord;
use costradar_core::domain::triage::{ConfirmationStatus, FindingChange, RealisedSaving, SavingConfirmation, Source};
use costradar_core::store::schema::GSI2;
use costradar_core::store::triage::{decode_event_cursor, decode_run_cursor, valid_finding_key, OpenSaving};

use super::*;

fn attr<T: serde::Serialize>(v: &T) -> AttributeValue {
    serde_dynamo::to_attribute_value(v).expect("plain values serialise")
}

/// A FilterExpression being built: its clauses (joined with AND) and the names and values they
/// use (DynamoDB refuses unused ones).
#[derive(Default)]
struct Filter {
    clauses: Vec<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Filter {
    fn name(&mut self, alias: &str, attribute: &str) -> String {
        self.names.insert(alias.to_owned(), attribute.to_owned());
        alias.to_owned()
    }

    fn equals(&mut self, alias: &str, attribute: &str, value: AttributeValue) {
        let n = self.name(alias, attribute);
        self.values.insert(format!(":{}", &alias[1..]), value);
        self.clauses.push(format!("{n} = :{}", &alias[1..]));
    }

    /// `begins_with(rule, p)` for any of `prefixes`, or for none of them.
    fn rule_prefixes(&mut self, prefixes: &[&str], negate: bool) {
        let rule = self.name("#rule", "rule");
        let mut any = Vec::new();
        for (i, p) in prefixes.iter().enumerate() {
            self.values.insert(format!(":pre{i}"), s(*p));
            any.push(format!("begins_with({rule}, :pre{i})"));
        }
        let joined = any.join(" OR ");
        self.clauses.push(if negate { format!("NOT ({joined})") } else { format!("({joined})") });
    }

    fn findings(f: &FindingFilter, sort: FindingSort) -> Self {
        let mut x = Self::default();
        if let Some(a) = &f.account_id {
            x.equals("#acct", "account_id", s(a.as_str()));
        }
        if let Some(r) = &f.region {
            x.equals("#region", "region", s(r));
        }
        if let Some(svc) = &f.service {
            let rule = x.name("#rule", "rule");
            x.values.insert(":svc".into(), s(format!("{svc}.")));
            x.clauses.push(format!("begins_with({rule}, :svc)"));
        }
        if let Some(r) = &f.rule {
            x.equals("#rule", "rule", s(r));
        }
        match f.source {
            None => {}
            Some(Source::Scan) => {
                let others: Vec<&str> = Source::ALL.iter().flat_map(|s| s.prefixes().iter().copied()).collect();
                x.rule_prefixes(&others, true);
            }
            Some(src) => x.rule_prefixes(src.prefixes(), false),
        }
        if let Some(st) = f.status {
            x.equals("#st", "status", attr(&st));
        }
        if let (Some(m), FindingSort::FirstSeen) = (f.min_monthly_savings_usd, sort) {
            let n = x.name("#sav", GSI2SK);
            x.values.insert(":min".into(), s(savings_sort_value(Some(m))));
            x.clauses.push(format!("{n} >= :min"));
        }
        if let Some(q) = &f.resource_contains {
            let n = x.name("#res", "resource_id");
            x.values.insert(":q".into(), s(q));
            x.clauses.push(format!("contains({n}, :q)"));
        }
        x
    }

    fn events(f: &EventFilter) -> Self {
        let mut x = Self::default();
        if let Some(a) = &f.account_id {
            x.equals("#acct", "account_id", s(a.as_str()));
        }
        if let Some(k) = &f.kind {
            x.equals("#kind", "kind", s(k));
        }
        x
    }

    /// Adds the filter to a query that already names `#ip` (and maybe more).
    fn apply(self, mut q: QueryFluentBuilder) -> QueryFluentBuilder {
        if self.clauses.is_empty() {
            return q;
        }
        q = q.filter_expression(self.clauses.join(" AND "));
        for (k, v) in self.names {
            q = q.expression_attribute_names(k, v);
        }
        for (k, v) in self.values {
            q = q.expression_attribute_values(k, v);
        }
        q
    }
}

impl DynamoStore {
    /// A descending Query of one index partition (`#ip = :ip`), `limit` items.
    fn index_query(&self, index: &str, pk_attr: &str, pk: &str, limit: u32) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .expression_attribute_names("#ip", pk_attr)
            .expression_attribute_values(":ip", s(pk))
            .scan_index_forward(false)
            .limit(limit as i32)
    }

    /// The exclusive start key of an index page: the index keys and the item's table keys.
    fn start_after(
        q: QueryFluentBuilder,
        index: (&str, &str),
        (index_pk, sk): (&str, &str),
        (table_pk, table_sk): (String, String),
    ) -> QueryFluentBuilder {
        q.exclusive_start_key(index.0, s(index_pk))
            .exclusive_start_key(index.1, s(sk))
            .exclusive_start_key(PK, s(table_pk))
            .exclusive_start_key(SK, s(table_sk))
    }

    /// Merges the descending pages of the index shards (`keys::SHARDS` Queries, run at once,
    /// each `Limit` = the page size, the filter applied to what each read). Every shard has
    /// read everything down to the highest position any shard stopped at (`floor`), so the
    /// items at or above it are the page, in order; past `limit`, the last one kept is the
    /// cursor. `after`: the cursor's position, excluded (a BETWEEN's inclusive end).
    async fn merged_page(
        queries: Vec<QueryFluentBuilder>,
        sk_attr: &'static str,
        limit: u32,
        after: Option<&str>,
    ) -> Result<(Vec<Item>, Option<String>), StoreError> {
        let mut set = tokio::task::JoinSet::new();
        for q in queries {
            set.spawn(q.send());
        }
        let (mut all, mut floor) = (Vec::new(), None::<String>);
        while let Some(out) = set.join_next().await {
            let out = out.map_err(|e| StoreError::Unavailable(e.to_string()))?.map_err(unavailable)?;
            if let Some(p) = out.last_evaluated_key().and_then(|k| k.get(sk_attr)?.as_s().ok()) {
                if floor.as_deref().is_none_or(|f| p.as_str() > f) {
                    floor = Some(p.clone());
                }
            }
            for item in out.items.unwrap_or_default() {
                let sk = item.get(sk_attr).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                if after.is_none_or(|a| sk.as_str() < a) {
                    all.push((sk, item));
                }
            }
        }
        all.retain(|(sk, _)| floor.as_deref().is_none_or(|f| sk.as_str() >= f));
        all.sort_by(|a, b| b.0.cmp(&a.0));
        let cursor = if all.len() > limit as usize {
            all.truncate(limit as usize);
            all.last().map(|(sk, _)| sk.clone())
        } else {
            floor
        };
        Ok((all.into_iter().map(|(_, item)| item).collect(), cursor))
    }

    pub(super) async fn events_page(
        &self,
        tenant: &TenantId,
        filter: &EventFilter,
        req: &PageRequest,
    ) -> Result<Page<serde_json::Value>, StoreError> {
        let limit = req.limit().map_err(|_| StoreError::InvalidCursor)?;
        let after = req.cursor.as_deref().map(decode_event_cursor).transpose()?;
        let queries = events_index_pks(tenant)
            .iter()
            .map(|pk| {
                let q = self.index_query(GSI1, GSI1PK, pk, limit);
                let q = match &after {
                    Some(a) => q
                        .key_condition_expression("#ip = :ip AND #is < :after")
                        .expression_attribute_names("#is", GSI1SK)
                        .expression_attribute_values(":after", s(a)),
                    None => q.key_condition_expression("#ip = :ip"),
                };
                Filter::events(filter).apply(q)
            })
            .collect();
        let (found, cursor) = Self::merged_page(queries, GSI1SK, limit, after.as_deref()).await?;
        let next_cursor = cursor.map(|v| encode_cursor(&v));
        let mut items = Vec::new();
        for mut item in found {
            let text = item.remove("event").and_then(|v| v.as_s().ok().cloned());
            let text = text.ok_or_else(|| StoreError::Corrupt("event item without its event".into()))?;
            items.push(serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?);
        }
        Ok(Page { items, next_cursor })
    }

    pub(super) async fn runs_page(&self, tenant: &TenantId, req: &PageRequest) -> Result<Page<RunRecord>, StoreError> {
        let limit = req.limit().map_err(|_| StoreError::InvalidCursor)?;
        let after = req.cursor.as_deref().map(decode_run_cursor).transpose()?;
        let pk = runs_index_pk(tenant);
        let mut q = self.index_query(GSI1, GSI1PK, &pk, limit).key_condition_expression("#ip = :ip");
        if let Some(sk) = after {
            let (_, id) = split_index_sk(&sk, false).ok_or(StoreError::InvalidCursor)?;
            q = Self::start_after(q, (GSI1PK, GSI1SK), (&pk, &sk), (tenant_pk(tenant), run_sk(id)));
        }
        let out = q.send().await.map_err(unavailable)?;
        let next_cursor = out.last_evaluated_key().and_then(|k| k.get(GSI1SK)?.as_s().ok()).map(|v| encode_cursor(v));
        let items = out.items.unwrap_or_default().into_iter().map(from_item).collect::<Result<_, _>>()?;
        Ok(Page { items, next_cursor })
    }

    /// The finding's update of a change: its triage (and status, for a suppression), on the
    /// condition that it exists and its change count is still the one read.
    fn triage_update(&self, tenant: &TenantId, u: &FindingUpdate) -> Update {
        let mut set = vec!["#tr = :tr"];
        let b = Update::builder()
            .table_name(&self.table)
            .key(PK, s(finding_pk(tenant, &u.key)))
            .key(SK, s(finding_sk(&u.key)))
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#tr", "triage")
            .expression_attribute_values(":tr", attr(&u.triage));
        let b = if u.expected_changes == 0 {
            b.condition_expression("attribute_exists(#pk) AND attribute_not_exists(#tr)")
        } else {
            b.condition_expression("attribute_exists(#pk) AND #tr.#c = :old")
                .expression_attribute_names("#c", "changes")
                .expression_attribute_values(":old", n(u.expected_changes))
        };
        let b = match &u.suppress {
            Some((status, by)) => {
                set.extend(["#st = :st", "suppressed_by = :by"]);
                b.expression_attribute_names("#st", "status")
                    .expression_attribute_values(":st", attr(status))
                    .expression_attribute_values(":by", s(by))
            }
            None => b,
        };
        b.update_expression(format!("SET {}", set.join(", "))).build().expect("update")
    }

    /// The open findings with a saving in one findings index shard, appended to `out`.
    async fn open_savings_of(&self, pk: &str, out: &mut Vec<OpenSaving>) -> Result<(), StoreError> {
        let mut pages = self
            .index_query(GSI2, GSI2PK, pk, 1000)
            .key_condition_expression("#ip = :ip AND #is >= :one")
            .expression_attribute_names("#is", GSI2SK)
            .expression_attribute_values(":one", s(savings_sort_value(Some(rust_decimal::Decimal::new(1, 2)))))
            .filter_expression("#st = :open")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":open", attr(&FindingStatus::Open))
            .projection_expression("account_id, #rule, first_seen, monthly_savings_usd, savings_included_in")
            .expression_attribute_names("#rule", "rule")
            .into_paginator()
            .items()
            .send();
        while let Some(item) = pages.next().await {
            let mut item = item.map_err(unavailable)?;
            if item.get("savings_included_in").is_some_and(|v| v.as_s().is_ok()) {
                continue;
            }
            item.remove("savings_included_in");
            let row: OpenRow = from_item(item)?;
            out.push(OpenSaving {
                account_id: row.account_id,
                rule: row.rule,
                first_seen: row.first_seen,
                monthly_savings_usd: row.monthly_savings_usd,
            });
        }
        Ok(())
    }
}

#[async_trait]
impl TriageStore for DynamoStore {
    async fn query_findings(
        &self,
        tenant: &TenantId,
        filter: &FindingFilter,
        sort: FindingSort,
        req: &PageRequest,
    ) -> Result<Page<Finding>, StoreError> {
        let limit = req.limit().map_err(|_| StoreError::InvalidCursor)?;
        let after = req.cursor.as_deref().map(|c| sort.decode(c)).transpose()?.map(|(sk, _)| sk);
        let (index, pk_attr, sk_attr) = match sort {
            FindingSort::Savings => (GSI2, GSI2PK, GSI2SK),
            FindingSort::FirstSeen => (GSI1, GSI1PK, GSI1SK),
        };
        let floor = match (sort, filter.min_monthly_savings_usd) {
            (FindingSort::Savings, Some(m)) => Some(savings_sort_value(Some(m))),
            _ => None,
        };
        if let (Some(f), Some(a)) = (&floor, &after) {
            if a < f {
                // A cursor below the floor: nothing is left (and BETWEEN would refuse it).
                return Ok(Page { items: Vec::new(), next_cursor: None });
            }
        }
        let queries = findings_index_pks(tenant)
            .iter()
            .map(|pk| {
                let q = self.index_query(index, pk_attr, pk, limit);
                let cond = match (&floor, &after) {
                    (Some(_), Some(_)) => "#ip = :ip AND #is BETWEEN :floor AND :after",
                    (Some(_), None) => "#ip = :ip AND #is >= :floor",
                    (None, Some(_)) => "#ip = :ip AND #is < :after",
                    (None, None) => "#ip = :ip",
                };
                let mut q = q.key_condition_expression(cond);
                if floor.is_some() || after.is_some() {
                    q = q.expression_attribute_names("#is", sk_attr);
                }
                if let Some(f) = &floor {
                    q = q.expression_attribute_values(":floor", s(f));
                }
                if let Some(a) = &after {
                    q = q.expression_attribute_values(":after", s(a));
                }
                Filter::findings(filter, sort).apply(q)
            })
            .collect();
        let (found, cursor) = Self::merged_page(queries, sk_attr, limit, after.as_deref()).await?;
        let next_cursor = cursor.map(|v| sort.cursor(&v));
        let items = found.into_iter().map(from_item).collect::<Result<_, _>>()?;
        Ok(Page { items, next_cursor })
    }

    async fn finding_history(&self, tenant: &TenantId, key: &str) -> Result<Vec<FindingChange>, StoreError> {
        let mut out = Vec::new();
        for mut item in self.query_prefix(&tenant_pk(tenant), &finding_log_prefix(key)).await? {
            if item.get("finding_key").and_then(|v| v.as_s().ok()).map(String::as_str) != Some(key) {
                continue;
            }
            let change =
                item.remove("change").ok_or_else(|| StoreError::Corrupt("history entry without its change".into()))?;
            out.push(serde_dynamo::from_attribute_value(change).map_err(|e| StoreError::Corrupt(e.to_string()))?);
        }
        Ok(out)
    }

    async fn change_finding(&self, tenant: &TenantId, u: &FindingUpdate) -> Result<(), StoreError> {
        if !valid_finding_key(&u.key) {
            return Err(StoreError::Invalid("not a finding key".into()));
        }
        let pk = tenant_pk(tenant);
        let mut log = key(&pk, finding_log_sk(&u.key, u.entry.at, u.entry.seq));
        log.insert("finding_key".into(), s(&u.key));
        log.insert("change".into(), attr(&u.entry));
        let log_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(log))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .build()
            .expect("put");
        let mut items = vec![
            TransactWriteItem::builder().update(self.triage_update(tenant, u)).build(),
            TransactWriteItem::builder().put(log_put).build(),
        ];
        if let Some(sup) = &u.suppression {
            let mut item = to_item(sup);
            item.insert(PK.into(), s(&pk));
            item.insert(SK.into(), s(suppression_sk(&sup.id)));
            let put = Put::builder().table_name(&self.table).set_item(Some(item)).build().expect("put");
            items.push(TransactWriteItem::builder().put(put).build());
        }
        match self.transact(items).await {
            Ok(()) => Ok(()),
            // The finding's condition: it is gone, or another change came first.
            Err(Ok(0)) if self.get(finding_pk(tenant, &u.key), finding_sk(&u.key)).await?.is_none() => {
                Err(StoreError::NotFound)
            }
            Err(Ok(_)) => Err(StoreError::VersionConflict),
            Err(Err(e)) => Err(e),
        }
    }

    async fn open_savings(&self, tenant: &TenantId) -> Result<Vec<OpenSaving>, StoreError> {
        let mut out = Vec::new();
        for pk in findings_index_pks(tenant) {
            self.open_savings_of(&pk, &mut out).await?;
        }
        Ok(out)
    }

    async fn realised_savings(&self, tenant: &TenantId) -> Result<Vec<RealisedSaving>, StoreError> {
        self.query_prefix(&tenant_pk(tenant), SAVING_PREFIX).await?.into_iter().map(from_item).collect()
    }

    /// One conditional UpdateItem: the entry still exists with the `realised_at` read, and has
    /// no confirmation or a pending one.
    async fn record_confirmation(
        &self,
        tenant: &TenantId,
        entry: &RealisedSaving,
        confirmation: &SavingConfirmation,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(tenant_pk(tenant)))
            .key(SK, s(saving_sk(&entry.month(), &entry.key)))
            .update_expression("SET #c = :c")
            .condition_expression(
                "attribute_exists(#pk) AND #at = :at AND (attribute_not_exists(#c) OR #c.#st = :pending)",
            )
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#at", "realised_at")
            .expression_attribute_names("#c", "confirmation")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":c", attr(confirmation))
            .expression_attribute_values(":at", attr(&entry.realised_at))
            .expression_attribute_values(":pending", attr(&ConfirmationStatus::Pending))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }
}

/// The attributes `open_savings` projects.
#[derive(serde::Deserialize)]
struct OpenRow {
    account_id: AccountId,
    rule: String,
    first_seen: DateTime<Utc>,
    monthly_savings_usd: rust_decimal::Decimal,
}
