//! The price catalogue. Sources, best first:
//! 1. the tenant's effective rates learned from its CUR (`TenantRates`, filled by CUR analysis);
//! 2. AWS Price List API prices, stored by the daily refresh (`price_list`, `RateScope::PriceList`);
//! 3. the bundled price book (`crates/core/data/pricebook.json.gz`, [`book`]): every commercial
//!    region, generated from public AWS price data by `tools/pricebook/`.
//!
//! A [`PriceBook`] looks a [`Sku`] up in that order; the receiver, the scan and the CUR analysis
//! all price through one. Every rate carries its source and its own date, and so does everything
//! priced from it.

pub mod book;
pub mod model;
pub mod price_list;
pub mod sku;

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use book::{bundled, Bundled};
pub use sku::{Deployment, Os, SageMakerUsage, Sku, Tenancy};

/// Hours in a month, as AWS's own calculators use it.
pub const HOURS_PER_MONTH: Decimal = Decimal::from_parts(730, 0, 0, false, 0);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceSource {
    TenantRates,
    PriceListApi,
    /// The bundled price book (stored rates of older releases say `snapshot`).
    #[serde(alias = "snapshot")]
    Bundled,
}

impl PriceSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TenantRates => "tenant_rates",
            Self::PriceListApi => "price_list_api",
            Self::Bundled => "bundled",
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

/// A set of rates keyed by region and price-book key ([`Sku::key`]): what each source provides.
/// It serialises as a flat list of `{region, key, usd, source, as_of}` entries (JSON maps need
/// string keys), which is how the stored sources (tenant rates, the Price List cache) keep it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(into = "Vec<RateEntry>", from = "Vec<RateEntry>")]
pub struct RateTable {
    regions: HashMap<String, HashMap<String, Rate>>,
}

/// One serialised rate of a [`RateTable`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "StoredEntry")]
pub struct RateEntry {
    pub region: String,
    pub key: String,
    #[serde(flatten)]
    pub rate: Rate,
}

/// A stored entry as written now (`key`) or by releases before the price book (a tagged `sku`).
#[derive(Deserialize)]
#[serde(untagged)]
enum StoredEntry {
    Keyed {
        region: String,
        key: String,
        #[serde(flatten)]
        rate: Rate,
    },
    Tagged {
        region: String,
        #[serde(flatten)]
        sku: Sku,
        #[serde(flatten)]
        rate: Rate,
    },
}

impl From<StoredEntry> for RateEntry {
    fn from(e: StoredEntry) -> Self {
        match e {
            StoredEntry::Keyed { region, key, rate } => Self { region, key, rate },
            StoredEntry::Tagged { region, sku, rate } => Self { region, key: sku.key(), rate },
        }
    }
}

impl From<RateTable> for Vec<RateEntry> {
    fn from(t: RateTable) -> Self {
        let mut entries: Vec<RateEntry> = t
            .regions
            .into_iter()
            .flat_map(|(region, rates)| {
                rates.into_iter().map(move |(key, rate)| RateEntry { region: region.clone(), key, rate })
            })
            .collect();
        // A stable order, so a stored table diffs cleanly.
        entries.sort_by(|a, b| (&a.region, &a.key).cmp(&(&b.region, &b.key)));
        entries
    }
}

impl From<Vec<RateEntry>> for RateTable {
    fn from(entries: Vec<RateEntry>) -> Self {
        let mut t = RateTable::default();
        for e in entries {
            t.insert_key(&e.region, e.key, e.rate);
        }
        t
    }
}

impl RateTable {
    pub fn insert(&mut self, region: &str, sku: Sku, rate: Rate) {
        self.insert_key(region, sku.key(), rate);
    }

    pub fn insert_key(&mut self, region: &str, key: String, rate: Rate) {
        self.regions.entry(region.to_owned()).or_default().insert(key, rate);
    }

    pub fn get(&self, region: &str, sku: &Sku) -> Option<&Rate> {
        self.get_key(region, &sku.key())
    }

    pub fn get_key(&self, region: &str, key: &str) -> Option<&Rate> {
        self.regions.get(region)?.get(key)
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

    /// Every `(key, rate)` of one region.
    pub fn region_rates(&self, region: &str) -> impl Iterator<Item = (&str, &Rate)> {
        self.regions.get(region).into_iter().flatten().map(|(k, r)| (k.as_str(), r))
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

/// Looks rates up across the three sources, best first: the one price provider of the receiver,
/// the scan and the CUR analysis.
#[derive(Clone, Copy)]
pub struct PriceBook<'a> {
    pub tenant: Option<&'a RateTable>,
    pub price_list: Option<&'a RateTable>,
    pub bundled: &'a Bundled,
}

impl<'a> PriceBook<'a> {
    /// The bundled book alone (local runs, and where no stored source is at hand).
    pub fn bundled_only(bundled: &'a Bundled) -> Self {
        Self { tenant: None, price_list: None, bundled }
    }

    /// The best source's rate; an implausible rate (see [`MAX_PLAUSIBLE_USD`]) is passed over
    /// for the next source.
    pub fn rate(&self, region: &str, sku: &Sku) -> Option<&'a Rate> {
        let key = sku.key();
        let plausible = |r: &&Rate| r.is_plausible();
        self.tenant
            .and_then(|t| t.get_key(region, &key))
            .filter(plausible)
            .or_else(|| self.price_list.and_then(|p| p.get_key(region, &key)).filter(plausible))
            .or_else(|| self.bundled.get_key(region, &key).filter(plausible))
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
        t.insert("eu-west-1", Sku::ec2("m7g.large"), rate("0.0892"));
        t.insert("us-east-1", Sku::EbsStorage { volume_type: "gp3".into() }, rate("0.08"));
        t.insert("us-east-1", Sku::PublicIpv4, rate("0.005"));
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(json.as_array().unwrap().len(), 3);
        assert_eq!(json[0]["region"], "eu-west-1");
        assert_eq!(json[0]["key"], "ec2:m7g.large:linux:shared");
        let back: RateTable = serde_json::from_value(json).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn a_table_stored_before_the_price_book_still_reads() {
        let old = serde_json::json!([
            {"region": "eu-west-1", "sku": "ec2_instance", "instance_type": "m7g.large", "usd": "0.0892", "source": "price_list_api", "as_of": "2026-11-01"},
            {"region": "eu-west-1", "sku": "public_ipv4", "usd": "0.005", "source": "snapshot", "as_of": "2024-07-18"}
        ]);
        let t: RateTable = serde_json::from_value(old).unwrap();
        assert_eq!(t.get("eu-west-1", &Sku::ec2("m7g.large")).unwrap().usd.to_string(), "0.0892");
        assert_eq!(t.get("eu-west-1", &Sku::PublicIpv4).unwrap().source, PriceSource::Bundled);
    }
}
