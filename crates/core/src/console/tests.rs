use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;

use super::html::{escape, money};
use super::identity::{MemoryIdentity, MemoryUser};
use super::*;
use crate::domain::Clock;
use crate::store::MemoryStore;

struct Fixed(DateTime<Utc>);
impl Clock for Fixed {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 12, 9, 0, 0).unwrap()
}

/// Who a test signs in as: a user of the test pool ([`pool`]).
#[derive(Clone)]
enum Session {
    Operator,
    Tenant(TenantId),
}

/// The user name of a test session in [`pool`].
fn user_of(s: &Session) -> String {
    match s {
        Session::Operator => "olivia".into(),
        Session::Tenant(t) => format!("user-of-{t}"),
    }
}

/// The test pool: an operator, a user of each tenant, and accounts that can see nothing.
fn pool(tenants: &[TenantId]) -> MemoryIdentity {
    let user = |password: &str, groups: &[&str], tenant: Option<&str>| MemoryUser {
        password: password.into(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        tenant: tenant.map(Into::into),
        ..Default::default()
    };
    let mut users = vec![
        ("olivia".to_string(), user("operator-pw-1", &["operators"], None)),
        ("nobody".to_string(), user("nobody-pw-1", &["auditors"], None)),
        ("badclaim".to_string(), user("badclaim-pw-1", &[], Some("../t-x"))),
        ("ghost".to_string(), user("ghost-pw-1", &[], Some("t-doesnotexist0000"))),
        (
            "fresh".to_string(),
            MemoryUser { must_change_password: true, ..user("temp-pw-1", &[], Some(tenants[0].as_str())) },
        ),
        (
            "totp".to_string(),
            MemoryUser { totp: Some("123456".into()), ..user("totp-pw-1", &[], Some(tenants[0].as_str())) },
        ),
    ];
    for t in tenants {
        users.push((format!("user-of-{t}"), user("tenant-pw-1", &[], Some(t.as_str()))));
    }
    MemoryIdentity::new(users, now().timestamp() + 3600)
}

thread_local! {
    static POOL: std::cell::RefCell<Option<Arc<MemoryIdentity>>> = const { std::cell::RefCell::new(None) };
}

async fn console() -> (Console, Vec<TenantId>) {
    let store = Arc::new(MemoryStore::default());
    let tenants = demo::seed(&store, now()).await.unwrap();
    let identity = Arc::new(pool(&tenants));
    POOL.with(|p| *p.borrow_mut() = Some(identity.clone()));
    (Console::new(store, Arc::new(Fixed(now())), BTreeMap::new()).with_identity(identity, false), tenants)
}

/// A signed-in cookie of `s` in the pool of the last [`console`] on this thread.
fn cookie(_: &Console, s: &Session) -> String {
    let token = POOL.with(|p| p.borrow().as_ref().expect("console() first").issue(&user_of(s)));
    format!("{}={token}", session::COOKIE)
}

async fn get(c: &Console, s: &Session, path: &str, query: &str) -> Response {
    let cookie = cookie(c, s);
    c.handle(&Request { method: "GET", path, query, cookie: Some(&cookie), ..Default::default() }).await
}

async fn post(c: &Console, s: &Session, path: &str, body: &str) -> Response {
    let cookie = cookie(c, s);
    let req = Request {
        method: "POST",
        path,
        cookie: Some(&cookie),
        origin: Some("http://127.0.0.1:9"),
        host: Some("127.0.0.1:9"),
        body: body.as_bytes(),
        ..Default::default()
    };
    c.handle(&req).await
}

#[test]
fn escape_neutralises_hostile_text() {
    let hostile = r#"<script>alert('x')</script>"><img src=x onerror=alert(1)>&amp;"#;
    let out = escape(hostile);
    for bad in ["<", ">", "\"", "'"] {
        assert!(!out.contains(bad), "{out} contains {bad}");
    }
    assert_eq!(escape("a&b"), "a&amp;b");
    assert_eq!(escape("&amp;"), "&amp;amp;");
    assert_eq!(escape("ünïcødé ✓"), "ünïcødé ✓");
}

#[test]
fn money_has_thousands_separators_and_cents() {
    let m = |s: &str| money(s.parse::<Decimal>().unwrap());
    assert_eq!(m("0"), "$0.00");
    assert_eq!(m("3.65"), "$3.65");
    assert_eq!(m("999.999"), "$1,000.00");
    assert_eq!(m("1234567.891"), "$1,234,567.89");
    assert_eq!(m("-1000"), "-$1,000.00");
    assert_eq!(m("100000"), "$100,000.00");
}

fn header<'a>(r: &'a Response, name: &str) -> Option<&'a str> {
    r.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
}

