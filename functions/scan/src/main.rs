//! Scan Lambda: the scan state machine's tasks (list_due_accounts, scan_account, finish_run;
//! docs/workflows.md) and the daily Price List refresh (refresh_price_list). Configuration, the
//! store, the price snapshot and the SDK clients are built once, before the first task.

mod config;
mod handler;

use std::sync::Arc;

use costradar_aws::price_list::PriceListApi;
use costradar_aws::runs_bucket::S3RunObjects;
use costradar_aws::scan::AwsSessionOpener;
use costradar_aws::DynamoStore;
use costradar_aws::{sdk_config, StsRoleAssumer};
use costradar_core::domain::SystemClock;
use costradar_core::scan::tasks::ScanTasks;
use costradar_core::scan::Scanner;
use lambda_runtime::{service_fn, LambdaEvent};

use crate::config::Config;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let sdk = sdk_config(None).await;
    let store = Arc::new(DynamoStore::from_sdk(&sdk, config.table));
    let opener = AwsSessionOpener::new(Arc::new(StsRoleAssumer::from_sdk(&sdk)), sdk.clone());
    let scanner = Scanner::new(Arc::new(opener), store.clone(), costradar_core::pricing::bundled());
    // The digest task: the operator's topic (NOTIFY_TOPIC_ARN, optional) and tenants' webhooks.
    let topic = config::notify_topic_arn(costradar_core::config::from_process_env)?;
    let notifier = Arc::new(costradar_aws::notify::AwsNotifier::from_sdk(&sdk));
    let digest = Arc::new(costradar_core::digest::DigestService::new(store.clone(), notifier, topic));
    let tasks = ScanTasks::new(scanner, store, Arc::new(SystemClock))
        .with_digest(digest)
        .with_price_list(Arc::new(PriceListApi::from_sdk(&sdk)))
        .with_run_objects(Arc::new(S3RunObjects::from_sdk(&sdk, config.runs_bucket)));
    let tasks = &tasks;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| handler::handle(tasks, event))).await
}
