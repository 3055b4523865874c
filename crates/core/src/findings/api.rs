//! The findings routes of the operator HTTP API, and [`serve`], the whole API's router: these
//! routes for both kinds of caller, the onboarding routes (`onboarding::api`) for the operator
//! only. Errors are JSON with a stable `code`; a 400 names the bad `field`. Money is a decimal
//! string in a field whose name ends in `_usd`. Reference: docs/api.md.
//!
//! | method | path | |
//! |---|---|---|
//! | GET | /tenants/{id}/findings | one page: filters, `sort`, `limit`, `cursor` (one Query) |
//! | GET | /tenants/{id}/findings.csv | the same filters as CSV (at most [`CSV_PAGES`] Queries) |
//! | GET, PATCH | /tenants/{id}/findings/{key} | a finding with its history; a decision |
//! | GET | /tenants/{id}/events | priced events, newest first (`account`, `kind`) |
//! | GET | /tenants/{id}/runs | scan runs, newest first |
//! | GET | /tenants/{id}/savings | the savings ledger |

use chrono::NaiveDate;
use serde_json::{json, Value};

use super::change::snoozed;
use super::query::{none, page_only};
use super::{csv, Caller, ChangeRequest, EventsQuery, FindingDetail, Findings, FindingsError, FindingsQuery};
use crate::domain::finding::Finding;
use crate::domain::money::usd;
use crate::domain::triage::{service_of, Source};
use crate::domain::{InvalidInput, TenantId};
use crate::onboarding::api::{require_json, ApiRequest, ApiResponse, BODY_MAX};
use crate::onboarding::Onboarding;
use crate::store::{triage::valid_finding_key, Page};

/// The CSV route reads at most this many pages (Queries) of `limit` findings.
pub const CSV_PAGES: usize = 10;

/// An answer of the API: JSON, or CSV for `findings.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn json(status: u16, body: &Value) -> Self {
        Self { status, content_type: "application/json", headers: Vec::new(), body: body.to_string() }
    }

    /// The JSON body, for callers and tests that read it.
    pub fn json_body(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

impl From<ApiResponse> for HttpResponse {
    fn from(r: ApiResponse) -> Self {
        Self::json(r.status, &r.body)
    }
}

fn error(status: u16, code: &str, message: &str, field: Option<&str>) -> HttpResponse {
    let mut e = json!({ "code": code, "message": message });
    if let Some(f) = field {
        e["field"] = json!(f);
    }
    HttpResponse::json(status, &json!({ "error": e }))
}

impl From<FindingsError> for HttpResponse {
    fn from(e: FindingsError) -> Self {
        match &e {
            FindingsError::Invalid(i) => error(400, e.code(), &i.message, Some(&i.field)),
            FindingsError::Unavailable(detail) | FindingsError::Internal(detail) => {
                tracing::error!(code = e.code(), detail, "request failed");
                error(e.http_status(), e.code(), &e.to_string(), None)
            }
            _ => error(e.http_status(), e.code(), &e.to_string(), None),
        }
    }
}

impl From<InvalidInput> for HttpResponse {
    fn from(e: InvalidInput) -> Self {
        FindingsError::from(e).into()
    }
}

/// The answer to a caller the API does not serve: no authentication, a token without a tenant,
/// or a tenant user on an operator route.
pub fn forbidden() -> HttpResponse {
    error(403, "forbidden", "this caller may not use this route", None)
}

/// The whole operator API. `caller` is `None` when the request's authentication names no
/// caller ([`Caller::from_request`]).
pub async fn serve(
    onboarding: &Onboarding,
    findings: &Findings,
    caller: Option<Caller>,
    req: ApiRequest<'_>,
) -> HttpResponse {
    let Some(caller) = caller else { return forbidden() };
    if let Some(r) = handle(findings, &caller, &req).await {
        return r;
    }
    match caller {
        Caller::Operator => crate::onboarding::api::handle(onboarding, req).await.into(),
        Caller::Tenant { .. } => forbidden(),
    }
}

enum Route {
    List,
    Csv,
    One(String),
    Events,
    Runs,
    Savings,
}

fn route_of(path: &str) -> Option<(&str, Route)> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let ["tenants", id, rest @ ..] = segments.as_slice() else { return None };
    let route = match rest {
        ["findings"] => Route::List,
        ["findings.csv"] => Route::Csv,
        ["findings", key @ ..] if !key.is_empty() => Route::One(key.join("/")),
        ["events"] => Route::Events,
        ["runs"] => Route::Runs,
        ["savings"] => Route::Savings,
        _ => return None,
    };
    Some((id, route))
}

/// A finding key from its URL-encoded path segment.
fn finding_key(raw: &str) -> Result<String, InvalidInput> {
    let bad = || InvalidInput::new("key", "a finding key (<account>#<rule>#<resource>), URL-encoded");
    let decoded = percent_decode(raw).ok_or_else(bad)?;
    valid_finding_key(&decoded).then_some(decoded).ok_or_else(bad)
}

