//! Issue #20: a scan run at 2,000 accounts, the distributed Map's contract played against moto.
//!
//! aws-local-stepfunctions cannot run the Map's S3 reader and writer (docs/workflows.md), so
//! this harness plays what Step Functions does between the tasks, with the real task code, the
//! DynamoDB store and the S3 runs bucket on moto:
//!
//! 1. `list_due_accounts` over 2,000 due accounts of seven tenants (one with 1,400) plus accounts
//!    that are not due or not active, read through the due index (no Scan);
//! 2. the JSON Lines it wrote are read back as the ItemReader reads them;
//! 3. each item runs `scan_account` (the real task, its scanner on a stub session that makes no
//!    customer-side call; a few accounts deny AssumeRole, caught as the ASL's ScanFailed does),
//!    at most `MAX_CONCURRENCY` at once, as the Map's MaxConcurrency bounds them. The children
//!    run over an in-memory copy of the accounts: 2,000 scans' own reads and writes on moto took
//!    more than 15 minutes on a 2-core machine, and they are not the Map's contract (a scan's
//!    store traffic on moto is what `scan_moto*` test);
//! 4. the ResultWriter's files (manifest.json, SUCCEEDED_0.json, FAILED_0.json) are written in
//!    AWS's shape (`costradar_core::scan::tasks::runs::write_result_files`), two children failed;
//! 5. `finish_run` reads them and writes the run records.
//!
//! It asserts every account's result is in a run record and the fairness order of the list, and
//! prints the wall time and the DynamoDB and S3 calls (figures, not assertions).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use costradar_aws::runs_bucket::S3RunObjects;
use costradar_aws::DynamoStore;
use costradar_core::access::AssumeError;
use costradar_core::domain::scan_run::ScanStatus;
use costradar_core::domain::*;
use costradar_core::rules::facts::Recommendation;
use costradar_core::scan::tasks::runs::{write_result_files, ChildOutcome, DueAccount};
use costradar_core::scan::tasks::{RunObjects, ScanTasks};
use costradar_core::scan::{
    AccountSession, AccountWide, Listed, MetricsWindow, RegionScan, Scanner, SessionOpener, Target,
};
use costradar_core::store::keys::DUE_SHARDS;
use costradar_core::store::{AccountStore, Claim, MemoryStore, PageRequest, RunStore, StoreError, TenantStore};
use costradar_core::workflow::TaskError;
use costradar_tests::sdk_config;
use serde_json::json;

const MAX_CONCURRENCY: usize = 10;
const BIG: usize = 1_400;
const SMALL: usize = 100;
const SMALL_TENANTS: usize = 6;

/// Counts the SDK calls a client makes.
#[derive(Clone, Debug, Default)]
struct Calls(Arc<AtomicUsize>);

