//! Onboarding Lambda. Builds configuration and clients once, then serves two triggers: the
//! operator HTTP API (API Gateway HTTP API, IAM auth: tenants, accounts, and the findings API)
//! and the custom-resource SNS topic.

mod config;
mod handler;

use std::sync::Arc;

use costradar_aws::response::HttpResponseSender;
use costradar_aws::DynamoStore;
use costradar_aws::{sdk_config, verifier_sdk_config, StsRoleAssumer};
use costradar_core::domain::SystemClock;
use costradar_core::findings::Findings;
use costradar_core::onboarding::Onboarding;
use lambda_runtime::{service_fn, Error, LambdaEvent};

use crate::config::Config;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let Config { table, settings } = Config::from_env()?;
    let sdk = sdk_config(None).await;
    let sender = HttpResponseSender::new(&settings.response_urls);
    let store = Arc::new(DynamoStore::from_sdk(&sdk, table));
    let svc = Onboarding::new(
        store.clone(),
        Arc::new(StsRoleAssumer::from_sdk(&verifier_sdk_config(&sdk, settings.verify_as.as_ref()).await)),
        Arc::new(SystemClock),
        settings,
    );
    let findings = Findings::new(store, Arc::new(SystemClock));
    let (svc, findings, sender) = (&svc, &findings, &sender);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        handler::handle(svc, findings, sender, event.payload).await
    }))
    .await
}
