//! The findings pages: the list (filters, sort, pages, CSV, bulk suppress) and one finding
//! (evidence, fix, price, history, and the decisions as forms). Decisions go through the PATCH
//! use case ([`Findings::change`](crate::findings::Findings::change)) with the body the API
//! would get, so they are validated and recorded exactly as the API's.

use std::fmt::Write;

use chrono::NaiveDate;
use serde_json::{json, Map, Value};

use super::html::{self, badge, empty, enc, escape, money_opt, when};
use super::pages::{error_text, failure, frame, non_empty, pager, query_of};
use super::session::Session;
use super::{form, not_found, Console, Ctx, Response};
use crate::domain::finding::{Finding, FindingStatus};
use crate::domain::triage::FindingChange;
use crate::findings::{ChangeRequest, FindingDetail, FindingsError, FindingsQuery};
use crate::store::triage::valid_finding_key;

/// At most this many findings are suppressed by one bulk form.
pub const BULK_MAX: usize = 100;

fn status_str(s: FindingStatus) -> &'static str {
    match s {
        FindingStatus::Open => "open",
        FindingStatus::Resolved => "resolved",
        FindingStatus::Suppressed => "suppressed",
    }
}

pub(crate) fn finding_href(tenant: &str, f: &Finding) -> String {
    format!("/t/{}/findings/{}", enc(tenant), enc(&f.key()))
}

/// A table of findings; with `select`, a checkbox per row for the bulk form around it.
pub(crate) fn findings_table(tenant: &str, items: &[Finding], today: NaiveDate, select: bool, caption: &str) -> String {
    if items.is_empty() {
        return empty(
            "No findings here.",
            "Scans run on a schedule and real-time events arrive as they happen; widen the filters, or run <code>make demo</code> for sample data.",
        );
    }
    let mut h = format!("<table><caption class=\"sr-only\">{}</caption><thead><tr>", escape(caption));
    if select {
        h.push_str("<th scope=\"col\"><span class=\"muted\">Select</span></th>");
    }
    h.push_str("<th scope=\"col\" class=\"n\">Monthly saving</th><th scope=\"col\">Finding</th><th scope=\"col\">Resource</th><th scope=\"col\">Account</th><th scope=\"col\">Region</th><th scope=\"col\">Status</th><th scope=\"col\">First seen</th></tr></thead><tbody>");
    for f in items {
        h.push_str("<tr>");
        if select {
            let _ = write!(
                h,
                "<td><input type=\"checkbox\" name=\"key\" value=\"{}\" aria-label=\"Select {}\"></td>",
                escape(&f.key()),
                escape(&f.resource_id)
            );
        }
        let mut status = badge(status_str(f.status));
        let t = f.triage.as_ref();
        if t.and_then(|t| t.snoozed_until).is_some_and(|d| d > today) {
            status.push_str(" <span class=\"muted\">snoozed</span>");
        }
        if let Some(o) = t.and_then(|t| t.owner.as_deref()) {
            let _ = write!(status, " <span class=\"muted\">owner {}</span>", escape(o));
        }
        let _ = write!(
            h,
            "<td class=\"n\">{}</td><td><a href=\"{}\">{}</a><br><span class=\"muted\">{}</span></td><td class=\"id\">{}</td><td class=\"acct\">{}</td><td class=\"nw\">{}</td><td>{status}</td><td class=\"nw\">{}</td></tr>",
            money_opt(f.monthly_savings_usd),
            escape(&finding_href(tenant, f)),
            escape(&f.title),
            escape(&f.rule),
            escape(&f.resource_id),
            escape(f.account_id.as_str()),
            escape(&f.region),
            f.first_seen.format("%Y-%m-%d")
        );
    }
    h.push_str("</tbody></table>");
    h
}

fn get<'a>(pairs: &'a [(String, String)], k: &str) -> &'a str {
    pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or("")
}

type Pairs = Vec<(String, String)>;

