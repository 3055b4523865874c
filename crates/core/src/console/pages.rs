//! The console's pages besides the findings' own (`triage`) and sign-in (`signin`): the operator's tenant
//! list, a tenant's overview, accounts, events, runs and reports.

use std::fmt::Write;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::Value;

use super::html::{self, badge, empty, enc, escape, money, money_str, when, Frame};
use super::session::Session;
use super::triage::findings_table;
use super::{Console, Ctx, Response};
use crate::domain::event::EventKind;
use crate::findings::{EventsQuery, FindingsError, FindingsQuery};
use crate::store::PageRequest;

pub(crate) fn frame<'a>(ctx: &'a Ctx<'_>, title: &'a str, current: &'a str) -> Frame<'a> {
    Frame {
        title,
        tenant: Some((ctx.tenant.as_str(), &ctx.tenant_name)),
        current,
        who: Some(ctx.session.user()),
        operator: ctx.session.is_operator(),
    }
}

/// A page with only a heading and a sentence (no session needed).
pub(crate) fn message(title: &str, text: &str) -> String {
    let f = Frame { title, tenant: None, current: "", who: None, operator: false };
    html::page(&f, &format!("<h1>{}</h1><p>{}</p><p><a href=\"/\">Start page</a></p>", escape(title), escape(text)))
}

/// A use-case error as a page: a 400 says which input, a 404 is the one not-found page.
pub(crate) fn failure(session: &Session, e: &FindingsError) -> Response {
    if matches!(e, FindingsError::TenantNotFound | FindingsError::FindingNotFound) {
        return super::not_found(session);
    }
    if !matches!(e, FindingsError::Invalid(_)) {
        tracing::error!(code = e.code(), error = ?e, "console request failed");
    }
    let f =
        Frame { title: "Error", tenant: None, current: "", who: Some(session.user()), operator: session.is_operator() };
    let body = format!("<h1>Error</h1><p class=\"error\" role=\"alert\">{}</p>", escape(&error_text(e)));
    Response::html(e.http_status(), html::page(&f, &body))
}

pub(crate) fn error_text(e: &FindingsError) -> String {
    match e {
        FindingsError::Invalid(i) => format!("{}: {}", i.field, i.message),
        e => e.to_string(),
    }
}

pub(crate) async fn tenants(c: &Console, session: &Session) -> Response {
    let page = match c.store.list_tenants(&PageRequest::first(100)).await {
        Ok(p) => p,
        Err(e) => return failure(session, &e.into()),
    };
    let mut h = String::from("<h1>All tenants</h1><p><a href=\"/tenants/new\">Create a tenant</a> · <a href=\"/ops\">Operations: dead-letter queues and alarms</a></p>");
    if page.items.is_empty() {
        h.push_str(&empty(
            "No tenants yet.",
            "Create one with <code>costradar tenants create --name NAME</code>, or run <code>make demo</code>.",
        ));
    } else {
        h.push_str("<table><caption>Tenants of this operator</caption><thead><tr><th scope=\"col\">Tenant</th><th scope=\"col\">Id</th><th scope=\"col\">Status</th><th scope=\"col\">Created</th><th scope=\"col\">Accounts by status</th><th scope=\"col\">Oldest last scan (active accounts)</th><th scope=\"col\">Failed in the last run</th></tr></thead><tbody>");
        for t in &page.items {
            let _ = write!(
                h,
                "<tr><td><a href=\"/t/{}/\">{}</a></td><td class=\"id\">{}</td><td>{}</td><td>{}</td>{}</tr>",
                enc(t.id.as_str()),
                escape(&t.name),
                escape(t.id.as_str()),
                badge(if t.status == crate::domain::TenantStatus::Active { "active" } else { "deleted" }),
                when(&t.created_at),
                super::ops::tenant_health(c, &t.id).await
            );
        }
        h.push_str("</tbody></table><p class=\"muted\">Accounts by status: from the accounts; the oldest last scan: the active account scanned longest ago, from the last 20 runs; failed: regions (and accounts that failed whole) in the tenant's newest run.</p>");
    }
    let f = Frame { title: "All tenants", tenant: None, current: "tenants", who: Some(session.user()), operator: true };
    Response::html(200, html::page(&f, &h))
}

