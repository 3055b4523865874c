//! Real-time rules: which priced changes become findings, and the cheaper alternative.
//!
//! Always flagged, whatever the amount: GPU and accelerated instances, previous-generation
//! types, new gp2 volumes, io1/io2 volumes, Multi-AZ databases tagged non-production, billing
//! alarms. Anything else becomes a finding when it adds at least the tenant's threshold
//! (default $100/month).
//!
//! Savings formulas:
//! - gp2 → gp3: cost(gp2) − cost(gp3 with the same size, max(3000, gp2 baseline IOPS) and
//!   125/128/250 MiB/s as gp2 gives), see `pricing::model::gp3_equivalent`;
//! - io1/io2 with at most 16,000 IOPS → gp3 with the same size, IOPS and 125 MiB/s;
//! - previous generation → the current-generation family of the same size: price difference;
//! - x86 → Graviton of the same size (m/c/r/t families): price difference;
//! - Multi-AZ on non-production → Single-AZ: half of the cost (Multi-AZ doubles the instance
//!   and its storage).

use rust_decimal::Decimal;
use serde::Serialize;

use crate::domain::event::{Change, Classified, EventKind, InstanceOp, VolumeSpec};
use crate::domain::money::{cents, usd};
use crate::pricing::model::{gp3_equivalent, volume_monthly, Estimate};
use crate::pricing::{PriceBook, Sku, HOURS_PER_MONTH};

pub const DEFAULT_THRESHOLD_USD: Decimal = Decimal::from_parts(100, 0, 0, false, 0);

/// gp3's IOPS ceiling used for the io1/io2 → gp3 alternative.
const GP3_MAX_IOPS: u32 = 16_000;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Alternative {
    pub description: String,
    pub monthly_cost_usd: Decimal,
    pub monthly_savings_usd: Decimal,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RealtimeFinding {
    /// Stable rule id, e.g. `realtime.accelerated-instance`.
    pub rule: &'static str,
    pub title: String,
    pub monthly_cost_usd: Option<Decimal>,
    pub alternative: Option<Alternative>,
}

/// `m5.2xlarge` → (`m5`, `2xlarge`).
pub fn split_type(t: &str) -> Option<(&str, &str)> {
    let t = t.strip_prefix("db.").or_else(|| t.strip_prefix("cache.")).or_else(|| t.strip_prefix("ml.")).unwrap_or(t);
    t.split_once('.')
}

/// Previous-generation families and their current-generation successor (also the CUR waste query's list).
pub const PREVIOUS_GENERATION: &[(&str, &str)] = &[
    ("m1", "m6i"),
    ("m2", "r6i"),
    ("m3", "m6i"),
    ("m4", "m6i"),
    ("c1", "c6i"),
    ("c3", "c6i"),
    ("c4", "c6i"),
    ("r3", "r6i"),
    ("r4", "r6i"),
    ("t1", "t3"),
    ("t2", "t3"),
    ("i2", "i3"),
    ("d2", "d3"),
    ("g2", "g4dn"),
    ("g3", "g4dn"),
    ("p2", "p3"),
    ("x1", "x2idn"),
    ("x1e", "x2iedn"),
];

/// The current-generation family for a previous-generation one.
pub fn current_generation(family: &str) -> Option<&'static str> {
    PREVIOUS_GENERATION.iter().find(|(old, _)| *old == family).map(|(_, new)| *new)
}

/// GPU, machine-learning and FPGA families.
pub fn is_accelerated(family: &str) -> bool {
    let starts_digit = |p: &str| family.strip_prefix(p).is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()));
    starts_digit("p")
        || starts_digit("g")
        || starts_digit("f")
        || starts_digit("vt")
        || starts_digit("inf")
        || starts_digit("trn")
        || starts_digit("dl")
}

const GRAVITON: &[(&str, &str)] = &[
    ("m5", "m7g"),
    ("m6i", "m7g"),
    ("m7i", "m7g"),
    ("m6a", "m7g"),
    ("c5", "c7g"),
    ("c6i", "c7g"),
    ("c7i", "c7g"),
    ("c6a", "c7g"),
    ("r5", "r7g"),
    ("r6i", "r7g"),
    ("r7i", "r7g"),
    ("r6a", "r7g"),
    ("t3", "t4g"),
    ("t3a", "t4g"),
];

pub fn graviton(family: &str) -> Option<&'static str> {
    GRAVITON.iter().find(|(x86, _)| *x86 == family).map(|(_, arm)| *arm)
}

