//! `costradar scan`: scans one account outside Step Functions with the scan Lambda's code
//! (`costradar_core::scan::Scanner`) and writes its findings as JSON. The JSON is a stable contract:
//!
//! ```json
//! {"account_id": "...", "status": "complete|partial|failed",
//!  "findings": [{"rule", "resource_id", "arn", "region", "title", "evidence", "monthly_cost_usd",
//!                "monthly_savings_usd", "confidence", "fix_command", "savings_included_in",
//!                "status", "first_seen", "last_seen"}],
//!  "errors": [{"region", "action", "code", "message"}],
//!  "regions": [...the run record's regions...],
//!  "total_monthly_savings_usd": "0.00"}
//! ```
//!
//! Money is a decimal string of dollars and cents (`"17.60"`, `null` when unpriced), as
//! `costradar_core::domain::money::usd` writes it everywhere. A finding whose
//! `savings_included_in` is set is already counted in another one; the total skips it. The CLI
//! keeps no memory between runs: the age of an unattached volume or of a load balancer without
//! targets starts at the scan, so `--settings` with `unattached_volume_days` /
//! `elb_no_targets_days` at 0 lists them all.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use costradar_aws::scan::AwsSessionOpener;
use costradar_aws::StsRoleAssumer;
use costradar_core::domain::finding::Finding;
use costradar_core::domain::money::usd;
use costradar_core::domain::settings::{ScanSettings, MAX_SETTINGS_BYTES};
use costradar_core::domain::{parse_regions, AccountId, ExternalId, InvalidInput, RoleArn, TenantId};
use costradar_core::scan::{ScanError, Scanner, Target};
use costradar_core::store::MemoryStore;
use rust_decimal::Decimal;
use serde_json::{json, Value};

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// The AWS account to scan.
    #[arg(long)]
    account_id: String,
    /// The costradar role in that account (the customer stack's RoleArn output).
    #[arg(long)]
    role_arn: String,
    /// The tenant's ExternalId (`costradar-…`).
    #[arg(long, env = "COSTRADAR_EXTERNAL_ID", hide_env_values = true)]
    external_id: String,
    /// Comma-separated; default: every enabled region.
    #[arg(long, value_delimiter = ',')]
    regions: Vec<String>,
    /// JSON object overriding the scan thresholds (see docs/rules.md).
    #[arg(long)]
    settings: Option<PathBuf>,
    /// Where to write the findings (`-` for stdout).
    #[arg(long)]
    json: PathBuf,
}

/// Dollars as a decimal string to the cent; `null` when there is no amount.
fn money(d: Option<Decimal>) -> Value {
    d.map_or(Value::Null, |d| Value::String(usd(d)))
}

fn finding(f: &Finding) -> Value {
    json!({
        "rule": f.rule,
        "resource_id": f.resource_id,
        "arn": f.arn,
        "region": f.region,
        "title": f.title,
        "evidence": f.evidence,
        "monthly_cost_usd": money(f.monthly_cost_usd),
        "monthly_savings_usd": money(f.monthly_savings_usd),
        "confidence": f.confidence.map(|c| c.as_str()),
        "fix_command": f.fix_command,
        "savings_included_in": f.savings_included_in,
        "status": f.status,
        "first_seen": f.first_seen,
        "last_seen": f.last_seen,
    })
}

struct Checked {
    account: AccountId,
    role: RoleArn,
    external_id: ExternalId,
    regions: Vec<String>,
    settings: ScanSettings,
}

