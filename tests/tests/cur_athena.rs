//! The Athena adapter against aws-smithy-mocks: the sequences moto cannot produce (QUEUED →
//! RUNNING → SUCCEEDED, FAILED with a reason, three pages of results, throttling, a timeout
//! that stops the query), and what a start sends (parameters, token, workgroup, reuse).

use std::time::Duration;

use aws_sdk_athena::error::ErrorMetadata;
use aws_sdk_athena::operation::get_query_execution::{GetQueryExecutionError, GetQueryExecutionOutput};
use aws_sdk_athena::operation::get_query_results::GetQueryResultsOutput;
use aws_sdk_athena::operation::start_query_execution::StartQueryExecutionOutput;
use aws_sdk_athena::operation::stop_query_execution::StopQueryExecutionOutput;
use aws_sdk_athena::types::{
    AthenaError, ColumnInfo, Datum, QueryExecution, QueryExecutionState, QueryExecutionStatistics,
    QueryExecutionStatus, ResultSet, ResultSetMetadata, Row,
};
use aws_sdk_athena::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use costradar_aws::athena::{AthenaEngine, AthenaSettings};
use costradar_core::cur::engine::{query_cost_usd, request_token, QueryState};
use costradar_core::cur::queries::{Library, PeriodRange, Query, Schema, YearMonth};
use costradar_core::cur::{Cell, QueryEngine, QueryError};
use rust_decimal::Decimal;

fn settings() -> AthenaSettings {
    let mut s = AthenaSettings::new("costradar", "costradar_cur");
    s.poll_interval = Duration::from_secs(1);
    s.timeout = Duration::from_secs(30);
    s
}

fn execution(state: QueryExecutionState, bytes: i64, reason: Option<&str>) -> GetQueryExecutionOutput {
    let mut status = QueryExecutionStatus::builder().state(state);
    if let Some(r) = reason {
        status = status
            .state_change_reason(r)
            .athena_error(AthenaError::builder().error_category(2).error_type(1006).build());
    }
    GetQueryExecutionOutput::builder()
        .query_execution(
            QueryExecution::builder()
                .query_execution_id("q-1")
                .status(status.build())
                .statistics(QueryExecutionStatistics::builder().data_scanned_in_bytes(bytes).build())
                .build(),
        )
        .build()
}

fn row(values: &[Option<&str>]) -> Row {
    Row::builder()
        .set_data(Some(
            values.iter().map(|v| Datum::builder().set_var_char_value(v.map(str::to_owned)).build()).collect(),
        ))
        .build()
}

