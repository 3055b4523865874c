//! In-memory adapter: the same keys, conditions, version checks and page semantics as the
//! DynamoDB adapter, for unit tests and the embedded default. `set_unavailable` injects the
//! failure a throttled or unreachable table would give.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

mod digest;
mod findings;
mod triage;

use super::keys::*;
use super::*;
use crate::domain::{Account, AccountId, Tenant, TenantId};
use crate::pricing::sku::family;

/// Items by (PK, SK), as the table keys them.
type Items = BTreeMap<(String, String), Item>;

#[derive(Clone, Debug)]
struct Item {
    body: Value,
    version: u64,
    expires_at: Option<i64>,
}

#[derive(Default)]
pub struct MemoryStore {
    items: Mutex<Items>,
    unavailable: AtomicBool,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// While set, every call fails with [`StoreError::Unavailable`] and changes nothing.
    pub fn set_unavailable(&self, on: bool) {
        self.unavailable.store(on, Ordering::SeqCst);
    }

    /// Number of items, for tests that assert "nothing changed".
    pub fn item_count(&self) -> usize {
        self.items.lock().unwrap().len()
    }

    /// A copy of every item, for tests that compare whole states.
    pub fn snapshot(&self) -> Vec<(String, String, Value, u64)> {
        self.items
            .lock()
            .unwrap()
            .iter()
            .map(|((pk, sk), i)| (pk.clone(), sk.clone(), i.body.clone(), i.version))
            .collect()
    }

    fn guard(&self) -> Result<std::sync::MutexGuard<'_, Items>, StoreError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("injected failure".into()));
        }
        Ok(self.items.lock().unwrap())
    }
}

fn to_body<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("domain types serialise")
}

fn from_body<T: DeserializeOwned>(v: &Value) -> Result<T, StoreError> {
    serde_json::from_value(v.clone()).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn check_version(
    items: &BTreeMap<(String, String), Item>,
    key: &(String, String),
    version: u64,
) -> Result<(), StoreError> {
    match (items.get(key), version) {
        (None, 0) => Ok(()),
        (Some(_), 0) => Err(StoreError::AlreadyExists),
        (Some(i), v) if i.version == v => Ok(()),
        _ => Err(StoreError::VersionConflict),
    }
}

/// A page of `items` (already in key order) after `start`, DynamoDB style: a cursor whenever
/// the page is full.
fn page<T>(all: Vec<(String, T)>, limit: u32, cursor_of: impl Fn(&str) -> String) -> Page<T> {
    let mut items = Vec::new();
    let mut last = None;
    for (k, v) in all.into_iter().take(limit as usize) {
        last = Some(k);
        items.push(v);
    }
    let next_cursor = if items.len() == limit as usize { last.map(|k| cursor_of(&k)) } else { None };
    Page { items, next_cursor }
}

#[async_trait]
impl TenantStore for MemoryStore {
    async fn save_tenant(&self, tenant: &mut Tenant) -> Result<(), StoreError> {
        let mut items = self.guard()?;
        let key = (registry_pk(&tenant.id), TENANT_META.to_owned());
        check_version(&items, &key, tenant.version)?;
        let claim = (external_id_claim_pk(tenant.external_id.as_str()), CLAIM_SK.to_owned());
        if tenant.version == 0 && items.contains_key(&claim) {
            return Err(StoreError::ExternalIdTaken);
        }
        let new_version = tenant.version + 1;
        let mut stored = tenant.clone();
        stored.version = new_version;
        if tenant.version == 0 {
            items.insert(
                claim,
                Item { body: serde_json::json!({ "tenant_id": tenant.id }), version: 1, expires_at: None },
            );
        }
        items.insert(key, Item { body: to_body(&stored), version: new_version, expires_at: None });
        tenant.version = new_version;
        Ok(())
    }

    async fn get_tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        let items = self.guard()?;
        items.get(&(registry_pk(id), TENANT_META.to_owned())).map(|i| from_body(&i.body)).transpose()
    }

    async fn list_tenants(&self, req: &PageRequest) -> Result<Page<Tenant>, StoreError> {
        let limit = req.limit().map_err(|_| StoreError::InvalidCursor)?;
        let start = req.cursor.as_deref().map(|c| decode_cursor(c, |s| TenantId::parse(s).ok())).transpose()?;
        let items = self.guard()?;
        let mut all = Vec::new();
        for ((_, sk), item) in items.iter() {
            if sk != TENANT_META {
                continue;
            }
            let t: Tenant = from_body(&item.body)?;
            if start.as_ref().is_none_or(|s| &t.id > s) {
                all.push((t.id.to_string(), t));
            }
        }
        all.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(page(all, limit, encode_cursor))
    }

    async fn expire_tenant_data(&self, id: &TenantId, at: DateTime<Utc>) -> Result<usize, StoreError> {
        let mut items = self.guard()?;
        let pks = [tenant_pk(id), registry_pk(id)];
        let mut n = 0;
        for ((p, _), item) in items.iter_mut() {
            if pks.contains(p) {
                item.expires_at = Some(at.timestamp());
                n += 1;
            }
        }
        Ok(n)
    }
}

