//! AWS Backup recovery points of the region's vaults. Size = `BackupSizeInBytes` / 2^30 GiB.
//! Warm storage is priced per resource type: EBS and EC2 backups are EBS snapshots (billed at
//! the EBS snapshot rate), the others at AWS Backup's warm rate of their type; points already
//! in cold storage (`MoveToColdStorageAt` passed) are not priced.
//!
//! - `backup.orphaned-recovery-points`: the recovery points of one source resource of this
//!   region and account (an EBS volume, EC2 instance, RDS instance, DynamoDB table or EFS file
//!   system) that the scan listed completely and did not find, whose newest point is at least
//!   `snapshot_age_days` old. Copies from another region or account are never compared.
//!   Saving = Σ warm GiB × $/GB-month (an upper bound for incremental EBS and EC2 backups).
//!   Points counted by `backup.expired-recovery-point` are left out. Confidence low: a backup
//!   of a deleted resource may be kept on purpose.
//! - `backup.expired-recovery-point`: a recovery point AWS Backup failed to delete at the end
//!   of its lifecycle: status `EXPIRED` (high), or `CalculatedLifecycle.DeleteAt` more than 7
//!   days ago and still listed (medium). Saving = warm GiB × $/GB-month.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::draft::{aws_cli, sh, whole_days, Ctx, Draft, Pricer};
use super::facts::{RecoveryPoint, RegionInventory};
use crate::domain::finding::Confidence;
use crate::domain::money::usd;
use crate::pricing::Sku;

pub const ORPHANED: &str = "backup.orphaned-recovery-points";
pub const EXPIRED: &str = "backup.expired-recovery-point";

const GIB: u64 = 1024 * 1024 * 1024;
/// Days past `DeleteAt` after which a listed point is taken as one AWS Backup failed to delete.
pub const GRACE_DAYS: u32 = 7;

pub fn evaluate(ctx: &Ctx<'_>, inv: &RegionInventory, out: &mut Vec<Draft>) {
    for rp in inv.recovery_points.iter().filter(|rp| !rp.is_parent && overdue(ctx, rp)) {
        expired(ctx, inv, rp, out);
    }
    orphaned(ctx, inv, out);
}

/// A resource a recovery point was taken of, as the scan's listings name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source<'a> {
    /// The `RegionInventory` listing that would hold it (`volumes`, `instances`, ...).
    pub listing: &'static str,
    pub kind: &'static str,
    pub region: &'a str,
    pub account: &'a str,
    pub id: &'a str,
}

/// The source of a resource ARN, for the types the scan lists.
pub fn source(arn: &str) -> Option<Source<'_>> {
    let mut parts = arn.splitn(6, ':');
    let (_, _, service, region, account, resource) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let (listing, kind, id) = match service {
        "ec2" => match resource.split_once('/')? {
            ("volume", id) => ("volumes", "EBS volume", id),
            ("instance", id) => ("instances", "EC2 instance", id),
            _ => return None,
        },
        "rds" => ("db_instances", "RDS instance", resource.strip_prefix("db:")?),
        "dynamodb" => ("dynamo_tables", "DynamoDB table", resource.strip_prefix("table/")?),
        "elasticfilesystem" => ("file_systems", "EFS file system", resource.strip_prefix("file-system/")?),
        _ => return None,
    };
    Some(Source { listing, kind, region, account, id })
}

fn exists(inv: &RegionInventory, s: &Source<'_>) -> bool {
    match s.listing {
        "volumes" => inv.volumes.iter().any(|v| v.id == s.id),
        "instances" => inv.instances.iter().any(|i| i.id == s.id && i.state != "terminated"),
        "db_instances" => inv.db_instances.iter().any(|d| d.id == s.id),
        "dynamo_tables" => inv.dynamo_tables.iter().any(|t| t.name == s.id),
        "file_systems" => inv.file_systems.iter().any(|f| f.id == s.id),
        _ => true,
    }
}

/// Status `EXPIRED`, or `DeleteAt` more than [`GRACE_DAYS`] ago and not being deleted.
pub fn overdue(ctx: &Ctx<'_>, rp: &RecoveryPoint) -> bool {
    rp.status == "EXPIRED" || (rp.status != "DELETING" && rp.delete_at.is_some_and(|t| ctx.at_least(t, GRACE_DAYS)))
}

/// What prices a backup of `resource_type`: EBS and EC2 backups are EBS snapshots.
pub fn sku(resource_type: &str) -> Sku {
    match resource_type.to_ascii_lowercase().as_str() {
        "ebs" | "ec2" => Sku::EbsSnapshot,
        other => Sku::BackupStorage { resource: other.replace(' ', "-") },
    }
}

