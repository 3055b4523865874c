//! Item keys, shared by both adapters so they cannot disagree. A tenant has two partitions:
//! `REGISTRY#<id>` holds its record and its accounts (with their token hashes), which only
//! onboarding and the scan's schedule write; `TENANT#<id>` holds everything its events, scans
//! and CUR queries produce. The split is what lets IAM keep the receiver away from the registry
//! (`dynamodb:LeadingKeys`, infra/template.yaml). The only items outside both are the uniqueness
//! claims (they hold nothing but the owning tenant's id) and the shared Price List cache.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::StoreError;
use crate::domain::finding::Finding;
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
/// A finding's history entries: `FINDINGLOG#<key>#<at>#<seq>`, beside the finding.
pub const FINDING_LOG_PREFIX: &str = "FINDINGLOG#";
/// The savings ledger's realised entries: `SAVING#<yyyy-mm>#<key>`.
pub const SAVING_PREFIX: &str = "SAVING#";
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

/// The entries of one finding's history start with this; a finding whose resource id extends
/// this one's with `#` shares the prefix, so readers keep only entries whose `finding_key` is
/// the key.
pub fn finding_log_prefix(key: &str) -> String {
    format!("{FINDING_LOG_PREFIX}{key}#")
}

pub fn finding_log_sk(key: &str, at: DateTime<Utc>, seq: u32) -> String {
    format!("{}{}#{seq:06}", finding_log_prefix(key), sortable_time(at))
}

pub fn saving_sk(month: &str, key: &str) -> String {
    format!("{SAVING_PREFIX}{month}#{key}")
}

// ---- The indexes of people's views (schema::GSI1 by time, schema::GSI2 by saving). Their
// partitions are per tenant and per collection, so a query can never leave the tenant it names.

/// GSI1 and GSI2 partition of a tenant's findings.
pub fn findings_index_pk(t: &TenantId) -> String {
    format!("{}#FINDINGS", tenant_pk(t))
}

/// GSI1 partition of a tenant's events.
pub fn events_index_pk(t: &TenantId) -> String {
    format!("{}#EVENTS", tenant_pk(t))
}

/// GSI1 partition of a tenant's run records.
pub fn runs_index_pk(t: &TenantId) -> String {
    format!("{}#RUNS", tenant_pk(t))
}

/// Digits of a saving in cents in GSI2's sort key: up to 10^13 USD a month.
const CENTS_WIDTH: usize = 15;

/// A monthly saving as GSI2 sorts it: whole cents (half away from zero), zero-padded, so that
/// text order is amount order. None and negative amounts sort as 0; past the width, the maximum.
pub fn savings_sort_value(usd: Option<Decimal>) -> String {
    let cents = usd.map(|d| crate::domain::money::cents(d) * Decimal::ONE_HUNDRED).unwrap_or_default();
    let max = 10u64.pow(CENTS_WIDTH as u32) - 1;
    let n = if cents <= Decimal::ZERO { 0 } else { cents.to_u64().unwrap_or(max).min(max) };
    format!("{n:0width$}", width = CENTS_WIDTH)
}

/// GSI2's sort key of a finding: `<cents>#<key>`.
pub fn savings_sk(f: &Finding) -> String {
    format!("{}#{}", savings_sort_value(f.monthly_savings_usd), f.key())
}

/// A time as GSI1 sorts it: RFC 3339 in UTC with microseconds, fixed width.
pub fn sortable_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// GSI1's sort key: `<time>#<id>` (a finding's key and first_seen, an event's id and
/// received_at, a run's id and finished_at).
pub fn time_sk(at: DateTime<Utc>, id: &str) -> String {
    format!("{}#{id}", sortable_time(at))
}

/// Splits an index sort key into its sortable prefix and the item's id, checking the prefix's
/// shape (`savings`: 15 digits; else a [`sortable_time`]).
pub fn split_index_sk(sk: &str, savings: bool) -> Option<(&str, &str)> {
    let (head, id) = sk.split_once('#')?;
    let ok = if savings {
        head.len() == CENTS_WIDTH && head.bytes().all(|b| b.is_ascii_digit())
    } else {
        DateTime::parse_from_rfc3339(head).is_ok() && head.len() == 27
    };
    (ok && !id.is_empty()).then_some((head, id))
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
    decode_cursor_within(200, cursor, parse)
}

/// A cursor that carries a finding key (up to DynamoDB's 1,024-byte sort key, so up to 1,368
/// base64 characters), parsed by `parse`.
pub fn decode_long_cursor<T>(cursor: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T, StoreError> {
    decode_cursor_within(1500, cursor, parse)
}

fn decode_cursor_within<T>(max: usize, cursor: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T, StoreError> {
    if cursor.len() > max {
        return Err(StoreError::InvalidCursor);
    }
    let bytes =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| StoreError::InvalidCursor)?;
    let s = String::from_utf8(bytes).map_err(|_| StoreError::InvalidCursor)?;
    parse(&s).ok_or(StoreError::InvalidCursor)
}
