//! The console: server-rendered HTML pages over the findings use case ([`Findings`]) and the
//! store ports, for a tenant's users and the operator's staff. No JavaScript, one inline style
//! sheet, inline SVG. [`Console::handle`] turns a request into a response and does no I/O of
//! its own beyond the store; the loopback HTTP server is the CLI's (`costradar console serve`).
//!
//! Isolation: the caller comes from the session cookie only ([`session`]): the user pool's
//! access token, which the pool checks on every request ([`identity`]). Every tenant
//! page first asks [`Findings::authorize`], which refuses another tenant's id before any read
//! with the answer a missing tenant gets; the console turns both into the same 404 page.

pub mod demo;
pub mod html;
pub mod identity;
pub mod ops;
mod pages;
pub mod session;
mod settings;
mod signin;
mod triage;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::domain::{Clock, TenantId};
use crate::findings::{Caller, Findings, FindingsError};
use crate::store::{AccountStore, FindingsApiStore};

use identity::{Identity, NoSignIn};
use session::{Role, Session};

/// Everything the console reads: the findings API's store and the accounts.
pub trait ConsoleStore: FindingsApiStore + AccountStore {}
impl<T: FindingsApiStore + AccountStore> ConsoleStore for T {}

/// A tenant's CUR report, as an analysis wrote it (`report.html`, `report.json`).
#[derive(Clone, Debug, Default)]
pub struct ReportFiles {
    pub html: String,
    pub json: serde_json::Value,
}

/// One HTTP request, as the server read it.
#[derive(Clone, Debug, Default)]
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub cookie: Option<&'a str>,
    /// `Origin`, when the browser sent one: a POST from another origin is refused.
    pub origin: Option<&'a str>,
    pub host: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

/// The pages' Content-Security-Policy: no script at all, styles inline, forms to this origin.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-src 'self'; form-action 'self'; frame-ancestors 'self'; base-uri 'none'";
/// The CUR report's own policy: it is shown sandboxed, without scripts, in its frame.
pub const REPORT_CSP: &str =
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'";

impl Response {
    pub fn html(status: u16, body: String) -> Self {
        Self { status, content_type: "text/html; charset=utf-8", headers: Vec::new(), body }
    }

    /// A 303 to `location` (after a form, or to sign in).
    pub fn redirect(location: &str) -> Self {
        Self {
            status: 303,
            content_type: "text/plain; charset=utf-8",
            headers: vec![("location", location.to_owned())],
            body: String::new(),
        }
    }

    fn with(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }
}

pub struct Console {
    findings: Findings,
    store: Arc<dyn ConsoleStore>,
    clock: Arc<dyn Clock>,
    identity: Arc<dyn Identity>,
    /// Cookies carry `Secure` (the console is served over https).
    secure_cookies: bool,
    /// The reports pages' and the overview's source: the stack's reports bucket, or (local runs) the `--report`
    /// files in memory.
    report_store: Arc<dyn crate::report::store::ReportStore>,
    /// The operator API's use cases (settings, verify again, new tenants), or why they are off.
    admin: Result<ops::Admin, String>,
    /// The stack's DLQs and alarms (`/ops`), or what is missing to read them.
    health: Result<Arc<dyn crate::health::StackHealth>, String>,
}

/// A tenant page's context: who asks, about which tenant (already authorized).
pub(crate) struct Ctx<'a> {
    pub session: &'a Session,
    pub caller: Caller,
    pub tenant: TenantId,
    pub tenant_name: String,
}

