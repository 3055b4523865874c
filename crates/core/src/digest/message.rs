//! A digest's content, and its message: a JSON body (the operator's SNS topic gets all of it)
//! whose `text` is the Slack-compatible message the tenant's webhook gets, as real-time
//! findings' notifications are (`crate::receiver::notify`). Money is shown as the console
//! shows it ([`crate::console::html::money`]), and as decimal strings in `_usd` fields.

use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::Period;
use crate::console::html::money;
use crate::domain::finding::Finding;
use crate::domain::money::usd;
use crate::domain::settings::DigestFrequency;
use crate::domain::TenantId;
use crate::receiver::notify::slack_escape;

/// What one tenant's digest of one period says.
#[derive(Clone, Debug, PartialEq)]
pub struct Digest {
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub period: Period,
    /// Findings first seen in the period and still open.
    pub new_findings: u32,
    /// `false` when the period held more findings than were read: the count is a minimum.
    pub new_complete: bool,
    /// Their monthly savings (a saving included in another finding's counts once).
    pub new_savings_usd: Decimal,
    /// The ledger's fixes realised in the period, and their monthly savings.
    pub realised_fixes: u32,
    pub realised_usd: Decimal,
    /// The largest open findings by a saving that counts, largest first.
    pub top_open: Vec<Finding>,
    /// `cur.anomaly` findings first seen in the period (at most [`super::MAX_ANOMALIES`]);
    /// `None`: no CUR analysis.
    pub anomalies: Option<Vec<Finding>>,
    /// How many there were, listed or not.
    pub anomaly_count: u32,
}

impl Digest {
    /// Whether there is anything new to say (see the module docs of `crate::digest`).
    pub fn has_news(&self) -> bool {
        self.new_findings > 0 || self.realised_fixes > 0 || self.anomaly_count > 0
    }

    fn frequency(&self) -> &'static str {
        match self.period.frequency {
            DigestFrequency::Weekly => "weekly",
            _ => "daily",
        }
    }

    /// The message: `{"digest": {...}, "text": "..."}`.
    pub fn payload(&self) -> Value {
        json!({ "digest": self.json(), "text": self.text() })
    }

    pub fn json(&self) -> Value {
        let finding = |f: &Finding| {
            json!({
                "key": f.key(),
                "title": f.title,
                "rule": f.rule,
                "account_id": f.account_id,
                "region": f.region,
                "resource_id": f.resource_id,
                "monthly_savings_usd": f.monthly_savings_usd.map(usd),
                "monthly_cost_usd": f.monthly_cost_usd.map(usd),
            })
        };
        json!({
            "tenant_id": self.tenant_id,
            "tenant_name": self.tenant_name,
            "frequency": self.frequency(),
            "period": { "id": self.period.id, "from": self.period.from, "to": self.period.to },
            "new": {
                "findings": self.new_findings,
                "complete": self.new_complete,
                "monthly_savings_usd": usd(self.new_savings_usd),
            },
            "realised": { "fixes": self.realised_fixes, "monthly_savings_usd": usd(self.realised_usd) },
            "top_open": self.top_open.iter().map(finding).collect::<Vec<_>>(),
            "anomalies": self.anomalies.as_ref().map(|a| a.iter().map(finding).collect::<Vec<_>>()),
            "anomaly_count": self.anomaly_count,
            "anomalies_note": self.anomalies.is_none().then_some("no CUR analysis: no account of this tenant has a CUR export connected"),
        })
    }

    /// The webhook's text. Names and titles come from customers' resources: escaped.
    pub fn text(&self) -> String {
        let p = &self.period;
        let last = (p.to - chrono::Duration::days(1)).date_naive();
        let days =
            if p.from.date_naive() == last { last.to_string() } else { format!("{} to {last}", p.from.date_naive()) };
        let at_least = if self.new_complete { "" } else { "at least " };
        let mut t = format!("costradar {} digest for {} ({days})\n", self.frequency(), slack_escape(&self.tenant_name));
        t.push_str(&format!(
            "New: {at_least}{} open finding{}, {}/month of savings\n",
            self.new_findings,
            plural(self.new_findings),
            money(self.new_savings_usd)
        ));
        t.push_str(&format!(
            "Realised: {} fix{}, {}/month\n",
            self.realised_fixes,
            if self.realised_fixes == 1 { "" } else { "es" },
            money(self.realised_usd)
        ));
        if self.top_open.is_empty() {
            t.push_str("Top open findings: none\n");
        } else {
            t.push_str("Top open findings:\n");
            for (i, f) in self.top_open.iter().enumerate() {
                t.push_str(&format!(
                    "{}. {}/month: {}\n",
                    i + 1,
                    money(f.monthly_savings_usd.unwrap_or_default()),
                    line(f)
                ));
            }
        }
        match &self.anomalies {
            None => t.push_str("Anomalies: no CUR analysis (no account has a CUR export connected)"),
            Some(a) if a.is_empty() => t.push_str("Anomalies: none"),
            Some(a) => {
                t.push_str(&format!("Anomalies: {}\n", self.anomaly_count));
                for f in a.iter().take(super::TOP_OPEN) {
                    let cost = f.monthly_cost_usd.map(|c| format!(" ({}/month)", money(c))).unwrap_or_default();
                    t.push_str(&format!("- {}{cost}\n", line(f)));
                }
            }
        }
        t.trim_end().to_owned()
    }
}

fn plural(n: u32) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A finding on one line: its title and resource, account and region.
fn line(f: &Finding) -> String {
    let clip = |s: &str| -> String {
        if s.chars().count() > MAX_PART_CHARS {
            s.chars().take(MAX_PART_CHARS).chain(std::iter::once('…')).collect()
        } else {
            s.to_owned()
        }
    };
    slack_escape(&format!("{} {} ({}, {})", clip(&f.title), clip(&f.resource_id), f.account_id, f.region))
}

/// A title or resource id longer than this is clipped in the text (the JSON keeps it whole).
pub const MAX_PART_CHARS: usize = 120;
