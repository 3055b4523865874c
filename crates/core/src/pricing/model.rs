//! Cost models: what a change costs per month, from the price book. Monthly = hourly × 730.
//! A change that adds cost is positive; one that removes cost is negative. When a needed rate
//! or fact is missing the estimate says so (`unpriced`) instead of guessing.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::Serialize;

use super::{Deployment, PriceBook, PriceSource, Rate, SageMakerUsage, Sku, HOURS_PER_MONTH};
use crate::domain::event::{Change, EndpointVariant, InstanceOp, VolumeSpec};
use crate::domain::money::usd;

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
        self.est.breakdown.push(format!("{minus}{quantity} × {label} at ${}{unit} = ${}", r.usd, usd(amount)));
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
            Err(reason) => Estimate { assumptions: self.est.assumptions, ..Estimate::unpriced(reason) },
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
/// The price book's engine for an RDS `Engine` value (licence included where AWS sells one).
pub fn rds_engine(engine: Option<&str>) -> Option<&'static str> {
    Some(match engine? {
        "postgres" => "postgres",
        "mysql" => "mysql",
        "mariadb" => "mariadb",
        "oracle-se2" => "oracle-se2",
        "oracle-ee" | "oracle-se2-cdb" | "oracle-ee-cdb" => "oracle-byol",
        "sqlserver-ex" => "sqlserver-ex",
        "sqlserver-web" => "sqlserver-web",
        "sqlserver-se" => "sqlserver-se",
        "sqlserver-ee" => "sqlserver-ee",
        _ => return None,
    })
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
            instances_priceable(ids, tenancy.as_deref(), platform.as_deref())
                .and_then(|()| instances(&mut c, *op, ids, instance_type.as_deref(), *count, instance_types))
        }
        Change::InstanceType { instance_id, new_type } => {
            instance_resize(&mut c, instance_id, new_type, instance_types)
        }
        Change::Volume { before, after, .. } => volume_change(&mut c, before.as_ref(), after),
        Change::PublicIpv4 { allocated, .. } => public_ipv4(&mut c, *allocated),
        Change::NatGateway { created, .. } => nat_gateway(&mut c, *created),
        Change::LoadBalancer { kind, .. } => load_balancer(&mut c, kind),
        Change::DbInstance { created, engine, class, previous_class, multi_az, storage_type, storage_gib, .. } => {
            let storage = storage_type.as_deref().zip(*storage_gib);
            db_instance(
                &mut c,
                *created,
                engine.as_deref(),
                class.as_deref(),
                previous_class.as_deref(),
                *multi_az,
                storage,
            )
        }
        Change::DbCluster { engine, class, storage_type, storage_gib, .. } => {
            db_cluster(&mut c, engine.as_deref(), class.as_deref(), storage_type.as_deref().zip(*storage_gib))
        }
        Change::CacheNodes { node_type, nodes, .. } => cache_nodes(&mut c, node_type.as_deref(), *nodes),
        Change::EksCluster { .. } => eks_cluster(&mut c),
        Change::NodeGroup { instance_type, nodes, .. } => node_group(&mut c, instance_type.as_deref(), *nodes),
        Change::ProvisionedConcurrency { units, .. } => provisioned_concurrency(&mut c, *units),
        Change::SageMaker { instance_type, instances, max_runtime_seconds, .. } => {
            sagemaker(&mut c, instance_type.as_deref(), *instances, *max_runtime_seconds)
        }
        Change::EndpointConfig { .. } => {
            Err("an endpoint configuration costs nothing until an endpoint runs it (its CreateEndpoint is priced)"
                .into())
        }
        Change::Endpoint { config, variants, .. } => endpoint(&mut c, config.as_deref(), variants),
        Change::Redshift { node_type, nodes, .. } => redshift(&mut c, node_type.as_deref(), *nodes),
        Change::OpenSearch { instance_type, instances, .. } => opensearch(&mut c, instance_type.as_deref(), *instances),
        Change::Msk { broker_type, brokers, .. } => msk(&mut c, broker_type.as_deref(), *brokers),
        Change::BillingAlarm { .. } => Err("a billing alarm reports spend; it is recorded as an anomaly".into()),
        Change::Unknown => Err("costradar does not price this event".into()),
    };
    c.done(result)
}

