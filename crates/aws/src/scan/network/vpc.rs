//! VPC endpoints and Transit Gateway attachments (DescribeVpcEndpoints,
//! DescribeTransitGatewayAttachments), and which interface endpoints have an
//! `AWS/PrivateLinkEndpoints` `BytesProcessed` series at all (ListMetrics: AWS publishes the
//! metric only for minutes with traffic, and ListMetrics lists every series with a datapoint in
//! the last two weeks). Their bytes over the window come from the batched GetMetricData
//! ([`metric_queries`]).

use std::collections::HashSet;

use crate::scan::ec2::all_pages;
use crate::scan::metrics::{Apply, Fact, Query};
use crate::scan::{tags, time, Calls};
use costradar_core::rules::facts::{RegionInventory, TransitGatewayAttachment, VpcEndpoint};
use costradar_core::scan::MetricsWindow;

/// The largest page of both EC2 listings.
const PAGE: i32 = 1000;

pub const ENDPOINT_NAMESPACE: &str = "AWS/PrivateLinkEndpoints";
pub const ENDPOINT_METRIC: &str = "BytesProcessed";

pub async fn endpoints(
    ec2: &aws_sdk_ec2::Client,
    cw: &aws_sdk_cloudwatch::Client,
) -> (Option<Vec<VpcEndpoint>>, Calls) {
    let mut calls = Calls::default();
    let v = all_pages!(
        calls,
        "ec2:DescribeVpcEndpoints",
        ec2.describe_vpc_endpoints().max_results(PAGE).into_paginator(),
        |p| p.vpc_endpoints().iter().filter_map(endpoint).collect::<Vec<_>>()
    );
    let Some(mut v) = v else { return (None, calls) };
    if v.iter().any(|e| e.endpoint_type == "Interface") {
        // A failed ListMetrics leaves `traffic_series` unknown: no absence is read from it.
        if let Some(with_series) = endpoints_with_series(cw, &mut calls).await {
            for e in v.iter_mut().filter(|e| e.endpoint_type == "Interface") {
                e.traffic_series = Some(with_series.contains(&e.id));
            }
        }
    }
    (Some(v), calls)
}

/// The endpoints ListMetrics shows a `BytesProcessed` series for (with or without the subnet
/// dimension).
async fn endpoints_with_series(cw: &aws_sdk_cloudwatch::Client, calls: &mut Calls) -> Option<HashSet<String>> {
    let ids = all_pages!(
        calls,
        "cloudwatch:ListMetrics",
        cw.list_metrics().namespace(ENDPOINT_NAMESPACE).metric_name(ENDPOINT_METRIC).into_paginator(),
        |p| p
            .metrics()
            .iter()
            .flat_map(|m| m.dimensions())
            .filter(|d| d.name() == Some("VPC Endpoint Id"))
            .filter_map(|d| d.value().map(str::to_owned))
            .collect::<Vec<_>>()
    );
    ids.map(|v| v.into_iter().collect())
}

pub fn endpoint(e: &aws_sdk_ec2::types::VpcEndpoint) -> Option<VpcEndpoint> {
    Some(VpcEndpoint {
        id: e.vpc_endpoint_id()?.to_owned(),
        endpoint_type: e.vpc_endpoint_type()?.as_str().to_owned(),
        vpc_id: e.vpc_id().unwrap_or_default().to_owned(),
        service_name: e.service_name().unwrap_or_default().to_owned(),
        state: e.state().map_or("unknown", |s| s.as_str()).to_ascii_lowercase(),
        created: time(e.creation_timestamp()),
        subnet_ids: e.subnet_ids().to_vec(),
        tags: tags(e.tags().iter().map(|t| (t.key(), t.value()))),
        traffic_series: None,
        bytes_processed: None,
    })
}