pub(crate) async fn overview(c: &Console, ctx: &Ctx<'_>) -> Response {
    let today = c.clock.now().date_naive();
    let parse = |q: &str| FindingsQuery::parse(q).expect("a fixed query");
    let ledger = c.findings.savings(&ctx.caller, &ctx.tenant).await;
    let top = c.findings.list(&ctx.caller, &ctx.tenant, &parse("status=open&sort=savings&limit=5")).await;
    let newest = c.findings.list(&ctx.caller, &ctx.tenant, &parse("source=realtime&sort=first_seen&limit=5")).await;
    let (ledger, top, newest) = match (ledger, top, newest) {
        (Ok(l), Ok(t), Ok(n)) => (l, t, n),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return failure(ctx.session, &e),
    };
    let mut h = format!("<h1>{}: overview</h1><h2>Savings</h2><dl class=\"kpi\">", escape(&ctx.tenant_name));
    for (label, v) in [
        ("Open (monthly)", ledger.total.open),
        ("Realised (monthly)", ledger.total.realised),
        ("Confirmed by the bill", ledger.total.confirmed),
    ] {
        let _ = write!(h, "<div><dt>{label}</dt><dd>{}</dd></div>", money(v));
    }
    h.push_str("</dl><p class=\"muted\">Open: savings of open findings. Realised: findings resolved because the resource went away or changed. Confirmed by the bill: realised savings the CUR bears out, from the resource's daily cost in the week before and the week after the fix (part of realised, never added to it).</p>");
    h.push_str("<h2>Spend trend</h2>");
    match latest_report(c, &ctx.tenant).await {
        Some(json) => h.push_str(&trend(&json)),
        None => h.push_str(&empty(
            "No CUR analysis for this tenant yet.",
            "Connect an account's CUR export (its CUR settings): each scheduled analysis stores a report, and the newest one is shown here. Locally, <code>costradar analyze --cur DIR --out OUT</code> and <code>costradar console serve --report TENANT=OUT</code>; <code>make demo</code> does both.",
        )),
    }
    let t = ctx.tenant.as_str();
    h.push_str("<h2>Top open findings by saving</h2>");
    h.push_str(&findings_table(t, &top.items, today, false, "Top open findings by monthly saving"));
    let _ = write!(h, "<p><a href=\"/t/{}/findings\">All findings</a></p>", enc(t));
    h.push_str("<h2>Newest real-time findings</h2>");
    h.push_str(&findings_table(t, &newest.items, today, false, "Newest real-time findings"));
    Response::html(200, html::page(&frame(ctx, "Overview", ""), &h))
}

/// The newest report's `report.json`, from the reports the reports page lists (the stack's
/// bucket, or the `--report` files of a local run); `None` when there is none or it cannot be
/// read (the overview then says there is no analysis).
async fn latest_report(c: &Console, tenant: &crate::domain::TenantId) -> Option<Value> {
    use crate::report::store::{ReportFile, ReportPage};
    let page = c.report_store.list(tenant, &ReportPage { limit: 1, after: None }).await.ok()?;
    let id = page.items.first()?;
    let text = c.report_store.get(tenant, id, ReportFile::Json).await.ok()??;
    serde_json::from_str(&text).ok()
}

fn num(v: &Value) -> f64 {
    v.as_str().and_then(|s| s.parse::<Decimal>().ok()).and_then(|d| d.to_f64()).unwrap_or(0.0)
}

