//! The Price List API client behind `costradar_core::pricing::price_list::PriceListSource`.

use aws_sdk_pricing::error::DisplayErrorContext;
use aws_sdk_pricing::types::{Filter, FilterType};
use costradar_core::pricing::price_list::{parse_product, Family, PriceListError, PriceListSource, PRICING_REGION};
use costradar_core::pricing::RateTable;

/// The Price List API, in its own region.
pub struct PriceListApi(aws_sdk_pricing::Client);

impl PriceListApi {
    pub fn new(client: aws_sdk_pricing::Client) -> Self {
        Self(client)
    }

    /// A client in the API's own region, from the shared SDK configuration.
    pub fn from_sdk(sdk: &aws_config::SdkConfig) -> Self {
        Self::new(aws_sdk_pricing::Client::from_conf(
            aws_sdk_pricing::config::Builder::from(sdk).region(aws_config::Region::new(PRICING_REGION)).build(),
        ))
    }
}

#[async_trait::async_trait]
impl PriceListSource for PriceListApi {
    /// Reads every family's rates for `regions`.
    async fn rates(&self, regions: &[String]) -> Result<RateTable, PriceListError> {
        let mut table = RateTable::default();
        for region in regions {
            for family in Family::ALL {
                let mut filters = vec![term("regionCode", region), term("productFamily", family.product_family())];
                filters.extend(family.filters().iter().map(|(k, v)| term(k, v)));
                let mut pages = self
                    .0
                    .get_products()
                    .service_code("AmazonEC2")
                    .format_version("aws_v1")
                    .set_filters(Some(filters))
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| PriceListError::Api(DisplayErrorContext(&e).to_string()))?;
                    for doc in page.price_list() {
                        if let Some((r, sku, rate)) = parse_product(doc)? {
                            table.insert(&r, sku, rate);
                        }
                    }
                }
            }
        }
        Ok(table)
    }
}

fn term(field: &str, value: &str) -> Filter {
    Filter::builder().r#type(FilterType::TermMatch).field(field).value(value).build().expect("field and value are set")
}
