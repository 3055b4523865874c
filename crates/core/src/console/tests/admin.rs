//! The settings page, "Verify again", the operator's `/ops` and `/tenants/new`, the tenants'
//! health and the runs' notes: each through the operator API's own handler, with hostile forms,
//! isolation and cross-origin posts.

use async_trait::async_trait;

use super::*;
use crate::access::{AssumeError, AssumeRequest, RoleAssumer, TemporaryCredentials};
use crate::domain::scan_run::{AccountRun, RunRecord, ScanStatus};
use crate::domain::{AccountStatus, Tenant};
use crate::health::{AlarmState, HealthReport, QueueDepth, StackHealth};
use crate::onboarding::{Onboarding, OnboardingSettings};
use crate::store::{PageRequest, RunStore, TenantStore};

/// STS as the tests need it: the role can be assumed with the ExternalId (and not without), or
/// never (AccessDenied: the customer removed the trust).
struct Sts {
    allow: bool,
}

#[async_trait]
impl RoleAssumer for Sts {
    async fn assume(&self, req: &AssumeRequest<'_>) -> Result<TemporaryCredentials, AssumeError> {
        if self.allow && req.external_id.is_some() {
            Ok(TemporaryCredentials {
                access_key_id: "ASIATEST".into(),
                secret_access_key: "s".into(),
                session_token: "t".into(),
                expiration: now() + chrono::Duration::minutes(15),
            })
        } else {
            Err(AssumeError::AccessDenied("not authorized to perform sts:AssumeRole".into()))
        }
    }
}

struct Health;

#[async_trait]
impl StackHealth for Health {
    async fn report(&self) -> HealthReport {
        HealthReport {
            queues: vec![
                QueueDepth { queue: "costradar-SchedulerDlq-1".into(), messages: Some(3), error: None },
                QueueDepth { queue: "costradar-OnboardingDlq-2".into(), messages: Some(0), error: None },
                QueueDepth { queue: "<script>q</script>".into(), messages: None, error: Some("AccessDenied".into()) },
            ],
            alarms: vec![AlarmState {
                name: "costradar-SchedulerDlqAlarm-X<img src=x>".into(),
                state: "ALARM".into(),
                reason: "Threshold Crossed: 1 datapoint [3.0]".into(),
                description: "EventBridge Scheduler could not start a scan run".into(),
                updated_at: Some(now()),
            }],
            alarms_error: None,
        }
    }
}

fn onboarding_settings() -> OnboardingSettings {
    OnboardingSettings::from_lookup(|k| {
        Some(
            match k {
                "COSTRADAR_ACCOUNT_ID" => "111122223333",
                "AWS_REGION" => "us-east-1",
                "COSTRADAR_TOPIC_ARN" => "arn:aws:sns:us-east-1:111122223333:costradar-custom-resource",
                "COSTRADAR_TEMPLATE_URL" => "https://costradar-artifacts.s3.amazonaws.com/costradar-role.yaml",
                _ => return None,
            }
            .to_owned(),
        )
    })
    .unwrap()
}

/// The demo's two tenants, the test pool, the operator API's use cases over the same store,
/// and the fake health source.
async fn admin_console(allow: bool, verify_off: Option<&str>) -> (Console, Vec<TenantId>, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::default());
    let tenants = demo::seed(&store, now()).await.unwrap();
    let identity = Arc::new(pool(&tenants));
    POOL.with(|p| *p.borrow_mut() = Some(identity.clone()));
    let clock: Arc<dyn Clock> = Arc::new(Fixed(now()));
    let svc = Onboarding::new(store.clone(), Arc::new(Sts { allow }), clock.clone(), onboarding_settings());
    let admin = ops::Admin { onboarding: Arc::new(svc), verify_off: verify_off.map(Into::into) };
    let c = Console::new(store.clone(), clock, BTreeMap::new())
        .with_identity(identity, false)
        .with_admin(Ok(admin))
        .with_health(Ok(Arc::new(Health)));
    (c, tenants, store)
}

async fn tenant(store: &MemoryStore, id: &TenantId) -> Tenant {
    store.get_tenant(id).await.unwrap().unwrap()
}

async fn post_from(c: &Console, s: &Session, path: &str, body: &str, origin: &str) -> Response {
    let cookie = cookie(c, s);
    let req = Request {
        method: "POST",
        path,
        cookie: Some(&cookie),
        origin: Some(origin),
        host: Some("127.0.0.1:9"),
        body: body.as_bytes(),
        ..Default::default()
    };
    c.handle(&req).await
}

