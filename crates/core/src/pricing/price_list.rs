//! The AWS Price List API (`pricing:GetProducts`) as the second price source: on-demand rates
//! read per region and per *family* ([`FAMILIES`], in [`families`]) into [`RateTable`]s that the
//! refresh job (`scan::tasks::refresh_price_list`) merges over the stored ones (`RateStore`, scope
//! `PriceList`), where the receiver and the scans read them through `PriceBook` ahead of the
//! bundled book. This module reads product documents, bounds what a refresh may ask for
//! ([`Budget`]) and names the port ([`PriceListSource`]); the API client is
//! `costradar_aws::price_list`.
//!
//! A family is one row of a table: a service code, a product family, the `TERM_MATCH` filters
//! sent with it, and a function from a product's attributes to the [`Sku`] it prices and the
//! units its price may come in. Adding a family is adding a row. Which families there are, the
//! attribute values each relies on and where those values were found are listed in
//! [`families`]' module documentation, with what is deliberately not read and why.
//!
//! Strictness: a product gives a rate only if its `regionCode` is the region asked for, its
//! `locationType` (when present) is `AWS Region`, its family's function recognises every
//! attribute it looks at, it has exactly one on-demand term with exactly one price dimension (or,
//! for families that declare it, a free allowance at $0 followed by one open-ended rate), the
//! price is in USD, positive and plausible, and the dimension's unit is one the family accepts.
//! Anything else is skipped, never guessed. Within one read, two products that give the same key
//! different prices make that key ambiguous: it is dropped (the stored or bundled rate stays).
//! A document that is not the API's JSON, or whose price or date is not a number or a date, is an
//! error that fails the family's read, so its last good rates stay.

pub mod families;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU32, Ordering};

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

use super::{PriceSource, Rate, RateTable, Sku, MAX_PLAUSIBLE_USD};
pub use families::FAMILIES;

/// The Price List API's own region.
pub const PRICING_REGION: &str = "us-east-1";

/// Products per `GetProducts` page: the API's maximum.
pub const PAGE_SIZE: i32 = 100;

/// Every commercial region the bundled price book covers (`bundled().regions()`; a test holds the
/// two equal). A constant because the CLI's `--regions` default needs one; the refresh task takes
/// [`default_regions`].
pub const DEFAULT_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// The regions a refresh reads when it is not told: the bundled book's, sorted.
pub fn default_regions() -> Vec<String> {
    let mut regions: Vec<String> = super::bundled().regions().map(str::to_owned).collect();
    regions.sort();
    regions
}

#[derive(Debug, thiserror::Error)]
pub enum PriceListError {
    #[error("Price List API call failed: {0}")]
    Api(String),
    #[error("Price List product could not be read: {0}")]
    Malformed(String),
}

/// A unit a family's price may come in, and the exact factor to the key's unit: EBS throughput
/// is priced per GiB/s-month and keyed per MiB/s-month (÷ 1024); DynamoDB requests are priced per
/// request unit and keyed per million (× 10⁶).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unit {
    pub name: &'static str,
    pub times: u32,
    pub per: u32,
}

impl Unit {
    pub const fn of(name: &'static str) -> Self {
        Self { name, times: 1, per: 1 }
    }

    pub const fn per_million(name: &'static str) -> Self {
        Self { name, times: 1_000_000, per: 1 }
    }
}

/// One family of products: what is asked for and how a product becomes a rate.
pub struct Family {
    /// Its name in the refresh's report.
    pub name: &'static str,
    pub service_code: &'static str,
    /// Sent as a `productFamily` filter; `None` for small services read whole.
    pub product_family: Option<&'static str>,
    /// Further `TERM_MATCH` filters, besides the region and the product family.
    pub filters: &'static [(&'static str, &'static str)],
    /// The price may be a $0 free allowance followed by one open-ended rate (DynamoDB capacity
    /// and storage, CloudWatch Logs): the rate is read, the allowance is not (it is per account).
    pub free_allowance: bool,
    pub read: fn(&Product) -> Reading,
}

