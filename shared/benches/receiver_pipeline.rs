//! The receiver's in-process pipeline: parse, authenticate (SHA-256 + constant-time compare),
//! check the account, classify, price, decide, store (in memory). Criterion measures the
//! per-event time; a second pass over 50,000 distinct events prints events/s on one core and
//! p50/p99 latency. Targets (issue 4): ≥ 50,000 events/s/core, p99 < 1 ms.

use std::sync::Arc;
use std::time::{Duration, Instant};

use costradar::domain::{Registration, SystemClock};
use costradar::onboarding::{AccountRequest, Onboarding};
use costradar::pricing::snapshot;
use costradar::receiver::Receiver;
use costradar::store::MemoryStore;
use costradar::testing::{settings, FakeAssumer};
use criterion::{criterion_group, criterion_main, Criterion};

fn event(i: u64) -> Vec<u8> {
    let template = include_str!("../../events/receiver/ec2-run-instances.json");
    let mut v: serde_json::Value = serde_json::from_str(template).unwrap();
    v["id"] = serde_json::json!(format!("00000000-0000-4000-8000-{i:012}"));
    v.to_string().into_bytes()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let store = Arc::new(MemoryStore::new());
    let svc =
        Onboarding::new(store.clone(), Arc::new(FakeAssumer::enforcing()), Arc::new(SystemClock), settings(false));
    let created = rt.block_on(svc.create_tenant("Bench")).unwrap();
    let req = AccountRequest {
        role_arn: "arn:aws:iam::123456789012:role/CostradarReadOnly".into(),
        regions: vec![],
        cur: None,
        registration: Registration::Manual,
    };
    rt.block_on(svc.connect_account(&created.tenant.id, req, &svc.settings().verify)).unwrap();
    let receiver = Receiver::new(store, Arc::new(snapshot::bundled().unwrap()), Arc::new(SystemClock));
    let path = format!("/events/{}", created.tenant.id);
    let token = created.ingest_token.expose().to_owned();

    let mut n = 1_000_000u64;
    let mut g = c.benchmark_group("receiver");
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("pipeline: new event (RunInstances)", |b| {
        b.iter_batched(
            || {
                n += 1;
                event(n)
            },
            |body| rt.block_on(receiver.handle("POST", &path, Some(&token), Some("application/json"), &body)),
            criterion::BatchSize::SmallInput,
        )
    });
    let dup = event(1);
    rt.block_on(receiver.handle("POST", &path, Some(&token), Some("application/json"), &dup));
    g.bench_function("pipeline: duplicate event", |b| {
        b.iter(|| rt.block_on(receiver.handle("POST", &path, Some(&token), Some("application/json"), &dup)))
    });
    g.finish();

    // Latency distribution over distinct events, one core.
    let bodies: Vec<Vec<u8>> = (0..50_000).map(|i| event(2_000_000 + i)).collect();
    let mut latencies = Vec::with_capacity(bodies.len());
    let start = Instant::now();
    for body in &bodies {
        let t = Instant::now();
        let r = rt.block_on(receiver.handle("POST", &path, Some(&token), Some("application/json"), body));
        latencies.push(t.elapsed());
        assert_eq!(r.status, 200);
    }
    let wall = start.elapsed();
    latencies.sort();
    let p = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "receiver pipeline, one core: {} events in {:.2} s = {:.0} events/s; p50 {:?}, p99 {:?}, max {:?}",
        bodies.len(),
        wall.as_secs_f64(),
        bodies.len() as f64 / wall.as_secs_f64(),
        p(0.50),
        p(0.99),
        latencies.last().unwrap()
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
