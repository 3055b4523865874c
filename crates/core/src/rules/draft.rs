//! What every scan rule shares: the finding a rule drafts (before it gets a tenant, a status and
//! times), the context a rule reads (prices, settings, now), price lookups that remember their
//! source, and the AWS CLI quoting for fix commands.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::facts::Tags;
use crate::domain::finding::{Confidence, Finding};
use crate::domain::money::cents;
use crate::domain::settings::ScanSettings;
use crate::domain::{AccountId, TenantId};
use crate::pricing::{PriceBook, PriceSource, Sku, HOURS_PER_MONTH};

/// A finding as a rule drafts it.
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    pub rule: String,
    pub resource_id: String,
    pub arn: Option<String>,
    pub region: String,
    pub title: String,
    /// The facts and the arithmetic, one line each, so a customer can check them by hand.
    pub evidence: Vec<String>,
    pub monthly_cost_usd: Option<Decimal>,
    pub monthly_savings_usd: Option<Decimal>,
    pub confidence: Confidence,
    pub fix_command: String,
    pub alternative: Option<String>,
    /// The resource's tags, for suppression by tag (not stored).
    pub tags: Tags,
    /// `<rule>#<resource>` of the finding whose saving already includes this one's.
    pub savings_included_in: Option<String>,
    pub price_source: Option<String>,
}

/// Our scan rules whose fix removes the resource (delete, release, stop, terminate).
pub const REMOVAL_RULES: &[&str] = &[
    "ebs.unattached-volume",
    "ebs.volume-on-stopped-instance",
    "snapshot.orphaned",
    "ec2.stopped-instance",
    "ec2.idle-instance",
    "eip.unassociated",
    "nat.idle",
    "elb.no-healthy-targets",
    "rds.stopped",
    "rds.idle",
    "dynamodb.unused-table",
    "elasticache.idle-cluster",
    "redshift.idle-cluster",
    "opensearch.idle-domain",
    "eks.no-compute",
    "cloudwatch.insufficient-data-alarm",
    "cloudwatch.alarm-on-deleted-resource",
    "vpc.idle-interface-endpoint",
    "vpc.idle-transit-gateway-attachment",
    "route53.empty-hosted-zone",
    "route53.private-zone-without-vpc",
    "backup.orphaned-recovery-points",
    "backup.expired-recovery-point",
];

impl Draft {
    /// A draft with no evidence, price or fix yet, at high confidence: the rule fills in the rest.
    pub fn new(rule: &str, resource_id: String, arn: Option<String>, region: &str, title: String) -> Self {
        Self {
            rule: rule.to_owned(),
            resource_id,
            arn,
            region: region.to_owned(),
            title,
            evidence: vec![],
            monthly_cost_usd: None,
            monthly_savings_usd: None,
            confidence: Confidence::High,
            fix_command: String::new(),
            alternative: None,
            tags: Tags::default(),
            savings_included_in: None,
            price_source: None,
        }
    }

    /// `<rule>#<resource>`: the finding key without the account.
    pub fn local_key(&self) -> String {
        format!("{}#{}", self.rule, self.resource_id)
    }

    /// Whether the fix removes the resource (delete, release, stop, terminate) rather than
    /// changing it. A removal's saving includes any change's on the same resource.
    pub fn is_removal(&self) -> bool {
        let rule = self.rule.as_str();
        REMOVAL_RULES.contains(&rule)
            || matches!(rule, "coh.stop" | "coh.delete")
            || super::recommenders::is_removal(rule)
    }

    pub fn into_finding(self, tenant: &TenantId, account_id: &AccountId, now: DateTime<Utc>) -> Finding {
        Finding {
            evidence: self.evidence,
            monthly_cost_usd: self.monthly_cost_usd.map(cents),
            monthly_savings_usd: self.monthly_savings_usd.map(cents),
            alternative: self.alternative,
            price_source: self.price_source,
            arn: self.arn,
            confidence: Some(self.confidence),
            fix_command: Some(self.fix_command),
            savings_included_in: self.savings_included_in,
            ..Finding::open(
                tenant.clone(),
                account_id.clone(),
                self.region,
                self.rule,
                self.resource_id,
                self.title,
                now,
            )
        }
    }
}

/// What a rule reads besides the facts.
pub struct Ctx<'a> {
    pub book: &'a PriceBook<'a>,
    pub settings: &'a ScanSettings,
    pub now: DateTime<Utc>,
    pub account_id: &'a str,
}

