//! Every fixture in `events/receiver/` is classified as its kind, with the facts its cost model
//! needs pulled out of the AWS shapes.

use costradar_core::domain::event::{classify, Change, EventKind, InstanceOp};
use costradar_core::receiver::price::parse_envelope;

fn fixture(name: &str) -> costradar_core::domain::event::Classified {
    let path = format!("{}/../../events/receiver/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    classify(&parse_envelope(&body).unwrap_or_else(|e| panic!("{name}: {e}"))).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_fixture_has_its_kind() {
    let expected = [
        ("ec2-run-instances", EventKind::Ec2RunInstances),
        ("ec2-run-instances-gpu", EventKind::Ec2RunInstances),
        ("ec2-run-instances-previous-gen", EventKind::Ec2RunInstances),
        ("ec2-run-instances-us-west-1", EventKind::Ec2RunInstances),
        ("ec2-start-instances", EventKind::Ec2StartInstances),
        ("ec2-stop-instances", EventKind::Ec2StopInstances),
        ("ec2-terminate-instances", EventKind::Ec2TerminateInstances),
        ("ec2-state-change-running", EventKind::Ec2StateRunning),
        ("ec2-state-change-stopped", EventKind::Ec2StateStopped),
        ("ec2-state-change-terminated", EventKind::Ec2StateTerminated),
        ("ec2-modify-instance-type", EventKind::Ec2ModifyInstanceType),
        ("ebs-create-volume-gp2", EventKind::EbsCreateVolume),
        ("ebs-create-volume-io2", EventKind::EbsCreateVolume),
        ("ebs-modify-volume", EventKind::EbsModifyVolume),
        ("ec2-allocate-address", EventKind::Ec2AllocateAddress),
        ("ec2-release-address", EventKind::Ec2ReleaseAddress),
        ("ec2-create-nat-gateway", EventKind::Ec2CreateNatGateway),
        ("ec2-delete-nat-gateway", EventKind::Ec2DeleteNatGateway),
        ("elb-create-load-balancer", EventKind::ElbCreateLoadBalancer),
        ("rds-create-db-instance", EventKind::RdsCreateDbInstance),
        ("rds-modify-db-instance", EventKind::RdsModifyDbInstance),
        ("rds-create-db-cluster", EventKind::RdsCreateDbCluster),
        ("rds-start-db-instance", EventKind::RdsStartDbInstance),
        ("elasticache-create-cache-cluster", EventKind::ElasticacheCreateCacheCluster),
        ("elasticache-create-replication-group", EventKind::ElasticacheCreateReplicationGroup),
        ("eks-create-cluster", EventKind::EksCreateCluster),
        ("eks-create-nodegroup", EventKind::EksCreateNodegroup),
        ("lambda-put-provisioned-concurrency", EventKind::LambdaProvisionedConcurrency),
        ("sagemaker-create-endpoint-config", EventKind::SagemakerCreateEndpointConfig),
        ("sagemaker-create-endpoint", EventKind::SagemakerCreateEndpoint),
        ("sagemaker-create-notebook-instance", EventKind::SagemakerCreateNotebookInstance),
        ("sagemaker-create-training-job", EventKind::SagemakerCreateTrainingJob),
        ("redshift-create-cluster", EventKind::RedshiftCreateCluster),
        ("opensearch-create-domain", EventKind::OpensearchCreateDomain),
        ("msk-create-cluster", EventKind::MskCreateCluster),
        ("elb-create-load-balancer-classic", EventKind::ElbCreateLoadBalancer),
        ("rds-create-db-instance-aurora", EventKind::RdsCreateDbInstance),
        ("rds-restore-db-instance-from-db-snapshot", EventKind::RdsRestoreDbInstanceFromSnapshot),
        ("rds-restore-db-instance-to-point-in-time", EventKind::RdsRestoreDbInstanceToPointInTime),
        ("rds-restore-db-cluster-from-snapshot", EventKind::RdsRestoreDbClusterFromSnapshot),
        ("rds-restore-db-cluster-to-point-in-time", EventKind::RdsRestoreDbClusterToPointInTime),
        ("elasticache-create-cache-cluster-memcached", EventKind::ElasticacheCreateCacheCluster),
        ("dynamodb-create-table", EventKind::DynamodbCreateTable),
        ("dynamodb-create-table-on-demand", EventKind::DynamodbCreateTable),
        ("dynamodb-update-table", EventKind::DynamodbUpdateTable),
        ("kinesis-create-stream", EventKind::KinesisCreateStream),
        ("kinesis-update-shard-count", EventKind::KinesisUpdateShardCount),
        ("emr-run-job-flow", EventKind::EmrRunJobFlow),
        ("dax-create-cluster", EventKind::DaxCreateCluster),
        ("efs-create-file-system-provisioned", EventKind::EfsCreateFileSystem),
        ("efs-create-file-system", EventKind::EfsCreateFileSystem),
        ("efs-update-file-system", EventKind::EfsUpdateFileSystem),
        ("ec2-create-vpc-endpoint-interface", EventKind::Ec2CreateVpcEndpoint),
        ("ec2-create-vpc-endpoint-gateway", EventKind::Ec2CreateVpcEndpoint),
        ("ec2-create-transit-gateway-vpc-attachment", EventKind::Ec2CreateTransitGatewayVpcAttachment),
        ("route53-create-hosted-zone", EventKind::Route53CreateHostedZone),
        ("cloudwatch-put-metric-alarm", EventKind::CloudwatchPutMetricAlarm),
        ("cloudwatch-put-metric-alarm-math", EventKind::CloudwatchPutMetricAlarm),
        ("cloudwatch-billing-alarm", EventKind::BillingAlarm),
        ("unknown-event", EventKind::Unknown),
    ];
    for (name, kind) in expected {
        assert_eq!(fixture(name).kind, kind, "{name}");
    }
    // Every kind has a fixture (Unknown's is an S3 call).
    let covered: std::collections::HashSet<_> = expected.iter().map(|(_, k)| *k).collect();
    assert_eq!(covered.len(), EventKind::ALL.len());
    let dir = format!("{}/../../events/receiver", env!("CARGO_MANIFEST_DIR"));
    let files = std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "json"))
        .count();
    assert_eq!(files, expected.len(), "a fixture without an expectation");
}

