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
        let tasks = ScanTasks::new(scanner, store.clone(), Arc::new(SystemClock));
        (tasks, store, tenant.id, account.account_id)
    }

    async fn call(tasks: &ScanTasks, payload: Value) -> Result<Value, Diagnostic> {
        handle(tasks, LambdaEvent::new(payload, Context::default())).await
    }

    #[tokio::test]
    async fn the_three_tasks_follow_the_contract() {
        let (tasks, store, tenant, account) = world(false).await;
        let due = call(&tasks, json!({"task": "list_due_accounts", "run_id": "run-1"})).await.unwrap();
        assert_eq!(
            due,
            json!({"run_id": "run-1", "accounts": [{"tenant_id": tenant.as_str(), "account_id": account.as_str()}], "deferred": 0})
        );
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
        assert_eq!(due["accounts"], json!([]));
        let failed = json!({"tenant_id": tenant.as_str(), "account_id": "444455556666", "status": "failed",
            "error": {"Error": "AccountRevoked", "Cause": "denied"}});
        let totals =
            call(&tasks, json!({"task": "finish_run", "run_id": "run-1", "results": [out, failed]})).await.unwrap();
        assert_eq!(
            totals,
            json!({"run_id": "run-1", "accounts": 2, "complete": 1, "partial": 0, "failed": 1, "findings_opened": 2,
                "findings_resolved": 0, "cur_failed": 0, "athena_bytes_scanned": 0, "athena_cost_usd": "0.000000"})
        );
        use costradar_core::store::RunStore;
        let record = store.get_run(&tenant, "run-1").await.unwrap().unwrap();
        assert_eq!(record.accounts.len(), 2);
        assert_eq!(record.accounts[1].error.as_ref().unwrap().error_type, "AccountRevoked");
    }

    #[tokio::test]
    async fn a_run_takes_at_most_its_share_of_due_accounts_longest_overdue_first() {
        use costradar_core::scan::tasks::MAX_ACCOUNTS_PER_RUN;
        let (tasks, store, tenant, never_scanned) = world(false).await;
        let extra = MAX_ACCOUNTS_PER_RUN + 9;
        for i in 0..extra {
            let role = RoleArn::parse(&format!("arn:aws:iam::2000000000{i:02}:role/CostradarReadOnly")).unwrap();
            let mut a = Account::new_pending(tenant.clone(), role, vec![], None, Registration::Manual, Utc::now());
            a.transition(AccountStatus::Active, "verified", Utc::now()).unwrap();
            // Account i was due i hours ago; the last one is not due yet.
            a.next_scan_at = Some(Utc::now() - chrono::Duration::hours(i as i64) + chrono::Duration::minutes(30));
            store.save_account(&mut a, Claim::Acquire).await.unwrap();
        }
        let due = call(&tasks, json!({"task": "list_due_accounts", "run_id": "run-1"})).await.unwrap();
        let ids: Vec<&str> =
            due["accounts"].as_array().unwrap().iter().map(|a| a["account_id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), MAX_ACCOUNTS_PER_RUN);
        assert_eq!(ids[0], never_scanned.as_str(), "never scanned goes first");
        assert_eq!(ids[1], format!("2000000000{:02}", extra - 1), "then the longest overdue");
        // Due: the never-scanned one and accounts 1..extra (account 0 is not due yet).
        assert_eq!(due["deferred"], 1 + (extra - 1) - MAX_ACCOUNTS_PER_RUN);
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
        assert_eq!(due["accounts"], json!([]));
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
            json!({"task": "finish_run", "run_id": "r1", "results": [{"tenant_id": tenant.as_str(), "account_id": "111122223333", "status": "great"}]}),
        ] {
            let err = call(&tasks, bad.clone()).await.unwrap_err();
            assert_eq!(err.error_type, "InvalidInput", "{bad}: {}", err.error_message);
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

    /// The Price List API as the refresh job sees it: the rates it will answer with next (an
    /// error when `None`), and the regions each call asked for.
    struct FakePriceList {
        next: std::sync::Mutex<Option<costradar_core::pricing::RateTable>>,
        asked: std::sync::Mutex<Vec<Vec<String>>>,
    }

    #[async_trait]
    impl costradar_core::pricing::price_list::PriceListSource for FakePriceList {
        async fn rates(
            &self,
            regions: &[String],
        ) -> Result<costradar_core::pricing::RateTable, costradar_core::pricing::price_list::PriceListError> {
            self.asked.lock().unwrap().push(regions.to_vec());
            self.next
                .lock()
                .unwrap()
                .clone()
                .ok_or_else(|| costradar_core::pricing::price_list::PriceListError::Api("ThrottlingException".into()))
        }
    }

    #[tokio::test]
    async fn the_price_list_refresh_replaces_the_cache_and_keeps_it_when_a_read_fails() {
        use costradar_core::pricing::{PriceSource, Rate, RateTable, Sku};
        use costradar_core::store::{RateScope, RateStore};
        let (tasks, store, _, _) = world(false).await;
        let rate = |usd: &str| Rate {
            usd: usd.parse().unwrap(),
            source: PriceSource::PriceListApi,
            as_of: "2026-11-23".into(),
        };
        let mut fresh = RateTable::default();
        fresh.insert("us-east-1", Sku::ec2("m7g.large"), rate("0.0816"));
        fresh.insert("eu-west-1", Sku::EbsStorage { volume_type: "gp3".into() }, rate("0.088"));
        let source =
            Arc::new(FakePriceList { next: std::sync::Mutex::new(Some(fresh.clone())), asked: Default::default() });
        let tasks = tasks.with_price_list(source.clone());

        let out =
            call(&tasks, json!({"task": "refresh_price_list", "regions": ["us-east-1", "eu-west-1"]})).await.unwrap();
        assert_eq!(out, json!({"regions": ["us-east-1", "eu-west-1"], "rates": 2}));
        assert_eq!(store.get_rates(RateScope::PriceList).await.unwrap(), fresh);
        // The schedule's payload names no regions: the main commercial ones.
        call(&tasks, json!({"task": "refresh_price_list"})).await.unwrap();
        assert_eq!(source.asked.lock().unwrap()[1], costradar_core::pricing::price_list::DEFAULT_REGIONS);

        // A failed read is retried by the caller and leaves the last good rates in place; so does
        // an empty answer, which is not retried.
        let before = store.snapshot();
        *source.next.lock().unwrap() = None;
        let err = call(&tasks, json!({"task": "refresh_price_list"})).await.unwrap_err();
        assert_eq!(err.error_type, "Transient", "{}", err.error_message);
        assert!(err.error_message.contains("ThrottlingException") && err.error_message.contains("unchanged"));
        *source.next.lock().unwrap() = Some(RateTable::default());
        assert_eq!(call(&tasks, json!({"task": "refresh_price_list"})).await.unwrap_err().error_type, "InvalidInput");
        assert_eq!(store.snapshot(), before, "nothing written");

        // Bad payloads are refused before the API is called.
        let calls = source.asked.lock().unwrap().len();
        for bad in [
            json!({"task": "refresh_price_list", "regions": ["moon-1"]}),
            json!({"task": "refresh_price_list", "regions": "us-east-1"}),
            json!({"task": "refresh_price_list", "regions": ["us-east-1"], "force": true}),
        ] {
            assert_eq!(call(&tasks, bad.clone()).await.unwrap_err().error_type, "InvalidInput", "{bad}");
        }
        assert_eq!(source.asked.lock().unwrap().len(), calls);
        // A function built without a Price List client says so.
        let (plain, _, _, _) = world(false).await;
        let err = call(&plain, json!({"task": "refresh_price_list"})).await.unwrap_err();
        assert!(err.error_message.contains("without a Price List client"), "{}", err.error_message);
    }
}
