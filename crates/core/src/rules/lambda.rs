//! Lambda provisioned concurrency.
//!
//! - `lambda.provisioned-concurrency-unused`: provisioned concurrency on an alias or version,
//!   `READY` and unchanged since before the idle window, whose peak `ProvisionedConcurrencyUtilization`
//!   (CloudWatch Maximum over the window, 0 to 1) stayed below 40 %. Keep = ⌈allocated × peak ÷ 0.7⌉
//!   (0.7 is the target AWS suggests for target tracking on this metric), so the window's busiest
//!   minute would still run at most 70 % of what is kept; nothing spills over to on-demand.
//!   Monthly cost = allocated × memory GiB × $/GB-second (the provisioned-concurrency rate of the
//!   architecture) × 2,628,000 s (730 h); saving = (allocated − keep) × the same. The scan role
//!   reads no function configuration (ListFunctions and GetFunctionConfiguration return
//!   environment variables, a data read), so the memory is unknown unless something else says it:
//!   then the amounts are empty and the evidence gives the rate per GiB. An unknown architecture
//!   is priced at the arm64 rate, the lower one, so the saving is never over-stated.
//!   A configuration that never received an invocation publishes no utilisation metric: no data
//!   is no fact, the rule does not see it (the CUR does).

use rust_decimal::Decimal;

use super::draft::{aws_cli, Ctx, Draft};
use super::facts::{ProvisionedConcurrency, RegionInventory};
use crate::domain::finding::Confidence;
use crate::domain::money::usd;
use crate::pricing::{Sku, HOURS_PER_MONTH};

pub const PROVISIONED_CONCURRENCY_UNUSED: &str = "lambda.provisioned-concurrency-unused";

/// Below this peak utilisation (percent) provisioned concurrency is "mostly unused".
pub const PC_MAX_PEAK_PERCENT: u32 = 40;
/// The utilisation the kept concurrency would run at, at the window's peak (percent).
pub const PC_TARGET_PERCENT: u32 = 70;

pub fn evaluate(ctx: &Ctx<'_>, inv: &RegionInventory, out: &mut Vec<Draft>) {
    for pc in &inv.provisioned_concurrency {
        unused(ctx, inv, pc, out);
    }
}

/// ⌈allocated × peak ÷ target⌉: the concurrency that serves the peak at the target utilisation.
pub fn concurrency_to_keep(allocated: u32, peak: Decimal) -> u32 {
    use rust_decimal::prelude::ToPrimitive;
    let need = (Decimal::from(allocated) * peak * Decimal::from(100) / Decimal::from(PC_TARGET_PERCENT)).ceil();
    need.to_u32().unwrap_or(allocated).min(allocated)
}

