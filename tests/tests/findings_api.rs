//! The findings API on DynamoDB (moto), through the router the onboarding Lambda's handler
//! calls (`findings::api::serve`) with the caller its request context names: pages of one
//! Query each (counted by an interceptor on the SDK client), both orders, filters, decisions
//! and their history, hostile input that changes nothing, tenant isolation, CSV escaping, and
//! the savings ledger.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept};
use aws_sdk_dynamodb::error::BoxError;
use chrono::{Duration, Utc};
use costradar_aws::DynamoStore;
use costradar_core::domain::finding::Finding;
use costradar_core::domain::*;
use costradar_core::findings::api::{serve, HttpResponse};
use costradar_core::findings::{Caller, Findings, TENANT_CLAIM};
use costradar_core::onboarding::api::ApiRequest;
use costradar_core::onboarding::Onboarding;
use costradar_core::store::{EventStore, FindingStore, ResolveScope, TenantStore};
use serde_json::json;

/// The DynamoDB operations a client sent, by name (and a Query's index and Limit).
#[derive(Clone, Debug, Default)]
struct Calls(Arc<Mutex<Vec<String>>>);

impl Intercept for Calls {
    fn name(&self) -> &'static str {
        "CountCalls"
    }

    fn read_before_execution(
        &self,
        ctx: &BeforeSerializationInterceptorContextRef<'_>,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        use aws_sdk_dynamodb::operation::*;
        let i = ctx.input();
        let name = if let Some(q) = i.downcast_ref::<query::QueryInput>() {
            format!("Query({},{})", q.index_name().unwrap_or("table"), q.limit().unwrap_or(0))
        } else if i.downcast_ref::<get_item::GetItemInput>().is_some() {
            "GetItem".into()
        } else if i.downcast_ref::<transact_write_items::TransactWriteItemsInput>().is_some() {
            "TransactWriteItems".into()
        } else {
            "other".into()
        };
        self.0.lock().unwrap().push(name);
        Ok(())
    }
}

impl Calls {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

struct World {
    onboarding: Onboarding,
    findings: Findings,
    store: DynamoStore,
    calls: Calls,
    tenant: TenantId,
    other: TenantId,
}

async fn world() -> World {
    let plain = costradar_tests::fresh_table("findings-api").await;
    let calls = Calls::default();
    let sdk = costradar_tests::sdk_config().await;
    let conf = aws_sdk_dynamodb::config::Builder::from(&sdk).interceptor(calls.clone()).build();
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(conf), plain.table());
    let mut ids = Vec::new();
    for name in ["Acme", "Other"] {
        let mut t = Tenant::new(TenantId::generate(), name.into(), ExternalId::generate(), Utc::now());
        store.save_tenant(&mut t).await.unwrap();
        ids.push(t.id);
    }
    let onboarding = Onboarding::new(
        Arc::new(store.clone()),
        Arc::new(costradar_core::testing::FakeAssumer::enforcing()),
        Arc::new(SystemClock),
        costradar_core::testing::settings(true),
    );
    let findings = Findings::new(Arc::new(store.clone()), Arc::new(SystemClock));
    let other = ids.pop().unwrap();
    calls.take();
    World { onboarding, findings, store, calls, tenant: ids.pop().unwrap(), other }
}

impl World {
    async fn call(&self, caller: Option<Caller>, method: &str, path: &str, query: &str, body: &str) -> HttpResponse {
        let req = ApiRequest { method, path, query, content_type: Some("application/json"), body: body.as_bytes() };
        serve(&self.onboarding, &self.findings, caller, req).await
    }

    async fn op(&self, method: &str, path: &str, query: &str, body: &str) -> HttpResponse {
        self.call(Some(Caller::Operator), method, path, query, body).await
    }
}

/// The caller the onboarding handler makes of a JWT with a tenant claim.
fn tenant_user(t: &TenantId) -> Option<Caller> {
    let claims =
        HashMap::from([(TENANT_CLAIM.to_owned(), t.to_string()), ("email".to_owned(), "alice@example.com".to_owned())]);
    Caller::from_request(Some(&claims), false)
}

