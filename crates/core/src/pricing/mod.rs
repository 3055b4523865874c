//! The price catalogue. Sources, best first:
//! 1. the tenant's effective rates learned from its CUR (`TenantRates`, filled by CUR analysis);
//! 2. AWS Price List API prices, stored by the daily refresh (`price_list`, `RateScope::PriceList`);
//! 3. the bundled snapshot (`crates/core/data/pricing-snapshot.json`), for offline and local runs.
//!
//! Every rate carries its source and date, and so does everything priced from it.

pub mod model;
pub mod price_list;
pub mod snapshot;

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Hours in a month, as AWS's own calculators use it.
pub const HOURS_PER_MONTH: Decimal = Decimal::from_parts(730, 0, 0, false, 0);

/// A priced unit of some AWS resource in one region.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "sku", rename_all = "snake_case")]
pub enum Sku {
    /// Linux, shared tenancy, on-demand: $/hour.
    Ec2Instance {
        instance_type: String,
    },
    /// $/GB-month.
    EbsStorage {
        volume_type: String,
    },
    /// $/provisioned IOPS-month (gp3: above the free 3000; io1: all; io2: the first 32,000).
    EbsIops {
        volume_type: String,
    },
    /// io2 IOPS tiers: tier 1 is 32,001 to 64,000, tier 2 above 64,000.
    EbsIopsTier {
        volume_type: String,
        tier: u8,
    },
    /// $/GB-month of EBS snapshot storage (standard tier).
    EbsSnapshot,
    /// gp3 $/MiB/s-month above the free 125.
    EbsThroughput,
    /// $/hour, any public IPv4 address (Elastic IPs included since February 2024).
    PublicIpv4,
    /// $/hour, plus data processed (not priced in real time).
    NatGateway,
    /// $/GB of data a NAT gateway processes.
    NatGatewayData,
    /// CloudWatch Logs archived storage, $/GB-month.
    LogsStorage,
    /// $/hour for `application`, `network` or `gateway` (capacity units not priced).
    LoadBalancer {
        kind: String,
    },
    /// Single-AZ $/hour for `mysql` or `postgres`.
    RdsInstance {
        engine: String,
        class: String,
    },
    /// $/GB-month.
    RdsStorage {
        storage_type: String,
    },
    CacheNode {
        node_type: String,
    },
    EksCluster,
    /// $/GB-second for `x86_64` or `arm64`.
    LambdaProvisioned {
        arch: String,
    },
    SageMaker {
        instance_type: String,
    },
    Redshift {
        node_type: String,
    },
    OpenSearch {
        instance_type: String,
    },
    Msk {
        broker_type: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceSource {
    TenantRates,
    PriceListApi,
    Snapshot,
}

impl PriceSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TenantRates => "tenant_rates",
            Self::PriceListApi => "price_list_api",
            Self::Snapshot => "snapshot",
        }
    }
}

/// A unit price with its provenance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    pub usd: Decimal,
    pub source: PriceSource,
    /// The date the price was true (snapshot date, cache refresh, CUR period end).
    pub as_of: String,
}

/// No AWS unit price is near this (the largest instances cost a few hundred dollars an hour). A
/// rate above it, or below zero, comes from a crafted or broken source (a tenant's CUR) and is
/// never used: it could only mislead, or overflow the arithmetic.
pub const MAX_PLAUSIBLE_USD: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);

impl Rate {
    pub fn is_plausible(&self) -> bool {
        self.usd >= Decimal::ZERO && self.usd <= MAX_PLAUSIBLE_USD
    }
}

/// A set of rates keyed by region and SKU: what each source provides. It serialises as a flat
/// list of `{region, sku..., usd, source, as_of}` entries (JSON maps need string keys), which is
/// how the stored sources (tenant rates, the Price List cache) keep it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(into = "Vec<RateEntry>", from = "Vec<RateEntry>")]
pub struct RateTable {
    regions: HashMap<String, HashMap<Sku, Rate>>,
}

