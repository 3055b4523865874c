//! Scan rule evaluation in process on 100,000 synthetic resources over 4 regions (volumes,
//! instances, snapshots, AMIs, Elastic IPs, NAT gateways, load balancers, log groups, RDS):
//! every rule, COH merging and overlap settling, against the bundled price snapshot. Criterion
//! reports the time per pass and the throughput; a plain pass prints resources/s.

use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use costradar_core::domain::settings::ScanSettings;
use costradar_core::pricing::{bundled, PriceBook};
use costradar_core::rules::draft::Ctx;
use costradar_core::rules::facts::*;
use costradar_core::rules::{evaluate_region, settle_overlaps};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rust_decimal::Decimal;

const REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1"];
const PER_REGION: usize = 25_000;

fn region(name: &str, seed: usize) -> RegionInventory {
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
    let mut inv = RegionInventory::new(name);
    let types = ["gp2", "gp3", "io1", "io2", "st1", "sc1"];
    let itypes = ["m5.large", "m4.large", "t3.micro", "c6i.xlarge", "r5.2xlarge", "t2.small"];
    for i in 0..PER_REGION {
        let n = seed + i;
        let id = format!("{name}-{n:08}");
        let old = now - Duration::days((n % 400) as i64);
        match i % 100 {
            0..=39 => inv.volumes.push(Volume {
                id: format!("vol-{id}"),
                volume_type: types[n % types.len()].into(),
                size_gib: 8 + (n % 2000) as u32,
                iops: Some(3000 + (n % 5000) as u32),
                throughput_mibps: Some(125),
                state: if n.is_multiple_of(3) { "available".into() } else { "in-use".into() },
                created: old,
                attached_to: if n.is_multiple_of(3) {
                    vec![]
                } else {
                    vec![format!("i-{name}-{:08}", n - n % 100 + 40)]
                },
                tags: Default::default(),
                unattached_since: Some(old),
            }),
            40..=59 => inv.instances.push(Instance {
                id: format!("i-{id}"),
                instance_type: itypes[n % itypes.len()].into(),
                state: if n.is_multiple_of(5) { "stopped".into() } else { "running".into() },
                launched: old,
                stopped_at: n.is_multiple_of(5).then_some(old),
                platform: None,
                tenancy: Some("default".into()),
                volume_ids: vec![],
                tags: Default::default(),
                cpu_p95_percent: Some(Decimal::from((n % 20) as u32)),
                public_ip: None,
            }),
            60..=74 => inv.snapshots.push(Snapshot {
                id: format!("snap-{id}"),
                volume_id: Some(format!("vol-gone-{n}")),
                volume_size_gib: 50,
                full_size_bytes: None,
                state: "completed".into(),
                started: old,
                tags: Default::default(),
            }),
            75..=76 => inv
                .images
                .push(Image { id: format!("ami-{id}"), snapshot_ids: vec![format!("snap-{name}-{:08}", n - 15)] }),
            77..=81 => inv.addresses.push(Address {
                allocation_id: Some(format!("eipalloc-{id}")),
                public_ip: format!("198.51.{}.{}", n % 250, n % 200),
                association_id: n.is_multiple_of(2).then(|| format!("eipassoc-{id}")),
                instance_id: None,
                network_interface_id: None,
                tags: Default::default(),
            }),
            82..=84 => inv.nat_gateways.push(NatGateway {
                id: format!("nat-{id}"),
                state: "available".into(),
                created: old,
                allocation_ids: vec![],
                tags: Default::default(),
                bytes_processed: Some((n % 3) as u64 * 50_000_000),
            }),
            85..=86 => inv.load_balancers.push(LoadBalancer {
                arn: format!("arn:aws:elasticloadbalancing:{name}:123456789012:loadbalancer/app/{id}/1"),
                name: id.clone(),
                kind: "application".into(),
                state: "active".into(),
                created: old,
                target_groups: vec![TargetGroup { arn: "tg".into(), registered: (n % 2) as u32, healthy: 0 }],
                allocation_ids: vec![],
                no_targets_since: Some(old),
            }),
            87..=94 => inv.log_groups.push(LogGroup {
                name: format!("/aws/lambda/{id}"),
                arn: None,
                retention_days: n.is_multiple_of(2).then_some(30),
                stored_bytes: (n as u64 % 100) << 30,
                created: Some(old),
            }),
            _ => inv.db_instances.push(DbInstance {
                id: format!("db-{id}"),
                arn: None,
                class: ["db.m5.large", "db.m4.large", "db.r5.xlarge"][n % 3].into(),
                engine: ["postgres", "mysql"][n % 2].into(),
                status: ["available", "stopped"][n % 2].into(),
                multi_az: n.is_multiple_of(4),
                storage_type: ["gp2", "gp3"][n % 2].into(),
                allocated_gib: 100,
                created: Some(old),
                tags: [("env".to_owned(), "dev".to_owned())].into_iter().collect(),
                max_connections: Some(Decimal::from((n % 3) as u32)),
            }),
        }
    }
    inv
}

fn bench(c: &mut Criterion) {
    let book = PriceBook::bundled_only(bundled());
    let settings = ScanSettings::default();
    let ctx = Ctx { book: &book, settings: &settings, now: Utc::now(), account_id: "123456789012" };
    let regions: Vec<RegionInventory> = REGIONS.iter().enumerate().map(|(i, r)| region(r, i * PER_REGION)).collect();
    let resources: usize = regions.iter().map(RegionInventory::len).sum();
    let pass = || {
        let mut drafts = Vec::new();
        for inv in &regions {
            drafts.extend(evaluate_region(&ctx, inv));
        }
        settle_overlaps(&mut drafts);
        drafts
    };
    let t = Instant::now();
    let drafts = pass();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "scan rules: {resources} resources -> {} findings in {:.0} ms: {:.0} resources/s (one core, one plain pass)",
        drafts.len(),
        secs * 1000.0,
        resources as f64 / secs
    );
    let mut g = c.benchmark_group("scan_rules");
    g.sample_size(10);
    g.throughput(Throughput::Elements(resources as u64));
    g.bench_function("evaluate_100k_resources", |b| b.iter(|| std::hint::black_box(pass())));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
