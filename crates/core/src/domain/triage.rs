//! What people decide about a finding (acknowledge, snooze, suppress, assign, note), the history
//! of those decisions, where a finding comes from, and the savings ledger's realised entries.
//!
//! A finding's [`Triage`] is kept across every later sighting (scans, events, CUR runs:
//! `store::findings::keep_user_state`); each decision is also one [`FindingChange`] item beside
//! the finding, written in the same transaction.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::finding::Finding;
use super::AccountId;

/// People's decisions on one finding. `changes` counts the history entries: it is the optimistic
/// lock of a change (a change is written only if the count is still the one it read).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Triage {
    #[serde(default)]
    pub changes: u32,
    #[serde(default)]
    pub acknowledged_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub acknowledged_by: Option<String>,
    /// Hidden from people until this day (UTC); still open, still in the open savings.
    #[serde(default)]
    pub snoozed_until: Option<NaiveDate>,
    #[serde(default)]
    pub owner: Option<String>,
    /// The suppression a person made for this finding through the API: a later sighting from
    /// any source keeps the finding suppressed.
    #[serde(default)]
    pub suppression_id: Option<String>,
}

/// One decision, as the PATCH body names it (`{"action": "snooze", "until": "2027-01-31"}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum TriageAction {
    Acknowledge,
    Snooze { until: NaiveDate },
    Suppress { reason: String },
    Assign { owner: String },
    Note { text: String },
}

impl TriageAction {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Acknowledge => "acknowledge",
            Self::Snooze { .. } => "snooze",
            Self::Suppress { .. } => "suppress",
            Self::Assign { .. } => "assign",
            Self::Note { .. } => "note",
        }
    }
}

/// One history entry (`FINDINGLOG#<key>#<at>#<seq>`): who did what, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingChange {
    pub seq: u32,
    pub at: DateTime<Utc>,
    pub by: String,
    /// `operator` or `tenant`: which kind of caller made the change.
    pub caller: String,
    #[serde(flatten)]
    pub action: TriageAction,
}

/// A saving realised because the resource went away or changed: the finding was open with a
/// saving when a complete scan stopped seeing it (`SAVING#<yyyy-mm>#<key>`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealisedSaving {
    pub key: String,
    pub account_id: AccountId,
    pub rule: String,
    pub region: String,
    pub resource_id: String,
    pub monthly_savings_usd: Decimal,
    pub realised_at: DateTime<Utc>,
    /// The resource's ARN, when the finding had one: the CUR names many resources by ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// What the bill said about it (`crate::cur::confirm`); none until a CUR analysis checked it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<SavingConfirmation>,
}

impl RealisedSaving {
    /// The ledger entry for a finding being resolved at `now`: only an open finding with a
    /// positive saving that no other finding's saving includes (so nothing counts twice).
    pub fn of(f: &Finding, now: DateTime<Utc>) -> Option<Self> {
        let amount = f.monthly_savings_usd.filter(|s| *s > Decimal::ZERO)?;
        if !f.counts_in_total() {
            return None;
        }
        Some(Self {
            key: f.key(),
            account_id: f.account_id.clone(),
            rule: f.rule.clone(),
            region: f.region.clone(),
            resource_id: f.resource_id.clone(),
            monthly_savings_usd: amount,
            realised_at: now,
            arn: f.arn.clone(),
            confirmation: None,
        })
    }

    /// `yyyy-mm` of the realisation: the ledger's month.
    pub fn month(&self) -> String {
        self.realised_at.format("%Y-%m").to_string()
    }

    /// Still waiting for the bill: never checked, or checked and pending.
    pub fn awaits_confirmation(&self) -> bool {
        self.confirmation.as_ref().is_none_or(|c| c.status == ConfirmationStatus::Pending)
    }

    /// The monthly saving the bill confirmed (0 when it showed none), once confirmed.
    pub fn confirmed_usd(&self) -> Option<Decimal> {
        self.confirmation.as_ref().filter(|c| c.status == ConfirmationStatus::Confirmed).and_then(|c| c.confirmed_usd)
    }
}

/// Where a realised saving stands against the bill.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfirmationStatus {
    /// Not checked yet, or the CUR cannot tell yet (`reason` says why).
    Pending,
    /// The CUR's line items compared: `confirmed_usd` (0 when the resource is still billed).
    Confirmed,
    /// Pending for too long, or never checkable (`reason` says why): no longer tried.
    NotConfirmable,
}

impl ConfirmationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
            Self::NotConfirmable => "not_confirmable",
        }
    }
}

/// A realised saving checked against the CUR (`crate::cur::confirm`): the verdict, and the
/// figures a person can check by hand against the bill.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavingConfirmation {
    pub status: ConfirmationStatus,
    /// When the CUR analysis that wrote this ran.
    pub checked_at: DateTime<Utc>,
    /// Why it is pending or not confirmable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// (before − after per day) × 730 / 24, floored at 0, to the cent; not capped at the
    /// realised estimate (both are kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed_usd: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<BillEvidence>,
}

