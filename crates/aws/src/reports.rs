//! The reports bucket (`ReportsBucket` in infra/template.yaml) behind
//! [`costradar_core::ports::ReportStore`]: a tenant's `report.json` and `report.html` under
//! `reports/<tenant>/<report id>/`, keys built by `costradar_core::report::store::object_key`
//! only. Each object is tagged `retention-days=<n>` on PutObject; the bucket's lifecycle rules
//! expire it. Links are SigV4 presigned GetObject URLs. Path-style addressing when an endpoint is
//! set (moto).

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use chrono::{DateTime, Utc};
use costradar_core::domain::settings::ReportRetention;
use costradar_core::domain::TenantId;
use costradar_core::report::store::{
    id_of_key, object_key, tenant_prefix, Link, ReportBody, ReportFile, ReportId, ReportPage, ReportStore,
    RETENTION_TAG,
};
use costradar_core::store::{Page, StoreError};

#[derive(Clone, Debug)]
pub struct S3Reports {
    client: Client,
    bucket: String,
}

impl S3Reports {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into() }
    }

    pub fn from_sdk(sdk: &aws_config::SdkConfig, bucket: impl Into<String>) -> Self {
        let conf = aws_sdk_s3::config::Builder::from(sdk).force_path_style(sdk.endpoint_url().is_some()).build();
        Self::new(Client::from_conf(conf), bucket)
    }
}

/// Every S3 failure is the store being unavailable (5xx to callers): a missing bucket or a denied
/// action is the operator's configuration, never the caller's input.
fn unavailable<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    what: &str,
    e: SdkError<E, R>,
) -> StoreError {
    StoreError::Unavailable(format!("{what}: {}", DisplayErrorContext(&e)))
}

/// After the two files of report `after` (`report.html`, `report.json`): `~` sorts after both.
fn start_after(tenant: &TenantId, after: &ReportId) -> String {
    format!("{}{}/~", tenant_prefix(tenant), after.as_str())
}

#[async_trait]
impl ReportStore for S3Reports {
    async fn put(
        &self,
        tenant: &TenantId,
        id: &ReportId,
        body: &ReportBody,
        retention: ReportRetention,
    ) -> Result<(), StoreError> {
        let tagging = format!("{RETENTION_TAG}={}", retention.days());
        for file in ReportFile::ALL {
            let key = object_key(tenant, id, file);
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(&key)
                .content_type(file.content_type())
                .tagging(&tagging)
                .body(ByteStream::from(body.file(file).as_bytes().to_vec()))
                .send()
                .await
                .map_err(|e| unavailable(&format!("PutObject {key}"), e))?;
        }
        Ok(())
    }

    async fn list(&self, tenant: &TenantId, page: &ReportPage) -> Result<Page<ReportId>, StoreError> {
        // One entry per report: its common prefix `reports/<tenant>/<id>/`.
        let mut req = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(tenant_prefix(tenant))
            .delimiter("/")
            .max_keys(page.limit as i32);
        if let Some(after) = &page.after {
            req = req.start_after(start_after(tenant, after));
        }
        let out = req.send().await.map_err(|e| unavailable("ListObjectsV2", e))?;
        let items: Vec<ReportId> =
            out.common_prefixes().iter().filter_map(|p| id_of_key(tenant, p.prefix()?)).collect();
        let full = out.is_truncated() == Some(true) || items.len() == page.limit as usize;
        let next_cursor = full.then(|| items.last().map(ToString::to_string)).flatten();
        Ok(Page { items, next_cursor })
    }

    async fn get(&self, tenant: &TenantId, id: &ReportId, file: ReportFile) -> Result<Option<String>, StoreError> {
        let key = object_key(tenant, id, file);
        let out = match self.client.get_object().bucket(&self.bucket).key(&key).send().await {
            Ok(out) => out,
            Err(e) if e.code() == Some("NoSuchKey") => return Ok(None),
            Err(e) => return Err(unavailable(&format!("GetObject {key}"), e)),
        };
        let bytes = out.body.collect().await.map_err(|e| StoreError::Unavailable(format!("GetObject {key}: {e}")))?;
        String::from_utf8(bytes.into_bytes().to_vec())
            .map(Some)
            .map_err(|_| StoreError::Corrupt(format!("{key} is not UTF-8")))
    }

    async fn link(
        &self,
        tenant: &TenantId,
        id: &ReportId,
        file: ReportFile,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<Link, StoreError> {
        let key = object_key(tenant, id, file);
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(now.timestamp().max(0) as u64);
        let config = PresigningConfig::builder()
            .start_time(start)
            .expires_in(ttl)
            .build()
            .map_err(|e| StoreError::Invalid(format!("presigning: {e}")))?;
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&key)
            .response_content_type(file.content_type())
            .presigned(config)
            .await
            .map_err(|e| unavailable(&format!("presign GetObject {key}"), e))?;
        // The signature's X-Amz-Date is to the second.
        let issued = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
        let expires_at = issued + chrono::Duration::from_std(ttl).map_err(|e| StoreError::Invalid(e.to_string()))?;
        Ok(Link { url: req.uri().to_owned(), expires_at })
    }
}
