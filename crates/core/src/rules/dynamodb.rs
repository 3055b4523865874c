//! DynamoDB tables (the table's own capacity; global secondary indexes are named in the evidence,
//! not assessed). Consumption comes from 5-minute sums of `ConsumedReadCapacityUnits` and
//! `ConsumedWriteCapacityUnits` over the idle window: total = Σ sums; peak = the busiest 5
//! minutes ÷ 300 s (DynamoDB's burst capacity keeps up to 300 s of unused capacity, so a table
//! provisioned for its 5-minute peak absorbs shorter spikes). Needed capacity = max(1, ⌈peak ÷
//! 0.7⌉), 0.7 being DynamoDB auto scaling's default target utilisation. Every rule needs the
//! table `ACTIVE`, created at least `idle_min_age_days` ago, and both series (no data is no fact).
//!
//! - `dynamodb.overprovisioned-capacity`: provisioned mode, read or write capacity more than
//!   twice what its peak needs. Monthly cost = (RCU × $/RCU-h + WCU × $/WCU-h) × 730; saving =
//!   the same for the capacity given up (each side set to its need where it is over twice it).
//! - `dynamodb.unused-table`: not one read or write in the window (both sums 0). Monthly cost =
//!   provisioned capacity of the table and its indexes (as above) + storage GiB × $/GB-month of
//!   its table class; saving = cost (back it up, delete it). Global tables are left alone.
//! - `dynamodb.on-demand-to-provisioned`: on-demand mode with steady traffic. On-demand monthly =
//!   (reads ÷ 10⁶ × $/million reads + writes ÷ 10⁶ × $/million writes) × 730 ÷ (24 × window
//!   days); provisioned monthly = needed RCU × $/RCU-h × 730 + needed WCU × $/WCU-h × 730.
//!   Flagged when provisioned costs at most 70 % of on-demand; saving = the difference.
//! - `dynamodb.standard-ia`: an `ACTIVE` table of the Standard class whose storage is the
//!   dominant cost. Storage = `TableSizeBytes` ÷ 2³⁰ GiB × $/GB-month of each class. Throughput
//!   at a class's rates: provisioned, (RCU × $/RCU-h + WCU × $/WCU-h) × 730 for the table and its
//!   global secondary indexes; on demand, the `dynamodb.on-demand-to-provisioned` formula from
//!   the window's consumption (both series needed, the table's own requests only). Flagged when
//!   Standard storage ≥ `dynamodb_ia_storage_share_percent` (AWS's guidance: 50) % of Standard
//!   throughput. With Standard-IA throughput rates in the book, saving = (storage + throughput
//!   at Standard rates) − (the same at Standard-IA rates), flagged from
//!   `dynamodb_ia_min_saving_usd`. Without them (the bundled book has none: AWS prices
//!   Standard-IA reads and writes about 25 % higher), the saving is left empty, the evidence
//!   gives the storage difference as its upper bound, and that bound must reach the minimum.
//!   Monthly cost = Standard storage + throughput. Confidence medium when provisioned, low on
//!   demand (index requests and shorter windows are not seen). Index storage is not in
//!   `TableSizeBytes`: leaving it out under-states the saving.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::draft::{aws_cli, Ctx, Draft, Pricer};
use super::facts::{Consumption, DynamoTable, RegionInventory};
use crate::domain::finding::Confidence;
use crate::domain::money::usd;
use crate::pricing::{Sku, HOURS_PER_MONTH};

pub const OVERPROVISIONED: &str = "dynamodb.overprovisioned-capacity";
pub const UNUSED: &str = "dynamodb.unused-table";
pub const ON_DEMAND_TO_PROVISIONED: &str = "dynamodb.on-demand-to-provisioned";
pub const STANDARD_IA: &str = "dynamodb.standard-ia";

/// Target utilisation of provisioned capacity at the peak (percent).
pub const TARGET_PERCENT: u32 = 70;
/// Provisioned capacity more than this many times the need is "far above".
pub const OVER_FACTOR: u64 = 2;
/// On demand is flagged when provisioned would cost at most this share of it (percent).
pub const ON_DEMAND_MAX_SHARE_PERCENT: u32 = 70;

