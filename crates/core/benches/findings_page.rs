//! One page of a tenant's findings through the findings use case, with 100,000 findings stored:
//! query parsing, the caller's check, the store's page and the page's decoding, in process on
//! the in-memory store. On DynamoDB the same page is one GetItem and one Query (counted on moto
//! in `tests/tests/findings_api.rs`); network time is not included here.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use costradar_core::domain::finding::Finding;
use costradar_core::domain::{AccountId, SystemClock};
use costradar_core::findings::{Caller, Findings, FindingsQuery};
use costradar_core::onboarding::Onboarding;
use costradar_core::store::{FindingStore, MemoryStore};
use costradar_core::testing::{settings, FakeAssumer};
use criterion::{criterion_group, criterion_main, Criterion};

const FINDINGS: u32 = 100_000;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = Arc::new(MemoryStore::new());
    let svc =
        Onboarding::new(store.clone(), Arc::new(FakeAssumer::enforcing()), Arc::new(SystemClock), settings(false));
    let tenant = rt.block_on(svc.create_tenant("Bench")).unwrap().tenant;
    let account = AccountId::parse("123456789012").unwrap();
    let now = Utc::now();
    let rules = ["ebs.unattached-volume", "ec2.idle-instance", "rds.idle", "nat.idle", "logs.never-expire"];
    let batch: Vec<Finding> = (0..FINDINGS)
        .map(|i| {
            let rule = rules[i as usize % rules.len()];
            let region = if i % 3 == 0 { "eu-west-1" } else { "us-east-1" };
            Finding {
                monthly_savings_usd: Some(rust_decimal::Decimal::new(i64::from(i % 50_000), 2)),
                ..Finding::open(tenant.id.clone(), account.clone(), region, rule, format!("res-{i:06}"), "bench", now)
            }
        })
        .collect();
    for chunk in batch.chunks(5_000) {
        rt.block_on(store.upsert_findings(&tenant.id, chunk)).unwrap();
    }
    let findings = Findings::new(store, Arc::new(SystemClock));
    let mut g = c.benchmark_group("findings_page");
    g.measurement_time(Duration::from_secs(5)).sample_size(20);
    for (name, query) in [
        ("100,000 findings: first page by saving", "sort=savings&limit=100"),
        ("100,000 findings: first page by first seen", "sort=first_seen&limit=100"),
        (
            "100,000 findings: filtered (region, service, min saving)",
            "region=eu-west-1&service=rds&min_monthly_savings_usd=100&limit=100",
        ),
    ] {
        let q = FindingsQuery::parse(query).unwrap();
        g.bench_function(name, |b| b.to_async(&rt).iter(|| findings.list(&Caller::Operator, &tenant.id, &q)));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
