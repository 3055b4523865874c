//! `costradar console serve`: the console (`costradar_core::console`) on a loopback HTTP server,
//! for local use and the demo. The server is a minimal HTTP/1.1 handler over tokio's
//! TcpListener (one request per connection, `Connection: close`, bounded head and body, a
//! timeout), because the workspace has no HTTP server crate and the console needs nothing more
//! on loopback. It refuses to listen on anything but a loopback address. People sign in with a
//! password through a Cognito user pool (moto's locally, `--cognito-pool`/`--cognito-client`).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use costradar_aws::cognito::CognitoIdentity;
use costradar_aws::{sdk_config, DynamoStore};
use costradar_core::console::identity::{check_client_id, check_pool_id};
use costradar_core::console::{demo, Console, ReportFiles, Request, Response};
use costradar_core::domain::{Clock, SystemClock, TenantId};
use costradar_core::store::MemoryStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Subcommand)]
pub enum ConsoleCommand {
    /// Serves the console on a loopback address until stopped. Sign in at /login with a user
    /// name and password of the Cognito user pool (operator staff: the `operators` group; a
    /// tenant's user: the `custom:tenant_id` attribute).
    Serve(ServeArgs),
}

#[derive(Args)]
pub struct ServeArgs {
    /// A loopback address and port; port 0 picks a free one (the URL is printed).
    #[arg(long, default_value = "127.0.0.1:8321")]
    listen: SocketAddr,
    /// Serve two demo tenants from an in-memory store instead of the table.
    #[arg(long)]
    demo_data: bool,
    /// A tenant's CUR report: TENANT=DIR, DIR holding report.html and report.json (`costradar
    /// analyze --out DIR`). With --demo-data, TENANT may be `demo` (the first demo tenant).
    #[arg(long, value_name = "TENANT=DIR")]
    report: Vec<String>,
    /// The Cognito user pool people sign in with (its id, e.g. `us-east-1_AbC123`); with
    /// --endpoint-url, moto's.
    #[arg(long, value_name = "POOL_ID", value_parser = pool_id)]
    cognito_pool: String,
    /// The pool's app client for server-side sign-in: no secret, ALLOW_ADMIN_USER_PASSWORD_AUTH.
    #[arg(long, value_name = "CLIENT_ID", value_parser = client_id)]
    cognito_client: String,
}

/// A user pool id, checked as the Lambda's configuration checks it.
fn pool_id(s: &str) -> Result<String, String> {
    check_pool_id(s).map(|()| s.to_owned()).map_err(str::to_owned)
}

/// An app client id, checked as the Lambda's configuration checks it.
fn client_id(s: &str) -> Result<String, String> {
    check_client_id(s).map(|()| s.to_owned()).map_err(str::to_owned)
}

const HEAD_MAX: usize = 16 * 1024;
const BODY_MAX: usize = 64 * 1024;
const TIMEOUT: Duration = Duration::from_secs(10);

fn load_reports(specs: &[String], demo_tenant: Option<&TenantId>) -> Result<BTreeMap<TenantId, ReportFiles>, String> {
    let mut out = BTreeMap::new();
    for spec in specs {
        let (t, dir) = spec.split_once('=').ok_or_else(|| format!("--report {spec}: expected TENANT=DIR"))?;
        let tenant = match (t, demo_tenant) {
            ("demo", Some(d)) => d.clone(),
            _ => TenantId::parse(t).map_err(|e| format!("--report {spec}: {}", e.message))?,
        };
        let dir = PathBuf::from(dir);
        let html = std::fs::read_to_string(dir.join("report.html"))
            .map_err(|e| format!("{}/report.html: {e}", dir.display()))?;
        let json = std::fs::read(dir.join("report.json")).map_err(|e| format!("{}/report.json: {e}", dir.display()))?;
        let json = serde_json::from_slice(&json).map_err(|e| format!("{}/report.json: {e}", dir.display()))?;
        out.insert(tenant, ReportFiles { html, json });
    }
    Ok(out)
}

