//! The orchestration on the in-memory store with a scripted session: concurrency bound,
//! partial and failed regions, a panicking region, suppressions, revocation.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use chrono::{Duration, TimeZone};

use super::*;
use crate::domain::finding::Suppression;
use crate::rules::facts::{Address, Volume};
use crate::store::{MemoryStore, PageRequest};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap()
}

/// What each region answers; `None` panics (a bug in a scanner).
#[derive(Default)]
struct Script {
    regions: Mutex<HashMap<String, Option<RegionScan>>>,
    enabled: Option<Vec<String>>,
    deny: bool,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Compute Optimizer's and Trusted Advisor's answers; `None`: a session without them.
    compute_optimizer: Mutex<Option<AccountWide<Recommended>>>,
    trusted_advisor: Mutex<Option<AccountWide<Recommended>>>,
}

struct Opener(Arc<Script>);
struct Session(Arc<Script>);

#[async_trait]
impl SessionOpener for Opener {
    async fn open(&self, _: &Target<'_>, _: DateTime<Utc>) -> Result<Arc<dyn AccountSession>, AssumeError> {
        if self.0.deny {
            return Err(AssumeError::AccessDenied("not authorized".into()));
        }
        Ok(Arc::new(Session(self.0.clone())))
    }
}

#[async_trait]
impl AccountSession for Session {
    async fn enabled_regions(&self) -> AccountWide<Vec<String>> {
        let errors = if self.0.enabled.is_none() {
            vec![ActionError {
                action: "ec2:DescribeRegions".into(),
                code: "AccessDenied".into(),
                message: String::new(),
            }]
        } else {
            vec![]
        };
        AccountWide { value: self.0.enabled.clone(), api_calls: 1, errors }
    }

    async fn scan_region(&self, region: &str, _: &MetricsWindow) -> RegionScan {
        let n = self.0.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.0.max_in_flight.fetch_max(n, Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        let scripted = self.0.regions.lock().unwrap().get(region).cloned();
        match scripted {
            Some(Some(s)) => s,
            Some(None) => panic!("scanner bug in {region}"),
            None => RegionScan { inventory: RegionInventory::new(region), listed: Listed::all(), ..Default::default() },
        }
    }

    async fn recommendations(&self, _: &AccountId) -> AccountWide<Vec<Recommendation>> {
        AccountWide { value: Some(vec![]), api_calls: 1, errors: vec![] }
    }

    async fn compute_optimizer(&self, _: &AccountId, _: &[String]) -> AccountWide<Recommended> {
        let scripted = self.0.compute_optimizer.lock().unwrap().clone();
        scripted.unwrap_or(AccountWide { value: None, api_calls: 0, errors: vec![] })
    }

    async fn trusted_advisor(&self, _: &AccountId) -> AccountWide<Recommended> {
        let scripted = self.0.trusted_advisor.lock().unwrap().clone();
        scripted.unwrap_or(AccountWide { value: None, api_calls: 0, errors: vec![] })
    }
}

fn volume(id: &str, tags: &[(&str, &str)]) -> Volume {
    Volume {
        id: id.into(),
        volume_type: "gp3".into(),
        size_gib: 100,
        iops: None,
        throughput_mibps: None,
        state: "available".into(),
        created: t0() - Duration::days(100),
        attached_to: vec![],
        tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        unattached_since: None,
    }
}

fn region_with(region: &str, volumes: Vec<Volume>) -> RegionScan {
    let mut inventory = RegionInventory::new(region);
    inventory.volumes = volumes;
    RegionScan { inventory, listed: Listed::all(), api_calls: 7, errors: vec![] }
}

struct Fixture {
    script: Arc<Script>,
    store: Arc<MemoryStore>,
    scanner: Scanner,
    tenant: TenantId,
    external_id: ExternalId,
    role: RoleArn,
}

fn fixture(script: Script) -> Fixture {
    let script = Arc::new(script);
    let store = Arc::new(MemoryStore::new());
    let scanner = Scanner::new(Arc::new(Opener(script.clone())), store.clone(), crate::pricing::bundled());
    Fixture {
        script,
        store,
        scanner,
        tenant: TenantId::generate(),
        external_id: ExternalId::generate(),
        role: RoleArn::parse("arn:aws:iam::111122223333:role/CostradarReadOnly").unwrap(),
    }
}

impl Fixture {
    async fn scan(
        &self,
        regions: &[String],
        settings: &ScanSettings,
        at: DateTime<Utc>,
    ) -> Result<AccountScan, ScanError> {
        let target = Target {
            tenant_id: &self.tenant,
            external_id: &self.external_id,
            account_id: &AccountId::parse("111122223333").unwrap(),
            role_arn: &self.role,
            regions,
        };
        self.scanner.scan(&target, settings, at).await
    }

