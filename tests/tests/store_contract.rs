//! The store contract, run unchanged against the in-memory adapter and against DynamoDB on
//! moto: both must give the same conditional-write failures, version conflicts and pages.

use chrono::{Duration, Utc};
use costradar_aws::DynamoStore;
use costradar_core::domain::*;
use costradar_core::store::*;

fn tenant(name: &str) -> Tenant {
    Tenant::new(TenantId::generate(), name.into(), ExternalId::generate(), Utc::now())
}

fn account(t: &TenantId, n: u64) -> Account {
    let role = RoleArn::parse(&format!("arn:aws:iam::{:012}:role/CostradarReadOnly", 100_000_000_000 + n)).unwrap();
    Account::new_pending(t.clone(), role, vec!["us-east-1".into()], None, Registration::Manual, Utc::now())
}

async fn collect_tenants(s: &dyn OnboardingStore, limit: u32) -> (Vec<TenantId>, usize) {
    let mut ids = Vec::new();
    let mut pages = 0;
    let mut req = PageRequest::first(limit);
    loop {
        let p = s.list_tenants(&req).await.unwrap();
        pages += 1;
        assert!(p.items.len() <= limit as usize);
        ids.extend(p.items.into_iter().map(|t| t.id));
        match p.next_cursor {
            Some(c) => req.cursor = Some(c),
            None => return (ids, pages),
        }
    }
}

