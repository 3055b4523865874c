//! The scan's analytics and container families against moto, one scenario per service, each with
//! waste and traps (resources that look wasteful and are not), through STS AssumeRole, the
//! scanners, CloudWatch and an in-memory store. moto cannot backdate a resource, so
//! `idle_min_age_days` is 0 and the window one day, and the metrics are put by the test.
//!
//! Redshift: moto creates and describes clusters of any node type (DS2 too, which the price
//! book has no rate for) and answers hourly `DatabaseConnections` from datapoints put into
//! `AWS/Redshift`.
//! OpenSearch: moto creates and describes domains (ListDomainNames, DescribeDomains) and answers
//! daily `SearchRate`/`IndexingRate` sums from `AWS/ES`. EKS: moto creates clusters on any
//! Kubernetes version, node groups and Fargate profiles, and EC2 answers the node-tag filter.
//! moto's DescribeCluster has no upgrade policy nor Auto Mode: both read as their defaults
//! (`EXTENDED`, off); the `STANDARD` policy is covered by the rule's unit tests.

use std::collections::BTreeMap;

use chrono::Utc;
use costradar_core::domain::finding::Finding;
use costradar_core::domain::AccountId;
use costradar_core::pricing::{bundled, Sku};
use costradar_core::rules::eks::{in_extended_support, SUPPORT_CALENDAR};
use costradar_core::scan::AccountScan;
use costradar_tests::scan_world::{fresh_account, World};
use rust_decimal::Decimal;

/// `(seconds ago, value)` once an hour over the last day, from `value(hours ago)`.
fn hourly(value: impl Fn(u64) -> f64) -> Vec<(u64, f64)> {
    (0..24).map(|h| (1800 + h * 3600, value(h))).collect()
}

fn d(s: &str) -> Option<Decimal> {
    Some(s.parse().unwrap())
}

/// `(rule, resource name) → saving` of the findings of one family; the name is the ARN's end.
fn found<'a>(out: &'a AccountScan, prefix: &str) -> BTreeMap<(&'a str, &'a str), Option<Decimal>> {
    out.findings
        .iter()
        .filter(|f| f.rule.starts_with(prefix))
        .map(|f| ((f.rule.as_str(), f.resource_id.rsplit([':', '/']).next().unwrap()), f.monthly_savings_usd))
        .collect()
}

fn finding<'a>(out: &'a AccountScan, rule: &str, name: &str) -> &'a Finding {
    out.findings
        .iter()
        .find(|f| f.rule == rule && f.resource_id.rsplit([':', '/']).next() == Some(name))
        .unwrap_or_else(|| panic!("no {rule} on {name}: {:#?}", out.findings))
}

#[tokio::test]
async fn redshift_idle_schedulable_and_ds2_clusters_are_found_and_traps_left_alone() {
    let account_id = AccountId::parse(&fresh_account()).unwrap();
    let account = account_id.as_str();
    let w = World::new(account, "us-east-1").await;
    // Waste: no connection all day; busy ten hours then quiet fourteen; a busy DS2 cluster.
    w.redshift_cluster("idle-bi", "ra3.4xlarge", 2).await;
    w.redshift_cluster("etl", "ra3.xlplus", 2).await;
    w.redshift_cluster("old-ds2", "ds2.xlarge", 3).await;
    // Traps: busy all day (dc2.large × 2, which AWS says to keep); busy on dc2.8xlarge, whose
    // RA3 upgrade costs more; a cluster with no series; quiet only in short lulls.
    w.redshift_cluster("busy", "dc2.large", 2).await;
    w.redshift_cluster("big-dc2", "dc2.8xlarge", 2).await;
    w.redshift_cluster("unmeasured", "ra3.xlplus", 2).await;
    w.redshift_cluster("lulls", "ra3.xlplus", 2).await;
    let put = |id: &'static str, points: Vec<(u64, f64)>| {
        let w = &w;
        async move { w.metric_series("AWS/Redshift", "DatabaseConnections", ("ClusterIdentifier", id), &points).await }
    };
    put("idle-bi", hourly(|_| 0.0)).await;
    put("etl", hourly(|h| if h < 14 { 0.0 } else { 6.0 })).await;
    put("old-ds2", hourly(|_| 4.0)).await;
    put("busy", hourly(|_| 3.0)).await;
    put("big-dc2", hourly(|_| 12.0)).await;
    put("lulls", hourly(|h| if h % 3 == 0 { 2.0 } else { 0.0 })).await;

    let out = scan(account).await;
    let want = BTreeMap::from([
        // 2 × ra3.4xlarge $3.26/h × 730
        (("redshift.idle-cluster", "idle-bi"), d("4759.60")),
        // 14 quiet hours of 24: 14 ÷ 24 × 2 × ra3.xlplus $1.086/h × 730 ($1,585.56)
        (("redshift.pause-schedule", "etl"), d("924.91")),
        // ds2.xlarge is not in the price book: AWS's 3 → 2 × ra3.xlplus, no saving claimed
        (("redshift.previous-generation", "old-ds2"), None),
    ]);
    assert_eq!(found(&out, "redshift."), want, "{:#?}", out.findings);
    let ds2 = finding(&out, "redshift.previous-generation", "old-ds2");
    assert_eq!(
        ds2.fix_command.as_deref(),
        Some("aws redshift resize-cluster --cluster-identifier old-ds2 --node-type ra3.xlplus --number-of-nodes 2 --region us-east-1")
    );
    let etl = finding(&out, "redshift.pause-schedule", "etl");
    assert!(etl.evidence.iter().any(|e| e.contains("0 in 14 of 24 hours")), "{:?}", etl.evidence);
}

