//! The bundled price snapshot: `crates/core/data/pricing-snapshot.json`, with its sources and dates
//! documented beside it in `PRICING-SOURCES.md`. Parsed once, into a [`RateTable`].

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::Deserialize;

use super::{PriceSource, Rate, RateTable, Sku};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    schema: u32,
    currency: String,
    retrieved: String,
    #[allow(dead_code)]
    sources: Vec<serde_json::Value>,
    regions: HashMap<String, Region>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Region {
    ec2: HashMap<String, Decimal>,
    ebs: HashMap<String, serde_json::Value>,
    public_ipv4_hour: Option<Decimal>,
    nat_gateway: Option<Nat>,
    elb: HashMap<String, Decimal>,
    rds: HashMap<String, serde_json::Value>,
    elasticache: HashMap<String, Decimal>,
    eks_cluster_hour: Option<Decimal>,
    lambda_provisioned_gb_second: HashMap<String, Decimal>,
    sagemaker: HashMap<String, Decimal>,
    redshift: HashMap<String, Decimal>,
    opensearch: HashMap<String, Decimal>,
    msk: HashMap<String, Decimal>,
    cloudwatch_logs_stored_gb_month: Option<Decimal>,
}

#[derive(Deserialize)]
struct Nat {
    hour: Decimal,
    gb_processed: Option<Decimal>,
}

#[derive(Debug, thiserror::Error)]
#[error("pricing snapshot: {0}")]
pub struct SnapshotError(String);

fn dec(v: &serde_json::Value, what: &str) -> Result<Decimal, SnapshotError> {
    let s = match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return Err(SnapshotError(format!("{what}: not a price"))),
    };
    let d: Decimal = s.parse().map_err(|_| SnapshotError(format!("{what}: {s:?} is not a decimal")))?;
    if d.is_sign_negative() {
        return Err(SnapshotError(format!("{what}: negative price")));
    }
    Ok(d)
}

/// The snapshot shipped in the binary.
pub const BUNDLED: &str = include_str!("../../data/pricing-snapshot.json");

/// Parses the bundled snapshot (a test checks that it parses).
pub fn bundled() -> Result<RateTable, SnapshotError> {
    parse(BUNDLED)
}

/// Parses a snapshot in the documented format.
pub fn parse(json: &str) -> Result<RateTable, SnapshotError> {
    let f: File = serde_json::from_str(json).map_err(|e| SnapshotError(e.to_string()))?;
    if f.schema != 1 || f.currency != "USD" {
        return Err(SnapshotError("expected schema 1 in USD".into()));
    }
    let as_of = f.retrieved.clone();
    let mut t = RateTable::default();
    for (region, r) in &f.regions {
        let mut put = |sku: Sku, usd: Decimal| {
            t.insert(region, sku, Rate { usd, source: PriceSource::Snapshot, as_of: as_of.clone() });
        };
        region_rates(region, r, &mut put)?;
    }
    check_prices(&t)?;
    Ok(t)
}

/// Passes every rate of one region's section to `put`, in the order of the file format.
fn region_rates(region: &str, r: &Region, put: &mut impl FnMut(Sku, Decimal)) -> Result<(), SnapshotError> {
    for (k, v) in &r.ec2 {
        put(Sku::Ec2Instance { instance_type: k.clone() }, *v);
    }
    ebs_rates(region, &r.ebs, put)?;
    if let Some(p) = r.public_ipv4_hour {
        put(Sku::PublicIpv4, p);
    }
    if let Some(n) = &r.nat_gateway {
        put(Sku::NatGateway, n.hour);
        if let Some(p) = n.gb_processed {
            put(Sku::NatGatewayData, p);
        }
    }
    if let Some(p) = r.cloudwatch_logs_stored_gb_month {
        put(Sku::LogsStorage, p);
    }
    for (k, v) in &r.elb {
        let kind = k.trim_end_matches("_hour").to_owned();
        put(Sku::LoadBalancer { kind }, *v);
    }
    rds_rates(region, &r.rds, put)?;
    service_rates(r, put);
    Ok(())
}

/// The `ebs` section: the snapshot rate, then each volume type's rates.
fn ebs_rates(
    region: &str,
    ebs: &HashMap<String, serde_json::Value>,
    put: &mut impl FnMut(Sku, Decimal),
) -> Result<(), SnapshotError> {
    for (volume_type, v) in ebs {
        if volume_type == "snapshot_gb_month" {
            put(Sku::EbsSnapshot, dec(v, "ebs.snapshot_gb_month")?);
            continue;
        }
        ebs_volume_rates(&format!("{region}.ebs.{volume_type}"), volume_type, v, put)?;
    }
    Ok(())
}

/// One EBS volume type: storage, IOPS, throughput and IOPS tiers; `what` names it in errors.
fn ebs_volume_rates(
    what: &str,
    volume_type: &str,
    v: &serde_json::Value,
    put: &mut impl FnMut(Sku, Decimal),
) -> Result<(), SnapshotError> {
    if let Some(p) = v.get("gb_month") {
        put(Sku::EbsStorage { volume_type: volume_type.to_owned() }, dec(p, what)?);
    }
    if let Some(p) = v.get("iops_month") {
        put(Sku::EbsIops { volume_type: volume_type.to_owned() }, dec(p, what)?);
    }
    if let Some(p) = v.get("throughput_mibps_month") {
        put(Sku::EbsThroughput, dec(p, what)?);
    }
    if let Some(tiers) = v.get("iops_month_tiers").and_then(|x| x.as_array()) {
        for (i, tier) in tiers.iter().enumerate() {
            let price = tier.get(1).ok_or_else(|| SnapshotError(format!("{what}: tier without a price")))?;
            let sku = if i == 0 {
                Sku::EbsIops { volume_type: volume_type.to_owned() }
            } else {
                Sku::EbsIopsTier { volume_type: volume_type.to_owned(), tier: i as u8 }
            };
            put(sku, dec(price, what)?);
        }
    }
    Ok(())
}

