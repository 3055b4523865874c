//! Savings confirmed by the bill (`costradar_core::cur::confirm`), end to end on real engines:
//! the confirmation query on DataFusion over a generated CUR whose billed resources stop at
//! their deletion (the figures worked by hand from the generator's line items), the DynamoDB
//! ledger on moto (`tools/with-moto.sh cargo test -p costradar-tests --test savings_confirmed`),
//! and the cur-query tasks with Athena mocked by aws-smithy-mocks answering what the embedded
//! engine computes for the very query the start task sent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_sdk_athena::operation::get_query_execution::GetQueryExecutionOutput;
use aws_sdk_athena::operation::get_query_results::GetQueryResultsOutput;
use aws_sdk_athena::operation::start_query_execution::StartQueryExecutionOutput;
use aws_sdk_athena::types::{
    ColumnInfo, Datum, QueryExecution, QueryExecutionState, QueryExecutionStatistics, QueryExecutionStatus,
    ResultSetMetadata, Row,
};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use costradar_aws::athena::{AthenaEngine, AthenaSettings};
use costradar_core::cur::analysis::{analyse, AnalysisOptions};
use costradar_core::cur::confirm::{self, ConfirmSettings, Context};
use costradar_core::cur::queries::{Library, PeriodRange, Schema, YearMonth};
use costradar_core::cur::tasks::{AthenaConnector, CurTasks};
use costradar_core::cur::{Cell, QueryEngine, QueryExecutions};
use costradar_core::domain::finding::Finding;
use costradar_core::domain::triage::{ConfirmationStatus, RealisedSaving, SavingConfirmation};
use costradar_core::domain::*;
use costradar_core::findings::Ledger;
use costradar_core::store::{AccountStore, Claim, FindingStore, MemoryStore, ResolveScope, TenantStore, TriageStore};
use costradar_core::testing::ManualClock;
use costradar_core::workflow::TaskError;
use costradar_cur_local::embedded::EmbeddedEngine;
use costradar_cur_local::generate::{generate, BilledResource, GeneratorConfig, GroundTruth};
use rust_decimal::Decimal;
use serde_json::json;

const ACCOUNT: &str = "123456789012";
/// Another account of the same CUR (a management account's export covers members too).
const OTHER: &str = "111122220000";

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

fn account() -> AccountId {
    AccountId::parse(ACCOUNT).unwrap()
}

fn billed(account: &str, id: &str, product: &str, usage_type: &str, daily: &str, until: NaiveDate) -> BilledResource {
    BilledResource {
        account_id: account.into(),
        region: "us-east-1".into(),
        resource_id: id.into(),
        product: product.into(),
        usage_type: usage_type.into(),
        daily_usd: dec(daily),
        until,
    }
}

const NAT_ARN: &str = "arn:aws:ec2:us-east-1:123456789012:natgateway/nat-0feed";

/// February and March 2025, with: a volume deleted on 10 March; a volume "deleted" on 10 March
/// but still billed to the end; a NAT gateway the CUR names by ARN, deleted on 12 March; and, in
/// another account, a volume with the first one's id billed all along (the account filter).
fn export(name: &str) -> (std::path::PathBuf, GroundTruth) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = GeneratorConfig {
        rows: 6_000,
        seed: 3,
        start: YearMonth::parse("2025-02").unwrap(),
        months: 2,
        accounts: 2,
        billed: vec![
            billed(ACCOUNT, "vol-0deleted", "AmazonEC2", "EBS:VolumeUsage.gp2", "1.6438", day(2025, 3, 10)),
            billed(ACCOUNT, "vol-0kept", "AmazonEC2", "EBS:VolumeUsage.gp3", "0.75", day(2025, 3, 31)),
            billed(ACCOUNT, NAT_ARN, "AmazonEC2", "NatGateway-Hours", "1.08", day(2025, 3, 12)),
            billed(OTHER, "vol-0deleted", "AmazonEC2", "EBS:VolumeUsage.gp2", "5", day(2025, 3, 31)),
        ],
    };
    let gt = generate(&cfg, &dir).unwrap();
    (dir, gt)
}