fn finding(t: &TenantId, n: u32) -> Finding {
    let rule =
        ["ebs.unattached-volume", "realtime.gp2-volume", "cur.gp2-volume", "coh.rightsize", "ec2.stopped-instance"]
            [(n % 5) as usize];
    let account = AccountId::parse(if n.is_multiple_of(2) { "123456789012" } else { "210987654321" }).unwrap();
    Finding {
        monthly_savings_usd: Some(rust_decimal::Decimal::new(i64::from(n) * 1001, 2)),
        evidence: vec![format!("{n} GiB unattached")],
        fix_command: Some(format!("aws ec2 delete-volume --volume-id vol-{n:04}")),
        price_source: Some("snapshot".into()),
        ..Finding::open(
            t.clone(),
            account,
            "us-east-1",
            rule,
            format!("vol-{n:04}"),
            format!("finding {n}"),
            Utc::now() - Duration::minutes(i64::from(n)),
        )
    }
}

/// Every item of the table, in key order: to compare whole states.
async fn snapshot(table: &str) -> Vec<String> {
    let mut items: Vec<String> = costradar_tests::items(table)
        .await
        .iter()
        .map(|i| {
            let mut kv: Vec<String> = i.iter().map(|(k, v)| format!("{k}={}", canon(v))).collect();
            kv.sort();
            kv.join(";")
        })
        .collect();
    items.sort();
    items
}

/// An attribute value as text, maps in key order.
fn canon(v: &aws_sdk_dynamodb::types::AttributeValue) -> String {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    match v {
        A::M(m) => {
            let mut kv: Vec<String> = m.iter().map(|(k, v)| format!("{k}:{}", canon(v))).collect();
            kv.sort();
            format!("{{{}}}", kv.join(","))
        }
        A::L(l) => format!("[{}]", l.iter().map(canon).collect::<Vec<_>>().join(",")),
        other => format!("{other:?}"),
    }
}

fn key_path(t: &TenantId, key: &str) -> String {
    let enc: String = url::form_urlencoded::byte_serialize(key.as_bytes()).collect();
    format!("/tenants/{t}/findings/{}", enc.replace('+', "%20"))
}

fn resources(r: &HttpResponse) -> Vec<String> {
    let v = r.json_body();
    v["findings"].as_array().unwrap().iter().map(|f| f["resource_id"].as_str().unwrap().to_owned()).collect()
}

/// Pages through `query` (limit 100); returns every resource id and each page's DynamoDB calls.
async fn pages(w: &World, query: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let path = format!("/tenants/{}/findings", w.tenant);
    let (mut ids, mut calls, mut cursor) = (Vec::new(), Vec::new(), None::<String>);
    loop {
        let q = match &cursor {
            Some(c) => format!("{query}&limit=100&cursor={c}"),
            None => format!("{query}&limit=100"),
        };
        let r = w.op("GET", &path, &q, "").await;
        assert_eq!(r.status, 200, "{}", r.body);
        calls.push(w.calls.take());
        ids.extend(resources(&r));
        match r.json_body()["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return (ids, calls),
        }
    }
}

