//! Scan Lambda: the scan state machine's tasks (list_due_accounts, scan_account, finish_run;
//! docs/workflows.md) and the daily Price List refresh (refresh_price_list). Configuration, the
//! store, the price snapshot and the SDK clients are built once, before the first task.

mod config;
mod handler;

use std::sync::Arc;

use costradar_aws::price_list::PriceListApi;
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
    let tasks =
        ScanTasks::new(scanner, store, Arc::new(SystemClock)).with_price_list(Arc::new(PriceListApi::from_sdk(&sdk)));
    let tasks = &tasks;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| handler::handle(tasks, event))).await
}