#[async_trait]
impl AccountStore for MemoryStore {
    async fn save_account(&self, account: &mut Account, claim: Claim) -> Result<(), StoreError> {
        let mut items = self.guard()?;
        let key = (registry_pk(&account.tenant_id), account_sk(&account.account_id));
        check_version(&items, &key, account.version)?;
        let claim_key = (account_claim_pk(&account.account_id), CLAIM_SK.to_owned());
        let owner =
            items.get(&claim_key).and_then(|i| i.body.get("tenant_id").and_then(Value::as_str).map(str::to_owned));
        let mine = owner.as_deref() == Some(account.tenant_id.as_str());
        match claim {
            Claim::Acquire if owner.is_some() && !mine => return Err(StoreError::AccountClaimedByAnotherTenant),
            Claim::Acquire => {
                items.insert(
                    claim_key,
                    Item { body: serde_json::json!({ "tenant_id": account.tenant_id }), version: 1, expires_at: None },
                );
            }
            Claim::Release if mine || owner.is_none() => {
                items.remove(&claim_key);
            }
            Claim::Release | Claim::Keep => {}
        }
        let new_version = account.version + 1;
        let mut stored = account.clone();
        stored.version = new_version;
        items.insert(key, Item { body: to_body(&stored), version: new_version, expires_at: None });
        account.version = new_version;
        Ok(())
    }

    async fn get_account(&self, tenant: &TenantId, account: &AccountId) -> Result<Option<Account>, StoreError> {
        let items = self.guard()?;
        items.get(&(registry_pk(tenant), account_sk(account))).map(|i| from_body(&i.body)).transpose()
    }

    async fn list_accounts(&self, tenant: &TenantId, req: &PageRequest) -> Result<Page<Account>, StoreError> {
        let limit = req.limit().map_err(|_| StoreError::InvalidCursor)?;
        let start = req.cursor.as_deref().map(|c| decode_cursor(c, |s| AccountId::parse(s).ok())).transpose()?;
        let items = self.guard()?;
        let pk = registry_pk(tenant);
        let from = match &start {
            Some(a) => std::ops::Bound::Excluded((pk.clone(), account_sk(a))),
            None => std::ops::Bound::Included((pk.clone(), ACCOUNT_PREFIX.to_owned())),
        };
        let mut all = Vec::new();
        for ((p, sk), item) in items.range((from, std::ops::Bound::Unbounded)) {
            if *p != pk || !sk.starts_with(ACCOUNT_PREFIX) {
                break;
            }
            let a: Account = from_body(&item.body)?;
            all.push((a.account_id.to_string(), a));
        }
        Ok(page(all, limit, encode_cursor))
    }

    async fn list_due_accounts(
        &self,
        shard: u32,
        now: DateTime<Utc>,
        req: &PageRequest,
    ) -> Result<Page<Account>, StoreError> {
        let limit = req.limit().map_err(|_| StoreError::InvalidCursor)?;
        let after = req
            .cursor
            .as_deref()
            .map(|c| decode_cursor(c, |s| parse_due_index_sk(s).map(|_| s.to_owned())))
            .transpose()?;
        let (pk, bound) = (due_index_pk(shard), due_index_bound(now));
        let items = self.guard()?;
        let mut all = Vec::new();
        for ((_, sk), item) in items.iter() {
            if !sk.starts_with(ACCOUNT_PREFIX) {
                continue;
            }
            let a: Account = from_body(&item.body)?;
            match due_index_keys(&a) {
                Some((p, s)) if p == pk && s < bound && after.as_ref().is_none_or(|c| &s > c) => all.push((s, a)),
                _ => {}
            }
        }
        all.sort_by(|x, y| x.0.cmp(&y.0));
        Ok(page(all, limit, encode_cursor))
    }
}