async fn login(c: &Console, path: &str, body: &str) -> Response {
    c.handle(&Request { method: "POST", path, body: body.as_bytes(), ..Default::default() }).await
}

async fn get_with(c: &Console, cookie: &str, path: &str) -> Response {
    c.handle(&Request { method: "GET", path, cookie: Some(cookie), ..Default::default() }).await
}

/// The cookie a sign-in's `Set-Cookie` sets, as the browser sends it back.
fn sent_cookie(r: &Response) -> String {
    header(r, "set-cookie").expect("a cookie").split(';').next().unwrap().to_owned()
}

/// The hidden fields of a challenge page, as a form body prefix.
fn challenge_fields(r: &Response) -> String {
    let field = |name: &str| {
        let v = r.body.split(&format!("name=\"{name}\" value=\"")).nth(1).unwrap().split('"').next().unwrap();
        format!("{name}={}", html::enc(&v.replace("&amp;", "&")))
    };
    format!("{}&{}&{}", field("challenge"), field("username"), field("session"))
}

#[tokio::test]
async fn without_a_session_every_page_asks_to_sign_in() {
    let (c, tenants) = console().await;
    for path in ["/", &format!("/t/{}/", tenants[0]), &format!("/t/{}/findings", tenants[0])] {
        let r = c.handle(&Request { method: "GET", path, ..Default::default() }).await;
        assert_eq!((r.status, r.headers[0].1.as_str()), (303, "/login"), "{path}");
    }
    let r = c.handle(&Request { method: "GET", path: "/login", ..Default::default() }).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("name=\"username\"") && r.body.contains("type=\"password\""));
    assert!(!r.body.contains("Acme Analytics") && !r.body.contains("t-acme"), "the sign-in page names no tenant");
}

#[tokio::test]
async fn signing_in_with_a_password_sets_the_access_token_as_a_strict_http_only_cookie() {
    let (c, tenants) = console().await;
    let r = login(&c, "/login", &format!("username=user-of-{}&password=tenant-pw-1", tenants[1])).await;
    assert_eq!((r.status, header(&r, "location")), (303, Some("/")));
    let set = header(&r, "set-cookie").unwrap();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=3600"] {
        assert!(set.contains(part), "{set} lacks {part}");
    }
    assert!(!set.contains("Secure"), "loopback http: no Secure");
    let home = get_with(&c, &sent_cookie(&r), "/").await;
    assert_eq!(header(&home, "location"), Some(format!("/t/{}/", tenants[1]).as_str()));
    let r = login(&c, "/login", "username=olivia&password=operator-pw-1").await;
    let home = get_with(&c, &sent_cookie(&r), "/").await;
    assert!(home.status == 200 && home.body.contains("All tenants") && home.body.contains("olivia"));
    // Over https the cookie is Secure.
    let store = Arc::new(MemoryStore::default());
    let ts = demo::seed(&store, now()).await.unwrap();
    let https = Console::new(store, Arc::new(Fixed(now())), BTreeMap::new()).with_identity(Arc::new(pool(&ts)), true);
    let r = login(&https, "/login", "username=olivia&password=operator-pw-1").await;
    assert!(header(&r, "set-cookie").unwrap().ends_with("; Secure"));
}

#[tokio::test]
async fn a_wrong_password_an_unknown_user_and_hostile_forms_sign_no_one_in() {
    let (c, _) = console().await;
    let wrong = login(&c, "/login", "username=olivia&password=nope").await;
    let unknown = login(&c, "/login", "username=mallory&password=operator-pw-1").await;
    assert_eq!((wrong.status, unknown.status), (401, 401));
    assert_eq!(wrong.body, unknown.body, "an unknown user looks like a wrong password");
    let long = format!("username={}&password=x", "a".repeat(200));
    for body in [
        "",
        "username=olivia",
        "password=operator-pw-1",
        "username=olivia&username=olivia&password=operator-pw-1",
        "username=olivia%00&password=operator-pw-1",
        "username=olivia&password=operator-pw-1%0A",
        "who=operator",
        "who=tenant%3At-acmeanalytics001",
        "%FF%FE%00=&&&==",
        long.as_str(),
    ] {
        let r = login(&c, "/login", body).await;
        assert_eq!(r.status, 400, "{body}");
        assert!(header(&r, "set-cookie").is_none(), "{body}");
    }
    for body in [
        "",
        "challenge=SOFTWARE_TOKEN_MFA&username=totp&answer=123456",
        "challenge=MFA_SETUP&username=totp&session=s&answer=1",
    ] {
        let r = login(&c, "/login/challenge", body).await;
        assert_eq!(r.status, 400, "{body}");
        assert!(header(&r, "set-cookie").is_none(), "{body}");
    }
}