#[tokio::test]
async fn a_page_of_findings_is_one_query_per_shard_in_either_order() {
    let w = world().await;
    // The tenant, then one Query per index shard (keys::SHARDS), whatever the page.
    let page_calls = |index: &str| {
        let mut v = vec!["GetItem".to_owned()];
        v.extend((0..costradar_core::store::keys::SHARDS).map(|_| format!("Query({index},100)")));
        v
    };
    let all: Vec<Finding> = (0..250).map(|n| finding(&w.tenant, n)).collect();
    w.store.upsert_findings(&w.tenant, &all).await.unwrap();
    w.calls.take();
    let (by_saving, calls) = pages(&w, "sort=savings").await;
    assert_eq!(by_saving.len(), 250);
    assert_eq!(by_saving[0], "vol-0249", "largest saving first");
    assert_eq!(calls.len(), 3, "250 findings in pages of 100");
    for page in &calls {
        assert_eq!(page, &page_calls("GSI2"), "the tenant, then one Query per shard");
    }
    let (by_time, calls) = pages(&w, "sort=first_seen").await;
    assert_eq!(by_time.first().map(String::as_str), Some("vol-0000"), "newest first");
    assert_eq!(by_time.len(), 250);
    assert!(calls.iter().all(|p| p == &page_calls("GSI1")), "{calls:?}");
    // Filters are applied to the page's reads: still one Query per shard a page.
    let (scan, calls) = pages(&w, "source=scan&account=123456789012&status=open").await;
    let expected = (0..250).filter(|n| n % 5 == 0 || n % 5 == 4).filter(|n| n % 2 == 0).count();
    assert_eq!(scan.len(), expected);
    let shards = costradar_core::store::keys::SHARDS as usize;
    assert!(calls.iter().all(|p| p.iter().filter(|c| c.starts_with("Query")).count() == shards), "{calls:?}");
    // A minimum saving is the key condition of the savings order: one page, nothing below it.
    let (rich, calls) = pages(&w, "min_monthly_savings_usd=2400.00").await;
    assert_eq!(rich, (240..250).rev().map(|n| format!("vol-{n:04}")).collect::<Vec<_>>());
    assert_eq!(calls.len(), 1);
    let (cur, _) = pages(&w, "service=cur&q=vol-01").await;
    assert_eq!(cur, (100..200).rev().filter(|n| n % 5 == 2).map(|n| format!("vol-{n:04}")).collect::<Vec<_>>());
}

