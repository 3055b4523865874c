//! Receiver Lambda behind a function URL: `POST /events/{tenant_id}` from customers'
//! EventBridge API destinations. Configuration, the price snapshot and SDK clients are built
//! once, before the first event.

mod config;
mod handler;

use std::sync::Arc;

use costradar_aws::dynamodb::WriteBudget;
use costradar_aws::enrich::Ec2Enricher;
use costradar_aws::notify::AwsNotifier;
use costradar_aws::{sdk_config, DynamoStore, StsRoleAssumer};
use costradar_core::domain::SystemClock;
use costradar_core::receiver::notify::Notifications;
use costradar_core::receiver::Receiver;
use lambda_http::{service_fn, Error, Request};

use crate::config::Config;

// Parsing an event allocates a small tree per event: mimalloc makes that cheaper (figures in
// docs/benchmarks.md, from crates/core/benches/receiver_pipeline.rs).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let sdk = sdk_config(None).await;
    let clock = Arc::new(SystemClock);
    let enricher = Ec2Enricher::new(Arc::new(StsRoleAssumer::from_sdk(&sdk)), sdk.clone(), clock.clone());
    let notifications = Notifications::new(config.operator_targets(), Box::new(AwsNotifier::from_sdk(&sdk)));
    // Throttled writes wait inside each request's time budget (handler::budget), then 503.
    let budget = WriteBudget::default();
    let store = DynamoStore::with_request_budget(&sdk, config.table, budget.clone());
    let receiver = Receiver::new(Arc::new(store), costradar_core::pricing::bundled(), clock)
        .with_enricher(Arc::new(enricher))
        .with_notifications(Arc::new(notifications));
    let (receiver, budget) = (&receiver, &budget);
    lambda_http::run(service_fn(move |req: Request| handler::handle_within(receiver, budget, req))).await
}
