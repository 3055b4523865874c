//! DynamoDB: tables and their settings (ListTables, DescribeTable: capacity, billing mode, size,
//! class; never an item). A table deleted between the two calls is skipped; any other failed
//! DescribeTable is recorded and its table left out (each rule reads one table, so a missing
//! table hides a finding but cannot invent one).

use aws_sdk_ec2::error::ProvideErrorMetadata;

use super::ec2::all_pages;
use super::{action_error, time, Calls};
use costradar_core::rules::facts::DynamoTable;

pub async fn scan(c: &aws_sdk_dynamodb::Client) -> (Option<Vec<DynamoTable>>, Calls) {
    let mut calls = Calls::default();
    let names = all_pages!(calls, "dynamodb:ListTables", c.list_tables().limit(100).into_paginator(), |p| p
        .table_names()
        .to_vec());
    let Some(names) = names else { return (None, calls) };
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        calls.count += 1;
        match c.describe_table().table_name(&name).send().await {
            Ok(d) => out.extend(d.table().and_then(table)),
            Err(e) if e.code() == Some("ResourceNotFoundException") => {}
            Err(e) => calls.errors.push(action_error("dynamodb:DescribeTable", &e)),
        }
    }
    (Some(out), calls)
}

pub fn table(t: &aws_sdk_dynamodb::types::TableDescription) -> Option<DynamoTable> {
    let n = |x: Option<i64>| x.and_then(|v| u64::try_from(v).ok()).unwrap_or(0);
    let throughput = |p: Option<&aws_sdk_dynamodb::types::ProvisionedThroughputDescription>| {
        p.map_or((0, 0), |p| (n(p.read_capacity_units()), n(p.write_capacity_units())))
    };
    let (read_capacity, write_capacity) = throughput(t.provisioned_throughput());
    let index_capacity = t
        .global_secondary_indexes()
        .iter()
        .map(|g| throughput(g.provisioned_throughput()))
        .fold((0, 0), |(r, w), (a, b)| (r + a, w + b));
    Some(DynamoTable {
        name: t.table_name()?.to_owned(),
        arn: t.table_arn()?.to_owned(),
        status: t.table_status().map_or("UNKNOWN", |s| s.as_str()).to_owned(),
        created: time(t.creation_date_time()),
        // Tables created before billing modes existed have no summary: provisioned.
        billing_mode: t
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map_or("PROVISIONED", |m| m.as_str())
            .to_owned(),
        read_capacity,
        write_capacity,
        index_capacity,
        size_bytes: n(t.table_size_bytes()),
        table_class: t
            .table_class_summary()
            .and_then(|c| c.table_class())
            .map_or("STANDARD", |c| c.as_str())
            .to_owned(),
        deletion_protection: t.deletion_protection_enabled().unwrap_or(false),
        replica_regions: t.replicas().iter().filter_map(|r| r.region_name().map(str::to_owned)).collect(),
        reads: None,
        writes: None,
    })
}
