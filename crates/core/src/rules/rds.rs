//! RDS DB instances, priced at the rates AWS publishes for their deployment (Single-AZ or
//! Multi-AZ: the Multi-AZ rate is AWS's own, not always twice Single-AZ):
//! - instance cost = $/h of the class and deployment × 730; storage cost = GiB × $/GiB-month
//!   of the storage type and deployment (provisioned IOPS are not counted).
//! - `rds.stopped`: RDS starts a stopped instance again after 7 days, so stopping is no saving.
//!   Monthly cost = instance + storage; saving = the instance cost (delete it with a final
//!   snapshot; the storage saving is left out because the snapshot's backup storage, priced
//!   on the data actually used, is not in the price book).
//! - `rds.idle`: available for the whole idle window with a maximum of zero
//!   `DatabaseConnections` in it. Same cost and saving as a stopped instance.
//! - `rds.gp2-storage`: gp2 storage up to 4,000 GiB, where gp3's baseline (3,000 IOPS and 125
//!   MiB/s, 12,000 and 500 from 400 GiB) is at least gp2's (3 IOPS per GiB). Saving = GiB ×
//!   ($/GiB-month gp2 − gp3), which is $0 where AWS prices both the same: the finding
//!   is then about the performance gp3 gives for the same money.
//! - `rds.previous-generation`: a previous-generation class. Saving = ($/h old − $/h of the
//!   current-generation class of the same size, same deployment) × 730, when positive.
//! - `rds.multi-az-non-production`: Multi-AZ on an instance tagged non-production
//!   (`environment`/`env`/`stage` = dev, test, staging, ...). Saving = the Multi-AZ instance
//!   and storage cost − the same at Single-AZ rates.

use rust_decimal::Decimal;

use super::draft::{aws_cli, whole_days, Ctx, Draft, Pricer};
use super::facts::{DbInstance, RegionInventory};
use super::realtime::{current_generation, split_type};
use crate::domain::event::{is_non_production, NON_PRODUCTION_TAG_KEYS};
use crate::domain::finding::Confidence;
use crate::domain::money::usd;
use crate::pricing::model::rds_engine;
use crate::pricing::{Deployment, Sku, HOURS_PER_MONTH};

pub const STOPPED: &str = "rds.stopped";
pub const IDLE: &str = "rds.idle";
pub const GP2_STORAGE: &str = "rds.gp2-storage";
pub const PREVIOUS_GENERATION: &str = "rds.previous-generation";
pub const MULTI_AZ_NON_PRODUCTION: &str = "rds.multi-az-non-production";

/// gp2 storage above this size has a baseline over gp3's 12,000 IOPS.
const GP3_PARITY_MAX_GIB: u32 = 4000;

fn deployment(db: &DbInstance) -> Deployment {
    if db.multi_az {
        Deployment::MultiAz
    } else {
        Deployment::SingleAz
    }
}

/// (monthly instance cost, evidence line), if the engine and class are priced.
fn instance_cost(p: &mut Pricer<'_>, db: &DbInstance, class: &str) -> Option<(Decimal, String)> {
    instance_cost_at(p, db, class, deployment(db))
}

fn instance_cost_at(p: &mut Pricer<'_>, db: &DbInstance, class: &str, at: Deployment) -> Option<(Decimal, String)> {
    let engine = rds_engine(Some(&db.engine))?;
    let h = p.rate(&Sku::RdsInstance { engine: engine.into(), class: class.to_owned(), deployment: at })?;
    let m = h * HOURS_PER_MONTH;
    Some((m, format!("{class} {engine} {}: ${h}/h × 730 h = ${}", at.as_str(), usd(m))))
}

fn storage_cost(p: &mut Pricer<'_>, db: &DbInstance, storage_type: &str) -> Option<(Decimal, String)> {
    storage_cost_at(p, db, storage_type, deployment(db))
}

fn storage_cost_at(
    p: &mut Pricer<'_>,
    db: &DbInstance,
    storage_type: &str,
    at: Deployment,
) -> Option<(Decimal, String)> {
    let r = p.rate(&Sku::RdsStorage { storage_type: storage_type.to_owned(), deployment: at })?;
    let m = Decimal::from(db.allocated_gib) * r;
    Some((m, format!("{} GiB {storage_type} {}: ${r}/GiB-month = ${}", db.allocated_gib, at.as_str(), usd(m))))
}

pub fn is_non_production_tagged(db: &DbInstance) -> bool {
    db.tags
        .iter()
        .any(|(k, v)| NON_PRODUCTION_TAG_KEYS.iter().any(|n| k.eq_ignore_ascii_case(n)) && is_non_production(v))
}

