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
