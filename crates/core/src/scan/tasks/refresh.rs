//! The Price List cache's refresh (the scan function's `refresh_price_list` task, daily, and
//! `costradar prices refresh`): reads every family of [`FAMILIES`] in every region asked for and
//! merges the fresh rates over the stored ones, region by region.
//!
//! - **Bounded.** One [`Budget`] for the whole refresh: at most [`MAX_REQUESTS_PER_REFRESH`]
//!   `GetProducts` requests and, in the Lambda, [`REFRESH_TIME_BUDGET`]. A read that would go
//!   past it stops; what was read completely is stored, the rest keeps its stored rates, and the
//!   report says so (`stopped`). Regions are read least recently refreshed first (by the newest
//!   date among their stored Price List rates; ties in an order that turns each day), so a
//!   refresh cut short reaches the others the next day.
//! - **A failed read keeps the last good rates.** A family read that fails, or is cut short,
//!   contributes nothing; the region's stored rates are the base the fresh ones are laid over, so
//!   that family's stored rates stay. A region none of whose reads succeeded is not written. A
//!   rate AWS stops publishing keeps its last value and its own `as_of`.
//! - **Reported.** Requests, rates, failures and what was not read, per family and in total.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

use crate::pricing::price_list::{Budget, Family, FamilyRead, PriceListError, PriceListSource, ReadOutcome, FAMILIES};
use crate::pricing::{PriceSource, RateTable};
use crate::store::{RateScope, RateStore, StoreError};

/// `GetProducts` requests one refresh may send (pages of 100 products).
pub const MAX_REQUESTS_PER_REFRESH: u32 = 2_000;
/// How long the Lambda's refresh may read before it stops and keeps what it has (the scan
/// function's timeout is 600 s).
pub const REFRESH_TIME_BUDGET: Duration = Duration::from_secs(480);
/// Failures named in the report (the log has every one).
const MAX_LISTED_FAILURES: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("{0}; the stored rates are unchanged")]
    Source(#[from] PriceListError),
    #[error("the Price List API returned no rates for {0}; the stored rates are unchanged")]
    Empty(String),
    #[error("could not store the rates: {0}")]
    Store(#[from] StoreError),
}

/// What bounds one refresh.
#[derive(Clone, Debug)]
pub struct RefreshLimits {
    pub max_requests: u32,
    pub deadline: Option<tokio::time::Instant>,
    /// Turns the order of regions that tie on freshness (the task passes the day's number).
    pub rotation: usize,
}

impl Default for RefreshLimits {
    fn default() -> Self {
        Self { max_requests: MAX_REQUESTS_PER_REFRESH, deadline: None, rotation: 0 }
    }
}

/// One family's part of a refresh, summed over its regions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FamilyCount {
    /// Rates read by complete reads.
    pub rates: usize,
    pub requests: u32,
    /// Regions where the read failed.
    pub failed: u32,
    /// Regions where the budget ran out during the read, or before it.
    pub not_read: u32,
}

/// The refresh's output (`docs/workflows.md`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RefreshReport {
    pub regions: Vec<String>,
    /// Regions whose stored rates were updated.
    pub regions_stored: usize,
    /// Fresh rates stored.
    pub rates: usize,
    /// `GetProducts` requests sent, and the cap.
    pub requests: u32,
    pub max_requests: u32,
    pub families: BTreeMap<&'static str, FamilyCount>,
    /// `<region> <family>: <error>` for the first failures.
    pub failed: Vec<String>,
    /// Why the refresh stopped before reading everything, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

/// The report as it is built, and the first errors (returned when nothing could be stored).
struct Progress {
    report: RefreshReport,
    first_source_error: Option<PriceListError>,
    first_store_error: Option<StoreError>,
}

impl Progress {
    fn fail(&mut self, what: String) {
        tracing::warn!("Price List refresh: {what}");
        if self.report.failed.len() < MAX_LISTED_FAILURES {
            self.report.failed.push(what.chars().take(300).collect());
        }
    }

