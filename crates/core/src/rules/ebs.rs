//! EBS volumes.
//!
//! - `ebs.unattached-volume`: `available` for at least `unattached_volume_days`, counted from
//!   the later of its creation and the first scan that saw it unattached (AWS keeps no detach
//!   time, so a volume detached ten minutes ago is never taken for an old one).
//!   Saving = the volume's monthly cost = GiB × $/GiB-month (+ provisioned IOPS and throughput
//!   above what the type includes, see `pricing::model::volume_monthly`).
//! - `ebs.gp2-to-gp3`: the gp3 volume with the same size and at least gp2's baseline: IOPS =
//!   max(3000, 3 × GiB capped 100..16,000), throughput = 128 MiB/s up to 170 GiB, else 250.
//!   Saving = cost(gp2) − cost(gp3 incl. IOPS above 3000 × $/IOPS-month and MiB/s above 125 ×
//!   $/MiB/s-month); only when positive (a gp2 volume under 7 GiB is cheaper as it is).
//! - `ebs.io-to-gp3`: io1/io2 with at most `io_to_gp3_max_iops` IOPS → gp3 with the same size,
//!   IOPS = max(3000, provisioned) and throughput = max(125, min(IOPS / 4, 1000)) MiB/s (io1/io2
//!   deliver 256 KiB per IOPS; gp3 allows 0.25 MiB/s per IOPS). Saving = cost(io) − cost(gp3).
//! - `ebs.volume-on-stopped-instance`: attached to an instance stopped longer than
//!   `stopped_instance_days`. Saving = the volume's cost; it is part of the instance's
//!   `ec2.stopped-instance` saving, which counts it (no double counting).

use std::collections::HashMap;

use rust_decimal::Decimal;

use super::draft::{aws_cli, ec2_arn, whole_days, Ctx, Draft};
use super::facts::{Instance, RegionInventory, Volume};
use crate::domain::event::VolumeSpec;
use crate::domain::finding::Confidence;
use crate::domain::money::usd;
use crate::pricing::model::{gp3_equivalent, volume_monthly, GP3_FREE_IOPS, GP3_FREE_THROUGHPUT};

pub const UNATTACHED: &str = "ebs.unattached-volume";
pub const GP2_TO_GP3: &str = "ebs.gp2-to-gp3";
pub const IO_TO_GP3: &str = "ebs.io-to-gp3";
pub const ON_STOPPED_INSTANCE: &str = "ebs.volume-on-stopped-instance";

fn base(ctx: &Ctx<'_>, inv: &RegionInventory, v: &Volume, rule: &str, title: String) -> Draft {
    let arn = ec2_arn(&inv.region, ctx.account_id, "volume", &v.id);
    Draft { tags: v.tags.clone(), ..Draft::new(rule, v.id.clone(), Some(arn), &inv.region, title) }
}

fn describe(v: &Volume) -> String {
    let mut s = format!("{} GiB {}", v.size_gib, v.volume_type);
    if let Some(i) = v.iops {
        s.push_str(&format!(", {i} IOPS"));
    }
    if let Some(t) = v.throughput_mibps {
        s.push_str(&format!(", {t} MiB/s"));
    }
    s
}

pub fn evaluate(ctx: &Ctx<'_>, inv: &RegionInventory, out: &mut Vec<Draft>) {
    let instances: HashMap<&str, &Instance> = inv.instances.iter().map(|i| (i.id.as_str(), i)).collect();
    for v in &inv.volumes {
        unattached(ctx, inv, v, out);
        on_stopped_instance(ctx, inv, v, &instances, out);
        gp2_to_gp3(ctx, inv, v, out);
        io_to_gp3(ctx, inv, v, out);
    }
}

fn with_cost(ctx: &Ctx<'_>, region: &str, d: &mut Draft, v: &Volume) -> bool {
    let mut p = ctx.pricer(region);
    let Some(e) = volume_monthly(ctx.book, region, &v.spec()).priced() else {
        d.evidence.push(format!("{}: no price for {} in {region}; the saving is not estimated", v.id, v.volume_type));
        return false;
    };
    p.note(&e.sources);
    let cost = e.monthly_usd.unwrap_or_default();
    d.evidence.extend(e.breakdown);
    d.evidence.extend(p.source_line());
    d.monthly_cost_usd = Some(cost);
    d.monthly_savings_usd = Some(cost);
    d.price_source = p.source();
    true
}