fn arn(ctx: &Ctx<'_>, region: &str, db: &DbInstance) -> String {
    db.arn.clone().unwrap_or_else(|| format!("arn:aws:rds:{region}:{}:db:{}", ctx.account_id, db.id))
}

fn base(ctx: &Ctx<'_>, inv: &RegionInventory, db: &DbInstance, rule: &str, title: String) -> Draft {
    // Identifiers repeat across regions; the ARN does not.
    let arn = arn(ctx, &inv.region, db);
    Draft { tags: db.tags.clone(), ..Draft::new(rule, arn.clone(), Some(arn), &inv.region, title) }
}

fn describe(db: &DbInstance) -> String {
    format!("{} {}{}", db.class, db.engine, if db.multi_az { ", Multi-AZ" } else { "" })
}

pub fn evaluate(ctx: &Ctx<'_>, inv: &RegionInventory, out: &mut Vec<Draft>) {
    for db in &inv.db_instances {
        stopped_or_idle(ctx, inv, db, out);
        gp2(ctx, inv, db, out);
        previous_generation(ctx, inv, db, out);
        multi_az(ctx, inv, db, out);
    }
}

fn delete_command(region: &str, db: &DbInstance) -> String {
    aws_cli(
        "rds",
        "delete-db-instance",
        &[("--db-instance-identifier", &db.id), ("--final-db-snapshot-identifier", &format!("{}-final", db.id))],
        region,
    )
}

fn stopped_or_idle(ctx: &Ctx<'_>, inv: &RegionInventory, db: &DbInstance, out: &mut Vec<Draft>) {
    let s = ctx.settings;
    let (rule, title, confidence) = if db.status == "stopped" {
        (
            STOPPED,
            format!("{} ({}) is stopped; RDS starts it again after 7 days", db.id, describe(db)),
            Confidence::Medium,
        )
    } else if db.status == "available"
        && db.created.is_some_and(|c| ctx.at_least(c, s.idle_min_age_days))
        && db.max_connections.is_some_and(|m| m.is_zero())
    {
        (
            IDLE,
            format!("{} ({}) had no connection in {} days", db.id, describe(db), s.idle_window_days),
            Confidence::Medium,
        )
    } else {
        return;
    };
    let mut d = base(ctx, inv, db, rule, title);
    if rule == IDLE {
        d.evidence.push(format!("CloudWatch DatabaseConnections maximum over the last {} days: 0", s.idle_window_days));
    } else {
        d.evidence.push("a stopped DB instance pays for its storage, and RDS restarts it after 7 days".into());
    }
    if let Some(c) = db.created {
        d.evidence.push(format!("created {} ({} days ago)", c.format("%Y-%m-%d"), whole_days(c, ctx.now)));
    }
    let mut p = ctx.pricer(&inv.region);
    match (instance_cost(&mut p, db, &db.class), storage_cost(&mut p, db, &db.storage_type)) {
        (Some((i, il)), storage) => {
            d.evidence.push(il);
            let st = storage.as_ref().map(|(m, _)| *m).unwrap_or_default();
            if let Some((_, sl)) = storage {
                d.evidence.push(sl);
            }
            d.evidence.push(format!(
                "saving: the instance cost ${}; deleting also ends ${} of storage, less the final snapshot's backup storage (not priced)",
                usd(i),
                usd(st)
            ));
            d.evidence.extend(p.source_line());
            d.monthly_cost_usd = Some(i + st);
            d.monthly_savings_usd = Some(i);
            d.price_source = p.source();
        }
        (None, _) => d.evidence.push(format!("{} {} is not in the price book", db.engine, db.class)),
    }
    d.confidence = confidence;
    d.fix_command = delete_command(&inv.region, db);
    d.alternative = Some("delete it with a final snapshot".into());
    out.push(d);
}

