//! The scheduled scan of one account, as pure orchestration over ports: a session in the
//! customer's account ([`AccountSession`], whose AWS adapter is `costradar_aws::scan`), the store, the
//! price book and the clock. The Step Functions tasks (`tasks`) and `costradar scan` both call
//! [`Scanner::scan`], so the CLI runs exactly the Lambda's code.
//!
//! Semantics:
//! - regions are scanned concurrently, at most `max_concurrent_regions` at a time;
//! - a region whose calls all succeeded is `complete`: its findings not seen are resolved;
//!   a region with a failed call is `partial` (nothing resolved, errors name the action); a
//!   region where every listing failed is `failed`; one region never fails the account;
//! - rules run only on listings whose dependencies were listed too (no "orphaned snapshot"
//!   because DescribeVolumes was denied);
//! - AccessDenied on AssumeRole is [`ScanError::Revoked`]; the tasks mark the account revoked.

pub mod tasks;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::access::AssumeError;
use crate::domain::finding::{Finding, FindingStatus, Suppression};
use crate::domain::scan_run::{AccountRun, ActionError, RegionRun, ScanStatus, MAX_ERRORS_PER_REGION};
use crate::domain::settings::ScanSettings;
use crate::domain::{AccountId, ExternalId, RoleArn, TenantId};
use crate::pricing::{Bundled, PriceBook, RateTable};
use crate::rules::draft::{Ctx, Draft};
use crate::rules::facts::{Recommendation, RegionInventory};
use crate::rules::recommenders::{self, AwsRecommendation, Recommender};
use crate::rules::{coh, evaluate_region, settle_overlaps, SCAN_RULE_PREFIXES};
use crate::store::{FindingStore, ObservationStore, RateScope, RateStore, ResolveScope, StoreError};

/// Which listings of a region succeeded: rules only read complete listings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Listed {
    pub volumes: bool,
    pub instances: bool,
    pub snapshots: bool,
    pub images: bool,
    pub addresses: bool,
    pub nat_gateways: bool,
    pub load_balancers: bool,
    pub log_groups: bool,
    pub db_instances: bool,
    pub dynamo_tables: bool,
}

impl Listed {
    pub fn all() -> Self {
        Self {
            volumes: true,
            instances: true,
            snapshots: true,
            images: true,
            addresses: true,
            nat_gateways: true,
            load_balancers: true,
            log_groups: true,
            db_instances: true,
            dynamo_tables: true,
        }
    }

    pub fn none_succeeded(&self) -> bool {
        *self == Self::default()
    }
}

/// One region's answers.
#[derive(Clone, Debug, Default)]
pub struct RegionScan {
    pub inventory: RegionInventory,
    pub listed: Listed,
    pub api_calls: u32,
    pub errors: Vec<ActionError>,
}

/// Account-wide calls (enabled regions, Cost Optimization Hub).
#[derive(Clone, Debug, Default)]
pub struct AccountWide<T> {
    /// `None` when the calls failed.
    pub value: Option<T>,
    pub api_calls: u32,
    pub errors: Vec<ActionError>,
}

/// What Compute Optimizer or Trusted Advisor answered for the account.
#[derive(Clone, Debug, PartialEq)]
pub enum Recommended {
    /// Its recommendations, maybe none: its findings not seen again are resolved.
    Answered(Vec<AwsRecommendation>),
    /// The account cannot use it (Compute Optimizer not enrolled, Trusted Advisor without a
    /// Business or Enterprise Support plan): why, for the run record's notes. That is no error,
    /// and nothing of it is resolved.
    Unavailable(String),
}

/// What a region scan needs to know to ask CloudWatch the right questions.
#[derive(Clone, Debug)]
pub struct MetricsWindow {
    pub end: DateTime<Utc>,
    pub days: u32,
    /// Resources created after this have not been watched long enough: no metric is asked.
    pub created_before: DateTime<Utc>,
}

