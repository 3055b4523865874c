//! The compute additions to the scan against moto (5.2.6), each with waste and traps, through
//! STS AssumeRole, the scanners, CloudWatch and an in-memory store.
//!
//! EC2: moto gives an instance launched in a default subnet an auto-assigned public IPv4
//! address (none in a subnet of its own VPC; the Elastic IP once one is associated), as EC2 does.
//!
//! DynamoDB: moto's DescribeTable always answers `TableSizeBytes` 0 and no `TableClassSummary`,
//! so no moto table is ever storage-heavy: only the traps play here (tables that store nothing
//! are never pointed at Standard-IA); the storage-heavy table is tested with aws-smithy-mocks
//! (`costradar_aws::scan`'s tests).

use std::collections::BTreeSet;

use costradar_core::domain::finding::Finding;
use costradar_core::domain::AccountId;
use costradar_core::scan::AccountScan;
use costradar_tests::scan_world::{fresh_account, World};

const PUBLIC_IPV4: &str = "ec2.public-ipv4";

#[tokio::test]
async fn auto_assigned_public_addresses_are_found_and_traps_are_left_alone() {
    let account_id = AccountId::parse(&fresh_account()).unwrap();
    let account = account_id.as_str();
    let w = World::new(account, "us-east-1").await;
    let (_, subnets) = w.network().await;
    // Waste: an instance with an auto-assigned address.
    let exposed = w.instance("t3.micro").await;
    // Traps: an instance holding an Elastic IP; one in a subnet that maps no public address; a
    // stopped one.
    let with_eip = w.instance("t3.micro").await;
    let (allocation, _) = w.address().await;
    w.associate(&allocation, &with_eip).await;
    let private = w.instance_in(&subnets[0], "t3.micro").await;
    let stopped = w.instance("t3.micro").await;
    w.stop(&stopped).await;

    let out = scan(account).await;
    let ours = |rule: &str| -> BTreeSet<String> {
        out.findings.iter().filter(|f| f.rule == rule).map(|f| f.resource_id.clone()).collect()
    };

    // The one auto-assigned address, keyed on its network interface, at $0.005 × 730.
    let eni = primary_interface(&w, &exposed).await;
    assert_eq!(ours(PUBLIC_IPV4), BTreeSet::from([eni.clone()]), "{:#?}", out.findings);
    let ip = finding(&out, PUBLIC_IPV4, &eni);
    assert_eq!(ip.monthly_savings_usd, Some("3.65".parse().unwrap()));
    assert!(ip.title.contains(&exposed), "{}", ip.title);
    assert_eq!(
        ip.fix_command.as_deref(),
        Some(&*format!(
            "aws ec2 modify-network-interface-attribute --network-interface-id {eni} \
             --no-associate-public-ip-address --region us-east-1"
        ))
    );
    for id in [&with_eip, &private, &stopped] {
        let its_eni = primary_interface(&w, id).await;
        assert!(out.findings.iter().all(|f| !(f.rule == PUBLIC_IPV4 && f.resource_id == its_eni)), "{id}");
    }
}

#[tokio::test]
async fn tables_that_store_nothing_are_never_pointed_at_standard_ia() {
    let account_id = AccountId::parse(&fresh_account()).unwrap();
    let account = account_id.as_str();
    let w = World::new(account, "us-east-1").await;
    // Both look like archive tables: barely read or written. moto stores 0 bytes for each.
    let provisioned = w.dynamo_table("history", Some((5, 5))).await;
    let on_demand = w.dynamo_table("audit", None).await;
    for t in ["history", "audit"] {
        for metric in ["ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits"] {
            w.metric_series("AWS/DynamoDB", metric, ("TableName", t), &[(3600, 3.0)]).await;
        }
    }
    let out = scan(account).await;
    assert!(out.findings.iter().all(|f| f.rule != "dynamodb.standard-ia"), "{:#?}", out.findings);
    // The tables were seen and judged by the other rules (overprovisioned: 5 RCU for a need of 1).
    assert!(out.findings.iter().any(|f| f.resource_id == provisioned), "{:#?}", out.findings);
    assert!(out.findings.iter().all(|f| f.resource_id != on_demand));
}

fn finding<'a>(out: &'a AccountScan, rule: &str, id: &str) -> &'a Finding {
    out.findings.iter().find(|f| f.rule == rule && f.resource_id == id).unwrap_or_else(|| panic!("{rule} {id}"))
}

/// The instance's network interface at device index 0.
async fn primary_interface(w: &World, instance: &str) -> String {
    let d = w.ec2.describe_instances().instance_ids(instance).send().await.expect("describe instance");
    d.reservations()[0].instances()[0]
        .network_interfaces()
        .iter()
        .find(|n| n.attachment().and_then(|a| a.device_index()) == Some(0))
        .and_then(|n| n.network_interface_id())
        .expect("primary interface")
        .to_owned()
}

/// One scan of `account` in us-east-1 (scan_world's moto settings), complete and error-free.
async fn scan(account: &str) -> costradar_core::scan::AccountScan {
    costradar_tests::scan_world::scan_complete(account, serde_json::json!({})).await
}
