//! The receiver's in-process pipeline: parse, authenticate (SHA-256 + constant-time compare),
//! check the account, classify, price, decide, store (in memory). Criterion measures the
//! per-event time (and, apart, the JSON parse and the store-less pricing); two plain passes over
//! 50,000 distinct events (RunInstances, then every catalogue fixture in turn) print events/s on one core and
//! p50/p99 latency. Targets (issue 4): ≥ 50,000 events/s/core, p99 < 1 ms.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use costradar::domain::{Registration, SystemClock};
use costradar::onboarding::{AccountRequest, Onboarding};
use costradar::pricing::snapshot;
use costradar::pricing::PriceBook;
use costradar::receiver::price::{parse_envelope, price_event};
use costradar::receiver::Receiver;
use costradar::store::MemoryStore;
use costradar::testing::{settings, FakeAssumer};
use criterion::{criterion_group, criterion_main, Criterion};
use rust_decimal::Decimal;

// The receiver Lambda's allocator (functions/receiver/src/main.rs).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The largest fixture of the catalogue: a CloudTrail RunInstances record, 7.6 KB compact.
const RUN_INSTANCES: &str = include_str!("../../events/receiver/ec2-run-instances.json");

fn with_id(template: &str, i: u64) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_str(template).unwrap();
    v["id"] = serde_json::json!(format!("00000000-0000-4000-8000-{i:012}"));
    v.to_string().into_bytes()
}

fn event(i: u64) -> Vec<u8> {
    with_id(RUN_INSTANCES, i)
}

/// Every fixture of the catalogue (events/receiver/*.json), compact.
fn catalogue() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../events/receiver");
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    out.sort();
    out
}

/// Distinct events through the whole pipeline on one core: events/s and latency percentiles.
fn latency_pass(
    rt: &tokio::runtime::Runtime,
    receiver: &Receiver,
    path: &str,
    token: &str,
    label: &str,
    bodies: &[Vec<u8>],
) {
    let mut latencies = Vec::with_capacity(bodies.len());
    let start = Instant::now();
    for body in bodies {
        let t = Instant::now();
        let r = rt.block_on(receiver.handle("POST", path, Some(token), Some("application/json"), body));
        latencies.push(t.elapsed());
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let wall = start.elapsed();
    latencies.sort();
    let p = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    let mean_bytes = bodies.iter().map(Vec::len).sum::<usize>() / bodies.len();
    println!(
        "receiver pipeline, one core, {label} (mean {mean_bytes} B): {} events in {:.2} s = {:.0} events/s; p50 {:?}, p99 {:?}, max {:?}",
        bodies.len(),
        wall.as_secs_f64(),
        bodies.len() as f64 / wall.as_secs_f64(),
        p(0.50),
        p(0.99),
        latencies.last().unwrap()
    );
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
    let rates = snapshot::bundled().unwrap();
    let receiver = Receiver::new(store, Arc::new(rates.clone()), Arc::new(SystemClock));
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

    // Where the time goes: the JSON parse alone, and parse + classify + price without a store.
    let body = event(1);
    let book = PriceBook { tenant: None, price_list: None, snapshot: &rates };
    let none = HashMap::new();
    g.bench_function("parse envelope (RunInstances)", |b| b.iter(|| parse_envelope(black_box(&body)).unwrap()));
    g.bench_function("parse + classify + price, no store (RunInstances)", |b| {
        b.iter(|| price_event(black_box(&body), &book, &none, Decimal::from(100)).unwrap())
    });
    g.finish();

    let bodies: Vec<Vec<u8>> = (0..50_000).map(|i| event(2_000_000 + i)).collect();
    latency_pass(&rt, &receiver, &path, &token, "RunInstances", &bodies);
    let templates = catalogue();
    let bodies: Vec<Vec<u8>> =
        (0..50_000).map(|i| with_id(&templates[i as usize % templates.len()], 3_000_000 + i)).collect();
    latency_pass(
        &rt,
        &receiver,
        &path,
        &token,
        &format!("the {} catalogue fixtures in turn", templates.len()),
        &bodies,
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