/// A session in one customer account, narrowed to the scan's actions.
#[async_trait]
pub trait AccountSession: Send + Sync {
    async fn enabled_regions(&self) -> AccountWide<Vec<String>>;
    async fn scan_region(&self, region: &str, window: &MetricsWindow) -> RegionScan;
    async fn recommendations(&self, account_id: &AccountId) -> AccountWide<Vec<Recommendation>>;

    /// Compute Optimizer's recommendations in `regions` (it answers per region). A session
    /// without it answers nothing and makes no call.
    async fn compute_optimizer(&self, _account_id: &AccountId, _regions: &[String]) -> AccountWide<Recommended> {
        AccountWide { value: None, api_calls: 0, errors: vec![] }
    }

    /// Trusted Advisor's cost-optimizing checks. A session without it answers nothing.
    async fn trusted_advisor(&self, _account_id: &AccountId) -> AccountWide<Recommended> {
        AccountWide { value: None, api_calls: 0, errors: vec![] }
    }
}

/// Opens sessions: assumes the customer's role.
#[async_trait]
pub trait SessionOpener: Send + Sync {
    async fn open(&self, target: &Target<'_>, now: DateTime<Utc>) -> Result<Arc<dyn AccountSession>, AssumeError>;
}

/// The account to scan.
#[derive(Clone, Debug)]
pub struct Target<'a> {
    pub tenant_id: &'a TenantId,
    pub external_id: &'a ExternalId,
    pub account_id: &'a AccountId,
    pub role_arn: &'a RoleArn,
    /// Empty: every enabled region.
    pub regions: &'a [String],
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// AssumeRole was denied: the role is gone or no longer trusts us.
    #[error("AssumeRole was denied: {0}")]
    Revoked(String),
    /// STS or the store was unavailable or throttled; nothing was half-written.
    #[error("{0}")]
    Transient(String),
    /// The enabled regions could not be listed, and the account names none.
    #[error("no region to scan: {0}")]
    NoRegions(String),
}

impl From<StoreError> for ScanError {
    fn from(e: StoreError) -> Self {
        Self::Transient(e.to_string())
    }
}

/// One account's scan: the run record's entry and the findings it upserted (the CLI prints
/// them).
#[derive(Clone, Debug)]
pub struct AccountScan {
    pub run: AccountRun,
    pub findings: Vec<Finding>,
}

/// What the scan keeps between runs (see `store::ObservationStore`).
pub const UNATTACHED_VOLUMES: &str = "ebs-unattached";
pub const LOAD_BALANCERS_WITHOUT_TARGETS: &str = "elb-no-healthy-targets";

/// The store capabilities a scan uses.
pub trait ScanFindingStore: FindingStore + ObservationStore + RateStore {}
impl<T: FindingStore + ObservationStore + RateStore> ScanFindingStore for T {}

pub struct Scanner {
    opener: Arc<dyn SessionOpener>,
    store: Arc<dyn ScanFindingStore>,
    bundled: &'static Bundled,
}

/// Region `global`: the account-wide calls in the run record.
pub const GLOBAL: &str = "global";

impl Scanner {
    pub fn new(opener: Arc<dyn SessionOpener>, store: Arc<dyn ScanFindingStore>, bundled: &'static Bundled) -> Self {
        Self { opener, store, bundled }
    }

    /// The tenant's CUR rates and the Price List cache of the scanned regions, as the receiver
    /// prices from them. A source that cannot be read is left out (logged): the bundled book
    /// still prices.
    async fn stored_rates(&self, tenant: &TenantId, regions: &[String]) -> (Option<RateTable>, Option<RateTable>) {
        tokio::join!(
            self.regions_rates(RateScope::Tenant(tenant), regions),
            self.regions_rates(RateScope::PriceList, regions)
        )
    }

