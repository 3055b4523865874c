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
//! | GET | /tenants/{id}/reports | CUR reports, newest first, with presigned links (`limit`, `cursor`) |

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
use crate::report::store::{ReportFile, ReportPage, LINK_TTL};
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
    Reports,
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
        ["reports"] => Route::Reports,
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
        Route::Reports => {
            let p = page_only(req.query)?;
            let limit = p.limit.map(|l| l.to_string());
            let page = ReportPage::parse(limit.as_deref(), p.cursor.as_deref())?;
            ok(svc.reports(caller, &id, &page).await?)
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

impl Findings {
    /// A page of the tenant's CUR reports, newest first, each with its period, creation time and
    /// presigned links to `report.json` and `report.html` that work for [`LINK_TTL`].
    pub async fn reports(&self, caller: &Caller, id: &TenantId, page: &ReportPage) -> Result<Value, FindingsError> {
        self.authorize(caller, id).await?;
        let store = (self.reports.as_ref())
            .ok_or_else(|| FindingsError::Unavailable("no reports bucket is configured".into()))?;
        let now = self.now();
        let listed = store.list(id, page).await?;
        let mut reports = Vec::with_capacity(listed.items.len());
        for r in &listed.items {
            let (from, to) = r.period();
            let mut v = json!({
                "id": r.as_str(),
                "created_at": r.created_at(),
                "period": { "from": from, "to": to },
                "account_id": r.account(),
            });
            for file in ReportFile::ALL {
                let link = store.link(id, r, file, now, LINK_TTL).await?;
                let name = file.name().trim_start_matches("report.");
                v[name] = json!({ "url": link.url, "expires_at": link.expires_at });
            }
            reports.push(v);
        }
        Ok(json!({
            "reports": reports,
            "links_expire_in_seconds": LINK_TTL.as_secs(),
            "next_cursor": listed.next_cursor,
        }))
    }
}

#[cfg(test)]
mod reports_route {
    use std::sync::Arc;

    use chrono::{DateTime, TimeZone, Utc};

    use super::*;
    use crate::cur::queries::YearMonth;
    use crate::domain::settings::ReportRetention;
    use crate::domain::{Clock, ExternalId, Tenant};
    use crate::report::store::{MemoryReports, ReportBody, ReportId, ReportStore};
    use crate::store::{MemoryStore, TenantStore};

    struct Fixed(DateTime<Utc>);
    impl Clock for Fixed {
        fn now(&self) -> DateTime<Utc> {
            self.0
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap()
    }

    struct World {
        svc: Findings,
        mine: TenantId,
        theirs: TenantId,
        reports: Arc<MemoryReports>,
    }

    async fn world(with_reports: bool) -> World {
        let store = Arc::new(MemoryStore::new());
        let mut ids = Vec::new();
        for name in ["Acme", "Other"] {
            let mut t = Tenant::new(TenantId::generate(), name.into(), ExternalId::generate(), now());
            store.save_tenant(&mut t).await.unwrap();
            ids.push(t.id);
        }
        let reports = Arc::new(MemoryReports::default());
        let mut svc = Findings::new(store, Arc::new(Fixed(now())));
        if with_reports {
            svc = svc.with_reports(reports.clone());
        }
        let theirs = ids.pop().unwrap();
        World { svc, mine: ids.pop().unwrap(), theirs, reports }
    }

    async fn get(w: &World, caller: &Caller, path: &str, query: &str) -> HttpResponse {
        let req = ApiRequest { method: "GET", path, query, content_type: None, body: b"" };
        handle(&w.svc, caller, &req).await.expect("a findings route")
    }

    fn report(hours_ago: i64) -> ReportId {
        let account = crate::domain::AccountId::parse("111122223333").unwrap();
        let at = now() - chrono::Duration::hours(hours_ago);
        ReportId::new(at, YearMonth { year: 2026, month: 10 }, YearMonth { year: 2026, month: 11 }, Some(&account))
    }

    async fn put(w: &World, t: &TenantId, id: &ReportId) {
        let body = ReportBody { json: "{}".into(), html: "<p>r</p>".into() };
        w.reports.put(t, id, &body, ReportRetention::default()).await.unwrap();
    }

    #[tokio::test]
    async fn reports_come_newest_first_with_links_that_expire_in_five_minutes() {
        let w = world(true).await;
        for h in [30, 10, 20] {
            put(&w, &w.mine, &report(h)).await;
        }
        put(&w, &w.theirs, &report(1)).await;
        let me = Caller::Tenant { tenant: w.mine.clone(), user: None };
        let path = format!("/tenants/{}/reports", w.mine);
        let r = get(&w, &me, &path, "limit=2").await;
        assert_eq!(r.status, 200, "{}", r.body);
        let b = r.json_body();
        let ids: Vec<&str> = b["reports"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(ids, vec![report(10).to_string(), report(20).to_string()]);
        let first = &b["reports"][0];
        assert_eq!(first["created_at"], json!(now() - chrono::Duration::hours(10)));
        assert_eq!(first["period"], json!({"from": "2026-10", "to": "2026-11"}));
        assert_eq!(first["account_id"], "111122223333");
        assert_eq!(b["links_expire_in_seconds"], 300);
        for file in ["json", "html"] {
            assert_eq!(first[file]["expires_at"], json!(now() + chrono::Duration::minutes(5)), "{file}");
            let url = first[file]["url"].as_str().unwrap();
            assert!(url.contains(&format!("reports/{}/{}/report.{file}", w.mine, ids[0])), "{url}");
        }
        let next = b["next_cursor"].as_str().unwrap();
        let r = get(&w, &Caller::Operator, &path, &format!("cursor={next}")).await;
        let b = r.json_body();
        assert_eq!(b["reports"].as_array().unwrap().len(), 1);
        assert_eq!(b["reports"][0]["id"], report(30).to_string());
        assert_eq!(b["next_cursor"], Value::Null);
    }

    #[tokio::test]
    async fn another_tenants_reports_get_the_missing_tenants_answer() {
        let w = world(true).await;
        put(&w, &w.theirs, &report(1)).await;
        let me = Caller::Tenant { tenant: w.mine.clone(), user: None };
        let theirs = get(&w, &me, &format!("/tenants/{}/reports", w.theirs), "").await;
        let missing = get(&w, &me, "/tenants/t-zzzzzzzzzzzzzzzz/reports", "").await;
        assert_eq!((theirs.status, missing.status), (404, 404));
        assert_eq!(theirs.body, missing.body);
        assert!(!theirs.body.contains(w.theirs.as_str()));
        // Their report's id as a cursor in my tenant only pages through mine.
        let cursor = report(1).to_string();
        let r = get(&w, &me, &format!("/tenants/{}/reports", w.mine), &format!("cursor={cursor}")).await;
        assert_eq!((r.status, r.json_body()["reports"].clone()), (200, json!([])));
    }

    #[tokio::test]
    async fn bad_query_parameters_are_400s_naming_the_parameter() {
        let w = world(true).await;
        let path = format!("/tenants/{}/reports", w.mine);
        for (query, field) in [
            ("limit=0", "limit"),
            ("limit=51", "limit"),
            ("limit=ten", "limit"),
            ("limit=1&limit=2", "limit"),
            ("cursor=..%2Ft-aaaaaaaaaaaaaaaa", "cursor"),
            ("cursor=8299999999-202501-202502%2F..", "cursor"),
            ("cursor=abc", "cursor"),
            ("sort=oldest", "sort"),
            ("tenant=t-aaaaaaaaaaaaaaaa", "tenant"),
        ] {
            let r = get(&w, &Caller::Operator, &path, query).await;
            assert_eq!(r.status, 400, "{query}: {}", r.body);
            assert_eq!(r.json_body()["error"]["field"], field, "{query}");
        }
        let r = get(&w, &Caller::Operator, "/tenants/..%2F..%2Fx/reports", "").await;
        assert_eq!(r.status, 400);
        let req = ApiRequest { method: "DELETE", path: &path, query: "", content_type: None, body: b"" };
        assert_eq!(handle(&w.svc, &Caller::Operator, &req).await.unwrap().status, 405);
    }

    #[tokio::test]
    async fn without_a_reports_bucket_the_route_says_so_with_a_503() {
        let w = world(false).await;
        let r = get(&w, &Caller::Operator, &format!("/tenants/{}/reports", w.mine), "").await;
        assert_eq!(r.status, 503, "{}", r.body);
        assert_eq!(r.json_body()["error"]["code"], "unavailable");
    }
}