pub fn evaluate(ctx: &Ctx<'_>, inv: &RegionInventory, out: &mut Vec<Draft>) {
    for t in &inv.dynamo_tables {
        let Some((r, w)) = measured(ctx, t) else { continue };
        if r.total.is_zero() && w.total.is_zero() {
            unused(ctx, inv, t, out);
        } else if t.billing_mode == "PROVISIONED" {
            overprovisioned(ctx, inv, t, (r, w), out);
        } else if t.billing_mode == "PAY_PER_REQUEST" {
            on_demand(ctx, inv, t, (r, w), out);
        }
    }
    for t in &inv.dynamo_tables {
        standard_ia(ctx, inv, t, out);
    }
}

/// Both series, for an active table old enough to be judged.
fn measured(ctx: &Ctx<'_>, t: &DynamoTable) -> Option<(Consumption, Consumption)> {
    let old_enough = t.created.is_some_and(|c| ctx.at_least(c, ctx.settings.idle_min_age_days));
    (t.status == "ACTIVE" && old_enough).then_some((t.reads?, t.writes?))
}

/// max(1, ⌈peak ÷ 0.7⌉) capacity units.
pub fn needed(peak_per_second: Decimal) -> u64 {
    let n = (peak_per_second * Decimal::from(100) / Decimal::from(TARGET_PERCENT)).ceil();
    n.to_u64().unwrap_or(u64::MAX).max(1)
}

fn base(inv: &RegionInventory, t: &DynamoTable, rule: &str, title: String) -> Draft {
    Draft::new(rule, t.arn.clone(), Some(t.arn.clone()), &inv.region, title)
}

fn consumption_lines(ctx: &Ctx<'_>, (r, w): (Consumption, Consumption)) -> Vec<String> {
    let days = ctx.settings.idle_window_days;
    [("ConsumedReadCapacityUnits", r), ("ConsumedWriteCapacityUnits", w)]
        .iter()
        .map(|(m, c)| {
            format!(
                "CloudWatch {m} over the last {days} days: {} in all; busiest 5 minutes {} units/s",
                c.total.normalize(),
                c.peak_per_second.round_dp(2).normalize()
            )
        })
        .collect()
}

/// (monthly $ of `rcu` read and `wcu` write units, the two hourly rates).
fn capacity_monthly(p: &mut Pricer<'_>, rcu: u64, wcu: u64) -> Option<(Decimal, Decimal, Decimal)> {
    let rr = p.rate(&Sku::DynamoDbCapacity { unit: "rcu".into() })?;
    let wr = p.rate(&Sku::DynamoDbCapacity { unit: "wcu".into() })?;
    Some(((Decimal::from(rcu) * rr + Decimal::from(wcu) * wr) * HOURS_PER_MONTH, rr, wr))
}

fn overprovisioned(
    ctx: &Ctx<'_>,
    inv: &RegionInventory,
    t: &DynamoTable,
    (r, w): (Consumption, Consumption),
    out: &mut Vec<Draft>,
) {
    let (need_r, need_w) = (needed(r.peak_per_second), needed(w.peak_per_second));
    let over = |have: u64, need: u64| if have > need.saturating_mul(OVER_FACTOR) { need } else { have };
    let (new_r, new_w) = (over(t.read_capacity, need_r), over(t.write_capacity, need_w));
    if (new_r, new_w) == (t.read_capacity, t.write_capacity) {
        return;
    }
    let mut p = ctx.pricer(&inv.region);
    let (Some((now, rr, wr)), Some((after, _, _))) =
        (capacity_monthly(&mut p, t.read_capacity, t.write_capacity), capacity_monthly(&mut p, new_r, new_w))
    else {
        return;
    };
    let mut d = base(
        inv,
        t,
        OVERPROVISIONED,
        format!(
            "{} provisions {} RCU / {} WCU; its busiest 5 minutes needed {need_r} / {need_w}",
            t.name, t.read_capacity, t.write_capacity
        ),
    );
    d.evidence.extend(consumption_lines(ctx, (r, w)));
    d.evidence.push(format!(
        "needed at {TARGET_PERCENT} % utilisation: ⌈peak ÷ 0.{TARGET_PERCENT}⌉ = {need_r} RCU, {need_w} WCU; \
         a side more than {OVER_FACTOR}× its need is set to it: {new_r} RCU, {new_w} WCU"
    ));
    d.evidence.push(format!(
        "now: ({} × ${rr} + {} × ${wr}) × 730 h = ${}; after: ${}",
        t.read_capacity,
        t.write_capacity,
        usd(now),
        usd(after)
    ));
    if t.index_capacity != (0, 0) {
        d.evidence.push(format!(
            "its global secondary indexes provision {} RCU / {} WCU more, not assessed here",
            t.index_capacity.0, t.index_capacity.1
        ));
    }
    d.evidence.push(
        "if Application Auto Scaling manages this table, lower its minimum capacity instead: it overrides a direct update"
            .into(),
    );
    d.evidence.extend(p.source_line());
    d.monthly_cost_usd = Some(now);
    d.monthly_savings_usd = Some(now - after);
    d.price_source = p.source();
    d.confidence = Confidence::Medium;
    d.fix_command = aws_cli(
        "dynamodb",
        "update-table",
        &[
            ("--table-name", &t.name),
            ("--provisioned-throughput", &format!("ReadCapacityUnits={new_r},WriteCapacityUnits={new_w}")),
        ],
        &inv.region,
    );
    d.alternative = Some(format!("{new_r} RCU / {new_w} WCU"));
    out.push(d);
}

