//! The Price List adapter against `GetProducts` pages (smithy mocks on the real SDK client): moto
//! has no Price List API. Pagination is followed, every family is asked for, and the result is
//! what the receiver then prices from, ahead of the bundled price book.

use aws_sdk_pricing::operation::get_products::{GetProductsError, GetProductsOutput};
use aws_sdk_pricing::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use costradar_aws::price_list::PriceListApi;
use costradar_core::pricing::price_list::{product_document, PriceListError, PriceListSource};
use costradar_core::pricing::{bundled, PriceBook, PriceSource, Sku};

fn linux(instance_type: &str, region: &str) -> Vec<(&'static str, String)> {
    vec![
        ("instanceType", instance_type.to_owned()),
        ("regionCode", region.to_owned()),
        ("operatingSystem", "Linux".into()),
        ("tenancy", "Shared".into()),
        ("preInstalledSw", "NA".into()),
        ("capacitystatus", "Used".into()),
        ("licenseModel", "No License required".into()),
    ]
}

fn doc(family: &str, attrs: &[(&'static str, String)], unit: &str, usd: &str) -> String {
    let attrs: Vec<(&str, &str)> = attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    product_document(family, &attrs, unit, usd)
}

#[tokio::test]
async fn pages_are_followed_and_rates_outrank_the_bundled_book() {
    let first = mock!(Client::get_products)
        .match_requests(|r| r.next_token().is_none() && r.filters().iter().any(|f| f.value() == "Compute Instance"))
        .then_output(|| {
            GetProductsOutput::builder()
                .price_list(doc("Compute Instance", &linux("m5.large", "eu-west-1"), "Hrs", "0.1070000000"))
                .next_token("page-2")
                .build()
        });
    let second = mock!(Client::get_products).match_requests(|r| r.next_token() == Some("page-2")).then_output(|| {
        GetProductsOutput::builder()
            .price_list(doc("Compute Instance", &linux("p4d.24xlarge", "eu-west-1"), "Hrs", "35.3950000000"))
            .build()
    });
    let storage = mock!(Client::get_products)
        .match_requests(|r| r.filters().iter().any(|f| f.value() == "Storage"))
        .then_output(|| {
            GetProductsOutput::builder()
                .price_list(doc(
                    "Storage",
                    &[("volumeApiName", "gp3".into()), ("regionCode", "eu-west-1".into())],
                    "GB-Mo",
                    "0.0880000000",
                ))
                .build()
        });
    let client = mock_client!(aws_sdk_pricing, RuleMode::MatchAny, [&first, &second, &storage]);

    let table = PriceListApi::new(client).rates(&["eu-west-1".to_owned()]).await.unwrap();
    assert_eq!(table.len(), 3);
    assert_eq!((first.num_calls(), second.num_calls(), storage.num_calls()), (1, 1, 1));

    let book = PriceBook { tenant: None, price_list: Some(&table), bundled: bundled() };
    let m5 = book.rate("eu-west-1", &Sku::ec2("m5.large")).unwrap();
    assert_eq!((m5.usd, m5.source), ("0.107".parse().unwrap(), PriceSource::PriceListApi));
    // A type the cache lacks falls through to the bundled book.
    let t3 = book.rate("eu-west-1", &Sku::ec2("t3.micro")).unwrap();
    assert_eq!(t3.source, PriceSource::Bundled);
}

#[tokio::test]
async fn an_api_error_is_reported_and_nothing_is_returned() {
    let denied = mock!(Client::get_products).then_error(|| {
        GetProductsError::generic(
            aws_sdk_pricing::error::ErrorMetadata::builder().code("AccessDeniedException").message("no").build(),
        )
    });
    let client = mock_client!(aws_sdk_pricing, RuleMode::MatchAny, [&denied]);
    let err = PriceListApi::new(client).rates(&["eu-west-1".to_owned()]).await.unwrap_err();
    assert!(matches!(&err, PriceListError::Api(m) if m.contains("AccessDeniedException")), "{err}");
}
