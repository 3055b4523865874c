//! The Athena adapter of the `QueryEngine` port: queries run in the customer's account, in the
//! workgroup, database and catalog their stack created, through the assumed role.
//!
//! - `StartQueryExecution` with the values in `ExecutionParameters` (quoted as SQL string
//!   literals; nothing is interpolated into the text), a `ClientRequestToken` so a retried start
//!   starts nothing new, and `ResultReuseConfiguration` so a repeat within the hour reads the
//!   previous result instead of scanning again.
//! - Polling is the state machine's (Wait states) through [`AthenaEngine::status`]; the CLI and
//!   [`QueryEngine::run`] use [`AthenaEngine::wait`], which sleeps between polls.
//! - `GetQueryResults` is paginated and its cells decoded to typed values by the result's column
//!   types.
//! - `StopQueryExecution` on cancel or timeout.
//! - Cost: `DataScannedInBytes`, and $5 per TB with a 10 MB minimum
//!   (`costradar_core::cur::engine::query_cost_usd`).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_athena::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_athena::types::{
    QueryExecutionContext, QueryExecutionState, ResultReuseByAgeConfiguration, ResultReuseConfiguration,
};
use costradar_core::access::permissions::{session_policy, Task};
use costradar_core::access::{AssumeError, AssumeRequest, RoleAssumer, SessionName};
use costradar_core::cur::engine::{
    request_token, Cell, QueryEngine, QueryError, QueryExecutions, QueryRequest, QueryState, QueryStatus, ResultSet,
};
use costradar_core::cur::tasks::AthenaConnector;
use costradar_core::domain::{Account, Clock, Tenant};
use costradar_core::workflow::TaskError;
use rust_decimal::Decimal;

use crate::customer_config;

#[derive(Clone, Debug)]
pub struct AthenaSettings {
    pub workgroup: String,
    pub database: String,
    pub catalog: Option<String>,
    /// How long an earlier identical query's result may be reused.
    pub reuse_minutes: i32,
    pub poll_interval: Duration,
    /// [`AthenaEngine::wait`] stops the query after this long.
    pub timeout: Duration,
}

impl AthenaSettings {
    pub fn new(workgroup: &str, database: &str) -> Self {
        Self {
            workgroup: workgroup.to_owned(),
            database: database.to_owned(),
            catalog: None,
            reuse_minutes: 60,
            poll_interval: Duration::from_secs(2),
            timeout: Duration::from_secs(600),
        }
    }
}

pub struct AthenaEngine {
    client: aws_sdk_athena::Client,
    settings: AthenaSettings,
}

