//! The enrichment adapter: instance types read with `ec2:DescribeInstances` in the customer's
//! account, through the customer's enrichment role.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use chrono::{DateTime, Utc};
use costradar_core::access::permissions::{session_policy, Task};
use costradar_core::access::{AssumeRequest, RoleAssumer, SessionName, TemporaryCredentials};
use costradar_core::domain::{Account, Clock, RoleArn, Tenant, ENRICHMENT_ROLE_NAME};
use costradar_core::receiver::enrich::{EnrichError, Enricher};

use crate::customer_config;

/// DescribeInstances takes at most 1000 ids per call; one event names far fewer.
const MAX_IDS: usize = 1000;

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
