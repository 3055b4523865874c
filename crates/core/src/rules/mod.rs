//! Cost rules, one file per family. A rule is a pure function from facts and prices to
//! findings, with its savings formula documented beside it (and in `docs/rules.md`).
//!
//! Scan rules read one region's facts ([`facts::RegionInventory`]) and draft findings
//! ([`draft::Draft`]); [`evaluate_region`] runs them all, [`coh::merge`] adds AWS's own
//! recommendations, and [`settle_overlaps`] makes sure no saving is counted twice.

pub mod backup;
pub mod catalogue;
pub mod cloudwatch;
pub mod coh;
pub mod draft;
pub mod dynamodb;
pub mod ebs;
pub mod ec2;
pub mod ecr;
pub mod efs;
pub mod eip;
pub mod eks;
pub mod elasticache;
pub mod elb;
pub mod facts;
pub mod lambda;
pub mod logs;
pub mod nat;
pub mod opensearch;
pub mod rds;
pub mod realtime;
pub mod recommenders;
pub mod redshift;
pub mod route53;
pub mod s3;
pub mod snapshots;
#[cfg(any(test, feature = "test-support"))]
pub mod testkit;
pub mod vpc;

use std::collections::HashMap;

use draft::{Ctx, Draft};
use facts::RegionInventory;

/// Every scan rule id, in evaluation order (`coh.*` rules are named after AWS's actions).
pub const SCAN_RULES: &[&str] = &[
    ebs::UNATTACHED,
    ebs::ON_STOPPED_INSTANCE,
    ebs::GP2_TO_GP3,
    ebs::IO_TO_GP3,
    snapshots::ORPHANED,
    ec2::STOPPED,
    ec2::PREVIOUS_GENERATION,
    ec2::IDLE,
    ec2::PUBLIC_IPV4,
    eip::UNASSOCIATED,
    nat::IDLE,
    elb::NO_HEALTHY_TARGETS,
    logs::NEVER_EXPIRE,
    rds::STOPPED,
    rds::IDLE,
    rds::GP2_STORAGE,
    rds::PREVIOUS_GENERATION,
    rds::MULTI_AZ_NON_PRODUCTION,
    lambda::PROVISIONED_CONCURRENCY_UNUSED,
    dynamodb::OVERPROVISIONED,
    dynamodb::UNUSED,
    dynamodb::ON_DEMAND_TO_PROVISIONED,
    dynamodb::STANDARD_IA,
    elasticache::IDLE,
    elasticache::PREVIOUS_GENERATION,
    redshift::IDLE,
    redshift::PREVIOUS_GENERATION,
    redshift::PAUSE_SCHEDULE,
    opensearch::IDLE,
    opensearch::PREVIOUS_GENERATION,
    opensearch::GP2_STORAGE,
    eks::EXTENDED_SUPPORT,
    eks::NO_COMPUTE,
    s3::INCOMPLETE_UPLOADS,
    s3::NONCURRENT_KEPT,
    s3::STANDARD_WITHOUT_TIERING,
    efs::NO_IA_LIFECYCLE,
    efs::OVERPROVISIONED_THROUGHPUT,
    ecr::UNTAGGED_IMAGES,
    backup::ORPHANED,
    backup::EXPIRED,
    cloudwatch::INSUFFICIENT_DATA,
    cloudwatch::DELETED_RESOURCE,
    vpc::IDLE_ENDPOINT,
    vpc::IDLE_TGW_ATTACHMENT,
    route53::EMPTY_ZONE,
    route53::PRIVATE_ZONE_WITHOUT_VPC,
];

/// The rule-id prefixes a complete scan of a region speaks for: a finding of these rules not
/// seen in it is resolved. Real-time (`realtime.`) and CUR findings are never resolved by a
/// scan. `coh.` is added only when Cost Optimization Hub answered.
pub const SCAN_RULE_PREFIXES: &[&str] = &[
    "ebs.",
    "snapshot.",
    "ec2.",
    "eip.",
    "nat.",
    "elb.",
    "logs.",
    "rds.",
    "lambda.",
    "dynamodb.",
    "elasticache.",
    "redshift.",
    "opensearch.",
    "eks.",
    "s3.",
    "efs.",
    "ecr.",
    "backup.",
    "cloudwatch.",
    "vpc.",
    "route53.",
];

