//! `costradar`: the operator's command line, and local runs. Tenant and account commands go
//! through the same API layer as the onboarding Lambda, straight against the table, so their
//! JSON and their validation are the Lambda's.

mod analyze;
mod console;
mod console_admin;
mod digest;
mod findings;
mod findings_view;
mod prices;
mod reports;
mod rules;
mod scan;

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use costradar_aws::DynamoStore;
use costradar_aws::{sdk_config, StsRoleAssumer};
use costradar_core::domain::SystemClock;
use costradar_core::findings::Findings;
use costradar_core::onboarding::api::{self, ApiRequest};
use costradar_core::onboarding::{Onboarding, OnboardingSettings};
use serde_json::{json, Value};

#[derive(Parser)]
#[command(name = "costradar", version, about = "costradar: real-time and scheduled FinOps for AWS")]
struct Cli {
    /// DynamoDB table (the stack's TableName output).
    #[arg(long, env = "TABLE_NAME", global = true, default_value = "costradar")]
    table: String,
    /// Send every AWS call here instead of AWS (moto on loopback for local runs).
    #[arg(long, env = "AWS_ENDPOINT_URL", global = true)]
    endpoint_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The DynamoDB table (local runs; production tables come from the SAM template).
    #[command(subcommand)]
    Table(TableCommand),
    /// Tenants: create, list, show, configure, delete.
    #[command(subcommand)]
    Tenants(TenantCommand),
    /// Customer accounts of a tenant: add (verifies; prints the account's ingest token once), list,
    /// show, verify, remove, rotate-token, revoke-token.
    #[command(subcommand)]
    Accounts(AccountCommand),
    /// Real-time events: price one locally, send one to a receiver, or list a tenant's.
    #[command(subcommand)]
    Events(EventCommand),
    /// A tenant's findings: list, show, and decisions (ack, snooze, suppress, assign, note).
    #[command(subcommand)]
    Findings(findings::FindingsCommand),
    /// A tenant's scan runs.
    #[command(subcommand)]
    Runs(findings::RunsCommand),
    /// A tenant's savings ledger: open, realised and confirmed, by month, service and account.
    Savings(findings::SavingsArgs),
    /// The tenant's digest as the daily task would build it, printed, never sent (--dry-run).
    Digest(digest::DigestArgs),
    /// The Price List cache: refresh it from the AWS Price List API.
    #[command(subcommand)]
    Prices(prices::PricesCommand),
    /// Analyses a CUR 2.0 export or a FOCUS file locally (embedded engine): report.html and report.json.
    Analyze(analyze::AnalyzeArgs),
    /// CUR tools: a synthetic CUR 2.0 generator with ground truth, the query library's SQL.
    #[command(subcommand)]
    Cur(analyze::CurCommand),
    /// Scans one account with the scan Lambda's code and writes its findings as JSON.
    Scan(scan::ScanArgs),
    /// Every rule: id, service, source (scan, realtime, cur, aws-recommender), title, confidence,
    /// the settings it reads.
    Rules(rules::RulesArgs),
    /// The console in the browser, served on loopback (local use and the demo).
    #[command(subcommand)]
    Console(console::ConsoleCommand),
    /// A tenant's CUR reports in the stack's reports bucket: list (with presigned links), get.
    #[command(subcommand)]
    Reports(reports::ReportsCommand),
}

#[derive(Subcommand)]
enum EventCommand {
    /// Prices an EventBridge event (JSON file, `-` for stdin) with the bundled price snapshot,
    /// through the receiver's own code path; needs no AWS. Prints the priced result as JSON.
    Price {
        file: String,
        /// Monthly amount from which a change becomes a finding.
        #[arg(long, default_value = "100")]
        threshold_usd: rust_decimal::Decimal,
    },
    /// Posts an event to a receiver the way an EventBridge API destination does.
    Send {
        file: String,
        /// The receiver's base URL (the stack's ReceiverUrl output).
        #[arg(long)]
        url: String,
        #[arg(long)]
        tenant: String,
        /// The ingest token of the event's account (`x-api-key`).
        #[arg(long, env = "COSTRADAR_INGEST_TOKEN", hide_env_values = true)]
        token: String,
    },
    /// A tenant's priced events, newest first.
    List(findings::EventsListArgs),
}

fn read_input(file: &str) -> std::io::Result<Vec<u8>> {
    if file == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)?;
        Ok(buf)
    } else {
        std::fs::read(file)
    }
}