fn unused(ctx: &Ctx<'_>, inv: &RegionInventory, pc: &ProvisionedConcurrency, out: &mut Vec<Draft>) {
    let s = ctx.settings;
    let settled = pc.last_modified.is_some_and(|t| ctx.at_least(t, s.idle_window_days.max(s.idle_min_age_days)));
    let Some(peak) = pc.peak_utilization else { return };
    if pc.status != "READY" || pc.allocated == 0 || !settled {
        return;
    }
    if peak * Decimal::from(100) >= Decimal::from(PC_MAX_PEAK_PERCENT) {
        return;
    }
    let keep = concurrency_to_keep(pc.allocated, peak);
    if keep >= pc.allocated {
        return;
    }
    let pct = (peak * Decimal::from(100)).round_dp(1).normalize();
    let mut d = Draft::new(
        PROVISIONED_CONCURRENCY_UNUSED,
        pc.arn.clone(),
        Some(pc.arn.clone()),
        &inv.region,
        format!(
            "{}:{} keeps {} provisioned concurrency; its peak use in {} days was {pct} %",
            pc.function_name, pc.qualifier, pc.allocated, s.idle_window_days
        ),
    );
    d.evidence.push(format!(
        "CloudWatch ProvisionedConcurrencyUtilization maximum over the last {} days: {} ({pct} % of {} allocated)",
        s.idle_window_days,
        peak.normalize(),
        pc.allocated
    ));
    if let Some(t) = pc.last_modified {
        d.evidence.push(format!("configuration unchanged since {}", t.format("%Y-%m-%d")));
    }
    d.evidence.push(format!(
        "keep ⌈{} × {} ÷ 0.{PC_TARGET_PERCENT}⌉ = {keep}: the busiest minute of the window would use at most {PC_TARGET_PERCENT} % of it",
        pc.allocated,
        peak.normalize()
    ));
    price(ctx, inv, pc, keep, &mut d);
    d.confidence = Confidence::Medium;
    let (f, q) = (pc.function_name.as_str(), pc.qualifier.as_str());
    d.fix_command = if keep == 0 {
        aws_cli(
            "lambda",
            "delete-provisioned-concurrency-config",
            &[("--function-name", f), ("--qualifier", q)],
            &inv.region,
        )
    } else {
        aws_cli(
            "lambda",
            "put-provisioned-concurrency-config",
            &[("--function-name", f), ("--qualifier", q), ("--provisioned-concurrent-executions", &keep.to_string())],
            &inv.region,
        )
    };
    d.alternative = Some(if keep == 0 {
        "remove the provisioned concurrency".into()
    } else {
        format!("{keep} provisioned concurrency")
    });
    out.push(d);
}

/// Seconds in the book's month (730 h).
fn seconds_per_month() -> Decimal {
    HOURS_PER_MONTH * Decimal::from(3600)
}