/// The hand-worked figure from the generator's own line items: the resource's cost over the 7
/// days before the resolution day minus the 7 days after, / 7 × 730 / 24, to the cent.
fn by_hand(gt: &GroundTruth, id: &str, resolved: NaiveDate) -> Decimal {
    let days = &gt.billed_daily[id];
    let sum = |from: i64, to: i64| -> Decimal {
        (from..=to).filter_map(|k| days.get(&(resolved + Duration::days(k)).to_string())).copied().sum()
    };
    let per_day = (sum(-7, -1) - sum(1, 7)) / Decimal::from(7);
    (per_day.max(Decimal::ZERO) * Decimal::from(730) / Decimal::from(24))
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

/// A finding of the account, open since February, with a saving.
fn finding(tenant: &TenantId, region: &str, rule: &str, id: &str, arn: Option<&str>, saving: &str) -> Finding {
    Finding {
        monthly_savings_usd: Some(dec(saving)),
        arn: arn.map(str::to_owned),
        ..Finding::open(tenant.clone(), account(), region, rule, id, "t", at(2025, 2, 1, 0))
    }
}

/// Resolves `f` at `when` as a complete scan of its region would: its ledger entry is realised.
async fn realise<S: FindingStore + ?Sized>(store: &S, tenant: &TenantId, f: Finding, when: DateTime<Utc>) {
    store.upsert_findings(tenant, std::slice::from_ref(&f)).await.unwrap();
    let scope =
        ResolveScope { account_id: &account(), region: &f.region, rule_prefixes: &["ebs.", "nat."], seen_before: when };
    assert_eq!(store.resolve_unseen(tenant, &scope, when).await.unwrap().len(), 1, "{}", f.resource_id);
}

/// The ledger entries of the world: three the bill can judge, and four it cannot (three where
/// `huge` is false: DynamoDB could not even store a finding with a 10,000-character id, its
/// sort keys are at most 1,024 bytes).
async fn ledger<S: FindingStore + ?Sized>(store: &S, tenant: &TenantId, huge: bool) {
    let r = |rule, id: &str, saving| finding(tenant, "us-east-1", rule, id, None, saving);
    realise(store, tenant, r("ebs.unattached-volume", "vol-0deleted", "50.00"), at(2025, 3, 10, 15)).await;
    realise(store, tenant, r("ebs.unattached-volume", "vol-0kept", "22.81"), at(2025, 3, 10, 15)).await;
    let nat = finding(tenant, "us-east-2", "nat.idle", "nat-0feed", Some(NAT_ARN), "32.85");
    realise(store, tenant, nat, at(2025, 3, 12, 9)).await;
    // Never in the CUR; resolved 4 days before the check; and two ids no query takes.
    realise(
        store,
        tenant,
        finding(tenant, "us-west-1", "ebs.gp2-to-gp3", "vol-0ghost", None, "3"),
        at(2025, 3, 10, 15),
    )
    .await;
    realise(
        store,
        tenant,
        finding(tenant, "us-west-2", "ebs.gp2-to-gp3", "vol-0recent", None, "3"),
        at(2025, 3, 28, 0),
    )
    .await;
    let quoted = finding(tenant, "eu-west-1", "ebs.gp2-to-gp3", "vol-1' OR '1'='1", None, "3");
    realise(store, tenant, quoted, at(2025, 3, 10, 15)).await;
    if huge {
        let huge = finding(tenant, "eu-west-2", "ebs.gp2-to-gp3", &"v".repeat(10_000), None, "3");
        realise(store, tenant, huge, at(2025, 3, 10, 15)).await;
    }
}

fn range() -> PeriodRange {
    PeriodRange::new(YearMonth::parse("2025-02").unwrap(), YearMonth::parse("2025-03").unwrap()).unwrap()
}

fn status_of(entries: &[RealisedSaving], id: &str) -> SavingConfirmation {
    entries.iter().find(|e| e.resource_id == id).and_then(|e| e.confirmation.clone()).expect(id)
}

/// What the world's entries must say after one check as of 1 April 2025.
fn check_verdicts(gt: &GroundTruth, entries: &[RealisedSaving], huge: bool) {
    let deleted = status_of(entries, "vol-0deleted");
    // 7 x $1.6438 before, nothing after: 1.6438 x 730 / 24 = 49.9989... = $50.00.
    assert_eq!(deleted.confirmed_usd, Some(dec("50.00")));
    assert_eq!(deleted.confirmed_usd, Some(by_hand(gt, "vol-0deleted", day(2025, 3, 10))));
    let e = deleted.evidence.unwrap();
    assert_eq!((e.before_per_day_usd, e.after_per_day_usd), (dec("1.6438"), Decimal::ZERO));
    assert_eq!((e.line_items_before, e.line_items_after), (7, 0), "the other account's volume is not counted");
    let kept = status_of(entries, "vol-0kept");
    assert_eq!((kept.status, kept.confirmed_usd), (ConfirmationStatus::Confirmed, Some(Decimal::ZERO)));
    assert_eq!(kept.evidence.unwrap().after_per_day_usd, dec("0.75"), "still billed after the fix");
    let nat = status_of(entries, "nat-0feed");
    assert_eq!(nat.confirmed_usd, Some(by_hand(gt, NAT_ARN, day(2025, 3, 12))));
    assert_eq!(nat.confirmed_usd, Some(dec("32.85")));
    assert_eq!(nat.evidence.unwrap().resource_ids, [NAT_ARN], "matched by its ARN");
    let ghost = status_of(entries, "vol-0ghost");
    assert_eq!(ghost.status, ConfirmationStatus::Pending);
    assert!(ghost.reason.unwrap().starts_with("no line item for vol-0ghost from 2025-03-03 to 2025-03-09"));
    let recent = status_of(entries, "vol-0recent");
    assert_eq!(recent.status, ConfirmationStatus::Pending);
    assert!(recent.reason.unwrap().contains("once the resolution is 7 days old"));
    let bad_ids = ["vol-1' OR '1'='1".to_owned(), "v".repeat(10_000)];
    for bad in &bad_ids[..if huge { 2 } else { 1 }] {
        let c = status_of(entries, bad);
        assert_eq!(c.status, ConfirmationStatus::NotConfirmable);
        assert!(c.reason.unwrap().starts_with("refused: the resource id"));
    }
}

fn cx<'a>(
    analysis: &costradar_core::cur::analysis::CurAnalysis,
    r: &'a PeriodRange,
    s: &'a ConfirmSettings,
) -> Context<'a> {
    Context { range: r, coverage: analysis.first_day.zip(analysis.last_day), now: at(2025, 4, 1, 0), settings: s }
}

