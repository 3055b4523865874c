//! EKS clusters. A control plane costs `eks:standard:hour` × 730 ($0.10/h); once its Kubernetes
//! version is past the end of standard support (and its upgrade policy is not `STANDARD`, which
//! upgrades it instead), AWS adds the extended-support surcharge: the book's
//! `eks:extended:hour` is that surcharge ($0.50/h, from the Price List's
//! `AmazonEKS-Hours:extendedSupport`), so a cluster in extended support costs $0.10 + $0.50 =
//! $0.60/h, AWS's published total. Real-time pricing (`pricing::model`) prices a new cluster at the
//! standard rate only; these rules use the same keys.
//!
//! - `eks.extended-support`: `ACTIVE`, version past its end of standard support
//!   ([`SUPPORT_CALENDAR`]), upgrade policy not `STANDARD`. Cost = (standard + surcharge) × 730;
//!   saving = surcharge × 730 (upgrade to a version in standard support).
//! - `eks.no-compute`: `ACTIVE` for at least `idle_min_age_days`, no managed node group, no
//!   Fargate profile, no Auto Mode and no EC2 instance tagged `kubernetes.io/cluster/<name>`
//!   (self-managed and Karpenter nodes carry that tag). Cost = saving = the control plane's
//!   cost (standard, plus the surcharge in extended support): delete it.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::draft::{aws_cli, whole_days, Ctx, Draft, Pricer};
use super::facts::{EksCluster, RegionInventory};
use crate::domain::finding::Confidence;
use crate::domain::money::usd;
use crate::pricing::{Sku, HOURS_PER_MONTH};

pub const EXTENDED_SUPPORT: &str = "eks.extended-support";
pub const NO_COMPUTE: &str = "eks.no-compute";

/// The tag self-managed nodes and Karpenter's carry (`kubernetes.io/cluster/<name>`).
pub const NODE_TAG_PREFIX: &str = "kubernetes.io/cluster/";

/// One Kubernetes minor version on EKS: (minor, end of standard support, end of extended support).
pub type Version = (u32, (i32, u32, u32), (i32, u32, u32));

/// Amazon EKS Kubernetes release calendar, from the EKS User Guide ("Understand the Kubernetes
/// version lifecycle on EKS", docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html#kubernetes-release-calendar;
/// source awsdocs/amazon-eks-user-guide `latest/ug/versioning/kubernetes-versions.adoc`). Rows
/// 1.29 to 1.34 as published in 2025, 1.23 to 1.28 as the same table listed them in 2024 (AWS
/// drops a row once extended support ends), 1.35 as listed in 2026. Billing for extended
/// support starts on the day standard support ends (UTC). Versions 1.x, 1.23 ≤ x ≤ 1.35.
pub const SUPPORT_CALENDAR: &[Version] = &[
    (23, (2023, 10, 11), (2024, 10, 11)),
    (24, (2024, 1, 31), (2025, 1, 31)),
    (25, (2024, 5, 1), (2025, 5, 1)),
    (26, (2024, 6, 11), (2025, 6, 11)),
    (27, (2024, 7, 24), (2025, 7, 24)),
    (28, (2024, 11, 26), (2025, 11, 26)),
    (29, (2025, 3, 23), (2026, 3, 23)),
    (30, (2025, 7, 23), (2026, 7, 23)),
    (31, (2025, 11, 26), (2026, 11, 26)),
    (32, (2026, 3, 23), (2027, 3, 23)),
    (33, (2026, 7, 29), (2027, 7, 29)),
    (34, (2026, 12, 2), (2027, 12, 2)),
    (35, (2027, 3, 27), (2028, 3, 27)),
];