/// Percent-decoding of a path segment (no `+` for space); `None` for a bad escape or non-UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The findings routes; `None` for any other path (the onboarding routes).
pub async fn handle(svc: &Findings, caller: &Caller, req: &ApiRequest<'_>) -> Option<HttpResponse> {
    let (id, route) = route_of(req.path)?;
    let allowed = match route {
        Route::One(_) => matches!(req.method, "GET" | "PATCH"),
        _ => req.method == "GET",
    };
    if !allowed {
        return Some(error(405, "method_not_allowed", "method not allowed on this path", None));
    }
    if req.body.len() > BODY_MAX {
        return Some(error(413, "payload_too_large", &format!("the body is limited to {BODY_MAX} bytes"), None));
    }
    let today = svc.now().date_naive();
    Some(match dispatch(svc, caller, req, id, route, today).await {
        Ok(r) | Err(r) => r,
    })
}

async fn dispatch(
    svc: &Findings,
    caller: &Caller,
    req: &ApiRequest<'_>,
    id: &str,
    route: Route,
    today: NaiveDate,
) -> Result<HttpResponse, HttpResponse> {
    let id = TenantId::parse(id)?;
    let ok = |body: Value| Ok(HttpResponse::json(200, &body));
    match route {
        Route::List => {
            let q = FindingsQuery::parse(req.query)?;
            ok(findings_page(&svc.list(caller, &id, &q).await?, today))
        }
        Route::Csv => {
            let q = FindingsQuery::parse(req.query)?;
            let (text, next) = svc.csv(caller, &id, &q).await?;
            let mut headers = vec![("content-disposition", "attachment; filename=\"findings.csv\"".to_owned())];
            headers.extend(next.map(|c| ("x-next-cursor", c)));
            Ok(HttpResponse { status: 200, content_type: "text/csv; charset=utf-8", headers, body: text })
        }
        Route::One(raw) => {
            let key = finding_key(&raw)?;
            none(req.query)?;
            let detail = if req.method == "PATCH" {
                let change = parse_change(req, today)?;
                svc.change(caller, &id, &key, change).await?
            } else {
                svc.finding(caller, &id, &key).await?
            };
            ok(detail_view(&detail, today))
        }
        Route::Events => {
            let q = EventsQuery::parse(req.query)?;
            let p = svc.events(caller, &id, &q).await?;
            ok(json!({ "events": p.items, "next_cursor": p.next_cursor }))
        }
        Route::Runs => {
            let p = svc.runs(caller, &id, &page_only(req.query)?).await?;
            ok(json!({ "runs": p.items, "next_cursor": p.next_cursor }))
        }
        Route::Savings => {
            none(req.query)?;
            ok(svc.savings(caller, &id).await?.json())
        }
    }
}

fn parse_change(req: &ApiRequest<'_>, today: NaiveDate) -> Result<ChangeRequest, HttpResponse> {
    require_json(req)?;
    Ok(ChangeRequest::parse(req.body, today)?)
}

/// A finding as the API shows it: its fields, its key, service and source, money as decimal
/// strings to the cent, and whether it is snoozed today.
pub fn finding_view(f: &Finding, today: NaiveDate) -> Value {
    let mut v = serde_json::to_value(f).expect("a finding serialises");
    v["key"] = json!(f.key());
    v["service"] = json!(service_of(&f.rule));
    v["source"] = json!(Source::of_rule(&f.rule).as_str());
    v["monthly_cost_usd"] = json!(f.monthly_cost_usd.map(usd));
    v["monthly_savings_usd"] = json!(f.monthly_savings_usd.map(usd));
    v["snoozed"] = json!(snoozed(f.triage.as_ref(), today));
    v
}

fn findings_page(p: &Page<Finding>, today: NaiveDate) -> Value {
    let findings: Vec<Value> = p.items.iter().map(|f| finding_view(f, today)).collect();
    json!({ "findings": findings, "next_cursor": p.next_cursor })
}

fn detail_view(d: &FindingDetail, today: NaiveDate) -> Value {
    json!({
        "finding": finding_view(&d.finding, today),
        "price": { "source": d.finding.price_source, "as_of": d.price_as_of },
        "history": d.history,
    })
}

impl Findings {
    /// The findings of a query as CSV: up to [`CSV_PAGES`] pages (Queries) of the query's
    /// limit; the cursor to continue from when there may be more.
    pub async fn csv(
        &self,
        caller: &Caller,
        id: &TenantId,
        q: &FindingsQuery,
    ) -> Result<(String, Option<String>), FindingsError> {
        self.authorize(caller, id).await?;
        let today = self.now().date_naive();
        let mut out = csv::header();
        let mut page = q.page.clone();
        for _ in 0..CSV_PAGES {
            let p = self.store.query_findings(id, &q.filter, q.sort, &page).await?;
            p.items.iter().for_each(|f| out.push_str(&csv::row(f, today)));
            match p.next_cursor {
                Some(c) => page.cursor = Some(c),
                None => return Ok((out, None)),
            }
        }
        Ok((out, page.cursor))
    }
}
