//! The digest's markers (`crate::digest`): one `DIGEST#<period>` item per tenant and period
//! in the tenant's partition, written with a condition that it does not exist, so that two
//! invocations never send the same digest twice.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::TenantId;

#[async_trait]
pub trait DigestLedger: Send + Sync {
    /// Claims the tenant's digest of `period` (`daily-2026-12-07`, `weekly-2026-12-07`):
    /// `true` when this call wrote the marker (the caller sends), `false` when it existed.
    /// The marker expires at `expires_at`.
    async fn claim_digest(
        &self,
        tenant: &TenantId,
        period: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Removes a claim whose digest reached no target, so that a retry sends it.
    async fn release_digest(&self, tenant: &TenantId, period: &str) -> Result<(), StoreError>;
}
