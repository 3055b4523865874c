//! Cost models: what a change costs per month, from the price book. Monthly = hourly × 730.
//! A change that adds cost is positive; one that removes cost is negative. When a needed rate
//! or fact is missing the estimate says so (`unpriced`) instead of guessing.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::Serialize;

use super::{PriceBook, PriceSource, Rate, Sku, HOURS_PER_MONTH};
use crate::domain::event::{Change, InstanceOp, VolumeSpec};

/// gp3's included performance.
pub const GP3_FREE_IOPS: u32 = 3000;
pub const GP3_FREE_THROUGHPUT: u32 = 125;
/// io2's IOPS tier boundaries (AWS prices IOPS up to 32,000, 32,001-64,000, above 64,000).
pub const IO2_TIERS: [u32; 2] = [32_000, 64_000];

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Estimate {
    /// Signed monthly change in USD; `None` when it cannot be priced.
    pub monthly_usd: Option<Decimal>,
    /// One line per priced component, with the arithmetic.
    pub breakdown: Vec<String>,
    /// The sources of the rates used, with their dates.
    pub sources: Vec<(PriceSource, String)>,
    pub assumptions: Vec<String>,
    pub unpriced_reason: Option<String>,
}

impl Estimate {
    /// The estimate, when it could be priced.
    pub fn priced(self) -> Option<Self> {
        self.monthly_usd.is_some().then_some(self)
    }

    fn unpriced(reason: impl Into<String>) -> Self {
        Self { unpriced_reason: Some(reason.into()), ..Self::default() }
    }

    /// The worst (least specific) source used: what the result is only as good as.
    pub fn price_source(&self) -> Option<PriceSource> {
        self.sources.iter().map(|(s, _)| *s).max_by_key(|s| *s as u8)
    }
}

/// Accumulates priced components.
struct Calc<'a> {
    book: &'a PriceBook<'a>,
    region: &'a str,
    est: Estimate,
    total: Decimal,
}

impl<'a> Calc<'a> {
    fn new(book: &'a PriceBook<'a>, region: &'a str) -> Self {
        Self { book, region, est: Estimate::default(), total: Decimal::ZERO }
    }

    fn rate(&mut self, sku: &Sku) -> Option<Rate> {
        let r = self.book.rate(self.region, sku)?.clone();
        if !self.est.sources.iter().any(|(s, d)| *s == r.source && *d == r.as_of) {
            self.est.sources.push((r.source, r.as_of.clone()));
        }
        Some(r)
    }

    /// `sign × quantity × rate × factor`, with the arithmetic in the breakdown. `unit` names the
    /// rate's unit and the factor, e.g. `/h × 730 h`.
    fn add(
        &mut self,
        sign: i64,
        quantity: Decimal,
        sku: &Sku,
        label: &str,
        factor: Decimal,
        unit: &str,
    ) -> Result<(), String> {
        let r = self.rate(sku).ok_or_else(|| format!("no price for {label} in {}", self.region))?;
        // Checked: quantities come from events and rates from stored sources; nothing panics.
        let too_large = || format!("{quantity} × {label} is too large to price");
        let amount = Decimal::from(sign)
            .checked_mul(quantity)
            .and_then(|a| a.checked_mul(r.usd))
            .and_then(|a| a.checked_mul(factor))
            .ok_or_else(too_large)?;
        self.total = self.total.checked_add(amount).ok_or_else(too_large)?;
        let minus = if sign < 0 { "−" } else { "" };
        self.est.breakdown.push(format!("{minus}{quantity} × {label} at ${}{unit} = ${}", r.usd, amount.round_dp(2)));
        Ok(())
    }

    /// `sign × quantity × hourly rate × 730`.
    fn hourly(&mut self, sign: i64, quantity: Decimal, sku: &Sku, label: &str) -> Result<(), String> {
        self.add(sign, quantity, sku, label, HOURS_PER_MONTH, "/h × 730 h")
    }

    /// `sign × quantity × monthly rate`.
    fn monthly(&mut self, sign: i64, quantity: Decimal, sku: &Sku, label: &str) -> Result<(), String> {
        self.add(sign, quantity, sku, label, Decimal::ONE, "/month")
    }

    fn assume(&mut self, text: impl Into<String>) {
        self.est.assumptions.push(text.into());
    }

    fn done(mut self, result: Result<(), String>) -> Estimate {
        match result {
            Ok(()) => {
                self.est.monthly_usd = Some(self.total.round_dp(4));
                self.est
            }
            Err(reason) => {
                Estimate { unpriced_reason: Some(reason), assumptions: self.est.assumptions, ..Estimate::default() }
            }
        }
    }
}

