//! Every event kind priced against the bundled price book, with the expected number worked out
//! by hand here: the rate (from `crates/core/data/pricebook.json.gz`) times the quantity times
//! 730 hours. If a rate in the book changes, these tests say which kinds moved.

use std::collections::HashMap;

use costradar_core::domain::money::cents;
use costradar_core::pricing::model::InstanceFacts;
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
    let types: HashMap<String, InstanceFacts> =
        types.iter().map(|(i, t)| (i.to_string(), InstanceFacts::of_type(*t))).collect();
    price_event(&body, &book, &types, d("100")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// (fixture, instance types known from earlier events, expected monthly USD, expected finding rule)
/// (fixture, remembered instance types, expected monthly cost, expected rule).
type PriceCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, Option<Decimal>, Option<&'a str>);

#[test]
fn every_kind_has_its_hand_computed_price() {
    let cases = [compute_and_network_cases(), service_cases(), new_kind_cases(), storage_and_network_cases()].concat();
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

/// The real-world case of the issue: two t2.micro launched in us-west-1 (default VPC, no
/// network interface asked for), then the same launch asking for a public address, then its
/// AMI found to be RHEL or the instances Windows.
#[test]
fn platform_and_public_ipv4_of_a_launch() {
    use costradar_core::pricing::{Os, PriceSource, Rate, RateTable, Sku};
    let path = format!("{}/../../events/receiver/ec2-run-instances-us-west-1.json", env!("CARGO_MANIFEST_DIR"));
    let fixture: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let book = PriceBook::bundled_only(bundled());
    let none = HashMap::new();
    let priced = |ev: &serde_json::Value, book: &PriceBook<'_>, known: &HashMap<String, InstanceFacts>| {
        price_event(ev.to_string().as_bytes(), book, known, d("100")).unwrap()
    };

    // us-west-1 t2.micro (Linux, bundled book, 2025-11-03): $0.0138/h × 2 × 730 h = $20.148.
    let p = priced(&fixture, &book, &none);
    assert_eq!(p.monthly_cost_usd, usd(d("2") * d("0.0138") * H), "{:?}", p.breakdown); // 20.15
    let assumptions = p.assumptions.join(" | ");
    assert!(assumptions.contains("platform is not known"), "{assumptions}");
    assert!(assumptions.contains("public IPv4 address, if the subnet assigns one"), "{assumptions}");

    // Asking for a public address adds $0.005/h per instance: 2 × (0.0138 + 0.005) × 730 = $27.448.
    let mut with_ip = fixture.clone();
    with_ip["detail"]["requestParameters"]["networkInterfaceSet"] =
        serde_json::json!({"items": [{"deviceIndex": 0, "associatePublicIpAddress": true}]});
    let p = priced(&with_ip, &book, &none);
    assert_eq!(p.monthly_cost_usd, usd(d("2") * (d("0.0138") + d("0.005")) * H), "{:?}", p.breakdown); // 27.45

    // The AMI is RHEL (enrichment read it): the bundled book has no RHEL rate, so the launch is
    // unpriced and says which rate is missing, instead of the Linux figure 24-34 % low.
    let rhel = InstanceFacts { os: Some(Os::Rhel), ..InstanceFacts::of_type("t2.micro") };
    let ids = ["i-0f1e2d3c4b5a69788", "i-0f1e2d3c4b5a69799"];
    let known: HashMap<String, InstanceFacts> = ids.iter().map(|i| (i.to_string(), rhel.clone())).collect();
    let p = priced(&fixture, &book, &known);
    assert_eq!(p.monthly_cost_usd, None);
    assert_eq!(p.unpriced_reason.as_deref(), Some("no price for t2.micro (rhel) in us-west-1"));
    // With a RHEL rate in the Price List cache (a made-up figure for this test), it is priced
    // from it and names that source.
    let mut cache = RateTable::default();
    let sku = Sku::Ec2Instance { instance_type: "t2.micro".into(), os: Os::Rhel, tenancy: Default::default() };
    cache.insert(
        "us-west-1",
        sku,
        Rate { usd: d("0.0738"), source: PriceSource::PriceListApi, as_of: "2026-12-01".into() },
    );
    let with_cache = PriceBook { tenant: None, price_list: Some(&cache), bundled: bundled() };
    let p = priced(&fixture, &with_cache, &known);
    assert_eq!(p.monthly_cost_usd, usd(d("2") * d("0.0738") * H));
    assert_eq!(p.price_source, Some("price_list_api"));

    // Windows, as RunInstances' response says it: never the Linux rate.
    let mut windows = fixture.clone();
    for item in windows["detail"]["responseElements"]["instancesSet"]["items"].as_array_mut().unwrap() {
        item["platform"] = "windows".into();
    }
    let p = priced(&windows, &book, &none);
    assert_eq!(p.unpriced_reason.as_deref(), Some("no price for t2.micro (windows) in us-west-1"));

    // A dedicated host is billed per host: said so, not priced per instance.
    let mut host = fixture;
    host["detail"]["responseElements"]["instancesSet"]["items"][0]["placement"]["tenancy"] = "host".into();
    let p = priced(&host, &book, &none);
    assert!(p.unpriced_reason.unwrap().contains("billed per host"));
}

/// EC2, EBS and network cases.
fn compute_and_network_cases() -> Vec<PriceCase<'static>> {
    let m5_2xl = d("0.384"); // us-east-1 m5.2xlarge $/h
    let m5_2xl_eu = d("0.428"); // eu-west-1
    let us1 = "i-0a1b2c3d4e5f60718";
    let us2 = "i-0a1b2c3d4e5f60729";
    let eu1 = "i-04c5d6e7f8a9b0c11";
    let eu2 = "i-04c5d6e7f8a9b0c22";
    vec![
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
        // An internet-facing ALB in 2 zones: its hour plus a public IPv4 address per zone.
        ("elb-create-load-balancer", vec![], usd((d("0.0225") + d("2") * d("0.005")) * H), None), // 23.725 -> 23.73
    ]
}