/// All scan rules on one region's facts.
pub fn evaluate_region(ctx: &Ctx<'_>, inv: &RegionInventory) -> Vec<Draft> {
    let mut out = Vec::new();
    ebs::evaluate(ctx, inv, &mut out);
    snapshots::evaluate(ctx, inv, &mut out);
    ec2::evaluate(ctx, inv, &mut out);
    eip::evaluate(ctx, inv, &mut out);
    nat::evaluate(ctx, inv, &mut out);
    elb::evaluate(ctx, inv, &mut out);
    logs::evaluate(ctx, inv, &mut out);
    rds::evaluate(ctx, inv, &mut out);
    lambda::evaluate(ctx, inv, &mut out);
    dynamodb::evaluate(ctx, inv, &mut out);
    elasticache::evaluate(ctx, inv, &mut out);
    redshift::evaluate(ctx, inv, &mut out);
    opensearch::evaluate(ctx, inv, &mut out);
    eks::evaluate(ctx, inv, &mut out);
    s3::evaluate(ctx, inv, &mut out);
    efs::evaluate(ctx, inv, &mut out);
    ecr::evaluate(ctx, inv, &mut out);
    backup::evaluate(ctx, inv, &mut out);
    cloudwatch::evaluate(ctx, inv, &mut out);
    vpc::evaluate(ctx, inv, &mut out);
    route53::evaluate(ctx, inv, &mut out);
    out
}

