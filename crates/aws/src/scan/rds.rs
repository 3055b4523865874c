//! RDS: DB instances (with their tags, which DescribeDBInstances includes).

use super::ec2::all_pages;
use super::{tags, time, Calls};
use costradar_core::rules::facts::DbInstance;

pub async fn scan(c: &aws_sdk_rds::Client) -> (Option<Vec<DbInstance>>, Calls) {
    let mut calls = Calls::default();
    let v = all_pages!(
        calls,
        "rds:DescribeDBInstances",
        c.describe_db_instances().max_records(100).into_paginator(),
        |p| p.db_instances().iter().filter_map(db_instance).collect::<Vec<_>>()
    );
    (v, calls)
}

pub fn db_instance(d: &aws_sdk_rds::types::DbInstance) -> Option<DbInstance> {
    Some(DbInstance {
        id: d.db_instance_identifier()?.to_owned(),
        arn: d.db_instance_arn().map(str::to_owned),
        class: d.db_instance_class()?.to_owned(),
        engine: d.engine()?.to_owned(),
        status: d.db_instance_status()?.to_owned(),
        multi_az: d.multi_az().unwrap_or(false),
        storage_type: d.storage_type().unwrap_or("unknown").to_owned(),
        allocated_gib: d.allocated_storage().and_then(|x| u32::try_from(x).ok()).unwrap_or(0),
        created: time(d.instance_create_time()),
        tags: tags(d.tag_list().iter().map(|t| (t.key(), t.value()))),
        max_connections: None,
    })
}
