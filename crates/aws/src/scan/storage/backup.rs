//! AWS Backup: the region's backup vaults (ListBackupVaults) and their recovery points
//! (ListRecoveryPointsByBackupVault: source resource, size, status, lifecycle). Never the
//! backed-up data. The points are `None` when any vault's listing failed: a partial list could
//! hide a source's newest point.

use aws_sdk_backup::types::RecoveryPointByBackupVault;
use aws_sdk_backup::Client;

use super::super::ec2::all_pages;
use super::super::{time, Calls};
use costradar_core::rules::facts::RecoveryPoint;

pub async fn scan(c: &Client) -> (Option<Vec<RecoveryPoint>>, Calls) {
    let mut calls = Calls::default();
    let vaults =
        all_pages!(calls, "backup:ListBackupVaults", c.list_backup_vaults().max_results(1000).into_paginator(), |p| p
            .backup_vault_list()
            .iter()
            .filter_map(|v| v.backup_vault_name().map(str::to_owned))
            .collect::<Vec<_>>());
    let Some(vaults) = vaults else { return (None, calls) };
    let mut out = Vec::new();
    for vault in vaults {
        let pager =
            c.list_recovery_points_by_backup_vault().backup_vault_name(&vault).max_results(1000).into_paginator();
        let points = all_pages!(calls, "backup:ListRecoveryPointsByBackupVault", pager, |p| p
            .recovery_points()
            .iter()
            .filter_map(|rp| point(&vault, rp))
            .collect::<Vec<_>>());
        match points {
            Some(p) => out.extend(p),
            None => return (None, calls),
        }
    }
    (Some(out), calls)
}

pub fn point(vault: &str, rp: &RecoveryPointByBackupVault) -> Option<RecoveryPoint> {
    let calculated = rp.calculated_lifecycle();
    Some(RecoveryPoint {
        arn: rp.recovery_point_arn()?.to_owned(),
        vault: rp.backup_vault_name().unwrap_or(vault).to_owned(),
        resource_arn: rp.resource_arn().map(str::to_owned),
        resource_type: rp.resource_type().unwrap_or("unknown").to_owned(),
        created: time(rp.creation_date()),
        size_bytes: rp.backup_size_in_bytes().and_then(|b| u64::try_from(b).ok()),
        status: rp.status().map_or("unknown", |s| s.as_str()).to_owned(),
        delete_after_days: rp.lifecycle().and_then(|l| l.delete_after_days()),
        delete_at: time(calculated.and_then(|l| l.delete_at())),
        cold_at: time(calculated.and_then(|l| l.move_to_cold_storage_at())),
        is_parent: rp.is_parent(),
    })
}
