//! DynamoDB adapter for the store ports: one table, keys from `keys`, schema from `schema`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, Delete, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    KeysAndAttributes, Projection, ProjectionType, Put, PutRequest, ScalarAttributeType, TimeToLiveSpecification,
    TransactWriteItem, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Utc};
use serde::{de::DeserializeOwned, Serialize};

mod digest;
mod findings;
mod rates;
mod throttle;
mod triage;

use throttle::retry_throttled;
pub use throttle::WriteBudget;

use costradar_core::domain::{Account, AccountId, Tenant, TenantId};
use costradar_core::store::keys::*;
use costradar_core::store::schema::{self, GSI1, GSI1PK, GSI1SK, GSI2PK, GSI2SK, PK, SK, TTL, VERSION};
use costradar_core::store::*;

type Item = HashMap<String, AttributeValue>;

#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// How long a throttled call may be retried (`throttle`); none by default.
    budget: WriteBudget,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// Maps an SDK error to the port's error. Conditional failures are handled by the callers,
/// which know what the condition meant. DynamoDB's validation errors (a key or an item over its
/// size limits, also inside a cancelled transaction) are the request's fault and permanent;
/// everything else here is transient or configuration.
fn unavailable<E, R>(e: aws_sdk_dynamodb::error::SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let text = format!("{}", DisplayErrorContext(&e));
    let invalid = e.code() == Some("ValidationException")
        || (e.code() == Some("TransactionCanceledException") && text.contains("ValidationError"));
    if invalid {
        StoreError::Invalid(text)
    } else {
        StoreError::Unavailable(text)
    }
}

