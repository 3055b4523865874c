//! Every family against real-shaped product documents (`crates/core/tests/fixtures/price_list/`,
//! whose README names their sources), and the table's own consistency.

use std::collections::HashSet;

use rust_decimal::Decimal;
use serde_json::Value;

use super::FAMILIES;
use crate::pricing::price_list::{family, parse_document, parse_product, Collector, Parsed};
use crate::pricing::{bundled, Sku};

const FIXTURES: &[(&str, &str)] = &[
    ("ec2.json", include_str!("../../../../tests/fixtures/price_list/ec2.json")),
    ("ebs_nat_ipv4.json", include_str!("../../../../tests/fixtures/price_list/ebs_nat_ipv4.json")),
    ("elb.json", include_str!("../../../../tests/fixtures/price_list/elb.json")),
    ("rds.json", include_str!("../../../../tests/fixtures/price_list/rds.json")),
    ("services.json", include_str!("../../../../tests/fixtures/price_list/services.json")),
    ("storage_network.json", include_str!("../../../../tests/fixtures/price_list/storage_network.json")),
];

fn cases() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (file, text) in FIXTURES {
        let fixture: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{file}: {e}"));
        for (i, case) in fixture["cases"].as_array().unwrap().iter().enumerate() {
            out.push((format!("{file}#{i} ({})", case["note"].as_str().unwrap_or("")), case.clone()));
        }
    }
    out
}

#[test]
fn price_list_every_fixture_reads_as_expected() {
    let mut covered = HashSet::new();
    for (name, case) in cases() {
        let fam = family(case["family"].as_str().unwrap());
        covered.insert(fam.name);
        let doc = case["document"].to_string();
        let got = parse_product(fam, &doc).unwrap_or_else(|e| panic!("{name}: {e}"));
        match &case["expect"] {
            Value::Null => assert_eq!(got, None, "{name}"),
            want => {
                let (region, sku, rate) = got.unwrap_or_else(|| panic!("{name}: skipped"));
                assert_eq!(region, case["document"]["product"]["attributes"]["regionCode"], "{name}");
                assert_eq!(sku.key(), want["key"].as_str().unwrap(), "{name}");
                let usd: Decimal = want["usd"].as_str().unwrap().parse().unwrap();
                assert_eq!(rate.usd, usd, "{name}");
                assert_eq!(rate.as_of.len(), 10, "{name}");
            }
        }
        // No other family takes a document that is not its own.
        for other in FAMILIES.iter().filter(|f| f.name != fam.name) {
            let taken = parse_product(other, &doc).unwrap();
            let same_key = taken.as_ref().map(|(_, s, _)| s.key()) == case["expect"]["key"].as_str().map(str::to_owned);
            assert!(taken.is_none() || same_key, "{name}: {} also reads it as {taken:?}", other.name);
        }
    }
    let missing: Vec<&str> = FAMILIES.iter().map(|f| f.name).filter(|n| !covered.contains(n)).collect();
    assert!(missing.is_empty(), "families without a fixture: {missing:?}");
}

#[test]
fn price_list_every_key_a_fixture_gives_is_a_bundled_book_key() {
    let book = bundled();
    for (name, case) in cases() {
        let Some(key) = case["expect"]["key"].as_str() else { continue };
        // The book has EC2 for Linux on shared hardware only: another platform's key is that
        // key with another OS and tenancy.
        let parts: Vec<&str> = key.split(':').collect();
        // Likewise SageMaker, whose book has notebook rates only.
        let linux = match parts[..] {
            ["ec2", instance_type, _, _] => format!("ec2:{instance_type}:linux:shared"),
            ["sagemaker", instance_type, _, "hour"] => format!("sagemaker:{instance_type}:notebook:hour"),
            _ => key.to_owned(),
        };
        // OpenSearch storage is in no public snapshot the book is built from: the refresh is its
        // only source.
        if key.starts_with("opensearch-storage:") {
            continue;
        }
        let in_book = book.regions().any(|r| book.get_key(r, &linux).is_some());
        assert!(in_book, "{name}: {key} is not a key of the bundled book");
    }
}

#[test]
fn price_list_the_family_table_is_consistent() {
    let mut names = HashSet::new();
    for f in FAMILIES {
        assert!(names.insert(f.name), "{} twice", f.name);
        assert!(
            f.name.len() <= 24 && f.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{}",
            f.name
        );
        assert!(!f.service_code.is_empty());
        assert!(f.filters.iter().all(|(k, v)| !k.is_empty() && !v.is_empty()));
    }
}

#[test]
fn price_list_an_rds_sql_server_class_billed_apart_is_vetoed() {
    let rds = family("rds-instance");
    let fixture: Value = serde_json::from_str(FIXTURES[3].1).unwrap();
    let template = fixture["cases"][5]["document"].clone(); // SQL Server SE, License included
    let with = |class: &str, licence: &str, usd: &str| {
        let mut d = template.clone();
        let a = &mut d["product"]["attributes"];
        a["instanceType"] = class.into();
        a["usagetype"] = format!("InstanceUsage:{class}").into();
        a["licenseModel"] = licence.into();
        let term = d["terms"]["OnDemand"].as_object_mut().unwrap().values_mut().next().unwrap();
        let dim = term["priceDimensions"].as_object_mut().unwrap().values_mut().next().unwrap();
        dim["pricePerUnit"]["USD"] = usd.into();
        d.to_string()
    };
    let byom = with("db.m7i.xlarge", "Bring your own media", "0.35");
    assert!(matches!(parse_document(rds, &byom).unwrap(), Parsed::Veto { .. }));
    let mut c = Collector::new(rds, "us-east-1");
    c.add(&with("db.m7i.xlarge", "License included", "0.35")).unwrap(); // the compute part only
    c.add(&byom).unwrap();
    c.add(&with("db.m5.xlarge", "License included", "1.224")).unwrap();
    let t = c.finish();
    let se = |class: &str| Sku::RdsInstance {
        engine: "sqlserver-se".into(),
        class: class.into(),
        deployment: crate::pricing::Deployment::SingleAz,
    };
    assert!(t.get("us-east-1", &se("db.m7i.xlarge")).is_none(), "the unbundled class is not priced from its row");
    assert_eq!(t.get("us-east-1", &se("db.m5.xlarge")).unwrap().usd, "1.224".parse().unwrap());
}

#[test]
fn price_list_hostile_attributes_never_forge_a_key() {
    let fixture: Value = serde_json::from_str(FIXTURES[0].1).unwrap();
    let linux = fixture["cases"][3].clone();
    let fam = family("ec2-shared");
    for bad in ["m5.large:windows:dedicated", "", "m5 large", &"m".repeat(200), "m5.large\n", "ëm5.large"] {
        let mut d = linux["document"].clone();
        d["product"]["attributes"]["instanceType"] = bad.into();
        d["product"]["attributes"]["usagetype"] = format!("BoxUsage:{bad}").into();
        assert_eq!(parse_product(fam, &d.to_string()).unwrap(), None, "{bad:?}");
    }
}