/// The daily spend of a report (`report.json`'s `daily`), anomalies as red dots.
pub(crate) fn trend(report: &Value) -> String {
    let empty_days = Vec::new();
    let daily = report["daily"].as_array().unwrap_or(&empty_days);
    if daily.is_empty() {
        return empty("The latest CUR analysis has no daily spend.", "Check the export's period.");
    }
    let (w, h, left, right, top, bottom) = (860.0, 220.0, 70.0, 16.0, 14.0, 34.0);
    let n = daily.len();
    let max = daily.iter().map(|d| num(&d["cost_usd"])).fold(0.0_f64, f64::max).max(1.0);
    let x = |i: usize| left + (w - left - right) * if n > 1 { i as f64 / (n - 1) as f64 } else { 0.5 };
    let y = |v: f64| top + (h - top - bottom) * (1.0 - v / max);
    let total: Decimal = daily.iter().filter_map(|d| d["cost_usd"].as_str()?.parse::<Decimal>().ok()).sum();
    let label = format!(
        "Daily spend from {} to {}, {} in total",
        daily[0]["date"].as_str().unwrap_or("?"),
        daily[n - 1]["date"].as_str().unwrap_or("?"),
        money(total)
    );
    let mut svg =
        format!("<svg viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-label=\"{}\">", escape(&label));
    for k in 0..=4 {
        let v = max * f64::from(k) / 4.0;
        let _ = write!(
            svg,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{yv:.1}\" y2=\"{yv:.1}\" stroke=\"#e5e7eb\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" class=\"ax\">{}</text>",
            w - right,
            left - 6.0,
            y(v) + 4.0,
            money(Decimal::from_f64_retain(v.round()).unwrap_or_default()).trim_end_matches(".00"),
            yv = y(v)
        );
    }
    let points: Vec<String> =
        daily.iter().enumerate().map(|(i, d)| format!("{:.1},{:.1}", x(i), y(num(&d["cost_usd"])))).collect();
    let _ =
        write!(svg, "<polyline fill=\"none\" stroke=\"#2563eb\" stroke-width=\"2\" points=\"{}\"/>", points.join(" "));
    for (i, d) in daily.iter().enumerate().step_by((n / 8).max(1)) {
        let date = escape(d["date"].as_str().unwrap_or(""));
        let _ =
            write!(svg, "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" class=\"ax\">{date}</text>", x(i), h - 12.0);
    }
    let anomalies = report["anomalies"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    for a in anomalies {
        if let Some(i) = daily.iter().position(|d| d["date"] == a["date"]) {
            let _ = write!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"#dc2626\"><title>{} {}: {}</title></circle>",
                x(i),
                y(num(&daily[i]["cost_usd"])),
                escape(a["date"].as_str().unwrap_or("")),
                escape(a["series"].as_str().unwrap_or("")),
                money_str(a["actual_usd"].as_str().unwrap_or("0"))
            );
        }
    }
    svg.push_str("</svg>");
    format!("{svg}<p class=\"muted\">{}; {} anomalies (red dots).</p>", escape(&label), anomalies.len())
}

/// `?verified=<account>`: the answer after "Verify again" (the account's status is read anew).
pub(crate) async fn accounts(c: &Console, ctx: &Ctx<'_>, query: &str) -> Response {
    let verified =
        url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "verified").map(|(_, v)| v.into_owned());
    accounts_with(c, ctx, verified.as_deref(), None).await
}

