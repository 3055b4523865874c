//! `costradar analyze` (the whole CUR analysis on the embedded engine, writing report.html and
//! report.json) and `costradar cur ...` (the synthetic CUR generator, the query library's SQL).
//! Neither needs AWS, but for an export in S3.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use costradar_core::cur::analysis::{analyse, AnalysisOptions};
use costradar_core::cur::queries::{PeriodRange, YearMonth};
use costradar_cur_local::embedded::EmbeddedEngine;
use costradar_cur_local::generate::{generate, GeneratorConfig};
use costradar_cur_local::s3_export::{self, S3Location};
use rust_decimal::Decimal;
use serde_json::json;

#[derive(Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["cur", "focus"])))]
pub struct AnalyzeArgs {
    /// A CUR 2.0 export: a directory (holding `data/BILLING_PERIOD=YYYY-MM/` or the partitions),
    /// or `s3://bucket/prefix`, whose periods from --from to --to are fetched into --cache first
    /// (credentials and region from the usual AWS environment).
    #[arg(long)]
    cur: Option<String>,
    /// Where an S3 export's files are kept between runs (default: costradar-cur/ in the system
    /// temporary folder).
    #[arg(long)]
    cache: Option<PathBuf>,
    /// A FOCUS 1.0 or 1.1 file, CSV or Parquet.
    #[arg(long)]
    focus: Option<PathBuf>,
    /// First billing period (YYYY-MM); default: the earliest in the data.
    #[arg(long)]
    from: Option<YearMonth>,
    /// Last billing period (YYYY-MM); default: the latest in the data.
    #[arg(long)]
    to: Option<YearMonth>,
    /// Where report.html and report.json go (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Anomalies smaller than this many dollars a day are not reported.
    #[arg(long, default_value = "50")]
    min_impact: Decimal,
    /// Also check this tenant's realised savings of --account against this CUR: the savings
    /// ledger's confirmed figure, written to the table (--table; docs/cur.md).
    #[arg(long, requires = "account")]
    tenant: Option<String>,
    /// The account whose realised savings are checked (with --tenant).
    #[arg(long, requires = "tenant")]
    account: Option<String>,
    /// When the check runs (YYYY-MM-DD, midnight UTC; default: now): a resolution is compared
    /// once it is 7 days old, so a local run can look at a week it did not wait for.
    #[arg(long, requires = "tenant")]
    as_of: Option<String>,
}

#[derive(Subcommand)]
pub enum CurCommand {
    /// Writes a deterministic synthetic CUR 2.0 export (Parquet, export layout) and its
    /// ground_truth.json into OUT.
    Generate {
        /// Rows to write, exactly (10k to 10M are the tested sizes).
        #[arg(long, default_value = "10000")]
        rows: u64,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "42")]
        seed: u64,
        /// First billing period.
        #[arg(long, default_value = "2025-01")]
        start: YearMonth,
        #[arg(long, default_value = "2")]
        months: u32,
        #[arg(long, default_value = "4")]
        accounts: u32,
        /// A JSON file: resources billed at a fixed cost a day up to a day, beside the generated
        /// ones ([{"account_id", "region", "resource_id", "product", "usage_type", "daily_usd",
        /// "until"}]).
        #[arg(long)]
        billed: Option<PathBuf>,
    },
    /// Times every library query on the embedded engine over a CUR 2.0 export (after one
    /// warm-up run) and estimates the bytes each would scan on Athena. Prints JSON;
    /// tools/bench_cur.py runs DuckDB on the same files and prints the comparison.
    Bench {
        #[arg(long)]
        data: PathBuf,
        #[arg(long, default_value = "3")]
        runs: u32,
    },
    /// Prints the query library's SQL (as Athena runs it, placeholders unfilled).
    Queries {
        /// JSON: [{"name", "schema", "sql", "params"}] (the sqlglot check reads this).
        #[arg(long)]
        json: bool,
    },
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("costradar: {msg}");
    ExitCode::FAILURE
}