fn unattached(ctx: &Ctx<'_>, inv: &RegionInventory, v: &Volume, out: &mut Vec<Draft>) {
    if v.state != "available" || !v.attached_to.is_empty() {
        return;
    }
    // Without a known start (the orchestration did not fill it) nothing proves the age.
    let Some(since) = v.unattached_since else { return };
    let since = since.max(v.created);
    if !ctx.at_least(since, ctx.settings.unattached_volume_days) {
        return;
    }
    let days = whole_days(since, ctx.now);
    let mut d = base(ctx, inv, v, UNATTACHED, format!("{} unattached for {days} days ({})", v.id, describe(v)));
    d.evidence.push(format!(
        "state available since at least {} (created {}; AWS records no detach time, so this is the later of the creation and the first scan that saw it unattached)",
        since.format("%Y-%m-%d %H:%M UTC"),
        v.created.format("%Y-%m-%d")
    ));
    with_cost(ctx, &inv.region, &mut d, v);
    d.evidence.push(format!(
        "keep a copy first if the data matters: {}",
        aws_cli("ec2", "create-snapshot", &[("--volume-id", &v.id)], &inv.region)
    ));
    d.fix_command = aws_cli("ec2", "delete-volume", &[("--volume-id", &v.id)], &inv.region);
    d.alternative = Some("delete the volume".into());
    out.push(d);
}

fn on_stopped_instance(
    ctx: &Ctx<'_>,
    inv: &RegionInventory,
    v: &Volume,
    instances: &HashMap<&str, &Instance>,
    out: &mut Vec<Draft>,
) {
    let Some(instance) = v.attached_to.iter().find_map(|id| instances.get(id.as_str())) else { return };
    if !super::ec2::stopped_long_enough(ctx, instance) {
        return;
    }
    // Multi-Attach: a volume still attached to a running instance is in use.
    if v.attached_to.iter().any(|id| instances.get(id.as_str()).is_none_or(|i| i.state != "stopped")) {
        return;
    }
    let stopped = instance.stopped_at.expect("checked by stopped_long_enough");
    let days = whole_days(stopped, ctx.now);
    let mut d = base(
        ctx,
        inv,
        v,
        ON_STOPPED_INSTANCE,
        format!("{} ({}) is attached to {}, stopped for {days} days", v.id, describe(v), instance.id),
    );
    d.evidence.push(format!(
        "{} stopped at {} and has not run since",
        instance.id,
        stopped.format("%Y-%m-%d %H:%M UTC")
    ));
    with_cost(ctx, &inv.region, &mut d, v);
    d.confidence = Confidence::Medium;
    d.savings_included_in = Some(format!("{}#{}", super::ec2::STOPPED, instance.id));
    d.evidence.push(format!("this saving is part of {}'s {} finding", instance.id, super::ec2::STOPPED));
    let detach = aws_cli("ec2", "detach-volume", &[("--volume-id", &v.id)], &inv.region);
    let wait = aws_cli("ec2", "wait", &[("volume-available", ""), ("--volume-ids", &v.id)], &inv.region);
    let delete = aws_cli("ec2", "delete-volume", &[("--volume-id", &v.id)], &inv.region);
    d.fix_command = format!("{detach} && {wait} && {delete}");
    d.alternative = Some("snapshot and delete the volume".into());
    out.push(d);
}

fn to_gp3(ctx: &Ctx<'_>, inv: &RegionInventory, v: &Volume, rule: &str, to: VolumeSpec, why: &str) -> Option<Draft> {
    let now = volume_monthly(ctx.book, &inv.region, &v.spec()).priced()?;
    let alt = volume_monthly(ctx.book, &inv.region, &to).priced()?;
    let (now_usd, alt_usd) = (now.monthly_usd?, alt.monthly_usd?);
    let saving = now_usd - alt_usd;
    if saving <= Decimal::ZERO {
        return None;
    }
    let iops = to.iops.unwrap_or(GP3_FREE_IOPS);
    let tput = to.throughput_mibps.unwrap_or(GP3_FREE_THROUGHPUT);
    let mut p = ctx.pricer(&inv.region);
    p.note(&now.sources);
    p.note(&alt.sources);
    let mut d =
        base(ctx, inv, v, rule, format!("{} ({}) costs ${} less a month as gp3", v.id, describe(v), usd(saving)));
    d.evidence.push(format!("now: ${}", usd(now_usd)));
    d.evidence.extend(now.breakdown.iter().map(|l| format!("  {l}")));
    d.evidence.push(format!("gp3 with {iops} IOPS and {tput} MiB/s ({why}): ${}", usd(alt_usd)));
    d.evidence.extend(alt.breakdown.iter().map(|l| format!("  {l}")));
    d.evidence.extend(p.source_line());
    d.monthly_cost_usd = Some(now_usd);
    d.monthly_savings_usd = Some(saving);
    d.price_source = p.source();
    d.alternative = Some(format!("{} GiB gp3 at {iops} IOPS and {tput} MiB/s", to.size_gib));
    d.fix_command = aws_cli(
        "ec2",
        "modify-volume",
        &[
            ("--volume-id", &v.id),
            ("--volume-type", "gp3"),
            ("--iops", &iops.to_string()),
            ("--throughput", &tput.to_string()),
        ],
        &inv.region,
    );
    Some(d)
}

