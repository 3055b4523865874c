//! Translates a Step Functions task payload into a `ScanTasks` call and its error into the
//! `Diagnostic` whose `error_type` the state machine's Retry and Catch match on.

use costradar_core::scan::tasks::ScanTasks;
use lambda_runtime::{Diagnostic, LambdaEvent};

pub async fn handle(tasks: &ScanTasks, event: LambdaEvent<serde_json::Value>) -> Result<serde_json::Value, Diagnostic> {
    tasks.handle(&event.payload).await.map_err(|e| {
        tracing::warn!(error_type = e.error_type(), "scan task failed: {e}");
        Diagnostic { error_type: e.error_type().into(), error_message: e.to_string() }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use async_trait::async_trait;
    use chrono::{DateTime, Utc};
    use costradar_core::access::AssumeError;
    use costradar_core::domain::*;
    use costradar_core::rules::facts::{Recommendation, RegionInventory, Volume};
    use costradar_core::scan::{
        AccountSession, AccountWide, Listed, MetricsWindow, RegionScan, Scanner, SessionOpener, Target,
    };
    use costradar_core::store::{AccountStore, Claim, MemoryStore, TenantStore};
    use lambda_runtime::{Context, LambdaEvent};
    use serde_json::{json, Value};

    use super::*;

    /// A customer account with one unattached volume per region, or a role that is gone.
    struct Fake {
        deny: bool,
    }

    struct FakeSession;

    #[async_trait]
    impl SessionOpener for Fake {
        async fn open(&self, _: &Target<'_>, _: DateTime<Utc>) -> Result<Arc<dyn AccountSession>, AssumeError> {
            if self.deny {
                Err(AssumeError::AccessDenied("not authorized to perform sts:AssumeRole".into()))
            } else {
                Ok(Arc::new(FakeSession))
            }
        }
    }

    #[async_trait]
    impl AccountSession for FakeSession {
        async fn enabled_regions(&self) -> AccountWide<Vec<String>> {
            AccountWide { value: Some(vec!["eu-west-1".into(), "us-east-1".into()]), api_calls: 1, errors: vec![] }
        }
        async fn scan_region(&self, region: &str, _: &MetricsWindow) -> RegionScan {
            let mut inventory = RegionInventory::new(region);
            inventory.volumes.push(Volume {
                id: format!("vol-{region}"),
                volume_type: "gp3".into(),
                size_gib: 100,
                iops: None,
                throughput_mibps: None,
                state: "available".into(),
                created: Utc::now() - chrono::Duration::days(30),
                attached_to: vec![],
                tags: Default::default(),
                unattached_since: None,
            });
            RegionScan { inventory, listed: Listed::all(), api_calls: 9, errors: vec![] }
        }
        async fn recommendations(&self, _: &AccountId) -> AccountWide<Vec<Recommendation>> {
            AccountWide { value: Some(vec![]), api_calls: 1, errors: vec![] }
        }
    }

    use costradar_core::scan::tasks::runs::{write_result_files, ChildOutcome, DueAccount};
    use costradar_core::scan::tasks::{MemoryRunObjects, RunObjects};

    /// The accounts a `list_due_accounts` output names, read from the runs bucket.
    async fn listed(objects: &MemoryRunObjects, due: &Value) -> Vec<DueAccount> {
        assert_eq!(due["bucket"], objects.bucket());
        let body = objects.get(due["key"].as_str().unwrap()).await.unwrap().unwrap();
        let lines: Vec<DueAccount> =
            String::from_utf8(body).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(due["count"], lines.len());
        lines
    }

    async fn world(deny: bool) -> (ScanTasks, Arc<MemoryStore>, TenantId, AccountId) {
        let store = Arc::new(MemoryStore::new());
        let mut tenant = Tenant::new(TenantId::generate(), "Acme".into(), ExternalId::generate(), Utc::now());
        // Zero days: the fake's volumes are new to the scan's memory.
        tenant.scan_settings = Some(
            costradar_core::domain::settings::ScanSettings::from_json(br#"{"unattached_volume_days": 0}"#).unwrap(),
        );
        store.save_tenant(&mut tenant).await.unwrap();
        let role = RoleArn::parse("arn:aws:iam::111122223333:role/CostradarReadOnly").unwrap();
        let mut account = Account::new_pending(tenant.id.clone(), role, vec![], None, Registration::Manual, Utc::now());
        account.transition(AccountStatus::Active, "verified", Utc::now()).unwrap();
        store.save_account(&mut account, Claim::Acquire).await.unwrap();
        let scanner = Scanner::new(Arc::new(Fake { deny }), store.clone(), costradar_core::pricing::bundled());
        let tasks = ScanTasks::new(scanner, store.clone(), Arc::new(SystemClock)).with_run_objects(objects(&store));
        (tasks, store, tenant.id, account.account_id)
    }

    /// One runs bucket per store, so a test can read what its tasks wrote.
    fn objects(store: &Arc<MemoryStore>) -> Arc<MemoryRunObjects> {
        use std::collections::HashMap;
        use std::sync::{Mutex, OnceLock};
        static BUCKETS: OnceLock<Mutex<HashMap<usize, Arc<MemoryRunObjects>>>> = OnceLock::new();
        let key = Arc::as_ptr(store) as usize;
        let mut all = BUCKETS.get_or_init(Default::default).lock().unwrap();
        all.entry(key).or_insert_with(|| Arc::new(MemoryRunObjects::new("costradar-runs-test"))).clone()
    }

    async fn call(tasks: &ScanTasks, payload: Value) -> Result<Value, Diagnostic> {
        handle(tasks, LambdaEvent::new(payload, Context::default())).await
    }

    #[tokio::test]
    async fn the_three_tasks_follow_the_contract() {
        let (tasks, store, tenant, account) = world(false).await;
        let runs = objects(&store);
        let due = call(&tasks, json!({"task": "list_due_accounts", "run_id": "run-1"})).await.unwrap();
        assert_eq!(
            due,
            json!({"run_id": "run-1", "bucket": "costradar-runs-test", "key": "runs/run-1/accounts.jsonl",
                "results_prefix": "runs/run-1/results", "count": 1, "deferred": 0})
        );
        assert_eq!(listed(&runs, &due).await, [DueAccount { tenant_id: tenant.clone(), account_id: account.clone() }]);
        let item = json!({"task": "scan_account", "run_id": "run-1", "tenant_id": tenant.as_str(), "account_id": account.as_str()});
        let out = call(&tasks, item).await.unwrap();
        assert_eq!(out["status"], "complete");
        assert_eq!(out["findings_opened"], 2);
        let regions: Vec<&str> =
            out["regions"].as_array().unwrap().iter().map(|r| r["region"].as_str().unwrap()).collect();
        assert_eq!(regions, ["global", "eu-west-1", "us-east-1"]);
        for r in out["regions"].as_array().unwrap() {
            for k in ["status", "api_calls", "errors", "duration_ms", "findings_opened", "findings_resolved"] {
                assert!(r.get(k).is_some(), "{k} missing in {r}");
            }
        }
        // Scanned: no longer due until the interval has passed.
        let due = call(&tasks, json!({"task": "list_due_accounts", "run_id": "run-2"})).await.unwrap();
        assert_eq!(due["count"], 0);
        assert!(listed(&runs, &due).await.is_empty());
        // The Map's results as its ResultWriter leaves them: a scan output, a caught failure
        // (the ASL's ScanFailed item) and a child that failed outright.
        let input = |a: &str| json!({"run_id": "run-1", "tenant_id": tenant.as_str(), "account_id": a});
        let caught = json!({"tenant_id": tenant.as_str(), "account_id": "444455556666", "status": "failed",
            "error": {"Error": "AccountRevoked", "Cause": "denied"}});
        let at = write_result_files(
            runs.as_ref(),
            "run-1",
            &[
                (input(account.as_str()), ChildOutcome::Succeeded(out)),
                (input("444455556666"), ChildOutcome::Succeeded(caught)),
                (
                    input("777788889999"),
                    ChildOutcome::Failed { error: "States.Timeout".into(), cause: "child timed out".into() },
                ),
            ],
        )
        .await
        .unwrap();
        let totals = call(&tasks, json!({"task": "finish_run", "run_id": "run-1", "results": at})).await.unwrap();
        assert_eq!(
            totals,
            json!({"run_id": "run-1", "accounts": 3, "complete": 1, "partial": 0, "failed": 2, "findings_opened": 2,
                "findings_resolved": 0, "cur_failed": 0, "athena_bytes_scanned": 0, "athena_cost_usd": "0.000000"})
        );
        use costradar_core::store::RunStore;
        let record = store.get_run(&tenant, "run-1").await.unwrap().unwrap();
        assert_eq!(record.accounts.len(), 3);
        assert_eq!(record.accounts[1].error.as_ref().unwrap().error_type, "AccountRevoked");
        let timed_out = record.accounts[2].error.as_ref().unwrap();
        assert_eq!((timed_out.error_type.as_str(), timed_out.message.as_str()), ("States.Timeout", "child timed out"));
    }

    #[tokio::test]
    async fn due_accounts_come_longest_overdue_first_taking_turns_across_tenants() {
        let (tasks, store, tenant, never_scanned) = world(false).await;
        let mut small = Tenant::new(TenantId::generate(), "Small".into(), ExternalId::generate(), Utc::now());
        store.save_tenant(&mut small).await.unwrap();
        let add = |t: &TenantId, id: String, hours_overdue: i64| {
            let t = t.clone();
            let store = store.clone();
            async move {
                let role = RoleArn::parse(&format!("arn:aws:iam::{id}:role/CostradarReadOnly")).unwrap();
                let mut a = Account::new_pending(t, role, vec![], None, Registration::Manual, Utc::now());
                a.transition(AccountStatus::Active, "verified", Utc::now()).unwrap();
                a.next_scan_at = Some(Utc::now() - chrono::Duration::hours(hours_overdue));
                store.save_account(&mut a, Claim::Acquire).await.unwrap();
                a
            }
        };
        for i in 1..=6 {
            add(&tenant, format!("2000000000{i:02}"), i).await;
        }
        add(&small.id, "300000000001".into(), 1).await;
        add(&tenant, "200000000099".into(), -1).await; // not due for another hour
        let mut revoked = add(&small.id, "300000000002".into(), 9).await;
        revoked.transition(AccountStatus::Revoked, "gone", Utc::now()).unwrap();
        store.save_account(&mut revoked, Claim::Keep).await.unwrap();
        let due = call(&tasks, json!({"task": "list_due_accounts", "run_id": "run-1"})).await.unwrap();
        let ids: Vec<String> =
            listed(&objects(&store), &due).await.into_iter().map(|a| a.account_id.to_string()).collect();
        // Never scanned, then the longest overdue; the small tenant's one account goes second,
        // not after the big tenant's seven.
        assert_eq!(
            ids,
            [
                never_scanned.as_str(),
                "300000000001",
                "200000000006",
                "200000000005",
                "200000000004",
                "200000000003",
                "200000000002",
                "200000000001"
            ]
        );
        assert_eq!(due["deferred"], 0);
        // A deleted tenant's accounts are not due.
        let mut gone = store.get_tenant(&small.id).await.unwrap().unwrap();
        gone.status = TenantStatus::Deleted;
        store.save_tenant(&mut gone).await.unwrap();
        let due = call(&tasks, json!({"task": "list_due_accounts", "run_id": "run-2"})).await.unwrap();
        assert_eq!(due["count"], 7);
    }

    #[tokio::test]
    async fn index_due_accounts_backfills_accounts_saved_before_the_index() {
        let (tasks, store, tenant, account) = world(false).await;
        // The task's contract (the gap it fills, an item without its entry, is played on
        // DynamoDB in tests/tests/scan_scale.rs).
        let due = call(&tasks, json!({"task": "list_due_accounts", "run_id": "run-1"})).await.unwrap();
        assert_eq!(due["count"], 1);
        let out = call(&tasks, json!({"task": "index_due_accounts"})).await.unwrap();
        assert_eq!(out, json!({"indexed": 1}));
        let a = store.get_account(&tenant, &account).await.unwrap().unwrap();
        assert_eq!(a.version, 2, "re-saved once");
        let err = call(&tasks, json!({"task": "index_due_accounts", "force": true})).await.unwrap_err();
        assert_eq!(err.error_type, "InvalidInput");
    }

    #[tokio::test]
    async fn access_denied_on_assume_revokes_the_account() {
        let (tasks, store, tenant, account) = world(true).await;
        let item = json!({"task": "scan_account", "run_id": "run-1", "tenant_id": tenant.as_str(), "account_id": account.as_str()});
        let err = call(&tasks, item.clone()).await.unwrap_err();
        assert_eq!(err.error_type, "AccountRevoked");
        let a = store.get_account(&tenant, &account).await.unwrap().unwrap();
        assert_eq!(a.status, AccountStatus::Revoked);
        assert!(a.status_reason.contains("AssumeRole denied"));
        // A revoked account is not scanned again, and is not due.
        assert_eq!(call(&tasks, item).await.unwrap_err().error_type, "AccountNotFound");
        let due = call(&tasks, json!({"task": "list_due_accounts", "run_id": "run-2"})).await.unwrap();
        assert_eq!(due["count"], 0);
    }

    #[tokio::test]
    async fn malformed_payloads_are_invalid_input_and_change_nothing() {
        let (tasks, store, tenant, account) = world(false).await;
        let before = store.snapshot();
        let scan = json!({"task": "scan_account", "run_id": "r1", "tenant_id": tenant.as_str(), "account_id": account.as_str()});
        let with = |k: &str, v: Value| {
            let mut p = scan.clone();
            p[k] = v;
            p
        };
        for bad in [
            json!("scan_account"),
            json!(null),
            json!([]),
            json!({}),
            json!({"task": 7}),
            json!(["list_due_accounts", "r1"]),
            json!({"task": "refresh_price_list", "regions": null, "force": true}),
            json!({"task": "scan_everything", "run_id": "r1"}),
            json!({"task": "list_due_accounts"}),
            json!({"task": "list_due_accounts", "run_id": "r1", "extra": 1}),
            with("acount_id", json!("x")),
            with("run_id", json!("r 1; drop")),
            with("run_id", json!("")),
            with("run_id", json!("x".repeat(81))),
            with("tenant_id", json!("t-../../etc")),
            with("account_id", json!("12345")),
            with("account_id", json!(123456789012u64)),
            json!({"task": "finish_run", "run_id": "r1"}),
            json!({"task": "finish_run", "run_id": "r1", "results": {}}),
            json!({"task": "finish_run", "run_id": "r1", "results": [{"tenant_id": "nope", "account_id": "111122223333", "status": "complete"}]}),
            // Results elsewhere than this run's results in this stack's bucket, or not there.
            json!({"task": "finish_run", "run_id": "r1", "results": {"Bucket": "someone-elses", "Key": "runs/r1/results/m/manifest.json"}}),
            json!({"task": "finish_run", "run_id": "r1", "results": {"Bucket": "costradar-runs-test", "Key": "runs/r2/results/m/manifest.json"}}),
            json!({"task": "finish_run", "run_id": "r1", "results": {"Bucket": "costradar-runs-test", "Key": "runs/r1/results/../../r2/results/m/manifest.json"}}),
            json!({"task": "finish_run", "run_id": "r1", "results": {"Bucket": "costradar-runs-test", "Key": "runs/r1/results/m/SUCCEEDED_0.json"}}),
            json!({"task": "finish_run", "run_id": "r1", "results": {"Bucket": "costradar-runs-test", "Key": "runs/r1/results/m/manifest.json"}}),
        ] {
            let err = call(&tasks, bad.clone()).await.unwrap_err();
            assert_eq!(err.error_type, "InvalidInput", "{bad}: {}", err.error_message);
        }
        // A manifest that is not the ResultWriter's, or names files of another run.
        let runs = objects(&store);
        let other = "runs/r2/results/m/SUCCEEDED_0.json";
        runs.put(other, b"[]".to_vec()).await.unwrap();
        for manifest in [
            json!({"ResultFiles": {"SUCCEEDED": [{"Key": other, "Size": 2}]}}).to_string(),
            json!({"ResultFiles": {"SUCCEEDED": [{"Key": "/etc/passwd", "Size": 2}]}}).to_string(),
            json!({"ResultFiles": {"SUCCEEDED": [{"Key": "runs/r1/results/m/missing.json", "Size": 2}]}}).to_string(),
            json!({"ResultFiles": {"SUCCEEDED": "all"}}).to_string(),
            "{not json".to_owned(),
        ] {
            runs.put("runs/r1/results/m/manifest.json", manifest.clone().into_bytes()).await.unwrap();
            let at = json!({"Bucket": "costradar-runs-test", "Key": "runs/r1/results/m/manifest.json"});
            let err = call(&tasks, json!({"task": "finish_run", "run_id": "r1", "results": at})).await.unwrap_err();
            assert_eq!(err.error_type, "InvalidInput", "{manifest}: {}", err.error_message);
        }
        assert_eq!(store.snapshot(), before, "a refused payload writes nothing");
        // Well formed but unknown: AccountNotFound.
        let unknown = with("account_id", json!("999999999999"));
        assert_eq!(call(&tasks, unknown).await.unwrap_err().error_type, "AccountNotFound");
        let other_tenant = with("tenant_id", json!(TenantId::generate().as_str()));
        assert_eq!(call(&tasks, other_tenant).await.unwrap_err().error_type, "AccountNotFound");
    }

    #[tokio::test]
    async fn an_unavailable_store_is_transient() {
        let (tasks, store, tenant, account) = world(false).await;
        store.set_unavailable(true);
        let item = json!({"task": "scan_account", "run_id": "run-1", "tenant_id": tenant.as_str(), "account_id": account.as_str()});
        assert_eq!(call(&tasks, item).await.unwrap_err().error_type, "Transient");
        assert_eq!(
            call(&tasks, json!({"task": "list_due_accounts", "run_id": "r"})).await.unwrap_err().error_type,
            "Transient"
        );
    }

    /// The Price List API as the refresh job sees it: per family, the rates it answers with (an
    /// error for every family when `down`, and for the families in `failing`), one request per
    /// read, and every (region, family) it was asked for.
    #[derive(Default)]
    struct FakePriceList {
        rates: std::sync::Mutex<std::collections::HashMap<&'static str, costradar_core::pricing::RateTable>>,
        failing: std::sync::Mutex<Vec<&'static str>>,
        down: std::sync::atomic::AtomicBool,
        asked: std::sync::Mutex<Vec<(String, &'static str)>>,
    }

    #[async_trait]
    impl costradar_core::pricing::price_list::PriceListSource for FakePriceList {
        async fn read_family(
            &self,
            family: &'static costradar_core::pricing::price_list::Family,
            region: &str,
            budget: &costradar_core::pricing::price_list::Budget,
        ) -> costradar_core::pricing::price_list::FamilyRead {
            use costradar_core::pricing::price_list::{FamilyRead, PriceListError, ReadOutcome};
            self.asked.lock().unwrap().push((region.to_owned(), family.name));
            if !budget.try_take() {
                return FamilyRead { rates: Default::default(), requests: 0, outcome: ReadOutcome::CutShort };
            }
            if self.down.load(std::sync::atomic::Ordering::SeqCst)
                || self.failing.lock().unwrap().contains(&family.name)
            {
                let e = PriceListError::Api("ThrottlingException: Rate exceeded".into());
                return FamilyRead { rates: Default::default(), requests: 1, outcome: ReadOutcome::Failed(e) };
            }
            let rates = self.rates.lock().unwrap().get(family.name).cloned().unwrap_or_default();
            FamilyRead { rates, requests: 1, outcome: ReadOutcome::Complete }
        }
    }

    fn price(usd: &str, as_of: &str) -> costradar_core::pricing::Rate {
        use costradar_core::pricing::{PriceSource, Rate};
        Rate { usd: usd.parse().unwrap(), source: PriceSource::PriceListApi, as_of: as_of.into() }
    }

    #[tokio::test]
    async fn the_price_list_refresh_reads_every_family_and_reports_its_requests() {
        use costradar_core::pricing::price_list::{default_regions, FAMILIES};
        use costradar_core::pricing::{RateTable, Sku};
        use costradar_core::store::{RateScope, RateStore};
        let (tasks, store, _, _) = world(false).await;
        let source = Arc::new(FakePriceList::default());
        let mut ec2 = RateTable::default();
        ec2.insert("us-east-1", Sku::ec2("m7g.large"), price("0.0816", "2026-11-23"));
        let mut ebs = RateTable::default();
        ebs.insert("eu-west-1", Sku::EbsStorage { volume_type: "gp3".into() }, price("0.088", "2026-11-23"));
        source.rates.lock().unwrap().extend([("ec2-shared", ec2.clone()), ("ebs-storage", ebs.clone())]);
        let tasks = tasks.with_price_list(source.clone());

        let out =
            call(&tasks, json!({"task": "refresh_price_list", "regions": ["us-east-1", "eu-west-1"]})).await.unwrap();
        let n = FAMILIES.len();
        assert_eq!(out["regions"], json!(["us-east-1", "eu-west-1"]));
        assert_eq!((out["rates"].as_u64(), out["regions_stored"].as_u64()), (Some(2), Some(2)));
        assert_eq!(out["requests"], 2 * n, "families × regions × one page");
        assert_eq!(out["max_requests"], 2000);
        assert_eq!(out["families"]["ec2-shared"], json!({"rates": 1, "requests": 2, "failed": 0, "not_read": 0}));
        assert_eq!(out["families"].as_object().unwrap().len(), n);
        assert_eq!(out["failed"], json!([]));
        let mut both = ec2;
        both.extend(ebs);
        assert_eq!(store.get_rates(RateScope::PriceList).await.unwrap(), both);

        // The schedule's payload names no regions: every region of the bundled book, each family once.
        source.asked.lock().unwrap().clear();
        let out = call(&tasks, json!({"task": "refresh_price_list"})).await.unwrap();
        let asked = source.asked.lock().unwrap().clone();
        let mut regions: Vec<String> = asked.iter().map(|(r, _)| r.clone()).collect();
        regions.sort();
        regions.dedup();
        assert_eq!(regions, default_regions());
        assert_eq!(asked.len(), n * regions.len());
        assert_eq!(out["requests"], n * regions.len());
        assert!(out["requests"].as_u64().unwrap() <= out["max_requests"].as_u64().unwrap());
    }

    #[tokio::test]
    async fn the_price_list_refresh_keeps_the_last_good_rates_when_a_read_fails() {
        use costradar_core::pricing::{RateTable, Sku};
        use costradar_core::store::{RateScope, RateStore};
        let (tasks, store, _, _) = world(false).await;
        let source = Arc::new(FakePriceList::default());
        let tasks = tasks.with_price_list(source.clone());
        let table = |sku: Sku, usd: &str, as_of: &str| {
            let mut t = RateTable::default();
            t.insert("us-east-1", sku, price(usd, as_of));
            t
        };
        let set = |family: &'static str, t: RateTable| source.rates.lock().unwrap().insert(family, t);
        set("ec2-shared", table(Sku::ec2("m7g.large"), "0.0816", "2026-11-01"));
        set("nat", table(Sku::NatGateway, "0.045", "2026-11-01"));
        let one_region = json!({"task": "refresh_price_list", "regions": ["us-east-1"]});
        call(&tasks, one_region.clone()).await.unwrap();

        // The next day EC2's read fails and NAT's price moved: NAT is refreshed, EC2 keeps its rate.
        source.failing.lock().unwrap().push("ec2-shared");
        set("ec2-shared", table(Sku::ec2("m7g.large"), "9.99", "2026-11-02"));
        set("nat", table(Sku::NatGateway, "0.05", "2026-11-02"));
        let out = call(&tasks, one_region.clone()).await.unwrap();
        assert_eq!(out["families"]["ec2-shared"]["failed"], 1);
        let failed = out["failed"][0].as_str().unwrap();
        assert!(failed.starts_with("us-east-1 ec2-shared: ") && failed.contains("ThrottlingException"), "{failed}");
        let stored = store.get_rates(RateScope::PriceList).await.unwrap();
        let m7g = stored.get("us-east-1", &Sku::ec2("m7g.large")).unwrap();
        assert_eq!((m7g.usd.to_string().as_str(), m7g.as_of.as_str()), ("0.0816", "2026-11-01"));
        assert_eq!(stored.get("us-east-1", &Sku::NatGateway).unwrap().usd.to_string(), "0.05");

        // A read that fails everywhere is retried by the caller and writes nothing; so does an
        // empty answer, which is not retried.
        let before = store.snapshot();
        source.down.store(true, std::sync::atomic::Ordering::SeqCst);
        let err = call(&tasks, one_region.clone()).await.unwrap_err();
        assert_eq!(err.error_type, "Transient", "{}", err.error_message);
        assert!(err.error_message.contains("ThrottlingException") && err.error_message.contains("unchanged"));
        source.down.store(false, std::sync::atomic::Ordering::SeqCst);
        source.failing.lock().unwrap().clear();
        source.rates.lock().unwrap().clear();
        assert_eq!(call(&tasks, one_region).await.unwrap_err().error_type, "InvalidInput");
        assert_eq!(store.snapshot(), before, "nothing written");
    }

    #[tokio::test]
    async fn a_price_list_refresh_payload_is_checked_before_the_api_is_called() {
        let (tasks, _, _, _) = world(false).await;
        let source = Arc::new(FakePriceList::default());
        let tasks = tasks.with_price_list(source.clone());
        for bad in [
            json!({"task": "refresh_price_list", "regions": ["moon-1"]}),
            json!({"task": "refresh_price_list", "regions": "us-east-1"}),
            json!({"task": "refresh_price_list", "regions": ["us-east-1"], "force": true}),
            json!({"task": "refresh_price_list", "regions": vec!["us-east-1"; 41]}),
        ] {
            assert_eq!(call(&tasks, bad.clone()).await.unwrap_err().error_type, "InvalidInput", "{bad}");
        }
        assert!(source.asked.lock().unwrap().is_empty());
        // A function built without a Price List client says so.
        let (plain, _, _, _) = world(false).await;
        let err = call(&plain, json!({"task": "refresh_price_list"})).await.unwrap_err();
        assert!(err.error_message.contains("without a Price List client"), "{}", err.error_message);
    }
}
