//! The DynamoDB store waits out throttling inside its time budget (issue #20), against
//! aws-smithy-mocks: moto never throttles. The SDK's own retries are off here, so every retry
//! counted is the store's.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::error::ErrorMetadata;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
use aws_sdk_dynamodb::operation::transact_write_items::{TransactWriteItemsError, TransactWriteItemsOutput};
use aws_sdk_dynamodb::types::error::TransactionCanceledException;
use aws_sdk_dynamodb::types::CancellationReason;
use aws_sdk_dynamodb::Client;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use chrono::Utc;
use costradar_aws::dynamodb::WriteBudget;
use costradar_aws::DynamoStore;
use costradar_core::domain::finding::Finding;
use costradar_core::domain::{AccountId, TenantId};
use costradar_core::store::{EventStore, Recorded, StoreError};
use serde_json::json;

fn store(rules: &[&Rule], budget: Option<Duration>) -> DynamoStore {
    let client: Client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, rules, |c| c
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled()));
    let b = WriteBudget::default();
    if let Some(d) = budget {
        b.until(Instant::now() + d);
    }
    DynamoStore::new(client, "costradar").with_budget(b)
}

fn tenant() -> TenantId {
    TenantId::parse("t-0123456789abcdef").unwrap()
}

fn throttled_put() -> PutItemError {
    PutItemError::generic(
        ErrorMetadata::builder().code("ProvisionedThroughputExceededException").message("rate exceeded").build(),
    )
}

fn throttled_transaction() -> TransactWriteItemsError {
    let msg = "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ThrottlingError]";
    TransactWriteItemsError::TransactionCanceledException(
        TransactionCanceledException::builder()
            .message(msg)
            .cancellation_reasons(CancellationReason::builder().code("None").build())
            .cancellation_reasons(CancellationReason::builder().code("ThrottlingError").build())
            .meta(ErrorMetadata::builder().code("TransactionCanceledException").message(msg).build())
            .build(),
    )
}

async fn record(store: &DynamoStore, finding: Option<&Finding>) -> Result<Recorded, StoreError> {
    let event = json!({"id": "e-1", "kind": "nat_gateway", "received_at": "2026-11-20T10:00:00Z"});
    store.record_event(&tenant(), "e-1", &event, finding, Utc::now() + chrono::Duration::days(90)).await
}

#[tokio::test]
async fn a_throttle_then_success_stores_the_event() {
    let put = mock!(Client::put_item)
        .sequence()
        .error(throttled_put)
        .times(2)
        .output(|| PutItemOutput::builder().build())
        .build();
    let s = store(&[&put], Some(Duration::from_secs(5)));
    assert_eq!(record(&s, None).await, Ok(Recorded::New));
    assert_eq!(put.num_calls(), 3);
}

#[tokio::test]
async fn throttles_until_the_budget_is_spent_are_unavailable_and_write_nothing() {
    let get = mock!(Client::get_item).then_output(|| GetItemOutput::builder().build());
    let tx = mock!(Client::transact_write_items).sequence().error(throttled_transaction).times(1000).build();
    let put = mock!(Client::put_item).then_output(|| PutItemOutput::builder().build());
    let s = store(&[&get, &tx, &put], Some(Duration::from_millis(400)));
    let acct = AccountId::parse("123456789012").unwrap();
    let f = Finding::open(tenant(), acct, "us-east-1", "realtime.nat", "nat-1", "NAT", Utc::now());
    let started = Instant::now();
    let out = record(&s, Some(&f)).await;
    assert!(matches!(out, Err(StoreError::Unavailable(_))), "{out:?}");
    // Retried while the budget lasted, and gave up within it (plus one back-off at most).
    assert!(tx.num_calls() > 1, "{} calls", tx.num_calls());
    assert!(started.elapsed() < Duration::from_millis(400 + 800 + 200), "{:?}", started.elapsed());
    // The transaction is the only write: no half of it went in separately.
    assert_eq!(put.num_calls(), 0);
}

#[tokio::test]
async fn without_a_budget_a_throttle_is_returned_at_once() {
    let put = mock!(Client::put_item).sequence().error(throttled_put).times(5).build();
    let s = store(&[&put], None);
    assert!(matches!(record(&s, None).await, Err(StoreError::Unavailable(_))));
    assert_eq!(put.num_calls(), 1);
}

#[tokio::test]
async fn a_conditional_failure_is_not_retried() {
    let dup = mock!(Client::put_item)
        .then_error(|| PutItemError::generic(ErrorMetadata::builder().code("ConditionalCheckFailedException").build()));
    let s = store(&[&dup], Some(Duration::from_secs(5)));
    assert_eq!(record(&s, None).await, Ok(Recorded::Duplicate));
    assert_eq!(dup.num_calls(), 1);
}

#[tokio::test]
async fn a_successful_transaction_is_one_call() {
    let get = mock!(Client::get_item).then_output(|| GetItemOutput::builder().build());
    let tx = mock!(Client::transact_write_items).then_output(|| TransactWriteItemsOutput::builder().build());
    let s = store(&[&get, &tx], Some(Duration::from_secs(5)));
    let acct = AccountId::parse("123456789012").unwrap();
    let f = Finding::open(tenant(), acct, "us-east-1", "realtime.nat", "nat-1", "NAT", Utc::now());
    assert_eq!(record(&s, Some(&f)).await, Ok(Recorded::New));
    assert_eq!(tx.num_calls(), 1);
}
