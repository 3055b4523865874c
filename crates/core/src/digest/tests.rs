use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use serde_json::Value;

use super::*;
use crate::domain::finding::Finding;
use crate::domain::settings::DigestWeekday;
use crate::domain::*;
use crate::receiver::notify::NotifyError;
use crate::store::{AccountStore, Claim, FindingStore, MemoryStore, ResolveScope, TenantStore};

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:costradar-notify";
const HOOK: &str = "https://hooks.example.com/services/T/B/x";

fn at(y: i32, m: u32, d: u32, h: u32, min: u32, sec: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, sec).unwrap()
}

fn daily() -> DigestSettings {
    DigestSettings { frequency: DigestFrequency::Daily, ..DigestSettings::default() }
}

fn weekly(day: DigestWeekday) -> DigestSettings {
    DigestSettings { frequency: DigestFrequency::Weekly, weekday: day }
}

/// Records what it sends; fails for the targets it is told to.
#[derive(Default)]
struct Recorder {
    sent: Mutex<Vec<(Target, Value)>>,
    failing: Mutex<Vec<String>>,
}

#[async_trait]
impl Notifier for Recorder {
    async fn send(&self, target: &Target, payload: &Value) -> Result<(), NotifyError> {
        let name = match target {
            Target::Webhook { url } => url.clone(),
            other => other.name().to_owned(),
        };
        if self.failing.lock().unwrap().contains(&name) {
            return Err(NotifyError(format!("{name}: HTTP 500")));
        }
        self.sent.lock().unwrap().push((target.clone(), payload.clone()));
        Ok(())
    }
}

impl Recorder {
    fn count(&self) -> usize {
        self.sent.lock().unwrap().len()
    }
}

struct World {
    store: Arc<MemoryStore>,
    notifier: Arc<Recorder>,
    svc: DigestService,
    tenant: Tenant,
}

fn account() -> AccountId {
    AccountId::parse("123456789012").unwrap()
}

async fn world(settings: DigestSettings, cur: bool) -> World {
    let store = Arc::new(MemoryStore::new());
    let notifier = Arc::new(Recorder::default());
    let svc = DigestService::new(store.clone(), notifier.clone(), Some(TOPIC.into()));
    let mut tenant = Tenant::new(TenantId::generate(), "Acme <!channel>".into(), ExternalId::generate(), Utc::now());
    tenant.digest = settings;
    tenant.notify_webhook_url = Some(HOOK.into());
    store.save_tenant(&mut tenant).await.unwrap();
    let role = RoleArn::parse("arn:aws:iam::123456789012:role/CostradarReadOnly").unwrap();
    let cur = cur.then(|| CurSettings {
        bucket: "cur-bucket".into(),
        database: "cur".into(),
        table: "data".into(),
        workgroup: "costradar".into(),
    });
    let mut a = Account::new_pending(tenant.id.clone(), role, vec![], cur, Registration::Manual, Utc::now());
    store.save_account(&mut a, Claim::Acquire).await.unwrap();
    World { store, notifier, svc, tenant }
}

fn finding(w: &World, rule: &str, id: &str, usd: i64, seen: DateTime<Utc>) -> Finding {
    Finding {
        monthly_savings_usd: Some(Decimal::from(usd)),
        ..Finding::open(w.tenant.id.clone(), account(), "us-east-1", rule, id, format!("title of {id}"), seen)
    }
}

#[test]
fn daily_is_due_every_utc_day_for_the_day_before() {
    let p = due(&daily(), at(2026, 12, 7, 0, 0, 0)).unwrap();
    assert_eq!(p.id, "daily-2026-12-07");
    assert_eq!((p.from, p.to), (at(2026, 12, 6, 0, 0, 0), at(2026, 12, 7, 0, 0, 0)));
    // Any time of the same UTC day is the same period; the next second of the next day is not.
    assert_eq!(due(&daily(), at(2026, 12, 7, 23, 59, 59)).unwrap(), p);
    assert_eq!(due(&daily(), at(2026, 12, 8, 0, 0, 0)).unwrap().id, "daily-2026-12-08");
    assert!(p.contains(at(2026, 12, 6, 0, 0, 0)) && !p.contains(at(2026, 12, 7, 0, 0, 0)));
    assert_eq!(due(&DigestSettings::default(), at(2026, 12, 7, 8, 0, 0)), None, "off by default");
}

