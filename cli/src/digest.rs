//! `costradar digest --tenant T --dry-run [--as-of DAY|TIME] [--json]`: the digest the scan
//! function's `digest` task would send for the tenant at that time (`costradar_core::digest`),
//! built from the table, printed (its webhook text, or with `--json` its whole message) and
//! never sent: no marker is written. Sending from the CLI is not built, so `--dry-run` is
//! required. Bad arguments exit 2, a tenant that does not exist 1.

use std::process::ExitCode;
use std::sync::Arc;

use costradar_aws::DynamoStore;
use costradar_core::cur::confirm::parse_as_of;
use costradar_core::digest::{due, DigestService};
use costradar_core::domain::{Clock, SystemClock, TenantId};
use costradar_core::store::TenantStore;
use serde_json::json;

#[derive(clap::Args)]
pub struct DigestArgs {
    #[arg(long)]
    tenant: String,
    /// Build and print the digest without sending it (required: the CLI never sends).
    #[arg(long)]
    dry_run: bool,
    /// As of this day (midnight UTC) or RFC 3339 time; default: now.
    #[arg(long)]
    as_of: Option<String>,
    /// The whole message as JSON (`{"digest", "text"}`), not only its text.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: DigestArgs, store: DynamoStore) -> ExitCode {
    let bad = |m: String| {
        eprintln!("costradar digest: {m}");
        ExitCode::from(2)
    };
    if !args.dry_run {
        return bad("sending from the CLI is not built: add --dry-run to print the digest".into());
    }
    let Ok(id) = TenantId::parse(&args.tenant) else {
        return bad(format!("--tenant: {:.40?} is not a tenant id", args.tenant));
    };
    if let Some(Err(e)) = args.as_of.as_deref().map(parse_as_of) {
        return bad(format!("--as-of: {e}"));
    }
    match print(&id, args.as_of.as_deref(), args.json, store).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("costradar digest: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn print(id: &TenantId, as_of: Option<&str>, as_json: bool, store: DynamoStore) -> Result<(), String> {
    let now = as_of.map(parse_as_of).transpose()?.unwrap_or_else(|| SystemClock.now());
    let tenant = store.get_tenant(id).await.map_err(|e| e.to_string())?.ok_or("the tenant does not exist")?;
    let Some(period) = due(&tenant.digest, now) else {
        let why =
            "not due: the tenant's digest is off, or weekly on another day (costradar tenants configure --digest)";
        if as_json {
            println!("{}", json!({ "tenant_id": tenant.id, "due": false, "settings": tenant.digest, "reason": why }));
        } else {
            println!("{why}");
        }
        return Ok(());
    };
    let digest = DigestService::build_only(Arc::new(store)).build(&tenant, &period).await.map_err(|e| e.to_string())?;
    let sent = digest.has_news();
    if as_json {
        let v = json!({ "tenant_id": tenant.id, "due": true, "would_send": sent, "message": digest.payload() });
        println!("{}", serde_json::to_string_pretty(&v).expect("JSON"));
    } else {
        println!("{}", digest.text());
        if !sent {
            println!("(nothing new, realised or anomalous in the period: the task would not send it)");
        }
    }
    Ok(())
}