#[tokio::test]
async fn an_admin_created_user_chooses_a_new_password_on_the_first_sign_in() {
    let (c, tenants) = console().await;
    let r = login(&c, "/login", "username=fresh&password=temp-pw-1").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Choose a new password") && header(&r, "set-cookie").is_none());
    let fields = challenge_fields(&r);
    let short = login(&c, "/login/challenge", &format!("{fields}&answer=short")).await;
    assert_eq!(short.status, 400);
    assert!(short.body.contains("does not conform to policy"), "{}", short.body);
    // The pool's session was used up by that answer: a replay is refused.
    let replay = login(&c, "/login/challenge", &format!("{fields}&answer=long-enough-1")).await;
    assert_eq!(replay.status, 401);
    let r = login(&c, "/login", "username=fresh&password=temp-pw-1").await;
    let tampered = challenge_fields(&r).replace("username=fresh", "username=olivia");
    assert_eq!(login(&c, "/login/challenge", &format!("{tampered}&answer=long-enough-1")).await.status, 401);
    let r = login(&c, "/login", "username=fresh&password=temp-pw-1").await;
    let done = login(&c, "/login/challenge", &format!("{}&answer=long-enough-1", challenge_fields(&r))).await;
    assert_eq!(done.status, 303);
    let home = get_with(&c, &sent_cookie(&done), "/").await;
    assert_eq!(header(&home, "location"), Some(format!("/t/{}/", tenants[0]).as_str()));
    assert_eq!(login(&c, "/login", "username=fresh&password=long-enough-1").await.status, 303);
}

#[tokio::test]
async fn a_totp_user_enters_the_code_of_their_app() {
    let (c, _) = console().await;
    let r = login(&c, "/login", "username=totp&password=totp-pw-1").await;
    assert!(r.status == 200 && r.body.contains("autocomplete=\"one-time-code\""));
    let fields = challenge_fields(&r);
    for bad in ["12ab56", "1234567", ""] {
        let again = login(&c, "/login/challenge", &format!("{fields}&answer={bad}")).await;
        assert_eq!(again.status, 400, "{bad}");
        assert!(again.body.contains("Enter your code"), "the form again");
    }
    let wrong = login(&c, "/login/challenge", &format!("{fields}&answer=654321")).await;
    assert!(wrong.status == 400 && wrong.body.contains("Invalid code"));
    let r = login(&c, "/login", "username=totp&password=totp-pw-1").await;
    let ok = login(&c, "/login/challenge", &format!("{}&answer=123456", challenge_fields(&r))).await;
    assert_eq!(ok.status, 303);
}

#[tokio::test]
async fn a_user_with_neither_the_operators_group_nor_a_tenant_is_refused_and_sees_nothing() {
    let (c, _) = console().await;
    for body in ["username=nobody&password=nobody-pw-1", "username=badclaim&password=badclaim-pw-1"] {
        let r = login(&c, "/login", body).await;
        assert_eq!(r.status, 403, "{body}");
        assert!(r.body.contains("No access") && header(&r, "set-cookie").is_none(), "{body}");
        assert!(!r.body.contains("t-acme") && !r.body.contains("Sign out"), "{body}");
    }
    // Even holding a live token, such a user gets no page.
    let token = POOL.with(|p| p.borrow().as_ref().unwrap().issue("nobody"));
    let r = get_with(&c, &format!("{}={token}", session::COOKIE), "/").await;
    assert_eq!((r.status, header(&r, "location")), (303, Some("/login")));
}