impl Calls {
    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl aws_sdk_dynamodb::config::Intercept for Calls {
    fn name(&self) -> &'static str {
        "count-calls"
    }
    fn read_before_execution(
        &self,
        _: &aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef<'_>,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// A customer account that answers every read with nothing, without a call; the accounts in
/// `denied` deny AssumeRole.
struct Stub {
    denied: BTreeSet<String>,
}

struct EmptySession;

#[async_trait]
impl SessionOpener for Stub {
    async fn open(&self, target: &Target<'_>, _: DateTime<Utc>) -> Result<Arc<dyn AccountSession>, AssumeError> {
        if self.denied.contains(target.account_id.as_str()) {
            return Err(AssumeError::AccessDenied("AccessDenied on sts:AssumeRole".into()));
        }
        Ok(Arc::new(EmptySession))
    }
}

#[async_trait]
impl AccountSession for EmptySession {
    async fn enabled_regions(&self) -> AccountWide<Vec<String>> {
        AccountWide { value: Some(vec!["us-east-1".into()]), api_calls: 0, errors: vec![] }
    }
    async fn scan_region(&self, _: &str, _: &MetricsWindow) -> RegionScan {
        RegionScan { inventory: Default::default(), listed: Listed::all(), api_calls: 0, errors: vec![] }
    }
    async fn recommendations(&self, _: &AccountId) -> AccountWide<Vec<Recommendation>> {
        AccountWide { value: Some(vec![]), api_calls: 0, errors: vec![] }
    }
}

fn stub_scanner<S: costradar_core::scan::ScanFindingStore + 'static>(
    store: &Arc<S>,
    denied: &BTreeSet<String>,
) -> Scanner {
    Scanner::new(Arc::new(Stub { denied: denied.clone() }), store.clone(), costradar_core::pricing::bundled())
}

struct World {
    store: Arc<DynamoStore>,
    /// The same tenants and accounts, for the children's scans.
    memory: Arc<MemoryStore>,
    objects: Arc<S3RunObjects>,
    dynamodb: Calls,
    s3: Calls,
    tenants: Vec<(TenantId, usize)>,
}

async fn world() -> World {
    let sdk = sdk_config().await;
    let dynamodb = Calls::default();
    let conf = aws_sdk_dynamodb::config::Builder::from(&sdk).interceptor(dynamodb.clone()).build();
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let table = format!("scan-scale-{}-{n}", std::process::id());
    let store = Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(conf), table));
    store.create_table().await.unwrap();
    let s3 = Calls::default();
    let bucket = format!("costradar-runs-scale-{}-{n}", std::process::id());
    let conf = aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build();
    aws_sdk_s3::Client::from_conf(conf.clone()).create_bucket().bucket(&bucket).send().await.unwrap();
    let counted =
        aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).interceptor(S3Calls(s3.clone())).build();
    let objects = Arc::new(S3RunObjects::new(aws_sdk_s3::Client::from_conf(counted), bucket));
    let mut sizes = vec![BIG];
    sizes.extend([SMALL; SMALL_TENANTS]);
    let mut tenants = Vec::new();
    let memory = Arc::new(MemoryStore::new());
    for (i, n) in sizes.into_iter().enumerate() {
        let mut t = Tenant::new(TenantId::generate(), format!("Tenant {i}"), ExternalId::generate(), Utc::now());
        store.save_tenant(&mut t).await.unwrap();
        t.version = 0;
        memory.save_tenant(&mut t).await.unwrap();
        tenants.push((t.id, n));
    }
    World { store, memory, objects, dynamodb, s3, tenants }
}

#[derive(Clone, Debug)]
struct S3Calls(Calls);