#[test]
fn weekly_is_due_on_its_weekday_only_for_the_seven_days_before() {
    // 2026-12-07 is a Monday.
    let monday = weekly(DigestWeekday::default());
    assert_eq!(due(&monday, at(2026, 12, 6, 23, 59, 59)), None, "Sunday night");
    let p = due(&monday, at(2026, 12, 7, 0, 0, 0)).unwrap();
    assert_eq!(
        (p.id.as_str(), p.from, p.to),
        ("weekly-2026-12-07", at(2026, 11, 30, 0, 0, 0), at(2026, 12, 7, 0, 0, 0))
    );
    assert_eq!(due(&monday, at(2026, 12, 8, 0, 0, 0)), None, "Tuesday");
    let friday = weekly(DigestWeekday::Friday);
    assert_eq!(due(&friday, at(2026, 12, 11, 12, 0, 0)).unwrap().id, "weekly-2026-12-11");
    assert_eq!(due(&friday, at(2026, 12, 7, 12, 0, 0)), None);
}

#[test]
fn settings_changes_are_validated_with_the_field_s_name() {
    let off = DigestSettings::default();
    let ch = |f: Option<Option<&str>>, w: Option<Option<&str>>| DigestSettings::changed(off, f, w);
    assert_eq!(ch(Some(Some("weekly")), Some(Some("friday"))).unwrap(), weekly(DigestWeekday::Friday));
    assert_eq!(ch(Some(Some("weekly")), None).unwrap(), weekly(DigestWeekday::Monday));
    assert_eq!(ch(Some(Some("daily")), None).unwrap(), daily());
    for (f, w, field) in [
        (Some(Some("hourly")), None, "digest"),
        (Some(Some("DAILY")), None, "digest"),
        (Some(Some("weekly")), Some(Some("Friday")), "digest_weekday"),
        (Some(Some("weekly")), Some(Some("funday")), "digest_weekday"),
        (Some(Some("daily")), Some(Some("friday")), "digest_weekday"),
        (None, Some(Some("friday")), "digest_weekday"),
    ] {
        assert_eq!(ch(f, w).unwrap_err().field, field, "{f:?} {w:?}");
    }
    // null resets; leaving weekly resets the weekday.
    let fri = weekly(DigestWeekday::Friday);
    assert_eq!(DigestSettings::changed(fri, Some(None), None).unwrap(), off);
    assert_eq!(DigestSettings::changed(fri, None, Some(None)).unwrap(), weekly(DigestWeekday::Monday));
    // A stored tenant without the field reads as off.
    let v: DigestSettings = serde_json::from_str("{}").unwrap();
    assert_eq!(v, off);
}

#[tokio::test]
async fn the_marker_sends_a_period_once_and_the_next_period_again() {
    let w = world(daily(), false).await;
    let now = at(2026, 12, 7, 7, 0, 0);
    w.store
        .upsert_findings(&w.tenant.id, &[finding(&w, "ebs.unattached-volume", "vol-1", 40, at(2026, 12, 6, 9, 0, 0))])
        .await
        .unwrap();
    let o = w.svc.send(&w.tenant, now).await.unwrap();
    assert_eq!(
        o,
        Outcome::Sent {
            period: "daily-2026-12-07".into(),
            delivered: vec!["sns".into(), "webhook".into()],
            failed: vec![]
        }
    );
    assert_eq!(w.notifier.count(), 2);
    // A second invocation the same day (a retry, a second schedule) sends nothing.
    let again = w.svc.send(&w.tenant, at(2026, 12, 7, 23, 0, 0)).await.unwrap();
    assert_eq!(again, Outcome::AlreadySent { period: "daily-2026-12-07".into() });
    assert_eq!(w.notifier.count(), 2);
    // The next day: a new period; the finding is no longer new but still among the largest.
    w.store
        .upsert_findings(&w.tenant.id, &[finding(&w, "ebs.unattached-volume", "vol-2", 5, at(2026, 12, 7, 9, 0, 0))])
        .await
        .unwrap();
    assert!(matches!(w.svc.send(&w.tenant, at(2026, 12, 8, 7, 0, 0)).await.unwrap(), Outcome::Sent { .. }));
    let sent = w.notifier.sent.lock().unwrap();
    let d = &sent[2].1["digest"];
    assert_eq!((d["new"]["findings"].as_u64(), d["new"]["monthly_savings_usd"].as_str()), (Some(1), Some("5.00")));
    assert_eq!(d["top_open"][0]["resource_id"], "vol-1");
}