/// The accounts page, with the account just verified again, or a problem (400 when there is one).
pub(crate) async fn accounts_with(
    c: &Console,
    ctx: &Ctx<'_>,
    verified: Option<&str>,
    problem: Option<&str>,
) -> Response {
    let accounts = match c.store.list_accounts(&ctx.tenant, &PageRequest::first(100)).await {
        Ok(p) => p.items,
        Err(e) => return failure(ctx.session, &e.into()),
    };
    let runs = c.findings.runs(&ctx.caller, &ctx.tenant, &PageRequest::first(20)).await.map(|p| p.items);
    let runs = runs.unwrap_or_default();
    let mut h = String::from("<h1>Accounts</h1>");
    if let Some(a) = verified.and_then(|v| accounts.iter().find(|a| a.account_id.as_str() == v)) {
        let _ = write!(
            h,
            "<p class=\"notice\" role=\"status\">Verified again: account {} is {}. {}</p>",
            escape(a.account_id.as_str()),
            escape(a.status.as_str()),
            escape(&a.status_reason)
        );
    }
    if let Some(p) = problem {
        let _ = write!(h, "<p class=\"error\" role=\"alert\">Verify again: {}</p>", escape(p));
    }
    let verify_off = match &c.admin {
        Ok(a) => a.verify_off.clone(),
        Err(why) => Some(why.clone()),
    };
    if accounts.is_empty() {
        h.push_str(&empty(
            "No AWS account is connected to this tenant.",
            "The customer deploys the costradar stack (<code>cfn/costradar-role.yaml</code>) in the account, or the operator runs <code>costradar accounts add</code>.",
        ));
        return Response::html(200, html::page(&frame(ctx, "Accounts", "accounts"), &h));
    }
    h.push_str("<table><caption>Connected AWS accounts</caption><thead><tr><th scope=\"col\">Account</th><th scope=\"col\">Status</th><th scope=\"col\">Why</th><th scope=\"col\">Regions</th><th scope=\"col\">Last verified</th><th scope=\"col\">Last scan</th><th scope=\"col\">Verify</th></tr></thead><tbody>");
    for a in &accounts {
        let last = runs.iter().find_map(|r| {
            let ar = r.accounts.iter().find(|x| x.account_id == a.account_id)?;
            Some(format!("{} ({})", when(&r.finished_at), ar.status.as_str()))
        });
        let regions = if a.regions.is_empty() { "every enabled region".to_owned() } else { a.regions.join(", ") };
        let _ = write!(
            h,
            "<tr><td class=\"acct\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"nw\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(a.account_id.as_str()),
            badge(a.status.as_str()),
            escape(&a.status_reason),
            escape(&regions),
            a.last_verified_at.as_ref().map(when).unwrap_or_else(|| "never".into()),
            escape(&last.unwrap_or_else(|| "not in the last 20 runs".into())),
            verify_button(ctx, a, verify_off.as_deref())
        );
    }
    h.push_str("</tbody></table><p class=\"muted\">Verify again: costradar assumes the account's role with the tenant's ExternalId now, as <code>costradar accounts verify</code> does, and records what it found.</p>");
    if let Some(why) = &verify_off {
        let _ = write!(h, "<p class=\"muted\">Verify again is off in this console: {}.</p>", escape(why));
    }
    Response::html(if problem.is_some() { 400 } else { 200 }, html::page(&frame(ctx, "Accounts", "accounts"), &h))
}

/// A "Verify again" form for one account; disabled, saying why, when verification is off here.
fn verify_button(ctx: &Ctx<'_>, a: &crate::domain::Account, off: Option<&str>) -> String {
    if a.status == crate::domain::AccountStatus::Disconnected {
        return "disconnected: register it again".into();
    }
    let id = escape(a.account_id.as_str());
    match off {
        Some(_) => format!("<button type=\"button\" class=\"secondary\" disabled aria-label=\"Verify again: account {id} (off in this console)\">Verify again</button>"),
        None => format!(
            "<form method=\"post\" action=\"/t/{}/accounts/{}/verify\"><button type=\"submit\" class=\"secondary\" aria-label=\"Verify again: account {id}\">Verify again</button></form>",
            enc(ctx.tenant.as_str()),
            enc(a.account_id.as_str())
        ),
    }
}

/// Drops empty values, so an untouched form field filters nothing.
pub(crate) fn non_empty(query: &str, skip: &[&str]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, v)| !v.is_empty() && !skip.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub(crate) fn query_of(pairs: &[(String, String)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

fn get<'a>(pairs: &'a [(String, String)], k: &str) -> &'a str {
    pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or("")
}

/// "Next page" (with the cursor) and "First page" links for a list page.
pub(crate) fn pager(base: &str, pairs: &[(String, String)], next: Option<&str>) -> String {
    let mut h = String::from("<nav class=\"pager\" aria-label=\"Pages\">");
    let rest: Vec<(String, String)> = pairs.iter().filter(|(k, _)| k != "cursor").cloned().collect();
    if pairs.iter().any(|(k, _)| k == "cursor") {
        let _ = write!(h, "<a href=\"{}?{}\">First page</a>", base, escape(&query_of(&rest)));
    }
    if let Some(c) = next {
        let mut with = rest.clone();
        with.push(("cursor".into(), c.into()));
        let _ = write!(h, "<a href=\"{}?{}\">Next page</a>", base, escape(&query_of(&with)));
    }
    h.push_str("</nav>");
    h
}

