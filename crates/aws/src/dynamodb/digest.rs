//! DynamoDB adapter of the digest's markers: a conditional `PutItem` (`attribute_not_exists`)
//! of `DIGEST#<period>` in the tenant's partition, with a TTL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::*;

#[async_trait]
impl DigestLedger for DynamoStore {
    async fn claim_digest(
        &self,
        tenant: &TenantId,
        period: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(PK, s(tenant_pk(tenant)))
            .item(SK, s(digest_sk(period)))
            .item("period", s(period))
            .item("claimed_at", s(now.to_rfc3339()))
            .item(TTL, n(expires_at.timestamp()))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn release_digest(&self, tenant: &TenantId, period: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(&tenant_pk(tenant), digest_sk(period))))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
