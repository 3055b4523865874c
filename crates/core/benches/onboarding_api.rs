//! The onboarding API in-process (in-memory store, fake STS): what a warm Lambda spends on
//! routing, validation, JSON, hashing and id generation per request. Used to compare release
//! opt-levels; network time to DynamoDB and STS is not included. Creation benchmarks grow the
//! in-memory store, so their measurement time is kept short.

use std::sync::Arc;
use std::time::Duration;

use costradar_core::domain::SystemClock;
use costradar_core::onboarding::api::{self, ApiRequest};
use costradar_core::onboarding::Onboarding;
use costradar_core::store::MemoryStore;
use costradar_core::testing::{settings, FakeAssumer};
use criterion::{criterion_group, criterion_main, Criterion};

fn request<'a>(method: &'a str, path: &'a str, body: &'a [u8]) -> ApiRequest<'a> {
    ApiRequest { method, path, query: "", content_type: Some("application/json"), body }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let svc = Onboarding::new(
        Arc::new(MemoryStore::new()),
        Arc::new(FakeAssumer::enforcing()),
        Arc::new(SystemClock),
        settings(false),
    );
    let created = rt.block_on(api::handle(&svc, request("POST", "/tenants", br#"{"name":"Bench"}"#)));
    let id = created.body["tenant"]["id"].as_str().unwrap().to_owned();
    let tenant_path = format!("/tenants/{id}");
    let accounts_path = format!("/tenants/{id}/accounts");

    let mut g = c.benchmark_group("onboarding_api");
    g.measurement_time(Duration::from_secs(3)).sample_size(30);
    g.bench_function("GET /tenants/{id}", |b| {
        b.to_async(&rt).iter(|| api::handle(&svc, request("GET", &tenant_path, b"")))
    });
    g.bench_function("POST /tenants", |b| {
        b.to_async(&rt).iter(|| api::handle(&svc, request("POST", "/tenants", br#"{"name":"Bench"}"#)))
    });
    let mut n = 0u64;
    g.bench_function("POST /tenants/{id}/accounts (verify with fake STS)", |b| {
        b.to_async(&rt).iter(|| {
            n += 1;
            let body =
                format!(r#"{{"role_arn":"arn:aws:iam::{n:012}:role/CostradarReadOnly","regions":["us-east-1"]}}"#);
            let (svc, path) = (&svc, &accounts_path);
            async move { api::handle(svc, request("POST", path, body.as_bytes())).await }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
