//! The query ports. A query is SQL with `?` positional placeholders and its parameter values,
//! never values interpolated into the text: Athena gets them as `ExecutionParameters`, the
//! embedded engine binds them. `QueryEngine` runs a query to completion (the CLI, the embedded
//! engine); `QueryExecutions` starts, polls, stops and reads queries one step at a time, as the
//! state machine drives Athena.

use async_trait::async_trait;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One query of the library, ready to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryRequest {
    /// The library's name for it (`spend_by_service`, ...): logs, run records, idempotency tokens.
    pub name: String,
    /// SQL with `?` placeholders, in the dialect the engine expects.
    pub sql: String,
    /// Values for the placeholders, in order, as SQL literals' values (not quoted).
    pub params: Vec<String>,
}

/// A typed cell of a result.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    /// Money and every other fractional number: exact, never `f64`.
    Decimal(Decimal),
    /// Text, and dates and timestamps in ISO 8601.
    Text(String),
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResultSet {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// What the engine read, where it knows (Athena's `DataScannedInBytes`).
    pub bytes_scanned: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The data is not what the query expects: a missing column, a wrong type, a corrupt file.
    #[error("invalid input data: {0}")]
    InvalidData(String),
    /// The engine ran the query and it failed (Athena FAILED/CANCELLED with its reason).
    #[error("query failed: {0}")]
    Failed(String),
    /// Throttling or an unavailable service: retry later.
    #[error("query engine unavailable: {0}")]
    Transient(String),
}

#[async_trait]
pub trait QueryEngine: Send + Sync {
    /// Runs the query to completion and returns all its rows.
    async fn run(&self, query: &QueryRequest) -> Result<ResultSet, QueryError>;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QueryState {
    /// Queued or running.
    Running,
    Succeeded,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueryStatus {
    pub state: QueryState,
    pub bytes_scanned: u64,
}

/// Queries run one step at a time (Athena in the customer's account; the adapter is
/// `costradar_aws::athena`).
#[async_trait]
pub trait QueryExecutions: Send + Sync {
    /// Starts the query; the same `token` starts nothing new (a retried start).
    async fn start(&self, query: &QueryRequest, token: &str) -> Result<String, QueryError>;
    async fn status(&self, id: &str) -> Result<QueryStatus, QueryError>;
    async fn stop(&self, id: &str) -> Result<(), QueryError>;
    async fn results(&self, id: &str) -> Result<ResultSet, QueryError>;
}

const TB: u64 = 1 << 40;
const MB: u64 = 1 << 20;

/// What Athena charges for a query: $5 per TB scanned, rounded up to the MB, 10 MB minimum.
pub fn query_cost_usd(bytes_scanned: u64) -> Decimal {
    let mb = bytes_scanned.div_ceil(MB).max(10);
    (Decimal::from(mb) * Decimal::from(5) / Decimal::from(TB / MB)).round_dp(8)
}

/// A `ClientRequestToken` from the run, account and query name: a retried start of the same
/// query in the same run is the same request to Athena (64 hex characters; Athena takes 32-128).
pub fn request_token(run_id: &str, account_id: &str, query_name: &str) -> String {
    let mut h = Sha256::new();
    for part in [run_id, account_id, query_name] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_is_five_dollars_a_terabyte_with_a_ten_megabyte_minimum() {
        assert_eq!(query_cost_usd(0), query_cost_usd(10 * MB));
        assert_eq!(query_cost_usd(1), Decimal::new(4768372, 11).round_dp(8));
        assert_eq!(query_cost_usd(TB), Decimal::from(5));
        assert_eq!(query_cost_usd(10 * MB + 1), query_cost_usd(11 * MB));
    }

    #[test]
    fn tokens_are_stable_and_distinct() {
        let a = request_token("run-1", "111122223333", "spend_monthly");
        assert_eq!(a.len(), 64);
        assert_eq!(a, request_token("run-1", "111122223333", "spend_monthly"));
        assert_ne!(a, request_token("run-2", "111122223333", "spend_monthly"));
        assert_ne!(request_token("a", "bc", "d"), request_token("ab", "c", "d"));
    }
}
