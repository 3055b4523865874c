//! The in-memory twin of the digest's markers.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::*;

#[async_trait]
impl DigestLedger for MemoryStore {
    async fn claim_digest(
        &self,
        tenant: &TenantId,
        period: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut items = self.guard()?;
        let key = (tenant_pk(tenant), digest_sk(period));
        if items.contains_key(&key) {
            return Ok(false);
        }
        let body = serde_json::json!({ "period": period, "claimed_at": now });
        items.insert(key, Item { body, version: 1, expires_at: Some(expires_at.timestamp()) });
        Ok(true)
    }

    async fn release_digest(&self, tenant: &TenantId, period: &str) -> Result<(), StoreError> {
        self.guard()?.remove(&(tenant_pk(tenant), digest_sk(period)));
        Ok(())
    }
}