fn gp2(ctx: &Ctx<'_>, inv: &RegionInventory, db: &DbInstance, out: &mut Vec<Draft>) {
    if db.storage_type != "gp2"
        || db.allocated_gib > GP3_PARITY_MAX_GIB
        || !matches!(db.status.as_str(), "available" | "stopped")
    {
        return;
    }
    let mut p = ctx.pricer(&inv.region);
    let (Some((now_m, now_l)), Some((gp3_m, gp3_l))) =
        (storage_cost(&mut p, db, "gp2"), storage_cost(&mut p, db, "gp3"))
    else {
        return;
    };
    let saving = (now_m - gp3_m).max(Decimal::ZERO);
    let baseline = (3 * db.allocated_gib).max(100);
    let (gp3_iops, gp3_tput) = if db.allocated_gib >= 400 { (12_000, 500) } else { (3000, 125) };
    let mut d = base(
        ctx,
        inv,
        db,
        GP2_STORAGE,
        format!(
            "{} uses {} GiB of gp2 storage: gp3 gives {gp3_iops} IOPS for {}",
            db.id,
            db.allocated_gib,
            if saving.is_zero() { "the same price".to_owned() } else { format!("${} less a month", usd(saving)) }
        ),
    );
    d.evidence.push(format!("now: {now_l}"));
    d.evidence.push(format!("gp3: {gp3_l}"));
    d.evidence.push(format!(
        "gp2 gives a baseline of {baseline} IOPS at this size; gp3 gives {gp3_iops} IOPS and {gp3_tput} MiB/s included"
    ));
    d.evidence.extend(p.source_line());
    d.monthly_cost_usd = Some(now_m);
    d.monthly_savings_usd = Some(saving);
    d.price_source = p.source();
    d.fix_command = aws_cli(
        "rds",
        "modify-db-instance",
        &[("--db-instance-identifier", &db.id), ("--storage-type", "gp3"), ("--apply-immediately", "")],
        &inv.region,
    );
    d.alternative = Some("gp3 storage".into());
    out.push(d);
}

fn previous_generation(ctx: &Ctx<'_>, inv: &RegionInventory, db: &DbInstance, out: &mut Vec<Draft>) {
    if db.status != "available" {
        return;
    }
    let Some((family, size)) = split_type(&db.class) else { return };
    let Some(current) = current_generation(family) else { return };
    let to = format!("db.{current}.{size}");
    let mut p = ctx.pricer(&inv.region);
    let (Some((old, old_l)), Some((new, new_l))) =
        (instance_cost(&mut p, db, &db.class), instance_cost(&mut p, db, &to))
    else {
        return;
    };
    let saving = old - new;
    if saving <= Decimal::ZERO {
        return;
    }
    let mut d = base(
        ctx,
        inv,
        db,
        PREVIOUS_GENERATION,
        format!("{} runs {} (previous generation): {to} costs ${} less a month", db.id, db.class, usd(saving)),
    );
    d.evidence.push(old_l);
    d.evidence.push(new_l);
    d.evidence.extend(p.source_line());
    d.monthly_cost_usd = Some(old);
    d.monthly_savings_usd = Some(saving);
    d.price_source = p.source();
    d.alternative = Some(to.clone());
    d.fix_command = aws_cli(
        "rds",
        "modify-db-instance",
        &[("--db-instance-identifier", &db.id), ("--db-instance-class", &to), ("--apply-immediately", "")],
        &inv.region,
    );
    out.push(d);
}

