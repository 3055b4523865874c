//! EBS snapshots we own.
//!
//! - `snapshot.orphaned`: completed, older than `snapshot_age_days`, its source volume no
//!   longer exists in the region (copies name `vol-ffffffff`), and no AMI we own uses it.
//!   Monthly cost ≤ size × $/GB-month of snapshot storage, where size is
//!   `FullSnapshotSizeInBytes` / 2^30 when AWS gives it, else the source volume's GiB.
//!   Snapshots are incremental: deleting one frees only the blocks no other snapshot shares, so
//!   this is an upper bound, and the confidence is medium.

use std::collections::HashSet;

use rust_decimal::Decimal;

use super::draft::{aws_cli, whole_days, Ctx, Draft};
use super::facts::RegionInventory;
use crate::domain::finding::Confidence;
use crate::domain::money::usd;
use crate::pricing::Sku;

pub const ORPHANED: &str = "snapshot.orphaned";

const GIB: u64 = 1024 * 1024 * 1024;

pub fn evaluate(ctx: &Ctx<'_>, inv: &RegionInventory, out: &mut Vec<Draft>) {
    let volumes: HashSet<&str> = inv.volumes.iter().map(|v| v.id.as_str()).collect();
    let in_images = inv.snapshots_in_images();
    for s in &inv.snapshots {
        if s.state != "completed" || !ctx.at_least(s.started, ctx.settings.snapshot_age_days) {
            continue;
        }
        if s.volume_id.as_deref().is_some_and(|v| volumes.contains(v)) || in_images.contains(s.id.as_str()) {
            continue;
        }
        let (gib, basis) = match s.full_size_bytes {
            Some(b) => (Decimal::from(b) / Decimal::from(GIB), format!("{b} bytes of data (FullSnapshotSizeInBytes)")),
            None => (
                Decimal::from(s.volume_size_gib),
                format!("{} GiB source volume (AWS gave no data size)", s.volume_size_gib),
            ),
        };
        let source = match s.volume_id.as_deref() {
            Some("vol-ffffffff") | None => "a copy, with no source volume".to_owned(),
            Some(v) => format!("its source volume {v} no longer exists"),
        };
        let mut d = Draft {
            rule: ORPHANED.into(),
            resource_id: s.id.clone(),
            arn: Some(format!("arn:aws:ec2:{}::snapshot/{}", inv.region, s.id)),
            region: inv.region.clone(),
            title: format!("{} is {} days old, {source}, and no AMI uses it", s.id, whole_days(s.started, ctx.now)),
            evidence: vec![
                format!("started {}", s.started.format("%Y-%m-%d")),
                format!("{source}; no AMI owned by the account references it"),
            ],
            monthly_cost_usd: None,
            monthly_savings_usd: None,
            confidence: Confidence::Medium,
            fix_command: aws_cli("ec2", "delete-snapshot", &[("--snapshot-id", &s.id)], &inv.region),
            alternative: Some("delete the snapshot".into()),
            tags: s.tags.clone(),
            savings_included_in: None,
            price_source: None,
        };
        let mut p = ctx.pricer(&inv.region);
        if let Some(rate) = p.rate(&Sku::EbsSnapshot) {
            let cost = gib * rate;
            d.evidence.push(format!(
                "at most {} GiB × ${rate}/GB-month = ${} ({basis}; snapshots are incremental, so deleting it frees only the blocks no other snapshot shares)",
                gib.round_dp(3),
                usd(cost)
            ));
            d.evidence.extend(p.source_line());
            d.monthly_cost_usd = Some(cost);
            d.monthly_savings_usd = Some(cost);
            d.price_source = p.source();
        }
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::rules::facts::{Image, Snapshot, Volume};
    use crate::rules::testkit::*;

    fn snap(id: &str, volume: &str) -> Snapshot {
        Snapshot {
            id: id.into(),
            volume_id: Some(volume.into()),
            volume_size_gib: 200,
            full_size_bytes: None,
            state: "completed".into(),
            started: now() - Duration::days(400),
            tags: Default::default(),
        }
    }

    fn run(inv: &RegionInventory) -> Vec<Draft> {
        crate::rules::testkit::run(evaluate, inv)
    }

    #[test]
    fn an_old_orphaned_snapshot_is_priced_at_its_size() {
        let mut inv = RegionInventory::new("us-east-1");
        inv.snapshots.push(snap("snap-1", "vol-gone"));
        let d = only(run(&inv), ORPHANED);
        // 200 GiB × $0.05 = $10 (upper bound).
        assert_eq!(d.monthly_savings_usd, Some(dec("10")));
        assert_eq!(d.confidence, Confidence::Medium);
        assert_eq!(d.fix_command, "aws ec2 delete-snapshot --snapshot-id snap-1 --region us-east-1");
        // With the data size: 32 GiB of data × 0.05 = $1.60.
        inv.snapshots[0].full_size_bytes = Some(32 * GIB);
        assert_eq!(only(run(&inv), ORPHANED).monthly_savings_usd, Some(dec("1.6")));
    }

    #[test]
    fn a_snapshot_used_by_an_ami_is_kept() {
        let mut inv = RegionInventory::new("us-east-1");
        inv.snapshots.push(snap("snap-1", "vol-gone"));
        inv.images.push(Image { id: "ami-1".into(), snapshot_ids: vec!["snap-1".into()] });
        assert!(run(&inv).is_empty());
    }

    #[test]
    fn a_snapshot_of_a_live_volume_or_a_young_one_is_kept() {
        let mut inv = RegionInventory::new("us-east-1");
        inv.snapshots.push(snap("snap-1", "vol-live"));
        inv.volumes.push(Volume {
            id: "vol-live".into(),
            volume_type: "gp3".into(),
            size_gib: 200,
            iops: None,
            throughput_mibps: None,
            state: "in-use".into(),
            created: now(),
            attached_to: vec!["i-1".into()],
            tags: Default::default(),
            unattached_since: None,
        });
        assert!(run(&inv).is_empty());
        inv.snapshots[0].volume_id = Some("vol-gone".into());
        inv.snapshots[0].started = now() - Duration::days(10);
        assert!(run(&inv).is_empty());
        inv.snapshots[0].started = now() - Duration::days(400);
        inv.snapshots[0].state = "pending".into();
        assert!(run(&inv).is_empty());
    }
}