#[tokio::test]
async fn nothing_to_say_is_not_sent_and_writes_no_marker() {
    let w = world(daily(), false).await;
    // An old open finding: in the top 5, but no news.
    w.store
        .upsert_findings(&w.tenant.id, &[finding(&w, "ebs.unattached-volume", "vol-1", 40, at(2026, 11, 1, 0, 0, 0))])
        .await
        .unwrap();
    let before = w.store.item_count();
    let o = w.svc.send(&w.tenant, at(2026, 12, 7, 7, 0, 0)).await.unwrap();
    assert_eq!(o, Outcome::NothingToSay { period: "daily-2026-12-07".into() });
    assert_eq!((w.notifier.count(), w.store.item_count()), (0, before));
    // Not due: nothing read, nothing sent.
    let off = Tenant { digest: DigestSettings::default(), ..w.tenant.clone() };
    assert_eq!(w.svc.send(&off, at(2026, 12, 7, 7, 0, 0)).await.unwrap(), Outcome::NotDue);
    let deleted = Tenant { status: TenantStatus::Deleted, ..w.tenant.clone() };
    assert_eq!(w.svc.send(&deleted, at(2026, 12, 7, 7, 0, 0)).await.unwrap(), Outcome::NotDue);
}

#[tokio::test]
async fn the_top_five_are_the_largest_savings_that_count_largest_first() {
    let w = world(daily(), false).await;
    let old = at(2026, 11, 1, 0, 0, 0);
    let mut fs: Vec<Finding> = [3, 70, 12, 55, 9, 81, 20]
        .iter()
        .enumerate()
        .map(|(i, usd)| finding(&w, "ebs.x", &format!("vol-{i}"), *usd, old))
        .collect();
    // Larger, but suppressed or included in another finding's saving: not listed.
    fs.push(Finding {
        status: FindingStatus::Suppressed,
        suppressed_by: Some("s".into()),
        ..finding(&w, "ebs.x", "vol-s", 900, old)
    });
    fs.push(Finding { savings_included_in: Some("ebs.x#vol-1".into()), ..finding(&w, "ebs.y", "vol-1", 800, old) });
    w.store.upsert_findings(&w.tenant.id, &fs).await.unwrap();
    let period = due(&daily(), at(2026, 12, 7, 7, 0, 0)).unwrap();
    let d = w.svc.build(&w.tenant, &period).await.unwrap();
    let top: Vec<i64> = d.top_open.iter().map(|f| f.monthly_savings_usd.unwrap().try_into().unwrap()).collect();
    assert_eq!(top, [81, 70, 55, 20, 12]);
    assert!(d.text().contains("1. $81.00/month: title of vol-5 vol-5 (123456789012, us-east-1)"), "{}", d.text());
}