fn check(args: &ScanArgs) -> Result<Checked, InvalidInput> {
    let account = AccountId::parse(&args.account_id).map_err(|e| InvalidInput::new("--account-id", e.message))?;
    let role = RoleArn::parse(&args.role_arn).map_err(|e| InvalidInput::new("--role-arn", e.to_string()))?;
    if role.account_id() != &account {
        return Err(InvalidInput::new(
            "--role-arn",
            format!("the role is in account {}, not {account}", role.account_id()),
        ));
    }
    let external_id =
        ExternalId::parse(&args.external_id).map_err(|e| InvalidInput::new("--external-id", e.message))?;
    let regions = parse_regions("--regions", &args.regions)?;
    let settings = match &args.settings {
        None => ScanSettings::default(),
        Some(path) => {
            let meta = std::fs::metadata(path)
                .map_err(|e| InvalidInput::new("--settings", format!("{}: {e}", path.display())))?;
            if meta.len() > MAX_SETTINGS_BYTES as u64 {
                return Err(InvalidInput::new("--settings", format!("at most {MAX_SETTINGS_BYTES} bytes")));
            }
            let bytes =
                std::fs::read(path).map_err(|e| InvalidInput::new("--settings", format!("{}: {e}", path.display())))?;
            ScanSettings::from_json(&bytes)
                .map_err(|e| InvalidInput::new(format!("--settings: {}", e.field), e.message))?
        }
    };
    if args.json.as_os_str() != "-" {
        let dir = args.json.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
        if !dir.is_dir() {
            return Err(InvalidInput::new("--json", format!("{} is not a directory", dir.display())));
        }
    }
    Ok(Checked { account, role, external_id, regions, settings })
}

fn write(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    if path.as_os_str() == "-" {
        println!("{text}");
        return Ok(());
    }
    // Written whole or not at all: a temporary file beside it, renamed over it.
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

pub async fn run(args: ScanArgs, sdk: &costradar_aws::SdkConfig) -> ExitCode {
    let c = match check(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("costradar scan: {}: {}", e.field, e.message);
            return ExitCode::from(2);
        }
    };
    let opener = AwsSessionOpener::new(Arc::new(StsRoleAssumer::from_sdk(sdk)), sdk.clone());
    let scanner = Scanner::new(Arc::new(opener), Arc::new(MemoryStore::new()), costradar_core::pricing::bundled());
    // The session name carries a tenant id; a CLI run has none of its own.
    let tenant = TenantId::generate();
    let target = Target {
        tenant_id: &tenant,
        external_id: &c.external_id,
        account_id: &c.account,
        role_arn: &c.role,
        regions: &c.regions,
    };
    let now = costradar_core::domain::Clock::now(&costradar_core::domain::SystemClock);
    let scan = match scanner.scan(&target, &c.settings, now).await {
        Ok(s) => s,
        Err(e @ ScanError::Revoked(_)) => {
            eprintln!("costradar scan: {e} (check the role's trust policy and the ExternalId)");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("costradar scan: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut findings: Vec<&Finding> = scan.findings.iter().collect();
    findings.sort_by(|a, b| (&a.region, &a.rule, &a.resource_id).cmp(&(&b.region, &b.rule, &b.resource_id)));
    let total: Decimal = findings.iter().filter(|f| f.counts_in_total()).filter_map(|f| f.monthly_savings_usd).sum();
    let errors: Vec<Value> = scan
        .run
        .regions
        .iter()
        .flat_map(|r| {
            r.errors
                .iter()
                .map(|e| json!({"region": r.region, "action": e.action, "code": e.code, "message": e.message}))
        })
        .collect();
    let n_findings = findings.len();
    let n_errors = errors.len();
    let out = json!({
        "account_id": c.account.as_str(),
        "status": scan.run.status.as_str(),
        "findings": findings.into_iter().map(finding).collect::<Vec<_>>(),
        "errors": errors,
        "regions": scan.run.regions,
        "total_monthly_savings_usd": money(Some(total)),
    });
    let text = serde_json::to_string_pretty(&out).expect("JSON");
    if let Err(e) = write(&args.json, &text) {
        eprintln!("costradar scan: --json {}: {e}", args.json.display());
        return ExitCode::FAILURE;
    }
    eprintln!(
        "costradar scan: {n_findings} findings, ${}/month, status {}{}",
        usd(total),
        scan.run.status.as_str(),
        if n_errors == 0 { String::new() } else { format!(", {n_errors} errors (see \"errors\")") }
    );
    ExitCode::SUCCESS
}