#[tokio::test]
async fn the_embedded_engine_confirms_what_the_line_items_show() {
    let (dir, gt) = export("confirm-embedded");
    let engine = EmbeddedEngine::open_cur(&dir).await.unwrap();
    let r = range();
    let analysis = analyse(&engine, &engine.library(), &r, &AnalysisOptions::default()).await.unwrap();
    let (store, tenant) = (MemoryStore::new(), TenantId::generate());
    ledger(&store, &tenant, true).await;
    let s = ConfirmSettings::default();
    let sum =
        confirm::confirm_with_engine(&engine, &engine.library(), &store, &tenant, &account(), &cx(&analysis, &r, &s))
            .await
            .unwrap();
    assert_eq!((sum.pending_before, sum.confirmed, sum.pending, sum.not_confirmable), (7, 3, 2, 2), "{sum:?}");
    assert_eq!(sum.confirmed_usd, dec("82.85"));
    let entries = store.realised_savings(&tenant).await.unwrap();
    check_verdicts(&gt, &entries, true);

    // The ledger: realised unchanged, confirmed a figure of its own.
    let l = Ledger::of(&[], &entries).unwrap();
    assert_eq!((l.total.realised, l.total.confirmed), (dec("117.66"), dec("82.85")));
    assert_eq!((l.confirmations.confirmed, l.confirmations.pending, l.confirmations.not_confirmable), (3, 2, 2));

    // A second analysis changes nothing: no double count, no rewrite.
    let before = store.snapshot();
    let again =
        confirm::confirm_with_engine(&engine, &engine.library(), &store, &tenant, &account(), &cx(&analysis, &r, &s))
            .await
            .unwrap();
    assert_eq!((again.written, again.confirmed, again.pending_before), (0, 0, 2));
    assert_eq!(store.snapshot(), before);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_dynamodb_ledger_records_each_verdict_once() {
    let (dir, gt) = export("confirm-dynamo");
    let engine = EmbeddedEngine::open_cur(&dir).await.unwrap();
    let r = range();
    let analysis = analyse(&engine, &engine.library(), &r, &AnalysisOptions::default()).await.unwrap();
    let store = costradar_tests::fresh_table("confirm").await;
    let tenant = TenantId::generate();
    ledger(&store, &tenant, false).await;
    let pending = store.pending_confirmations(&tenant, &account()).await.unwrap();
    assert_eq!(pending.len(), 6);
    assert!(pending.windows(2).all(|w| w[0].realised_at <= w[1].realised_at), "oldest first");
    assert_eq!(pending.iter().find(|p| p.resource_id == "nat-0feed").unwrap().arn.as_deref(), Some(NAT_ARN));
    let s = ConfirmSettings::default();
    let sum =
        confirm::confirm_with_engine(&engine, &engine.library(), &store, &tenant, &account(), &cx(&analysis, &r, &s))
            .await
            .unwrap();
    assert_eq!((sum.confirmed, sum.pending, sum.not_confirmable, sum.confirmed_usd), (3, 2, 1, dec("82.85")));
    check_verdicts(&gt, &store.realised_savings(&tenant).await.unwrap(), false);
    assert_eq!(store.pending_confirmations(&tenant, &account()).await.unwrap().len(), 2);

    // The conditions: a settled entry is not written again, from a stale read or a fresh one.
    let settled = pending.iter().find(|p| p.resource_id == "vol-0deleted").unwrap();
    let other = SavingConfirmation {
        status: ConfirmationStatus::Confirmed,
        checked_at: at(2025, 4, 2, 0),
        reason: None,
        confirmed_usd: Some(dec("999")),
        confirmed_at: Some(at(2025, 4, 2, 0)),
        evidence: None,
    };
    assert!(!store.record_confirmation(&tenant, settled, &other).await.unwrap());
    // A pending entry read before it was realised again (another realised_at): not written.
    let ghost = pending.iter().find(|p| p.resource_id == "vol-0ghost").unwrap();
    let stale = RealisedSaving { realised_at: ghost.realised_at - Duration::seconds(1), ..ghost.clone() };
    assert!(!store.record_confirmation(&tenant, &stale, &other).await.unwrap());
    // A withdrawn entry (the finding came back) is gone: nothing to write, nothing created.
    let back = Finding {
        last_seen: at(2025, 4, 2, 0),
        ..finding(&tenant, "us-west-1", "ebs.gp2-to-gp3", "vol-0ghost", None, "3")
    };
    store.upsert_findings(&tenant, &[back]).await.unwrap();
    assert!(!store.record_confirmation(&tenant, ghost, &other).await.unwrap());
    let left = store.realised_savings(&tenant).await.unwrap();
    assert_eq!(left.len(), 5);
    assert_eq!(status_of(&left, "vol-0deleted").confirmed_usd, Some(dec("50.00")));
    let _ = std::fs::remove_dir_all(dir);
}

// ---- The cur-query tasks, with Athena answering what the embedded engine computes.

struct Mocked(aws_sdk_athena::Client);

#[async_trait]
impl AthenaConnector for Mocked {
    async fn connect(&self, _: &Tenant, _: &Account) -> Result<Box<dyn QueryExecutions>, TaskError> {
        Ok(Box::new(AthenaEngine::new(self.0.clone(), AthenaSettings::new("costradar", "costradar_cur"))))
    }
}

/// A result set as Athena's GetQueryResults gives it (one page: the header row, then the rows).
fn athena_page(rs: &costradar_core::cur::ResultSet) -> GetQueryResultsOutput {
    let types: Vec<&str> = (0..rs.columns.len())
        .map(|c| match rs.rows.iter().map(|r| &r[c]).find(|v| **v != Cell::Null) {
            Some(Cell::Decimal(_)) => "decimal",
            Some(Cell::Int(_)) => "bigint",
            _ => "varchar",
        })
        .collect();
    let meta = ResultSetMetadata::builder()
        .set_column_info(Some(
            rs.columns
                .iter()
                .zip(&types)
                .map(|(n, t)| ColumnInfo::builder().name(n).r#type(*t).build().unwrap())
                .collect(),
        ))
        .build();
    let text = |c: &Cell| match c {
        Cell::Null => None,
        Cell::Bool(b) => Some(b.to_string()),
        Cell::Int(i) => Some(i.to_string()),
        Cell::Decimal(d) => Some(d.to_string()),
        Cell::Text(s) => Some(s.clone()),
    };
    let mut rows = vec![Row::builder()
        .set_data(Some(rs.columns.iter().map(|c| Datum::builder().var_char_value(c).build()).collect()))
        .build()];
    rows.extend(rs.rows.iter().map(|r| {
        Row::builder()
            .set_data(Some(r.iter().map(|c| Datum::builder().set_var_char_value(text(c)).build()).collect()))
            .build()
    }));
    GetQueryResultsOutput::builder()
        .result_set(aws_sdk_athena::types::ResultSet::builder().result_set_metadata(meta).set_rows(Some(rows)).build())
        .build()
}

fn execution(id: &str) -> GetQueryExecutionOutput {
    GetQueryExecutionOutput::builder()
        .query_execution(
            QueryExecution::builder()
                .query_execution_id(id)
                .status(QueryExecutionStatus::builder().state(QueryExecutionState::Succeeded).build())
                .statistics(QueryExecutionStatistics::builder().data_scanned_in_bytes(1_000_000).build())
                .build(),
        )
        .build()
}

#[tokio::test]
async fn the_cur_query_tasks_confirm_through_athena_in_one_bounded_query() {
    let (dir, gt) = export("confirm-tasks");
    let engine = EmbeddedEngine::open_cur(&dir).await.unwrap();
    let r = range();
    let store = Arc::new(MemoryStore::new());
    let now = at(2025, 4, 1, 0);
    let mut tenant = Tenant::new(TenantId::generate(), "Acme".into(), ExternalId::generate(), now);
    store.save_tenant(&mut tenant).await.unwrap();
    let role = RoleArn::parse(&format!("arn:aws:iam::{ACCOUNT}:role/CostradarReadOnly")).unwrap();
    let cur = CurSettings {
        bucket: "b".into(),
        database: "costradar_cur".into(),
        table: "cur_export".into(),
        workgroup: "wg".into(),
    };
    let mut acct =
        Account::new_pending(tenant.id.clone(), role, vec!["us-east-1".into()], Some(cur), Registration::Manual, now);
    acct.transition(AccountStatus::Active, "verified", now).unwrap();
    store.save_account(&mut acct, Claim::Acquire).await.unwrap();
    ledger(store.as_ref(), &tenant.id, true).await;

    // Athena's answers: every library query and the one confirmation query, computed on the
    // embedded engine with the request the start task will send (same plan, same clock).
    let lib = Library::new(Schema::Cur2, "cur_export").unwrap();
    let mut answers: HashMap<String, GetQueryResultsOutput> = HashMap::new();
    let mut ids: HashMap<String, String> = HashMap::new();
    for q in lib.queries() {
        let rs = engine.run(&engine.library().request(q, &r)).await.unwrap();
        let id = format!("q-{}", q.name().replace('_', "-"));
        answers.insert(id.clone(), athena_page(&rs));
        ids.insert(lib.sql(q), id);
    }
    let pending = store.pending_confirmations(&tenant.id, &account()).await.unwrap();
    let chunks = confirm::plan(&pending, &r, now, &ConfirmSettings::default());
    assert_eq!(chunks.len(), 1, "one query for the account's pending savings");
    let athena_req = confirm::request(&lib, &r, &account(), &chunks[0], "confirm_savings_1");
    let local_req = confirm::request(&engine.library(), &r, &account(), &chunks[0], "confirm_savings_1");
    answers.insert("q-confirm".into(), athena_page(&engine.run(&local_req).await.unwrap()));
    ids.insert(athena_req.sql.clone(), "q-confirm".into());

    let sent: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
    let seen = sent.clone();
    let start = mock!(aws_sdk_athena::Client::start_query_execution).then_compute_output(move |q| {
        let id = ids.get(q.query_string().unwrap_or_default()).cloned().unwrap_or_else(|| "q-unknown".into());
        if id == "q-confirm" {
            seen.lock().unwrap().push(q.execution_parameters().to_vec());
        }
        StartQueryExecutionOutput::builder().query_execution_id(id).build()
    });
    let poll = mock!(aws_sdk_athena::Client::get_query_execution)
        .then_compute_output(|q| execution(q.query_execution_id().unwrap_or_default()));
    let answers = Arc::new(answers);
    let results = mock!(aws_sdk_athena::Client::get_query_results)
        .then_compute_output(move |q| answers[q.query_execution_id().unwrap_or_default()].clone());
    let client = mock_client!(aws_sdk_athena, RuleMode::MatchAny, [&start, &poll, &results]);
    let tasks = CurTasks {
        store: store.clone(),
        athena: Arc::new(Mocked(client)),
        clock: Arc::new(ManualClock::new(now)),
        options: AnalysisOptions::default(),
        reports: None,
    };
    let base = json!({"run_id": "run-1", "tenant_id": tenant.id.as_str(), "account_id": ACCOUNT});
    let mut p = base.clone();
    p["task"] = json!("start");
    p["from"] = json!("2025-02");
    p["to"] = json!("2025-03");
    let started = tasks.handle(&p).await.unwrap();
    let names: Vec<&str> = started["queries"].as_array().unwrap().iter().map(|q| q["name"].as_str().unwrap()).collect();
    assert_eq!(names.last(), Some(&"confirm_savings_1"));
    assert!(!names.contains(&"q-unknown"));
    // The ids went as ExecutionParameters, quoted literals, never into the text.
    let params = sent.lock().unwrap()[0].clone();
    assert!(params.contains(&"'vol-0deleted'".to_owned()) && params.contains(&format!("'{NAT_ARN}'")));
    assert!(!params.iter().any(|p| p.contains("OR")), "the quoted id was refused before the query");
    assert!(!athena_req.sql.contains("vol-0deleted"));

    let mut f = base.clone();
    f["task"] = json!("fetch_and_analyse");
    f["queries"] = started["queries"].clone();
    f["state"] = json!("SUCCEEDED");
    let out = tasks.handle(&f).await.unwrap();
    assert_eq!(out["confirmations"]["confirmed"], 3, "{out}");
    assert_eq!(out["confirmations"]["confirmed_usd"], "82.85");
    check_verdicts(&gt, &store.realised_savings(&tenant.id).await.unwrap(), true);
    // A retried fetch confirms nothing twice.
    let again = tasks.handle(&f).await.unwrap();
    assert_eq!(
        (again["confirmations"]["confirmed"].as_u64(), again["confirmations"]["written"].as_u64()),
        (Some(0), Some(0))
    );
    let l = Ledger::of(&[], &store.realised_savings(&tenant.id).await.unwrap()).unwrap();
    assert_eq!(l.total.confirmed, dec("82.85"));
    let _ = std::fs::remove_dir_all(dir);
}