/// The console's view of the list's query: `status` defaults to `open`, and `any` drops it;
/// `done` is the console's own notice. Returns (what the form shows, what the API gets).
fn list_query(query: &str) -> (Pairs, Pairs) {
    let mut shown = non_empty(query, &["done"]);
    if !shown.iter().any(|(k, _)| k == "status") {
        shown.push(("status".into(), "open".into()));
    }
    let api = shown.iter().filter(|(k, v)| !(k == "status" && v == "any")).cloned().collect();
    (shown, api)
}

fn filter_form(base: &str, p: &[(String, String)]) -> String {
    let sources = [
        ("", "any source"),
        ("realtime", "real-time"),
        ("scan", "scan"),
        ("cur", "CUR"),
        ("aws-recommender", "AWS recommender"),
    ];
    let statuses = [("open", "open"), ("resolved", "resolved"), ("suppressed", "suppressed"), ("any", "any status")];
    format!(
        "<form class=\"filters\" method=\"get\" action=\"{base}\" aria-label=\"Filter findings\">{}{}{}{}{}{}{}{}{}{}<button type=\"submit\">Apply filters</button></form>",
        html::input("q", "Resource id contains", get(p, "q"), " size=\"18\""),
        html::input("account", "Account", get(p, "account"), " inputmode=\"numeric\" size=\"13\""),
        html::input("region", "Region", get(p, "region"), " size=\"10\""),
        html::input("service", "Service", get(p, "service"), " size=\"8\""),
        html::input("rule", "Rule", get(p, "rule"), " size=\"16\""),
        html::select("source", "Source", &sources, get(p, "source")),
        html::select("status", "Status", &statuses, get(p, "status")),
        html::input("min_monthly_savings_usd", "Minimum monthly saving (USD)", get(p, "min_monthly_savings_usd"), " inputmode=\"decimal\" size=\"8\""),
        html::select("sort", "Sort by", &[("savings", "saving, largest first"), ("first_seen", "first seen, newest first")], get(p, "sort")),
        html::select("limit", "Per page", &[("", "50"), ("25", "25"), ("100", "100")], get(p, "limit")),
    )
}

pub(crate) async fn list(c: &Console, ctx: &Ctx<'_>, query: &str) -> Response {
    let today = c.clock.now().date_naive();
    let t = ctx.tenant.as_str();
    let base = format!("/t/{}/findings", enc(t));
    let (shown, api) = list_query(query);
    let mut h = String::from("<h1>Findings</h1>");
    if let Some((_, n)) = url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "done") {
        let n: u32 = n.parse().unwrap_or(0);
        let _ = write!(h, "<p class=\"notice\" role=\"status\">{n} finding(s) suppressed; they are in the suppressed list and their history.</p>");
    }
    h.push_str(&filter_form(&base, &shown));
    let result = match FindingsQuery::parse(&query_of(&api)) {
        Ok(q) => c.findings.list(&ctx.caller, &ctx.tenant, &q).await,
        Err(e) => Err(e.into()),
    };
    let page = match result {
        Ok(p) => p,
        Err(e @ FindingsError::Invalid(_)) => {
            let _ = write!(h, "<p class=\"error\" role=\"alert\">{}</p>", escape(&error_text(&e)));
            return Response::html(400, html::page(&frame(ctx, "Findings", "findings"), &h));
        }
        Err(e) => return failure(ctx.session, &e),
    };
    let csv: Vec<(String, String)> = api.iter().filter(|(k, _)| k != "cursor").cloned().collect();
    let _ = write!(h, "<p><a href=\"{base}.csv?{}\">Download these findings as CSV</a></p>", escape(&query_of(&csv)));
    if page.items.is_empty() && page.next_cursor.is_some() {
        h.push_str("<p class=\"muted\">No finding on this page passes the filters, but there are more pages.</p>");
    }
    let _ = write!(
        h,
        "<form method=\"post\" action=\"{base}/suppress\"><input type=\"hidden\" name=\"back\" value=\"{}\">",
        escape(&query_of(&shown))
    );
    h.push_str(&findings_table(t, &page.items, today, true, "Findings, filtered and sorted"));
    if !page.items.is_empty() {
        let _ = write!(
            h,
            "<div class=\"filters\" style=\"margin-top:.8rem\">{}<button type=\"submit\">Suppress selected</button></div>",
            html::input("reason", "Reason for suppressing the selected findings", "", " required maxlength=\"1024\" size=\"48\"")
        );
    }
    h.push_str("</form>");
    h.push_str(&pager(&base, &shown, page.next_cursor.as_deref()));
    Response::html(200, html::page(&frame(ctx, "Findings", "findings"), &h))
}

