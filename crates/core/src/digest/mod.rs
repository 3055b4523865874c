//! The tenant digest (issue #19): once a day, or once a week on the tenant's weekday, a summary
//! of what is new, what was realised, the five largest open findings and the CUR's anomalies,
//! sent to the tenant's webhook and the operator's SNS topic.
//!
//! # When
//!
//! The scan function's `digest` task ([`DigestService::run_all`], invoked daily by EventBridge
//! Scheduler) looks at every active tenant. A tenant's digest is due ([`due`]):
//! - `daily`: every UTC day, covering the previous UTC day (`D-1 00:00` to `D 00:00`);
//! - `weekly`: on its weekday (Monday by default), covering the 7 days before that day;
//! - `off` (the default): never.
//!
//! Each period is sent at most once: the sender first writes the marker `DIGEST#<period>`
//! ([`DigestLedger::claim_digest`], a conditional write), so a second invocation on the same
//! day finds it and sends nothing. A digest that reached no target gives its marker back, so
//! the Scheduler's retry (or a later invocation that day) sends it again; one that reached some
//! target keeps it (no target gets it twice). A weekly digest whose weekday's invocations all
//! failed is not sent on another day: it waits for the next week.
//!
//! # Nothing to say
//!
//! A digest with no new finding, no realised saving and no anomaly in its period is **not
//! sent** (and no marker is written: a later invocation of the same day may still have news).
//! The five largest open findings alone are no news: they would repeat every day.
//!
//! # What it says
//!
//! See [`Digest`]: new findings first seen in the period and still open (count, total monthly
//! saving counting a saving included in another once), realised savings of the period (the
//! ledger's fixes, [`crate::findings::savings::fixes`]: one per resource per fix), the five
//! open findings with the largest saving that counts, and the `cur.anomaly` findings first seen
//! in the period, or "no CUR analysis" when no account of the tenant has a CUR export connected.

mod message;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

pub use message::Digest;

use crate::domain::finding::{Finding, FindingStatus};
use crate::domain::settings::{DigestFrequency, DigestSettings};
use crate::domain::{Tenant, TenantId, TenantStatus};
use crate::findings::savings::fixes;
use crate::receiver::notify::{Notifier, Target};
use crate::store::{DigestStore, FindingFilter, FindingSort, PageRequest, StoreError, MAX_PAGE};

/// The largest open findings a digest lists.
pub const TOP_OPEN: usize = 5;
/// Pages of 100 findings read for the period's new findings: beyond, the count says "at least".
pub const MAX_NEW_PAGES: usize = 20;
/// Pages read for the five largest open findings (a page may hold suppressed or included ones).
pub const MAX_TOP_PAGES: usize = 5;
/// Anomalies a digest lists (it counts them all).
pub const MAX_ANOMALIES: usize = 20;
/// Tenants one `digest` task looks at; the rest are counted as not reached.
pub const MAX_TENANTS_PER_RUN: usize = 2000;
/// Markers are kept this long, then expire (TTL).
pub const MARKER_RETENTION_DAYS: i64 = 60;

/// A digest's period: `[from, to)`, named `<frequency>-<yyyy-mm-dd of to>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Period {
    pub frequency: DigestFrequency,
    pub id: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Period {
    fn of(frequency: DigestFrequency, day: NaiveDate, days: i64) -> Self {
        let to = day.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
        let name = if frequency == DigestFrequency::Weekly { "weekly" } else { "daily" };
        Self { frequency, id: format!("{name}-{day}"), from: to - Duration::days(days), to }
    }

    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && at < self.to
    }
}

/// The period whose digest is due at `now`, if any (see the module docs).
pub fn due(settings: &DigestSettings, now: DateTime<Utc>) -> Option<Period> {
    let today = now.date_naive();
    match settings.frequency {
        DigestFrequency::Off => None,
        DigestFrequency::Daily => Some(Period::of(DigestFrequency::Daily, today, 1)),
        DigestFrequency::Weekly => {
            (today.weekday() == settings.weekday.chrono()).then(|| Period::of(DigestFrequency::Weekly, today, 7))
        }
    }
}

/// What happened to one tenant's digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Outcome {
    /// Off, deleted, or not its weekday.
    NotDue,
    /// The period's marker exists: another invocation sent it.
    AlreadySent { period: String },
    /// Nothing new, realised or anomalous in the period: not sent.
    NothingToSay { period: String },
    /// No SNS topic configured and no webhook: nowhere to send.
    NoTarget { period: String },
    /// Sent; `failed` targets did not take it (their names).
    Sent { period: String, delivered: Vec<String>, failed: Vec<String> },
}