fn multi_az(ctx: &Ctx<'_>, inv: &RegionInventory, db: &DbInstance, out: &mut Vec<Draft>) {
    if !db.multi_az || !is_non_production_tagged(db) || !matches!(db.status.as_str(), "available" | "stopped") {
        return;
    }
    let tag = db
        .tags
        .iter()
        .find(|(k, v)| NON_PRODUCTION_TAG_KEYS.iter().any(|n| k.eq_ignore_ascii_case(n)) && is_non_production(v))
        .map(|(k, v)| format!("{k}={v}"))
        .unwrap_or_default();
    let mut d = base(ctx, inv, db, MULTI_AZ_NON_PRODUCTION, format!("{} is Multi-AZ but tagged {tag}", db.id));
    d.evidence.push(format!(
        "tag {tag}: not production; a standby in a second AZ roughly doubles the instance and its storage"
    ));
    let mut p = ctx.pricer(&inv.region);
    let single = Deployment::SingleAz;
    if let (Some((i, il)), Some((si, sil))) =
        (instance_cost(&mut p, db, &db.class), instance_cost_at(&mut p, db, &db.class, single))
    {
        d.evidence.extend([il, sil]);
        let mut storage = |at| storage_cost_at(&mut p, db, &db.storage_type, at);
        let (st, sst) = match (storage(Deployment::MultiAz), storage(single)) {
            (Some((m, l)), Some((sm, sl))) => {
                d.evidence.extend([l, sl]);
                (m, sm)
            }
            _ => (Decimal::ZERO, Decimal::ZERO),
        };
        let saving = (i + st) - (si + sst);
        d.evidence.push(format!("Single-AZ: ${} − ${} = ${}", usd(i + st), usd(si + sst), usd(saving)));
        d.evidence.extend(p.source_line());
        d.monthly_cost_usd = Some(i + st);
        d.monthly_savings_usd = Some(saving);
        d.price_source = p.source();
    }
    d.fix_command = aws_cli(
        "rds",
        "modify-db-instance",
        &[("--db-instance-identifier", &db.id), ("--no-multi-az", ""), ("--apply-immediately", "")],
        &inv.region,
    );
    d.alternative = Some("Single-AZ".into());
    out.push(d);
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::rules::testkit::*;

    fn db(class: &str, status: &str) -> DbInstance {
        DbInstance {
            id: "orders".into(),
            arn: Some("arn:aws:rds:us-east-1:123456789012:db:orders".into()),
            class: class.into(),
            engine: "postgres".into(),
            status: status.into(),
            multi_az: false,
            storage_type: "gp3".into(),
            allocated_gib: 100,
            created: Some(now() - Duration::days(100)),
            tags: Default::default(),
            max_connections: None,
        }
    }

    fn run(inv: &RegionInventory) -> Vec<Draft> {
        crate::rules::testkit::run(evaluate, inv)
    }

    #[test]
    fn stopped_costs_the_instance_it_will_run_again() {
        let mut inv = RegionInventory::new("us-east-1");
        inv.db_instances.push(db("db.m5.large", "stopped"));
        let d = only(run(&inv), STOPPED);
        // db.m5.large postgres $0.178/h × 730 = $129.94; storage 100 × 0.115 = $11.50.
        assert_eq!(d.monthly_cost_usd, Some(dec("141.44")));
        assert_eq!(d.monthly_savings_usd, Some(dec("129.94")));
        assert!(d.fix_command.contains("--final-db-snapshot-identifier orders-final"));
        assert_eq!(d.resource_id, "arn:aws:rds:us-east-1:123456789012:db:orders");
    }

    #[test]
    fn idle_needs_zero_connections_over_the_window() {
        let mut inv = RegionInventory::new("us-east-1");
        let mut x = db("db.m5.large", "available");
        x.max_connections = Some(dec("0"));
        inv.db_instances.push(x);
        assert_eq!(only(run(&inv), IDLE).monthly_savings_usd, Some(dec("129.94")));
        inv.db_instances[0].max_connections = Some(dec("1"));
        assert!(run(&inv).is_empty());
        inv.db_instances[0].max_connections = None;
        assert!(run(&inv).is_empty());
        inv.db_instances[0].max_connections = Some(dec("0"));
        inv.db_instances[0].created = Some(now() - Duration::days(3));
        assert!(run(&inv).is_empty());
    }

    #[test]
    fn gp2_storage_is_flagged_with_the_price_difference_even_when_zero() {
        let mut inv = RegionInventory::new("us-east-1");
        let mut x = db("db.m5.large", "available");
        x.storage_type = "gp2".into();
        x.allocated_gib = 500;
        inv.db_instances.push(x);
        let d = only(run(&inv), GP2_STORAGE);
        // us-east-1 prices gp2 and gp3 RDS storage alike ($0.115): 500 × 0.115 = $57.50 either way.
        assert_eq!(d.monthly_cost_usd, Some(dec("57.5")));
        assert_eq!(d.monthly_savings_usd, Some(dec("0")));
        assert!(d.title.contains("12000 IOPS for the same price"), "{}", d.title);
        // Too large for parity: left alone.
        inv.db_instances[0].allocated_gib = 6000;
        assert!(run(&inv).is_empty());
    }

    #[test]
    fn previous_generation_and_multi_az_on_non_production() {
        let mut inv = RegionInventory::new("us-east-1");
        let mut x = db("db.m4.large", "available");
        x.multi_az = true;
        x.tags.insert("Environment".into(), "staging".into());
        inv.db_instances.push(x);
        let drafts = run(&inv);
        let pg = only(drafts.clone(), PREVIOUS_GENERATION);
        // Multi-AZ rates: db.m4.large $0.364/h vs db.m6i.large $0.356/h, × 730 = $5.84.
        assert_eq!(pg.monthly_savings_usd, Some(dec("5.84")));
        let maz = only(drafts, MULTI_AZ_NON_PRODUCTION);
        // (0.364 × 730 + 100 × 0.23) − (0.182 × 730 + 100 × 0.115) = 288.72 − 144.36 = $144.36.
        assert_eq!(maz.monthly_savings_usd, Some(dec("144.36")));
        assert!(maz.fix_command.contains("--no-multi-az"));
    }

    #[test]
    fn production_multi_az_and_current_classes_are_left_alone() {
        let mut inv = RegionInventory::new("us-east-1");
        let mut x = db("db.m6i.large", "available");
        x.multi_az = true;
        x.tags.insert("Environment".into(), "production".into());
        inv.db_instances.push(x);
        assert!(run(&inv).is_empty());
    }
}