impl std::fmt::Debug for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// What a family makes of one product.
#[derive(Debug, PartialEq)]
pub enum Reading {
    /// The product is this unit's price, in one of these units.
    Rate(Sku, &'static [Unit]),
    /// The product shows that these units are not priced by their own rows alone (RDS SQL Server
    /// on an instance class whose licence is billed apart): any rate read for them is dropped.
    Veto(Vec<Sku>),
    Skip,
}

/// A product's family and attributes, as a family's function sees them.
pub struct Product<'a> {
    pub family: &'a str,
    attributes: &'a HashMap<String, String>,
}

impl<'a> Product<'a> {
    pub fn attr(&self, key: &str) -> Option<&'a str> {
        self.attributes.get(key).map(String::as_str)
    }

    /// `usagetype` without its billing-region prefix (`EU-`, `USE1-`, `APS3-`; none for most
    /// us-east-1 products). Only a prefix of that shape is taken off, so `IA-ReadCapacityUnit-Hrs`
    /// or `TS-LoadBalancerUsage` stay what they are.
    pub fn usage(&self) -> Option<&'a str> {
        let u = self.attr("usagetype")?;
        Some(match u.split_once('-') {
            Some((prefix, rest)) if is_billing_region(prefix) => rest,
            _ => u,
        })
    }
}

fn is_billing_region(prefix: &str) -> bool {
    let b = prefix.as_bytes();
    prefix == "EU"
        || ((4..=5).contains(&b.len())
            && b[..b.len() - 1].iter().all(u8::is_ascii_uppercase)
            && b[b.len() - 1].is_ascii_digit())
}

