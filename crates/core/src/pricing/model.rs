//! Cost models: what a change costs per month, from the price book. Monthly = hourly × 730.
//! A change that adds cost is positive; one that removes cost is negative. When a needed rate
//! or fact is missing the estimate says so (`unpriced`) instead of guessing.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::Serialize;

use super::{Deployment, Os, PriceBook, PriceSource, Rate, SageMakerUsage, Sku, Tenancy, HOURS_PER_MONTH};
use crate::domain::event::{Change, EmrInstances, EndpointVariant, InstanceOp, TableCapacity, VolumeSpec};
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

/// What prices a running instance: its type, its OS (`None`: not known), its tenancy, and
/// whether it holds an auto-assigned public IPv4 address (`None`: not known).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceFacts {
    pub instance_type: String,
    pub os: Option<Os>,
    pub tenancy: Tenancy,
    pub public_ipv4: Option<bool>,
}

impl InstanceFacts {
    /// A type and nothing else known.
    pub fn of_type(instance_type: impl Into<String>) -> Self {
        Self { instance_type: instance_type.into(), os: None, tenancy: Tenancy::Shared, public_ipv4: None }
    }

    /// The receiver's memory form: `type|os|tenancy|ipv4`, `-` for what is not known.
    pub fn remembered(&self) -> String {
        let os = self.os.map_or("-", Os::as_str);
        let tenancy = if self.tenancy == Tenancy::Dedicated { "dedicated" } else { "shared" };
        let ip = match self.public_ipv4 {
            Some(true) => "ipv4",
            Some(false) => "no-ipv4",
            None => "-",
        };
        format!("{}|{os}|{tenancy}|{ip}", self.instance_type)
    }