/// A parameter as Athena's ExecutionParameters take it: an SQL string literal.
fn literal(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

fn map_sdk<E: ProvideErrorMetadata + std::fmt::Debug>(op: &str, e: SdkError<E>) -> QueryError {
    match &e {
        SdkError::ServiceError(se) => {
            let err = se.err();
            let code = err.code().unwrap_or("Unknown");
            let msg = err.message().unwrap_or("");
            match code {
                "TooManyRequestsException"
                | "ThrottlingException"
                | "InternalServerException"
                | "ServiceUnavailable" => QueryError::Transient(format!("{op}: {code}: {msg}")),
                _ => QueryError::Failed(format!("{op}: {code}: {msg}")),
            }
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            QueryError::Transient(format!("{op}: {e}"))
        }
        _ => QueryError::Failed(format!("{op}: {e}")),
    }
}

/// Decodes one Athena value by its column type.
fn decode(column_type: &str, value: Option<&str>) -> Result<Cell, QueryError> {
    let Some(v) = value else { return Ok(Cell::Null) };
    let t = column_type.to_ascii_lowercase();
    let bad = || QueryError::InvalidData(format!("Athena returned {v:?} for a {column_type} column"));
    Ok(match t.split('(').next().unwrap_or("") {
        "tinyint" | "smallint" | "integer" | "int" | "bigint" => Cell::Int(v.parse().map_err(|_| bad())?),
        "decimal" => Cell::Decimal(v.parse().map_err(|_| bad())?),
        "double" | "float" | "real" => {
            let d = v.parse::<Decimal>().or_else(|_| Decimal::from_scientific(v)).map_err(|_| bad())?;
            Cell::Decimal(d)
        }
        "boolean" => Cell::Bool(match v {
            "true" => true,
            "false" => false,
            _ => return Err(bad()),
        }),
        _ => Cell::Text(v.to_owned()),
    })
}

/// The production connector. Athena runs in costradar's region, where the customer's stack
/// (and so its workgroup) is deployed.
pub struct AssumedAthena {
    pub assumer: Arc<dyn RoleAssumer>,
    pub base: aws_config::SdkConfig,
    pub clock: Arc<dyn Clock>,
}

#[async_trait]
impl AthenaConnector for AssumedAthena {
    async fn connect(&self, tenant: &Tenant, account: &Account) -> Result<Box<dyn QueryExecutions>, TaskError> {
        let cur =
            account.cur.as_ref().ok_or_else(|| TaskError::InvalidInput("the account has no CUR settings".into()))?;
        let policy = session_policy(Task::CurQuery, &account.role_arn);
        let creds = self
            .assumer
            .assume(&AssumeRequest {
                role_arn: &account.role_arn,
                external_id: Some(&tenant.external_id),
                session_name: &SessionName::new(&tenant.id, self.clock.now()),
                policy: Some(&policy.inline),
                policy_arns: &policy.managed_arns,
            })
            .await
            .map_err(|e| match e {
                AssumeError::AccessDenied(m) => TaskError::AccountRevoked(m),
                AssumeError::Throttled(m) | AssumeError::Unavailable(m) => TaskError::Transient(m),
                AssumeError::Other(m) => TaskError::Transient(m),
            })?;
        let region = self.base.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".into());
        let client = aws_sdk_athena::Client::new(&customer_config(&self.base, &creds, &region));
        Ok(Box::new(AthenaEngine::new(client, AthenaSettings::new(&cur.workgroup, &cur.database))))
    }
}

impl AthenaEngine {
    pub fn new(client: aws_sdk_athena::Client, settings: AthenaSettings) -> Self {
        Self { client, settings }
    }

    pub fn settings(&self) -> &AthenaSettings {
        &self.settings
    }

    /// Starts the query; `token` makes the start idempotent.
    pub async fn start(&self, query: &QueryRequest, token: &str) -> Result<String, QueryError> {
        let mut context = QueryExecutionContext::builder().database(&self.settings.database);
        if let Some(c) = &self.settings.catalog {
            context = context.catalog(c);
        }
        let reuse = ResultReuseConfiguration::builder()
            .result_reuse_by_age_configuration(
                ResultReuseByAgeConfiguration::builder()
                    .enabled(true)
                    .max_age_in_minutes(self.settings.reuse_minutes)
                    .build(),
            )
            .build();
        let params: Vec<String> = query.params.iter().map(|p| literal(p)).collect();
        let out = self
            .client
            .start_query_execution()
            .query_string(&query.sql)
            .query_execution_context(context.build())
            .work_group(&self.settings.workgroup)
            .set_execution_parameters((!params.is_empty()).then_some(params))
            .client_request_token(token)
            .result_reuse_configuration(reuse)
            .send()
            .await
            .map_err(|e| map_sdk("StartQueryExecution", e))?;
        out.query_execution_id()
            .map(str::to_owned)
            .ok_or_else(|| QueryError::Failed("StartQueryExecution returned no query id".into()))
    }

    /// One poll. FAILED and CANCELLED are `QueryError::Failed` with Athena's reason.
    pub async fn status(&self, id: &str) -> Result<QueryStatus, QueryError> {
        let out = self
            .client
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .map_err(|e| map_sdk("GetQueryExecution", e))?;
        let qe = out.query_execution().ok_or_else(|| QueryError::Failed(format!("query {id}: no execution")))?;
        let bytes = qe.statistics().and_then(|s| s.data_scanned_in_bytes()).unwrap_or(0).max(0) as u64;
        let status = qe.status();
        let state = status.and_then(|s| s.state()).cloned();
        let reason = || {
            let s = status.and_then(|s| s.state_change_reason()).unwrap_or("no reason given");
            let kind = status.and_then(|s| s.athena_error()).and_then(|e| e.error_type()).map(|t| format!(" ({t})"));
            format!("{s}{}", kind.unwrap_or_default())
        };
        match state {
            Some(QueryExecutionState::Succeeded) => {
                Ok(QueryStatus { state: QueryState::Succeeded, bytes_scanned: bytes })
            }
            Some(QueryExecutionState::Queued | QueryExecutionState::Running) | None => {
                Ok(QueryStatus { state: QueryState::Running, bytes_scanned: bytes })
            }
            Some(QueryExecutionState::Failed) => Err(QueryError::Failed(format!("query {id} failed: {}", reason()))),
            Some(QueryExecutionState::Cancelled) => {
                Err(QueryError::Failed(format!("query {id} was cancelled: {}", reason())))
            }
            Some(other) => Err(QueryError::Failed(format!("query {id}: unexpected state {}", other.as_str()))),
        }
    }

    pub async fn stop(&self, id: &str) -> Result<(), QueryError> {
        self.client
            .stop_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .map_err(|e| map_sdk("StopQueryExecution", e))?;
        Ok(())
    }

    /// Polls until the query ends, sleeping between polls (CLI and [`QueryEngine::run`] only:
    /// the Lambdas poll through the state machine). Stops the query on timeout.
    pub async fn wait(&self, id: &str) -> Result<QueryStatus, QueryError> {
        let deadline = tokio::time::Instant::now() + self.settings.timeout;
        loop {
            let s = self.status(id).await?;
            if s.state == QueryState::Succeeded {
                return Ok(s);
            }
            if tokio::time::Instant::now() >= deadline {
                let _ = self.stop(id).await;
                return Err(QueryError::Failed(format!(
                    "query {id} did not finish in {} s and was stopped",
                    self.settings.timeout.as_secs()
                )));
            }
            tokio::time::sleep(self.settings.poll_interval).await;
        }
    }

    /// Every row of a finished query, typed by the result's column types.
    pub async fn results(&self, id: &str) -> Result<ResultSet, QueryError> {
        let mut rs = ResultSet::default();
        let mut types: Vec<String> = Vec::new();
        let mut token: Option<String> = None;
        let mut first_page = true;
        loop {
            let out = self
                .client
                .get_query_results()
                .query_execution_id(id)
                .max_results(1000)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| map_sdk("GetQueryResults", e))?;
            let Some(set) = out.result_set() else { break };
            if first_page {
                let cols = set.result_set_metadata().map(|m| m.column_info()).unwrap_or_default();
                rs.columns = cols.iter().map(|c| c.name().to_owned()).collect();
                types = cols.iter().map(|c| c.r#type().to_owned()).collect();
            }
            for (i, row) in set.rows().iter().enumerate() {
                let values: Vec<Option<&str>> = row.data().iter().map(|d| d.var_char_value()).collect();
                // The first row of a SELECT's first page repeats the column names.
                if first_page
                    && i == 0
                    && values.iter().map(|v| v.unwrap_or("")).eq(rs.columns.iter().map(String::as_str))
                {
                    continue;
                }
                if values.len() != types.len() {
                    return Err(QueryError::InvalidData(format!(
                        "query {id}: a row has {} values for {} columns",
                        values.len(),
                        types.len()
                    )));
                }
                let cells = values.iter().zip(&types).map(|(v, t)| decode(t, *v)).collect::<Result<Vec<_>, _>>()?;
                rs.rows.push(cells);
            }
            first_page = false;
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }
        Ok(rs)
    }
}

#[async_trait]
impl QueryExecutions for AthenaEngine {
    async fn start(&self, query: &QueryRequest, token: &str) -> Result<String, QueryError> {
        AthenaEngine::start(self, query, token).await
    }
    async fn status(&self, id: &str) -> Result<QueryStatus, QueryError> {
        AthenaEngine::status(self, id).await
    }
    async fn stop(&self, id: &str) -> Result<(), QueryError> {
        AthenaEngine::stop(self, id).await
    }
    async fn results(&self, id: &str) -> Result<ResultSet, QueryError> {
        AthenaEngine::results(self, id).await
    }
}

#[async_trait]
impl QueryEngine for AthenaEngine {
    /// Start, wait, fetch. Each call is a new query (a random token): use [`AthenaEngine::start`]
    /// with [`request_token`] where a retry must not start a second one.
    async fn run(&self, query: &QueryRequest) -> Result<ResultSet, QueryError> {
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).map_err(|e| QueryError::Transient(format!("no randomness: {e}")))?;
        let token = request_token(&hex::encode(nonce), "", &query.name);
        let id = self.start(query, &token).await?;
        let status = self.wait(&id).await?;
        let mut rs = self.results(&id).await?;
        rs.bytes_scanned = Some(status.bytes_scanned);
        Ok(rs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_literals_and_cannot_break_out() {
        assert_eq!(literal("2025-01"), "'2025-01'");
        assert_eq!(literal("x' OR '1'='1"), "'x'' OR ''1''=''1'");
    }

    #[test]
    fn cells_decode_by_type() {
        assert_eq!(decode("decimal(38,10)", Some("12.3400000000")).unwrap(), Cell::Decimal(Decimal::new(1234, 2)));
        assert_eq!(decode("bigint", Some("42")).unwrap(), Cell::Int(42));
        assert_eq!(decode("double", Some("1.5E-4")).unwrap(), Cell::Decimal(Decimal::new(15, 5)));
        assert_eq!(decode("varchar", Some("x")).unwrap(), Cell::Text("x".into()));
        assert_eq!(decode("varchar", None).unwrap(), Cell::Null);
        assert_eq!(decode("boolean", Some("true")).unwrap(), Cell::Bool(true));
        assert!(matches!(decode("bigint", Some("4x")), Err(QueryError::InvalidData(_))));
    }
}