fn is_conditional_failure<E: ProvideErrorMetadata, R>(e: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool {
    e.code() == Some("ConditionalCheckFailedException")
}

fn to_item<T: Serialize>(v: &T) -> Item {
    serde_dynamo::to_item(v).expect("domain types serialise to DynamoDB items")
}

fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into(), budget: WriteBudget::default() }
    }

    /// The receiver's store: throttled calls are retried while `budget` allows (set per request
    /// from the Lambda's deadline), and the SDK's own retries are kept short (2 attempts, 20-200
    /// ms back-off) so that the budget, not the SDK's 1-20 s back-off, bounds the wait.
    pub fn with_request_budget(config: &aws_config::SdkConfig, table: impl Into<String>, budget: WriteBudget) -> Self {
        let retry = aws_sdk_dynamodb::config::retry::RetryConfig::standard()
            .with_max_attempts(2)
            .with_initial_backoff(std::time::Duration::from_millis(20))
            .with_max_backoff(std::time::Duration::from_millis(200));
        let conf = aws_sdk_dynamodb::config::Builder::from(config).retry_config(retry).build();
        Self::new(Client::from_conf(conf), table).with_budget(budget)
    }

    /// Retries throttled calls while `budget` allows (the receiver sets it per request from the
    /// Lambda's deadline).
    pub fn with_budget(mut self, budget: WriteBudget) -> Self {
        self.budget = budget;
        self
    }

    pub fn from_sdk(config: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self::new(Client::new(config), table)
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table from [`schema::TABLE`] (on-demand, TTL on) and waits until it is active.
    /// Used by tests, the local demo and `costradar table create`; production tables come from
    /// `infra/template.yaml`.
    pub async fn create_table(&self) -> Result<(), StoreError> {
        let t = &schema::TABLE;
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder().attribute_name(name).key_type(kind).build().expect("key")
        };
        let mut req = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key(t.hash_key, KeyType::Hash))
            .key_schema(key(t.range_key, KeyType::Range));
        for a in t.attributes {
            req = req.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(a.name)
                    .attribute_type(ScalarAttributeType::from(a.kind))
                    .build()
                    .expect("attribute"),
            );
        }
        for g in t.global_indexes {
            req = req.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(g.name)
                    .key_schema(key(g.hash_key, KeyType::Hash))
                    .key_schema(key(g.range_key, KeyType::Range))
                    .projection(Projection::builder().projection_type(ProjectionType::All).build())
                    .build()
                    .expect("index"),
            );
        }
        req.send().await.map_err(unavailable)?;
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder().attribute_name(t.ttl_attribute).enabled(true).build().expect("ttl"),
            )
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    fn versioned_put(&self, mut item: Item, version: u64) -> Put {
        item.insert(VERSION.into(), n(version + 1));
        let b = Put::builder().table_name(&self.table).set_item(Some(item));
        let b = if version == 0 {
            b.condition_expression("attribute_not_exists(#pk)").expression_attribute_names("#pk", PK)
        } else {
            b.condition_expression("#v = :v")
                .expression_attribute_names("#v", VERSION)
                .expression_attribute_values(":v", n(version))
        };
        b.build().expect("put")
    }

    fn claim_put(&self, pk: String, tenant: &TenantId, allow_same_tenant: bool) -> Put {
        let b = Put::builder()
            .table_name(&self.table)
            .item(PK, s(pk))
            .item(SK, s(CLAIM_SK))
            .item("tenant_id", s(tenant.as_str()))
            .expression_attribute_names("#pk", PK);
        let b = if allow_same_tenant {
            b.condition_expression("attribute_not_exists(#pk) OR tenant_id = :t")
                .expression_attribute_values(":t", s(tenant.as_str()))
        } else {
            b.condition_expression("attribute_not_exists(#pk)")
        };
        b.build().expect("claim")
    }

    /// Runs a transaction; a cancelled one is explained by the index of the first item whose
    /// condition failed.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), Result<usize, StoreError>> {
        let call = || self.client.transact_write_items().set_transact_items(Some(items.clone())).send();
        match retry_throttled(&self.budget, call).await {
            Ok(_) => Ok(()),
            Err(e) => {
                if let Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c)) =
                    e.as_service_error()
                {
                    if let Some(i) = c.cancellation_reasons().iter().position(|r| r.code() == Some("ConditionalCheckFailed")) {
                        return Err(Ok(i));
                    }
                }
                Err(Err(unavailable(e)))
            }
        }
    }

    async fn put_versioned(&self, item: Item, version: u64) -> Result<(), StoreError> {
        let put = self.versioned_put(item, version);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(put.item))
            .set_condition_expression(put.condition_expression)
            .set_expression_attribute_names(put.expression_attribute_names)
            .set_expression_attribute_values(put.expression_attribute_values)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                if is_conditional_failure(&e) {
                    if version == 0 {
                        StoreError::AlreadyExists
                    } else {
                        StoreError::VersionConflict
                    }
                } else {
                    unavailable(e)
                }
            })
    }

    async fn get(&self, pk: String, sk: String) -> Result<Option<Item>, StoreError> {
        let get = self.client.get_item().table_name(&self.table).key(PK, s(pk)).key(SK, s(sk)).consistent_read(true);
        let out = retry_throttled(&self.budget, || get.clone().send()).await.map_err(unavailable)?;
        Ok(out.item)
    }

    /// A consistent query of the partition `pk` (`#p`, `#s` name its keys); callers add the
    /// key condition.
    fn partition_query(&self, pk: &str) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .expression_attribute_names("#p", PK)
            .expression_attribute_names("#s", SK)
            .expression_attribute_values(":p", s(pk))
            .consistent_read(true)
    }

    /// The items of the partition `pk` whose sort key starts with `prefix`.
    fn prefix_query(&self, pk: &str, prefix: &str) -> QueryFluentBuilder {
        self.partition_query(pk)
            .key_condition_expression("#p = :p AND begins_with(#s, :prefix)")
            .expression_attribute_values(":prefix", s(prefix))
    }

    /// Every item of the tenant's partition under `prefix`, all pages.
    async fn query_prefix(&self, pk: &str, prefix: &str) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        let mut pages = self.prefix_query(pk, prefix).into_paginator().items().send();
        while let Some(item) = pages.next().await {
            out.push(item.map_err(unavailable)?);
        }
        Ok(out)
    }

    /// Writes (puts and deletes) 25 at a time, retrying unprocessed items with back-off.
    async fn batch_write(&self, writes: Vec<WriteRequest>) -> Result<(), StoreError> {
        for chunk in writes.chunks(25) {
            let mut request = HashMap::from([(self.table.clone(), chunk.to_vec())]);
            for attempt in 0.. {
                if request.is_empty() {
                    break;
                }
                retry_pause(attempt).await?;
                let call = || self.client.batch_write_item().set_request_items(Some(request.clone())).send();
                let resp = retry_throttled(&self.budget, call).await.map_err(unavailable)?;
                request = resp.unprocessed_items.unwrap_or_default();
            }
        }
        Ok(())
    }

    async fn batch_get(&self, keys: Vec<HashMap<String, AttributeValue>>) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        for chunk in keys.chunks(100) {
            let ka = KeysAndAttributes::builder()
                .set_keys(Some(chunk.to_vec()))
                .consistent_read(true)
                .build()
                .expect("keys");
            let mut request = HashMap::from([(self.table.clone(), ka)]);
            for attempt in 0.. {
                if request.is_empty() {
                    break;
                }
                retry_pause(attempt).await?;
                let resp =
                    self.client.batch_get_item().set_request_items(Some(request)).send().await.map_err(unavailable)?;
                out.extend(resp.responses.unwrap_or_default().remove(&self.table).unwrap_or_default());
                request = resp.unprocessed_keys.unwrap_or_default();
            }
        }
        Ok(out)
    }
}

