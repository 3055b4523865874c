//! The console's actions through the operator API's use cases (`onboarding::api`, the very
//! handler `costradar tenants …` and `costradar accounts …` call), and the operator's pages:
//! `/ops` (the stack's dead-letter queues and alarms, through [`StackHealth`]) and
//! `/tenants/new`.
//!
//! Who may do what (the console is never more permissive than the APIs: tenant users have no
//! route to the operator API at all):
//! - the operator's staff: everything here;
//! - a tenant's user: "Verify again" on its own tenant's accounts only (it proves the role the
//!   customer deployed and writes nothing but the account's status); never `/ops` nor
//!   `/tenants/new` (the missing page's 404), never a settings change (`settings`).

use std::fmt::Write;
use std::sync::Arc;

use serde_json::{json, Value};

use super::html::{self, badge, empty, enc, escape, Frame};
use super::session::Session;
use super::{not_found, Console, Ctx, Request, Response};
use crate::health::HealthReport;
use crate::onboarding::api::{self, ApiRequest, ApiResponse};
use crate::onboarding::Onboarding;

pub(crate) const NO_ADMIN: &str =
    "this console was started without the operator API's use cases (costradar console serve gives them)";
pub(crate) const NO_HEALTH: &str = "this console was started without a source for the stack's health";

/// The operator API's use cases as the console calls them.
pub struct Admin {
    pub onboarding: Arc<Onboarding>,
    /// Why "Verify again" cannot work here (the in-memory demo has no STS), or `None`.
    pub verify_off: Option<String>,
}

/// One call of the operator API, as `costradar` makes it (`cli/src/main.rs`).
pub(crate) async fn call(svc: &Onboarding, method: &str, path: &str, body: Option<&Value>) -> ApiResponse {
    let body = body.map(Value::to_string).unwrap_or_default();
    let req = ApiRequest { method, path, query: "", content_type: Some("application/json"), body: body.as_bytes() };
    api::handle(svc, req).await
}

/// An API error's field and message (`field: message`), for a page.
pub(crate) fn api_error(r: &ApiResponse) -> (String, String) {
    let e = &r.body["error"];
    (e["field"].as_str().unwrap_or("").to_owned(), e["message"].as_str().unwrap_or("the request failed").to_owned())
}

fn operator_frame<'a>(session: &Session, title: &'a str, current: &'a str) -> Frame<'a> {
    Frame { title, tenant: None, current, who: Some(session.user()), operator: true }
}

/// `POST /t/{id}/accounts/{account}/verify`: `costradar accounts verify`, then back to the
/// accounts page, which shows the account's new status.
pub(crate) async fn verify(c: &Console, ctx: &Ctx<'_>, page: &str) -> Response {
    let Some(account) = page.strip_prefix("accounts/").and_then(|p| p.strip_suffix("/verify")) else {
        return not_found(ctx.session);
    };
    let admin = match &c.admin {
        Ok(a) if a.verify_off.is_none() => a,
        Ok(a) => return super::pages::accounts_with(c, ctx, None, a.verify_off.as_deref()).await,
        Err(why) => return super::pages::accounts_with(c, ctx, None, Some(why)).await,
    };
    let path = format!("/tenants/{}/accounts/{}/verify", enc(ctx.tenant.as_str()), enc(account));
    let r = call(&admin.onboarding, "POST", &path, None).await;
    match r.status {
        200 => {
            let id = r.body["account_id"].as_str().unwrap_or(account);
            Response::redirect(&format!("/t/{}/accounts?verified={}", enc(ctx.tenant.as_str()), enc(id)))
        }
        404 => not_found(ctx.session),
        _ => {
            let (field, message) = api_error(&r);
            let text = if field.is_empty() { message } else { format!("{field}: {message}") };
            let mut resp = super::pages::accounts_with(c, ctx, None, Some(&text)).await;
            resp.status = r.status;
            resp
        }
    }
}

/// `GET /ops`: the stack's dead-letter queues and alarms. The operator's only.
pub(crate) async fn health_page(c: &Console, session: &Session) -> Response {
    if !session.is_operator() {
        return not_found(session);
    }
    let mut h = String::from("<h1>Operations</h1>");
    match &c.health {
        Err(missing) => h.push_str(&empty(
            "The stack's health is not read by this console.",
            &format!(
                "Missing: {}. Start <code>costradar console serve</code> with the stack's dead-letter queue names and alarm prefix (the stack's outputs) to see them here.",
                escape(missing)
            ),
        )),
        Ok(source) => h.push_str(&health_html(&source.report().await)),
    }
    Response::html(200, html::page(&operator_frame(session, "Operations", "ops"), &h))
}

