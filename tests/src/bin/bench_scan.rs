//! The scan benchmark against moto (run by `tools/bench_scan.sh`, part of `make bench`): first an
//! account holding one or two resources of every family in one region, then an account with
//! 1,000 EBS volumes and 200 instances over 4 regions, each scanned through the
//! Lambda's code (STS AssumeRole, the per-service scanners, the rules, an in-memory store).
//! Prints wall time, API calls and time per region, findings, and the process's peak memory
//! during the scan. Nothing is asserted: these are figures. moto answers from one Python
//! process, so the wall time measures moto as much as costradar.

use std::sync::Arc;
use std::time::Instant;

use aws_sdk_ec2::types::InstanceType;
use costradar_aws::scan::AwsSessionOpener;
use costradar_aws::StsRoleAssumer;
use costradar_core::domain::settings::ScanSettings;
use costradar_core::domain::{AccountId, ExternalId, RoleArn, TenantId};
use costradar_core::scan::{Scanner, Target};
use costradar_core::store::MemoryStore;
use costradar_tests::scan_world::{fresh_account, role_in, World};

const REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1"];
const VOLUMES: usize = 1000;
const INSTANCES: i32 = 200;

fn status_kb(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// One account in us-east-1 holding every family moto plays (AWS Backup without recovery points,
/// which moto cannot list): the per-region cost of the scan's breadth.
async fn every_family() {
    let account = fresh_account();
    let w = World::new(&account, "us-east-1").await;
    let (vpc, subnets) = w.network().await;
    let instance = w.instance("m4.large").await;
    let volume = w.volume("gp2", 100, None).await;
    w.attach(&volume, &instance, "/dev/sdf").await;
    w.snapshot(&w.volume("gp3", 20, None).await).await;
    let (allocation, _) = w.address().await;
    w.nat_gateway(&subnets[0], &allocation).await;
    w.load_balancer("web", &vpc, &subnets, &[]).await;
    w.database("db1", "postgres", "db.m4.large", ("gp2", 100), false, &[]).await;
    w.log_group("/app/logs", None, 1024).await;
    w.dynamo_table("orders", Some((100, 100))).await;
    w.cache_cluster("cache1", "redis", "cache.m3.medium", 1).await;
    w.redshift_cluster("warehouse", "ra3.xlplus", 2).await;
    w.search_domain("search", "m4.large.search", 2, "gp2", 100).await;
    w.eks_cluster("k8s", "1.29").await;
    w.metric_alarm("cpu-high", "AWS/EC2", ("InstanceId", &instance), &[]).await;
    w.vpc_endpoint(&vpc, "com.amazonaws.us-east-1.ssm", &subnets).await;
    let tgw = w.transit_gateway().await;
    w.tgw_attachment(&tgw, &vpc, &subnets).await;
    w.hosted_zone("example.com", None).await;
    let st = w.storage().await;
    st.bucket("costradar-bench-bucket").await;
    st.versioning("costradar-bench-bucket").await;
    st.incomplete_upload("costradar-bench-bucket", "big.bin", 1024).await;
    st.file_system("fs1", Some(64.0)).await;
    st.repository("app").await;

    let settings = costradar_tests::scan_world::moto_settings(
        serde_json::json!({"unattached_volume_days": 0, "idle_window_days": 14}),
    );
    let before = status_kb("VmRSS:");
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let t = Instant::now();
    let out = costradar_tests::scan_world::scan_account(&account, &["us-east-1"], &settings, chrono::Utc::now()).await;
    let wall = t.elapsed();
    let r = out.run.regions.iter().find(|r| r.region == "us-east-1").expect("us-east-1 was scanned");
    let families: std::collections::BTreeSet<&str> =
        out.findings.iter().filter_map(|f| f.rule.split('.').next()).collect();
    println!(
        "scan benchmark (every family, one region on moto): wall {:.2} s, {} API calls, {} errors, {} findings from {} families ({}), status {}",
        wall.as_secs_f64(),
        r.api_calls,
        r.errors.len(),
        out.findings.len(),
        families.len(),
        families.into_iter().collect::<Vec<_>>().join(", "),
        out.run.status.as_str()
    );
    for e in &r.errors {
        println!("  error: {} {}", e.action, e.code);
    }
    println!(
        "  peak RSS during the scan: {} MiB (RSS before: {} MiB)",
        status_kb("VmHWM:").map_or("?".into(), |k| format!("{:.1}", k as f64 / 1024.0)),
        before.map_or("?".into(), |k| format!("{:.1}", k as f64 / 1024.0))
    );
}

#[tokio::main]
async fn main() {
    every_family().await;
    let account = fresh_account();
    let t = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    let limit = Arc::new(tokio::sync::Semaphore::new(16));
    for region in REGIONS {
        let w = Arc::new(World::new(&account, region).await);
        for half in ["m5.large", "m4.large"] {
            w.ec2
                .run_instances()
                .image_id("ami-760aaa0f")
                .instance_type(InstanceType::from(half))
                .min_count(INSTANCES / 8)
                .max_count(INSTANCES / 8)
                .send()
                .await
                .expect("run instances");
        }
        for i in 0..VOLUMES / REGIONS.len() {
            let (w, limit) = (w.clone(), limit.clone());
            set.spawn(async move {
                let _p = limit.acquire_owned().await.unwrap();
                let (t, iops) = [("gp2", None), ("gp3", None), ("io1", Some(4000))][i % 3];
                w.volume(t, 10 + (i % 500) as i32, iops).await;
            });
        }
    }
    while set.join_next().await.is_some() {}
    eprintln!(
        "bench_scan: populated {VOLUMES} volumes and {INSTANCES} instances in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let sdk = costradar_tests::sdk_config().await;
    let opener = AwsSessionOpener::new(Arc::new(StsRoleAssumer::from_sdk(&sdk)), sdk.clone());
    let store = Arc::new(MemoryStore::new());
    let scanner = Scanner::new(Arc::new(opener), store, costradar_core::pricing::bundled());
    let settings =
        ScanSettings::from_json(br#"{"unattached_volume_days": 0, "cost_optimization_hub": false, "compute_optimizer": false, "trusted_advisor": false}"#).unwrap();
    let (tenant, external_id) = (TenantId::generate(), ExternalId::generate());
    let role = RoleArn::parse(&role_in(&account)).unwrap();
    let regions: Vec<String> = REGIONS.map(String::from).to_vec();
    let target = Target {
        tenant_id: &tenant,
        external_id: &external_id,
        account_id: &AccountId::parse(&account).expect("a 12-digit account"),
        role_arn: &role,
        regions: &regions,
    };
    for pass in ["first scan", "second scan"] {
        let before = status_kb("VmRSS:");
        // Resets the peak RSS (Linux >= 4.0) so VmHWM below is the scan's own peak.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let t = Instant::now();
        let out = scanner.scan(&target, &settings, chrono::Utc::now()).await.expect("scan");
        let wall = t.elapsed();
        let total: u32 = out.run.regions.iter().map(|r| r.api_calls).sum();
        println!(
            "scan benchmark ({pass}): {VOLUMES} volumes, {INSTANCES} instances, {} regions on moto: wall {:.2} s, {total} API calls, {} findings, status {}",
            REGIONS.len(),
            wall.as_secs_f64(),
            out.findings.len(),
            out.run.status.as_str()
        );
        for r in &out.run.regions {
            println!(
                "  {:<15} {:>4} API calls {:>6} ms  {} errors",
                r.region,
                r.api_calls,
                r.duration_ms,
                r.errors.len()
            );
        }
        println!(
            "  peak RSS during the scan: {} MiB (RSS before: {} MiB)",
            status_kb("VmHWM:").map_or("?".into(), |k| format!("{:.1}", k as f64 / 1024.0)),
            before.map_or("?".into(), |k| format!("{:.1}", k as f64 / 1024.0))
        );
    }
}
