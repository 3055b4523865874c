//! The receiver's in-process pipeline: parse, authenticate (SHA-256 + constant-time compare),
//! check the account, classify, price, decide, store (in memory). Criterion measures the
//! per-event time (and, apart, the JSON parse and the store-less pricing); plain passes over
//! distinct events (RunInstances, then every catalogue fixture in turn) print events/s on one
//! core and p50/p99 latency. Targets (issue 4): ≥ 50,000 events/s/core, p99 < 1 ms.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use costradar_core::domain::SystemClock;
use costradar_core::onboarding::Onboarding;
use costradar_core::pricing::{bundled, PriceBook};
use costradar_core::receiver::price::{parse_envelope, price_event};
use costradar_core::receiver::{Receiver, Reply};
use costradar_core::store::MemoryStore;
use costradar_core::testing::{settings, tenant_with_accounts, FakeAssumer};
use criterion::{criterion_group, criterion_main, Criterion};
use rust_decimal::Decimal;

// The receiver Lambda's allocator (functions/receiver/src/main.rs).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The largest fixture of the catalogue: a CloudTrail RunInstances record, 7.6 KB compact.
const RUN_INSTANCES: &str = include_str!("../../../events/receiver/ec2-run-instances.json");

/// A fixture, compact, with `"id"` first so that each copy only swaps the id (cheap set-up: the
/// profile of a pass is the pipeline's, not the making of its input).
struct Template(String);

impl Template {
    fn new(json: &str) -> Self {
        let mut v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(json).unwrap();
        v.remove("id");
        Template(serde_json::Value::Object(v).to_string())
    }

    fn with_id(&self, i: u64) -> Vec<u8> {
        format!("{{\"id\":\"00000000-0000-4000-8000-{i:012}\",{}", &self.0[1..]).into_bytes()
    }
}

/// Every fixture of the catalogue (events/receiver/*.json).
fn catalogue() -> Vec<Template> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/receiver");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths.iter().map(|p| Template::new(&std::fs::read_to_string(p).unwrap())).collect()
}

/// Distinct events through the whole pipeline on one core, in 5 passes of 20,000, each over a
/// fresh store: events/s of each pass and their median, latency percentiles over all. The
/// in-memory store keeps every event, so its heap grows as a Lambda's (whose store is DynamoDB)
/// does not; on a VM, faulting that fresh memory in cost a long pass up to 40 %.
fn latency_passes(rt: &tokio::runtime::Runtime, label: &str, make: impl Fn(u64) -> Vec<u8>) {
    const PASSES: u64 = 5;
    const EVENTS: u64 = 20_000;
    let mut latencies = Vec::with_capacity((PASSES * EVENTS) as usize);
    let mut per_pass = Vec::new();
    let mut bytes = 0;
    for pass in 0..PASSES {
        let bodies: Vec<Vec<u8>> = (0..EVENTS).map(|i| make(pass * EVENTS + i)).collect();
        bytes += bodies.iter().map(Vec::len).sum::<usize>();
        let setup = Setup::new(rt);
        let start = Instant::now();
        for body in &bodies {
            let t = Instant::now();
            let r = setup.handle(rt, body);
            latencies.push(t.elapsed());
            assert_eq!(r.status, 200, "{}", r.body);
        }
        per_pass.push(EVENTS as f64 / start.elapsed().as_secs_f64());
    }
    latencies.sort();
    let p = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    let mut sorted = per_pass.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "receiver pipeline, one core, {label} (mean {} B): median {:.0} events/s over {PASSES} passes of {EVENTS} ({}); p50 {:?}, p99 {:?}, max {:?}",
        bytes / latencies.len(),
        sorted[sorted.len() / 2],
        per_pass.iter().map(|r| format!("{r:.0}")).collect::<Vec<_>>().join(", "),
        p(0.50),
        p(0.99),
        latencies.last().unwrap()
    );
}

/// A receiver over a fresh in-memory store with one tenant and one connected account: its
/// request path and token.
struct Setup {
    receiver: Receiver,
    path: String,
    token: String,
}

impl Setup {
    fn new(rt: &tokio::runtime::Runtime) -> Self {
        let store = Arc::new(MemoryStore::new());
        let svc =
            Onboarding::new(store.clone(), Arc::new(FakeAssumer::enforcing()), Arc::new(SystemClock), settings(false));
        let (tenant, mut tokens) =
            rt.block_on(tenant_with_accounts(&svc, "Bench", &["arn:aws:iam::123456789012:role/CostradarReadOnly"]));
        Setup {
            // The pipeline's own cost: no per-tenant rate limit in the way.
            receiver: Receiver::new(store, bundled(), Arc::new(SystemClock)).with_rate_limit(1e9, 1e9),
            path: format!("/events/{}", tenant.id),
            token: tokens.remove(0),
        }
    }

    fn handle(&self, rt: &tokio::runtime::Runtime, body: &[u8]) -> Reply {
        rt.block_on(self.receiver.handle("POST", &self.path, Some(&self.token), Some("application/json"), body))
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let setup = Setup::new(&rt);

    let run_instances = Template::new(RUN_INSTANCES);
    let event = |i| run_instances.with_id(i);
    let mut n = 1_000_000u64;
    let mut g = c.benchmark_group("receiver");
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("pipeline: new event (RunInstances)", |b| {
        b.iter_batched(
            || {
                n += 1;
                event(n)
            },
            |body| setup.handle(&rt, &body),
            criterion::BatchSize::SmallInput,
        )
    });
    let dup = event(1);
    setup.handle(&rt, &dup);
    g.bench_function("pipeline: duplicate event", |b| b.iter(|| setup.handle(&rt, &dup)));

    // Where the time goes: the JSON parse alone, and parse + classify + price without a store.
    let body = event(1);
    let book = PriceBook::bundled_only(bundled());
    let none = HashMap::new();
    g.bench_function("parse envelope (RunInstances)", |b| b.iter(|| parse_envelope(black_box(&body)).unwrap()));
    g.bench_function("parse + classify + price, no store (RunInstances)", |b| {
        b.iter(|| price_event(black_box(&body), &book, &none, Decimal::from(100)).unwrap())
    });
    // What a cold start pays for prices: unpack the bundled book, then parse one region.
    g.bench_function("price book: unpack + first region (us-east-1)", |b| {
        b.iter(|| {
            let book = costradar_core::pricing::Bundled::from_gzip(costradar_core::pricing::book::BUNDLED_GZ).unwrap();
            black_box(book.region("us-east-1").unwrap().len())
        })
    });
    g.finish();

    drop(setup);
    latency_passes(&rt, "RunInstances", |i| event(2_000_000 + i));
    let templates = catalogue();
    latency_passes(&rt, &format!("the {} catalogue fixtures in turn", templates.len()), |i| {
        templates[i as usize % templates.len()].with_id(3_000_000 + i)
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