fn date((y, m, d): (i32, u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a calendar date")
}

/// The minor number of `1.x`.
pub fn minor(version: &str) -> Option<u32> {
    version.strip_prefix("1.")?.split('.').next()?.parse().ok()
}

/// (end of standard support, end of extended support) of a version in the calendar.
pub fn support_dates(version: &str) -> Option<(NaiveDate, NaiveDate)> {
    let m = minor(version)?;
    SUPPORT_CALENDAR.iter().find(|(v, _, _)| *v == m).map(|(_, std, ext)| (date(*std), date(*ext)))
}

/// Whether `version` is past its end of standard support at `now` (billing starts that day).
pub fn in_extended_support(version: &str, now: DateTime<Utc>) -> bool {
    support_dates(version).is_some_and(|(std_end, _)| now.date_naive() >= std_end)
}

/// The oldest version of the calendar still in standard support at `now`.
pub fn oldest_standard(now: DateTime<Utc>) -> Option<u32> {
    SUPPORT_CALENDAR.iter().find(|(_, std, _)| now.date_naive() < date(*std)).map(|(v, _, _)| *v)
}

pub fn evaluate(ctx: &Ctx<'_>, inv: &RegionInventory, out: &mut Vec<Draft>) {
    for c in &inv.eks_clusters {
        if c.status != "ACTIVE" {
            continue;
        }
        extended_support(ctx, inv, c, out);
        no_compute(ctx, inv, c, out);
    }
}

fn arn(ctx: &Ctx<'_>, region: &str, c: &EksCluster) -> String {
    c.arn.clone().unwrap_or_else(|| format!("arn:aws:eks:{region}:{}:cluster/{}", ctx.account_id, c.name))
}

fn base(ctx: &Ctx<'_>, inv: &RegionInventory, c: &EksCluster, rule: &str, title: String) -> Draft {
    let arn = arn(ctx, &inv.region, c);
    let mut d = Draft::new(rule, arn.clone(), Some(arn), &inv.region, title);
    d.tags = c.tags.clone();
    d
}

/// Whether the cluster pays the extended-support surcharge now.
fn pays_extended(c: &EksCluster, now: DateTime<Utc>) -> bool {
    in_extended_support(&c.version, now) && c.support_type.as_deref() != Some("STANDARD")
}

/// The control plane's hourly rates: (standard, surcharge when in extended support).
fn rates(p: &mut Pricer<'_>, extended: bool) -> (Option<Decimal>, Option<Decimal>) {
    let std = p.rate(&Sku::EksCluster { extended: false });
    let ext = if extended { p.rate(&Sku::EksCluster { extended: true }) } else { Some(Decimal::ZERO) };
    (std, ext)
}

fn extended_support(ctx: &Ctx<'_>, inv: &RegionInventory, c: &EksCluster, out: &mut Vec<Draft>) {
    if !pays_extended(c, ctx.now) {
        return;
    }
    let Some((std_end, ext_end)) = support_dates(&c.version) else { return };
    let mut d = base(
        ctx,
        inv,
        c,
        EXTENDED_SUPPORT,
        format!("EKS cluster {} runs Kubernetes {} in extended support", c.name, c.version),
    );
    d.evidence.push(format!(
        "Kubernetes {}: standard support ended {std_end}, extended support ends {ext_end} (AWS EKS Kubernetes release calendar)",
        c.version
    ));
    d.evidence.push(format!(
        "upgrade policy: {}",
        c.support_type.as_deref().map_or("EXTENDED (the default)".to_owned(), |s| s.to_owned())
    ));
    if ctx.now.date_naive() >= ext_end {
        d.evidence.push(format!("extended support ended {ext_end}: EKS upgrades the control plane automatically"));
    }
    let mut p = ctx.pricer(&inv.region);
    match rates(&mut p, true) {
        (Some(std), Some(ext)) => {
            let cost = (std + ext) * HOURS_PER_MONTH;
            let saving = ext * HOURS_PER_MONTH;
            d.evidence.push(format!(
                "control plane: ${std}/h standard + ${ext}/h extended-support surcharge = ${}/h × 730 h = ${}",
                std + ext,
                usd(cost)
            ));
            d.evidence.push(format!("in standard support: ${std}/h; saving ${ext}/h × 730 h = ${}", usd(saving)));
            d.evidence.extend(p.source_line());
            d.monthly_cost_usd = Some(cost);
            d.monthly_savings_usd = Some(saving);
            d.price_source = p.source();
        }
        _ => d.evidence.push("the EKS extended-support rate is not in the price book".into()),
    }
    let next = minor(&c.version).map_or_else(|| c.version.clone(), |m| format!("1.{}", m + 1));
    if let Some(target) = oldest_standard(ctx.now) {
        d.alternative = Some(format!("upgrade one minor version at a time to 1.{target} (in standard support)"));
    }
    d.fix_command =
        aws_cli("eks", "update-cluster-version", &[("--name", &c.name), ("--kubernetes-version", &next)], &inv.region);
    d.confidence = Confidence::High;
    out.push(d);
}

/// Whether the cluster has no compute of any kind we can see.
fn computeless(c: &EksCluster) -> bool {
    c.node_groups == Some(0) && c.fargate_profiles == Some(0) && !c.auto_mode && c.tagged_instances == Some(0)
}

fn no_compute(ctx: &Ctx<'_>, inv: &RegionInventory, c: &EksCluster, out: &mut Vec<Draft>) {
    let Some(created) = c.created else { return };
    if !computeless(c) || !ctx.at_least(created, ctx.settings.idle_min_age_days) {
        return;
    }
    let mut d = base(
        ctx,
        inv,
        c,
        NO_COMPUTE,
        format!("EKS cluster {} has had no nodes for its {} days", c.name, whole_days(created, ctx.now)),
    );
    d.evidence.push(format!(
        "no managed node group, no Fargate profile, no Auto Mode, and no EC2 instance tagged {NODE_TAG_PREFIX}{}",
        c.name
    ));
    let extended = pays_extended(c, ctx.now);
    let mut p = ctx.pricer(&inv.region);
    match rates(&mut p, extended) {
        (Some(std), Some(ext)) => {
            let cost = (std + ext) * HOURS_PER_MONTH;
            let line = if extended {
                format!("control plane: (${std}/h + ${ext}/h extended support) × 730 h = ${}", usd(cost))
            } else {
                format!("control plane: ${std}/h × 730 h = ${}", usd(cost))
            };
            d.evidence.push(line);
            d.evidence.extend(p.source_line());
            d.monthly_cost_usd = Some(cost);
            d.monthly_savings_usd = Some(cost);
            d.price_source = p.source();
        }
        _ => d.evidence.push("the EKS control-plane rate is not in the price book".into()),
    }
    d.confidence = Confidence::Medium;
    d.fix_command = aws_cli("eks", "delete-cluster", &[("--name", &c.name)], &inv.region);
    d.alternative = Some("delete it (hybrid nodes or nodes of other accounts are not seen here)".into());
    out.push(d);
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::rules::testkit::*;

    fn cluster(name: &str, version: &str) -> EksCluster {
        EksCluster {
            name: name.into(),
            arn: Some(format!("arn:aws:eks:us-east-1:123456789012:cluster/{name}")),
            version: version.into(),
            status: "ACTIVE".into(),
            created: Some(now() - Duration::days(400)),
            support_type: Some("EXTENDED".into()),
            tags: Default::default(),
            node_groups: Some(2),
            fargate_profiles: Some(0),
            auto_mode: false,
            tagged_instances: None,
        }
    }

    fn run(clusters: Vec<EksCluster>) -> Vec<Draft> {
        let mut inv = RegionInventory::new("us-east-1");
        inv.eks_clusters = clusters;
        crate::rules::testkit::run(evaluate, &inv)
    }

    #[test]
    fn the_calendar_is_in_order_and_dates_follow_aws_rules() {
        for w in SUPPORT_CALENDAR.windows(2) {
            assert_eq!(w[1].0, w[0].0 + 1);
        }
        for (v, std, ext) in SUPPORT_CALENDAR {
            // Extended support is the 12 months after standard support.
            assert_eq!((ext.0, ext.1, ext.2), (std.0 + 1, std.1, std.2), "1.{v}");
        }
        assert_eq!(minor("1.29"), Some(29));
        assert_eq!(minor("1.29.3"), Some(29));
        assert_eq!(minor("2.0"), None);
        // now() is 2026-11-20: 1.33 ended standard support on 2026-07-29, 1.34 ends on 2026-12-02.
        assert!(in_extended_support("1.33", now()));
        assert!(!in_extended_support("1.34", now()));
        assert!(!in_extended_support("1.36", now()), "a version newer than the calendar is not flagged");
        assert_eq!(oldest_standard(now()), Some(34));
    }

    #[test]
    fn a_cluster_in_extended_support_pays_the_surcharge_and_upgrading_saves_it() {
        let d = only(run(vec![cluster("legacy", "1.31")]), EXTENDED_SUPPORT);
        // ($0.10 + $0.50) × 730 = $438; the surcharge $0.50 × 730 = $365.
        assert_eq!(d.monthly_cost_usd, Some(dec("438")));
        assert_eq!(d.monthly_savings_usd, Some(dec("365")));
        assert_eq!(
            d.fix_command,
            "aws eks update-cluster-version --name legacy --kubernetes-version 1.32 --region us-east-1"
        );
        assert!(d.evidence[0].contains("standard support ended 2025-11-26"), "{:?}", d.evidence);
        assert!(d.evidence.iter().any(|e| e.contains("$0.1/h standard + $0.5/h extended-support surcharge")));
        assert_eq!(d.alternative.as_deref(), Some("upgrade one minor version at a time to 1.34 (in standard support)"));
    }

    #[test]
    fn supported_versions_and_the_standard_upgrade_policy_are_not_flagged() {
        assert!(run(vec![cluster("current", "1.34")]).is_empty(), "1.34 is in standard support until 2026-12-02");
        let mut auto_upgraded = cluster("auto", "1.31");
        auto_upgraded.support_type = Some("STANDARD".into());
        assert!(run(vec![auto_upgraded]).is_empty(), "EKS upgrades it instead of billing extended support");
        let mut creating = cluster("new", "1.29");
        creating.status = "CREATING".into();
        assert!(run(vec![creating]).is_empty());
    }

    #[test]
    fn a_cluster_with_no_compute_costs_its_control_plane() {
        let mut empty = cluster("empty", "1.34");
        empty.node_groups = Some(0);
        empty.tagged_instances = Some(0);
        let d = only(run(vec![empty.clone()]), NO_COMPUTE);
        // $0.10 × 730.
        assert_eq!(d.monthly_savings_usd, Some(dec("73")));
        assert_eq!(d.fix_command, "aws eks delete-cluster --name empty --region us-east-1");
        assert_eq!(d.confidence, Confidence::Medium);
        // In extended support too, deleting saves the surcharge as well; both findings stand.
        empty.version = "1.30".into();
        let drafts = run(vec![empty]);
        assert_eq!(only(drafts.clone(), NO_COMPUTE).monthly_savings_usd, Some(dec("438")));
        assert_eq!(only(drafts, EXTENDED_SUPPORT).monthly_savings_usd, Some(dec("365")));
    }

    #[test]
    fn nodes_of_any_kind_or_unknown_listings_keep_a_cluster() {
        let mut empty = cluster("c", "1.34");
        empty.node_groups = Some(0);
        empty.tagged_instances = Some(0);
        for (what, change) in [
            ("a Fargate profile", (|c: &mut EksCluster| c.fargate_profiles = Some(1)) as fn(&mut EksCluster)),
            ("Auto Mode", |c| c.auto_mode = true),
            ("self-managed nodes", |c| c.tagged_instances = Some(3)),
            ("instances not asked", |c| c.tagged_instances = None),
            ("node groups not listed", |c| c.node_groups = None),
            ("a cluster created yesterday", |c| c.created = Some(now() - Duration::days(1))),
        ] {
            let mut c = empty.clone();
            change(&mut c);
            assert!(run(vec![c]).is_empty(), "{what}");
        }
    }
}
