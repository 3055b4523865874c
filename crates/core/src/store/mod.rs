//! The `Store` port: small traits, one per kind of item, with a DynamoDB adapter
//! (`costradar_aws::dynamodb`) and an in-memory adapter (`memory`: tests, and the CLI's local
//! scans) that behave the same (conditional-write failures, pagination), as the store contract
//! tests check. The key
//! design is in `keys` and `schema`.
//!
//! Versioning: every item carries `version`. Saving an item whose `version` is 0 creates it and
//! fails with [`StoreError::AlreadyExists`] if it exists; saving version `n` succeeds only if the
//! stored version is still `n`, else [`StoreError::VersionConflict`]. On success the adapter
//! sets the caller's copy to the stored version.

pub mod digest;
pub mod findings;
pub mod keys;
pub mod memory;
pub mod schema;
pub mod triage;

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::{Account, AccountId, InvalidInput, Tenant, TenantId};

pub use digest::DigestLedger;
pub use findings::{valid_run_id, FindingStore, ObservationStore, ResolveScope, RunStore, UpsertSummary};
pub use memory::MemoryStore;
pub use triage::{EventFilter, FindingFilter, FindingSort, FindingUpdate, OpenSaving, TriageStore};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("the item already exists")]
    AlreadyExists,
    #[error("the item changed since it was read")]
    VersionConflict,
    #[error("the item does not exist")]
    NotFound,
    #[error("the AWS account is connected to another tenant")]
    AccountClaimedByAnotherTenant,
    #[error("the ExternalId is already in use")]
    ExternalIdTaken,
    #[error("invalid page cursor")]
    InvalidCursor,
    /// Transient: throttling, a network error, the table missing. Callers answer 5xx.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// The store refused the request as invalid (a key over DynamoDB's size limits, an item over
    /// 400 KB): permanent, never retried. Callers answer 4xx.
    #[error("the store refused the request as invalid: {0}")]
    Invalid(String),
    /// An item that does not deserialise: a bug or a manual edit, never the caller's fault.
    #[error("a stored item is corrupt: {0}")]
    Corrupt(String),
}

/// What a save does with the account's uniqueness claim (one tenant per AWS account).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    Keep,
    /// Take the claim, failing with `AccountClaimedByAnotherTenant` if another tenant holds it.
    Acquire,
    /// Give it up (the account is disconnected).
    Release,
}

pub const MAX_PAGE: u32 = 100;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl PageRequest {
    pub fn first(limit: u32) -> Self {
        Self { limit: Some(limit), cursor: None }
    }

    pub fn limit(&self) -> Result<u32, InvalidInput> {
        match self.limit {
            None => Ok(50),
            Some(n @ 1..=MAX_PAGE) => Ok(n),
            Some(_) => Err(InvalidInput::new("limit", format!("between 1 and {MAX_PAGE}"))),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Present when the page was full: there may be more.
    pub next_cursor: Option<String>,
}

#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Creating a tenant also claims its ExternalId ([`StoreError::ExternalIdTaken`]).
    async fn save_tenant(&self, tenant: &mut Tenant) -> Result<(), StoreError>;
    async fn get_tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError>;
    async fn list_tenants(&self, page: &PageRequest) -> Result<Page<Tenant>, StoreError>;
    /// Sets the TTL attribute on every item of the tenant; returns how many were marked.
    async fn expire_tenant_data(&self, id: &TenantId, at: DateTime<Utc>) -> Result<usize, StoreError>;
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    async fn save_account(&self, account: &mut Account, claim: Claim) -> Result<(), StoreError>;
    async fn get_account(&self, tenant: &TenantId, account: &AccountId) -> Result<Option<Account>, StoreError>;
    async fn list_accounts(&self, tenant: &TenantId, page: &PageRequest) -> Result<Page<Account>, StoreError>;
    /// Active accounts of every tenant whose next scan time is at or before `now`, in one shard
    /// of the due index (`keys::DUE_SHARDS`; the entry is `keys::due_index_keys`, which
    /// `save_account` writes), soonest due first: one Query of GSI1 a page, never a Scan. The
    /// index is eventually consistent: an account saved a moment ago may still show its old
    /// entry. The cursor is the last entry's sort key.
    async fn list_due_accounts(
        &self,
        shard: u32,
        now: DateTime<Utc>,
        page: &PageRequest,
    ) -> Result<Page<Account>, StoreError>;
}

/// What the ledger knows about a custom-resource request id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestState {
    /// First delivery (or a stale attempt taken over): the caller does the work.
    Started,
    /// Another delivery is working on it right now.
    InProgress,
    /// Already answered; this is the response body that was sent.
    Done(String),
}

/// De-duplicates CloudFormation custom-resource requests, which SNS delivers at least once.
#[async_trait]
pub trait RequestLedger: Send + Sync {
    /// `stale_after`: an attempt started longer ago than this is taken over (its Lambda died).
    async fn begin_request(
        &self,
        tenant: &TenantId,
        request_id: &str,
        now: DateTime<Utc>,
        stale_after: chrono::Duration,
    ) -> Result<RequestState, StoreError>;
    async fn finish_request(
        &self,
        tenant: &TenantId,
        request_id: &str,
        response: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Forgets an unanswered attempt so that a retry starts afresh.
    async fn abandon_request(&self, tenant: &TenantId, request_id: &str) -> Result<(), StoreError>;
    /// How many custom-resource requests of the tenant failed their proof in the hour that
    /// starts at `hour` (unix seconds): the per-tenant verification budget.
    async fn unproved_count(&self, tenant: &TenantId, hour: i64) -> Result<u32, StoreError>;
    /// Counts one more failed proof in that hour; the counter expires a day later.
    async fn count_unproved(&self, tenant: &TenantId, hour: i64) -> Result<(), StoreError>;
}

/// Whether an event was new or a repeat of one already stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    New,
    Duplicate,
}

