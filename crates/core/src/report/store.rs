//! Where CUR reports are kept: the [`ReportStore`] port. Each analysis stores `report.json` and
//! `report.html` under `reports/<tenant>/<report id>/` ([`object_key`], the one place a key is
//! built, from a validated [`TenantId`] and [`ReportId`], so no input can leave the tenant's
//! prefix). Each object is tagged [`RETENTION_TAG`]`=<days>` with the tenant's retention; the
//! bucket's lifecycle rules, one per allowed value, expire it (infra/template.yaml). Readers get
//! a tenant's reports newest first and short-lived presigned links ([`LINK_TTL`]).
//!
//! Production adapter: `costradar_aws::reports::S3Reports`; double: [`MemoryReports`].

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};

use crate::cur::queries::YearMonth;
use crate::domain::settings::ReportRetention;
use crate::domain::{AccountId, InvalidInput, TenantId};
use crate::store::{Page, StoreError};

/// The object tag that carries a report's retention in days (`7`, `30`, `90` or `365`).
pub const RETENTION_TAG: &str = "retention-days";
/// How long a presigned link works: 5 minutes.
pub const LINK_TTL: Duration = Duration::from_secs(300);
/// At most this many reports a page; 10 by default.
pub const MAX_LIST: u32 = 50;
pub const DEFAULT_LIST: u32 = 10;

/// The newest time a [`ReportId`] can say (its first part counts down from it).
const MAX_SECS: i64 = 9_999_999_999;

/// One of a report's two files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReportFile {
    Json,
    Html,
}

impl ReportFile {
    pub const ALL: [ReportFile; 2] = [ReportFile::Json, ReportFile::Html];

    pub fn name(self) -> &'static str {
        match self {
            Self::Json => "report.json",
            Self::Html => "report.html",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Html => "text/html; charset=utf-8",
        }
    }
}

/// A report of a tenant: `<countdown>-<from>-<to>[-<account>]`, e.g.
/// `8234567890-202501-202502-111122223333`. The countdown is [`MAX_SECS`] minus the creation
/// time in Unix seconds, ten digits, so that keys sort newest first (S3 lists keys in ascending
/// order); `from` and `to` are the billing periods (`YYYYMM`); the account is the analysed one
/// (absent for a local analysis). Parsing accepts exactly this shape, nothing else.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReportId(String);

impl ReportId {
    pub fn new(created: DateTime<Utc>, from: YearMonth, to: YearMonth, account: Option<&AccountId>) -> Self {
        let countdown = MAX_SECS - created.timestamp().clamp(0, MAX_SECS);
        let mut id = format!("{countdown:010}-{:04}{:02}-{:04}{:02}", from.year, from.month, to.year, to.month);
        if let Some(a) = account {
            id.push('-');
            id.push_str(a.as_str());
        }
        Self(id)
    }

    pub fn parse(s: &str) -> Result<Self, InvalidInput> {
        let bad = || InvalidInput::new("report", "a report id as the reports list gives it");
        let parts: Vec<&str> = s.split('-').collect();
        let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
        let month = |p: &str| digits(p, 6) && matches!(p[4..].parse::<u32>(), Ok(1..=12));
        let ok = match parts.as_slice() {
            [c, f, t] => digits(c, 10) && month(f) && month(t),
            [c, f, t, a] => digits(c, 10) && month(f) && month(t) && digits(a, 12),
            _ => false,
        };
        ok.then(|| Self(s.to_owned())).ok_or_else(bad)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn created_at(&self) -> DateTime<Utc> {
        let countdown: i64 = self.0[..10].parse().expect("checked");
        Utc.timestamp_opt(MAX_SECS - countdown, 0).single().expect("in range")
    }

    /// The billing periods, `YYYY-MM`.
    pub fn period(&self) -> (String, String) {
        let ym = |p: &str| format!("{}-{}", &p[..4], &p[4..]);
        (ym(&self.0[11..17]), ym(&self.0[18..24]))
    }

    pub fn account(&self) -> Option<&str> {
        self.0.get(25..)
    }
}

impl std::fmt::Display for ReportId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `reports/<tenant>/`: everything of one tenant, and nothing of another (a tenant id has a
/// fixed length, so no tenant's prefix is the start of another's).
pub fn tenant_prefix(tenant: &TenantId) -> String {
    format!("reports/{}/", tenant.as_str())
}

/// The one place an object key is built.
pub fn object_key(tenant: &TenantId, id: &ReportId, file: ReportFile) -> String {
    format!("{}{}/{}", tenant_prefix(tenant), id.as_str(), file.name())
}

/// The report a key (or a listing's common prefix `reports/<tenant>/<id>/`) of `tenant` is
/// about; `None` for a key of another shape or another tenant.
pub fn id_of_key(tenant: &TenantId, key: &str) -> Option<ReportId> {
    let rest = key.strip_prefix(&tenant_prefix(tenant))?;
    let id = rest.split('/').next()?;
    ReportId::parse(id).ok()
}

/// A report's two files, as the analysis rendered them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportBody {
    pub json: String,
    pub html: String,
}

impl ReportBody {
    pub fn of(report: &super::Report) -> Self {
        Self {
            json: serde_json::to_string_pretty(report).expect("a report serialises"),
            html: super::render_html(report),
        }
    }

