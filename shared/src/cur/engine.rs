//! The `QueryEngine` port. A query is SQL with `?` positional placeholders and its parameter
//! values, never values interpolated into the text: Athena gets them as `ExecutionParameters`,
//! the embedded engine binds them.

use async_trait::async_trait;
use rust_decimal::Decimal;

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
