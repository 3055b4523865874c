//! The CUR analysis report: JSON (a stable contract) and a self-contained HTML page with inline
//! SVG charts (no external assets, no JavaScript).
//!
//! `report.json` contract (schema_version 1; money is a decimal string in USD, to the cent, as
//! [`crate::domain::money::usd`] writes it):
//! - `period`: `{from, to, first_day, last_day}` (billing periods `YYYY-MM`, days `YYYY-MM-DD`);
//! - `totals`: `{billed_cost, effective_cost, by_service, by_account, by_provider, by_region,
//!   by_period}`: maps from name to USD, from `line_item_unblended_cost` (CUR 2.0) or
//!   `BilledCost` (FOCUS);
//! - `anomalies`: `[{date, series, account_id, service, expected, actual, impact, severity, kind}]`;
//! - `findings`: `[{rule, account_id, region, resource_id, title, monthly_cost, monthly_savings,
//!   alternative, evidence}]`;
//! - and `daily`, `top_resources`, `top_movers`, `tags`, `commitments`, `savings_plan`,
//!   `effective_rates`, `queries`, `source`.
//!
//! New fields may be added; existing ones keep their name and meaning.

mod html;

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::cur::analysis::CurAnalysis;
use crate::domain::money::usd;

pub use html::render_html;

pub const SCHEMA_VERSION: u32 = 1;

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
    pub billed_cost: String,
    pub effective_cost: String,
    pub by_service: BTreeMap<String, String>,
    pub by_account: BTreeMap<String, String>,
    pub by_provider: BTreeMap<String, String>,
    pub by_region: BTreeMap<String, String>,
    pub by_period: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DayTotal {
    pub date: String,
    pub cost: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct AnomalyOut {
    pub date: String,
    pub series: String,
    pub account_id: String,
    pub service: String,
    pub expected: String,
    pub actual: String,
    pub impact: String,
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
    pub monthly_cost: String,
    pub monthly_savings: Option<String>,
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
            billed_cost: usd(billed),
            effective_cost: usd(effective),
            by_service: usd_map(by_service),
            by_account: usd_map(by_account),
            by_provider: usd_map(by_provider),
            by_region: usd_map(by_region),
            by_period: usd_map(by_period),
        },
        daily: daily.into_iter().map(|(date, c)| DayTotal { date: date.to_string(), cost: usd(c) }).collect(),
        anomalies: a
            .anomalies
            .iter()
            .map(|x| AnomalyOut {
                date: x.date.to_string(),
                series: x.series.clone(),
                account_id: x.account_id.clone(),
                service: x.service.clone(),
                expected: usd(x.expected),
                actual: usd(x.actual),
                impact: usd(x.impact),
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
                monthly_cost: usd(f.monthly_cost),
                monthly_savings: f.monthly_savings.map(usd),
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
