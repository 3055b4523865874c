//! Translates Lambda events into calls on `costradar_core::onboarding` and back. No business logic.

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::sns::SnsEvent;
use base64::Engine as _;
use costradar_core::onboarding::api::{self, ApiRequest};
use costradar_core::onboarding::custom_resource::ResponseSender;
use costradar_core::onboarding::Onboarding;
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
        (None, _) => Ok(Vec::new()),
        (Some(b), false) => Ok(b.as_bytes().to_vec()),
        (Some(b), true) => base64::engine::general_purpose::STANDARD.decode(b),
    };
    let resp = match body {
        Ok(body) => {
            let path = req.raw_path.as_deref().or(req.request_context.http.path.as_deref()).unwrap_or_default();
            let content_type = req.headers.get("content-type").and_then(|v| v.to_str().ok());
            let query = req.raw_query_string.as_deref().unwrap_or_default();
            let method = req.request_context.http.method.as_str();
            api::handle(svc, ApiRequest { method, path, query, content_type, body: &body }).await
        }
        Err(_) => api::ApiResponse {
            status: 400,
            body: serde_json::json!({"error": {"code": "invalid_request", "message": "the body is not valid base64", "field": "body"}}),
        },
    };
    let mut out = ApiGatewayV2httpResponse::default();
    out.status_code = i64::from(resp.status);
    out.headers.insert("content-type", "application/json".parse().expect("header"));
    out.body = Some(Body::Text(resp.body.to_string()));
    serde_json::to_value(out).expect("response serialises")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use costradar_core::domain::SystemClock;
    use costradar_core::onboarding::Onboarding;
    use costradar_core::store::MemoryStore;
    use costradar_core::testing::{settings, FakeAssumer, RecordingSender};
    use serde_json::{json, Value};

    use super::*;

    fn svc() -> Onboarding {
        Onboarding::new(
            Arc::new(MemoryStore::new()),
            Arc::new(FakeAssumer::enforcing()),
            Arc::new(SystemClock),
            settings(false),
        )
    }

    fn fixture(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[tokio::test]
    async fn http_api_create_then_list() {
        let svc = svc();
        let sender = RecordingSender::default();
        let out = handle(&svc, &sender, fixture(include_str!("../../../events/onboarding/api-create-tenant.json")))
            .await
            .unwrap();
        assert_eq!(out["statusCode"], 201);
        assert_eq!(out["headers"]["content-type"], "application/json");
        let body: Value = serde_json::from_str(out["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["tenant"]["name"], "Acme Corp");
        assert!(body["tenant"]["external_id"].as_str().is_some());

        let out = handle(&svc, &sender, fixture(include_str!("../../../events/onboarding/api-list-tenants.json")))
            .await
            .unwrap();
        assert_eq!(out["statusCode"], 200);
        let body: Value = serde_json::from_str(out["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["tenants"].as_array().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn sns_custom_resource_for_an_unknown_tenant_is_answered_failed() {
        let svc = svc();
        let sender = RecordingSender::default();
        let out =
            handle(&svc, &sender, fixture(include_str!("../../../events/onboarding/custom-resource-create.sns.json")))
                .await
                .unwrap();
        assert_eq!(out["outcomes"].as_array().unwrap().len(), 1);
        let sent = sender.bodies();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0]["Status"], "FAILED");
        assert_eq!(sent[0]["Reason"], costradar_core::onboarding::custom_resource::GENERIC_REASON);
        let (url, _) = &sender.sent.lock().unwrap()[0];
        assert_eq!(url.host_str(), Some("cloudformation-custom-resource-response-useast1.s3.amazonaws.com"));
    }

    #[tokio::test]
    async fn sns_from_another_topic_is_ignored() {
        let svc = svc();
        let sender = RecordingSender::default();
        let mut event = fixture(include_str!("../../../events/onboarding/custom-resource-create.sns.json"));
        event["Records"][0]["Sns"]["TopicArn"] = json!("arn:aws:sns:us-east-1:999999999999:someone-else");
        let out = handle(&svc, &sender, event).await.unwrap();
        assert_eq!(out["outcomes"], json!([]));
        assert!(sender.bodies().is_empty());
    }

    #[tokio::test]
    async fn other_events_are_refused_with_a_typed_error() {
        let svc = svc();
        let sender = RecordingSender::default();
        for event in [json!({}), json!({"detail-type": "Scheduled Event"}), json!({"Records": "nope"})] {
            let err = handle(&svc, &sender, event).await.unwrap_err();
            let d: lambda_runtime::Diagnostic = err.into();
            assert_eq!(d.error_type, "UnsupportedEvent");
        }
    }

    #[tokio::test]
    async fn base64_bodies_are_decoded() {
        let svc = svc();
        let sender = RecordingSender::default();
        let mut event = fixture(include_str!("../../../events/onboarding/api-create-tenant.json"));
        use base64::Engine as _;
        event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(r#"{"name":"B64 Inc"}"#));
        event["isBase64Encoded"] = json!(true);
        let out = handle(&svc, &sender, event.clone()).await.unwrap();
        assert_eq!(out["statusCode"], 201, "{out}");
        event["body"] = json!("not base64!");
        let out = handle(&svc, &sender, event).await.unwrap();
        assert_eq!(out["statusCode"], 400, "{out}");
    }
}
