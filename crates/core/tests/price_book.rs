//! The bundled price book against the outside: a second, independent public copy of AWS's
//! prices (`crates/core/data/pricebook-crosscheck.json`), its own recorded sources
//! (`PRICING-SOURCES.md`), and the coverage table in `docs/pricing.md`.
//!
//! Figures are printed (`cargo test -p costradar-core --test price_book -- --nocapture`).
//! Set `COSTRADAR_BLESS=1` to rewrite the generated table in docs/pricing.md.

use std::collections::{BTreeMap, BTreeSet};

use costradar_core::pricing::bundled;
use rust_decimal::Decimal;
use serde::Deserialize;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

#[derive(Deserialize)]
struct Crosscheck {
    source: Source,
    rates: Vec<CheckedRate>,
    #[serde(default)]
    also: Vec<Block>,
}

#[derive(Deserialize)]
struct Block {
    source: Source,
    rates: Vec<CheckedRate>,
}

#[derive(Deserialize)]
struct Source {
    id: String,
    as_of: String,
}

#[derive(Deserialize)]
struct CheckedRate {
    region: String,
    key: String,
    usd: Decimal,
}

/// Differences over 5 % that are explained: (key, why). Anything else over 5 % fails.
const EXPLAINED: &[(&str, &str)] = &[(
    "ec2:p4d.24xlarge:linux:shared",
    "the cross-check copy is from February 2023, before AWS's 2025 cut of P4d on-demand prices",
)];

#[test]
fn the_book_agrees_with_an_independent_public_copy() {
    let text = std::fs::read_to_string(format!("{ROOT}/crates/core/data/pricebook-crosscheck.json")).unwrap();
    let c: Crosscheck = serde_json::from_str(&text).unwrap();
    let book = bundled();
    let blocks = std::iter::once((c.source, c.rates)).chain(c.also.into_iter().map(|b| (b.source, b.rates)));
    let (mut compared, mut regions, mut worst) = (0usize, BTreeSet::new(), (Decimal::ZERO, String::new()));
    let mut unexplained = Vec::new();
    for (source, rates) in blocks {
        for r in rates {
            let Some(ours) = book.get_key(&r.region, &r.key) else { continue };
            compared += 1;
            regions.insert(r.region.clone());
            let diff = ((ours.usd - r.usd) / r.usd).abs();
            let explained = EXPLAINED.iter().any(|(k, _)| *k == r.key);
            if diff > worst.0 && !explained {
                worst = (
                    diff,
                    format!("{} {} book {} vs {} {} ({})", r.region, r.key, ours.usd, source.id, r.usd, source.as_of),
                );
            }
            if diff > Decimal::new(5, 2) && !explained {
                unexplained.push(format!("{} {}: book {} vs {} {}", r.region, r.key, ours.usd, source.id, r.usd));
            }
        }
    }
    println!(
        "price book cross-check: {compared} rates in {} regions; largest difference not explained in this test: {}% ({})",
        regions.len(),
        (worst.0 * Decimal::from(100)).round_dp(2),
        worst.1
    );
    assert!(compared >= 100 && regions.len() >= 10, "{compared} rates in {} regions", regions.len());
    assert!(unexplained.is_empty(), "rates over 5 % off the independent copy:\n{}", unexplained.join("\n"));
}

/// The book is as fresh as its sources say: every source is listed in PRICING-SOURCES.md with
/// its date and commit, the book's `generated` date is no older than any source, and each rate
/// carries its own source's date.
#[test]
fn the_book_is_fresh_against_its_recorded_sources() {
    let book = bundled();
    let doc = std::fs::read_to_string(format!("{ROOT}/crates/core/data/PRICING-SOURCES.md")).unwrap();
    for s in book.sources() {
        let row = doc.lines().find(|l| l.contains(&format!("| {} |", s.id)) || l.contains(&format!(" {} ", s.id)));
        let row = row.unwrap_or_else(|| panic!("source {} is not in PRICING-SOURCES.md", s.id));
        assert!(row.contains(&s.as_of), "PRICING-SOURCES.md gives {} another date than {}: {row}", s.id, s.as_of);
        let sha = s.location.rsplit('@').next().unwrap_or_default();
        assert!(sha.len() == 40 && doc.contains(&sha[..7]), "{}: commit {sha} not recorded", s.id);
        assert!(book.generated() >= s.as_of.as_str(), "{} is newer than the book ({})", s.id, book.generated());
    }
    let dates: BTreeSet<&str> = book.sources().iter().map(|s| s.as_of.as_str()).collect();
    let t2 = book.region("us-west-1").unwrap().get_key("us-west-1", "ec2:t2.micro:linux:shared").unwrap();
    assert!(dates.contains(t2.as_of.as_str()));
    println!(
        "price book generated {}; sources dated {} to {}",
        book.generated(),
        dates.first().unwrap(),
        dates.last().unwrap()
    );
}