#[test]
fn facts_are_extracted_from_the_aws_shapes() {
    let ev = fixture("ec2-run-instances");
    assert_eq!(ev.actor.arn.as_deref().map(|a| a.contains("assumed-role") || a.contains(":user/")), Some(true));
    match ev.change {
        Change::Instances { op: InstanceOp::Launch, instance_type, count, ids, .. } => {
            assert_eq!(instance_type.as_deref(), Some("m5.2xlarge"));
            assert_eq!(count, 2);
            assert_eq!(ids.len(), 2);
        }
        other => panic!("{other:?}"),
    }
    match fixture("ebs-modify-volume").change {
        Change::Volume { before: Some(b), after, .. } => {
            assert_eq!((b.volume_type.as_str(), b.size_gib), ("gp2", 1000));
            assert_eq!(
                (after.volume_type.as_str(), after.size_gib, after.iops, after.throughput_mibps),
                ("gp3", 1000, Some(6000), Some(250))
            );
        }
        other => panic!("{other:?}"),
    }
    match fixture("ebs-create-volume-io2").change {
        Change::Volume { after, before: None, .. } => {
            assert_eq!((after.volume_type.as_str(), after.size_gib, after.iops), ("io2", 2000, Some(64000)))
        }
        other => panic!("{other:?}"),
    }
    match fixture("rds-modify-db-instance").change {
        Change::DbInstance { class, previous_class, .. } => {
            assert_eq!(class.as_deref(), Some("db.r6g.4xlarge"));
            assert_eq!(previous_class.as_deref(), Some("db.r6g.2xlarge"));
        }
        other => panic!("{other:?}"),
    }
    match fixture("rds-create-db-instance").change {
        Change::DbInstance { created: true, multi_az, non_production, storage_gib, .. } => {
            assert!(multi_az && non_production);
            assert_eq!(storage_gib, Some(500));
        }
        other => panic!("{other:?}"),
    }
    match fixture("elasticache-create-replication-group").change {
        Change::CacheNodes { nodes, .. } => assert_eq!(nodes, 3),
        other => panic!("{other:?}"),
    }
    match fixture("cloudwatch-billing-alarm").change {
        Change::BillingAlarm { state, threshold_usd, .. } => {
            assert_eq!(state.as_deref(), Some("ALARM"));
            assert_eq!(threshold_usd.map(|t| t.to_string()), Some("5000.0".into()));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_endpoint_configuration_lists_its_instance_variants() {
    use costradar_core::domain::event::EndpointVariant;
    let ev = fixture("sagemaker-create-endpoint-config");
    let variant = |t: &str, n| EndpointVariant { instance_type: t.into(), instances: n };
    // The serverless variant has no instances: it is not listed.
    assert_eq!(
        ev.change,
        Change::EndpointConfig {
            name: Some("fraud-scorer-cfg-20261120".into()),
            variants: vec![variant("ml.g5.xlarge", 2), variant("ml.m5.xlarge", 1)],
        }
    );
    let ev = fixture("sagemaker-create-endpoint");
    assert!(matches!(ev.change, Change::Endpoint { ref config, ref variants, .. }
        if config.as_deref() == Some("fraud-scorer-cfg-20261120") && variants.is_empty()));
    // Only names SageMaker accepts are remembered or looked up.
    assert_eq!(EndpointVariant::memory_key("cfg-1").as_deref(), Some("endpoint-config/cfg-1"));
    for bad in ["", "a/b", "a#b", &"x".repeat(64)] {
        assert_eq!(EndpointVariant::memory_key(bad), None, "{bad}");
    }
}

#[test]
fn a_hostile_endpoint_variant_count_is_refused() {
    let body = std::fs::read_to_string(format!(
        "{}/../../events/receiver/sagemaker-create-endpoint-config.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["detail"]["requestParameters"]["productionVariants"][0]["initialInstanceCount"] = serde_json::json!(1_000_000);
    let e = classify(&parse_envelope(v.to_string().as_bytes()).unwrap()).unwrap_err();
    assert!(e.field.contains("initialInstanceCount"), "{e}");
}

/// A fixture as JSON, to be changed by a test.
fn fixture_json(name: &str) -> serde_json::Value {
    let path = format!("{}/../../events/receiver/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

fn classify_json(
    v: &serde_json::Value,
) -> Result<costradar_core::domain::event::Classified, costradar_core::domain::InvalidInput> {
    classify(&parse_envelope(v.to_string().as_bytes()).unwrap())
}

/// Prices a (changed) fixture with the bundled book and the default $100 threshold.
fn priced(v: &serde_json::Value) -> costradar_core::receiver::price::PricedEvent {
    use costradar_core::pricing::{bundled, PriceBook};
    let book = PriceBook::bundled_only(bundled());
    costradar_core::receiver::price::price_event(
        v.to_string().as_bytes(),
        &book,
        &Default::default(),
        "100".parse().unwrap(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn money(s: &str) -> Option<rust_decimal::Decimal> {
    Some(s.parse().unwrap())
}

#[test]
fn the_new_kinds_read_their_facts() {
    use costradar_core::domain::event::{EmrInstances, TableCapacity};
    match fixture("elb-create-load-balancer-classic").change {
        Change::LoadBalancer { kind, name, .. } => {
            assert_eq!((kind.as_str(), name.as_deref()), ("classic", Some("legacy-web")))
        }
        other => panic!("{other:?}"),
    }
    match fixture("rds-restore-db-instance-from-db-snapshot").change {
        Change::DbInstance { created: true, id, engine, class, multi_az: false, storage_type, storage_gib, .. } => {
            assert_eq!(id.as_deref(), Some("orders-restore-1120"));
            assert_eq!((engine.as_deref(), class.as_deref()), (Some("postgres"), Some("db.m6g.large")));
            assert_eq!((storage_type.as_deref(), storage_gib), (Some("gp3"), Some(200)));
        }
        other => panic!("{other:?}"),
    }
    match fixture("rds-restore-db-instance-to-point-in-time").change {
        Change::DbInstance { created: true, id, multi_az: true, non_production: true, .. } => {
            assert_eq!(id.as_deref(), Some("billing-mysql-pitr-1120"))
        }
        other => panic!("{other:?}"),
    }
    match fixture("rds-restore-db-cluster-from-snapshot").change {
        Change::DbCluster { restored: true, class: None, storage_gib: None, storage_type, .. } => {
            assert_eq!(storage_type.as_deref(), Some("aurora-iopt1"))
        }
        other => panic!("{other:?}"),
    }
    match fixture("rds-create-db-instance-aurora").change {
        Change::AuroraInstance { engine, class, storage_type: None, min_acu: None, .. } => {
            assert_eq!((engine.as_deref(), class.as_deref()), (Some("aurora-postgresql"), Some("db.r6g.large")))
        }
        other => panic!("{other:?}"),
    }
    match fixture("elasticache-create-cache-cluster-memcached").change {
        Change::CacheNodes { engine, nodes: 3, .. } => assert_eq!(engine.as_deref(), Some("memcached")),
        other => panic!("{other:?}"),
    }
    let cap = |rcu, wcu| Some(TableCapacity { rcu, wcu });
    match fixture("dynamodb-update-table").change {
        Change::DynamoDbTable { table, created: false, on_demand: false, capacity, previous } => {
            assert_eq!((table.as_deref(), capacity, previous), (Some("Music"), cap(1000, 500), cap(100, 100)))
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(fixture("dynamodb-create-table").change, Change::DynamoDbTable { capacity, .. } if capacity == cap(250, 150))
    );
    assert!(matches!(
        fixture("kinesis-update-shard-count").change,
        Change::KinesisStream { shards: Some(10), previous_shards: Some(4), created: false, .. }
    ));
    let od = |t: &str, count| EmrInstances { instance_type: t.into(), count };
    match fixture("emr-run-job-flow").change {
        Change::Emr { cluster, instances, spot_instances: 4, fleet_choice: false } => {
            assert_eq!(cluster.as_deref(), Some("j-3KF8Q2ZP7XW1M"));
            assert_eq!(instances, vec![od("m5.xlarge", 1), od("r5.xlarge", 2)]);
        }
        other => panic!("{other:?}"),
    }
    let dax = Change::Dax { cluster: Some("daxcluster".into()), node_type: Some("dax.r4.large".into()), nodes: 3 };
    assert_eq!(fixture("dax-create-cluster").change, dax);
}

/// Negative, huge and mistyped counts and sizes, and hostile ids, are a clear 400 naming the
/// field. Nothing panics.
#[test]
fn hostile_values_of_the_new_kinds_are_refused() {
    use serde_json::json;
    let refused = [
        (
            "dynamodb-create-table",
            "/detail/requestParameters/provisionedThroughput/readCapacityUnits",
            json!(-5),
            "readCapacityUnits",
        ),
        (
            "dynamodb-create-table",
            "/detail/requestParameters/provisionedThroughput/writeCapacityUnits",
            json!(1u64 << 40),
            "writeCapacityUnits",
        ),
        (
            "dynamodb-update-table",
            "/detail/responseElements/tableDescription/provisionedThroughput/readCapacityUnits",
            json!("lots"),
            "readCapacityUnits",
        ),
        (
            "dynamodb-create-table",
            "/detail/requestParameters/globalSecondaryIndexes",
            json!(vec![json!({}); 1000]),
            "globalSecondaryIndexes",
        ),
        ("kinesis-create-stream", "/detail/requestParameters/shardCount", json!(-1), "shardCount"),
        (
            "kinesis-update-shard-count",
            "/detail/requestParameters/targetShardCount",
            json!(1_000_000_000),
            "targetShardCount",
        ),
        ("kinesis-update-shard-count", "/detail/responseElements/currentShardCount", json!(2.5), "currentShardCount"),
        (
            "emr-run-job-flow",
            "/detail/requestParameters/instances/instanceGroups/1/instanceCount",
            json!(-2),
            "instanceCount",
        ),
        (
            "emr-run-job-flow",
            "/detail/requestParameters/instances/instanceGroups/1/instanceCount",
            json!(9_999_999),
            "instanceCount",
        ),
        ("dax-create-cluster", "/detail/requestParameters/replicationFactor", json!(-3), "replicationFactor"),
        ("dax-create-cluster", "/detail/requestParameters/replicationFactor", json!(1e12), "replicationFactor"),
        (
            "rds-restore-db-instance-from-db-snapshot",
            "/detail/responseElements/allocatedStorage",
            json!("200 GB"),
            "allocatedStorage",
        ),
        (
            "rds-create-db-instance-aurora",
            "/detail/responseElements/serverlessV2ScalingConfiguration",
            json!({"minCapacity": 1000}),
            "minCapacity",
        ),
        (
            "rds-restore-db-cluster-from-snapshot",
            "/detail/responseElements/dBClusterIdentifier",
            json!("x".repeat(600)),
            "resource id",
        ),
        (
            "rds-restore-db-instance-to-point-in-time",
            "/detail/responseElements/dBInstanceIdentifier",
            json!("db\u{0}1"),
            "resource id",
        ),
        ("dynamodb-create-table", "/detail/requestParameters/tableName", json!("t\n".repeat(300)), "resource id"),
    ];
    for (name, pointer, value, field) in refused {
        let mut v = fixture_json(name);
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let parent = v.pointer_mut(parent).and_then(|p| p.as_object_mut());
        parent.unwrap_or_else(|| panic!("{name} {pointer}")).insert(key.into(), value);
        let e = classify_json(&v).expect_err(pointer);
        assert!(e.field.contains(field), "{name} {pointer}: {e}");
    }
}

/// The same events without a fact their price needs are stored unpriced, with the reason.
#[test]
fn the_new_kinds_without_a_needed_fact_say_why_they_are_unpriced() {
    let unpriced = [
        (
            "dynamodb-create-table",
            "/detail/requestParameters/provisionedThroughput",
            "provisioned throughput is not in the event",
        ),
        ("kinesis-create-stream", "/detail/requestParameters/shardCount", "shard count is not in the event"),
        ("emr-run-job-flow", "/detail/requestParameters/instances", "instance types are not in the event"),
        ("dax-create-cluster", "/detail/requestParameters/nodeType", "node type is not in the event"),
        (
            "elasticache-create-cache-cluster-memcached",
            "/detail/requestParameters/cacheNodeType",
            "node type is not in the event",
        ),
    ];
    for (name, pointer, reason) in unpriced {
        let mut v = fixture_json(name);
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        if name == "dax-create-cluster" {
            v["detail"]["responseElements"]["cluster"].as_object_mut().unwrap().remove("nodeType");
        }
        v.pointer_mut(parent).unwrap().as_object_mut().unwrap().remove(key).unwrap();
        let p = priced(&v);
        assert_eq!(p.monthly_cost_usd, None, "{name} {pointer}");
        let why = p.unpriced_reason.unwrap_or_default();
        assert!(why.contains(reason), "{name} {pointer}: {why}");
    }
}

/// What each new cost model says when the event leaves something out, and the figures it then
/// gives, worked out by hand.
#[test]
fn the_new_kinds_say_what_the_event_leaves_out() {
    let h = costradar_core::pricing::HOURS_PER_MONTH;
    let d = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap();
    let says = |p: &costradar_core::receiver::price::PricedEvent, what: &str| {
        let all = p.assumptions.join(" | ");
        assert!(all.contains(what), "{what:?} not in {all}");
    };
    // A restore whose response does not give the storage: the instance alone, and it says so.
    let mut v = fixture_json("rds-restore-db-instance-from-db-snapshot");
    v["detail"]["responseElements"].as_object_mut().unwrap().remove("allocatedStorage");
    let p = priced(&v);
    assert_eq!(p.monthly_cost_usd, money("116.07")); // 0.159 × 730
    says(&p, "storage (type and size) is not in the event");
    // No class anywhere: unpriced.
    let mut v = fixture_json("rds-restore-db-instance-from-db-snapshot");
    v["detail"]["responseElements"].as_object_mut().unwrap().remove("dBInstanceClass");
    v["detail"]["requestParameters"].as_object_mut().unwrap().remove("dBInstanceClass");
    assert_eq!(priced(&v).unpriced_reason.as_deref(), Some("the DB instance class is not in the event"));
    // UpdateTable without the response: the full new capacity (1000 RCU, 500 WCU), said so.
    let mut v = fixture_json("dynamodb-update-table");
    v["detail"]["responseElements"] = serde_json::Value::Null;
    let p = priced(&v);
    assert_eq!(
        p.monthly_cost_usd,
        Some(costradar_core::domain::money::cents((d("1000") * d("0.00013") + d("500") * d("0.00065")) * h))
    ); // 332.15
    says(&p, "previous capacity is not in the event");
    // A scale-in is a saving: 10 -> 4 shards.
    let mut v = fixture_json("kinesis-update-shard-count");
    v["detail"]["requestParameters"]["targetShardCount"] = 4.into();
    v["detail"]["responseElements"]["currentShardCount"] = 10.into();
    assert_eq!(priced(&v).monthly_cost_usd, money("-65.70")); // −6 × 0.015 × 730
                                                              // On-demand streams are billed by traffic.
    let mut v = fixture_json("kinesis-create-stream");
    v["detail"]["requestParameters"]["streamModeDetails"]["streamMode"] = "ON_DEMAND".into();
    v["detail"]["requestParameters"].as_object_mut().unwrap().remove("shardCount");
    assert!(priced(&v).unpriced_reason.unwrap().contains("on-demand stream"));
    // An EMR cluster of Spot instances only.
    let mut v = fixture_json("emr-run-job-flow");
    for g in v["detail"]["requestParameters"]["instances"]["instanceGroups"].as_array_mut().unwrap() {
        g["market"] = "SPOT".into();
    }
    assert!(priced(&v).unpriced_reason.unwrap().contains("Spot"));
    // Aurora Serverless v2: per ACU-hour; the instance's event has no capacity ...
    let mut v = fixture_json("rds-create-db-instance-aurora");
    v["detail"]["requestParameters"]["dBInstanceClass"] = "db.serverless".into();
    v["detail"]["responseElements"]["dBInstanceClass"] = "db.serverless".into();
    let why = priced(&v).unpriced_reason.unwrap();
    assert!(why.contains("ACU-hour ($0.14/ACU-hour here, Standard)") && why.contains("CreateDBCluster"), "{why}");
    // ... and when it has the minimum: 0.5 ACU × $0.14 × 730 = $51.10 (eu-west-1).
    v["detail"]["responseElements"]["serverlessV2ScalingConfiguration"] =
        serde_json::json!({"minCapacity": 0.5, "maxCapacity": 16});
    let p = priced(&v);
    assert_eq!(p.monthly_cost_usd, money("51.10"));
    says(&p, "minimum capacity, 0.5 ACU");
    // I/O-Optimized when the event says so: db.r6g.large $0.372/h in eu-west-1.
    let mut v = fixture_json("rds-create-db-instance-aurora");
    v["detail"]["responseElements"]["storageType"] = "aurora-iopt1".into();
    assert_eq!(priced(&v).monthly_cost_usd, money("271.56")); // 0.372 × 730
                                                              // ElastiCache: the engine's own rate (Valkey is cheaper), Redis OSS when none is named, and
                                                              // an engine the book does not know is said.
    let mut v = fixture_json("elasticache-create-cache-cluster-memcached");
    v["detail"]["requestParameters"]["engine"] = "valkey".into();
    assert_eq!(priced(&v).monthly_cost_usd, money("157.68")); // 3 × 0.072 × 730
    v["detail"]["requestParameters"].as_object_mut().unwrap().remove("engine");
    let p = priced(&v);
    assert_eq!(p.monthly_cost_usd, money("197.10")); // Redis OSS cache.m3.medium is $0.09 too
    says(&p, "does not name the engine");
    v["detail"]["requestParameters"]["engine"] = "mongodb".into();
    assert!(priced(&v).unpriced_reason.unwrap().contains("\"mongodb\" is not in the price book"));
    // The same request through the 2015-12-01 API would be an ALB: $0.0252/h in eu-west-1, and the
    // public IPv4 address of each of its 2 zones at $0.005/h: (0.0252 + 2 × 0.005) × 730 = $25.70.
    let mut v = fixture_json("elb-create-load-balancer-classic");
    v["detail"]["apiVersion"] = "2015-12-01".into();
    assert_eq!(priced(&v).monthly_cost_usd, money("25.70"));
}

/// EFS, VPC endpoints, transit gateway attachments, Route 53 hosted zones and CloudWatch alarms:
/// the facts their prices need, read from the fixtures' AWS shapes.
#[test]
fn the_storage_and_network_kinds_read_their_facts() {
    let mibps = |n: u32| Some(rust_decimal::Decimal::from(n));
    let efs = |id: &str, created, mode: &str, provisioned_mibps, one_zone| Change::EfsFileSystem {
        id: Some(id.into()),
        created,
        throughput_mode: Some(mode.into()),
        provisioned_mibps,
        one_zone,
    };
    let cases = [
        ("efs-create-file-system-provisioned", efs("fs-0c4e8a2d6f1b3a5c7", true, "provisioned", mibps(128), false)),
        ("efs-create-file-system", efs("fs-07b3d5f9a1c2e4f6a", true, "elastic", None, false)),
        ("efs-update-file-system", efs("fs-0a1b2c3d4e5f60789", false, "provisioned", mibps(200), false)),
        (
            "ec2-create-vpc-endpoint-interface",
            Change::VpcEndpoint {
                id: Some("vpce-0f2e4d6c8b0a1c3e5".into()),
                endpoint_type: "Interface".into(),
                service: Some("com.amazonaws.us-east-1.ecr.api".into()),
                zones: 3,
            },
        ),
        (
            "ec2-create-vpc-endpoint-gateway",
            Change::VpcEndpoint {
                id: Some("vpce-0a7c9e1b3d5f2a4c6".into()),
                endpoint_type: "Gateway".into(),
                service: Some("com.amazonaws.us-east-1.s3".into()),
                zones: 0,
            },
        ),
        (
            "ec2-create-transit-gateway-vpc-attachment",
            Change::TransitGatewayAttachment {
                id: Some("tgw-attach-0e5d4c3b2a1f0e9d8".into()),
                transit_gateway: Some("tgw-0b1c2d3e4f5a6b7c8".into()),
            },
        ),
        (
            "route53-create-hosted-zone",
            Change::HostedZone {
                id: Some("Z04718392EXAMPLE1H7Q2".into()),
                name: Some("shop.example.com".into()),
                private: false,
            },
        ),
        (
            "cloudwatch-put-metric-alarm",
            Change::MetricAlarm {
                alarm: Some("api-node-cpu-high".into()),
                metrics: 1,
                high_resolution: false,
                insights_query: false,
            },
        ),
        // Two metrics at 10 s and the expression over them: two high-resolution alarm metrics.
        (
            "cloudwatch-put-metric-alarm-math",
            Change::MetricAlarm {
                alarm: Some("checkout-error-rate".into()),
                metrics: 2,
                high_resolution: true,
                insights_query: false,
            },
        ),
    ];
    for (name, want) in cases {
        assert_eq!(fixture(name).change, want, "{name}");
    }
    // Route 53 is global: its events come from us-east-1 whatever region the zone serves.
    assert_eq!(fixture("route53-create-hosted-zone").region, "us-east-1");
}

/// Negative, zero and absurd throughput, a 10,000-metric alarm, 10,000 subnets, mistyped
/// periods, and oversized or control-character ids: a 400 naming the field, never a panic or
/// a huge price.
#[test]
fn hostile_values_of_the_storage_and_network_kinds_are_refused() {
    use serde_json::json;
    // Small entries, so the event stays under the 256 KB a body may have (a bigger one is a 413).
    let q = json!({"metricStat": {}});
    let subnets: Vec<_> = (0..10_000).map(|i| json!(format!("s{i}"))).collect();
    let refused = [
        (
            "efs-create-file-system-provisioned",
            "/detail/requestParameters/provisionedThroughputInMibps",
            json!(-128.0),
            "provisionedThroughputInMibps",
        ),
        (
            "efs-create-file-system-provisioned",
            "/detail/responseElements/provisionedThroughputInMibps",
            json!(0),
            "provisionedThroughputInMibps",
        ),
        ("efs-update-file-system", "/detail/requestParameters/provisionedThroughputInMibps", json!(1e9), "provisionedThroughputInMibps"),
        (
            "efs-update-file-system",
            "/detail/requestParameters/provisionedThroughputInMibps",
            json!("unlimited"),
            "provisionedThroughputInMibps",
        ),
        ("cloudwatch-put-metric-alarm-math", "/detail/requestParameters/metrics", json!(vec![q; 10_000]), "metrics"),
        ("cloudwatch-put-metric-alarm", "/detail/requestParameters/period", json!(-300), "period"),
        (
            "cloudwatch-put-metric-alarm-math",
            "/detail/requestParameters/metrics/0/metricStat/period",
            json!(10.5),
            "metrics.0.metricStat.period",
        ),
        (
            "ec2-create-vpc-endpoint-interface",
            "/detail/responseElements/CreateVpcEndpointResponse/vpcEndpoint/subnetIdSet",
            json!({"item": subnets}),
            "subnetIdSet",
        ),
        ("efs-create-file-system", "/detail/responseElements/fileSystemId", json!("f".repeat(600)), "resource id"),
        ("efs-update-file-system", "/detail/requestParameters/fileSystemId", json!("fs-1\u{7}"), "resource id"),
        (
            "ec2-create-vpc-endpoint-gateway",
            "/detail/responseElements/CreateVpcEndpointResponse/vpcEndpoint/vpcEndpointId",
            json!("v".repeat(513)),
            "resource id",
        ),
        (
            "ec2-create-transit-gateway-vpc-attachment",
            "/detail/responseElements/CreateTransitGatewayVpcAttachmentResponse/transitGatewayVpcAttachment/transitGatewayAttachmentId",
            json!("tgw-attach-\n"),
            "resource id",
        ),
        ("route53-create-hosted-zone", "/detail/responseElements/hostedZone/id", json!(format!("/hostedzone/{}", "Z".repeat(600))), "resource id"),
        ("cloudwatch-put-metric-alarm", "/detail/requestParameters/alarmName", json!("a\u{0}b"), "resource id"),
    ];
    for (name, pointer, value, field) in refused {
        let mut v = fixture_json(name);
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let parent = v.pointer_mut(parent).unwrap_or_else(|| panic!("{name} {pointer}"));
        match parent {
            serde_json::Value::Array(a) => a[key.parse::<usize>().unwrap()] = value,
            p => {
                p.as_object_mut().unwrap().insert(key.into(), value);
            }
        }
        let e = classify_json(&v).expect_err(pointer);
        assert!(e.field.contains(field), "{name} {pointer}: {e}");
    }
    // 3,000 subnets in the request ({tag, content} members), when the response does not list them.
    let mut v = fixture_json("ec2-create-vpc-endpoint-interface");
    v["detail"]["responseElements"] = serde_json::Value::Null;
    let members: Vec<_> = (0..3_000).map(|i| json!({"tag": i, "content": format!("s{i}")})).collect();
    v["detail"]["requestParameters"]["CreateVpcEndpointRequest"]["SubnetId"] = json!(members);
    assert!(classify_json(&v).unwrap_err().field.ends_with("requestParameters.SubnetId"));
    // At the limits, the figures stay small and exact: 10,240 MiB/s × $6 = $61,440; 32 zones
    // × $0.01 × 730 = $233.60.
    let mut v = fixture_json("efs-update-file-system");
    v["detail"]["requestParameters"]["provisionedThroughputInMibps"] = json!(10_240);
    assert_eq!(priced(&v).monthly_cost_usd, money("61440.00"));
    let mut v = fixture_json("ec2-create-vpc-endpoint-interface");
    let zones: Vec<_> = (0..32).map(|i| format!("subnet-{i:017x}")).collect();
    v["detail"]["responseElements"]["CreateVpcEndpointResponse"]["vpcEndpoint"]["subnetIdSet"] = json!({"item": zones});
    assert_eq!(priced(&v).monthly_cost_usd, money("233.60"));
}

/// Without their ids the new kinds are still classified and priced; without what their price
/// needs, they are stored unpriced with the reason.
#[test]
fn the_storage_and_network_kinds_without_a_fact_say_why() {
    // No ids anywhere: still priced (the finding is then keyed on the event id).
    let strip: [(&str, &[&str]); 4] = [
        ("efs-update-file-system", &["/detail/requestParameters/fileSystemId", "/detail/responseElements/fileSystemId"]),
        ("ec2-create-transit-gateway-vpc-attachment", &["/detail/responseElements/CreateTransitGatewayVpcAttachmentResponse/transitGatewayVpcAttachment/transitGatewayAttachmentId"]),
        ("route53-create-hosted-zone", &["/detail/responseElements/hostedZone/id", "/detail/requestParameters/name", "/detail/responseElements/hostedZone/name"]),
        ("cloudwatch-put-metric-alarm", &["/detail/requestParameters/alarmName"]),
    ];
    for (name, pointers) in strip {
        let mut v = fixture_json(name);
        for pointer in pointers {
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            v.pointer_mut(parent).unwrap().as_object_mut().unwrap().remove(key).unwrap();
        }
        let ev = classify_json(&v).unwrap();
        assert_eq!(ev.change.resource_id(), None, "{name}");
        assert!(priced(&v).monthly_cost_usd.is_some(), "{name}");
    }
    let unpriced = |v: &serde_json::Value| {
        let p = priced(v);
        assert_eq!(p.monthly_cost_usd, None, "{:?}", p.breakdown);
        p.unpriced_reason.unwrap_or_default()
    };
    // An interface endpoint whose subnets are nowhere in the event.
    let mut v = fixture_json("ec2-create-vpc-endpoint-interface");
    v["detail"]["responseElements"] = serde_json::Value::Null;
    v["detail"]["requestParameters"]["CreateVpcEndpointRequest"].as_object_mut().unwrap().remove("SubnetId");
    assert!(unpriced(&v).contains("subnets (one per Availability Zone) are not in the event"));
    // A Gateway Load Balancer endpoint: not in the book, and said so.
    let mut v = fixture_json("ec2-create-vpc-endpoint-interface");
    v["detail"]["responseElements"]["CreateVpcEndpointResponse"]["vpcEndpoint"]["vpcEndpointType"] =
        "GatewayLoadBalancer".into();
    assert!(unpriced(&v).contains("\"GatewayLoadBalancer\" VPC endpoint is not in the price book"));
    // Provisioned mode without its throughput; an update back to Elastic (the saving is not known).
    let mut v = fixture_json("efs-create-file-system-provisioned");
    for side in ["requestParameters", "responseElements"] {
        v["detail"][side].as_object_mut().unwrap().remove("provisionedThroughputInMibps");
    }
    assert_eq!(unpriced(&v), "the provisioned throughput is not in the event");
    let mut v = fixture_json("efs-update-file-system");
    v["detail"]["requestParameters"] =
        serde_json::json!({"fileSystemId": "fs-0a1b2c3d4e5f60789", "throughputMode": "elastic"});
    v["detail"]["responseElements"] = serde_json::Value::Null;
    assert!(unpriced(&v).contains("now uses elastic throughput, billed by usage"));
    // A plain CreateFileSystem in the API's default mode (Bursting): priced by usage, with the
    // storage rate of its class (One Zone here, $0.176/GB-month in eu-west-1).
    let mut v = fixture_json("efs-create-file-system");
    for side in ["requestParameters", "responseElements"] {
        v["detail"][side].as_object_mut().unwrap().remove("throughputMode");
    }
    v["detail"]["requestParameters"]["availabilityZoneName"] = "eu-west-1a".into();
    let why = unpriced(&v);
    assert!(why.contains("priced by usage") && why.contains("$0.176/GB-month (One Zone)"), "{why}");
    assert!(why.contains("Bursting throughput included"), "{why}");
    // A metric math alarm whose entries retrieve no metric.
    let mut v = fixture_json("cloudwatch-put-metric-alarm-math");
    v["detail"]["requestParameters"]["metrics"] =
        serde_json::json!([{"id": "c", "expression": "TIME_SERIES(1)", "returnData": true}]);
    assert_eq!(unpriced(&v), "the alarm retrieves no metric that the event names");
}
