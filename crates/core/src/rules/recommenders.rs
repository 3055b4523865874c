//! AWS Compute Optimizer's and Trusted Advisor's recommendations, merged with our own findings
//! and Cost Optimization Hub's the way [`super::coh`] merges the latter: one saving per resource.
//!
//! - `co.<kind>` (`co.ec2-rightsize`, `co.ebs-rightsize`, `co.lambda-rightsize`,
//!   `co.ecs-rightsize` (services on Fargate), `co.asg-rightsize`, `co.rds-rightsize`,
//!   `co.idle`): a Compute Optimizer recommendation for a resource of a scanned region whose
//!   finding is not `Optimized` and whose rank-1 option saves money. Saving = that option's
//!   `savingsOpportunity.estimatedMonthlySavings.value`, in USD only (Compute Optimizer also
//!   answers in CNY in the China regions: such a recommendation is left out), before the
//!   account's discounts (the `...AfterDiscounts` figure is not used). Cost = saving ÷
//!   `savingsOpportunityPercentage` × 100, when AWS gives the percentage. ECS options carry no
//!   rank: the first option is taken. RDS: the DB instance class option (storage options are
//!   left out). Confidence low: AWS's estimate, not our arithmetic.
//! - `ta.<check>` (`ta.low-utilization-amazon-ec2-instances`, `ta.idle-load-balancers`, ...: the
//!   check's name in kebab case): a resource of a Trusted Advisor cost-optimizing check (the
//!   `ta_check` source: those Trusted Advisor relays from Compute Optimizer or Cost Optimization
//!   Hub are read at their source) in status `warning` or `error`, not excluded. Saving = the
//!   resource's "Estimated Monthly Savings" column (USD, as Trusted Advisor reports it) when the
//!   check has one, else none. Cost: none. Confidence low.
//! - Merging: a recommendation for a resource another finding is about (same region, and the
//!   same id or ARN; Trusted Advisor gives only ids, so its id also matches a name inside the
//!   other finding's ARN) takes that finding's resource id, so [`super::settle_overlaps`] counts
//!   one saving per resource: a removal before a change, then our rules, Cost Optimization Hub,
//!   Compute Optimizer, Trusted Advisor, in that order ([`rank`]), then the largest saving. Our
//!   own finding's evidence quotes AWS's estimate.
//! - A resource id AWS gives as an EC2 ARN (`arn:aws:ec2:...:instance/i-0abc`) becomes the id our
//!   rules use (`i-0abc`, likewise volumes and NAT gateways); other resources keep their ARN,
//!   which our RDS, DynamoDB, ElastiCache and ELB rules use too.

use std::collections::HashSet;

use rust_decimal::Decimal;

use super::coh;
use super::draft::{aws_cli, Draft};
use crate::domain::finding::Confidence;
use crate::domain::money::{cents, usd};

pub const CO_PREFIX: &str = "co.";
pub const TA_PREFIX: &str = "ta.";

/// AWS's recommenders, in the order [`super::settle_overlaps`] trusts them after our own rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Recommender {
    CostOptimizationHub,
    ComputeOptimizer,
    TrustedAdvisor,
}

impl Recommender {
    pub const ALL: [Self; 3] = [Self::CostOptimizationHub, Self::ComputeOptimizer, Self::TrustedAdvisor];

    pub fn prefix(self) -> &'static str {
        match self {
            Self::CostOptimizationHub => coh::PREFIX,
            Self::ComputeOptimizer => CO_PREFIX,
            Self::TrustedAdvisor => TA_PREFIX,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::CostOptimizationHub => "Cost Optimization Hub",
            Self::ComputeOptimizer => "Compute Optimizer",
            Self::TrustedAdvisor => "Trusted Advisor",
        }
    }

    /// The recommender a rule id comes from; `None` for our own rules.
    pub fn of_rule(rule: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| rule.starts_with(r.prefix()))
    }
}

/// The order of trust among findings on one resource: 0 for our own rules, then Cost
/// Optimization Hub, Compute Optimizer and Trusted Advisor.
pub fn rank(rule: &str) -> u8 {
    Recommender::of_rule(rule).map_or(0, |r| r as u8 + 1)
}