/// Received events (de-duplicated on the EventBridge id) and the findings they open.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Stores the event and, in the same transaction, its finding (keeping an existing
    /// finding's `first_seen`). A repeated event id changes nothing and returns `Duplicate`.
    async fn record_event(
        &self,
        tenant: &TenantId,
        event_id: &str,
        event: &serde_json::Value,
        finding: Option<&crate::domain::finding::Finding>,
        expires_at: DateTime<Utc>,
    ) -> Result<Recorded, StoreError>;
    async fn get_event(&self, tenant: &TenantId, event_id: &str) -> Result<Option<serde_json::Value>, StoreError>;
    /// The tenant's events, newest `received_at` first, with `filter`: one Query of GSI1 a page
    /// per index shard (`keys::SHARDS`, merged)
    /// (the filter is applied to the `limit` events read, so a page may hold fewer and still
    /// have a cursor). An event is listed if it carries `received_at` (the receiver's do).
    async fn list_events(
        &self,
        tenant: &TenantId,
        filter: &triage::EventFilter,
        page: &PageRequest,
    ) -> Result<Page<serde_json::Value>, StoreError>;
    async fn get_finding(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> Result<Option<crate::domain::finding::Finding>, StoreError>;
    /// Instance types seen in earlier events of the same account, for events that do not carry
    /// them; the same memory keeps endpoint configurations' variants as JSON
    /// (`EndpointVariant::memory_key`).
    async fn instance_types(
        &self,
        tenant: &TenantId,
        account: &AccountId,
        ids: &[String],
    ) -> Result<HashMap<String, String>, StoreError>;
    async fn remember_instance_types(
        &self,
        tenant: &TenantId,
        account: &AccountId,
        types: &[(String, String)],
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

/// A notification that could not be delivered yet: kept until a retry succeeds or gives up.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PendingNotification {
    pub event_id: String,
    /// `sns`, `eventbridge` or `webhook`.
    pub target: String,
    pub payload: serde_json::Value,
    pub attempts: u32,
    pub last_error: String,
    pub next_attempt_at: DateTime<Utc>,
}

/// Notifications that failed after their event was committed, for retry.
#[async_trait]
pub trait NotificationOutbox: Send + Sync {
    /// Creates or replaces the entry for (event, target).
    async fn save_pending(
        &self,
        tenant: &TenantId,
        pending: &PendingNotification,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The tenant's pending notifications, oldest event first, at most `limit`.
    async fn list_pending(&self, tenant: &TenantId, limit: u32) -> Result<Vec<PendingNotification>, StoreError>;
    async fn delete_pending(&self, tenant: &TenantId, event_id: &str, target: &str) -> Result<(), StoreError>;
}

/// Which stored price source a [`RateTable`](crate::pricing::RateTable) belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateScope<'a> {
    /// A tenant's effective rates, learned from its CUR (in the tenant's partition).
    Tenant(&'a TenantId),
    /// The AWS Price List API cache, written by the refresh job and shared by every tenant.
    PriceList,
}

/// The stored price sources of [`crate::pricing::PriceBook`], kept per (scope, region, price
/// family), so a refresh of one region never rewrites another (the DynamoDB adapter also splits
/// a family into compressed chunks that fit an item).
#[async_trait]
pub trait RateStore: Send + Sync {
    /// Replaces the scope's rates of every (region, family) `rates` has; others are left alone.
    async fn save_rates(&self, scope: RateScope<'_>, rates: &crate::pricing::RateTable) -> Result<(), StoreError>;
    /// Every stored rate of the scope, all regions; an empty table when there is none.
    async fn get_rates(&self, scope: RateScope<'_>) -> Result<crate::pricing::RateTable, StoreError>;
    /// The stored rates of one region: what pricing an event or a region's scan needs.
    async fn get_region_rates(
        &self,
        scope: RateScope<'_>,
        region: &str,
    ) -> Result<crate::pricing::RateTable, StoreError>;
}

/// Everything onboarding needs, for code that wants one handle.
pub trait OnboardingStore: TenantStore + AccountStore + RequestLedger {}
impl<T: TenantStore + AccountStore + RequestLedger> OnboardingStore for T {}

/// Everything the scheduled scan needs.
pub trait ScanStore: TenantStore + AccountStore + FindingStore + ObservationStore + RunStore + RateStore {}
impl<T: TenantStore + AccountStore + FindingStore + ObservationStore + RunStore + RateStore> ScanStore for T {}

/// Everything the findings API needs.
pub trait FindingsApiStore: TenantStore + EventStore + FindingStore + RunStore + TriageStore {}
impl<T: TenantStore + EventStore + FindingStore + RunStore + TriageStore> FindingsApiStore for T {}

/// Everything the digest needs (`crate::digest`).
pub trait DigestStore: TenantStore + AccountStore + TriageStore + DigestLedger {}
impl<T: TenantStore + AccountStore + TriageStore + DigestLedger> DigestStore for T {}

/// Everything the receiver needs.
pub trait ReceiverStore: TenantStore + AccountStore + EventStore + NotificationOutbox + RateStore {}
impl<T: TenantStore + AccountStore + EventStore + NotificationOutbox + RateStore> ReceiverStore for T {}
