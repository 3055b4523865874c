//! CUR-query Lambda: the Step Functions tasks that run the CUR query library on Athena in a
//! customer's account (start, poll, stop, fetch_and_analyse; docs/workflows.md). Configuration,
//! the store and the STS client are built once, before the first task.

mod config;
mod handler;

use std::sync::Arc;

use costradar_aws::athena::AssumedAthena;
use costradar_aws::reports::S3Reports;
use costradar_aws::{sdk_config, DynamoStore, StsRoleAssumer};
use costradar_core::cur::analysis::AnalysisOptions;
use costradar_core::cur::tasks::CurTasks;
use costradar_core::domain::SystemClock;
use lambda_runtime::{service_fn, LambdaEvent};

use crate::config::Config;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let sdk = sdk_config(None).await;
    let clock = Arc::new(SystemClock);
    let athena =
        AssumedAthena { assumer: Arc::new(StsRoleAssumer::from_sdk(&sdk)), base: sdk.clone(), clock: clock.clone() };
    let tasks = CurTasks {
        store: Arc::new(DynamoStore::from_sdk(&sdk, config.table)),
        athena: Arc::new(athena),
        clock,
        options: AnalysisOptions::default(),
        reports: Some(Arc::new(S3Reports::from_sdk(&sdk, config.reports_bucket))),
    };
    let tasks = &tasks;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| handler::handle(tasks, event))).await
}