fn unused(ctx: &Ctx<'_>, inv: &RegionInventory, t: &DynamoTable, out: &mut Vec<Draft>) {
    if !t.replica_regions.is_empty() {
        return;
    }
    let days = ctx.settings.idle_window_days;
    let mut d = base(inv, t, UNUSED, format!("{} had no read and no write in {days} days", t.name));
    d.evidence.push(format!(
        "CloudWatch ConsumedReadCapacityUnits and ConsumedWriteCapacityUnits over the last {days} days: 0 and 0"
    ));
    if let Some(c) = t.created {
        d.evidence.push(format!("created {}", c.format("%Y-%m-%d")));
    }
    let mut p = ctx.pricer(&inv.region);
    let mut total = Decimal::ZERO;
    let mut priced = true;
    if t.billing_mode == "PROVISIONED" {
        let (rcu, wcu) = (t.read_capacity + t.index_capacity.0, t.write_capacity + t.index_capacity.1);
        match capacity_monthly(&mut p, rcu, wcu) {
            Some((m, rr, wr)) => {
                d.evidence.push(format!(
                    "capacity of the table and its indexes: ({rcu} × ${rr} + {wcu} × ${wr}) × 730 h = ${}",
                    usd(m)
                ));
                total += m;
            }
            None => priced = false,
        }
    }
    let class = if t.table_class == "STANDARD_INFREQUENT_ACCESS" { "standard-ia" } else { "standard" };
    let gib = Decimal::from(t.size_bytes) / Decimal::from(1u64 << 30);
    match p.rate(&Sku::DynamoDbStorage { class: class.into() }) {
        Some(rate) => {
            let m = gib * rate;
            d.evidence.push(format!(
                "storage: {} bytes = {} GiB × ${rate}/GB-month ({class}) = ${}",
                t.size_bytes,
                gib.round_dp(3).normalize(),
                usd(m)
            ));
            total += m;
        }
        None => priced = false,
    }
    if priced {
        d.evidence.extend(p.source_line());
        d.monthly_cost_usd = Some(total);
        d.monthly_savings_usd = Some(total);
        d.price_source = p.source();
    }
    d.evidence.push("the backup keeps the data at the backup storage rate (not priced); a table read once a quarter looks unused in a shorter window".into());
    d.confidence = Confidence::Low;
    let r = &inv.region;
    let mut fix = vec![aws_cli(
        "dynamodb",
        "create-backup",
        &[("--table-name", &t.name), ("--backup-name", &format!("{}-final", t.name))],
        r,
    )];
    if t.deletion_protection {
        fix.push(aws_cli(
            "dynamodb",
            "update-table",
            &[("--table-name", &t.name), ("--no-deletion-protection-enabled", "")],
            r,
        ));
    }
    fix.push(aws_cli("dynamodb", "delete-table", &[("--table-name", &t.name)], r));
    d.fix_command = fix.join(" && ");
    d.alternative = Some("back it up and delete it".into());
    out.push(d);
}

