//! Translates Lambda events into calls on `costradar_core::onboarding` and back. No business logic.

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::sns::SnsEvent;
use base64::Engine as _;
use costradar_core::console::{Console, Request as ConsoleRequest};
use costradar_core::findings::api::{self, HttpResponse};
use costradar_core::findings::{Caller, Findings};
use costradar_core::onboarding::api::ApiRequest;
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

pub async fn handle(
    svc: &Onboarding,
    findings: &Findings,
    sender: &dyn ResponseSender,
    event: Value,
) -> Result<Value, HandlerError> {
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
        return Ok(http(svc, findings, req).await);
    }
    Err(HandlerError::UnsupportedEvent("expected an SNS or HTTP API (payload 2.0) event".into()))
}

/// The console API's routes (`ANY /` and `ANY /{proxy+}`, no authorizer): the operator and
/// users APIs never use them, so the route key alone tells a console request apart.
pub fn is_console(event: &Value) -> bool {
    let route = event.pointer("/requestContext/routeKey").and_then(Value::as_str);
    matches!(route, Some("ANY /" | "ANY /{proxy+}"))
}

/// Every event: console requests to the console (which authenticates them from their cookie),
/// the rest to [`handle`].
pub async fn route(
    console: &Console,
    svc: &Onboarding,
    findings: &Findings,
    sender: &dyn ResponseSender,
    event: Value,
) -> Result<Value, HandlerError> {
    if !is_console(&event) {
        return handle(svc, findings, sender, event).await;
    }
    let req: ApiGatewayV2httpRequest =
        serde_json::from_value(event).map_err(|e| HandlerError::UnsupportedEvent(e.to_string()))?;
    Ok(console_http(console, req).await)
}

async fn console_http(console: &Console, req: ApiGatewayV2httpRequest) -> Value {
    let body = match (req.body.as_deref(), req.is_base64_encoded) {
        (None, _) => Some(Vec::new()),
        (Some(b), false) => Some(b.as_bytes().to_vec()),
        (Some(b), true) => base64::engine::general_purpose::STANDARD.decode(b).ok(),
    };
    let mut out = ApiGatewayV2httpResponse::default();
    let Some(body) = body else {
        out.status_code = 400;
        out.body = Some(Body::Text("the body is not valid base64".into()));
        return serde_json::to_value(out).expect("response serialises");
    };
    // Payload 2.0 moves the Cookie header into `cookies`.
    let cookie = req.cookies.as_ref().map(|c| c.join("; "));
    let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok());
    let request = ConsoleRequest {
        method: req.request_context.http.method.as_str(),
        path: req.raw_path.as_deref().or(req.request_context.http.path.as_deref()).unwrap_or("/"),
        query: req.raw_query_string.as_deref().unwrap_or_default(),
        cookie: cookie.as_deref(),
        origin: header("origin"),
        host: header("host"),
        content_type: header("content-type"),
        body: &body,
    };
    let resp = console.handle(&request).await;
    out.status_code = i64::from(resp.status);
    out.headers.insert("content-type", resp.content_type.parse().expect("header"));
    for (name, value) in &resp.headers {
        match *name {
            "set-cookie" => out.cookies.push(value.clone()),
            _ => {
                if let Ok(v) = value.parse() {
                    out.headers.insert(*name, v);
                }
            }
        }
    }
    out.body = Some(Body::Text(resp.body));
    serde_json::to_value(out).expect("response serialises")
}

/// The caller, from the request context: a JWT's claims (a tenant user) or IAM (the operator).
fn caller(req: &ApiGatewayV2httpRequest) -> Option<Caller> {
    let auth = req.request_context.authorizer.as_ref();
    let claims = auth.and_then(|a| a.jwt.as_ref()).map(|j| &j.claims);
    Caller::from_request(claims, auth.is_some_and(|a| a.iam.is_some()))
}

