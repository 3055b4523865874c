//! The query library on the embedded engine (DataFusion) against the synthetic CUR's ground
//! truth, to the cent: every query, the report's totals, the waste findings, the anomalies
//! (precision and recall printed), partition pruning, and FOCUS.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use costradar_core::cur::analysis::{analyse, hour_key, run_queries, AnalysisOptions, CurAnalysis};
use costradar_core::cur::queries::{PeriodRange, Query, Schema, YearMonth};
use costradar_core::cur::{Cell, QueryEngine};
use costradar_core::domain::money::cents;
use costradar_cur_local::embedded::EmbeddedEngine;
use costradar_cur_local::generate::{generate, spend_key, GeneratorConfig, GroundTruth};
use rust_decimal::Decimal;

pub fn scratch(name: &str) -> PathBuf {
    costradar_tests::scratch(env!("CARGO_TARGET_TMPDIR"), &format!("cur-{name}"))
}

fn ym(s: &str) -> YearMonth {
    YearMonth::parse(s).unwrap()
}

fn full_range(gt: &GroundTruth) -> PeriodRange {
    PeriodRange::new(ym(&gt.periods[0]), ym(gt.periods.last().unwrap())).unwrap()
}

async fn generated(rows: u64, seed: u64) -> (PathBuf, GroundTruth, EmbeddedEngine) {
    let dir = scratch(&format!("gen{seed}"));
    let cfg = GeneratorConfig { rows, seed, ..GeneratorConfig::default() };
    let gt = generate(&cfg, &dir).expect("generate");
    let engine = EmbeddedEngine::open_cur(&dir).await.expect("open the generated export");
    (dir, gt, engine)
}