    pub fn file(&self, file: ReportFile) -> &str {
        match file {
            ReportFile::Json => &self.json,
            ReportFile::Html => &self.html,
        }
    }
}

/// A presigned GET link and when it stops working.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// A page of a tenant's reports: at most `limit` ([`MAX_LIST`]) after the report `after`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportPage {
    pub limit: u32,
    pub after: Option<ReportId>,
}

impl ReportPage {
    /// From a query's `limit` and `cursor` (a report id the list gave).
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Self, InvalidInput> {
        let limit = match limit {
            None => DEFAULT_LIST,
            Some(l) => match l.parse::<u32>() {
                Ok(n @ 1..=MAX_LIST) => n,
                _ => return Err(InvalidInput::new("limit", format!("between 1 and {MAX_LIST}"))),
            },
        };
        let after = cursor
            .map(ReportId::parse)
            .transpose()
            .map_err(|_| InvalidInput::new("cursor", "not a cursor this API returned"))?;
        Ok(Self { limit, after })
    }
}

#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Writes both files, each tagged [`RETENTION_TAG`] with `retention`'s days.
    async fn put(
        &self,
        tenant: &TenantId,
        id: &ReportId,
        body: &ReportBody,
        retention: ReportRetention,
    ) -> Result<(), StoreError>;
    /// The tenant's reports, newest first; `next_cursor` (the last id) when the page is full.
    async fn list(&self, tenant: &TenantId, page: &ReportPage) -> Result<Page<ReportId>, StoreError>;
    /// One file's text; `None` when there is no such report.
    async fn get(&self, tenant: &TenantId, id: &ReportId, file: ReportFile) -> Result<Option<String>, StoreError>;
    /// A GET link to one file, valid `ttl` from `now`.
    async fn link(
        &self,
        tenant: &TenantId,
        id: &ReportId,
        file: ReportFile,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<Link, StoreError>;
}

/// The in-memory double, also the console's store for local runs (`console serve --report`).
#[derive(Debug, Default)]
pub struct MemoryReports {
    /// Object key → (text, retention tag).
    objects: Mutex<BTreeMap<String, (String, String)>>,
}

impl MemoryReports {
    pub fn insert(&self, tenant: &TenantId, id: &ReportId, body: &ReportBody, retention: ReportRetention) {
        let mut objects = self.objects.lock().expect("not poisoned");
        for file in ReportFile::ALL {
            let tag = retention.days().to_string();
            objects.insert(object_key(tenant, id, file), (body.file(file).to_owned(), tag));
        }
    }

    /// The retention tag of an object, as written.
    pub fn tag(&self, tenant: &TenantId, id: &ReportId, file: ReportFile) -> Option<String> {
        self.objects.lock().expect("not poisoned").get(&object_key(tenant, id, file)).map(|(_, t)| t.clone())
    }

    /// Every object key, for tests.
    pub fn keys(&self) -> Vec<String> {
        self.objects.lock().expect("not poisoned").keys().cloned().collect()
    }
}

