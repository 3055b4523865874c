//! The account's enabled regions: `account:ListRegions` (enabled and enabled by default), or
//! `ec2:DescribeRegions` when ListRegions is not available (emulators do not have it; some
//! roles predate it). Only commercial-partition names are kept.

use aws_sdk_account::types::RegionOptStatus;

use super::ec2::all_pages;
use super::Calls;
use costradar_core::domain::parse_region;
use costradar_core::domain::scan_run::ActionError;
use costradar_core::scan::AccountWide;

fn commercial(names: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = names.into_iter().filter(|r| parse_region("region", r).is_ok()).collect();
    v.sort();
    v.dedup();
    v
}

pub async fn enabled(account: &aws_sdk_account::Client, ec2: &aws_sdk_ec2::Client) -> AccountWide<Vec<String>> {
    let mut calls = Calls::default();
    let listed = all_pages!(
        calls,
        "account:ListRegions",
        account
            .list_regions()
            .region_opt_status_contains(RegionOptStatus::Enabled)
            .region_opt_status_contains(RegionOptStatus::EnabledByDefault)
            .max_results(50)
            .into_paginator(),
        |p| p.regions().iter().filter_map(|r| r.region_name().map(str::to_owned)).collect::<Vec<_>>()
    );
    let mut errors: Vec<ActionError> = std::mem::take(&mut calls.errors);
    if let Some(v) = listed {
        return AccountWide { value: Some(commercial(v)), api_calls: calls.count, errors };
    }
    // The fallback answered: ListRegions' failure only matters if the role lacks it.
    let described = calls.record("ec2:DescribeRegions", ec2.describe_regions().all_regions(false).send().await);
    errors.retain(ActionError::is_access_denied);
    errors.extend(std::mem::take(&mut calls.errors));
    let value = described.map(|o| commercial(o.regions().iter().filter_map(|r| r.region_name().map(str::to_owned))));
    AccountWide { value, api_calls: calls.count, errors }
}
