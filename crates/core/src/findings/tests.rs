//! The findings API on the in-memory store, through its router: isolation, filters, orders and
//! pages, decisions and their history, strict input that changes nothing, the ledger.

use chrono::{Duration, TimeZone};
use rust_decimal::Decimal;
use serde_json::json;

use super::api::{handle, HttpResponse};
use super::*;
use crate::domain::finding::{Finding, FindingStatus};
use crate::domain::{AccountId, ExternalId, Tenant};
use crate::onboarding::api::ApiRequest;
use crate::store::{EventStore, FindingStore, MemoryStore, ResolveScope, TenantStore};

struct Fixed(DateTime<Utc>);
impl Clock for Fixed {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap()
}

fn acct(n: u64) -> AccountId {
    AccountId::parse(&format!("{:012}", 111_111_111_111 + n)).unwrap()
}

fn finding(t: &TenantId, n: u64, rule: &str, savings: &str, seen: DateTime<Utc>) -> Finding {
    Finding {
        monthly_savings_usd: Some(savings.parse().unwrap()),
        fix_command: Some(format!("aws ec2 delete-volume --volume-id vol-{n}")),
        ..Finding::open(t.clone(), acct(n % 2), "us-east-1", rule, format!("vol-{n:03}"), format!("finding {n}"), seen)
    }
}

struct World {
    store: Arc<MemoryStore>,
    svc: Findings,
    tenant: TenantId,
    other: TenantId,
}

async fn world() -> World {
    let store = Arc::new(MemoryStore::new());
    let mut ids = Vec::new();
    for name in ["Acme", "Other"] {
        let mut t = Tenant::new(TenantId::generate(), name.into(), ExternalId::generate(), now());
        store.save_tenant(&mut t).await.unwrap();
        ids.push(t.id);
    }
    let svc = Findings::new(store.clone(), Arc::new(Fixed(now())));
    let other = ids.pop().unwrap();
    World { store, svc, tenant: ids.pop().unwrap(), other }
}

async fn call(w: &World, caller: &Caller, method: &str, path: &str, query: &str, body: &str) -> HttpResponse {
    let req = ApiRequest { method, path, query, content_type: Some("application/json"), body: body.as_bytes() };
    handle(&w.svc, caller, &req).await.expect("a findings route")
}

fn tenant_caller(t: &TenantId) -> Caller {
    Caller::Tenant { tenant: t.clone(), user: Some("alice@example.com".into()) }
}

fn key_path(t: &TenantId, key: &str) -> String {
    let enc: String = url::form_urlencoded::byte_serialize(key.as_bytes()).collect();
    format!("/tenants/{t}/findings/{}", enc.replace('+', "%20"))
}

#[test]
fn every_scan_rule_is_a_scan_finding() {
    for rule in crate::rules::SCAN_RULES {
        assert_eq!(crate::domain::triage::Source::of_rule(rule), crate::domain::triage::Source::Scan, "{rule}");
    }
}

#[test]
fn callers_come_from_the_request_context() {
    let claims = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    };
    let t = TenantId::generate();
    let c = Caller::from_request(Some(&claims(&[(TENANT_CLAIM, t.as_str()), ("email", "a@b.c")])), false);
    assert_eq!(c, Some(Caller::Tenant { tenant: t.clone(), user: Some("a@b.c".into()) }));
    assert_eq!(Caller::from_request(None, true), Some(Caller::Operator));
    assert_eq!(Caller::from_request(None, false), None, "no authentication, no caller");
    assert_eq!(Caller::from_request(Some(&claims(&[("email", "a@b.c")])), true), None, "a token without a tenant");
    assert_eq!(Caller::from_request(Some(&claims(&[(TENANT_CLAIM, "t-../other")])), false), None);
}

#[test]
fn a_token_in_the_operators_group_is_the_operator_in_every_claim_format() {
    let claims = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    };
    let t = TenantId::generate();
    // The HTTP API's JWT authorizer flattens the array: `[a b]`, or the bare value for one group.
    for groups in ["[operators]", "operators", "[auditors operators]", " [operators auditors] ", "auditors,operators"] {
        let c = claims(&[(GROUPS_CLAIM, groups), ("email", "ops@example.com")]);
        assert_eq!(Caller::from_request(Some(&c), false), Some(Caller::Operator), "{groups}");
        // The group wins over a tenant claim: staff see every tenant.
        let c = claims(&[(GROUPS_CLAIM, groups), (TENANT_CLAIM, t.as_str())]);
        assert_eq!(Caller::from_request(Some(&c), false), Some(Caller::Operator), "{groups}");
    }
    // Another group, or a name that only contains "operators", is not the operator.
    for groups in ["[auditors]", "operators-old", "[xoperators]", "", "[]"] {
        let c = claims(&[(GROUPS_CLAIM, groups), ("email", "a@b.c")]);
        assert_eq!(Caller::from_request(Some(&c), false), None, "{groups}: no tenant, no group: refused");
        let c = claims(&[(GROUPS_CLAIM, groups), (TENANT_CLAIM, t.as_str())]);
        assert_eq!(
            Caller::from_request(Some(&c), false),
            Some(Caller::Tenant { tenant: t.clone(), user: None }),
            "{groups}: a tenant user"
        );
    }
}