#[async_trait]
impl ReportStore for MemoryReports {
    async fn put(&self, t: &TenantId, id: &ReportId, body: &ReportBody, r: ReportRetention) -> Result<(), StoreError> {
        self.insert(t, id, body, r);
        Ok(())
    }

    async fn list(&self, tenant: &TenantId, page: &ReportPage) -> Result<Page<ReportId>, StoreError> {
        let objects = self.objects.lock().expect("not poisoned");
        let mut ids: Vec<ReportId> = objects.keys().filter_map(|k| id_of_key(tenant, k)).collect();
        ids.dedup();
        let items: Vec<ReportId> = (ids.into_iter())
            .filter(|id| page.after.as_ref().is_none_or(|a| id > a))
            .take(page.limit as usize)
            .collect();
        let next_cursor = (items.len() == page.limit as usize).then(|| items.last().map(ToString::to_string)).flatten();
        Ok(Page { items, next_cursor })
    }

    async fn get(&self, tenant: &TenantId, id: &ReportId, file: ReportFile) -> Result<Option<String>, StoreError> {
        Ok(self.objects.lock().expect("not poisoned").get(&object_key(tenant, id, file)).map(|(text, _)| text.clone()))
    }

    async fn link(
        &self,
        tenant: &TenantId,
        id: &ReportId,
        file: ReportFile,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<Link, StoreError> {
        let expires_at = now + chrono::Duration::from_std(ttl).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let url = format!("memory:///{}?expires={}", object_key(tenant, id, file), expires_at.timestamp());
        Ok(Link { url, expires_at })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn tenant(c: char) -> TenantId {
        TenantId::parse(&format!("t-{}", c.to_string().repeat(16))).unwrap()
    }

    fn ym(year: i32, month: u32) -> YearMonth {
        YearMonth { year, month }
    }

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).unwrap()
    }

    fn body(n: u32) -> ReportBody {
        ReportBody { json: format!("{{\"n\": {n}}}"), html: format!("<h1>{n}</h1>") }
    }

    #[test]
    fn an_id_says_when_for_which_periods_and_account_and_sorts_newest_first() {
        let account = AccountId::parse("111122223333").unwrap();
        let old = ReportId::new(at(1_700_000_000), ym(2025, 1), ym(2025, 2), Some(&account));
        let new = ReportId::new(at(1_700_000_060), ym(2025, 2), ym(2025, 3), None);
        assert_eq!(old.as_str(), "8299999999-202501-202502-111122223333");
        assert_eq!(new.as_str(), "8299999939-202502-202503");
        assert!(new < old, "newer sorts first");
        assert_eq!(old.created_at(), at(1_700_000_000));
        assert_eq!(old.period(), ("2025-01".to_owned(), "2025-02".to_owned()));
        assert_eq!((old.account(), new.account()), (Some("111122223333"), None));
        assert_eq!(ReportId::parse(old.as_str()).unwrap(), old);
        assert_eq!(ReportId::parse(new.as_str()).unwrap(), new);
    }

    #[test]
    fn hostile_ids_are_refused_and_keys_stay_under_the_tenant_prefix() {
        for bad in [
            "",
            "..",
            "../t-bbbbbbbbbbbbbbbb/8299999999-202501-202502",
            "8299999999-202501-202502/../../x",
            "8299999999-202501-202502-111122223333-1",
            "8299999999-202513-202502",
            "8299999999-202501-202500",
            "829999999-202501-202502",
            "8299999999-202501-202502-11112222333a",
            "8299999999-202501-202502%2F..",
            "８299999999-202501-202502",
            "8299999999-202501-202502\n",
            &"9".repeat(10_000),
        ] {
            let e = ReportId::parse(bad).unwrap_err();
            assert_eq!(e.field, "report", "{bad:?}");
        }
        let (a, b) = (tenant('a'), tenant('b'));
        let id = ReportId::parse("8299999999-202501-202502").unwrap();
        assert_eq!(
            object_key(&a, &id, ReportFile::Html),
            "reports/t-aaaaaaaaaaaaaaaa/8299999999-202501-202502/report.html"
        );
        assert_eq!(id_of_key(&a, &object_key(&a, &id, ReportFile::Json)), Some(id.clone()));
        assert_eq!(id_of_key(&b, &object_key(&a, &id, ReportFile::Json)), None, "another tenant's key");
        assert_eq!(id_of_key(&a, "reports/t-aaaaaaaaaaaaaaaa/../x/report.json"), None);
    }