#[tokio::test]
async fn opensearch_idle_old_and_gp2_domains_are_found_and_traps_left_alone() {
    let account_id = AccountId::parse(&fresh_account()).unwrap();
    let account = account_id.as_str();
    let w = World::new(account, "us-east-1").await;
    // Waste: no request all day; previous-generation nodes; gp2 storage.
    w.search_domain("idle-logs", "r6g.large.search", 2, "gp3", 50).await;
    w.search_domain("old-search", "m4.large.search", 3, "gp3", 50).await;
    w.search_domain("gp2-store", "r6g.large.search", 2, "gp2", 100).await;
    // Traps: searched all day on current nodes and gp3; a domain with no series; one indexed
    // into but never searched (still collecting).
    w.search_domain("busy", "r6g.large.search", 2, "gp3", 50).await;
    w.search_domain("unmeasured", "r6g.large.search", 2, "gp3", 50).await;
    w.search_domain("collecting", "r6g.large.search", 2, "gp3", 50).await;
    let put = |name: &'static str, metric: &'static str, v: f64| {
        let w = &w;
        async move {
            let dims = [("ClientId", account), ("DomainName", name)];
            w.metric_points("AWS/ES", metric, &dims, &[(3600, v)]).await
        }
    };
    for (name, searches, indexing) in [
        ("idle-logs", 0.0, 0.0),
        ("old-search", 40.0, 10.0),
        ("gp2-store", 25.0, 5.0),
        ("busy", 900.0, 300.0),
        ("collecting", 0.0, 700.0),
    ] {
        put(name, "SearchRate", searches).await;
        put(name, "IndexingRate", indexing).await;
    }

    let out = scan(account).await;
    let rate = |volume_type: &str| {
        let key = Sku::OpenSearchStorage { volume_type: volume_type.into() }.key();
        bundled().get_key("us-east-1", &key).map(|r| r.usd)
    };
    let gib = |gib: i64, nodes: i64| Decimal::from(gib * nodes);
    // 2 × r6g.large.search $0.167/h × 730 = $243.82, plus its gp3 storage where the book has it.
    let idle = Decimal::new(24382, 2) + rate("gp3").map_or(Decimal::ZERO, |r| gib(50, 2) * r);
    let gp2 = match (rate("gp2"), rate("gp3")) {
        (Some(a), Some(b)) => Some((gib(100, 2) * (a - b)).max(Decimal::ZERO).round_dp(2)),
        _ => None,
    };
    let want = BTreeMap::from([
        (("opensearch.idle-domain", "idle-logs"), Some(idle.round_dp(2))),
        // 3 × (m4.large.search $0.151 − m5.large.search $0.142) × 730
        (("opensearch.previous-generation", "old-search"), d("19.71")),
        (("opensearch.gp2-storage", "gp2-store"), gp2),
    ]);
    assert_eq!(found(&out, "opensearch."), want, "{:#?}", out.findings);
    assert_eq!(
        finding(&out, "opensearch.gp2-storage", "gp2-store").fix_command.as_deref(),
        Some(
            "aws opensearch update-domain-config --domain-name gp2-store \
             --ebs-options EBSEnabled=true,VolumeType=gp3,VolumeSize=100 --region us-east-1"
        )
    );
}

#[tokio::test]
async fn eks_extended_support_and_empty_clusters_are_found_and_traps_left_alone() {
    let account_id = AccountId::parse(&fresh_account()).unwrap();
    let account = account_id.as_str();
    let w = World::new(account, "us-east-1").await;
    // The traps run the newest version of the calendar still in standard support today.
    let current = SUPPORT_CALENDAR
        .iter()
        .rev()
        .map(|(minor, _, _)| format!("1.{minor}"))
        .find(|v| !in_extended_support(v, Utc::now()))
        .expect("every version of rules::eks::SUPPORT_CALENDAR has left standard support: add the newer ones");
    // Waste: 1.29 (standard support ended 2025-03-23) with nodes; a cluster with no compute.
    w.eks_cluster("legacy", "1.29").await;
    w.eks_node_group("legacy", "workers").await;
    w.eks_cluster("empty", &current).await;
    // Traps: a supported cluster with a node group, one on Fargate, one with self-managed nodes.
    w.eks_cluster("app", &current).await;
    w.eks_node_group("app", "workers").await;
    w.eks_cluster("serverless", &current).await;
    w.eks_fargate_profile("serverless", "default").await;
    w.eks_cluster("self-managed", &current).await;
    w.eks_self_managed_node("self-managed").await;

    let out = scan(account).await;
    let want = BTreeMap::from([
        // the extended-support surcharge $0.50/h × 730 (in all: $0.10 + $0.50 = $0.60/h)
        (("eks.extended-support", "legacy"), d("365")),
        // the control plane $0.10/h × 730
        (("eks.no-compute", "empty"), d("73")),
    ]);
    assert_eq!(found(&out, "eks."), want, "{:#?}", out.findings);
    let legacy = finding(&out, "eks.extended-support", "legacy");
    assert_eq!(
        legacy.fix_command.as_deref(),
        Some("aws eks update-cluster-version --name legacy --kubernetes-version 1.30 --region us-east-1")
    );
    assert!(legacy.evidence.iter().any(|e| e.contains("standard support ended 2025-03-23")), "{:?}", legacy.evidence);
}

/// One scan of `account` in us-east-1 (scan_world's moto settings), complete and error-free.
async fn scan(account: &str) -> costradar_core::scan::AccountScan {
    costradar_tests::scan_world::scan_complete(account, serde_json::json!({})).await
}