pub(crate) async fn csv(c: &Console, ctx: &Ctx<'_>, query: &str) -> Response {
    let (_, api) = list_query(query);
    let result = match FindingsQuery::parse(&query_of(&api)) {
        Ok(q) => c.findings.csv(&ctx.caller, &ctx.tenant, &q).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok((text, next)) => {
            let mut headers = vec![("content-disposition", "attachment; filename=\"findings.csv\"".to_owned())];
            headers.extend(next.map(|c| ("x-next-cursor", c)));
            Response { status: 200, content_type: "text/csv; charset=utf-8", headers, body: text }
        }
        Err(e) => failure(ctx.session, &e),
    }
}

/// A decision's PATCH body from a form's fields: only the field the action takes, and `by`
/// for the operator (a tenant user's name comes from the session).
fn change_body(session: &Session, action: &str, f: &[(String, String)]) -> Vec<u8> {
    let mut body = Map::new();
    body.insert("action".into(), json!(action));
    let field = match action {
        "snooze" => "until",
        "suppress" => "reason",
        "assign" => "owner",
        "note" => "text",
        _ => "",
    };
    if !field.is_empty() {
        body.insert(field.into(), json!(get(f, field)));
    }
    if session.is_operator() {
        body.insert("by".into(), json!(session.user()));
    }
    Value::Object(body).to_string().into_bytes()
}

pub(crate) async fn bulk_suppress(c: &Console, ctx: &Ctx<'_>, body: &[u8]) -> Response {
    let today = c.clock.now().date_naive();
    let f = form(body);
    let keys: Vec<&str> = f.iter().filter(|(k, _)| k == "key").map(|(_, v)| v.as_str()).collect();
    let back = query_of(&non_empty(get(&f, "back"), &["done", "cursor"]));
    let problem = if keys.is_empty() {
        Some("Select at least one finding to suppress.".to_owned())
    } else if keys.len() > BULK_MAX {
        Some(format!("At most {BULK_MAX} findings at a time."))
    } else {
        ChangeRequest::parse(&change_body(ctx.session, "suppress", &f), today)
            .err()
            .map(|e| format!("{}: {}", e.field, e.message))
    };
    if let Some(p) = problem {
        let h = format!(
            "<h1>Nothing was suppressed</h1><p class=\"error\" role=\"alert\">{}</p><p><a href=\"/t/{}/findings?{}\">Back to the findings</a></p>",
            escape(&p),
            enc(ctx.tenant.as_str()),
            escape(&back)
        );
        return Response::html(400, html::page(&frame(ctx, "Findings", "findings"), &h));
    }
    let mut done = 0;
    for key in keys {
        let req = ChangeRequest::parse(&change_body(ctx.session, "suppress", &f), today).expect("checked above");
        match c.findings.change(&ctx.caller, &ctx.tenant, key, req).await {
            Ok(_) => done += 1,
            Err(FindingsError::FindingNotFound | FindingsError::Invalid(_)) => {}
            Err(e) => return failure(ctx.session, &e),
        }
    }
    let sep = if back.is_empty() { "" } else { "&" };
    Response::redirect(&format!("/t/{}/findings?{back}{sep}done={done}", enc(ctx.tenant.as_str())))
}

/// Percent-decoding of a path segment; `None` for a bad escape or non-UTF-8.
fn decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn key_of(raw: &str) -> Option<String> {
    decode(raw).filter(|k| valid_finding_key(k))
}

