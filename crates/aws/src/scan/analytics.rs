//! The analytics and container families: Redshift, OpenSearch Service and EKS. Their scanners
//! (`scan/analytics/redshift.rs`, `opensearch.rs`, `eks.rs`) run at once; each failed listing
//! leaves its family empty (the region partial), never wrong.
//!
//! CloudWatch facts, no data being no fact:
//! - Redshift (available clusters older than the window's start): the hourly maximum of
//!   `DatabaseConnections` (period 3600 s), and the sum of `QueriesCompletedPerSecond` over the
//!   window, dimension `ClusterIdentifier`.
//! - OpenSearch (domains not processing): daily sums (period 86,400 s) of `SearchRate` and
//!   `IndexingRate` in AWS/ES, dimensions `ClientId` (the account, from the domain's ARN) and
//!   `DomainName`: the cluster-level series.

pub mod eks;
pub mod opensearch;
pub mod redshift;

use rust_decimal::Decimal;

use super::metrics::{Apply, Fact, Query};
use super::{Calls, Found, RegionClients};
use costradar_core::rules::facts::{DailyActivity, RegionInventory};
use costradar_core::scan::MetricsWindow;

/// Hourly series for Redshift's pause-schedule rule.
pub const HOUR: i32 = 3600;
/// Daily series for OpenSearch: their count stands for the domain's age.
pub const DAY: i32 = 86_400;

/// Lists Redshift clusters, OpenSearch domains and EKS clusters of one region.
pub async fn scan(c: &RegionClients, _account_id: &str, _region: &str) -> Found {
    let ((r, c1), (o, c2), (e, c3)) =
        tokio::join!(redshift::scan(&c.redshift), opensearch::scan(&c.opensearch), eks::scan(&c.eks, &c.ec2));
    let mut calls = Calls::default();
    for part in [c1, c2, c3] {
        calls.merge(part);
    }
    let fill = move |inv: &mut RegionInventory| {
        inv.redshift_clusters = r.unwrap_or_default();
        inv.search_domains = o.unwrap_or_default();
        inv.eks_clusters = e.unwrap_or_default();
    };
    (Box::new(fill), calls)
}

fn decimals(vals: &[f64]) -> Vec<Decimal> {
    vals.iter().filter_map(|v| Decimal::from_f64_retain(v.max(0.0))).map(|d| d.round_dp(2)).collect()
}

fn sum(vals: &[f64]) -> Option<Decimal> {
    Decimal::from_f64_retain(vals.iter().map(|v| v.max(0.0)).sum::<f64>()).map(|d| d.round_dp(4))
}

fn redshift_connections(inv: &mut RegionInventory, i: usize, vals: &[f64]) {
    inv.redshift_clusters[i].hourly_connections = Some(decimals(vals));
}

fn redshift_queries(inv: &mut RegionInventory, i: usize, vals: &[f64]) {
    inv.redshift_clusters[i].queries = sum(vals);
}

fn daily(vals: &[f64]) -> Option<DailyActivity> {
    Some(DailyActivity { total: sum(vals)?, days: u32::try_from(vals.len()).ok()? })
}

fn searches(inv: &mut RegionInventory, i: usize, vals: &[f64]) {
    inv.search_domains[i].searches = daily(vals);
}

fn indexing(inv: &mut RegionInventory, i: usize, vals: &[f64]) {
    inv.search_domains[i].indexing = daily(vals);
}

/// CloudWatch queries for the analytics families' utilisation facts.
pub fn metric_queries(inv: &RegionInventory, w: &MetricsWindow, q: &mut Vec<Query>) {
    for (i, c) in inv.redshift_clusters.iter().enumerate() {
        if c.status != "available" || c.created.is_none_or(|t| t > w.created_before) {
            continue;
        }
        let dimensions = vec![("ClusterIdentifier", c.id.clone())];
        let series = [
            (redshift_connections as Apply, "DatabaseConnections", "Maximum", Some(HOUR)),
            (redshift_queries, "QueriesCompletedPerSecond", "Sum", None),
        ];
        for (apply, metric, stat, period) in series {
            let dimensions = dimensions.clone();
            q.push(Query { fact: Fact::Family(apply, i), namespace: "AWS/Redshift", metric, dimensions, stat, period });
        }
    }
    for (i, d) in inv.search_domains.iter().enumerate() {
        let Some(account) = d.arn.split(':').nth(4).filter(|a| !a.is_empty()) else { continue };
        if d.processing || d.deleted {
            continue;
        }
        let dimensions = vec![("ClientId", account.to_owned()), ("DomainName", d.name.clone())];
        for (apply, metric) in [(searches as Apply, "SearchRate"), (indexing, "IndexingRate")] {
            let dimensions = dimensions.clone();
            q.push(Query {
                fact: Fact::Family(apply, i),
                namespace: "AWS/ES",
                metric,
                dimensions,
                stat: "Sum",
                period: Some(DAY),
            });
        }
    }
}