fn health_html(r: &HealthReport) -> String {
    let mut h = String::from("<h2>Dead-letter queues</h2><table><caption>Messages waiting in each dead-letter queue (redrive or inspect any that is not empty)</caption><thead><tr><th scope=\"col\">Queue</th><th scope=\"col\" class=\"n\">Messages</th><th scope=\"col\">State</th></tr></thead><tbody>");
    for q in &r.queues {
        let (n, state) = match (&q.messages, &q.error) {
            (_, Some(e)) => ("–".to_owned(), format!("could not be read: {}", escape(e))),
            (Some(0), None) => ("0".to_owned(), badge("empty")),
            (Some(n), None) => (n.to_string(), badge("failed")),
            (None, None) => ("–".to_owned(), "no data yet".to_owned()),
        };
        let _ =
            write!(h, "<tr><td class=\"id\">{}</td><td class=\"n\">{n}</td><td>{state}</td></tr>", escape(&q.queue));
    }
    h.push_str("</tbody></table><h2>Alarms</h2>");
    if let Some(e) = &r.alarms_error {
        let _ = write!(h, "<p class=\"error\" role=\"alert\">The alarms could not be read: {}</p>", escape(e));
        return h;
    }
    if r.alarms.is_empty() {
        h.push_str(&empty("No alarm has this stack's prefix.", "Check the alarm prefix: the stack's alarms are named <code>&lt;stack name&gt;-&lt;logical id&gt;-…</code>."));
        return h;
    }
    let firing = r.alarms.iter().filter(|a| a.state == "ALARM").count();
    let _ = write!(h, "<p>{firing} of {} alarms in ALARM.</p>", r.alarms.len());
    h.push_str("<table><caption>The stack's alarms</caption><thead><tr><th scope=\"col\">Alarm</th><th scope=\"col\">State</th><th scope=\"col\">Since</th><th scope=\"col\">Why</th><th scope=\"col\">What it means</th></tr></thead><tbody>");
    for a in &r.alarms {
        let class = match a.state.as_str() {
            "OK" => "complete",
            "ALARM" => "failed",
            _ => "pending",
        };
        let _ = write!(
            h,
            "<tr><td class=\"id\">{}</td><td><span class=\"status {class}\">{}</span></td><td class=\"nw\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(&a.name),
            escape(&a.state),
            a.updated_at.as_ref().map(html::when).unwrap_or_default(),
            escape(&a.reason),
            escape(&a.description)
        );
    }
    h.push_str("</tbody></table>");
    h
}

/// `GET /tenants/new` (the form) and `POST /tenants/new` (`costradar tenants create`, then the
/// quick-create link, on this answer only). The operator's only.
pub(crate) async fn new_tenant(c: &Console, session: &Session, req: &Request<'_>) -> Response {
    if !session.is_operator() {
        return not_found(session);
    }
    let admin = match &c.admin {
        Ok(a) => a,
        Err(why) => {
            let h =
                format!("<h1>New tenant</h1>{}", empty("Tenants cannot be created from this console.", &escape(why)));
            return Response::html(200, html::page(&operator_frame(session, "New tenant", "new"), &h));
        }
    };
    if req.method == "GET" {
        return tenant_form(session, 200, "", None);
    }
    let form = super::form(req.body);
    let name = form.iter().find(|(k, _)| k == "name").map(|(_, v)| v.as_str()).unwrap_or("");
    let r = call(&admin.onboarding, "POST", "/tenants", Some(&json!({ "name": name }))).await;
    if r.status != 201 {
        let (field, message) = api_error(&r);
        let mut resp = tenant_form(session, r.status, name, Some(&format!("Nothing was saved. {field}: {message}")));
        resp.status = r.status;
        return resp;
    }
    created_page(session, &r.body)
}

fn tenant_form(session: &Session, status: u16, name: &str, problem: Option<&str>) -> Response {
    let mut h = String::from("<h1>New tenant</h1>");
    if let Some(p) = problem {
        let _ = write!(h, "<p class=\"error\" role=\"alert\">{}</p>", escape(p));
    }
    let _ = write!(
        h,
        "<form method=\"post\" action=\"/tenants/new\" class=\"filters\">{}<button type=\"submit\">Create the tenant</button></form><p class=\"muted\">The same as <code>costradar tenants create --name NAME</code>. The next page shows the customer's quick-create link.</p>",
        html::input("name", "Name (the customer's organisation)", name, " required maxlength=\"128\" size=\"40\"")
    );
    Response::html(status, html::page(&operator_frame(session, "New tenant", "new"), &h))
}

