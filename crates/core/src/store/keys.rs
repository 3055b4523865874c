//! Item keys, shared by both adapters so they cannot disagree. A tenant has two partitions:
//! `REGISTRY#<id>` holds its record and its accounts (with their token hashes), which only
//! onboarding and the scan's schedule write; `TENANT#<id>` holds everything its events, scans
//! and CUR queries produce. The split is what lets IAM keep the receiver away from the registry
//! (`dynamodb:LeadingKeys`, infra/template.yaml). The only items outside both are the uniqueness
//! claims (they hold nothing but the owning tenant's id) and the shared Price List cache.

use base64::Engine as _;

use super::StoreError;
use crate::domain::{AccountId, TenantId};

pub const TENANT_META: &str = "META";
pub const ACCOUNT_PREFIX: &str = "ACCOUNT#";
pub const REQUEST_PREFIX: &str = "CFNREQ#";
/// A tenant's failed proofs in one hour (the custom resource's verification budget).
pub const UNPROVED_PREFIX: &str = "UNPROVED#";
pub const CLAIM_SK: &str = "CLAIM";
pub const EVENT_PREFIX: &str = "EVENT#";
pub const FINDING_PREFIX: &str = "FINDING#";
pub const INSTANCE_PREFIX: &str = "INSTANCE#";
pub const NOTIFY_PREFIX: &str = "NOTIFY#";
pub const RATES_PREFIX: &str = "RATES#";
/// The partition of the Price List cache: prices, not tenant data, shared by every tenant.
pub const PRICE_LIST_PK: &str = "PRICING";
/// GSI1 partition holding one entry per tenant, for listing tenants.
pub const TENANTS_GSI_PK: &str = "TENANTS";

pub const TENANT_PREFIX: &str = "TENANT#";
pub const REGISTRY_PREFIX: &str = "REGISTRY#";

/// The tenant's data: events, findings, observations, runs, rates, the request ledger.
pub fn tenant_pk(id: &TenantId) -> String {
    format!("{TENANT_PREFIX}{id}")
}

/// The tenant's record (`META`) and its accounts (`ACCOUNT#<id>`).
pub fn registry_pk(id: &TenantId) -> String {
    format!("{REGISTRY_PREFIX}{id}")
}

pub fn account_sk(id: &AccountId) -> String {
    format!("{ACCOUNT_PREFIX}{id}")
}

pub fn request_sk(request_id: &str) -> String {
    format!("{REQUEST_PREFIX}{request_id}")
}

/// The counter of failed proofs in the hour that starts at `hour` (unix seconds).
pub fn unproved_sk(hour: i64) -> String {
    format!("{UNPROVED_PREFIX}{hour}")
}

pub fn event_sk(event_id: &str) -> String {
    format!("{EVENT_PREFIX}{event_id}")
}

pub fn finding_sk(key: &str) -> String {
    format!("{FINDING_PREFIX}{key}")
}

/// All findings of one account: `FINDING#<account>#`.
pub fn findings_of_account(account: &AccountId) -> String {
    format!("{FINDING_PREFIX}{account}#")
}

pub const SUPPRESSION_PREFIX: &str = "SUPPRESS#";
pub const OBSERVATION_PREFIX: &str = "OBS#";
pub const RUN_PREFIX: &str = "RUN#";

pub fn suppression_sk(id: &str) -> String {
    format!("{SUPPRESSION_PREFIX}{id}")
}

/// `OBS#<account>#<region>#<condition>#`: what one scan of a region remembers for a condition.
pub fn observations_prefix(account: &AccountId, region: &str, condition: &str) -> String {
    format!("{OBSERVATION_PREFIX}{account}#{region}#{condition}#")
}

pub fn run_sk(run_id: &str) -> String {
    format!("{RUN_PREFIX}{run_id}")
}

/// What the receiver remembers of one account's instance (or endpoint configuration): keyed by
/// the account, so that no account's events can plant facts for another.
pub fn instance_sk(account: &AccountId, instance_id: &str) -> String {
    format!("{INSTANCE_PREFIX}{account}#{instance_id}")
}

pub fn notify_sk(event_id: &str, target: &str) -> String {
    format!("{NOTIFY_PREFIX}{event_id}#{target}")
}

pub fn rates_pk(scope: super::RateScope<'_>) -> String {
    match scope {
        super::RateScope::Tenant(id) => tenant_pk(id),
        super::RateScope::PriceList => PRICE_LIST_PK.to_owned(),
    }
}

pub fn rates_sk(region: &str) -> String {
    format!("{RATES_PREFIX}{region}")
}

pub fn account_claim_pk(id: &AccountId) -> String {
    format!("CLAIM#ACCOUNT#{id}")
}

pub fn external_id_claim_pk(external_id: &str) -> String {
    format!("CLAIM#EXTERNALID#{external_id}")
}

/// Cursors carry only the last sort-key value of a page, never a partition key, so a forged
/// cursor cannot move a query into another tenant's partition.
pub fn encode_cursor(last: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last)
}

pub fn decode_cursor<T>(cursor: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T, StoreError> {
    if cursor.len() > 200 {
        return Err(StoreError::InvalidCursor);
    }
    let bytes =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| StoreError::InvalidCursor)?;
    let s = String::from_utf8(bytes).map_err(|_| StoreError::InvalidCursor)?;
    parse(&s).ok_or(StoreError::InvalidCursor)
}
