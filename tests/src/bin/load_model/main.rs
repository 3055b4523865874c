//! The load model of issue #20, printed by `make bench` and written in docs/scale.md.
//!
//! Measured, not assumed:
//! - the DynamoDB calls and write units of every event the receiver stores, by partition: the
//!   real receiver (`Receiver::handle`) over the real DynamoDB adapter against moto, every
//!   catalogue fixture (events/receiver/*.json) several times, each request's body read by an
//!   SDK interceptor (item sizes by DynamoDB's rules; a transaction's items count twice; an
//!   item with index keys is also a write of the same size to that index partition);
//! - the spread of the key functions (`keys::shard_of`) over 100,000 synthetic keys;
//! - the Step Functions transitions of one account's run, walked from
//!   infra/statemachines/scan.asl.json as it is now;
//! - Lambda memory from infra/template.yaml.
//!
//! Taken from measurements elsewhere (named where used): the scan's duration per account
//! (docs/deploy.md, a demo run), public prices (docs/scale.md cites them).
//!
//! Run: `tools/with-moto.sh cargo run -p costradar-tests --bin load_model`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use costradar_aws::DynamoStore;
use costradar_core::domain::SystemClock;
use costradar_core::onboarding::Onboarding;
use costradar_core::receiver::Receiver;
use costradar_core::store::keys;
use costradar_core::testing::{settings, tenant_with_accounts, FakeAssumer};
use serde_json::Value;

mod model;

/// What DynamoDB takes per partition key and second (write units), table or index.
const PARTITION_WCU: f64 = 1000.0;
/// Rounds over the catalogue: each fixture is sent this many times with fresh ids.
const ROUNDS: usize = 6;

/// Write units and calls of the requests seen since the last reset.
#[derive(Debug, Default, Clone)]
struct Tally {
    calls: BTreeMap<String, u32>,
    /// Write units by partition: `table <PK>`, `GSI1 <GSI1PK>`, `GSI2 <GSI2PK>`.
    units: BTreeMap<String, f64>,
    read_units: f64,
}

#[derive(Debug, Clone, Default)]
struct Counter(Arc<Mutex<Tally>>);

