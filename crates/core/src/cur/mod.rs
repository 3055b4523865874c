//! Cost and Usage Report analysis: one query library (CUR 2.0 and FOCUS) that runs on Athena in
//! the customer's account (`costradar_aws::athena`) and on an embedded engine locally
//! (`costradar_cur_local`, DataFusion). The `QueryEngine` and `QueryExecutions` ports are the
//! seam.

pub mod analysis;
pub mod anomaly;
pub mod confirm;
pub mod engine;
pub mod focus;
pub mod queries;
pub mod rates;
pub mod tasks;

pub use engine::{Cell, QueryEngine, QueryError, QueryExecutions, QueryRequest, ResultSet};
