//! Every event kind priced against the bundled price book, with the expected number worked out
//! by hand here: the rate (from `crates/core/data/pricebook.json.gz`) times the quantity times
//! 730 hours. If a rate in the book changes, these tests say which kinds moved.

use std::collections::HashMap;

use costradar_core::domain::money::cents;
use costradar_core::pricing::{bundled, PriceBook};
use costradar_core::receiver::price::{price_event, PricedEvent};
use rust_decimal::Decimal;

const H: Decimal = costradar_core::pricing::HOURS_PER_MONTH;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// Rounded to the cent the way the contract prints it (half away from zero).
fn usd(x: Decimal) -> Option<Decimal> {
    Some(cents(x))
}

fn price(name: &str, types: &[(&str, &str)]) -> PricedEvent {
    let path = format!("{}/../../events/receiver/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let body = std::fs::read(&path).unwrap();
    let book = PriceBook::bundled_only(bundled());
    let types: HashMap<String, String> = types.iter().map(|(i, t)| (i.to_string(), t.to_string())).collect();
    price_event(&body, &book, &types, d("100")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// (fixture, instance types known from earlier events, expected monthly USD, expected finding rule)
/// (fixture, remembered instance types, expected monthly cost, expected rule).
type PriceCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, Option<Decimal>, Option<&'a str>);

#[test]
fn every_kind_has_its_hand_computed_price() {
    let m5_2xl = d("0.384"); // us-east-1 m5.2xlarge $/h
    let m5_2xl_eu = d("0.428"); // eu-west-1
    let us1 = "i-0a1b2c3d4e5f60718";
    let us2 = "i-0a1b2c3d4e5f60729";
    let eu1 = "i-04c5d6e7f8a9b0c11";
    let eu2 = "i-04c5d6e7f8a9b0c22";
    let cases: Vec<PriceCase> = vec![
        // EC2
        ("ec2-run-instances", vec![], usd(d("2") * m5_2xl * H), Some("realtime.cost-increase")), // 560.64
        ("ec2-run-instances-gpu", vec![], usd(d("21.957642") * H), Some("realtime.accelerated-instance")), // 16029.08
        ("ec2-run-instances-previous-gen", vec![], usd(d("3") * d("0.222") * H), Some("realtime.previous-generation")), // 486.18
        (
            "ec2-start-instances",
            vec![(us1, "m5.2xlarge"), (us2, "m5.2xlarge")],
            usd(d("2") * m5_2xl * H),
            Some("realtime.cost-increase"),
        ),
        ("ec2-state-change-running", vec![(us1, "m5.2xlarge")], usd(m5_2xl * H), Some("realtime.cost-increase")), // 280.32
        ("ec2-state-change-stopped", vec![(us1, "m5.2xlarge")], usd(-m5_2xl * H), None),
        ("ec2-stop-instances", vec![(us1, "m5.2xlarge")], usd(-m5_2xl * H), None),
        ("ec2-state-change-terminated", vec![(eu1, "m5.2xlarge")], usd(-m5_2xl_eu * H), None), // -312.44
        (
            "ec2-terminate-instances",
            vec![(eu1, "m5.2xlarge"), (eu2, "c5.large")],
            usd(-(m5_2xl_eu + d("0.096")) * H),
            None,
        ), // -382.52
        // m5.2xlarge -> m5.4xlarge: the delta, 0.768 - 0.384.
        (
            "ec2-modify-instance-type",
            vec![("i-0b2c3d4e5f6a7b8c9", "m5.2xlarge")],
            usd((d("0.768") - m5_2xl) * H),
            Some("realtime.cost-increase"),
        ),
        // EBS: 500 GiB gp2 at $0.10. io2: 2000 GiB at $0.125 + 32,000 IOPS at $0.065 + 32,000 at $0.0455.
        ("ebs-create-volume-gp2", vec![], usd(d("500") * d("0.10")), Some("realtime.gp2-volume")),
        (
            "ebs-create-volume-io2",
            vec![],
            usd(d("2000") * d("0.125") + d("32000") * d("0.065") + d("32000") * d("0.0455")),
            Some("realtime.provisioned-iops-volume"),
        ), // 3786
        // 1000 GiB gp2 ($100) -> gp3 1000 GiB ($80) + 3000 IOPS above the free 3000 ($15) + 125 MiB/s above 125 ($5) = $100.
        ("ebs-modify-volume", vec![], usd(d("80") + d("3000") * d("0.005") + d("125") * d("0.04") - d("100")), None),
        // Network
        ("ec2-allocate-address", vec![], usd(d("0.005") * H), None), // 3.65
        ("ec2-release-address", vec![], usd(-d("0.005") * H), None),
        ("ec2-create-nat-gateway", vec![], usd(d("0.045") * H), None), // 32.85
        ("ec2-delete-nat-gateway", vec![], usd(-d("0.045") * H), None),
        ("elb-create-load-balancer", vec![], usd(d("0.0225") * H), None), // 16.425 -> 16.43 (half away from zero)
        // Databases and caches, at AWS's published Multi-AZ rates (us-east-1 PostgreSQL):
        // db.r6g.2xlarge $1.798/h Multi-AZ, db.r6g.4xlarge $3.597/h (not 2 × $1.798), gp3 $0.23/GB-month.
        (
            "rds-create-db-instance",
            vec![],
            usd(d("1.798") * H + d("500") * d("0.23")),
            Some("realtime.multi-az-non-production"),
        ), // 1427.54
        ("rds-modify-db-instance", vec![], usd((d("3.597") - d("1.798")) * H), Some("realtime.cost-increase")), // 1313.27
        ("rds-start-db-instance", vec![], usd(d("0.318") * H), Some("realtime.cost-increase")), // 232.14
        // Aurora: the cluster itself has no hourly price; its instances are priced as they come.
        ("rds-create-db-cluster", vec![], None, None),
        ("elasticache-create-cache-cluster", vec![], usd(d("2") * d("0.206") * H), Some("realtime.cost-increase")), // 300.76
        ("elasticache-create-replication-group", vec![], usd(d("3") * d("0.149") * H), Some("realtime.cost-increase")), // 326.31
        // Managed services
        ("eks-create-cluster", vec![], usd(d("0.10") * H), None), // 73
        ("eks-create-nodegroup", vec![], usd(d("3") * d("0.192") * H), Some("realtime.cost-increase")), // 420.48
        // 100 GB of provisioned concurrency × 730 h × 3600 s at $0.0000041667/GB-s.
        (
            "lambda-put-provisioned-concurrency",
            vec![],
            usd(d("100") * d("0.0000041667") * H * d("3600")),
            Some("realtime.cost-increase"),
        ), // 1095.01
        // The instance type is in the endpoint configuration, not the event.
        // Neither is priced from the event alone: the config costs nothing, and the endpoint's
        // instances are in the config (the receiver test prices the pair).
        ("sagemaker-create-endpoint-config", vec![], None, None),
        ("sagemaker-create-endpoint", vec![], None, None),
        ("sagemaker-create-notebook-instance", vec![], usd(d("1.57") * H), Some("realtime.cost-increase")), // 1146.10
        // A training job is priced for its maximum runtime (48 h) at training rates, which the
        // bundled book lacks (its public source has notebook rates only): unpriced, and the
        // reason says so, until the Price List cache holds the rate (see the test below).
        ("sagemaker-create-training-job", vec![], None, None),
        ("redshift-create-cluster", vec![], usd(d("2") * d("3.26") * H), Some("realtime.cost-increase")), // 4759.60
        ("opensearch-create-domain", vec![], usd(d("3") * d("0.187") * H), Some("realtime.cost-increase")), // 409.53
        ("msk-create-cluster", vec![], usd(d("3") * d("0.21") * H), Some("realtime.cost-increase")),      // 459.90
        // Billing alarms are anomalies, not priced changes; unknown events are recorded unpriced.
        ("cloudwatch-billing-alarm", vec![], None, Some("realtime.billing-alarm")),
        ("unknown-event", vec![], None, None),
    ];
    let mut kinds = std::collections::HashSet::new();
    for (name, types, monthly, rule) in &cases {
        let p = price(name, types);
        kinds.insert(p.kind);
        assert_eq!(p.monthly_cost_usd, *monthly, "{name}: {:?}", p.breakdown);
        assert_eq!(p.finding.as_ref().map(|f| f.rule), *rule, "{name}");
        match monthly {
            Some(_) => {
                assert_eq!(p.price_source, Some("bundled"), "{name}");
                assert!(p.price_as_of.is_some(), "{name}: a price carries its date");
            }
            None => assert!(
                p.unpriced_reason.is_some() || *name == "cloudwatch-billing-alarm" || *name == "unknown-event",
                "{name}: an unpriced event says why"
            ),
        }
    }
    assert_eq!(kinds.len(), costradar_core::domain::event::EventKind::ALL.len(), "every kind is covered");
}

#[test]
fn alternatives_and_their_savings() {
    // m5.2xlarge -> m7g.2xlarge (Graviton) at $0.3264: 2 × (0.384 - 0.3264) × 730 = $84.10.
    let p = price("ec2-run-instances", &[]);
    assert_eq!(p.finding.unwrap().alternative.unwrap().monthly_savings_usd, d("84.10"));
    // gp2 500 GiB ($50) -> gp3 500 GiB ($40) + 125 MiB/s to match gp2's 250 MiB/s ($5): saves $5.
    let p = price("ebs-create-volume-gp2", &[]);
    assert_eq!(p.finding.unwrap().alternative.unwrap().monthly_savings_usd, d("5.00"));
    // m4.xlarge -> m5.xlarge in eu-west-1: 3 × (0.222 - 0.214) × 730 = $17.52.
    let p = price("ec2-run-instances-previous-gen", &[]);
    assert_eq!(p.finding.unwrap().alternative.unwrap().monthly_savings_usd, d("17.52"));
    // Multi-AZ on a non-production database: Single-AZ halves it, $713.77.
    let p = price("rds-create-db-instance", &[]);
    assert_eq!(p.finding.unwrap().alternative.unwrap().monthly_savings_usd.round_dp(2), d("713.77"));
    // Without the previous type, a type change is priced at the new type's full rate.
    assert_eq!(price("ec2-modify-instance-type", &[]).monthly_cost_usd, usd(d("0.768") * H));
}

/// The printed and stored form: money is a decimal string to the cent in a `_usd` field, never a
/// JSON number; an unpriced amount is `null`.
#[test]
fn money_serialises_as_decimal_strings() {
    let v = serde_json::to_value(price("ec2-run-instances", &[])).unwrap();
    assert_eq!(v["monthly_cost_usd"], "560.64");
    assert_eq!(v["finding"]["monthly_cost_usd"], "560.64");
    assert_eq!(v["finding"]["alternative"]["monthly_cost_usd"], "476.54");
    assert_eq!(v["finding"]["alternative"]["monthly_savings_usd"], "84.10");
    let v = serde_json::to_value(price("ebs-create-volume-gp2", &[])).unwrap();
    assert_eq!(v["monthly_cost_usd"], "50.00", "two decimals, whatever the amount's scale");
    let v = serde_json::to_value(price("ec2-stop-instances", &[("i-0a1b2c3d4e5f60718", "m5.2xlarge")])).unwrap();
    assert_eq!(v["monthly_cost_usd"], "-280.32");
    assert!(v["finding"].is_null());
    let v = serde_json::to_value(price("unknown-event", &[])).unwrap();
    assert!(v["monthly_cost_usd"].is_null());
}

/// SageMaker prices one `ml.*` type differently for notebooks, training and inference. A rate
/// of the wrong kind is never used: without a training rate the job is unpriced, and says why;
/// with one in the Price List cache it is priced from it, and the figure names that source.
#[test]
fn a_training_job_is_priced_only_at_training_rates() {
    use costradar_core::pricing::{PriceSource, Rate, RateTable, SageMakerUsage, Sku};
    let body = std::fs::read(format!(
        "{}/../../events/receiver/sagemaker-create-training-job.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let none = HashMap::new();
    let unpriced = price_event(&body, &PriceBook::bundled_only(bundled()), &none, d("100")).unwrap();
    let reason = unpriced.unpriced_reason.unwrap();
    assert!(reason.contains("no price for ml.p4d.24xlarge"), "{reason}");

    let mut cache = RateTable::default();
    let sku = Sku::SageMaker { instance_type: "ml.p4d.24xlarge".into(), usage: SageMakerUsage::Training };
    cache.insert(
        "us-east-1",
        sku,
        Rate { usd: d("37.6885"), source: PriceSource::PriceListApi, as_of: "2026-11-30".into() },
    );
    let book = PriceBook { tenant: None, price_list: Some(&cache), bundled: bundled() };
    let priced = price_event(&body, &book, &none, d("100")).unwrap();
    // 2 instances × $37.6885/h × 48 h (MaxRuntimeInSeconds) = $3,618.10.
    assert_eq!(priced.monthly_cost_usd, usd(d("2") * d("37.6885") * d("48")));
    assert_eq!((priced.price_source, priced.price_as_of.as_deref()), (Some("price_list_api"), Some("2026-11-30")));
}