/// Whether a Compute Optimizer or Trusted Advisor recommendation's fix removes the resource
/// (stop, delete, release) rather than changing it; [`Draft::is_removal`] asks it for them.
pub fn is_removal(rule: &str) -> bool {
    const TA_REMOVALS: &[&str] =
        &["idle", "unassociated", "inactive", "unused", "low-utilization-amazon-ec2", "underutilized-amazon-ebs"];
    rule == CoKind::Idle.rule()
        || rule.strip_prefix(TA_PREFIX).is_some_and(|check| TA_REMOVALS.iter().any(|w| check.contains(w)))
}

/// Compute Optimizer's recommendation kinds, one rule each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CoKind {
    Ec2Instance,
    EbsVolume,
    LambdaFunction,
    EcsService,
    AutoScalingGroup,
    RdsDatabase,
    Idle,
}

impl CoKind {
    pub const ALL: [Self; 7] = [
        Self::Ec2Instance,
        Self::EbsVolume,
        Self::LambdaFunction,
        Self::EcsService,
        Self::AutoScalingGroup,
        Self::RdsDatabase,
        Self::Idle,
    ];

    pub fn rule(self) -> &'static str {
        match self {
            Self::Ec2Instance => "co.ec2-rightsize",
            Self::EbsVolume => "co.ebs-rightsize",
            Self::LambdaFunction => "co.lambda-rightsize",
            Self::EcsService => "co.ecs-rightsize",
            Self::AutoScalingGroup => "co.asg-rightsize",
            Self::RdsDatabase => "co.rds-rightsize",
            Self::Idle => "co.idle",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Self::Ec2Instance => "EC2 instance",
            Self::EbsVolume => "EBS volume",
            Self::LambdaFunction => "Lambda function",
            Self::EcsService => "ECS service",
            Self::AutoScalingGroup => "Auto Scaling group",
            Self::RdsDatabase => "RDS DB instance",
            Self::Idle => "resource",
        }
    }

    /// The `aws compute-optimizer` command showing the recommendation, and its ARN option.
    fn cli(self) -> (&'static str, &'static str) {
        match self {
            Self::Ec2Instance => ("get-ec2-instance-recommendations", "--instance-arns"),
            Self::EbsVolume => ("get-ebs-volume-recommendations", "--volume-arns"),
            Self::LambdaFunction => ("get-lambda-function-recommendations", "--function-arns"),
            Self::EcsService => ("get-ecs-service-recommendations", "--service-arns"),
            Self::AutoScalingGroup => ("get-auto-scaling-group-recommendations", "--auto-scaling-group-arns"),
            Self::RdsDatabase => ("get-rds-database-recommendations", "--resource-arns"),
            Self::Idle => ("get-idle-recommendations", "--resource-arns"),
        }
    }
}

/// Where a recommendation comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    ComputeOptimizer(CoKind),
    /// A Trusted Advisor check (its name) and the account's recommendation for it (its ARN).
    TrustedAdvisor {
        check: String,
        recommendation_arn: String,
    },
}

impl Origin {
    pub fn recommender(&self) -> Recommender {
        match self {
            Self::ComputeOptimizer(_) => Recommender::ComputeOptimizer,
            Self::TrustedAdvisor { .. } => Recommender::TrustedAdvisor,
        }
    }

    pub fn rule(&self) -> String {
        match self {
            Self::ComputeOptimizer(k) => k.rule().to_owned(),
            Self::TrustedAdvisor { check, .. } => format!("{TA_PREFIX}{}", slug(check)),
        }
    }
}

/// A check's name in kebab case: `Low Utilization Amazon EC2 Instances` →
/// `low-utilization-amazon-ec2-instances`.
pub fn slug(name: &str) -> String {
    let mut s = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.is_empty() && !s.ends_with('-') {
            s.push('-');
        }
    }
    s.trim_end_matches('-').to_owned()
}