fn on_demand(
    ctx: &Ctx<'_>,
    inv: &RegionInventory,
    t: &DynamoTable,
    (r, w): (Consumption, Consumption),
    out: &mut Vec<Draft>,
) {
    let days = ctx.settings.idle_window_days;
    let mut p = ctx.pricer(&inv.region);
    let (Some(read_m), Some(write_m)) =
        (p.rate(&Sku::DynamoDbOnDemand { op: "read".into() }), p.rate(&Sku::DynamoDbOnDemand { op: "write".into() }))
    else {
        return;
    };
    let (need_r, need_w) = (needed(r.peak_per_second), needed(w.peak_per_second));
    let Some((provisioned, rr, wr)) = capacity_monthly(&mut p, need_r, need_w) else { return };
    let million = Decimal::from(1_000_000);
    let per_month = HOURS_PER_MONTH / Decimal::from(24 * days.max(1));
    let on_demand = (r.total / million * read_m + w.total / million * write_m) * per_month;
    if provisioned * Decimal::from(100) > on_demand * Decimal::from(ON_DEMAND_MAX_SHARE_PERCENT) {
        return;
    }
    let mut d = base(
        inv,
        t,
        ON_DEMAND_TO_PROVISIONED,
        format!(
            "{} on demand costs ${} a month; provisioned for its peak, ${}",
            t.name,
            usd(on_demand),
            usd(provisioned)
        ),
    );
    d.evidence.extend(consumption_lines(ctx, (r, w)));
    d.evidence.push(format!(
        "on demand: ({} ÷ 10⁶ × ${read_m} + {} ÷ 10⁶ × ${write_m}) × 730 h ÷ ({days} × 24 h) = ${}",
        r.total.normalize(),
        w.total.normalize(),
        usd(on_demand)
    ));
    d.evidence.push(format!(
        "provisioned at {TARGET_PERCENT} % of the peak: ({need_r} × ${rr} + {need_w} × ${wr}) × 730 h = ${}",
        usd(provisioned)
    ));
    d.evidence.push("5-minute sums hide shorter spikes, which provisioned capacity throttles beyond its burst; its global secondary indexes need capacity too (not counted on either side)".into());
    d.evidence.extend(p.source_line());
    d.monthly_cost_usd = Some(on_demand);
    d.monthly_savings_usd = Some(on_demand - provisioned);
    d.price_source = p.source();
    d.confidence = Confidence::Low;
    d.fix_command = aws_cli(
        "dynamodb",
        "update-table",
        &[
            ("--table-name", &t.name),
            ("--billing-mode", "PROVISIONED"),
            ("--provisioned-throughput", &format!("ReadCapacityUnits={need_r},WriteCapacityUnits={need_w}")),
        ],
        &inv.region,
    );
    d.alternative = Some(format!("provisioned {need_r} RCU / {need_w} WCU"));
    out.push(d);
}

/// A table's monthly throughput at Standard rates and, when the book has them, at Standard-IA
/// rates, with the lines that show it.
struct Throughput {
    standard: Decimal,
    ia: Option<Decimal>,
    lines: Vec<String>,
}