#[tokio::test]
async fn realised_counts_the_period_s_fixes_once() {
    let w = world(daily(), false).await;
    let resolve = |when: DateTime<Utc>, rule: &'static str| {
        let store = w.store.clone();
        let tenant = w.tenant.id.clone();
        async move {
            let acc = account();
            let prefixes = [rule];
            let scope =
                ResolveScope { account_id: &acc, region: "us-east-1", rule_prefixes: &prefixes, seen_before: when };
            store.resolve_unseen(&tenant, &scope, when).await.unwrap();
        }
    };
    let old = at(2026, 11, 1, 0, 0, 0);
    // Realised the day before the period: not in it.
    w.store.upsert_findings(&w.tenant.id, &[finding(&w, "ec2.idle", "i-early", 100, old)]).await.unwrap();
    resolve(at(2026, 12, 5, 23, 59, 59), "ec2.").await;
    // One volume resolved under two rules in the period: one fix, at the largest.
    w.store
        .upsert_findings(
            &w.tenant.id,
            &[finding(&w, "ebs.gp2-to-gp3", "vol-1", 2, old), finding(&w, "cur.gp2-volume", "vol-1", 10, old)],
        )
        .await
        .unwrap();
    resolve(at(2026, 12, 6, 3, 0, 0), "ebs.").await;
    resolve(at(2026, 12, 6, 4, 0, 0), "cur.").await;
    // Another volume with the same saving: its own fix.
    w.store.upsert_findings(&w.tenant.id, &[finding(&w, "ebs.unattached-volume", "vol-2", 10, old)]).await.unwrap();
    resolve(at(2026, 12, 6, 23, 59, 59), "ebs.").await;
    // At the period's end: the next period's.
    w.store.upsert_findings(&w.tenant.id, &[finding(&w, "ec2.idle", "i-late", 100, old)]).await.unwrap();
    resolve(at(2026, 12, 7, 0, 0, 0), "ec2.").await;
    let period = due(&daily(), at(2026, 12, 7, 7, 0, 0)).unwrap();
    let d = w.svc.build(&w.tenant, &period).await.unwrap();
    assert_eq!((d.realised_fixes, d.realised_usd), (2, Decimal::from(20)));
    assert!(d.has_news());
    assert!(d.text().contains("Realised: 2 fixes, $20.00/month"), "{}", d.text());
}

#[tokio::test]
async fn anomalies_come_from_the_cur_or_the_digest_says_there_is_no_cur_analysis() {
    let w = world(daily(), false).await;
    let period = due(&daily(), at(2026, 12, 7, 7, 0, 0)).unwrap();
    let d = w.svc.build(&w.tenant, &period).await.unwrap();
    assert_eq!(d.anomalies, None);
    assert!(d.text().ends_with("Anomalies: no CUR analysis (no account has a CUR export connected)"), "{}", d.text());
    assert!(d.json()["anomalies_note"].as_str().unwrap().starts_with("no CUR analysis"));
    let w = world(daily(), true).await;
    let spike = Finding {
        monthly_cost_usd: Some(Decimal::from(1234)),
        monthly_savings_usd: None,
        ..finding(&w, crate::cur::tasks::ANOMALY_RULE, "AmazonEC2", 0, at(2026, 12, 6, 10, 0, 0))
    };
    w.store.upsert_findings(&w.tenant.id, &[spike]).await.unwrap();
    let d = w.svc.build(&w.tenant, &period).await.unwrap();
    assert_eq!((d.anomaly_count, d.anomalies.as_ref().map(Vec::len)), (1, Some(1)));
    assert!(
        d.text().contains("Anomalies: 1\n- title of AmazonEC2 AmazonEC2 (123456789012, us-east-1) ($1,234.00/month)"),
        "{}",
        d.text()
    );
    assert!(d.has_news(), "an anomaly alone is news");
}

#[tokio::test]
async fn an_undelivered_digest_gives_its_marker_back_and_a_partial_one_keeps_it() {
    let w = world(daily(), false).await;
    w.store.upsert_findings(&w.tenant.id, &[finding(&w, "ebs.x", "vol-1", 4, at(2026, 12, 6, 9, 0, 0))]).await.unwrap();
    *w.notifier.failing.lock().unwrap() = vec!["sns".into(), HOOK.into()];
    let now = at(2026, 12, 7, 7, 0, 0);
    let e = w.svc.send(&w.tenant, now).await.unwrap_err();
    assert_eq!(e.to_string(), "the digest reached no target: sns, webhook", "no URL in the error");
    // The retry sends; the webhook still fails: sent, with the failure said, and kept.
    *w.notifier.failing.lock().unwrap() = vec![HOOK.into()];
    let o = w.svc.send(&w.tenant, now).await.unwrap();
    assert_eq!(
        o,
        Outcome::Sent {
            period: "daily-2026-12-07".into(),
            delivered: vec!["sns".into()],
            failed: vec!["webhook".into()]
        }
    );
    *w.notifier.failing.lock().unwrap() = vec![];
    assert_eq!(w.svc.send(&w.tenant, now).await.unwrap(), Outcome::AlreadySent { period: "daily-2026-12-07".into() });
    assert_eq!(w.notifier.count(), 1, "SNS got it once");
}