/// One Compute Optimizer or Trusted Advisor recommendation for one resource of the account.
#[derive(Clone, Debug, PartialEq)]
pub struct AwsRecommendation {
    pub origin: Origin,
    pub region: String,
    /// The resource's id as [`resource_id`] makes it from AWS's ARN or id.
    pub resource_id: String,
    pub resource_arn: Option<String>,
    /// AWS's finding (`Overprovisioned`, `Idle`, ...; Trusted Advisor: the resource's status,
    /// `warning` or `error`), with its reasons.
    pub finding: String,
    /// The current and the recommended configuration (`m5.2xlarge`, `gp2 100 GiB`, ...).
    pub current: Option<String>,
    pub recommended: Option<String>,
    pub lookback_days: Option<u32>,
    /// USD only.
    pub monthly_savings_usd: Option<Decimal>,
    /// `savingsOpportunityPercentage`: the saving as a percentage of the current cost.
    pub savings_percent: Option<Decimal>,
    /// Other facts AWS gave, one evidence line each (Trusted Advisor's columns).
    pub details: Vec<String>,
}

/// The id our rules use for a resource AWS names by `arn_or_id`: an EC2 resource's id after the
/// `/` of its ARN (`i-0abc`, `vol-1`, `nat-1`), anything else as given.
pub fn resource_id(arn_or_id: &str) -> String {
    let parts: Vec<&str> = arn_or_id.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "ec2", _, _, rest] => rest.split_once('/').map_or(*rest, |(_, id)| id).to_owned(),
        _ => arn_or_id.to_owned(),
    }
}

/// The names inside an ARN's resource part (`db:orders` → `db`, `orders`).
fn names_in(arn: &str) -> Vec<&str> {
    arn.splitn(6, ':').nth(5).map_or_else(Vec::new, |rest| rest.split(['/', ':']).collect())
}

fn same_resource(d: &Draft, r: &AwsRecommendation) -> bool {
    if d.region != r.region {
        return false;
    }
    let arn = r.resource_arn.as_deref();
    d.resource_id == r.resource_id
        || (arn.is_some() && (d.arn.as_deref() == arn || Some(d.resource_id.as_str()) == arn))
        || d.arn.as_deref() == Some(r.resource_id.as_str())
        || (arn.is_none() && names_in(d.arn.as_deref().unwrap_or(&d.resource_id)).contains(&r.resource_id.as_str()))
}

/// Whether the recommendation is one to report: Compute Optimizer's when it saves money and is
/// not `Optimized`, Trusted Advisor's when the resource is flagged.
pub fn reportable(r: &AwsRecommendation) -> bool {
    // The finding's first word: its reasons may follow.
    let finding = r.finding.split_whitespace().next().unwrap_or_default();
    match r.origin {
        Origin::ComputeOptimizer(_) => {
            finding != "Optimized" && r.monthly_savings_usd.is_some_and(|s| s > Decimal::ZERO)
        }
        Origin::TrustedAdvisor { .. } => matches!(finding, "warning" | "error"),
    }
}

/// Appends a draft for each reportable recommendation of the scanned regions, Compute Optimizer's
/// before Trusted Advisor's, each with the resource id of the finding it overlaps (ours first,
/// then by [`rank`]), the first of a rule for a resource only; our findings' evidence quotes
/// AWS's estimate.
pub fn merge(drafts: &mut Vec<Draft>, recs: &[AwsRecommendation], regions: &HashSet<&str>) {
    let mut recs: Vec<&AwsRecommendation> = recs
        .iter()
        .filter(|r| regions.contains(r.region.as_str()) && !r.resource_id.is_empty() && reportable(r))
        .collect();
    recs.sort_by_key(|r| r.origin.recommender());
    for r in recs {
        let resource_id = drafts
            .iter()
            .filter(|d| same_resource(d, r))
            .min_by_key(|d| rank(&d.rule))
            .map_or_else(|| r.resource_id.clone(), |d| d.resource_id.clone());
        // One finding per rule and resource (a function's versions, a check listing a name twice).
        let rule = r.origin.rule();
        if drafts.iter().any(|d| d.rule == rule && d.resource_id == resource_id && d.region == r.region) {
            continue;
        }
        let who = r.origin.recommender().name();
        let estimate = r.monthly_savings_usd.map_or_else(|| "no saving".to_owned(), |s| format!("${}/month", usd(s)));
        for d in drafts.iter_mut().filter(|d| rank(&d.rule) == 0 && same_resource(d, r)) {
            d.evidence.push(format!(
                "AWS {who} also flags it ({}{}), estimating {estimate}; the saving is counted once",
                r.finding,
                change(r)
            ));
        }
        drafts.push(draft(r, resource_id));
    }
}

