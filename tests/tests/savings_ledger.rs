//! The savings ledger counts one realised saving per resource per fix
//! (`costradar_core::findings::savings::fixes`), on both store adapters: the in-memory store and
//! the DynamoDB store in moto (`tools/with-moto.sh cargo test -p costradar-tests --test
//! savings_ledger`). Findings are resolved the way scans and CUR analyses resolve them
//! (`FindingStore::resolve_unseen`), and the ledger is read as the API reads it.

use chrono::{DateTime, Duration, TimeZone, Utc};
use costradar_core::domain::finding::Finding;
use costradar_core::domain::*;
use costradar_core::findings::savings::FIX_WINDOW_DAYS;
use costradar_core::findings::Ledger;
use costradar_core::store::{FindingStore, MemoryStore, ResolveScope, TriageStore};
use costradar_tests::fresh_table;
use rust_decimal::Decimal;

fn at(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap()
}

fn account() -> AccountId {
    AccountId::parse("123456789012").unwrap()
}

fn finding(tenant: &TenantId, region: &str, rule: &str, id: &str, usd: i64) -> Finding {
    Finding {
        monthly_savings_usd: Some(Decimal::from(usd)),
        ..Finding::open(tenant.clone(), account(), region, rule, id, "t", at(1, 0))
    }
}

async fn resolve<S: FindingStore>(store: &S, tenant: &TenantId, region: &str, rule: &str, when: DateTime<Utc>) {
    let acc = account();
    let prefixes = [rule];
    let scope = ResolveScope { account_id: &acc, region, rule_prefixes: &prefixes, seen_before: when };
    let resolved = store.resolve_unseen(tenant, &scope, when).await.unwrap();
    assert!(!resolved.is_empty(), "{rule} in {region} resolved something");
}

/// The same story on any store: what the ledger says at the end.
async fn story<S: FindingStore + TriageStore>(store: &S) -> Ledger {
    let t = TenantId::generate();
    let f = |region: &str, rule: &str, id: &str, usd: i64| finding(&t, region, rule, id, usd);
    store
        .upsert_findings(
            &t,
            &[
                // One volume under a scan rule and a CUR rule: one fix, at the larger saving.
                f("us-east-1", "ebs.gp2-to-gp3", "vol-1", 2),
                f("us-east-1", "cur.gp2-volume", "vol-1", 10),
                // The trap: another volume with the same saving, and log groups of one name in
                // two regions (a finding key has no region, so under two rules): three more
                // resources, each counted.
                f("us-east-1", "ebs.unattached-volume", "vol-2", 10),
                f("us-east-1", "logs.never-expire", "/aws/lambda/x", 10),
                f("eu-west-1", "logs.unused-group", "/aws/lambda/x", 10),
            ],
        )
        .await
        .unwrap();
    // The scan resolves its findings in the morning, the CUR analysis its own the next day.
    resolve(store, &t, "us-east-1", "ebs.", at(10, 8)).await;
    resolve(store, &t, "us-east-1", "logs.", at(10, 8)).await;
    resolve(store, &t, "eu-west-1", "logs.", at(10, 8)).await;
    resolve(store, &t, "us-east-1", "cur.", at(11, 6)).await;
    // An instance rightsized, then stopped for good two months later: two fixes.
    store.upsert_findings(&t, &[f("us-east-1", "ec2.rightsize", "i-1", 50)]).await.unwrap();
    resolve(store, &t, "us-east-1", "ec2.", at(12, 8)).await;
    let later = at(12, 8) + Duration::days(FIX_WINDOW_DAYS + 30);
    store
        .upsert_findings(
            &t,
            &[Finding { first_seen: later, last_seen: later, ..f("us-east-1", "ec2.idle", "i-1", 30) }],
        )
        .await
        .unwrap();
    resolve(store, &t, "us-east-1", "ec2.", later + Duration::hours(1)).await;

    let entries = store.realised_savings(&t).await.unwrap();
    assert_eq!(entries.len(), 7, "every resolution keeps its entry");
    Ledger::of(&store.open_savings(&t).await.unwrap(), &entries).unwrap()
}

fn check(l: &Ledger) {
    // 10 (vol-1 once) + 10 + 10 + 10 + 50 + 30.
    assert_eq!(l.total.realised, Decimal::from(120));
    assert_eq!((l.total.findings, l.merged_entries), (6, 1));
    assert_eq!(l.total.open, Decimal::ZERO);
    assert_eq!(l.by_service["cur"].realised, Decimal::from(10), "vol-1 counts where its largest entry is");
    assert_eq!(l.by_service["ebs"].realised, Decimal::from(10), "vol-2 only");
    assert_eq!(l.by_service["logs"].realised, Decimal::from(20));
    assert_eq!(l.by_month["2026-03"].realised, Decimal::from(90));
    assert_eq!(l.by_month["2026-05"].realised, Decimal::from(30), "the later fix in its own month");
    let v = l.json();
    assert_eq!((v["realised_usd"].as_str(), v["merged_entries"].as_u64()), (Some("120.00"), Some(1)));
    assert_eq!(v["confirmations"]["pending"], 6, "one per fix");
}

#[tokio::test]
async fn one_saving_per_resource_per_fix_in_memory() {
    check(&story(&MemoryStore::new()).await);
}

#[tokio::test]
async fn one_saving_per_resource_per_fix_on_dynamodb() {
    check(&story(&fresh_table("ledger").await).await);
}
