//! CloudWatch utilisation for the idle rules, with `GetMetricData` batched at 500 queries a
//! call (the API's limit) and paginated. One statistic per resource over the whole window
//! (period = the window): CPU p95 of running instances, bytes a NAT gateway processed, the
//! maximum of an RDS instance's connections. Only resources older than the window's start are
//! asked about. No data is no fact: an idle rule never fires on a missing series.

use std::collections::HashMap;

use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use rust_decimal::Decimal;

use super::{smithy_time, Calls};
use costradar_core::rules::facts::RegionInventory;
use costradar_core::scan::MetricsWindow;

/// GetMetricData's limit of queries per call.
pub const MAX_QUERIES: usize = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fact {
    Cpu(usize),
    NatBytes(usize),
    RdsConnections(usize),
}

struct Query {
    fact: Fact,
    namespace: &'static str,
    metric: &'static str,
    dimension: &'static str,
    value: String,
    stat: &'static str,
}

fn queries(inv: &RegionInventory, w: &MetricsWindow) -> Vec<Query> {
    let mut q = Vec::new();
    for (i, x) in inv.instances.iter().enumerate() {
        if x.state == "running" && x.launched <= w.created_before {
            q.push(Query {
                fact: Fact::Cpu(i),
                namespace: "AWS/EC2",
                metric: "CPUUtilization",
                dimension: "InstanceId",
                value: x.id.clone(),
                stat: "p95",
            });
        }
    }
    for (i, n) in inv.nat_gateways.iter().enumerate() {
        if n.state == "available" && n.created <= w.created_before {
            for metric in ["BytesInFromSource", "BytesInFromDestination"] {
                q.push(Query {
                    fact: Fact::NatBytes(i),
                    namespace: "AWS/NATGateway",
                    metric,
                    dimension: "NatGatewayId",
                    value: n.id.clone(),
                    stat: "Sum",
                });
            }
        }
    }
    for (i, d) in inv.db_instances.iter().enumerate() {
        if d.status == "available" && d.created.is_some_and(|c| c <= w.created_before) {
            q.push(Query {
                fact: Fact::RdsConnections(i),
                namespace: "AWS/RDS",
                metric: "DatabaseConnections",
                dimension: "DBInstanceIdentifier",
                value: d.id.clone(),
                stat: "Maximum",
            });
        }
    }
    q
}

/// Asks CloudWatch and fills the inventory's utilisation facts.
pub async fn fill(c: &aws_sdk_cloudwatch::Client, inv: &mut RegionInventory, w: &MetricsWindow) -> Calls {
    let mut calls = Calls::default();
    let qs = queries(inv, w);
    if qs.is_empty() {
        return calls;
    }
    let period = (w.days as i32) * 86_400;
    let start = w.end - chrono::Duration::days(w.days.into());
    let mut values: HashMap<usize, Vec<f64>> = HashMap::new();
    for (chunk_no, chunk) in qs.chunks(MAX_QUERIES).enumerate() {
        let base = chunk_no * MAX_QUERIES;
        let mut req = c.get_metric_data().start_time(smithy_time(start)).end_time(smithy_time(w.end));
        for (j, q) in chunk.iter().enumerate() {
            let metric = Metric::builder()
                .namespace(q.namespace)
                .metric_name(q.metric)
                .dimensions(Dimension::builder().name(q.dimension).value(&q.value).build())
                .build();
            let stat = MetricStat::builder().metric(metric).period(period).stat(q.stat).build();
            req = req.metric_data_queries(
                MetricDataQuery::builder().id(format!("q{}", base + j)).metric_stat(stat).return_data(true).build(),
            );
        }
        let mut pages = req.into_paginator().send();
        while let Some(page) = pages.next().await {
            let Some(out) = calls.record("cloudwatch:GetMetricData", page) else {
                // A failed batch leaves its resources without facts: none is called idle.
                return calls;
            };
            for r in out.metric_data_results() {
                let Some(idx) = r.id().and_then(|id| id.strip_prefix('q')).and_then(|n| n.parse::<usize>().ok()) else {
                    continue;
                };
                values.entry(idx).or_default().extend(r.values().iter().filter(|v| v.is_finite()));
            }
        }
    }
    let mut nat: HashMap<usize, (u32, f64)> = HashMap::new();
    for (idx, vals) in values {
        let Some(q) = qs.get(idx) else { continue };
        if vals.is_empty() {
            continue;
        }
        match q.fact {
            // Idle only if every period's p95 is low: the highest counts.
            Fact::Cpu(i) => {
                let worst = vals.iter().cloned().fold(f64::MIN, f64::max);
                inv.instances[i].cpu_p95_percent = Decimal::from_f64_retain(worst).map(|d| d.round_dp(2));
            }
            Fact::NatBytes(i) => {
                let e = nat.entry(i).or_default();
                e.0 += 1;
                e.1 += vals.iter().map(|v| v.max(0.0)).sum::<f64>();
            }
            Fact::RdsConnections(i) => {
                let worst = vals.iter().cloned().fold(f64::MIN, f64::max);
                inv.db_instances[i].max_connections = Decimal::from_f64_retain(worst).map(|d| d.round_dp(2));
            }
        }
    }
    for (i, (series, bytes)) in nat {
        // Both directions must have answered, or the total would be understated.
        if series == 2 {
            inv.nat_gateways[i].bytes_processed = Some(bytes.round() as u64);
        }
    }
    calls
}
