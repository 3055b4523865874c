//! Enrichment: facts an event does not carry, read from the customer's account through the
//! role. A StopInstances or state-change event names instances but not their type; the type
//! decides the price. The receiver asks the store first (types seen in earlier events), then
//! this port, within a short budget: enrichment that fails or is slow leaves the event unpriced,
//! never rejected or lost.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use chrono::{DateTime, Utc};

use crate::aws::permissions::{session_policy, Task};
use crate::aws::{customer_config, AssumeRequest, RoleAssumer, SessionName, TemporaryCredentials};
use crate::domain::{Account, Clock, RoleArn, Tenant, ENRICHMENT_ROLE_NAME};

/// The most enrichment may add to a request: EventBridge waits 5 s for an API destination.
pub const ENRICH_BUDGET: Duration = Duration::from_secs(2);
/// DescribeInstances takes at most 1000 ids per call; one event names far fewer.
const MAX_IDS: usize = 1000;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("enrichment failed: {0}")]
pub struct EnrichError(pub String);

#[async_trait]
pub trait Enricher: Send + Sync {
    /// Instance id -> instance type, for the ids the account still has.
    async fn instance_types(
        &self,
        tenant: &Tenant,
        account: &Account,
        region: &str,
        ids: &[String],
    ) -> Result<HashMap<String, String>, EnrichError>;
}

/// No enrichment: events without their instance type stay unpriced (the CLI, tests).
pub struct NoEnrichment;

#[async_trait]
impl Enricher for NoEnrichment {
    async fn instance_types(
        &self,
        _: &Tenant,
        _: &Account,
        _: &str,
        _: &[String],
    ) -> Result<HashMap<String, String>, EnrichError> {
        Ok(HashMap::new())
    }
}

/// Reads instance types with `ec2:DescribeInstances` through the customer's role, in a
/// session narrowed to the enrichment actions. Sessions are reused until 2 minutes before
/// they expire, so a burst of events costs one AssumeRole.
pub struct Ec2Enricher {
    assumer: Arc<dyn RoleAssumer>,
    base: aws_config::SdkConfig,
    clock: Arc<dyn Clock>,
    sessions: Mutex<HashMap<String, TemporaryCredentials>>,
}

impl Ec2Enricher {
    pub fn new(assumer: Arc<dyn RoleAssumer>, base: aws_config::SdkConfig, clock: Arc<dyn Clock>) -> Self {
        Self { assumer, base, clock, sessions: Mutex::default() }
    }

    async fn session(
        &self,
        tenant: &Tenant,
        account: &Account,
        now: DateTime<Utc>,
    ) -> Result<TemporaryCredentials, EnrichError> {
        let role =
            RoleArn::in_account(&account.account_id, ENRICHMENT_ROLE_NAME).map_err(|e| EnrichError(e.to_string()))?;
        let key = role.as_str().to_owned();
        if let Some(c) = self.sessions.lock().unwrap().get(&key) {
            if c.expiration - now > chrono::Duration::minutes(2) {
                return Ok(c.clone());
            }
        }
        let policy = session_policy(Task::RealtimeEnrichment);
        let creds = self
            .assumer
            .assume(&AssumeRequest {
                role_arn: &role,
                external_id: Some(&tenant.external_id),
                session_name: &SessionName::new(&tenant.id, now),
                policy: Some(&policy),
            })
            .await
            .map_err(|e| EnrichError(e.to_string()))?;
        self.sessions.lock().unwrap().insert(key, creds.clone());
        Ok(creds)
    }
}

#[async_trait]
impl Enricher for Ec2Enricher {
    async fn instance_types(
        &self,
        tenant: &Tenant,
        account: &Account,
        region: &str,
        ids: &[String],
    ) -> Result<HashMap<String, String>, EnrichError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let creds = self.session(tenant, account, self.clock.now()).await?;
        let ec2 = aws_sdk_ec2::Client::new(&customer_config(&self.base, &creds, region));
        let ids: Vec<String> = ids.iter().take(MAX_IDS).cloned().collect();
        let out = ec2
            .describe_instances()
            .set_instance_ids(Some(ids))
            .send()
            .await
            .map_err(|e| EnrichError(format!("ec2:DescribeInstances: {}", e.code().unwrap_or("error"))))?;
        Ok(out
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter_map(|i| Some((i.instance_id()?.to_owned(), i.instance_type()?.as_str().to_owned())))
            .collect())
    }
}
