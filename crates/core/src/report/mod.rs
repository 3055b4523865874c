//! The CUR analysis report: JSON (a stable contract) and a self-contained HTML page with inline
//! SVG charts (no external assets, no JavaScript).
//!
//! `report.json` contract, schema_version 2. Every amount of money is a decimal string in USD
//! under a name ending in `_usd` (a map of amounts: `…_usd` too, its values such strings):
//! to the cent as [`crate::domain::money::usd`] writes it (`"1234.50"`), except the rates in
//! $/hour, which have 6 decimals as [`crate::cur::rates::usd_rate`] writes them (`"0.138240"`).
//! No amount is a JSON number. A field without `_usd` is never money: ratios (fractions from 0
//! to 1, 4 decimals, as decimal strings), counts, quantities, dates and names.
//! - `schema_version`: `2`;
//! - `source`: `{kind, focus_version, name}` (`kind` is `cur2` or `focus`);
//! - `period`: `{from, to, first_day, last_day}` (billing periods `YYYY-MM`, days `YYYY-MM-DD`);
//! - `totals`: `{billed_cost_usd, effective_cost_usd, by_service_usd, by_account_usd,
//!   by_provider_usd, by_region_usd, by_period_usd}`: the `by_…` maps go from name to amount,
//!   from `line_item_unblended_cost` (CUR 2.0) or `BilledCost` (FOCUS);
//! - `daily`: `[{date, cost_usd}]`: effective cost of usage per day;
//! - `anomalies`: `[{date, series, account_id, service, expected_usd, actual_usd, impact_usd,
//!   severity, kind}]`;
//! - `findings`: `[{rule, account_id, region, resource_id, title, monthly_cost_usd,
//!   monthly_savings_usd, alternative, evidence}]` (`monthly_savings_usd` may be `null`);
//! - `top_resources`: `[{resource_id, account_id, service, region, billed_cost_usd,
//!   effective_cost_usd}]`;
//! - `top_movers`: `[{resource_id, account_id, service, previous_cost_usd, current_cost_usd,
//!   increase_usd}]`;
//! - `tags` (or `null`): `{usage_cost_usd, tagged_cost_usd, coverage, by_key_usd,
//!   by_key_set_usd}` (`coverage`: the fraction of usage cost that is tagged);
//! - `commitments`: `[{billing_period, sp_covered_on_demand_usd, ri_covered_on_demand_usd,
//!   on_demand_eligible_usd, sp_commitment_usd, sp_used_usd, ri_fee_usd, ri_unused_usd, coverage,
//!   sp_utilisation, ri_utilisation}]` (the last three fractions, or `null`);
//! - `savings_plan` (or `null`): `{percentile, assumed_discount, hours, eligible_on_demand_usd,
//!   covered_on_demand_per_hour_usd, hourly_commitment_usd, saving_in_period_usd,
//!   monthly_saving_usd}` (`assumed_discount` a fraction; the two `…hour…_usd` are $/hour);
//! - `effective_rates`: `[{region, instance_type, usage_hours, effective_cost_usd, hourly_usd}]`
//!   (`hourly_usd` in $/hour);
//! - `queries`: `[{name, rows, bytes_scanned}]`.
//!
//! Changes from v1: every money field gained `_usd` (`totals.billed_cost` is
//! `totals.billed_cost_usd`, `daily[].cost` is `daily[].cost_usd`, ...), and the amounts of the
//! analysis rows (`top_resources` to `effective_rates`), which v1 wrote unrounded, are rounded
//! to the cent ($/hour rates to 6 decimals).
//!
//! New fields may be added; existing ones keep their name and meaning within a schema version.

mod html;
pub mod store;

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::cur::analysis::CurAnalysis;
use crate::domain::money::usd;

pub use html::{escape, render_html};

pub const SCHEMA_VERSION: u32 = 2;

