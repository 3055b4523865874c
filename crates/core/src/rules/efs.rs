//! EFS file systems. Sizes are DescribeFileSystems' `SizeInBytes` (metered about hourly);
//! GiB = bytes / 2^30. Regional file systems are priced at the `standard` and `ia` classes,
//! One Zone ones at `one-zone` and `one-zone-ia`.
//!
//! - `efs.no-ia-lifecycle`: `available`, no lifecycle policy with `TransitionToIA`, and at least
//!   `efs_min_standard_gib` in the Standard class. An estimate: saving = Standard GiB ×
//!   `cold_data_share_percent` × ($/GB-month Standard − $/GB-month IA), assuming that share is
//!   not read for 30 days (AWS's EFS pricing page: on average 80 % of files are infrequently
//!   accessed); IA's per-GB access charges are not counted. Confidence low.
//! - `efs.overprovisioned-throughput`: provisioned throughput mode, created at least
//!   `idle_min_age_days` ago, provisioned MiB/s more than twice what the busiest 5 minutes of
//!   `MeteredIOBytes` needs (needed = max(1, ⌈peak MiB/s ÷ 0.7⌉), 0.7 the target utilisation).
//!   EFS bills provisioned throughput only above the baseline the Standard storage earns
//!   (50 KiB/s per GiB): billed = max(0, MiB/s − Standard GiB × 50 ÷ 1024). Saving =
//!   (billed now − billed at the needed MiB/s) × $/MiB/s-month, when positive.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::draft::{aws_cli, Ctx, Draft};
use super::facts::{FileSystem, RegionInventory};
use crate::domain::finding::Confidence;
use crate::domain::money::usd;
use crate::pricing::Sku;

pub const NO_IA_LIFECYCLE: &str = "efs.no-ia-lifecycle";
pub const OVERPROVISIONED_THROUGHPUT: &str = "efs.overprovisioned-throughput";

const GIB: u64 = 1024 * 1024 * 1024;
/// Target utilisation of provisioned throughput at the busiest 5 minutes (percent).
pub const TARGET_PERCENT: u32 = 70;
/// Provisioned throughput more than this many times the need is "far above".
pub const OVER_FACTOR: u32 = 2;
/// Baseline throughput the Standard class earns: KiB/s per GiB stored.
pub const BASELINE_KIBPS_PER_GIB: u32 = 50;

pub fn evaluate(ctx: &Ctx<'_>, inv: &RegionInventory, out: &mut Vec<Draft>) {
    for f in inv.file_systems.iter().filter(|f| f.state == "available") {
        no_ia_lifecycle(ctx, inv, f, out);
        overprovisioned(ctx, inv, f, out);
    }
}

fn arn(ctx: &Ctx<'_>, region: &str, f: &FileSystem) -> String {
    f.arn
        .clone()
        .unwrap_or_else(|| format!("arn:aws:elasticfilesystem:{region}:{}:file-system/{}", ctx.account_id, f.id))
}

fn base(ctx: &Ctx<'_>, inv: &RegionInventory, f: &FileSystem, rule: &str, title: String) -> Draft {
    let arn = arn(ctx, &inv.region, f);
    Draft::new(rule, arn.clone(), Some(arn), &inv.region, title)
}

fn describe(f: &FileSystem) -> String {
    match &f.name {
        Some(n) => format!("file system {} ({n})", f.id),
        None => format!("file system {}", f.id),
    }
}

/// (Standard class, IA class) price keys.
fn classes(f: &FileSystem) -> (&'static str, &'static str) {
    if f.one_zone {
        ("one-zone", "one-zone-ia")
    } else {
        ("standard", "ia")
    }
}

fn has_ia(f: &FileSystem) -> bool {
    f.lifecycle_policies.iter().any(|p| p.starts_with("TransitionToIA="))
}