/// A resource kind: the key's family and, for families priced per resource type, the part
/// after it (`rds:<engine>`), with what it prices.
fn kind_of(key: &str) -> (String, &'static str) {
    let parts: Vec<&str> = key.split(':').collect();
    let fam = parts[0];
    let what = match fam {
        "ec2" => "EC2 instance hour (by OS and tenancy)",
        "ebs" => "EBS volume storage, IOPS, throughput",
        "ebs-snapshot" => "EBS snapshot storage",
        "vpc" => "public IPv4 address, interface endpoint AZ, Transit Gateway attachment hour",
        "nat" => "NAT gateway hour and GB",
        "elb" => "load balancer hour and capacity unit",
        "rds" => "RDS instance hour (engine, class, deployment)",
        "rds-storage" | "rds-iops" | "rds-throughput" | "rds-backup" => "RDS storage, IOPS, throughput, backup",
        "aurora" => "Aurora instance hour, Serverless v2 ACU",
        "aurora-storage" | "aurora-io" => "Aurora storage and I/O",
        "elasticache" => "ElastiCache node hour",
        "elasticache-serverless" => "ElastiCache Serverless",
        "opensearch" => "OpenSearch instance hour",
        "redshift" | "redshift-serverless" => "Redshift node hour, Serverless RPU",
        "msk" | "msk-storage" => "MSK broker hour, storage",
        "sagemaker" => "SageMaker instance hour (by usage)",
        "eks" => "EKS cluster hour (standard, extended)",
        "lambda" | "lambda-provisioned" | "lambda-provisioned-duration" => "Lambda requests, duration, provisioned",
        "dynamodb" | "dynamodb-storage" => "DynamoDB capacity, requests, storage",
        "kinesis" => "Kinesis shards, on-demand",
        "emr" => "EMR uplift hour",
        "dax" => "DAX node hour",
        "logs" => "CloudWatch Logs ingest, storage",
        "s3" => "S3 storage by class",
        "efs" => "EFS storage by class, provisioned throughput",
        "ecr" => "ECR image storage",
        "route53" => "Route 53 hosted zone, health check month (global rate)",
        "cloudwatch" => "CloudWatch alarm month",
        "backup" => "AWS Backup warm storage by resource type",
        "opensearch-storage" => "OpenSearch EBS storage",
        "redshift-storage" => "Redshift managed storage",
        _ => "",
    };
    let kind = if matches!(fam, "rds" | "aurora" | "elasticache") && parts.len() > 2 {
        let sub = if fam == "elasticache" { parts[2] } else { parts[1] };
        format!("{fam}:{sub}")
    } else {
        fam.to_owned()
    };
    (kind, what)
}

fn coverage_table() -> String {
    let book = bundled();
    let regions: BTreeSet<&str> = book.regions().collect();
    let mut kinds: BTreeMap<String, (&str, usize, BTreeSet<&str>)> = BTreeMap::new();
    for region in &regions {
        for (key, _) in book.region(region).unwrap().region_rates(region) {
            let (kind, what) = kind_of(key);
            assert!(!what.is_empty(), "key family of {key} has no description in this test");
            let e = kinds.entry(kind).or_insert((what, 0, BTreeSet::new()));
            e.1 += 1;
            e.2.insert(region);
        }
    }
    let mut out = String::from("| kind | what | rates | regions |\n| --- | --- | ---: | ---: |\n");
    for (kind, (what, n, rs)) in &kinds {
        out.push_str(&format!("| `{kind}` | {what} | {n} | {} |\n", rs.len()));
    }
    out.push_str(&format!(
        "\nRegions ({}): {}.\n",
        regions.len(),
        regions.iter().copied().collect::<Vec<_>>().join(", ")
    ));
    out
}

#[test]
fn docs_pricing_lists_every_kind_and_region_of_the_book() {
    let path = format!("{ROOT}/docs/pricing.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let (begin, end) =
        ("<!-- coverage:begin (generated by crates/core/tests/price_book.rs) -->\n", "<!-- coverage:end -->");
    let start = doc.find(begin).expect("docs/pricing.md has the coverage markers") + begin.len();
    let stop = doc.find(end).unwrap();
    let want = coverage_table();
    if std::env::var_os("COSTRADAR_BLESS").is_some() {
        std::fs::write(&path, format!("{}{want}{}", &doc[..start], &doc[stop..])).unwrap();
    } else {
        assert_eq!(&doc[start..stop], want, "docs/pricing.md is stale: rerun with COSTRADAR_BLESS=1");
    }
}
