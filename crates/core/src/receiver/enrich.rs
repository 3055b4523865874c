//! Enrichment: facts an event does not carry, read from the customer's account through the
//! role. A StopInstances or state-change event names instances but not their type, OS or
//! public address; a RunInstances names its AMI but not the AMI's platform (RHEL, SQL Server,
//! ...). Those decide the price. The receiver asks the store first (types seen in earlier events), then
//! this port, within a short budget: enrichment that fails or is slow leaves the event unpriced,
//! never rejected or lost. The adapter is `costradar_aws::enrich::Ec2Enricher`.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;

use crate::domain::{Account, Tenant};
use crate::pricing::model::InstanceFacts;
use crate::pricing::Os;

/// The most enrichment may add to a request: EventBridge waits 5 s for an API destination.
pub const ENRICH_BUDGET: Duration = Duration::from_secs(2);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("enrichment failed: {0}")]
pub struct EnrichError(pub String);

#[async_trait]
pub trait Enricher: Send + Sync {
    /// Instance id -> what prices it, for the ids the account still has.
    async fn instances(
        &self,
        tenant: &Tenant,
        account: &Account,
        region: &str,
        ids: &[String],
    ) -> Result<HashMap<String, InstanceFacts>, EnrichError>;

    /// The OS an AMI runs (its `PlatformDetails`); `None` when the image is gone or its
    /// platform is one the price book does not name.
    async fn image_os(
        &self,
        tenant: &Tenant,
        account: &Account,
        region: &str,
        image_id: &str,
    ) -> Result<Option<Os>, EnrichError>;
}

/// No enrichment: events without their instance type stay unpriced (the CLI, tests).
pub struct NoEnrichment;

#[async_trait]
impl Enricher for NoEnrichment {
    async fn instances(
        &self,
        _: &Tenant,
        _: &Account,
        _: &str,
        _: &[String],
    ) -> Result<HashMap<String, InstanceFacts>, EnrichError> {
        Ok(HashMap::new())
    }

    async fn image_os(&self, _: &Tenant, _: &Account, _: &str, _: &str) -> Result<Option<Os>, EnrichError> {
        Ok(None)
    }
}
