//! The scan state machine's three tasks (`docs/workflows.md`): `list_due_accounts`,
//! `scan_account`, `finish_run`; and the daily `refresh_price_list` that EventBridge Scheduler
//! invokes on its own. The Lambda handler hands the payload to [`ScanTasks::handle`]
//! and turns a [`TaskError`] into the `Diagnostic` whose `error_type` the ASL matches on.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{AccountScan, ScanError, Scanner, Target, GLOBAL};
use crate::domain::scan_run::{AccountFailure, AccountRun, ActionError, RegionRun, RunRecord, ScanStatus};
use crate::domain::{parse_regions, AccountId, AccountStatus, Clock, TenantId, TenantStatus};
use crate::pricing::price_list::{self, PriceListSource};
use crate::store::keys::DUE_SHARDS;
use crate::store::{valid_run_id, PageRequest, ScanStore, StoreError, MAX_PAGE};
use crate::workflow::{parse_task, traced, TaskError};

mod refresh;
mod results;
pub mod runs;
pub use refresh::{
    refresh_price_list, refresh_prices, FamilyCount, RefreshError, RefreshLimits, RefreshReport,
    MAX_REQUESTS_PER_REFRESH, REFRESH_TIME_BUDGET,
};
pub use runs::{DueAccount, MemoryRunObjects, ObjectError, ResultWriterDetails, RunObjects};

/// How long run records are kept.
pub const RUN_RETENTION_DAYS: i64 = 90;
/// A run record item stays well under DynamoDB's 400 KB.
const MAX_RUN_RECORD_BYTES: usize = 300_000;
/// A safety cap, not a working limit: the distributed Map reads its items from S3, so nothing
/// of the list passes through the execution state. 50,000 accounts are 500 Queries of the due
/// index (well within the list task's 60 s) and a 3.5 MB `accounts.jsonl`; the rest are due at
/// the next run (`deferred`).
pub const MAX_ACCOUNTS_PER_RUN: usize = 50_000;
/// One account's output (a child execution's output, and its entry in the run record) stays
/// under this; the counts and status always stay.
pub const MAX_ACCOUNT_RUN_BYTES: usize = 4_000;

/// `list_due_accounts`' output: small whatever the number of accounts. The accounts themselves
/// are in `s3://<bucket>/<key>` as JSON Lines, fairest order first ([`runs::round_robin`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueAccounts {
    pub run_id: String,
    pub bucket: String,
    pub key: String,
    /// Where the Map's ResultWriter writes.
    pub results_prefix: String,
    pub count: usize,
    /// Due accounts left for the next run ([`MAX_ACCOUNTS_PER_RUN`]).
    pub deferred: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunTotals {
    pub run_id: String,
    pub accounts: u32,
    pub complete: u32,
    pub partial: u32,
    pub failed: u32,
    pub findings_opened: u32,
    pub findings_resolved: u32,
    pub cur_failed: u32,
    pub athena_bytes_scanned: u64,
    pub athena_cost_usd: String,
}

