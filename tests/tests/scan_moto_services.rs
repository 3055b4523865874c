//! The scan's managed-service families against moto, one scenario per family moto plays, each
//! with waste and traps (resources that look wasteful and are not), through STS AssumeRole, the
//! scanners, CloudWatch and an in-memory store.
//!
//! DynamoDB: moto lists and describes tables and answers GetMetricData from datapoints put into
//! `AWS/DynamoDB`. moto cannot backdate a table, so `idle_min_age_days` is 0 and the window one
//! day. Lambda is not here: moto has no provisioned concurrency (ListProvisionedConcurrencyConfigs
//! is unimplemented), so its scanner is tested with aws-smithy-mocks (`costradar_aws::scan`'s
//! tests); on moto its ListMetrics finds nothing and the region stays complete.
//!
//! ElastiCache: moto creates and describes cache clusters (without their node list: the scanner
//! numbers nodes from `NumCacheNodes`, as ElastiCache does) and answers per-node metrics.

use std::collections::BTreeMap;

use costradar_core::domain::AccountId;
use costradar_tests::scan_world::{fresh_account, World};
use rust_decimal::Decimal;

/// `(seconds ago, value)` every 5 minutes over the last day, all at `value`.
fn steady(value: f64) -> Vec<(u64, f64)> {
    (0..287).map(|i| (120 + i * 300, value)).collect()
}

#[tokio::test]
async fn dynamodb_waste_is_found_and_traps_are_left_alone() {
    let account_id = AccountId::parse(&fresh_account()).unwrap();
    let account = account_id.as_str();
    let w = World::new(account, "us-east-1").await;
    let dim = |t: &'static str| ("TableName", t);
    let (read, write) = ("ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits");
    // Waste.
    let unused = w.dynamo_table("unused", Some((5, 5))).await;
    let big = w.dynamo_table("big", Some((1000, 100))).await;
    let steady_od = w.dynamo_table("steady", None).await;
    // Traps: capacity within twice its peak; spiky on-demand traffic; a table with no series.
    let busy = w.dynamo_table("busy", Some((20, 20))).await;
    let spiky = w.dynamo_table("spiky", None).await;
    let quiet = w.dynamo_table("quiet", None).await;
    for t in ["unused"] {
        w.metric_series("AWS/DynamoDB", read, dim(t), &[(3600, 0.0)]).await;
        w.metric_series("AWS/DynamoDB", write, dim(t), &[(3600, 0.0)]).await;
    }
    // big: its busiest 5 minutes read 2,100 units (7/s) and wrote 12,000 (40/s).
    w.metric_series("AWS/DynamoDB", read, dim("big"), &[(3600, 2100.0), (7200, 300.0)]).await;
    w.metric_series("AWS/DynamoDB", write, dim("big"), &[(3600, 12000.0)]).await;
    // busy: 7 reads/s and 7 writes/s on 20/20: ⌈7 ÷ 0.7⌉ = 10, and 20 is not over 2 × 10.
    w.metric_series("AWS/DynamoDB", read, dim("busy"), &[(3600, 2100.0)]).await;
    w.metric_series("AWS/DynamoDB", write, dim("busy"), &[(3600, 2100.0)]).await;
    // steady: 50 reads/s and 10 writes/s all day.
    w.metric_series("AWS/DynamoDB", read, dim("steady"), &steady(15000.0)).await;
    w.metric_series("AWS/DynamoDB", write, dim("steady"), &steady(3000.0)).await;
    // spiky: one burst of 1,000 reads/s in the day.
    w.metric_series("AWS/DynamoDB", read, dim("spiky"), &[(3600, 300000.0)]).await;
    w.metric_series("AWS/DynamoDB", write, dim("spiky"), &[(3600, 3000.0)]).await;

    let out = scan(account).await;
    let got: BTreeMap<(&str, &str), Option<Decimal>> = out
        .findings
        .iter()
        .filter(|f| f.rule.starts_with("dynamodb."))
        .map(|f| ((f.rule.as_str(), f.resource_id.as_str()), f.monthly_savings_usd))
        .collect();
    let d = |s: &str| Some(s.parse::<Decimal>().unwrap());
    let want = BTreeMap::from([
        // (5 × $0.00013 + 5 × $0.00065) × 730 = $2.847; moto's empty table stores 0 bytes
        (("dynamodb.unused-table", unused.as_str()), d("2.85")),
        // reads ⌈7 ÷ 0.7⌉ = 10: (1000 − 10) × $0.00013 × 730; writes 100 ≤ 2 × ⌈40 ÷ 0.7⌉ stay
        (("dynamodb.overprovisioned-capacity", big.as_str()), d("93.95")),
        // on demand (4,305,000 ÷ 10⁶ × $0.125 + 861,000 ÷ 10⁶ × $0.625) × 730 ÷ 24 = $32.74;
        // provisioned (⌈50 ÷ 0.7⌉ = 72 × $0.00013 + ⌈10 ÷ 0.7⌉ = 15 × $0.00065) × 730 = $13.95
        (("dynamodb.on-demand-to-provisioned", steady_od.as_str()), d("18.79")),
    ]);
    assert_eq!(got, want, "{:#?}", out.findings);
    for id in [&busy, &spiky, &quiet] {
        assert!(out.findings.iter().all(|f| &f.resource_id != id), "false positive on {id}");
    }
    for f in out.findings.iter().filter(|f| f.rule.starts_with("dynamodb.")) {
        assert!(f.fix_command.as_deref().is_some_and(|c| c.starts_with("aws dynamodb ")), "{f:#?}");
        assert!(f.evidence.iter().any(|e| e.starts_with("CloudWatch Consumed")), "{f:#?}");
    }
}