#[tokio::test]
async fn the_operator_changes_settings_through_the_apis_update_and_sees_them_saved() {
    let (c, tenants, store) = admin_console(true, None).await;
    let t = &tenants[0];
    let page = get(&c, &Session::Operator, &format!("/t/{t}/settings"), "").await;
    assert_eq!(page.status, 200);
    for part in [
        "Thresholds",
        "Notifications",
        "Scan",
        "Reports",
        "name=\"unattached_volume_days\" value=\"7\"",
        "Save the settings",
    ] {
        assert!(page.body.contains(part), "{part}");
    }
    let body = "realtime_threshold_usd=250&unattached_volume_days=3&trusted_advisor=off&max_concurrent_regions=8\
                &notify_webhook_url=https%3A%2F%2Fhooks.example.com%2Fservices%2FT0%2FSECRETPATH&report_retention_days=30";
    let r = post(&c, &Session::Operator, &format!("/t/{t}/settings"), body).await;
    assert_eq!((r.status, header(&r, "location")), (303, Some(&*format!("/t/{t}/settings?saved=1"))), "{}", r.body);
    let saved = tenant(&store, t).await;
    let scan = saved.scan_settings.clone().unwrap();
    assert_eq!((scan.unattached_volume_days, scan.trusted_advisor, scan.max_concurrent_regions), (3, false, 8));
    assert_eq!(scan.snapshot_age_days, 90, "untouched keys keep their default");
    assert_eq!(saved.realtime_threshold_usd, Some(Decimal::from(250)));
    assert_eq!(saved.notify_webhook_url.as_deref(), Some("https://hooks.example.com/services/T0/SECRETPATH"));
    let shown = get(&c, &Session::Operator, &format!("/t/{t}/settings"), "saved=1").await;
    assert!(shown.body.contains("Saved."));
    assert!(shown.body.contains("name=\"unattached_volume_days\" value=\"3\""));
    assert!(shown.body.contains("https://hooks.example.com/…"), "the webhook masked as the API shows it");
    assert!(!shown.body.contains("SECRETPATH"), "never the full URL");
    // Removing the webhook and going back to the defaults.
    let r = post(&c, &Session::Operator, &format!("/t/{t}/settings"), "clear_webhook=1&realtime_threshold_usd=").await;
    assert_eq!(r.status, 303);
    let back = tenant(&store, t).await;
    assert_eq!((back.notify_webhook_url, back.realtime_threshold_usd, back.scan_settings), (None, None, None));
}