pub async fn cur(cmd: CurCommand) -> ExitCode {
    match cmd {
        CurCommand::Generate { rows, out, seed, start, months, accounts, billed } => {
            let billed = match billed.map(|p| read_billed(&p)).transpose() {
                Ok(b) => b.unwrap_or_default(),
                Err(e) => return fail(e),
            };
            let cfg = GeneratorConfig { rows, seed, start, months, accounts, billed };
            let t = std::time::Instant::now();
            // The generator is CPU-bound and synchronous.
            let res = tokio::task::spawn_blocking(move || generate(&cfg, &out).map(|gt| (gt, out))).await;
            match res {
                Ok(Ok((gt, out))) => {
                    println!(
                        "{}",
                        json!({
                            "out": out.display().to_string(),
                            "rows": gt.rows,
                            "periods": gt.periods,
                            "total_billed": costradar_core::domain::money::usd(gt.total_billed),
                            "injected_anomalies": gt.injected_anomalies.len(),
                            "injected_waste": gt.injected_waste.len(),
                            "seconds": (t.elapsed().as_secs_f64() * 10.0).round() / 10.0,
                        })
                    );
                    ExitCode::SUCCESS
                }
                Ok(Err(e)) => fail(e),
                Err(e) => fail(e),
            }
        }
        CurCommand::Bench { data, runs } => bench(&data, runs.clamp(1, 50)).await,
        CurCommand::Queries { json: as_json } => {
            let all = costradar_core::cur::queries::library_json();
            let out = all.as_array().expect("an array");
            if as_json {
                println!("{}", serde_json::to_string_pretty(&all).expect("json"));
            } else {
                for q in out {
                    println!(
                        "-- {} ({})\n{};\n",
                        q["name"].as_str().unwrap_or(""),
                        q["schema"].as_str().unwrap_or(""),
                        q["sql"].as_str().unwrap_or("")
                    );
                }
            }
            ExitCode::SUCCESS
        }
    }
}

/// The `--billed` file of `cur generate`.
fn read_billed(p: &Path) -> Result<Vec<costradar_cur_local::generate::BilledResource>, String> {
    let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
}

/// `analyze --tenant`: checks the tenant's realised savings of `--account` against the analysed
/// CUR (`costradar_core::cur::confirm`) and writes the verdicts to the table.
async fn confirm(
    args: &AnalyzeArgs,
    engine: &EmbeddedEngine,
    analysis: &costradar_core::cur::analysis::CurAnalysis,
    range: &PeriodRange,
    store_at: (Option<&str>, &str),
) -> Result<serde_json::Value, String> {
    use costradar_core::cur::confirm;
    use costradar_core::domain::{AccountId, Clock, SystemClock, TenantId};
    use costradar_core::store::TenantStore;
    let (Some(tenant), Some(account)) = (&args.tenant, &args.account) else { return Ok(serde_json::Value::Null) };
    let tenant = TenantId::parse(tenant).map_err(|e| format!("--tenant: {e}"))?;
    let account = AccountId::parse(account).map_err(|e| format!("--account: {e}"))?;
    let now = match &args.as_of {
        Some(day) => confirm::parse_as_of(day).map_err(|e| format!("--as-of: {e}"))?,
        None => SystemClock.now(),
    };
    let store = costradar_aws::DynamoStore::from_sdk(&costradar_aws::sdk_config(store_at.0).await, store_at.1);
    store.get_tenant(&tenant).await.map_err(|e| e.to_string())?.ok_or(format!("tenant {tenant} does not exist"))?;
    let settings = AnalysisOptions::default().confirm;
    let cx = confirm::Context { range, coverage: analysis.first_day.zip(analysis.last_day), now, settings: &settings };
    let library = engine.library();
    let summary = confirm::confirm_with_engine(engine, &library, &store, &tenant, &account, &cx)
        .await
        .map_err(|e| e.to_string())?;
    Ok(json!(summary))
}

fn display_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| p.display().to_string())
}

/// The local export directory for --cur: the directory itself, or the cache an S3 export was
/// fetched into.
async fn cur_dir(cur: &str, args: &AnalyzeArgs, endpoint_url: Option<&str>) -> Result<PathBuf, String> {
    if !cur.starts_with("s3://") {
        return Ok(PathBuf::from(cur));
    }
    let loc = S3Location::parse(cur).map_err(|e| e.to_string())?;
    let root = args.cache.clone().unwrap_or_else(|| std::env::temp_dir().join("costradar-cur"));
    let cache = loc.cache_dir(&root);
    let client = s3_export::client(&costradar_aws::sdk_config(endpoint_url).await);
    let report = s3_export::sync_export(&client, &loc, args.from, args.to, &cache).await.map_err(|e| e.to_string())?;
    eprintln!("costradar: {loc} -> {}: {}", cache.display(), json!(report));
    Ok(cache)
}