/// Databases, caches, managed services, billing alarms and unknown events.
fn service_cases() -> Vec<PriceCase<'static>> {
    vec![
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
    ]
}

/// Classic Load Balancers, DB restores, Aurora instances, ElastiCache engines, DynamoDB, Kinesis,
/// EMR and DAX.
fn new_kind_cases() -> Vec<PriceCase<'static>> {
    vec![
        // A Classic Load Balancer (the 2012-06-01 API) in eu-west-1, 2 subnets: $0.028/h (not the
        // ALB's $0.0252) + 2 public IPv4 addresses at $0.005/h (internet-facing, the default).
        ("elb-create-load-balancer-classic", vec![], usd((d("0.028") + d("2") * d("0.005")) * H), None), // 20.44 + 7.30 = 27.74
        // Restores are new instances with new storage, at the published rates (us-east-1):
        // PostgreSQL db.m6g.large Single-AZ $0.159/h + 200 GB gp3 at $0.115/GB-month.
        (
            "rds-restore-db-instance-from-db-snapshot",
            vec![],
            usd(d("0.159") * H + d("200") * d("0.115")),
            Some("realtime.cost-increase"),
        ), // 139.07
        // MySQL db.r6g.xlarge Multi-AZ $0.859/h + 100 GB gp2 Multi-AZ at $0.23, tagged `env: staging`.
        (
            "rds-restore-db-instance-to-point-in-time",
            vec![],
            usd(d("0.859") * H + d("100") * d("0.23")),
            Some("realtime.multi-az-non-production"),
        ), // 650.07
        // An Aurora cluster restored: no compute until its instances; the snapshot's size is not
        // in the event (the reason gives the I/O-Optimized storage rate).
        ("rds-restore-db-cluster-from-snapshot", vec![], None, None),
        // A Multi-AZ DB cluster restored: MySQL db.m6gd.large $0.522/h (writer and two readable
        // standbys) + 200 GB gp3 at the Multi-AZ $0.23/GB-month.
        (
            "rds-restore-db-cluster-to-point-in-time",
            vec![],
            usd(d("0.522") * H + d("200") * d("0.23")),
            Some("realtime.cost-increase"),
        ), // 427.06
        // An Aurora PostgreSQL instance in eu-west-1: db.r6g.large Aurora Standard $0.286/h.
        ("rds-create-db-instance-aurora", vec![], usd(d("0.286") * H), Some("realtime.cost-increase")), // 208.78
        // Memcached, previous generation: 3 × cache.m3.medium at $0.09/h.
        (
            "elasticache-create-cache-cluster-memcached",
            vec![],
            usd(d("3") * d("0.09") * H),
            Some("realtime.cost-increase"),
        ), // 197.10
        // DynamoDB provisioned capacity, us-east-1 $0.00013/RCU-h and $0.00065/WCU-h: the table's
        // 200 RCU / 100 WCU plus its index's 50 / 50.
        ("dynamodb-create-table", vec![], usd((d("250") * d("0.00013") + d("150") * d("0.00065")) * H), None), // 94.90
        ("dynamodb-create-table-on-demand", vec![], None, None),
        // UpdateTable 100/100 -> 1000 RCU / 500 WCU (the response shows the old throughput):
        // +900 RCU and +400 WCU.
        (
            "dynamodb-update-table",
            vec![],
            usd((d("900") * d("0.00013") + d("400") * d("0.00065")) * H),
            Some("realtime.cost-increase"),
        ), // 275.21
        // Kinesis: 4 shards at $0.015/shard-hour; then 4 -> 10 shards, +6.
        ("kinesis-create-stream", vec![], usd(d("4") * d("0.015") * H), None), // 43.80
        ("kinesis-update-shard-count", vec![], usd(d("6") * d("0.015") * H), None), // 65.70
        // EMR: EC2 + EMR's charge per On-Demand instance; the 4 Spot task instances are not priced.
        // m5.xlarge $0.192 + $0.048, 2 × r5.xlarge ($0.252 + $0.063).
        (
            "emr-run-job-flow",
            vec![],
            usd((d("0.192") + d("0.048") + d("2") * (d("0.252") + d("0.063"))) * H),
            Some("realtime.cost-increase"),
        ), // 635.10
        // DAX: 3 × dax.r4.large at $0.269/h.
        ("dax-create-cluster", vec![], usd(d("3") * d("0.269") * H), Some("realtime.cost-increase")), // 589.11
    ]
}