/// The scan function's input (`docs/workflows.md`): a JSON object whose `task` names the task,
/// beside that task's fields. Unknown fields are refused: each variant's struct denies them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum ScanTask {
    ListDueAccounts(#[serde(deserialize_with = "traced")] ListDueAccountsInput),
    ScanAccount(#[serde(deserialize_with = "traced")] ScanAccountInput),
    FinishRun(#[serde(deserialize_with = "traced")] FinishRunInput),
    RefreshPriceList(#[serde(deserialize_with = "traced")] RefreshPriceListInput),
    /// The tenants' due digests (`crate::digest`), invoked daily by EventBridge Scheduler.
    Digest(#[serde(deserialize_with = "traced")] DigestInput),
    /// Once, after upgrading a stack from before the due index: writes every active account's
    /// entry (docs/workflows.md, "Scans at scale").
    IndexDueAccounts(#[serde(deserialize_with = "traced")] IndexDueAccountsInput),
}

/// `{"task": "index_due_accounts"}`: no field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexDueAccountsInput {}

/// `{"task": "digest"}`: no field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestInput {}

impl ScanTask {
    /// Parses a task payload; an error is `InvalidInput` naming the field at fault.
    pub fn parse(payload: &Value) -> Result<Self, TaskError> {
        parse_task(payload)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListDueAccountsInput {
    pub run_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanAccountInput {
    pub run_id: String,
    pub tenant_id: TenantId,
    pub account_id: AccountId,
}

/// `results` is the distributed Map's `ResultWriterDetails`: where its manifest is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinishRunInput {
    pub run_id: String,
    pub results: ResultWriterDetails,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshPriceListInput {
    /// Default: every region of the bundled price book ([`price_list::default_regions`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regions: Option<Vec<String>>,
}

fn invalid(e: impl std::fmt::Display) -> TaskError {
    TaskError::InvalidInput(e.to_string())
}

fn run_id(id: &str) -> Result<(), TaskError> {
    if valid_run_id(id) {
        Ok(())
    } else {
        Err(invalid("run_id: 1 to 80 of A-Z, a-z, 0-9, - and _"))
    }
}

pub struct ScanTasks {
    scanner: Scanner,
    store: Arc<dyn ScanStore>,
    clock: Arc<dyn Clock>,
    price_list: Option<Arc<dyn PriceListSource>>,
    runs: Option<Arc<dyn RunObjects>>,
    digest: Option<Arc<crate::digest::DigestService>>,
}

impl ScanTasks {
    pub fn new(scanner: Scanner, store: Arc<dyn ScanStore>, clock: Arc<dyn Clock>) -> Self {
        Self { scanner, store, clock, price_list: None, runs: None, digest: None }
    }

    /// The runs bucket: where `list_due_accounts` writes the Map's items and `finish_run` reads
    /// its results.
    pub fn with_run_objects(mut self, runs: Arc<dyn RunObjects>) -> Self {
        self.runs = Some(runs);
        self
    }

    fn runs(&self) -> Result<&dyn RunObjects, TaskError> {
        self.runs.as_deref().ok_or_else(|| invalid("this function was built without a runs bucket"))
    }

    /// What sends the `digest` task's digests.
    pub fn with_digest(mut self, digest: Arc<crate::digest::DigestService>) -> Self {
        self.digest = Some(digest);
        self
    }

    /// Sends every tenant's due digest; returns the [`crate::digest::DigestRun`]'s counts. A
    /// tenant's failure is counted there; only listing the tenants fails the task (Transient).
    pub async fn digest(&self) -> Result<Value, TaskError> {
        let svc = self.digest.as_deref().ok_or_else(|| invalid("digest: built without a notifier"))?;
        let run = svc.run_all(self.clock.now()).await?;
        Ok(serde_json::to_value(run).expect("the counts serialise"))
    }

    /// Where `refresh_price_list` reads rates.
    pub fn with_price_list(mut self, source: Arc<dyn PriceListSource>) -> Self {
        self.price_list = Some(source);
        self
    }

    /// Runs the task the payload names ([`ScanTask`]). Unknown tasks and fields are `InvalidInput`.
    pub async fn handle(&self, payload: &Value) -> Result<Value, TaskError> {
        let out = match ScanTask::parse(payload)? {
            ScanTask::ListDueAccounts(p) => serde_json::to_value(self.list_due_accounts(&p.run_id).await?),
            ScanTask::ScanAccount(p) => {
                serde_json::to_value(self.scan_account(&p.run_id, &p.tenant_id, &p.account_id).await?)
            }
            ScanTask::FinishRun(p) => serde_json::to_value(self.finish_run(&p.run_id, &p.results).await?),
            ScanTask::RefreshPriceList(p) => serde_json::to_value(self.refresh_price_list(p.regions).await?),
            ScanTask::Digest(DigestInput {}) => Ok(self.digest().await?),
            ScanTask::IndexDueAccounts(IndexDueAccountsInput {}) => Ok(self.index_due_accounts().await?),
        };
        Ok(out.expect("task outputs serialise"))
    }

    /// Refreshes the stored Price List rates of `regions` (default: every region of the bundled
    /// book, [`price_list::default_regions`]) within [`MAX_REQUESTS_PER_REFRESH`] requests and
    /// [`REFRESH_TIME_BUDGET`]; returns the [`RefreshReport`].
    pub async fn refresh_price_list(&self, regions: Option<Vec<String>>) -> Result<Value, TaskError> {
        let regions = match regions {
            Some(r) => parse_regions("regions", &r).map_err(invalid)?,
            None => price_list::default_regions(),
        };
        let source = self
            .price_list
            .as_deref()
            .ok_or_else(|| invalid("refresh_price_list: this function was built without a Price List client"))?;
        let limits = RefreshLimits {
            max_requests: MAX_REQUESTS_PER_REFRESH,
            deadline: Some(tokio::time::Instant::now() + REFRESH_TIME_BUDGET),
            rotation: self.clock.now().timestamp().div_euclid(86_400).unsigned_abs() as usize,
        };
        let report = refresh_prices(source, self.store.as_ref(), &regions, &limits).await.map_err(|e| match e {
            RefreshError::Source(_) | RefreshError::Store(_) => TaskError::Transient(e.to_string()),
            RefreshError::Empty(_) => invalid(e),
        })?;
        Ok(serde_json::to_value(report).expect("the report serialises"))
    }

    /// Active accounts of active tenants whose next scan time has passed, read from the due
    /// index ([`DUE_SHARDS`] Queries plus one per page, no Scan), ordered round-robin across
    /// tenants ([`runs::round_robin`]; within a tenant, never scanned first, then the longest
    /// overdue), at most [`MAX_ACCOUNTS_PER_RUN`], written to `runs/<run_id>/accounts.jsonl`.
    pub async fn list_due_accounts(&self, run: &str) -> Result<DueAccounts, TaskError> {
        run_id(run)?;
        let objects = self.runs()?;
        let now = self.clock.now();
        let mut due = Vec::new();
        for shard in 0..DUE_SHARDS {
            let mut req = PageRequest::first(MAX_PAGE);
            loop {
                let page = self.store.list_due_accounts(shard, now, &req).await?;
                due.extend(
                    page.items
                        .into_iter()
                        .filter(|a| a.is_usable())
                        .map(|a| (a.next_scan_at, DueAccount { tenant_id: a.tenant_id, account_id: a.account_id })),
                );
                match page.next_cursor {
                    Some(c) => req.cursor = Some(c),
                    None => break,
                }
            }
        }
        // None (never scanned) sorts before any time.
        due.sort_by(|a, b| (a.0, &a.1.tenant_id, &a.1.account_id).cmp(&(b.0, &b.1.tenant_id, &b.1.account_id)));
        let due = self.of_active_tenants(due.into_iter().map(|(_, a)| a).collect()).await?;
        let mut accounts = runs::round_robin(due);
        let deferred = accounts.len().saturating_sub(MAX_ACCOUNTS_PER_RUN);
        if deferred > 0 {
            tracing::warn!(deferred, "more accounts are due than one run takes; the rest are due at the next run");
            accounts.truncate(MAX_ACCOUNTS_PER_RUN);
        }
        let key = runs::accounts_key(run);
        objects.put(&key, runs::to_jsonl(&accounts)).await.map_err(|e| TaskError::Transient(e.to_string()))?;
        Ok(DueAccounts {
            run_id: run.to_owned(),
            bucket: objects.bucket().to_owned(),
            key,
            results_prefix: runs::results_prefix(run),
            count: accounts.len(),
            deferred,
        })
    }

    /// Re-saves every active account of every tenant, so that `save_account` writes its
    /// due-index entry (`keys::due_index_keys`): the one-off backfill for accounts saved before
    /// the index existed, which `list_due_accounts` cannot see. Idempotent; one read and one
    /// write per account. Returns `{"indexed": n}`.
    pub async fn index_due_accounts(&self) -> Result<Value, TaskError> {
        let mut indexed = 0u64;
        let mut tenants = PageRequest::first(MAX_PAGE);
        loop {
            let page = self.store.list_tenants(&tenants).await?;
            for t in &page.items {
                let mut req = PageRequest::first(MAX_PAGE);
                loop {
                    let p = self.store.list_accounts(&t.id, &req).await?;
                    for mut a in p.items.into_iter().filter(|a| a.is_usable()) {
                        match self.store.save_account(&mut a, crate::store::Claim::Keep).await {
                            // Saved meanwhile by another path, which wrote the entry.
                            Ok(()) | Err(StoreError::VersionConflict) => indexed += 1,
                            Err(e) => return Err(e.into()),
                        }
                    }
                    match p.next_cursor {
                        Some(c) => req.cursor = Some(c),
                        None => break,
                    }
                }
            }
            match page.next_cursor {
                Some(c) => tenants.cursor = Some(c),
                None => break,
            }
        }
        Ok(serde_json::json!({ "indexed": indexed }))
    }

    /// Keeps the accounts whose tenant is active: one read per tenant.
    async fn of_active_tenants(&self, due: Vec<DueAccount>) -> Result<Vec<DueAccount>, TaskError> {
        let mut active: BTreeMap<TenantId, bool> = BTreeMap::new();
        let mut out = Vec::with_capacity(due.len());
        for a in due {
            let ok = match active.get(&a.tenant_id) {
                Some(ok) => *ok,
                None => {
                    let t = self.store.get_tenant(&a.tenant_id).await?;
                    let ok = t.is_some_and(|t| t.status == TenantStatus::Active);
                    active.insert(a.tenant_id.clone(), ok);
                    ok
                }
            };
            if ok {
                out.push(a);
            }
        }
        Ok(out)
    }

    /// Scans one account and schedules its next scan. AccessDenied on AssumeRole marks the
    /// account revoked and is the error `AccountRevoked`.
    pub async fn scan_account(
        &self,
        run: &str,
        tenant_id: &TenantId,
        account_id: &AccountId,
    ) -> Result<AccountRun, TaskError> {
        run_id(run)?;
        let tenant =
            self.store.get_tenant(tenant_id).await?.filter(|t| t.status == TenantStatus::Active).ok_or_else(|| {
                TaskError::AccountNotFound(format!("tenant {tenant_id} does not exist or was deleted"))
            })?;
        let account = self.store.get_account(tenant_id, account_id).await?.ok_or_else(|| {
            TaskError::AccountNotFound(format!("account {account_id} is not connected to {tenant_id}"))
        })?;
        if !account.is_usable() {
            return Err(TaskError::AccountNotFound(format!(
                "account {account_id} is {}, not active: not scanned",
                account.status.as_str()
            )));
        }
        let settings = tenant.scan_settings.clone().unwrap_or_default();
        let now = self.clock.now();
        let target = Target {
            tenant_id,
            external_id: &tenant.external_id,
            account_id,
            role_arn: &account.role_arn,
            regions: &account.regions,
        };
        let result = match self.scanner.scan(&target, &settings, now).await {
            Ok(AccountScan { run, .. }) => run,
            Err(ScanError::Revoked(why)) => {
                self.mark_revoked(tenant_id, account_id, &why, now).await?;
                return Err(TaskError::AccountRevoked(format!("AssumeRole into {account_id} was denied: {why}")));
            }
            Err(ScanError::Transient(why)) => return Err(TaskError::Transient(why)),
            Err(e @ ScanError::NoRegions(_)) => failed_run(tenant_id, account_id, "NoRegions", &e.to_string()),
        };
        self.schedule_next(tenant_id, account_id, now + chrono::Duration::hours(settings.scan_interval_hours.into()))
            .await?;
        Ok(fit_account(result))
    }

    async fn mark_revoked(
        &self,
        tenant: &TenantId,
        account: &AccountId,
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<(), TaskError> {
        for _ in 0..3 {
            let Some(mut a) = self.store.get_account(tenant, account).await? else { return Ok(()) };
            if a.transition(AccountStatus::Revoked, format!("AssumeRole denied during a scheduled scan: {why}"), now)
                .is_err()
            {
                return Ok(()); // already revoked or disconnected meanwhile
            }
            match self.store.save_account(&mut a, crate::store::Claim::Keep).await {
                Err(StoreError::VersionConflict) => continue,
                other => return other.map_err(Into::into),
            }
        }
        Err(TaskError::Transient("the account kept changing while being marked revoked".into()))
    }

    async fn schedule_next(&self, tenant: &TenantId, account: &AccountId, at: DateTime<Utc>) -> Result<(), TaskError> {
        for _ in 0..3 {
            let Some(mut a) = self.store.get_account(tenant, account).await? else { return Ok(()) };
            a.next_scan_at = Some(at);
            match self.store.save_account(&mut a, crate::store::Claim::Keep).await {
                Err(StoreError::VersionConflict) => continue,
                other => return other.map_err(Into::into),
            }
        }
        Err(TaskError::Transient("the account kept changing while its next scan was scheduled".into()))
    }

    /// Reads the distributed Map's results (its manifest and result files in the runs bucket,
    /// [`results::read_results`]), writes one run record per tenant and returns the run's
    /// totals.
    pub async fn finish_run(&self, run: &str, manifest: &ResultWriterDetails) -> Result<RunTotals, TaskError> {
        run_id(run)?;
        let results = results::read_results(self.runs()?, run, manifest).await?;
        self.record_run(run, results).await
    }

    /// Writes one run record per tenant from the accounts' results; returns the run's totals.
    pub async fn record_run(&self, run: &str, results: Vec<AccountRun>) -> Result<RunTotals, TaskError> {
        run_id(run)?;
        let mut by_tenant: BTreeMap<TenantId, Vec<AccountRun>> = BTreeMap::new();
        for r in results {
            by_tenant.entry(r.tenant_id.clone()).or_default().push(r);
        }
        let now = self.clock.now();
        let mut totals = RunTotals {
            run_id: run.to_owned(),
            accounts: 0,
            complete: 0,
            partial: 0,
            failed: 0,
            findings_opened: 0,
            findings_resolved: 0,
            cur_failed: 0,
            athena_bytes_scanned: 0,
            athena_cost_usd: String::new(),
        };
        let mut athena_cost = rust_decimal::Decimal::ZERO;
        for (tenant, accounts) in by_tenant {
            let record = fit(RunRecord::new(run, &tenant, accounts, now));
            totals.accounts += record.complete + record.partial + record.failed;
            totals.complete += record.complete;
            totals.partial += record.partial;
            totals.failed += record.failed;
            totals.findings_opened += record.findings_opened;
            totals.findings_resolved += record.findings_resolved;
            totals.cur_failed += record.cur_failed;
            totals.athena_bytes_scanned += record.athena_bytes_scanned;
            athena_cost += record.athena_cost_usd;
            self.store.save_run(&tenant, &record, now + chrono::Duration::days(RUN_RETENTION_DAYS)).await?;
        }
        totals.athena_cost_usd = format!("{:.6}", athena_cost.round_dp(6));
        Ok(totals)
    }
}

/// Keeps the record under the item size limit: region details of complete accounts go first
/// (their counts stay), then all region details, then notes (about 130 bytes an account remain:
/// 2,000 accounts of one tenant in one run fit). Past that, the entries of complete accounts go
/// (the record's counts stay; every account's full output stays in the run's result files in
/// the runs bucket for their retention).
fn fit(r: RunRecord) -> RunRecord {
    shrink(
        r,
        MAX_RUN_RECORD_BYTES,
        &[
            |r| r.accounts.iter_mut().filter(|a| a.status == ScanStatus::Complete).for_each(|a| a.regions.clear()),
            |r| r.accounts.iter_mut().for_each(|a| a.regions.clear()),
            |r| r.accounts.iter_mut().for_each(|a| a.notes.clear()),
            |r| r.accounts.retain(|a| a.status != ScanStatus::Complete),
        ],
    )
}

/// Keeps one account's output within [`MAX_ACCOUNT_RUN_BYTES`] so the run record can hold many:
/// error messages go first (action and code stay), then the region details of
/// complete regions, then all region details; the counts and the status always stay. What was
/// cut is in the function's log.
fn fit_account(a: AccountRun) -> AccountRun {
    if json_len(&a) > MAX_ACCOUNT_RUN_BYTES {
        tracing::info!(account = %a.account_id, run = %serde_json::to_string(&a).unwrap_or_default(), "account run trimmed for the state machine");
    }
    shrink(
        a,
        MAX_ACCOUNT_RUN_BYTES,
        &[
            |a| a.regions.iter_mut().flat_map(|r| r.errors.iter_mut()).for_each(|e| e.message.clear()),
            |a| a.regions.retain(|r| r.status != ScanStatus::Complete),
            |a| a.regions.clear(),
        ],
    )
}

fn json_len<T: Serialize>(v: &T) -> usize {
    serde_json::to_vec(v).map_or(0, |v| v.len())
}

/// Applies `steps` in order until `v` serialises to at most `max` bytes.
fn shrink<T: Serialize>(mut v: T, max: usize, steps: &[fn(&mut T)]) -> T {
    for step in steps {
        if json_len(&v) <= max {
            break;
        }
        step(&mut v);
    }
    v
}

pub(crate) fn failed_run(tenant: &TenantId, account: &AccountId, error_type: &str, message: &str) -> AccountRun {
    AccountRun {
        tenant_id: tenant.clone(),
        account_id: account.clone(),
        status: ScanStatus::Failed,
        regions: vec![RegionRun {
            region: GLOBAL.into(),
            status: ScanStatus::Failed,
            api_calls: 0,
            errors: vec![ActionError { action: "regions".into(), code: error_type.into(), message: message.into() }],
            duration_ms: 0,
            findings_opened: 0,
            findings_resolved: 0,
        }],
        findings_opened: 0,
        findings_resolved: 0,
        error: Some(AccountFailure { error_type: error_type.into(), message: message.into() }),
        cur: None,
        notes: vec![],
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::workflow::{MAX_ERROR_CHARS, MAX_PATH_CHARS};

    fn region(name: &str, status: ScanStatus, errors: usize) -> RegionRun {
        RegionRun {
            region: name.into(),
            status,
            api_calls: 40,
            errors: (0..errors)
                .map(|i| ActionError {
                    action: format!("ec2:Describe{i}"),
                    code: "UnauthorizedOperation".into(),
                    message:
                        "You are not authorized to perform this operation. Encoded authorization failure message: "
                            .repeat(3),
                })
                .collect(),
            duration_ms: 1234,
            findings_opened: 1,
            findings_resolved: 0,
        }
    }

    fn account(regions: Vec<RegionRun>) -> AccountRun {
        AccountRun {
            tenant_id: TenantId::parse("t-aaaaaaaaaaaaaaaa").unwrap(),
            account_id: AccountId::parse("111122223333").unwrap(),
            status: AccountRun::status_of(&regions),
            findings_opened: regions.iter().map(|r| r.findings_opened).sum(),
            findings_resolved: 0,
            regions,
            error: None,
            cur: None,
            notes: vec![],
        }
    }

    const REGIONS: [&str; 17] = [
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "ca-central-1",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eu-central-1",
        "eu-north-1",
        "ap-south-1",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-southeast-1",
        "ap-southeast-2",
        "sa-east-1",
    ];

    #[test]
    fn an_account_in_every_default_region_keeps_all_its_details() {
        let a = account(REGIONS.iter().map(|r| region(r, ScanStatus::Complete, 0)).collect());
        assert_eq!(fit_account(a.clone()), a);
    }

    #[test]
    fn a_large_account_output_is_trimmed_to_fit_the_state_machine_keeping_counts_and_status() {
        let size = |a: &AccountRun| serde_json::to_vec(a).unwrap().len();
        // Denied everywhere: 17 regions of 20 errors each.
        let denied = account(REGIONS.iter().map(|r| region(r, ScanStatus::Partial, 20)).collect());
        assert!(size(&denied) > 10 * MAX_ACCOUNT_RUN_BYTES);
        let fitted = fit_account(denied.clone());
        assert!(size(&fitted) <= MAX_ACCOUNT_RUN_BYTES, "{} bytes", size(&fitted));
        assert_eq!((fitted.status, fitted.findings_opened), (denied.status, denied.findings_opened));

        // One denied region among complete ones: the errors' actions survive, messages go first.
        let mut regions: Vec<RegionRun> = REGIONS.iter().map(|r| region(r, ScanStatus::Complete, 0)).collect();
        regions[3] = region("us-west-2", ScanStatus::Partial, 20);
        let fitted = fit_account(account(regions));
        assert!(size(&fitted) <= MAX_ACCOUNT_RUN_BYTES);
        let kept = fitted.regions.iter().find(|r| r.region == "us-west-2").unwrap();
        assert_eq!(kept.errors.len(), 20);
        assert!(kept.errors.iter().all(|e| e.message.is_empty() && e.action.starts_with("ec2:")));
    }

    fn refused(what: &str, payload: &Value) -> String {
        match ScanTask::parse(payload) {
            Err(TaskError::InvalidInput(m)) => m,
            other => panic!("{what}: {other:?}"),
        }
    }

    #[test]
    fn each_task_payload_parses_into_its_variant_under_its_documented_name() {
        let run = |run_id: &str| run_id.to_owned();
        let cases = [
            (
                json!({"task": "list_due_accounts", "run_id": "run-1"}),
                ScanTask::ListDueAccounts(ListDueAccountsInput { run_id: run("run-1") }),
            ),
            (
                json!({"task": "scan_account", "run_id": "run-1", "tenant_id": "t-aaaaaaaaaaaaaaaa", "account_id": "111122223333"}),
                ScanTask::ScanAccount(ScanAccountInput {
                    run_id: run("run-1"),
                    tenant_id: TenantId::parse("t-aaaaaaaaaaaaaaaa").unwrap(),
                    account_id: AccountId::parse("111122223333").unwrap(),
                }),
            ),
            (
                json!({"task": "finish_run", "run_id": "run-1", "results": {"Bucket": "b", "Key": "runs/run-1/results/m/manifest.json"}}),
                ScanTask::FinishRun(FinishRunInput {
                    run_id: run("run-1"),
                    results: ResultWriterDetails {
                        bucket: "b".into(),
                        key: "runs/run-1/results/m/manifest.json".into(),
                    },
                }),
            ),
            (
                json!({"task": "refresh_price_list"}),
                ScanTask::RefreshPriceList(RefreshPriceListInput { regions: None }),
            ),
            (
                json!({"task": "refresh_price_list", "regions": ["us-east-1"]}),
                ScanTask::RefreshPriceList(RefreshPriceListInput { regions: Some(vec!["us-east-1".into()]) }),
            ),
            (json!({"task": "digest"}), ScanTask::Digest(DigestInput {})),
            (json!({"task": "index_due_accounts"}), ScanTask::IndexDueAccounts(IndexDueAccountsInput {})),
        ];
        for (payload, task) in cases {
            assert_eq!(ScanTask::parse(&payload).unwrap(), task, "{payload}");
            assert_eq!(serde_json::to_value(&task).unwrap(), payload);
        }
        // A Map item's output as finish_run reads it from a result file: a scan output, or a
        // caught failure (Step Functions' `Error` and `Cause`).
        let scanned = account(vec![region("us-east-1", ScanStatus::Partial, 1)]);
        let items: Vec<AccountRun> = serde_json::from_value(json!([scanned,
            {"tenant_id": "t-aaaaaaaaaaaaaaaa", "account_id": "444455556666", "status": "failed",
             "error": {"Error": "AccountRevoked", "Cause": "denied"}}]))
        .unwrap();
        assert_eq!(items[0], scanned);
        assert_eq!(items[1].error.as_ref().unwrap().error_type, "AccountRevoked");
    }

    #[test]
    fn malformed_payloads_are_invalid_input_naming_what_is_wrong() {
        let scan = json!({"task": "scan_account", "run_id": "r1", "tenant_id": "t-aaaaaaaaaaaaaaaa", "account_id": "111122223333"});
        let with = |k: &str, v: Value| {
            let mut p = scan.clone();
            p[k] = v;
            p
        };
        let finish = |results: Value| json!({"task": "finish_run", "run_id": "r1", "results": results});
        for (payload, says) in [
            // Not an object: serde would read an array as the fields in order.
            (json!(null), "body: a JSON object"),
            (json!("list_due_accounts"), "body: a JSON object"),
            (json!(["list_due_accounts", "r1"]), "body: a JSON object"),
            // The task: missing, unknown, not a string.
            (json!({}), "task: missing field `task`"),
            (json!({"run_id": "r1"}), "task: missing field `task`"),
            (json!({"task": "scan_everything", "run_id": "r1"}), "task: unknown variant `scan_everything`, expected one of `list_due_accounts`, `scan_account`, `finish_run`, `refresh_price_list`"),
            (json!({"task": "ListDueAccounts", "run_id": "r1"}), "task: unknown variant `ListDueAccounts`"),
            (json!({"task": "", "run_id": "r1"}), "task: unknown variant ``"),
            (json!({"task": 0, "run_id": "r1"}), "task: invalid type: integer `0`"),
            (json!({"task": true, "run_id": "r1"}), "task: invalid type: boolean `true`"),
            (json!({"task": null, "run_id": "r1"}), "task: invalid type: null"),
            (json!({"task": ["list_due_accounts"], "run_id": "r1"}), "task: invalid type: sequence"),
            (json!({"task": {"list_due_accounts": {}}, "run_id": "r1"}), "task: invalid type: map"),
            // An extra field, in each task and nested.
            (json!({"task": "list_due_accounts", "run_id": "r1", "extra": 1}), "extra: unknown field `extra`"),
            (with("acount_id", json!("x")), "acount_id: unknown field `acount_id`"),
            (with("task2", json!("finish_run")), "task2: unknown field `task2`"),
            (json!({"task": "finish_run", "run_id": "r1", "results": {"Bucket": "b", "Key": "k"}, "force": true}), "force: unknown field"),
            (json!({"task": "refresh_price_list", "regions": null, "force": true}), "force: unknown field"),
            (finish(json!({"Bucket": "b", "Key": "k", "MapRunArn": "x"})), "results: unknown field `MapRunArn`"),
            // A missing field or one of the wrong type.
            (json!({"task": "list_due_accounts"}), "run_id: missing field `run_id`"),
            (json!({"task": "finish_run", "run_id": "r1"}), "results: missing field `results`"),
            (json!({"task": "list_due_accounts", "run_id": 5}), "run_id: invalid type: integer `5`, expected a string"),
            (json!({"task": "list_due_accounts", "run_id": null}), "run_id: invalid type: null"),
            (with("account_id", json!(111122223333u64)), "account_id: invalid type: integer `111122223333`"),
            (with("tenant_id", json!({"id": "t-aaaaaaaaaaaaaaaa"})), "tenant_id: invalid type: map"),
            // Ids are parsed where they enter: a malformed one never reaches the store.
            (with("tenant_id", json!("t-1")), "tenant_id: a tenant id is 't-' followed by 16"),
            (with("account_id", json!("1111-2222-3333")), "account_id: an AWS account id is exactly 12 digits"),
            (finish(json!({})), "results.Bucket: missing field `Bucket`"),
            (finish(json!([])), "results: invalid type: sequence, expected an object {\"Bucket\", \"Key\"}"),
            (finish(json!(["b", "runs/r1/results/m/manifest.json"])), "results: invalid type: sequence"),
            (finish(json!({"Bucket": "b"})), "results.Key: missing field `Key`"),
            (finish(json!({"Bucket": "b", "Key": 7})), "results.Key: invalid type: integer `7`"),
            (finish(json!({"bucket": "b", "key": "k"})), "results: unknown field `bucket`"),
            (json!({"task": "refresh_price_list", "regions": "us-east-1"}), "regions: invalid type: string \"us-east-1\", expected a sequence"),
            (json!({"task": "refresh_price_list", "regions": [1]}), "regions[0]: invalid type: integer `1`"),
            (json!({"task": "digest", "tenant_id": "t-aaaaaaaaaaaaaaaa"}), "tenant_id: unknown field `tenant_id`"),
            (json!({"task": "digest", "dry_run": true}), "dry_run: unknown field `dry_run`"),
        ] {
            let message = refused(&payload.to_string(), &payload);
            assert!(message.starts_with(says), "{payload}: {message}");
        }
    }

    #[test]
    fn a_huge_payload_is_refused_with_a_bounded_message() {
        let huge = "é".repeat(1 << 20);
        let bounded = |m: &str| m.chars().count() <= MAX_PATH_CHARS + MAX_ERROR_CHARS + 100;
        let m = refused("huge task", &json!({"task": huge, "run_id": "r1"}));
        assert!(bounded(&m) && m.starts_with("task: unknown variant `éé"), "{m}");
        let tasks =
            "`list_due_accounts`, `scan_account`, `finish_run`, `refresh_price_list`, `digest`, `index_due_accounts`";
        assert!(m.ends_with(&format!("expected one of {tasks}")));
        let mut field = json!({"task": "list_due_accounts", "run_id": "r1"});
        field[&huge] = json!(1);
        let m = refused("huge field name", &field);
        assert!(bounded(&m) && m.contains("unknown field"), "{m}");
        let m = refused("huge wrong type", &json!({"task": "refresh_price_list", "regions": huge}));
        assert!(bounded(&m) && m.starts_with("regions: invalid type: string"), "{m}");
        let regions = vec![huge.clone(); 64];
        let m = refused("huge list", &json!({"task": "refresh_price_list", "regions": [regions, 1]}));
        assert!(bounded(&m) && m.starts_with("regions[0]: invalid type: sequence"), "{m}");
        // Deep nesting, within what the Lambda runtime's JSON parser takes.
        let mut deep = json!([]);
        for _ in 0..100 {
            deep = json!([deep]);
        }
        assert!(refused("deep", &json!({"task": "finish_run", "run_id": "r1", "results": {"Bucket": deep}}))
            .starts_with("results.Bucket: invalid type: sequence"));
        // A huge value of the right type parses; the task's own check refuses it.
        let ScanTask::ListDueAccounts(p) =
            ScanTask::parse(&json!({"task": "list_due_accounts", "run_id": huge})).unwrap()
        else {
            panic!("not list_due_accounts")
        };
        assert!(matches!(run_id(&p.run_id), Err(TaskError::InvalidInput(m)) if m.len() < 100));
    }

    #[test]
    fn two_thousand_accounts_of_one_tenant_fit_one_run_record_with_every_account() {
        let tenant = TenantId::parse("t-aaaaaaaaaaaaaaaa").unwrap();
        let accounts: Vec<AccountRun> = (0..2_000u64)
            .map(|i| {
                let mut a = account(REGIONS.iter().map(|r| region(r, ScanStatus::Complete, 0)).collect());
                a.account_id = AccountId::parse(&format!("{:012}", 100_000_000_000 + i)).unwrap();
                a.notes = vec!["Compute Optimizer is not enrolled".into()];
                a
            })
            .collect();
        let record = fit(RunRecord::new("run-1", &tenant, accounts, Utc::now()));
        assert_eq!(record.accounts.len(), 2_000, "every account keeps its entry");
        assert!(json_len(&record) <= MAX_RUN_RECORD_BYTES, "{} bytes", json_len(&record));
        assert_eq!(record.complete, 2_000);
        // Past what fits, complete accounts' entries go; the counts and the others stay.
        let many: Vec<AccountRun> = (0..4_000u64)
            .map(|i| {
                let mut a = account(vec![region("us-east-1", ScanStatus::Complete, 0)]);
                a.account_id = AccountId::parse(&format!("{:012}", 100_000_000_000 + i)).unwrap();
                if i % 100 == 0 {
                    a.status = ScanStatus::Failed;
                }
                a
            })
            .collect();
        let record = fit(RunRecord::new("run-1", &tenant, many, Utc::now()));
        assert!(json_len(&record) <= MAX_RUN_RECORD_BYTES);
        assert_eq!((record.complete, record.failed, record.accounts.len()), (3_960, 40, 40));
    }
}