impl Ctx<'_> {
    pub fn days(n: u32) -> chrono::Duration {
        chrono::Duration::days(n.into())
    }

    /// Whether `since` is at least `days` before now.
    pub fn at_least(&self, since: DateTime<Utc>, days: u32) -> bool {
        self.now - since >= Self::days(days)
    }

    pub fn pricer(&self, region: &str) -> Pricer<'_> {
        Pricer { book: self.book, region: region.to_owned(), source: None }
    }
}

/// Price lookups in one region that remember the least specific source used.
pub struct Pricer<'a> {
    book: &'a PriceBook<'a>,
    pub region: String,
    source: Option<(PriceSource, String)>,
}

impl Pricer<'_> {
    pub fn rate(&mut self, sku: &Sku) -> Option<Decimal> {
        let r = self.book.rate(&self.region, sku)?;
        let worse = self.source.as_ref().is_none_or(|(s, _)| (r.source as u8) > (*s as u8));
        if worse {
            self.source = Some((r.source, r.as_of.clone()));
        }
        Some(r.usd)
    }

    /// An hourly rate × 730.
    pub fn monthly_from_hourly(&mut self, sku: &Sku) -> Option<(Decimal, Decimal)> {
        let h = self.rate(sku)?;
        Some((h, h * HOURS_PER_MONTH))
    }

    /// Records the sources of an estimate computed elsewhere (`pricing::model`).
    pub fn note(&mut self, sources: &[(PriceSource, String)]) {
        for (s, d) in sources {
            if self.source.as_ref().is_none_or(|(cur, _)| (*s as u8) > (*cur as u8)) {
                self.source = Some((*s, d.clone()));
            }
        }
    }

    pub fn source(&self) -> Option<String> {
        self.source.as_ref().map(|(s, _)| s.as_str().to_owned())
    }

    /// "prices: snapshot of 2024-07-18".
    pub fn source_line(&self) -> Option<String> {
        self.source.as_ref().map(|(s, d)| format!("prices: {} as of {d}", s.as_str()))
    }
}

/// Quotes one word of a POSIX shell command. Resource names come from the customer's account
/// and may hold anything (log group names allow `#`, `/`, `.`); a fix command must never let
/// them run as shell.
pub fn sh(word: &str) -> String {
    let safe = !word.is_empty()
        && word.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+".contains(&b))
        && !word.starts_with('-');
    if safe {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// `aws <service> <command> <args...> --region R`, every argument quoted.
pub fn aws_cli(service: &str, command: &str, args: &[(&str, &str)], region: &str) -> String {
    let mut s = format!("aws {service} {command}");
    for (flag, value) in args {
        s.push(' ');
        s.push_str(flag);
        if !value.is_empty() {
            s.push(' ');
            s.push_str(&sh(value));
        }
    }
    s.push_str(" --region ");
    s.push_str(&sh(region));
    s
}

pub fn ec2_arn(region: &str, account: &str, kind: &str, id: &str) -> String {
    format!("arn:aws:ec2:{region}:{account}:{kind}/{id}")
}

/// Whole days between two times, for titles ("unattached for 12 days").
pub fn whole_days(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_days().max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted() {
        assert_eq!(sh("vol-0123"), "vol-0123");
        assert_eq!(sh("/aws/lambda/x"), "/aws/lambda/x");
        assert_eq!(sh("a b"), "'a b'");
        assert_eq!(sh("x;rm -rf /"), "'x;rm -rf /'");
        assert_eq!(sh("it's"), r"'it'\''s'");
        assert_eq!(sh("$(id)"), "'$(id)'");
        assert_eq!(sh("`id`"), "'`id`'");
        assert_eq!(sh("-rf"), "'-rf'");
        assert_eq!(sh(""), "''");
        assert_eq!(sh("a#b"), "'a#b'");
        assert_eq!(
            aws_cli(
                "logs",
                "put-retention-policy",
                &[("--log-group-name", "x'; id"), ("--retention-in-days", "30")],
                "eu-west-1"
            ),
            r"aws logs put-retention-policy --log-group-name 'x'\''; id' --retention-in-days 30 --region eu-west-1"
        );
        assert_eq!(
            aws_cli("rds", "modify-db-instance", &[("--no-multi-az", "")], "us-east-1"),
            "aws rds modify-db-instance --no-multi-az --region us-east-1"
        );
    }
}