#[tokio::test]
async fn every_query_matches_the_ground_truth_to_the_cent() {
    let (dir, gt, engine) = generated(20_000, 7).await;
    assert_eq!(gt.rows, 20_000, "the generator writes exactly the rows asked for");
    let range = full_range(&gt);
    let lib = engine.library();
    let results = run_queries(&engine, &lib, &range).await.expect("every query runs");
    let a = CurAnalysis::from_results(Schema::Cur2, &range, &results, &AnalysisOptions::default()).unwrap();

    // spend_monthly, row by row.
    let got: BTreeMap<String, (Decimal, Decimal)> = a
        .spend
        .iter()
        .map(|s| {
            let key = spend_key(&[&s.billing_period, &s.provider, &s.account_id, &s.service, &s.region]);
            (key, (cents(s.billed_cost), cents(s.effective_cost)))
        })
        .collect();
    let want: BTreeMap<String, (Decimal, Decimal)> =
        gt.spend_monthly.iter().map(|(k, v)| (k.clone(), (cents(v.billed), cents(v.effective)))).collect();
    assert_eq!(got, want, "spend_monthly");
    assert_eq!(cents(a.total_billed()), cents(gt.total_billed));

    // spend_daily (usage only).
    let got: BTreeMap<String, (Decimal, Decimal)> = a
        .daily
        .iter()
        .map(|d| {
            let key = spend_key(&[&d.date.to_string(), &d.provider, &d.account_id, &d.service, &d.region]);
            (key, (cents(d.billed_cost), cents(d.effective_cost)))
        })
        .collect();
    let want: BTreeMap<String, (Decimal, Decimal)> =
        gt.spend_daily.iter().map(|(k, v)| (k.clone(), (cents(v.billed), cents(v.effective)))).collect();
    assert_eq!(got.len(), want.len(), "spend_daily rows");
    assert_eq!(got, want, "spend_daily");

    // Top resources and movers: same order, same money.
    let got: Vec<(String, Decimal, Decimal)> = a
        .top_resources
        .iter()
        .map(|r| (r.resource_id.clone(), cents(r.billed_cost), cents(r.effective_cost)))
        .collect();
    let want: Vec<(String, Decimal, Decimal)> =
        gt.top_resources.iter().map(|r| (r.resource_id.clone(), cents(r.billed), cents(r.effective))).collect();
    assert_eq!(got, want, "top_resources");
    let got: Vec<(String, Decimal, Decimal)> =
        a.top_movers.iter().map(|m| (m.resource_id.clone(), cents(m.previous_cost), cents(m.current_cost))).collect();
    let want: Vec<(String, Decimal, Decimal)> =
        gt.top_movers.iter().map(|m| (m.resource_id.clone(), cents(m.previous), cents(m.current))).collect();
    assert_eq!(got, want, "top_movers");

    // Tags.
    let tags = a.tags.as_ref().expect("CUR has tags");
    let got: BTreeMap<String, Decimal> = tags.by_key_set.iter().map(|(k, v)| (k.clone(), cents(*v))).collect();
    let want: BTreeMap<String, Decimal> = gt.tag_keys.iter().map(|(k, v)| (k.clone(), cents(*v))).collect();
    assert_eq!(got, want, "tag_keys");
    let untagged = gt.tag_keys.get("").copied().unwrap_or_default();
    let usage: Decimal = gt.tag_keys.values().copied().sum();
    assert_eq!(tags.coverage, ((usage - untagged) / usage).round_dp(4));

    // Waste line items.
    let got: Vec<(String, String, String, Decimal, Decimal)> = a
        .waste
        .iter()
        .map(|w| {
            (
                w.category.clone(),
                w.resource_id.clone(),
                w.instance_type.clone(),
                w.usage.round_dp(4),
                cents(w.effective_cost),
            )
        })
        .collect();
    let want: Vec<(String, String, String, Decimal, Decimal)> = gt
        .waste
        .iter()
        .map(|w| {
            (
                w.category.clone(),
                w.resource_id.clone(),
                w.instance_type.clone(),
                w.usage.round_dp(4),
                cents(w.effective),
            )
        })
        .collect();
    assert_eq!(got, want, "waste");

    // Commitments.
    for c in &a.commitments {
        let t = &gt.commitments[&c.billing_period];
        let pairs = [
            (c.sp_covered_on_demand, t.sp_covered_on_demand, "sp_covered_on_demand"),
            (c.ri_covered_on_demand, t.ri_covered_on_demand, "ri_covered_on_demand"),
            (c.on_demand_eligible, t.on_demand_eligible, "on_demand_eligible"),
            (c.sp_commitment, t.sp_commitment, "sp_commitment"),
            (c.sp_used, t.sp_used, "sp_used"),
            (c.ri_fee, t.ri_fee, "ri_fee"),
            (c.ri_unused, t.ri_unused, "ri_unused"),
        ];
        for (got, want, what) in pairs {
            assert_eq!(cents(got), cents(want), "{} {what}", c.billing_period);
        }
        assert_eq!(c.ri_utilisation, Some(Decimal::new(50, 2)), "one of two reserved instances runs");
    }
    assert_eq!(a.commitments.len(), gt.periods.len());

    // Savings Plan hourly series, hour by hour.
    let rs = &results[&Query::SavingsPlanHourly];
    let mut got: BTreeMap<String, Decimal> = BTreeMap::new();
    for row in &rs.rows {
        let (Cell::Text(h), Cell::Decimal(v)) = (&row[0], &row[1]) else { panic!("typed cells: {row:?}") };
        got.insert(hour_key(h), cents(*v));
    }
    let want: BTreeMap<String, Decimal> = gt.savings_plan_hourly.iter().map(|(k, v)| (k.clone(), cents(*v))).collect();
    assert_eq!(got, want, "savings_plan_hourly");
    let sp = a.savings_plan.as_ref().expect("a recommendation");
    assert_eq!(cents(sp.eligible_on_demand), cents(gt.savings_plan_hourly.values().copied().sum()));
    assert!(sp.hourly_commitment > Decimal::ZERO && sp.monthly_saving > Decimal::ZERO, "{sp:?}");

    // Effective rates.
    let got: BTreeMap<String, (Decimal, Decimal)> = a
        .rates
        .iter()
        .map(|r| (format!("{}|{}", r.region, r.instance_type), (r.usage_hours.round_dp(4), cents(r.effective_cost))))
        .collect();
    let want: BTreeMap<String, (Decimal, Decimal)> =
        gt.instance_rates.iter().map(|(k, v)| (k.clone(), (v.usage_hours.round_dp(4), cents(v.effective)))).collect();
    assert_eq!(got, want, "instance_rates");
    let sp_rate = a.rates.iter().find(|r| r.instance_type == "m5.xlarge" && r.region == "us-east-1");
    assert!(sp_rate.is_some_and(|r| r.hourly < Decimal::new(192, 3)), "Savings Plan usage lowers the effective rate");

    // The report's totals are the ground truth's.
    let report = costradar_core::report::build(&a, "sample", None);
    assert_eq!(report.totals.billed_cost_usd, costradar_core::domain::money::usd(gt.total_billed));
    let want: BTreeMap<String, String> =
        gt.by_service.iter().map(|(k, v)| (k.clone(), costradar_core::domain::money::usd(*v))).collect();
    assert_eq!(report.totals.by_service_usd, want);
    let want: BTreeMap<String, String> =
        gt.by_account.iter().map(|(k, v)| (k.clone(), costradar_core::domain::money::usd(*v))).collect();
    assert_eq!(report.totals.by_account_usd, want);
    assert_eq!(
        report.totals.by_provider_usd,
        BTreeMap::from([("AWS".to_string(), costradar_core::domain::money::usd(gt.total_billed))])
    );
    let json = serde_json::to_value(&report).unwrap();
    for key in ["totals", "anomalies", "findings", "period"] {
        assert!(json.get(key).is_some(), "report.json has {key}");
    }
    let html = costradar_core::report::render_html(&report);
    assert!(html.contains("<svg") && html.contains("<table") && !html.contains("<script"), "self-contained HTML");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn injected_waste_is_found_and_nothing_else() {
    let (dir, gt, engine) = generated(10_000, 11).await;
    let range = full_range(&gt);
    let a = analyse(&engine, &engine.library(), &range, &AnalysisOptions::default()).await.unwrap();
    let found: BTreeSet<(String, String)> =
        a.findings.iter().map(|f| (f.rule.clone(), f.resource_id.clone())).collect();
    let injected: BTreeSet<(String, String)> =
        gt.injected_waste.iter().map(|w| (w.rule.clone(), w.resource_id.clone())).collect();
    assert_eq!(found, injected, "the NAT gateway that moves bytes is not waste");
    for w in &gt.injected_waste {
        let f = a.findings.iter().find(|f| f.resource_id == w.resource_id).unwrap();
        assert_eq!(f.monthly_cost, a.monthly(w.cost), "{}", w.rule);
        assert!(f.monthly_savings.is_some_and(|s| s > Decimal::ZERO && s <= f.monthly_cost), "{f:?}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Fields of report.json whose value may be a number, or a string that reads as one, without
/// being money: counts, quantities, fractions, identifiers, versions. Any other field whose value
/// looks like a number is taken for money and must be named `…_usd`: a new money field without
/// the suffix fails [`every_money_field_of_report_json_says_usd`].
const NOT_MONEY: &[&str] = &[
    "schema_version",
    "rows",
    "bytes_scanned",
    "percentile",
    "hours",
    "usage_hours",
    "coverage",
    "sp_utilisation",
    "ri_utilisation",
    "assumed_discount",
    "account_id",
    "resource_id",
    "focus_version",
];

/// The $/hour rates, written to 6 decimals; every other amount is to the cent.
const RATES_USD: &[&str] = &["hourly_usd", "hourly_commitment_usd", "covered_on_demand_per_hour_usd"];

/// `-?digits.digits` with exactly `places` decimals.
fn is_amount(s: &str, places: usize) -> bool {
    let (int, frac) = s.strip_prefix('-').unwrap_or(s).split_once('.').unwrap_or((s, ""));
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.len() == places
        && frac.bytes().all(|b| b.is_ascii_digit())
}

fn looks_numeric(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Number(_) => true,
        serde_json::Value::String(s) => s.parse::<f64>().is_ok() && s.bytes().any(|b| b.is_ascii_digit()),
        _ => false,
    }
}

/// Every place in `v` (named `key`, at `path`) that breaks the money contract of report.json v2.
fn money_violations(path: &str, key: &str, v: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    if key.ends_with("_usd") {
        let places = if RATES_USD.contains(&key) { 6 } else { 2 };
        let amount = |x: &Value| x.as_str().is_some_and(|s| is_amount(s, places));
        match v {
            Value::Null => {}
            Value::Object(m) if m.values().all(amount) => {}
            _ if amount(v) => {}
            _ => out.push(format!("{path}: {v} is not a decimal string with {places} decimals")),
        }
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                money_violations(&format!("{path}.{k}"), k, x, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                money_violations(&format!("{path}[{i}]"), key, x, out);
            }
        }
        _ if looks_numeric(v) && !NOT_MONEY.contains(&key) => {
            out.push(format!("{path}: {v} looks like money but {key:?} does not end in _usd"))
        }
        _ => {}
    }
}

#[tokio::test]
async fn every_money_field_of_report_json_says_usd() {
    // The walk catches what it should: a new amount without the suffix, a number, a bad rate.
    let bad = serde_json::json!({"top_resources": [{"list_cost": "1.00", "saving_usd": 1.5, "hourly_usd": "0.14",
        "by_x_usd": {"a": "1.5"}, "rows": 3, "region": "us-east-1"}]});
    let mut found = vec![];
    money_violations("$", "", &bad, &mut found);
    assert_eq!(found.len(), 4, "{found:#?}");

    let (dir, gt, engine) = generated(10_000, 12).await;
    let a = analyse(&engine, &engine.library(), &full_range(&gt), &AnalysisOptions::default()).await.unwrap();
    let json = serde_json::to_value(costradar_core::report::build(&a, "generated", None)).unwrap();
    assert_eq!(json["schema_version"], 2);
    // Every part of the report is there to be walked.
    for key in ["daily", "anomalies", "findings", "top_resources", "top_movers", "commitments", "effective_rates"] {
        assert!(json[key].as_array().is_some_and(|v| !v.is_empty()), "{key} is empty: nothing to check");
    }
    for key in ["tags", "savings_plan"] {
        assert!(json[key].is_object(), "{key} is missing: nothing to check");
    }
    let mut found = vec![];
    money_violations("$", "", &json, &mut found);
    assert!(found.is_empty(), "report.json breaks the money contract:\n{}", found.join("\n"));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn anomaly_precision_and_recall_on_generated_data() {
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    for seed in 1..=5u64 {
        let (dir, gt, engine) = generated(10_000, seed).await;
        let a = analyse(&engine, &engine.library(), &full_range(&gt), &AnalysisOptions::default()).await.unwrap();
        let found: BTreeSet<(String, String, String)> =
            a.anomalies.iter().map(|x| (x.date.to_string(), x.account_id.clone(), x.service.clone())).collect();
        let injected: BTreeSet<(String, String, String)> =
            gt.injected_anomalies.iter().map(|x| (x.date.clone(), x.account_id.clone(), x.service.clone())).collect();
        tp += found.intersection(&injected).count();
        fp += found.difference(&injected).count();
        fn_ += injected.difference(&found).count();
        let _ = std::fs::remove_dir_all(dir);
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    println!(
        "anomalies on generated CUR (5 seeds): tp={tp} fp={fp} fn={fn_} precision={precision:.3} recall={recall:.3}"
    );
    assert!(tp >= 30, "enough injected anomalies to measure: {tp}");
    assert!(precision >= 0.9, "precision {precision:.3}");
    assert!(recall >= 0.9, "recall {recall:.3}");
}

#[tokio::test]
async fn the_period_filter_prunes_partitions() {
    let (dir, gt, engine) = generated(20_000, 3).await;
    let lib = engine.library();
    let one = PeriodRange::new(ym(&gt.periods[0]), ym(&gt.periods[0])).unwrap();
    let both = full_range(&gt);
    let q = Query::SpendMonthly;
    let b1 = engine.run(&lib.request(q, &one)).await.unwrap();
    let b2 = engine.run(&lib.request(q, &both)).await.unwrap();
    let (s1, s2) = (b1.bytes_scanned.unwrap(), b2.bytes_scanned.unwrap());
    println!("spend_monthly bytes scanned: one period {s1}, two periods {s2}");
    assert!(s1 > 0 && s1 * 10 < s2 * 7, "one period reads well under the two: {s1} vs {s2}");
    let plan = engine.explain(&lib.request(q, &one)).await.unwrap();
    let second = format!("BILLING_PERIOD={}", gt.periods[1]);
    assert!(!plan.contains(&second), "the plan does not open the other partition:\n{plan}");
    // Rows of one period only.
    assert!(b1.rows.iter().all(|r| r[0] == Cell::Text(gt.periods[0].clone())));
    // And nothing for a period with no data, with a clear error from the range check.
    let none = PeriodRange::new(ym("2030-01"), ym("2030-02")).unwrap();
    let e = engine.check_range(&none).unwrap_err().to_string();
    assert!(e.contains("no data for billing periods 2030-01 to 2030-02") && e.contains("2025-01"), "{e}");
    let empty = engine.run(&lib.request(q, &none)).await.unwrap();
    assert!(empty.rows.is_empty());
    let _ = std::fs::remove_dir_all(dir);
}

const FOCUS_HEADER: &str = "BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,ProviderName,SubAccountId,ServiceName,RegionId,ResourceId,ChargeCategory,ChargeDescription,BilledCost,EffectiveCost,ListCost,ConsumedQuantity,PricingCategory,BillingCurrency";

fn focus_rows(
) -> Vec<(&'static str, &'static str, &'static str, &'static str, &'static str, &'static str, &'static str)> {
    // day, provider, account, service, region, category, billed
    let mut rows = vec![];
    for day in ["2025-03-01", "2025-03-02", "2025-03-03", "2025-04-01"] {
        rows.push((day, "AWS", "012345678901", "Amazon Elastic Compute Cloud", "us-east-1", "Usage", "12.3456"));
        rows.push((day, "Microsoft", "sub-7f3a", "Virtual Machines", "westeurope", "Usage", "7.10"));
        rows.push((day, "Google Cloud", "proj-42", "Cloud Storage", "europe-west1", "Usage", "0.333333"));
    }
    rows.push(("2025-03-01", "AWS", "012345678901", "Tax", "", "Tax", "4.20"));
    rows.push(("2025-03-01", "Microsoft", "sub-7f3a", "Virtual Machines", "westeurope", "Credit", "-5.00"));
    rows
}

fn write_focus(dir: &Path, extra_header: &str, extra_value: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let mut csv = format!("{FOCUS_HEADER}{extra_header}\n");
    for (day, provider, account, service, region, category, billed) in focus_rows() {
        let month = &day[..7];
        let next = if month == "2025-03" { "2025-04-01" } else { "2025-05-01" };
        csv.push_str(&format!(
            "{month}-01T00:00:00Z,{next}T00:00:00Z,{day}T00:00:00Z,{day}T23:59:59Z,{provider},{account},{service},{region},res-{provider}-{account},{category},{category} line,{billed},{billed},{billed},1,Standard,USD{extra_value}\n"
        ));
    }
    let path = dir.join("focus.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

#[tokio::test]
async fn focus_files_are_analysed_by_provider() {
    let dir = scratch("focus");
    let path = write_focus(&dir, "", "");
    let engine = EmbeddedEngine::open_focus(&path).await.expect("FOCUS 1.0 CSV");
    assert_eq!(engine.focus_version().map(|v| v.as_str()), Some("1.0"));
    assert_eq!(engine.periods().iter().map(ToString::to_string).collect::<Vec<_>>(), ["2025-03", "2025-04"]);
    let range = PeriodRange::new(ym("2025-03"), ym("2025-04")).unwrap();
    let a = analyse(&engine, &engine.library(), &range, &AnalysisOptions::default()).await.unwrap();
    let report = costradar_core::report::build(&a, "focus.csv", Some("1.0"));
    let mut by_provider: HashMap<&str, Decimal> = HashMap::new();
    let mut total = Decimal::ZERO;
    for (_, provider, _, _, _, _, billed) in focus_rows() {
        let v: Decimal = billed.parse().unwrap();
        *by_provider.entry(provider).or_default() += v;
        total += v;
    }
    assert_eq!(report.totals.billed_cost_usd, costradar_core::domain::money::usd(total));
    for (p, v) in by_provider {
        assert_eq!(report.totals.by_provider_usd[p], costradar_core::domain::money::usd(v), "{p}");
    }
    assert_eq!(report.totals.by_account_usd["012345678901"], "53.58", "leading zero kept: 4 x 12.3456 + 4.20");
    // Usage only in daily series: no tax, no credit.
    let day1: Decimal = a.daily.iter().filter(|d| d.date.to_string() == "2025-03-01").map(|d| d.billed_cost).sum();
    assert_eq!(cents(day1), cents("19.778933".parse().unwrap()));
    // Only March.
    let march = PeriodRange::new(ym("2025-03"), ym("2025-03")).unwrap();
    let a = analyse(&engine, &engine.library(), &march, &AnalysisOptions::default()).await.unwrap();
    assert_eq!(a.spend.iter().map(|s| s.billing_period.as_str()).collect::<BTreeSet<_>>(), BTreeSet::from(["2025-03"]));

    let v11 = write_focus(&scratch("focus11"), ",SkuPriceDetails", ",{}");
    let engine = EmbeddedEngine::open_focus(&v11).await.expect("FOCUS 1.1 CSV");
    assert_eq!(engine.focus_version().map(|v| v.as_str()), Some("1.1"));
    let _ = std::fs::remove_dir_all(dir);
}

/// A FOCUS 1.1 CSV with tags (JSON text, as a CSV holds them) and commitment discounts from two
/// providers, one row per line: every figure below is worked out from these rows by hand.
const FOCUS_COMMITMENTS: &str = r#"BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,ProviderName,SubAccountId,ServiceName,RegionId,ResourceId,ChargeCategory,ChargeDescription,BilledCost,EffectiveCost,ListCost,ConsumedQuantity,PricingCategory,BillingCurrency,ServiceCategory,Tags,CommitmentDiscountId,CommitmentDiscountCategory,CommitmentDiscountStatus,SkuPriceDetails
2025-03-01T00:00:00Z,2025-04-01T00:00:00Z,2025-03-05T00:00:00Z,2025-03-06T00:00:00Z,AWS,111111111111,Amazon Elastic Compute Cloud,us-east-1,i-1,Usage,on demand,10.00,10.00,10.00,24,On-Demand,USD,Compute,"{""user:team"": ""a"", ""user:env"": ""prod""}",,,,{}
2025-03-01T00:00:00Z,2025-04-01T00:00:00Z,2025-03-05T00:00:00Z,2025-03-06T00:00:00Z,AWS,111111111111,Amazon Elastic Compute Cloud,us-east-1,i-2,Usage,covered by a Savings Plan,0,6.00,9.00,24,Committed,USD,Compute,"{""user:team"": ""a""}",sp-1,Spend,Used,{}
2025-03-01T00:00:00Z,2025-04-01T00:00:00Z,2025-03-05T00:00:00Z,2025-03-06T00:00:00Z,AWS,111111111111,Savings Plans for AWS Compute usage,,sp-1,Usage,unused Savings Plan,0,1.50,0,0,Committed,USD,Compute,,sp-1,Spend,Unused,{}
2025-03-01T00:00:00Z,2025-04-01T00:00:00Z,2025-03-05T00:00:00Z,2025-03-06T00:00:00Z,AWS,111111111111,Amazon Elastic Compute Cloud,us-east-1,i-3,Usage,covered by a Reserved Instance,0,4.00,7.00,24,Committed,USD,Compute,{},ri-1,Usage,Used,{}
2025-03-01T00:00:00Z,2025-04-01T00:00:00Z,2025-03-05T00:00:00Z,2025-03-06T00:00:00Z,AWS,111111111111,Amazon Elastic Compute Cloud,us-east-1,ri-1,Usage,unused Reserved Instance,0,2.00,0,0,Committed,USD,Compute,,ri-1,Usage,Unused,{}
2025-03-01T00:00:00Z,2025-04-01T00:00:00Z,2025-03-05T00:00:00Z,2025-03-06T00:00:00Z,Microsoft,sub-1,Virtual Machines,westeurope,vm-1,Usage,pay as you go,5.00,5.00,5.00,24,Standard,USD,Compute,"{""env"": ""dev"", ""cost-center"": 42}",,,,{}
2025-03-01T00:00:00Z,2025-04-01T00:00:00Z,2025-03-05T00:00:00Z,2025-03-06T00:00:00Z,Microsoft,sub-1,Storage,westeurope,st-1,Usage,blob storage,3.00,3.00,3.00,100,Standard,USD,Storage,null,,,,{}
2025-03-01T00:00:00Z,2025-04-01T00:00:00Z,2025-03-05T00:00:00Z,2025-03-06T00:00:00Z,AWS,111111111111,Tax,,,Tax,tax,1.00,1.00,0,0,,USD,,"{""user:team"": ""a""}",,,,{}
2025-03-01T00:00:00Z,2025-04-01T00:00:00Z,2025-03-01T00:00:00Z,2025-04-01T00:00:00Z,AWS,111111111111,Savings Plans for AWS Compute usage,,sp-1,Purchase,Savings Plan fee,7.50,0,0,0,Committed,USD,Compute,,sp-1,Spend,,{}
"#;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[tokio::test]
async fn focus_tags_and_commitments_match_the_rows() {
    let dir = scratch("focus-commitments");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("focus.csv");
    std::fs::write(&path, FOCUS_COMMITMENTS).unwrap();
    let engine = EmbeddedEngine::open_focus(&path).await.expect("FOCUS 1.1 CSV with tags and commitments");
    assert_eq!(engine.focus_version().map(|v| v.as_str()), Some("1.1"));
    let march = PeriodRange::new(ym("2025-03"), ym("2025-03")).unwrap();
    let a = analyse(&engine, &engine.library(), &march, &AnalysisOptions::default()).await.unwrap();

    // Tags: usage rows only (not the tax, not the purchase), by billed cost. Tagged: i-1 (10.00)
    // and vm-1 (5.00); untagged: st-1 (3.00, `null`) and the commitment rows (0 billed).
    let t = a.tags.as_ref().expect("tag coverage runs on FOCUS");
    assert_eq!((t.usage_cost, t.tagged_cost, t.coverage), (d("18"), d("15"), d("0.8333")));
    let by_key: BTreeMap<&str, Decimal> = t.by_key.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        by_key,
        BTreeMap::from([("cost-center", d("5")), ("env", d("5")), ("user:env", d("10")), ("user:team", d("10"))])
    );
    assert_eq!(t.by_key_set["cost-center,env"], d("5"), "a number value is a value: the key counts");
    assert_eq!(t.by_key_set[""], d("3"));

    // Commitments: the spend commitment sp-1 covered $9.00 of on-demand usage for $6.00 and left
    // $1.50 unused; the usage commitment ri-1 covered $7.00 for $4.00 and left $2.00 unused.
    // Eligible on-demand compute: i-1 (On-Demand, FOCUS 1.0's word) and vm-1 (Standard, 1.1's).
    let [c] = a.commitments.as_slice() else { panic!("one billing period: {:?}", a.commitments) };
    assert_eq!(c.billing_period, "2025-03");
    assert_eq!((c.sp_covered_on_demand, c.ri_covered_on_demand, c.on_demand_eligible), (d("9"), d("7"), d("15")));
    assert_eq!((c.sp_commitment, c.sp_used, c.ri_fee, c.ri_unused), (d("7.5"), d("6"), d("6"), d("2")));
    assert_eq!(c.coverage, Some(d("0.5161")), "16 / (16 + 15)");
    assert_eq!(c.sp_utilisation, Some(d("0.8")));
    assert_eq!(c.ri_utilisation, Some(d("0.6667")));

    // The same file without its optional columns: untagged, no commitments, nothing else lost.
    let keep = 17; // the columns of FOCUS_HEADER
    let bare: String = FOCUS_COMMITMENTS
        .lines()
        .map(|l| {
            let mut fields = Vec::new();
            let mut rest = l;
            for _ in 0..keep {
                let (f, r) = rest.split_once(',').unwrap_or((rest, ""));
                fields.push(f);
                rest = r;
            }
            fields.join(",") + "\n"
        })
        .collect();
    let bare_path = dir.join("bare.csv");
    std::fs::write(&bare_path, bare).unwrap();
    let engine = EmbeddedEngine::open_focus(&bare_path).await.expect("FOCUS 1.0 CSV without tags or commitments");
    let b = analyse(&engine, &engine.library(), &march, &AnalysisOptions::default()).await.unwrap();
    let t = b.tags.as_ref().unwrap();
    assert_eq!((t.usage_cost, t.tagged_cost), (d("18"), Decimal::ZERO));
    let [c] = b.commitments.as_slice() else { panic!("{:?}", b.commitments) };
    assert_eq!((c.sp_covered_on_demand, c.ri_covered_on_demand, c.on_demand_eligible), Default::default());
    assert_eq!(b.spend.iter().map(|s| s.billed_cost).sum::<Decimal>(), a.spend.iter().map(|s| s.billed_cost).sum());
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn focus_tags_that_are_not_a_json_object_are_a_clear_error() {
    for (name, tags) in
        [("not JSON", "\"{team: a\""), ("a JSON array", "\"[\"\"a\"\"]\""), ("a JSON string", "\"\"\"a\"\"\"")]
    {
        let dir = scratch("focus-bad-tags");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("focus.csv");
        let csv: String = FOCUS_COMMITMENTS
            .lines()
            .enumerate()
            .map(|(i, l)| if i == 1 { l.replacen(r#""{""user:team"": ""a"", ""user:env"": ""prod""}""#, tags, 1) } else { l.to_owned() } + "\n")
            .collect();
        std::fs::write(&path, csv).unwrap();
        let engine = EmbeddedEngine::open_focus(&path).await.expect("opens: rows are read by the queries");
        let march = PeriodRange::new(ym("2025-03"), ym("2025-03")).unwrap();
        let e = analyse(&engine, &engine.library(), &march, &AnalysisOptions::default()).await.unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("Tags") && msg.contains("not a JSON object of tags"), "{name}: {msg}");
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// The cells of one CSV line, quotes kept (enough for the fixtures above).
fn csv_cells(line: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cells.last_mut().unwrap().push(c);
            }
            ',' if !quoted => cells.push(String::new()),
            _ => cells.last_mut().unwrap().push(c),
        }
    }
    cells
}

async fn focus_report(path: &Path) -> serde_json::Value {
    let engine = EmbeddedEngine::open_focus(path).await.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let march = PeriodRange::new(ym("2025-03"), ym("2025-03")).unwrap();
    let a = analyse(&engine, &engine.library(), &march, &AnalysisOptions::default()).await.unwrap();
    let mut report = serde_json::to_value(costradar_core::report::build(&a, "focus", Some("1.1"))).unwrap();
    // What the queries would scan on Athena differs by format (Parquet is columnar); the figures don't.
    report.as_object_mut().unwrap().remove("queries");
    report
}

/// The FOCUS project's sample files write missing values as the text `NULL`; AWS Data Exports
/// writes gzip CSV and Parquet. Each reads to the same analysis as the CSV with empty cells.
#[tokio::test]
async fn focus_null_text_gzip_and_parquet_read_like_empty_cells() {
    use std::io::Write;
    let dir = scratch("focus-formats");
    std::fs::create_dir_all(&dir).unwrap();
    let empty = dir.join("empty.csv");
    std::fs::write(&empty, FOCUS_COMMITMENTS).unwrap();
    let with_null: String = FOCUS_COMMITMENTS
        .lines()
        .map(|l| {
            csv_cells(l)
                .into_iter()
                .map(|c| if c.is_empty() { "NULL".to_owned() } else { c })
                .collect::<Vec<_>>()
                .join(",")
                + "\n"
        })
        .collect();
    assert!(with_null.matches("NULL").count() > 20, "the fixture has empty cells to replace");
    let null = dir.join("null.csv");
    std::fs::write(&null, &with_null).unwrap();
    let gz = dir.join("focus-00001.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::default());
    enc.write_all(with_null.as_bytes()).unwrap();
    enc.finish().unwrap();
    // Parquet with real types (numbers, timestamps), written from the CSV.
    let parquet = dir.join("focus-00001.snappy.parquet");
    let ctx = datafusion::prelude::SessionContext::new();
    let df = ctx.read_csv(empty.to_str().unwrap(), datafusion::prelude::CsvReadOptions::new()).await.unwrap();
    df.write_parquet(
        parquet.to_str().unwrap(),
        datafusion::dataframe::DataFrameWriteOptions::new().with_single_file_output(true),
        None,
    )
    .await
    .unwrap();

    let expected = focus_report(&empty).await;
    assert_eq!(expected["totals"]["billed_cost_usd"], "26.50", "10 + 5 + 3 + 1 + 7.50: {expected}");
    for path in [&null, &gz, &parquet] {
        assert_eq!(focus_report(path).await, expected, "{}", path.display());
    }
    let _ = std::fs::remove_dir_all(dir);
}
