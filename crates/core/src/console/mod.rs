//! The console: server-rendered HTML pages over the findings use case ([`Findings`]) and the
//! store ports, for a tenant's users and the operator's staff. No JavaScript, one inline style
//! sheet, inline SVG. [`Console::handle`] turns a request into a response and does no I/O of
//! its own beyond the store; the loopback HTTP server is the CLI's (`costradar console serve`).
//!
//! Isolation: the caller comes from the signed session cookie only ([`session`]). Every tenant
//! page first asks [`Findings::authorize`], which refuses another tenant's id before any read
//! with the answer a missing tenant gets; the console turns both into the same 404 page.

pub mod demo;
pub mod html;
mod pages;
pub mod session;
mod triage;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::domain::{Clock, TenantId};
use crate::findings::{Caller, Findings, FindingsError};
use crate::store::{AccountStore, FindingsApiStore};

use session::{Session, Sessions};

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
    sessions: Sessions,
    reports: BTreeMap<TenantId, ReportFiles>,
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
        Self { findings: Findings::new(store.clone(), clock.clone()), store, clock, sessions: Sessions::new(), reports }
    }

    fn now_secs(&self) -> i64 {
        self.clock.now().timestamp()
    }

    fn session(&self, req: &Request<'_>) -> Option<Session> {
        let value = session::cookie_value(req.cookie?)?;
        self.sessions.verify(value, self.now_secs())
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
            ("GET", "/login") => return pages::login(self, None).await.with("content-security-policy", CSP.into()),
            ("POST", "/login") => return self.login(req).await,
            ("POST", "/logout") => {
                return Response::redirect("/login").with("set-cookie", session::clear_cookie());
            }
            _ => {}
        }
        let Some(session) = self.session(req) else { return Response::redirect("/login") };
        let r = match (req.method, req.path) {
            ("GET", "/") => match &session {
                Session::Operator => pages::tenants(self).await,
                Session::Tenant(t) => Response::redirect(&format!("/t/{t}/")),
            },
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

    async fn login(&self, req: &Request<'_>) -> Response {
        let form = form(req.body);
        let who = form.iter().find(|(k, _)| k == "who").map(|(_, v)| v.as_str()).unwrap_or("");
        let session = match who {
            "operator" => Some(Session::Operator),
            _ => match who.strip_prefix("tenant:").and_then(|t| TenantId::parse(t).ok()) {
                // Only a tenant that exists and is active can be signed in to.
                Some(t) if self.findings.authorize(&Caller::Operator, &t).await.is_ok() => Some(Session::Tenant(t)),
                _ => None,
            },
        };
        match session {
            Some(s) => Response::redirect("/").with("set-cookie", self.sessions.set_cookie(&s, self.now_secs())),
            None => pages::login(self, Some("Choose who to sign in as.")).await,
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
            ("GET", "accounts") => pages::accounts(self, &ctx).await,
            ("GET", "events") => pages::events(self, &ctx, req.query).await,
            ("GET", "runs") => pages::runs(self, &ctx, req.query).await,
            ("GET", "reports") => pages::reports(self, &ctx),
            ("GET", "reports/report.html") => match self.reports.get(&ctx.tenant) {
                Some(r) => Response::html(200, r.html.clone()).with("content-security-policy", REPORT_CSP.into()),
                None => not_found(session),
            },
            (m, p) => match p.strip_prefix("findings/") {
                Some(key) if m == "GET" => triage::one(self, &ctx, key, req.query).await,
                Some(key) if m == "POST" => triage::change(self, &ctx, key, req.body).await,
                _ => not_found(session),
            },
        };
        r
    }
}

/// The one "not found" page: a missing tenant, another tenant's page and a missing page look
/// alike.
pub(crate) fn not_found(session: &Session) -> Response {
    let f = html::Frame {
        title: "Not found",
        tenant: None,
        current: "",
        who: Some(session.user()),
        operator: *session == Session::Operator,
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
