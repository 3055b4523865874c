//! Redshift: provisioned clusters (DescribeClusters: node type and count, status, creation time
//! and tags; never their data). Their connections and queries come from CloudWatch
//! (`scan::analytics::metric_queries`).

use crate::scan::ec2::all_pages;
use crate::scan::{tags, time, Calls};
use costradar_core::rules::facts::RedshiftCluster;

/// DescribeClusters' largest page.
const PAGE: i32 = 100;

pub async fn scan(c: &aws_sdk_redshift::Client) -> (Option<Vec<RedshiftCluster>>, Calls) {
    let mut calls = Calls::default();
    let v =
        all_pages!(calls, "redshift:DescribeClusters", c.describe_clusters().max_records(PAGE).into_paginator(), |p| p
            .clusters()
            .iter()
            .filter_map(cluster)
            .collect::<Vec<_>>());
    (v, calls)
}

pub fn cluster(c: &aws_sdk_redshift::types::Cluster) -> Option<RedshiftCluster> {
    Some(RedshiftCluster {
        id: c.cluster_identifier()?.to_owned(),
        node_type: c.node_type()?.to_owned(),
        nodes: u32::try_from(c.number_of_nodes().unwrap_or(1)).ok()?.max(1),
        status: c.cluster_status().unwrap_or("unknown").to_owned(),
        created: time(c.cluster_create_time()),
        tags: tags(c.tags().iter().map(|t| (t.key(), t.value()))),
        hourly_connections: None,
        queries: None,
    })
}
