//! Translates Lambda events into calls on `costradar::onboarding` and back. No business logic.

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::sns::SnsEvent;
use base64::Engine as _;
use costradar::onboarding::api::{self, ApiRequest};
use costradar::onboarding::custom_resource::ResponseSender;
use costradar::onboarding::Onboarding;
use serde_json::Value;

/// Error types a Lambda invocation can end with; Step Functions and alarms match on these.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The event is neither an SNS notification nor an HTTP API request.
    #[error("UnsupportedEvent: {0}")]
    UnsupportedEvent(String),
    /// A custom-resource message could not be answered yet; SNS will deliver it again.
    #[error("Transient: {0}")]
    Transient(String),
}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(e: HandlerError) -> Self {
        let error_type = match &e {
            HandlerError::UnsupportedEvent(_) => "UnsupportedEvent",
            HandlerError::Transient(_) => "Transient",
        };
        lambda_runtime::Diagnostic { error_type: error_type.into(), error_message: e.to_string() }
    }
}

pub async fn handle(svc: &Onboarding, sender: &dyn ResponseSender, event: Value) -> Result<Value, HandlerError> {
    if event.get("Records").is_some() {
        let sns: SnsEvent = serde_json::from_value(event).map_err(|e| HandlerError::UnsupportedEvent(e.to_string()))?;
        let topic = &svc.settings().custom_resource_topic_arn;
        let mut outcomes = Vec::new();
        for record in sns.records {
            if &record.sns.topic_arn != topic {
                tracing::warn!(topic = %record.sns.topic_arn, "SNS message from an unexpected topic; ignored");
                continue;
            }
            let outcome = svc
                .handle_custom_resource(sender, &record.sns.message)
                .await
                .map_err(|e| HandlerError::Transient(e.0))?;
            outcomes.push(format!("{outcome:?}"));
        }
        return Ok(serde_json::json!({ "outcomes": outcomes }));
    }
    if event.get("requestContext").is_some() {
        let req: ApiGatewayV2httpRequest =
            serde_json::from_value(event).map_err(|e| HandlerError::UnsupportedEvent(e.to_string()))?;
        return Ok(http(svc, req).await);
    }
    Err(HandlerError::UnsupportedEvent("expected an SNS or HTTP API (payload 2.0) event".into()))
}

async fn http(svc: &Onboarding, req: ApiGatewayV2httpRequest) -> Value {
    let body = match (req.body.as_deref(), req.is_base64_encoded) {
        (None, _) => Vec::new(),
        (Some(b), false) => b.as_bytes().to_vec(),
        (Some(b), true) => {
            base64::engine::general_purpose::STANDARD.decode(b).unwrap_or_else(|_| b.as_bytes().to_vec())
        }
    };
    let method = req.request_context.http.method.as_str().to_owned();
    let path = req.raw_path.clone().or(req.request_context.http.path.clone()).unwrap_or_default();
    let content_type = req.headers.get("content-type").and_then(|v| v.to_str().ok());
    let resp = api::handle(
        svc,
        ApiRequest {
            method: &method,
            path: &path,
            query: req.raw_query_string.as_deref().unwrap_or(""),
            content_type,
            body: &body,
        },
    )
    .await;
    let mut out = ApiGatewayV2httpResponse::default();
    out.status_code = i64::from(resp.status);
    out.headers.insert("content-type", "application/json".parse().expect("header"));
    out.body = Some(Body::Text(resp.body.to_string()));
    serde_json::to_value(out).expect("response serialises")
}