fn price(ctx: &Ctx<'_>, inv: &RegionInventory, pc: &ProvisionedConcurrency, keep: u32, d: &mut Draft) {
    // arm64 also for anything unknown: the lower rate never over-states the saving.
    let arch = pc.architecture.as_deref().filter(|a| *a == "x86_64").unwrap_or("arm64");
    let mut p = ctx.pricer(&inv.region);
    let Some(rate) = p.rate(&Sku::LambdaProvisioned { arch: arch.into() }) else {
        d.evidence.push(format!("Lambda provisioned concurrency ({arch}) is not in the price book for {}", inv.region));
        return;
    };
    let per_gib_month = rate * seconds_per_month();
    let arch_note = if pc.architecture.is_none() { " (architecture unknown: the lower, arm64 rate)" } else { "" };
    d.evidence.push(format!(
        "{arch}{arch_note}: ${rate}/GB-second × 2,628,000 s = ${} a month per unit of concurrency per GiB of memory",
        usd(per_gib_month)
    ));
    let Some(mib) = pc.memory_mib else {
        d.evidence.push(
            "memory size unknown (the scan does not read function configurations): amounts left empty; \
             multiply the line above by the function's memory in GiB and by the units removed"
                .into(),
        );
        d.evidence.extend(p.source_line());
        d.price_source = p.source();
        return;
    };
    let gib = Decimal::from(mib) / Decimal::from(1024);
    let cost = Decimal::from(pc.allocated) * gib * per_gib_month;
    let saving = Decimal::from(pc.allocated - keep) * gib * per_gib_month;
    d.evidence.push(format!(
        "{} × {mib} MiB ({} GiB) × ${} = ${} a month; {} units fewer save ${}",
        pc.allocated,
        gib.normalize(),
        usd(per_gib_month),
        usd(cost),
        pc.allocated - keep,
        usd(saving)
    ));
    d.evidence.extend(p.source_line());
    d.monthly_cost_usd = Some(cost);
    d.monthly_savings_usd = Some(saving);
    d.price_source = p.source();
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::rules::testkit::*;

    fn pc(peak: Option<&str>) -> ProvisionedConcurrency {
        ProvisionedConcurrency {
            function_name: "checkout".into(),
            arn: "arn:aws:lambda:us-east-1:123456789012:function:checkout:live".into(),
            qualifier: "live".into(),
            allocated: 100,
            requested: 100,
            status: "READY".into(),
            last_modified: Some(now() - Duration::days(60)),
            memory_mib: Some(1024),
            architecture: Some("x86_64".into()),
            peak_utilization: peak.map(dec),
        }
    }

    fn run(inv: &RegionInventory) -> Vec<Draft> {
        crate::rules::testkit::run(evaluate, inv)
    }

    fn one(p: ProvisionedConcurrency) -> RegionInventory {
        let mut inv = RegionInventory::new("us-east-1");
        inv.provisioned_concurrency.push(p);
        inv
    }

    #[test]
    fn keep_serves_the_peak_at_seventy_percent() {
        assert_eq!(concurrency_to_keep(100, dec("0.14")), 20);
        assert_eq!(concurrency_to_keep(100, dec("0.141")), 21);
        assert_eq!(concurrency_to_keep(10, dec("0")), 0);
        assert_eq!(concurrency_to_keep(3, dec("0.05")), 1);
        assert_eq!(concurrency_to_keep(10, dec("0.9")), 10, "never more than allocated");
    }

    #[test]
    fn mostly_unused_concurrency_is_cut_to_what_the_peak_needs() {
        let d = only(run(&one(pc(Some("0.14")))), PROVISIONED_CONCURRENCY_UNUSED);
        // 100 × 1 GiB × $0.0000041667 × 2,628,000 s = $1,095.01; keep 20, save 80 × $10.95.
        assert_eq!(d.monthly_cost_usd.map(crate::domain::money::cents), Some(dec("1095.01")));
        assert_eq!(d.monthly_savings_usd.map(crate::domain::money::cents), Some(dec("876.01")));
        assert_eq!(d.confidence, Confidence::Medium);
        assert_eq!(
            d.fix_command,
            "aws lambda put-provisioned-concurrency-config --function-name checkout --qualifier live \
             --provisioned-concurrent-executions 20 --region us-east-1"
        );
        assert!(d.evidence.iter().any(|e| e.contains("maximum over the last 14 days: 0.14 (14 %")), "{:?}", d.evidence);
    }

    #[test]
    fn never_used_concurrency_is_removed() {
        let d = only(run(&one(pc(Some("0")))), PROVISIONED_CONCURRENCY_UNUSED);
        assert_eq!(d.monthly_savings_usd, d.monthly_cost_usd);
        assert!(d.fix_command.starts_with("aws lambda delete-provisioned-concurrency-config"), "{}", d.fix_command);
    }

    #[test]
    fn unknown_memory_leaves_the_amounts_empty_and_unknown_architecture_prices_low() {
        let mut p = pc(Some("0.1"));
        p.memory_mib = None;
        p.architecture = None;
        let d = only(run(&one(p)), PROVISIONED_CONCURRENCY_UNUSED);
        assert_eq!((d.monthly_cost_usd, d.monthly_savings_usd), (None, None));
        // arm64 $0.0000033334 × 2,628,000 = $8.76 per unit per GiB.
        assert!(d.evidence.iter().any(|e| e.contains("arm64 rate") && e.contains("$8.76")), "{:?}", d.evidence);
        assert!(d.price_source.is_some());
    }

    #[test]
    fn busy_new_pending_or_unmeasured_concurrency_is_left_alone() {
        // Peak 40 %: used.
        assert!(run(&one(pc(Some("0.4")))).is_empty());
        // No series: no fact.
        assert!(run(&one(pc(None))).is_empty());
        // Changed 3 days ago: the window saw another configuration.
        let mut p = pc(Some("0.01"));
        p.last_modified = Some(now() - Duration::days(3));
        assert!(run(&one(p)).is_empty());
        // Still being allocated.
        let mut p = pc(Some("0.01"));
        p.status = "IN_PROGRESS".into();
        assert!(run(&one(p)).is_empty());
        // One unit at 35 %: keeping one is all it has.
        let mut p = pc(Some("0.35"));
        p.allocated = 1;
        assert!(run(&one(p)).is_empty());
    }
}
