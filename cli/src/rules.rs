//! `costradar rules [--json]`: every rule costradar has (scan, real time, CUR, AWS's
//! recommenders), from the one table the docs are generated from
//! (`costradar_core::rules::catalogue`).

use std::process::ExitCode;

use clap::Args;
use costradar_core::rules::catalogue::{RuleInfo, CATALOGUE};

#[derive(Args)]
pub struct RulesArgs {
    /// Print a JSON array (id, service, source, title, confidence, settings, flags, cost,
    /// saving) instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: RulesArgs) -> ExitCode {
    if args.json {
        println!("{}", serde_json::to_string_pretty(CATALOGUE).expect("the catalogue is JSON"));
    } else {
        print!("{}", text(CATALOGUE));
    }
    ExitCode::SUCCESS
}

/// One line per rule, in aligned columns: id, service, source, confidence, settings, title.
pub fn text(rules: &[RuleInfo]) -> String {
    let rows: Vec<[String; 6]> = rules
        .iter()
        .map(|r| {
            let settings = if r.settings.is_empty() { "-".to_owned() } else { r.settings.join(",") };
            [
                r.id.to_owned(),
                r.service.to_owned(),
                r.source.as_str().to_owned(),
                r.confidence.to_owned(),
                settings,
                r.title.to_owned(),
            ]
        })
        .collect();
    let header = ["RULE", "SERVICE", "SOURCE", "CONFIDENCE", "SETTINGS", "TITLE"].map(String::from);
    let mut widths = [0usize; 6];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                line.push_str(&" ".repeat(w - cell.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_a_header_and_one_aligned_line_per_rule() {
        let t = text(CATALOGUE);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), CATALOGUE.len() + 1);
        assert!(lines[0].starts_with("RULE"));
        let lambda = lines.iter().find(|l| l.starts_with("lambda.provisioned-concurrency-unused")).unwrap();
        assert!(lambda.contains("Lambda") && lambda.contains("scan") && lambda.contains("idle_window_days"));
        // Columns line up: every line's second column starts where the header's does.
        let col = lines[0].find("SERVICE").unwrap();
        assert!(lines[1..].iter().all(|l| l[..col].ends_with("  ") && !l[col..].starts_with(' ')));
        assert!(lines.iter().any(|l| l.starts_with("cur.anomaly") && l.contains(" cur ")));
    }

    #[test]
    fn json_lists_every_rule_with_its_source_and_settings() {
        let v: serde_json::Value = serde_json::to_value(CATALOGUE).unwrap();
        let all = v.as_array().unwrap();
        assert_eq!(all.len(), CATALOGUE.len());
        let coh = all.iter().find(|r| r["id"] == "coh.<action>").unwrap();
        assert_eq!(coh["source"], "aws-recommender");
        assert_eq!(coh["settings"], serde_json::json!(["cost_optimization_hub"]));
    }
}
