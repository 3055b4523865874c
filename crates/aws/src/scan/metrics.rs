//! CloudWatch utilisation for the idle rules, with `GetMetricData` batched at 500 queries a
//! call (the API's limit) and paginated. Most facts are one statistic per resource over the
//! whole window (period = the window): CPU p95 of running instances, bytes a NAT gateway
//! processed, the maximum of an RDS instance's connections, the peak utilisation of Lambda
//! provisioned concurrency. DynamoDB consumption is read as 5-minute sums (its total and its
//! busiest 5 minutes). Only resources older than the window's start are asked about. No data
//! is no fact: an idle rule never fires on a missing series.

use std::collections::HashMap;

use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use rust_decimal::Decimal;

use super::{smithy_time, Calls};
use costradar_core::rules::facts::{Consumption, RegionInventory};
use costradar_core::scan::MetricsWindow;

/// GetMetricData's limit of queries per call.
pub const MAX_QUERIES: usize = 500;

/// The period of DynamoDB's consumption sums: DynamoDB's burst capacity keeps 300 s of unused
/// capacity, so the busiest 5 minutes is the peak provisioned capacity must serve.
pub const DYNAMODB_PERIOD_SECONDS: i32 = 300;

/// Puts one resource's values (every period's value of one series) into the inventory: the
/// family modules' way to add a fact without a variant here.
pub type Apply = fn(&mut RegionInventory, usize, &[f64]);

/// Which fact a query's values fill, and of which resource (its index in the inventory).
#[derive(Clone, Copy, Debug)]
pub enum Fact {
    Cpu(usize),
    NatBytes(usize),
    RdsConnections(usize),
    LambdaPc(usize),
    DynamoReads(usize),
    DynamoWrites(usize),
    CacheConnections(usize),
    CacheCommands(usize),
    /// A family module's fact: `Apply` is called with the resource index and the values.
    Family(Apply, usize),
}