/// One `digest` task's counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DigestRun {
    pub tenants: u32,
    pub sent: u32,
    pub not_due: u32,
    pub already_sent: u32,
    pub nothing_to_say: u32,
    pub no_target: u32,
    /// Tenants whose digest failed (a store error, or no target took it): logged, never
    /// stopping the others.
    pub failed: u32,
    /// Tenants beyond [`MAX_TENANTS_PER_RUN`], not looked at.
    pub not_reached: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the digest reached no target: {0}")]
    Undelivered(String),
}

/// Builds and sends digests through the store and the notification port.
pub struct DigestService {
    store: Arc<dyn DigestStore>,
    notifier: Arc<dyn Notifier>,
    /// The operator's SNS topic (`NOTIFY_TOPIC_ARN`).
    operator_topic: Option<String>,
}

impl DigestService {
    pub fn new(store: Arc<dyn DigestStore>, notifier: Arc<dyn Notifier>, operator_topic: Option<String>) -> Self {
        Self { store, notifier, operator_topic }
    }

    /// A service that only builds digests ([`Self::build`], the CLI's dry run): it has no
    /// target, so [`Self::send`] answers [`Outcome::NoTarget`] and nothing is ever sent.
    pub fn build_only(store: Arc<dyn DigestStore>) -> Self {
        Self { store, notifier: Arc::new(NoSending), operator_topic: None }
    }

    /// Every active tenant's due digest, each tenant's failure counted and logged, never
    /// stopping the others. Only listing the tenants can fail the whole task.
    pub async fn run_all(&self, now: DateTime<Utc>) -> Result<DigestRun, StoreError> {
        let mut run = DigestRun::default();
        let mut page = PageRequest::first(MAX_PAGE);
        loop {
            let p = self.store.list_tenants(&page).await?;
            for t in &p.items {
                if run.tenants as usize == MAX_TENANTS_PER_RUN {
                    run.not_reached = true;
                    tracing::warn!("more tenants than one digest task takes: the rest get none today");
                    return Ok(run);
                }
                run.tenants += 1;
                match self.send(t, now).await {
                    Ok(o) => run.count(&o),
                    Err(e) => {
                        run.failed += 1;
                        tracing::warn!(tenant = %t.id, error = %e, "digest failed");
                    }
                }
            }
            match p.next_cursor {
                Some(c) => page.cursor = Some(c),
                None => return Ok(run),
            }
        }
    }

    /// The tenant's digest, if due and not sent yet: claimed, built, sent.
    pub async fn send(&self, tenant: &Tenant, now: DateTime<Utc>) -> Result<Outcome, DigestError> {
        let Some(period) = due(&tenant.digest, now).filter(|_| tenant.status == TenantStatus::Active) else {
            return Ok(Outcome::NotDue);
        };
        let targets = self.targets(tenant);
        if targets.is_empty() {
            return Ok(Outcome::NoTarget { period: period.id });
        }
        let digest = self.build(tenant, &period).await?;
        if !digest.has_news() {
            return Ok(Outcome::NothingToSay { period: period.id });
        }
        let expires = now + Duration::days(MARKER_RETENTION_DAYS);
        if !self.store.claim_digest(&tenant.id, &period.id, now, expires).await? {
            return Ok(Outcome::AlreadySent { period: period.id });
        }
        let body = digest.payload();
        let (mut delivered, mut failed) = (Vec::new(), Vec::new());
        for target in &targets {
            match self.notifier.send(target, &body).await {
                Ok(()) => delivered.push(target.name().to_owned()),
                Err(e) => {
                    tracing::warn!(tenant = %tenant.id, target = target.name(), error = %e, "digest not delivered");
                    failed.push(target.name().to_owned());
                }
            }
        }
        if delivered.is_empty() {
            self.store.release_digest(&tenant.id, &period.id).await?;
            return Err(DigestError::Undelivered(failed.join(", ")));
        }
        Ok(Outcome::Sent { period: period.id, delivered, failed })
    }

    /// Where the tenant's digest goes: the operator's topic and the tenant's webhook.
    fn targets(&self, tenant: &Tenant) -> Vec<Target> {
        let topic = self.operator_topic.iter().map(|t| Target::Sns { topic_arn: t.clone() });
        let hook = tenant.notify_webhook_url.iter().map(|u| Target::Webhook { url: u.clone() });
        topic.chain(hook).collect()
    }