    fn record(&mut self, family: &Family, region: &str, read: FamilyRead) -> Option<RateTable> {
        let count = self.report.families.entry(family.name).or_default();
        count.requests += read.requests;
        self.report.requests += read.requests;
        match read.outcome {
            ReadOutcome::Complete => {
                // Only the region asked for, whatever a source returns.
                let mut rates = RateTable::default();
                for (key, rate) in read.rates.region_rates(region) {
                    rates.insert_key(region, key.to_owned(), rate.clone());
                }
                count.rates += rates.len();
                Some(rates)
            }
            ReadOutcome::CutShort => {
                count.not_read += 1;
                None
            }
            ReadOutcome::Failed(e) => {
                count.failed += 1;
                self.fail(format!("{region} {}: {e}", family.name));
                self.first_source_error.get_or_insert(e);
                None
            }
        }
    }
}

/// Refreshes the stored Price List rates of `regions` within `limits`. An error only when nothing
/// could be stored: the read failed everywhere (`Source`), came back empty (`Empty`), or the store
/// failed (`Store`); the stored rates are then unchanged.
pub async fn refresh_prices(
    source: &dyn PriceListSource,
    store: &dyn RateStore,
    regions: &[String],
    limits: &RefreshLimits,
) -> Result<RefreshReport, RefreshError> {
    let stored = store.get_rates(RateScope::PriceList).await?;
    let queue = Mutex::new(VecDeque::from(reading_order(&stored, regions, limits.rotation)));
    let budget = Budget::new(limits.max_requests, limits.deadline);
    let report = RefreshReport {
        regions: regions.to_vec(),
        max_requests: limits.max_requests,
        families: FAMILIES.iter().map(|f| (f.name, FamilyCount::default())).collect(),
        ..RefreshReport::default()
    };
    let progress = Mutex::new(Progress { report, first_source_error: None, first_store_error: None });
    let worker = || async {
        loop {
            // The lock is let go before the region is read: the workers share one thread.
            let next = queue.lock().expect("not poisoned").pop_front();
            let Some(region) = next else { break };
            refresh_region(source, store, &stored, &region, &budget, &progress).await;
        }
    };
    // Four regions at a time: the Price List API answers a page in about a second.
    tokio::join!(worker(), worker(), worker(), worker());
    finish(progress.into_inner().expect("not poisoned"), regions, &budget)
}

/// Reads every family of one region and stores the fresh rates over the region's stored ones.
async fn refresh_region(
    source: &dyn PriceListSource,
    store: &dyn RateStore,
    stored: &RateTable,
    region: &str,
    budget: &Budget,
    progress: &Mutex<Progress>,
) {
    let mut fresh = RateTable::default();
    for family in FAMILIES {
        if budget.spent() {
            progress.lock().expect("not poisoned").report.families.entry(family.name).or_default().not_read += 1;
            continue;
        }
        let read = source.read_family(family, region, budget).await;
        let rates = progress.lock().expect("not poisoned").record(family, region, read);
        fresh.extend(rates.unwrap_or_default());
    }
    if fresh.is_empty() {
        return;
    }
    let n = fresh.len();
    let mut merged = RateTable::default();
    for (key, rate) in stored.region_rates(region) {
        merged.insert_key(region, key.to_owned(), rate.clone());
    }
    merged.extend(fresh);
    let saved = store.save_rates(RateScope::PriceList, &merged).await;
    let mut p = progress.lock().expect("not poisoned");
    match saved {
        Ok(()) => {
            p.report.rates += n;
            p.report.regions_stored += 1;
            tracing::info!(region, rates = n, stored = merged.len(), "Price List rates refreshed");
        }
        Err(e) => {
            p.fail(format!("{region}: could not store {} rates: {e}", merged.len()));
            p.first_store_error.get_or_insert(e);
        }
    }
}

