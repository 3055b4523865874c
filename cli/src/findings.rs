//! `costradar findings|events list|runs|savings`: the findings API's requests, through the same
//! router as the onboarding Lambda (`costradar_core::findings::api::serve`, as the operator),
//! straight against the table. `--json` prints the API's JSON; otherwise a table for people,
//! money with thousands separators. Arguments clap refuses, and 4xx answers, exit with 2.

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use costradar_core::findings::api::{self, HttpResponse};
use costradar_core::findings::{Caller, Findings};
use costradar_core::onboarding::api::ApiRequest;
use costradar_core::onboarding::Onboarding;
use rust_decimal::Decimal;
use serde_json::{json, Value};

#[derive(Subcommand)]
pub enum FindingsCommand {
    /// One page of a tenant's findings (filters, order, page).
    List(ListArgs),
    /// A finding with its evidence, fix, price source and history.
    Show(KeyArgs),
    /// Acknowledge a finding.
    Ack(ChangeArgs),
    /// Hide a finding until a day (it stays open and in the open savings).
    Snooze {
        #[command(flatten)]
        target: ChangeArgs,
        /// The first day it shows again (YYYY-MM-DD, after today).
        #[arg(long, value_parser = date)]
        until: String,
    },
    /// Suppress a finding: a suppression by rule and resource, kept by every later scan.
    Suppress {
        #[command(flatten)]
        target: ChangeArgs,
        #[arg(long)]
        reason: String,
    },
    /// Give a finding an owner.
    Assign {
        #[command(flatten)]
        target: ChangeArgs,
        #[arg(long)]
        owner: String,
    },
    /// Add a note to a finding's history.
    Note {
        #[command(flatten)]
        target: ChangeArgs,
        #[arg(long)]
        text: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Sort {
    Savings,
    FirstSeen,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SourceArg {
    Realtime,
    Scan,
    Cur,
    AwsRecommender,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum StatusArg {
    Open,
    Resolved,
    Suppressed,
}

/// The page arguments of every list.
#[derive(Args)]
pub struct Paging {
    #[arg(long)]
    pub tenant: String,
    /// At most this many items read (1 to 100).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[arg(long)]
    pub cursor: Option<String>,
    /// Print the API's JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub page: Paging,
    #[arg(long)]
    pub account: Option<String>,
    #[arg(long)]
    pub region: Option<String>,
    /// A rule's prefix before its '.' (ebs, ec2, realtime, cur, ...).
    #[arg(long)]
    pub service: Option<String>,
    #[arg(long)]
    pub rule: Option<String>,
    #[arg(long, value_enum)]
    pub source: Option<SourceArg>,
    #[arg(long, value_enum)]
    pub status: Option<StatusArg>,
    /// Only findings saving at least this much a month (USD, to the cent).
    #[arg(long)]
    pub min_savings_usd: Option<Decimal>,
    /// A substring of the resource id.
    #[arg(long)]
    pub q: Option<String>,
    #[arg(long, value_enum, default_value = "savings")]
    pub sort: Sort,
}

#[derive(Args)]
pub struct KeyArgs {
    #[arg(long)]
    pub tenant: String,
    /// The finding's key: <account>#<rule>#<resource>.
    pub key: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ChangeArgs {
    #[command(flatten)]
    pub finding: KeyArgs,
    /// Who makes the change (kept in the finding's history).
    #[arg(long, env = "COSTRADAR_BY")]
    pub by: String,
}

#[derive(Args)]
pub struct EventsListArgs {
    #[command(flatten)]
    pub page: Paging,
    #[arg(long)]
    pub account: Option<String>,
    /// An event kind (ec2.run-instances, ebs.create-volume, ...).
    #[arg(long)]
    pub kind: Option<String>,
}

#[derive(Subcommand)]
pub enum RunsCommand {
    /// The tenant's scan runs, newest first.
    List(Paging),
}

#[derive(Args)]
pub struct SavingsArgs {
    #[arg(long)]
    pub tenant: String,
    #[arg(long)]
    pub json: bool,
}

/// What a command asks the API, and how its answer is shown.
pub enum Request {
    Findings(FindingsCommand),
    Events(EventsListArgs),
    Runs(RunsCommand),
    Savings(SavingsArgs),
}

/// `YYYY-MM-DD` in shape (the API checks the calendar and that it is in the future).
fn date(s: &str) -> Result<String, String> {
    let shape = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    shape.then(|| s.to_owned()).ok_or_else(|| format!("'{s}' is not a date: use YYYY-MM-DD"))
}

/// A path segment, percent-encoded so that nothing typed can change the route.
fn seg(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20")
}

fn query(pairs: &[(&str, Option<String>)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if let Some(v) = v {
            q.append_pair(k, v);
        }
    }
    q.finish()
}

fn paging(p: &Paging) -> [(&'static str, Option<String>); 2] {
    [("limit", p.limit.map(|l| l.to_string())), ("cursor", p.cursor.clone())]
}

fn name<T: ValueEnum>(v: &T) -> String {
    v.to_possible_value().expect("no skipped values").get_name().replace("first-seen", "first_seen")
}

impl Request {
    /// Method, path, query and body.
    pub fn http(&self) -> (&'static str, String, String, Option<Value>) {
        match self {
            Self::Findings(FindingsCommand::List(a)) => {
                let mut pairs = vec![
                    ("account", a.account.clone()),
                    ("region", a.region.clone()),
                    ("service", a.service.clone()),
                    ("rule", a.rule.clone()),
                    ("source", a.source.as_ref().map(name)),
                    ("status", a.status.as_ref().map(name)),
                    ("min_monthly_savings_usd", a.min_savings_usd.map(|d| d.to_string())),
                    ("q", a.q.clone()),
                    ("sort", Some(name(&a.sort))),
                ];
                pairs.extend(paging(&a.page));
                ("GET", format!("/tenants/{}/findings", seg(&a.page.tenant)), query(&pairs), None)
            }
            Self::Findings(FindingsCommand::Show(k)) => ("GET", finding_path(k), String::new(), None),
            Self::Findings(change) => {
                let (target, body) = change_body(change);
                ("PATCH", finding_path(&target.finding), String::new(), Some(body))
            }
            Self::Events(a) => {
                let mut pairs = vec![("account", a.account.clone()), ("kind", a.kind.clone())];
                pairs.extend(paging(&a.page));
                ("GET", format!("/tenants/{}/events", seg(&a.page.tenant)), query(&pairs), None)
            }
            Self::Runs(RunsCommand::List(p)) => {
                ("GET", format!("/tenants/{}/runs", seg(&p.tenant)), query(&paging(p)), None)
            }
            Self::Savings(s) => ("GET", format!("/tenants/{}/savings", seg(&s.tenant)), String::new(), None),
        }
    }

    fn json(&self) -> bool {
        match self {
            Self::Findings(FindingsCommand::List(a)) => a.page.json,
            Self::Findings(FindingsCommand::Show(k)) => k.json,
            Self::Findings(c) => change_body(c).0.finding.json,
            Self::Events(a) => a.page.json,
            Self::Runs(RunsCommand::List(p)) => p.json,
            Self::Savings(s) => s.json,
        }
    }

    /// The answer for people.
    fn human(&self, v: &Value) -> String {
        match self {
            Self::Findings(FindingsCommand::List(_)) => crate::findings_view::findings_table(v),
            Self::Findings(_) => crate::findings_view::finding_detail(v),
            Self::Events(_) => crate::findings_view::events_table(v),
            Self::Runs(_) => crate::findings_view::runs_table(v),
            Self::Savings(_) => crate::findings_view::savings(v),
        }
    }
}

fn finding_path(k: &KeyArgs) -> String {
    format!("/tenants/{}/findings/{}", seg(&k.tenant), seg(&k.key))
}

fn change_body(c: &FindingsCommand) -> (&ChangeArgs, Value) {
    let (target, mut body) = match c {
        FindingsCommand::Ack(t) => (t, json!({"action": "acknowledge"})),
        FindingsCommand::Snooze { target, until } => (target, json!({"action": "snooze", "until": until})),
        FindingsCommand::Suppress { target, reason } => (target, json!({"action": "suppress", "reason": reason})),
        FindingsCommand::Assign { target, owner } => (target, json!({"action": "assign", "owner": owner})),
        FindingsCommand::Note { target, text } => (target, json!({"action": "note", "text": text})),
        FindingsCommand::List(_) | FindingsCommand::Show(_) => unreachable!("not a change"),
    };
    body["by"] = json!(target.by);
    (target, body)
}

/// Sends the request as the operator and prints the answer: JSON or a table on stdout; an
/// error's JSON on stderr, exit 2 for a 4xx, 1 otherwise.
pub async fn run(req: Request, onboarding: &Onboarding, findings: &Findings) -> ExitCode {
    let (method, path, query, body) = req.http();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let api_req = ApiRequest {
        method,
        path: &path,
        query: &query,
        content_type: Some("application/json"),
        body: body.as_bytes(),
    };
    let resp: HttpResponse = api::serve(onboarding, findings, Some(Caller::Operator), api_req).await;
    let v = resp.json_body();
    let text = serde_json::to_string_pretty(&v).expect("JSON");
    match resp.status {
        200..=299 if req.json() => println!("{text}"),
        200..=299 => print!("{}", req.human(&v)),
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

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::{Cli, Command, EventCommand};

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("costradar").chain(args.iter().copied()))
    }

    fn request(args: &[&str]) -> (&'static str, String, String, Option<Value>) {
        match parse(args).unwrap().command {
            Command::Findings(c) => Request::Findings(c).http(),
            Command::Events(EventCommand::List(a)) => Request::Events(a).http(),
            Command::Runs(r) => Request::Runs(r).http(),
            Command::Savings(s) => Request::Savings(s).http(),
            _ => panic!("not a findings API command"),
        }
    }

    #[test]
    fn commands_become_the_api_requests() {
        let (m, p, q, b) = request(&[
            "findings",
            "list",
            "--tenant",
            "t-aaaaaaaaaaaaaaaa",
            "--source",
            "aws-recommender",
            "--status",
            "open",
            "--min-savings-usd",
            "12.50",
            "--q",
            "a b&c",
            "--sort",
            "first-seen",
            "--limit",
            "20",
        ]);
        assert_eq!((m, p.as_str(), b), ("GET", "/tenants/t-aaaaaaaaaaaaaaaa/findings", None));
        assert_eq!(
            q,
            "source=aws-recommender&status=open&min_monthly_savings_usd=12.50&q=a+b%26c&sort=first_seen&limit=20"
        );
        let (m, p, _, b) = request(&[
            "findings",
            "snooze",
            "--tenant",
            "t-aaaaaaaaaaaaaaaa",
            "--until",
            "2027-01-31",
            "--by",
            "ops",
            "123456789012#logs.never-expire#/aws/lambda/x#y",
        ]);
        assert_eq!(m, "PATCH");
        assert_eq!(
            p,
            "/tenants/t-aaaaaaaaaaaaaaaa/findings/123456789012%23logs.never-expire%23%2Faws%2Flambda%2Fx%23y"
        );
        assert_eq!(b.unwrap(), json!({"action": "snooze", "until": "2027-01-31", "by": "ops"}));
        let (_, p, q, _) = request(&["events", "list", "--tenant", "../x", "--kind", "ec2.run-instances"]);
        assert_eq!((p.as_str(), q.as_str()), ("/tenants/..%2Fx/events", "kind=ec2.run-instances"));
        let (_, p, _, _) = request(&["savings", "--tenant", "t-aaaaaaaaaaaaaaaa", "--json"]);
        assert_eq!(p, "/tenants/t-aaaaaaaaaaaaaaaa/savings");
        let (_, p, q, _) = request(&["runs", "list", "--tenant", "t-aaaaaaaaaaaaaaaa", "--cursor", "abc"]);
        assert_eq!((p.as_str(), q.as_str()), ("/tenants/t-aaaaaaaaaaaaaaaa/runs", "cursor=abc"));
    }

    #[test]
    fn bad_arguments_are_refused_with_exit_code_2_and_say_why() {
        for (args, says) in [
            (vec!["findings", "list", "--tenant", "t", "--limit", "0"], "--limit"),
            (vec!["findings", "list", "--tenant", "t", "--limit", "101"], "--limit"),
            (vec!["findings", "list", "--tenant", "t", "--limit", "x"], "--limit"),
            (vec!["findings", "list", "--tenant", "t", "--sort", "cost"], "--sort"),
            (vec!["findings", "list", "--tenant", "t", "--source", "manual"], "--source"),
            (vec!["findings", "list", "--tenant", "t", "--min-savings-usd", "ten"], "--min-savings-usd"),
            (vec!["findings", "list"], "--tenant"),
            (vec!["findings", "snooze", "--tenant", "t", "--by", "o", "--until", "31/01/2027", "k"], "YYYY-MM-DD"),
            (vec!["findings", "suppress", "--tenant", "t", "--by", "o", "k"], "--reason"),
            (vec!["findings", "show", "--tenant", "t"], "<KEY>"),
            (vec!["runs", "list", "--tenant", "t", "--limit", "-1"], "'-1'"),
        ] {
            let err = match parse(&args) {
                Ok(_) => panic!("{args:?} parsed"),
                Err(e) => e,
            };
            assert_eq!(err.exit_code(), 2, "{args:?}");
            assert!(err.to_string().contains(says), "{args:?}: {err}");
        }
        std::env::remove_var("COSTRADAR_BY");
        let err = parse(&["findings", "ack", "--tenant", "t", "k"]).err().expect("a change needs --by");
        assert!(err.to_string().contains("--by"), "{err}");
    }
}