    async fn regions_rates(&self, scope: RateScope<'_>, regions: &[String]) -> Option<RateTable> {
        let mut all = RateTable::default();
        for region in regions {
            match self.store.get_region_rates(scope, region).await {
                Ok(t) => all.extend(t),
                Err(e) => tracing::warn!(error = %e, region = %region, "stored rates unreadable; priced without them"),
            }
        }
        (!all.is_empty()).then_some(all)
    }

    /// Scans one account: assume, list regions, scan them concurrently, evaluate the rules,
    /// upsert the findings, resolve the unseen ones of complete regions.
    pub async fn scan(
        &self,
        target: &Target<'_>,
        settings: &ScanSettings,
        now: DateTime<Utc>,
    ) -> Result<AccountScan, ScanError> {
        let session = self.opener.open(target, now).await.map_err(|e| match e {
            AssumeError::AccessDenied(m) => ScanError::Revoked(m),
            other => ScanError::Transient(format!("AssumeRole: {other}")),
        })?;
        let started = Instant::now();
        let mut global = RegionRun {
            region: GLOBAL.into(),
            status: ScanStatus::Complete,
            api_calls: 0,
            errors: vec![],
            duration_ms: 0,
            findings_opened: 0,
            findings_resolved: 0,
        };
        let regions = regions_to_scan(session.as_ref(), target, &mut global).await?;
        let collected = collect(&session, target, settings, now, &regions, &mut global).await;
        let recs = (&collected.recs[..], &collected.aws[..]);
        let (mut region_runs, findings) = self.evaluate(target, settings, now, &regions, collected.scans, recs).await?;
        self.persist(target, now, &findings, &mut region_runs, &collected.answered).await?;
        let mut run = account_run(target, global, region_runs, started);
        run.notes = collected.notes;
        Ok(AccountScan { run, findings })
    }

    /// Evaluates the collected answers (memory, rules, overlaps, suppressions) into region runs and findings.
    async fn evaluate(
        &self,
        target: &Target<'_>,
        settings: &ScanSettings,
        now: DateTime<Utc>,
        regions: &[String],
        mut scans: HashMap<String, (RegionScan, u64)>,
        (recs, aws): (&[Recommendation], &[AwsRecommendation]),
    ) -> Result<(Vec<RegionRun>, Vec<Finding>), ScanError> {
        let (tenant_rates, price_list) = self.stored_rates(target.tenant_id, regions).await;
        let book = PriceBook { tenant: tenant_rates.as_ref(), price_list: price_list.as_ref(), bundled: self.bundled };
        let ctx = Ctx { book: &book, settings, now, account_id: target.account_id.as_str() };
        let mut drafts: Vec<Draft> = Vec::new();
        let mut region_runs: Vec<RegionRun> = Vec::new();
        for region in regions {
            let Some((scan, ms)) = scans.remove(region) else {
                region_runs.push(RegionRun {
                    region: region.clone(),
                    status: ScanStatus::Failed,
                    api_calls: 0,
                    errors: vec![ActionError {
                        action: "scan".into(),
                        code: "InternalError".into(),
                        message: "the region's scan stopped unexpectedly".into(),
                    }],
                    duration_ms: 0,
                    findings_opened: 0,
                    findings_resolved: 0,
                });
                continue;
            };
            let st = if scan.listed.none_succeeded() {
                ScanStatus::Failed
            } else if scan.errors.is_empty() {
                ScanStatus::Complete
            } else {
                ScanStatus::Partial
            };
            let mut inv = scan.inventory;
            self.remember(target, &mut inv, &scan.listed, now).await?;
            keep_dependable(&mut inv, &scan.listed);
            drafts.extend(evaluate_region(&ctx, &inv));
            let mut errors = scan.errors;
            errors.truncate(MAX_ERRORS_PER_REGION);
            region_runs.push(RegionRun {
                region: region.clone(),
                status: st,
                api_calls: scan.api_calls,
                errors,
                duration_ms: ms,
                findings_opened: 0,
                findings_resolved: 0,
            });
        }
        let scanned: HashSet<&str> = regions.iter().map(String::as_str).collect();
        let extra = coh::merge(&mut drafts, recs, &scanned);
        drafts.extend(extra);
        recommenders::merge(&mut drafts, aws, &scanned);
        settle_overlaps(&mut drafts);
        let suppressions = self.store.list_suppressions(target.tenant_id).await?;
        let findings: Vec<Finding> = drafts.into_iter().map(|d| to_finding(d, target, now, &suppressions)).collect();
        Ok((region_runs, findings))
    }

