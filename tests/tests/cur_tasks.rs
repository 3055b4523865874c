//! The cur-query tasks end to end on one account: start → poll → fetch_and_analyse, with Athena
//! mocked by aws-smithy-mocks answering each query with what the embedded engine computes over a
//! generated CUR (paginated as Athena does, 1000 rows a page), and the in-memory store. The
//! findings and rates the tasks store must be the embedded analysis's.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_athena::operation::get_query_execution::GetQueryExecutionOutput;
use aws_sdk_athena::operation::get_query_results::GetQueryResultsOutput;
use aws_sdk_athena::operation::start_query_execution::StartQueryExecutionOutput;
use aws_sdk_athena::types::{
    ColumnInfo, Datum, QueryExecution, QueryExecutionState, QueryExecutionStatistics, QueryExecutionStatus, ResultSet,
    ResultSetMetadata, Row,
};
use aws_sdk_athena::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use chrono::Utc;
use costradar_aws::athena::{AthenaEngine, AthenaSettings};
use costradar_core::cur::analysis::{analyse, AnalysisOptions};
use costradar_core::cur::queries::{Library, PeriodRange, Query, Schema, YearMonth};
use costradar_core::cur::tasks::{AthenaConnector, CurTasks, ANOMALY_RULE};
use costradar_core::cur::{Cell, QueryEngine, QueryExecutions};
use costradar_core::domain::*;
use costradar_core::pricing::{PriceSource, Sku};
use costradar_core::store::{
    AccountStore, Claim, FindingStore, MemoryStore, PageRequest, RateScope, RateStore, TenantStore,
};
use costradar_core::workflow::TaskError;
use costradar_cur_local::embedded::EmbeddedEngine;
use costradar_cur_local::generate::{generate, GeneratorConfig};
use serde_json::json;

struct Mocked(Client);

#[async_trait]
impl AthenaConnector for Mocked {
    async fn connect(&self, _: &Tenant, _: &Account) -> Result<Box<dyn QueryExecutions>, TaskError> {
        Ok(Box::new(AthenaEngine::new(self.0.clone(), AthenaSettings::new("costradar", "costradar_cur"))))
    }
}

fn athena_pages(rs: &costradar_core::cur::ResultSet) -> Vec<GetQueryResultsOutput> {
    let types: Vec<&str> = (0..rs.columns.len())
        .map(|c| match rs.rows.iter().map(|r| &r[c]).find(|v| **v != Cell::Null) {
            Some(Cell::Decimal(_)) => "decimal",
            Some(Cell::Int(_)) => "bigint",
            Some(Cell::Bool(_)) => "boolean",
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
    let mut rows: Vec<Row> = vec![Row::builder()
        .set_data(Some(rs.columns.iter().map(|c| Datum::builder().var_char_value(c).build()).collect()))
        .build()];
    rows.extend(rs.rows.iter().map(|r| {
        Row::builder()
            .set_data(Some(r.iter().map(|c| Datum::builder().set_var_char_value(text(c)).build()).collect()))
            .build()
    }));
    let chunks: Vec<Vec<Row>> = rows.chunks(1000).map(<[Row]>::to_vec).collect();
    let n = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            GetQueryResultsOutput::builder()
                .result_set(ResultSet::builder().result_set_metadata(meta.clone()).set_rows(Some(chunk)).build())
                .set_next_token((i + 1 < n).then(|| format!("page-{}", i + 1)))
                .build()
        })
        .collect()
}

fn execution(id: &str, state: QueryExecutionState, reason: Option<&str>) -> GetQueryExecutionOutput {
    let mut status = QueryExecutionStatus::builder().state(state);
    if let Some(r) = reason {
        status = status.state_change_reason(r);
    }
    GetQueryExecutionOutput::builder()
        .query_execution(
            QueryExecution::builder()
                .query_execution_id(id)
                .status(status.build())
                .statistics(QueryExecutionStatistics::builder().data_scanned_in_bytes(50_000_000).build())
                .build(),
        )
        .build()
}