impl aws_sdk_s3::config::Intercept for S3Calls {
    fn name(&self) -> &'static str {
        "count-s3-calls"
    }
    fn read_before_execution(
        &self,
        _: &aws_sdk_s3::config::interceptors::BeforeSerializationInterceptorContextRef<'_>,
        _: &mut aws_sdk_s3::config::ConfigBag,
    ) -> Result<(), aws_sdk_s3::error::BoxError> {
        self.0 .0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// Saves `n` accounts of `tenant`, ids from `first`, with `setup` applied to each, 32 at a time.
async fn accounts(
    w: &World,
    tenant: &TenantId,
    first: u64,
    n: usize,
    setup: fn(&mut Account, usize),
) -> Vec<AccountId> {
    let limit = Arc::new(tokio::sync::Semaphore::new(32));
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        let (store, memory, tenant, limit) = (w.store.clone(), w.memory.clone(), tenant.clone(), limit.clone());
        set.spawn(async move {
            let _permit = limit.acquire().await.unwrap();
            let id = format!("{:012}", first + i as u64);
            let role = RoleArn::parse(&format!("arn:aws:iam::{id}:role/CostradarReadOnly")).unwrap();
            let now = Utc::now();
            let mut a = Account::new_pending(tenant, role, vec!["us-east-1".into()], None, Registration::Manual, now);
            a.transition(AccountStatus::Active, "verified", now).unwrap();
            setup(&mut a, i);
            let mut copy = a.clone();
            store.save_account(&mut a, Claim::Keep).await.unwrap();
            memory.save_account(&mut copy, Claim::Keep).await.unwrap();
            a.account_id
        });
    }
    let mut ids = Vec::new();
    while let Some(id) = set.join_next().await {
        ids.push(id.unwrap());
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_thousand_accounts_run_through_the_distributed_map_contract_with_every_result_recorded() {
    let w = world().await;
    // Due: never scanned (every third) or overdue by up to a day. Not due: 100 scanned a moment
    // ago, 20 revoked and 10 pending (never in the index).
    let mut first = 100_000_000_000u64;
    let mut due = BTreeSet::new();
    for (t, n) in &w.tenants {
        let ids = accounts(&w, t, first, *n, |a, i| {
            a.next_scan_at = (i % 3 != 0).then(|| Utc::now() - Duration::minutes(i as i64 % 1_440));
        })
        .await;
        due.extend(ids.into_iter().map(|a| (t.clone(), a)));
        first += 10_000;
    }
    let big = w.tenants[0].0.clone();
    accounts(&w, &big, 900_000_000_000, 100, |a, _| a.next_scan_at = Some(Utc::now() + Duration::hours(23))).await;
    accounts(&w, &big, 910_000_000_000, 20, |a, _| {
        a.transition(AccountStatus::Revoked, "AssumeRole denied", Utc::now()).unwrap()
    })
    .await;
    accounts(&w, &big, 920_000_000_000, 10, |a, _| {
        *a = Account::new_pending(
            a.tenant_id.clone(),
            a.role_arn.clone(),
            vec![],
            None,
            Registration::Manual,
            Utc::now(),
        );
    })
    .await;
    assert_eq!(due.len(), BIG + SMALL * SMALL_TENANTS);

    let denied: BTreeSet<String> = due.iter().step_by(700).map(|(_, a)| a.to_string()).collect();
    let tasks = Arc::new(
        ScanTasks::new(stub_scanner(&w.store, &denied), w.store.clone(), Arc::new(SystemClock))
            .with_run_objects(w.objects.clone()),
    );
    // The children's scan task, over the in-memory copy.
    let children_tasks =
        Arc::new(ScanTasks::new(stub_scanner(&w.memory, &denied), w.memory.clone(), Arc::new(SystemClock)));
    let run = "scale-run-1";
    let started = Instant::now();

    // 1. The list, from the due index.
    let (d0, s0) = (w.dynamodb.get(), w.s3.get());
    let listed = tasks.list_due_accounts(run).await.unwrap();
    let list_calls = (w.dynamodb.get() - d0, w.s3.get() - s0);
    let list_time = started.elapsed();
    assert_eq!((listed.count, listed.deferred), (due.len(), 0));
    assert_eq!(listed.key, "runs/scale-run-1/accounts.jsonl");
    assert!(serde_json::to_vec(&listed).unwrap().len() < 300, "the state holds a small object");
    // DUE_SHARDS Queries plus one per page of 100, and one GetItem per tenant: no Scan.
    let shards = DUE_SHARDS as usize;
    assert!(list_calls.0 <= shards + due.len() / 100 + shards + w.tenants.len(), "{list_calls:?}");

    // 2. The items, as the ItemReader reads them.
    let body = w.objects.get(&listed.key).await.unwrap().unwrap();
    let items: Vec<DueAccount> =
        String::from_utf8(body).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let got: BTreeSet<(TenantId, AccountId)> =
        items.iter().map(|a| (a.tenant_id.clone(), a.account_id.clone())).collect();
    assert_eq!(got, due, "every due account once, nothing else");
    assert_eq!(items.len(), due.len());
    // Fairness: a tenant's j-th account (from 0) is within the first (j + 1) x tenants lines,
    // so the small tenants' accounts all come in the first 700 lines, not after the big one's 1,400.
    let mut seen: BTreeMap<&TenantId, usize> = BTreeMap::new();
    for (line, a) in items.iter().enumerate() {
        let j = seen.entry(&a.tenant_id).or_default();
        assert!(line < (*j + 1) * w.tenants.len(), "line {line}: {}'s account {j}", a.tenant_id);
        *j += 1;
    }
    let last_small = items.iter().rposition(|a| a.tenant_id != big).unwrap();
    assert!(last_small < SMALL * (SMALL_TENANTS + 1), "the last small-tenant account is line {last_small}");

    // 3. One child per item, at most MAX_CONCURRENCY at once, through the real scan task.
    let scan_started = Instant::now();
    let limit = Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENCY));
    let mut set = tokio::task::JoinSet::new();
    let failed_children: BTreeSet<usize> = [5, 1_234].into();
    for (i, item) in items.iter().cloned().enumerate() {
        let (tasks, limit) = (children_tasks.clone(), limit.clone());
        let input = json!({"run_id": run, "tenant_id": item.tenant_id, "account_id": item.account_id});
        let fails = failed_children.contains(&i);
        set.spawn(async move {
            let _permit = limit.acquire().await.unwrap();
            if fails {
                // A child that fails outright (not the scan's own error, which the ASL catches).
                let outcome =
                    ChildOutcome::Failed { error: "States.Timeout".into(), cause: "child execution timed out".into() };
                return (i, input, outcome);
            }
            let outcome = match tasks.scan_account(run, &item.tenant_id, &item.account_id).await {
                Ok(out) => ChildOutcome::Succeeded(serde_json::to_value(out).unwrap()),
                // The ASL's ScanFailed: the caught error is the item's result.
                Err(e @ TaskError::AccountRevoked(_)) => ChildOutcome::Succeeded(json!({
                    "tenant_id": item.tenant_id, "account_id": item.account_id, "status": "failed",
                    "error": {"Error": e.error_type(), "Cause": e.to_string()}})),
                Err(e) => panic!("{}: {e}", item.account_id),
            };
            (i, input, outcome)
        });
    }
    let mut children = Vec::new();
    while let Some(c) = set.join_next().await {
        children.push(c.unwrap());
    }
    children.sort_by_key(|c| c.0);
    let scan_time = scan_started.elapsed();
    let children: Vec<_> = children.into_iter().map(|(_, input, outcome)| (input, outcome)).collect();

    // 4. The ResultWriter's files; 5. finish_run reads them.
    let at = write_result_files(w.objects.as_ref(), run, &children).await.unwrap();
    let (d1, s1) = (w.dynamodb.get(), w.s3.get());
    let finish_started = Instant::now();
    let totals = tasks.finish_run(run, &at).await.unwrap();
    let finish_time = finish_started.elapsed();
    let finish_calls = (w.dynamodb.get() - d1, w.s3.get() - s1);

    assert_eq!(totals.accounts as usize, due.len());
    assert_eq!(totals.failed as usize, denied.len() + failed_children.len());
    assert_eq!(totals.complete as usize, due.len() - denied.len() - failed_children.len());
    let mut recorded = BTreeSet::new();
    for (t, n) in &w.tenants {
        let record = w.store.get_run(t, run).await.unwrap().expect("a run record per tenant");
        assert_eq!(record.accounts.len(), *n, "every account of {t} has its entry");
        for a in &record.accounts {
            let key = (t.clone(), a.account_id.clone());
            if denied.contains(a.account_id.as_str()) {
                assert_eq!(
                    (a.status, a.error.as_ref().unwrap().error_type.as_str()),
                    (ScanStatus::Failed, "AccountRevoked")
                );
            } else if a.status == ScanStatus::Failed {
                assert_eq!(a.error.as_ref().unwrap().error_type, "States.Timeout", "{}", a.account_id);
            } else {
                assert_eq!(a.status, ScanStatus::Complete);
            }
            recorded.insert(key);
        }
    }
    assert_eq!(recorded, due, "every account's result is in its tenant's run record");
    // Scanned: none is due any more, except the revoked (no longer active) and the two whose
    // child failed before scanning.
    let again = ScanTasks::new(stub_scanner(&w.memory, &denied), w.memory.clone(), Arc::new(SystemClock))
        .with_run_objects(Arc::new(costradar_core::scan::tasks::MemoryRunObjects::new("b")))
        .list_due_accounts("scale-run-2")
        .await
        .unwrap();
    assert_eq!(again.count, failed_children.len(), "only the accounts whose child failed are still due");

    println!(
        "scan_scale: {} accounts of {} tenants, MaxConcurrency {MAX_CONCURRENCY}: list_due_accounts {:.2?} \
         ({} DynamoDB, {} S3 calls); scans {:.2?} ({:.1} accounts/s: in-memory store, stub customer side); \
         finish_run {:.2?} ({} DynamoDB, {} S3 calls); total {:.2?}, {} DynamoDB and {} S3 calls in all",
        due.len(),
        w.tenants.len(),
        list_time,
        list_calls.0,
        list_calls.1,
        scan_time,
        due.len() as f64 / scan_time.as_secs_f64(),
        finish_time,
        finish_calls.0,
        finish_calls.1,
        started.elapsed(),
        w.dynamodb.get(),
        w.s3.get(),
    );
}