pub(crate) async fn events(c: &Console, ctx: &Ctx<'_>, query: &str) -> Response {
    let pairs = non_empty(query, &[]);
    let base = format!("/t/{}/events", enc(ctx.tenant.as_str()));
    let mut h = String::from("<h1>Real-time events</h1>");
    let mut kinds: Vec<(&str, &str)> = vec![("", "any kind")];
    kinds.extend(EventKind::ALL.iter().map(|k| (k.as_str(), k.as_str())));
    let _ = write!(
        h,
        "<form class=\"filters\" method=\"get\" action=\"{base}\">{}{}<button type=\"submit\">Filter</button></form>",
        html::input("account", "Account", get(&pairs, "account"), " inputmode=\"numeric\" size=\"14\""),
        html::select("kind", "Kind", &kinds, get(&pairs, "kind"))
    );
    let page = match EventsQuery::parse(&query_of(&pairs)) {
        Ok(q) => c.findings.events(&ctx.caller, &ctx.tenant, &q).await,
        Err(e) => Err(e.into()),
    };
    let page = match page {
        Ok(p) => p,
        Err(e @ FindingsError::Invalid(_)) => {
            let _ = write!(h, "<p class=\"error\" role=\"alert\">{}</p>", escape(&error_text(&e)));
            return Response::html(400, html::page(&frame(ctx, "Events", "events"), &h));
        }
        Err(e) => return failure(ctx.session, &e),
    };
    if page.items.is_empty() && page.next_cursor.is_none() {
        h.push_str(&empty(
            "No priced events match.",
            "Events arrive from the customer stack's EventBridge rules within a second of a change; <code>costradar events send</code> posts one by hand.",
        ));
    } else {
        h.push_str(&events_table(&page.items));
    }
    h.push_str(&pager(&base, &pairs, page.next_cursor.as_deref()));
    Response::html(200, html::page(&frame(ctx, "Events", "events"), &h))
}

fn events_table(items: &[Value]) -> String {
    let mut h = String::from("<table><caption>Newest first</caption><thead><tr><th scope=\"col\">Received</th><th scope=\"col\">Kind</th><th scope=\"col\">Account</th><th scope=\"col\">Region</th><th scope=\"col\" class=\"n\">Monthly cost</th><th scope=\"col\">Price source</th><th scope=\"col\">Finding</th></tr></thead><tbody>");
    for e in items {
        let s = |k: &str| escape(e[k].as_str().unwrap_or(""));
        let cost = match e["monthly_cost_usd"].as_str() {
            Some(v) => money_str(v),
            None => format!("unpriced: {}", s("unpriced_reason")),
        };
        let received = e["received_at"].as_str().unwrap_or("").get(..16).unwrap_or("").replace('T', " ");
        let source = match e["price_as_of"].as_str() {
            Some(d) => format!("{} ({})", s("price_source"), escape(d)),
            None => s("price_source"),
        };
        let _ = write!(
            h,
            "<tr><td class=\"nw\">{}</td><td>{}</td><td class=\"acct\">{}</td><td class=\"nw\">{}</td><td class=\"n\">{cost}</td><td>{source}</td><td>{}</td></tr>",
            escape(&received),
            s("kind"),
            s("account"),
            s("region"),
            escape(e["finding"]["title"].as_str().unwrap_or("–"))
        );
    }
    h.push_str("</tbody></table>");
    h
}