/// A finding's item: its keys, and its two index keys (GSI1 by first sighting, GSI2 by saving),
/// written on every finding write so the findings API's pages stay one Query.
fn finding_item(tenant: &TenantId, f: &costradar_core::domain::finding::Finding) -> Item {
    let mut item = to_item(f);
    let index_pk = finding_index_pk(tenant, &f.key());
    item.insert(PK.into(), s(finding_pk(tenant, &f.key())));
    item.insert(SK.into(), s(finding_sk(&f.key())));
    item.insert(GSI1PK.into(), s(&index_pk));
    item.insert(GSI1SK.into(), s(time_sk(f.first_seen, &f.key())));
    item.insert(GSI2PK.into(), s(index_pk));
    item.insert(GSI2SK.into(), s(savings_sk(f)));
    item
}

fn key(pk: &str, sk: String) -> Item {
    HashMap::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
}

fn put(item: Item) -> WriteRequest {
    WriteRequest::builder().put_request(PutRequest::builder().set_item(Some(item)).build().expect("put")).build()
}

/// Before attempt `n` of a batch retry: nothing for the first, then 50 ms doubling; gives up
/// after 6 attempts.
async fn retry_pause(attempt: u32) -> Result<(), StoreError> {
    match attempt {
        0 => Ok(()),
        1..=5 => {
            tokio::time::sleep(std::time::Duration::from_millis(50 << (attempt - 1))).await;
            Ok(())
        }
        _ => Err(StoreError::Unavailable("batch items still unprocessed after 6 attempts".into())),
    }
}

fn conflict_for(version: u64) -> StoreError {
    if version == 0 {
        StoreError::AlreadyExists
    } else {
        StoreError::VersionConflict
    }
}

fn cursor_value(lek: Option<&Item>, attr: &str, prefix: &str) -> Option<String> {
    let v = lek?.get(attr)?.as_s().ok()?;
    Some(encode_cursor(v.strip_prefix(prefix).unwrap_or(v)))
}

#[async_trait]
impl TenantStore for DynamoStore {
    async fn save_tenant(&self, tenant: &mut Tenant) -> Result<(), StoreError> {
        let mut item = to_item(&*tenant);
        item.insert(PK.into(), s(registry_pk(&tenant.id)));
        item.insert(SK.into(), s(TENANT_META));
        item.insert(GSI1PK.into(), s(TENANTS_GSI_PK));
        item.insert(GSI1SK.into(), s(tenant.id.as_str()));
        if tenant.version == 0 {
            let items = vec![
                TransactWriteItem::builder().put(self.versioned_put(item, 0)).build(),
                TransactWriteItem::builder()
                    .put(self.claim_put(external_id_claim_pk(tenant.external_id.as_str()), &tenant.id, false))
                    .build(),
            ];
            match self.transact(items).await {
                Ok(()) => {}
                Err(Ok(0)) => return Err(StoreError::AlreadyExists),
                Err(Ok(_)) => return Err(StoreError::ExternalIdTaken),
                Err(Err(e)) => return Err(e),
            }
        } else {
            self.put_versioned(item, tenant.version).await?;
        }
        tenant.version += 1;
        Ok(())
    }

