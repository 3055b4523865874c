//! The notifier behind `costradar_core::receiver::notify::Notifier`: SNS, EventBridge and
//! tenants' webhooks.

use async_trait::async_trait;
use aws_sdk_sns::error::ProvideErrorMetadata;
use costradar_core::receiver::notify::{Notifier, NotifyError, Target, WEBHOOK_TIMEOUT};
use serde_json::{json, Value};

/// SNS, EventBridge and webhooks, for real.
pub struct AwsNotifier {
    sns: aws_sdk_sns::Client,
    events: aws_sdk_eventbridge::Client,
    http: reqwest::Client,
}

impl AwsNotifier {
    pub fn from_sdk(config: &aws_config::SdkConfig) -> Self {
        let http = reqwest::Client::builder()
            .timeout(WEBHOOK_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        Self { sns: aws_sdk_sns::Client::new(config), events: aws_sdk_eventbridge::Client::new(config), http }
    }
}

#[async_trait]
impl Notifier for AwsNotifier {
    async fn send(&self, target: &Target, payload: &Value) -> Result<(), NotifyError> {
        let body = payload.to_string();
        match target {
            Target::Sns { topic_arn } => {
                self.sns
                    .publish()
                    .topic_arn(topic_arn)
                    // A digest's body (`costradar_core::digest`) carries `digest`; a finding's, `finding`.
                    .subject(if payload.get("digest").is_some() { "costradar digest" } else { "costradar finding" })
                    .message(body)
                    .send()
                    .await
                    .map_err(|e| NotifyError(format!("sns:Publish: {}", e.code().unwrap_or("error"))))?;
            }
            Target::EventBridge { bus } => {
                let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                    .event_bus_name(bus)
                    .source("costradar")
                    .detail_type("costradar Finding")
                    .detail(body)
                    .build();
                let out = self
                    .events
                    .put_events()
                    .entries(entry)
                    .send()
                    .await
                    .map_err(|e| NotifyError(format!("events:PutEvents: {}", e.code().unwrap_or("error"))))?;
                if out.failed_entry_count() > 0 {
                    let code = out.entries().first().and_then(|e| e.error_code()).unwrap_or("failed entry");
                    return Err(NotifyError(format!("events:PutEvents: {code}")));
                }
            }
            Target::Webhook { url } => {
                // The URL is the tenant's secret: never logged, never in the error.
                let resp = self
                    .http
                    .post(url)
                    .header("content-type", "application/json")
                    .body(json!({ "text": payload["text"] }).to_string())
                    .send()
                    .await
                    .map_err(|e| {
                        NotifyError(format!("webhook: {}", if e.is_timeout() { "timed out" } else { "unreachable" }))
                    })?;
                if !resp.status().is_success() {
                    return Err(NotifyError(format!("webhook: HTTP {}", resp.status().as_u16())));
                }
            }
        }
        Ok(())
    }
}