pub(crate) async fn one(c: &Console, ctx: &Ctx<'_>, raw: &str, query: &str) -> Response {
    let Some(key) = key_of(raw) else { return not_found(ctx.session) };
    let done = url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "done").map(|(_, v)| v.into_owned());
    match c.findings.finding(&ctx.caller, &ctx.tenant, &key).await {
        Ok(d) => finding_page(c, ctx, &d, done.as_deref(), None),
        Err(e) => failure(ctx.session, &e),
    }
}

pub(crate) async fn change(c: &Console, ctx: &Ctx<'_>, raw: &str, body: &[u8]) -> Response {
    let Some(key) = key_of(raw) else { return not_found(ctx.session) };
    let today = c.clock.now().date_naive();
    let f = form(body);
    let action = get(&f, "action").to_owned();
    let result = match ChangeRequest::parse(&change_body(ctx.session, &action, &f), today) {
        Ok(req) => c.findings.change(&ctx.caller, &ctx.tenant, &key, req).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(d) => {
            Response::redirect(&format!("{}?done={}", finding_href(ctx.tenant.as_str(), &d.finding), enc(&action)))
        }
        Err(e @ FindingsError::Invalid(_)) => match c.findings.finding(&ctx.caller, &ctx.tenant, &key).await {
            Ok(d) => {
                let mut r = finding_page(c, ctx, &d, None, Some(&error_text(&e)));
                r.status = 400;
                r
            }
            Err(e) => failure(ctx.session, &e),
        },
        Err(e) => failure(ctx.session, &e),
    }
}

fn facts(d: &FindingDetail, price_as_of: &str) -> String {
    let f = &d.finding;
    let t = f.triage.as_ref();
    let rows: Vec<(&str, String)> = vec![
        (
            "Status",
            badge(status_str(f.status))
                + &f.suppressed_by.as_deref().map(|s| format!(" {}", escape(s))).unwrap_or_default(),
        ),
        ("Monthly saving", money_opt(f.monthly_savings_usd)),
        ("Monthly cost", money_opt(f.monthly_cost_usd)),
        ("Cheaper alternative", escape(f.alternative.as_deref().unwrap_or("–"))),
        ("Account", escape(f.account_id.as_str())),
        ("Region", escape(&f.region)),
        ("Resource", escape(f.arn.as_deref().unwrap_or(&f.resource_id))),
        ("Rule", escape(&f.rule)),
        ("Price source", format!("{} {}", escape(f.price_source.as_deref().unwrap_or("–")), price_as_of)),
        ("First seen", when(&f.first_seen)),
        ("Last seen", when(&f.last_seen)),
        ("Changed by", escape(f.actor.as_deref().unwrap_or("–"))),
        ("Owner", escape(t.and_then(|t| t.owner.as_deref()).unwrap_or("nobody yet"))),
        (
            "Acknowledged",
            t.and_then(|t| {
                Some(format!(
                    "{} by {}",
                    when(t.acknowledged_at.as_ref()?),
                    escape(t.acknowledged_by.as_deref().unwrap_or("?"))
                ))
            })
            .unwrap_or_else(|| "no".into()),
        ),
        ("Snoozed until", t.and_then(|t| t.snoozed_until).map(|d| d.to_string()).unwrap_or_else(|| "–".into())),
    ];
    let mut h = String::from("<dl class=\"facts\">");
    for (k, v) in rows {
        let _ = write!(h, "<dt>{k}</dt><dd>{v}</dd>");
    }
    h.push_str("</dl>");
    h
}

fn history(items: &[FindingChange]) -> String {
    if items.is_empty() {
        return "<p class=\"muted\">No decision yet: acknowledge, snooze, suppress, assign or note it below.</p>"
            .into();
    }
    let mut h = String::from("<table><caption>Every decision, oldest first</caption><thead><tr><th scope=\"col\">When</th><th scope=\"col\">Who</th><th scope=\"col\">Caller</th><th scope=\"col\">What</th></tr></thead><tbody>");
    for c in items {
        let what = match &c.action {
            crate::domain::triage::TriageAction::Acknowledge => "acknowledged".to_owned(),
            crate::domain::triage::TriageAction::Snooze { until } => format!("snoozed until {until}"),
            crate::domain::triage::TriageAction::Suppress { reason } => format!("suppressed: {reason}"),
            crate::domain::triage::TriageAction::Assign { owner } => format!("assigned to {owner}"),
            crate::domain::triage::TriageAction::Note { text } => format!("note: {text}"),
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            when(&c.at),
            escape(&c.by),
            escape(&c.caller),
            escape(&what)
        );
    }
    h.push_str("</tbody></table>");
    h
}