fn page(rows: Vec<Row>, next: Option<&str>) -> GetQueryResultsOutput {
    let cols = [("service", "varchar"), ("total_billed", "decimal"), ("lines", "bigint")];
    let meta = ResultSetMetadata::builder()
        .set_column_info(Some(
            cols.iter().map(|(n, t)| ColumnInfo::builder().name(*n).r#type(*t).build().unwrap()).collect(),
        ))
        .build();
    GetQueryResultsOutput::builder()
        .result_set(ResultSet::builder().result_set_metadata(meta).set_rows(Some(rows)).build())
        .set_next_token(next.map(str::to_owned))
        .build()
}

fn range() -> PeriodRange {
    PeriodRange::new(YearMonth::parse("2025-01").unwrap(), YearMonth::parse("2025-02").unwrap()).unwrap()
}

#[tokio::test(start_paused = true)]
async fn queued_running_succeeded_then_three_pages() {
    let lib = Library::new(Schema::Cur2, "cur_export").unwrap();
    let req = lib.request(Query::SpendMonthly, &range());
    let token = request_token("run-7", "111122223333", req.name.as_str());
    let sql = req.sql.clone();
    let expected_token = token.clone();
    let start = mock!(Client::start_query_execution)
        .match_requests(move |r| {
            r.query_string() == Some(sql.as_str())
                && r.execution_parameters() == ["'2025-01'", "'2025-02'"]
                && r.client_request_token() == Some(expected_token.as_str())
                && r.work_group() == Some("costradar")
                && r.query_execution_context().and_then(|c| c.database()) == Some("costradar_cur")
                && r.result_reuse_configuration()
                    .and_then(|c| c.result_reuse_by_age_configuration())
                    .is_some_and(|a| a.enabled() && a.max_age_in_minutes() == Some(60))
        })
        .then_output(|| StartQueryExecutionOutput::builder().query_execution_id("q-1").build());
    let poll = mock!(Client::get_query_execution)
        .sequence()
        .output(|| execution(QueryExecutionState::Queued, 0, None))
        .output(|| execution(QueryExecutionState::Running, 1_000, None))
        .output(|| execution(QueryExecutionState::Succeeded, 123_456_789, None))
        .build();
    let results = mock!(Client::get_query_results)
        .sequence()
        .output(|| {
            page(
                vec![
                    row(&[Some("service"), Some("total_billed"), Some("lines")]),
                    row(&[Some("AmazonEC2"), Some("1234.5600000000"), Some("10")]),
                    row(&[Some("AmazonS3"), Some("0.0100000000"), Some("3")]),
                ],
                Some("page-2"),
            )
        })
        .output(|| {
            page(
                vec![
                    row(&[Some("AWSLambda"), Some("7.0000000000"), Some("1")]),
                    row(&[None, Some("-100.0000000000"), None]),
                ],
                Some("page-3"),
            )
        })
        .output(|| page(vec![row(&[Some("Tax"), Some("4.2000000000"), Some("1")])], None))
        .build();
    let client = mock_client!(aws_sdk_athena, RuleMode::MatchAny, [&start, &poll, &results]);
    let engine = AthenaEngine::new(client, settings());

    let id = engine.start(&req, &token).await.expect("the start request has parameters, token, workgroup and reuse");
    assert_eq!(id, "q-1");
    let began = tokio::time::Instant::now();
    let status = engine.wait(&id).await.unwrap();
    assert_eq!(status.state, QueryState::Succeeded);
    assert_eq!(status.bytes_scanned, 123_456_789);
    assert_eq!(poll.num_calls(), 3, "QUEUED, RUNNING, SUCCEEDED");
    assert_eq!(began.elapsed(), Duration::from_secs(2), "two poll intervals");
    // 123,456,789 bytes = 118 MB (rounded up) x $5 / 1,048,576 MB per TB.
    assert_eq!(query_cost_usd(status.bytes_scanned), Decimal::new(56267, 8));

    let rs = engine.results(&id).await.unwrap();
    assert_eq!(results.num_calls(), 3, "three pages");
    assert_eq!(rs.columns, ["service", "total_billed", "lines"]);
    assert_eq!(rs.rows.len(), 5, "the header row is not data");
    assert_eq!(rs.rows[0], vec![Cell::Text("AmazonEC2".into()), Cell::Decimal(Decimal::new(123456, 2)), Cell::Int(10)]);
    assert_eq!(rs.rows[3], vec![Cell::Null, Cell::Decimal(Decimal::from(-100)), Cell::Null]);
    let total: Decimal = rs.rows.iter().map(|r| if let Cell::Decimal(d) = r[1] { d } else { Decimal::ZERO }).sum();
    assert_eq!(total, Decimal::new(114577, 2));
}

#[tokio::test(start_paused = true)]
async fn a_failed_query_reports_athenas_reason() {
    let poll = mock!(Client::get_query_execution).then_output(|| {
        execution(
            QueryExecutionState::Failed,
            0,
            Some("COLUMN_NOT_FOUND: line 3:5: Column 'line_item_unblended_cost' cannot be resolved"),
        )
    });
    let client = mock_client!(aws_sdk_athena, RuleMode::MatchAny, [&poll]);
    let engine = AthenaEngine::new(client, settings());
    match engine.wait("q-1").await {
        Err(QueryError::Failed(m)) => {
            assert!(
                m.contains("q-1 failed") && m.contains("COLUMN_NOT_FOUND") && m.contains("line_item_unblended_cost"),
                "{m}"
            )
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    let cancelled = mock!(Client::get_query_execution)
        .then_output(|| execution(QueryExecutionState::Cancelled, 0, Some("Query cancelled by user")));
    let client = mock_client!(aws_sdk_athena, RuleMode::MatchAny, [&cancelled]);
    let e = AthenaEngine::new(client, settings()).status("q-1").await.unwrap_err();
    assert!(matches!(e, QueryError::Failed(ref m) if m.contains("cancelled")), "{e:?}");
}

fn throttled() -> GetQueryExecutionError {
    GetQueryExecutionError::generic(
        ErrorMetadata::builder().code("TooManyRequestsException").message("Rate exceeded").build(),
    )
}

#[tokio::test(start_paused = true)]
async fn throttling_is_transient_and_retried() {
    // The SDK's standard retry absorbs a short burst...
    let poll = mock!(Client::get_query_execution)
        .sequence()
        .error(throttled)
        .times(2)
        .output(|| execution(QueryExecutionState::Succeeded, 42, None))
        .build();
    let client = mock_client!(aws_sdk_athena, RuleMode::MatchAny, [&poll], |c| c
        .retry_config(aws_sdk_athena::config::retry::RetryConfig::standard().with_max_attempts(3)));
    let engine = AthenaEngine::new(client, settings());
    let s = engine.status("q-1").await.expect("retried through the throttling");
    assert_eq!((s.state, s.bytes_scanned, poll.num_calls()), (QueryState::Succeeded, 42, 3));

    // ...and persistent throttling is Transient, which the state machine retries with back-off.
    let poll = mock!(Client::get_query_execution).then_error(throttled);
    let client = mock_client!(aws_sdk_athena, RuleMode::MatchAny, [&poll]);
    let e = AthenaEngine::new(client, settings()).status("q-1").await.unwrap_err();
    assert!(matches!(e, QueryError::Transient(ref m) if m.contains("TooManyRequestsException")), "{e:?}");

    // A bad request is not transient.
    let bad = mock!(Client::get_query_execution).then_error(|| {
        GetQueryExecutionError::generic(
            ErrorMetadata::builder().code("InvalidRequestException").message("no such query").build(),
        )
    });
    let client = mock_client!(aws_sdk_athena, RuleMode::MatchAny, [&bad]);
    let e = AthenaEngine::new(client, settings()).status("q-9").await.unwrap_err();
    assert!(matches!(e, QueryError::Failed(_)), "{e:?}");
}

#[tokio::test(start_paused = true)]
async fn a_query_that_runs_too_long_is_stopped() {
    let poll = mock!(Client::get_query_execution).then_output(|| execution(QueryExecutionState::Running, 0, None));
    let stop = mock!(Client::stop_query_execution)
        .match_requests(|r| r.query_execution_id() == Some("q-1"))
        .then_output(|| StopQueryExecutionOutput::builder().build());
    let client = mock_client!(aws_sdk_athena, RuleMode::MatchAny, [&poll, &stop]);
    let engine = AthenaEngine::new(client, settings());
    let e = engine.wait("q-1").await.unwrap_err();
    assert!(matches!(e, QueryError::Failed(ref m) if m.contains("was stopped")), "{e:?}");
    assert_eq!(stop.num_calls(), 1);
    assert_eq!(poll.num_calls(), 31, "polled every second for 30 s");
}

#[tokio::test(start_paused = true)]
async fn run_starts_waits_and_fetches_with_the_bytes_scanned() {
    let start = mock!(Client::start_query_execution)
        .then_output(|| StartQueryExecutionOutput::builder().query_execution_id("q-1").build());
    let poll =
        mock!(Client::get_query_execution).then_output(|| execution(QueryExecutionState::Succeeded, 5_000_000, None));
    let results = mock!(Client::get_query_results).then_output(|| {
        page(
            vec![
                row(&[Some("service"), Some("total_billed"), Some("lines")]),
                row(&[Some("AmazonEC2"), Some("1.5"), Some("2")]),
            ],
            None,
        )
    });
    let client = mock_client!(aws_sdk_athena, RuleMode::MatchAny, [&start, &poll, &results]);
    let engine = AthenaEngine::new(client, settings());
    let lib = Library::new(Schema::Cur2, "cur_export").unwrap();
    let rs = engine.run(&lib.request(Query::SpendMonthly, &range())).await.unwrap();
    assert_eq!(rs.bytes_scanned, Some(5_000_000));
    assert_eq!(rs.rows.len(), 1);
    assert_eq!(query_cost_usd(5_000_000), query_cost_usd(10 << 20), "under 10 MB costs the minimum");
}