#[tokio::test]
async fn the_due_index_pages_and_refuses_forged_cursors_on_dynamodb() {
    let w = world().await;
    let t = w.tenants[1].0.clone();
    let ids =
        accounts(&w, &t, 300_000_000_000, 250, |a, i| a.next_scan_at = Some(Utc::now() - Duration::minutes(i as i64)))
            .await;
    let mut seen = Vec::new();
    for shard in 0..DUE_SHARDS {
        let mut req = PageRequest::first(7);
        loop {
            let page = w.store.list_due_accounts(shard, Utc::now(), &req).await.unwrap();
            assert!(page.items.len() <= 7);
            let times: Vec<_> = page.items.iter().map(|a| a.next_scan_at).collect();
            assert!(times.windows(2).all(|w| w[0] <= w[1]), "soonest due first within a shard");
            seen.extend(page.items.into_iter().map(|a| a.account_id));
            match page.next_cursor {
                Some(c) => req.cursor = Some(c),
                None => break,
            }
        }
    }
    seen.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(seen, expected, "every due account once across the shards and pages");
    // Not due yet: none.
    let early = Utc::now() - Duration::days(2);
    for shard in 0..DUE_SHARDS {
        assert!(w.store.list_due_accounts(shard, early, &PageRequest::first(100)).await.unwrap().items.is_empty());
    }
    // Forged or foreign cursors: InvalidCursor, never another partition's items.
    let b64 = costradar_core::store::keys::encode_cursor;
    for bad in [
        "%%%".to_owned(),
        b64("REGISTRY#t-0000000000000000"),
        b64("2026-01-01T00:00:00.000000Z#t-1#111122223333"),
        b64(&"x".repeat(500)),
    ] {
        let req = PageRequest { limit: Some(10), cursor: Some(bad.clone()) };
        assert_eq!(
            w.store.list_due_accounts(0, Utc::now(), &req).await.unwrap_err(),
            StoreError::InvalidCursor,
            "{bad}"
        );
    }
    // An item from before the due index (no GSI1 keys) is not listed until index_due_accounts.
    let old = &ids[1];
    let sdk = sdk_config().await;
    aws_sdk_dynamodb::Client::new(&sdk)
        .update_item()
        .table_name(w.store.table())
        .key("PK", aws_sdk_dynamodb::types::AttributeValue::S(format!("REGISTRY#{t}")))
        .key("SK", aws_sdk_dynamodb::types::AttributeValue::S(format!("ACCOUNT#{old}")))
        .update_expression("REMOVE GSI1PK, GSI1SK")
        .send()
        .await
        .unwrap();
    let listed = |w: &World| {
        let store = w.store.clone();
        async move {
            let mut all = Vec::new();
            for shard in 0..DUE_SHARDS {
                all.extend(store.list_due_accounts(shard, Utc::now(), &PageRequest::first(100)).await.unwrap().items);
            }
            all.into_iter().map(|a| a.account_id).collect::<BTreeSet<_>>()
        }
    };
    assert!(!listed(&w).await.contains(old));
    let tasks = ScanTasks::new(stub_scanner(&w.store, &BTreeSet::new()), w.store.clone(), Arc::new(SystemClock));
    let out = tasks.handle(&json!({"task": "index_due_accounts"})).await.unwrap();
    assert!(out["indexed"].as_u64().unwrap() >= ids.len() as u64, "{out}");
    assert_eq!(listed(&w).await, ids.iter().cloned().collect(), "every active account is back in the index");
    // Deactivated: out of the index at its next save.
    let mut a = w.store.get_account(&t, &ids[0]).await.unwrap().unwrap();
    a.transition(AccountStatus::Revoked, "gone", Utc::now()).unwrap();
    w.store.save_account(&mut a, Claim::Keep).await.unwrap();
    let mut n = 0;
    for shard in 0..DUE_SHARDS {
        n += w.store.list_due_accounts(shard, Utc::now(), &PageRequest::first(100)).await.unwrap().items.len();
    }
    assert_eq!(n, ids.len() - 1);
}