    async fn get_tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        self.get(registry_pk(id), TENANT_META.into()).await?.map(from_item).transpose()
    }

    async fn list_tenants(&self, req: &PageRequest) -> Result<Page<Tenant>, StoreError> {
        let limit = req.limit().map_err(|_| StoreError::InvalidCursor)?;
        let start = req.cursor.as_deref().map(|c| decode_cursor(c, |s| TenantId::parse(s).ok())).transpose()?;
        let mut q = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("#p = :p")
            .expression_attribute_names("#p", GSI1PK)
            .expression_attribute_values(":p", s(TENANTS_GSI_PK))
            .limit(limit as i32);
        if let Some(id) = start {
            q = q
                .exclusive_start_key(GSI1PK, s(TENANTS_GSI_PK))
                .exclusive_start_key(GSI1SK, s(id.as_str()))
                .exclusive_start_key(PK, s(registry_pk(&id)))
                .exclusive_start_key(SK, s(TENANT_META));
        }
        let out = q.send().await.map_err(unavailable)?;
        let next_cursor = cursor_value(out.last_evaluated_key(), GSI1SK, "");
        let items = out.items.unwrap_or_default().into_iter().map(from_item).collect::<Result<_, _>>()?;
        Ok(Page { items, next_cursor })
    }

    async fn expire_tenant_data(&self, id: &TenantId, at: DateTime<Utc>) -> Result<usize, StoreError> {
        let mut keys = Vec::new();
        // The tenant's partition, its shards (`keys::shard_pks`) and its registry.
        for pk in [tenant_pk(id), registry_pk(id)].into_iter().chain(shard_pks(id)) {
            let mut pages = self
                .partition_query(&pk)
                .key_condition_expression("#p = :p")
                .projection_expression("#p, #s")
                .into_paginator()
                .items()
                .send();
            while let Some(item) = pages.next().await {
                keys.push(item.map_err(unavailable)?);
            }
        }
        for key in &keys {
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key.clone()))
                .update_expression("SET #ttl = :t")
                .expression_attribute_names("#ttl", TTL)
                .expression_attribute_values(":t", n(at.timestamp()))
                .send()
                .await
                .map_err(unavailable)?;
        }
        Ok(keys.len())
    }
}

#[async_trait]
impl AccountStore for DynamoStore {
    async fn save_account(&self, account: &mut Account, claim: Claim) -> Result<(), StoreError> {
        let item = to_account_item(account);
        let version = account.version;
        let claim_pk = account_claim_pk(&account.account_id);
        let claim_item = match claim {
            Claim::Keep => None,
            Claim::Acquire => {
                Some(TransactWriteItem::builder().put(self.claim_put(claim_pk, &account.tenant_id, true)).build())
            }
            Claim::Release => Some(
                TransactWriteItem::builder()
                    .delete(
                        Delete::builder()
                            .table_name(&self.table)
                            .key(PK, s(claim_pk))
                            .key(SK, s(CLAIM_SK))
                            .condition_expression("attribute_not_exists(#pk) OR tenant_id = :t")
                            .expression_attribute_names("#pk", PK)
                            .expression_attribute_values(":t", s(account.tenant_id.as_str()))
                            .build()
                            .expect("delete"),
                    )
                    .build(),
            ),
        };
        match claim_item {
            None => self.put_versioned(item, version).await?,
            Some(c) => {
                let items = vec![TransactWriteItem::builder().put(self.versioned_put(item, version)).build(), c];
                match self.transact(items).await {
                    Ok(()) => {}
                    Err(Ok(0)) => return Err(conflict_for(version)),
                    Err(Ok(_)) if claim == Claim::Acquire => return Err(StoreError::AccountClaimedByAnotherTenant),
                    // Releasing a claim another tenant holds: the account is ours to save, the
                    // claim is not ours to drop.
                    Err(Ok(_)) => self.put_versioned(to_account_item(account), version).await?,
                    Err(Err(e)) => return Err(e),
                }
            }
        }
        account.version += 1;
        Ok(())
    }

