//! Enrichment against moto: a StopInstances event names an instance but not its type; the
//! receiver reads the type through the customer's enrichment role (EC2 in moto; STS as a role
//! world in which only that role trusts the receiver) and prices the stop.

use std::sync::Arc;
use std::time::Duration;

use costradar_aws::enrich::Ec2Enricher;
use costradar_core::domain::*;
use costradar_core::onboarding::Onboarding;
use costradar_core::pricing::model::InstanceFacts;
use costradar_core::receiver::Receiver;
use costradar_core::store::{EventStore, MemoryStore};
use costradar_core::testing::{settings, tenant_with_accounts, FakeAssumer, RoleWorld};
use costradar_tests::{repo_root, sdk_config};
use serde_json::Value;

async fn launch(instance_type: &str) -> String {
    let ec2 = aws_sdk_ec2::Client::new(&sdk_config().await);
    let out = ec2
        .run_instances()
        .image_id("ami-12c6146b")
        .instance_type(instance_type.into())
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .expect("moto RunInstances");
    out.instances()[0].instance_id().unwrap().to_owned()
}

fn stop_event(id: &str, instance: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(repo_root().join("events/receiver/ec2-stop-instances.json")).unwrap();
    let mut ev: Value = serde_json::from_str(&text).unwrap();
    ev["id"] = id.into();
    ev["detail"]["requestParameters"]["instancesSet"]["items"][0]["instanceId"] = instance.into();
    ev["detail"]["responseElements"]["instancesSet"]["items"][0]["instanceId"] = instance.into();
    serde_json::to_vec(&ev).unwrap()
}

#[tokio::test]
async fn a_stop_is_priced_with_the_type_read_from_the_account() {
    let instance = launch("m5.2xlarge").await;
    let store = Arc::new(MemoryStore::new());
    let svc =
        Onboarding::new(store.clone(), Arc::new(FakeAssumer::enforcing()), Arc::new(SystemClock), settings(false));
    let (created, tokens) =
        tenant_with_accounts(&svc, "Acme", &["arn:aws:iam::123456789012:role/CostradarReadOnly"]).await;

    let sdk = sdk_config().await;
    // STS as the customer's stack sets it up: only the enrichment role exists for the receiver
    // (with the tenant's ExternalId); the read-only role is not the receiver's to assume.
    let roles = Arc::new(RoleWorld::default());
    roles.trust(&format!("arn:aws:iam::123456789012:role/{ENRICHMENT_ROLE_NAME}"), created.external_id.as_str());
    let enricher = Ec2Enricher::new(roles.clone(), sdk, Arc::new(SystemClock));
    let receiver = Receiver::new(store.clone(), costradar_core::pricing::bundled(), Arc::new(SystemClock))
        .with_cache_ttl(Duration::ZERO)
        .with_enricher(Arc::new(enricher));
    let tenant = created.id.as_str();
    let key = Some(tokens[0].as_str());
    let path = format!("/events/{tenant}");

    let reply = receiver.handle("POST", &path, key, Some("application/json"), &stop_event("e-1", &instance)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    // m5.2xlarge Linux in us-east-1 (bundled book): $0.384/h, and the instance (in moto's default
    // VPC) has a public IPv4 address, which a stop releases: (0.384 + 0.005) × 730 = $283.97.
    let stored = store.get_event(&created.id, "e-1").await.unwrap().unwrap();
    assert_eq!(stored["monthly_cost_usd"], "-283.97", "{stored}");
    assert_eq!(stored["price_source"], "bundled");

    // The type is remembered: a later event for the instance needs no lookup.
    let account = AccountId::parse("123456789012").unwrap();
    let known = store.instance_types(&created.id, &account, std::slice::from_ref(&instance)).await.unwrap();
    let known = known.get(&instance).map(|s| InstanceFacts::from_remembered(s)).unwrap();
    // moto answers no PlatformDetails (the OS stays unknown, priced as Linux and said so); the
    // public address it reports is remembered with the type.
    assert_eq!((known.instance_type.as_str(), known.os, known.public_ipv4), ("m5.2xlarge", None, Some(true)));
    assert!(stored["assumptions"].to_string().contains("platform is not known"), "{stored}");

    // An instance the account does not have: accepted and stored, unpriced, with the reason.
    let reply =
        receiver.handle("POST", &path, key, Some("application/json"), &stop_event("e-2", "i-0000000000000dead")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let stored = store.get_event(&created.id, "e-2").await.unwrap().unwrap();
    assert_eq!(stored["monthly_cost_usd"], Value::Null);
    assert!(stored["unpriced_reason"].as_str().unwrap().contains("could not be read from the account"));
}
