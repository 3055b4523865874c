//! `costradar reports list|get`: a tenant's CUR reports in the stack's reports bucket. `list` is
//! `GET /tenants/{id}/reports` through the API's router as the operator (the same answer, with
//! 5-minute presigned links); `get` prints one file (or writes it with `--out`). The bucket comes
//! from `--bucket` or `REPORTS_BUCKET` (the stack's ReportsBucketName output). Arguments clap
//! refuses, and 4xx answers, exit with 2.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand, ValueEnum};
use costradar_core::domain::TenantId;
use costradar_core::findings::api::{self, HttpResponse};
use costradar_core::findings::{Caller, Findings};
use costradar_core::onboarding::api::ApiRequest;
use costradar_core::onboarding::Onboarding;
use costradar_core::report::store::{ReportFile, ReportId, ReportStore};
use serde_json::Value;

#[derive(Subcommand)]
pub enum ReportsCommand {
    /// A tenant's CUR reports, newest first, with presigned links to report.json and report.html.
    List(ListArgs),
    /// One report's file on stdout, or in a file with --out.
    Get(GetArgs),
}

#[derive(Args)]
pub struct Bucket {
    /// The reports bucket (the stack's ReportsBucketName output).
    #[arg(long, env = "REPORTS_BUCKET")]
    pub bucket: String,
    #[arg(long)]
    pub tenant: String,
}

#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub at: Bucket,
    /// At most this many reports (1 to 50; 10 by default).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[arg(long)]
    pub cursor: Option<String>,
    /// Print the API's JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FileArg {
    Html,
    Json,
}

#[derive(Args)]
pub struct GetArgs {
    #[command(flatten)]
    pub at: Bucket,
    /// The report's id, as `reports list` shows it.
    #[arg(long)]
    pub report: String,
    #[arg(long, value_enum, default_value = "html")]
    pub file: FileArg,
    /// Write the file here instead of stdout.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
}

impl ReportsCommand {
    pub fn bucket(&self) -> &str {
        match self {
            Self::List(a) => &a.at.bucket,
            Self::Get(a) => &a.at.bucket,
        }
    }
}

/// `list`'s request: path and query.
fn list_request(a: &ListArgs) -> (String, String) {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    if let Some(l) = a.limit {
        q.append_pair("limit", &l.to_string());
    }
    if let Some(c) = &a.cursor {
        q.append_pair("cursor", c);
    }
    let tenant: String = url::form_urlencoded::byte_serialize(a.at.tenant.as_bytes()).collect();
    (format!("/tenants/{tenant}/reports"), q.finish())
}