fn usd_map(m: BTreeMap<String, Decimal>) -> BTreeMap<String, String> {
    m.into_iter().map(|(k, v)| (k, usd(v))).collect()
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub source: Source,
    pub period: Period,
    pub totals: Totals,
    pub daily: Vec<DayTotal>,
    pub anomalies: Vec<AnomalyOut>,
    pub findings: Vec<FindingOut>,
    pub top_resources: Vec<serde_json::Value>,
    pub top_movers: Vec<serde_json::Value>,
    pub tags: Option<serde_json::Value>,
    pub commitments: Vec<serde_json::Value>,
    pub savings_plan: Option<serde_json::Value>,
    pub effective_rates: Vec<serde_json::Value>,
    pub queries: Vec<serde_json::Value>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Source {
    /// `cur2` or `focus`.
    pub kind: String,
    pub focus_version: Option<String>,
    /// What the data is (a directory or file name, never a full machine path).
    pub name: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Period {
    pub from: String,
    pub to: String,
    pub first_day: Option<String>,
    pub last_day: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Totals {
    pub billed_cost_usd: String,
    pub effective_cost_usd: String,
    pub by_service_usd: BTreeMap<String, String>,
    pub by_account_usd: BTreeMap<String, String>,
    pub by_provider_usd: BTreeMap<String, String>,
    pub by_region_usd: BTreeMap<String, String>,
    pub by_period_usd: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DayTotal {
    pub date: String,
    pub cost_usd: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct AnomalyOut {
    pub date: String,
    pub series: String,
    pub account_id: String,
    pub service: String,
    pub expected_usd: String,
    pub actual_usd: String,
    pub impact_usd: String,
    pub severity: String,
    pub kind: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct FindingOut {
    pub rule: String,
    pub account_id: String,
    pub region: String,
    pub resource_id: String,
    pub title: String,
    pub monthly_cost_usd: String,
    pub monthly_savings_usd: Option<String>,
    pub alternative: Option<String>,
    pub evidence: Vec<String>,
}

fn to_value<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).expect("analysis types serialise")
}

/// The report of an analysis. `source_name` is what the report calls the data.
pub fn build(a: &CurAnalysis, source_name: &str, focus_version: Option<&str>) -> Report {
    let mut by_service = BTreeMap::new();
    let mut by_account = BTreeMap::new();
    let mut by_provider = BTreeMap::new();
    let mut by_region = BTreeMap::new();
    let mut by_period = BTreeMap::new();
    let (mut billed, mut effective) = (Decimal::ZERO, Decimal::ZERO);
    for s in &a.spend {
        billed += s.billed_cost;
        effective += s.effective_cost;
        let name = |v: &str, none: &str| if v.is_empty() { none.to_owned() } else { v.to_owned() };
        *by_service.entry(name(&s.service, "(none)")).or_insert(Decimal::ZERO) += s.billed_cost;
        *by_account.entry(name(&s.account_id, "(none)")).or_insert(Decimal::ZERO) += s.billed_cost;
        *by_provider.entry(name(&s.provider, "(unknown)")).or_insert(Decimal::ZERO) += s.billed_cost;
        *by_region.entry(name(&s.region, "global")).or_insert(Decimal::ZERO) += s.billed_cost;
        *by_period.entry(s.billing_period.clone()).or_insert(Decimal::ZERO) += s.billed_cost;
    }
    let mut daily: BTreeMap<chrono::NaiveDate, Decimal> = BTreeMap::new();
    for d in &a.daily {
        *daily.entry(d.date).or_default() += d.effective_cost;
    }
    Report {
        schema_version: SCHEMA_VERSION,
        source: Source {
            kind: a.schema.as_str().into(),
            focus_version: focus_version.map(str::to_owned),
            name: source_name.to_owned(),
        },
        period: Period {
            from: a.from.clone(),
            to: a.to.clone(),
            first_day: a.first_day.map(|d| d.to_string()),
            last_day: a.last_day.map(|d| d.to_string()),
        },
        totals: Totals {
            billed_cost_usd: usd(billed),
            effective_cost_usd: usd(effective),
            by_service_usd: usd_map(by_service),
            by_account_usd: usd_map(by_account),
            by_provider_usd: usd_map(by_provider),
            by_region_usd: usd_map(by_region),
            by_period_usd: usd_map(by_period),
        },
        daily: daily.into_iter().map(|(date, c)| DayTotal { date: date.to_string(), cost_usd: usd(c) }).collect(),
        anomalies: a
            .anomalies
            .iter()
            .map(|x| AnomalyOut {
                date: x.date.to_string(),
                series: x.series.clone(),
                account_id: x.account_id.clone(),
                service: x.service.clone(),
                expected_usd: usd(x.expected),
                actual_usd: usd(x.actual),
                impact_usd: usd(x.impact),
                severity: to_value(&x.severity).as_str().unwrap_or_default().to_owned(),
                kind: to_value(&x.kind).as_str().unwrap_or_default().to_owned(),
            })
            .collect(),
        findings: a
            .findings
            .iter()
            .map(|f| FindingOut {
                rule: f.rule.clone(),
                account_id: f.account_id.clone(),
                region: f.region.clone(),
                resource_id: f.resource_id.clone(),
                title: f.title.clone(),
                monthly_cost_usd: usd(f.monthly_cost),
                monthly_savings_usd: f.monthly_savings.map(usd),
                alternative: f.alternative.clone(),
                evidence: f.evidence.clone(),
            })
            .collect(),
        top_resources: a.top_resources.iter().map(to_value).collect(),
        top_movers: a.top_movers.iter().map(to_value).collect(),
        tags: a.tags.as_ref().map(to_value),
        commitments: a.commitments.iter().map(to_value).collect(),
        savings_plan: a.savings_plan.as_ref().map(to_value),
        effective_rates: a.rates.iter().map(to_value).collect(),
        queries: a.queries.iter().map(to_value).collect(),
    }
}
