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

/// A digest's marker (`crate::digest`): `DIGEST#<period>`, written once per tenant and period.
pub const DIGEST_PREFIX: &str = "DIGEST#";

pub fn digest_sk(period: &str) -> String {
    format!("{DIGEST_PREFIX}{period}")
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

// ---- Write sharding of a tenant's high-volume items (issue #20). One partition key takes about
// 1,000 write units a second; an event that opens a finding is a transaction (2 units per KB
// per item). At the target of 1,000 events/s from one tenant, one event item of up to 1 KB and
// a finding of up to 1 KB, in one partition that is up to 4,000 units/s: four times the
// ceiling. Events, findings, remembered instances and observations therefore go to one of
// [`SHARDS`] partitions `TENANT#<id>#S<n>`, picked by a stable hash of their own sort key, so
// a get or update by key computes its shard; 4,000 / 8 = 500 units/s per shard at the target,
// 250 for an event without a finding. Everything else (the request ledger, runs, rates,
// suppressions, a finding's history, the savings ledger, the outbox) stays in `TENANT#<id>`:
// people or scans write those, a few a second at most. Reads that list a sharded family
// query every shard (S Queries, bounded) and merge; the cursors stay one sort-key value.
// `TENANT#<id>#S<n>` still starts with `TENANT#`, so IAM's `dynamodb:LeadingKeys` pattern
// `TENANT#*` covers it and the receiver's role still cannot reach `REGISTRY#`.

/// How many partitions a tenant's events, findings, instances and observations spread over.
pub const SHARDS: u32 = 8;

/// The shard of an item: FNV-1a (32 bits) of its sort key, modulo [`SHARDS`]. Stable across
/// builds and platforms (no `std` hasher, whose seed may change).
pub fn shard_of(sort_key: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in sort_key.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h % SHARDS
}

/// The partition of shard `shard` of a tenant: `TENANT#<id>#S<n>`.
pub fn shard_pk(t: &TenantId, shard: u32) -> String {
    format!("{}#S{shard}", tenant_pk(t))
}

/// Every shard partition of a tenant, in shard order.
pub fn shard_pks(t: &TenantId) -> Vec<String> {
    (0..SHARDS).map(|i| shard_pk(t, i)).collect()
}

/// The partition of the event `event_id`.
pub fn event_pk(t: &TenantId, event_id: &str) -> String {
    shard_pk(t, shard_of(&event_sk(event_id)))
}

/// The partition of the finding `key`.
pub fn finding_pk(t: &TenantId, key: &str) -> String {
    shard_pk(t, shard_of(&finding_sk(key)))
}

/// The partition of what the receiver remembers of one instance.
pub fn instance_pk(t: &TenantId, account: &AccountId, instance_id: &str) -> String {
    shard_pk(t, shard_of(&instance_sk(account, instance_id)))
}

/// The partition of one (account, region, condition)'s observations: the whole group in one
/// shard, so that `observe` stays one Query.
pub fn observations_pk(t: &TenantId, account: &AccountId, region: &str, condition: &str) -> String {
    shard_pk(t, shard_of(&observations_prefix(account, region, condition)))
}

/// The index partitions of people's views take one write per event or finding write too, so
/// they are sharded the same way: `TENANT#<id>#EVENTS#S<n>` and `TENANT#<id>#FINDINGS#S<n>`,
/// the shard of the item's own sort key. A page reads the [`SHARDS`] partitions (one Query
/// each) and merges them: the index sort keys are unique across shards (`<time>#<id>`,
/// `<cents>#<key>`), so a cursor stays one sort-key value, a position in every shard.
pub fn event_index_pk(t: &TenantId, event_id: &str) -> String {
    format!("{}#S{}", events_index_pk(t), shard_of(&event_sk(event_id)))
}

/// The GSI1 and GSI2 partition of the finding `key`.
pub fn finding_index_pk(t: &TenantId, key: &str) -> String {
    format!("{}#S{}", findings_index_pk(t), shard_of(&finding_sk(key)))
}

/// Every events index partition of a tenant, in shard order.
pub fn events_index_pks(t: &TenantId) -> Vec<String> {
    (0..SHARDS).map(|i| format!("{}#S{i}", events_index_pk(t))).collect()
}

/// Every findings index partition of a tenant, in shard order.
pub fn findings_index_pks(t: &TenantId) -> Vec<String> {
    (0..SHARDS).map(|i| format!("{}#S{i}", findings_index_pk(t))).collect()
}

#[cfg(test)]
mod shard_tests {
    use super::*;

    #[test]
    fn shards_are_stable_and_spread() {
        // FNV-1a's published test vector: "a" hashes to 0xe40c292c.
        assert_eq!(shard_of("a"), 0xe40c_292c % SHARDS);
        let t = TenantId::parse("t-0123456789abcdef").unwrap();
        let mut per_shard = [0u32; SHARDS as usize];
        for i in 0..8_000 {
            let pk = event_pk(&t, &format!("{i:08x}-0000-4000-8000-000000000000"));
            let n: usize = pk.rsplit_once("#S").unwrap().1.parse().unwrap();
            per_shard[n] += 1;
        }
        // 1,000 expected per shard; a uniform hash stays well within 15%.
        assert!(per_shard.iter().all(|&c| (850..=1150).contains(&c)), "{per_shard:?}");
        assert_eq!(shard_pks(&t).len(), SHARDS as usize);
        assert!(shard_pks(&t).iter().all(|p| p.starts_with(&tenant_pk(&t))));
        // An item's index partition is one of the listed ones, in the same shard as the item.
        let key = "123456789012#ebs.gp2#vol-1";
        assert!(findings_index_pks(&t).contains(&finding_index_pk(&t, key)));
        assert!(events_index_pks(&t).contains(&event_index_pk(&t, "e-1")));
        assert!(finding_index_pk(&t, key).ends_with(finding_pk(&t, key).rsplit_once('#').unwrap().1));
    }
}

// ---- The due index (issue #20): which accounts are due for a scan, without reading every
// tenant. An active account's item carries GSI1 keys `DUE#<n>` / `<next due>#<tenant>#<account>`
// (`store::due_index_keys`, written by both adapters' `save_account` from the account itself, so
// every path that saves an account keeps it right: registration, activation, a finished scan,
// a revocation or a disconnection, which drops it). `list_due_accounts` queries the
// [`DUE_SHARDS`] partitions with `sort key < due_index_bound(now)`: no Scan, and never a tenant's
// other items. GSI1 is shared by design (`schema::GSI2`'s note): a new collection, a new
// partition, and no new index for CloudFormation to add.

/// How many GSI1 partitions the due index spreads over. A scan run reads them all once an hour
/// (tiny), but every finished scan rewrites its account's entry: at 2,000 accounts finishing
/// within minutes that is a few hundred index writes a second into one partition at worst; 16
/// partitions keep each well under the 1,000 writes a second a partition takes, with room for
/// 10x the accounts, while one run still costs only 16 Queries plus one per 100 due accounts.
pub const DUE_SHARDS: u32 = 16;
pub const DUE_PREFIX: &str = "DUE#";

/// The due-index shard of an account: FNV-1a ([`shard_of`]) of `<tenant>#<account>`.
pub fn due_shard(t: &TenantId, a: &AccountId) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in format!("{t}#{a}").bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h % DUE_SHARDS
}