/// RDS provisioned IOPS: io1 pays for every IOPS, gp3 for those above its baseline.
#[test]
fn rds_provisioned_iops_are_priced() {
    let path = format!("{}/../../events/receiver/rds-create-db-instance.json", env!("CARGO_MANIFEST_DIR"));
    let fixture: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let book = PriceBook::bundled_only(bundled());
    let with = |storage: &str, gib: u32, iops: u32| {
        let mut ev = fixture.clone();
        for part in ["requestParameters", "responseElements"] {
            ev["detail"][part]["storageType"] = storage.into();
            ev["detail"][part]["allocatedStorage"] = gib.into();
            ev["detail"][part]["iops"] = iops.into();
        }
        price_event(ev.to_string().as_bytes(), &book, &HashMap::new(), d("100")).unwrap()
    };
    // Multi-AZ db.r6g.2xlarge PostgreSQL ($1.798/h) with 100 GiB io1 ($0.25/GB-month Multi-AZ)
    // and 1,000 IOPS ($0.20/IOPS-month Multi-AZ; $0.10 Single-AZ, so $100 for 1,000 there).
    let io1 = with("io1", 100, 1_000);
    assert_eq!(
        io1.monthly_cost_usd,
        usd(d("1.798") * H + d("100") * d("0.25") + d("1000") * d("0.2")),
        "{:?}",
        io1.breakdown
    );
    // gp3 at 500 GiB includes 12,000 IOPS: 15,000 pays for 3,000 at $0.04 (Multi-AZ).
    let gp3 = with("gp3", 500, 15_000);
    assert_eq!(gp3.monthly_cost_usd, usd(d("1.798") * H + d("500") * d("0.23") + d("3000") * d("0.04")));
    // Below 400 GiB the baseline is 3,000: 3,000 IOPS on 100 GiB cost nothing extra.
    let small = with("gp3", 100, 3_000);
    assert_eq!(small.monthly_cost_usd, usd(d("1.798") * H + d("100") * d("0.23")));
}

/// EFS, VPC endpoints, transit gateway attachments, Route 53 and CloudWatch alarms, from the
/// bundled book. Keys ending `:month` (`mibps-month`, `route53:hosted-zone:month`,
/// `cloudwatch:alarm:…:month`) are monthly already: never × 730.
fn storage_and_network_cases() -> Vec<PriceCase<'static>> {
    vec![
        // 128 MiB/s × $6.00/MiB/s-month (us-east-1).
        ("efs-create-file-system-provisioned", vec![], usd(d("128") * d("6")), Some("realtime.cost-increase")), // 768.00
        // Elastic mode: billed by usage, nothing standing to price.
        ("efs-create-file-system", vec![], None, None),
        // 200 MiB/s × $6.00 (the previous throughput is not in the event).
        ("efs-update-file-system", vec![], usd(d("200") * d("6")), Some("realtime.cost-increase")), // 1200.00
        // 3 zones × $0.01/AZ-hour × 730 h.
        ("ec2-create-vpc-endpoint-interface", vec![], usd(d("3") * d("0.01") * H), None), // 21.90
        // 1 attachment × $0.05/h × 730 h (eu-west-1).
        ("ec2-create-transit-gateway-vpc-attachment", vec![], usd(d("0.05") * H), None), // 36.50
        // $0.50 per hosted zone-month.
        ("route53-create-hosted-zone", vec![], usd(d("0.50")), None),
        // One standard alarm metric at $0.10/month; two high-resolution ones at $0.30.
        ("cloudwatch-put-metric-alarm", vec![], usd(d("0.10")), None),
        ("cloudwatch-put-metric-alarm-math", vec![], usd(d("2") * d("0.30")), None), // 0.60
    ]
}