/// An EC2 alternative: the same size in `family`, `count` instances, if priced and cheaper.
fn ec2_alternative(
    book: &PriceBook<'_>,
    region: &str,
    from: &str,
    family: &str,
    count: u32,
    why: &str,
) -> Option<Alternative> {
    let (_, size) = split_type(from)?;
    let to = format!("{family}.{size}");
    let rate = |t: &str| book.rate(region, &Sku::ec2(t)).map(|r| r.usd);
    let (old, new) = (rate(from)?, rate(&to)?);
    let n = Decimal::from(count);
    let saving = (old - new) * n * HOURS_PER_MONTH;
    (saving > Decimal::ZERO).then(|| Alternative {
        description: format!("{to} ({why})"),
        monthly_cost_usd: cents(new * n * HOURS_PER_MONTH),
        monthly_savings_usd: cents(saving),
    })
}

fn volume_alternative(
    book: &PriceBook<'_>,
    region: &str,
    current: &VolumeSpec,
    to: VolumeSpec,
    why: &str,
) -> Option<Alternative> {
    let now = volume_monthly(book, region, current).monthly_usd?;
    let alt = volume_monthly(book, region, &to).monthly_usd?;
    (alt < now).then(|| Alternative {
        description: format!(
            "{} GiB gp3 at {} IOPS and {} MiB/s ({why})",
            to.size_gib,
            to.iops.unwrap_or(3000),
            to.throughput_mibps.unwrap_or(125)
        ),
        monthly_cost_usd: cents(alt),
        monthly_savings_usd: cents(now - alt),
    })
}

/// A rule that fired, before the event's cost is attached.
struct Flag {
    rule: &'static str,
    title: String,
    alternative: Option<Alternative>,
}

impl Flag {
    /// A flag with the given rule, title and alternative.
    fn new(rule: &'static str, title: String, alternative: Option<Alternative>) -> Self {
        Self { rule, title, alternative }
    }

    /// The finding, with the monthly cost rounded to cents.
    fn finding(self, cost: Option<Decimal>) -> RealtimeFinding {
        RealtimeFinding {
            rule: self.rule,
            title: self.title,
            monthly_cost_usd: cost.map(cents),
            alternative: self.alternative,
        }
    }
}

/// Decides whether a priced event is a finding.
pub fn evaluate(
    ev: &Classified,
    est: &Estimate,
    book: &PriceBook<'_>,
    threshold_usd: Decimal,
) -> Option<RealtimeFinding> {
    let cost = est.monthly_usd;
    let region = ev.region.as_str();
    let over_threshold = || cost_increase(ev.kind, cost, threshold_usd);
    let flag = match &ev.change {
        Change::BillingAlarm { alarm, state, threshold_usd } if state.as_deref() == Some("ALARM") => {
            Some(billing_alarm(alarm.as_deref(), *threshold_usd))
        }
        // A launch is judged by its type alone: no generic cost-increase finding after it.
        Change::Instances { op: InstanceOp::Launch, instance_type: Some(t), count, .. } => {
            launch(book, region, t, *count, cost, threshold_usd)
        }
        Change::InstanceType { new_type, .. } => resize(book, region, new_type).or_else(over_threshold),
        Change::Volume { after, .. } if after.volume_type == "gp2" => Some(gp2_volume(book, region, after)),
        Change::Volume { after, .. } if matches!(after.volume_type.as_str(), "io1" | "io2") => {
            Some(provisioned_iops_volume(book, region, after))
        }
        Change::DbInstance { multi_az: true, non_production: true, class, .. } => {
            Some(multi_az_non_production(class.as_deref(), cost))
        }
        _ => over_threshold(),
    };
    flag.map(|f| f.finding(cost))
}

/// A billing alarm in the ALARM state.
fn billing_alarm(alarm: Option<&str>, threshold_usd: Option<Decimal>) -> Flag {
    let over = threshold_usd.map(|t| format!(" (threshold ${})", usd(t))).unwrap_or_default();
    Flag::new(
        "realtime.billing-alarm",
        format!("Billing alarm {} is in ALARM{over}", alarm.unwrap_or("(unnamed)")),
        None,
    )
}