#[async_trait]
impl RequestLedger for MemoryStore {
    async fn begin_request(
        &self,
        tenant: &TenantId,
        request_id: &str,
        now: DateTime<Utc>,
        stale_after: chrono::Duration,
    ) -> Result<RequestState, StoreError> {
        let mut items = self.guard()?;
        let key = (tenant_pk(tenant), request_sk(request_id));
        if let Some(item) = items.get(&key) {
            if let Some(resp) = item.body.get("response").and_then(Value::as_str) {
                return Ok(RequestState::Done(resp.to_owned()));
            }
            let started = item.body.get("started_at").and_then(Value::as_i64).unwrap_or(0);
            if started >= (now - stale_after).timestamp() {
                return Ok(RequestState::InProgress);
            }
        }
        let version = items.get(&key).map_or(1, |i| i.version + 1);
        items.insert(
            key,
            Item {
                body: serde_json::json!({ "started_at": now.timestamp() }),
                version,
                expires_at: Some((now + chrono::Duration::days(7)).timestamp()),
            },
        );
        Ok(RequestState::Started)
    }

    async fn finish_request(
        &self,
        tenant: &TenantId,
        request_id: &str,
        response: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut items = self.guard()?;
        let key = (tenant_pk(tenant), request_sk(request_id));
        let item = items.entry(key).or_insert(Item { body: serde_json::json!({}), version: 0, expires_at: None });
        item.body["response"] = Value::String(response.to_owned());
        item.expires_at.get_or_insert((now + chrono::Duration::days(7)).timestamp());
        item.version += 1;
        Ok(())
    }

    async fn abandon_request(&self, tenant: &TenantId, request_id: &str) -> Result<(), StoreError> {
        let mut items = self.guard()?;
        let key = (tenant_pk(tenant), request_sk(request_id));
        if items.get(&key).is_some_and(|i| i.body.get("response").is_none()) {
            items.remove(&key);
        }
        Ok(())
    }

    async fn unproved_count(&self, tenant: &TenantId, hour: i64) -> Result<u32, StoreError> {
        let items = self.guard()?;
        let count = items.get(&(tenant_pk(tenant), unproved_sk(hour))).and_then(|i| i.body["count"].as_u64());
        Ok(count.unwrap_or(0) as u32)
    }

    async fn count_unproved(&self, tenant: &TenantId, hour: i64) -> Result<(), StoreError> {
        let mut items = self.guard()?;
        let item = items.entry((tenant_pk(tenant), unproved_sk(hour))).or_insert(Item {
            body: serde_json::json!({ "count": 0 }),
            version: 0,
            expires_at: Some(hour + 86_400),
        });
        item.body["count"] = (item.body["count"].as_u64().unwrap_or(0) + 1).into();
        item.version += 1;
        Ok(())
    }
}

#[async_trait]
impl EventStore for MemoryStore {
    async fn record_event(
        &self,
        tenant: &TenantId,
        event_id: &str,
        event: &Value,
        finding: Option<&crate::domain::finding::Finding>,
        expires_at: DateTime<Utc>,
    ) -> Result<Recorded, StoreError> {
        let mut items = self.guard()?;
        let pk = tenant_pk(tenant);
        let key = (pk.clone(), event_sk(event_id));
        if items.contains_key(&key) {
            return Ok(Recorded::Duplicate);
        }
        items.insert(key, Item { body: event.clone(), version: 1, expires_at: Some(expires_at.timestamp()) });
        if let Some(f) = finding {
            let fkey = (pk, finding_sk(&f.key()));
            let mut f = f.clone();
            if let Some(old) = items.get(&fkey) {
                let old: crate::domain::finding::Finding = from_body(&old.body)?;
                f.first_seen = old.first_seen;
                super::findings::keep_user_state(&mut f, &old);
            }
            let version = items.get(&fkey).map_or(1, |i| i.version + 1);
            items.insert(fkey, Item { body: to_body(&f), version, expires_at: None });
        }
        Ok(Recorded::New)
    }

    async fn get_event(&self, tenant: &TenantId, event_id: &str) -> Result<Option<Value>, StoreError> {
        Ok(self.guard()?.get(&(tenant_pk(tenant), event_sk(event_id))).map(|i| i.body.clone()))
    }