    async fn get_account(&self, tenant: &TenantId, account: &AccountId) -> Result<Option<Account>, StoreError> {
        self.get(registry_pk(tenant), account_sk(account)).await?.map(from_item).transpose()
    }

    async fn list_accounts(&self, tenant: &TenantId, req: &PageRequest) -> Result<Page<Account>, StoreError> {
        let limit = req.limit().map_err(|_| StoreError::InvalidCursor)?;
        let start = req.cursor.as_deref().map(|c| decode_cursor(c, |s| AccountId::parse(s).ok())).transpose()?;
        let pk = registry_pk(tenant);
        let mut q = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#p = :p AND begins_with(#s, :prefix)")
            .expression_attribute_names("#p", PK)
            .expression_attribute_names("#s", SK)
            .expression_attribute_values(":p", s(&pk))
            .expression_attribute_values(":prefix", s(ACCOUNT_PREFIX))
            .consistent_read(true)
            .limit(limit as i32);
        if let Some(a) = start {
            q = q.exclusive_start_key(PK, s(&pk)).exclusive_start_key(SK, s(account_sk(&a)));
        }
        let out = q.send().await.map_err(unavailable)?;
        let next_cursor = cursor_value(out.last_evaluated_key(), SK, ACCOUNT_PREFIX);
        let items = out.items.unwrap_or_default().into_iter().map(from_item).collect::<Result<_, _>>()?;
        Ok(Page { items, next_cursor })
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
            .map(|c| decode_cursor(c, |v| parse_due_index_sk(v).map(|k| (v.to_owned(), k))))
            .transpose()?;
        let pk = due_index_pk(shard);
        let mut q = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("#p = :p AND #s < :bound")
            .expression_attribute_names("#p", GSI1PK)
            .expression_attribute_names("#s", GSI1SK)
            .expression_attribute_values(":p", s(&pk))
            .expression_attribute_values(":bound", s(due_index_bound(now)))
            .limit(limit as i32);
        if let Some((sk, (t, a))) = after {
            q = q
                .exclusive_start_key(GSI1PK, s(&pk))
                .exclusive_start_key(GSI1SK, s(sk))
                .exclusive_start_key(PK, s(registry_pk(&t)))
                .exclusive_start_key(SK, s(account_sk(&a)));
        }
        let out = q.send().await.map_err(unavailable)?;
        let next_cursor = cursor_value(out.last_evaluated_key(), GSI1SK, "");
        let items = out.items.unwrap_or_default().into_iter().map(from_item).collect::<Result<_, _>>()?;
        Ok(Page { items, next_cursor })
    }
}

/// The account's item: its registry keys and, while it is active, its due-index entry
/// (`keys::due_index_keys`); a whole-item put, so an inactive account's entry is dropped.
fn to_account_item(account: &Account) -> Item {
    let mut item = to_item(account);
    item.insert(PK.into(), s(registry_pk(&account.tenant_id)));
    item.insert(SK.into(), s(account_sk(&account.account_id)));
    if let Some((pk, sk)) = due_index_keys(account) {
        item.insert(GSI1PK.into(), s(pk));
        item.insert(GSI1SK.into(), s(sk));
    }
    item
}

