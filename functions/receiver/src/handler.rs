//! Translates function-URL requests into `Receiver::handle` and back. No business logic.

use std::time::{Duration, Instant, SystemTime};

use costradar_aws::dynamodb::WriteBudget;
use costradar_core::receiver::Receiver;
use lambda_http::{Body, Request, RequestExt, Response};

/// What is kept of the Lambda's remaining time for answering after the last store retry.
pub const ANSWER_MARGIN: Duration = Duration::from_millis(1500);
/// The `Retry-After` (seconds) of a 503: throttling passes within seconds.
pub const RETRY_AFTER_SECONDS: u32 = 5;

/// How long the request's store calls may wait out throttling: the invocation's deadline less
/// [`ANSWER_MARGIN`], from `now`; nothing when there is no deadline (nothing to wait with).
pub fn time_left(req: &Request, now: SystemTime) -> Duration {
    let deadline = req.lambda_context_ref().map(|c| c.deadline()).unwrap_or(now);
    deadline.duration_since(now).unwrap_or_default().saturating_sub(ANSWER_MARGIN)
}

/// [`handle`] with the store's throttling retries bounded by the invocation's deadline.
pub async fn handle_within(
    receiver: &Receiver,
    write_budget: &WriteBudget,
    req: Request,
) -> Result<Response<Body>, std::convert::Infallible> {
    write_budget.until(Instant::now() + time_left(&req, SystemTime::now()));
    let resp = handle(receiver, req).await;
    write_budget.clear();
    resp
}