async fn contract(s: &dyn OnboardingStore) {
    // Conditional creation.
    let mut a = tenant("A");
    s.save_tenant(&mut a).await.unwrap();
    assert_eq!(a.version, 1);
    let mut again = a.clone();
    again.version = 0;
    assert_eq!(s.save_tenant(&mut again).await, Err(StoreError::AlreadyExists));
    let mut same_external_id = tenant("B");
    same_external_id.external_id = a.external_id.clone();
    assert_eq!(s.save_tenant(&mut same_external_id).await, Err(StoreError::ExternalIdTaken));
    assert_eq!(s.get_tenant(&same_external_id.id).await.unwrap(), None, "a refused create writes nothing");

    // Optimistic concurrency.
    let mut first = s.get_tenant(&a.id).await.unwrap().unwrap();
    let mut second = first.clone();
    first.name = "A renamed".into();
    s.save_tenant(&mut first).await.unwrap();
    assert_eq!(first.version, 2);
    second.name = "lost update".into();
    assert_eq!(s.save_tenant(&mut second).await, Err(StoreError::VersionConflict));
    assert_eq!(s.get_tenant(&a.id).await.unwrap().unwrap().name, "A renamed");

    // Pagination over more than one page, no duplicates, nothing missing.
    let mut created = vec![a.id.clone()];
    for i in 0..6 {
        let mut t = tenant(&format!("T{i}"));
        s.save_tenant(&mut t).await.unwrap();
        created.push(t.id);
    }
    let (mut listed, pages) = collect_tenants(s, 3).await;
    assert!(pages >= 3, "7 tenants in pages of 3 took {pages} pages");
    listed.sort();
    created.sort();
    assert_eq!(listed, created);
    assert_eq!(
        s.list_tenants(&PageRequest { limit: Some(3), cursor: Some("%%%".into()) }).await,
        Err(StoreError::InvalidCursor)
    );

    // Accounts: one tenant per AWS account.
    let mut b = tenant("B2");
    s.save_tenant(&mut b).await.unwrap();
    let mut acc = account(&a.id, 1);
    s.save_account(&mut acc, Claim::Acquire).await.unwrap();
    let mut stolen = account(&b.id, 1);
    assert_eq!(s.save_account(&mut stolen, Claim::Acquire).await, Err(StoreError::AccountClaimedByAnotherTenant));
    assert_eq!(s.get_account(&b.id, &stolen.account_id).await.unwrap(), None, "nothing written for the refused tenant");
    let mut dup = account(&a.id, 1);
    assert_eq!(s.save_account(&mut dup, Claim::Acquire).await, Err(StoreError::AlreadyExists));

    // Account status changes are versioned.
    let mut one = s.get_account(&a.id, &acc.account_id).await.unwrap().unwrap();
    let mut two = one.clone();
    one.transition(AccountStatus::Active, "verified", Utc::now()).unwrap();
    s.save_account(&mut one, Claim::Keep).await.unwrap();
    two.transition(AccountStatus::Failed, "stale writer", Utc::now()).unwrap();
    assert_eq!(s.save_account(&mut two, Claim::Keep).await, Err(StoreError::VersionConflict));
    assert_eq!(s.get_account(&a.id, &acc.account_id).await.unwrap().unwrap().status, AccountStatus::Active);

    // Releasing the claim lets another tenant connect the account.
    one.transition(AccountStatus::Disconnected, "stack deleted", Utc::now()).unwrap();
    s.save_account(&mut one, Claim::Release).await.unwrap();
    s.save_account(&mut stolen, Claim::Acquire).await.unwrap();

    // Account pages are tenant-scoped.
    for n in 2..=8 {
        s.save_account(&mut account(&a.id, n), Claim::Acquire).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut req = PageRequest::first(3);
    loop {
        let p = s.list_accounts(&a.id, &req).await.unwrap();
        assert!(p.items.iter().all(|x| x.tenant_id == a.id), "another tenant's account leaked into the page");
        seen.extend(p.items.into_iter().map(|x| x.account_id));
        match p.next_cursor {
            Some(c) => req.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 8, "{seen:?}");
    let b_accounts = s.list_accounts(&b.id, &PageRequest::first(50)).await.unwrap();
    assert_eq!(b_accounts.items.len(), 1);
    assert_eq!(b_accounts.next_cursor, None);

    // Custom-resource request ledger.
    let now = Utc::now();
    let stale = Duration::minutes(5);
    assert_eq!(s.begin_request(&a.id, "req-1", now, stale).await.unwrap(), RequestState::Started);
    assert_eq!(s.begin_request(&a.id, "req-1", now, stale).await.unwrap(), RequestState::InProgress);
    s.finish_request(&a.id, "req-1", "{\"Status\":\"SUCCESS\"}", now).await.unwrap();
    assert_eq!(
        s.begin_request(&a.id, "req-1", now, stale).await.unwrap(),
        RequestState::Done("{\"Status\":\"SUCCESS\"}".into())
    );
    s.abandon_request(&a.id, "req-1").await.unwrap();
    assert!(
        matches!(s.begin_request(&a.id, "req-1", now, stale).await.unwrap(), RequestState::Done(_)),
        "abandon never drops an answered request"
    );
    assert_eq!(s.begin_request(&a.id, "req-2", now, stale).await.unwrap(), RequestState::Started);
    assert_eq!(
        s.begin_request(&a.id, "req-2", now + Duration::minutes(6), stale).await.unwrap(),
        RequestState::Started,
        "a stale attempt is taken over"
    );
    s.abandon_request(&a.id, "req-2").await.unwrap();
    assert_eq!(s.begin_request(&a.id, "req-2", now, stale).await.unwrap(), RequestState::Started);

    // Failed proofs are counted per tenant and hour.
    let hour = now.timestamp().div_euclid(3600) * 3600;
    assert_eq!(s.unproved_count(&a.id, hour).await.unwrap(), 0);
    for _ in 0..3 {
        s.count_unproved(&a.id, hour).await.unwrap();
    }
    assert_eq!(s.unproved_count(&a.id, hour).await.unwrap(), 3);
    assert_eq!(s.unproved_count(&a.id, hour + 3600).await.unwrap(), 0, "the next hour starts afresh");

    // Tenant data expiry marks every item under the tenant.
    let n = s.expire_tenant_data(&a.id, now + Duration::days(30)).await.unwrap();
    assert_eq!(n, 1 + 8 + 2 + 1, "META, 8 accounts, 2 requests, 1 counter of failed proofs");
}

/// Event de-duplication, findings keeping their first sighting, and instance-type memory.
async fn event_contract<S: ReceiverStore + ?Sized>(s: &S) {
    let mut t = tenant("Events");
    s.save_tenant(&mut t).await.unwrap();
    let t0 = Utc::now() - Duration::hours(1);
    let finding = |at| costradar_core::domain::finding::Finding {
        evidence: vec!["500 GiB gp2 at $0.10/month = $50".into()],
        monthly_cost_usd: Some("50".parse().unwrap()),
        monthly_savings_usd: Some("5".parse().unwrap()),
        alternative: Some("gp3".into()),
        price_source: Some("bundled".into()),
        ..costradar_core::domain::finding::Finding::open(
            t.id.clone(),
            acct(),
            "us-east-1",
            "realtime.gp2-volume",
            "vol-1",
            "500 GiB gp2 volume",
            at,
        )
    };
    let body = serde_json::json!({"kind": "ebs.create-volume", "monthly_cost_usd": 50.0});
    let ttl = Utc::now() + Duration::days(90);
    assert_eq!(s.record_event(&t.id, "ev-1", &body, Some(&finding(t0)), ttl).await.unwrap(), Recorded::New);
    assert_eq!(
        s.record_event(&t.id, "ev-1", &body, Some(&finding(Utc::now())), ttl).await.unwrap(),
        Recorded::Duplicate
    );
    assert_eq!(s.get_event(&t.id, "ev-1").await.unwrap(), Some(body.clone()));
    let t1 = Utc::now();
    assert_eq!(s.record_event(&t.id, "ev-2", &body, Some(&finding(t1)), ttl).await.unwrap(), Recorded::New);
    let f = s.get_finding(&t.id, "123456789012#realtime.gp2-volume#vol-1").await.unwrap().unwrap();
    assert_eq!(f.first_seen.timestamp(), t0.timestamp(), "first_seen is kept");
    assert_eq!(f.last_seen.timestamp(), t1.timestamp());
    // More ids than one batch read (100) and write (25).
    let types: Vec<(String, String)> = (0..130)
        .map(|i| (format!("i-{i:04}"), if i % 2 == 0 { "m5.large" } else { "c6i.xlarge" }.to_owned()))
        .collect();
    let (acct, other) = (AccountId::parse("123456789012").unwrap(), AccountId::parse("210987654321").unwrap());
    s.remember_instance_types(&t.id, &acct, &types, ttl).await.unwrap();
    let mut ids: Vec<String> = types.iter().map(|(id, _)| id.clone()).collect();
    ids.push("i-unknown".into());
    ids.push("i-0001".into());
    let known = s.instance_types(&t.id, &acct, &ids).await.unwrap();
    assert_eq!(known.len(), 130);
    assert_eq!(known["i-0001"], "c6i.xlarge");
    // What one account's events told is not another account's.
    assert!(s.instance_types(&t.id, &other, &ids).await.unwrap().is_empty());

    rates_contract(s, &t.id).await;
}

/// Stored price sources: per (scope, region), a region's refresh leaves the others alone, and a
/// tenant's rates are not another tenant's or the Price List cache's.
async fn rates_contract<S: ReceiverStore + ?Sized>(s: &S, tenant: &TenantId) {
    use costradar_core::pricing::{PriceSource, Rate, RateTable, Sku};
    let rate = |usd: &str, source| Rate { usd: usd.parse().unwrap(), source, as_of: "2026-11-01".into() };
    let m5 = || Sku::ec2("m5.large");
    assert!(s.get_rates(RateScope::Tenant(tenant)).await.unwrap().is_empty());

    let mut list = RateTable::default();
    for (i, region) in ["us-east-1", "eu-west-1"].into_iter().enumerate() {
        // Enough rates that a region's item is tens of kilobytes, as a real refresh is.
        for n in 0..400 {
            let sku = Sku::ec2(format!("x{n}.{i}xlarge"));
            list.insert(region, sku, rate("1.5", PriceSource::PriceListApi));
        }
        list.insert(region, m5(), rate("0.096", PriceSource::PriceListApi));
    }
    s.save_rates(RateScope::PriceList, &list).await.unwrap();
    let mut tenant_rates = RateTable::default();
    tenant_rates.insert("us-east-1", m5(), rate("0.0624", PriceSource::TenantRates));
    s.save_rates(RateScope::Tenant(tenant), &tenant_rates).await.unwrap();

    assert_eq!(s.get_rates(RateScope::PriceList).await.unwrap(), list);
    assert_eq!(s.get_rates(RateScope::Tenant(tenant)).await.unwrap(), tenant_rates);
    assert!(s.get_rates(RateScope::Tenant(&TenantId::generate())).await.unwrap().is_empty());

    // Refreshing one region replaces that region only.
    let mut eu = RateTable::default();
    eu.insert("eu-west-1", m5(), rate("0.107", PriceSource::PriceListApi));
    s.save_rates(RateScope::PriceList, &eu).await.unwrap();
    let after = s.get_rates(RateScope::PriceList).await.unwrap();
    assert_eq!(after.len(), 401 + 1);
    assert_eq!(after.get("eu-west-1", &m5()).unwrap().usd, "0.107".parse().unwrap());
    assert_eq!(after.get("us-east-1", &m5()).unwrap().usd, "0.096".parse().unwrap());
    large_region_contract(s).await;
}

/// A full Price List region (tens of thousands of EC2 rates by OS: megabytes, over DynamoDB's
/// 400 KB item limit) is stored and read back whole; a family's refresh replaces that family
/// (its leftover chunks included) and leaves the region's other families alone.
async fn large_region_contract<S: ReceiverStore + ?Sized>(s: &S) {
    use costradar_core::pricing::{Os, PriceSource, Rate, RateTable, Sku, Tenancy};
    let region = "ap-southeast-2";
    let rate =
        |usd: String| Rate { usd: usd.parse().unwrap(), source: PriceSource::PriceListApi, as_of: "2026-12-01".into() };
    let ec2 =
        |n: u32, os| Sku::Ec2Instance { instance_type: format!("x{n}.{}xlarge", n % 48), os, tenancy: Tenancy::Shared };
    let mut big = RateTable::default();
    for n in 0..8_000u32 {
        for (k, os) in [Os::Linux, Os::Windows, Os::Rhel, Os::Suse, Os::UbuntuPro].into_iter().enumerate() {
            let usd = format!("{}.{:06}", n % 7, (n * 7919 + k as u32 * 104_729) % 1_000_000);
            big.insert(region, ec2(n, os), rate(usd));
        }
    }
    let nat = RateTable::from(vec![costradar_core::pricing::RateEntry {
        region: region.into(),
        key: Sku::NatGateway.key(),
        rate: rate("0.059".into()),
    }]);
    s.save_rates(RateScope::PriceList, &nat).await.unwrap();
    s.save_rates(RateScope::PriceList, &big).await.unwrap();
    let mut want = big.clone();
    want.extend(nat.clone());
    let got = s.get_region_rates(RateScope::PriceList, region).await.unwrap();
    assert_eq!((got.len(), got == want), (40_001, true));
    // A smaller EC2 refresh: the old EC2 rates (and chunks) go, NAT stays.
    let mut small = RateTable::default();
    small.insert(region, ec2(1, Os::Linux), rate("0.5".into()));
    s.save_rates(RateScope::PriceList, &small).await.unwrap();
    let mut want = small;
    want.extend(nat);
    assert_eq!(s.get_region_rates(RateScope::PriceList, region).await.unwrap(), want);
    // Another region is not read with it.
    assert!(s.get_region_rates(RateScope::PriceList, "ap-southeast-20").await.unwrap().is_empty());
}

/// Findings of any source: idempotent upsert keeping `first_seen`, resolution limited to one
/// account, region and rule prefixes and to findings not seen since, reopening, suppressions,
/// scan memory and run records.
async fn finding_contract<S: ScanStore + EventStore + ?Sized>(s: &S) {
    use costradar_core::domain::finding::{Confidence, Finding, FindingStatus, Suppression};
    use costradar_core::domain::scan_run::RunRecord;
    let mut t = tenant("Findings");
    s.save_tenant(&mut t).await.unwrap();
    let t0 = Utc::now() - Duration::hours(2);
    let f = |rule: &str, resource: &str, region: &str, at| Finding {
        evidence: vec!["100 GiB gp3 × $0.08 = $8".into()],
        monthly_cost_usd: Some("8".parse().unwrap()),
        monthly_savings_usd: Some("8".parse().unwrap()),
        price_source: Some("bundled".into()),
        arn: Some(format!("arn:aws:ec2:{region}:123456789012:volume/{resource}")),
        confidence: Some(Confidence::High),
        fix_command: Some(format!("aws ec2 delete-volume --volume-id {resource} --region {region}")),
        ..Finding::open(t.id.clone(), acct(), region, rule, resource, format!("{rule} {resource}"), at)
    };
    // 130 findings: more than one batch read (100) and write (25). A log group name holds '#'.
    let mut first: Vec<Finding> =
        (0..128).map(|i| f("ebs.unattached-volume", &format!("vol-{i:04}"), "us-east-1", t0)).collect();
    first.push(f("logs.never-expire", "arn:aws:logs:us-east-1:123456789012:log-group:a#b", "us-east-1", t0));
    first.push(f("ebs.unattached-volume", "vol-eu", "eu-west-1", t0));
    let up = s.upsert_findings(&t.id, &first).await.unwrap();
    assert_eq!((up.opened.len(), up.reopened.len(), up.updated), (130, 0, 0));
    // The same findings again: nothing new, last_seen moves, first_seen stays.
    let t1 = t0 + Duration::hours(1);
    let again: Vec<Finding> = first.iter().map(|x| Finding { first_seen: t1, last_seen: t1, ..x.clone() }).collect();
    let up = s.upsert_findings(&t.id, &again).await.unwrap();
    assert_eq!((up.opened.len(), up.updated), (0, 130));
    let stored = s.get_finding(&t.id, "123456789012#ebs.unattached-volume#vol-0007").await.unwrap().unwrap();
    assert_eq!(stored.first_seen.timestamp(), t0.timestamp());
    assert_eq!(stored.last_seen.timestamp(), t1.timestamp());
    assert_eq!(stored.confidence, Some(Confidence::High));
    // A real-time finding on the same account is never resolved by a scan.
    let rt = f("realtime.gp2-volume", "vol-rt", "us-east-1", t0);
    s.upsert_findings(&t.id, std::slice::from_ref(&rt)).await.unwrap();
    // A complete scan of us-east-1 at t2 saw only vol-0000..0009.
    let t2 = t1 + Duration::hours(1);
    let seen: Vec<Finding> =
        first[..10].iter().map(|x| Finding { first_seen: t2, last_seen: t2, ..x.clone() }).collect();
    s.upsert_findings(&t.id, &seen).await.unwrap();
    let account = acct();
    let scope =
        ResolveScope { account_id: &account, region: "us-east-1", rule_prefixes: &["ebs.", "logs."], seen_before: t2 };
    let mut resolved = s.resolve_unseen(&t.id, &scope, t2).await.unwrap();
    resolved.sort();
    assert_eq!(resolved.len(), 118 + 1, "118 volumes and the log group");
    assert!(resolved
        .contains(&"123456789012#logs.never-expire#arn:aws:logs:us-east-1:123456789012:log-group:a#b".to_owned()));
    assert!(!resolved.iter().any(|k| k.ends_with("vol-eu") || k.ends_with("vol-rt") || k.ends_with("vol-0003")));
    let gone = s.get_finding(&t.id, "123456789012#ebs.unattached-volume#vol-0100").await.unwrap().unwrap();
    assert_eq!(gone.status, FindingStatus::Resolved);
    assert_eq!(gone.resolved_at.map(|d| d.timestamp()), Some(t2.timestamp()));
    assert_eq!(s.resolve_unseen(&t.id, &scope, t2).await.unwrap(), Vec::<String>::new(), "resolving is idempotent");
    // Seen again: reopened, first_seen kept.
    let t3 = t2 + Duration::hours(1);
    let back = Finding { first_seen: t3, last_seen: t3, ..first[100].clone() };
    let up = s.upsert_findings(&t.id, &[back]).await.unwrap();
    assert_eq!(up.reopened, vec!["123456789012#ebs.unattached-volume#vol-0100".to_owned()]);
    let reopened = s.get_finding(&t.id, "123456789012#ebs.unattached-volume#vol-0100").await.unwrap().unwrap();
    assert_eq!((reopened.status, reopened.resolved_at), (FindingStatus::Open, None));
    assert_eq!(reopened.first_seen.timestamp(), t0.timestamp());
    // Listing pages through one account's findings only.
    let mut listed = 0;
    let mut req = PageRequest::first(40);
    loop {
        let p = s.list_findings(&t.id, Some(&account), &req).await.unwrap();
        listed += p.items.len();
        match p.next_cursor {
            Some(c) => req.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(listed, 131);
    assert!(s
        .list_findings(&t.id, Some(&AccountId::parse("999999999999").unwrap()), &PageRequest::first(10))
        .await
        .unwrap()
        .items
        .is_empty());
    // A key with '#' in the rule is refused before anything is written (an AccountId cannot hold one).
    let bad = f("ebs#x", "vol-1", "us-east-1", t0);
    assert!(matches!(s.upsert_findings(&t.id, &[bad]).await, Err(StoreError::Corrupt(_))));

    // Suppressions.
    let sup = Suppression {
        id: "s-1".into(),
        account_id: None,
        rule: None,
        resource_id: None,
        tag_key: Some("costradar".into()),
        tag_value: Some("ignore".into()),
        reason: "kept on purpose".into(),
    };
    s.save_suppression(&t.id, &sup).await.unwrap();
    assert_eq!(s.list_suppressions(&t.id).await.unwrap(), vec![sup.clone()]);
    assert!(s.delete_suppression(&t.id, "s-1").await.unwrap());
    assert!(!s.delete_suppression(&t.id, "s-1").await.unwrap());
    assert!(s.list_suppressions(&t.id).await.unwrap().is_empty());

    // Observations: the first sighting is kept; what left the condition is forgotten.
    let ids = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let seen = s.observe(&t.id, &account, "us-east-1", "ebs-unattached", &ids(&["vol-a", "vol-b"]), t0).await.unwrap();
    assert_eq!(seen.len(), 2);
    let seen = s.observe(&t.id, &account, "us-east-1", "ebs-unattached", &ids(&["vol-b", "vol-c"]), t1).await.unwrap();
    assert_eq!(seen["vol-b"].timestamp(), t0.timestamp());
    assert_eq!(seen["vol-c"].timestamp(), t1.timestamp());
    assert!(!seen.contains_key("vol-a"));
    let seen = s.observe(&t.id, &account, "us-east-1", "ebs-unattached", &ids(&["vol-a"]), t2).await.unwrap();
    assert_eq!(seen["vol-a"].timestamp(), t2.timestamp(), "attached and detached again starts afresh");
    let other = s.observe(&t.id, &account, "eu-west-1", "ebs-unattached", &[], t2).await.unwrap();
    assert!(other.is_empty(), "regions do not share memory");

    // Run records.
    let run = RunRecord::new("run-1", &t.id, vec![], t2);
    s.save_run(&t.id, &run, t2 + Duration::days(90)).await.unwrap();
    let got = s.get_run(&t.id, "run-1").await.unwrap().unwrap();
    assert_eq!(got.run_id, "run-1");
    assert_eq!(got.complete, 0);
    assert_eq!(got.finished_at.timestamp(), t2.timestamp());
    assert!(s.get_run(&t.id, "run-2").await.unwrap().is_none());
}

#[tokio::test]
async fn memory_store_keeps_the_finding_contract() {
    finding_contract(&MemoryStore::new()).await;
}

#[tokio::test]
async fn dynamodb_store_keeps_the_finding_contract_on_moto() {
    finding_contract(&costradar_tests::fresh_table("findings").await).await;
}

#[tokio::test]
async fn memory_store_keeps_the_contract() {
    contract(&MemoryStore::new()).await;
    event_contract(&MemoryStore::new()).await;
}

#[tokio::test]
async fn dynamodb_event_store_keeps_the_contract_on_moto() {
    event_contract(&costradar_tests::fresh_table("events").await).await;
}

#[tokio::test]
async fn dynamodb_store_keeps_the_contract_on_moto() {
    let store = costradar_tests::fresh_table("contract").await;
    contract(&store).await;
}

#[tokio::test]
async fn unavailable_table_is_a_transient_error() {
    let sdk = costradar_tests::sdk_config().await;
    let store = DynamoStore::from_sdk(&sdk, "no-such-table");
    match store.get_tenant(&TenantId::generate()).await {
        Err(StoreError::Unavailable(_)) => {}
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

fn acct() -> AccountId {
    AccountId::parse("123456789012").unwrap()
}

/// A finding of the triage contract: `n` picks its account, rule family, saving and sighting.
fn triage_finding(t: &TenantId, n: u32, at: chrono::DateTime<Utc>) -> costradar_core::domain::finding::Finding {
    use costradar_core::domain::finding::Finding;
    let rule = ["ebs.unattached-volume", "realtime.gp2-volume", "cur.gp2-volume", "coh.rightsize"][(n % 4) as usize];
    let account = if n.is_multiple_of(2) { acct() } else { AccountId::parse("210987654321").unwrap() };
    Finding {
        monthly_savings_usd: (n % 10 != 9).then(|| rust_decimal::Decimal::new(i64::from(n) * 137, 2)),
        ..Finding::open(
            t.clone(),
            account,
            "us-east-1",
            rule,
            format!("vol-{n:04}"),
            format!("f{n}"),
            at + Duration::minutes(i64::from(n)),
        )
    }
}

/// Every page of a findings query, and how many pages it took.
async fn all_pages<S: TriageStore + ?Sized>(
    s: &S,
    t: &TenantId,
    filter: &FindingFilter,
    sort: FindingSort,
    limit: u32,
) -> (Vec<costradar_core::domain::finding::Finding>, usize) {
    let (mut out, mut pages, mut req) = (Vec::new(), 0, PageRequest::first(limit));
    loop {
        let p = s.query_findings(t, filter, sort, &req).await.unwrap();
        pages += 1;
        assert!(p.items.len() <= limit as usize);
        out.extend(p.items);
        match p.next_cursor {
            Some(c) => req.cursor = Some(c),
            None => return (out, pages),
        }
    }
}

/// Findings as people page through them: both orders, filters (key condition and
/// FilterExpression), cursors bound to their order and tenant.
async fn triage_query_contract<S: ScanStore + EventStore + TriageStore + ?Sized>(s: &S) {
    use costradar_core::domain::finding::FindingStatus;
    use costradar_core::domain::triage::Source;
    let mut t = tenant("Triage");
    s.save_tenant(&mut t).await.unwrap();
    let mut other = tenant("Other");
    s.save_tenant(&mut other).await.unwrap();
    let t0 = Utc::now() - Duration::days(1);
    let all: Vec<_> = (0..40).map(|n| triage_finding(&t.id, n, t0)).collect();
    s.upsert_findings(&t.id, &all).await.unwrap();
    s.upsert_findings(&other.id, &[triage_finding(&other.id, 99, t0)]).await.unwrap();
    let none = FindingFilter::default();
    let (by_saving, pages) = all_pages(s, &t.id, &none, FindingSort::Savings, 15).await;
    assert_eq!((by_saving.len(), pages), (40, 3), "another tenant's finding never shows");
    let amounts: Vec<_> = by_saving.iter().map(|f| f.monthly_savings_usd.unwrap_or_default()).collect();
    assert!(amounts.windows(2).all(|w| w[0] >= w[1]), "largest saving first: {amounts:?}");
    let (by_time, _) = all_pages(s, &t.id, &none, FindingSort::FirstSeen, 7).await;
    assert!(by_time.windows(2).all(|w| w[0].first_seen >= w[1].first_seen), "newest first");
    assert_eq!(by_time[0].resource_id, "vol-0039");
    // A minimum saving is the savings order's key condition: nothing below it is read.
    let min = FindingFilter { min_monthly_savings_usd: Some("40".parse().unwrap()), ..Default::default() };
    let (rich, pages) = all_pages(s, &t.id, &min, FindingSort::Savings, 100).await;
    assert_eq!((rich.len(), pages), (9, 1), "{:?}", rich.iter().map(|f| f.monthly_savings_usd).collect::<Vec<_>>());
    let (rich_by_time, _) = all_pages(s, &t.id, &min, FindingSort::FirstSeen, 100).await;
    assert_eq!(rich_by_time.len(), 9);
    // Filters: a page reads `limit` entries, then filters them.
    let scan = FindingFilter { source: Some(Source::Scan), account_id: Some(acct()), ..Default::default() };
    let (scan_found, pages) = all_pages(s, &t.id, &scan, FindingSort::Savings, 10).await;
    assert_eq!(scan_found.len(), 10, "every 4th of 40");
    // The in-memory store reads 10 a page; the DynamoDB adapter reads 10 from each of its index
    // shards (keys::SHARDS Queries a page, merged: docs/scale.md), so it may need fewer pages.
    let fewest = 40usize.div_ceil(10 * costradar_core::store::keys::SHARDS as usize);
    assert!((fewest..=5).contains(&pages), "40 read in pages of 10 (a full last page may have a cursor): {pages}");
    let filters = [
        (FindingFilter { service: Some("coh".into()), ..Default::default() }, 10),
        (FindingFilter { source: Some(Source::AwsRecommender), ..Default::default() }, 10),
        (FindingFilter { rule: Some("cur.gp2-volume".into()), ..Default::default() }, 10),
        (FindingFilter { region: Some("eu-west-1".into()), ..Default::default() }, 0),
        (FindingFilter { status: Some(FindingStatus::Resolved), ..Default::default() }, 0),
        (FindingFilter { resource_contains: Some("-001".into()), ..Default::default() }, 10),
    ];
    for (f, expected) in filters {
        let (found, _) = all_pages(s, &t.id, &f, FindingSort::FirstSeen, 100).await;
        assert_eq!(found.len(), expected, "{f:?}");
        assert!(found.iter().all(|x| f.matches(x)));
    }
    // Cursors: of their own order only, and never of another shape.
    let first = s.query_findings(&t.id, &none, FindingSort::Savings, &PageRequest::first(5)).await.unwrap();
    let cursor = first.next_cursor.unwrap();
    let wrong_order = PageRequest { limit: Some(5), cursor: Some(cursor.clone()) };
    assert_eq!(
        s.query_findings(&t.id, &none, FindingSort::FirstSeen, &wrong_order).await,
        Err(StoreError::InvalidCursor)
    );
    for bad in ["", "%%%", "AAAA", &"A".repeat(2000)] {
        let req = PageRequest { limit: Some(5), cursor: Some(bad.to_owned()) };
        assert_eq!(
            s.query_findings(&t.id, &none, FindingSort::Savings, &req).await,
            Err(StoreError::InvalidCursor),
            "{bad}"
        );
    }
    // Keys near DynamoDB's limits (a long log group name) page in both listings.
    let long: Vec<_> = (0..3)
        .map(|n| costradar_core::domain::finding::Finding {
            resource_id: format!("arn:aws:logs:us-east-1:123456789012:log-group:/{}{n}", "x".repeat(600)),
            ..triage_finding(&other.id, n, t0)
        })
        .collect();
    s.upsert_findings(&other.id, &long).await.unwrap();
    let (paged, pages) = all_pages(s, &other.id, &none, FindingSort::Savings, 1).await;
    assert_eq!((paged.len(), pages >= 4), (4, true));
    let (mut listed, mut req) = (0, PageRequest::first(1));
    loop {
        let p = s.list_findings(&other.id, None, &req).await.unwrap();
        listed += p.items.len();
        match p.next_cursor {
            Some(c) => req.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(listed, 4);
    // Another tenant's cursor reads this tenant's partition only.
    let theirs = s.query_findings(&other.id, &none, FindingSort::Savings, &wrong_order).await.unwrap();
    assert!(theirs.items.is_empty() || theirs.items.iter().all(|f| f.tenant_id == other.id));
}

/// People's changes: one transaction with the history entry and the suppression, optimistic
/// concurrency on the change count, history kept apart from a longer key's.
async fn triage_change_contract<S: ScanStore + EventStore + TriageStore + ?Sized>(s: &S) {
    use costradar_core::domain::finding::FindingStatus;
    use costradar_core::domain::triage::{FindingChange, Triage, TriageAction};
    let mut t = tenant("Changes");
    s.save_tenant(&mut t).await.unwrap();
    let now = Utc::now();
    let mut a = triage_finding(&t.id, 0, now);
    a.resource_id = "/aws/lambda/a".into();
    let mut b = a.clone();
    b.resource_id = "/aws/lambda/a#b".into();
    s.upsert_findings(&t.id, &[a.clone(), b.clone()]).await.unwrap();
    let change = |key: String, seq: u32, action: TriageAction| FindingUpdate {
        key,
        expected_changes: seq - 1,
        triage: Triage { changes: seq, owner: Some("team".into()), ..Default::default() },
        suppress: None,
        suppression: None,
        entry: FindingChange {
            seq,
            at: now + Duration::seconds(i64::from(seq)),
            by: "ops".into(),
            caller: "operator".into(),
            action,
        },
    };
    s.change_finding(&t.id, &change(a.key(), 1, TriageAction::Assign { owner: "team".into() })).await.unwrap();
    s.change_finding(&t.id, &change(b.key(), 1, TriageAction::Acknowledge)).await.unwrap();
    assert_eq!(
        s.change_finding(&t.id, &change(a.key(), 1, TriageAction::Acknowledge)).await,
        Err(StoreError::VersionConflict),
        "a change computed from a stale count"
    );
    let missing = format!("{}#ebs.unattached-volume#vol-none", acct());
    assert_eq!(
        s.change_finding(&t.id, &change(missing, 1, TriageAction::Acknowledge)).await,
        Err(StoreError::NotFound)
    );
    let sup = costradar_core::domain::finding::Suppression {
        id: "finding-abc".into(),
        account_id: Some(a.account_id.clone()),
        rule: Some(a.rule.clone()),
        resource_id: Some(a.resource_id.clone()),
        tag_key: None,
        tag_value: None,
        reason: "drill".into(),
    };
    let mut suppress = change(a.key(), 2, TriageAction::Suppress { reason: "drill".into() });
    suppress.suppress = Some((FindingStatus::Suppressed, "finding-abc: drill".into()));
    suppress.triage.suppression_id = Some("finding-abc".into());
    suppress.suppression = Some(sup.clone());
    s.change_finding(&t.id, &suppress).await.unwrap();
    let got = s.get_finding(&t.id, &a.key()).await.unwrap().unwrap();
    assert_eq!((got.status, got.suppressed_by.as_deref()), (FindingStatus::Suppressed, Some("finding-abc: drill")));
    assert_eq!(got.triage.as_ref().map(|t| t.changes), Some(2));
    assert_eq!(s.list_suppressions(&t.id).await.unwrap(), vec![sup]);
    let history = s.finding_history(&t.id, &a.key()).await.unwrap();
    let actions: Vec<&str> = history.iter().map(|h| h.action.name()).collect();
    assert_eq!(actions, ["assign", "suppress"], "b's entries share the prefix but are not a's");
    assert_eq!(s.finding_history(&t.id, &b.key()).await.unwrap().len(), 1);
    // A later sighting keeps what people decided.
    let seen = costradar_core::domain::finding::Finding { last_seen: now + Duration::hours(1), ..a.clone() };
    s.upsert_findings(&t.id, &[seen]).await.unwrap();
    let kept = s.get_finding(&t.id, &a.key()).await.unwrap().unwrap();
    assert_eq!((kept.status, kept.triage.map(|t| t.changes)), (FindingStatus::Suppressed, Some(2)));
}

/// Events and runs newest first, one page at a time; the ledger's open and realised savings.
async fn triage_feed_and_ledger_contract<S: ScanStore + EventStore + TriageStore + ?Sized>(s: &S) {
    let mut t = tenant("Feed");
    s.save_tenant(&mut t).await.unwrap();
    let t0 = Utc::now() - Duration::hours(3);
    let ttl = Utc::now() + Duration::days(90);
    for n in 0..9 {
        let account = if n % 3 == 0 { "210987654321" } else { "123456789012" };
        let kind = if n % 2 == 0 { "ec2.run-instances" } else { "ebs.create-volume" };
        let body = serde_json::json!({"event_id": format!("ev-{n}"), "kind": kind, "account": account,
            "received_at": t0 + Duration::minutes(n)});
        s.record_event(&t.id, &format!("ev-{n}"), &body, None, ttl).await.unwrap();
    }
    s.record_event(&t.id, "ev-old", &serde_json::json!({"kind": "unknown"}), None, ttl).await.unwrap();
    let mut ids = Vec::new();
    let mut req = PageRequest::first(4);
    loop {
        let p = s.list_events(&t.id, &EventFilter::default(), &req).await.unwrap();
        ids.extend(p.items.iter().map(|e| e["event_id"].as_str().unwrap().to_owned()));
        match p.next_cursor {
            Some(c) => req.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(
        ids,
        (0..9).rev().map(|n| format!("ev-{n}")).collect::<Vec<_>>(),
        "newest first; no received_at, not listed"
    );
    let filter = EventFilter { account_id: Some(acct()), kind: Some("ebs.create-volume".into()) };
    let p = s.list_events(&t.id, &filter, &PageRequest::first(100)).await.unwrap();
    let got: Vec<&str> = p.items.iter().map(|e| e["event_id"].as_str().unwrap()).collect();
    assert_eq!(got, ["ev-7", "ev-5", "ev-1"]);
    let bad = PageRequest { limit: Some(4), cursor: Some("bm90IGFuIGV2ZW50".into()) };
    assert_eq!(s.list_events(&t.id, &EventFilter::default(), &bad).await, Err(StoreError::InvalidCursor));

    for n in 0..5 {
        let run = costradar_core::domain::scan_run::RunRecord::new(
            &format!("run-{}", 9 - n),
            &t.id,
            vec![],
            t0 + Duration::minutes(n),
        );
        s.save_run(&t.id, &run, ttl).await.unwrap();
    }
    let first = s.list_runs(&t.id, &PageRequest::first(3)).await.unwrap();
    let second = s.list_runs(&t.id, &PageRequest { limit: Some(3), cursor: first.next_cursor.clone() }).await.unwrap();
    let runs: Vec<String> = first.items.iter().chain(&second.items).map(|r| r.run_id.clone()).collect();
    assert_eq!(runs, ["run-5", "run-6", "run-7", "run-8", "run-9"], "by finished_at, not by id");

    // The ledger: resolution records a realised saving once; a reopening withdraws it.
    let fs: Vec<_> = (0..4).map(|n| triage_finding(&t.id, n * 4, t0)).collect();
    s.upsert_findings(&t.id, &fs).await.unwrap();
    let open: rust_decimal::Decimal = s.open_savings(&t.id).await.unwrap().iter().map(|o| o.monthly_savings_usd).sum();
    assert_eq!(open, rust_decimal::Decimal::new((4 + 8 + 12) * 137, 2), "vol-0000 saves nothing");
    let account = acct();
    let cut = Utc::now();
    let scope = ResolveScope { account_id: &account, region: "us-east-1", rule_prefixes: &["ebs."], seen_before: cut };
    let keep = costradar_core::domain::finding::Finding { last_seen: cut + Duration::seconds(1), ..fs[3].clone() };
    s.upsert_findings(&t.id, &[keep]).await.unwrap();
    for _ in 0..2 {
        s.resolve_unseen(&t.id, &scope, cut).await.unwrap();
    }
    let realised = s.realised_savings(&t.id).await.unwrap();
    let mut got: Vec<(String, rust_decimal::Decimal)> =
        realised.iter().map(|r| (r.resource_id.clone(), r.monthly_savings_usd)).collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("vol-0004".to_owned(), rust_decimal::Decimal::new(548, 2)),
            ("vol-0008".to_owned(), rust_decimal::Decimal::new(1096, 2))
        ]
    );
    assert_eq!(s.open_savings(&t.id).await.unwrap().len(), 1, "vol-0012 is still open");
    let back = costradar_core::domain::finding::Finding { last_seen: cut + Duration::seconds(2), ..fs[1].clone() };
    s.upsert_findings(&t.id, &[back]).await.unwrap();
    let left: Vec<String> = s.realised_savings(&t.id).await.unwrap().into_iter().map(|r| r.resource_id).collect();
    assert_eq!(left, ["vol-0008"], "vol-0004 came back: its saving did not last");
}

#[tokio::test]
async fn memory_store_keeps_the_triage_contract() {
    let s = MemoryStore::new();
    triage_query_contract(&s).await;
    triage_change_contract(&s).await;
    triage_feed_and_ledger_contract(&s).await;
}

#[tokio::test]
async fn dynamodb_store_keeps_the_triage_contract_on_moto() {
    let s = costradar_tests::fresh_table("triage").await;
    triage_query_contract(&s).await;
    triage_change_contract(&s).await;
    triage_feed_and_ledger_contract(&s).await;
}