fn change(r: &AwsRecommendation) -> String {
    match (&r.current, &r.recommended) {
        (Some(a), Some(b)) if a != b => format!(": {a} → {b}"),
        _ => String::new(),
    }
}

fn draft(r: &AwsRecommendation, resource_id: String) -> Draft {
    let (title, mut evidence, fix_command, source) = match &r.origin {
        Origin::ComputeOptimizer(kind) => {
            let (command, option) = kind.cli();
            let arn = r.resource_arn.as_deref().unwrap_or(&r.resource_id);
            (
                format!("AWS Compute Optimizer: {} {} {}{}", kind.noun(), r.resource_id, r.finding, change(r)),
                vec![format!("Compute Optimizer finds this {} {}{}", kind.noun(), r.finding, change(r))],
                aws_cli("compute-optimizer", command, &[(option, arn)], &r.region),
                "compute_optimizer",
            )
        }
        Origin::TrustedAdvisor { check, recommendation_arn } => (
            format!("AWS Trusted Advisor: {check}: {}", r.resource_id),
            vec![format!("Trusted Advisor check \"{check}\": resource {} in status {}", r.resource_id, r.finding)],
            aws_cli(
                "trustedadvisor",
                "list-recommendation-resources",
                &[("--recommendation-identifier", recommendation_arn)],
                "us-east-1",
            ),
            "trusted_advisor",
        ),
    };
    if let Some(days) = r.lookback_days {
        evidence.push(format!("based on the last {days} days of usage"));
    }
    evidence.extend(r.details.iter().cloned());
    let who = r.origin.recommender().name();
    let cost = cost_from_percent(r);
    match (r.monthly_savings_usd, cost) {
        (Some(s), Some((pct, c))) => evidence.push(format!(
            "AWS's estimated saving: ${}/month (USD, before the account's discounts), {pct} % of the current cost: ${} ÷ {pct} % = ${}/month now",
            usd(s),
            usd(s),
            usd(c)
        )),
        (Some(s), None) => evidence.push(format!("AWS {who}'s estimated saving: ${}/month (USD)", usd(s))),
        (None, _) => evidence.push(format!("AWS {who} gives no saving for this resource: none is counted")),
    }
    Draft {
        rule: r.origin.rule(),
        resource_id,
        arn: r.resource_arn.clone(),
        region: r.region.clone(),
        title,
        evidence,
        monthly_cost_usd: cost.map(|(_, c)| c),
        monthly_savings_usd: r.monthly_savings_usd,
        confidence: Confidence::Low,
        fix_command,
        alternative: r.recommended.clone(),
        tags: Default::default(),
        savings_included_in: None,
        price_source: Some(source.into()),
    }
}

