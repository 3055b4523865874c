//! The findings API's answers as text for people: aligned tables, money as `$12,345.60` (one
//! formatter, [`money`]), and what to type for the next page.

use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;

/// A decimal string in USD as people read it: `$`, thousands separators, two decimals; `-`
/// when there is no amount.
pub fn money(v: &Value) -> String {
    let Some(d) = v.as_str().and_then(|s| s.parse::<Decimal>().ok()) else { return "-".into() };
    let d = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    let text = format!("{:.2}", d.abs());
    let (whole, cents) = text.split_once('.').unwrap_or((&text, "00"));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if d.is_sign_negative() && !d.is_zero() { "-" } else { "" };
    format!("{sign}${grouped}.{cents}")
}

/// Columns padded to their widest cell; `right` columns (amounts, counts) right-aligned.
pub fn table(headers: &[&str], right: &[bool], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(
                |(i, (c, w))| {
                    if right.get(i).copied().unwrap_or(false) {
                        format!("{c:>w$}")
                    } else {
                        format!("{c:<w$}")
                    }
                },
            )
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(headers.iter().map(|h| (*h).to_owned()).collect());
    for r in rows {
        out.push_str(&line(r.clone()));
    }
    out
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// The date part of an RFC 3339 time.
fn day(v: &Value) -> String {
    s(v).chars().take(10).collect()
}

fn next_page(v: &Value, empty: &str) -> String {
    let items = ["findings", "events", "runs"].iter().find_map(|k| v[*k].as_array()).map_or(0, Vec::len);
    let mut out = if items == 0 { format!("{empty}\n") } else { String::new() };
    if let Some(c) = v["next_cursor"].as_str() {
        out.push_str(&format!("more: add --cursor {c}\n"));
    }
    out
}

pub fn findings_table(v: &Value) -> String {
    let rows: Vec<Vec<String>> = v["findings"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|f| {
            vec![
                money(&f["monthly_savings_usd"]),
                s(&f["status"]),
                s(&f["source"]),
                s(&f["rule"]),
                s(&f["account_id"]),
                s(&f["region"]),
                s(&f["resource_id"]),
                day(&f["first_seen"]),
                s(&f["key"]),
            ]
        })
        .collect();
    let headers = ["SAVING/MONTH", "STATUS", "SOURCE", "RULE", "ACCOUNT", "REGION", "RESOURCE", "FIRST SEEN", "KEY"];
    let mut out = if rows.is_empty() { String::new() } else { table(&headers, &[true], &rows) };
    out.push_str(&next_page(v, "no findings on this page (filters apply to the items read: try the next page)"));
    out
}

pub fn finding_detail(v: &Value) -> String {
    let f = &v["finding"];
    let t = &f["triage"];
    let mut out = format!("{}\n{}\n\n", s(&f["title"]), s(&f["key"]));
    for (label, value) in [
        ("status", s(&f["status"])),
        ("saving a month", money(&f["monthly_savings_usd"])),
        ("cost a month", money(&f["monthly_cost_usd"])),
        ("source", format!("{} ({})", s(&f["source"]), s(&f["rule"]))),
        ("account / region", format!("{} / {}", s(&f["account_id"]), s(&f["region"]))),
        ("price source", format!("{} (as of {})", s(&v["price"]["source"]), s(&v["price"]["as_of"]))),
        ("first / last seen", format!("{} / {}", day(&f["first_seen"]), day(&f["last_seen"]))),
        ("owner", s(&t["owner"])),
        ("snoozed until", s(&t["snoozed_until"])),
        ("suppressed by", s(&f["suppressed_by"])),
    ] {
        out.push_str(&format!("{label:<18} {value}\n"));
    }
    out.push_str("\nevidence:\n");
    for e in f["evidence"].as_array().map(|a| a.as_slice()).unwrap_or_default() {
        out.push_str(&format!("  - {}\n", s(e)));
    }
    out.push_str(&format!("fix: {}\n\nhistory:\n", s(&f["fix_command"])));
    let rows: Vec<Vec<String>> = v["history"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|h| {
            let what = ["until", "reason", "owner", "text"].iter().find_map(|k| h[*k].as_str()).unwrap_or_default();
            vec![s(&h["at"]), s(&h["by"]), s(&h["action"]), what.to_owned()]
        })
        .collect();
    if rows.is_empty() {
        out.push_str("  (no changes yet)\n");
    } else {
        out.push_str(&table(&["WHEN", "WHO", "ACTION", "DETAIL"], &[], &rows));
    }
    out
}

pub fn events_table(v: &Value) -> String {
    let rows: Vec<Vec<String>> = v["events"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|e| {
            vec![
                s(&e["received_at"]),
                s(&e["kind"]),
                s(&e["account"]),
                s(&e["region"]),
                money(&e["monthly_cost_usd"]),
                e["finding"]["rule"].as_str().unwrap_or("-").to_owned(),
            ]
        })
        .collect();
    let headers = ["RECEIVED", "KIND", "ACCOUNT", "REGION", "COST/MONTH", "FINDING"];
    let mut out =
        if rows.is_empty() { String::new() } else { table(&headers, &[false, false, false, false, true], &rows) };
    out.push_str(&next_page(v, "no events on this page"));
    out
}

pub fn runs_table(v: &Value) -> String {
    let rows: Vec<Vec<String>> = v["runs"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|r| {
            vec![
                s(&r["finished_at"]),
                s(&r["run_id"]),
                format!("{}/{}/{}", s(&r["complete"]), s(&r["partial"]), s(&r["failed"])),
                s(&r["findings_opened"]),
                s(&r["findings_resolved"]),
                money(&r["athena_cost_usd"]),
            ]
        })
        .collect();
    let headers = ["FINISHED", "RUN", "COMPLETE/PARTIAL/FAILED", "OPENED", "RESOLVED", "ATHENA COST"];
    let mut out =
        if rows.is_empty() { String::new() } else { table(&headers, &[false, false, false, true, true, true], &rows) };
    out.push_str(&run_notes(v));
    out.push_str(&next_page(v, "no scan runs on this page"));
    out
}

/// What each run could not read that was no error (an account's `notes`: Compute Optimizer not
/// enrolled, no Business Support plan for Trusted Advisor), one line each under the table.
fn run_notes(v: &Value) -> String {
    let mut out = String::new();
    for r in v["runs"].as_array().map(Vec::as_slice).unwrap_or_default() {
        for a in r["accounts"].as_array().map(Vec::as_slice).unwrap_or_default() {
            for n in a["notes"].as_array().map(Vec::as_slice).unwrap_or_default() {
                // One line per note whatever it holds.
                let text: String = s(n).chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
                out.push_str(&format!("note: run {} account {}: {text}\n", s(&r["run_id"]), s(&a["account_id"])));
            }
        }
    }
    out
}

pub fn savings(v: &Value) -> String {
    let mut out = format!(
        "open {} a month, realised {} a month, confirmed {} a month\n",
        money(&v["open_usd"]),
        money(&v["realised_usd"]),
        money(&v["confirmed_usd"])
    );
    for (title, list, key) in
        [("month", "by_month", "month"), ("service", "by_service", "service"), ("account", "by_account", "account_id")]
    {
        let rows: Vec<Vec<String>> = v[list]
            .as_array()
            .map(|a| a.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|r| vec![s(&r[key]), money(&r["open_usd"]), money(&r["realised_usd"]), money(&r["confirmed_usd"])])
            .collect();
        out.push_str(&format!("\nby {title}:\n"));
        if rows.is_empty() {
            out.push_str("  nothing yet: savings appear once scans find something\n");
        } else {
            out.push_str(&table(
                &[&title.to_uppercase(), "OPEN", "REALISED", "CONFIRMED"],
                &[false, true, true, true],
                &rows,
            ));
        }
    }
    out.push_str(&format!("\n{}\n", s(&v["notes"]["confirmed"])));
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn money_has_thousands_separators_and_two_decimals() {
        assert_eq!(money(&json!("1234567.891")), "$1,234,567.89");
        assert_eq!(money(&json!("999.5")), "$999.50");
        assert_eq!(money(&json!("1000")), "$1,000.00");
        assert_eq!(money(&json!("-15000.5")), "-$15,000.50");
        assert_eq!(money(&json!("0")), "$0.00");
        assert_eq!(money(&Value::Null), "-");
        assert_eq!(money(&json!("abc")), "-");
    }

    #[test]
    fn the_runs_table_shows_each_accounts_notes() {
        let v = json!({"runs": [{
            "run_id": "run-1", "finished_at": "2026-05-12T09:00:00Z", "complete": 1, "partial": 0, "failed": 0,
            "findings_opened": 2, "findings_resolved": 0, "athena_cost_usd": "0",
            "accounts": [
                {"account_id": "111122223333", "notes": ["Trusted Advisor needs a Business or Enterprise Support plan", "two\nlines"]},
                {"account_id": "444455556666"}
            ]
        }], "next_cursor": null});
        let out = runs_table(&v);
        assert!(
            out.contains(
                "note: run run-1 account 111122223333: Trusted Advisor needs a Business or Enterprise Support plan\n"
            ),
            "{out}"
        );
        assert!(out.contains("note: run run-1 account 111122223333: two lines\n"), "a note is one line: {out}");
        assert!(!out.contains("444455556666"), "an account without notes adds nothing");
        assert_eq!(run_notes(&json!({"runs": [{"accounts": "not a list"}]})), "", "a malformed answer adds nothing");
    }

    #[test]
    fn tables_align_their_columns() {
        let t = table(
            &["A", "NAME"],
            &[true],
            &[vec!["$1.00".into(), "x".into()], vec!["$1,000.00".into(), "long".into()]],
        );
        assert_eq!(t, "        A  NAME\n    $1.00  x\n$1,000.00  long\n");
        let page = findings_table(&json!({"findings": [], "next_cursor": "abc"}));
        assert!(page.contains("no findings on this page") && page.contains("--cursor abc"), "{page}");
    }
}