#[tokio::test]
async fn a_tenant_claim_naming_a_missing_tenant_gets_the_missing_tenant_page() {
    let (c, tenants) = console().await;
    let r = login(&c, "/login", "username=ghost&password=ghost-pw-1").await;
    let cookie = sent_cookie(&r);
    let home = get_with(&c, &cookie, "/").await;
    assert_eq!(header(&home, "location"), Some("/t/t-doesnotexist0000/"));
    let ghost = get_with(&c, &cookie, "/t/t-doesnotexist0000/").await;
    let theirs = get_with(&c, &cookie, &format!("/t/{}/", tenants[0])).await;
    let reference = get(&c, &Session::Tenant(tenants[1].clone()), "/t/t-doesnotexist0000/", "").await;
    assert_eq!((ghost.status, theirs.status), (404, 404));
    let main = |r: &Response| r.body.split("<main").nth(1).unwrap().to_owned();
    assert_eq!(main(&ghost), main(&reference));
    assert_eq!(main(&theirs), main(&reference));
}

#[tokio::test]
async fn a_forged_expired_or_signed_out_token_goes_back_to_sign_in() {
    let (c, tenants) = console().await;
    let r = login(&c, "/login", &format!("username=user-of-{}&password=tenant-pw-1", tenants[0])).await;
    let cookie = sent_cookie(&r);
    let page = format!("/t/{}/findings", tenants[0]);
    assert_eq!(get_with(&c, &cookie, &page).await.status, 200);
    for forged in [
        format!("{cookie}x"),
        cookie.replace(&format!("user-of-{}", tenants[0]), "olivia"),
        format!("{}=", session::COOKIE),
        format!("{}=a b", session::COOKIE),
        format!("{}=<script>", session::COOKIE),
        format!("{}={}", session::COOKIE, "a".repeat(5000)),
    ] {
        let r = get_with(&c, &forged, &page).await;
        assert_eq!((r.status, header(&r, "location")), (303, Some("/login")), "{forged:.80}");
    }
    // Expired by the console's own clock (the pool still answering for it).
    let store = Arc::new(MemoryStore::default());
    let ts = demo::seed(&store, now()).await.unwrap();
    let identity = Arc::new(pool(&ts));
    let later = Console::new(store, Arc::new(Fixed(now() + chrono::Duration::hours(2))), BTreeMap::new())
        .with_identity(identity.clone(), false);
    let old = format!("{}={}", session::COOKIE, identity.issue("olivia"));
    let r = get_with(&later, &old, "/").await;
    assert_eq!((r.status, header(&r, "location")), (303, Some("/login")));
    assert!(header(&r, "set-cookie").unwrap().contains("Max-Age=0"), "the dead cookie is cleared");
    // Signed out: the pool revoked the token.
    let out = c.handle(&Request { method: "POST", path: "/logout", cookie: Some(&cookie), ..Default::default() }).await;
    assert_eq!((out.status, header(&out, "location")), (303, Some("/login")));
    assert!(header(&out, "set-cookie").unwrap().contains("Max-Age=0"));
    let r = get_with(&c, &cookie, &page).await;
    assert_eq!((r.status, header(&r, "location")), (303, Some("/login")));
}

#[tokio::test]
async fn a_tenant_user_gets_the_missing_tenant_page_on_another_tenants_pages() {
    let (c, tenants) = console().await;
    let (a, b) = (&tenants[0], &tenants[1]);
    let user = Session::Tenant(a.clone());
    let missing = get(&c, &user, "/t/t-doesnotexist0000/findings", "").await;
    assert_eq!(missing.status, 404);
    for page in ["", "findings", "accounts", "events", "runs", "reports", "findings.csv"] {
        let r = get(&c, &user, &format!("/t/{b}/{page}"), "").await;
        assert_eq!((r.status, &r.body), (404, &missing.body), "{page}");
    }
    let theirs = get(&c, &Session::Operator, &format!("/t/{b}/findings"), "").await;
    let key = theirs.body.split("name=\"key\" value=\"").nth(1).unwrap().split('"').next().unwrap();
    let key = key.replace("&#39;", "'").replace("&amp;", "&");
    let path = format!("/t/{b}/findings/{}", html::enc(&key));
    assert_eq!(get(&c, &Session::Operator, &path, "").await.status, 200);
    assert_eq!(get(&c, &user, &path, "").await.body, missing.body);
    let r = post(&c, &user, &path, "action=suppress&reason=mine").await;
    assert_eq!((r.status, &r.body), (404, &missing.body));
    let r = post(&c, &user, &format!("/t/{b}/findings/suppress"), &format!("key={}&reason=x", html::enc(&key))).await;
    assert_eq!(r.status, 404);
    let still = get(&c, &Session::Operator, &format!("/t/{b}/findings"), "").await;
    assert!(still.body.contains(&html::escape(&key)), "nothing of the other tenant changed");
    // Its own pages work.
    assert_eq!(get(&c, &user, &format!("/t/{a}/"), "").await.status, 200);
}

