//! The HTTP adapter of `costradar_core::onboarding::custom_resource::ResponseSender`: the PUT of
//! a custom resource's answer to CloudFormation's presigned S3 URL.

use async_trait::async_trait;
use costradar_core::onboarding::custom_resource::{ResponseSender, ResponseUrlPolicy};
use url::Url;

/// PUT over HTTPS with reqwest: no redirects, short timeout, https only outside emulator mode.
pub struct HttpResponseSender {
    client: reqwest::Client,
}

impl HttpResponseSender {
    pub fn new(policy: &ResponseUrlPolicy) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .https_only(!policy.allow_loopback_http)
            .build()
            .expect("HTTP client");
        Self { client }
    }
}

#[async_trait]
impl ResponseSender for HttpResponseSender {
    async fn put(&self, url: &Url, body: &str) -> Result<(), String> {
        // The presigned URL was signed without a content type: send an empty one.
        let resp = self
            .client
            .put(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "")
            .body(body.to_owned())
            .send()
            .await
            .map_err(|e| format!("PUT to the response URL failed: {e}"))?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(format!("the response URL answered {}", resp.status()))
        }
    }
}