#[async_trait]
impl RequestLedger for DynamoStore {
    async fn begin_request(
        &self,
        tenant: &TenantId,
        request_id: &str,
        now: DateTime<Utc>,
        stale_after: chrono::Duration,
    ) -> Result<RequestState, StoreError> {
        let pk = tenant_pk(tenant);
        let sk = request_sk(request_id);
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(PK, s(&pk))
            .item(SK, s(&sk))
            .item("started_at", n(now.timestamp()))
            .item(TTL, n((now + chrono::Duration::days(7)).timestamp()))
            .condition_expression("attribute_not_exists(#pk) OR (attribute_not_exists(#r) AND started_at < :stale)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#r", "response")
            .expression_attribute_values(":stale", n((now - stale_after).timestamp()))
            .send()
            .await;
        match put {
            Ok(_) => Ok(RequestState::Started),
            Err(e) if is_conditional_failure(&e) => {
                let item = self.get(pk, sk).await?.unwrap_or_default();
                Ok(match item.get("response").and_then(|v| v.as_s().ok()) {
                    Some(r) => RequestState::Done(r.clone()),
                    None => RequestState::InProgress,
                })
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn finish_request(
        &self,
        tenant: &TenantId,
        request_id: &str,
        response: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(tenant_pk(tenant)))
            .key(SK, s(request_sk(request_id)))
            .update_expression("SET #r = :r, #ttl = if_not_exists(#ttl, :ttl)")
            .expression_attribute_names("#r", "response")
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":r", s(response))
            .expression_attribute_values(":ttl", n((now + chrono::Duration::days(7)).timestamp()))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn abandon_request(&self, tenant: &TenantId, request_id: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(tenant_pk(tenant)))
            .key(SK, s(request_sk(request_id)))
            .condition_expression("attribute_not_exists(#r)")
            .expression_attribute_names("#r", "response")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_conditional_failure(&e) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn unproved_count(&self, tenant: &TenantId, hour: i64) -> Result<u32, StoreError> {
        let item = self.get(tenant_pk(tenant), unproved_sk(hour)).await?;
        let count = item.as_ref().and_then(|i| i.get("count")).and_then(|v| v.as_n().ok()?.parse().ok());
        Ok(count.unwrap_or(0))
    }

    async fn count_unproved(&self, tenant: &TenantId, hour: i64) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(tenant_pk(tenant)))
            .key(SK, s(unproved_sk(hour)))
            .update_expression("ADD #c :one SET #ttl = :ttl")
            .expression_attribute_names("#c", "count")
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":ttl", n(hour + 86_400))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

#[async_trait]
impl EventStore for DynamoStore {
    async fn record_event(
        &self,
        tenant: &TenantId,
        event_id: &str,
        event: &serde_json::Value,
        finding: Option<&costradar_core::domain::finding::Finding>,
        expires_at: DateTime<Utc>,
    ) -> Result<Recorded, StoreError> {
        let event_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(event_item(tenant, event_id, event, expires_at)))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .build()
            .expect("put");
        let Some(f) = finding else {
            // Most events open no finding: one conditional put, half the cost of a transaction.
            let call = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(event_put.item))
                .set_condition_expression(event_put.condition_expression)
                .set_expression_attribute_names(event_put.expression_attribute_names);
            let put = retry_throttled(&self.budget, || call.clone().send()).await;
            return match put {
                Ok(_) => Ok(Recorded::New),
                Err(e) if is_conditional_failure(&e) => Ok(Recorded::Duplicate),
                Err(e) => Err(unavailable(e)),
            };
        };
        let mut f = f.clone();
        if let Some(old) = self.get_finding(tenant, &f.key()).await? {
            f.first_seen = old.first_seen;
            costradar_core::store::findings::keep_user_state(&mut f, &old);
        }
        let item = finding_item(tenant, &f);
        let items = vec![
            TransactWriteItem::builder().put(event_put).build(),
            TransactWriteItem::builder()
                .put(Put::builder().table_name(&self.table).set_item(Some(item)).build().expect("put"))
                .build(),
        ];
        match self.transact(items).await {
            Ok(()) => Ok(Recorded::New),
            Err(Ok(0)) => Ok(Recorded::Duplicate),
            Err(Ok(_)) => Err(StoreError::Unavailable("unexpected conditional failure on a finding".into())),
            Err(Err(e)) => Err(e),
        }
    }

    async fn get_event(&self, tenant: &TenantId, event_id: &str) -> Result<Option<serde_json::Value>, StoreError> {
        let Some(mut item) = self.get(event_pk(tenant, event_id), event_sk(event_id)).await? else { return Ok(None) };
        let text = item.remove("event").and_then(|v| v.as_s().ok().cloned());
        let text = text.ok_or_else(|| StoreError::Corrupt("event item without its event".into()))?;
        serde_json::from_str(&text).map(Some).map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    async fn get_finding(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> Result<Option<costradar_core::domain::finding::Finding>, StoreError> {
        self.get(finding_pk(tenant, key), finding_sk(key)).await?.map(from_item).transpose()
    }

    async fn list_events(
        &self,
        tenant: &TenantId,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> Result<Page<serde_json::Value>, StoreError> {
        self.events_page(tenant, filter, page).await
    }

    async fn instance_types(
        &self,
        tenant: &TenantId,
        account: &AccountId,
        ids: &[String],
    ) -> Result<HashMap<String, String>, StoreError> {
        // BatchGetItem rejects repeated keys.
        let by_sk: HashMap<String, &String> = ids.iter().map(|id| (instance_sk(account, id), id)).collect();
        let keys = by_sk.iter().map(|(sk, id)| key(&instance_pk(tenant, account, id), sk.clone())).collect();
        let items = self.batch_get(keys).await?;
        Ok(items
            .iter()
            .filter_map(|item| {
                let id = by_sk.get(item.get(SK)?.as_s().ok()?)?;
                let t = item.get("instance_type")?.as_s().ok()?;
                Some(((*id).clone(), t.clone()))
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
        let writes = types
            .iter()
            .map(|(id, t)| {
                put(Item::from([
                    (PK.to_owned(), s(instance_pk(tenant, account, id))),
                    (SK.to_owned(), s(instance_sk(account, id))),
                    ("instance_type".to_owned(), s(t)),
                    (TTL.to_owned(), n(expires_at.timestamp())),
                ]))
            })
            .collect();
        self.batch_write(writes).await
    }
}

/// An event's item: the exact JSON text (an audit record, never queried inside), and, for the
/// events page, its GSI1 keys (by `received_at`) and its account and kind as attributes to
/// filter on.
fn event_item(tenant: &TenantId, event_id: &str, event: &serde_json::Value, expires_at: DateTime<Utc>) -> Item {
    let mut item = key(&event_pk(tenant, event_id), event_sk(event_id));
    item.insert("event".into(), s(event.to_string()));
    item.insert(TTL.into(), n(expires_at.timestamp()));
    if let Some(sk) = costradar_core::store::triage::event_time_sk(event_id, event) {
        item.insert(GSI1PK.into(), s(event_index_pk(tenant, event_id)));
        item.insert(GSI1SK.into(), s(sk));
    }
    for (attr, field) in [("account_id", "account"), ("kind", "kind")] {
        if let Some(v) = event.get(field).and_then(|v| v.as_str()) {
            item.insert(attr.into(), s(v));
        }
    }
    item
}

#[async_trait]
impl NotificationOutbox for DynamoStore {
    async fn save_pending(
        &self,
        tenant: &TenantId,
        pending: &PendingNotification,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut item = to_item(pending);
        item.insert(PK.to_owned(), s(tenant_pk(tenant)));
        item.insert(SK.to_owned(), s(notify_sk(&pending.event_id, &pending.target)));
        item.insert(TTL.to_owned(), n(expires_at.timestamp()));
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(unavailable)?;
        Ok(())
    }

    async fn list_pending(&self, tenant: &TenantId, limit: u32) -> Result<Vec<PendingNotification>, StoreError> {
        let resp = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(tenant_pk(tenant)))
            .expression_attribute_values(":prefix", s(NOTIFY_PREFIX))
            .limit(limit.min(MAX_PAGE) as i32)
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        resp.items.unwrap_or_default().into_iter().map(from_item).collect()
    }

    async fn delete_pending(&self, tenant: &TenantId, event_id: &str, target: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(tenant_pk(tenant)))
            .key(SK, s(notify_sk(event_id, target)))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

#[async_trait]
impl RateStore for DynamoStore {
    async fn save_rates(
        &self,
        scope: RateScope<'_>,
        rates: &costradar_core::pricing::RateTable,
    ) -> Result<(), StoreError> {
        self.save_rate_table(scope, rates).await
    }

    async fn get_rates(&self, scope: RateScope<'_>) -> Result<costradar_core::pricing::RateTable, StoreError> {
        self.all_rate_tables(scope).await
    }

    async fn get_region_rates(
        &self,
        scope: RateScope<'_>,
        region: &str,
    ) -> Result<costradar_core::pricing::RateTable, StoreError> {
        self.region_rate_table(scope, region).await
    }
}