#[tokio::test]
async fn suppressing_moves_a_finding_from_the_open_list_to_the_suppressed_one_with_its_history() {
    let (c, tenants) = console().await;
    let t = &tenants[0];
    let user = Session::Tenant(t.clone());
    let open = get(&c, &user, &format!("/t/{t}/findings"), "q=nat-0f3c").await;
    assert!(open.body.contains("NAT gateway idle"), "{}", open.body);
    let key = "123456789012#nat.idle#nat-0f3c9a1b2d4e5f601";
    let r = post(
        &c,
        &user,
        &format!("/t/{t}/findings/suppress"),
        &format!("key={}&reason=kept+for+DR&back=q%3Dnat-0f3c", html::enc(key)),
    )
    .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.headers[0].1, format!("/t/{t}/findings?q=nat-0f3c&done=1"));
    let open = get(&c, &user, &format!("/t/{t}/findings"), "q=nat-0f3c").await;
    assert!(!open.body.contains("NAT gateway idle"));
    let suppressed = get(&c, &user, &format!("/t/{t}/findings"), "q=nat-0f3c&status=suppressed").await;
    assert!(suppressed.body.contains("NAT gateway idle"));
    let one = get(&c, &user, &format!("/t/{t}/findings/{}", html::enc(key)), "").await;
    assert!(one.body.contains("suppressed: kept for DR") && one.body.contains(&format!("user-of-{t}")), "{}", one.body);
}

#[tokio::test]
async fn bad_decisions_and_filters_say_what_is_wrong_and_change_nothing() {
    let (c, tenants) = console().await;
    let t = &tenants[0];
    let key = html::enc("123456789012#nat.idle#nat-0f3c9a1b2d4e5f601");
    let r = post(&c, &Session::Operator, &format!("/t/{t}/findings/{key}"), "action=snooze&until=2020-01-01").await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("until:"), "{}", r.body);
    let r = post(&c, &Session::Operator, &format!("/t/{t}/findings/{key}"), "action=suppress&reason=").await;
    assert_eq!(r.status, 400);
    let r = get(&c, &Session::Operator, &format!("/t/{t}/findings"), "min_monthly_savings_usd=lots").await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("min_monthly_savings_usd"));
    let r = post(&c, &Session::Operator, &format!("/t/{t}/findings/suppress"), "reason=nothing+selected").await;
    assert_eq!(r.status, 400);
    let one = get(&c, &Session::Operator, &format!("/t/{t}/findings/{key}"), "").await;
    assert!(one.body.contains("No decision yet"));
}

#[tokio::test]
async fn a_form_from_another_origin_is_refused() {
    let (c, tenants) = console().await;
    let cookie = cookie(&c, &Session::Operator);
    let path = format!("/t/{}/findings/suppress", tenants[0]);
    let req = Request {
        method: "POST",
        path: &path,
        cookie: Some(&cookie),
        origin: Some("http://evil.example"),
        host: Some("127.0.0.1:9"),
        body: b"key=x&reason=y",
        ..Default::default()
    };
    assert_eq!(c.handle(&req).await.status, 403);
}

#[tokio::test]
async fn every_page_renders_escapes_and_carries_the_security_headers() {
    let (c, tenants) = console().await;
    let t = &tenants[0];
    for page in ["", "findings", "accounts", "events", "runs", "reports"] {
        let r = get(&c, &Session::Operator, &format!("/t/{t}/{page}"), "").await;
        assert_eq!(r.status, 200, "{page}: {}", r.body);
        assert!(r.headers.iter().any(|(k, v)| *k == "content-security-policy" && v.contains("default-src 'none'")));
        assert!(!r.body.contains("<script"), "{page}");
    }
    let r = get(&c, &Session::Operator, &format!("/t/{t}/findings"), "q=%3Cscript%3E").await;
    assert!(r.body.contains("&lt;script&gt;") && !r.body.contains("<script>"));
    let events = get(&c, &Session::Operator, &format!("/t/{t}/events"), "").await;
    assert!(events.body.contains("ec2.run-instances"), "{}", events.body);
    let overview = get(&c, &Session::Operator, &format!("/t/{t}/"), "").await;
    assert!(overview.body.contains("Realised (monthly)</dt><dd>$24.00"), "{}", overview.body);
    let csv = get(&c, &Session::Operator, &format!("/t/{t}/findings.csv"), "status=any").await;
    assert_eq!(csv.content_type, "text/csv; charset=utf-8");
    assert!(csv.body.lines().count() > 8);
}