#[tokio::test]
async fn a_tenant_user_gets_the_missing_tenant_answer_for_any_other_tenant() {
    let w = world().await;
    w.store.upsert_findings(&w.other, &[finding(&w.other, 1, "ebs.unattached-volume", "10", now())]).await.unwrap();
    let me = tenant_caller(&w.tenant);
    let missing = TenantId::generate();
    let key = finding(&w.other, 1, "ebs.unattached-volume", "10", now()).key();
    for suffix in ["findings", "findings.csv", "events", "runs", "savings"] {
        let theirs = call(&w, &me, "GET", &format!("/tenants/{}/{suffix}", w.other), "", "").await;
        let nobody = call(&w, &me, "GET", &format!("/tenants/{missing}/{suffix}"), "", "").await;
        assert_eq!(theirs.status, 404, "{suffix}: {}", theirs.body);
        assert_eq!(theirs, nobody, "{suffix}");
        let as_operator = call(&w, &Caller::Operator, "GET", &format!("/tenants/{missing}/{suffix}"), "", "").await;
        assert_eq!(as_operator, nobody, "the operator's answer for a missing tenant is the same");
    }
    let theirs = call(&w, &me, "GET", &key_path(&w.other, &key), "", "").await;
    assert_eq!(theirs, call(&w, &me, "GET", &key_path(&missing, &key), "", "").await);
    let before = w.store.snapshot();
    let patch = call(&w, &me, "PATCH", &key_path(&w.other, &key), "", r#"{"action":"acknowledge"}"#).await;
    assert_eq!(patch, theirs, "a change to another tenant's finding is the same 404");
    assert_eq!(w.store.snapshot(), before);
    // Their key asked in my own tenant: the answer for any missing finding.
    let mine = call(&w, &me, "GET", &key_path(&w.tenant, &key), "", "").await;
    assert_eq!((mine.status, mine.json_body()["error"]["code"].clone()), (404, json!("finding_not_found")));
    let own = call(&w, &me, "GET", &format!("/tenants/{}/findings", w.tenant), "", "").await;
    assert_eq!(own.status, 200);
}

#[tokio::test]
async fn findings_filter_sort_and_page() {
    let w = world().await;
    let mut all = Vec::new();
    for n in 0..25u64 {
        let rule =
            ["ebs.unattached-volume", "realtime.gp2-volume", "cur.gp2-volume", "coh.rightsize"][(n % 4) as usize];
        all.push(finding(&w.tenant, n, rule, &format!("{}.50", n * 10), now() - Duration::hours(n as i64)));
    }
    w.store.upsert_findings(&w.tenant, &all).await.unwrap();
    let op = Caller::Operator;
    let path = format!("/tenants/{}/findings", w.tenant);
    let keys = |r: &HttpResponse| -> Vec<String> {
        r.json_body()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["resource_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let top = call(&w, &op, "GET", &path, "limit=3", "").await;
    assert_eq!(keys(&top), ["vol-024", "vol-023", "vol-022"], "largest saving first");
    assert_eq!(top.json_body()["findings"][0]["monthly_savings_usd"], "240.50");
    let newest = call(&w, &op, "GET", &path, "sort=first_seen&limit=2", "").await;
    assert_eq!(keys(&newest), ["vol-000", "vol-001"]);
    let scan = call(&w, &op, "GET", &path, "source=scan&limit=100", "").await;
    assert_eq!(keys(&scan).len(), 7);
    let rec = call(&w, &op, "GET", &path, "source=aws-recommender&min_monthly_savings_usd=200&limit=100", "").await;
    assert_eq!(keys(&rec), ["vol-023"]);
    let cur = call(&w, &op, "GET", &path, &format!("account={}&service=cur&q=l-01", acct(0)), "").await;
    assert_eq!(keys(&cur), ["vol-018", "vol-014", "vol-010"]);
    // Pages: every finding once, in order.
    let mut seen = Vec::new();
    let mut cursor = None::<String>;
    loop {
        let q =
            cursor.map(|c| format!("limit=10&sort=first_seen&cursor={c}")).unwrap_or("limit=10&sort=first_seen".into());
        let r = call(&w, &op, "GET", &path, &q, "").await;
        seen.extend(keys(&r));
        match r.json_body()["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, (0..25).map(|n| format!("vol-{n:03}")).collect::<Vec<_>>());
}

#[tokio::test]
async fn bad_queries_are_400s_that_name_the_parameter() {
    let w = world().await;
    let path = format!("/tenants/{}/findings", w.tenant);
    let cursor_of_other_order =
        crate::store::FindingSort::FirstSeen.cursor("2026-11-20T12:00:00.000000Z#111111111111#r#x");
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=x", "limit"),
        ("limit=1&limit=2", "limit"),
        ("bogus=1", "bogus"),
        ("status=closed", "status"),
        ("source=manual", "source"),
        ("account=12", "account"),
        ("service=ebs.x", "service"),
        ("rule=EBS%00", "rule"),
        ("min_monthly_savings_usd=-1", "min_monthly_savings_usd"),
        ("min_monthly_savings_usd=1.001", "min_monthly_savings_usd"),
        ("sort=cost", "sort"),
        ("q=%0A", "q"),
        ("cursor=not%20base64", "cursor"),
        ("cursor=AAAA", "cursor"),
        (&format!("cursor={cursor_of_other_order}"), "cursor"),
    ] {
        let r = call(&w, &Caller::Operator, "GET", &path, query, "").await;
        assert_eq!((r.status, r.json_body()["error"]["field"].clone()), (400, json!(field)), "{query}: {}", r.body);
    }
    let r = call(&w, &Caller::Operator, "GET", &format!("/tenants/{}/savings", w.tenant), "x=1", "").await;
    assert_eq!(r.status, 400);
    let r = call(&w, &Caller::Operator, "DELETE", &path, "", "").await;
    assert_eq!(r.status, 405);
}

#[tokio::test]
async fn decisions_are_kept_with_their_history_and_bad_bodies_change_nothing() {
    let w = world().await;
    let f = finding(&w.tenant, 7, "ebs.unattached-volume", "12.5", now());
    w.store.upsert_findings(&w.tenant, std::slice::from_ref(&f)).await.unwrap();
    let path = key_path(&w.tenant, &f.key());
    let op = Caller::Operator;
    let before = w.store.snapshot();
    let tomorrow = (now() + Duration::days(1)).date_naive();
    for (body, field) in [
        ("", "body"),
        ("[]", "body"),
        (r#"{"by":"ops"}"#, "action"),
        (r#"{"action":"delete","by":"ops"}"#, "action"),
        (r#"{"action":"acknowledge"}"#, "by"),
        (r#"{"action":"acknowledge","by":""}"#, "by"),
        (r#"{"action":"acknowledge","by":"ops","extra":1}"#, "extra"),
        (r#"{"action":"assign","by":"ops","owner":7}"#, "owner"),
        (r#"{"action":"assign","by":"ops"}"#, "owner"),
        (r#"{"action":"suppress","by":"ops","reason":"   "}"#, "reason"),
        (r#"{"action":"note","by":"ops","text":"line\u0000two"}"#, "text"),
        (&format!(r#"{{"action":"note","by":"ops","text":"{}"}}"#, "x".repeat(1025)), "text"),
        (r#"{"action":"snooze","by":"ops","until":"2026-11-20"}"#, "until"),
        (r#"{"action":"snooze","by":"ops","until":"2026-13-01"}"#, "until"),
        (r#"{"action":"snooze","by":"ops","until":"2030-01-01"}"#, "until"),
        (r#"{"action":"snooze","by":"ops","until":"2026-11-21","reason":"x"}"#, "reason"),
    ] {
        let r = call(&w, &op, "PATCH", &path, "", body).await;
        assert_eq!((r.status, r.json_body()["error"]["field"].clone()), (400, json!(field)), "{body}: {}", r.body);
    }
    let by_tenant =
        call(&w, &tenant_caller(&w.tenant), "PATCH", &path, "", r#"{"action":"acknowledge","by":"bob"}"#).await;
    assert_eq!(by_tenant.json_body()["error"]["field"], "by", "a tenant user cannot write in another's name");
    for bad_key in ["111111111111", "12#r#x", "111111111111%23r", "111111111111%23r%23x%00", "%ZZ"] {
        let r = call(
            &w,
            &op,
            "PATCH",
            &format!("/tenants/{}/findings/{bad_key}", w.tenant),
            "",
            r#"{"action":"acknowledge","by":"ops"}"#,
        )
        .await;
        assert_eq!((r.status, r.json_body()["error"]["field"].clone()), (400, json!("key")), "{bad_key}");
    }
    assert_eq!(w.store.snapshot(), before, "refused changes wrote nothing");

    let steps = [
        json!({"action": "acknowledge", "by": "ops"}),
        json!({"action": "snooze", "until": tomorrow.to_string(), "by": "ops"}),
        json!({"action": "assign", "owner": "team-storage", "by": "ops"}),
        json!({"action": "note", "text": "=cmd|' /C calc'!A0", "by": "ops"}),
        json!({"action": "suppress", "reason": "kept for the DR drill", "by": "ops"}),
    ];
    for s in &steps {
        let r = call(&w, &op, "PATCH", &path, "", &s.to_string()).await;
        assert_eq!(r.status, 200, "{s}: {}", r.body);
    }
    let alice = call(&w, &tenant_caller(&w.tenant), "PATCH", &path, "", r#"{"action":"note","text":"seen"}"#).await;
    assert_eq!(alice.status, 200);
    let got = call(&w, &op, "GET", &path, "", "").await.json_body();
    let fv = &got["finding"];
    assert_eq!((fv["status"].clone(), fv["snoozed"].clone()), (json!("suppressed"), json!(true)));
    assert_eq!(fv["triage"]["owner"], "team-storage");
    assert_eq!(fv["triage"]["changes"], 6);
    let history = got["history"].as_array().unwrap();
    let actions: Vec<&str> = history.iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["acknowledge", "snooze", "assign", "note", "suppress", "note"]);
    assert_eq!(history[5]["by"], "alice@example.com");
    assert_eq!(history[5]["caller"], "tenant");
    // The suppression is a real one: the next scan keeps the finding suppressed, and so does
    // any other source's next sighting.
    let sups = w.store.list_suppressions(&w.tenant).await.unwrap();
    assert_eq!(sups.len(), 1);
    assert!(sups[0].matches(&f.account_id, &f.rule, &f.resource_id, &Default::default()));
    let again = Finding { last_seen: now() + Duration::hours(1), ..f.clone() };
    w.store.upsert_findings(&w.tenant, &[again]).await.unwrap();
    let kept = w.store.get_finding(&w.tenant, &f.key()).await.unwrap().unwrap();
    assert_eq!(kept.status, FindingStatus::Suppressed);
    assert_eq!(kept.triage.unwrap().owner.as_deref(), Some("team-storage"));
    // Gone from the open list.
    let open = call(&w, &op, "GET", &format!("/tenants/{}/findings", w.tenant), "status=open", "").await;
    assert_eq!(open.json_body()["findings"], json!([]));
}

#[tokio::test]
async fn the_ledger_counts_open_and_realised_savings_once() {
    let w = world().await;
    let t = &w.tenant;
    let long_ago = now() - Duration::days(40);
    let mut fs = vec![
        finding(t, 1, "ebs.unattached-volume", "100", long_ago),
        finding(t, 2, "ebs.gp2-to-gp3", "20", long_ago),
        finding(t, 3, "ec2.stopped-instance", "7.25", now()),
    ];
    fs[1].resource_id = fs[0].resource_id.clone();
    fs[1].account_id = fs[0].account_id.clone();
    fs[1].savings_included_in = Some("ebs.unattached-volume".into());
    w.store.upsert_findings(t, &fs).await.unwrap();
    let l = w.svc.savings(&Caller::Operator, t).await.unwrap();
    assert_eq!((l.total.open, l.total.realised), (Decimal::new(10725, 2), Decimal::ZERO));
    // A complete scan no longer sees vol-001: its saving is realised, once, however often the
    // resolution runs.
    for _ in 0..2 {
        let scope = ResolveScope {
            account_id: &fs[0].account_id,
            region: "us-east-1",
            rule_prefixes: &["ebs."],
            seen_before: now() + Duration::hours(1),
        };
        w.store.resolve_unseen(t, &scope, now() + Duration::hours(1)).await.unwrap();
    }
    let l = w.svc.savings(&Caller::Operator, t).await.unwrap();
    assert_eq!((l.total.open, l.total.realised), (Decimal::new(725, 2), Decimal::new(100, 0)));
    assert_eq!(l.by_service["ebs"].realised, Decimal::new(100, 0), "the included gp3 saving is not added");
    let v = l.json();
    assert_eq!(v["realised_usd"], "100.00");
    assert_eq!(v["confirmed_usd"], "0.00");
    // The volume comes back: the realisation is withdrawn.
    let back = Finding { last_seen: now() + Duration::hours(3), ..fs[0].clone() };
    w.store.upsert_findings(t, &[back]).await.unwrap();
    let l = w.svc.savings(&Caller::Operator, t).await.unwrap();
    assert_eq!((l.total.open, l.total.realised), (Decimal::new(10725, 2), Decimal::ZERO));
}
