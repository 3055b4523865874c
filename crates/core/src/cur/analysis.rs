//! Runs the query library on an engine and turns the aggregates into the analysis: totals,
//! daily series and anomalies, top resources and movers, tag coverage, waste findings,
//! commitment coverage and utilisation, a Compute Savings Plan recommendation, effective rates.
//!
//! Two steps, so the Lambda can run the queries on Athena across invocations and analyse once
//! they are done: [`run_queries`] (or the Lambda's own fetch) gives one `ResultSet` per query,
//! and [`CurAnalysis::from_results`] does the rest, without I/O.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use super::anomaly::{detect, Anomaly, AnomalyConfig};
use super::engine::{Cell, QueryEngine, QueryError, ResultSet};
use super::queries::{Library, PeriodRange, Query, Schema};
use super::rates::EffectiveRate;
use crate::domain::money::{cents, usd};
use crate::pricing::{PriceBook, Sku, HOURS_PER_MONTH};

#[derive(Clone, Debug)]
pub struct AnalysisOptions {
    pub anomaly: AnomalyConfig,
    /// The Savings Plan commitment covers this percentile of hourly eligible on-demand spend.
    pub sp_percentile: u32,
    /// Assumed Compute Savings Plan discount off on-demand (1 year, no upfront: about 28 %).
    pub sp_discount: Decimal,
    /// How realised savings are checked against the bill (`super::confirm`).
    pub confirm: super::confirm::ConfirmSettings,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        Self {
            anomaly: AnomalyConfig::default(),
            sp_percentile: 20,
            sp_discount: Decimal::new(28, 2),
            confirm: super::confirm::ConfirmSettings::default(),
        }
    }
}

/// Reads a result's cells by column name, with errors that name the query and column.
struct Rows<'a> {
    query: &'static str,
    rs: &'a ResultSet,
    idx: HashMap<&'a str, usize>,
}

impl<'a> Rows<'a> {
    fn new(query: Query, rs: &'a ResultSet) -> Self {
        Self { query: query.name(), rs, idx: rs.columns.iter().enumerate().map(|(i, c)| (c.as_str(), i)).collect() }
    }

    fn cell(&self, row: usize, col: &str) -> Result<&'a Cell, QueryError> {
        let i = *self
            .idx
            .get(col)
            .ok_or_else(|| QueryError::InvalidData(format!("{}: the result has no column {col}", self.query)))?;
        Ok(&self.rs.rows[row][i])
    }

    fn text(&self, row: usize, col: &str) -> Result<String, QueryError> {
        Ok(match self.cell(row, col)? {
            Cell::Null => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Decimal(d) => d.to_string(),
            Cell::Bool(b) => b.to_string(),
        })
    }

    fn dec(&self, row: usize, col: &str) -> Result<Decimal, QueryError> {
        match self.cell(row, col)? {
            Cell::Null => Ok(Decimal::ZERO),
            Cell::Decimal(d) => Ok(*d),
            Cell::Int(i) => Ok(Decimal::from(*i)),
            Cell::Text(s) => s.parse().map_err(|_| {
                QueryError::InvalidData(format!("{}: column {col} holds {s:?}, not a number", self.query))
            }),
            Cell::Bool(_) => Err(QueryError::InvalidData(format!("{}: column {col} is a boolean", self.query))),
        }
    }

    fn len(&self) -> usize {
        self.rs.rows.len()
    }
}

/// A map of amounts as report.json writes it: each amount as [`usd`] writes it.
fn serialize_usd_map<S: serde::Serializer>(m: &BTreeMap<String, Decimal>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(m.iter().map(|(k, v)| (k, usd(*v))))
}