/// The current cost from the saving and its percentage: saving ÷ percentage × 100.
fn cost_from_percent(r: &AwsRecommendation) -> Option<(Decimal, Decimal)> {
    let (s, pct) = (r.monthly_savings_usd?, r.savings_percent?);
    (pct > Decimal::ZERO && pct <= Decimal::ONE_HUNDRED)
        .then(|| (pct.round_dp(1).normalize(), cents(s * Decimal::ONE_HUNDRED / pct)))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::rules::testkit::dec;

    pub fn co(kind: CoKind, region: &str, arn: &str, finding: &str, saving: &str) -> AwsRecommendation {
        AwsRecommendation {
            origin: Origin::ComputeOptimizer(kind),
            region: region.into(),
            resource_id: resource_id(arn),
            resource_arn: Some(arn.into()),
            finding: finding.into(),
            current: Some("m5.2xlarge".into()),
            recommended: Some("m5.xlarge".into()),
            lookback_days: Some(14),
            monthly_savings_usd: Some(dec(saving)),
            savings_percent: Some(dec("50")),
            details: vec![],
        }
    }

    pub fn ta(check: &str, region: &str, id: &str, saving: Option<&str>) -> AwsRecommendation {
        AwsRecommendation {
            origin: Origin::TrustedAdvisor {
                check: check.into(),
                recommendation_arn: "arn:aws:trustedadvisor::123456789012:recommendation/abc".into(),
            },
            region: region.into(),
            resource_id: id.into(),
            resource_arn: None,
            finding: "warning".into(),
            current: None,
            recommended: None,
            lookback_days: None,
            monthly_savings_usd: saving.map(dec),
            savings_percent: None,
            details: vec!["Instance Type: m5.large".into()],
        }
    }

    fn ours(rule: &str, id: &str, arn: &str) -> Draft {
        let mut d = Draft::new(rule, id.into(), Some(arn.into()), "eu-west-1", "t".into());
        d.monthly_savings_usd = Some(dec("10"));
        d
    }

    fn regions() -> HashSet<&'static str> {
        ["eu-west-1"].into_iter().collect()
    }

    #[test]
    fn ids_rules_and_order() {
        assert_eq!(resource_id("arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc"), "i-0abc");
        assert_eq!(resource_id("arn:aws:ec2:eu-west-1:123456789012:volume/vol-1"), "vol-1");
        assert_eq!(
            resource_id("arn:aws:rds:eu-west-1:123456789012:db:orders"),
            "arn:aws:rds:eu-west-1:123456789012:db:orders"
        );
        assert_eq!(resource_id("i-0abc"), "i-0abc");
        let t = ta("Low Utilization Amazon EC2 Instances", "eu-west-1", "i-1", None);
        assert_eq!(t.origin.rule(), "ta.low-utilization-amazon-ec2-instances");
        assert_eq!(slug(" Amazon EC2 instances (over-provisioned) "), "amazon-ec2-instances-over-provisioned");
        assert_eq!(rank("ebs.gp2-to-gp3"), 0);
        assert!(rank("coh.rightsize") < rank("co.ec2-rightsize"));
        assert!(rank("co.idle") < rank("ta.idle-load-balancers"));
        assert_eq!(Recommender::of_rule("cost.x"), None, "a prefix ends at its dot");
        assert!(is_removal("co.idle") && is_removal("ta.idle-load-balancers"));
        assert!(is_removal("ta.low-utilization-amazon-ec2-instances"));
        assert!(!is_removal("co.ec2-rightsize") && !is_removal("ebs.idle"));
        for k in CoKind::ALL {
            assert_eq!(Recommender::of_rule(k.rule()), Some(Recommender::ComputeOptimizer));
        }
    }

    #[test]
    fn a_compute_optimizer_rightsizing_reads_as_aws_estimate() {
        let mut drafts = vec![];
        let arn = "arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc";
        merge(&mut drafts, &[co(CoKind::Ec2Instance, "eu-west-1", arn, "Overprovisioned", "140.16")], &regions());
        assert_eq!(drafts.len(), 1);
        let d = &drafts[0];
        assert_eq!((d.rule.as_str(), d.resource_id.as_str()), ("co.ec2-rightsize", "i-0abc"));
        assert_eq!(d.monthly_savings_usd, Some(dec("140.16")));
        assert_eq!(d.monthly_cost_usd, Some(dec("280.32")), "140.16 ÷ 50 % = 280.32");
        assert_eq!(d.confidence, Confidence::Low);
        assert_eq!(d.alternative.as_deref(), Some("m5.xlarge"));
        assert!(d.evidence.iter().any(|e| e.contains("based on the last 14 days")), "{:?}", d.evidence);
        assert!(d.evidence.iter().any(|e| e.contains("$140.16 ÷ 50 % = $280.32/month now")), "{:?}", d.evidence);
        assert_eq!(
            d.fix_command,
            format!("aws compute-optimizer get-ec2-instance-recommendations --instance-arns {arn} --region eu-west-1")
        );
    }

    #[test]
    fn what_saves_nothing_or_lies_outside_the_scan_is_not_reported() {
        let arn = "arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc";
        let mut optimized = co(CoKind::Ec2Instance, "eu-west-1", arn, "Optimized", "3");
        optimized.recommended = optimized.current.clone();
        let under = co(CoKind::Ec2Instance, "eu-west-1", arn, "Underprovisioned", "-40");
        let other_region = co(CoKind::Ec2Instance, "us-east-1", arn, "Overprovisioned", "40");
        let mut ok = ta("Idle Load Balancers", "eu-west-1", "lb-1", Some("16.43"));
        ok.finding = "ok".into();
        let mut drafts = vec![];
        merge(&mut drafts, &[optimized, under, other_region, ok], &regions());
        assert!(drafts.is_empty(), "{drafts:#?}");
    }

    #[test]
    fn recommendations_take_the_id_of_the_finding_they_overlap() {
        let rds = "arn:aws:rds:eu-west-1:123456789012:db:orders";
        let elb = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188";
        let mut drafts = vec![ours("rds.idle", rds, rds), ours("elb.no-healthy-targets", elb, elb)];
        let recs = [
            co(CoKind::RdsDatabase, "eu-west-1", rds, "Overprovisioned", "80"),
            ta("Amazon RDS Idle DB Instances", "eu-west-1", "orders", Some("120.50")),
            ta("Idle Load Balancers", "eu-west-1", "web", Some("16.43")),
            // The same name in another region is another resource.
            ta("Idle Load Balancers", "eu-west-2", "web", Some("16.43")),
        ];
        let scanned: HashSet<&str> = ["eu-west-1", "eu-west-2"].into_iter().collect();
        merge(&mut drafts, &recs, &scanned);
        let ids: Vec<(&str, &str)> = drafts.iter().map(|d| (d.rule.as_str(), d.resource_id.as_str())).collect();
        assert_eq!(
            ids,
            [
                ("rds.idle", rds),
                ("elb.no-healthy-targets", elb),
                ("co.rds-rightsize", rds),
                ("ta.amazon-rds-idle-db-instances", rds),
                ("ta.idle-load-balancers", elb),
                ("ta.idle-load-balancers", "web"),
            ]
        );
        assert!(drafts[0].evidence.iter().any(|e| e.contains("AWS Compute Optimizer also flags it (Overprovisioned")));
        assert!(drafts[0]
            .evidence
            .iter()
            .any(|e| e.contains("AWS Trusted Advisor also flags it (warning), estimating $120.50/month")));
        assert!(!drafts[5].evidence.is_empty() && drafts[5].monthly_savings_usd == Some(dec("16.43")));
        assert_eq!(drafts[5].price_source.as_deref(), Some("trusted_advisor"));
    }

    #[test]
    fn one_finding_per_rule_and_resource() {
        let arn = "arn:aws:lambda:eu-west-1:123456789012:function:resize";
        let mut v2 = co(CoKind::LambdaFunction, "eu-west-1", arn, "NotOptimized", "3");
        v2.current = Some("2048 MB".into());
        let mut drafts = vec![];
        merge(&mut drafts, &[co(CoKind::LambdaFunction, "eu-west-1", arn, "NotOptimized", "4"), v2], &regions());
        assert_eq!(drafts.len(), 1);
        assert_eq!(drafts[0].monthly_savings_usd, Some(dec("4")), "the first");
    }

    #[test]
    fn a_trusted_advisor_check_without_savings_counts_none() {
        let mut drafts = vec![];
        merge(&mut drafts, &[ta("Unassociated Elastic IP Addresses", "eu-west-1", "203.0.113.7", None)], &regions());
        let d = &drafts[0];
        assert_eq!(d.rule, "ta.unassociated-elastic-ip-addresses");
        assert_eq!((d.monthly_savings_usd, d.monthly_cost_usd), (None, None));
        assert!(d.evidence.iter().any(|e| e.contains("gives no saving")));
        assert!(d.evidence.contains(&"Instance Type: m5.large".to_owned()));
        assert_eq!(
            d.fix_command,
            "aws trustedadvisor list-recommendation-resources --recommendation-identifier arn:aws:trustedadvisor::123456789012:recommendation/abc --region us-east-1"
        );
    }
}