fn d(n: u32) -> Decimal {
    Decimal::from(n)
}

/// What an EBS volume of this spec costs per month.
fn volume(c: &mut Calc<'_>, sign: i64, v: &VolumeSpec) -> Result<(), String> {
    let t = v.volume_type.as_str();
    c.monthly(sign, d(v.size_gib), &Sku::EbsStorage { volume_type: t.into() }, &format!("GiB {t}"))?;
    match t {
        "gp3" => {
            let iops = v.iops.unwrap_or(GP3_FREE_IOPS);
            let tput = v.throughput_mibps.unwrap_or(GP3_FREE_THROUGHPUT);
            if iops > GP3_FREE_IOPS {
                c.monthly(
                    sign,
                    d(iops - GP3_FREE_IOPS),
                    &Sku::EbsIops { volume_type: "gp3".into() },
                    "gp3 IOPS above 3000",
                )?;
            }
            if tput > GP3_FREE_THROUGHPUT {
                c.monthly(sign, d(tput - GP3_FREE_THROUGHPUT), &Sku::EbsThroughput, "gp3 MiB/s above 125")?;
            }
        }
        "io1" => {
            let iops = v.iops.ok_or("io1 volume without provisioned IOPS")?;
            c.monthly(sign, d(iops), &Sku::EbsIops { volume_type: "io1".into() }, "io1 IOPS")?;
        }
        "io2" => {
            let iops = v.iops.ok_or("io2 volume without provisioned IOPS")?;
            let t1 = iops.min(IO2_TIERS[0]);
            c.monthly(sign, d(t1), &Sku::EbsIops { volume_type: "io2".into() }, "io2 IOPS up to 32,000")?;
            if iops > IO2_TIERS[0] {
                let t2 = iops.min(IO2_TIERS[1]) - IO2_TIERS[0];
                c.monthly(
                    sign,
                    d(t2),
                    &Sku::EbsIopsTier { volume_type: "io2".into(), tier: 1 },
                    "io2 IOPS 32,001-64,000",
                )?;
            }
            if iops > IO2_TIERS[1] {
                c.monthly(
                    sign,
                    d(iops - IO2_TIERS[1]),
                    &Sku::EbsIopsTier { volume_type: "io2".into(), tier: 2 },
                    "io2 IOPS above 64,000",
                )?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The monthly cost of one EBS volume, or why it cannot be priced.
pub fn volume_monthly(book: &PriceBook<'_>, region: &str, v: &VolumeSpec) -> Estimate {
    let mut c = Calc::new(book, region);
    let r = volume(&mut c, 1, v);
    c.done(r)
}

/// gp2 performance as AWS defines it: 3 IOPS per GiB (100 to 16,000) and 128 MiB/s up to
/// 170 GiB, 250 MiB/s from 334 GiB, in between 250 MiB/s with burst credits (we keep 250 to
/// be safe). The gp3 volume with the same size and at least this baseline:
pub fn gp3_equivalent(gp2: &VolumeSpec) -> VolumeSpec {
    let iops = (3 * gp2.size_gib).clamp(100, 16_000).max(GP3_FREE_IOPS);
    let throughput = if gp2.size_gib <= 170 { 128 } else { 250 };
    VolumeSpec {
        volume_type: "gp3".into(),
        size_gib: gp2.size_gib,
        iops: Some(iops),
        throughput_mibps: Some(throughput.max(GP3_FREE_THROUGHPUT)),
    }
}

/// RDS engines the price book knows, by the engine names the API uses.
pub fn rds_engine(engine: Option<&str>) -> Option<&'static str> {
    match engine? {
        "postgres" => Some("postgres"),
        "mysql" => Some("mysql"),
        _ => None,
    }
}

/// Prices a change. `instance_types` maps instance ids to types for events that do not carry
/// the type (start, stop, terminate, state changes): from enrichment or earlier events.
pub fn estimate(
    change: &Change,
    region: &str,
    book: &PriceBook<'_>,
    instance_types: &HashMap<String, String>,
) -> Estimate {
    let mut c = Calc::new(book, region);
    let result = match change {
        Change::Instances { op, ids, instance_type, count, tenancy, platform } => {
            if ids.len() > crate::domain::event::MAX_IDS_PER_EVENT {
                return Estimate::unpriced(crate::domain::event::too_many_ids(ids.len()));
            }
            if tenancy.as_deref().is_some_and(|t| t != "default") {
                return Estimate::unpriced(format!(
                    "{} tenancy is not in the price book",
                    tenancy.as_deref().unwrap_or_default()
                ));
            }
            if platform.as_deref().is_some_and(|p| p.eq_ignore_ascii_case("windows")) {
                return Estimate::unpriced("Windows instances are not in the price book (Linux only)");
            }
            let sign = match op {
                InstanceOp::Launch | InstanceOp::Start => 1,
                InstanceOp::Stop | InstanceOp::Terminate => -1,
            };
            if *op == InstanceOp::Stop {
                c.assume("a stopped instance still pays for its EBS volumes");
            }
            match instance_type {
                Some(t) => c.hourly(sign, d(*count), &Sku::Ec2Instance { instance_type: t.clone() }, t),
                None => {
                    let mut by_type: HashMap<&str, u32> = HashMap::new();
                    let mut unknown = 0;
                    for id in ids {
                        match instance_types.get(id) {
                            Some(t) => *by_type.entry(t).or_default() += 1,
                            None => unknown += 1,
                        }
                    }
                    if by_type.is_empty() {
                        Err("the instance type is not in the event, not known from earlier events, and could not be read from the account".into())
                    } else {
                        if unknown > 0 {
                            c.assume(format!("{unknown} instance(s) of unknown type not priced"));
                        }
                        let mut sorted: Vec<_> = by_type.into_iter().collect();
                        sorted.sort();
                        sorted.into_iter().try_for_each(|(t, n)| {
                            c.hourly(sign, d(n), &Sku::Ec2Instance { instance_type: t.into() }, t)
                        })
                    }
                }
            }
        }
        Change::InstanceType { instance_id, new_type } => {
            let r = c.hourly(1, Decimal::ONE, &Sku::Ec2Instance { instance_type: new_type.clone() }, new_type);
            match (r, instance_types.get(instance_id)) {
                (Err(e), _) => Err(e),
                (Ok(()), Some(old)) if old != new_type => {
                    c.hourly(-1, Decimal::ONE, &Sku::Ec2Instance { instance_type: old.clone() }, old)
                }
                (Ok(()), Some(_)) => Ok(()),
                (Ok(()), None) => {
                    c.assume("the previous instance type is unknown: the full cost of the new type is shown");
                    Ok(())
                }
            }
        }
        Change::Volume { before, after, .. } => {
            let r = volume(&mut c, 1, after);
            match (r, before) {
                (Ok(()), Some(b)) => volume(&mut c, -1, b),
                (r, _) => r,
            }
        }
        Change::PublicIpv4 { allocated, .. } => {
            c.hourly(if *allocated { 1 } else { -1 }, Decimal::ONE, &Sku::PublicIpv4, "public IPv4 address")
        }
        Change::NatGateway { created, .. } => {
            c.assume("data processed by the NAT gateway is charged on top, per GB");
            c.hourly(if *created { 1 } else { -1 }, Decimal::ONE, &Sku::NatGateway, "NAT gateway")
        }
        Change::LoadBalancer { kind, .. } => {
            c.assume("capacity units (LCU/NLCU) are charged on top, by traffic");
            c.hourly(1, Decimal::ONE, &Sku::LoadBalancer { kind: kind.clone() }, &format!("{kind} load balancer"))
        }
        Change::DbInstance { created, engine, class, previous_class, multi_az, storage_type, storage_gib, .. } => {
            let Some(engine) = rds_engine(engine.as_deref()) else {
                return Estimate::unpriced(format!(
                    "RDS engine {:?} is not in the price book (mysql and postgres are)",
                    engine.as_deref().unwrap_or("unknown")
                ));
            };
            let Some(class) = class else { return Estimate::unpriced("the DB instance class is not in the event") };
            let copies = if *multi_az { d(2) } else { Decimal::ONE };
            let label = |c: &str| format!("{c} {engine}{}", if *multi_az { " (Multi-AZ: 2 instances)" } else { "" });
            let r =
                c.hourly(1, copies, &Sku::RdsInstance { engine: engine.into(), class: class.clone() }, &label(class));
            match (r, previous_class) {
                (Err(e), _) => Err(e),
                (Ok(()), Some(prev)) => {
                    c.hourly(-1, copies, &Sku::RdsInstance { engine: engine.into(), class: prev.clone() }, &label(prev))
                }
                (Ok(()), None) => match (storage_type, storage_gib) {
                    (Some(t), Some(gb)) if *created => c.monthly(
                        1,
                        d(*gb) * copies,
                        &Sku::RdsStorage { storage_type: t.clone() },
                        &format!("GB-month {t} storage"),
                    ),
                    _ => Ok(()),
                },
            }
        }
        Change::DbCluster { engine, class, storage_type, storage_gib, .. } => match class {
            Some(class) => {
                let Some(engine) = rds_engine(engine.as_deref()) else {
                    return Estimate::unpriced("this Multi-AZ DB cluster engine is not in the price book");
                };
                c.assume("a Multi-AZ DB cluster runs one writer and two readers");
                let r = c.hourly(
                    1,
                    d(3),
                    &Sku::RdsInstance { engine: engine.into(), class: class.clone() },
                    &format!("{class} {engine}"),
                );
                match (r, storage_type, storage_gib) {
                    (Ok(()), Some(t), Some(gb)) => c.monthly(
                        1,
                        d(*gb),
                        &Sku::RdsStorage { storage_type: t.clone() },
                        &format!("GB-month {t} storage"),
                    ),
                    (r, _, _) => r,
                }
            }
            None => {
                Err("an Aurora cluster costs nothing until its instances are created (CreateDBInstance events; Aurora rates are not in the price book yet)"
                    .into())
            }
        },
        Change::CacheNodes { node_type, nodes, .. } => match node_type {
            Some(t) => c.hourly(1, d(*nodes), &Sku::CacheNode { node_type: t.clone() }, t),
            None => Err("the cache node type is not in the event".into()),
        },
        Change::EksCluster { .. } => c.hourly(1, Decimal::ONE, &Sku::EksCluster, "EKS cluster"),
        Change::NodeGroup { instance_type, nodes, .. } => match instance_type {
            Some(t) => c.hourly(1, d(*nodes), &Sku::Ec2Instance { instance_type: t.clone() }, t),
            None => Err("the node group's instance type is not in the event (launch template)".into()),
        },
        Change::ProvisionedConcurrency { units, .. } => {
            c.assume("the function's memory is not in the event: priced per 1 GB of memory, x86_64");
            let seconds = HOURS_PER_MONTH * d(3600);
            let sku = Sku::LambdaProvisioned { arch: "x86_64".into() };
            c.add(1, d(*units), &sku, "1 GB provisioned concurrency", seconds, &format!("/GB-s × {seconds} s"))
        }
        Change::SageMaker { instance_type, instances, max_runtime_seconds, .. } => {
            match (instance_type, max_runtime_seconds) {
                (None, _) => Err("the instance type is not in the event".into()),
                (Some(t), Some(secs)) => {
                    // A training job is billed for its run time, capped by MaxRuntimeInSeconds.
                    let hours = (Decimal::from(*secs) / d(3600)).round_dp(4);
                    c.assume(format!("the job runs its full MaxRuntimeInSeconds ({hours} h); this is a one-off cost"));
                    c.add(
                        1,
                        d(*instances),
                        &Sku::SageMaker { instance_type: t.clone() },
                        t,
                        hours,
                        &format!("/h × {hours} h"),
                    )
                }
                (Some(t), None) => c.hourly(1, d(*instances), &Sku::SageMaker { instance_type: t.clone() }, t),
            }
        }
        Change::EndpointConfig { .. } => {
            Err("an endpoint configuration costs nothing until an endpoint runs it (its CreateEndpoint is priced)".into())
        }
        Change::Endpoint { config, variants, .. } => {
            if variants.is_empty() {
                Err(format!(
                    "the endpoint's instances are in its configuration {}, whose CreateEndpointConfig event costradar has not seen",
                    config.as_deref().unwrap_or("(unnamed)")
                ))
            } else {
                c.assume("priced at SageMaker notebook instance rates, the ones the price book has; real-time inference rates can differ");
                variants.iter().try_for_each(|v| {
                    c.hourly(1, d(v.instances), &Sku::SageMaker { instance_type: v.instance_type.clone() }, &v.instance_type)
                })
            }
        }
        Change::Redshift { node_type, nodes, .. } => match node_type {
            Some(t) => c.hourly(1, d(*nodes), &Sku::Redshift { node_type: t.clone() }, t),
            None => Err("the node type is not in the event".into()),
        },
        Change::OpenSearch { instance_type, instances, .. } => match instance_type {
            Some(t) => {
                c.assume("EBS storage of the domain is charged on top");
                c.hourly(1, d(*instances), &Sku::OpenSearch { instance_type: t.clone() }, t)
            }
            None => Err("the instance type is not in the event".into()),
        },
        Change::Msk { broker_type, brokers, .. } => match broker_type {
            Some(t) => {
                c.assume("broker storage is charged on top");
                c.hourly(1, d(*brokers), &Sku::Msk { broker_type: t.clone() }, t)
            }
            None => Err("the broker type is not in the event".into()),
        },
        Change::BillingAlarm { .. } => Err("a billing alarm reports spend; it is recorded as an anomaly".into()),
        Change::Unknown => Err("costradar does not price this event".into()),
    };
    c.done(result)
}