fn action_forms(href: &str, today: NaiveDate) -> String {
    let tomorrow = today.succ_opt().unwrap_or(today);
    let form = |action: &str, title: &str, field: &str, button: &str| {
        format!("<form method=\"post\" action=\"{href}\"><h3>{title}</h3><input type=\"hidden\" name=\"action\" value=\"{action}\">{field}<button type=\"submit\">{button}</button></form>")
    };
    let mut h = String::from("<div class=\"actions\">");
    h.push_str(&form("acknowledge", "Acknowledge", "<p class=\"muted\">Someone has seen it.</p>", "Acknowledge"));
    h.push_str(&form("snooze", "Snooze", &format!("<label>Hide until (YYYY-MM-DD)<input type=\"date\" name=\"until\" required min=\"{tomorrow}\" value=\"{}\"></label>", today + chrono::Duration::days(14)), "Snooze"));
    h.push_str(&form(
        "suppress",
        "Suppress",
        "<label>Reason<input name=\"reason\" required maxlength=\"1024\"></label>",
        "Suppress",
    ));
    h.push_str(&form(
        "assign",
        "Assign",
        "<label>Owner<input name=\"owner\" required maxlength=\"1024\"></label>",
        "Assign",
    ));
    h.push_str(&form(
        "note",
        "Add a note",
        "<label>Note<textarea name=\"text\" required maxlength=\"1024\" rows=\"2\"></textarea></label>",
        "Add note",
    ));
    h.push_str("</div>");
    h
}

fn finding_page(c: &Console, ctx: &Ctx<'_>, d: &FindingDetail, done: Option<&str>, problem: Option<&str>) -> Response {
    let today = c.clock.now().date_naive();
    let f = &d.finding;
    let href = escape(&finding_href(ctx.tenant.as_str(), f));
    let mut h = format!(
        "<p><a href=\"/t/{}/findings\">Findings</a> ›</p><h1>{}</h1>",
        enc(ctx.tenant.as_str()),
        escape(&f.title)
    );
    if let Some(a) = done {
        let _ = write!(h, "<p class=\"notice\" role=\"status\">Saved: {}.</p>", escape(a));
    }
    if let Some(p) = problem {
        let _ = write!(h, "<p class=\"error\" role=\"alert\">Nothing was saved. {}</p>", escape(p));
    }
    let as_of = d.price_as_of.as_deref().map(|d| format!("(prices of {})", escape(d))).unwrap_or_default();
    h.push_str(&facts(d, &as_of));
    h.push_str("<h2>Evidence</h2>");
    if f.evidence.is_empty() {
        h.push_str("<p class=\"muted\">The rule recorded no evidence lines.</p>");
    } else {
        h.push_str("<ul>");
        f.evidence.iter().for_each(|e| {
            let _ = write!(h, "<li>{}</li>", escape(e));
        });
        h.push_str("</ul>");
    }
    h.push_str("<h2>Fix</h2>");
    match &f.fix_command {
        Some(cmd) => {
            let _ = write!(h, "<p class=\"muted\">Check it first; costradar never changes the customer's account.</p><pre><code>{}</code></pre>", escape(cmd));
        }
        None => h.push_str("<p class=\"muted\">This rule has no one-line fix; see the alternative above.</p>"),
    }
    h.push_str("<h2>History</h2>");
    h.push_str(&history(&d.history));
    h.push_str("<h2>Decide</h2>");
    h.push_str(&action_forms(&href, today));
    Response::html(200, html::page(&frame(ctx, &f.title, "findings"), &h))
}