// The rows below are serialised into report.json (`crate::report`): every amount of money is
// written as a decimal string to the cent under a name ending in `_usd`, $/hour rates to 6
// decimals (`super::rates::usd_rate`); the Rust fields keep their short names.

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpendRow {
    pub billing_period: String,
    pub provider: String,
    pub account_id: String,
    pub service: String,
    pub region: String,
    #[serde(rename = "billed_cost_usd", serialize_with = "crate::domain::money::serialize")]
    pub billed_cost: Decimal,
    #[serde(rename = "effective_cost_usd", serialize_with = "crate::domain::money::serialize")]
    pub effective_cost: Decimal,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DailyRow {
    pub date: NaiveDate,
    pub provider: String,
    pub account_id: String,
    pub service: String,
    pub region: String,
    #[serde(rename = "effective_cost_usd", serialize_with = "crate::domain::money::serialize")]
    pub effective_cost: Decimal,
    #[serde(rename = "billed_cost_usd", serialize_with = "crate::domain::money::serialize")]
    pub billed_cost: Decimal,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ResourceRow {
    pub resource_id: String,
    pub account_id: String,
    pub service: String,
    pub region: String,
    #[serde(rename = "billed_cost_usd", serialize_with = "crate::domain::money::serialize")]
    pub billed_cost: Decimal,
    #[serde(rename = "effective_cost_usd", serialize_with = "crate::domain::money::serialize")]
    pub effective_cost: Decimal,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MoverRow {
    pub resource_id: String,
    pub account_id: String,
    pub service: String,
    #[serde(rename = "previous_cost_usd", serialize_with = "crate::domain::money::serialize")]
    pub previous_cost: Decimal,
    #[serde(rename = "current_cost_usd", serialize_with = "crate::domain::money::serialize")]
    pub current_cost: Decimal,
    #[serde(rename = "increase_usd", serialize_with = "crate::domain::money::serialize")]
    pub increase: Decimal,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TagSummary {
    #[serde(rename = "usage_cost_usd", serialize_with = "crate::domain::money::serialize")]
    pub usage_cost: Decimal,
    #[serde(rename = "tagged_cost_usd", serialize_with = "crate::domain::money::serialize")]
    pub tagged_cost: Decimal,
    /// tagged / usage, a fraction (0 to 1), 4 decimals; 0 when there is no usage.
    pub coverage: Decimal,
    /// Usage cost of the lines that carry each key.
    #[serde(rename = "by_key_usd", serialize_with = "serialize_usd_map")]
    pub by_key: BTreeMap<String, Decimal>,
    /// Usage cost by the exact set of keys (sorted, comma-joined; "" for none).
    #[serde(rename = "by_key_set_usd", serialize_with = "serialize_usd_map")]
    pub by_key_set: BTreeMap<String, Decimal>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WasteRow {
    pub category: String,
    pub account_id: String,
    pub region: String,
    pub resource_id: String,
    pub instance_type: String,
    pub usage: Decimal,
    #[serde(rename = "effective_cost_usd", serialize_with = "crate::domain::money::serialize")]
    pub effective_cost: Decimal,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CommitmentRow {
    pub billing_period: String,
    #[serde(rename = "sp_covered_on_demand_usd", serialize_with = "crate::domain::money::serialize")]
    pub sp_covered_on_demand: Decimal,
    #[serde(rename = "ri_covered_on_demand_usd", serialize_with = "crate::domain::money::serialize")]
    pub ri_covered_on_demand: Decimal,
    #[serde(rename = "on_demand_eligible_usd", serialize_with = "crate::domain::money::serialize")]
    pub on_demand_eligible: Decimal,
    #[serde(rename = "sp_commitment_usd", serialize_with = "crate::domain::money::serialize")]
    pub sp_commitment: Decimal,
    #[serde(rename = "sp_used_usd", serialize_with = "crate::domain::money::serialize")]
    pub sp_used: Decimal,
    #[serde(rename = "ri_fee_usd", serialize_with = "crate::domain::money::serialize")]
    pub ri_fee: Decimal,
    #[serde(rename = "ri_unused_usd", serialize_with = "crate::domain::money::serialize")]
    pub ri_unused: Decimal,
    /// Covered / (covered + eligible on-demand), a fraction (0 to 1), 4 decimals; None without
    /// eligible usage.
    pub coverage: Option<Decimal>,
    /// Used / commitment, a fraction, 4 decimals; None without a commitment.
    pub sp_utilisation: Option<Decimal>,
    /// (Fee - unused) / fee, a fraction, 4 decimals; None without a fee.
    pub ri_utilisation: Option<Decimal>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SavingsPlanRecommendation {
    pub percentile: u32,
    /// A fraction off on-demand (0.28 is 28 %).
    pub assumed_discount: Decimal,
    pub hours: u64,
    #[serde(rename = "eligible_on_demand_usd", serialize_with = "crate::domain::money::serialize")]
    pub eligible_on_demand: Decimal,
    /// The hourly on-demand spend the plan covers (the percentile), $/hour.
    #[serde(rename = "covered_on_demand_per_hour_usd", serialize_with = "super::rates::serialize_rate")]
    pub covered_on_demand_per_hour: Decimal,
    /// What to commit, $/hour of Savings Plan rate.
    #[serde(rename = "hourly_commitment_usd", serialize_with = "super::rates::serialize_rate")]
    pub hourly_commitment: Decimal,
    /// Over the analysed hours, and per month (hourly x 730).
    #[serde(rename = "saving_in_period_usd", serialize_with = "crate::domain::money::serialize")]
    pub saving_in_period: Decimal,
    #[serde(rename = "monthly_saving_usd", serialize_with = "crate::domain::money::serialize")]
    pub monthly_saving: Decimal,
}

/// A finding from the line items, before it has a tenant and dates.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CurFinding {
    pub rule: String,
    pub account_id: String,
    pub region: String,
    pub resource_id: String,
    pub title: String,
    #[serde(rename = "monthly_cost_usd", serialize_with = "crate::domain::money::serialize")]
    pub monthly_cost: Decimal,
    #[serde(rename = "monthly_savings_usd", serialize_with = "crate::domain::money::serialize_option")]
    pub monthly_savings: Option<Decimal>,
    pub alternative: Option<String>,
    pub evidence: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueryStat {
    pub name: String,
    pub rows: usize,
    pub bytes_scanned: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CurAnalysis {
    pub schema: Schema,
    pub from: String,
    pub to: String,
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
    pub spend: Vec<SpendRow>,
    pub daily: Vec<DailyRow>,
    pub top_resources: Vec<ResourceRow>,
    pub top_movers: Vec<MoverRow>,
    pub tags: Option<TagSummary>,
    pub waste: Vec<WasteRow>,
    pub commitments: Vec<CommitmentRow>,
    pub savings_plan: Option<SavingsPlanRecommendation>,
    pub rates: Vec<EffectiveRate>,
    pub anomalies: Vec<Anomaly>,
    pub findings: Vec<CurFinding>,
    pub queries: Vec<QueryStat>,
}

/// Runs every query the library has for its schema, in order.
pub async fn run_queries(
    engine: &dyn QueryEngine,
    library: &Library,
    range: &PeriodRange,
) -> Result<HashMap<Query, ResultSet>, QueryError> {
    let mut out = HashMap::new();
    for q in library.queries() {
        let rs = engine.run(&library.request(q, range)).await?;
        out.insert(q, rs);
    }
    Ok(out)
}

/// Runs the library and analyses the results.
pub async fn analyse(
    engine: &dyn QueryEngine,
    library: &Library,
    range: &PeriodRange,
    opts: &AnalysisOptions,
) -> Result<CurAnalysis, QueryError> {
    let results = run_queries(engine, library, range).await?;
    CurAnalysis::from_results(library.schema(), range, &results, opts)
}

fn ratio(num: Decimal, den: Decimal) -> Option<Decimal> {
    (den > Decimal::ZERO).then(|| (num / den).round_dp(4))
}

/// `YYYY-MM-DD HH` from either engine's rendering of an hour (`2025-01-01T05:00:00`,
/// `2025-01-01 05:00:00.000`).
pub fn hour_key(s: &str) -> String {
    s.get(..13).unwrap_or(s).replace('T', " ")
}

fn parse_date(query: &str, s: &str) -> Result<NaiveDate, QueryError> {
    NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d")
        .map_err(|_| QueryError::InvalidData(format!("{query}: {s:?} is not a date")))
}

impl CurAnalysis {
    /// Turns one result per query into the analysis, without I/O. A missing result reads as no
    /// rows, except that without the tag query or the Savings Plan query that part is left out.
    pub fn from_results(
        schema: Schema,
        range: &PeriodRange,
        results: &HashMap<Query, ResultSet>,
        opts: &AnalysisOptions,
    ) -> Result<Self, QueryError> {
        let empty = ResultSet::default();
        let rows = |q: Query| Rows::new(q, results.get(&q).unwrap_or(&empty));
        // The results are read in this order: the error returned is that of the first bad one.
        let spend = spend_rows(&rows(Query::SpendMonthly))?;
        let daily = daily_rows(&rows(Query::SpendDaily))?;
        let mut a = CurAnalysis {
            schema,
            from: range.from.to_string(),
            to: range.to.to_string(),
            first_day: daily.iter().map(|d| d.date).min(),
            last_day: daily.iter().map(|d| d.date).max(),
            spend,
            daily,
            top_resources: resource_rows(&rows(Query::TopResources))?,
            top_movers: mover_rows(&rows(Query::TopMovers))?,
            tags: match results.get(&Query::TagKeys) {
                Some(rs) => Some(tag_summary(&Rows::new(Query::TagKeys, rs))?),
                None => None,
            },
            waste: waste_rows(&rows(Query::Waste))?,
            commitments: commitment_rows(&rows(Query::Commitments))?,
            savings_plan: match results.get(&Query::SavingsPlanHourly) {
                Some(rs) => savings_plan(rs, opts)?,
                None => None,
            },
            rates: effective_rates(&rows(Query::InstanceRates))?,
            anomalies: vec![],
            findings: vec![],
            queries: query_stats(results),
        };
        a.anomalies = daily_anomalies(&a, &opts.anomaly);
        a.findings = waste_findings(&a);
        Ok(a)
    }

    /// Hours the data covers (first to last day, whole days).
    pub fn hours(&self) -> Decimal {
        match (self.first_day, self.last_day) {
            (Some(f), Some(l)) => Decimal::from(((l - f).num_days() + 1) * 24),
            _ => Decimal::ZERO,
        }
    }

    /// A cost over the analysed days as a monthly figure: hourly x 730.
    pub fn monthly(&self, cost: Decimal) -> Decimal {
        let h = self.hours();
        if h.is_zero() {
            Decimal::ZERO
        } else {
            cents(cost / h * HOURS_PER_MONTH)
        }
    }

    pub fn total_billed(&self) -> Decimal {
        self.spend.iter().map(|s| s.billed_cost).sum()
    }
}

/// Rows and bytes scanned of each query that has a result, in library order.
fn query_stats(results: &HashMap<Query, ResultSet>) -> Vec<QueryStat> {
    Query::ALL
        .iter()
        .filter_map(|q| results.get(q).map(|rs| (q, rs)))
        .map(|(q, rs)| QueryStat { name: q.name().into(), rows: rs.rows.len(), bytes_scanned: rs.bytes_scanned })
        .collect()
}

/// Monthly spend by provider, account, service and region.
fn spend_rows(r: &Rows) -> Result<Vec<SpendRow>, QueryError> {
    (0..r.len())
        .map(|i| {
            Ok(SpendRow {
                billing_period: r.text(i, "billing_period")?,
                provider: r.text(i, "provider")?,
                account_id: r.text(i, "account_id")?,
                service: r.text(i, "service")?,
                region: r.text(i, "region")?,
                billed_cost: r.dec(i, "total_billed")?,
                effective_cost: r.dec(i, "total_effective")?,
            })
        })
        .collect()
}

/// Daily usage spend by provider, account, service and region.
fn daily_rows(r: &Rows) -> Result<Vec<DailyRow>, QueryError> {
    (0..r.len())
        .map(|i| {
            Ok(DailyRow {
                date: parse_date("spend_daily", &r.text(i, "usage_date")?)?,
                provider: r.text(i, "provider")?,
                account_id: r.text(i, "account_id")?,
                service: r.text(i, "service")?,
                region: r.text(i, "region")?,
                effective_cost: r.dec(i, "total_effective")?,
                billed_cost: r.dec(i, "total_billed")?,
            })
        })
        .collect()
}

/// The most expensive resources.
fn resource_rows(r: &Rows) -> Result<Vec<ResourceRow>, QueryError> {
    (0..r.len())
        .map(|i| {
            Ok(ResourceRow {
                resource_id: r.text(i, "resource_id")?,
                account_id: r.text(i, "account_id")?,
                service: r.text(i, "service")?,
                region: r.text(i, "region")?,
                billed_cost: r.dec(i, "total_billed")?,
                effective_cost: r.dec(i, "total_effective")?,
            })
        })
        .collect()
}

/// The resources whose cost grew most from the previous period to the current one.
fn mover_rows(r: &Rows) -> Result<Vec<MoverRow>, QueryError> {
    (0..r.len())
        .map(|i| {
            Ok(MoverRow {
                resource_id: r.text(i, "resource_id")?,
                account_id: r.text(i, "account_id")?,
                service: r.text(i, "service")?,
                previous_cost: r.dec(i, "previous_cost")?,
                current_cost: r.dec(i, "current_cost")?,
                increase: r.dec(i, "increase")?,
            })
        })
        .collect()
}

/// Tag coverage of usage spend, by key and by exact set of keys.
fn tag_summary(r: &Rows) -> Result<TagSummary, QueryError> {
    let mut t = TagSummary {
        usage_cost: Decimal::ZERO,
        tagged_cost: Decimal::ZERO,
        coverage: Decimal::ZERO,
        by_key: BTreeMap::new(),
        by_key_set: BTreeMap::new(),
    };
    for i in 0..r.len() {
        let keys = r.text(i, "tag_keys")?;
        let cost = r.dec(i, "total_billed")?;
        t.usage_cost += cost;
        *t.by_key_set.entry(keys.clone()).or_default() += cost;
        if !keys.is_empty() {
            t.tagged_cost += cost;
            for k in keys.split(',') {
                *t.by_key.entry(k.to_owned()).or_default() += cost;
            }
        }
    }
    t.coverage = ratio(t.tagged_cost, t.usage_cost).unwrap_or_default();
    Ok(t)
}

/// The line items that may be waste, one row per category and resource.
fn waste_rows(r: &Rows) -> Result<Vec<WasteRow>, QueryError> {
    (0..r.len())
        .map(|i| {
            Ok(WasteRow {
                category: r.text(i, "category")?,
                account_id: r.text(i, "account_id")?,
                region: r.text(i, "region")?,
                resource_id: r.text(i, "resource_id")?,
                instance_type: r.text(i, "instance_type")?,
                usage: r.dec(i, "total_usage")?,
                effective_cost: r.dec(i, "total_effective")?,
            })
        })
        .collect()
}

/// Savings Plan and Reserved Instance coverage and utilisation per billing period.
fn commitment_rows(r: &Rows) -> Result<Vec<CommitmentRow>, QueryError> {
    (0..r.len())
        .map(|i| {
            let mut c = CommitmentRow {
                billing_period: r.text(i, "billing_period")?,
                sp_covered_on_demand: r.dec(i, "sp_covered_on_demand")?,
                ri_covered_on_demand: r.dec(i, "ri_covered_on_demand")?,
                on_demand_eligible: r.dec(i, "on_demand_eligible")?,
                sp_commitment: r.dec(i, "sp_commitment")?,
                sp_used: r.dec(i, "sp_used")?,
                ri_fee: r.dec(i, "ri_fee")?,
                ri_unused: r.dec(i, "ri_unused")?,
                coverage: None,
                sp_utilisation: None,
                ri_utilisation: None,
            };
            let covered = c.sp_covered_on_demand + c.ri_covered_on_demand;
            c.coverage = ratio(covered, covered + c.on_demand_eligible);
            c.sp_utilisation = ratio(c.sp_used, c.sp_commitment);
            c.ri_utilisation = ratio(c.ri_fee - c.ri_unused, c.ri_fee);
            Ok(c)
        })
        .collect()
}

/// Effective hourly rates by region and instance type; rows that give no rate are skipped.
fn effective_rates(r: &Rows) -> Result<Vec<EffectiveRate>, QueryError> {
    let mut rates = Vec::new();
    for i in 0..r.len() {
        if let Some(rate) = EffectiveRate::new(
            &r.text(i, "region")?,
            &r.text(i, "instance_type")?,
            r.dec(i, "usage_hours")?,
            r.dec(i, "total_effective")?,
        ) {
            rates.push(rate);
        }
    }
    Ok(rates)
}

/// Anomalies in daily usage spend, one series per account and service.
fn daily_anomalies(a: &CurAnalysis, cfg: &AnomalyConfig) -> Vec<Anomaly> {
    let mut series: BTreeMap<(String, String), super::anomaly::Series> = BTreeMap::new();
    for d in &a.daily {
        *series.entry((d.account_id.clone(), d.service.clone())).or_default().entry(d.date).or_default() +=
            d.effective_cost;
    }
    match (a.first_day, a.last_day) {
        (Some(first), Some(last)) => detect(&series, first, last, cfg),
        _ => vec![],
    }
}

fn savings_plan(rs: &ResultSet, opts: &AnalysisOptions) -> Result<Option<SavingsPlanRecommendation>, QueryError> {
    let r = Rows::new(Query::SavingsPlanHourly, rs);
    let mut by_hour: BTreeMap<chrono::NaiveDateTime, Decimal> = BTreeMap::new();
    for i in 0..r.len() {
        let key = hour_key(&r.text(i, "usage_hour")?);
        let at = chrono::NaiveDateTime::parse_from_str(&format!("{key}:00"), "%Y-%m-%d %H:%M")
            .map_err(|_| QueryError::InvalidData(format!("savings_plan_hourly: {key:?} is not an hour")))?;
        *by_hour.entry(at).or_default() += r.dec(i, "on_demand_eligible")?;
    }
    let (Some((&first, _)), Some((&last, _))) = (by_hour.first_key_value(), by_hour.last_key_value()) else {
        return Ok(None);
    };
    // Every hour from the first to the last: hours without eligible spend count as zero.
    let n = ((last - first).num_hours() + 1) as usize;
    let mut hourly: Vec<Decimal> = (0..n)
        .map(|h| by_hour.get(&(first + chrono::Duration::hours(h as i64))).copied().unwrap_or_default())
        .collect();
    let total: Decimal = hourly.iter().copied().sum();
    let mut sorted = hourly.clone();
    sorted.sort_unstable();
    // Nearest-rank percentile.
    let rank = ((opts.sp_percentile as usize * n).div_ceil(100)).clamp(1, n);
    let covered = sorted[rank - 1];
    let commitment = (covered * (Decimal::ONE - opts.sp_discount)).round_dp(4);
    // With the plan: the commitment every hour, plus on-demand above what it covers.
    let hours = Decimal::from(n as u64);
    let covered_total: Decimal = hourly.iter_mut().map(|h| (*h).min(covered)).sum();
    let saving = covered_total - commitment * hours;
    Ok(Some(SavingsPlanRecommendation {
        percentile: opts.sp_percentile,
        assumed_discount: opts.sp_discount,
        hours: n as u64,
        eligible_on_demand: total,
        covered_on_demand_per_hour: covered.round_dp(4),
        hourly_commitment: commitment,
        saving_in_period: cents(saving),
        monthly_saving: cents(saving / hours * HOURS_PER_MONTH),
    }))
}

/// gp3 costs 20 % less than gp2 per GB-month; snapshot archive 75 % less than standard.
const GP2_TO_GP3_SAVING: Decimal = Decimal::from_parts(20, 0, 0, false, 2);
const SNAPSHOT_ARCHIVE_SAVING: Decimal = Decimal::from_parts(75, 0, 0, false, 2);

fn waste_findings(a: &CurAnalysis) -> Vec<CurFinding> {
    let book = PriceBook::bundled_only(crate::pricing::bundled());
    let mut out = Vec::new();
    // NAT gateways: hours per resource, and whether any bytes went through.
    let mut nat_bytes: HashMap<(&str, &str), Decimal> = HashMap::new();
    for w in a.waste.iter().filter(|w| w.category == "nat_gateway_bytes") {
        *nat_bytes.entry((w.account_id.as_str(), w.resource_id.as_str())).or_default() += w.usage;
    }
    for w in &a.waste {
        let monthly = a.monthly(w.effective_cost);
        let days = a.hours() / Decimal::from(24);
        let base = |rule: &str, title: String, savings: Option<Decimal>, alternative: Option<&str>| CurFinding {
            rule: rule.into(),
            account_id: w.account_id.clone(),
            region: w.region.clone(),
            resource_id: w.resource_id.clone(),
            title,
            monthly_cost: monthly,
            monthly_savings: savings.map(cents),
            alternative: alternative.map(str::to_owned),
            evidence: vec![format!(
                "CUR {} to {}: {} usage, ${} effective cost over {days} days",
                a.from,
                a.to,
                w.usage.round_dp(4).normalize(),
                usd(w.effective_cost)
            )],
        };
        let f = match w.category.as_str() {
            "idle_elastic_ip" => {
                base("cur.idle-elastic-ip", "Elastic IP address not attached".into(), Some(monthly), Some("release it"))
            }
            "idle_public_ipv4" => {
                base("cur.idle-public-ipv4", "Idle public IPv4 address".into(), Some(monthly), Some("release it"))
            }
            "gp2_volume" => {
                base("cur.gp2-volume", "EBS gp2 volume".into(), Some(monthly * GP2_TO_GP3_SAVING), Some("gp3"))
            }
            "snapshot_storage" => base(
                "cur.snapshot-storage",
                "EBS snapshot storage".into(),
                Some(monthly * SNAPSHOT_ARCHIVE_SAVING),
                Some("delete it if unneeded, or move it to the archive tier"),
            ),
            "nat_gateway_hours" => {
                let bytes =
                    nat_bytes.get(&(w.account_id.as_str(), w.resource_id.as_str())).copied().unwrap_or_default();
                if !bytes.is_zero() {
                    continue;
                }
                base(
                    "cur.idle-nat-gateway",
                    "NAT gateway billed for hours with no data processed".into(),
                    Some(monthly),
                    Some("delete it"),
                )
            }
            "previous_generation" => {
                let family = w.instance_type.split('.').next().unwrap_or_default();
                let size = w.instance_type.split_once('.').map(|(_, s)| s).unwrap_or_default();
                let next = crate::rules::realtime::current_generation(family).map(|f| format!("{f}.{size}"));
                let price = |t: &str| book.rate(&w.region, &Sku::ec2(t)).map(|r| r.usd);
                let savings = next.as_deref().and_then(|n| {
                    let (old, new) = (price(&w.instance_type)?, price(n)?);
                    (old > new && old > Decimal::ZERO).then(|| monthly * (old - new) / old)
                });
                base(
                    "cur.previous-generation",
                    format!("Previous-generation instance {}", w.instance_type),
                    savings,
                    next.as_deref(),
                )
            }
            _ => continue,
        };
        out.push(f);
    }
    out.sort_by(|a, b| {
        b.monthly_savings
            .unwrap_or_default()
            .cmp(&a.monthly_savings.unwrap_or_default())
            .then(a.resource_id.cmp(&b.resource_id))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_from_either_engine() {
        assert_eq!(hour_key("2025-01-01T05:00:00"), "2025-01-01 05");
        assert_eq!(hour_key("2025-01-01 05:00:00.000"), "2025-01-01 05");
    }

    #[test]
    fn the_savings_plan_covers_the_percentile_and_saves_what_it_should() {
        // 100 hours: 80 at $10, 20 at $2. p20 = $2 covered; commitment 2 * 0.72 = 1.44/h.
        let mut rs =
            ResultSet { columns: vec!["usage_hour".into(), "on_demand_eligible".into()], ..Default::default() };
        let start = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        for h in 0..100 {
            let v = if h < 20 { 2 } else { 10 };
            let t = start + chrono::Duration::hours(h);
            rs.rows.push(vec![Cell::Text(t.format("%Y-%m-%dT%H:%M:%S").to_string()), Cell::Decimal(Decimal::from(v))]);
        }
        let rec = savings_plan(&rs, &AnalysisOptions::default()).unwrap().unwrap();
        assert_eq!(rec.hours, 100);
        assert_eq!(rec.covered_on_demand_per_hour, Decimal::from(2));
        assert_eq!(rec.hourly_commitment, Decimal::new(144, 2));
        // covered 2 every hour = 200, minus 1.44 * 100 = 56.
        assert_eq!(rec.saving_in_period, Decimal::from(56));
        assert_eq!(rec.monthly_saving, Decimal::new(40880, 2));
    }
}
