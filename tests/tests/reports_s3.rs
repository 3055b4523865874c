//! The reports bucket's adapter (`costradar_aws::reports::S3Reports`) against moto's S3: both
//! files written with their retention tag, a tenant's reports listed newest first across pages,
//! presigned links that an HTTP client can GET and that say when they expire, another tenant's
//! reports out of reach, hostile ids refused before S3 is asked.
//!
//! moto does not enforce a presigned URL's expiry (it checks no query signature by default): the
//! expiry is checked in the URL's signed parameters (`X-Amz-Date`, `X-Amz-Expires`) instead.

use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, TimeZone, Utc};
use costradar_aws::reports::S3Reports;
use costradar_core::cur::queries::YearMonth;
use costradar_core::domain::settings::ReportRetention;
use costradar_core::domain::{AccountId, TenantId};
use costradar_core::report::store::{
    object_key, ReportBody, ReportFile, ReportId, ReportPage, ReportStore, LINK_TTL, RETENTION_TAG,
};

fn bucket_name() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("reports-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

async fn world() -> (aws_sdk_s3::Client, S3Reports, String) {
    let sdk = costradar_tests::sdk_config().await;
    let conf = aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build();
    let s3 = aws_sdk_s3::Client::from_conf(conf);
    let bucket = bucket_name();
    s3.create_bucket().bucket(&bucket).send().await.expect("create bucket");
    (s3.clone(), S3Reports::new(s3, &bucket), bucket)
}

fn tenant(c: char) -> TenantId {
    TenantId::parse(&format!("t-{}", c.to_string().repeat(16))).unwrap()
}

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).unwrap()
}

fn id(secs: i64) -> ReportId {
    let account = AccountId::parse("111122223333").unwrap();
    ReportId::new(at(secs), YearMonth { year: 2025, month: 1 }, YearMonth { year: 2025, month: 2 }, Some(&account))
}

fn body(n: i64) -> ReportBody {
    ReportBody { json: format!("{{\"n\": {n}}}"), html: format!("<h1>report {n}</h1>") }
}

async fn tags(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<(String, String)> {
    let out = s3.get_object_tagging().bucket(bucket).key(key).send().await.expect("tags");
    out.tag_set().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect()
}

#[tokio::test]
async fn both_files_are_written_with_the_tenants_retention_tag_and_read_back() {
    let (s3, reports, bucket) = world().await;
    let t = tenant('a');
    let r = id(1_700_000_000);
    reports.put(&t, &r, &body(1), ReportRetention::parse(30).unwrap()).await.unwrap();
    for file in ReportFile::ALL {
        let key = object_key(&t, &r, file);
        assert_eq!(tags(&s3, &bucket, &key).await, vec![(RETENTION_TAG.to_owned(), "30".to_owned())], "{key}");
        let head = s3.head_object().bucket(&bucket).key(&key).send().await.unwrap();
        assert_eq!(head.content_type(), Some(file.content_type()));
    }
    assert_eq!(reports.get(&t, &r, ReportFile::Html).await.unwrap().as_deref(), Some("<h1>report 1</h1>"));
    assert_eq!(reports.get(&t, &r, ReportFile::Json).await.unwrap().as_deref(), Some("{\"n\": 1}"));
    // The default retention: 7 days.
    let r7 = id(1_700_000_100);
    reports.put(&t, &r7, &body(2), ReportRetention::default()).await.unwrap();
    let key = object_key(&t, &r7, ReportFile::Json);
    assert_eq!(tags(&s3, &bucket, &key).await, vec![(RETENTION_TAG.to_owned(), "7".to_owned())]);
}

#[tokio::test]
async fn reports_are_listed_newest_first_across_pages_and_only_the_tenants() {
    let (s3, reports, bucket) = world().await;
    let (a, b) = (tenant('a'), tenant('b'));
    let ids: Vec<ReportId> = (0..7).map(|i| id(1_700_000_000 + i * 86_400)).collect();
    for (i, r) in ids.iter().enumerate() {
        reports.put(&a, r, &body(i as i64), ReportRetention::default()).await.unwrap();
    }
    reports.put(&b, &id(1_800_000_000), &body(99), ReportRetention::default()).await.unwrap();
    // Objects that are not reports, under the tenant's prefix and beside it: never listed.
    for stray in ["reports/t-aaaaaaaaaaaaaaaa/notes.txt", "reports/t-aaaaaaaaaaaaaaaa/../x/report.json", "reports/x"] {
        s3.put_object().bucket(&bucket).key(stray).body(b"x".to_vec().into()).send().await.unwrap();
    }
    let mut seen = Vec::new();
    let mut page = ReportPage { limit: 3, after: None };
    let mut pages = 0;
    loop {
        let p = reports.list(&a, &page).await.unwrap();
        pages += 1;
        assert!(p.items.len() <= 3);
        seen.extend(p.items);
        match p.next_cursor {
            Some(c) => page.after = Some(ReportId::parse(&c).unwrap()),
            None => break,
        }
        assert!(pages < 10, "the pages end");
    }
    let newest_first: Vec<ReportId> = ids.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first);
    assert_eq!(pages, 3, "3 + 3 + 1");
    let only_b = reports.list(&b, &ReportPage { limit: 10, after: None }).await.unwrap();
    assert_eq!(only_b.items, vec![id(1_800_000_000)]);
    assert_eq!(only_b.next_cursor, None);
    // Another tenant's report is not reachable through this tenant's id: same as a missing one.
    assert_eq!(reports.get(&b, &ids[0], ReportFile::Json).await.unwrap(), None);
    assert_eq!(reports.get(&a, &id(1_800_000_000), ReportFile::Html).await.unwrap(), None);
}

