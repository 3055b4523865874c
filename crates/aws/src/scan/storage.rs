//! The storage families: S3, EFS, ECR and AWS Backup. Each service's listing is `None` when one
//! of its pages failed (an incomplete list proves nothing); a resource whose own configuration
//! call failed is left out, the failure recorded (the region is then partial); a resource
//! deleted between two calls is left out silently.
//!
//! CloudWatch: S3's daily storage metrics (`BucketSizeBytes` of `StandardStorage` and
//! `NumberOfObjects`, period one day, the mean of the days answered) and EFS's `MeteredIOBytes`
//! of provisioned-throughput file systems (5-minute sums, the busiest one).

pub mod backup;
pub mod ecr;
pub mod efs;
pub mod s3;

use std::future::Future;

use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use rust_decimal::Decimal;

use super::metrics::{Fact, Query};
use super::{Calls, Found, RegionClients};
use costradar_core::rules::facts::RegionInventory;
use costradar_core::scan::MetricsWindow;

/// Calls to one service's resources in flight at once.
pub const CONCURRENCY: usize = 8;
/// S3's storage metrics are daily.
pub const S3_PERIOD_SECONDS: i32 = 86_400;
/// EFS throughput is read as 5-minute sums (5-minute data is kept 63 days, the longest window).
pub const EFS_PERIOD_SECONDS: i32 = 300;

/// Lists the storage families of one region.
pub async fn scan(c: &RegionClients, _account_id: &str, region: &str) -> Found {
    let ((buckets, c1), (file_systems, c2), (repositories, c3), (points, c4)) =
        tokio::join!(s3::scan(&c.s3, region), efs::scan(&c.efs), ecr::scan(&c.ecr), backup::scan(&c.backup));
    let mut calls = Calls::default();
    for c in [c1, c2, c3, c4] {
        calls.merge(c);
    }
    let fill = move |inv: &mut RegionInventory| {
        if file_systems.is_some() {
            inv.listed_completely.insert("file_systems".into());
        }
        inv.buckets = buckets.unwrap_or_default();
        inv.file_systems = file_systems.unwrap_or_default();
        inv.repositories = repositories.unwrap_or_default();
        inv.recovery_points = points.unwrap_or_default();
    };
    (Box::new(fill), calls)
}

/// CloudWatch queries for the storage families' facts.
pub fn metric_queries(inv: &RegionInventory, w: &MetricsWindow, q: &mut Vec<Query>) {
    for (i, b) in inv.buckets.iter().enumerate() {
        for (apply, metric, storage_type) in [
            (apply_bucket_bytes as super::metrics::Apply, "BucketSizeBytes", "StandardStorage"),
            (apply_bucket_objects, "NumberOfObjects", "AllStorageTypes"),
        ] {
            q.push(Query {
                fact: Fact::Family(apply, i),
                namespace: "AWS/S3",
                metric,
                // CloudWatch matches dimensions in any order; moto only in the order S3 publishes them.
                dimensions: vec![("StorageType", storage_type.to_owned()), ("BucketName", b.name.clone())],
                stat: "Average",
                period: Some(S3_PERIOD_SECONDS),
            });
        }
    }
    for (i, f) in inv.file_systems.iter().enumerate() {
        let watched = f.created.is_some_and(|t| t <= w.created_before);
        if f.state == "available" && f.throughput_mode == "provisioned" && watched {
            let mut one =
                Query::one(Fact::Family(apply_metered, i), "AWS/EFS", "MeteredIOBytes", ("FileSystemId", &f.id), "Sum");
            one.period = Some(EFS_PERIOD_SECONDS);
            q.push(one);
        }
    }
}

/// The mean of the daily values (a bucket's size changes little in a day).
fn mean(vals: &[f64]) -> Option<u64> {
    (!vals.is_empty()).then(|| (vals.iter().map(|v| v.max(0.0)).sum::<f64>() / vals.len() as f64).round() as u64)
}

fn apply_bucket_bytes(inv: &mut RegionInventory, i: usize, vals: &[f64]) {
    inv.buckets[i].standard_bytes = mean(vals);
}

fn apply_bucket_objects(inv: &mut RegionInventory, i: usize, vals: &[f64]) {
    inv.buckets[i].objects = mean(vals);
}

/// The busiest 5 minutes' bytes ÷ 300 s ÷ 2^20: MiB/s.
fn apply_metered(inv: &mut RegionInventory, i: usize, vals: &[f64]) {
    let peak = vals.iter().cloned().fold(0.0_f64, f64::max) / f64::from(EFS_PERIOD_SECONDS) / 1_048_576.0;
    inv.file_systems[i].peak_metered_mibps = Decimal::from_f64_retain(peak).map(|d| d.round_dp(4));
}

/// The answer of a call that may say "there is none".
#[derive(Debug)]
pub enum Answer<T> {
    Got(T),
    /// AWS answered one of the codes that mean "none" (counted, not an error).
    Absent,
    /// The call failed (recorded with its action).
    Failed,
}

/// Counts one call and sorts its answer; `absent` are the error codes that mean "none".
pub fn answer<T, E, R>(calls: &mut Calls, action: &str, r: Result<T, SdkError<E, R>>, absent: &[&str]) -> Answer<T>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    if let Err(e) = &r {
        if e.code().is_some_and(|c| absent.contains(&c)) {
            calls.count += 1;
            return Answer::Absent;
        }
    }
    calls.record(action, r).map_or(Answer::Failed, Answer::Got)
}

/// Runs `f` on every item, at most [`CONCURRENCY`] at once; results in the items' order.
pub async fn each<T, O, F, Fut>(items: Vec<T>, f: F) -> Vec<O>
where
    T: Send + 'static,
    O: Send + 'static,
    F: Fn(T) -> Fut,
    Fut: Future<Output = O> + Send + 'static,
{
    let mut results: Vec<Option<O>> = items.iter().map(|_| None).collect();
    let mut pending = items.into_iter().enumerate();
    let mut set = tokio::task::JoinSet::new();
    loop {
        while set.len() < CONCURRENCY {
            let Some((i, item)) = pending.next() else { break };
            let fut = f(item);
            set.spawn(async move { (i, fut.await) });
        }
        match set.join_next().await {
            Some(Ok((i, out))) => results[i] = Some(out),
            Some(Err(e)) => std::panic::resume_unwind(e.into_panic()),
            None => break,
        }
    }
    results.into_iter().flatten().collect()
}
