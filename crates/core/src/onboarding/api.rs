//! The operator's HTTP API (API Gateway HTTP API with IAM auth in production), independent of
//! the Lambda event types so it can be tested directly. Errors are JSON with a stable `code`;
//! a 4xx names the bad `field`.
//!
//! | method | path | |
//! |---|---|---|
//! | POST | /tenants | create |
//! | GET | /tenants | list (`limit`, `cursor`) |
//! | GET, PATCH, DELETE | /tenants/{id} | show, configure, delete |
//! | POST, GET | /tenants/{id}/accounts | connect (verifies the role first: 422 `role_not_verified` writes nothing; a first connect shows the account's ingest token once), list |
//! | GET, DELETE | /tenants/{id}/accounts/{account} | show, disconnect |
//! | POST | /tenants/{id}/accounts/{account}/verify | verify again |
//! | POST | /tenants/{id}/accounts/{account}/rotate-token | new ingest token; the old one works for the overlap window |
//! | POST | /tenants/{id}/accounts/{account}/revoke-token | every token of the account but the newest stops at once |

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{AccountRequest, Onboarding, OnboardingError, TenantView};
use crate::domain::{AccountId, CurSettings, InvalidInput, Registration, TenantId};
use crate::store::PageRequest;

pub const BODY_MAX: usize = 16 * 1024;

pub struct ApiRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

#[derive(Debug, PartialEq)]
pub struct ApiResponse {
    pub status: u16,
    pub body: Value,
}

fn error(status: u16, code: &str, message: &str, field: Option<&str>) -> ApiResponse {
    let mut e = json!({ "code": code, "message": message });
    if let Some(f) = field {
        e["field"] = json!(f);
    }
    ApiResponse { status, body: json!({ "error": e }) }
}