    /// Reads [`Self::remembered`]; a bare type (memory written before platforms were known)
    /// reads as a type whose OS is not known.
    pub fn from_remembered(s: &str) -> Self {
        let mut parts = s.split('|');
        let mut facts = Self::of_type(parts.next().unwrap_or_default());
        facts.os = parts.next().and_then(|o| serde_json::from_value(serde_json::Value::String(o.into())).ok());
        facts.tenancy = if parts.next() == Some("dedicated") { Tenancy::Dedicated } else { Tenancy::Shared };
        facts.public_ipv4 = match parts.next() {
            Some("ipv4") => Some(true),
            Some("no-ipv4") => Some(false),
            _ => None,
        };
        facts
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
        let text = text.into();
        if !self.est.assumptions.contains(&text) {
            self.est.assumptions.push(text);
        }
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

/// Prices a change. `instances` holds what is known of instances by id, for events that do not
/// carry it (start, stop, terminate, state changes; a launch's OS from its AMI): from
/// enrichment or earlier events.
pub fn estimate(
    change: &Change,
    region: &str,
    book: &PriceBook<'_>,
    instances: &HashMap<String, InstanceFacts>,
) -> Estimate {
    let mut c = Calc::new(book, region);
    let result = match change {
        Change::Instances { ids, .. } if ids.len() > crate::domain::event::MAX_IDS_PER_EVENT => {
            Err(crate::domain::event::too_many_ids(ids.len()))
        }
        Change::Instances { op, ids, count, .. } => {
            launched_facts(change).and_then(|launched| priced_instances(&mut c, *op, ids, *count, launched, instances))
        }
        Change::InstanceType { instance_id, new_type } => instance_resize(&mut c, instance_id, new_type, instances),
        Change::Volume { before, after, .. } => volume_change(&mut c, before.as_ref(), after),
        Change::PublicIpv4 { allocated, .. } => public_ipv4(&mut c, *allocated),
        Change::NatGateway { created, .. } => nat_gateway(&mut c, *created),
        Change::LoadBalancer { kind, public_zones, .. } => load_balancer(&mut c, kind, *public_zones),
        Change::DbInstance {
            created,
            engine,
            class,
            previous_class,
            multi_az,
            storage_type,
            storage_gib,
            iops,
            ..
        } => {
            let storage = storage_type.as_deref().zip(*storage_gib).map(|(t, gb)| (t, gb, *iops));
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
        Change::AuroraInstance { engine, class, previous_class, storage_type, min_acu, .. } => {
            let classes = (class.as_deref(), previous_class.as_deref());
            aurora_instance(&mut c, engine.as_deref(), classes, storage_type.as_deref(), *min_acu)
        }
        Change::DbCluster { engine, class, storage_type, storage_gib, restored, .. } => {
            db_cluster(&mut c, engine.as_deref(), class.as_deref(), storage_type.as_deref(), *storage_gib, *restored)
        }
        Change::CacheNodes { node_type, engine, nodes, .. } => {
            cache_nodes(&mut c, node_type.as_deref(), engine.as_deref(), *nodes)
        }
        Change::DynamoDbTable { created, on_demand, capacity, previous, .. } => {
            dynamodb_table(&mut c, *created, *on_demand, *capacity, *previous)
        }
        Change::KinesisStream { created, on_demand, shards, previous_shards, .. } => {
            kinesis_stream(&mut c, *created, *on_demand, *shards, *previous_shards)
        }
        Change::Emr { instances, spot_instances, fleet_choice, .. } => {
            emr(&mut c, instances, *spot_instances, *fleet_choice)
        }
        Change::Dax { node_type, nodes, .. } => dax(&mut c, node_type.as_deref(), *nodes),
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
        Change::EfsFileSystem { .. }
        | Change::VpcEndpoint { .. }
        | Change::TransitGatewayAttachment { .. }
        | Change::HostedZone { .. }
        | Change::MetricAlarm { .. } => storage_and_network(&mut c, change),
        Change::Unknown => Err("costradar does not price this event".into()),
    };
    c.done(result)
}

/// What a launch event itself says of its instances (type, OS when the event names Windows,
/// tenancy, an auto-assigned public address when asked for); `None` for events that name
/// instances only by id.
pub(crate) fn launched_facts(change: &Change) -> Result<Option<InstanceFacts>, String> {
    let Change::Instances { instance_type: Some(t), tenancy, platform, public_ipv4, .. } = change else {
        return Ok(None);
    };
    let tenancy = match tenancy.as_deref() {
        None | Some("default") => Tenancy::Shared,
        Some("dedicated") => Tenancy::Dedicated,
        Some(other) => return Err(format!("{other} tenancy is billed per host, not per instance: not priced")),
    };
    let os = platform.as_deref().filter(|p| p.eq_ignore_ascii_case("windows")).map(|_| Os::Windows);
    Ok(Some(InstanceFacts { instance_type: t.clone(), os, tenancy, public_ipv4: *public_ipv4 }))
}

/// Instances launched, started, stopped or terminated: their hourly rate (by OS and tenancy)
/// and their public IPv4 address, added or removed. A launch's facts come from the event, with
/// the OS of its AMI when enrichment read it (`known` by instance id).
fn priced_instances(
    c: &mut Calc<'_>,
    op: InstanceOp,
    ids: &[String],
    count: u32,
    launched: Option<InstanceFacts>,
    known: &HashMap<String, InstanceFacts>,
) -> Result<(), String> {
    let sign = match op {
        InstanceOp::Launch | InstanceOp::Start => 1,
        InstanceOp::Stop | InstanceOp::Terminate => -1,
    };
    if op == InstanceOp::Stop {
        c.assume("a stopped instance still pays for its EBS volumes");
    }
    let mut groups: std::collections::BTreeMap<InstanceFacts, u32> = std::collections::BTreeMap::new();
    let mut unknown = 0;
    match launched {
        Some(mut facts) => {
            // The AMI's platform, when enrichment read it, says more than the event.
            facts.os = facts.os.or_else(|| ids.iter().find_map(|id| known.get(id)?.os));
            groups.insert(facts, count);
        }
        None => {
            for id in ids {
                match known.get(id) {
                    Some(f) => *groups.entry(f.clone()).or_default() += 1,
                    None => unknown += 1,
                }
            }
        }
    }
    if groups.is_empty() {
        return Err("the instance type is not in the event, not known from earlier events, and could not be read from the account".into());
    }
    if unknown > 0 {
        c.assume(format!("{unknown} instance(s) of unknown type not priced"));
    }
    groups.iter().try_for_each(|(facts, n)| instance_group(c, sign, d(*n), facts, op == InstanceOp::Launch))
}

/// `n` instances alike: the instance rate for their OS and tenancy, and their public IPv4
/// addresses when they have them.
fn instance_group(c: &mut Calc<'_>, sign: i64, n: Decimal, f: &InstanceFacts, launch: bool) -> Result<(), String> {
    let os = f.os.unwrap_or_else(|| {
        c.assume("the platform is not known: priced as Linux/UNIX (a licensed OS such as Windows, RHEL or SQL Server costs more)");
        Os::Linux
    });
    let dedicated = if f.tenancy == Tenancy::Dedicated { ", dedicated" } else { "" };
    let label = format!("{} ({}{dedicated})", f.instance_type, os.as_str());
    let sku = Sku::Ec2Instance { instance_type: f.instance_type.clone(), os, tenancy: f.tenancy };
    c.hourly(sign, n, &sku, &label)?;
    match f.public_ipv4 {
        Some(true) => c.hourly(sign, n, &Sku::PublicIpv4, "public IPv4 address"),
        None if launch => {
            c.assume("a public IPv4 address, if the subnet assigns one, adds $0.005/h per instance");
            Ok(())
        }
        _ => Ok(()),
    }
}

/// An instance resized: the new type's rate, less the old type's when it is known (same OS and
/// tenancy).
fn instance_resize(
    c: &mut Calc<'_>,
    instance_id: &str,
    new_type: &str,
    known: &HashMap<String, InstanceFacts>,
) -> Result<(), String> {
    let old = known.get(instance_id);
    let now = InstanceFacts {
        instance_type: new_type.into(),
        public_ipv4: Some(false),
        ..old.cloned().unwrap_or_else(|| InstanceFacts::of_type(new_type))
    };
    instance_group(c, 1, Decimal::ONE, &now, false)?;
    match old {
        Some(old) if old.instance_type != new_type => {
            instance_group(c, -1, Decimal::ONE, &InstanceFacts { public_ipv4: Some(false), ..old.clone() }, false)
        }
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
fn load_balancer(c: &mut Calc<'_>, kind: &str, public_zones: Option<u32>) -> Result<(), String> {
    c.assume(if kind == "classic" {
        "data processed is charged on top, per GB"
    } else {
        "capacity units (LCU, NLCU, GLCU) are charged on top, by traffic"
    });
    c.hourly(1, Decimal::ONE, &Sku::LoadBalancer { kind: kind.into() }, &format!("{kind} load balancer"))?;
    match public_zones {
        Some(0) => Ok(()),
        Some(n) => {
            c.assume("at least one public IPv4 address per zone; AWS adds more as the load balancer scales");
            c.hourly(1, d(n), &Sku::PublicIpv4, "public IPv4 address (one per zone)")
        }
        None => {
            c.assume("internet-facing load balancers also pay $0.005/h per public IPv4 address, one per zone at least; the event does not name the zones");
            Ok(())
        }
    }
}

/// An RDS instance created, restored, modified or started: instances (two if Multi-AZ), less the
/// previous class on a resize, plus `storage` (type and GB) when the instance is new.
fn db_instance(
    c: &mut Calc<'_>,
    created: bool,
    engine: Option<&str>,
    class: Option<&str>,
    previous_class: Option<&str>,
    multi_az: bool,
    storage: Option<(&str, u32, Option<u32>)>,
) -> Result<(), String> {
    let Some(engine) = rds_engine(engine) else {
        return Err(format!(
            "RDS engine {:?} is not in the price book (MySQL, PostgreSQL, MariaDB, Oracle and SQL Server are)",
            engine.map(|e| e.chars().take(40).collect::<String>()).unwrap_or_else(|| "unknown".into())
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
        (None, Some((t, gb, iops))) if created => {
            let sku = Sku::RdsStorage { storage_type: t.into(), deployment };
            c.monthly(1, d(gb), &sku, &format!("GB-month {t} storage ({})", deployment.as_str()))?;
            rds_iops(c, engine, deployment, (t, gb, iops))
        }
        (None, None) if created => {
            c.assume("the storage (type and size) is not in the event: the instance alone is priced (storage is billed per GB-month on top)");
            Ok(())
        }
        (None, _) => Ok(()),
    }
}

/// Provisioned IOPS of new RDS storage: all of them on io1 and io2; on gp3, those above the
/// baseline, which is 3,000 IOPS below 400 GiB (200 GiB for Oracle) and 12,000 from there
/// (SQL Server: 3,000 at any size), per the RDS User Guide's gp3 storage section.
fn rds_iops(
    c: &mut Calc<'_>,
    engine: &str,
    deployment: Deployment,
    storage: (&str, u32, Option<u32>),
) -> Result<(), String> {
    let (t, gb, iops) = storage;
    let baseline = match t {
        "io1" | "io2" => 0,
        "gp3" if engine.starts_with("sqlserver") => 3_000,
        "gp3" if gb < if engine.starts_with("oracle") { 200 } else { 400 } => 3_000,
        "gp3" => 12_000,
        _ => return Ok(()),
    };
    match iops {
        Some(n) if n > baseline => {
            let sku = Sku::RdsIops { storage_type: t.into(), deployment };
            let label =
                if baseline > 0 { format!("{t} IOPS above the {baseline} included") } else { format!("{t} IOPS") };
            c.monthly(1, d(n - baseline), &sku, &format!("{label} ({})", deployment.as_str()))
        }
        Some(_) => Ok(()),
        None if baseline == 0 => {
            c.assume(format!("the provisioned IOPS of the {t} storage are not in the event: they are billed on top"));
            Ok(())
        }
        None => Ok(()),
    }
}

/// An Aurora instance created or resized: its class's Aurora rate (Standard unless the event
/// says the cluster is I/O-Optimized), less the previous class's on a resize; a Serverless v2
/// instance (`db.serverless`) at its minimum capacity when the event has it. Storage and I/O
/// are the cluster's.
fn aurora_instance(
    c: &mut Calc<'_>,
    engine: Option<&str>,
    (class, previous_class): (Option<&str>, Option<&str>),
    storage_type: Option<&str>,
    min_acu: Option<Decimal>,
) -> Result<(), String> {
    let engine = match engine.unwrap_or_default() {
        "aurora-mysql" => "aurora-mysql",
        "aurora-postgresql" => "aurora-postgresql",
        "aurora" => {
            c.assume("engine `aurora` (Aurora MySQL 5.6-compatible) priced at Aurora MySQL rates");
            "aurora-mysql"
        }
        other => {
            let other: String = other.chars().take(40).collect();
            return Err(format!(
                "Aurora engine {other:?} is not in the price book (aurora-mysql and aurora-postgresql are)"
            ));
        }
    };
    let io_optimized = match storage_type {
        Some("aurora-iopt1") => true,
        Some("aurora") => false,
        _ => {
            c.assume("the cluster's storage configuration is not in the instance's event: priced as Aurora Standard (I/O-Optimized instances cost about 30% more, with no I/O charges)");
            false
        }
    };
    let mode = if io_optimized { "I/O-Optimized" } else { "Standard" };
    let class = class.ok_or("the DB instance class is not in the event")?;
    if class == "db.serverless" {
        return aurora_serverless(c, io_optimized, min_acu);
    }
    c.assume("cluster storage and I/O are billed on the cluster, not on its instances");
    let sku = |class: &str| Sku::AuroraInstance { engine: engine.into(), class: class.into(), io_optimized };
    c.hourly(1, Decimal::ONE, &sku(class), &format!("{class} {engine} ({mode})"))?;
    match previous_class {
        Some("db.serverless") => {
            c.assume("the previous Serverless v2 capacity is unknown: the full cost of the new class is shown");
            Ok(())
        }
        Some(prev) if prev != class => c.hourly(-1, Decimal::ONE, &sku(prev), &format!("{prev} {engine} ({mode})")),
        _ => Ok(()),
    }
}

/// An Aurora Serverless v2 instance: billed per ACU-hour, priced at its minimum capacity when
/// the event has it, else unpriced (the capacity is the cluster's setting, not the instance's).
fn aurora_serverless(c: &mut Calc<'_>, io_optimized: bool, min_acu: Option<Decimal>) -> Result<(), String> {
    let sku = Sku::AuroraServerless { io_optimized };
    let mode = if io_optimized { "I/O-Optimized" } else { "Standard" };
    let Some(acu) = min_acu else {
        let rate =
            c.book.rate(c.region, &sku).map(|r| format!(" (${}/ACU-hour here, {mode})", r.usd)).unwrap_or_default();
        return Err(format!(
            "an Aurora Serverless v2 instance is billed per ACU-hour{rate}, and the event does not say its capacity: the minimum and maximum ACUs are the cluster's (CreateDBCluster or ModifyDBCluster)"
        ));
    };
    c.assume(format!("Serverless v2 priced at its minimum capacity, {acu} ACU: it scales up with load"));
    c.hourly(1, acu, &sku, &format!("ACU Aurora Serverless v2 ({mode})"))
}

/// A DB cluster created or restored. A Multi-AZ DB cluster (it has an instance class): its three
/// instances plus its storage when the event gives the size. An Aurora cluster (no class) is not
/// priced: its compute is its instances', and its storage fills over time (a restored one holds
/// the snapshot's data, whose size is not in the event); the reason gives the storage rate.
fn db_cluster(
    c: &mut Calc<'_>,
    engine: Option<&str>,
    class: Option<&str>,
    storage_type: Option<&str>,
    storage_gib: Option<u32>,
    restored: bool,
) -> Result<(), String> {
    let Some(class) = class else {
        return Err(aurora_cluster_reason(c, storage_type, restored));
    };
    let Some(engine) = rds_engine(engine) else {
        return Err("this Multi-AZ DB cluster engine is not in the price book".into());
    };
    c.assume("AWS's Multi-AZ DB cluster rate covers the writer and its two readable standbys");
    let deployment = Deployment::MultiAzCluster;
    let sku = Sku::RdsInstance { engine: engine.into(), class: class.into(), deployment };
    c.hourly(1, Decimal::ONE, &sku, &format!("{class} {engine} Multi-AZ DB cluster"))?;
    match storage_type.zip(storage_gib) {
        Some((t, gb)) => {
            c.assume("cluster storage priced at the Multi-AZ storage rate (the book has no cluster storage rate)");
            let sku = Sku::RdsStorage { storage_type: t.into(), deployment: Deployment::MultiAz };
            c.monthly(1, d(gb), &sku, &format!("GB-month {t} storage"))
        }
        None => {
            let what = if restored { "the restored storage size" } else { "the storage size" };
            c.assume(format!("{what} is not in the event: the instances alone are priced"));
            Ok(())
        }
    }
}

/// Why an Aurora cluster is not priced when it is created or restored, with its storage rate.
fn aurora_cluster_reason(c: &Calc<'_>, storage_type: Option<&str>, restored: bool) -> String {
    let io_optimized = storage_type == Some("aurora-iopt1");
    let (mode, io) = if io_optimized { ("I/O-Optimized", "") } else { ("Standard", " plus I/O per million requests") };
    let rate = c.book.rate(c.region, &Sku::AuroraStorage { io_optimized });
    let rate = rate.map(|r| format!(" at ${}/GB-month ({mode}){io}", r.usd)).unwrap_or_default();
    let storage = if restored {
        format!("its restored data is billed as cluster storage{rate} from now on, but the snapshot's size is not in the event")
    } else {
        format!("its storage is billed as it fills{rate}")
    };
    format!("an Aurora cluster's compute costs nothing until its instances are created (their CreateDBInstance events are priced); {storage}")
}

/// ElastiCache nodes created, at the rate of the engine the event names (Redis OSS when it
/// names none, the API's default).
fn cache_nodes(c: &mut Calc<'_>, node_type: Option<&str>, engine: Option<&str>, nodes: u32) -> Result<(), String> {
    let t = node_type.ok_or("the cache node type is not in the event")?;
    let engine = match engine.map(str::to_ascii_lowercase) {
        Some(e) if matches!(e.as_str(), "redis" | "valkey" | "memcached") => e,
        Some(e) => {
            let e: String = e.chars().take(40).collect();
            return Err(format!(
                "ElastiCache engine {e:?} is not in the price book (Redis OSS, Valkey and Memcached are)"
            ));
        }
        None => {
            c.assume("the event does not name the engine: priced as Redis OSS, the default");
            "redis".into()
        }
    };
    c.hourly(1, d(nodes), &Sku::CacheNode { node_type: t.into(), engine: engine.clone() }, &format!("{t} {engine}"))
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

/// A signed change in a count: `(sign, magnitude)` of `new - old`.
fn delta(new: u64, old: u64) -> (i64, Decimal) {
    if new >= old {
        (1, Decimal::from(new - old))
    } else {
        (-1, Decimal::from(old - new))
    }
}

/// A DynamoDB table's provisioned capacity set: RCU and WCU per hour, the change when the
/// previous capacity is known, else the full new capacity. On-demand tables are billed per
/// request and not priced.
fn dynamodb_table(
    c: &mut Calc<'_>,
    created: bool,
    on_demand: bool,
    capacity: Option<TableCapacity>,
    previous: Option<TableCapacity>,
) -> Result<(), String> {
    if on_demand {
        return Err(
            "an on-demand table (PAY_PER_REQUEST) is billed per request: nothing to price when it is set up".into()
        );
    }
    let Some(new) = capacity else {
        return Err(if created {
            "the table's provisioned throughput is not in the event".into()
        } else {
            "this UpdateTable changes no provisioned capacity".into()
        });
    };
    let old = match previous {
        Some(old) => {
            c.assume(format!("replaces {} RCU and {} WCU (from the response): the change is priced", old.rcu, old.wcu));
            old
        }
        None if !created => {
            c.assume("the previous capacity is not in the event: the full cost of the new capacity is shown");
            TableCapacity::default()
        }
        None => TableCapacity::default(),
    };
    c.assume("storage, and reads and writes beyond the provisioned capacity, are billed on top");
    let (sign, rcu) = delta(new.rcu, old.rcu);
    c.hourly(sign, rcu, &Sku::DynamoDbCapacity { unit: "rcu".into() }, "RCU (provisioned reads)")?;
    let (sign, wcu) = delta(new.wcu, old.wcu);
    c.hourly(sign, wcu, &Sku::DynamoDbCapacity { unit: "wcu".into() }, "WCU (provisioned writes)")
}

/// A Kinesis data stream's shards: the change when the previous count is known, else the full
/// count. On-demand streams are billed by traffic and not priced.
fn kinesis_stream(
    c: &mut Calc<'_>,
    created: bool,
    on_demand: bool,
    shards: Option<u32>,
    previous: Option<u32>,
) -> Result<(), String> {
    if on_demand {
        return Err("an on-demand stream is billed per stream-hour and per GB written and read, not per shard: its traffic is not in the event".into());
    }
    let n = shards.ok_or("the shard count is not in the event")?;
    c.assume("PUT payload units and extended retention are billed on top, by traffic");
    let old = match previous {
        Some(p) => p,
        None if !created => {
            c.assume("the previous shard count is not in the event: the full cost of the new count is shown");
            0
        }
        None => 0,
    };
    let (sign, q) = delta(u64::from(n), u64::from(old));
    c.hourly(sign, q, &Sku::KinesisShard, "shard")
}

/// An EMR cluster's On-Demand instances: each at its EC2 rate (Linux, shared) plus EMR's
/// charge for the type. Spot instances are not priced.
fn emr(c: &mut Calc<'_>, instances: &[EmrInstances], spot: u32, fleet_choice: bool) -> Result<(), String> {
    if spot > 0 {
        c.assume(format!("{spot} Spot instance(s) not priced: Spot prices vary (EMR's charge applies to them too)"));
    }
    if fleet_choice {
        c.assume("an instance fleet may launch any of its listed types: priced as the first one listed");
    }
    if instances.is_empty() {
        return Err(if spot > 0 {
            "every instance of the cluster is Spot: Spot prices vary and are not in the price book".into()
        } else {
            "the cluster's instance types are not in the event".into()
        });
    }
    c.assume("the instances' EBS volumes are billed on top");
    instances.iter().try_for_each(|i| {
        let (t, n) = (i.instance_type.as_str(), d(i.count));
        c.hourly(1, n, &Sku::ec2(t), &format!("{t} EC2 (linux)"))?;
        c.hourly(1, n, &Sku::Emr { instance_type: t.into() }, &format!("{t} EMR charge"))
    })
}

/// A DAX cluster created: its nodes.
fn dax(c: &mut Calc<'_>, node_type: Option<&str>, nodes: u32) -> Result<(), String> {
    let t = node_type.ok_or("the DAX node type is not in the event")?;
    c.hourly(1, d(nodes), &Sku::Dax { node_type: t.into() }, t)
}

/// EFS file systems, VPC endpoints, transit gateway attachments, Route 53 hosted zones and
/// CloudWatch alarms. Monthly keys (`…:month`, `…:mibps-month`) are per month already; hourly
/// ones (`…:hour`, `…:az-hour`) × 730.
fn storage_and_network(c: &mut Calc<'_>, change: &Change) -> Result<(), String> {
    match change {
        Change::EfsFileSystem { created, throughput_mode, provisioned_mibps, one_zone, .. } => {
            efs_file_system(c, *created, throughput_mode.as_deref(), *provisioned_mibps, *one_zone)
        }
        Change::VpcEndpoint { endpoint_type, zones, .. } => vpc_endpoint(c, endpoint_type, *zones),
        Change::TransitGatewayAttachment { .. } => {
            c.assume("data the transit gateway processes is charged on top, per GB");
            c.hourly(1, Decimal::ONE, &Sku::TransitGatewayAttachment, "transit gateway VPC attachment")
        }
        Change::HostedZone { .. } => {
            c.assume("priced at the rate of an account's first 25 hosted zones (more zones cost less each); a zone deleted within 12 hours of its creation is not charged");
            c.assume("DNS queries are charged on top, per million");
            c.monthly(1, Decimal::ONE, &Sku::Route53HostedZone, "Route 53 hosted zone")
        }
        Change::MetricAlarm { metrics, high_resolution, insights_query, .. } => {
            metric_alarm(c, *metrics, *high_resolution, *insights_query)
        }
        _ => Err("costradar does not price this event".into()),
    }
}

/// An EFS file system's provisioned throughput, MiB/s × $/MiB/s-month. In Bursting or Elastic
/// mode a file system is billed by usage: nothing to price when it is set up.
fn efs_file_system(
    c: &mut Calc<'_>,
    created: bool,
    mode: Option<&str>,
    mibps: Option<Decimal>,
    one_zone: bool,
) -> Result<(), String> {
    match (mode, mibps) {
        (Some("provisioned") | None, Some(n)) => {
            let stored = if created {
                "a new file system stores nothing, so all of it is billed"
            } else {
                c.assume("the previous throughput is not in the event: the full cost of the new throughput is shown");
                "what its stored data gives is not deducted, so all of it is shown"
            };
            c.assume(format!("provisioned throughput is billed above what the stored data gives in Bursting mode (50 KiB/s per GiB of Standard storage): {stored}"));
            c.assume("storage is charged on top, per GB-month");
            c.monthly(1, n, &Sku::EfsProvisionedThroughput, "MiB/s EFS provisioned throughput")
        }
        (Some("provisioned"), None) => Err("the provisioned throughput is not in the event".into()),
        (None, None) if !created => Err("this UpdateFileSystem changes no provisioned throughput".into()),
        (Some(m), _) if !created => {
            let m: String = m.chars().take(40).collect();
            Err(format!("the file system now uses {m} throughput, billed by usage: the saving is its previous provisioned throughput, if it had any, which is not in the event"))
        }
        _ => Err(efs_usage_reason(c, mode, one_zone)),
    }
}

/// Why a file system in Bursting or Elastic mode is not priced when it is created, with its
/// storage rate.
fn efs_usage_reason(c: &Calc<'_>, mode: Option<&str>, one_zone: bool) -> String {
    let (class, label) = if one_zone { ("one-zone", "One Zone") } else { ("standard", "Standard") };
    let rate = c.book.rate(c.region, &Sku::EfsStorage { class: class.into() });
    let rate = rate.map(|r| format!(" at ${}/GB-month ({label})", r.usd)).unwrap_or_default();
    let io = if mode == Some("elastic") {
        "and, in Elastic mode, per GB read and written"
    } else {
        "with Bursting throughput included"
    };
    format!("an EFS file system costs nothing until data is written: it is priced by usage, storage per GB-month{rate} {io}")
}

/// A VPC endpoint: an interface endpoint per Availability Zone-hour; a gateway endpoint is free.
fn vpc_endpoint(c: &mut Calc<'_>, endpoint_type: &str, zones: u32) -> Result<(), String> {
    match endpoint_type.to_ascii_lowercase().as_str() {
        "interface" if zones == 0 => {
            Err("the interface endpoint's subnets (one per Availability Zone) are not in the event".into())
        }
        "interface" => {
            c.assume("data the endpoint processes is charged on top, per GB");
            c.hourly(1, d(zones), &Sku::VpcInterfaceEndpoint, "interface endpoint Availability Zone")
        }
        "gateway" => {
            c.est.breakdown.push("gateway endpoint (S3 or DynamoDB): AWS charges nothing for it = $0.00".into());
            Ok(())
        }
        _ => {
            let t: String = endpoint_type.chars().take(40).collect();
            Err(format!(
                "a {t:?} VPC endpoint is not in the price book (interface endpoints are; gateway endpoints are free)"
            ))
        }
    }
}

/// A CloudWatch metric alarm: its alarm metrics × the monthly rate of its resolution.
fn metric_alarm(c: &mut Calc<'_>, metrics: u32, high_resolution: bool, insights: bool) -> Result<(), String> {
    if metrics == 0 {
        return Err("the alarm retrieves no metric that the event names".into());
    }
    c.assume("PutMetricAlarm also replaces an existing alarm of the same name: then nothing new is billed");
    if insights {
        c.assume("a Metrics Insights alarm is billed per metric its query reads, which the event does not say: priced as one");
    }
    let res = if high_resolution { "high-resolution" } else { "standard" };
    c.monthly(1, d(metrics), &Sku::CloudWatchAlarm { high_resolution }, &format!("{res} alarm metric"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_facts_survive_the_receivers_memory() {
        let full = InstanceFacts {
            instance_type: "m5.large".into(),
            os: Some(Os::WindowsSqlStd),
            tenancy: Tenancy::Dedicated,
            public_ipv4: Some(true),
        };
        assert_eq!(full.remembered(), "m5.large|windows-sql-std|dedicated|ipv4");
        assert_eq!(InstanceFacts::from_remembered(&full.remembered()), full);
        // Memory written before platforms were known: a bare type, OS not known.
        assert_eq!(InstanceFacts::from_remembered("m5.large"), InstanceFacts::of_type("m5.large"));
        let junk = InstanceFacts::from_remembered("m5.large|plan9|moon|maybe");
        assert_eq!((junk.os, junk.tenancy, junk.public_ipv4), (None, Tenancy::Shared, None));
    }
}
