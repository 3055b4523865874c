//! The network and monitoring families: CloudWatch alarms, VPC endpoints, Transit Gateway
//! attachments and Route 53 (global: read in the us-east-1 scan only). Each listing that fails
//! leaves its facts empty (the region partial): every rule of these families reads one resource
//! of its own listing, so a failure hides findings and never invents one. The alarms' rule that
//! reads other listings' absences is resolved by `scan_region` with them
//! (`rules::cloudwatch::resolve_targets`).

pub mod alarms;
pub mod route53;
pub mod vpc;

use super::{Calls, Found, RegionClients};
use costradar_core::rules::route53::REGION as ROUTE53_REGION;

/// Lists the network families of one region.
pub async fn scan(c: &RegionClients, _account_id: &str, region: &str) -> Found {
    let zones = async {
        if region == ROUTE53_REGION {
            route53::scan(&c.route53).await
        } else {
            (Some(vec![]), Calls::default())
        }
    };
    let ((a, c1), (e, c2), (t, c3), (z, c4)) = tokio::join!(
        alarms::scan(&c.cloudwatch),
        vpc::endpoints(&c.ec2, &c.cloudwatch),
        vpc::attachments(&c.ec2),
        zones
    );
    let mut calls = Calls::default();
    for more in [c1, c2, c3, c4] {
        calls.merge(more);
    }
    let fill = move |inv: &mut costradar_core::rules::facts::RegionInventory| {
        inv.metric_alarms = a.unwrap_or_default();
        inv.vpc_endpoints = e.unwrap_or_default();
        inv.transit_gateway_attachments = t.unwrap_or_default();
        inv.hosted_zones = z.unwrap_or_default();
    };
    (Box::new(fill), calls)
}

/// CloudWatch queries for the network families' utilisation facts: interface endpoints' and
/// Transit Gateway attachments' bytes.
pub fn metric_queries(
    inv: &costradar_core::rules::facts::RegionInventory,
    w: &costradar_core::scan::MetricsWindow,
    q: &mut Vec<super::metrics::Query>,
) {
    vpc::metric_queries(inv, w, q);
}