/// One serialised rate of a [`RateTable`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateEntry {
    pub region: String,
    #[serde(flatten)]
    pub sku: Sku,
    #[serde(flatten)]
    pub rate: Rate,
}

impl From<RateTable> for Vec<RateEntry> {
    fn from(t: RateTable) -> Self {
        let mut entries: Vec<RateEntry> = t
            .regions
            .into_iter()
            .flat_map(|(region, rates)| {
                rates.into_iter().map(move |(sku, rate)| RateEntry { region: region.clone(), sku, rate })
            })
            .collect();
        // A stable order, so a stored table diffs cleanly.
        entries.sort_by(|a, b| (&a.region, format!("{:?}", a.sku)).cmp(&(&b.region, format!("{:?}", b.sku))));
        entries
    }
}

impl From<Vec<RateEntry>> for RateTable {
    fn from(entries: Vec<RateEntry>) -> Self {
        let mut t = RateTable::default();
        for e in entries {
            t.insert(&e.region, e.sku, e.rate);
        }
        t
    }
}

impl RateTable {
    pub fn insert(&mut self, region: &str, sku: Sku, rate: Rate) {
        self.regions.entry(region.to_owned()).or_default().insert(sku, rate);
    }

    pub fn get(&self, region: &str, sku: &Sku) -> Option<&Rate> {
        self.regions.get(region)?.get(sku)
    }

    pub fn len(&self) -> usize {
        self.regions.values().map(HashMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn regions(&self) -> impl Iterator<Item = &str> {
        self.regions.keys().map(String::as_str)
    }

    /// Adds every rate of `other`, replacing rates this table already has.
    pub fn extend(&mut self, other: RateTable) {
        for (region, rates) in other.regions {
            self.regions.entry(region).or_default().extend(rates);
        }
    }

    /// One table per region: how the stores keep it.
    pub fn split_by_region(&self) -> Vec<(String, RateTable)> {
        self.regions
            .iter()
            .map(|(region, rates)| {
                (region.clone(), RateTable { regions: HashMap::from([(region.clone(), rates.clone())]) })
            })
            .collect()
    }
}

/// Looks rates up across the three sources, best first.
pub struct PriceBook<'a> {
    pub tenant: Option<&'a RateTable>,
    pub price_list: Option<&'a RateTable>,
    pub snapshot: &'a RateTable,
}

impl PriceBook<'_> {
    /// The best source's rate; an implausible rate (see [`MAX_PLAUSIBLE_USD`]) is passed over
    /// for the next source.
    pub fn rate(&self, region: &str, sku: &Sku) -> Option<&Rate> {
        let plausible = |r: &&Rate| r.is_plausible();
        self.tenant
            .and_then(|t| t.get(region, sku))
            .filter(plausible)
            .or_else(|| self.price_list.and_then(|p| p.get(region, sku)).filter(plausible))
            .or_else(|| self.snapshot.get(region, sku).filter(plausible))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_table_survives_json() {
        let mut t = RateTable::default();
        let rate = |usd: &str| Rate {
            usd: usd.parse().unwrap(),
            source: PriceSource::PriceListApi,
            as_of: "2026-11-01".into(),
        };
        t.insert("eu-west-1", Sku::Ec2Instance { instance_type: "m7g.large".into() }, rate("0.0892"));
        t.insert("us-east-1", Sku::EbsStorage { volume_type: "gp3".into() }, rate("0.08"));
        t.insert("us-east-1", Sku::PublicIpv4, rate("0.005"));
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(json.as_array().unwrap().len(), 3);
        assert_eq!(json[0]["region"], "eu-west-1");
        assert_eq!(json[0]["instance_type"], "m7g.large");
        let back: RateTable = serde_json::from_value(json).unwrap();
        assert_eq!(back, t);
    }
}