impl Console {
    pub fn new<S: ConsoleStore + 'static>(
        store: Arc<S>,
        clock: Arc<dyn Clock>,
        reports: BTreeMap<TenantId, ReportFiles>,
    ) -> Self {
        let report_store = Arc::new(local_reports(&reports, clock.now()));
        Self {
            report_store,
            findings: Findings::new(store.clone(), clock.clone()),
            store,
            clock,
            identity: Arc::new(NoSignIn),
            secure_cookies: false,
            admin: Err(ops::NO_ADMIN.into()),
            health: Err(ops::NO_HEALTH.into()),
        }
    }

    /// The user pool people sign in with (without one, nobody can), and whether the console is
    /// served over https (cookies then carry `Secure`).
    pub fn with_identity(mut self, identity: Arc<dyn Identity>, secure_cookies: bool) -> Self {
        self.identity = identity;
        self.secure_cookies = secure_cookies;
        self
    }

    /// The operator API's use cases: settings can be changed, accounts verified again and
    /// tenants created (see [`ops::Admin`]).
    pub fn with_admin(mut self, admin: Result<ops::Admin, String>) -> Self {
        self.admin = admin;
        self
    }

    /// The reports page reads the tenants' CUR reports from `reports` (the stack's bucket).
    pub fn with_reports(mut self, reports: Arc<dyn crate::report::store::ReportStore>) -> Self {
        self.report_store = reports;
        self
    }

    /// The `/ops` page's source, or what is missing to read the stack's health.
    pub fn with_health(mut self, health: Result<Arc<dyn crate::health::StackHealth>, String>) -> Self {
        self.health = health;
        self
    }

    fn now_secs(&self) -> i64 {
        self.clock.now().timestamp()
    }

    /// One request. Every answer carries the security headers.
    pub async fn handle(&self, req: &Request<'_>) -> Response {
        let r = self.route(req).await;
        r.with("x-content-type-options", "nosniff".into())
            .with("referrer-policy", "same-origin".into())
            .with("cache-control", "no-store".into())
    }

    async fn route(&self, req: &Request<'_>) -> Response {
        if req.method == "POST" && !same_origin(req) {
            return Response::html(403, pages::message("Refused", "This form was sent from another site."));
        }
        match (req.method, req.path) {
            ("GET", "/login") => return signin::page(200, None),
            ("POST", "/login") => return self.login(req).await,
            ("POST", "/login/challenge") => return self.login_challenge(req).await,
            ("POST", "/logout") => return self.logout(req).await,
            _ => {}
        }
        let session = match self.session(req).await {
            Ok(s) => s,
            Err(r) => return r,
        };
        let r = match (req.method, req.path) {
            ("GET", "/") => match &session.role {
                Role::Operator => pages::tenants(self, &session).await,
                Role::Tenant(t) => Response::redirect(&format!("/t/{t}/")),
            },
            ("GET", "/ops") => ops::health_page(self, &session).await,
            ("GET" | "POST", "/tenants/new") => ops::new_tenant(self, &session, req).await,
            _ => match req.path.strip_prefix("/t/") {
                Some(rest) => self.tenant_route(&session, req, rest).await,
                None => not_found(&session),
            },
        };
        let csp = if r.headers.iter().any(|(k, _)| *k == "content-security-policy") { None } else { Some(CSP) };
        match csp {
            Some(c) => r.with("content-security-policy", c.into()),
            None => r,
        }
    }

    /// `/t/<id>/<page>`: authorized from the session, then the page.
    async fn tenant_route(&self, session: &Session, req: &Request<'_>, rest: &str) -> Response {
        let (id, page) = rest.split_once('/').unwrap_or((rest, ""));
        let Ok(tenant) = TenantId::parse(id) else { return not_found(session) };
        let caller = session.caller();
        match self.findings.authorize(&caller, &tenant).await {
            Ok(()) => {}
            Err(FindingsError::TenantNotFound) => return not_found(session),
            Err(e) => return pages::failure(session, &e),
        }
        let tenant_name = match self.store.get_tenant(&tenant).await {
            Ok(Some(t)) => t.name,
            _ => tenant.to_string(),
        };
        let ctx = Ctx { session, caller, tenant, tenant_name };
        let r = match (req.method, page) {
            ("GET", "") => pages::overview(self, &ctx).await,
            ("GET", "findings") => triage::list(self, &ctx, req.query).await,
            ("GET", "findings.csv") => triage::csv(self, &ctx, req.query).await,
            ("POST", "findings/suppress") => triage::bulk_suppress(self, &ctx, req.body).await,
            ("GET", "accounts") => pages::accounts(self, &ctx, req.query).await,
            ("POST", p) if p.starts_with("accounts/") => ops::verify(self, &ctx, p).await,
            ("GET", "settings") => settings::show(self, &ctx, req.query).await,
            ("POST", "settings") => settings::save(self, &ctx, req.body).await,
            ("GET", "events") => pages::events(self, &ctx, req.query).await,
            ("GET", "runs") => pages::runs(self, &ctx, req.query).await,
            ("GET", "reports") => pages::reports(self, &ctx, req.query).await,
            ("GET", p) if p.starts_with("reports/") => pages::report_html(self, &ctx, &p["reports/".len()..]).await,
            (m, p) => match p.strip_prefix("findings/") {
                Some(key) if m == "GET" => triage::one(self, &ctx, key, req.query).await,
                Some(key) if m == "POST" => triage::change(self, &ctx, key, req.body).await,
                _ => not_found(session),
            },
        };
        r
    }
}

/// The `--report` files of a local run as a report store: one report a tenant, created `now`,
/// for the periods its `report.json` names.
fn local_reports(
    reports: &BTreeMap<TenantId, ReportFiles>,
    now: chrono::DateTime<chrono::Utc>,
) -> crate::report::store::MemoryReports {
    use crate::cur::queries::YearMonth;
    use crate::report::store::{MemoryReports, ReportBody, ReportId};
    let store = MemoryReports::default();
    let this = YearMonth { year: chrono::Datelike::year(&now), month: chrono::Datelike::month(&now) };
    for (tenant, files) in reports {
        let period = |k: &str| files.json["period"][k].as_str().and_then(|p| YearMonth::parse(p).ok()).unwrap_or(this);
        let id = ReportId::new(now, period("from"), period("to"), None);
        let body = ReportBody { json: files.json.to_string(), html: files.html.clone() };
        store.insert(tenant, &id, &body, Default::default());
    }
    store
}

/// The one "not found" page: a missing tenant, another tenant's page and a missing page look
/// alike.
pub(crate) fn not_found(session: &Session) -> Response {
    let f = html::Frame {
        title: "Not found",
        tenant: None,
        current: "",
        who: Some(session.user()),
        operator: session.is_operator(),
    };
    let body = "<h1>Not found</h1><p>There is no such page. <a href=\"/\">Go to the start page</a>.</p>";
    Response::html(404, html::page(&f, body))
}

/// A POST without `Origin` (older browsers, curl) or with this host's own origin.
fn same_origin(req: &Request<'_>) -> bool {
    match (req.origin, req.host) {
        (None, _) => true,
        (Some(o), Some(h)) => o == format!("http://{h}") || o == format!("https://{h}"),
        (Some(_), None) => false,
    }
}

/// A form body (`application/x-www-form-urlencoded`) as pairs.
pub(crate) fn form(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

#[cfg(test)]
mod tests;