    #[test]
    fn a_page_query_is_checked() {
        assert_eq!(ReportPage::parse(None, None).unwrap(), ReportPage { limit: DEFAULT_LIST, after: None });
        for (limit, cursor, field) in [
            (Some("0"), None, "limit"),
            (Some("51"), None, "limit"),
            (Some("-1"), None, "limit"),
            (Some("ten"), None, "limit"),
            (Some(""), None, "limit"),
            (None, Some("../x"), "cursor"),
            (None, Some(""), "cursor"),
        ] {
            assert_eq!(ReportPage::parse(limit, cursor).unwrap_err().field, field, "{limit:?} {cursor:?}");
        }
    }

    #[tokio::test]
    async fn the_double_lists_newest_first_across_pages_and_keeps_tenants_apart() {
        let (a, b) = (tenant('a'), tenant('b'));
        let store = MemoryReports::default();
        let ids: Vec<ReportId> =
            (0..5).map(|i| ReportId::new(at(1_700_000_000 + i * 3600), ym(2025, 1), ym(2025, 2), None)).collect();
        let thirty = ReportRetention::parse(30).unwrap();
        for (i, id) in ids.iter().enumerate() {
            store.put(&a, id, &body(i as u32), thirty).await.unwrap();
        }
        store.put(&b, &ids[0], &body(99), ReportRetention::default()).await.unwrap();
        let mut seen = Vec::new();
        let mut page = ReportPage { limit: 2, after: None };
        loop {
            let p = store.list(&a, &page).await.unwrap();
            seen.extend(p.items);
            match p.next_cursor {
                Some(c) => page.after = Some(ReportId::parse(&c).unwrap()),
                None => break,
            }
        }
        let newest_first: Vec<ReportId> = ids.iter().rev().cloned().collect();
        assert_eq!(seen, newest_first);
        assert_eq!(store.get(&a, &ids[4], ReportFile::Html).await.unwrap().as_deref(), Some("<h1>4</h1>"));
        assert_eq!(store.get(&b, &ids[0], ReportFile::Json).await.unwrap().as_deref(), Some("{\"n\": 99}"));
        assert_eq!(store.get(&b, &ids[1], ReportFile::Json).await.unwrap(), None, "a's report is not b's");
        assert_eq!(store.tag(&a, &ids[0], ReportFile::Json).as_deref(), Some("30"));
        assert_eq!(store.tag(&b, &ids[0], ReportFile::Html).as_deref(), Some("7"));
        let link = store.link(&a, &ids[0], ReportFile::Json, at(1_800_000_000), LINK_TTL).await.unwrap();
        assert_eq!(link.expires_at, at(1_800_000_300));
    }

    /// Athena in the customer's account answering every query at once with no rows.
    struct EmptyAthena;

    #[async_trait]
    impl crate::cur::engine::QueryExecutions for EmptyAthena {
        async fn start(&self, _: &crate::cur::engine::QueryRequest, _: &str) -> Result<String, QueryError> {
            Ok("q-1".into())
        }
        async fn status(&self, _: &str) -> Result<crate::cur::engine::QueryStatus, QueryError> {
            Ok(crate::cur::engine::QueryStatus { state: crate::cur::engine::QueryState::Succeeded, bytes_scanned: 0 })
        }
        async fn stop(&self, _: &str) -> Result<(), QueryError> {
            Ok(())
        }
        async fn results(&self, _: &str) -> Result<crate::cur::engine::ResultSet, QueryError> {
            Ok(Default::default())
        }
    }

    #[async_trait]
    impl crate::cur::tasks::AthenaConnector for EmptyAthena {
        async fn connect(
            &self,
            _: &crate::domain::Tenant,
            _: &crate::domain::Account,
        ) -> Result<Box<dyn crate::cur::engine::QueryExecutions>, crate::workflow::TaskError> {
            Ok(Box::new(EmptyAthena))
        }
    }