/// Instances launched: accelerated or previous-generation types always, others at the
/// threshold (with a Graviton alternative when there is one).
fn launch(
    book: &PriceBook<'_>,
    region: &str,
    t: &str,
    count: u32,
    cost: Option<Decimal>,
    threshold_usd: Decimal,
) -> Option<Flag> {
    let (family, _) = split_type(t)?;
    if is_accelerated(family) {
        return Some(Flag::new(
            "realtime.accelerated-instance",
            format!("{count} × {t} (GPU/accelerated) launched"),
            None,
        ));
    }
    if let Some(current) = current_generation(family) {
        let alt = ec2_alternative(book, region, t, current, count, "current generation");
        return Some(Flag::new(
            "realtime.previous-generation",
            format!("{count} × {t} (previous generation) launched"),
            alt,
        ));
    }
    if cost.is_some_and(|c| c >= threshold_usd) {
        let alt = graviton(family).and_then(|g| ec2_alternative(book, region, t, g, count, "Graviton"));
        return Some(Flag::new("realtime.cost-increase", format!("{count} × {t} launched"), alt));
    }
    None
}

/// An instance resized to an accelerated or previous-generation type.
fn resize(book: &PriceBook<'_>, region: &str, new_type: &str) -> Option<Flag> {
    let (family, _) = split_type(new_type)?;
    if is_accelerated(family) {
        return Some(Flag::new(
            "realtime.accelerated-instance",
            format!("instance resized to {new_type} (GPU/accelerated)"),
            None,
        ));
    }
    let current = current_generation(family)?;
    let alt = ec2_alternative(book, region, new_type, current, 1, "current generation");
    Some(Flag::new(
        "realtime.previous-generation",
        format!("instance resized to {new_type} (previous generation)"),
        alt,
    ))
}

/// A gp2 volume, with the gp3 volume of the same size and baseline performance as alternative.
fn gp2_volume(book: &PriceBook<'_>, region: &str, after: &VolumeSpec) -> Flag {
    let alt = volume_alternative(book, region, after, gp3_equivalent(after), "same size and baseline performance");
    Flag::new("realtime.gp2-volume", format!("{} GiB gp2 volume", after.size_gib), alt)
}

/// An io1/io2 volume, with gp3 as alternative when gp3 provides its IOPS.
fn provisioned_iops_volume(book: &PriceBook<'_>, region: &str, after: &VolumeSpec) -> Flag {
    let iops = after.iops.unwrap_or(0);
    let alt = (iops <= GP3_MAX_IOPS).then(|| {
        let to = VolumeSpec {
            volume_type: "gp3".into(),
            size_gib: after.size_gib,
            iops: Some(iops.max(3000)),
            throughput_mibps: Some(125),
        };
        volume_alternative(book, region, after, to, "gp3 provides these IOPS")
    });
    let title = format!("{} GiB {} volume with {iops} provisioned IOPS", after.size_gib, after.volume_type);
    Flag::new("realtime.provisioned-iops-volume", title, alt.flatten())
}

/// A Multi-AZ database tagged non-production, with Single-AZ as alternative.
fn multi_az_non_production(class: Option<&str>, cost: Option<Decimal>) -> Flag {
    // Multi-AZ doubles both the instance and its storage: Single-AZ costs half.
    let alt = cost.map(|c| {
        let saving = cents(c / Decimal::from(2));
        Alternative {
            description: "Single-AZ (the resource is tagged non-production)".into(),
            monthly_cost_usd: cents(c - saving),
            monthly_savings_usd: saving,
        }
    });
    let class = class.unwrap_or("DB instance");
    Flag::new("realtime.multi-az-non-production", format!("Multi-AZ {class} tagged non-production"), alt)
}

/// Any other change that adds at least the threshold.
fn cost_increase(kind: EventKind, cost: Option<Decimal>, threshold_usd: Decimal) -> Option<Flag> {
    cost.is_some_and(|c| c >= threshold_usd).then(|| {
        let title = match kind {
            EventKind::Unknown => "cost increase".to_owned(),
            k => format!("{} adds cost", k.as_str()),
        };
        Flag::new("realtime.cost-increase", title, None)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families() {
        assert_eq!(split_type("m5.2xlarge"), Some(("m5", "2xlarge")));
        assert_eq!(split_type("db.r6g.large"), Some(("r6g", "large")));
        for f in ["p4d", "p5", "g5", "g4dn", "inf2", "trn1", "dl1", "f1"] {
            assert!(is_accelerated(f), "{f}");
        }
        for f in ["m5", "m7g", "c7gn", "r6g", "t4g", "i3"] {
            assert!(!is_accelerated(f), "{f}");
        }
        assert_eq!(current_generation("m4"), Some("m6i"));
        assert_eq!(current_generation("m5"), None);
        assert_eq!(graviton("c6i"), Some("c7g"));
    }
}