/// A gateway endpoint (S3, DynamoDB) is free: $0, said in the breakdown, with no rate to name.
#[test]
fn a_gateway_endpoint_costs_nothing() {
    let p = price("ec2-create-vpc-endpoint-gateway", &[]);
    assert_eq!(p.monthly_cost_usd, Some(Decimal::ZERO));
    assert_eq!(p.breakdown, ["gateway endpoint (S3 or DynamoDB): AWS charges nothing for it = $0.00"]);
    assert!(p.finding.is_none() && p.unpriced_reason.is_none() && p.price_source.is_none());
}

/// The arithmetic is shown with the book's rates and units, and the monthly keys are not
/// multiplied by 730.
#[test]
fn monthly_and_hourly_keys_show_their_arithmetic() {
    let lines = |name| price(name, &[]).breakdown.join(" | ");
    assert_eq!(lines("route53-create-hosted-zone"), "1 × Route 53 hosted zone at $0.5/month = $0.50");
    assert_eq!(lines("cloudwatch-put-metric-alarm-math"), "2 × high-resolution alarm metric at $0.3/month = $0.60");
    assert_eq!(
        lines("efs-create-file-system-provisioned"),
        "128 × MiB/s EFS provisioned throughput at $6/month = $768.00"
    );
    assert_eq!(
        lines("ec2-create-vpc-endpoint-interface"),
        "3 × interface endpoint Availability Zone at $0.01/h × 730 h = $21.90"
    );
    // Elastic mode's reason gives the storage rate it will be billed at (eu-west-1 Standard).
    let why = price("efs-create-file-system", &[]).unpriced_reason.unwrap();
    assert!(why.contains("priced by usage") && why.contains("$0.33/GB-month (Standard)"), "{why}");
}

/// With a book that lacks their rates, the new kinds are still classified, and stored unpriced
/// with the missing rate named: a rate is never invented.
#[test]
fn a_missing_rate_leaves_the_new_kinds_unpriced_with_the_reason() {
    let empty = costradar_core::pricing::Bundled::parse(
        r#"{"schema": 2, "currency": "USD", "generated": "2026-11-01", "sources": [],
            "regions": {"us-east-1": {}, "eu-west-1": {}}}"#,
    )
    .unwrap();
    let book = PriceBook::bundled_only(&empty);
    let cases = [
        ("efs-create-file-system-provisioned", "no price for MiB/s EFS provisioned throughput in us-east-1"),
        ("efs-update-file-system", "no price for MiB/s EFS provisioned throughput in us-east-1"),
        ("ec2-create-vpc-endpoint-interface", "no price for interface endpoint Availability Zone in us-east-1"),
        ("ec2-create-transit-gateway-vpc-attachment", "no price for transit gateway VPC attachment in eu-west-1"),
        ("route53-create-hosted-zone", "no price for Route 53 hosted zone in us-east-1"),
        ("cloudwatch-put-metric-alarm", "no price for standard alarm metric in us-east-1"),
        ("cloudwatch-put-metric-alarm-math", "no price for high-resolution alarm metric in us-east-1"),
    ];
    for (name, reason) in cases {
        let body = std::fs::read(format!("{}/../../events/receiver/{name}.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let p = price_event(&body, &book, &HashMap::new(), d("100")).unwrap();
        assert_eq!((p.monthly_cost_usd, p.unpriced_reason.as_deref()), (None, Some(reason)), "{name}");
        assert!(p.finding.is_none(), "{name}");
    }
    // Without a storage rate, the usage reason still says why, without a figure.
    let body =
        std::fs::read(format!("{}/../../events/receiver/efs-create-file-system.json", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
    let why = price_event(&body, &book, &HashMap::new(), d("100")).unwrap().unpriced_reason.unwrap();
    assert!(why.contains("priced by usage") && !why.contains('$'), "{why}");
}