/// `put-lifecycle-configuration` replaces every policy: the command keeps the existing ones.
fn lifecycle_fix(f: &FileSystem, region: &str) -> String {
    let mut policies: Vec<(String, String)> =
        f.lifecycle_policies.iter().filter_map(|p| p.split_once('=')).map(|(k, v)| (k.into(), v.into())).collect();
    policies.insert(0, ("TransitionToIA".into(), "AFTER_30_DAYS".into()));
    if !policies.iter().any(|(k, _)| k == "TransitionToPrimaryStorageClass") {
        policies.push(("TransitionToPrimaryStorageClass".into(), "AFTER_1_ACCESS".into()));
    }
    let json: Vec<String> = policies.iter().map(|(k, v)| format!(r#"{{"{k}":"{v}"}}"#)).collect();
    let json = format!("[{}]", json.join(","));
    aws_cli(
        "efs",
        "put-lifecycle-configuration",
        &[("--file-system-id", &f.id), ("--lifecycle-policies", &json)],
        region,
    )
}

fn no_ia_lifecycle(ctx: &Ctx<'_>, inv: &RegionInventory, f: &FileSystem, out: &mut Vec<Draft>) {
    let s = ctx.settings;
    if has_ia(f) || f.standard_bytes < s.efs_min_standard_gib.saturating_mul(GIB) {
        return;
    }
    let gib = Decimal::from(f.standard_bytes) / Decimal::from(GIB);
    let mut d = base(
        ctx,
        inv,
        f,
        NO_IA_LIFECYCLE,
        format!("{} keeps {} GiB in Standard with no lifecycle to Infrequent Access", describe(f), gib.round_dp(0)),
    );
    d.evidence.push(format!(
        "SizeInBytes.ValueInStandard: {} bytes = {} GiB; lifecycle policies: {}",
        f.standard_bytes,
        gib.round_dp(2),
        if f.lifecycle_policies.is_empty() { "none".into() } else { f.lifecycle_policies.join(", ") }
    ));
    d.evidence.push(format!(
        "estimate: assumes {}% of the bytes (cold_data_share_percent) are not read for 30 days and move to IA (AWS's EFS pricing page: on average 80 % of files are infrequently accessed)",
        s.cold_data_share_percent
    ));
    let (std_class, ia_class) = classes(f);
    let mut p = ctx.pricer(&inv.region);
    let std = p.rate(&Sku::EfsStorage { class: std_class.into() });
    let ia = p.rate(&Sku::EfsStorage { class: ia_class.into() });
    match (std, ia) {
        (Some(st), Some(i)) if st > i => {
            let share = Decimal::from(s.cold_data_share_percent) / Decimal::from(100);
            let cost = gib * st;
            let saving = gib * share * (st - i);
            d.evidence.push(format!("now: {} GiB × ${st}/GB-month ({std_class}) = ${}", gib.round_dp(2), usd(cost)));
            d.evidence.push(format!(
                "{} GiB × {}% × (${st} − ${i})/GB-month ({std_class} − {ia_class}) = ${} a month",
                gib.round_dp(2),
                s.cold_data_share_percent,
                usd(saving)
            ));
            d.evidence.push("not counted: IA's per-GB read and write charges".into());
            d.evidence.extend(p.source_line());
            d.monthly_cost_usd = Some(cost);
            d.monthly_savings_usd = Some(saving).filter(|x| *x > Decimal::ZERO);
            d.price_source = p.source();
        }
        _ => d.evidence.push(format!("EFS {std_class} or {ia_class} storage is not in the price book: no amount")),
    }
    d.confidence = Confidence::Low;
    d.fix_command = lifecycle_fix(f, &inv.region);
    d.alternative = Some("TransitionToIA after 7, 14, 60 or 90 days instead of 30".into());
    out.push(d);
}

/// max(1, ⌈peak ÷ 0.7⌉) MiB/s.
pub fn needed(peak_mibps: Decimal) -> Decimal {
    (peak_mibps * Decimal::from(100) / Decimal::from(TARGET_PERCENT)).ceil().max(Decimal::ONE)
}

/// The throughput the Standard storage earns, MiB/s.
pub fn baseline(f: &FileSystem) -> Decimal {
    Decimal::from(f.standard_bytes) / Decimal::from(GIB) * Decimal::from(BASELINE_KIBPS_PER_GIB) / Decimal::from(1024)
}

fn overprovisioned(ctx: &Ctx<'_>, inv: &RegionInventory, f: &FileSystem, out: &mut Vec<Draft>) {
    let s = ctx.settings;
    let (Some(prov), Some(peak)) = (f.provisioned_mibps, f.peak_metered_mibps) else { return };
    let old_enough = f.created.is_some_and(|c| ctx.at_least(c, s.idle_min_age_days));
    if f.throughput_mode != "provisioned" || !old_enough {
        return;
    }
    let need = needed(peak);
    if prov <= need * Decimal::from(OVER_FACTOR) {
        return;
    }
    let base_mibps = baseline(f);
    let billed = |mibps: Decimal| (mibps - base_mibps).max(Decimal::ZERO);
    let (now_billed, new_billed) = (billed(prov), billed(need));
    if now_billed <= new_billed {
        return;
    }
    let mut d = base(
        ctx,
        inv,
        f,
        OVERPROVISIONED_THROUGHPUT,
        format!("{} provisions {} MiB/s and needs {need}", describe(f), prov.normalize()),
    );
    d.evidence.push(format!(
        "CloudWatch MeteredIOBytes over the last {} days: busiest 5 minutes {} MiB/s; needed = max(1, ⌈{} ÷ 0.7⌉) = {need} MiB/s",
        s.idle_window_days,
        peak.round_dp(2),
        peak.round_dp(2)
    ));
    d.evidence.push(format!(
        "baseline earned by {} GiB of Standard storage: × 50 KiB/s = {} MiB/s, not billed; billed now max(0, {} − baseline) = {} MiB/s, at {need} MiB/s {} MiB/s",
        (Decimal::from(f.standard_bytes) / Decimal::from(GIB)).round_dp(2),
        base_mibps.round_dp(2),
        prov.normalize(),
        now_billed.round_dp(2),
        new_billed.round_dp(2)
    ));
    let mut p = ctx.pricer(&inv.region);
    match p.rate(&Sku::EfsProvisionedThroughput) {
        Some(rate) => {
            let (cost, after) = (now_billed * rate, new_billed * rate);
            d.evidence.push(format!(
                "({} − {}) MiB/s × ${rate}/MiB/s-month = ${}",
                now_billed.round_dp(2),
                new_billed.round_dp(2),
                usd(cost - after)
            ));
            d.evidence.extend(p.source_line());
            d.monthly_cost_usd = Some(cost);
            d.monthly_savings_usd = Some(cost - after);
            d.price_source = p.source();
        }
        None => d.evidence.push("EFS provisioned throughput is not in the price book: no amount".into()),
    }
    d.confidence = Confidence::Medium;
    let need_s = need.to_u64().unwrap_or(1).to_string();
    d.fix_command = aws_cli(
        "efs",
        "update-file-system",
        &[
            ("--file-system-id", &f.id),
            ("--throughput-mode", "provisioned"),
            ("--provisioned-throughput-in-mibps", &need_s),
        ],
        &inv.region,
    );
    d.alternative =
        Some("elastic throughput (billed per GB transferred), or bursting when the baseline covers the peak".into());
    out.push(d);
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::rules::testkit::*;

    fn fs(id: &str, standard_gib: u64) -> FileSystem {
        FileSystem {
            id: id.into(),
            arn: None,
            name: Some("shared".into()),
            state: "available".into(),
            created: Some(now() - Duration::days(200)),
            one_zone: false,
            standard_bytes: standard_gib * GIB,
            throughput_mode: "bursting".into(),
            provisioned_mibps: None,
            lifecycle_policies: vec![],
            peak_metered_mibps: None,
        }
    }

    fn run(list: Vec<FileSystem>) -> Vec<Draft> {
        let mut inv = RegionInventory::new("us-east-1");
        inv.file_systems = list;
        crate::rules::testkit::run(evaluate, &inv)
    }

    #[test]
    fn a_file_system_without_ia_lifecycle_is_an_estimate() {
        let d = only(run(vec![fs("fs-1", 500)]), NO_IA_LIFECYCLE);
        // 500 GiB × 80% × ($0.30 − $0.025) = $110.
        assert_eq!(d.monthly_savings_usd, Some(dec("110")));
        assert_eq!(d.monthly_cost_usd, Some(dec("150")));
        assert_eq!(d.resource_id, "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-1");
        assert_eq!(
            d.fix_command,
            r#"aws efs put-lifecycle-configuration --file-system-id fs-1 --lifecycle-policies '[{"TransitionToIA":"AFTER_30_DAYS"},{"TransitionToPrimaryStorageClass":"AFTER_1_ACCESS"}]' --region us-east-1"#
        );
        // One Zone is priced at its own classes: 500 × 0.8 × (0.16 − 0.0133) = $58.68.
        let mut oz = fs("fs-2", 500);
        oz.one_zone = true;
        assert_eq!(only(run(vec![oz]), NO_IA_LIFECYCLE).monthly_savings_usd, Some(dec("58.68")));
    }

    #[test]
    fn a_lifecycle_to_ia_or_a_small_file_system_is_left_alone_and_archive_policies_are_kept() {
        let mut f = fs("fs-1", 500);
        f.lifecycle_policies = vec!["TransitionToIA=AFTER_14_DAYS".into()];
        assert!(run(vec![f.clone()]).is_empty());
        assert!(run(vec![fs("fs-small", 5)]).is_empty());
        let mut deleting = fs("fs-3", 500);
        deleting.state = "deleting".into();
        assert!(run(vec![deleting]).is_empty());
        // An archive policy alone does not move data to IA; the fix keeps it.
        f.lifecycle_policies = vec!["TransitionToArchive=AFTER_90_DAYS".into()];
        let d = only(run(vec![f]), NO_IA_LIFECYCLE);
        assert!(d.fix_command.contains(r#"[{"TransitionToIA":"AFTER_30_DAYS"},{"TransitionToArchive":"AFTER_90_DAYS"},{"TransitionToPrimaryStorageClass":"AFTER_1_ACCESS"}]"#), "{}", d.fix_command);
    }

    #[test]
    fn provisioned_throughput_far_above_the_peak_is_billed_above_the_baseline() {
        let mut f = fs("fs-1", 5);
        f.throughput_mode = "provisioned".into();
        f.provisioned_mibps = Some(dec("100"));
        f.peak_metered_mibps = Some(dec("6.3"));
        let d = only(run(vec![f.clone()]), OVERPROVISIONED_THROUGHPUT);
        // needed ⌈6.3 ÷ 0.7⌉ = 9; baseline 5 GiB × 50 KiB/s = 0.244 MiB/s;
        // (99.756 − 8.756) × $6 = $546.
        assert_eq!(d.monthly_savings_usd.map(|s| s.round_dp(2)), Some(dec("546")));
        assert!(d.fix_command.contains("--throughput-mode provisioned --provisioned-throughput-in-mibps 9"));
        assert_eq!(d.confidence, Confidence::Medium);
        // Traps: within twice the need; no series; young; the baseline already covers it.
        let mut close = f.clone();
        close.peak_metered_mibps = Some(dec("40"));
        assert!(run(vec![close]).is_empty());
        let mut unmeasured = f.clone();
        unmeasured.peak_metered_mibps = None;
        assert!(run(vec![unmeasured]).is_empty(), "no data is no fact");
        let mut young = f.clone();
        young.created = Some(now() - Duration::days(3));
        assert!(run(vec![young]).is_empty());
        let mut big = f;
        big.standard_bytes = 4096 * GIB; // 200 MiB/s of baseline: nothing provisioned is billed
        big.lifecycle_policies = vec!["TransitionToIA=AFTER_30_DAYS".into()];
        assert!(run(vec![big]).is_empty());
        assert_eq!(needed(dec("0")), Decimal::ONE);
    }
}