/// Regions least recently refreshed first: by the newest `as_of` among a region's stored Price
/// List rates (none first), ties turned by `rotation`.
fn reading_order(stored: &RateTable, regions: &[String], rotation: usize) -> Vec<String> {
    let n = regions.len().max(1);
    let newest = |region: &str| {
        stored
            .region_rates(region)
            .filter(|(_, r)| r.source == PriceSource::PriceListApi)
            .map(|(_, r)| r.as_of.clone())
            .max()
            .unwrap_or_default()
    };
    let mut order: Vec<(String, usize, &String)> =
        regions.iter().enumerate().map(|(i, r)| (newest(r), (i + n - rotation % n) % n, r)).collect();
    order.sort();
    order.into_iter().map(|(_, _, r)| r.clone()).collect()
}

fn finish(p: Progress, regions: &[String], budget: &Budget) -> Result<RefreshReport, RefreshError> {
    let mut report = p.report;
    let not_read: u32 = report.families.values().map(|c| c.not_read).sum();
    if not_read > 0 {
        report.stopped = Some(format!(
            "the budget ({} requests{}) ran out: {not_read} family reads were not done or not finished; \
             their regions keep their stored rates",
            budget.max(),
            if budget.used() < budget.max() { ", or the time" } else { "" },
        ));
        tracing::warn!(not_read, requests = report.requests, "Price List refresh stopped at its budget");
    }
    tracing::info!(requests = report.requests, rates = report.rates, regions_stored = report.regions_stored,
        families = ?report.families.iter().map(|(f, c)| (*f, c.rates, c.requests)).collect::<Vec<_>>(),
        "Price List refresh done");
    if report.rates > 0 {
        return Ok(report);
    }
    match (p.first_store_error, p.first_source_error) {
        (Some(e), _) => Err(RefreshError::Store(e)),
        (None, Some(e)) => Err(RefreshError::Source(e)),
        (None, None) => Err(RefreshError::Empty(regions.join(", "))),
    }
}