    /// The digest of `period`, from the store (nothing is written).
    pub async fn build(&self, tenant: &Tenant, period: &Period) -> Result<Digest, StoreError> {
        let (new, complete) = self.first_seen_in(&tenant.id, period).await?;
        let realised_entries = self.store.realised_savings(&tenant.id).await?;
        let fixes = fixes(&realised_entries).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let realised: Vec<Decimal> = fixes
            .iter()
            .filter(|f| period.contains(f.counted.realised_at))
            .map(|f| f.counted.monthly_savings_usd)
            .collect();
        let anomalies: Option<Vec<Finding>> = match self.has_cur(&tenant.id).await? {
            true => Some(new.iter().filter(|f| f.rule == crate::cur::tasks::ANOMALY_RULE).cloned().collect()),
            false => None,
        };
        let anomaly_count = anomalies.as_ref().map_or(0, |a| a.len() as u32);
        let anomalies = anomalies.map(|a| a.into_iter().take(MAX_ANOMALIES).collect());
        let open: Vec<Finding> = new.into_iter().filter(|f| f.status == FindingStatus::Open).collect();
        Ok(Digest {
            tenant_id: tenant.id.clone(),
            tenant_name: tenant.name.clone(),
            period: period.clone(),
            new_findings: open.len() as u32,
            new_complete: complete,
            new_savings_usd: open.iter().filter(|f| f.counts_in_total()).filter_map(|f| f.monthly_savings_usd).sum(),
            realised_fixes: realised.len() as u32,
            realised_usd: realised.iter().sum(),
            top_open: self.top_open(&tenant.id).await?,
            anomalies,
            anomaly_count,
        })
    }

    /// Findings first seen in the period (any status but suppressed), newest first, and whether
    /// the read reached the period's start within [`MAX_NEW_PAGES`].
    async fn first_seen_in(&self, tenant: &TenantId, period: &Period) -> Result<(Vec<Finding>, bool), StoreError> {
        let mut out = Vec::new();
        let mut page = PageRequest::first(MAX_PAGE);
        for _ in 0..MAX_NEW_PAGES {
            let p = self.store.query_findings(tenant, &FindingFilter::default(), FindingSort::FirstSeen, &page).await?;
            let reached_start = p.items.iter().any(|f| f.first_seen < period.from);
            out.extend(
                p.items.into_iter().filter(|f| period.contains(f.first_seen) && f.status != FindingStatus::Suppressed),
            );
            match p.next_cursor {
                Some(c) if !reached_start => page.cursor = Some(c),
                _ => return Ok((out, true)),
            }
        }
        Ok((out, false))
    }

    /// The [`TOP_OPEN`] open findings with the largest saving that counts in totals.
    async fn top_open(&self, tenant: &TenantId) -> Result<Vec<Finding>, StoreError> {
        let filter = FindingFilter { status: Some(FindingStatus::Open), ..FindingFilter::default() };
        let mut out = Vec::new();
        let mut page = PageRequest::first(MAX_PAGE);
        for _ in 0..MAX_TOP_PAGES {
            let p = self.store.query_findings(tenant, &filter, FindingSort::Savings, &page).await?;
            let counting = p
                .items
                .into_iter()
                .filter(|f| f.counts_in_total() && f.monthly_savings_usd.is_some_and(|s| s > Decimal::ZERO));
            out.extend(counting);
            match p.next_cursor {
                Some(c) if out.len() < TOP_OPEN => page.cursor = Some(c),
                _ => break,
            }
        }
        out.truncate(TOP_OPEN);
        Ok(out)
    }

    /// Whether any account of the tenant has a CUR export connected (its analyses find anomalies).
    async fn has_cur(&self, tenant: &TenantId) -> Result<bool, StoreError> {
        let mut page = PageRequest::first(MAX_PAGE);
        loop {
            let p = self.store.list_accounts(tenant, &page).await?;
            if p.items.iter().any(|a| a.cur.is_some()) {
                return Ok(true);
            }
            match p.next_cursor {
                Some(c) => page.cursor = Some(c),
                None => return Ok(false),
            }
        }
    }
}

/// The notifier of [`DigestService::build_only`]: never called (there is no target).
struct NoSending;

#[async_trait::async_trait]
impl Notifier for NoSending {
    async fn send(&self, _: &Target, _: &serde_json::Value) -> Result<(), crate::receiver::notify::NotifyError> {
        Err(crate::receiver::notify::NotifyError("this digest service only builds digests".into()))
    }
}

impl DigestRun {
    fn count(&mut self, o: &Outcome) {
        match o {
            Outcome::NotDue => self.not_due += 1,
            Outcome::AlreadySent { .. } => self.already_sent += 1,
            Outcome::NothingToSay { .. } => self.nothing_to_say += 1,
            Outcome::NoTarget { .. } => self.no_target += 1,
            Outcome::Sent { .. } => self.sent += 1,
        }
    }
}