impl Counter {
    fn take(&self) -> Tally {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl Intercept for Counter {
    fn name(&self) -> &'static str {
        "load-model-counter"
    }

    fn read_before_transmit(
        &self,
        ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let req = ctx.request();
        let op = req.headers().get("x-amz-target").unwrap_or_default();
        let op = op.rsplit('.').next().unwrap_or_default().to_owned();
        let body: Value = req.body().bytes().and_then(|b| serde_json::from_slice(b).ok()).unwrap_or(Value::Null);
        let mut t = self.0.lock().unwrap();
        *t.calls.entry(op.clone()).or_default() += 1;
        count_units(&mut t, &op, &body);
        Ok(())
    }
}

/// DynamoDB's size of an attribute value (names and values in UTF-8 bytes; numbers about one
/// byte per two digits; maps and lists 3 bytes plus their elements).
fn value_size(v: &Value) -> usize {
    let Some((kind, inner)) = v.as_object().and_then(|o| o.iter().next()) else { return 0 };
    match kind.as_str() {
        "S" => inner.as_str().map_or(0, str::len),
        "N" => inner.as_str().map_or(0, |n| n.len() / 2 + 1),
        "B" => inner.as_str().map_or(0, |b| b.len() * 3 / 4),
        "M" => 3 + inner.as_object().map_or(0, |m| m.iter().map(|(k, v)| k.len() + value_size(v)).sum::<usize>()),
        "L" => 3 + inner.as_array().map_or(0, |l| l.iter().map(|v| 1 + value_size(v)).sum::<usize>()),
        "SS" | "NS" => inner.as_array().map_or(0, |l| l.iter().filter_map(Value::as_str).map(str::len).sum()),
        _ => 1,
    }
}

fn item_size(item: &Value) -> usize {
    item.as_object().map_or(0, |o| o.iter().map(|(k, v)| k.len() + value_size(v)).sum())
}

fn attr(item: &Value, name: &str) -> Option<String> {
    item.get(name)?.get("S")?.as_str().map(str::to_owned)
}

/// A put of `item`, `factor` units per KB (2 in a transaction): the table's partition, and each
/// index partition the item has keys for (projection ALL: the same size, 1 unit per KB).
fn put(t: &mut Tally, item: &Value, factor: f64) {
    let kb = (item_size(item) as f64 / 1024.0).ceil().max(1.0);
    if let Some(pk) = attr(item, "PK") {
        *t.units.entry(format!("table {pk}")).or_default() += kb * factor;
    }
    for (index, key) in [("GSI1", "GSI1PK"), ("GSI2", "GSI2PK")] {
        if let Some(pk) = attr(item, key) {
            *t.units.entry(format!("{index} {pk}")).or_default() += kb;
        }
    }
}

/// An update or delete by key: at least one unit on the key's partition.
fn by_key(t: &mut Tally, key: &Value, factor: f64) {
    if let Some(pk) = attr(key, "PK") {
        *t.units.entry(format!("table {pk}")).or_default() += factor;
    }
}

fn count_units(t: &mut Tally, op: &str, body: &Value) {
    match op {
        "PutItem" => put(t, &body["Item"], 1.0),
        "UpdateItem" | "DeleteItem" => by_key(t, &body["Key"], 1.0),
        "TransactWriteItems" => {
            for x in body["TransactItems"].as_array().into_iter().flatten() {
                if let Some(item) = x.get("Put").map(|p| &p["Item"]) {
                    put(t, item, 2.0);
                }
                for k in ["Update", "Delete"] {
                    if let Some(key) = x.get(k).map(|p| &p["Key"]) {
                        by_key(t, key, 2.0);
                    }
                }
            }
        }
        "BatchWriteItem" => {
            for reqs in body["RequestItems"].as_object().into_iter().flat_map(|o| o.values()) {
                for r in reqs.as_array().into_iter().flatten() {
                    if let Some(item) = r.get("PutRequest").map(|p| &p["Item"]) {
                        put(t, item, 1.0);
                    }
                    if let Some(key) = r.get("DeleteRequest").map(|p| &p["Key"]) {
                        by_key(t, key, 1.0);
                    }
                }
            }
        }
        "GetItem" | "Query" => t.read_units += 1.0,
        "BatchGetItem" => {
            let keys = body["RequestItems"].as_object().into_iter().flat_map(|o| o.values());
            t.read_units += keys.map(|k| k["Keys"].as_array().map_or(0, Vec::len)).sum::<usize>() as f64;
        }
        _ => {}
    }
}

/// What one event cost in the store.
struct EventCost {
    kind: String,
    with_finding: bool,
    tally: Tally,
    wall_ms: f64,
}

/// Every catalogue fixture, `ROUNDS` times with fresh ids, through the receiver on moto.
async fn measure_events() -> (Vec<EventCost>, String) {
    let counter = Counter::default();
    let sdk = costradar_tests::sdk_config().await;
    let conf = aws_sdk_dynamodb::config::Builder::from(&sdk).interceptor(counter.clone()).build();
    let table = format!("load-model-{}", std::process::id());
    let store = Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(conf), table));
    store.create_table().await.expect("create the table in moto");
    let svc =
        Onboarding::new(store.clone(), Arc::new(FakeAssumer::enforcing()), Arc::new(SystemClock), settings(false));
    let (tenant, tokens) =
        tenant_with_accounts(&svc, "Load", &["arn:aws:iam::123456789012:role/CostradarReadOnly"]).await;
    let receiver = Receiver::new(store.clone(), costradar_core::pricing::bundled(), Arc::new(SystemClock))
        .with_rate_limit(1e9, 1e9);
    let path = format!("/events/{}", tenant.id);
    let mut fixtures: Vec<_> = std::fs::read_dir(costradar_tests::repo_root().join("events/receiver"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    fixtures.sort();
    counter.take();
    let mut out = Vec::new();
    for round in 0..ROUNDS {
        for f in &fixtures {
            let mut ev: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
            let id = ev["id"].as_str().unwrap_or("00000000-0000-4000-8000-000000000000").to_owned();
            ev["id"] = Value::String(format!("{round:08x}{}", &id[8.min(id.len())..]));
            let body = serde_json::to_vec(&ev).unwrap();
            let started = Instant::now();
            let reply = receiver.handle("POST", &path, Some(&tokens[0]), Some("application/json"), &body).await;
            let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
            let tally = counter.take();
            if reply.status != 200 {
                continue;
            }
            let with_finding = tally.calls.contains_key("TransactWriteItems");
            let kind = f.file_stem().unwrap().to_string_lossy().into_owned();
            out.push(EventCost { kind, with_finding, tally, wall_ms });
        }
    }
    (out, tenant.id.to_string())
}

/// The largest share of `n` synthetic keys any shard gets, from `keys::shard_of`.
fn max_shard_share(n: usize) -> f64 {
    let t = costradar_core::domain::TenantId::parse("t-0123456789abcdef").unwrap();
    let acct = costradar_core::domain::AccountId::parse("123456789012").unwrap();
    let mut worst: f64 = 0.0;
    let families: [&dyn Fn(usize) -> String; 3] = [
        &|i| keys::event_pk(&t, &format!("{i:08x}-1f3b-4e2f-8b6d-8a0c2e4a6c17")),
        &|i| keys::finding_pk(&t, &format!("{acct}#realtime.ebs-gp2#vol-{i:017x}")),
        &|i| keys::instance_pk(&t, &acct, &format!("i-{i:017x}")),
    ];
    for family in families {
        let mut per = vec![0usize; keys::SHARDS as usize];
        for i in 0..n {
            let pk = family(i);
            per[pk.rsplit_once("#S").unwrap().1.parse::<usize>().unwrap()] += 1;
        }
        worst = worst.max(*per.iter().max().unwrap() as f64 / n as f64);
    }
    worst
}

/// The partition a label had before sharding: the shard suffix dropped.
fn unsharded(label: &str) -> String {
    match label.rsplit_once("#S") {
        Some((head, n)) if n.parse::<u32>().is_ok() => head.to_owned(),
        _ => label.to_owned(),
    }
}

/// Units per event on the hottest partition of a layout: before (no shards) and after (the
/// shards' total spread by the key functions, the worst shard's share).
struct Hottest {
    label: String,
    per_event: f64,
}

fn hottest(events: &[&EventCost], tenant: &str, share: f64, sharded: bool) -> Hottest {
    // Units per partition; a sharded family (table, GSI1, GSI2 each) counts as its worst shard.
    let mut sums: BTreeMap<String, f64> = BTreeMap::new();
    let mut families: BTreeMap<String, f64> = BTreeMap::new();
    for e in events {
        for (label, u) in &e.tally.units {
            if sharded && label != &unsharded(label) {
                *families.entry(unsharded(label)).or_default() += u;
            } else {
                *sums.entry(unsharded(label)).or_default() += u;
            }
        }
    }
    for (family, total) in families {
        sums.insert(format!("{family}#S<n> (worst of {})", keys::SHARDS), total * share);
    }
    let n = events.len().max(1) as f64;
    let (label, u) = sums.into_iter().max_by(|a, b| a.1.total_cmp(&b.1)).unwrap_or_default();
    Hottest { label: label.replace(tenant, "<t>"), per_event: u / n }
}

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = xs.collect();
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn print_event_table(events: &[EventCost], tenant: &str, share: f64) -> (f64, f64) {
    let with: Vec<&EventCost> = events.iter().filter(|e| e.with_finding).collect();
    let without: Vec<&EventCost> = events.iter().filter(|e| !e.with_finding).collect();
    let all: Vec<&EventCost> = events.iter().collect();
    println!(
        "\n== Receiver: DynamoDB per event (measured on moto, {} events, {ROUNDS} rounds of the catalogue) ==",
        events.len()
    );
    let kinds: std::collections::BTreeSet<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    println!("{} fixture kinds; {} events opened or updated a finding", kinds.len(), with.len());
    println!("{:<28} {:>7} {:>9} {:>9} {:>8}", "events", "calls", "table WU", "index WU", "reads");
    for (name, set) in [("with a finding", &with), ("without a finding", &without), ("all (catalogue mix)", &all)] {
        let calls = mean(set.iter().map(|e| e.tally.calls.values().sum::<u32>() as f64));
        let table =
            mean(set.iter().map(|e| e.tally.units.iter().filter(|(l, _)| l.starts_with("table")).map(|x| x.1).sum()));
        let index =
            mean(set.iter().map(|e| e.tally.units.iter().filter(|(l, _)| l.starts_with("GSI")).map(|x| x.1).sum()));
        let reads = mean(set.iter().map(|e| e.tally.read_units));
        println!("{name:<28} {calls:>7.2} {table:>9.2} {index:>9.2} {reads:>8.2}");
    }
    let mut ops: BTreeMap<&str, u32> = BTreeMap::new();
    for e in events {
        for (op, n) in &e.tally.calls {
            *ops.entry(op).or_default() += n;
        }
    }
    println!("calls by operation over all events: {ops:?}");
    println!("\n== Events per second one tenant can send before a partition passes {PARTITION_WCU} WU/s ==");
    println!(
        "{:<20} {:<10} {:>12} {:>10} {:>10}  hottest partition",
        "mix", "layout", "WU/event", "at 100/s", "at 1000/s"
    );
    let mut ceilings = (f64::MAX, f64::MAX);
    for (name, set) in [("all with a finding", &with), ("catalogue mix", &all)] {
        for sharded in [false, true] {
            let h = hottest(set, tenant, share, sharded);
            let ceiling = PARTITION_WCU / h.per_event;
            let layout = if sharded { "sharded" } else { "before" };
            println!(
                "{name:<20} {layout:<10} {:>12.2} {:>10.0} {:>10.0}  {} → ceiling {:.0} events/s",
                h.per_event,
                h.per_event * 100.0,
                h.per_event * 1000.0,
                h.label,
                ceiling
            );
            if name.starts_with("all with") {
                if sharded {
                    ceilings.1 = ceiling;
                } else {
                    ceilings.0 = ceiling;
                }
            }
        }
    }
    (ceilings.0, ceilings.1)
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (events, tenant) = rt.block_on(measure_events());
    let share = max_shard_share(100_000);
    println!(
        "== Key functions: {} shards; worst shard share over 100,000 synthetic keys per family: {:.4} (uniform: {:.4}) ==",
        keys::SHARDS,
        share,
        1.0 / keys::SHARDS as f64
    );
    let (before, after) = print_event_table(&events, &tenant, share);
    let receiver_ms = {
        let mut w: Vec<f64> = events.iter().map(|e| e.wall_ms).collect();
        w.sort_by(f64::total_cmp);
        w[w.len() / 2]
    };
    println!("receiver wall per event on moto: p50 {receiver_ms:.1} ms");
    model::print_scan_and_cost(model::Measured {
        events_per_s_before: before,
        events_per_s_after: after,
        receiver_ms,
        event_wu: mean(events.iter().map(|e| e.tally.units.values().sum::<f64>())),
        event_ru: mean(events.iter().map(|e| e.tally.read_units)),
    });
}