pub async fn analyze(args: AnalyzeArgs, endpoint_url: Option<&str>, table: &str) -> ExitCode {
    let opened = match (&args.cur, &args.focus) {
        (Some(cur), None) => match cur_dir(cur, &args, endpoint_url).await {
            Ok(dir) => EmbeddedEngine::open_cur(&dir).await,
            Err(e) => return fail(e),
        },
        (None, Some(file)) => EmbeddedEngine::open_focus(file).await,
        _ => return fail("give exactly one of --cur DIR|s3://BUCKET/PREFIX and --focus FILE"),
    };
    let engine = match opened {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
    let present = engine.periods().to_vec();
    let (Some(first), Some(last)) = (present.first().copied(), present.last().copied()) else {
        return fail(format!("{}: no billing periods in the data", engine.source().display()));
    };
    let range = match PeriodRange::new(args.from.unwrap_or(first), args.to.unwrap_or(last)) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    if let Err(e) = engine.check_range(&range) {
        return fail(e);
    }
    if args.min_impact < Decimal::ZERO {
        return fail("--min-impact must not be negative");
    }
    let mut opts = AnalysisOptions::default();
    opts.anomaly.min_impact = args.min_impact;
    let t = std::time::Instant::now();
    let analysis = match analyse(&engine, &engine.library(), &range, &opts).await {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    let source = match (&args.cur, &args.focus) {
        (Some(cur), _) if cur.starts_with("s3://") => cur.clone(),
        (Some(cur), _) => display_name(Path::new(cur)),
        (None, Some(file)) => display_name(file),
        (None, None) => String::new(),
    };
    let report = costradar_core::report::build(&analysis, &source, engine.focus_version().map(|v| v.as_str()));
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        return fail(format!("{}: {e}", args.out.display()));
    }
    let json_path = args.out.join("report.json");
    let html_path = args.out.join("report.html");
    let json = serde_json::to_vec_pretty(&report).expect("report serialises");
    if let Err(e) = std::fs::write(&json_path, json) {
        return fail(format!("{}: {e}", json_path.display()));
    }
    if let Err(e) = std::fs::write(&html_path, costradar_core::report::render_html(&report)) {
        return fail(format!("{}: {e}", html_path.display()));
    }
    let confirmations = match confirm(&args, &engine, &analysis, &range, (endpoint_url, table)).await {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    println!(
        "{}",
        json!({
            "report_json": json_path.display().to_string(),
            "report_html": html_path.display().to_string(),
            "period": { "from": range.from.to_string(), "to": range.to.to_string() },
            "billed_cost_usd": report.totals.billed_cost_usd,
            "findings": report.findings.len(),
            "anomalies": report.anomalies.len(),
            "queries": analysis.queries.len(),
            "seconds": (t.elapsed().as_secs_f64() * 100.0).round() / 100.0,
            "confirmations": confirmations,
        })
    );
    ExitCode::SUCCESS
}

async fn bench(data: &Path, runs: u32) -> ExitCode {
    use costradar_core::cur::QueryEngine;
    let engine = match EmbeddedEngine::open_cur(data).await {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
    let (Some(first), Some(last)) = (engine.periods().first().copied(), engine.periods().last().copied()) else {
        return fail("no billing periods");
    };
    let range = PeriodRange::new(first, last).expect("sorted periods");
    let lib = engine.library();
    let mut out = Vec::new();
    for q in lib.queries() {
        let req = lib.request(q, &range);
        let estimate = match engine.scan_estimate(&req).await {
            Ok(e) => e,
            Err(e) => return fail(e),
        };
        let mut times = Vec::new();
        let mut result_rows = 0;
        let mut bytes_read = None;
        for i in 0..=runs {
            let t = std::time::Instant::now();
            match engine.run(&req).await {
                Ok(rs) => {
                    result_rows = rs.rows.len();
                    bytes_read = rs.bytes_scanned;
                }
                Err(e) => return fail(format!("{}: {e}", q.name())),
            }
            if i > 0 {
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
        times.sort_by(f64::total_cmp);
        out.push(json!({
            "name": q.name(),
            "sql": req.sql,
            "params": req.params,
            "ms": times,
            "median_ms": times[times.len() / 2],
            "result_rows": result_rows,
            "datafusion_bytes_read": bytes_read,
            "athena": estimate,
        }));
    }
    println!("{}", json!({ "engine": "datafusion", "data": data.display().to_string(), "queries": out }));
    ExitCode::SUCCESS
}