fn throughput(ctx: &Ctx<'_>, t: &DynamoTable, p: &mut Pricer<'_>) -> Option<Throughput> {
    if t.billing_mode == "PROVISIONED" {
        let (rcu, wcu) = (t.read_capacity + t.index_capacity.0, t.write_capacity + t.index_capacity.1);
        let (standard, rr, wr) = capacity_monthly(p, rcu, wcu)?;
        let ia = p
            .rate(&Sku::DynamoDbIaCapacity { unit: "rcu".into() })
            .zip(p.rate(&Sku::DynamoDbIaCapacity { unit: "wcu".into() }))
            .map(|(ir, iw)| (ir, iw, (Decimal::from(rcu) * ir + Decimal::from(wcu) * iw) * HOURS_PER_MONTH));
        let mut lines = vec![format!(
            "throughput, table and global secondary indexes: ({rcu} RCU × ${rr} + {wcu} WCU × ${wr}) × 730 h = ${} (Standard)",
            usd(standard)
        )];
        lines.extend(
            ia.map(|(ir, iw, m)| {
                format!("at Standard-IA rates: ({rcu} × ${ir} + {wcu} × ${iw}) × 730 h = ${}", usd(m))
            }),
        );
        return Some(Throughput { standard, ia: ia.map(|x| x.2), lines });
    }
    let (r, w) = measured(ctx, t)?;
    let days = ctx.settings.idle_window_days.max(1);
    let per_month = HOURS_PER_MONTH / Decimal::from(24 * days);
    let million = Decimal::from(1_000_000);
    let monthly = |read: Decimal, write: Decimal| (r.total / million * read + w.total / million * write) * per_month;
    let op = |op: &str| Sku::DynamoDbOnDemand { op: op.into() };
    let (read_m, write_m) = (p.rate(&op("read"))?, p.rate(&op("write"))?);
    let standard = monthly(read_m, write_m);
    let ia_op = |op: &str| Sku::DynamoDbIaOnDemand { op: op.into() };
    let ia = p.rate(&ia_op("read")).zip(p.rate(&ia_op("write")));
    let mut lines = consumption_lines(ctx, (r, w));
    lines.push(format!(
        "throughput: ({} ÷ 10⁶ × ${read_m} + {} ÷ 10⁶ × ${write_m}) × 730 h ÷ ({days} × 24 h) = ${} (Standard, the table's own requests)",
        r.total.normalize(),
        w.total.normalize(),
        usd(standard)
    ));
    lines.extend(
        ia.map(|(ir, iw)| format!("at Standard-IA rates (${ir}, ${iw} per million): ${}", usd(monthly(ir, iw)))),
    );
    Some(Throughput { standard, ia: ia.map(|(ir, iw)| monthly(ir, iw)), lines })
}