/// A name that goes into a key (an instance or node type): ASCII letters, digits, `.` and `-`,
/// 1 to 64 of them. Anything else (a `:` would forge another key) is refused.
pub fn ident(s: &str) -> Option<&str> {
    let ok = (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    ok.then_some(s)
}

#[derive(Deserialize)]
struct Document {
    product: ProductBody,
    #[serde(rename = "serviceCode")]
    service_code: String,
    terms: Terms,
    #[serde(rename = "publicationDate")]
    publication_date: Option<String>,
}

#[derive(Deserialize)]
struct ProductBody {
    #[serde(rename = "productFamily", default)]
    product_family: String,
    attributes: HashMap<String, String>,
}

#[derive(Deserialize)]
struct Terms {
    #[serde(rename = "OnDemand", default)]
    on_demand: HashMap<String, Term>,
}

#[derive(Deserialize)]
struct Term {
    #[serde(rename = "priceDimensions")]
    price_dimensions: HashMap<String, Dimension>,
    #[serde(rename = "effectiveDate")]
    effective_date: Option<String>,
}

#[derive(Deserialize)]
struct Dimension {
    unit: String,
    #[serde(rename = "pricePerUnit")]
    price_per_unit: HashMap<String, String>,
    #[serde(rename = "beginRange")]
    begin_range: Option<String>,
    #[serde(rename = "endRange")]
    end_range: Option<String>,
}

/// What one document gives a family.
#[derive(Debug, PartialEq)]
pub enum Parsed {
    Rate { region: String, sku: Sku, rate: Rate },
    Veto { region: String, skus: Vec<Sku> },
    Skip,
}

/// One rate read from a Price List product document (an element of `GetProducts`' `PriceList`)
/// for `family`. `Ok(None)` when the product is not one the family prices.
pub fn parse_product(family: &Family, doc: &str) -> Result<Option<(String, Sku, Rate)>, PriceListError> {
    Ok(match parse_document(family, doc)? {
        Parsed::Rate { region, sku, rate } => Some((region, sku, rate)),
        Parsed::Veto { .. } | Parsed::Skip => None,
    })
}

/// The document as `family` reads it: a rate, a veto, or nothing.
pub fn parse_document(family: &Family, doc: &str) -> Result<Parsed, PriceListError> {
    let d: Document = serde_json::from_str(doc).map_err(|e| PriceListError::Malformed(e.to_string()))?;
    let product = Product { family: &d.product.product_family, attributes: &d.product.attributes };
    let Some(region) = product.attr("regionCode") else { return Ok(Parsed::Skip) };
    let regional = product.attr("locationType").is_none_or(|t| t == "AWS Region");
    let family_ok = family.product_family.is_none_or(|f| f == product.family);
    if d.service_code != family.service_code || !family_ok || !regional {
        return Ok(Parsed::Skip);
    }
    if family.filters.iter().any(|(k, v)| product.attr(k) != Some(v)) {
        return Ok(Parsed::Skip);
    }
    let (sku, units) = match (family.read)(&product) {
        Reading::Rate(sku, units) => (sku, units),
        Reading::Veto(skus) => return Ok(Parsed::Veto { region: region.to_owned(), skus }),
        Reading::Skip => return Ok(Parsed::Skip),
    };
    // Exactly one on-demand term.
    let mut terms = d.terms.on_demand.values();
    let (Some(term), None) = (terms.next(), terms.next()) else { return Ok(Parsed::Skip) };
    let Some(dim) = single_rate(term, family.free_allowance)? else { return Ok(Parsed::Skip) };
    let Some(unit) = units.iter().find(|u| u.name == dim.unit) else { return Ok(Parsed::Skip) };
    let Some(usd) = dim.price_per_unit.get("USD") else { return Ok(Parsed::Skip) };
    let usd = decimal(usd)?;
    let usd = usd.checked_mul(Decimal::from(unit.times)).and_then(|u| u.checked_div(Decimal::from(unit.per)));
    let usd = usd.unwrap_or(Decimal::ZERO).normalize();
    if usd <= Decimal::ZERO || usd > MAX_PLAUSIBLE_USD {
        return Ok(Parsed::Skip);
    }
    let as_of = as_of(d.publication_date.as_deref().or(term.effective_date.as_deref()))?;
    Ok(Parsed::Rate { region: region.to_owned(), sku, rate: Rate { usd, source: PriceSource::PriceListApi, as_of } })
}

/// A price as the API writes it: digits, optionally a point and more digits (`0.0960000000`).
/// Signs, exponents and anything else are refused.
fn decimal(s: &str) -> Result<Decimal, PriceListError> {
    let (whole, fraction) = s.split_once('.').unwrap_or((s, "0"));
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let parsed = (s.len() <= 40 && digits(whole) && digits(fraction)).then(|| s.parse().ok()).flatten();
    parsed.ok_or_else(|| PriceListError::Malformed(format!("price {:?}", truncate(s, 40))))
}

/// The term's one price dimension; or, where the family allows it, the open-ended rate after a
/// $0 allowance that starts at zero (`[0, n) at $0`, `[n, Inf) at the rate`).
fn single_rate(term: &Term, free_allowance: bool) -> Result<Option<&Dimension>, PriceListError> {
    let dims: Vec<&Dimension> = term.price_dimensions.values().collect();
    match dims[..] {
        [one] => Ok(Some(one)),
        [a, b] if free_allowance => {
            let usd = |d: &Dimension| d.price_per_unit.get("USD").map(|p| decimal(p)).transpose();
            let (free, paid) = match (usd(a)?, usd(b)?) {
                (Some(x), Some(y)) if x.is_zero() && !y.is_zero() => (a, b),
                (Some(x), Some(y)) if y.is_zero() && !x.is_zero() => (b, a),
                _ => return Ok(None),
            };
            let starts_at_zero = free.begin_range.as_deref() == Some("0");
            let open_ended = paid.end_range.as_deref() == Some("Inf");
            let adjacent = free.end_range.is_some() && free.end_range == paid.begin_range;
            Ok((starts_at_zero && open_ended && adjacent && free.unit == paid.unit).then_some(paid))
        }
        _ => Ok(None),
    }
}

/// `YYYY-MM-DD` from the document's publication (or the term's effective) date; `unknown` when
/// it has neither. A date that is there but is not one is an error.
fn as_of(date: Option<&str>) -> Result<String, PriceListError> {
    let Some(date) = date else { return Ok("unknown".into()) };
    let day = date.get(..10).filter(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok());
    day.map(str::to_owned).ok_or_else(|| PriceListError::Malformed(format!("date {:?}", truncate(date, 40))))
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Gathers one family's rates in one region over every page of a read: documents of another
/// region are skipped, a key two products price differently is dropped, vetoed keys are dropped.
pub struct Collector<'a> {
    family: &'a Family,
    region: &'a str,
    rates: HashMap<String, Rate>,
    ambiguous: HashSet<String>,
    vetoed: HashSet<String>,
}

impl<'a> Collector<'a> {
    pub fn new(family: &'a Family, region: &'a str) -> Self {
        Self { family, region, rates: HashMap::new(), ambiguous: HashSet::new(), vetoed: HashSet::new() }
    }

    /// Reads one document. An error means the read cannot be trusted: the caller drops it.
    pub fn add(&mut self, doc: &str) -> Result<(), PriceListError> {
        match parse_document(self.family, doc)? {
            Parsed::Rate { region, sku, rate } if region == self.region => {
                let key = sku.key();
                match self.rates.get(&key) {
                    Some(seen) if seen.usd != rate.usd => {
                        self.ambiguous.insert(key);
                    }
                    Some(_) => {}
                    None => {
                        self.rates.insert(key, rate);
                    }
                }
            }
            Parsed::Veto { region, skus } if region == self.region => {
                self.vetoed.extend(skus.iter().map(Sku::key));
            }
            _ => {}
        }
        Ok(())
    }

    /// The rates read, less the ambiguous and the vetoed.
    pub fn finish(self) -> RateTable {
        if !self.ambiguous.is_empty() {
            let keys: Vec<&String> = self.ambiguous.iter().take(5).collect();
            tracing::warn!(
                family = self.family.name,
                region = self.region,
                n = self.ambiguous.len(),
                ?keys,
                "Price List products give one key different prices; those keys are not refreshed"
            );
        }
        let mut t = RateTable::default();
        for (key, rate) in self.rates {
            if !self.ambiguous.contains(&key) && !self.vetoed.contains(&key) {
                t.insert_key(self.region, key, rate);
            }
        }
        t
    }
}

/// What a refresh may still ask for: a number of `GetProducts` requests and, optionally, a
/// deadline. Shared by every read of one refresh; a read takes one unit before each request.
#[derive(Debug)]
pub struct Budget {
    max: u32,
    used: AtomicU32,
    deadline: Option<tokio::time::Instant>,
}

impl Budget {
    pub fn new(max_requests: u32, deadline: Option<tokio::time::Instant>) -> Self {
        Self { max: max_requests, used: AtomicU32::new(0), deadline }
    }

    /// Takes one request; `false` (and nothing taken) once the requests or the time are spent.
    pub fn try_take(&self) -> bool {
        if self.deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
            return false;
        }
        self.used.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < self.max).then_some(n + 1)).is_ok()
    }

    /// Gives back a request taken but not sent.
    pub fn refund(&self) {
        let _ = self.used.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    }

    pub fn used(&self) -> u32 {
        self.used.load(Ordering::SeqCst)
    }

    pub fn max(&self) -> u32 {
        self.max
    }

    /// Whether no further request may be taken.
    pub fn spent(&self) -> bool {
        self.used() >= self.max || self.deadline.is_some_and(|d| tokio::time::Instant::now() >= d)
    }
}