async fn events(cmd: EventCommand) -> ExitCode {
    match cmd {
        EventCommand::Price { file, threshold_usd } => {
            let body = match read_input(&file) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("costradar: {file}: {e}");
                    return ExitCode::from(2);
                }
            };
            let book = costradar_core::pricing::PriceBook::bundled_only(costradar_core::pricing::bundled());
            match costradar_core::receiver::price::price_event(&body, &book, &Default::default(), threshold_usd) {
                Ok(priced) => {
                    println!("{}", serde_json::to_string_pretty(&priced).expect("JSON"));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!(
                        "{}",
                        serde_json::to_string_pretty(
                            &json!({"error": {"code": "invalid_event", "field": e.field, "message": e.message}})
                        )
                        .expect("JSON")
                    );
                    ExitCode::from(2)
                }
            }
        }
        EventCommand::Send { file, url, tenant, token } => {
            let body = match read_input(&file) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("costradar: {file}: {e}");
                    return ExitCode::from(2);
                }
            };
            let endpoint = format!("{}/events/{}", url.trim_end_matches('/'), seg(&tenant));
            let client =
                reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build().expect("HTTP client");
            let resp = client
                .post(&endpoint)
                .header("content-type", "application/json")
                .header("x-api-key", token)
                .body(body)
                .send()
                .await;
            match resp {
                Ok(r) => {
                    let status = r.status();
                    let text = r.text().await.unwrap_or_default();
                    println!(
                        "{}",
                        json!({"status": status.as_u16(), "body": serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text))})
                    );
                    if status.is_success() {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    }
                }
                Err(e) => {
                    eprintln!("costradar: POST {endpoint}: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        EventCommand::List(_) => unreachable!("an API request, handled in main"),
    }
}

#[derive(Subcommand)]
enum TableCommand {
    Create,
}

#[derive(Args)]
struct PageArgs {
    #[arg(long)]
    limit: Option<u32>,
    #[arg(long)]
    cursor: Option<String>,
}

impl PageArgs {
    fn query(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if let Some(l) = self.limit {
            q.append_pair("limit", &l.to_string());
        }
        if let Some(c) = &self.cursor {
            q.append_pair("cursor", c);
        }
        q.finish()
    }
}

#[derive(Subcommand)]
enum TenantCommand {
    Create {
        #[arg(long)]
        name: String,
    },
    List(PageArgs),
    Show {
        tenant: String,
    },
    Delete {
        tenant: String,
    },
    /// Real-time settings: the finding threshold and the tenant's Slack-compatible webhook.
    Configure {
        tenant: String,
        /// A change becomes a finding from this monthly amount (default 100).
        #[arg(long)]
        threshold_usd: Option<rust_decimal::Decimal>,
        /// HTTPS incoming-webhook URL that gets the tenant's findings.
        #[arg(long, conflicts_with = "clear_webhook")]
        webhook_url: Option<String>,
        #[arg(long)]
        clear_webhook: bool,
        /// The tenant's digest: off, daily or weekly (the API checks the value).
        #[arg(long)]
        digest: Option<String>,
        /// The weekly digest's day: monday (default) to sunday.
        #[arg(long)]
        digest_weekday: Option<String>,
    },
}

#[derive(Subcommand)]
enum AccountCommand {
    Add {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        role_arn: String,
        /// Comma-separated; empty means every enabled region.
        #[arg(long, value_delimiter = ',')]
        regions: Vec<String>,
    },
    List {
        #[arg(long)]
        tenant: String,
        #[command(flatten)]
        page: PageArgs,
    },
    Show {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        account_id: String,
    },
    Verify {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        account_id: String,
    },
    Remove {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        account_id: String,
    },
    /// A new ingest token for the account (printed once); the previous one works for the overlap
    /// window. A stack-connected account gets a new token on every stack update instead.
    RotateToken {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        account_id: String,
    },
    /// Stops every ingest token of the account but the newest at once: ends a rotation's overlap,
    /// or cuts off a leaked previous token (rotate first if the newest leaked).
    RevokeToken {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        account_id: String,
    },
}