pub async fn attachments(ec2: &aws_sdk_ec2::Client) -> (Option<Vec<TransitGatewayAttachment>>, Calls) {
    let mut calls = Calls::default();
    let v = all_pages!(
        calls,
        "ec2:DescribeTransitGatewayAttachments",
        ec2.describe_transit_gateway_attachments().max_results(PAGE).into_paginator(),
        |p| p.transit_gateway_attachments().iter().filter_map(attachment).collect::<Vec<_>>()
    );
    (v, calls)
}

pub fn attachment(a: &aws_sdk_ec2::types::TransitGatewayAttachment) -> Option<TransitGatewayAttachment> {
    Some(TransitGatewayAttachment {
        id: a.transit_gateway_attachment_id()?.to_owned(),
        transit_gateway_id: a.transit_gateway_id()?.to_owned(),
        resource_type: a.resource_type().map_or("unknown", |t| t.as_str()).to_owned(),
        resource_id: a.resource_id().map(str::to_owned),
        resource_owner: a.resource_owner_id().map(str::to_owned),
        transit_gateway_owner: a.transit_gateway_owner_id().map(str::to_owned),
        state: a.state().map_or("unknown", |s| s.as_str()).to_owned(),
        created: time(a.creation_time()),
        tags: tags(a.tags().iter().map(|t| (t.key(), t.value()))),
        bytes_in: None,
        bytes_out: None,
    })
}

fn sum(vals: &[f64]) -> u64 {
    vals.iter().map(|v| v.max(0.0)).sum::<f64>().round() as u64
}

fn endpoint_bytes(inv: &mut RegionInventory, i: usize, vals: &[f64]) {
    inv.vpc_endpoints[i].bytes_processed = Some(sum(vals));
}

fn attachment_bytes_in(inv: &mut RegionInventory, i: usize, vals: &[f64]) {
    inv.transit_gateway_attachments[i].bytes_in = Some(sum(vals));
}

fn attachment_bytes_out(inv: &mut RegionInventory, i: usize, vals: &[f64]) {
    inv.transit_gateway_attachments[i].bytes_out = Some(sum(vals));
}

/// `BytesProcessed` of available interface endpoints that may have a series (ListMetrics showed
/// one, or could not say), `BytesIn` and `BytesOut` of available VPC attachments (the only ones
/// a rule reads); only resources older than the window's start.
pub fn metric_queries(inv: &RegionInventory, w: &MetricsWindow, q: &mut Vec<Query>) {
    let old = |t: Option<chrono::DateTime<chrono::Utc>>| t.is_some_and(|t| t <= w.created_before);
    for (i, e) in inv.vpc_endpoints.iter().enumerate() {
        if e.endpoint_type != "Interface"
            || e.state != "available"
            || !old(e.created)
            || e.traffic_series == Some(false)
        {
            continue;
        }
        q.push(Query {
            fact: Fact::Family(endpoint_bytes, i),
            namespace: ENDPOINT_NAMESPACE,
            metric: ENDPOINT_METRIC,
            dimensions: vec![
                ("VPC Endpoint Id", e.id.clone()),
                ("VPC Id", e.vpc_id.clone()),
                ("Endpoint Type", e.endpoint_type.clone()),
                ("Service Name", e.service_name.clone()),
            ],
            stat: "Sum",
            period: None,
        });
    }
    for (i, a) in inv.transit_gateway_attachments.iter().enumerate() {
        if a.resource_type != "vpc" || a.state != "available" || !old(a.created) {
            continue;
        }
        for (apply, metric) in [(attachment_bytes_in as Apply, "BytesIn"), (attachment_bytes_out, "BytesOut")] {
            q.push(Query {
                fact: Fact::Family(apply, i),
                namespace: "AWS/TransitGateway",
                metric,
                dimensions: vec![
                    ("TransitGateway", a.transit_gateway_id.clone()),
                    ("TransitGatewayAttachment", a.id.clone()),
                ],
                stat: "Sum",
                period: None,
            });
        }
    }
}
