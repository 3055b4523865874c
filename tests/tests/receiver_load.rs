//! Load against moto's DynamoDB: 10,000 events, 10% of them repeats and 5% invalid, sent with
//! bounded concurrency. The number of stored events must equal the number of unique valid
//! events exactly. The throughput it prints is a figure, not an assertion.

use std::sync::Arc;
use std::time::{Duration, Instant};

use costradar_aws::StsRoleAssumer;
use costradar_core::domain::*;
use costradar_core::onboarding::Onboarding;
use costradar_core::receiver::Receiver;
use serde_json::{json, Value};

const TOTAL: usize = 10_000;
const CONCURRENCY: usize = 16;

fn event(i: usize) -> Value {
    json!({
        "version": "0", "id": format!("00000000-0000-4000-8000-{i:012}"), "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2", "account": "123456789012", "time": "2026-11-20T10:00:00Z", "region": "us-east-1", "resources": [],
        "detail": {"eventSource": "ec2.amazonaws.com", "eventName": "AllocateAddress", "requestParameters": {"domain": "vpc"},
                   "responseElements": {"allocationId": format!("eipalloc-{i:08x}"), "publicIp": "203.0.113.9"}}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_events_with_repeats_and_garbage_are_stored_exactly_once() {
    let store = costradar_tests::fresh_table("load").await;
    let sdk = costradar_tests::sdk_config().await;
    let svc = Onboarding::new(
        Arc::new(store.clone()),
        Arc::new(StsRoleAssumer::from_sdk(&sdk)),
        Arc::new(SystemClock),
        costradar_core::testing::settings(true),
    );
    let (created, mut tokens) = costradar_core::testing::tenant_with_accounts(
        &svc,
        "Load",
        &["arn:aws:iam::123456789012:role/CostradarReadOnly"],
    )
    .await;
    // The receiver's own throughput: the per-tenant rate limit is tested in tests/attacks.rs.
    let receiver = Arc::new(
        Receiver::new(Arc::new(store.clone()), costradar_core::pricing::bundled(), Arc::new(SystemClock))
            .with_rate_limit(1e9, 1e9),
    );

    // Deterministic mix: every 20th request is invalid (5%), every 10th repeats an earlier id (10%).
    let mut bodies = Vec::with_capacity(TOTAL);
    let mut unique = std::collections::HashSet::new();
    let mut next = 0usize;
    for n in 0..TOTAL {
        if n % 20 == 19 {
            bodies.push(b"{\"id\": \"broken".to_vec());
        } else if n % 10 == 9 && next > 0 {
            bodies.push(event(n % next).to_string().into_bytes());
        } else {
            unique.insert(next);
            bodies.push(event(next).to_string().into_bytes());
            next += 1;
        }
    }
    let path = format!("/events/{}", created.id);
    let token = tokens.remove(0);
    let started = Instant::now();
    let work = Arc::new(std::sync::Mutex::new(bodies.into_iter().enumerate().collect::<Vec<_>>()));
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (work, receiver, path, token) = (work.clone(), receiver.clone(), path.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut counts = [0usize; 3]; // accepted, duplicate, rejected
            loop {
                let Some((_, body)) = work.lock().unwrap().pop() else { break };
                let t = Instant::now();
                // Transient failures are retried, as EventBridge would.
                let reply = loop {
                    let r = receiver.handle("POST", &path, Some(&token), Some("application/json"), &body).await;
                    if r.status < 500 {
                        break r;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                };
                latencies.push(t.elapsed());
                match (reply.status, reply.body["status"].as_str()) {
                    (200, Some("accepted")) => counts[0] += 1,
                    (200, Some("duplicate")) => counts[1] += 1,
                    (400, _) => counts[2] += 1,
                    other => panic!("unexpected reply {other:?}: {}", reply.body),
                }
            }
            (latencies, counts)
        }));
    }
    let mut latencies = Vec::new();
    let mut counts = [0usize; 3];
    for t in tasks {
        let (l, c) = t.await.unwrap();
        latencies.extend(l);
        (0..3).for_each(|i| counts[i] += c[i]);
    }
    let wall = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "receiver load on moto: {TOTAL} requests in {:.1} s ({:.0}/s, concurrency {CONCURRENCY}); p50 {:?}, p99 {:?}; accepted {}, duplicates {}, rejected {}",
        wall.as_secs_f64(),
        TOTAL as f64 / wall.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        counts[0],
        counts[1],
        counts[2]
    );
    assert_eq!(counts[2], TOTAL / 20, "every invalid request is rejected");
    assert_eq!(counts[0], unique.len(), "every unique valid event is accepted once");
    assert_eq!(counts[0] + counts[1] + counts[2], TOTAL);

    // And the table agrees: exactly one EVENT# item per unique valid event, over the tenant's
    // partition and its write shards (`keys::shard_pks`), and every shard takes a share.
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let mut stored = 0;
    let mut per_partition = Vec::new();
    let partitions = std::iter::once(costradar_core::store::keys::tenant_pk(&created.id))
        .chain(costradar_core::store::keys::shard_pks(&created.id));
    for pk in partitions {
        let mut pages = client
            .query()
            .table_name(store.table())
            .key_condition_expression("PK = :p AND begins_with(SK, :e)")
            .expression_attribute_values(":p", aws_sdk_dynamodb::types::AttributeValue::S(pk))
            .expression_attribute_values(":e", aws_sdk_dynamodb::types::AttributeValue::S("EVENT#".into()))
            .select(aws_sdk_dynamodb::types::Select::Count)
            .into_paginator()
            .send();
        let mut here = 0;
        while let Some(p) = pages.next().await {
            here += p.unwrap().count as usize;
        }
        per_partition.push(here);
        stored += here;
    }
    assert_eq!(stored, unique.len());
    println!("events per partition (unsharded, then shards): {per_partition:?}");
    assert_eq!(per_partition[0], 0, "no event left in the unsharded partition");
    assert!(per_partition[1..].iter().all(|&n| n > 0), "{per_partition:?}");
}