/// Path segments from the command line are percent-encoded so that nothing typed can change the
/// route (`../`, `?`, `/`).
fn seg(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn request(cmd: &Command) -> (&'static str, String, String, Option<Value>) {
    match cmd {
        Command::Table(_)
        | Command::Events(_)
        | Command::Findings(_)
        | Command::Runs(_)
        | Command::Savings(_)
        | Command::Digest(_)
        | Command::Prices(_)
        | Command::Analyze(_)
        | Command::Cur(_)
        | Command::Scan(_)
        | Command::Rules(_)
        | Command::Console(_)
        | Command::Reports(_) => {
            unreachable!("handled before")
        }
        Command::Tenants(t) => match t {
            TenantCommand::Create { name } => ("POST", "/tenants".into(), String::new(), Some(json!({ "name": name }))),
            TenantCommand::List(p) => ("GET", "/tenants".into(), p.query(), None),
            TenantCommand::Show { tenant } => ("GET", format!("/tenants/{}", seg(tenant)), String::new(), None),
            TenantCommand::Delete { tenant } => ("DELETE", format!("/tenants/{}", seg(tenant)), String::new(), None),
            TenantCommand::Configure { tenant, threshold_usd, webhook_url, clear_webhook, digest, digest_weekday } => {
                let mut body = serde_json::Map::new();
                if let Some(d) = digest {
                    body.insert("digest".into(), json!(d));
                }
                if let Some(d) = digest_weekday {
                    body.insert("digest_weekday".into(), json!(d));
                }
                if let Some(t) = threshold_usd {
                    body.insert("realtime_threshold_usd".into(), json!(t));
                }
                if let Some(u) = webhook_url {
                    body.insert("notify_webhook_url".into(), json!(u));
                } else if *clear_webhook {
                    body.insert("notify_webhook_url".into(), Value::Null);
                }
                ("PATCH", format!("/tenants/{}", seg(tenant)), String::new(), Some(Value::Object(body)))
            }
        },
        Command::Accounts(a) => match a {
            AccountCommand::Add { tenant, role_arn, regions } => (
                "POST",
                format!("/tenants/{}/accounts", seg(tenant)),
                String::new(),
                Some(json!({ "role_arn": role_arn, "regions": regions })),
            ),
            AccountCommand::List { tenant, page } => {
                ("GET", format!("/tenants/{}/accounts", seg(tenant)), page.query(), None)
            }
            AccountCommand::Show { tenant, account_id } => {
                ("GET", format!("/tenants/{}/accounts/{}", seg(tenant), seg(account_id)), String::new(), None)
            }
            AccountCommand::Verify { tenant, account_id } => {
                ("POST", format!("/tenants/{}/accounts/{}/verify", seg(tenant), seg(account_id)), String::new(), None)
            }
            AccountCommand::Remove { tenant, account_id } => {
                ("DELETE", format!("/tenants/{}/accounts/{}", seg(tenant), seg(account_id)), String::new(), None)
            }
            AccountCommand::RotateToken { tenant, account_id } => (
                "POST",
                format!("/tenants/{}/accounts/{}/rotate-token", seg(tenant), seg(account_id)),
                String::new(),
                None,
            ),
            AccountCommand::RevokeToken { tenant, account_id } => (
                "POST",
                format!("/tenants/{}/accounts/{}/revoke-token", seg(tenant), seg(account_id)),
                String::new(),
                None,
            ),
        },
    }
}

/// The findings API's commands as requests; any other command back.
fn findings_request(c: Command) -> Result<findings::Request, Box<Command>> {
    match c {
        Command::Findings(c) => Ok(findings::Request::Findings(c)),
        Command::Events(EventCommand::List(a)) => Ok(findings::Request::Events(a)),
        Command::Runs(r) => Ok(findings::Request::Runs(r)),
        Command::Savings(s) => Ok(findings::Request::Savings(s)),
        other => Err(Box::new(other)),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(&cli.command, Command::Events(c) if !matches!(c, EventCommand::List(_))) {
        let Command::Events(cmd) = cli.command else { unreachable!("matched above") };
        return events(cmd).await;
    }
    if let Command::Analyze(args) = cli.command {
        return analyze::analyze(args, cli.endpoint_url.as_deref(), &cli.table).await;
    }
    if let Command::Cur(cmd) = cli.command {
        return analyze::cur(cmd).await;
    }
    if let Command::Rules(args) = cli.command {
        return rules::run(args);
    }
    if let Command::Console(cmd) = cli.command {
        return console::run(cmd, cli.endpoint_url.as_deref(), &cli.table).await;
    }
    let sdk = sdk_config(cli.endpoint_url.as_deref()).await;
    if let Command::Scan(args) = cli.command {
        return scan::run(args, &sdk).await;
    }
    let store = DynamoStore::from_sdk(&sdk, &cli.table);
    if let Command::Digest(args) = cli.command {
        return digest::run(args, store).await;
    }
    if let Command::Prices(cmd) = cli.command {
        return prices::run(cmd, &sdk, &store).await;
    }
    if let Command::Table(TableCommand::Create) = cli.command {
        return match store.create_table().await {
            Ok(()) => {
                println!("{}", json!({ "table": cli.table, "created": true }));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("costradar: could not create table {}: {e}", cli.table);
                ExitCode::FAILURE
            }
        };
    }
    let endpoint = cli.endpoint_url.clone();
    let settings = match OnboardingSettings::from_lookup(|k| match (k, &endpoint) {
        ("AWS_ENDPOINT_URL", Some(e)) => Some(e.clone()),
        _ => std::env::var(k).ok(),
    }) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("costradar: {e}");
            return ExitCode::from(2);
        }
    };
    let store = Arc::new(store);
    let svc = Onboarding::new(store.clone(), Arc::new(StsRoleAssumer::from_sdk(&sdk)), Arc::new(SystemClock), settings);
    if let Command::Reports(cmd) = cli.command {
        let bucket = Arc::new(costradar_aws::reports::S3Reports::from_sdk(&sdk, cmd.bucket()));
        return reports::run(cmd, &svc, Findings::new(store, Arc::new(SystemClock)), bucket).await;
    }
    let command = match findings_request(cli.command) {
        Ok(req) => return findings::run(req, &svc, &Findings::new(store, Arc::new(SystemClock))).await,
        Err(other) => *other,
    };
    let (method, path, query, body) = request(&command);
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let resp = api::handle(
        &svc,
        ApiRequest {
            method,
            path: &path,
            query: &query,
            content_type: Some("application/json"),
            body: body.as_bytes(),
        },
    )
    .await;
    let text = serde_json::to_string_pretty(&resp.body).expect("JSON");
    match resp.status {
        200..=299 => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        400..=499 => {
            eprintln!("{text}");
            ExitCode::from(2)
        }
        _ => {
            eprintln!("{text}");
            ExitCode::FAILURE
        }
    }
}