impl From<OnboardingError> for ApiResponse {
    fn from(e: OnboardingError) -> Self {
        match &e {
            OnboardingError::Invalid(i) => error(400, e.code(), &i.message, Some(&i.field)),
            OnboardingError::UnsupportedPartition(_) => error(400, e.code(), &e.to_string(), Some("role_arn")),
            // Internals go to the log, never to the client.
            OnboardingError::Unavailable(detail) | OnboardingError::Internal(detail) => {
                tracing::error!(code = e.code(), detail, "request failed");
                error(e.http_status(), e.code(), &e.to_string(), None)
            }
            _ => error(e.http_status(), e.code(), &e.to_string(), None),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateTenant {
    name: String,
}

/// `PATCH /tenants/{id}`: a field left out is unchanged; `null` resets it to the default.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigureTenant {
    #[serde(default, deserialize_with = "present")]
    realtime_threshold_usd: Option<Option<rust_decimal::Decimal>>,
    #[serde(default, deserialize_with = "present")]
    notify_webhook_url: Option<Option<String>>,
    /// The whole scan settings object (`domain::settings`: keys left out take their default);
    /// `null`: the defaults.
    #[serde(default, deserialize_with = "present")]
    scan_settings: Option<Option<Value>>,
    /// One of `domain::settings::REPORT_RETENTION_DAYS`; `null`: the default (7).
    #[serde(default, deserialize_with = "present")]
    report_retention_days: Option<Option<crate::domain::settings::ReportRetention>>,
    /// `off`, `daily` or `weekly` (`crate::digest`); `null`: off.
    #[serde(default, deserialize_with = "present")]
    digest: Option<Option<String>>,
    /// The weekly digest's day, `monday` to `sunday`; `null`: Monday.
    #[serde(default, deserialize_with = "present")]
    digest_weekday: Option<Option<String>>,
}

/// `scan_settings` of a PATCH: the one parser and validation of scan settings, its errors
/// naming the key (`scan_settings.<key>`).
fn scan_settings(v: &Value) -> Result<crate::domain::settings::ScanSettings, InvalidInput> {
    let bytes = serde_json::to_vec(v).expect("a JSON value serialises");
    crate::domain::settings::ScanSettings::from_json(&bytes).map_err(|e| {
        let field = if e.field == "body" { "scan_settings".to_owned() } else { format!("scan_settings.{}", e.field) };
        InvalidInput::new(&field, e.message)
    })
}

/// Tells a field set to `null` (Some(None)) from a field left out (None).
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectAccount {
    role_arn: String,
    #[serde(default)]
    regions: Vec<String>,
    #[serde(default)]
    cur: Option<CurSettings>,
}

/// A 415 unless the request says its body is JSON: every API body is.
pub fn require_json(req: &ApiRequest<'_>) -> Result<(), ApiResponse> {
    let json_type = req
        .content_type
        .and_then(|c| c.split(';').next())
        .is_some_and(|c| c.trim().eq_ignore_ascii_case("application/json"));
    if json_type {
        Ok(())
    } else {
        Err(error(415, "unsupported_media_type", "send Content-Type: application/json", None))
    }
}

/// Parses a JSON body, turning serde's message into the field it is about.
fn parse_body<T: DeserializeOwned>(req: &ApiRequest<'_>) -> Result<T, ApiResponse> {
    require_json(req)?;
    crate::domain::parse_json(req.body).map_err(ApiResponse::from)
}

fn page_request(query: &str) -> Result<PageRequest, ApiResponse> {
    let mut page = PageRequest::default();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match &*k {
            "limit" => {
                page.limit =
                    Some(v.parse().map_err(|_| error(400, "invalid_request", "a whole number", Some("limit")))?);
            }
            "cursor" => page.cursor = Some(v.into_owned()),
            other => return Err(error(400, "invalid_request", "unknown query parameter", Some(other))),
        }
    }
    page.limit().map_err(|e| ApiResponse::from(OnboardingError::from(e)))?;
    Ok(page)
}

fn tenant_id(s: &str) -> Result<TenantId, ApiResponse> {
    TenantId::parse(s).map_err(|e| OnboardingError::from(e).into())
}

fn account_id(s: &str) -> Result<AccountId, ApiResponse> {
    AccountId::parse(s).map_err(|e| OnboardingError::from(e).into())
}

const TOKEN_NOTICE: &str = "The ingest token is shown once and costradar keeps only its hash. It is bound to this account: configure it as the x-api-key of this account's EventBridge connection.";

/// An account as the API shows it: its tokens' dates, never their hashes.
fn account(a: &crate::domain::Account) -> Value {
    let mut v = serde_json::to_value(a).expect("account serialises");
    v["tokens"] = json!(a.tokens.views());
    v
}

fn ok(status: u16, body: Value) -> Result<ApiResponse, ApiResponse> {
    Ok(ApiResponse { status, body })
}

pub async fn handle(svc: &Onboarding, req: ApiRequest<'_>) -> ApiResponse {
    if req.body.len() > BODY_MAX {
        return error(413, "payload_too_large", &format!("the body is limited to {BODY_MAX} bytes"), None);
    }
    match route(svc, &req).await {
        Ok(r) | Err(r) => r,
    }
}

async fn route(svc: &Onboarding, req: &ApiRequest<'_>) -> Result<ApiResponse, ApiResponse> {
    let segments: Vec<&str> = req.path.trim_end_matches('/').split('/').skip(1).collect();
    let interactive = &svc.settings().verify_interactive;
    match (req.method, segments.as_slice()) {
        ("POST", ["tenants"]) => {
            let body: CreateTenant = parse_body(req)?;
            let created = svc.create_tenant(&body.name).await?;
            ok(
                201,
                json!({
                    "tenant": TenantView::from(&created.tenant),
                    "quick_create_url": created.quick_create_url,
                }),
            )
        }
        ("GET", ["tenants"]) => {
            let page = svc.list_tenants(&page_request(req.query)?).await?;
            let tenants: Vec<TenantView> = page.items.iter().map(TenantView::from).collect();
            ok(200, json!({ "tenants": tenants, "next_cursor": page.next_cursor }))
        }
        ("GET", ["tenants", id]) => {
            let t = svc.tenant(&tenant_id(id)?).await?;
            ok(200, json!({ "tenant": TenantView::from(&t), "quick_create_url": svc.quick_create_url(&t) }))
        }
        ("PATCH", ["tenants", id]) => {
            let body: ConfigureTenant = parse_body(req)?;
            let scan_settings = match body.scan_settings {
                Some(Some(v)) => Some(Some(scan_settings(&v)?)),
                Some(None) => Some(None),
                None => None,
            };
            let changes = crate::onboarding::TenantChanges {
                realtime_threshold_usd: body.realtime_threshold_usd,
                notify_webhook_url: body.notify_webhook_url,
                scan_settings,
                report_retention_days: body.report_retention_days,
                digest: body.digest,
                digest_weekday: body.digest_weekday,
            };
            let t = svc.configure_tenant(&tenant_id(id)?, changes).await?;
            ok(200, json!({ "tenant": TenantView::from(&t) }))
        }
        ("DELETE", ["tenants", id]) => {
            let d = svc.delete_tenant(&tenant_id(id)?).await?;
            ok(200, serde_json::to_value(d).expect("serialises"))
        }
        ("POST", ["tenants", id, "accounts"]) => {
            let id = tenant_id(id)?;
            let body: ConnectAccount = parse_body(req)?;
            let c = svc
                .connect_account(
                    &id,
                    AccountRequest {
                        role_arn: body.role_arn,
                        regions: body.regions,
                        cur: body.cur,
                        registration: Registration::Manual,
                    },
                    interactive,
                )
                .await?;
            let mut body = account(&c.account);
            if let Some(t) = c.ingest_token {
                body["ingest_token"] = json!(t.expose());
                body["notice"] = json!(TOKEN_NOTICE);
            }
            ok(201, body)
        }
        ("GET", ["tenants", id, "accounts"]) => {
            let id = tenant_id(id)?;
            let page = svc.list_accounts(&id, &page_request(req.query)?).await?;
            let accounts: Vec<Value> = page.items.iter().map(account).collect();
            ok(200, json!({ "accounts": accounts, "next_cursor": page.next_cursor }))
        }
        ("GET", ["tenants", id, "accounts", acct]) => {
            ok(200, account(&svc.account(&tenant_id(id)?, &account_id(acct)?).await?))
        }
        ("DELETE", ["tenants", id, "accounts", acct]) => {
            let a = svc.disconnect_account(&tenant_id(id)?, &account_id(acct)?, "removed by the operator").await?;
            ok(200, account(&a))
        }
        ("POST", ["tenants", id, "accounts", acct, "verify"]) => {
            let a = svc.verify_account(&tenant_id(id)?, &account_id(acct)?, interactive).await?;
            ok(200, account(&a))
        }
        ("POST", ["tenants", id, "accounts", acct, "rotate-token"]) => {
            let r = svc.rotate_token(&tenant_id(id)?, &account_id(acct)?).await?;
            ok(
                200,
                json!({
                    "ingest_token": r.ingest_token.expose(),
                    "previous_token_expires_at": r.previous_expires_at,
                    "notice": TOKEN_NOTICE,
                }),
            )
        }
        ("POST", ["tenants", id, "accounts", acct, "revoke-token"]) => {
            let revoked = svc.revoke_previous_tokens(&tenant_id(id)?, &account_id(acct)?).await?;
            ok(200, json!({ "revoked": revoked }))
        }
        (
            _,
            ["tenants"]
            | ["tenants", _]
            | ["tenants", _, "accounts"]
            | ["tenants", _, "accounts", _]
            | ["tenants", _, "accounts", _, "verify" | "rotate-token" | "revoke-token"],
        ) => Err(error(405, "method_not_allowed", "method not allowed on this path", None)),
        _ => Err(error(404, "route_not_found", "no such route", None)),
    }
}

impl From<InvalidInput> for ApiResponse {
    fn from(e: InvalidInput) -> Self {
        OnboardingError::from(e).into()
    }
}