/// The `rds` section: storage rates by type and instance rates by engine and class.
fn rds_rates(
    region: &str,
    rds: &HashMap<String, serde_json::Value>,
    put: &mut impl FnMut(Sku, Decimal),
) -> Result<(), SnapshotError> {
    for (engine, v) in rds {
        let what = format!("{region}.rds.{engine}");
        match engine.as_str() {
            "storage_gb_month" => {
                for (storage_type, p) in v.as_object().into_iter().flatten() {
                    put(Sku::RdsStorage { storage_type: storage_type.clone() }, dec(p, &what)?);
                }
            }
            "io1_iops_month" => {}
            _ => {
                for (class, p) in v.as_object().into_iter().flatten() {
                    put(Sku::RdsInstance { engine: engine.clone(), class: class.clone() }, dec(p, &what)?);
                }
            }
        }
    }
    Ok(())
}

/// The sections priced per instance, node or cluster: ElastiCache, EKS, Lambda, SageMaker,
/// Redshift, OpenSearch and MSK.
fn service_rates(r: &Region, put: &mut impl FnMut(Sku, Decimal)) {
    for (k, v) in &r.elasticache {
        put(Sku::CacheNode { node_type: k.clone() }, *v);
    }
    if let Some(p) = r.eks_cluster_hour {
        put(Sku::EksCluster, p);
    }
    for (arch, v) in &r.lambda_provisioned_gb_second {
        put(Sku::LambdaProvisioned { arch: arch.clone() }, *v);
    }
    for (k, v) in &r.sagemaker {
        put(Sku::SageMaker { instance_type: k.clone() }, *v);
    }
    for (k, v) in &r.redshift {
        put(Sku::Redshift { node_type: k.clone() }, *v);
    }
    for (k, v) in &r.opensearch {
        put(Sku::OpenSearch { instance_type: k.clone() }, *v);
    }
    for (k, v) in &r.msk {
        put(Sku::Msk { broker_type: k.clone() }, *v);
    }
}

/// Refuses a table with no prices, or with a price that is zero or negative.
fn check_prices(t: &RateTable) -> Result<(), SnapshotError> {
    if t.is_empty() {
        return Err(SnapshotError("no prices".into()));
    }
    for (region, rates) in &t.regions {
        if let Some((sku, _)) = rates.iter().find(|(_, r)| r.usd.is_sign_negative() || r.usd.is_zero()) {
            return Err(SnapshotError(format!("{region}: {sku:?} has a price that is not positive")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"{
      "schema": 1, "currency": "USD", "retrieved": "2026-11-01", "sources": [],
      "regions": {"us-east-1": {
        "ec2": {"m5.large": "0.096"},
        "ebs": {"gp3": {"gb_month": "0.08", "iops_month": "0.005", "free_iops": 3000, "throughput_mibps_month": "0.04", "free_throughput_mibps": 125},
                "io2": {"gb_month": "0.125", "iops_month_tiers": [[32000, "0.065"], [64000, "0.0455"], [null, "0.03185"]]},
                "snapshot_gb_month": "0.05"},
        "public_ipv4_hour": "0.005",
        "rds": {"postgres": {"db.m5.large": "0.178"}, "storage_gb_month": {"gp3": "0.115"}},
        "elb": {"application_hour": "0.0225"}
      }}
    }"#;

    #[test]
    fn parses_the_documented_format() {
        let t = parse(SMALL).unwrap();
        let r = |sku: Sku| t.get("us-east-1", &sku).unwrap().usd.to_string();
        assert_eq!(r(Sku::Ec2Instance { instance_type: "m5.large".into() }), "0.096");
        assert_eq!(r(Sku::EbsIops { volume_type: "io2".into() }), "0.065");
        assert_eq!(r(Sku::EbsIopsTier { volume_type: "io2".into(), tier: 2 }), "0.03185");
        assert_eq!(r(Sku::EbsThroughput), "0.04");
        assert_eq!(r(Sku::LoadBalancer { kind: "application".into() }), "0.0225");
        assert_eq!(r(Sku::RdsInstance { engine: "postgres".into(), class: "db.m5.large".into() }), "0.178");
        assert_eq!(t.get("us-east-1", &Sku::PublicIpv4).unwrap().as_of, "2026-11-01");
        assert!(t.get("eu-west-1", &Sku::PublicIpv4).is_none());
    }

    #[test]
    fn refuses_bad_files() {
        assert!(parse("{}").is_err());
        assert!(parse(&SMALL.replace("\"0.096\"", "\"cheap\"")).is_err());
        assert!(parse(&SMALL.replace("\"0.005\"", "\"-0.005\"")).is_err());
        assert!(parse(&SMALL.replace("\"0.096\"", "\"-0.096\"")).is_err());
        assert!(parse(&SMALL.replace("\"0.096\"", "\"0\"")).is_err());
        assert!(parse(&SMALL.replace("\"schema\": 1", "\"schema\": 2")).is_err());
    }
}