#[tokio::test]
async fn one_tenant_s_failure_never_stops_the_others() {
    let w = world(daily(), false).await;
    let now = at(2026, 12, 7, 7, 0, 0);
    let new = |t: &Tenant| Finding {
        monthly_savings_usd: Some(Decimal::from(3)),
        ..Finding::open(t.id.clone(), account(), "us-east-1", "ebs.x", "vol-1", "t", at(2026, 12, 6, 9, 0, 0))
    };
    let svc = DigestService::new(w.store.clone(), w.notifier.clone(), None);
    let mut names = vec![];
    for (i, hook) in
        ["https://a.example.com/x", "https://broken.example.com/x", "https://c.example.com/x"].iter().enumerate()
    {
        let mut t = Tenant::new(TenantId::generate(), format!("t{i}"), ExternalId::generate(), now);
        t.digest = daily();
        t.notify_webhook_url = Some((*hook).into());
        w.store.save_tenant(&mut t).await.unwrap();
        w.store.upsert_findings(&t.id, &[new(&t)]).await.unwrap();
        names.push(t);
    }
    w.notifier.failing.lock().unwrap().push("https://broken.example.com/x".into());
    let run = svc.run_all(now).await.unwrap();
    assert_eq!((run.tenants, run.sent, run.failed, run.nothing_to_say), (4, 2, 1, 1), "{run:?}");
    assert!(!run.not_reached);
    let again = svc.run_all(now).await.unwrap();
    assert_eq!((again.sent, again.already_sent, again.failed), (0, 2, 1));
}

#[test]
fn the_text_escapes_what_customers_name_and_formats_money_as_the_console() {
    let tenant = TenantId::generate();
    let f = Finding {
        monthly_savings_usd: Some(Decimal::from(1_234_567)),
        ..Finding::open(tenant.clone(), account(), "us-east-1", "ebs.x", "<!channel> & vol", "t <b>", Utc::now())
    };
    let d = Digest {
        tenant_id: tenant,
        tenant_name: "Acme <!here>".into(),
        period: due(&weekly(DigestWeekday::Monday), at(2026, 12, 7, 0, 0, 0)).unwrap(),
        new_findings: 1,
        new_complete: false,
        new_savings_usd: Decimal::from(1_234_567),
        realised_fixes: 1,
        realised_usd: "0.5".parse().unwrap(),
        top_open: vec![f],
        anomalies: Some(vec![]),
        anomaly_count: 0,
    };
    let t = d.text();
    assert!(t.starts_with("costradar weekly digest for Acme &lt;!here&gt; (2026-11-30 to 2026-12-06)\n"), "{t}");
    assert!(t.contains("New: at least 1 open finding, $1,234,567.00/month of savings"), "{t}");
    assert!(t.contains("Realised: 1 fix, $0.50/month"), "{t}");
    assert!(t.contains("1. $1,234,567.00/month: t &lt;b&gt; &lt;!channel&gt; &amp; vol"), "{t}");
    assert!(!t.contains("<!"), "{t}");
    assert!(t.ends_with("Anomalies: none"));
    let v = d.payload();
    assert_eq!(v["text"], t);
    assert_eq!(v["digest"]["new"]["monthly_savings_usd"], "1234567.00");
    assert_eq!(v["digest"]["top_open"][0]["resource_id"], "<!channel> & vol", "the JSON keeps the raw value");
    // A huge title is clipped in the text.
    let long = Finding { title: "x".repeat(10_000), ..d.top_open[0].clone() };
    let d2 = Digest { top_open: vec![long], ..d };
    assert!(d2.text().len() < 1_000);
}
