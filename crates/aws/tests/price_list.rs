//! The Price List adapter against `GetProducts` pages (smithy mocks on the real SDK client): moto
//! has no Price List API. Pagination is followed, every family is asked for with its filters,
//! the requests are counted and capped, and the result is what the receiver then prices from,
//! ahead of the bundled price book.

use std::sync::{Arc, Mutex};

use aws_sdk_pricing::operation::get_products::{GetProductsError, GetProductsInput, GetProductsOutput};
use aws_sdk_pricing::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use costradar_aws::price_list::PriceListApi;
use costradar_core::pricing::price_list::{
    family, product_document, Budget, PriceListError, PriceListSource, ReadOutcome, FAMILIES,
};
use costradar_core::pricing::{bundled, PriceBook, PriceSource, Sku};
use costradar_core::scan::tasks::{refresh_prices, RefreshLimits};
use costradar_core::store::{MemoryStore, RateScope, RateStore};

fn linux(instance_type: &str, region: &str) -> Vec<(&'static str, String)> {
    vec![
        ("instanceType", instance_type.to_owned()),
        ("regionCode", region.to_owned()),
        ("locationType", "AWS Region".into()),
        ("operatingSystem", "Linux".into()),
        ("tenancy", "Shared".into()),
        ("preInstalledSw", "NA".into()),
        ("capacitystatus", "Used".into()),
        ("licenseModel", "No License required".into()),
        ("operation", "RunInstances".into()),
        ("usagetype", format!("EU-BoxUsage:{instance_type}")),
    ]
}

fn doc(service: &str, family: &str, attrs: &[(&'static str, String)], unit: &str, usd: &str) -> String {
    let attrs: Vec<(&str, &str)> = attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    product_document(service, family, &attrs, unit, usd)
}

fn filter<'a>(r: &'a GetProductsInput, field: &str) -> Option<&'a str> {
    r.filters().iter().find(|f| f.field() == field).map(|f| f.value())
}

fn nat_hour(region: &str) -> String {
    let attrs = [("regionCode", region.to_owned()), ("usagetype", "EU-NatGateway-Hours".to_owned())];
    doc("AmazonEC2", "NAT Gateway", &attrs, "Hrs", "0.0480000000")
}

#[tokio::test]
async fn pages_are_followed_and_rates_outrank_the_bundled_book() {
    let first = mock!(Client::get_products)
        .match_requests(|r| r.next_token().is_none() && filter(r, "productFamily") == Some("Compute Instance"))
        .then_output(|| {
            GetProductsOutput::builder()
                .price_list(doc(
                    "AmazonEC2",
                    "Compute Instance",
                    &linux("m5.large", "eu-west-1"),
                    "Hrs",
                    "0.1070000000",
                ))
                .next_token("page-2")
                .build()
        });
    let second = mock!(Client::get_products).match_requests(|r| r.next_token() == Some("page-2")).then_output(|| {
        GetProductsOutput::builder()
            .price_list(doc(
                "AmazonEC2",
                "Compute Instance",
                &linux("p4d.24xlarge", "eu-west-1"),
                "Hrs",
                "35.3950000000",
            ))
            .build()
    });
    let storage = mock!(Client::get_products)
        .match_requests(|r| filter(r, "productFamily") == Some("Storage"))
        .then_output(|| {
            let attrs = [
                ("volumeApiName", "gp3".to_owned()),
                ("regionCode", "eu-west-1".to_owned()),
                ("usagetype", "EU-EBS:VolumeUsage.gp3".to_owned()),
            ];
            GetProductsOutput::builder()
                .price_list(doc("AmazonEC2", "Storage", &attrs, "GB-Mo", "0.0880000000"))
                .build()
        });
    let client = mock_client!(aws_sdk_pricing, RuleMode::MatchAny, [&first, &second, &storage]);
    let api = PriceListApi::new(client);
    let budget = Budget::new(100, None);

    let ec2 = api.read_family(family("ec2-shared"), "eu-west-1", &budget).await;
    assert!(matches!(ec2.outcome, ReadOutcome::Complete), "{:?}", ec2.outcome);
    assert_eq!((ec2.requests, ec2.rates.len()), (2, 2));
    let ebs = api.read_family(family("ebs-storage"), "eu-west-1", &budget).await;
    assert_eq!((ebs.requests, ebs.rates.len()), (1, 1));
    assert_eq!((first.num_calls(), second.num_calls(), storage.num_calls()), (1, 1, 1));
    assert_eq!(budget.used(), 3, "one unit per request sent, none for the page that was not there");

    let mut table = ec2.rates;
    table.extend(ebs.rates);
    let book = PriceBook { tenant: None, price_list: Some(&table), bundled: bundled() };
    let m5 = book.rate("eu-west-1", &Sku::ec2("m5.large")).unwrap();
    assert_eq!((m5.usd, m5.source), ("0.107".parse().unwrap(), PriceSource::PriceListApi));
    // A type the cache lacks falls through to the bundled book.
    let t3 = book.rate("eu-west-1", &Sku::ec2("t3.micro")).unwrap();
    assert_eq!(t3.source, PriceSource::Bundled);
}