fn standard_ia(ctx: &Ctx<'_>, inv: &RegionInventory, t: &DynamoTable, out: &mut Vec<Draft>) {
    let s = ctx.settings;
    if t.status != "ACTIVE" || t.table_class != "STANDARD" || t.size_bytes == 0 {
        return;
    }
    let mut p = ctx.pricer(&inv.region);
    let storage_rate = |p: &mut Pricer<'_>, class: &str| p.rate(&Sku::DynamoDbStorage { class: class.into() });
    let (Some(std_rate), Some(ia_rate)) = (storage_rate(&mut p, "standard"), storage_rate(&mut p, "standard-ia"))
    else {
        return;
    };
    let Some(thr) = throughput(ctx, t, &mut p) else { return };
    let gib = Decimal::from(t.size_bytes) / Decimal::from(1u64 << 30);
    let (storage, storage_ia) = (gib * std_rate, gib * ia_rate);
    let share = Decimal::from(s.dynamodb_ia_storage_share_percent);
    if storage * Decimal::from(100) < thr.standard * share {
        return;
    }
    let saving = thr.ia.map(|ia| storage + thr.standard - storage_ia - ia);
    if saving.unwrap_or(storage - storage_ia) < s.dynamodb_ia_min_saving_usd {
        return;
    }
    let title = format!(
        "{} is {} GiB of mostly-idle storage: the Standard-IA table class stores it for ${} less a month",
        t.name,
        gib.round_dp(1).normalize(),
        usd(storage - storage_ia)
    );
    let mut d = base(inv, t, STANDARD_IA, title);
    d.evidence.push(format!(
        "TableSizeBytes {} = {} GiB: × ${std_rate}/GB-month (Standard) = ${}; × ${ia_rate} (Standard-IA) = ${}",
        t.size_bytes,
        gib.round_dp(3).normalize(),
        usd(storage),
        usd(storage_ia)
    ));
    d.evidence.extend(thr.lines);
    let pct = if thr.standard.is_zero() {
        "all of its cost".to_owned()
    } else {
        format!("{} % of its throughput", (storage * Decimal::from(100) / thr.standard).round_dp(0))
    };
    d.evidence.push(format!(
        "storage is {pct} at Standard rates; AWS's guidance: Standard-IA lowers the total when storage exceeds {share} % of throughput"
    ));
    match saving {
        Some(v) => d.evidence.push(format!(
            "Standard ${} − Standard-IA ${} = ${} a month",
            usd(storage + thr.standard),
            usd(storage + thr.standard - v),
            usd(v)
        )),
        None => d.evidence.push(format!(
            "Standard-IA reads and writes cost more (about 25 % on AWS's pricing page; their rates are not in the price book): the saving is less than the storage's ${}, so it is left empty",
            usd(storage - storage_ia)
        )),
    }
    d.evidence.push("its indexes move to Standard-IA with it (their storage, not in TableSizeBytes, saves too); Standard-IA has no reserved capacity; a table's class can change twice in 30 days".into());
    if !t.replica_regions.is_empty() {
        d.evidence.push(format!(
            "a global table: its replicas ({}) are assessed in their own regions",
            t.replica_regions.join(", ")
        ));
    }
    d.evidence.extend(p.source_line());
    d.monthly_cost_usd = Some(storage + thr.standard);
    d.monthly_savings_usd = saving;
    d.price_source = p.source();
    d.confidence = if t.billing_mode == "PROVISIONED" { Confidence::Medium } else { Confidence::Low };
    d.fix_command = aws_cli(
        "dynamodb",
        "update-table",
        &[("--table-name", &t.name), ("--table-class", "STANDARD_INFREQUENT_ACCESS")],
        &inv.region,
    );
    d.alternative = Some("the Standard-IA table class".into());
    out.push(d);
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::rules::testkit::*;

    fn c(total: &str, peak: &str) -> Option<Consumption> {
        Some(Consumption { total: dec(total), peak_per_second: dec(peak) })
    }

    fn table(mode: &str, rcu: u64, wcu: u64) -> DynamoTable {
        DynamoTable {
            name: "orders".into(),
            arn: "arn:aws:dynamodb:us-east-1:123456789012:table/orders".into(),
            status: "ACTIVE".into(),
            created: Some(now() - Duration::days(200)),
            billing_mode: mode.into(),
            read_capacity: rcu,
            write_capacity: wcu,
            index_capacity: (0, 0),
            size_bytes: 10 << 30,
            table_class: "STANDARD".into(),
            deletion_protection: false,
            replica_regions: vec![],
            reads: c("1000", "1"),
            writes: c("1000", "1"),
        }
    }

    fn run(t: DynamoTable) -> Vec<Draft> {
        let mut inv = RegionInventory::new("us-east-1");
        inv.dynamo_tables.push(t);
        crate::rules::testkit::run(evaluate, &inv)
    }

    #[test]
    fn needed_capacity_serves_the_peak_at_seventy_percent() {
        assert_eq!(needed(dec("7")), 10);
        assert_eq!(needed(dec("7.1")), 11);
        assert_eq!(needed(dec("0")), 1);
    }

    #[test]
    fn capacity_far_above_the_peak_is_lowered_to_the_need() {
        let mut t = table("PROVISIONED", 1000, 100);
        t.reads = c("500000", "7");
        t.writes = c("20000", "40");
        t.index_capacity = (50, 50);
        let d = only(run(t), OVERPROVISIONED);
        // now (1000 × 0.00013 + 100 × 0.00065) × 730 = $142.35; reads → 10 RCU, writes stay
        // (100 ≤ 2 × ⌈40 ÷ 0.7⌉ = 116): (10 × 0.00013 + 100 × 0.00065) × 730 = $48.399; saving $93.951.
        assert_eq!(d.monthly_cost_usd.map(crate::domain::money::cents), Some(dec("142.35")));
        assert_eq!(d.monthly_savings_usd.map(crate::domain::money::cents), Some(dec("93.95")));
        assert_eq!(
            d.fix_command,
            "aws dynamodb update-table --table-name orders --provisioned-throughput \
             ReadCapacityUnits=10,WriteCapacityUnits=100 --region us-east-1"
        );
        assert!(d.evidence.iter().any(|e| e.contains("indexes provision 50 RCU / 50 WCU")));
    }

    #[test]
    fn capacity_within_twice_the_need_is_left_alone() {
        let mut t = table("PROVISIONED", 20, 20);
        t.reads = c("100", "7");
        t.writes = c("100", "7");
        assert!(run(t).is_empty(), "10 needed, 20 provisioned: not over 2×");
    }

    #[test]
    fn a_table_nobody_touched_is_backed_up_and_deleted() {
        let mut t = table("PROVISIONED", 5, 5);
        t.reads = c("0", "0");
        t.writes = c("0", "0");
        t.deletion_protection = true;
        let d = only(run(t.clone()), UNUSED);
        // (5 × 0.00013 + 5 × 0.00065) × 730 = $2.847 + 10 GiB × $0.25 = $2.50.
        assert_eq!(d.monthly_savings_usd.map(crate::domain::money::cents), Some(dec("5.35")));
        assert_eq!(d.confidence, Confidence::Low);
        assert!(d.fix_command.contains("create-backup --table-name orders --backup-name orders-final"));
        assert!(d.fix_command.contains("--no-deletion-protection-enabled"));
        assert!(d.fix_command.ends_with("delete-table --table-name orders --region us-east-1"));
        // On demand, only storage.
        t.billing_mode = "PAY_PER_REQUEST".into();
        t.table_class = "STANDARD_INFREQUENT_ACCESS".into();
        let d = only(run(t), UNUSED);
        assert_eq!(d.monthly_savings_usd, Some(dec("1.0")));
    }

    #[test]
    fn unused_needs_both_series_the_whole_window_and_no_replica() {
        let mut t = table("PAY_PER_REQUEST", 0, 0);
        t.reads = c("0", "0");
        t.writes = None;
        assert!(run(t.clone()).is_empty(), "no write series: no fact");
        t.writes = c("0", "0");
        t.created = Some(now() - Duration::days(5));
        assert!(run(t.clone()).is_empty(), "younger than idle_min_age_days");
        t.created = Some(now() - Duration::days(200));
        t.replica_regions = vec!["eu-west-1".into()];
        assert!(run(t.clone()).is_empty(), "a global table's replica");
        t.replica_regions.clear();
        t.status = "UPDATING".into();
        assert!(run(t).is_empty());
    }

    #[test]
    fn steady_on_demand_traffic_is_cheaper_provisioned() {
        let mut t = table("PAY_PER_REQUEST", 0, 0);
        // 14 days at a steady 50 reads/s and 10 writes/s.
        let secs = 14 * 86_400;
        t.reads = c(&(50 * secs).to_string(), "55");
        t.writes = c(&(10 * secs).to_string(), "12");
        let d = only(run(t.clone()), ON_DEMAND_TO_PROVISIONED);
        // on demand: (60,480,000 ÷ 10⁶ × 0.125 + 12,096,000 ÷ 10⁶ × 0.625) × 730 ÷ 336 = $32.85;
        // provisioned: ⌈55 ÷ 0.7⌉ = 79 RCU, ⌈12 ÷ 0.7⌉ = 18 WCU: (79 × 0.00013 + 18 × 0.00065) × 730 = $16.04.
        assert_eq!(d.monthly_cost_usd.map(crate::domain::money::cents), Some(dec("32.85")));
        assert_eq!(d.monthly_savings_usd.map(crate::domain::money::cents), Some(dec("16.81")));
        assert!(d.fix_command.contains(
            "--billing-mode PROVISIONED --provisioned-throughput ReadCapacityUnits=79,WriteCapacityUnits=18"
        ));
        // Spiky: the same volume with a peak 10× higher is cheaper on demand.
        t.reads = c(&(50 * secs).to_string(), "550");
        t.writes = c(&(10 * secs).to_string(), "120");
        assert!(run(t).is_empty());
    }

    fn big(mode: &str, gib: u64) -> DynamoTable {
        let mut t = table(mode, 5, 5);
        t.size_bytes = gib << 30;
        t
    }

    fn ia(t: DynamoTable) -> Vec<Draft> {
        run(t).into_iter().filter(|d| d.rule == STANDARD_IA).collect()
    }

    #[test]
    fn a_storage_heavy_provisioned_table_is_pointed_at_standard_ia_without_an_invented_saving() {
        let d = only(run(big("PROVISIONED", 200)), STANDARD_IA);
        // storage 200 × $0.25 = $50 (Standard-IA 200 × $0.10 = $20); throughput
        // (5 × 0.00013 + 5 × 0.00065) × 730 = $2.847: storage is 1756 % of it.
        assert_eq!(d.monthly_cost_usd.map(crate::domain::money::cents), Some(dec("52.85")));
        assert_eq!(d.monthly_savings_usd, None, "Standard-IA throughput rates are not in the bundled book");
        assert_eq!(d.confidence, Confidence::Medium);
        assert!(d.evidence.iter().any(|e| e.contains("less than the storage's $30.00")), "{:?}", d.evidence);
        assert!(d.evidence.iter().any(|e| e.contains("storage is 1756 % of its throughput")), "{:?}", d.evidence);
        assert_eq!(
            d.fix_command,
            "aws dynamodb update-table --table-name orders --table-class STANDARD_INFREQUENT_ACCESS --region us-east-1"
        );
    }

    #[test]
    fn with_standard_ia_throughput_rates_the_saving_is_exact() {
        use crate::pricing::{PriceBook, PriceSource, Rate, RateTable};
        let mut tenant = RateTable::default();
        let rate = |usd: &str| Rate { usd: dec(usd), source: PriceSource::PriceListApi, as_of: "2026-11-01".into() };
        tenant.insert("us-east-1", Sku::DynamoDbIaCapacity { unit: "rcu".into() }, rate("0.00016"));
        tenant.insert("us-east-1", Sku::DynamoDbIaCapacity { unit: "wcu".into() }, rate("0.00081"));
        let book = PriceBook { tenant: Some(&tenant), ..book(rates()) };
        let settings = Default::default();
        let mut inv = RegionInventory::new("us-east-1");
        inv.dynamo_tables.push(big("PROVISIONED", 200));
        let mut out = vec![];
        evaluate(&ctx(&book, &settings), &inv, &mut out);
        let d = only(out, STANDARD_IA);
        // Standard $50 + $2.847; Standard-IA $20 + (5 × 0.00016 + 5 × 0.00081) × 730 = $3.5405:
        // 52.847 − 23.5405 = $29.31.
        assert_eq!(d.monthly_savings_usd.map(crate::domain::money::cents), Some(dec("29.31")));
    }

    #[test]
    fn busy_small_ia_or_unmeasured_tables_stay_standard() {
        // 20 GiB: $5 of storage is 176 % of $2.847 throughput, but Standard-IA stores it for
        // $3 less, under the $5 minimum.
        assert!(ia(big("PROVISIONED", 20)).is_empty());
        // Throughput-heavy: 1000 RCU / 100 WCU cost $142.35 a month, 200 GiB $50 is 35 % of it.
        let mut t = big("PROVISIONED", 200);
        (t.read_capacity, t.write_capacity) = (1000, 100);
        assert!(ia(t).is_empty());
        let mut t = big("PROVISIONED", 200);
        t.table_class = "STANDARD_INFREQUENT_ACCESS".into();
        assert!(ia(t).is_empty(), "already Standard-IA");
        let mut t = big("PAY_PER_REQUEST", 200);
        t.reads = None;
        assert!(ia(t).is_empty(), "on demand without its series: throughput unknown");
        let mut t = big("PROVISIONED", 200);
        t.status = "UPDATING".into();
        assert!(ia(t).is_empty());
    }

    #[test]
    fn an_on_demand_table_weighs_its_requests() {
        // 14 days at 50 reads/s and 10 writes/s: $32.85 a month on demand; 200 GiB = $50 is 152 %.
        let secs = 14 * 86_400;
        let mut t = big("PAY_PER_REQUEST", 200);
        t.reads = c(&(50 * secs).to_string(), "55");
        t.writes = c(&(10 * secs).to_string(), "12");
        let d = only(ia(t.clone()), STANDARD_IA);
        assert_eq!(d.confidence, Confidence::Low);
        assert_eq!(d.monthly_cost_usd.map(crate::domain::money::cents), Some(dec("82.85")));
        // At 10× the traffic storage is 15 % of throughput: Standard stays.
        t.reads = c(&(500 * secs).to_string(), "550");
        t.writes = c(&(100 * secs).to_string(), "120");
        assert!(ia(t).is_empty());
    }
}