/// The CUR figures behind a confirmation: the resource's usage cost over the `days` days
/// before the resolution day and the `days` days after it (the resolution day itself is in
/// neither).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillEvidence {
    pub days: u32,
    pub before_from: NaiveDate,
    pub before_to: NaiveDate,
    pub after_from: NaiveDate,
    pub after_to: NaiveDate,
    /// The resource ids the line items matched (`line_item_resource_id`).
    pub resource_ids: Vec<String>,
    pub line_items_before: u64,
    pub line_items_after: u64,
    pub before_usd: Decimal,
    pub after_usd: Decimal,
    /// `before_usd / days` and `after_usd / days`, to 6 decimals.
    pub before_per_day_usd: Decimal,
    pub after_per_day_usd: Decimal,
}

/// Where a finding comes from, derived from its rule id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// `realtime.*`: priced events.
    Realtime,
    /// Every scan rule (`ebs.`, `ec2.`, `snapshot.`, `eip.`, `nat.`, `elb.`, `logs.`, `rds.`).
    Scan,
    /// `cur.*`: the CUR analysis (waste and anomalies).
    Cur,
    /// `coh.*`, `co.*`, `ta.*`: AWS Cost Optimization Hub's, Compute Optimizer's and Trusted
    /// Advisor's recommendations, as the scan reads them.
    AwsRecommender,
}

impl Source {
    pub const ALL: [Source; 4] = [Self::Realtime, Self::Scan, Self::Cur, Self::AwsRecommender];

    /// The rule-id prefixes of a source; `Scan` is every rule outside the others'.
    pub fn prefixes(self) -> &'static [&'static str] {
        match self {
            Self::Realtime => &["realtime."],
            Self::Cur => &["cur."],
            Self::AwsRecommender => &["coh.", "co.", "ta."],
            Self::Scan => &[],
        }
    }

    pub fn of_rule(rule: &str) -> Self {
        [Self::Realtime, Self::Cur, Self::AwsRecommender]
            .into_iter()
            .find(|s| s.prefixes().iter().any(|p| rule.starts_with(p)))
            .unwrap_or(Self::Scan)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Realtime => "realtime",
            Self::Scan => "scan",
            Self::Cur => "cur",
            Self::AwsRecommender => "aws-recommender",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A rule's service: its id up to the first '.' (`ebs.gp2-to-gp3` → `ebs`).
pub fn service_of(rule: &str) -> &str {
    rule.split('.').next().unwrap_or(rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_and_services_come_from_the_rule_id() {
        assert_eq!(Source::of_rule("realtime.gp2-volume"), Source::Realtime);
        assert_eq!(Source::of_rule("cur.anomaly"), Source::Cur);
        assert_eq!(Source::of_rule("coh.rightsize"), Source::AwsRecommender);
        assert_eq!(Source::of_rule("co.ec2-rightsize"), Source::AwsRecommender);
        assert_eq!(Source::of_rule("ta.idle-load-balancers"), Source::AwsRecommender);
        assert_eq!(Source::of_rule("ebs.gp2-to-gp3"), Source::Scan);
        assert_eq!(Source::of_rule("realtimex.y"), Source::Scan, "a prefix ends at its dot");
        assert_eq!(service_of("ebs.gp2-to-gp3"), "ebs");
        assert_eq!(service_of("noperiod"), "noperiod");
        for s in Source::ALL {
            assert_eq!(Source::parse(s.as_str()), Some(s));
        }
        assert_eq!(Source::parse("Scan"), None);
    }

    #[test]
    fn only_open_savings_that_count_are_realised() {
        let now = Utc::now();
        let f = Finding {
            monthly_savings_usd: Some(Decimal::new(1250, 2)),
            ..Finding::open(
                crate::domain::TenantId::generate(),
                AccountId::parse("123456789012").unwrap(),
                "us-east-1",
                "ebs.unattached-volume",
                "vol-1",
                "t",
                now,
            )
        };
        let r = RealisedSaving::of(&f, now).unwrap();
        assert_eq!((r.monthly_savings_usd, r.month()), (Decimal::new(1250, 2), now.format("%Y-%m").to_string()));
        let included = Finding { savings_included_in: Some("ebs.unattached-volume".into()), ..f.clone() };
        assert_eq!(RealisedSaving::of(&included, now), None, "counted in the other finding");
        let suppressed = Finding { status: crate::domain::finding::FindingStatus::Suppressed, ..f.clone() };
        assert_eq!(RealisedSaving::of(&suppressed, now), None);
        assert_eq!(RealisedSaving::of(&Finding { monthly_savings_usd: None, ..f.clone() }, now), None);
        assert_eq!(RealisedSaving::of(&Finding { monthly_savings_usd: Some(Decimal::ZERO), ..f }, now), None);
    }
}
