//! The storage families: S3, EFS, ECR and AWS Backup.

use super::{Calls, Found, RegionClients};

/// Lists the storage families of one region (nothing yet).
pub async fn scan(_c: &RegionClients, _account_id: &str, _region: &str) -> Found {
    (Box::new(|_| {}), Calls::default())
}

/// CloudWatch queries for the storage families' utilisation facts (none yet).
pub fn metric_queries(
    _inv: &costradar_core::rules::facts::RegionInventory,
    _w: &costradar_core::scan::MetricsWindow,
    _q: &mut Vec<super::metrics::Query>,
) {
}