    /// Upserts the findings, then resolves what complete regions no longer show; counts both per region.
    async fn persist(
        &self,
        target: &Target<'_>,
        now: DateTime<Utc>,
        findings: &[Finding],
        region_runs: &mut [RegionRun],
        answered: &[&'static str],
    ) -> Result<(), ScanError> {
        let summary = self.store.upsert_findings(target.tenant_id, findings).await?;
        let new: HashSet<&String> = summary.opened.iter().chain(&summary.reopened).collect();
        let mut prefixes: Vec<&str> = SCAN_RULE_PREFIXES.to_vec();
        prefixes.extend_from_slice(answered);
        for rr in region_runs {
            rr.findings_opened = findings
                .iter()
                .filter(|f| f.region == rr.region && f.status == FindingStatus::Open && new.contains(&f.key()))
                .count() as u32;
            if rr.status == ScanStatus::Complete {
                let scope = ResolveScope {
                    account_id: target.account_id,
                    region: &rr.region,
                    rule_prefixes: &prefixes,
                    seen_before: now,
                };
                rr.findings_resolved = self.store.resolve_unseen(target.tenant_id, &scope, now).await?.len() as u32;
            }
        }
        Ok(())
    }

    /// Fills `unattached_since` and `no_targets_since` from the scan's memory; updates the
    /// memory only from complete listings.
    async fn remember(
        &self,
        target: &Target<'_>,
        inv: &mut RegionInventory,
        listed: &Listed,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if listed.volumes {
            let ids: Vec<String> = inv
                .volumes
                .iter()
                .filter(|v| v.state == "available" && v.attached_to.is_empty())
                .map(|v| v.id.clone())
                .collect();
            let since = self
                .store
                .observe(target.tenant_id, target.account_id, &inv.region, UNATTACHED_VOLUMES, &ids, now)
                .await?;
            for v in &mut inv.volumes {
                v.unattached_since = since.get(&v.id).map(|s| (*s).max(v.created));
            }
        }
        if listed.load_balancers {
            let ids: Vec<String> =
                inv.load_balancers.iter().filter(|l| l.has_no_healthy_target()).map(|l| l.arn.clone()).collect();
            let since = self
                .store
                .observe(target.tenant_id, target.account_id, &inv.region, LOAD_BALANCERS_WITHOUT_TARGETS, &ids, now)
                .await?;
            for l in &mut inv.load_balancers {
                l.no_targets_since = since.get(&l.arn).map(|s| (*s).max(l.created));
            }
        }
        Ok(())
    }
}

/// What the scan collected from the account.
struct Collected {
    /// Each region's answers and how long its scan took; a region whose scan panicked is missing.
    scans: HashMap<String, (RegionScan, u64)>,
    /// Cost Optimization Hub's recommendations: empty when not asked for or when its calls failed.
    recs: Vec<Recommendation>,
    /// Compute Optimizer's and Trusted Advisor's, likewise.
    aws: Vec<AwsRecommendation>,
    /// The rule prefixes of the recommenders that answered (`coh.`, `co.`, `ta.`): only their
    /// unseen findings are resolved.
    answered: Vec<&'static str>,
    /// Why a recommender could not be read, when that is no error (the run record's notes).
    notes: Vec<String>,
}

/// The regions the account names, or else its enabled regions (whose calls count in `global`).
async fn regions_to_scan(
    session: &dyn AccountSession,
    target: &Target<'_>,
    global: &mut RegionRun,
) -> Result<Vec<String>, ScanError> {
    if !target.regions.is_empty() {
        return Ok(target.regions.to_vec());
    }
    let r = session.enabled_regions().await;
    global.api_calls += r.api_calls;
    global.errors.extend(r.errors);
    match r.value {
        Some(v) => Ok(v),
        None => {
            let why = global.errors.first().map(|e| format!("{}: {}", e.action, e.code)).unwrap_or_default();
            Err(ScanError::NoRegions(why))
        }
    }
}

/// Scans the regions (bounded by a semaphore) and asks AWS's recommenders at once; their calls count in `global`.
async fn collect(
    session: &Arc<dyn AccountSession>,
    target: &Target<'_>,
    settings: &ScanSettings,
    now: DateTime<Utc>,
    regions: &[String],
    global: &mut RegionRun,
) -> Collected {
    let window = MetricsWindow {
        end: now,
        days: settings.idle_window_days,
        created_before: now - Ctx::days(settings.idle_min_age_days),
    };
    let semaphore = Arc::new(tokio::sync::Semaphore::new(settings.max_concurrent_regions as usize));
    let mut set = tokio::task::JoinSet::new();
    for region in regions {
        let (session, semaphore, region, window) = (session.clone(), semaphore.clone(), region.clone(), window.clone());
        set.spawn(async move {
            let _permit = semaphore.acquire_owned().await.expect("the semaphore is never closed");
            let t = Instant::now();
            let scan = session.scan_region(&region, &window).await;
            (region, scan, t.elapsed().as_millis() as u64)
        });
    }
    let (asked, joined) = tokio::join!(ask_recommenders(session, target, settings, regions), async {
        let mut out = Vec::new();
        while let Some(r) = set.join_next().await {
            out.push(r);
        }
        out
    });
    let mut scans: HashMap<String, (RegionScan, u64)> = HashMap::new();
    for r in joined {
        match r {
            Ok((region, scan, ms)) => {
                scans.insert(region, (scan, ms));
            }
            // A panic in one region's scan (a bug) fails that region, not the account.
            Err(e) => tracing::error!(error = %e, "a region scan panicked"),
        }
    }
    let mut collected = Collected { scans, recs: Vec::new(), aws: Vec::new(), answered: Vec::new(), notes: Vec::new() };
    if let Some(c) = asked.coh {
        global.api_calls += c.api_calls;
        global.errors.extend(c.errors);
        if let Some(v) = c.value {
            collected.answered.push(coh::PREFIX);
            collected.recs = v;
        }
    }
    for (who, a) in asked.others {
        global.api_calls += a.api_calls;
        global.errors.extend(a.errors);
        match a.value {
            Some(Recommended::Answered(v)) => {
                collected.answered.push(who.prefix());
                collected.aws.extend(v);
            }
            Some(Recommended::Unavailable(why)) => collected.notes.push(format!("{}: {why}", who.name())),
            None => {}
        }
    }
    collected
}

/// The AWS recommenders' answers, each asked only when the settings say so.
struct Asked {
    coh: Option<AccountWide<Vec<Recommendation>>>,
    others: Vec<(Recommender, AccountWide<Recommended>)>,
}

/// Asks Cost Optimization Hub, Compute Optimizer and Trusted Advisor at once.
async fn ask_recommenders(
    session: &Arc<dyn AccountSession>,
    target: &Target<'_>,
    settings: &ScanSettings,
    regions: &[String],
) -> Asked {
    let account = target.account_id;
    let coh = async {
        if settings.cost_optimization_hub {
            Some(session.recommendations(account).await)
        } else {
            None
        }
    };
    let co = async {
        if settings.compute_optimizer {
            Some(session.compute_optimizer(account, regions).await)
        } else {
            None
        }
    };
    let ta = async {
        if settings.trusted_advisor {
            Some(session.trusted_advisor(account).await)
        } else {
            None
        }
    };
    let (coh, co, ta) = tokio::join!(coh, co, ta);
    let others = [(Recommender::ComputeOptimizer, co), (Recommender::TrustedAdvisor, ta)]
        .into_iter()
        .filter_map(|(who, a)| Some((who, a?)))
        .collect();
    Asked { coh, others }
}

/// The account's run record: `global` first, then the regions sorted by name.
fn account_run(
    target: &Target<'_>,
    mut global: RegionRun,
    mut region_runs: Vec<RegionRun>,
    started: Instant,
) -> AccountRun {
    region_runs.sort_by(|a, b| a.region.cmp(&b.region));
    global.errors.truncate(MAX_ERRORS_PER_REGION);
    if !global.errors.is_empty() {
        global.status = ScanStatus::Partial;
    }
    global.duration_ms = started.elapsed().as_millis() as u64;
    let mut all = vec![global];
    all.extend(region_runs);
    AccountRun {
        tenant_id: target.tenant_id.clone(),
        account_id: target.account_id.clone(),
        status: AccountRun::status_of(&all[1..]).max_with(all[0].status),
        findings_opened: all.iter().map(|r| r.findings_opened).sum(),
        findings_resolved: all.iter().map(|r| r.findings_resolved).sum(),
        regions: all,
        error: None,
        cur: None,
        notes: vec![],
    }
}

trait MaxWith {
    fn max_with(self, other: ScanStatus) -> ScanStatus;
}

impl MaxWith for ScanStatus {
    /// The account is no better than its account-wide calls: a failed Cost Optimization Hub
    /// call makes a complete account partial.
    fn max_with(self, other: ScanStatus) -> ScanStatus {
        match (self, other) {
            (ScanStatus::Complete, ScanStatus::Complete) => ScanStatus::Complete,
            (ScanStatus::Failed, _) => ScanStatus::Failed,
            _ => ScanStatus::Partial,
        }
    }
}

/// Drops facts whose rules need a listing that failed, so a denied call never looks like an
/// absence: no orphaned snapshot without the volumes and AMIs, no idle Elastic IP without the
/// NAT gateways and load balancers, no stopped-instance cost without the volumes and addresses.
pub fn keep_dependable(inv: &mut RegionInventory, listed: &Listed) {
    if !(listed.volumes && listed.images) {
        inv.snapshots.clear();
    }
    if !(listed.nat_gateways && listed.load_balancers) {
        inv.addresses.clear();
    }
    if !(listed.volumes && listed.addresses) {
        inv.instances.clear();
    }
    if !listed.instances {
        // A volume's instance unknown: only the unattached and type rules still hold.
        for v in &mut inv.volumes {
            if !v.attached_to.is_empty() {
                v.attached_to = vec!["(instances not listed)".into()];
            }
        }
    }
    // What is known in full after the clearing above: a rule may take a resource missing from
    // these as gone (recovery points of deleted sources).
    let complete = [
        ("volumes", listed.volumes),
        ("instances", listed.instances && listed.volumes && listed.addresses),
        ("db_instances", listed.db_instances),
        ("dynamo_tables", listed.dynamo_tables),
    ];
    inv.listed_completely.extend(complete.into_iter().filter(|(_, ok)| *ok).map(|(kind, _)| kind.to_owned()));
}

fn to_finding(d: Draft, target: &Target<'_>, now: DateTime<Utc>, suppressions: &[Suppression]) -> Finding {
    let hit = suppressions.iter().find(|s| s.matches(target.account_id, &d.rule, &d.resource_id, &d.tags)).map(|s| {
        if s.reason.is_empty() {
            s.id.clone()
        } else {
            format!("{}: {}", s.id, s.reason)
        }
    });
    let mut f = d.into_finding(target.tenant_id, target.account_id, now);
    if let Some(by) = hit {
        f.status = FindingStatus::Suppressed;
        f.suppressed_by = Some(by);
    }
    f
}
