//! The AWS Price List API (`pricing:GetProducts`) as the second price source: on-demand Linux
//! EC2 instance hours and EBS storage per region, read into a [`RateTable`] that the refresh job
//! stores (`RateStore`, scope `PriceList`) and the receiver and scans read through `PriceBook`.
//! This module reads product documents and runs the refresh; the API client is in
//! `costradar_aws::price_list`.
//!
//! The API is global and served from us-east-1; every list call paginates. Only products whose
//! attributes match the filters exactly and that have a single on-demand price dimension are
//! taken: anything else (tiered prices, reserved terms, other operating systems) is skipped, never
//! guessed.

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

use super::{PriceSource, Rate, RateTable, Sku};

/// The Price List API's own region.
pub const PRICING_REGION: &str = "us-east-1";

/// The regions the refresh job reads when it is not told: the main commercial regions, as in
/// the bundled snapshot.
pub const DEFAULT_REGIONS: &[&str] = &["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1"];

#[derive(Debug, thiserror::Error)]
pub enum PriceListError {
    #[error("Price List API call failed: {0}")]
    Api(String),
    #[error("Price List product could not be read: {0}")]
    Malformed(String),
}

/// A family of products and the filters that select its on-demand Linux rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Ec2Instance,
    EbsStorage,
}

impl Family {
    pub const ALL: [Family; 2] = [Family::Ec2Instance, Family::EbsStorage];

    pub fn product_family(self) -> &'static str {
        match self {
            Family::Ec2Instance => "Compute Instance",
            Family::EbsStorage => "Storage",
        }
    }

    /// `(attribute, value)` term matches, besides the region and the product family.
    pub fn filters(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Family::Ec2Instance => &[
                ("operatingSystem", "Linux"),
                ("tenancy", "Shared"),
                ("preInstalledSw", "NA"),
                ("capacitystatus", "Used"),
                ("licenseModel", "No License required"),
            ],
            Family::EbsStorage => &[],
        }
    }
}

#[derive(Deserialize)]
struct Product {
    product: ProductBody,
    terms: Terms,
    #[serde(rename = "publicationDate")]
    publication_date: Option<String>,
}

#[derive(Deserialize)]
struct ProductBody {
    #[serde(rename = "productFamily")]
    product_family: Option<String>,
    attributes: std::collections::HashMap<String, String>,
}

#[derive(Deserialize)]
struct Terms {
    #[serde(rename = "OnDemand", default)]
    on_demand: std::collections::HashMap<String, Term>,
}

#[derive(Deserialize)]
struct Term {
    #[serde(rename = "priceDimensions")]
    price_dimensions: std::collections::HashMap<String, Dimension>,
    #[serde(rename = "effectiveDate")]
    effective_date: Option<String>,
}

#[derive(Deserialize)]
struct Dimension {
    unit: String,
    #[serde(rename = "pricePerUnit")]
    price_per_unit: std::collections::HashMap<String, String>,
}

/// One rate read from a Price List product document (an element of `GetProducts`' `PriceList`).
/// `Ok(None)` when the product is not one this source prices.
pub fn parse_product(doc: &str) -> Result<Option<(String, Sku, Rate)>, PriceListError> {
    let p: Product = serde_json::from_str(doc).map_err(|e| PriceListError::Malformed(e.to_string()))?;
    let attr = |k: &str| p.product.attributes.get(k).map(String::as_str);
    let Some(region) = attr("regionCode") else { return Ok(None) };
    let Some(family) =
        Family::ALL.into_iter().find(|f| p.product.product_family.as_deref() == Some(f.product_family()))
    else {
        return Ok(None);
    };
    if family.filters().iter().any(|(k, v)| attr(k) != Some(v)) {
        return Ok(None);
    }
    let (sku, unit) = match family {
        Family::Ec2Instance => match attr("instanceType") {
            Some(t) => (Sku::ec2(t), "Hrs"),
            None => return Ok(None),
        },
        Family::EbsStorage => match attr("volumeApiName") {
            Some(t) => (Sku::EbsStorage { volume_type: t.to_owned() }, "GB-Mo"),
            None => return Ok(None),
        },
    };
    // Exactly one on-demand term with exactly one dimension: a flat rate.
    let mut terms = p.terms.on_demand.values();
    let (Some(term), None) = (terms.next(), terms.next()) else { return Ok(None) };
    let mut dims = term.price_dimensions.values();
    let (Some(dim), None) = (dims.next(), dims.next()) else { return Ok(None) };
    if dim.unit != unit {
        return Ok(None);
    }
    let Some(usd) = dim.price_per_unit.get("USD") else { return Ok(None) };
    let usd: Decimal = usd.parse().map_err(|_| PriceListError::Malformed(format!("price {usd:?}")))?;
    if usd.is_sign_negative() || usd.is_zero() {
        return Ok(None);
    }
    let as_of = p.publication_date.as_deref().or(term.effective_date.as_deref()).unwrap_or("unknown");
    let as_of = as_of.get(..10).unwrap_or(as_of).to_owned();
    Ok(Some((region.to_owned(), sku, Rate { usd: usd.normalize(), source: PriceSource::PriceListApi, as_of })))
}