#[tokio::test]
async fn decisions_keep_their_history_and_hostile_input_changes_nothing() {
    let w = world().await;
    let mut f = finding(&w.tenant, 3);
    f.resource_id = "arn:aws:logs:us-east-1:123456789012:log-group:/a b#c?d=%2F".into();
    w.store.upsert_findings(&w.tenant, std::slice::from_ref(&f)).await.unwrap();
    let path = key_path(&w.tenant, &f.key());
    let shown = w.op("GET", &path, "", "").await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    let v = shown.json_body();
    assert_eq!(v["finding"]["fix_command"], "aws ec2 delete-volume --volume-id vol-0003");
    assert_eq!(v["price"]["source"], "snapshot");
    assert_eq!(v["finding"]["monthly_savings_usd"], "30.03");

    let before = snapshot(w.store.table()).await;
    let list = format!("/tenants/{}/findings", w.tenant);
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=x", "limit"),
        ("colour=red", "colour"),
        ("cursor=AAAA", "cursor"),
        ("cursor=%00", "cursor"),
        ("sort=savings&sort=first_seen", "sort"),
    ] {
        let r = w.op("GET", &list, query, "").await;
        assert_eq!((r.status, r.json_body()["error"]["field"].clone()), (400, json!(field)), "{query}");
    }
    let hostile = [
        (r#"{"action":"assign","owner":"<script>alert(1)</script>","by":"ops","admin":true}"#, "admin"),
        (r#"{"action":"note","text":"a\u0007b","by":"ops"}"#, "text"),
        (r#"{"action":"snooze","until":"2001-01-01","by":"ops"}"#, "until"),
        (r#"{"action":"snooze","until":"tomorrow","by":"ops"}"#, "until"),
        (r#"{"action":"suppress","reason":["x"],"by":"ops"}"#, "reason"),
        (r#"{"action":"acknowledge","by":null}"#, "by"),
        (r#"{"action":{"$ne":1},"by":"ops"}"#, "action"),
        ("not json", "body"),
    ];
    for (body, field) in hostile {
        let r = w.op("PATCH", &path, "", body).await;
        assert_eq!((r.status, r.json_body()["error"]["field"].clone()), (400, json!(field)), "{body}: {}", r.body);
    }
    for bad_key in ["123456789012", "%E0%80", "..%2F..%2Fetc", &"1".repeat(2000)] {
        let r = w
            .op(
                "PATCH",
                &format!("/tenants/{}/findings/{bad_key}", w.tenant),
                "",
                r#"{"action":"acknowledge","by":"ops"}"#,
            )
            .await;
        assert_eq!(r.status, 400, "{bad_key}");
    }
    let missing = w
        .op("PATCH", &key_path(&w.tenant, "123456789012#ebs.x#vol-nope"), "", r#"{"action":"acknowledge","by":"ops"}"#)
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(snapshot(w.store.table()).await, before, "refused requests wrote nothing");

    let tomorrow = (Utc::now() + Duration::days(1)).date_naive().to_string();
    for body in [
        json!({"action": "acknowledge", "by": "ops@acme"}),
        json!({"action": "assign", "owner": "storage team", "by": "ops@acme"}),
        json!({"action": "snooze", "until": tomorrow, "by": "ops@acme"}),
        json!({"action": "suppress", "reason": "needed for DR", "by": "ops@acme"}),
    ] {
        w.calls.take();
        let r = w.op("PATCH", &path, "", &body.to_string()).await;
        assert_eq!(r.status, 200, "{body}: {}", r.body);
        assert_eq!(w.calls.take().iter().filter(|c| *c == "TransactWriteItems").count(), 1, "one transaction a change");
    }
    let r =
        w.call(tenant_user(&w.tenant), "PATCH", &path, "", r#"{"action":"note","text":"checked with finance"}"#).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = w.op("GET", &path, "", "").await.json_body();
    assert_eq!(v["finding"]["status"], "suppressed");
    assert_eq!(v["finding"]["snoozed"], true);
    let history: Vec<(String, String)> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["action"].as_str().unwrap().to_owned(), h["by"].as_str().unwrap().to_owned()))
        .collect();
    let by = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        history,
        [
            by("acknowledge", "ops@acme"),
            by("assign", "ops@acme"),
            by("snooze", "ops@acme"),
            by("suppress", "ops@acme"),
            by("note", "alice@example.com")
        ]
    );
    // The next scan keeps it suppressed, through the suppression the API saved.
    let sups = w.store.list_suppressions(&w.tenant).await.unwrap();
    assert!(sups[0].matches(&f.account_id, &f.rule, &f.resource_id, &Default::default()), "{sups:?}");
    let open = w.op("GET", &format!("/tenants/{}/findings", w.tenant), "status=open", "").await;
    assert!(resources(&open).is_empty(), "a suppressed finding leaves the open list");
}

#[tokio::test]
async fn a_tenant_user_cannot_reach_another_tenant() {
    let w = world().await;
    let theirs = finding(&w.other, 1);
    w.store.upsert_findings(&w.other, std::slice::from_ref(&theirs)).await.unwrap();
    let me = tenant_user(&w.tenant);
    let missing = TenantId::generate();
    for suffix in ["findings", "findings.csv", "events", "runs", "savings"] {
        let other = w.call(me.clone(), "GET", &format!("/tenants/{}/{suffix}", w.other), "", "").await;
        let nobody = w.call(me.clone(), "GET", &format!("/tenants/{missing}/{suffix}"), "", "").await;
        assert_eq!(other.status, 404, "{suffix}");
        assert_eq!(other, nobody, "{suffix}: the same answer as a tenant that does not exist");
    }
    w.calls.take();
    let other = w.call(me.clone(), "GET", &key_path(&w.other, &theirs.key()), "", "").await;
    assert_eq!(other, w.call(me.clone(), "GET", &key_path(&missing, &theirs.key()), "", "").await);
    assert!(w.calls.take().is_empty(), "refused before any read");
    let before = snapshot(w.store.table()).await;
    let patch = w
        .call(me.clone(), "PATCH", &key_path(&w.other, &theirs.key()), "", r#"{"action":"suppress","reason":"x"}"#)
        .await;
    assert_eq!(patch, other);
    assert_eq!(snapshot(w.store.table()).await, before);
    // Their key in my tenant is just a missing finding; the operator's routes are not mine.
    let mine = w.call(me.clone(), "GET", &key_path(&w.tenant, &theirs.key()), "", "").await;
    assert_eq!(mine.json_body()["error"]["code"], "finding_not_found");
    assert_eq!(w.call(me.clone(), "GET", "/tenants", "", "").await.status, 403);
    assert_eq!(w.call(me, "DELETE", &format!("/tenants/{}", w.tenant), "", "").await.status, 403);
    assert_eq!(w.call(None, "GET", &format!("/tenants/{}/findings", w.tenant), "", "").await.status, 403);
}

#[tokio::test]
async fn csv_cells_are_quoted_and_formulas_neutralised() {
    let w = world().await;
    let mut f = finding(&w.tenant, 5);
    f.resource_id = "=HYPERLINK(\"http://evil.example\",\"x\")".into();
    f.title = "Volume, \"old\"\nand unattached".into();
    w.store.upsert_findings(&w.tenant, std::slice::from_ref(&f)).await.unwrap();
    let r = w.op("GET", &format!("/tenants/{}/findings.csv", w.tenant), "", "").await;
    assert_eq!((r.status, r.content_type), (200, "text/csv; charset=utf-8"));
    let mut lines = r.body.split("\r\n");
    assert!(lines.next().unwrap().starts_with("key,account_id,region,service,source,rule,resource_id,title,status"));
    let row = r.body.split_once("\r\n").unwrap().1;
    assert!(row.contains(",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\","), "{row}");
    assert!(row.contains(",\"Volume, \"\"old\"\"\nand unattached\","), "{row}");
    assert!(row.contains(",50.05,"), "money to the cent: {row}");
    assert!(r.body.ends_with("\r\n"));
}

#[tokio::test]
async fn events_runs_and_the_ledger() {
    let w = world().await;
    let t0 = Utc::now() - Duration::hours(2);
    for n in 0..5 {
        let body = json!({"event_id": format!("ev-{n}"), "kind": "ec2.run-instances", "account": "123456789012",
            "region": "us-east-1", "monthly_cost_usd": "1234.50", "received_at": t0 + Duration::minutes(n)});
        w.store
            .record_event(&w.tenant, &format!("ev-{n}"), &body, None, Utc::now() + Duration::days(90))
            .await
            .unwrap();
    }
    w.calls.take();
    let r = w.op("GET", &format!("/tenants/{}/events", w.tenant), "limit=2&kind=ec2.run-instances", "").await;
    let v = r.json_body();
    assert_eq!(v["events"][0]["event_id"], "ev-4");
    assert!(v["next_cursor"].is_string());
    let mut one_per_shard = vec!["GetItem".to_owned()];
    one_per_shard.extend((0..costradar_core::store::keys::SHARDS).map(|_| "Query(GSI1,2)".to_owned()));
    assert_eq!(w.calls.take(), one_per_shard);
    let r = w.op("GET", &format!("/tenants/{}/events", w.tenant), "kind=ec2.nope", "").await;
    assert_eq!(r.json_body()["error"]["field"], "kind");
    let run = costradar_core::domain::scan_run::RunRecord::new("run-1", &w.tenant, vec![], Utc::now());
    costradar_core::store::RunStore::save_run(&w.store, &w.tenant, &run, Utc::now() + Duration::days(90))
        .await
        .unwrap();
    let r = w.op("GET", &format!("/tenants/{}/runs", w.tenant), "", "").await.json_body();
    assert_eq!(r["runs"][0]["run_id"], "run-1");
    assert_eq!(r["runs"][0]["athena_cost_usd"], "0");

    // Two findings, one resolved by a complete scan: open and realised, each counted once.
    let (a, b) = (finding(&w.tenant, 10), finding(&w.tenant, 20));
    w.store.upsert_findings(&w.tenant, &[a.clone(), b]).await.unwrap();
    let seen = Finding { last_seen: Utc::now() + Duration::minutes(1), ..finding(&w.tenant, 20) };
    w.store.upsert_findings(&w.tenant, &[seen]).await.unwrap();
    let scope = ResolveScope {
        account_id: &a.account_id,
        region: "us-east-1",
        rule_prefixes: &["ebs."],
        seen_before: Utc::now(),
    };
    w.store.resolve_unseen(&w.tenant, &scope, Utc::now()).await.unwrap();
    let v = w.op("GET", &format!("/tenants/{}/savings", w.tenant), "", "").await.json_body();
    assert_eq!(
        (v["open_usd"].as_str(), v["realised_usd"].as_str(), v["confirmed_usd"].as_str()),
        (Some("200.20"), Some("100.10"), Some("0.00"))
    );
    assert_eq!(v["by_service"][0]["service"], "ebs");
    assert_eq!(v["by_account"][0]["account_id"], "123456789012");
    assert!(v["notes"]["confirmed"].as_str().unwrap().contains("never added to it"));
    assert_eq!(v["confirmations"]["pending"], 1, "the realised saving awaits the bill");
}