pub async fn handle(receiver: &Receiver, req: Request) -> Result<Response<Body>, std::convert::Infallible> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let reply = receiver
        .handle(
            req.method().as_str(),
            req.uri().path(),
            header("x-api-key"),
            header("content-type"),
            req.body().as_ref(),
        )
        .await;
    let mut resp = Response::builder().status(reply.status).header("content-type", "application/json");
    if reply.status == 503 {
        resp = resp.header("retry-after", RETRY_AFTER_SECONDS.to_string());
    }
    Ok(resp.body(Body::Text(reply.body.to_string())).expect("a valid response"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use costradar_core::domain::SystemClock;
    use costradar_core::onboarding::Onboarding;
    use costradar_core::store::{EventStore, MemoryStore};
    use costradar_core::testing::{settings, tenant_with_accounts, FakeAssumer};
    use serde_json::{json, Value};

    use super::*;

    /// A function-URL request (payload format 2.0), as AWS delivers it.
    fn function_url_request(tenant: &str, token: &str, body: &Value) -> Request {
        let event = json!({
            "version": "2.0", "routeKey": "$default", "rawPath": format!("/events/{tenant}"), "rawQueryString": "",
            "headers": {"content-type": "application/json", "x-api-key": token, "user-agent": "Amazon/EventBridge/ApiDestinations"},
            "requestContext": {"accountId": "anonymous", "apiId": "abcdefghij", "domainName": "abcdefghij.lambda-url.us-east-1.on.aws",
                "domainPrefix": "abcdefghij", "http": {"method": "POST", "path": format!("/events/{tenant}"), "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10", "userAgent": "Amazon/EventBridge/ApiDestinations"}, "requestId": "r-1", "routeKey": "$default",
                "stage": "$default", "time": "20/Nov/2026:10:00:01 +0000", "timeEpoch": 1795168801000u64},
            "body": body.to_string(), "isBase64Encoded": false
        });
        lambda_http::request::from_str(&event.to_string()).expect("a function-URL request")
    }

    #[tokio::test]
    async fn a_function_url_request_is_priced() {
        let store = Arc::new(MemoryStore::new());
        let svc =
            Onboarding::new(store.clone(), Arc::new(FakeAssumer::enforcing()), Arc::new(SystemClock), settings(false));
        let (tenant, tokens) =
            tenant_with_accounts(&svc, "Acme", &["arn:aws:iam::123456789012:role/CostradarReadOnly"]).await;
        let receiver = Receiver::new(store.clone(), costradar_core::pricing::bundled(), Arc::new(SystemClock));
        let event = json!({
            "version": "0", "id": "5f1c0d2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f", "detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2",
            "account": "123456789012", "time": "2026-11-20T10:00:00Z", "region": "us-east-1", "resources": [],
            "detail": {"eventSource": "ec2.amazonaws.com", "eventName": "CreateNatGateway", "requestParameters": {"CreateNatGatewayRequest": {"SubnetId": "subnet-1"}},
                       "responseElements": {"CreateNatGatewayResponse": {"natGateway": {"natGatewayId": "nat-0123"}}}}
        });
        let resp = handle(&receiver, function_url_request(tenant.id.as_str(), &tokens[0], &event)).await.unwrap();
        assert_eq!(resp.status(), 200);
        let body: Value = match resp.body() {
            Body::Text(t) => serde_json::from_str(t).unwrap(),
            other => panic!("{other:?}"),
        };
        assert_eq!(body, json!({"status": "accepted", "event_id": "5f1c0d2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f"}));
        let stored = store.get_event(&tenant.id, "5f1c0d2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f").await.unwrap().unwrap();
        // 0.045 × 730 = $32.85
        assert_eq!(stored["monthly_cost_usd"], "32.85");
        let resp = handle(&receiver, function_url_request(tenant.id.as_str(), "crt_wrong", &event)).await.unwrap();
        assert_eq!(resp.status(), 401);
    }

    #[test]
    fn the_budget_is_the_deadline_less_the_answer_margin() {
        let now = std::time::SystemTime::now();
        let req = function_url_request("t-0123456789abcdef", "crt_x", &json!({}));
        // No invocation context: no time to wait.
        assert_eq!(time_left(&req, now), Duration::ZERO);
        let mut ctx = lambda_http::Context::default();
        let in_10s = now + Duration::from_secs(10);
        ctx.deadline = in_10s.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
        let left = time_left(&req.with_lambda_context(ctx.clone()), now);
        // The deadline is whole milliseconds: 10 s less the margin, less under 1 ms.
        assert!(left <= Duration::from_secs(10) - ANSWER_MARGIN, "{left:?}");
        assert!(left > Duration::from_secs(10) - ANSWER_MARGIN - Duration::from_millis(1), "{left:?}");
        // A deadline already past (or inside the margin): none.
        ctx.deadline = now.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64 + 1000;
        let req = function_url_request("t-0123456789abcdef", "crt_x", &json!({}));
        assert_eq!(time_left(&req.with_lambda_context(ctx), now), Duration::ZERO);
    }

    /// A store that stays unavailable (throttled past the budget) is a 503 with Retry-After,
    /// which EventBridge retries; nothing is stored.
    #[tokio::test]
    async fn an_unavailable_store_is_a_503_with_retry_after() {
        let store = Arc::new(MemoryStore::new());
        let svc =
            Onboarding::new(store.clone(), Arc::new(FakeAssumer::enforcing()), Arc::new(SystemClock), settings(false));
        let (tenant, tokens) =
            tenant_with_accounts(&svc, "Acme", &["arn:aws:iam::123456789012:role/CostradarReadOnly"]).await;
        let receiver = Receiver::new(store.clone(), costradar_core::pricing::bundled(), Arc::new(SystemClock));
        let event = json!({
            "version": "0", "id": "6f1c0d2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f", "detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2",
            "account": "123456789012", "time": "2026-11-20T10:00:00Z", "region": "us-east-1", "resources": [],
            "detail": {"eventSource": "ec2.amazonaws.com", "eventName": "CreateNatGateway", "requestParameters": {"CreateNatGatewayRequest": {"SubnetId": "subnet-1"}},
                       "responseElements": {"CreateNatGatewayResponse": {"natGateway": {"natGatewayId": "nat-0456"}}}}
        });
        let items = store.item_count();
        store.set_unavailable(true);
        let resp = handle_within(
            &receiver,
            &WriteBudget::default(),
            function_url_request(tenant.id.as_str(), &tokens[0], &event),
        )
        .await
        .unwrap();
        assert_eq!(resp.status(), 503);
        assert_eq!(resp.headers()["retry-after"], RETRY_AFTER_SECONDS.to_string().as_str());
        store.set_unavailable(false);
        assert_eq!(store.item_count(), items);
        let resp = handle(&receiver, function_url_request(tenant.id.as_str(), &tokens[0], &event)).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp.headers().get("retry-after").is_none());
    }

    /// Every `events/receiver/http/<name>.json` (the fixtures as function-URL requests, made by
    /// tools/wrap_events.py, with their placeholder tenant and token) is accepted: a new kind's
    /// fixture is covered without being listed here.
    #[tokio::test]
    async fn every_wrapped_fixture_is_accepted_through_the_handler() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/receiver/http");
        let mut fixtures: Vec<(String, String)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
            .collect();
        fixtures.sort();
        assert!(fixtures.len() >= 60, "{} fixtures", fixtures.len());
        let store = Arc::new(MemoryStore::new());
        let svc =
            Onboarding::new(store.clone(), Arc::new(FakeAssumer::enforcing()), Arc::new(SystemClock), settings(false));
        let (tenant, tokens) =
            tenant_with_accounts(&svc, "Acme", &["arn:aws:iam::123456789012:role/CostradarReadOnly"]).await;
        let receiver = Receiver::new(store.clone(), costradar_core::pricing::bundled(), Arc::new(SystemClock));
        for (name, text) in fixtures {
            let text = text
                .replace("t-exampletenant001", tenant.id.as_str())
                .replace("crt_placeholder-replaced-by-tests-0000000000", &tokens[0]);
            let req = lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let resp = handle(&receiver, req).await.unwrap();
            let body: Value = match resp.body() {
                Body::Text(t) => serde_json::from_str(t).unwrap(),
                other => panic!("{other:?}"),
            };
            assert_eq!(resp.status(), 200, "{name}: {body}");
            assert_eq!(body["status"], "accepted", "{name}");
            let id = body["event_id"].as_str().unwrap();
            assert!(store.get_event(&tenant.id, id).await.unwrap().unwrap()["kind"].is_string(), "{name}");
        }
    }
}
