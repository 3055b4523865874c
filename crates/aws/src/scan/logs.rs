//! CloudWatch Logs: log groups' retention and stored bytes (never their events).

use super::ec2::all_pages;
use super::Calls;
use costradar_core::rules::facts::LogGroup;

pub async fn scan(c: &aws_sdk_cloudwatchlogs::Client) -> (Option<Vec<LogGroup>>, Calls) {
    let mut calls = Calls::default();
    let v = all_pages!(calls, "logs:DescribeLogGroups", c.describe_log_groups().limit(50).into_paginator(), |p| p
        .log_groups()
        .iter()
        .filter_map(|g| {
            Some(LogGroup {
                name: g.log_group_name()?.to_owned(),
                arn: g.arn().map(str::to_owned),
                retention_days: g.retention_in_days().and_then(|d| u32::try_from(d).ok()),
                stored_bytes: g.stored_bytes().and_then(|b| u64::try_from(b).ok()).unwrap_or(0),
                created: g.creation_time().and_then(chrono::DateTime::from_timestamp_millis),
            })
        })
        .collect::<Vec<_>>());
    (v, calls)
}
