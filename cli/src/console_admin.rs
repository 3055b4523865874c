//! What `costradar console serve` gives the console besides its store: the operator API's use
//! cases (the same `Onboarding` as `costradar tenants …` and `costradar accounts …`, over the
//! same store, with STS for "Verify again") and the stack's health for `/ops`
//! (`costradar_aws::health::CloudWatchHealth`).

use std::sync::Arc;

use costradar_aws::health::CloudWatchHealth;
use costradar_aws::{SdkConfig, StsRoleAssumer};
use costradar_core::console::ops::Admin;
use costradar_core::domain::SystemClock;
use costradar_core::health::StackHealth;
use costradar_core::onboarding::{Onboarding, OnboardingSettings};
use costradar_core::store::OnboardingStore;

/// The values `tools/demo.sh` exports, for `--demo-data` when the environment has none: the
/// demo's quick-create links point at the demo's made-up operator account.
fn demo_default(k: &str) -> Option<String> {
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
    match k {
        "COSTRADAR_ACCOUNT_ID" => Some("111122223333".into()),
        "AWS_REGION" => Some(region),
        "COSTRADAR_TOPIC_ARN" => Some(format!("arn:aws:sns:{region}:111122223333:costradar-custom-resource")),
        "COSTRADAR_TEMPLATE_URL" => Some("https://costradar-artifacts.s3.amazonaws.com/costradar-role.yaml".into()),
        _ => None,
    }
}

/// The operator API's use cases over `store`, configured as the CLI's (`COSTRADAR_ACCOUNT_ID`,
/// `COSTRADAR_TOPIC_ARN`, `COSTRADAR_TEMPLATE_URL`, …). With `--demo-data` the accounts are in
/// memory, not in AWS: "Verify again" is off, saying so.
pub fn admin(
    sdk: &SdkConfig,
    store: Arc<dyn OnboardingStore>,
    endpoint: Option<&str>,
    demo: bool,
) -> Result<Admin, String> {
    let settings = OnboardingSettings::from_lookup(|k| match (k, endpoint) {
        ("AWS_ENDPOINT_URL", Some(e)) => Some(e.to_owned()),
        _ => std::env::var(k).ok().or_else(|| if demo { demo_default(k) } else { None }),
    })
    .map_err(|e| format!("the operator API's configuration is incomplete: {e}"))?;
    let svc = Onboarding::new(store, Arc::new(StsRoleAssumer::from_sdk(sdk)), Arc::new(SystemClock), settings);
    let verify_off =
        demo.then(|| "the demo's accounts live in memory, not in AWS (costradar console serve --demo-data)".to_owned());
    Ok(Admin { onboarding: Arc::new(svc), verify_off })
}

/// The stack's health from `COSTRADAR_DLQ_NAMES` and `COSTRADAR_ALARM_PREFIX`, or what is missing.
pub fn health(sdk: &SdkConfig) -> Result<Arc<dyn StackHealth>, String> {
    CloudWatchHealth::from_lookup(sdk, |k| std::env::var(k).ok()).map(|h| Arc::new(h) as Arc<dyn StackHealth>)
}