fn created_page(session: &Session, body: &Value) -> Response {
    let t = &body["tenant"];
    let s = |v: &Value| escape(v.as_str().unwrap_or(""));
    let link = s(&body["quick_create_url"]);
    let h = format!(
        "<h1>Tenant created</h1><p class=\"notice\" role=\"status\">{name} was created. Copy the quick-create link now: this page is not stored and is not shown again here.</p>\
<dl class=\"facts\"><dt>Tenant</dt><dd>{name}</dd><dt>Id</dt><dd class=\"id\">{id}</dd><dt>ExternalId</dt><dd class=\"id\">{ext}</dd></dl>\
<h2>Quick-create link</h2><p>Send it to the customer: it opens the CloudFormation console with costradar's read-only role stack, every parameter filled in. Each account's ingest token then goes to the customer's stack in costradar's answer to its custom resource; no token exists before an account is connected.</p>\
<p><a href=\"{link}\" rel=\"noreferrer noopener\" target=\"_blank\">Open the quick-create link</a></p><label for=\"qc\">The link, to copy</label><textarea id=\"qc\" readonly rows=\"4\" style=\"width:100%\">{link}</textarea>\
<p><a href=\"/t/{enc_id}/\">Go to the tenant</a> · <a href=\"/\">All tenants</a></p>",
        name = s(&t["name"]),
        id = s(&t["id"]),
        ext = s(&t["external_id"]),
        enc_id = enc(t["id"].as_str().unwrap_or("")),
    );
    Response::html(201, html::page(&operator_frame(session, "Tenant created", "new"), &h))
}

/// The accounts' health of one tenant, for the operator's tenant list.
pub(crate) async fn tenant_health(c: &Console, tenant: &crate::domain::TenantId) -> String {
    use crate::domain::AccountStatus;
    use crate::store::PageRequest;
    let accounts = match c.store.list_accounts(tenant, &PageRequest::first(100)).await {
        Ok(p) => p.items,
        Err(_) => return "<td colspan=\"3\">the accounts could not be read</td>".into(),
    };
    let runs = c.findings.runs(&crate::findings::Caller::Operator, tenant, &PageRequest::first(20)).await;
    let runs = runs.map(|p| p.items).unwrap_or_default();
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for a in &accounts {
        match counts.iter_mut().find(|(s, _)| *s == a.status.as_str()) {
            Some((_, n)) => *n += 1,
            None => counts.push((a.status.as_str(), 1)),
        }
    }
    let statuses = if counts.is_empty() {
        "no account".to_owned()
    } else {
        counts.iter().map(|(s, n)| format!("{n} {}", badge(s))).collect::<Vec<_>>().join(" ")
    };
    // The oldest of the live accounts' last scans: the account most overdue.
    let live = accounts.iter().filter(|a| a.status == AccountStatus::Active);
    let lasts: Vec<Option<chrono::DateTime<chrono::Utc>>> = live
        .map(|a| runs.iter().find(|r| r.accounts.iter().any(|x| x.account_id == a.account_id)).map(|r| r.finished_at))
        .collect();
    let oldest = if lasts.is_empty() {
        "–".to_owned()
    } else if lasts.iter().any(Option::is_none) {
        "an active account was not in the last 20 runs".to_owned()
    } else {
        lasts.iter().flatten().min().map(html::when).unwrap_or_default()
    };
    let failed = match runs.first() {
        None => "no run yet".to_owned(),
        Some(r) => {
            let n: usize = r
                .accounts
                .iter()
                .map(|a| a.regions.iter().filter(|g| g.status == crate::domain::scan_run::ScanStatus::Failed).count())
                .sum();
            let whole = r.accounts.iter().filter(|a| a.regions.is_empty() && a.error.is_some()).count();
            let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
            match (n, whole) {
                (0, 0) => "none".to_owned(),
                (n, 0) => plural(n, "region", "regions"),
                (n, w) => {
                    format!("{}; {} failed whole", plural(n, "region", "regions"), plural(w, "account", "accounts"))
                }
            }
        }
    };
    format!("<td>{statuses}</td><td class=\"nw\">{}</td><td>{}</td>", escape(&oldest), escape(&failed))
}