/// Refuses instance events the price book cannot cover: too many ids, non-default tenancy, Windows.
fn instances_priceable(ids: &[String], tenancy: Option<&str>, platform: Option<&str>) -> Result<(), String> {
    if ids.len() > crate::domain::event::MAX_IDS_PER_EVENT {
        return Err(crate::domain::event::too_many_ids(ids.len()));
    }
    if tenancy.is_some_and(|t| t != "default") {
        return Err(format!("{} tenancy is not in the price book", tenancy.unwrap_or_default()));
    }
    if platform.is_some_and(|p| p.eq_ignore_ascii_case("windows")) {
        return Err("Windows instances are not in the price book (Linux only)".into());
    }
    Ok(())
}

/// Instances launched, started, stopped or terminated: their hourly rate, added or removed.
fn instances(
    c: &mut Calc<'_>,
    op: InstanceOp,
    ids: &[String],
    instance_type: Option<&str>,
    count: u32,
    instance_types: &HashMap<String, String>,
) -> Result<(), String> {
    let sign = match op {
        InstanceOp::Launch | InstanceOp::Start => 1,
        InstanceOp::Stop | InstanceOp::Terminate => -1,
    };
    if op == InstanceOp::Stop {
        c.assume("a stopped instance still pays for its EBS volumes");
    }
    match instance_type {
        Some(t) => c.hourly(sign, d(count), &Sku::ec2(t), t),
        None => instances_by_id(c, sign, ids, instance_types),
    }
}

/// Instances named only by id: priced by the types known for them; those of unknown type are left out.
fn instances_by_id(
    c: &mut Calc<'_>,
    sign: i64,
    ids: &[String],
    instance_types: &HashMap<String, String>,
) -> Result<(), String> {
    let mut by_type: HashMap<&str, u32> = HashMap::new();
    let mut unknown = 0;
    for id in ids {
        match instance_types.get(id) {
            Some(t) => *by_type.entry(t).or_default() += 1,
            None => unknown += 1,
        }
    }
    if by_type.is_empty() {
        return Err("the instance type is not in the event, not known from earlier events, and could not be read from the account".into());
    }
    if unknown > 0 {
        c.assume(format!("{unknown} instance(s) of unknown type not priced"));
    }
    let mut sorted: Vec<_> = by_type.into_iter().collect();
    sorted.sort();
    sorted.into_iter().try_for_each(|(t, n)| c.hourly(sign, d(n), &Sku::ec2(t), t))
}

/// An instance resized: the new type's rate, less the old type's when it is known.
fn instance_resize(
    c: &mut Calc<'_>,
    instance_id: &str,
    new_type: &str,
    instance_types: &HashMap<String, String>,
) -> Result<(), String> {
    c.hourly(1, Decimal::ONE, &Sku::ec2(new_type), new_type)?;
    match instance_types.get(instance_id) {
        Some(old) if old != new_type => c.hourly(-1, Decimal::ONE, &Sku::ec2(old.as_str()), old),
        Some(_) => Ok(()),
        None => {
            c.assume("the previous instance type is unknown: the full cost of the new type is shown");
            Ok(())
        }
    }
}

/// A volume created or modified: the new spec's cost, less the old spec's when there is one.
fn volume_change(c: &mut Calc<'_>, before: Option<&VolumeSpec>, after: &VolumeSpec) -> Result<(), String> {
    volume(c, 1, after)?;
    match before {
        Some(b) => volume(c, -1, b),
        None => Ok(()),
    }
}

/// A public IPv4 address allocated or released.
fn public_ipv4(c: &mut Calc<'_>, allocated: bool) -> Result<(), String> {
    c.hourly(if allocated { 1 } else { -1 }, Decimal::ONE, &Sku::PublicIpv4, "public IPv4 address")
}