/// The refresh with the default limits (no deadline): `costradar prices refresh`. Returns the
/// number of rates stored.
pub async fn refresh_price_list(
    source: &dyn PriceListSource,
    store: &dyn RateStore,
    regions: &[String],
) -> Result<usize, RefreshError> {
    Ok(refresh_prices(source, store, regions, &RefreshLimits::default()).await?.rates)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::pricing::Rate;
    use crate::store::MemoryStore;

    /// The Price List API as a script: each family is `pages` pages long and prices one key per
    /// region, `test:<family>:hour`, at `usd`; the (region, family) pairs in `failing` fail on
    /// their last page.
    struct Script {
        pages: u32,
        usd: &'static str,
        as_of: &'static str,
        failing: HashSet<(&'static str, &'static str)>,
        asked: Mutex<Vec<(String, &'static str)>>,
    }

    impl Script {
        fn new(pages: u32, usd: &'static str, as_of: &'static str) -> Self {
            Self { pages, usd, as_of, failing: HashSet::new(), asked: Mutex::default() }
        }
    }

    #[async_trait::async_trait]
    impl PriceListSource for Script {
        async fn read_family(&self, family: &'static Family, region: &str, budget: &Budget) -> FamilyRead {
            self.asked.lock().unwrap().push((region.to_owned(), family.name));
            // A real read waits on the network: the other workers run meanwhile.
            tokio::task::yield_now().await;
            let mut rates = RateTable::default();
            for requests in 0..self.pages {
                if !budget.try_take() {
                    return FamilyRead { rates, requests, outcome: ReadOutcome::CutShort };
                }
            }
            if self.failing.iter().any(|&(r, f)| r == region && f == family.name) {
                let e = PriceListError::Api("ThrottlingException: Rate exceeded".into());
                return FamilyRead { rates, requests: self.pages, outcome: ReadOutcome::Failed(e) };
            }
            let rate =
                Rate { usd: self.usd.parse().unwrap(), source: PriceSource::PriceListApi, as_of: self.as_of.into() };
            rates.insert_key(region, key(family.name), rate.clone());
            // A source that answers for another region too is not believed for it.
            rates.insert_key("xx-stray-1", key(family.name), rate);
            FamilyRead { rates, requests: self.pages, outcome: ReadOutcome::Complete }
        }
    }

    fn key(family: &str) -> String {
        format!("test:{family}:hour")
    }

    fn regions(names: &[&str]) -> Vec<String> {
        names.iter().map(|r| r.to_string()).collect()
    }

    async fn stored(store: &MemoryStore) -> RateTable {
        store.get_rates(RateScope::PriceList).await.unwrap()
    }

    #[tokio::test]
    async fn price_list_refresh_reads_every_family_of_every_region_and_counts_requests() {
        let store = MemoryStore::new();
        let script = Script::new(3, "1.5", "2026-11-01");
        let rs = regions(&["eu-west-1", "us-east-1"]);
        let report = refresh_prices(&script, &store, &rs, &RefreshLimits::default()).await.unwrap();
        let n = FAMILIES.len();
        assert_eq!((report.rates, report.regions_stored), (2 * n, 2));
        assert_eq!(report.requests, 2 * 3 * n as u32, "families × regions × pages");
        assert_eq!(report.families["ec2-shared"], FamilyCount { rates: 2, requests: 6, failed: 0, not_read: 0 });
        assert!(report.failed.is_empty() && report.stopped.is_none());
        let t = stored(&store).await;
        assert_eq!(t.len(), 2 * n);
        assert!(t.regions().all(|r| r != "xx-stray-1"));
        let json = serde_json::to_value(&report).unwrap();
        for field in ["regions", "regions_stored", "rates", "requests", "max_requests", "families", "failed"] {
            assert!(json.get(field).is_some(), "{field} missing in {json}");
        }
    }

    #[tokio::test]
    async fn price_list_a_failed_read_keeps_the_last_good_rates() {
        let store = MemoryStore::new();
        let rs = regions(&["eu-west-1", "us-east-1", "ap-south-1"]);
        refresh_prices(&Script::new(1, "1.5", "2026-11-01"), &store, &rs, &RefreshLimits::default()).await.unwrap();
        let before = stored(&store).await;

        // The next day: NAT fails in eu-west-1, everything fails in ap-south-1, the rest is new.
        let mut script = Script::new(1, "2.5", "2026-11-02");
        script.failing.insert(("eu-west-1", "nat"));
        script.failing.extend(FAMILIES.iter().map(|f| ("ap-south-1", f.name)));
        let report = refresh_prices(&script, &store, &rs, &RefreshLimits::default()).await.unwrap();
        assert_eq!(report.families["nat"].failed, 2);
        assert_eq!(report.regions_stored, 2);
        assert!(report.failed.iter().any(|f| f.starts_with("eu-west-1 nat: ") && f.contains("ThrottlingException")));
        let after = stored(&store).await;
        let usd = |t: &RateTable, region: &str, family: &str| t.get_key(region, &key(family)).unwrap().usd.to_string();
        // The failed family keeps its rate and date; the others are fresh.
        assert_eq!(usd(&after, "eu-west-1", "nat"), "1.5");
        assert_eq!(after.get_key("eu-west-1", &key("nat")).unwrap().as_of, "2026-11-01");
        assert_eq!(usd(&after, "eu-west-1", "ec2-shared"), "2.5");
        assert_eq!(usd(&after, "us-east-1", "nat"), "2.5");
        // The region that failed throughout is untouched.
        let region = |t: &RateTable, r: &str| {
            let mut v: Vec<(String, Rate)> = t.region_rates(r).map(|(k, r)| (k.to_owned(), r.clone())).collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        };
        assert_eq!(region(&after, "ap-south-1"), region(&before, "ap-south-1"));
        assert_eq!(after.len(), before.len());
    }

    #[tokio::test]
    async fn price_list_a_refresh_that_reads_nothing_writes_nothing() {
        let store = MemoryStore::new();
        let rs = regions(&["eu-west-1"]);
        refresh_prices(&Script::new(1, "1.5", "2026-11-01"), &store, &rs, &RefreshLimits::default()).await.unwrap();
        let before = store.snapshot();
        let mut failing = Script::new(1, "2.5", "2026-11-02");
        failing.failing.extend(FAMILIES.iter().map(|f| ("eu-west-1", f.name)));
        let err = refresh_prices(&failing, &store, &rs, &RefreshLimits::default()).await.unwrap_err();
        assert!(matches!(&err, RefreshError::Source(_)) && err.to_string().contains("unchanged"), "{err}");
        let empty = Script::new(0, "2.5", "2026-11-02");
        let none = RefreshLimits { max_requests: 0, ..RefreshLimits::default() };
        let err = refresh_prices(&empty, &store, &rs, &none).await.unwrap_err();
        assert!(matches!(err, RefreshError::Empty(_)), "{err}");
        assert_eq!(store.snapshot(), before);
        store.set_unavailable(true);
        let err = refresh_prices(&Script::new(1, "3", "2026-11-03"), &store, &rs, &RefreshLimits::default()).await;
        assert!(matches!(err, Err(RefreshError::Store(_))));
        store.set_unavailable(false);
        assert_eq!(store.snapshot(), before);
    }

    #[tokio::test]
    async fn price_list_refresh_requests_stop_at_the_cap_and_the_rest_comes_next_time() {
        let store = MemoryStore::new();
        let rs = regions(&["eu-west-1", "us-east-1", "ap-south-1", "sa-east-1", "ca-central-1", "eu-north-1"]);
        let per_region = 2 * FAMILIES.len() as u32;
        // Room for two and a half regions of two-page families.
        let limits = RefreshLimits { max_requests: per_region * 5 / 2, ..RefreshLimits::default() };
        let script = Script::new(2, "1.5", "2026-11-01");
        let report = refresh_prices(&script, &store, &rs, &limits).await.unwrap();
        assert!(report.requests <= limits.max_requests, "{} > cap", report.requests);
        assert!(report.stopped.as_deref().is_some_and(|s| s.contains("ran out")), "{:?}", report.stopped);
        let not_read: u32 = report.families.values().map(|c| c.not_read).sum();
        assert!(not_read > 0);
        let first: HashSet<String> = stored(&store).await.regions().map(str::to_owned).collect();
        assert!(!first.is_empty() && first.len() < rs.len(), "{first:?}");

        // The next refresh starts with the regions the first did not store.
        let next = Script::new(2, "1.5", "2026-11-02");
        refresh_prices(&next, &store, &rs, &limits).await.unwrap();
        let asked_first: Vec<String> = next.asked.lock().unwrap().iter().map(|(r, _)| r.clone()).collect();
        let unread: Vec<&String> = rs.iter().filter(|r| !first.contains(*r)).collect();
        assert!(unread.iter().all(|r| asked_first.contains(r)), "{unread:?} not read next: {asked_first:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn price_list_refresh_stops_at_its_deadline() {
        let store = MemoryStore::new();
        let rs = regions(&["eu-west-1", "us-east-1"]);
        let limits = RefreshLimits { deadline: Some(tokio::time::Instant::now()), ..RefreshLimits::default() };
        let err = refresh_prices(&Script::new(1, "1.5", "2026-11-01"), &store, &rs, &limits).await.unwrap_err();
        assert!(matches!(err, RefreshError::Empty(_)), "{err}");
        assert_eq!(store.item_count(), 0);
    }

    #[test]
    fn price_list_regions_least_recently_refreshed_go_first() {
        let mut stored = RateTable::default();
        let rate =
            |as_of: &str| Rate { usd: "1".parse().unwrap(), source: PriceSource::PriceListApi, as_of: as_of.into() };
        stored.insert_key("eu-west-1", "nat:hour".into(), rate("2026-11-02"));
        stored.insert_key("us-east-1", "nat:hour".into(), rate("2026-10-01"));
        let regions: Vec<String> = ["us-east-1", "eu-west-1", "ap-south-1", "sa-east-1"].map(String::from).to_vec();
        assert_eq!(reading_order(&stored, &regions, 0), ["ap-south-1", "sa-east-1", "us-east-1", "eu-west-1"]);
        // Ties turn with the day.
        assert_eq!(reading_order(&stored, &regions, 3), ["sa-east-1", "ap-south-1", "us-east-1", "eu-west-1"]);
        assert!(reading_order(&stored, &[], 5).is_empty());
    }
}
