//! The scheduled scan against moto: resources in two regions, the exact findings and savings
//! (hand-computed from the bundled price snapshot), no false positives on the negative cases, a
//! re-scan that resolves what was deleted, and a re-scan with a failing region that resolves
//! nothing there. The role is assumed through moto's STS; findings live in DynamoDB on moto.
//!
//! moto cannot backdate resources, so the settings use zero-day thresholds. The first scenario
//! keeps `idle_min_age_days` at 14, so no fresh resource is asked about; the idle scenario sets
//! it to 0 and puts datapoints into moto's CloudWatch, which the scan reads with GetMetricData
//! over the SDK's smithy-rpc-v2-cbor protocol. moto computes Sum, Average, Minimum, Maximum and
//! SampleCount, not percentiles: asked for the EC2 rule's CPU p95 its serializer fails (HTTP 500
//! with an HTML page), so the idle scenario runs no instance and the EC2 idle rule is tested with
//! aws-smithy-mocks sequences (`aws::scan::tests`).

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use costradar_aws::scan::AwsSessionOpener;
use costradar_aws::DynamoStore;
use costradar_aws::StsRoleAssumer;
use costradar_core::access::AssumeError;
use costradar_core::domain::finding::{Finding, FindingStatus};
use costradar_core::domain::scan_run::{ActionError, ScanStatus};
use costradar_core::domain::settings::ScanSettings;
use costradar_core::domain::{AccountId, ExternalId, RoleArn, TenantId};
use costradar_core::rules::facts::Recommendation;
use costradar_core::scan::{AccountSession, AccountWide, MetricsWindow, RegionScan, Scanner, SessionOpener, Target};
use costradar_core::store::{FindingStore, PageRequest};
use costradar_tests::scan_world::{fresh_account, role_in, World};
use costradar_tests::{fresh_table, sdk_config};

fn settings() -> ScanSettings {
    ScanSettings::from_json(
        br#"{"unattached_volume_days": 0, "stopped_instance_days": 0, "snapshot_age_days": 0,
             "elb_no_targets_days": 0, "logs_min_stored_bytes": 0, "cost_optimization_hub": false, "compute_optimizer": false, "trusted_advisor": false}"#,
    )
    .unwrap()
}

/// Fails one region's scan as an unreachable endpoint would; the others go to moto.
struct FailingRegion {
    inner: AwsSessionOpener,
    region: &'static str,
}

struct FailingSession {
    inner: Arc<dyn AccountSession>,
    region: &'static str,
}

#[async_trait]
impl SessionOpener for FailingRegion {
    async fn open(&self, target: &Target<'_>, now: DateTime<Utc>) -> Result<Arc<dyn AccountSession>, AssumeError> {
        Ok(Arc::new(FailingSession { inner: self.inner.open(target, now).await?, region: self.region }))
    }
}

#[async_trait]
impl AccountSession for FailingSession {
    async fn enabled_regions(&self) -> AccountWide<Vec<String>> {
        self.inner.enabled_regions().await
    }
    async fn scan_region(&self, region: &str, window: &MetricsWindow) -> RegionScan {
        if region == self.region {
            let error = ActionError {
                action: "ec2:DescribeVolumes".into(),
                code: "Unreachable".into(),
                message: "dispatch failure".into(),
            };
            return RegionScan { api_calls: 1, errors: vec![error], ..Default::default() };
        }
        self.inner.scan_region(region, window).await
    }
    async fn recommendations(&self, account_id: &AccountId) -> AccountWide<Vec<Recommendation>> {
        self.inner.recommendations(account_id).await
    }
}

type Usd = Option<rust_decimal::Decimal>;
/// (rule, resource) → (region, monthly cost, monthly saving, counted in another finding)
type Seen = BTreeMap<(String, String), (String, Usd, Usd, Option<String>)>;

fn table(findings: &[Finding]) -> Seen {
    findings
        .iter()
        .map(|f| {
            (
                (f.rule.clone(), f.resource_id.clone()),
                (f.region.clone(), f.monthly_cost_usd, f.monthly_savings_usd, f.savings_included_in.clone()),
            )
        })
        .collect()
}

fn row(
    region: &str,
    cost: Option<&str>,
    saving: Option<&str>,
    included: Option<String>,
) -> (String, Usd, Usd, Option<String>) {
    let d = |s: Option<&str>| s.map(|s| s.parse().unwrap());
    (region.into(), d(cost), d(saving), included)
}

