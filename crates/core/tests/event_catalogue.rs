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
        ("cloudwatch-billing-alarm", EventKind::BillingAlarm),
        ("unknown-event", EventKind::Unknown),
    ];
    for (name, kind) in expected {
        assert_eq!(fixture(name).kind, kind, "{name}");
    }
    // Every kind but Unknown has a fixture; 32 kinds in all.
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