#[tokio::test]
async fn a_bad_setting_is_refused_naming_the_field_and_nothing_is_saved() {
    let (c, tenants, store) = admin_console(true, None).await;
    let t = &tenants[0];
    let before = tenant(&store, t).await;
    for (body, field) in [
        ("idle_window_days=0", "idle_window_days"),
        ("idle_window_days=64&unattached_volume_days=1", "idle_window_days"),
        ("snapshot_age_days=ninety", "snapshot_age_days"),
        ("max_concurrent_regions=-1", "max_concurrent_regions"),
        ("max_concurrent_regions=1e3", "max_concurrent_regions"),
        ("scan_interval_hours=99999999999999999999999", "scan_interval_hours"),
        ("trusted_advisor=maybe", "trusted_advisor"),
        ("logs_retention_days=31", "logs_retention_days"),
        ("idle_cpu_p95_percent=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "idle_cpu_p95_percent"),
        ("realtime_threshold_usd=-5", "realtime_threshold_usd"),
        ("realtime_threshold_usd=lots", "realtime_threshold_usd"),
        ("notify_webhook_url=http%3A%2F%2Fhooks.example.com%2Fx", "notify_webhook_url"),
        ("notify_webhook_url=https%3A%2F%2F169.254.169.254%2Flatest", "notify_webhook_url"),
        ("notify_webhook_url=https%3A%2F%2Fuser%3Apw%40hooks.example.com%2F", "notify_webhook_url"),
        ("notify_webhook_url=javascript%3Aalert(1)", "notify_webhook_url"),
        ("report_retention_days=8", "report_retention_days"),
        ("report_retention_days=-7", "report_retention_days"),
    ] {
        let r = post(&c, &Session::Operator, &format!("/t/{t}/settings"), body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert!(r.body.contains("Nothing was saved"), "{body}");
        assert!(r.body.contains(&format!("Nothing was saved. {field}:")), "{body} names {field}");
        assert!(r.body.contains(&format!("id=\"f-{field}\"")), "{body}: the form is shown again");
        assert!(!r.body.contains("<script>alert"), "{body}: what was typed is escaped");
        let after = tenant(&store, t).await;
        assert_eq!(after.version, before.version, "{body}: nothing written");
    }
    // A body that is no form at all changes nothing either.
    for body in ["%%%", "\u{0}\u{1}", "scan_settings=%7B%7D&=&&=x"] {
        let r = post(&c, &Session::Operator, &format!("/t/{t}/settings"), body).await;
        assert!(matches!(r.status, 303 | 400), "{body}: {}", r.status);
        let after = tenant(&store, t).await;
        assert_eq!(after.scan_settings, before.scan_settings, "{body}");
        assert_eq!(after.notify_webhook_url, before.notify_webhook_url, "{body}");
    }
}

#[tokio::test]
async fn a_tenant_user_sees_its_settings_read_only_and_cannot_change_them() {
    let (c, tenants, store) = admin_console(true, None).await;
    let t = &tenants[0];
    let user = Session::Tenant(t.clone());
    let page = get(&c, &user, &format!("/t/{t}/settings"), "").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<fieldset disabled>"), "read-only");
    assert!(!page.body.contains("Save the settings"));
    assert!(page.body.contains("Only the operator&#39;s staff change"));
    let before = tenant(&store, t).await;
    for body in ["unattached_volume_days=1", "notify_webhook_url=https%3A%2F%2Fattacker.example%2Fx", ""] {
        let r = post(&c, &user, &format!("/t/{t}/settings"), body).await;
        assert_eq!(r.status, 403, "{body}");
        assert_eq!(tenant(&store, t).await.version, before.version, "{body}: nothing written");
    }
}

#[tokio::test]
async fn a_tenant_user_gets_the_missing_page_on_another_tenants_settings_verify_and_the_operators_pages() {
    let (c, tenants, store) = admin_console(true, None).await;
    let (a, b) = (&tenants[0], &tenants[1]);
    let user = Session::Tenant(a.clone());
    let missing = get(&c, &user, "/t/t-doesnotexist0000/settings", "").await;
    assert_eq!(missing.status, 404);
    let theirs = crate::store::AccountStore::list_accounts(&*store, b, &PageRequest::first(10)).await.unwrap().items;
    let their_account = theirs[0].account_id.clone();
    let mine = crate::store::AccountStore::list_accounts(&*store, a, &PageRequest::first(10)).await.unwrap().items;
    let before = tenant(&store, b).await;
    let cases = [
        ("GET", format!("/t/{b}/settings"), ""),
        ("POST", format!("/t/{b}/settings"), "unattached_volume_days=1"),
        ("POST", format!("/t/{b}/accounts/{their_account}/verify"), ""),
        // Its own tenant's path with the other tenant's account: no such account.
        ("POST", format!("/t/{a}/accounts/{their_account}/verify"), ""),
        ("GET", "/ops".to_owned(), ""),
        ("GET", "/tenants/new".to_owned(), ""),
        ("POST", "/tenants/new".to_owned(), "name=Mine"),
    ];
    for (method, path, body) in &cases {
        let r = if *method == "GET" { get(&c, &user, path, "").await } else { post(&c, &user, path, body).await };
        assert_eq!((r.status, &r.body), (404, &missing.body), "{method} {path}");
    }
    assert_eq!(tenant(&store, b).await.version, before.version, "the other tenant is unchanged");
    let all = crate::store::TenantStore::list_tenants(&*store, &PageRequest::first(10)).await.unwrap().items;
    assert_eq!(all.len(), 2, "no tenant was created");
    let theirs_after = crate::store::AccountStore::list_accounts(&*store, b, &PageRequest::first(10)).await.unwrap();
    assert_eq!(theirs_after.items[0].version, theirs[0].version, "the other tenant's account was not verified");
    assert!(!mine.is_empty());
}

#[tokio::test]
async fn a_post_from_another_origin_is_refused_on_every_new_form() {
    let (c, tenants, store) = admin_console(true, None).await;
    let t = &tenants[0];
    let account = crate::store::AccountStore::list_accounts(&*store, t, &PageRequest::first(10)).await.unwrap().items
        [0]
    .account_id
    .clone();
    let before = tenant(&store, t).await;
    for (path, body) in [
        (format!("/t/{t}/settings"), "unattached_volume_days=1"),
        (format!("/t/{t}/accounts/{account}/verify"), ""),
        ("/tenants/new".to_owned(), "name=Evil"),
    ] {
        for origin in ["http://evil.example", "http://127.0.0.1:9.evil.example", "null"] {
            let r = post_from(&c, &Session::Operator, &path, body, origin).await;
            assert_eq!(r.status, 403, "{path} from {origin}");
        }
    }
    assert_eq!(tenant(&store, t).await.version, before.version);
    assert_eq!(crate::store::TenantStore::list_tenants(&*store, &PageRequest::first(10)).await.unwrap().items.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn verify_again_runs_the_clis_verification_and_the_page_shows_the_result() {
    for (allow, status) in [(true, AccountStatus::Active), (false, AccountStatus::Revoked)] {
        let (c, tenants, store) = admin_console(allow, None).await;
        let t = &tenants[0];
        let account =
            crate::store::AccountStore::list_accounts(&*store, t, &PageRequest::first(10)).await.unwrap().items[0]
                .account_id
                .clone();
        let page = get(&c, &Session::Tenant(t.clone()), &format!("/t/{t}/accounts"), "").await;
        let action = format!("action=\"/t/{t}/accounts/{account}/verify\"");
        assert!(page.body.contains(&action), "a Verify again form per account");
        // A tenant's user verifies its own account; the operator any.
        for who in [Session::Tenant(t.clone()), Session::Operator] {
            let r = post(&c, &who, &format!("/t/{t}/accounts/{account}/verify"), "").await;
            let to = format!("/t/{t}/accounts?verified={account}");
            assert_eq!((r.status, header(&r, "location")), (303, Some(to.as_str())), "{}", r.body);
            let a = crate::store::AccountStore::get_account(&*store, t, &account).await.unwrap().unwrap();
            assert_eq!(a.status, status, "allow={allow}");
            let shown = get(&c, &who, &format!("/t/{t}/accounts"), &format!("verified={account}")).await;
            let notice = format!("Verified again: account {account} is {}.", status.as_str());
            assert!(shown.body.contains(&notice), "{}", shown.body);
        }
        for bad in ["000000000000", "12345", "..%2F..", "111122223333%00"] {
            let r = post(&c, &Session::Operator, &format!("/t/{t}/accounts/{bad}/verify"), "").await;
            assert!(matches!(r.status, 400 | 404), "{bad}: {}", r.status);
        }
        let r = post(&c, &Session::Operator, &format!("/t/{t}/accounts/{account}/verify/more"), "").await;
        assert_eq!(r.status, 404);
    }
}

#[tokio::test]
async fn without_sts_the_verify_button_is_disabled_and_says_why() {
    let (c, tenants, store) = admin_console(true, Some("the in-memory demo has no AWS STS")).await;
    let t = &tenants[0];
    let account =
        crate::store::AccountStore::list_accounts(&*store, t, &PageRequest::first(10)).await.unwrap().items[0].clone();
    let page = get(&c, &Session::Operator, &format!("/t/{t}/accounts"), "").await;
    assert!(page.body.contains("disabled aria-label=\"Verify again: account"));
    assert!(page.body.contains("Verify again is off in this console: the in-memory demo has no AWS STS."));
    let r = post(&c, &Session::Operator, &format!("/t/{t}/accounts/{}/verify", account.account_id), "").await;
    assert_eq!(r.status, 400);
    let after = crate::store::AccountStore::get_account(&*store, t, &account.account_id).await.unwrap().unwrap();
    assert_eq!(after.version, account.version, "nothing written");
}

#[tokio::test]
async fn ops_shows_the_queues_and_alarms_escaped_and_says_what_is_missing_when_unconfigured() {
    let (c, _, _) = admin_console(true, None).await;
    let r = get(&c, &Session::Operator, "/ops", "").await;
    assert_eq!(r.status, 200);
    for part in [
        "costradar-SchedulerDlq-1</td><td class=\"n\">3</td>",
        "costradar-OnboardingDlq-2</td><td class=\"n\">0</td>",
        "could not be read: AccessDenied",
        "1 of 1 alarms in ALARM.",
        "Threshold Crossed",
    ] {
        assert!(r.body.contains(part), "{part}");
    }
    assert!(!r.body.contains("<script>q") && !r.body.contains("<img src=x>"), "names are escaped");
    let (plain, _) = console().await;
    let r = get(&plain, &Session::Operator, "/ops", "").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("is not read by this console"));
    let plain = plain.with_health(Err(crate::health::HealthConfig::from_lookup(|_| None).unwrap_err()));
    let r = get(&plain, &Session::Operator, "/ops", "").await;
    assert!(r.body.contains("COSTRADAR_DLQ_NAMES is not set"), "{}", r.body);
}

#[tokio::test]
async fn the_operator_creates_a_tenant_and_sees_its_quick_create_link_once() {
    let (c, _, store) = admin_console(true, None).await;
    let form = get(&c, &Session::Operator, "/tenants/new", "").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("action=\"/tenants/new\""));
    let r = post(&c, &Session::Operator, "/tenants/new", "name=Initech+%3Cb%3EGmbH%3C%2Fb%3E").await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(header(&r, "cache-control"), Some("no-store"));
    assert!(header(&r, "set-cookie").is_none() && header(&r, "location").is_none(), "nothing of it in a cookie or URL");
    let all = crate::store::TenantStore::list_tenants(&*store, &PageRequest::first(10)).await.unwrap().items;
    let created = all.iter().find(|t| t.name == "Initech <b>GmbH</b>").expect("created through the use case");
    assert!(r.body.contains("Initech &lt;b&gt;GmbH&lt;/b&gt;"));
    assert!(r.body.contains(created.id.as_str()) && r.body.contains(created.external_id.as_str()));
    assert!(r.body.contains("cloudformation/home?region=us-east-1#/stacks/quickcreate?templateURL="));
    assert!(r.body.contains("not shown again"));
    for (body, field) in
        [("name=", "name"), ("name=++++", "name"), ("", "name"), (&*format!("name={}", "x".repeat(129)), "name")]
    {
        let r = post(&c, &Session::Operator, "/tenants/new", body).await;
        assert_eq!(r.status, 400, "{body}");
        assert!(r.body.contains(&format!("Nothing was saved. {field}:")), "{body}: {}", r.body);
    }
    let after = crate::store::TenantStore::list_tenants(&*store, &PageRequest::first(10)).await.unwrap().items;
    assert_eq!(after.len(), 3, "only the one good form created a tenant");
}

#[tokio::test]
async fn the_tenant_list_shows_each_tenants_account_health_and_the_runs_page_its_notes() {
    let (c, tenants, store) = admin_console(true, None).await;
    let t = &tenants[0];
    let account = crate::store::AccountStore::list_accounts(&*store, t, &PageRequest::first(10)).await.unwrap().items
        [0]
    .account_id
    .clone();
    let mut failed = AccountRun {
        tenant_id: t.clone(),
        account_id: account.clone(),
        status: ScanStatus::Partial,
        regions: vec![],
        findings_opened: 0,
        findings_resolved: 0,
        error: None,
        cur: None,
        notes: vec!["Trusted Advisor needs a Business Support plan <b>or higher</b>".into()],
    };
    failed.regions = vec![crate::domain::scan_run::RegionRun {
        region: "eu-west-1".into(),
        status: ScanStatus::Failed,
        api_calls: 1,
        errors: vec![],
        duration_ms: 10,
        findings_opened: 0,
        findings_resolved: 0,
    }];
    let run = RunRecord::new("run-notes-1", t, vec![failed], now() - chrono::Duration::hours(1));
    store.save_run(t, &run, now() + chrono::Duration::days(30)).await.unwrap();
    let list = get(&c, &Session::Operator, "/", "").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("1 <span class=\"status active\">active</span>"), "counts by status");
    assert!(list.body.contains("<td>1 region</td>"), "the failed region of the newest run");
    assert!(list.body.contains("href=\"/tenants/new\"") && list.body.contains("href=\"/ops\""));
    let runs = get(&c, &Session::Tenant(t.clone()), &format!("/t/{t}/runs"), "").await;
    assert!(runs.body.contains("<h3>Notes</h3>"));
    assert!(runs.body.contains("Trusted Advisor needs a Business Support plan &lt;b&gt;or higher&lt;/b&gt;"));
}