/// A product document shaped as the API returns it, for tests and fixtures.
pub fn product_document(family: &str, attributes: &[(&str, &str)], unit: &str, usd: &str) -> String {
    let attributes: serde_json::Map<String, Value> =
        attributes.iter().map(|(k, v)| ((*k).to_owned(), Value::from(*v))).collect();
    serde_json::json!({
        "product": { "productFamily": family, "attributes": attributes, "sku": "SKU1" },
        "serviceCode": "AmazonEC2",
        "terms": { "OnDemand": { "SKU1.JRTCKXETXF": {
            "priceDimensions": { "SKU1.JRTCKXETXF.6YS6EN2CT7": {
                "unit": unit, "endRange": "Inf", "beginRange": "0",
                "pricePerUnit": { "USD": usd }, "description": "test"
            } },
            "sku": "SKU1", "effectiveDate": "2026-11-01T00:00:00Z", "offerTermCode": "JRTCKXETXF"
        } } },
        "version": "20261101000000",
        "publicationDate": "2026-11-01T20:13:05Z"
    })
    .to_string()
}

/// Where the refresh job reads rates: the Price List API (`costradar_aws::price_list`), or a
/// fake in tests.
#[async_trait::async_trait]
pub trait PriceListSource: Send + Sync {
    async fn rates(&self, regions: &[String]) -> Result<RateTable, PriceListError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    const M7G: &[(&str, &str)] = &[
        ("instanceType", "m7g.large"),
        ("regionCode", "eu-west-1"),
        ("operatingSystem", "Linux"),
        ("tenancy", "Shared"),
        ("preInstalledSw", "NA"),
        ("capacitystatus", "Used"),
        ("licenseModel", "No License required"),
    ];

    #[test]
    fn an_instance_hour_is_read_with_its_date() {
        let (region, sku, rate) =
            parse_product(&product_document("Compute Instance", M7G, "Hrs", "0.0892000000")).unwrap().unwrap();
        assert_eq!(region, "eu-west-1");
        assert_eq!(sku, Sku::ec2("m7g.large"));
        assert_eq!(rate.usd, "0.0892".parse().unwrap());
        assert_eq!(rate.source, PriceSource::PriceListApi);
        assert_eq!(rate.as_of, "2026-11-01");
    }

    #[test]
    fn ebs_storage_is_read_per_volume_type() {
        let doc = product_document(
            "Storage",
            &[("volumeApiName", "gp3"), ("regionCode", "us-east-1")],
            "GB-Mo",
            "0.0800000000",
        );
        let (_, sku, rate) = parse_product(&doc).unwrap().unwrap();
        assert_eq!(sku, Sku::EbsStorage { volume_type: "gp3".into() });
        assert_eq!(rate.usd, "0.08".parse().unwrap());
    }

    #[test]
    fn products_it_does_not_price_are_skipped_not_guessed() {
        let windows: Vec<_> =
            M7G.iter().map(|&(k, v)| if k == "operatingSystem" { (k, "Windows") } else { (k, v) }).collect();
        let reserved_capacity: Vec<_> = M7G
            .iter()
            .map(|&(k, v)| if k == "capacitystatus" { (k, "UnusedCapacityReservation") } else { (k, v) })
            .collect();
        for doc in [
            product_document("Compute Instance", &windows, "Hrs", "0.2"),
            product_document("Compute Instance", &reserved_capacity, "Hrs", "0.1"),
            product_document("Compute Instance", M7G, "Quantity", "0.1"),
            product_document("Compute Instance", M7G, "Hrs", "0.0000000000"),
            product_document("Compute Instance Bare Metal", M7G, "Hrs", "0.1"),
            product_document("Compute Instance", &M7G[1..], "Hrs", "0.1"),
        ] {
            assert_eq!(parse_product(&doc).unwrap(), None, "{doc}");
        }
    }

    #[test]
    fn malformed_documents_are_errors() {
        assert!(matches!(parse_product("not json"), Err(PriceListError::Malformed(_))));
        assert!(matches!(
            parse_product(&product_document("Compute Instance", M7G, "Hrs", "0,09")),
            Err(PriceListError::Malformed(_))
        ));
    }
}