fn gp2_to_gp3(ctx: &Ctx<'_>, inv: &RegionInventory, v: &Volume, out: &mut Vec<Draft>) {
    if v.volume_type != "gp2" || !matches!(v.state.as_str(), "available" | "in-use") {
        return;
    }
    let to = gp3_equivalent(&v.spec());
    let baseline = (3 * v.size_gib).clamp(100, 16_000);
    let why = format!("gp2 gives {baseline} baseline IOPS at this size; gp3 keeps at least that and the throughput");
    out.extend(to_gp3(ctx, inv, v, GP2_TO_GP3, to, &why));
}

fn io_to_gp3(ctx: &Ctx<'_>, inv: &RegionInventory, v: &Volume, out: &mut Vec<Draft>) {
    if !matches!(v.volume_type.as_str(), "io1" | "io2") || !matches!(v.state.as_str(), "available" | "in-use") {
        return;
    }
    let Some(iops) = v.iops else { return };
    if iops > ctx.settings.io_to_gp3_max_iops {
        return;
    }
    let tput = (iops / 4).clamp(GP3_FREE_THROUGHPUT, 1000);
    let to = VolumeSpec {
        volume_type: "gp3".into(),
        size_gib: v.size_gib,
        iops: Some(iops.max(GP3_FREE_IOPS)),
        throughput_mibps: Some(tput),
    };
    let why = format!("the same IOPS and the {tput} MiB/s that {iops} {} IOPS deliver", v.volume_type);
    if let Some(mut d) = to_gp3(ctx, inv, v, IO_TO_GP3, to, &why) {
        if v.volume_type == "io2" {
            d.confidence = Confidence::Medium;
            d.evidence.push(
                "io2 is designed for 99.999% durability, gp3 for 99.8-99.9%: check the workload does not need it"
                    .into(),
            );
        }
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::rules::testkit::*;

    fn volume(id: &str, t: &str, size: u32) -> Volume {
        Volume {
            id: id.into(),
            volume_type: t.into(),
            size_gib: size,
            iops: None,
            throughput_mibps: None,
            state: "available".into(),
            created: now() - Duration::days(100),
            attached_to: vec![],
            tags: Default::default(),
            unattached_since: Some(now() - Duration::days(100)),
        }
    }

    fn run(inv: &RegionInventory) -> Vec<Draft> {
        crate::rules::testkit::run(evaluate, inv)
    }

    #[test]
    fn an_old_unattached_volume_costs_what_it_costs() {
        let mut inv = RegionInventory::new("us-east-1");
        let mut v = volume("vol-1", "gp3", 500);
        v.iops = Some(6000);
        v.throughput_mibps = Some(250);
        inv.volumes.push(v);
        let d = only(run(&inv), UNATTACHED);
        // 500 × 0.08 + (6000 − 3000) × 0.005 + (250 − 125) × 0.04 = 40 + 15 + 5 = $60
        assert_eq!(d.monthly_cost_usd, Some(dec("60")));
        assert_eq!(d.monthly_savings_usd, Some(dec("60")));
        assert_eq!(d.fix_command, "aws ec2 delete-volume --volume-id vol-1 --region us-east-1");
        assert_eq!(d.arn.as_deref(), Some("arn:aws:ec2:us-east-1:123456789012:volume/vol-1"));
        assert!(d.title.contains("100 days"), "{}", d.title);
    }

    #[test]
    fn a_volume_detached_ten_minutes_ago_is_not_flagged() {
        let mut inv = RegionInventory::new("us-east-1");
        let mut v = volume("vol-1", "gp3", 500);
        v.unattached_since = Some(now() - Duration::minutes(10));
        inv.volumes.push(v);
        assert!(run(&inv).iter().all(|d| d.rule != UNATTACHED));
        // Unknown start: not flagged either.
        inv.volumes[0].unattached_since = None;
        assert!(run(&inv).iter().all(|d| d.rule != UNATTACHED));
        // A volume created two days ago, first seen unattached long before (impossible, but the
        // later of the two wins).
        inv.volumes[0].unattached_since = Some(now() - Duration::days(30));
        inv.volumes[0].created = now() - Duration::days(2);
        assert!(run(&inv).iter().all(|d| d.rule != UNATTACHED));
        // In use: never.
        inv.volumes[0].created = now() - Duration::days(300);
        inv.volumes[0].state = "in-use".into();
        inv.volumes[0].attached_to = vec!["i-1".into()];
        assert!(run(&inv).iter().all(|d| d.rule != UNATTACHED));
    }

    #[test]
    fn gp2_to_gp3_keeps_baseline_and_counts_extra_throughput() {
        let mut inv = RegionInventory::new("us-east-1");
        let mut v = volume("vol-1", "gp2", 100);
        v.state = "in-use".into();
        v.attached_to = vec!["i-running".into()];
        inv.volumes.push(v);
        inv.instances.push(instance("i-running", "m5.large", "running"));
        let d = only(run(&inv), GP2_TO_GP3);
        // gp2: 100 × 0.10 = $10. gp3: 100 × 0.08 + (128 − 125) × 0.04 = 8 + 0.12 = $8.12.
        assert_eq!(d.monthly_cost_usd, Some(dec("10")));
        assert_eq!(d.monthly_savings_usd, Some(dec("1.88")));
        assert!(d.fix_command.contains("--volume-type gp3 --iops 3000 --throughput 128"), "{}", d.fix_command);
        // 2000 GiB: baseline 6000 IOPS, 250 MiB/s. gp2 $200; gp3 160 + 3000 × 0.005 + 125 × 0.04 = $180.
        inv.volumes[0].size_gib = 2000;
        let d = only(run(&inv), GP2_TO_GP3);
        assert_eq!(d.monthly_savings_usd, Some(dec("20")));
        assert!(d.fix_command.contains("--iops 6000 --throughput 250"));
    }

    #[test]
    fn a_tiny_gp2_volume_is_cheaper_as_it_is() {
        // 5 GiB: gp2 $0.50; gp3 $0.40 + 3 MiB/s × 0.04 = $0.52.
        let mut inv = RegionInventory::new("us-east-1");
        let mut v = volume("vol-1", "gp2", 5);
        v.state = "in-use".into();
        v.attached_to = vec!["i-running".into()];
        inv.volumes.push(v);
        inv.instances.push(instance("i-running", "m5.large", "running"));
        assert!(run(&inv).is_empty());
    }

    #[test]
    fn io1_with_low_iops_moves_to_gp3_with_its_throughput() {
        let mut inv = RegionInventory::new("us-east-1");
        let mut v = volume("vol-1", "io1", 200);
        v.iops = Some(4000);
        v.state = "in-use".into();
        v.attached_to = vec!["i-running".into()];
        inv.volumes.push(v);
        inv.instances.push(instance("i-running", "m5.large", "running"));
        let d = only(run(&inv), IO_TO_GP3);
        // io1: 200 × 0.125 + 4000 × 0.065 = 25 + 260 = $285.
        // gp3: 200 × 0.08 + 1000 × 0.005 + (1000 − 125) × 0.04 = 16 + 5 + 35 = $56. Saving $229.
        assert_eq!(d.monthly_cost_usd, Some(dec("285")));
        assert_eq!(d.monthly_savings_usd, Some(dec("229")));
        assert_eq!(d.confidence, Confidence::High);
        // Above the threshold: left alone.
        inv.volumes[0].iops = Some(20_000);
        assert!(run(&inv).is_empty());
    }

    #[test]
    fn volumes_of_long_stopped_instances_are_counted_in_the_instance() {
        let mut inv = RegionInventory::new("us-east-1");
        let mut v = volume("vol-1", "gp3", 50);
        v.state = "in-use".into();
        v.attached_to = vec!["i-stopped".into()];
        inv.volumes.push(v);
        let mut i = instance("i-stopped", "m5.large", "stopped");
        i.stopped_at = Some(now() - Duration::days(45));
        inv.instances.push(i);
        let d = only(run(&inv), ON_STOPPED_INSTANCE);
        assert_eq!(d.monthly_savings_usd, Some(dec("4")));
        assert_eq!(d.savings_included_in.as_deref(), Some("ec2.stopped-instance#i-stopped"));
        // Stopped 5 days ago: not yet.
        inv.instances[0].stopped_at = Some(now() - Duration::days(5));
        assert!(run(&inv).is_empty());
        // Stopped at an unknown time: not flagged.
        inv.instances[0].stopped_at = None;
        assert!(run(&inv).is_empty());
    }
}