/// The GSI1 keys of an account's due-index entry: present while the account is active.
pub fn due_index_keys(a: &crate::domain::Account) -> Option<(String, String)> {
    a.is_usable().then(|| {
        (
            due_index_pk(due_shard(&a.tenant_id, &a.account_id)),
            due_index_sk(a.next_scan_at, &a.tenant_id, &a.account_id),
        )
    })
}

/// GSI1 partition of one due-index shard: `DUE#<n>`.
pub fn due_index_pk(shard: u32) -> String {
    format!("{DUE_PREFIX}{shard}")
}

/// GSI1 sort key of an active account: `<next due>#<tenant>#<account>`; never scanned is due
/// since the epoch, so it sorts first.
pub fn due_index_sk(next_due: Option<DateTime<Utc>>, t: &TenantId, a: &AccountId) -> String {
    format!("{}#{t}#{a}", sortable_time(next_due.unwrap_or(DateTime::UNIX_EPOCH)))
}

/// Every sort key of an account due at or before `now` is below this: the fixed-width time, then
/// `$` (just above the `#` that follows the time in [`due_index_sk`]).
pub fn due_index_bound(now: DateTime<Utc>) -> String {
    format!("{}$", sortable_time(now))
}

/// The tenant and account of a due-index sort key (a cursor's content), checking its shape.
pub fn parse_due_index_sk(sk: &str) -> Option<(TenantId, AccountId)> {
    let (_, rest) = split_index_sk(sk, false)?;
    let (t, a) = rest.split_once('#')?;
    Some((TenantId::parse(t).ok()?, AccountId::parse(a).ok()?))
}

#[cfg(test)]
mod due_tests {
    use super::*;

    #[test]
    fn due_keys_order_by_time_and_round_trip() {
        let t = TenantId::parse("t-0123456789abcdef").unwrap();
        let a = AccountId::parse("111122223333").unwrap();
        let now = DateTime::parse_from_rfc3339("2026-12-06T10:00:00Z").unwrap().with_timezone(&Utc);
        let due = due_index_sk(Some(now), &t, &a);
        assert!(due < due_index_bound(now), "due at now is due");
        assert!(due_index_sk(None, &t, &a) < due_index_bound(now), "never scanned is due");
        let later = due_index_sk(Some(now + chrono::Duration::microseconds(1)), &t, &a);
        assert!(later > due_index_bound(now), "a microsecond later is not due yet");
        assert_eq!(parse_due_index_sk(&due), Some((t.clone(), a.clone())));
        for bad in [
            "",
            "x#y",
            "2026-12-06T10:00:00.000000Z#t-1#111122223333",
            "2026-12-06T10:00:00.000000Z#t-0123456789abcdef",
        ] {
            assert_eq!(parse_due_index_sk(bad), None, "{bad}");
        }
        assert!(due_shard(&t, &a) < DUE_SHARDS);
        let spread: std::collections::BTreeSet<u32> = (0..400)
            .map(|i| due_shard(&t, &AccountId::parse(&format!("{:012}", 100_000_000_000u64 + i)).unwrap()))
            .collect();
        assert_eq!(spread.len(), DUE_SHARDS as usize, "400 accounts reach every shard");
    }
}
