//! Cost and Usage Report analysis: one query library (CUR 2.0 and FOCUS) that runs on Athena in
//! the customer's account and on an embedded engine (DataFusion, feature `embedded`) locally.
//! The `QueryEngine` port is the seam between the two.

pub mod analysis;
pub mod anomaly;
pub mod athena;
#[cfg(feature = "embedded")]
pub mod embedded;
pub mod engine;
pub mod focus;
#[cfg(feature = "embedded")]
pub mod generate;
pub mod queries;
pub mod rates;
#[cfg(feature = "embedded")]
pub mod s3_export;
pub mod tasks;

pub use engine::{Cell, QueryEngine, QueryError, QueryRequest, ResultSet};