#[tokio::test]
async fn a_refresh_asks_every_family_once_per_page_and_counts_the_requests() {
    // (service code, product family, page size) of every request.
    type Asked = Vec<(String, Option<String>, Option<i32>)>;
    let asked: Arc<Mutex<Asked>> = Arc::default();
    let log = asked.clone();
    let any = mock!(Client::get_products).then_compute_output(move |r| {
        let family = filter(r, "productFamily").map(str::to_owned);
        log.lock().unwrap().push((r.service_code().unwrap_or_default().to_owned(), family.clone(), r.max_results()));
        assert_eq!(filter(r, "regionCode"), Some("eu-west-1"));
        let out = GetProductsOutput::builder();
        match (family.as_deref(), r.next_token()) {
            // EC2 on shared hardware: two pages.
            (Some("Compute Instance"), None) if filter(r, "tenancy") == Some("Shared") => out
                .price_list(doc("AmazonEC2", "Compute Instance", &linux("m5.large", "eu-west-1"), "Hrs", "0.107"))
                .next_token("page-2")
                .build(),
            (Some("Compute Instance"), Some("page-2")) => out
                .price_list(doc("AmazonEC2", "Compute Instance", &linux("m6i.large", "eu-west-1"), "Hrs", "0.107"))
                .build(),
            (Some("NAT Gateway"), _) => out.price_list(nat_hour("eu-west-1")).build(),
            // Every other family: one empty page.
            _ => out.build(),
        }
    });
    let client = mock_client!(aws_sdk_pricing, RuleMode::MatchAny, [&any]);
    let store = MemoryStore::new();
    let api = PriceListApi::new(client);
    let report = refresh_prices(&api, &store, &["eu-west-1".to_owned()], &RefreshLimits::default()).await.unwrap();

    // Families × regions × pages: one page each, and a second for EC2 on shared hardware.
    assert_eq!(report.requests as usize, FAMILIES.len() + 1);
    assert_eq!(any.num_calls(), FAMILIES.len() + 1);
    assert_eq!(report.families["ec2-shared"].requests, 2);
    assert_eq!((report.families["ec2-shared"].rates, report.families["nat"].rates), (2, 1));
    assert_eq!(report.rates, 3);
    let asked = asked.lock().unwrap().clone();
    assert!(asked.iter().all(|(_, _, max)| *max == Some(100)), "pages of 100");
    for f in FAMILIES {
        let n = asked.iter().filter(|(s, pf, _)| s == f.service_code && pf.as_deref() == f.product_family).count();
        assert!(n >= 1, "{} was not asked for", f.name);
    }
    let stored = store.get_rates(RateScope::PriceList).await.unwrap();
    assert_eq!(stored.get("eu-west-1", &Sku::NatGateway).unwrap().usd, "0.048".parse().unwrap());
}

#[tokio::test]
async fn a_read_stops_at_the_budget_and_keeps_nothing_partial() {
    let n = Arc::new(Mutex::new(0u32));
    let counter = n.clone();
    // A listing that never ends.
    let endless = mock!(Client::get_products).then_compute_output(move |_| {
        let mut n = counter.lock().unwrap();
        *n += 1;
        GetProductsOutput::builder()
            .price_list(doc("AmazonEC2", "Compute Instance", &linux("m5.large", "eu-west-1"), "Hrs", "0.107"))
            .next_token(format!("page-{n}"))
            .build()
    });
    let client = mock_client!(aws_sdk_pricing, RuleMode::MatchAny, [&endless]);
    let budget = Budget::new(5, None);
    let read = PriceListApi::new(client).read_family(family("ec2-shared"), "eu-west-1", &budget).await;
    assert!(matches!(read.outcome, ReadOutcome::CutShort), "{:?}", read.outcome);
    assert_eq!((read.requests, budget.used(), *n.lock().unwrap()), (5, 5, 5));
    assert!(read.rates.is_empty(), "a partial read is not stored");
}

#[tokio::test]
async fn an_api_error_or_a_malformed_product_fails_the_read() {
    let denied = mock!(Client::get_products).then_error(|| {
        GetProductsError::generic(
            aws_sdk_pricing::error::ErrorMetadata::builder().code("AccessDeniedException").message("no").build(),
        )
    });
    let client = mock_client!(aws_sdk_pricing, RuleMode::MatchAny, [&denied]);
    let read = PriceListApi::new(client).read_family(family("nat"), "eu-west-1", &Budget::new(10, None)).await;
    assert!(
        matches!(&read.outcome, ReadOutcome::Failed(PriceListError::Api(m)) if m.contains("AccessDeniedException"))
    );
    assert_eq!(read.requests, 1);

    let hostile = mock!(Client::get_products).then_output(|| {
        GetProductsOutput::builder().price_list(nat_hour("eu-west-1")).price_list("{\"product\": 5}").build()
    });
    let client = mock_client!(aws_sdk_pricing, RuleMode::MatchAny, [&hostile]);
    let read = PriceListApi::new(client).read_family(family("nat"), "eu-west-1", &Budget::new(10, None)).await;
    assert!(matches!(read.outcome, ReadOutcome::Failed(PriceListError::Malformed(_))), "{:?}", read.outcome);
    assert!(read.rates.is_empty());
}