#[tokio::test]
async fn a_presigned_link_is_served_and_says_when_it_expires() {
    let (_s3, reports, _bucket) = world().await;
    let t = tenant('c');
    let r = id(1_700_000_000);
    reports.put(&t, &r, &body(5), ReportRetention::default()).await.unwrap();
    let issued = Utc::now();
    let link = reports.link(&t, &r, ReportFile::Html, issued, LINK_TTL).await.unwrap();
    assert_eq!(link.expires_at, at(issued.timestamp()) + chrono::Duration::seconds(300));
    let url = url::Url::parse(&link.url).unwrap();
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["X-Amz-Expires"], "300", "{url}");
    assert_eq!(q["X-Amz-Date"], issued.format("%Y%m%dT%H%M%SZ").to_string());
    assert_eq!(q["response-content-type"], "text/html; charset=utf-8");
    assert!(q.contains_key("X-Amz-Signature"));
    assert!(url.path().ends_with(&object_key(&t, &r, ReportFile::Html)), "{url}");

    let http = reqwest::Client::new();
    let res = http.get(link.url.as_str()).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(res.text().await.unwrap(), "<h1>report 5</h1>");
    let json = reports.link(&t, &r, ReportFile::Json, issued, LINK_TTL).await.unwrap();
    assert_eq!(http.get(json.url.as_str()).send().await.unwrap().text().await.unwrap(), "{\"n\": 5}");

    // A link issued long ago carries its own expiry: S3 refuses it after X-Amz-Date + 300 s.
    let old = reports.link(&t, &r, ReportFile::Json, at(1_700_000_000), LINK_TTL).await.unwrap();
    let q: std::collections::HashMap<String, String> =
        url::Url::parse(&old.url).unwrap().query_pairs().into_owned().collect();
    assert_eq!((q["X-Amz-Date"].as_str(), q["X-Amz-Expires"].as_str()), ("20231114T221320Z", "300"));
    assert!(old.expires_at < Utc::now());
}

#[tokio::test]
async fn hostile_ids_never_reach_s3_and_a_missing_bucket_is_unavailable() {
    for hostile in ["../t-bbbbbbbbbbbbbbbb/8299999999-202501-202502", "8299999999-202501-202502/..", "%2e%2e", "*", ""]
    {
        assert!(ReportId::parse(hostile).is_err(), "{hostile:?}");
        assert!(ReportPage::parse(None, Some(hostile)).is_err(), "{hostile:?}");
    }
    let sdk = costradar_tests::sdk_config().await;
    let gone = S3Reports::from_sdk(&sdk, "no-such-reports-bucket");
    let e = gone.list(&tenant('a'), &ReportPage { limit: 5, after: None }).await.unwrap_err();
    assert!(matches!(e, costradar_core::store::StoreError::Unavailable(_)), "{e:?}");
    let e = gone.put(&tenant('a'), &id(1), &body(1), ReportRetention::default()).await.unwrap_err();
    assert!(matches!(e, costradar_core::store::StoreError::Unavailable(_)), "{e:?}");
}

/// `PATCH /tenants/{id}` sets `report_retention_days`: one of 7, 30, 90 or 365; anything else is
/// a 400 naming the field and changes nothing; `null` resets it to 7.
#[tokio::test]
async fn the_retention_is_set_through_the_tenant_update_from_the_allowed_values_only() {
    use std::sync::Arc;

    use costradar_core::domain::SystemClock;
    use costradar_core::onboarding::api::{self, ApiRequest};
    use costradar_core::onboarding::Onboarding;
    use costradar_core::store::{MemoryStore, TenantStore};
    use costradar_core::testing::{settings, FakeAssumer};
    use serde_json::json;

    let store = Arc::new(MemoryStore::new());
    let svc =
        Onboarding::new(store.clone(), Arc::new(FakeAssumer::enforcing()), Arc::new(SystemClock), settings(false));
    let tenant = svc.create_tenant("Acme").await.unwrap().tenant;
    assert_eq!(tenant.report_retention_days.days(), 7, "the default");
    let path = format!("/tenants/{}", tenant.id);
    let patch = |body: serde_json::Value| {
        let (svc, path) = (&svc, path.clone());
        async move {
            let body = body.to_string();
            let req = ApiRequest {
                method: "PATCH",
                path: &path,
                query: "",
                content_type: Some("application/json"),
                body: body.as_bytes(),
            };
            api::handle(svc, req).await
        }
    };
    let r = patch(json!({"report_retention_days": 30})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["tenant"]["report_retention_days"], 30);
    for bad in [json!(0), json!(8), json!(31), json!(-7), json!(3650), json!("30"), json!(30.5), json!([30]), json!({})]
    {
        let r = patch(json!({"report_retention_days": bad, "realtime_threshold_usd": 1})).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert_eq!(r.body["error"]["field"], "report_retention_days", "{bad}: {}", r.body);
        let stored = store.get_tenant(&tenant.id).await.unwrap().unwrap();
        assert_eq!(stored.report_retention_days.days(), 30, "{bad}: nothing changed");
        assert_eq!(stored.realtime_threshold_usd, None, "{bad}: nothing changed");
    }
    let r = patch(json!({"report_retention_days": 8})).await;
    assert!(r.body["error"]["message"].as_str().unwrap().contains("[7, 30, 90, 365]"), "{}", r.body);
    let r = patch(json!({"report_retention_days": null})).await;
    assert_eq!(r.body["tenant"]["report_retention_days"], 7);
    let r = patch(json!({"report_retention_days": 365})).await;
    assert_eq!(r.body["tenant"]["report_retention_days"], 365);
    assert_eq!(store.get_tenant(&tenant.id).await.unwrap().unwrap().report_retention_days.days(), 365);
}