/// One saving per resource. Findings on the same resource are alternatives (delete it, or
/// make it cheaper), so only one of them counts: a removal before a change, our own rules
/// before AWS's recommendations (our arithmetic is in the evidence), AWS's in the order of
/// [`recommenders::rank`] (Cost Optimization Hub, Compute Optimizer, Trusted Advisor), then the
/// largest saving.
/// The others keep their own numbers for reading and point at the one that counts
/// (`savings_included_in`), which totals skip. This never over-counts; when two changes would
/// add up (a smaller class *and* Single-AZ), it under-counts, which is the safe side.
pub fn settle_overlaps(drafts: &mut [Draft]) {
    let mut groups: HashMap<(String, String), Vec<usize>> = HashMap::new();
    for (i, d) in drafts.iter().enumerate() {
        groups.entry((d.region.clone(), d.resource_id.clone())).or_default().push(i);
    }
    for (_, mut idx) in groups {
        if idx.len() < 2 {
            continue;
        }
        idx.sort_by(|&a, &b| {
            let (x, y) = (&drafts[a], &drafts[b]);
            let key = |d: &Draft| {
                (
                    d.is_removal(),
                    std::cmp::Reverse(recommenders::rank(&d.rule)),
                    d.monthly_savings_usd.unwrap_or_default(),
                )
            };
            key(y).cmp(&key(x)).then_with(|| x.rule.cmp(&y.rule))
        });
        let primary = drafts[idx[0]].local_key();
        for &i in &idx[1..] {
            drafts[i].savings_included_in.get_or_insert_with(|| primary.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::finding::Confidence;
    use facts::*;
    use testkit::*;

    #[test]
    fn an_unattached_gp2_volume_counts_its_deletion_once() {
        let mut inv = RegionInventory::new("us-east-1");
        inv.volumes.push(Volume {
            id: "vol-1".into(),
            volume_type: "gp2".into(),
            size_gib: 100,
            iops: None,
            throughput_mibps: None,
            state: "available".into(),
            created: now() - Duration::days(90),
            attached_to: vec![],
            tags: Default::default(),
            unattached_since: Some(now() - Duration::days(90)),
        });
        let book = book(rates());
        let settings = Default::default();
        let ctx = ctx(&book, &settings);
        let mut drafts = evaluate_region(&ctx, &inv);
        let recs = vec![Recommendation {
            id: "rec-1".into(),
            region: "us-east-1".into(),
            resource_id: "vol-1".into(),
            resource_arn: Some("arn:aws:ec2:us-east-1:123456789012:volume/vol-1".into()),
            action_type: "Delete".into(),
            current_resource_type: Some("EbsVolume".into()),
            recommended_resource_type: None,
            current_summary: None,
            recommended_summary: None,
            monthly_savings_usd: dec("9.5"),
            monthly_cost_usd: Some(dec("10")),
            lookback_days: Some(14),
        }];
        let extra = coh::merge(&mut drafts, &recs, &["us-east-1"].into_iter().collect());
        drafts.extend(extra);
        settle_overlaps(&mut drafts);
        assert_eq!(drafts.len(), 3, "{drafts:#?}");
        let counted: Vec<&Draft> = drafts.iter().filter(|d| d.savings_included_in.is_none()).collect();
        assert_eq!(counted.len(), 1);
        assert_eq!(counted[0].rule, ebs::UNATTACHED);
        assert_eq!(counted[0].monthly_savings_usd, Some(dec("10")));
        assert!(counted[0].evidence.iter().any(|e| e.contains("Cost Optimization Hub also recommends Delete")));
        let coh = drafts.iter().find(|d| d.rule == "coh.delete").unwrap();
        assert_eq!(coh.savings_included_in.as_deref(), Some("ebs.unattached-volume#vol-1"));
        assert_eq!(coh.confidence, Confidence::Low);
        let total: rust_decimal::Decimal =
            drafts.iter().filter(|d| d.savings_included_in.is_none()).filter_map(|d| d.monthly_savings_usd).sum();
        assert_eq!(total, dec("10"));
    }

    #[test]
    fn a_recommendation_for_a_resource_we_did_not_flag_stands_alone() {
        let mut drafts = vec![];
        let recs = vec![Recommendation {
            id: "rec-2".into(),
            region: "eu-west-1".into(),
            resource_id: "i-0abc".into(),
            resource_arn: None,
            action_type: "Rightsize".into(),
            current_resource_type: Some("m5.2xlarge".into()),
            recommended_resource_type: Some("m5.xlarge".into()),
            current_summary: None,
            recommended_summary: None,
            monthly_savings_usd: dec("140.16"),
            monthly_cost_usd: Some(dec("280.32")),
            lookback_days: Some(14),
        }];
        let regions = ["eu-west-1"].into_iter().collect();
        let out = coh::merge(&mut drafts, &recs, &regions);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].rule, "coh.rightsize");
        assert_eq!(out[0].monthly_savings_usd, Some(dec("140.16")));
        // A region we did not scan, or a commitment purchase: not ours to report.
        let other: std::collections::HashSet<&str> = ["us-east-1"].into_iter().collect();
        assert!(coh::merge(&mut drafts, &recs, &other).is_empty());
        let mut sp = recs.clone();
        sp[0].action_type = "PurchaseSavingsPlans".into();
        assert!(coh::merge(&mut drafts, &sp, &regions).is_empty());
    }

    #[test]
    fn every_removal_is_a_scan_rule() {
        for r in draft::REMOVAL_RULES {
            assert!(SCAN_RULES.contains(r), "{r} is not a scan rule");
        }
    }

    #[test]
    fn every_rule_is_listed_once_and_covered_by_a_prefix() {
        let mut seen = std::collections::HashSet::new();
        for r in SCAN_RULES {
            assert!(seen.insert(r), "{r} twice");
            assert!(SCAN_RULE_PREFIXES.iter().any(|p| r.starts_with(p)), "{r}");
            assert!(!r.contains('#'));
        }
    }

    /// One instance flagged by our idle rule, Cost Optimization Hub, Compute Optimizer and
    /// Trusted Advisor; one volume by our gp2 rule and Compute Optimizer; one instance by Cost
    /// Optimization Hub and Compute Optimizer only: one saving counts per resource.
    #[test]
    fn four_sources_on_one_resource_count_one_saving() {
        use recommenders::tests::{co, ta};
        use recommenders::CoKind;
        let arn = |kind: &str, id: &str| draft::ec2_arn("us-east-1", "123456789012", kind, id);
        let mut inv = RegionInventory::new("us-east-1");
        let mut i = instance("i-1", "m5.large", "running");
        i.cpu_p95_percent = Some(dec("1.5"));
        i.volume_ids = vec!["vol-1".into()];
        inv.instances.push(i);
        inv.volumes.push(Volume {
            id: "vol-1".into(),
            volume_type: "gp2".into(),
            size_gib: 100,
            iops: Some(300),
            throughput_mibps: None,
            state: "in-use".into(),
            created: now() - Duration::days(90),
            attached_to: vec!["i-1".into()],
            tags: Default::default(),
            unattached_since: None,
        });
        let book = book(rates());
        let settings = Default::default();
        let mut drafts = evaluate_region(&ctx(&book, &settings), &inv);
        let saving = |drafts: &[Draft], rule: &str| drafts.iter().find(|d| d.rule == rule).unwrap().monthly_savings_usd;
        let (idle, gp3) = (saving(&drafts, ec2::IDLE).unwrap(), saving(&drafts, ebs::GP2_TO_GP3).unwrap());
        assert!(idle > dec("0") && gp3 > dec("0"), "{drafts:#?}");
        let coh_rec = |id: &str, saving: &str| Recommendation {
            id: format!("coh-{id}"),
            region: "us-east-1".into(),
            resource_id: id.into(),
            resource_arn: Some(arn("instance", id)),
            action_type: "Rightsize".into(),
            current_resource_type: Some("m5.large".into()),
            recommended_resource_type: Some("t3.medium".into()),
            current_summary: None,
            recommended_summary: None,
            monthly_savings_usd: dec(saving),
            monthly_cost_usd: None,
            lookback_days: Some(14),
        };
        let regions = ["us-east-1"].into_iter().collect();
        let extra = coh::merge(&mut drafts, &[coh_rec("i-1", "40"), coh_rec("i-2", "30")], &regions);
        drafts.extend(extra);
        let aws = vec![
            co(CoKind::Ec2Instance, "us-east-1", &arn("instance", "i-1"), "Overprovisioned", "45"),
            ta("Low Utilization Amazon EC2 Instances", "us-east-1", "i-1", Some("50")),
            co(CoKind::EbsVolume, "us-east-1", &arn("volume", "vol-1"), "NotOptimized", "3"),
            co(CoKind::Ec2Instance, "us-east-1", &arn("instance", "i-2"), "Overprovisioned", "35"),
        ];
        recommenders::merge(&mut drafts, &aws, &regions);
        settle_overlaps(&mut drafts);
        let on = |id: &str| drafts.iter().filter(|d| d.resource_id == id).collect::<Vec<_>>();
        let counted = |id: &str| {
            let c: Vec<&str> =
                on(id).into_iter().filter(|d| d.savings_included_in.is_none()).map(|d| d.rule.as_str()).collect();
            assert_eq!(c.len(), 1, "{id}: {c:?}");
            c[0].to_owned()
        };
        let rules = |id: &str| {
            let mut r: Vec<String> = on(id).iter().map(|d| d.rule.clone()).collect();
            r.sort();
            r
        };
        assert_eq!(
            rules("i-1"),
            ["co.ec2-rightsize", "coh.rightsize", ec2::IDLE, "ta.low-utilization-amazon-ec2-instances"]
        );
        assert_eq!(counted("i-1"), ec2::IDLE);
        assert_eq!(rules("vol-1"), ["co.ebs-rightsize", ebs::GP2_TO_GP3]);
        assert_eq!(counted("vol-1"), ebs::GP2_TO_GP3);
        // Cost Optimization Hub before Compute Optimizer, though its saving is smaller.
        assert_eq!(counted("i-2"), "coh.rightsize");
        for d in on("i-1").iter().filter(|d| d.rule != ec2::IDLE) {
            assert_eq!(d.savings_included_in.as_deref(), Some("ec2.idle-instance#i-1"));
        }
        let total: rust_decimal::Decimal =
            drafts.iter().filter(|d| d.savings_included_in.is_none()).filter_map(|d| d.monthly_savings_usd).sum();
        assert_eq!(total, idle + gp3 + dec("30"));
        let all: rust_decimal::Decimal = drafts.iter().filter_map(|d| d.monthly_savings_usd).sum();
        assert_eq!(all, idle + gp3 + dec("40") + dec("45") + dec("50") + dec("3") + dec("30") + dec("35"));
        // Our idle finding quotes the three AWS estimates.
        let ours = drafts.iter().find(|d| d.rule == ec2::IDLE).unwrap();
        for who in ["Cost Optimization Hub", "Compute Optimizer", "Trusted Advisor"] {
            assert!(ours.evidence.iter().any(|e| e.contains(who)), "{who}: {:?}", ours.evidence);
        }
    }
}