async fn build(args: &ServeArgs, endpoint: Option<&str>, table: &str) -> Result<Console, String> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let sdk = sdk_config(endpoint).await;
    // Loopback http: the cookie cannot be `Secure` (the stack's console is https only).
    let identity = Arc::new(CognitoIdentity::new(&sdk, &args.cognito_pool, &args.cognito_client));
    if args.demo_data {
        let store = Arc::new(MemoryStore::default());
        let tenants = demo::seed(&store, clock.now()).await.map_err(|e| format!("demo data: {e}"))?;
        let reports = load_reports(&args.report, tenants.first())?;
        let admin = crate::console_admin::admin(&sdk, store.clone(), endpoint, true);
        let console = Console::new(store, clock, reports).with_identity(identity, false);
        return Ok(console.with_admin(admin).with_health(crate::console_admin::health(&sdk)));
    }
    let reports = load_reports(&args.report, None)?;
    let store = Arc::new(DynamoStore::from_sdk(&sdk, table));
    let admin = crate::console_admin::admin(&sdk, store.clone(), endpoint, false);
    let console = Console::new(store, clock, reports).with_identity(identity, false);
    Ok(console.with_admin(admin).with_health(crate::console_admin::health(&sdk)))
}

pub async fn run(cmd: ConsoleCommand, endpoint: Option<&str>, table: &str) -> ExitCode {
    let ConsoleCommand::Serve(args) = cmd;
    if !args.listen.ip().is_loopback() {
        eprintln!("costradar: the local console listens on loopback only (127.0.0.1 or ::1), not {}", args.listen);
        return ExitCode::from(2);
    }
    let console = match build(&args, endpoint, table).await {
        Ok(c) => Arc::new(c),
        Err(e) => {
            eprintln!("costradar: {e}");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("costradar: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().expect("a bound listener has an address");
    println!(
        "{}",
        serde_json::json!({ "console": format!("http://{addr}/"), "login": format!("http://{addr}/login") })
    );
    let _ = std::io::stdout().flush();
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let console = console.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(TIMEOUT, connection(&console, stream)).await;
        });
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// One request on a connection, answered, then the connection closes.
async fn connection(console: &Console, mut stream: TcpStream) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > HEAD_MAX {
            return write(&mut stream, &plain(431, "request head too large")).await;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let Ok(head) = std::str::from_utf8(&buf[..head_end]) else {
        return write(&mut stream, &plain(400, "bad request")).await;
    };
    let head = head.to_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let (method, target) = (first.next().unwrap_or(""), first.next().unwrap_or(""));
    let header = |name: &str| {
        head.split("\r\n").skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    };
    let length: usize = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    if length > BODY_MAX {
        return write(&mut stream, &plain(413, "body too large")).await;
    }
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let req = Request {
        method,
        path,
        query,
        cookie: header("cookie"),
        origin: header("origin"),
        host: header("host"),
        content_type: header("content-type"),
        body: &body,
    };
    let resp = console.handle(&req).await;
    write(&mut stream, &resp).await
}

fn plain(status: u16, text: &str) -> Response {
    Response { status, content_type: "text/plain; charset=utf-8", headers: Vec::new(), body: text.to_owned() }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        303 => "See Other",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    }
}

async fn write(stream: &mut TcpStream, r: &Response) -> std::io::Result<()> {
    let clean = |v: &str| v.chars().filter(|c| *c != '\r' && *c != '\n').collect::<String>();
    let mut head = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n",
        r.status,
        reason(r.status),
        r.content_type,
        r.body.len()
    );
    for (k, v) in &r.headers {
        head.push_str(&format!("{k}: {}\r\n", clean(v)));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(r.body.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        cmd: ConsoleCommand,
    }

    fn parse(args: &[&str]) -> Result<ServeArgs, String> {
        let argv = ["costradar", "serve"].iter().chain(args).copied();
        match Cli::try_parse_from(argv).map_err(|e| e.to_string())?.cmd {
            ConsoleCommand::Serve(a) => Ok(a),
        }
    }

    #[test]
    fn serve_needs_a_well_formed_pool_and_client() {
        let ok = parse(&["--cognito-pool", "us-east-1_AbC123", "--cognito-client", "abc123"]).unwrap();
        assert_eq!((ok.cognito_pool.as_str(), ok.cognito_client.as_str()), ("us-east-1_AbC123", "abc123"));
        assert!(parse(&[]).err().unwrap().contains("--cognito-pool"), "no pool: no sign-in, refused");
        assert!(parse(&["--cognito-pool", "us-east-1_AbC123"]).err().unwrap().contains("--cognito-client"));
        for (pool, client) in
            [("us-east-1", "abc"), ("us-east-1_Ab/C", "abc"), ("us-east-1_AbC", "a b"), ("us-east-1_AbC", "")]
        {
            let e = parse(&["--cognito-pool", pool, "--cognito-client", client]).err().unwrap();
            assert!(e.contains("looks like") || e.contains("letters, digits"), "{pool} {client}: {e}");
        }
    }
}