/// How one family's read in one region ended.
#[derive(Debug)]
pub enum ReadOutcome {
    /// Every page was read: the rates are this family's current rates in the region.
    Complete,
    /// The budget ran out before the last page: the rates are partial and are not stored.
    CutShort,
    /// A request or a document failed: the rates are not stored.
    Failed(PriceListError),
}

/// One family's read in one region.
#[derive(Debug)]
pub struct FamilyRead {
    pub rates: RateTable,
    /// `GetProducts` requests sent (the SDK's own retries of one request are not counted).
    pub requests: u32,
    pub outcome: ReadOutcome,
}

/// Where the refresh job reads rates: the Price List API (`costradar_aws::price_list`), or a
/// fake in tests.
#[async_trait::async_trait]
pub trait PriceListSource: Send + Sync {
    /// Reads `family` in `region`, taking one unit of `budget` before each request.
    async fn read_family(&self, family: &'static Family, region: &str, budget: &Budget) -> FamilyRead;
}

/// A product document shaped as the API returns it, for tests and fixtures.
pub fn product_document(service: &str, family: &str, attributes: &[(&str, &str)], unit: &str, usd: &str) -> String {
    let attributes: serde_json::Map<String, Value> =
        attributes.iter().map(|(k, v)| ((*k).to_owned(), Value::from(*v))).collect();
    serde_json::json!({
        "product": { "productFamily": family, "attributes": attributes, "sku": "SKU1" },
        "serviceCode": service,
        "terms": { "OnDemand": { "SKU1.JRTCKXETXF": {
            "priceDimensions": { "SKU1.JRTCKXETXF.6YS6EN2CT7": {
                "unit": unit, "endRange": "Inf", "beginRange": "0",
                "pricePerUnit": { "USD": usd }, "description": "test", "appliesTo": []
            } },
            "sku": "SKU1", "effectiveDate": "2026-11-01T00:00:00Z", "offerTermCode": "JRTCKXETXF",
            "termAttributes": {}
        } } },
        "version": "20261101000000",
        "publicationDate": "2026-11-01T20:13:05Z"
    })
    .to_string()
}

/// The family named `name` (tests and fixtures).
pub fn family(name: &str) -> &'static Family {
    FAMILIES.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("no Price List family {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::{Os, Tenancy};

    const M7G: &[(&str, &str)] = &[
        ("instanceType", "m7g.large"),
        ("regionCode", "eu-west-1"),
        ("locationType", "AWS Region"),
        ("operatingSystem", "Linux"),
        ("tenancy", "Shared"),
        ("preInstalledSw", "NA"),
        ("capacitystatus", "Used"),
        ("licenseModel", "No License required"),
        ("operation", "RunInstances"),
        ("usagetype", "EU-BoxUsage:m7g.large"),
    ];

    fn ec2(attrs: &[(&str, &str)], unit: &str, usd: &str) -> String {
        product_document("AmazonEC2", "Compute Instance", attrs, unit, usd)
    }

    fn with(
        attrs: &[(&'static str, &'static str)],
        key: &str,
        value: &'static str,
    ) -> Vec<(&'static str, &'static str)> {
        attrs.iter().map(|&(k, v)| if k == key { (k, value) } else { (k, v) }).collect()
    }

    #[test]
    fn price_list_an_instance_hour_is_read_with_its_date() {
        let (region, sku, rate) =
            parse_product(family("ec2-shared"), &ec2(M7G, "Hrs", "0.0892000000")).unwrap().unwrap();
        assert_eq!(region, "eu-west-1");
        assert_eq!(sku, Sku::ec2("m7g.large"));
        assert_eq!(rate.usd, "0.0892".parse().unwrap());
        assert_eq!(rate.source, PriceSource::PriceListApi);
        assert_eq!(rate.as_of, "2026-11-01");
    }

    #[test]
    fn price_list_products_it_does_not_price_are_skipped_not_guessed() {
        let shared = family("ec2-shared");
        let windows_says_linux = with(M7G, "operatingSystem", "Windows");
        let rhel_with_sql = [with(M7G, "operatingSystem", "RHEL"), vec![]].concat();
        let rhel_with_sql = with(&with(&rhel_with_sql, "preInstalledSw", "SQL Std"), "operation", "RunInstances:0014");
        for doc in [
            // The OS attributes and the billing operation disagree.
            ec2(&windows_says_linux, "Hrs", "0.2"),
            // An OS the book has no key for.
            ec2(&rhel_with_sql, "Hrs", "0.9"),
            ec2(&with(M7G, "capacitystatus", "UnusedCapacityReservation"), "Hrs", "0.1"),
            ec2(&with(M7G, "usagetype", "EU-UnusedBox:m7g.large"), "Hrs", "0.1"),
            ec2(&with(M7G, "tenancy", "Host"), "Hrs", "0.1"),
            ec2(&with(M7G, "locationType", "AWS Local Zone"), "Hrs", "0.1"),
            ec2(M7G, "Quantity", "0.1"),
            ec2(M7G, "Hrs", "0.0000000000"),
            ec2(M7G, "Hrs", "1000000"),
            product_document("AmazonEC2", "Compute Instance (bare metal)", M7G, "Hrs", "0.1"),
            product_document("AmazonRDS", "Compute Instance", M7G, "Hrs", "0.1"),
            ec2(&M7G[1..], "Hrs", "0.1"),
            ec2(&with(M7G, "instanceType", "m7g.large:windows"), "Hrs", "0.1"),
        ] {
            assert_eq!(parse_product(shared, &doc).unwrap(), None, "{doc}");
        }
        let dedicated = with(&with(M7G, "tenancy", "Dedicated"), "usagetype", "EU-DedicatedUsage:m7g.large");
        assert_eq!(parse_product(shared, &ec2(&dedicated, "Hrs", "0.1")).unwrap(), None, "filtered to Shared");
        let (_, sku, _) = parse_product(family("ec2-dedicated"), &ec2(&dedicated, "Hrs", "0.1")).unwrap().unwrap();
        assert_eq!(
            sku,
            Sku::Ec2Instance { instance_type: "m7g.large".into(), os: Os::Linux, tenancy: Tenancy::Dedicated }
        );
    }

    #[test]
    fn price_list_malformed_and_hostile_documents_are_errors() {
        let shared = family("ec2-shared");
        for doc in [
            "not json".to_owned(),
            "{}".to_owned(),
            "[]".to_owned(),
            r#"{"product": {"attributes": {"regionCode": 5}}, "serviceCode": "AmazonEC2", "terms": {}}"#.to_owned(),
            ec2(M7G, "Hrs", "0,09"),
            ec2(M7G, "Hrs", "NaN"),
            ec2(M7G, "Hrs", &"9".repeat(100)),
            ec2(M7G, "Hrs", "1e3"),
            ec2(M7G, "Hrs", "-0.1"),
            ec2(M7G, "Hrs", "+0.1"),
            ec2(M7G, "Hrs", ".5"),
            ec2(M7G, "Hrs", ""),
            ec2(M7G, "Hrs", "0.1").replace("2026-11-01T20:13:05Z", "yesterday"),
            ec2(M7G, "Hrs", "0.1").replace("2026-11-01T20:13:05Z", "2026-13-45T00:00:00Z"),
            ec2(M7G, "Hrs", "0.1").replace("2026-11-01T20:13:05Z", &"é".repeat(10_000)),
        ] {
            assert!(
                matches!(parse_product(shared, &doc), Err(PriceListError::Malformed(_))),
                "{:?}",
                doc.get(doc.len().saturating_sub(400)..)
            );
        }
        // An error message never carries a whole hostile value.
        let err = parse_product(shared, &ec2(M7G, "Hrs", &"x".repeat(100_000))).unwrap_err();
        assert!(err.to_string().len() < 200, "{err}");
    }

    #[test]
    fn price_list_several_terms_or_dimensions_are_tiered_or_ambiguous_and_skipped() {
        let shared = family("ec2-shared");
        let doc: Value = serde_json::from_str(&ec2(M7G, "Hrs", "0.1")).unwrap();
        let mut two_terms = doc.clone();
        two_terms["terms"]["OnDemand"]["SKU1.OTHER"] = two_terms["terms"]["OnDemand"]["SKU1.JRTCKXETXF"].clone();
        let mut two_dims = doc.clone();
        let dims = &mut two_dims["terms"]["OnDemand"]["SKU1.JRTCKXETXF"]["priceDimensions"];
        dims["SKU1.JRTCKXETXF.OTHER"] = dims["SKU1.JRTCKXETXF.6YS6EN2CT7"].clone();
        let mut no_usd = doc.clone();
        no_usd["terms"]["OnDemand"]["SKU1.JRTCKXETXF"]["priceDimensions"]["SKU1.JRTCKXETXF.6YS6EN2CT7"]
            ["pricePerUnit"] = serde_json::json!({"CNY": "0.7"});
        let mut no_terms = doc.clone();
        no_terms["terms"] = serde_json::json!({"Reserved": {}});
        for d in [two_terms, two_dims, no_usd, no_terms] {
            assert_eq!(parse_product(shared, &d.to_string()).unwrap(), None, "{d}");
        }
    }

    #[test]
    fn price_list_a_collector_drops_ambiguous_keys_and_other_regions() {
        let shared = family("ec2-shared");
        let mut c = Collector::new(shared, "eu-west-1");
        let t3 = with(&with(M7G, "instanceType", "t3.micro"), "usagetype", "EU-BoxUsage:t3.micro");
        c.add(&ec2(M7G, "Hrs", "0.0892")).unwrap();
        c.add(&ec2(M7G, "Hrs", "0.0892")).unwrap(); // the same price twice is not a conflict
        c.add(&ec2(&t3, "Hrs", "0.0114")).unwrap();
        c.add(&ec2(&t3, "Hrs", "0.0120")).unwrap(); // two prices for one key: neither is kept
        c.add(&ec2(&with(M7G, "regionCode", "us-east-1"), "Hrs", "0.0816")).unwrap();
        let t = c.finish();
        assert_eq!(t.len(), 1);
        assert_eq!(t.get("eu-west-1", &Sku::ec2("m7g.large")).unwrap().usd, "0.0892".parse().unwrap());
        assert!(Collector::new(shared, "eu-west-1").add("{").is_err());
    }

    #[test]
    fn price_list_a_free_allowance_is_read_only_where_the_family_declares_it() {
        let rcu =
            [("regionCode", "ap-northeast-2"), ("usagetype", "APN2-ReadCapacityUnit-Hrs"), ("group", "DDB-ReadUnits")];
        let mut doc: Value = serde_json::from_str(&product_document(
            "AmazonDynamoDB",
            "Provisioned IOPS",
            &rcu,
            "ReadCapacityUnit-Hrs",
            "0.00014098",
        ))
        .unwrap();
        let term = &mut doc["terms"]["OnDemand"]["SKU1.JRTCKXETXF"]["priceDimensions"];
        let mut free = term["SKU1.JRTCKXETXF.6YS6EN2CT7"].clone();
        free["pricePerUnit"]["USD"] = "0.0000000000".into();
        free["endRange"] = "18600".into();
        term["SKU1.JRTCKXETXF.6YS6EN2CT7"]["beginRange"] = "18600".into();
        term["SKU1.JRTCKXETXF.FREE"] = free;
        let (_, sku, rate) = parse_product(family("dynamodb"), &doc.to_string()).unwrap().unwrap();
        assert_eq!(sku, Sku::DynamoDbCapacity { unit: "rcu".into() });
        assert_eq!(rate.usd, "0.00014098".parse().unwrap());
        // A gap between the allowance and the rate, or a second paid tier, is a tier: skipped.
        let mut gap = doc.clone();
        gap["terms"]["OnDemand"]["SKU1.JRTCKXETXF"]["priceDimensions"]["SKU1.JRTCKXETXF.FREE"]["endRange"] =
            "100".into();
        assert_eq!(parse_product(family("dynamodb"), &gap.to_string()).unwrap(), None);
        let mut tiers = doc.clone();
        tiers["terms"]["OnDemand"]["SKU1.JRTCKXETXF"]["priceDimensions"]["SKU1.JRTCKXETXF.FREE"]["pricePerUnit"]
            ["USD"] = "0.0002".into();
        assert_eq!(parse_product(family("dynamodb"), &tiers.to_string()).unwrap(), None);
    }

    #[test]
    fn price_list_billing_region_prefixes_come_off_and_nothing_else() {
        let attrs = |u: &str| HashMap::from([("usagetype".to_owned(), u.to_owned())]);
        for (usage, bare) in [
            ("EU-NatGateway-Hours", "NatGateway-Hours"),
            ("USE1-PublicIPv4:InUseAddress", "PublicIPv4:InUseAddress"),
            ("APS3-Train:ml.r5.4xlarge", "Train:ml.r5.4xlarge"),
            ("NatGateway-Hours", "NatGateway-Hours"),
            ("IA-ReadCapacityUnit-Hrs", "IA-ReadCapacityUnit-Hrs"),
            ("TS-LoadBalancerUsage", "TS-LoadBalancerUsage"),
            ("EUW2-TS-LoadBalancerUsage", "TS-LoadBalancerUsage"),
            ("Global-DataTransfer-Out-Bytes", "Global-DataTransfer-Out-Bytes"),
            ("EBS:VolumeUsage.gp3", "EBS:VolumeUsage.gp3"),
        ] {
            let a = attrs(usage);
            assert_eq!(Product { family: "", attributes: &a }.usage(), Some(bare), "{usage}");
        }
    }

    #[test]
    fn price_list_a_budget_counts_requests_and_stops() {
        let b = Budget::new(2, None);
        assert!(b.try_take() && b.try_take());
        assert!(!b.try_take() && b.spent());
        assert_eq!(b.used(), 2);
        b.refund();
        assert!(b.try_take());
        let past = Budget::new(10, Some(tokio::time::Instant::now()));
        assert!(!past.try_take() && past.spent() && past.used() == 0);
    }

    #[test]
    fn price_list_default_regions_are_the_bundled_books() {
        let mut constant: Vec<String> = DEFAULT_REGIONS.iter().map(|r| r.to_string()).collect();
        constant.sort();
        assert_eq!(default_regions(), constant);
        assert!(constant.len() >= 30);
    }
}
