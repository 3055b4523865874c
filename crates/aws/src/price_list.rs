//! The Price List API client behind `costradar_core::pricing::price_list::PriceListSource`: one
//! family in one region per read, every page through the SDK's paginator (100 products a page),
//! one unit of the refresh's [`Budget`] taken before each request.

use aws_sdk_pricing::error::DisplayErrorContext;
use aws_sdk_pricing::types::{Filter, FilterType};
use costradar_core::pricing::price_list::{
    Budget, Collector, Family, FamilyRead, PriceListError, PriceListSource, ReadOutcome, PAGE_SIZE, PRICING_REGION,
};

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

    fn filters(family: &Family, region: &str) -> Vec<Filter> {
        let mut filters = vec![term("regionCode", region)];
        filters.extend(family.product_family.map(|f| term("productFamily", f)));
        filters.extend(family.filters.iter().map(|(k, v)| term(k, v)));
        filters
    }
}

#[async_trait::async_trait]
impl PriceListSource for PriceListApi {
    async fn read_family(&self, family: &'static Family, region: &str, budget: &Budget) -> FamilyRead {
        let mut pages = self
            .0
            .get_products()
            .service_code(family.service_code)
            .format_version("aws_v1")
            .max_results(PAGE_SIZE)
            .set_filters(Some(Self::filters(family, region)))
            .into_paginator()
            .send();
        let mut collector = Collector::new(family, region);
        let mut requests = 0;
        let outcome = loop {
            if !budget.try_take() {
                break ReadOutcome::CutShort;
            }
            let page = match pages.next().await {
                // No further page: nothing was sent.
                None => {
                    budget.refund();
                    break ReadOutcome::Complete;
                }
                Some(Err(e)) => {
                    requests += 1;
                    break ReadOutcome::Failed(PriceListError::Api(DisplayErrorContext(&e).to_string()));
                }
                Some(Ok(page)) => page,
            };
            requests += 1;
            if let Some(e) = page.price_list().iter().find_map(|doc| collector.add(doc).err()) {
                break ReadOutcome::Failed(e);
            }
            if page.next_token().is_none_or(str::is_empty) {
                break ReadOutcome::Complete;
            }
        };
        let rates = match outcome {
            ReadOutcome::Complete => collector.finish(),
            _ => Default::default(),
        };
        FamilyRead { rates, requests, outcome }
    }
}

fn term(field: &str, value: &str) -> Filter {
    Filter::builder().r#type(FilterType::TermMatch).field(field).value(value).build().expect("field and value are set")
}