#[tokio::test]
async fn elasticache_idle_and_previous_generation_clusters_are_found() {
    let account_id = AccountId::parse(&fresh_account()).unwrap();
    let account = account_id.as_str();
    let w = World::new(account, "us-east-1").await;
    // Waste: an idle Redis node; an idle two-node Memcached cluster; a busy previous-generation node.
    w.cache_cluster("idle-redis", "redis", "cache.m5.large", 1).await;
    w.cache_cluster("idle-memcached", "memcached", "cache.m3.medium", 2).await;
    w.cache_cluster("old-redis", "redis", "cache.m3.large", 1).await;
    // Traps: a busy current node; an idle-looking cluster with no series; a node with clients
    // connected but no command in the window.
    w.cache_cluster("busy-redis", "redis", "cache.m5.large", 1).await;
    w.cache_cluster("unmeasured", "memcached", "cache.t3.small", 1).await;
    w.cache_cluster("connected", "redis", "cache.m5.large", 1).await;
    let put = |id: &'static str, node: &'static str, metric: &'static str, v: f64| {
        let w = &w;
        async move {
            let dims = [("CacheClusterId", id), ("CacheNodeId", node)];
            w.metric_points("AWS/ElastiCache", metric, &dims, &[(3600, v)]).await
        }
    };
    for (id, conns, cmds) in
        [("idle-redis", 3.0, 0.0), ("old-redis", 40.0, 900.0), ("busy-redis", 50.0, 1000.0), ("connected", 12.0, 0.0)]
    {
        put(id, "0001", "CurrConnections", conns).await;
        put(id, "0001", "GetTypeCmds", cmds).await;
        put(id, "0001", "SetTypeCmds", cmds).await;
    }
    for node in ["0001", "0002"] {
        put("idle-memcached", node, "CurrConnections", 2.0).await;
        put("idle-memcached", node, "CmdGet", 0.0).await;
        put("idle-memcached", node, "CmdSet", 0.0).await;
    }

    let out = scan(account).await;
    let got: BTreeMap<(&str, &str), Option<Decimal>> = out
        .findings
        .iter()
        .filter(|f| f.rule.starts_with("elasticache."))
        .map(|f| ((f.rule.as_str(), f.resource_id.rsplit(':').next().unwrap()), f.monthly_savings_usd))
        .collect();
    let d = |s: &str| Some(s.parse::<Decimal>().unwrap());
    let want = BTreeMap::from([
        // cache.m5.large redis $0.156/h × 730
        (("elasticache.idle-cluster", "idle-redis"), d("113.88")),
        // 2 × cache.m3.medium memcached $0.09/h × 730
        (("elasticache.idle-cluster", "idle-memcached"), d("131.40")),
        // (cache.m3.large $0.182 − cache.m5.large $0.156) × 730
        (("elasticache.previous-generation", "old-redis"), d("18.98")),
    ]);
    assert_eq!(got, want, "{:#?}", out.findings);
    for id in ["busy-redis", "unmeasured", "connected"] {
        assert!(out.findings.iter().all(|f| !f.resource_id.ends_with(&format!(":{id}"))), "false positive on {id}");
    }
    let memcached = out.findings.iter().find(|f| f.resource_id.ends_with(":idle-memcached")).unwrap();
    assert_eq!(
        memcached.fix_command.as_deref(),
        Some("aws elasticache delete-cache-cluster --cache-cluster-id idle-memcached --region us-east-1")
    );
}

/// One scan of `account` in us-east-1 (scan_world's moto settings), complete and error-free.
async fn scan(account: &str) -> costradar_core::scan::AccountScan {
    costradar_tests::scan_world::scan_complete(account, serde_json::json!({})).await
}
