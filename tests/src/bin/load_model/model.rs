//! The scan side and the costs of the load model: Step Functions transitions walked from the
//! state machine's definition, Lambda memory and concurrency from the template, prices public.

use serde_json::Value;

/// Public prices, us-east-1 (sources in docs/scale.md).
const LAMBDA_GB_S: f64 = 0.000_013_333_4; // arm64
const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
const SFN_TRANSITION: f64 = 0.025 / 1000.0; // standard workflows
const DDB_WRU: f64 = 0.625 / 1e6; // on-demand, since Nov 2024
const DDB_RRU: f64 = 0.125 / 1e6;
const S3_PUT: f64 = 0.005 / 1000.0;
const S3_GET: f64 = 0.0004 / 1000.0;

/// Quotas (AWS defaults): a distributed Map's child executions at once; Lambda concurrent
/// executions per account and region.
const MAP_CHILD_CONCURRENCY: f64 = 10_000.0;
const LAMBDA_CONCURRENCY: f64 = 1_000.0;

/// Measured elsewhere: one account's `scan_account` task, 2 regions, 4.9 s (docs/deploy.md,
/// a demo run against moto through the counting proxy); its store work 14 WRU and 22 RRU.
const SCAN_S_PER_REGION: f64 = 4.9 / 2.0;
const SCAN_WRU: f64 = 14.0;
const SCAN_RRU: f64 = 22.0;
const REGIONS: f64 = 3.0;
/// One real account's scan for planning (docs/workflows.md): 17 regions read 4 at a time.
const PLANNING_SCAN_S: f64 = 60.0;

pub struct Measured {
    pub events_per_s_before: f64,
    pub events_per_s_after: f64,
    pub receiver_ms: f64,
    pub event_wu: f64,
    pub event_ru: f64,
}

/// The state machine as deployed: `${...}` substitutions replaced by 1 (numbers or strings).
fn asl() -> Value {
    let path = costradar_tests::repo_root().join("infra/statemachines/scan.asl.json");
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        out.push('1');
        rest = &rest[i + rest[i..].find('}').unwrap() + 1..];
    }
    out.push_str(rest);
    serde_json::from_str(&out).expect("the state machine parses once substituted")
}

/// States entered on the happy path from `StartAt` (each is one billed transition). A Choice
/// takes its first choice unless `no_cur` and the choice reads `$.cur...`, or the target was
/// already entered (a poll loop: the first poll succeeds). Map states count their own entry;
/// their item processor is walked separately.
fn walk(sm: &Value, no_cur: bool) -> (Vec<String>, Option<Value>) {
    let mut seen = Vec::new();
    let mut map = None;
    let mut at = sm["StartAt"].as_str().map(str::to_owned);
    while let Some(name) = at.take() {
        let s = &sm["States"][&name];
        seen.push(name.clone());
        if let Some(p) = s.get("ItemProcessor").or_else(|| s.get("Iterator")) {
            map = Some(p.clone());
        }
        at = match s["Type"].as_str() {
            Some("Choice") => {
                let first = s["Choices"].as_array().and_then(|c| c.first());
                let cur = first.is_some_and(|c| c["Variable"].as_str().is_some_and(|v| v.starts_with("$.cur")));
                let target = first.and_then(|c| c["Next"].as_str()).map(str::to_owned);
                match target {
                    Some(t) if !(seen.contains(&t) || (no_cur && cur)) => Some(t),
                    _ => s["Default"].as_str().map(str::to_owned),
                }
            }
            _ if s.get("End").is_some() => None,
            _ => s["Next"].as_str().map(str::to_owned),
        };
        if seen.len() > 200 {
            break;
        }
    }
    (seen, map)
}

fn template() -> serde_yaml::Value {
    let text = std::fs::read_to_string(costradar_tests::repo_root().join("infra/template.yaml")).unwrap();
    serde_yaml::from_str(&text).expect("the template parses")
}

fn memory_gb(t: &serde_yaml::Value, function: &str) -> f64 {
    let own = t["Resources"][function]["Properties"]["MemorySize"].as_f64();
    own.or_else(|| t["Globals"]["Function"]["MemorySize"].as_f64()).unwrap_or(128.0) / 1024.0
}