pub(crate) async fn runs(c: &Console, ctx: &Ctx<'_>, query: &str) -> Response {
    let pairs = non_empty(query, &[]);
    let cursor = Some(get(&pairs, "cursor").to_owned()).filter(|c| !c.is_empty());
    let page = match c.findings.runs(&ctx.caller, &ctx.tenant, &PageRequest { limit: Some(10), cursor }).await {
        Ok(p) => p,
        Err(e) => return failure(ctx.session, &e),
    };
    let mut h = String::from("<h1>Scan runs</h1>");
    if page.items.is_empty() {
        h.push_str(&empty(
            "No scan has run for this tenant yet.",
            "The scan state machine runs on its schedule; locally, <code>make demo</code> runs it once.",
        ));
    }
    for r in &page.items {
        let _ = write!(
            h,
            "<h2>Run {} · {}</h2><p>{} complete, {} partial, {} failed; {} findings opened, {} resolved; Athena scanned {} bytes ({}).</p>",
            escape(&r.run_id),
            when(&r.finished_at),
            r.complete,
            r.partial,
            r.failed,
            r.findings_opened,
            r.findings_resolved,
            r.athena_bytes_scanned,
            money(r.athena_cost_usd)
        );
        h.push_str("<table><caption>Regions</caption><thead><tr><th scope=\"col\">Account</th><th scope=\"col\">Region</th><th scope=\"col\">Status</th><th scope=\"col\" class=\"n\">API calls</th><th scope=\"col\" class=\"n\">Findings opened</th><th scope=\"col\">Errors by action</th></tr></thead><tbody>");
        for a in &r.accounts {
            if a.regions.is_empty() {
                let why = a.error.as_ref().map(|e| format!("{}: {}", e.error_type, e.message)).unwrap_or_default();
                let _ = write!(
                    h,
                    "<tr><td class=\"acct\">{}</td><td>–</td><td>{}</td><td class=\"n\">0</td><td class=\"n\">0</td><td>{}</td></tr>",
                    escape(a.account_id.as_str()),
                    badge(a.status.as_str()),
                    escape(&why)
                );
            }
            for g in &a.regions {
                let errors: Vec<String> = g.errors.iter().map(|e| format!("{} {}", e.action, e.code)).collect();
                let _ = write!(
                    h,
                    "<tr><td class=\"acct\">{}</td><td class=\"nw\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                    escape(a.account_id.as_str()),
                    escape(&g.region),
                    badge(g.status.as_str()),
                    g.api_calls,
                    g.findings_opened,
                    escape(&errors.join("; "))
                );
            }
        }
        h.push_str("</tbody></table>");
        h.push_str(&run_notes(r));
    }
    h.push_str(&pager(&format!("/t/{}/runs", enc(ctx.tenant.as_str())), &pairs, page.next_cursor.as_deref()));
    Response::html(200, html::page(&frame(ctx, "Runs", "runs"), &h))
}

/// What a run could not read that was no error (Compute Optimizer not enrolled, no Business
/// Support plan for Trusted Advisor), per account.
fn run_notes(r: &crate::domain::scan_run::RunRecord) -> String {
    let notes: Vec<String> = r
        .accounts
        .iter()
        .flat_map(|a| {
            a.notes.iter().map(move |n| {
                format!("<li><span class=\"acct\">{}</span>: {}</li>", escape(a.account_id.as_str()), escape(n))
            })
        })
        .collect();
    if notes.is_empty() {
        return String::new();
    }
    format!("<h3>Notes</h3><ul class=\"notes\">{}</ul>", notes.concat())
}