async fn stored(store: &DynamoStore, tenant: &TenantId, account: &str) -> Vec<Finding> {
    let mut all = vec![];
    let mut req = PageRequest::first(100);
    loop {
        let p = store.list_findings(tenant, Some(&AccountId::parse(account).unwrap()), &req).await.unwrap();
        all.extend(p.items);
        match p.next_cursor {
            Some(c) => req.cursor = Some(c),
            None => return all,
        }
    }
}

#[tokio::test]
async fn a_two_region_account_is_scanned_priced_and_resolved() {
    let account_id = AccountId::parse(&fresh_account()).unwrap();
    let account = account_id.as_str();
    let us = World::new(account, "us-east-1").await;
    let eu = World::new(account, "eu-west-1").await;

    // us-east-1: positives and negatives.
    let (vpc, subnets) = us.network().await;
    let vol_a = us.volume("gp3", 100, None).await; // unattached
    let i_web = us.instance("m5.large").await; // busy, behind a healthy load balancer
    let vol_b = us.volume("gp2", 500, None).await; // gp2 on a running instance
    us.attach(&vol_b, &i_web, "/dev/sdf").await;
    let i_old = us.instance("m4.large").await; // previous generation
    let i_stopped = us.instance("t3.micro").await;
    us.stop(&i_stopped).await;
    let (e_free, _) = us.address().await; // unassociated
    let (e_nat, _) = us.address().await; // on a NAT gateway: not idle
    let (e_web, _) = us.address().await; // on an instance: not idle
    us.associate(&e_web, &i_web).await;
    let nat = us.nat_gateway(&subnets[0], &e_nat).await;
    let snap_keep = us.snapshot(&vol_a).await; // its volume exists
    let vol_gone = us.volume("gp3", 50, None).await;
    let snap_orphan = us.snapshot(&vol_gone).await;
    us.delete_volume(&vol_gone).await;
    let (_, snap_ami) = us.image_of(&i_web, "kept-image").await; // an AMI uses its snapshot
    let lb_empty = us.load_balancer("empty", &vpc, &subnets, &[]).await;
    let lb_busy = us.load_balancer("busy", &vpc, &subnets, &[&i_web]).await;
    let db_stopped = us.database("orders", "postgres", "db.m5.large", ("gp2", 20), false, &[]).await;
    us.stop_database("orders").await;
    let db_dev = us.database("reports", "mysql", "db.m4.large", ("gp3", 100), true, &[("Environment", "dev")]).await;
    let db_prod =
        us.database("ledger", "postgres", "db.m6i.large", ("gp3", 100), true, &[("Environment", "production")]).await;
    us.log_group("/app/never", None, 2048).await;
    us.log_group("/app/kept", Some(14), 2048).await;
    // eu-west-1.
    let vol_c = eu.volume("gp2", 10, None).await;
    let (e_eu, _) = eu.address().await;
    eu.log_group("/eu/never", None, 0).await;

    let store = Arc::new(fresh_table("scan").await);
    let sdk = sdk_config().await;
    let opener = AwsSessionOpener::new(Arc::new(StsRoleAssumer::from_sdk(&sdk)), sdk.clone());
    let scanner = Scanner::new(Arc::new(opener), store.clone(), costradar_core::pricing::bundled());
    let tenant = TenantId::generate();
    let external_id = ExternalId::generate();
    let role = RoleArn::parse(&role_in(account)).unwrap();
    let regions = vec!["eu-west-1".to_owned(), "us-east-1".to_owned()];
    let target = Target {
        tenant_id: &tenant,
        external_id: &external_id,
        account_id: &account_id,
        role_arn: &role,
        regions: &regions,
    };
    let t0 = Utc::now();
    let first = scanner.scan(&target, &settings(), t0).await.unwrap();
    for r in &first.run.regions {
        assert_eq!(r.status, ScanStatus::Complete, "{r:?}");
        assert!(r.errors.is_empty(), "{r:?}");
    }
    assert_eq!(first.run.status, ScanStatus::Complete);
    let us_run = first.run.regions.iter().find(|r| r.region == "us-east-1").unwrap();
    assert!(us_run.api_calls >= 9, "at least one call per listing: {us_run:?}");

    let lb_arn_prefix = format!("arn:aws:elasticloadbalancing:us-east-1:{account}:loadbalancer/app/empty/");
    assert!(lb_empty.starts_with(&lb_arn_prefix), "{lb_empty}");
    let key = |rule: &str, id: &str| format!("{rule}#{id}");
    let expected: Seen = [
        // 100 GiB gp3 × $0.08
        (("ebs.unattached-volume", vol_a.as_str()), row("us-east-1", Some("8.00"), Some("8.00"), None)),
        // gp2 500 × $0.10 = $50; gp3 with 3000 IOPS, 250 MiB/s: 500 × 0.08 + 125 × 0.04 = $45
        (("ebs.gp2-to-gp3", vol_b.as_str()), row("us-east-1", Some("50.0"), Some("5.00"), None)),
        // m4.large $0.10/h vs m6i.large $0.096/h, × 730
        (("ec2.previous-generation", i_old.as_str()), row("us-east-1", Some("73.0"), Some("2.92"), None)),
        // its 8 GiB gp3 root: 8 × 0.08
        (("ec2.stopped-instance", i_stopped.as_str()), row("us-east-1", Some("0.64"), Some("0.64"), None)),
        // 0.005 × 730
        (("eip.unassociated", e_free.as_str()), row("us-east-1", Some("3.650"), Some("3.650"), None)),
        // 50 GiB × $0.05 (upper bound)
        (("snapshot.orphaned", snap_orphan.as_str()), row("us-east-1", Some("2.50"), Some("2.50"), None)),
        // ALB 0.0225 × 730 = 16.425, half up
        (("elb.no-healthy-targets", lb_empty.as_str()), row("us-east-1", Some("16.43"), Some("16.43"), None)),
        // db.m5.large postgres 0.178 × 730 = 129.94 + 20 GiB gp2 × 0.115 = 2.30
        (("rds.stopped", db_stopped.as_str()), row("us-east-1", Some("132.24"), Some("129.94"), None)),
        // gp2 and gp3 cost the same for RDS in us-east-1
        (
            ("rds.gp2-storage", db_stopped.as_str()),
            row("us-east-1", Some("2.30"), Some("0.00"), Some(key("rds.stopped", &db_stopped))),
        ),
        // (0.175 × 730 × 2 + 100 × 0.115 × 2) / 2 = (255.5 + 23) / 2
        (("rds.multi-az-non-production", db_dev.as_str()), row("us-east-1", Some("278.50"), Some("139.25"), None)),
        // (0.175 − 0.171) × 730 × 2, counted in the Multi-AZ saving
        (
            ("rds.previous-generation", db_dev.as_str()),
            row("us-east-1", Some("255.50"), Some("5.84"), Some(key("rds.multi-az-non-production", &db_dev))),
        ),
        // 2048 bytes × $0.03/GB-month rounds to $0.00; the saving is not estimated
        (
            (("logs.never-expire"), &*format!("arn:aws:logs:us-east-1:{account}:log-group:/app/never")),
            row("us-east-1", Some("0.00"), None, None),
        ),
        // eu-west-1: 10 GiB gp2 × $0.11
        (("ebs.unattached-volume", vol_c.as_str()), row("eu-west-1", Some("1.10"), Some("1.10"), None)),
        // gp3 10 × 0.088 + 3 MiB/s × 0.044 = 1.012: $0.088 less, part of the deletion's saving
        (
            ("ebs.gp2-to-gp3", vol_c.as_str()),
            row("eu-west-1", Some("1.10"), Some("0.09"), Some(key("ebs.unattached-volume", &vol_c))),
        ),
        (("eip.unassociated", e_eu.as_str()), row("eu-west-1", Some("3.650"), Some("3.650"), None)),
        (
            (("logs.never-expire"), &*format!("arn:aws:logs:eu-west-1:{account}:log-group:/eu/never")),
            row("eu-west-1", Some("0.00"), None, None),
        ),
    ]
    .into_iter()
    .map(|((r, id), v)| ((r.to_owned(), id.to_owned()), v))
    .collect();
    // The stopped instance's root volume: counted in the instance.
    let mut expected = expected;
    let root_of_stopped: Vec<&Finding> =
        first.findings.iter().filter(|f| f.rule == "ebs.volume-on-stopped-instance").collect();
    assert_eq!(root_of_stopped.len(), 1, "{root_of_stopped:#?}");
    expected.insert(
        ("ebs.volume-on-stopped-instance".into(), root_of_stopped[0].resource_id.clone()),
        row("us-east-1", Some("0.64"), Some("0.64"), Some(key("ec2.stopped-instance", &i_stopped))),
    );
    // i_old's auto-assigned public IPv4 address (moto's default subnet maps one; i_web's is its
    // Elastic IP), on its network interface: 0.005 × 730.
    let d = us.ec2.describe_instances().instance_ids(&i_old).send().await.unwrap();
    let eni_old = d.reservations()[0].instances()[0].network_interfaces()[0].network_interface_id().unwrap();
    expected.insert(("ec2.public-ipv4".into(), eni_old.to_owned()), row("us-east-1", Some("3.65"), Some("3.65"), None));
    let got = table(&first.findings);
    let missing: Vec<_> = expected.iter().filter(|(k, v)| got.get(*k) != Some(v)).collect();
    let extra: Vec<_> = got.iter().filter(|(k, _)| !expected.contains_key(*k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing or different: {missing:#?}\nunexpected: {extra:#?}\ngot: {got:#?}"
    );
    // Negative cases, by name: none of these is anywhere in the findings.
    for id in [&i_web, &e_nat, &e_web, &nat, &snap_keep, &snap_ami, &lb_busy, &db_prod] {
        // (snap_keep's volume still exists; it is deleted below.)
        assert!(first.findings.iter().all(|f| &f.resource_id != id), "false positive on {id}");
    }
    assert!(first.findings.iter().all(|f| !f.resource_id.contains("/app/kept")));
    // Every finding carries its ARN, confidence, fix and evidence.
    for f in &first.findings {
        assert!(
            f.arn.is_some()
                && f.confidence.is_some()
                && f.fix_command.as_deref().is_some_and(|c| c.starts_with("aws ")),
            "{f:#?}"
        );
        assert!(!f.evidence.is_empty() && f.status == FindingStatus::Open);
    }
    let total: rust_decimal::Decimal =
        first.findings.iter().filter(|f| f.counts_in_total()).filter_map(|f| f.monthly_savings_usd).sum();
    // 8 + 5 + 2.92 + 0.64 + 3.65 + 2.50 + 16.43 + 129.94 + 139.25 + 1.10 + 3.65 + 3.65
    assert_eq!(total, "316.73".parse().unwrap());
    assert_eq!(first.run.findings_opened as usize, expected.len());
    assert_eq!(stored(&store, &tenant, account).await.len(), expected.len());

    // Second scan after deleting three resources: those resolve, nothing else changes.
    us.delete_volume(&vol_a).await;
    us.release(&e_free).await;
    us.delete_load_balancer(&lb_empty).await;
    let t1 = t0 + chrono::Duration::minutes(5);
    let second = scanner.scan(&target, &settings(), t1).await.unwrap();
    assert_eq!(second.run.status, ScanStatus::Complete);
    // vol_a's snapshot has lost its source volume: it is now orphaned (100 GiB × $0.05).
    assert_eq!(second.run.findings_opened, 1);
    let orphan = second.findings.iter().find(|f| f.resource_id == snap_keep).expect("snap_keep now orphaned");
    assert_eq!((orphan.rule.as_str(), orphan.monthly_savings_usd), ("snapshot.orphaned", Some("5".parse().unwrap())));
    assert_eq!(second.run.findings_resolved, 3);
    let after = stored(&store, &tenant, account).await;
    let resolved: Vec<&str> =
        after.iter().filter(|f| f.status == FindingStatus::Resolved).map(|f| f.resource_id.as_str()).collect();
    assert_eq!(resolved.len(), 3);
    for id in [&vol_a, &e_free, &lb_empty] {
        assert!(resolved.contains(&id.as_str()), "{id} should be resolved: {resolved:?}");
    }
    let kept = after.iter().find(|f| f.resource_id == vol_c).unwrap();
    assert_eq!(kept.first_seen.timestamp(), t0.timestamp(), "first_seen is kept");
    assert_eq!(kept.last_seen.timestamp(), t1.timestamp(), "last_seen moves");

    // Third scan with eu-west-1 failing: vol_c was deleted, but a failed region resolves
    // nothing; us-east-1 still resolves what it no longer sees.
    eu.delete_volume(&vol_c).await;
    let failing = Scanner::new(
        Arc::new(FailingRegion {
            inner: AwsSessionOpener::new(Arc::new(StsRoleAssumer::from_sdk(&sdk)), sdk.clone()),
            region: "eu-west-1",
        }),
        store.clone(),
        costradar_core::pricing::bundled(),
    );
    us.ec2.delete_snapshot().snapshot_id(&snap_orphan).send().await.unwrap();
    let t2 = t1 + chrono::Duration::minutes(5);
    let third = failing.scan(&target, &settings(), t2).await.unwrap();
    assert_eq!(third.run.status, ScanStatus::Partial);
    let eu_run = third.run.regions.iter().find(|r| r.region == "eu-west-1").unwrap();
    assert_eq!((eu_run.status, eu_run.findings_resolved), (ScanStatus::Failed, 0));
    assert_eq!(eu_run.errors[0].action, "ec2:DescribeVolumes");
    let us_run = third.run.regions.iter().find(|r| r.region == "us-east-1").unwrap();
    assert_eq!((us_run.status, us_run.findings_resolved), (ScanStatus::Complete, 1), "the deleted snapshot");
    let after = stored(&store, &tenant, account).await;
    let eu_open: Vec<&Finding> =
        after.iter().filter(|f| f.region == "eu-west-1" && f.status == FindingStatus::Open).collect();
    assert_eq!(eu_open.len(), 4, "nothing resolves in a failed region: {eu_open:#?}");
}

#[tokio::test]
async fn idle_rules_read_motos_cloudwatch() {
    let account_id = AccountId::parse(&fresh_account()).unwrap();
    let account = account_id.as_str();
    let w = World::new(account, "us-west-2").await;
    let (_, subnets) = w.network().await;
    let (e_idle, _) = w.address().await;
    let (e_busy, _) = w.address().await;
    let nat_idle = w.nat_gateway(&subnets[0], &e_idle).await;
    let nat_busy = w.nat_gateway(&subnets[1], &e_busy).await;
    let nat_unmeasured = {
        let (e, _) = w.address().await;
        w.nat_gateway(&subnets[0], &e).await
    };
    let db_idle = w.database("idle", "postgres", "db.m5.large", ("gp3", 20), false, &[]).await;
    let db_busy = w.database("busy", "postgres", "db.m5.large", ("gp3", 20), false, &[]).await;
    for (nat, bytes) in [(&nat_idle, 1_000.0), (&nat_busy, 5e9)] {
        for metric in ["BytesInFromSource", "BytesInFromDestination"] {
            w.metric("AWS/NATGateway", metric, ("NatGatewayId", nat), bytes).await;
        }
    }
    w.metric("AWS/RDS", "DatabaseConnections", ("DBInstanceIdentifier", "idle"), 0.0).await;
    w.metric("AWS/RDS", "DatabaseConnections", ("DBInstanceIdentifier", "busy"), 12.0).await;

    let store = Arc::new(fresh_table("scan-idle").await);
    let sdk = sdk_config().await;
    let opener = AwsSessionOpener::new(Arc::new(StsRoleAssumer::from_sdk(&sdk)), sdk.clone());
    let scanner = Scanner::new(Arc::new(opener), store, costradar_core::pricing::bundled());
    let (tenant, external_id) = (TenantId::generate(), ExternalId::generate());
    let role = RoleArn::parse(&role_in(account)).unwrap();
    let regions = vec!["us-west-2".to_owned()];
    let target = Target {
        tenant_id: &tenant,
        external_id: &external_id,
        account_id: &account_id,
        role_arn: &role,
        regions: &regions,
    };
    let settings =
        ScanSettings::from_json(br#"{"idle_window_days": 1, "idle_min_age_days": 0, "cost_optimization_hub": false, "compute_optimizer": false, "trusted_advisor": false}"#)
            .unwrap();
    let out = scanner.scan(&target, &settings, Utc::now()).await.unwrap();
    let region = out.run.regions.iter().find(|r| r.region == "us-west-2").unwrap();
    assert_eq!(region.status, ScanStatus::Complete, "GetMetricData answered: {region:?}");
    assert!(region.errors.is_empty(), "{region:?}");

    let idle: BTreeMap<&str, &str> = out
        .findings
        .iter()
        .filter(|f| f.rule.ends_with("idle") || f.rule.ends_with("idle-instance"))
        .map(|f| (f.rule.as_str(), f.resource_id.as_str()))
        .collect();
    // The idle NAT gateway (1,000 bytes each way) and the database with no connections; not the
    // busy ones, not the gateway with no datapoints (no data is no fact).
    assert_eq!(idle, BTreeMap::from([("nat.idle", nat_idle.as_str()), ("rds.idle", db_idle.as_str())]));
    for id in [&nat_busy, &nat_unmeasured, &db_busy] {
        assert!(out.findings.iter().all(|f| !(f.rule.contains("idle") && &f.resource_id == id)), "{id}");
    }
    let nat = out.findings.iter().find(|f| f.rule == "nat.idle").unwrap();
    // us-west-2 NAT gateway $0.045/h × 730 + its public IPv4 $0.005/h × 730
    assert_eq!(nat.monthly_savings_usd, Some("36.50".parse().unwrap()), "{nat:#?}");
}