/// A NAT gateway created or deleted: its hourly rate; data processed is not in the event.
fn nat_gateway(c: &mut Calc<'_>, created: bool) -> Result<(), String> {
    c.assume("data processed by the NAT gateway is charged on top, per GB");
    c.hourly(if created { 1 } else { -1 }, Decimal::ONE, &Sku::NatGateway, "NAT gateway")
}

/// A load balancer created: its hourly rate; capacity units are not in the event.
fn load_balancer(c: &mut Calc<'_>, kind: &str) -> Result<(), String> {
    c.assume("capacity units (LCU/NLCU) are charged on top, by traffic");
    c.hourly(1, Decimal::ONE, &Sku::LoadBalancer { kind: kind.into() }, &format!("{kind} load balancer"))
}

/// An RDS instance created, modified or started: instances (two if Multi-AZ), less the previous
/// class on a resize, plus `storage` (type and GB) when the instance is created.
fn db_instance(
    c: &mut Calc<'_>,
    created: bool,
    engine: Option<&str>,
    class: Option<&str>,
    previous_class: Option<&str>,
    multi_az: bool,
    storage: Option<(&str, u32)>,
) -> Result<(), String> {
    let Some(engine) = rds_engine(engine) else {
        return Err(format!(
            "RDS engine {:?} is not in the price book (MySQL, PostgreSQL, MariaDB, Oracle and SQL Server are; Aurora instances are priced as Aurora)",
            engine.unwrap_or("unknown")
        ));
    };
    let Some(class) = class else { return Err("the DB instance class is not in the event".into()) };
    // AWS publishes Multi-AZ rates; they are not always twice Single-AZ.
    let deployment = if multi_az { Deployment::MultiAz } else { Deployment::SingleAz };
    let label = |k: &str| format!("{k} {engine} {}", deployment.as_str());
    let instance = |class: &str| Sku::RdsInstance { engine: engine.into(), class: class.into(), deployment };
    c.hourly(1, Decimal::ONE, &instance(class), &label(class))?;
    match (previous_class, storage) {
        (Some(prev), _) => c.hourly(-1, Decimal::ONE, &instance(prev), &label(prev)),
        (None, Some((t, gb))) if created => {
            let sku = Sku::RdsStorage { storage_type: t.into(), deployment };
            c.monthly(1, d(gb), &sku, &format!("GB-month {t} storage ({})", deployment.as_str()))
        }
        (None, _) => Ok(()),
    }
}

/// A Multi-AZ DB cluster created: three instances plus `storage` (type and GB). Aurora clusters
/// (no class) are not priced.
fn db_cluster(
    c: &mut Calc<'_>,
    engine: Option<&str>,
    class: Option<&str>,
    storage: Option<(&str, u32)>,
) -> Result<(), String> {
    let Some(class) = class else {
        return Err("an Aurora cluster costs nothing until its instances are created (CreateDBInstance events; Aurora rates are not in the price book yet)".into());
    };
    let Some(engine) = rds_engine(engine) else {
        return Err("this Multi-AZ DB cluster engine is not in the price book".into());
    };
    c.assume("AWS's Multi-AZ DB cluster rate covers the writer and its two readable standbys");
    let deployment = Deployment::MultiAzCluster;
    let sku = Sku::RdsInstance { engine: engine.into(), class: class.into(), deployment };
    c.hourly(1, Decimal::ONE, &sku, &format!("{class} {engine} Multi-AZ DB cluster"))?;
    match storage {
        Some((t, gb)) => {
            c.assume("cluster storage priced at the Multi-AZ storage rate (the book has no cluster storage rate)");
            let sku = Sku::RdsStorage { storage_type: t.into(), deployment: Deployment::MultiAz };
            c.monthly(1, d(gb), &sku, &format!("GB-month {t} storage"))
        }
        None => Ok(()),
    }
}

/// ElastiCache nodes created.
fn cache_nodes(c: &mut Calc<'_>, node_type: Option<&str>, nodes: u32) -> Result<(), String> {
    let t = node_type.ok_or("the cache node type is not in the event")?;
    c.assume("priced as Redis OSS nodes (the event does not say which engine)");
    c.hourly(1, d(nodes), &Sku::CacheNode { node_type: t.into(), engine: "redis".into() }, t)
}

