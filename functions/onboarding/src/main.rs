//! Onboarding Lambda. Builds configuration and clients once, then serves two triggers: the
//! operator HTTP API (API Gateway HTTP API, IAM auth: tenants, accounts, and the findings API)
//! and the custom-resource SNS topic.

mod config;
mod handler;

use std::sync::Arc;

use costradar_aws::cognito::CognitoIdentity;
use costradar_aws::health::CloudWatchHealth;
use costradar_aws::reports::S3Reports;
use costradar_aws::response::HttpResponseSender;
use costradar_aws::DynamoStore;
use costradar_aws::{sdk_config, verifier_sdk_config, StsRoleAssumer};
use costradar_core::console::ops::Admin;
use costradar_core::console::Console;
use costradar_core::domain::SystemClock;
use costradar_core::findings::Findings;
use costradar_core::health::StackHealth;
use costradar_core::onboarding::Onboarding;
use lambda_runtime::{service_fn, Error, LambdaEvent};

use crate::config::Config;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let Config { table, settings, console: sign_in, reports_bucket, ops } = Config::from_env()?;
    let sdk = sdk_config(None).await;
    let sender = HttpResponseSender::new(&settings.response_urls);
    let store = Arc::new(DynamoStore::from_sdk(&sdk, table));
    let svc = Arc::new(Onboarding::new(
        store.clone(),
        Arc::new(StsRoleAssumer::from_sdk(&verifier_sdk_config(&sdk, settings.verify_as.as_ref()).await)),
        Arc::new(SystemClock),
        settings,
    ));
    let mut findings = Findings::new(store.clone(), Arc::new(SystemClock));
    let reports = reports_bucket.map(|b| Arc::new(S3Reports::from_sdk(&sdk, b)));
    if let Some(r) = &reports {
        findings = findings.with_reports(r.clone());
    }
    // The console API's pages (served over https: Secure cookies); without the user pool's ids
    // in the environment nobody can sign in.
    let mut console = Console::new(store, Arc::new(SystemClock), Default::default());
    if let Some(s) = sign_in {
        console = console.with_identity(Arc::new(CognitoIdentity::new(&sdk, &s.pool_id, &s.client_id)), true);
    }
    if let Some(r) = reports {
        console = console.with_reports(r);
    }
    // Settings, "Verify again" and new tenants go through the operator API's own use cases; /ops
    // reads the stack's dead-letter queues and alarms.
    console = console.with_admin(Ok(Admin { onboarding: svc.clone(), verify_off: None }));
    console = console.with_health(ops.map(|c| Arc::new(CloudWatchHealth::new(&sdk, c)) as Arc<dyn StackHealth>));
    let (svc, findings, sender, console) = (&svc, &findings, &sender, &console);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        handler::route(console, svc, findings, sender, event.payload).await
    }))
    .await
}