/// The list for people: one line a report.
fn human(v: &Value) -> String {
    let reports = v["reports"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    if reports.is_empty() {
        return "No CUR report for this tenant.\n".into();
    }
    let mut out = format!("{:<38} {:<20} {:<17} {}\n", "REPORT", "CREATED", "PERIOD", "ACCOUNT");
    for r in reports {
        let s = |v: &Value| v.as_str().unwrap_or("-").to_owned();
        let period = format!("{} to {}", s(&r["period"]["from"]), s(&r["period"]["to"]));
        out.push_str(&format!(
            "{:<38} {:<20} {:<17} {}\n",
            s(&r["id"]),
            s(&r["created_at"]),
            period,
            s(&r["account_id"])
        ));
    }
    out.push_str(&format!("Links (--json) work for {} seconds.\n", v["links_expire_in_seconds"]));
    if let Some(c) = v["next_cursor"].as_str() {
        out.push_str(&format!("More: --cursor {c}\n"));
    }
    out
}

pub async fn run(
    cmd: ReportsCommand,
    onboarding: &Onboarding,
    findings: Findings,
    store: Arc<dyn ReportStore>,
) -> ExitCode {
    let findings = findings.with_reports(store.clone());
    match cmd {
        ReportsCommand::List(a) => {
            let (path, query) = list_request(&a);
            let req = ApiRequest { method: "GET", path: &path, query: &query, content_type: None, body: b"" };
            let resp: HttpResponse = api::serve(onboarding, &findings, Some(Caller::Operator), req).await;
            let v = resp.json_body();
            let text = serde_json::to_string_pretty(&v).expect("JSON");
            match resp.status {
                200..=299 if a.json => println!("{text}"),
                200..=299 => print!("{}", human(&v)),
                400..=499 => {
                    eprintln!("{text}");
                    return ExitCode::from(2);
                }
                _ => {
                    eprintln!("{text}");
                    return ExitCode::FAILURE;
                }
            }
            ExitCode::SUCCESS
        }
        ReportsCommand::Get(a) => get(a, &findings, store.as_ref()).await,
    }
}

async fn get(a: GetArgs, findings: &Findings, store: &dyn ReportStore) -> ExitCode {
    let (tenant, id) = match (TenantId::parse(&a.at.tenant), ReportId::parse(&a.report)) {
        (Ok(t), Ok(r)) => (t, r),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("costradar: --{}: {}", if e.field == "report" { "report" } else { "tenant" }, e.message);
            return ExitCode::from(2);
        }
    };
    if let Err(e) = findings.authorize(&Caller::Operator, &tenant).await {
        eprintln!("costradar: {e}");
        return ExitCode::from(2);
    }
    let file = match a.file {
        FileArg::Html => ReportFile::Html,
        FileArg::Json => ReportFile::Json,
    };
    let text = match store.get(&tenant, &id, file).await {
        Ok(Some(t)) => t,
        Ok(None) => {
            eprintln!("costradar: no report {id} for this tenant");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("costradar: {e}");
            return ExitCode::FAILURE;
        }
    };
    match a.out {
        Some(path) => match std::fs::write(&path, text) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("costradar: {}: {e}", path.display());
                ExitCode::FAILURE
            }
        },
        None => {
            print!("{text}");
            ExitCode::SUCCESS
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::{Cli, Command};

    fn parse(args: &[&str]) -> Result<ReportsCommand, clap::Error> {
        let cli = Cli::try_parse_from(std::iter::once("costradar").chain(args.iter().copied()))?;
        match cli.command {
            Command::Reports(c) => Ok(c),
            _ => panic!("not a reports command"),
        }
    }

    #[test]
    fn list_becomes_the_api_request_with_its_page() {
        let c =
            parse(&["reports", "list", "--bucket", "b-1", "--tenant", "t-aaaaaaaaaaaaaaaa", "--limit", "5"]).unwrap();
        assert_eq!(c.bucket(), "b-1");
        let ReportsCommand::List(a) = c else { panic!("list") };
        assert!(!a.json);
        assert_eq!(list_request(&a), ("/tenants/t-aaaaaaaaaaaaaaaa/reports".into(), "limit=5".into()));
        // A hostile tenant or cursor is encoded into the request, where the router refuses it.
        let c =
            parse(&["reports", "list", "--bucket", "b", "--tenant", "../x?y", "--cursor", "a&b=c", "--json"]).unwrap();
        let ReportsCommand::List(a) = c else { panic!("list") };
        assert!(a.json);
        assert_eq!(list_request(&a), ("/tenants/..%2Fx%3Fy/reports".into(), "cursor=a%26b%3Dc".into()));
    }

    #[test]
    fn bad_arguments_are_refused_by_the_parser() {
        for args in [
            &["reports", "list", "--bucket", "b"][..],
            &["reports", "list", "--tenant", "t-aaaaaaaaaaaaaaaa", "--bucket", "b", "--limit", "0"],
            &["reports", "list", "--tenant", "t-aaaaaaaaaaaaaaaa", "--bucket", "b", "--limit", "51"],
            &["reports", "list", "--tenant", "t-aaaaaaaaaaaaaaaa", "--bucket", "b", "--limit", "x"],
            &["reports", "get", "--tenant", "t-aaaaaaaaaaaaaaaa", "--bucket", "b"],
            &["reports", "get", "--tenant", "t-aaaaaaaaaaaaaaaa", "--bucket", "b", "--report", "r", "--file", "pdf"],
            &["reports", "open"],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn the_list_for_people_shows_each_report_and_the_next_page() {
        let v = serde_json::json!({"reports": [{"id": "8299999999-202501-202502-111122223333",
            "created_at": "2023-11-14T22:13:20Z", "period": {"from": "2025-01", "to": "2025-02"},
            "account_id": "111122223333"}], "links_expire_in_seconds": 300, "next_cursor": "8299999999-202501-202502-111122223333"});
        let text = human(&v);
        let row: Vec<&str> = text.lines().nth(1).unwrap().split_whitespace().collect();
        assert_eq!(row[..2], ["8299999999-202501-202502-111122223333", "2023-11-14T22:13:20Z"], "{text}");
        assert!(text.contains("2025-01 to 2025-02"), "{text}");
        assert!(text.contains("300 seconds") && text.contains("More: --cursor 8299999999"), "{text}");
        assert_eq!(human(&serde_json::json!({"reports": []})), "No CUR report for this tenant.\n");
    }
}
