//! The runs bucket (`ScanRunsBucket` in infra/template.yaml) behind
//! [`costradar_core::ports::RunObjects`]: a scan run's `accounts.jsonl` and its distributed
//! Map's result files. Path-style addressing when an endpoint is set (moto).

use async_trait::async_trait;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use costradar_core::scan::tasks::{ObjectError, RunObjects};

#[derive(Clone, Debug)]
pub struct S3RunObjects {
    client: Client,
    bucket: String,
}

impl S3RunObjects {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into() }
    }

    pub fn from_sdk(sdk: &aws_config::SdkConfig, bucket: impl Into<String>) -> Self {
        let conf = aws_sdk_s3::config::Builder::from(sdk).force_path_style(sdk.endpoint_url().is_some()).build();
        Self::new(Client::from_conf(conf), bucket)
    }
}

fn failed<E: std::error::Error + 'static, R: std::fmt::Debug>(
    what: &str,
    key: &str,
    e: aws_sdk_s3::error::SdkError<E, R>,
) -> ObjectError {
    ObjectError(format!("{what} {key}: {}", DisplayErrorContext(&e)))
}

#[async_trait]
impl RunObjects for S3RunObjects {
    fn bucket(&self) -> &str {
        &self.bucket
    }

    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), ObjectError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(if key.ends_with(".jsonl") { "application/jsonl" } else { "application/json" })
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| failed("PutObject", key, e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ObjectError> {
        let out = match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => out,
            Err(e) if e.code() == Some("NoSuchKey") => return Ok(None),
            Err(e) => return Err(failed("GetObject", key, e)),
        };
        let body = out.body.collect().await.map_err(|e| ObjectError(format!("GetObject {key}: {e}")))?;
        Ok(Some(body.into_bytes().to_vec()))
    }
}
