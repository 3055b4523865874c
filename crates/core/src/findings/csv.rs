//! Findings as CSV (RFC 4180: CRLF line ends, a field quoted when it holds a comma, a quote, a
//! CR or an LF, quotes doubled). Resource ids, titles and people's text come from outside, so
//! a text cell starting with `=`, `+`, `-`, `@`, a tab or a CR gets a leading `'`: a
//! spreadsheet then shows it as text instead of running it as a formula (CSV injection).

use chrono::NaiveDate;

use super::change::snoozed;
use crate::domain::finding::{Finding, FindingStatus};
use crate::domain::money::usd;
use crate::domain::triage::{service_of, Source};

pub const HEADER: &[&str] = &[
    "key",
    "account_id",
    "region",
    "service",
    "source",
    "rule",
    "resource_id",
    "title",
    "status",
    "monthly_cost_usd",
    "monthly_savings_usd",
    "savings_included_in",
    "first_seen",
    "last_seen",
    "owner",
    "snoozed_until",
    "snoozed",
    "fix_command",
];

/// One cell of text from outside: neutralised, then quoted as needed.
pub fn text_cell(s: &str) -> String {
    let neutral = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_owned() };
    quoted(&neutral)
}

/// A cell we write ourselves (amounts, dates, enums): quoted as needed, never prefixed, so a
/// negative amount stays a number.
fn quoted(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn status(s: FindingStatus) -> &'static str {
    match s {
        FindingStatus::Open => "open",
        FindingStatus::Resolved => "resolved",
        FindingStatus::Suppressed => "suppressed",
    }
}

/// One line, CRLF-terminated.
pub fn row(f: &Finding, today: NaiveDate) -> String {
    let t = f.triage.as_ref();
    let money = |d: Option<rust_decimal::Decimal>| d.map(usd).unwrap_or_default();
    let cells = [
        text_cell(&f.key()),
        quoted(f.account_id.as_str()),
        text_cell(&f.region),
        text_cell(service_of(&f.rule)),
        quoted(Source::of_rule(&f.rule).as_str()),
        text_cell(&f.rule),
        text_cell(&f.resource_id),
        text_cell(&f.title),
        quoted(status(f.status)),
        quoted(&money(f.monthly_cost_usd)),
        quoted(&money(f.monthly_savings_usd)),
        text_cell(f.savings_included_in.as_deref().unwrap_or_default()),
        quoted(&f.first_seen.to_rfc3339()),
        quoted(&f.last_seen.to_rfc3339()),
        text_cell(t.and_then(|t| t.owner.as_deref()).unwrap_or_default()),
        quoted(&t.and_then(|t| t.snoozed_until).map(|d| d.to_string()).unwrap_or_default()),
        quoted(if snoozed(t, today) { "true" } else { "false" }),
        text_cell(f.fix_command.as_deref().unwrap_or_default()),
    ];
    format!("{}\r\n", cells.join(","))
}

pub fn header() -> String {
    format!("{}\r\n", HEADER.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(text_cell("vol-1"), "vol-1");
        assert_eq!(text_cell("a,b"), "\"a,b\"");
        assert_eq!(text_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(text_cell("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(text_cell("=HYPERLINK(\"http://evil\")"), "\"'=HYPERLINK(\"\"http://evil\"\")\"");
        for f in ["+1", "-1+2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(text_cell(f).trim_start_matches('"').starts_with('\''), "{f:?}");
        }
        assert_eq!(quoted("-12.50"), "-12.50", "our own amounts stay numbers");
    }
}