#[tokio::test]
async fn start_poll_fetch_and_analyse_store_the_embedded_analysis() {
    // The customer's CUR, and what the library gives on it.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cur-tasks-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let gt = generate(&GeneratorConfig { rows: 10_000, seed: 5, ..GeneratorConfig::default() }, &dir).unwrap();
    let embedded = EmbeddedEngine::open_cur(&dir).await.unwrap();
    let range = PeriodRange::new(YearMonth::parse("2025-01").unwrap(), YearMonth::parse("2025-02").unwrap()).unwrap();
    let lib = Library::new(Schema::Cur2, "cur_export").unwrap();
    let mut pages: HashMap<String, Vec<GetQueryResultsOutput>> = HashMap::new();
    let mut sql_to_id: HashMap<String, String> = HashMap::new();
    for q in lib.queries() {
        let rs = embedded.run(&embedded.library().request(q, &range)).await.unwrap();
        pages.insert(format!("q-{}", q.name().replace('_', "-")), athena_pages(&rs));
        sql_to_id.insert(lib.sql(q), format!("q-{}", q.name().replace('_', "-")));
    }
    let expected = analyse(&embedded, &embedded.library(), &range, &AnalysisOptions::default()).await.unwrap();

    let start = mock!(Client::start_query_execution).then_compute_output(move |r| {
        let id = sql_to_id.get(r.query_string().unwrap_or_default()).cloned().unwrap_or_else(|| "q-unknown".into());
        StartQueryExecutionOutput::builder().query_execution_id(id).build()
    });
    let poll = mock!(Client::get_query_execution).then_compute_output(|r| {
        execution(r.query_execution_id().unwrap_or_default(), QueryExecutionState::Succeeded, None)
    });
    let pages = Arc::new(pages);
    let results = mock!(Client::get_query_results).then_compute_output(move |r| {
        let id = r.query_execution_id().unwrap_or_default();
        let i = r.next_token().and_then(|t| t.strip_prefix("page-")).map_or(0, |n| n.parse::<usize>().unwrap());
        pages[id][i].clone()
    });
    let client = mock_client!(aws_sdk_athena, RuleMode::MatchAny, [&start, &poll, &results]);

    // The tenant and its connected account, with CUR settings.
    let store = Arc::new(MemoryStore::default());
    let now = Utc::now();
    let mut tenant = Tenant::new(TenantId::generate(), "Acme".into(), ExternalId::generate(), now);
    store.save_tenant(&mut tenant).await.unwrap();
    let account_id = gt.accounts[0].clone();
    let role = RoleArn::parse(&format!("arn:aws:iam::{account_id}:role/CostradarReadOnly")).unwrap();
    let cur = CurSettings {
        bucket: "acme-cur".into(),
        database: "costradar_cur".into(),
        table: "cur_export".into(),
        workgroup: "costradar".into(),
    };
    let mut account =
        Account::new_pending(tenant.id.clone(), role, vec!["us-east-1".into()], Some(cur), Registration::Manual, now);
    account.transition(AccountStatus::Active, "verified", now).unwrap();
    store.save_account(&mut account, Claim::Acquire).await.unwrap();

    let tasks = CurTasks {
        store: store.clone(),
        athena: Arc::new(Mocked(client)),
        clock: Arc::new(SystemClock),
        options: AnalysisOptions::default(),
        reports: None,
    };
    let started = tasks
        .handle(&json!({"task": "start", "run_id": "run-1", "tenant_id": tenant.id.as_str(), "account_id": account_id, "from": "2025-01", "to": "2025-02"}))
        .await
        .unwrap();
    assert_eq!(started["queries"].as_array().unwrap().len(), Query::ALL.len());
    assert_eq!(start.num_calls(), Query::ALL.len());
    assert!(started["queries"].as_array().unwrap().iter().all(|q| q["query_execution_id"] != "q-unknown"));

    // What the state machine passes on (infra/statemachines/scan.asl.json): the ids and `queries`.
    let poll_in = json!({"task": "poll", "run_id": started["run_id"], "tenant_id": started["tenant_id"],
        "account_id": started["account_id"], "queries": started["queries"]});
    let polled = tasks.handle(&poll_in).await.unwrap();
    assert_eq!(polled["state"], "SUCCEEDED");

    let fetch = json!({"task": "fetch_and_analyse", "run_id": polled["run_id"], "tenant_id": polled["tenant_id"],
        "account_id": polled["account_id"], "queries": polled["queries"], "state": polled["state"]});
    let out = tasks.handle(&fetch).await.unwrap();
    assert_eq!(out["anomalies"], expected.anomalies.len());
    assert_eq!(out["bytes_scanned"], 50_000_000u64 * Query::ALL.len() as u64);
    // 48 MB a query at $5 per 1,048,576 MB.
    assert_eq!(out["query_cost_usd"], "0.002060", "{out}");

    let stored = store
        .list_findings(&tenant.id, Some(&AccountId::parse(&account_id).unwrap()), &PageRequest::first(100))
        .await
        .unwrap()
        .items;
    let want_waste: Vec<_> = expected.findings.iter().filter(|f| f.account_id == account_id).collect();
    let want_anomalies = expected.anomalies.iter().filter(|a| a.account_id == account_id).count();
    assert_eq!(stored.iter().filter(|f| f.rule == ANOMALY_RULE).count(), want_anomalies);
    assert!(want_anomalies > 0, "account 0 has injected anomalies");
    for w in &want_waste {
        let f =
            stored.iter().find(|f| f.rule == w.rule && f.resource_id == w.resource_id).expect("waste finding stored");
        assert_eq!(f.monthly_savings_usd, w.monthly_savings, "{}", w.rule);
        assert_eq!(f.monthly_cost_usd, Some(w.monthly_cost));
    }
    assert_eq!(out["findings_opened"], want_waste.len() + want_anomalies);

    let rates = store.get_rates(RateScope::Tenant(&tenant.id)).await.unwrap();
    let want = expected.rates.iter().find(|r| r.instance_type == "m5.xlarge" && r.region == "us-east-1").unwrap();
    let got = rates.get("us-east-1", &Sku::ec2("m5.xlarge")).unwrap();
    assert_eq!((got.usd, got.source), (want.hourly, PriceSource::TenantRates));
    assert_eq!(rates.len(), expected.rates.len());

    // A retried fetch opens nothing new.
    let again = tasks.handle(&fetch).await.unwrap();
    assert_eq!(again["findings_opened"], 0);

    // An account without CUR settings starts nothing, and the state machine skips the rest.
    let role = RoleArn::parse("arn:aws:iam::999988887777:role/CostradarReadOnly").unwrap();
    let mut plain = Account::new_pending(tenant.id.clone(), role, vec![], None, Registration::Manual, now);
    plain.transition(AccountStatus::Active, "verified", now).unwrap();
    store.save_account(&mut plain, Claim::Acquire).await.unwrap();
    let none = tasks
        .handle(
            &json!({"task": "start", "run_id": "run-1", "tenant_id": tenant.id.as_str(), "account_id": "999988887777"}),
        )
        .await
        .unwrap();
    assert_eq!(none["queries"], json!([]));
    assert_eq!(start.num_calls(), Query::ALL.len(), "no query was started for it");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_failed_query_fails_the_poll_with_its_reason() {
    let poll = mock!(Client::get_query_execution).then_compute_output(|r| {
        let id = r.query_execution_id().unwrap_or_default();
        if id == "q-waste" {
            execution(id, QueryExecutionState::Failed, Some("HIVE_BAD_DATA: malformed Parquet"))
        } else {
            execution(id, QueryExecutionState::Running, None)
        }
    });
    let client = mock_client!(aws_sdk_athena, RuleMode::MatchAny, [&poll]);
    let store = Arc::new(MemoryStore::default());
    let now = Utc::now();
    let mut tenant = Tenant::new(TenantId::generate(), "Acme".into(), ExternalId::generate(), now);
    store.save_tenant(&mut tenant).await.unwrap();
    let role = RoleArn::parse("arn:aws:iam::111122223333:role/CostradarReadOnly").unwrap();
    let cur =
        CurSettings { bucket: "acme-cur".into(), database: "db".into(), table: "cur".into(), workgroup: "wg".into() };
    let mut account = Account::new_pending(tenant.id.clone(), role, vec![], Some(cur), Registration::Manual, now);
    account.transition(AccountStatus::Active, "verified", now).unwrap();
    store.save_account(&mut account, Claim::Acquire).await.unwrap();
    let tasks = CurTasks {
        store,
        athena: Arc::new(Mocked(client)),
        clock: Arc::new(SystemClock),
        options: AnalysisOptions::default(),
        reports: None,
    };
    let base = json!({"run_id": "run-1", "tenant_id": tenant.id.as_str(), "account_id": "111122223333", "from": "2025-01", "to": "2025-02",
        "queries": [{"name": "spend_monthly", "query_execution_id": "q-spend"}, {"name": "waste", "query_execution_id": "q-waste"}]});
    let mut p = base.clone();
    p["task"] = json!("poll");
    let e = tasks.handle(&p).await.unwrap_err();
    assert_eq!(e.error_type(), "QueryFailed");
    assert!(e.to_string().contains("waste") && e.to_string().contains("HIVE_BAD_DATA"), "{e}");

    // Hostile task payloads are InvalidInput and call nothing.
    for (field, value) in [
        ("queries", json!([{"name": "drop_table", "query_execution_id": "q-1"}])),
        ("queries", json!([{"name": "waste", "query_execution_id": "../../etc"}])),
        ("queries", json!([])),
        ("from", json!("2025-13")),
        ("to", json!("2024-01")),
        ("state", json!("EXPLODED")),
    ] {
        let mut bad = base.clone();
        bad["task"] = json!("fetch_and_analyse");
        bad[field] = value.clone();
        let e = tasks.handle(&bad).await.unwrap_err();
        assert_eq!(e.error_type(), "InvalidInput", "{field}={value}: {e}");
    }
    assert_eq!(poll.num_calls(), 2, "only the valid poll reached Athena");
}