async fn http(svc: &Onboarding, findings: &Findings, req: ApiGatewayV2httpRequest) -> Value {
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
            let request = ApiRequest { method, path, query, content_type, body: &body };
            api::serve(svc, findings, caller(&req), request).await
        }
        Err(_) => HttpResponse::json(
            400,
            &serde_json::json!({"error": {"code": "invalid_request", "message": "the body is not valid base64", "field": "body"}}),
        ),
    };
    let mut out = ApiGatewayV2httpResponse::default();
    out.status_code = i64::from(resp.status);
    out.headers.insert("content-type", resp.content_type.parse().expect("header"));
    for (name, value) in &resp.headers {
        if let Ok(v) = value.parse() {
            out.headers.insert(*name, v);
        }
    }
    out.body = Some(Body::Text(resp.body));
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

    fn svc() -> (Onboarding, Findings) {
        let store = Arc::new(MemoryStore::new());
        let onboarding =
            Onboarding::new(store.clone(), Arc::new(FakeAssumer::enforcing()), Arc::new(SystemClock), settings(false));
        (onboarding, Findings::new(store, Arc::new(SystemClock)))
    }

    /// A console request as the console API delivers it (payload 2.0, no authorizer).
    fn console_event(route: &str, method: &str, path: &str, cookie: Option<&str>, body: Option<&str>) -> Value {
        json!({
            "version": "2.0", "routeKey": route, "rawPath": path, "rawQueryString": "",
            "cookies": cookie.map(|c| vec![c]),
            "headers": {"host": "abc.execute-api.us-east-1.amazonaws.com", "origin": "https://abc.execute-api.us-east-1.amazonaws.com", "content-type": "application/x-www-form-urlencoded"},
            "requestContext": {"accountId": "123456789012", "apiId": "abc", "domainName": "abc.execute-api.us-east-1.amazonaws.com",
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "test"},
                "requestId": "r", "routeKey": route, "stage": "$default", "time": "12/Mar/2026:19:03:58 +0000", "timeEpoch": 1},
            "body": body, "isBase64Encoded": false
        })
    }

    fn console(store: Arc<MemoryStore>) -> Console {
        use costradar_core::console::identity::{MemoryIdentity, MemoryUser};
        let olivia =
            MemoryUser { password: "Operator-pw-1".into(), groups: vec!["operators".into()], ..Default::default() };
        let pool = MemoryIdentity::new([("olivia".to_string(), olivia)], i64::MAX);
        Console::new(store, Arc::new(SystemClock), Default::default()).with_identity(Arc::new(pool), true)
    }

    #[tokio::test]
    async fn the_console_apis_routes_go_to_the_console_and_no_other_route_does() {
        let (svc, findings) = svc();
        let sender = RecordingSender::default();
        let c = console(Arc::new(MemoryStore::new()));
        let out = route(&c, &svc, &findings, &sender, console_event("ANY /{proxy+}", "GET", "/login", None, None))
            .await
            .unwrap();
        assert_eq!(out["statusCode"], 200);
        assert!(out["body"].as_str().unwrap().contains("Sign in"));
        let out = route(&c, &svc, &findings, &sender, console_event("ANY /", "GET", "/", None, None)).await.unwrap();
        assert_eq!((out["statusCode"].as_i64(), out["headers"]["location"].as_str()), (Some(303), Some("/login")));
        // Signing in: the cookie comes back in payload 2.0's `cookies`, Secure (https).
        let body = "username=olivia&password=Operator-pw-1";
        let out =
            route(&c, &svc, &findings, &sender, console_event("ANY /{proxy+}", "POST", "/login", None, Some(body)))
                .await
                .unwrap();
        assert_eq!(out["statusCode"], 303);
        let set = out["cookies"][0].as_str().unwrap();
        assert!(set.contains("HttpOnly") && set.contains("Secure") && set.contains("SameSite=Strict"), "{set}");
        let cookie = set.split(';').next().unwrap();
        let out =
            route(&c, &svc, &findings, &sender, console_event("ANY /", "GET", "/", Some(cookie), None)).await.unwrap();
        assert!(out["statusCode"] == 200 && out["body"].as_str().unwrap().contains("All tenants"));
        // The operator API's and users API's routes never reach the console, even at a console path.
        let mut api = console_event("$default", "GET", "/login", None, None);
        api["requestContext"]["authorizer"] = json!({"iam": {"accessKey": "AKIA", "accountId": "123456789012", "callerId": "x", "userArn": "arn:aws:iam::123456789012:user/op", "userId": "x"}});
        let out = route(&c, &svc, &findings, &sender, api).await.unwrap();
        assert_eq!(out["statusCode"], 404, "the operator API's answer, not the console's: {out}");
        assert!(out["headers"]["content-type"].as_str().unwrap().starts_with("application/json"), "{out}");
        assert!(!is_console(&console_event("GET /tenants/{id}/findings", "GET", "/", None, None)));
        assert!(!is_console(&json!({"Records": []})));
        // A console event that is not an HTTP API request is refused, not guessed at.
        let bad = json!({"requestContext": {"routeKey": "ANY /"}, "rawPath": 7});
        assert!(route(&c, &svc, &findings, &sender, bad).await.is_err());
    }

    fn fixture(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[tokio::test]
    async fn http_api_create_then_list() {
        let (svc, findings) = svc();
        let sender = RecordingSender::default();
        let out = handle(
            &svc,
            &findings,
            &sender,
            fixture(include_str!("../../../events/onboarding/api-create-tenant.json")),
        )
        .await
        .unwrap();
        assert_eq!(out["statusCode"], 201);
        assert_eq!(out["headers"]["content-type"], "application/json");
        let body: Value = serde_json::from_str(out["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["tenant"]["name"], "Acme Corp");
        assert!(body["tenant"]["external_id"].as_str().is_some());

        let out =
            handle(&svc, &findings, &sender, fixture(include_str!("../../../events/onboarding/api-list-tenants.json")))
                .await
                .unwrap();
        assert_eq!(out["statusCode"], 200);
        let body: Value = serde_json::from_str(out["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["tenants"].as_array().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn sns_custom_resource_for_an_unknown_tenant_is_answered_failed() {
        let (svc, findings) = svc();
        let sender = RecordingSender::default();
        let out = handle(
            &svc,
            &findings,
            &sender,
            fixture(include_str!("../../../events/onboarding/custom-resource-create.sns.json")),
        )
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
        let (svc, findings) = svc();
        let sender = RecordingSender::default();
        let mut event = fixture(include_str!("../../../events/onboarding/custom-resource-create.sns.json"));
        event["Records"][0]["Sns"]["TopicArn"] = json!("arn:aws:sns:us-east-1:999999999999:someone-else");
        let out = handle(&svc, &findings, &sender, event).await.unwrap();
        assert_eq!(out["outcomes"], json!([]));
        assert!(sender.bodies().is_empty());
    }

    #[tokio::test]
    async fn other_events_are_refused_with_a_typed_error() {
        let (svc, findings) = svc();
        let sender = RecordingSender::default();
        for event in [json!({}), json!({"detail-type": "Scheduled Event"}), json!({"Records": "nope"})] {
            let err = handle(&svc, &findings, &sender, event).await.unwrap_err();
            let d: lambda_runtime::Diagnostic = err.into();
            assert_eq!(d.error_type, "UnsupportedEvent");
        }
    }

    #[tokio::test]
    async fn base64_bodies_are_decoded() {
        let (svc, findings) = svc();
        let sender = RecordingSender::default();
        let mut event = fixture(include_str!("../../../events/onboarding/api-create-tenant.json"));
        use base64::Engine as _;
        event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(r#"{"name":"B64 Inc"}"#));
        event["isBase64Encoded"] = json!(true);
        let out = handle(&svc, &findings, &sender, event.clone()).await.unwrap();
        assert_eq!(out["statusCode"], 201, "{out}");
        event["body"] = json!("not base64!");
        let out = handle(&svc, &findings, &sender, event).await.unwrap();
        assert_eq!(out["statusCode"], 400, "{out}");
    }

    /// An API event for `path` whose authorizer is `authorizer` (IAM in the fixture).
    fn api_event(method: &str, path: &str, authorizer: Option<Value>) -> Value {
        let mut e = fixture(include_str!("../../../events/onboarding/api-list-tenants.json"));
        e["rawPath"] = json!(path);
        e["rawQueryString"] = json!("");
        e["requestContext"]["http"]["method"] = json!(method);
        e["requestContext"]["http"]["path"] = json!(path);
        match authorizer {
            Some(a) => e["requestContext"]["authorizer"] = a,
            None => {
                e["requestContext"].as_object_mut().unwrap().remove("authorizer");
            }
        }
        e
    }

    /// The authorizer context API Gateway gives an IAM-signed (operator) request.
    fn iam() -> Value {
        fixture(include_str!("../../../events/onboarding/api-list-tenants.json"))["requestContext"]["authorizer"]
            .clone()
    }

    /// A tenant created through the API, as the operator; its id.
    async fn created_tenant(svc: &Onboarding, findings: &Findings, sender: &RecordingSender) -> String {
        let event = fixture(include_str!("../../../events/onboarding/api-create-tenant.json"));
        let created = handle(svc, findings, sender, event).await.unwrap();
        let body: Value = serde_json::from_str(created["body"].as_str().unwrap()).unwrap();
        body["tenant"]["id"].as_str().unwrap().to_owned()
    }

    fn jwt(tenant: &str) -> Value {
        json!({"jwt": {"claims": {"custom:tenant_id": tenant, "email": "alice@example.com"}, "scopes": null}})
    }

    #[tokio::test]
    async fn callers_come_from_the_authorizer_and_tenant_users_see_only_their_tenant() {
        let (svc, findings) = svc();
        let sender = RecordingSender::default();
        let mine = created_tenant(&svc, &findings, &sender).await;
        let other = costradar_core::domain::TenantId::generate();
        let status = |out: &Value| out["statusCode"].as_i64().unwrap();
        // The operator (IAM) reads the findings of any tenant; a tenant user only its own.
        let out = handle(&svc, &findings, &sender, api_event("GET", &format!("/tenants/{mine}/findings"), None)).await;
        assert_eq!(status(&out.unwrap()), 403, "no authentication, no answer");
        let iam = iam();
        let out =
            handle(&svc, &findings, &sender, api_event("GET", &format!("/tenants/{mine}/findings"), Some(iam))).await;
        assert_eq!(status(&out.unwrap()), 200);
        let own =
            handle(&svc, &findings, &sender, api_event("GET", &format!("/tenants/{mine}/savings"), Some(jwt(&mine))));
        assert_eq!(status(&own.await.unwrap()), 200);
        let theirs =
            handle(&svc, &findings, &sender, api_event("GET", &format!("/tenants/{other}/events"), Some(jwt(&mine))))
                .await
                .unwrap();
        assert_eq!(status(&theirs), 404);
        assert_eq!(
            serde_json::from_str::<Value>(theirs["body"].as_str().unwrap()).unwrap()["error"]["code"],
            "tenant_not_found"
        );
        // Tenant users never reach the operator's routes, nor a token without a tenant anything.
        for (path, auth) in [
            ("/tenants".to_owned(), jwt(&mine)),
            (format!("/tenants/{mine}"), jwt(&mine)),
            (format!("/tenants/{mine}/accounts"), jwt(&mine)),
            (format!("/tenants/{mine}/findings"), json!({"jwt": {"claims": {"email": "x@y.z"}}})),
        ] {
            let out = handle(&svc, &findings, &sender, api_event("GET", &path, Some(auth))).await.unwrap();
            assert_eq!(status(&out), 403, "{path}");
        }
    }

    /// The authorizer context the UsersApi's JWT authorizer gives a Cognito user: claims are
    /// strings, an array claim such as `cognito:groups` flattened to `[a b]`.
    fn cognito(claims: Value) -> Value {
        json!({"jwt": {"claims": claims, "scopes": null}, "principalId": null, "integrationLatency": 0})
    }

    #[tokio::test]
    async fn a_cognito_user_in_the_operators_group_reads_every_tenant() {
        let (svc, findings) = svc();
        let sender = RecordingSender::default();
        let mine = created_tenant(&svc, &findings, &sender).await;
        let theirs = created_tenant(&svc, &findings, &sender).await;
        let status = |out: &Value| out["statusCode"].as_i64().unwrap();
        for groups in ["[operators]", "operators", "[auditors operators]"] {
            let staff = cognito(json!({"cognito:groups": groups, "email": "ops@example.com", "token_use": "id"}));
            for path in [format!("/tenants/{mine}/findings"), format!("/tenants/{theirs}/savings")] {
                let out = handle(&svc, &findings, &sender, api_event("GET", &path, Some(staff.clone()))).await;
                assert_eq!(status(&out.unwrap()), 200, "{groups} {path}");
            }
        }
        // Another group with a tenant claim is that tenant's user: the other tenant is "missing".
        let user = cognito(json!({"cognito:groups": "[auditors]", "custom:tenant_id": mine, "email": "a@b.c"}));
        let out =
            handle(&svc, &findings, &sender, api_event("GET", &format!("/tenants/{mine}/runs"), Some(user.clone())));
        assert_eq!(status(&out.await.unwrap()), 200);
        let out = handle(&svc, &findings, &sender, api_event("GET", &format!("/tenants/{theirs}/runs"), Some(user)));
        assert_eq!(status(&out.await.unwrap()), 404);
        // A token with neither the group nor a tenant is refused.
        let nobody = cognito(json!({"cognito:groups": "[auditors]", "email": "a@b.c"}));
        let out =
            handle(&svc, &findings, &sender, api_event("GET", &format!("/tenants/{mine}/findings"), Some(nobody)));
        assert_eq!(status(&out.await.unwrap()), 403);
    }

    #[tokio::test]
    async fn the_csv_route_answers_text_csv_as_an_attachment() {
        let (svc, findings) = svc();
        let sender = RecordingSender::default();
        let path = format!("/tenants/{}/findings.csv", created_tenant(&svc, &findings, &sender).await);
        let iam = iam();
        let out = handle(&svc, &findings, &sender, api_event("GET", &path, Some(iam))).await.unwrap();
        assert_eq!(out["statusCode"], 200);
        assert_eq!(out["headers"]["content-type"], "text/csv; charset=utf-8");
        assert_eq!(out["headers"]["content-disposition"], "attachment; filename=\"findings.csv\"");
        assert!(out["body"].as_str().unwrap().starts_with("key,account_id,region,"));
    }
}