pub fn print_scan_and_cost(m: Measured) {
    let sm = asl();
    let (outer, processor) = walk(&sm, true);
    let processor = processor.expect("the scan state machine has a Map");
    let (child, _) = walk(&processor, true);
    let (child_cur, _) = walk(&processor, false);
    println!("\n== Step Functions (walked from infra/statemachines/scan.asl.json) ==");
    println!("per run ({} transitions): {}", outer.len(), outer.join(" → "));
    println!("per account without CUR ({} transitions): {}", child.len(), child.join(" → "));
    println!("per account with CUR, first poll done ({} transitions): {}", child_cur.len(), child_cur.join(" → "));
    let t = template();
    let param = |name: &str, key: &str| t["Parameters"][name][key].as_f64().unwrap_or(0.0);
    let (default_c, max_c) = (param("ScanMaxConcurrency", "Default"), param("ScanMaxConcurrency", "MaxValue"));
    let measured_s = SCAN_S_PER_REGION * REGIONS;
    let quota_c = MAP_CHILD_CONCURRENCY.min(LAMBDA_CONCURRENCY);
    println!("\n== Accounts scanned per day: concurrency × 86,400 s / one scan's seconds ==");
    println!("before (an inline Map of at most 50 accounts, hourly): {} accounts/day", 50 * 24);
    println!(
        "{:<66} {:>14} {:>14}",
        "concurrency",
        format!("S = {measured_s:.2} s"),
        format!("S = {PLANNING_SCAN_S:.0} s")
    );
    for (what, c) in [
        (format!("ScanMaxConcurrency default {default_c}"), default_c),
        (format!("ScanMaxConcurrency at its template maximum {max_c}"), max_c),
        (
            format!("the quotas (Map children {MAP_CHILD_CONCURRENCY}, Lambda {LAMBDA_CONCURRENCY}; the lower binds)"),
            quota_c,
        ),
    ] {
        let per_day = |s: f64| c * 86_400.0 / s;
        println!("{what:<66} {:>14.0} {:>14.0}", per_day(measured_s), per_day(PLANNING_SCAN_S));
    }
    println!(
        "(S = {measured_s:.2} s: {REGIONS} regions at the demo's measured {SCAN_S_PER_REGION:.2} s a region on moto;"
    );
    println!(" S = {PLANNING_SCAN_S:.0} s: the planning figure of docs/workflows.md, a 17-region account read 4 regions at a time)");
    println!(
        "(one tenant sending events at its ceiling: before {:.0}/s, sharded {:.0}/s)",
        m.events_per_s_before, m.events_per_s_after
    );
    costs(&m, &t, child.len() as f64, outer.len() as f64);
}

/// Dollars a month of one tenant: `accounts` scanned daily, `events` a month.
fn tenant_month(m: &Measured, t: &serde_yaml::Value, accounts: f64, events: f64, child: f64, outer: f64) -> [f64; 5] {
    let runs = accounts * 30.0;
    let receiver = events * (m.receiver_ms / 1000.0) * memory_gb(t, "ReceiverFunction") * LAMBDA_GB_S
        + events * LAMBDA_REQUEST
        + events * (m.event_wu * DDB_WRU + m.event_ru * DDB_RRU);
    let scan_lambda =
        runs * SCAN_S_PER_REGION * REGIONS * memory_gb(t, "ScanFunction") * LAMBDA_GB_S + runs * 2.0 * LAMBDA_REQUEST;
    // One schedule tick a day that finds this tenant's accounts due; its share of the run.
    let sfn = runs * child * SFN_TRANSITION + 30.0 * outer * SFN_TRANSITION;
    let ddb = runs * (SCAN_WRU * DDB_WRU + SCAN_RRU * DDB_RRU);
    // The due list and the Map's results: a PUT and a GET per account run, a few per run.
    let s3 = runs * (S3_PUT + S3_GET) + 30.0 * 4.0 * S3_PUT;
    [receiver, scan_lambda, sfn, ddb, s3]
}

fn costs(m: &Measured, t: &serde_yaml::Value, child: f64, outer: f64) {
    println!(
        "\n== Cost per tenant-month (receiver {:.1} ms at {:.0} MB; {:.2} WU + {:.2} RU an event) ==",
        m.receiver_ms,
        memory_gb(t, "ReceiverFunction") * 1024.0,
        m.event_wu,
        m.event_ru
    );
    println!(
        "{:<46} {:>10} {:>10} {:>10} {:>10} {:>8} {:>11}",
        "shape", "receiver", "scan λ", "states", "scan DDB", "S3", "total $/mo"
    );
    let shapes = [
        ("10,000 tenants × 5 accounts: one tenant", 5.0, 2_000.0),
        ("one tenant of 5,000 accounts", 5_000.0, 2_000_000.0),
        ("one tenant, 100 events/s sustained, 5 accts", 5.0, 100.0 * 86_400.0 * 30.0),
        ("one tenant, 1,000 events/s sustained, 5 accts", 5.0, 1_000.0 * 86_400.0 * 30.0),
    ];
    for (name, accounts, events) in shapes {
        let c = tenant_month(m, t, accounts, events, child, outer);
        let total: f64 = c.iter().sum();
        println!(
            "{name:<46} {:>10.4} {:>10.4} {:>10.4} {:>10.4} {:>8.4} {:>11.2}",
            c[0], c[1], c[2], c[3], c[4], total
        );
    }
    let fleet: f64 = tenant_month(m, t, 5.0, 2_000.0, child, outer).iter().sum::<f64>() * 10_000.0;
    println!("10,000 such tenants: ${fleet:.0} a month (plus the stack's fixed ≈ $2.55, docs/deploy.md)");
}
