//! EFS: file systems (DescribeFileSystems: size by storage class, throughput mode) and their
//! lifecycle policies (DescribeLifecycleConfiguration). Never a file.

use aws_sdk_efs::types::{FileSystemDescription, LifecyclePolicy};
use aws_sdk_efs::Client;
use rust_decimal::Decimal;

use super::super::ec2::all_pages;
use super::super::{time, Calls};
use super::{answer, each, Answer};
use costradar_core::rules::facts::FileSystem;

pub async fn scan(c: &Client) -> (Option<Vec<FileSystem>>, Calls) {
    let mut calls = Calls::default();
    let listed = all_pages!(
        calls,
        "elasticfilesystem:DescribeFileSystems",
        c.describe_file_systems().max_items(100).into_paginator(),
        |p| p.file_systems().iter().map(file_system).collect::<Vec<_>>()
    );
    let Some(list) = listed else { return (None, calls) };
    let found = each(list, |mut f| {
        let c = c.clone();
        async move {
            let mut calls = Calls::default();
            let r = c.describe_lifecycle_configuration().file_system_id(&f.id).send().await;
            match answer(&mut calls, "elasticfilesystem:DescribeLifecycleConfiguration", r, &["FileSystemNotFound"]) {
                Answer::Got(out) => {
                    f.lifecycle_policies = out.lifecycle_policies().iter().flat_map(policies).collect();
                    (Some(f), calls)
                }
                // Deleted meanwhile, or unreadable (recorded): left out.
                _ => (None, calls),
            }
        }
    })
    .await;
    let mut out = Vec::new();
    for (f, cl) in found {
        calls.merge(cl);
        out.extend(f);
    }
    (Some(out), calls)
}

pub fn file_system(f: &FileSystemDescription) -> FileSystem {
    let size = f.size_in_bytes();
    FileSystem {
        id: f.file_system_id().to_owned(),
        arn: f.file_system_arn().map(str::to_owned),
        name: f.name().map(str::to_owned),
        state: f.life_cycle_state().as_str().to_owned(),
        created: time(Some(f.creation_time())),
        one_zone: f.availability_zone_name().is_some(),
        standard_bytes: size.and_then(|s| s.value_in_standard().or(Some(s.value()))).unwrap_or(0).max(0) as u64,
        throughput_mode: f.throughput_mode().map_or("bursting", |m| m.as_str()).to_owned(),
        provisioned_mibps: f
            .provisioned_throughput_in_mibps()
            .and_then(Decimal::from_f64_retain)
            .map(|d| d.round_dp(2)),
        lifecycle_policies: vec![],
        peak_metered_mibps: None,
    }
}

/// `Key=VALUE` for each transition a policy sets (each policy sets one).
fn policies(p: &LifecyclePolicy) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(v) = p.transition_to_ia() {
        out.push(format!("TransitionToIA={}", v.as_str()));
    }
    if let Some(v) = p.transition_to_archive() {
        out.push(format!("TransitionToArchive={}", v.as_str()));
    }
    if let Some(v) = p.transition_to_primary_storage_class() {
        out.push(format!("TransitionToPrimaryStorageClass={}", v.as_str()));
    }
    out
}
