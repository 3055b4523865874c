//! The enrichment adapter: what prices an instance (type, platform, tenancy, public IPv4) read
//! with `ec2:DescribeInstances`, and a launched AMI's platform with `ec2:DescribeImages`, in the
//! customer's account, through the customer's enrichment role.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use chrono::{DateTime, Utc};
use costradar_core::access::permissions::{session_policy, Task};
use costradar_core::access::{AssumeRequest, RoleAssumer, SessionName, TemporaryCredentials};
use costradar_core::domain::event::is_image_id;
use costradar_core::domain::{Account, Clock, RoleArn, Tenant, ENRICHMENT_ROLE_NAME};
use costradar_core::pricing::model::InstanceFacts;
use costradar_core::pricing::{Os, Tenancy};
use costradar_core::receiver::enrich::{EnrichError, Enricher};

use crate::customer_config;

/// DescribeInstances takes at most 1000 ids per call; one event names far fewer.
const MAX_IDS: usize = 1000;

/// Reads instances and images through the customer's role, in a
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
        let policy = session_policy(Task::RealtimeEnrichment, &role);
        let creds = self
            .assumer
            .assume(&AssumeRequest {
                role_arn: &role,
                external_id: Some(&tenant.external_id),
                session_name: &SessionName::new(&tenant.id, now),
                policy: Some(&policy.inline),
                policy_arns: &policy.managed_arns,
            })
            .await
            .map_err(|e| EnrichError(e.to_string()))?;
        self.sessions.lock().unwrap().insert(key, creds.clone());
        Ok(creds)
    }
}

fn failed(action: &str, e: &impl ProvideErrorMetadata) -> EnrichError {
    EnrichError(format!("ec2:{action}: {}", e.code().unwrap_or("error")))
}

/// What prices one described instance; `None` without an id or a type.
fn facts(i: &aws_sdk_ec2::types::Instance) -> Option<(String, InstanceFacts)> {
    let mut f = InstanceFacts::of_type(i.instance_type()?.as_str());
    f.os = i.platform_details().and_then(Os::from_platform_details);
    f.tenancy = match i.placement().and_then(|p| p.tenancy()).map(|t| t.as_str()) {
        Some("dedicated") => Tenancy::Dedicated,
        _ => Tenancy::Shared,
    };
    f.public_ipv4 = Some(i.public_ip_address().is_some());
    Some((i.instance_id()?.to_owned(), f))
}

#[async_trait]
impl Enricher for Ec2Enricher {
    async fn instances(
        &self,
        tenant: &Tenant,
        account: &Account,
        region: &str,
        ids: &[String],
    ) -> Result<HashMap<String, InstanceFacts>, EnrichError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let creds = self.session(tenant, account, self.clock.now()).await?;
        let ec2 = aws_sdk_ec2::Client::new(&customer_config(&self.base, &creds, region));
        let ids: Vec<String> = ids.iter().take(MAX_IDS).cloned().collect();
        let out = ec2.describe_instances().set_instance_ids(Some(ids)).send().await;
        let out = out.map_err(|e| failed("DescribeInstances", &e))?;
        Ok(out.reservations().iter().flat_map(|r| r.instances()).filter_map(facts).collect())
    }

    async fn image_os(
        &self,
        tenant: &Tenant,
        account: &Account,
        region: &str,
        image_id: &str,
    ) -> Result<Option<Os>, EnrichError> {
        if !is_image_id(image_id) {
            return Ok(None);
        }
        let creds = self.session(tenant, account, self.clock.now()).await?;
        let ec2 = aws_sdk_ec2::Client::new(&customer_config(&self.base, &creds, region));
        let out = ec2.describe_images().image_ids(image_id).send().await;
        let out = out.map_err(|e| failed("DescribeImages", &e))?;
        Ok(out.images().first().and_then(|i| i.platform_details()).and_then(Os::from_platform_details))
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::{Instance, InstanceType, Placement, Tenancy as Ec2Tenancy};

    use super::*;

    #[test]
    fn a_described_instance_gives_what_prices_it() {
        let rhel = Instance::builder()
            .instance_id("i-0a1b2c3d4e5f60718")
            .instance_type(InstanceType::M5Large)
            .platform_details("Red Hat Enterprise Linux")
            .placement(Placement::builder().tenancy(Ec2Tenancy::Dedicated).build())
            .build();
        let (id, f) = facts(&rhel).unwrap();
        assert_eq!(id, "i-0a1b2c3d4e5f60718");
        assert_eq!(
            (f.instance_type.as_str(), f.os, f.tenancy, f.public_ipv4),
            ("m5.large", Some(Os::Rhel), Tenancy::Dedicated, Some(false))
        );
        let linux = Instance::builder()
            .instance_id("i-1")
            .instance_type(InstanceType::T3Micro)
            .platform_details("Linux/UNIX")
            .public_ip_address("198.51.100.7")
            .build();
        let (_, f) = facts(&linux).unwrap();
        assert_eq!((f.os, f.tenancy, f.public_ipv4), (Some(Os::Linux), Tenancy::Shared, Some(true)));
        // A platform the book does not name stays unknown rather than guessed.
        let byol = Instance::builder()
            .instance_id("i-2")
            .instance_type(InstanceType::T3Micro)
            .platform_details("Red Hat BYOL Linux")
            .build();
        assert_eq!(facts(&byol).unwrap().1.os, None);
        assert!(facts(&Instance::builder().instance_id("i-3").build()).is_none(), "no type, nothing to price");
    }
}