/// An EKS cluster created: its control plane's hourly rate.
fn eks_cluster(c: &mut Calc<'_>) -> Result<(), String> {
    c.hourly(1, Decimal::ONE, &Sku::EksCluster { extended: false }, "EKS cluster")
}

/// An EKS node group created: its EC2 instances.
fn node_group(c: &mut Calc<'_>, instance_type: Option<&str>, nodes: u32) -> Result<(), String> {
    let t = instance_type.ok_or("the node group's instance type is not in the event (launch template)")?;
    c.hourly(1, d(nodes), &Sku::ec2(t), t)
}

/// Lambda provisioned concurrency set: `units` × 1 GB for every second of the month.
fn provisioned_concurrency(c: &mut Calc<'_>, units: u32) -> Result<(), String> {
    c.assume("the function's memory is not in the event: priced per 1 GB of memory, x86_64");
    let seconds = HOURS_PER_MONTH * d(3600);
    let sku = Sku::LambdaProvisioned { arch: "x86_64".into() };
    c.add(1, d(units), &sku, "1 GB provisioned concurrency", seconds, &format!("/GB-s × {seconds} s"))
}

/// SageMaker instances: a training job for its maximum run time (one-off), otherwise per month.
fn sagemaker(
    c: &mut Calc<'_>,
    instance_type: Option<&str>,
    instances: u32,
    max_runtime_seconds: Option<u64>,
) -> Result<(), String> {
    let t = instance_type.ok_or("the instance type is not in the event")?;
    let usage = if max_runtime_seconds.is_some() { SageMakerUsage::Training } else { SageMakerUsage::Notebook };
    let sku = Sku::SageMaker { instance_type: t.into(), usage };
    match max_runtime_seconds {
        Some(secs) => {
            // A training job is billed for its run time, capped by MaxRuntimeInSeconds.
            let hours = (Decimal::from(secs) / d(3600)).round_dp(4);
            c.assume(format!("the job runs its full MaxRuntimeInSeconds ({hours} h); this is a one-off cost"));
            c.add(1, d(instances), &sku, t, hours, &format!("/h × {hours} h"))
        }
        None => c.hourly(1, d(instances), &sku, t),
    }
}

/// A SageMaker endpoint: the instances of its configuration's variants, once the configuration is known.
fn endpoint(c: &mut Calc<'_>, config: Option<&str>, variants: &[EndpointVariant]) -> Result<(), String> {
    if variants.is_empty() {
        return Err(format!(
            "the endpoint's instances are in its configuration {}, whose CreateEndpointConfig event costradar has not seen",
            config.unwrap_or("(unnamed)")
        ));
    }
    variants.iter().try_for_each(|v| {
        let sku = Sku::SageMaker { instance_type: v.instance_type.clone(), usage: SageMakerUsage::Inference };
        c.hourly(1, d(v.instances), &sku, &format!("{} real-time inference", v.instance_type))
    })
}

/// A Redshift cluster created: its nodes.
fn redshift(c: &mut Calc<'_>, node_type: Option<&str>, nodes: u32) -> Result<(), String> {
    let t = node_type.ok_or("the node type is not in the event")?;
    c.hourly(1, d(nodes), &Sku::Redshift { node_type: t.into() }, t)
}

/// An OpenSearch domain created: its instances; storage is not priced.
fn opensearch(c: &mut Calc<'_>, instance_type: Option<&str>, instances: u32) -> Result<(), String> {
    let t = instance_type.ok_or("the instance type is not in the event")?;
    c.assume("EBS storage of the domain is charged on top");
    c.hourly(1, d(instances), &Sku::OpenSearch { instance_type: t.into() }, t)
}

/// An MSK cluster created: its brokers; storage is not priced.
fn msk(c: &mut Calc<'_>, broker_type: Option<&str>, brokers: u32) -> Result<(), String> {
    let t = broker_type.ok_or("the broker type is not in the event")?;
    c.assume("broker storage is charged on top");
    c.hourly(1, d(brokers), &Sku::Msk { broker_type: t.into() }, t)
}