/// Σ warm bytes, cold bytes and the points without a size.
fn sizes(ctx: &Ctx<'_>, points: &[&RecoveryPoint]) -> (u64, u64, usize) {
    let mut out = (0, 0, 0);
    for rp in points {
        match rp.size_bytes {
            None => out.2 += 1,
            Some(b) if rp.cold_at.is_some_and(|t| t <= ctx.now) => out.1 += b,
            Some(b) => out.0 += b,
        }
    }
    out
}

/// Prices `warm` bytes of `resource_type` into `d`.
fn price(p: &mut Pricer<'_>, d: &mut Draft, resource_type: &str, (warm, cold, no_size): (u64, u64, usize)) {
    let gib = Decimal::from(warm) / Decimal::from(GIB);
    if cold > 0 {
        d.evidence.push(format!("{cold} bytes in cold storage: not priced"));
    }
    if no_size > 0 {
        d.evidence.push(format!("{no_size} without BackupSizeInBytes: not counted"));
    }
    match p.rate(&sku(resource_type)) {
        Some(rate) => {
            let m = gib * rate;
            d.evidence.push(format!(
                "{} GiB × ${rate}/GB-month ({resource_type} backup storage) = ${}",
                gib.round_dp(3),
                usd(m)
            ));
            d.evidence.extend(p.source_line());
            d.monthly_cost_usd = Some(m);
            d.monthly_savings_usd = Some(m);
            d.price_source = p.source();
        }
        None => d.evidence.push(format!("{resource_type} backup storage is not in the price book: no amount")),
    }
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

fn expired(ctx: &Ctx<'_>, inv: &RegionInventory, rp: &RecoveryPoint, out: &mut Vec<Draft>) {
    let of = rp.resource_arn.as_deref().unwrap_or("an unnamed resource");
    let mut d = Draft::new(
        EXPIRED,
        rp.arn.clone(),
        Some(rp.arn.clone()),
        &inv.region,
        format!("recovery point of {of} outlived its retention in vault {}", rp.vault),
    );
    if rp.status == "EXPIRED" {
        d.evidence.push("status EXPIRED: AWS Backup could not delete it at the end of its retention (the deleting role lacked a permission, such as iam:CreateServiceLinkedRole; see DeleteRecoveryPoint)".into());
        d.confidence = Confidence::High;
    } else {
        d.confidence = Confidence::Medium;
    }
    if let Some(t) = rp.delete_at {
        let after = rp.delete_after_days.map(|n| format!(" (DeleteAfterDays {n})")).unwrap_or_default();
        d.evidence.push(format!(
            "CalculatedLifecycle.DeleteAt {}{after}, {} days ago; status {}",
            day(t),
            whole_days(t, ctx.now),
            rp.status
        ));
    }
    let mut p = ctx.pricer(&inv.region);
    price(&mut p, &mut d, &rp.resource_type, sizes(ctx, &[rp]));
    d.fix_command = aws_cli(
        "backup",
        "delete-recovery-point",
        &[("--backup-vault-name", &rp.vault), ("--recovery-point-arn", &rp.arn)],
        &inv.region,
    );
    out.push(d);
}

fn orphaned(ctx: &Ctx<'_>, inv: &RegionInventory, out: &mut Vec<Draft>) {
    let mut groups: BTreeMap<&str, Vec<&RecoveryPoint>> = BTreeMap::new();
    for rp in &inv.recovery_points {
        let Some(arn) = rp.resource_arn.as_deref() else { continue };
        if rp.is_parent || rp.status == "DELETING" || overdue(ctx, rp) {
            continue;
        }
        let Some(s) = source(arn) else { continue };
        let ours = s.region == inv.region && s.account == ctx.account_id;
        if ours && inv.listed_completely.contains(s.listing) && !exists(inv, &s) {
            groups.entry(arn).or_default().push(rp);
        }
    }
    for (arn, points) in groups {
        let Some(newest) = points.iter().filter_map(|p| p.created).max() else { continue };
        if ctx.at_least(newest, ctx.settings.snapshot_age_days) {
            orphan(ctx, inv, arn, &points, newest, out);
        }
    }
}

fn orphan(
    ctx: &Ctx<'_>,
    inv: &RegionInventory,
    arn: &str,
    points: &[&RecoveryPoint],
    newest: DateTime<Utc>,
    out: &mut Vec<Draft>,
) {
    let Some(s) = source(arn) else { return };
    let n = points.len();
    let mut d = Draft::new(
        ORPHANED,
        arn.to_owned(),
        Some(arn.to_owned()),
        &inv.region,
        format!("{n} recovery points of deleted {} {}", s.kind, s.id),
    );
    let mut vaults: Vec<&str> = points.iter().map(|p| p.vault.as_str()).collect();
    vaults.dedup();
    d.evidence
        .push(format!("{} is not among the {} the scan listed in {} (listed completely)", s.id, s.listing, inv.region));
    d.evidence.push(format!(
        "{n} recovery points in vault {}, the newest from {} ({} days ago)",
        vaults.join(", "),
        day(newest),
        whole_days(newest, ctx.now)
    ));
    let forever = points.iter().filter(|p| p.delete_at.is_none()).count();
    let last = points.iter().filter_map(|p| p.delete_at).max();
    d.evidence.push(match last {
        Some(t) if forever == 0 => format!("their lifecycle deletes the last of them on {}", day(t)),
        _ => format!("{forever} of them have no lifecycle: kept until deleted"),
    });
    let resource_type = points[0].resource_type.as_str();
    if matches!(resource_type, "EBS" | "EC2") {
        d.evidence.push("an upper bound: EBS snapshots are incremental".into());
    }
    let mut p = ctx.pricer(&inv.region);
    price(&mut p, &mut d, resource_type, sizes(ctx, points));
    d.confidence = Confidence::Low;
    let r = sh(&inv.region);
    let list = aws_cli(
        "backup",
        "list-recovery-points-by-resource",
        &[
            ("--resource-arn", arn),
            ("--query", "RecoveryPoints[].[BackupVaultName,RecoveryPointArn]"),
            ("--output", "text"),
        ],
        &inv.region,
    );
    d.fix_command = format!(
        r#"{list} | while read -r vault point; do aws backup delete-recovery-point --backup-vault-name "$vault" --recovery-point-arn "$point" --region {r}; done"#
    );
    d.alternative = Some("keep the newest point and delete the others, if a restore may still be needed".into());
    out.push(d);
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::rules::testkit::*;

    const ACCOUNT: &str = "123456789012";

    fn point(n: u32, resource: &str, kind: &str, days_ago: i64, gib: u64) -> RecoveryPoint {
        RecoveryPoint {
            arn: format!("arn:aws:backup:us-east-1:{ACCOUNT}:recovery-point:{n}"),
            vault: "Default".into(),
            resource_arn: Some(resource.into()),
            resource_type: kind.into(),
            created: Some(now() - Duration::days(days_ago)),
            size_bytes: Some(gib * GIB),
            status: "COMPLETED".into(),
            delete_after_days: None,
            delete_at: None,
            cold_at: None,
            is_parent: false,
        }
    }

    fn inv(points: Vec<RecoveryPoint>, listed: &[&str]) -> RegionInventory {
        let mut inv = RegionInventory::new("us-east-1");
        inv.recovery_points = points;
        inv.listed_completely = listed.iter().map(|s| s.to_string()).collect();
        inv
    }

    fn efs_arn(id: &str) -> String {
        format!("arn:aws:elasticfilesystem:us-east-1:{ACCOUNT}:file-system/{id}")
    }

    #[test]
    fn sources_are_read_from_arns() {
        let s = source("arn:aws:ec2:us-east-1:123456789012:volume/vol-1").unwrap();
        assert_eq!((s.listing, s.id, s.region), ("volumes", "vol-1", "us-east-1"));
        assert_eq!(source("arn:aws:rds:eu-west-1:1:db:orders").map(|s| s.id), Some("orders"));
        assert_eq!(source("arn:aws:dynamodb:eu-west-1:1:table/t").map(|s| s.listing), Some("dynamo_tables"));
        assert_eq!(source("arn:aws:rds:eu-west-1:1:cluster:aurora"), None, "clusters are not listed");
        assert_eq!(source("arn:aws:s3:::bucket"), None);
        assert_eq!(sku("EBS"), Sku::EbsSnapshot);
        assert_eq!(sku("DynamoDB"), Sku::BackupStorage { resource: "dynamodb".into() });
    }

    #[test]
    fn points_of_a_deleted_file_system_are_one_finding() {
        let gone = efs_arn("fs-gone");
        let points = vec![point(1, &gone, "EFS", 120, 30), point(2, &gone, "EFS", 100, 20)];
        let drafts = run(evaluate, &inv(points, &["file_systems"]));
        let d = only(drafts, ORPHANED);
        // 50 GiB × $0.05 (backup:efs warm).
        assert_eq!(d.monthly_savings_usd, Some(dec("2.5")));
        assert_eq!(d.resource_id, gone);
        assert_eq!(d.title, "2 recovery points of deleted EFS file system fs-gone");
        assert!(d.evidence.iter().any(|e| e.contains("2 of them have no lifecycle")), "{:?}", d.evidence);
        assert!(d.fix_command.starts_with(
            "aws backup list-recovery-points-by-resource --resource-arn arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-gone --query 'RecoveryPoints[].[BackupVaultName,RecoveryPointArn]' --output text --region us-east-1 | while read -r vault point; do aws backup delete-recovery-point"
        ), "{}", d.fix_command);
    }

    #[test]
    fn a_living_source_an_incomplete_listing_a_copy_or_a_recent_point_is_no_orphan() {
        let mut i = inv(vec![point(1, &efs_arn("fs-live"), "EFS", 200, 10)], &["file_systems"]);
        i.file_systems.push(crate::rules::facts::FileSystem {
            id: "fs-live".into(),
            arn: None,
            name: None,
            state: "available".into(),
            created: None,
            one_zone: false,
            standard_bytes: 0,
            throughput_mode: "bursting".into(),
            provisioned_mibps: None,
            lifecycle_policies: vec![],
            peak_metered_mibps: None,
        });
        assert!(run(evaluate, &i).is_empty(), "the source exists");
        let vol = format!("arn:aws:ec2:us-east-1:{ACCOUNT}:volume/vol-gone");
        assert!(
            run(evaluate, &inv(vec![point(1, &vol, "EBS", 200, 10)], &["file_systems"])).is_empty(),
            "volumes not listed completely"
        );
        let elsewhere = format!("arn:aws:ec2:eu-west-1:{ACCOUNT}:volume/vol-gone");
        assert!(
            run(evaluate, &inv(vec![point(1, &elsewhere, "EBS", 200, 10)], &["volumes"])).is_empty(),
            "a copy from another region"
        );
        let recent = vec![point(1, &vol, "EBS", 200, 10), point(2, &vol, "EBS", 5, 10)];
        assert!(run(evaluate, &inv(recent, &["volumes"])).is_empty(), "backed up 5 days ago: deleted recently");
        let d = only(run(evaluate, &inv(vec![point(1, &vol, "EBS", 200, 10)], &["volumes"])), ORPHANED);
        // 10 GiB × $0.05 (EBS snapshot), an upper bound.
        assert_eq!(d.monthly_savings_usd, Some(dec("0.5")));
        assert!(d.evidence.iter().any(|e| e.contains("upper bound")));
    }

    #[test]
    fn a_point_aws_backup_failed_to_delete_is_expired_and_not_also_orphaned() {
        let gone = efs_arn("fs-gone");
        let mut stuck = point(1, &gone, "EFS", 400, 40);
        stuck.status = "EXPIRED".into();
        stuck.delete_after_days = Some(35);
        stuck.delete_at = Some(now() - Duration::days(365));
        let mut late = point(2, &efs_arn("fs-x"), "EFS", 60, 10);
        late.delete_at = Some(now() - Duration::days(20));
        let mut due = point(3, &efs_arn("fs-y"), "EFS", 40, 10);
        due.delete_at = Some(now() - Duration::days(2));
        let drafts = run(evaluate, &inv(vec![stuck, late, due], &[]));
        let expired: Vec<(&str, Confidence, Option<Decimal>)> = drafts
            .iter()
            .map(|d| (d.resource_id.rsplit(':').next().unwrap(), d.confidence, d.monthly_savings_usd))
            .collect();
        // 40 GiB × $0.05, then 10 GiB × $0.05; point 3 is within the 7-day grace.
        assert_eq!(expired, [("1", Confidence::High, Some(dec("2"))), ("2", Confidence::Medium, Some(dec("0.5")))]);
        assert!(drafts.iter().all(|d| d.rule == EXPIRED));
        assert_eq!(
            drafts[0].fix_command,
            "aws backup delete-recovery-point --backup-vault-name Default --recovery-point-arn arn:aws:backup:us-east-1:123456789012:recovery-point:1 --region us-east-1"
        );
        // An orphan whose only point is EXPIRED is counted once, by the expired rule.
        let mut only_stuck = point(1, &gone, "EFS", 400, 40);
        only_stuck.status = "EXPIRED".into();
        let drafts = run(evaluate, &inv(vec![only_stuck], &["file_systems"]));
        assert_eq!(drafts.iter().map(|d| d.rule.as_str()).collect::<Vec<_>>(), [EXPIRED]);
    }

    #[test]
    fn unpriced_and_cold_storage_say_so() {
        let db = format!("arn:aws:rds:us-east-1:{ACCOUNT}:db:orders");
        let mut cold = point(1, &db, "RDS", 300, 100);
        cold.cold_at = Some(now() - Duration::days(100));
        let d = only(run(evaluate, &inv(vec![cold, point(2, &db, "RDS", 200, 5)], &["db_instances"])), ORPHANED);
        assert!(d.evidence.iter().any(|e| e.contains("cold storage: not priced")), "{:?}", d.evidence);
        // RDS backups are billed as RDS snapshot storage, which the book has no key for.
        assert_eq!(d.monthly_savings_usd, None);
        assert!(d.evidence.iter().any(|e| e.contains("RDS backup storage is not in the price book")));
    }
}