    use crate::cur::engine::QueryError;

    struct Fixed(DateTime<Utc>);

    impl crate::domain::Clock for Fixed {
        fn now(&self) -> DateTime<Utc> {
            self.0
        }
    }

    #[tokio::test]
    async fn fetch_and_analyse_keeps_both_files_tagged_with_the_tenants_retention() {
        use crate::cur::tasks::{CurTask, CurTasks};
        use crate::domain::{Account, AccountStatus, CurSettings, ExternalId, Registration, RoleArn, Tenant};
        use crate::store::{AccountStore, Claim, MemoryStore, TenantStore};
        let now = at(1_750_000_000);
        let store = Arc::new(MemoryStore::default());
        let mut tenant = Tenant::new(tenant('a'), "Acme".into(), ExternalId::generate(), now);
        tenant.report_retention_days = ReportRetention::parse(90).unwrap();
        store.save_tenant(&mut tenant).await.unwrap();
        let role = RoleArn::parse("arn:aws:iam::111122223333:role/CostradarReadOnly").unwrap();
        let cur = CurSettings {
            bucket: "acme-cur".into(),
            database: "costradar_cur".into(),
            table: "cur_export".into(),
            workgroup: "costradar".into(),
        };
        let mut account = Account::new_pending(
            tenant.id.clone(),
            role,
            vec!["us-east-1".into()],
            Some(cur),
            Registration::Manual,
            now,
        );
        account.transition(AccountStatus::Active, "verified", now).unwrap();
        store.save_account(&mut account, Claim::Acquire).await.unwrap();
        let reports = Arc::new(MemoryReports::default());
        let tasks = CurTasks {
            store,
            athena: Arc::new(EmptyAthena),
            clock: Arc::new(Fixed(now)),
            options: Default::default(),
            reports: Some(reports.clone()),
        };
        let ids = serde_json::json!({"run_id": "run-1", "tenant_id": tenant.id.as_str(), "account_id": "111122223333",
            "from": "2025-01", "to": "2025-02"});
        let mut start = ids.clone();
        start["task"] = "start".into();
        let started = tasks.handle(&start).await.unwrap();
        let mut fetch = started.clone();
        fetch["task"] = "fetch_and_analyse".into();
        fetch["state"] = "SUCCEEDED".into();
        for k in ["from", "to"] {
            fetch.as_object_mut().unwrap().remove(k);
        }
        assert!(matches!(CurTask::parse(&fetch), Ok(CurTask::FetchAndAnalyse(_))), "{fetch}");
        let analysed = tasks.handle(&fetch).await.unwrap();

        let id =
            ReportId::new(now, YearMonth { year: 2025, month: 1 }, YearMonth { year: 2025, month: 2 }, account_of());
        assert_eq!(analysed["report"], object_key(&tenant.id, &id, ReportFile::Json), "{analysed}");
        let mut keys = reports.keys();
        keys.sort();
        assert_eq!(
            keys,
            vec![object_key(&tenant.id, &id, ReportFile::Html), object_key(&tenant.id, &id, ReportFile::Json)]
        );
        let json: serde_json::Value =
            serde_json::from_str(&reports.get(&tenant.id, &id, ReportFile::Json).await.unwrap().unwrap()).unwrap();
        assert_eq!(
            (json["period"]["from"].as_str(), json["period"]["to"].as_str()),
            (Some("2025-01"), Some("2025-02"))
        );
        let html = reports.get(&tenant.id, &id, ReportFile::Html).await.unwrap().unwrap();
        assert!(html.starts_with("<!DOCTYPE html>") || html.starts_with("<!doctype html>"), "{}", &html[..40]);
        for file in ReportFile::ALL {
            assert_eq!(reports.tag(&tenant.id, &id, file).as_deref(), Some("90"));
        }
        assert!(analysed.to_string().len() < 1024, "nothing large in the state: {analysed}");
    }

    fn account_of() -> Option<&'static AccountId> {
        static A: std::sync::OnceLock<AccountId> = std::sync::OnceLock::new();
        Some(A.get_or_init(|| AccountId::parse("111122223333").unwrap()))
    }
}