mod admin;

/// The reports page reads the report store: empty state, the newest report embedded, another
/// report chosen, its HTML served by the console under the report's CSP, and nothing of another
/// tenant's (or any hostile path) reachable.
#[tokio::test]
async fn the_reports_page_lists_the_store_and_embeds_a_report_served_by_the_console() {
    use crate::cur::queries::YearMonth;
    use crate::report::store::{MemoryReports, ReportBody, ReportId, ReportStore};
    let (c, tenants) = console().await;
    let (a, b) = (tenants[0].clone(), tenants[1].clone());
    let reports = Arc::new(MemoryReports::default());
    let c = c.with_reports(reports.clone());
    let user = Session::Tenant(a.clone());
    let empty = get(&c, &user, &format!("/t/{a}/reports"), "").await;
    assert_eq!(empty.status, 200);
    assert!(empty.body.contains("No CUR report for this tenant yet.") && !empty.body.contains("<iframe"));
    let ym = |m| YearMonth { year: 2026, month: m };
    let old = ReportId::new(now() - chrono::Duration::days(2), ym(9), ym(10), None);
    let new = ReportId::new(now(), ym(10), ym(11), None);
    let body = |n: &str| ReportBody {
        json: format!(
            r#"{{"totals": {{"billed_cost_usd": "{n}", "effective_cost_usd": "1.00"}}, "findings": [], "anomalies": []}}"#
        ),
        html: format!("<h1>report {n}</h1>"),
    };
    reports.put(&a, &old, &body("10.00"), Default::default()).await.unwrap();
    reports.put(&a, &new, &body("20.00"), Default::default()).await.unwrap();
    reports.put(&b, &ReportId::new(now(), ym(1), ym(2), None), &body("99.00"), Default::default()).await.unwrap();

    let page = get(&c, &user, &format!("/t/{a}/reports"), "").await;
    assert_eq!(page.status, 200);
    let src = format!("/t/{a}/reports/{new}/report.html");
    let frame = format!("<iframe src=\"{src}\" title=\"The CUR report\" sandbox>");
    assert!(page.body.contains(&frame), "{}", page.body);
    assert!(page.body.contains("$20.00") && page.body.contains(&format!("?report={old}")));
    let chosen = get(&c, &user, &format!("/t/{a}/reports"), &format!("report={old}")).await;
    assert!(chosen.body.contains(&format!("/t/{a}/reports/{old}/report.html")) && chosen.body.contains("$10.00"));

    let html = get(&c, &user, &src, "").await;
    assert_eq!((html.status, html.body.as_str()), (200, "<h1>report 20.00</h1>"));
    assert_eq!(header(&html, "content-security-policy"), Some(REPORT_CSP));

    let missing = get(&c, &user, &format!("/t/{a}/reports/nothing"), "").await.status;
    assert_eq!(missing, 404);
    let theirs_id = ReportId::new(now(), ym(1), ym(2), None);
    for path in [
        format!("/t/{b}/reports"),
        format!("/t/{b}/reports/{theirs_id}/report.html"),
        format!("/t/{a}/reports/{theirs_id}/report.json"),
        format!("/t/{a}/reports/../{b}/reports/{theirs_id}/report.html"),
        format!("/t/{a}/reports/{new}/../../x/report.html"),
        format!("/t/{a}/reports/{new}/report.html/x"),
        format!("/t/{a}/reports/report.html"),
    ] {
        let r = get(&c, &user, &path, "").await;
        assert_eq!(r.status, 404, "{path}");
        assert!(!r.body.contains("99.00"), "{path}");
    }
    for q in ["report=../x", "report=8299999999-202501-202502/..", "cursor=%2F.."] {
        assert_eq!(get(&c, &user, &format!("/t/{a}/reports"), q).await.status, 400, "{q}");
    }
}