/// One series to ask CloudWatch for.
pub struct Query {
    pub fact: Fact,
    pub namespace: &'static str,
    pub metric: &'static str,
    pub dimensions: Vec<(&'static str, String)>,
    pub stat: &'static str,
    /// Seconds; `None` is the whole window.
    pub period: Option<i32>,
}

impl Query {
    pub fn one(
        fact: Fact,
        namespace: &'static str,
        metric: &'static str,
        dim: (&'static str, &str),
        stat: &'static str,
    ) -> Self {
        Self { fact, namespace, metric, dimensions: vec![(dim.0, dim.1.to_owned())], stat, period: None }
    }
}

fn queries(inv: &RegionInventory, w: &MetricsWindow) -> Vec<Query> {
    let mut q = Vec::new();
    for (i, x) in inv.instances.iter().enumerate() {
        if x.state == "running" && x.launched <= w.created_before {
            q.push(Query::one(Fact::Cpu(i), "AWS/EC2", "CPUUtilization", ("InstanceId", &x.id), "p95"));
        }
    }
    for (i, n) in inv.nat_gateways.iter().enumerate() {
        if n.state == "available" && n.created <= w.created_before {
            for metric in ["BytesInFromSource", "BytesInFromDestination"] {
                q.push(Query::one(Fact::NatBytes(i), "AWS/NATGateway", metric, ("NatGatewayId", &n.id), "Sum"));
            }
        }
    }
    for (i, d) in inv.db_instances.iter().enumerate() {
        if d.status == "available" && d.created.is_some_and(|c| c <= w.created_before) {
            let dim = ("DBInstanceIdentifier", d.id.as_str());
            q.push(Query::one(Fact::RdsConnections(i), "AWS/RDS", "DatabaseConnections", dim, "Maximum"));
        }
    }
    serverless_queries(inv, w, &mut q);
    super::storage::metric_queries(inv, w, &mut q);
    super::analytics::metric_queries(inv, w, &mut q);
    super::network::metric_queries(inv, w, &mut q);
    q
}

/// Lambda provisioned concurrency and DynamoDB tables.
fn serverless_queries(inv: &RegionInventory, w: &MetricsWindow, q: &mut Vec<Query>) {
    for (i, pc) in inv.provisioned_concurrency.iter().enumerate() {
        if pc.status == "READY" && pc.last_modified.is_some_and(|t| t <= w.created_before) {
            let resource = format!("{}:{}", pc.function_name, pc.qualifier);
            q.push(Query {
                fact: Fact::LambdaPc(i),
                namespace: "AWS/Lambda",
                metric: super::lambda::UTILIZATION,
                dimensions: vec![("FunctionName", pc.function_name.clone()), ("Resource", resource)],
                stat: "Maximum",
                period: None,
            });
        }
    }
    cache_queries(inv, w, q);
    for (i, t) in inv.dynamo_tables.iter().enumerate() {
        if t.status == "ACTIVE" && t.created.is_some_and(|c| c <= w.created_before) {
            for (fact, metric) in [
                (Fact::DynamoReads(i), "ConsumedReadCapacityUnits"),
                (Fact::DynamoWrites(i), "ConsumedWriteCapacityUnits"),
            ] {
                let mut one = Query::one(fact, "AWS/DynamoDB", metric, ("TableName", &t.name), "Sum");
                one.period = Some(DYNAMODB_PERIOD_SECONDS);
                q.push(one);
            }
        }
    }
}

/// Asks CloudWatch and fills the inventory's utilisation facts.
pub async fn fill(c: &aws_sdk_cloudwatch::Client, inv: &mut RegionInventory, w: &MetricsWindow) -> Calls {
    let mut calls = Calls::default();
    let qs = queries(inv, w);
    if qs.is_empty() {
        return calls;
    }
    if let Some(values) = fetch(c, &qs, w, &mut calls).await {
        apply(inv, &qs, values);
    }
    calls
}

/// Every query's values, by index; `None` when a call failed (a failed batch leaves its
/// resources without facts: none is called idle).
async fn fetch(
    c: &aws_sdk_cloudwatch::Client,
    qs: &[Query],
    w: &MetricsWindow,
    calls: &mut Calls,
) -> Option<HashMap<usize, Vec<f64>>> {
    let window = (w.days as i32) * 86_400;
    let start = w.end - chrono::Duration::days(w.days.into());
    let mut values: HashMap<usize, Vec<f64>> = HashMap::new();
    for (chunk_no, chunk) in qs.chunks(MAX_QUERIES).enumerate() {
        let base = chunk_no * MAX_QUERIES;
        let mut req = c.get_metric_data().start_time(smithy_time(start)).end_time(smithy_time(w.end));
        for (j, q) in chunk.iter().enumerate() {
            let mut metric = Metric::builder().namespace(q.namespace).metric_name(q.metric);
            for (name, value) in &q.dimensions {
                metric = metric.dimensions(Dimension::builder().name(*name).value(value).build());
            }
            let stat =
                MetricStat::builder().metric(metric.build()).period(q.period.unwrap_or(window)).stat(q.stat).build();
            req = req.metric_data_queries(
                MetricDataQuery::builder().id(format!("q{}", base + j)).metric_stat(stat).return_data(true).build(),
            );
        }
        let mut pages = req.into_paginator().send();
        while let Some(page) = pages.next().await {
            let out = calls.record("cloudwatch:GetMetricData", page)?;
            for r in out.metric_data_results() {
                let Some(idx) = r.id().and_then(|id| id.strip_prefix('q')).and_then(|n| n.parse::<usize>().ok()) else {
                    continue;
                };
                values.entry(idx).or_default().extend(r.values().iter().filter(|v| v.is_finite()));
            }
        }
    }
    Some(values)
}

/// Per node of an available cache cluster: its connections and its commands.
fn cache_queries(inv: &RegionInventory, w: &MetricsWindow, q: &mut Vec<Query>) {
    for (i, c) in inv.cache_clusters.iter().enumerate() {
        if c.status != "available" || c.created.is_none_or(|t| t > w.created_before) {
            continue;
        }
        let commands: &[&'static str] =
            if c.engine == "memcached" { &["CmdGet", "CmdSet"] } else { &["GetTypeCmds", "SetTypeCmds"] };
        for node in &c.node_ids {
            let dims = vec![("CacheClusterId", c.id.clone()), ("CacheNodeId", node.clone())];
            let query = |fact, metric, stat| Query {
                fact,
                namespace: "AWS/ElastiCache",
                metric,
                dimensions: dims.clone(),
                stat,
                period: None,
            };
            q.push(query(Fact::CacheConnections(i), "CurrConnections", "Maximum"));
            for m in commands {
                q.push(query(Fact::CacheCommands(i), m, "Sum"));
            }
        }
    }
}

fn decimal(v: f64) -> Option<Decimal> {
    Decimal::from_f64_retain(v).map(|d| d.round_dp(2))
}

fn highest(vals: &[f64]) -> f64 {
    vals.iter().cloned().fold(f64::MIN, f64::max)
}

/// Sums of 5-minute sums and the busiest 5 minutes as units per second.
fn consumption(vals: &[f64]) -> Option<Consumption> {
    let total = Decimal::from_f64_retain(vals.iter().map(|v| v.max(0.0)).sum::<f64>())?.round_dp(2);
    let peak = Decimal::from_f64_retain(highest(vals).max(0.0))? / Decimal::from(DYNAMODB_PERIOD_SECONDS);
    Some(Consumption { total, peak_per_second: peak.round_dp(4) })
}

fn apply(inv: &mut RegionInventory, qs: &[Query], values: HashMap<usize, Vec<f64>>) {
    let mut nat: HashMap<usize, (u32, f64)> = HashMap::new();
    // Per cache cluster: (series answered, highest connections) and (series answered, commands).
    let mut conns: HashMap<usize, (usize, f64)> = HashMap::new();
    let mut cmds: HashMap<usize, (usize, f64)> = HashMap::new();
    for (idx, vals) in values {
        let Some(q) = qs.get(idx) else { continue };
        if vals.is_empty() {
            continue;
        }
        match q.fact {
            // Idle only if every period's p95 is low: the highest counts.
            Fact::Cpu(i) => inv.instances[i].cpu_p95_percent = decimal(highest(&vals)),
            Fact::NatBytes(i) => {
                let e = nat.entry(i).or_default();
                e.0 += 1;
                e.1 += vals.iter().map(|v| v.max(0.0)).sum::<f64>();
            }
            Fact::RdsConnections(i) => inv.db_instances[i].max_connections = decimal(highest(&vals)),
            Fact::LambdaPc(i) => {
                inv.provisioned_concurrency[i].peak_utilization =
                    Decimal::from_f64_retain(highest(&vals).max(0.0)).map(|d| d.round_dp(4))
            }
            Fact::DynamoReads(i) => inv.dynamo_tables[i].reads = consumption(&vals),
            Fact::DynamoWrites(i) => inv.dynamo_tables[i].writes = consumption(&vals),
            Fact::CacheConnections(i) => {
                let e = conns.entry(i).or_insert((0, 0.0));
                *e = (e.0 + 1, e.1.max(highest(&vals)));
            }
            Fact::CacheCommands(i) => {
                let e = cmds.entry(i).or_insert((0, 0.0));
                *e = (e.0 + 1, e.1 + vals.iter().map(|v| v.max(0.0)).sum::<f64>());
            }
            Fact::Family(apply, i) => apply(inv, i, &vals),
        }
    }
    // A cluster's facts only when every node's series answered.
    for (i, (n, v)) in conns {
        let c = &mut inv.cache_clusters[i];
        if n == c.node_ids.len() {
            c.max_connections = decimal(v);
        }
    }
    for (i, (n, v)) in cmds {
        let c = &mut inv.cache_clusters[i];
        if n == 2 * c.node_ids.len() {
            c.commands = decimal(v);
        }
    }
    for (i, (series, bytes)) in nat {
        // Both directions must have answered, or the total would be understated.
        if series == 2 {
            inv.nat_gateways[i].bytes_processed = Some(bytes.round() as u64);
        }
    }
}
