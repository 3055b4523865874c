//! ElastiCache: cache clusters with their nodes (DescribeCacheClusters with
//! `ShowCacheNodeInfo`; never cached data). Node ids are `0001`, `0002`, ...; where an answer
//! lists no node (emulators), they are numbered from `NumCacheNodes`.

use super::ec2::all_pages;
use super::{time, Calls};
use costradar_core::rules::facts::CacheCluster;

pub async fn scan(c: &aws_sdk_elasticache::Client) -> (Option<Vec<CacheCluster>>, Calls) {
    let mut calls = Calls::default();
    let v = all_pages!(
        calls,
        "elasticache:DescribeCacheClusters",
        c.describe_cache_clusters().show_cache_node_info(true).max_records(100).into_paginator(),
        |p| p.cache_clusters().iter().filter_map(cluster).collect::<Vec<_>>()
    );
    (v, calls)
}

pub fn cluster(c: &aws_sdk_elasticache::types::CacheCluster) -> Option<CacheCluster> {
    Some(CacheCluster {
        id: c.cache_cluster_id()?.to_owned(),
        arn: c.arn().map(str::to_owned),
        engine: c.engine()?.to_ascii_lowercase(),
        node_type: c.cache_node_type()?.to_owned(),
        status: c.cache_cluster_status().unwrap_or("unknown").to_owned(),
        node_ids: node_ids(c),
        replication_group: c.replication_group_id().map(str::to_owned),
        created: time(c.cache_cluster_create_time()),
        max_connections: None,
        commands: None,
    })
}

fn node_ids(c: &aws_sdk_elasticache::types::CacheCluster) -> Vec<String> {
    let listed: Vec<String> = c.cache_nodes().iter().filter_map(|n| n.cache_node_id().map(str::to_owned)).collect();
    if !listed.is_empty() {
        return listed;
    }
    (1..=c.num_cache_nodes().unwrap_or(0).max(0)).map(|i| format!("{i:04}")).collect()
}