    async fn list_events(
        &self,
        tenant: &TenantId,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> Result<Page<Value>, StoreError> {
        self.events_page(tenant, filter, page)
    }

    async fn get_finding(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> Result<Option<crate::domain::finding::Finding>, StoreError> {
        self.guard()?.get(&(tenant_pk(tenant), finding_sk(key))).map(|i| from_body(&i.body)).transpose()
    }

    async fn instance_types(
        &self,
        tenant: &TenantId,
        account: &AccountId,
        ids: &[String],
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        let items = self.guard()?;
        let pk = tenant_pk(tenant);
        Ok(ids
            .iter()
            .filter_map(|id| {
                let t =
                    items.get(&(pk.clone(), instance_sk(account, id)))?.body.get("instance_type")?.as_str()?.to_owned();
                Some((id.clone(), t))
            })
            .collect())
    }

    async fn remember_instance_types(
        &self,
        tenant: &TenantId,
        account: &AccountId,
        types: &[(String, String)],
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut items = self.guard()?;
        for (id, t) in types {
            items.insert(
                (tenant_pk(tenant), instance_sk(account, id)),
                Item {
                    body: serde_json::json!({ "instance_type": t }),
                    version: 1,
                    expires_at: Some(expires_at.timestamp()),
                },
            );
        }
        Ok(())
    }
}

#[async_trait]
impl NotificationOutbox for MemoryStore {
    async fn save_pending(
        &self,
        tenant: &TenantId,
        pending: &PendingNotification,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let key = (tenant_pk(tenant), notify_sk(&pending.event_id, &pending.target));
        let item = Item { body: to_body(pending), version: 1, expires_at: Some(expires_at.timestamp()) };
        self.guard()?.insert(key, item);
        Ok(())
    }

    async fn list_pending(&self, tenant: &TenantId, limit: u32) -> Result<Vec<PendingNotification>, StoreError> {
        let pk = tenant_pk(tenant);
        self.guard()?
            .range((pk.clone(), NOTIFY_PREFIX.to_owned())..)
            .take_while(|((p, sk), _)| *p == pk && sk.starts_with(NOTIFY_PREFIX))
            .take(limit as usize)
            .map(|(_, i)| from_body(&i.body))
            .collect()
    }

    async fn delete_pending(&self, tenant: &TenantId, event_id: &str, target: &str) -> Result<(), StoreError> {
        self.guard()?.remove(&(tenant_pk(tenant), notify_sk(event_id, target)));
        Ok(())
    }
}

#[async_trait]
impl RateStore for MemoryStore {
    async fn save_rates(&self, scope: RateScope<'_>, rates: &crate::pricing::RateTable) -> Result<(), StoreError> {
        let mut items = self.guard()?;
        for (region, fresh) in rates.split_by_region() {
            // Per family, as the DynamoDB store keeps it: a family's rates replace that family's.
            let key = (rates_pk(scope), rates_sk(&region));
            let families: std::collections::HashSet<String> =
                fresh.region_rates(&region).map(|(k, _)| family(k).to_owned()).collect();
            let mut merged = crate::pricing::RateTable::default();
            if let Some(old) = items.get(&key) {
                let old: crate::pricing::RateTable = from_body(&old.body)?;
                for (k, r) in old.region_rates(&region).filter(|(k, _)| !families.contains(family(k))) {
                    merged.insert_key(&region, k.to_owned(), r.clone());
                }
            }
            merged.extend(fresh);
            items.insert(key, Item { body: to_body(&merged), version: 1, expires_at: None });
        }
        Ok(())
    }

    async fn get_region_rates(
        &self,
        scope: RateScope<'_>,
        region: &str,
    ) -> Result<crate::pricing::RateTable, StoreError> {
        match self.guard()?.get(&(rates_pk(scope), rates_sk(region))) {
            Some(i) => from_body(&i.body),
            None => Ok(crate::pricing::RateTable::default()),
        }
    }

    async fn get_rates(&self, scope: RateScope<'_>) -> Result<crate::pricing::RateTable, StoreError> {
        let pk = rates_pk(scope);
        let mut all = crate::pricing::RateTable::default();
        for (_, i) in self
            .guard()?
            .range((pk.clone(), RATES_PREFIX.to_owned())..)
            .take_while(|((p, sk), _)| *p == pk && sk.starts_with(RATES_PREFIX))
        {
            all.extend(from_body::<crate::pricing::RateTable>(&i.body)?);
        }
        Ok(all)
    }
}