    fn set(&self, region: &str, scan: Option<RegionScan>) {
        self.script.regions.lock().unwrap().insert(region.into(), scan);
    }
}

fn zero_days() -> ScanSettings {
    ScanSettings { unattached_volume_days: 0, ..ScanSettings::default() }
}

#[tokio::test]
async fn regions_run_concurrently_within_the_bound() {
    let f = fixture(Script::default());
    let regions: Vec<String> = ["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1"]
        .map(String::from)
        .to_vec();
    let settings = ScanSettings { max_concurrent_regions: 2, ..ScanSettings::default() };
    let out = f.scan(&regions, &settings, t0()).await.unwrap();
    assert_eq!(out.run.regions.len(), 7, "6 regions and global");
    assert_eq!(f.script.max_in_flight.load(Ordering::SeqCst), 2);
    assert_eq!(out.run.status, ScanStatus::Complete);
}

#[tokio::test]
async fn a_failed_or_panicking_region_resolves_nothing_and_the_others_continue() {
    let f = fixture(Script::default());
    let regions: Vec<String> = ["eu-west-1", "us-east-1", "us-west-2"].map(String::from).to_vec();
    f.set("eu-west-1", Some(region_with("eu-west-1", vec![volume("vol-eu", &[])])));
    f.set("us-east-1", Some(region_with("us-east-1", vec![volume("vol-us", &[])])));
    f.set("us-west-2", Some(region_with("us-west-2", vec![volume("vol-w", &[])])));
    let first = f.scan(&regions, &zero_days(), t0()).await.unwrap();
    assert_eq!(first.run.findings_opened, 3);

    // Next scan: every volume is gone, but eu-west-1's scanner panics and us-west-2 answers
    // with an error.
    f.set("eu-west-1", None);
    f.set("us-east-1", Some(region_with("us-east-1", vec![])));
    let mut partial = region_with("us-west-2", vec![]);
    partial.errors.push(ActionError {
        action: "rds:DescribeDBInstances".into(),
        code: "AccessDenied".into(),
        message: "denied".into(),
    });
    partial.listed.db_instances = false;
    f.set("us-west-2", Some(partial));
    let second = f.scan(&regions, &zero_days(), t0() + Duration::hours(1)).await.unwrap();
    let status: HashMap<&str, (ScanStatus, u32)> =
        second.run.regions.iter().map(|r| (r.region.as_str(), (r.status, r.findings_resolved))).collect();
    assert_eq!(status["eu-west-1"], (ScanStatus::Failed, 0));
    assert_eq!(status["us-west-2"], (ScanStatus::Partial, 0));
    assert_eq!(status["us-east-1"], (ScanStatus::Complete, 1));
    assert_eq!(second.run.status, ScanStatus::Partial);
    let open = f.store.list_findings(&f.tenant, None, &PageRequest::first(50)).await.unwrap();
    let still: Vec<&str> =
        open.items.iter().filter(|x| x.status == FindingStatus::Open).map(|x| x.resource_id.as_str()).collect();
    assert_eq!(still, ["vol-eu", "vol-w"]);
}

#[tokio::test]
async fn suppressed_findings_are_stored_as_such_and_not_opened() {
    let f = fixture(Script::default());
    let regions = vec!["us-east-1".to_owned()];
    let mut inv = region_with(
        "us-east-1",
        vec![volume("vol-1", &[]), volume("vol-2", &[("costradar", "keep")]), volume("vol-3", &[])],
    );
    inv.inventory.addresses.push(Address {
        allocation_id: Some("eipalloc-1".into()),
        public_ip: "198.51.100.1".into(),
        association_id: None,
        instance_id: None,
        network_interface_id: None,
        tags: Default::default(),
    });
    f.set("us-east-1", Some(inv));
    for s in [
        Suppression {
            id: "by-resource".into(),
            account_id: None,
            rule: Some("ebs.unattached-volume".into()),
            resource_id: Some("vol-1".into()),
            tag_key: None,
            tag_value: None,
            reason: "kept for a restore test".into(),
        },
        Suppression {
            id: "by-tag".into(),
            account_id: Some(AccountId::parse("111122223333").unwrap()),
            rule: None,
            resource_id: None,
            tag_key: Some("costradar".into()),
            tag_value: Some("keep".into()),
            reason: String::new(),
        },
    ] {
        f.store.save_suppression(&f.tenant, &s).await.unwrap();
    }
    let out = f.scan(&regions, &zero_days(), t0()).await.unwrap();
    let status: HashMap<&str, (FindingStatus, Option<&str>)> =
        out.findings.iter().map(|x| (x.resource_id.as_str(), (x.status, x.suppressed_by.as_deref()))).collect();
    assert_eq!(status["vol-1"], (FindingStatus::Suppressed, Some("by-resource: kept for a restore test")));
    assert_eq!(status["vol-2"], (FindingStatus::Suppressed, Some("by-tag")));
    assert_eq!(status["vol-3"], (FindingStatus::Open, None));
    assert_eq!(status["eipalloc-1"], (FindingStatus::Open, None));
    assert_eq!(out.run.findings_opened, 2, "suppressed findings are not opened");
}

#[tokio::test]
async fn the_first_scan_starts_the_detach_clock() {
    let f = fixture(Script::default());
    let regions = vec!["us-east-1".to_owned()];
    // A 100-day-old volume, first seen unattached now: AWS does not say when it was detached.
    f.set("us-east-1", Some(region_with("us-east-1", vec![volume("vol-1", &[])])));
    let seven = ScanSettings::default();
    assert!(f.scan(&regions, &seven, t0()).await.unwrap().findings.is_empty());
    assert!(f.scan(&regions, &seven, t0() + Duration::days(6)).await.unwrap().findings.is_empty());
    let later = f.scan(&regions, &seven, t0() + Duration::days(7)).await.unwrap();
    assert_eq!(later.findings.len(), 1);
    assert!(later.findings[0].title.contains("7 days"), "{}", later.findings[0].title);
}

#[tokio::test]
async fn assume_denied_is_revoked_and_no_regions_is_an_error() {
    let denied = fixture(Script { deny: true, ..Default::default() });
    assert!(matches!(denied.scan(&[], &ScanSettings::default(), t0()).await, Err(ScanError::Revoked(_))));
    let blind = fixture(Script::default());
    match blind.scan(&[], &ScanSettings::default(), t0()).await {
        Err(ScanError::NoRegions(why)) => assert!(why.contains("ec2:DescribeRegions"), "{why}"),
        other => panic!("{:?}", other.map(|o| o.run)),
    }
    let listed = fixture(Script { enabled: Some(vec!["eu-west-1".into()]), ..Default::default() });
    let out = listed.scan(&[], &ScanSettings::default(), t0()).await.unwrap();
    let names: Vec<&str> = out.run.regions.iter().map(|r| r.region.as_str()).collect();
    assert_eq!(names, ["global", "eu-west-1"]);
}

/// The scan prices from the same `PriceBook` as the receiver: a Price List cache rate wins over
/// the bundled book, and the scan's figure for a volume is the receiver's for creating it.
#[tokio::test]
async fn the_scan_prices_from_the_price_list_cache_like_the_receiver() {
    use crate::pricing::{PriceSource, Rate, RateTable, Sku};
    use crate::store::{RateScope, RateStore};
    let f = fixture(Script::default());
    let regions = vec!["eu-west-1".to_owned()];
    f.set("eu-west-1", Some(region_with("eu-west-1", vec![volume("vol-0a1b2c3d4e5f60718", &[])])));

    // Bundled book first: eu-west-1 gp3 at $0.088/GB-month, 100 GiB = $8.80.
    let before = f.scan(&regions, &zero_days(), t0()).await.unwrap();
    let found = before.findings.iter().find(|x| x.rule == "ebs.unattached-volume").unwrap();
    assert_eq!(found.monthly_cost_usd, Some("8.80".parse().unwrap()));
    assert_eq!(found.price_source.as_deref(), Some("bundled"));

    // A refreshed Price List rate (made up for the test) is used as soon as it is stored.
    let mut cache = RateTable::default();
    let rate = Rate { usd: "0.0925".parse().unwrap(), source: PriceSource::PriceListApi, as_of: "2026-12-01".into() };
    cache.insert("eu-west-1", Sku::EbsStorage { volume_type: "gp3".into() }, rate);
    f.store.save_rates(RateScope::PriceList, &cache).await.unwrap();
    let after = f.scan(&regions, &zero_days(), t0() + Duration::hours(1)).await.unwrap();
    let found = after.findings.iter().find(|x| x.rule == "ebs.unattached-volume").unwrap();
    assert_eq!(found.monthly_cost_usd, Some("9.25".parse().unwrap()), "100 GiB × $0.0925");
    assert_eq!(found.price_source.as_deref(), Some("price_list_api"));

    // The receiver prices a CreateVolume of the same volume from the same book: the same figure.
    let book = crate::pricing::PriceBook { tenant: None, price_list: Some(&cache), bundled: crate::pricing::bundled() };
    let spec = crate::domain::event::VolumeSpec {
        volume_type: "gp3".into(),
        size_gib: 100,
        iops: None,
        throughput_mibps: None,
    };
    let est = crate::pricing::model::volume_monthly(&book, "eu-west-1", &spec);
    assert_eq!(est.monthly_usd.map(crate::domain::money::cents), found.monthly_cost_usd);
}

/// Compute Optimizer's findings are resolved only when it answered; Trusted Advisor refused for
/// the support plan is a note, once, and the run stays complete.
#[tokio::test]
async fn recommenders_resolve_only_when_they_answered_and_a_refusal_is_a_note() {
    use crate::rules::recommenders::{AwsRecommendation, CoKind, Origin};
    let f = fixture(Script::default());
    let regions = vec!["us-east-1".to_owned()];
    let rec = |origin: Origin, id: &str| AwsRecommendation {
        origin,
        region: "us-east-1".into(),
        resource_id: id.into(),
        resource_arn: None,
        finding: "warning".into(),
        current: None,
        recommended: None,
        lookback_days: Some(14),
        monthly_savings_usd: Some("20".parse().unwrap()),
        savings_percent: None,
        details: vec![],
    };
    let idle =
        AwsRecommendation { finding: "Unattached".into(), ..rec(Origin::ComputeOptimizer(CoKind::Idle), "vol-9") };
    let check = Origin::TrustedAdvisor {
        check: "Low Utilization Amazon EC2 Instances".into(),
        recommendation_arn: "arn:ta".into(),
    };
    let answered = |v: Vec<AwsRecommendation>| {
        Some(AccountWide { value: Some(Recommended::Answered(v)), api_calls: 2, errors: vec![] })
    };
    *f.script.compute_optimizer.lock().unwrap() = answered(vec![idle]);
    *f.script.trusted_advisor.lock().unwrap() = answered(vec![rec(check, "i-7")]);
    let first = f.scan(&regions, &ScanSettings::default(), t0()).await.unwrap();
    let rules: Vec<&str> = first.findings.iter().map(|x| x.rule.as_str()).collect();
    assert_eq!(rules, ["co.idle", "ta.low-utilization-amazon-ec2-instances"]);
    assert_eq!((first.run.status, first.run.notes.len()), (ScanStatus::Complete, 0));
    assert_eq!(
        first.run.regions[0].api_calls,
        1 + 2 + 2,
        "Cost Optimization Hub and both recommenders count in global"
    );

    // Next scan: Compute Optimizer answers nothing, Trusted Advisor is refused for the plan.
    *f.script.compute_optimizer.lock().unwrap() = answered(vec![]);
    let refused = "not read: the account's support plan does not include the Trusted Advisor API";
    *f.script.trusted_advisor.lock().unwrap() =
        Some(AccountWide { value: Some(Recommended::Unavailable(refused.into())), api_calls: 1, errors: vec![] });
    let second = f.scan(&regions, &ScanSettings::default(), t0() + Duration::hours(1)).await.unwrap();
    assert_eq!(second.run.status, ScanStatus::Complete);
    assert!(second.run.regions.iter().all(|r| r.errors.is_empty()));
    assert_eq!(second.run.notes, [format!("Trusted Advisor: {refused}")]);
    let open = f.store.list_findings(&f.tenant, None, &PageRequest::first(50)).await.unwrap();
    let still: Vec<&str> =
        open.items.iter().filter(|x| x.status == FindingStatus::Open).map(|x| x.rule.as_str()).collect();
    assert_eq!(still, ["ta.low-utilization-amazon-ec2-instances"], "co.idle resolved; the unread check is not");

    // Compute Optimizer failing is an error: the account is partial, nothing of it resolved.
    let denied = ActionError {
        action: "compute-optimizer:GetEnrollmentStatus".into(),
        code: "AccessDeniedException".into(),
        message: String::new(),
    };
    *f.script.compute_optimizer.lock().unwrap() = Some(AccountWide { value: None, api_calls: 1, errors: vec![denied] });
    let off = ScanSettings { trusted_advisor: false, ..ScanSettings::default() };
    let third = f.scan(&regions, &off, t0() + Duration::hours(2)).await.unwrap();
    assert_eq!(third.run.status, ScanStatus::Partial);
    assert_eq!(third.run.regions[0].errors[0].action, "compute-optimizer:GetEnrollmentStatus");
    assert!(third.run.notes.is_empty(), "Trusted Advisor was not asked");
}
