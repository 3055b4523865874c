use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;

use super::html::{escape, money};
use super::session::{hmac_sha256, Session, Sessions};
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

async fn console() -> (Console, Vec<TenantId>) {
    let store = Arc::new(MemoryStore::default());
    let tenants = demo::seed(&store, now()).await.unwrap();
    (Console::new(store, Arc::new(Fixed(now())), BTreeMap::new()), tenants)
}

fn cookie(c: &Console, s: &Session) -> String {
    format!("{}={}", session::COOKIE, c.sessions.issue(s, now().timestamp()))
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

#[test]
fn hmac_matches_rfc_4231() {
    let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
    assert_eq!(hex::encode(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    let mac = hmac_sha256(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First");
    assert_eq!(hex::encode(mac), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

#[test]
fn a_session_cannot_be_forged_changed_or_kept_past_its_expiry() {
    let s = Sessions::with_key([7; 32]);
    let t = TenantId::parse("t-acmeanalytics001").unwrap();
    let v = s.issue(&Session::Tenant(t.clone()), 1000);
    assert_eq!(s.verify(&v, 1001), Some(Session::Tenant(t)));
    let other = v.replace("acmeanalytics001", "globexlogistics1");
    assert_eq!(s.verify(&other, 1001), None, "another tenant in the claims");
    assert_eq!(s.verify(&v.replacen("tn.", "op.", 1), 1001), None, "promoted to operator");
    assert_eq!(s.verify(&v, 1000 + session::LIFETIME_SECS), None, "expired");
    assert_eq!(Sessions::with_key([8; 32]).verify(&v, 1001), None, "another server's key");
    assert_eq!(s.verify("op.-.99999999999.00", 1001), None);
    assert_eq!(s.verify("", 1001), None);
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
    assert!(r.body.contains("Acme Analytics") && r.body.contains("Globex Logistics"));
}

#[tokio::test]
async fn signing_in_sets_a_strict_http_only_cookie() {
    let (c, tenants) = console().await;
    let body = format!("who=tenant%3A{}", tenants[1]);
    let r = c.handle(&Request { method: "POST", path: "/login", body: body.as_bytes(), ..Default::default() }).await;
    assert_eq!(r.status, 303);
    let set = r.headers.iter().find(|(k, _)| *k == "set-cookie").unwrap().1.clone();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
    let r = c
        .handle(&Request {
            method: "POST",
            path: "/login",
            body: b"who=tenant%3At-doesnotexist0000",
            ..Default::default()
        })
        .await;
    assert_eq!(r.status, 400, "a tenant that does not exist cannot be signed in to");
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
    assert!(one.body.contains("suppressed: kept for DR") && one.body.contains("(local console)"), "{}", one.body);
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