/// The tenant's CUR reports from the report store, newest first, the chosen one (`report=`,
/// else the newest) embedded: its HTML is served by the console itself ([`report_html`]), never
/// a presigned URL (the frame may only load this origin).
pub(crate) async fn reports(c: &Console, ctx: &Ctx<'_>, query: &str) -> Response {
    use crate::report::store::{ReportFile, ReportId, ReportPage};
    let pairs = non_empty(query, &[]);
    let chosen = match get(&pairs, "report") {
        "" => None,
        r => match ReportId::parse(r) {
            Ok(id) => Some(id),
            Err(e) => return failure(ctx.session, &e.into()),
        },
    };
    let cursor = Some(get(&pairs, "cursor")).filter(|c| !c.is_empty());
    let page = match ReportPage::parse(None, cursor) {
        Ok(p) => p,
        Err(e) => return failure(ctx.session, &e.into()),
    };
    let listed = match c.report_store.list(&ctx.tenant, &page).await {
        Ok(l) => l,
        Err(e) => return failure(ctx.session, &e.into()),
    };
    let t = enc(ctx.tenant.as_str());
    let mut h = String::from("<h1>CUR reports</h1>");
    let Some(shown) = chosen.or_else(|| listed.items.first().cloned()) else {
        h.push_str(&empty(
            "No CUR report for this tenant yet.",
            "Each CUR analysis of a connected account (the scheduled scan, for accounts with CUR settings) stores its report here. Locally: run <code>costradar analyze --cur DIR --out OUT</code> and start the console with <code>--report TENANT=OUT</code>; <code>make demo</code> does both.",
        ));
        return Response::html(200, html::page(&frame(ctx, "Reports", "reports"), &h));
    };
    let json = match c.report_store.get(&ctx.tenant, &shown, ReportFile::Json).await {
        Ok(Some(j)) => serde_json::from_str::<Value>(&j).unwrap_or(Value::Null),
        Ok(None) => return super::not_found(ctx.session),
        Err(e) => return failure(ctx.session, &e.into()),
    };
    let (from, to) = shown.period();
    let href = format!("/t/{t}/reports/{}/report.html", shown.as_str());
    let _ = write!(
        h,
        "<h2>Report of {}</h2><dl class=\"facts\"><dt>Period</dt><dd>{} to {}</dd><dt>Billed cost</dt><dd>{}</dd><dt>Effective cost</dt><dd>{}</dd><dt>Findings</dt><dd>{}</dd><dt>Anomalies</dt><dd>{}</dd></dl><p><a href=\"{href}\">Open the HTML report on its own</a></p><iframe src=\"{href}\" title=\"The CUR report\" sandbox></iframe>",
        when(&shown.created_at()),
        escape(&from),
        escape(&to),
        money_str(json["totals"]["billed_cost_usd"].as_str().unwrap_or("0")),
        money_str(json["totals"]["effective_cost_usd"].as_str().unwrap_or("0")),
        json["findings"].as_array().map_or(0, Vec::len),
        json["anomalies"].as_array().map_or(0, Vec::len),
    );
    h.push_str("<h2>All reports</h2><table><caption>CUR reports, newest first</caption><thead><tr><th scope=\"col\">Created</th><th scope=\"col\">Period</th><th scope=\"col\">Account</th><th scope=\"col\">Report</th></tr></thead><tbody>");
    for r in &listed.items {
        let (from, to) = r.period();
        let current = if *r == shown { " aria-current=\"page\"" } else { "" };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{} to {}</td><td>{}</td><td><a href=\"/t/{t}/reports?report={}\"{current}>Show</a></td></tr>",
            when(&r.created_at()),
            escape(&from),
            escape(&to),
            escape(r.account().unwrap_or("local analysis")),
            r.as_str(),
        );
    }
    h.push_str("</tbody></table>");
    let rest: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k == "cursor").collect();
    h.push_str(&pager(&format!("/t/{t}/reports"), &rest, listed.next_cursor.as_deref()));
    Response::html(200, html::page(&frame(ctx, "Reports", "reports"), &h))
}

/// `/t/<id>/reports/<report>/report.html`: the report's HTML from the store, under its own
/// sandboxing policy ([`super::REPORT_CSP`]). Anything else under `reports/` is not found.
pub(crate) async fn report_html(c: &Console, ctx: &Ctx<'_>, rest: &str) -> Response {
    use crate::report::store::{ReportFile, ReportId};
    let id = match rest.split_once('/') {
        Some((id, "report.html")) => ReportId::parse(id).ok(),
        _ => None,
    };
    let Some(id) = id else { return super::not_found(ctx.session) };
    match c.report_store.get(&ctx.tenant, &id, ReportFile::Html).await {
        Ok(Some(html)) => Response::html(200, html).with("content-security-policy", super::REPORT_CSP.into()),
        Ok(None) => super::not_found(ctx.session),
        Err(e) => failure(ctx.session, &e.into()),
    }
}
