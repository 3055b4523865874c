//! The `cur-query` Step Functions tasks for one tenant account (contract: docs/workflows.md):
//! `start` the library's queries in the customer's Athena workgroup, `poll` them (the state
//! machine waits between polls), `stop` them on timeout, and `fetch_and_analyse`: results to the
//! analysis, anomalies and waste to the findings store, effective rates to the pricing port, the
//! realised savings checked against the bill (`super::confirm`) to the savings ledger.
//! Only aggregates leave the customer's account (the confirmation: daily cost per resource).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Datelike, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::analysis::{AnalysisOptions, CurAnalysis, CurFinding};
use super::anomaly::{Anomaly, AnomalyKind};
use super::confirm;
use super::engine::{query_cost_usd, request_token, QueryError, QueryExecutions, QueryState};
use super::queries::{Library, PeriodRange, Query, Schema, YearMonth};
use super::rates::rate_table;
use crate::domain::finding::{Confidence, Finding};
use crate::domain::money::usd;
use crate::domain::{Account, AccountId, AccountStatus, Clock, Tenant, TenantId};
use crate::store::{AccountStore, FindingStore, RateScope, RateStore, ResolveScope, TenantStore, TriageStore};
use crate::workflow::{parse_task, traced, TaskError};

/// Everything the tasks need from the store (the savings ledger's entries included: the
/// analysis checks realised savings against the bill, `super::confirm`).
pub trait CurStore: TenantStore + AccountStore + FindingStore + RateStore + TriageStore {}
impl<T: TenantStore + AccountStore + FindingStore + RateStore + TriageStore> CurStore for T {}

/// Opens Athena in a customer's account: assume the role (ExternalId, the cur-query session
/// policy), then an Athena client in the workgroup their stack created (the production
/// connector is `costradar_aws::athena::AssumedAthena`).
#[async_trait]
pub trait AthenaConnector: Send + Sync {
    async fn connect(&self, tenant: &Tenant, account: &Account) -> Result<Box<dyn QueryExecutions>, TaskError>;
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartInput {
    pub run_id: String,
    pub tenant_id: TenantId,
    pub account_id: AccountId,
    /// Billing periods; default: last month and this one.
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartedQuery {
    pub name: String,
    pub query_execution_id: String,
    /// The billing periods the query covers. Carried in each query because the state machine
    /// passes `queries` from task to task and nothing else of the start output.
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
}

/// The start task's output, which poll, stop and fetch_and_analyse take back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Started {
    pub run_id: String,
    pub tenant_id: TenantId,
    pub account_id: AccountId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Empty when the account has no CUR settings: nothing to poll or fetch.
    pub queries: Vec<StartedQuery>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<QueryState>,
}

/// The cur-query function's input (`docs/workflows.md`): a JSON object whose `task` names the
/// task, beside that task's fields. Unknown fields are refused: [`StartInput`] and [`Started`]
/// deny them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum CurTask {
    Start(#[serde(deserialize_with = "traced")] StartInput),
    Poll(#[serde(deserialize_with = "traced")] Started),
    Stop(#[serde(deserialize_with = "traced")] Started),
    FetchAndAnalyse(#[serde(deserialize_with = "traced")] Started),
}

impl CurTask {
    /// Parses a task payload; an error is `InvalidInput` naming the field at fault.
    pub fn parse(payload: &serde_json::Value) -> Result<Self, TaskError> {
        parse_task(payload)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stopped {
    pub stopped: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Analysed {
    pub run_id: String,
    pub tenant_id: TenantId,
    pub account_id: AccountId,
    pub anomalies: usize,
    pub findings: usize,
    pub findings_opened: usize,
    pub findings_resolved: usize,
    pub rates: usize,
    /// Realised savings of the account checked against the bill by this analysis.
    pub confirmations: confirm::Summary,
    pub bytes_scanned: u64,
    /// What our own queries cost the customer in Athena ($5/TB, 10 MB minimum per query).
    pub query_cost_usd: String,
    /// The object key of the analysis's `report.json` (`report.html` beside it), when kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
}

/// Rules the CUR analysis owns: a complete fetch resolves those it did not see again.
pub const WASTE_RULES: &[&str] = &[
    "cur.idle-elastic-ip",
    "cur.idle-public-ipv4",
    "cur.gp2-volume",
    "cur.snapshot-storage",
    "cur.idle-nat-gateway",
    "cur.previous-generation",
];
pub const ANOMALY_RULE: &str = "cur.anomaly";

pub struct CurTasks<S: CurStore> {
    pub store: Arc<S>,
    pub athena: Arc<dyn AthenaConnector>,
    pub clock: Arc<dyn Clock>,
    pub options: AnalysisOptions,
    /// Where `fetch_and_analyse` writes each analysis's `report.json` and `report.html` (the
    /// stack's reports bucket); `None`: no report is kept.
    pub reports: Option<Arc<dyn crate::report::store::ReportStore>>,
}

fn query_error(e: QueryError) -> TaskError {
    match e {
        QueryError::Transient(m) => TaskError::Transient(m),
        QueryError::Failed(m) | QueryError::InvalidData(m) => TaskError::QueryFailed(m),
    }
}

fn invalid(field: &str, e: impl std::fmt::Display) -> TaskError {
    TaskError::InvalidInput(format!("{field}: {e}"))
}

impl<S: CurStore> CurTasks<S> {
    /// Runs the task the payload names ([`CurTask`]). Unknown tasks and fields are `InvalidInput`.
    pub async fn handle(&self, payload: &serde_json::Value) -> Result<serde_json::Value, TaskError> {
        let out = match CurTask::parse(payload)? {
            CurTask::Start(input) => serde_json::to_value(self.start(&input).await?),
            CurTask::Poll(s) => serde_json::to_value(self.poll(&s).await?),
            CurTask::Stop(s) => serde_json::to_value(self.stop(&s).await?),
            CurTask::FetchAndAnalyse(s) => serde_json::to_value(self.fetch_and_analyse(&s).await?),
        };
        Ok(out.expect("task outputs serialise"))
    }

    async fn load(
        &self,
        run_id: &str,
        tenant_id: &TenantId,
        account_id: &AccountId,
    ) -> Result<(Tenant, Account), TaskError> {
        if !crate::store::valid_run_id(run_id) {
            return Err(invalid("run_id", "1-80 of A-Z, a-z, 0-9, - and _"));
        }
        let tenant = self
            .store
            .get_tenant(tenant_id)
            .await?
            .ok_or_else(|| TaskError::AccountNotFound(format!("tenant {tenant_id} does not exist")))?;
        let account = self.store.get_account(tenant_id, account_id).await?.ok_or_else(|| {
            TaskError::AccountNotFound(format!("account {account_id} is not connected to {tenant_id}"))
        })?;
        if account.status != AccountStatus::Active {
            return Err(TaskError::AccountNotFound(format!("account {account_id} is {}", account.status.as_str())));
        }
        Ok((tenant, account))
    }

    fn library(account: &Account) -> Result<Library, TaskError> {
        let cur = account.cur.as_ref().ok_or_else(|| TaskError::InvalidInput("no CUR settings".into()))?;
        Library::new(Schema::Cur2, &cur.table).map_err(|e| invalid("cur.table", e))
    }

    fn range(from: &str, to: &str) -> Result<PeriodRange, TaskError> {
        let from = YearMonth::parse(from).map_err(|e| invalid("from", e))?;
        let to = YearMonth::parse(to).map_err(|e| invalid("to", e))?;
        PeriodRange::new(from, to).map_err(|e| invalid("to", e))
    }

    pub async fn start(&self, input: &StartInput) -> Result<Started, TaskError> {
        let (tenant, account) = self.load(&input.run_id, &input.tenant_id, &input.account_id).await?;
        if account.cur.is_none() {
            return Ok(Started {
                run_id: input.run_id.clone(),
                tenant_id: input.tenant_id.clone(),
                account_id: input.account_id.clone(),
                from: None,
                to: None,
                queries: vec![],
                state: None,
            });
        }
        let now = self.clock.now();
        let this = YearMonth { year: now.year(), month: now.month() };
        let from = input.from.clone().unwrap_or_else(|| this.previous().to_string());
        let to = input.to.clone().unwrap_or_else(|| this.to_string());
        let range = Self::range(&from, &to)?;
        let library = Self::library(&account)?;
        let athena = self.athena.connect(&tenant, &account).await?;
        let mut queries = Vec::new();
        for q in library.queries() {
            let req = library.request(q, &range);
            let token = request_token(&input.run_id, account.account_id.as_str(), &format!("{}:{from}:{to}", q.name()));
            let id = athena.start(&req, &token).await.map_err(query_error)?;
            queries.push(StartedQuery {
                name: q.name().to_owned(),
                query_execution_id: id,
                from: Some(from.clone()),
                to: Some(to.clone()),
            });
        }
        let run = (input.run_id.as_str(), from.as_str(), to.as_str());
        queries.extend(self.start_confirmations(athena.as_ref(), &tenant, &account, &library, &range, run).await?);
        Ok(Started {
            run_id: input.run_id.clone(),
            tenant_id: input.tenant_id.clone(),
            account_id: input.account_id.clone(),
            from: Some(from),
            to: Some(to),
            queries,
            state: None,
        })
    }

    /// The period of a started set of queries: the top-level one, else the queries' own (which
    /// must all agree).
    fn period(s: &Started) -> Result<PeriodRange, TaskError> {
        let from = s.from.clone().or_else(|| s.queries.first().and_then(|q| q.from.clone()));
        let to = s.to.clone().or_else(|| s.queries.first().and_then(|q| q.to.clone()));
        let (Some(from), Some(to)) = (from, to) else {
            return Err(invalid("queries", "the billing periods (from, to) are missing"));
        };
        for q in &s.queries {
            let agree = |v: &Option<String>, want: &str| v.as_deref().is_none_or(|x| x == want);
            if !agree(&q.from, &from) || !agree(&q.to, &to) {
                return Err(invalid("queries", "the queries cover different billing periods"));
            }
        }
        Self::range(&from, &to)
    }

    fn check(s: &Started) -> Result<(), TaskError> {
        Self::period(s)?;
        if s.queries.is_empty() {
            return Err(invalid("queries", "must not be empty"));
        }
        for q in &s.queries {
            if Query::from_name(&q.name).is_none() && !confirm::is_query_name(&q.name) {
                return Err(invalid("queries", format!("unknown query {:?}", q.name)));
            }
            let id_ok = (1..=128).contains(&q.query_execution_id.len())
                && q.query_execution_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if !id_ok {
                return Err(invalid("queries", "a query_execution_id is 1-128 of A-Z, a-z, 0-9 and -"));
            }
        }
        Ok(())
    }

    pub async fn poll(&self, s: &Started) -> Result<Started, TaskError> {
        Self::check(s)?;
        let (tenant, account) = self.load(&s.run_id, &s.tenant_id, &s.account_id).await?;
        let athena = self.athena.connect(&tenant, &account).await?;
        let mut all_done = true;
        for q in &s.queries {
            let status = match athena.status(&q.query_execution_id).await {
                // A failed confirmation leaves its savings pending (fetch says why), not the run failed.
                Err(QueryError::Failed(_)) if confirm::is_query_name(&q.name) => continue,
                Err(QueryError::Failed(m)) => return Err(TaskError::QueryFailed(format!("{}: {m}", q.name))),
                Err(other) => return Err(query_error(other)),
                Ok(status) => status,
            };
            all_done &= status.state == QueryState::Succeeded;
        }
        Ok(Started { state: Some(if all_done { QueryState::Succeeded } else { QueryState::Running }), ..s.clone() })
    }

    pub async fn stop(&self, s: &Started) -> Result<Stopped, TaskError> {
        Self::check(s)?;
        let (tenant, account) = self.load(&s.run_id, &s.tenant_id, &s.account_id).await?;
        let athena = self.athena.connect(&tenant, &account).await?;
        let mut stopped = 0;
        for q in &s.queries {
            athena.stop(&q.query_execution_id).await.map_err(query_error)?;
            stopped += 1;
        }
        Ok(Stopped { stopped })
    }

    pub async fn fetch_and_analyse(&self, s: &Started) -> Result<Analysed, TaskError> {
        Self::check(s)?;
        let range = Self::period(s)?;
        let (tenant, account) = self.load(&s.run_id, &s.tenant_id, &s.account_id).await?;
        let athena = self.athena.connect(&tenant, &account).await?;
        let mut results = HashMap::new();
        let mut answers = confirm::Answers::default();
        let (mut bytes, mut cost) = (0u64, Decimal::ZERO);
        for q in &s.queries {
            if confirm::is_query_name(&q.name) {
                let scanned = Self::fetch_confirmation(athena.as_ref(), q, &mut answers).await?;
                bytes += scanned;
                cost += query_cost_usd(scanned);
                continue;
            }
            let status = athena.status(&q.query_execution_id).await.map_err(query_error)?;
            if status.state != QueryState::Succeeded {
                return Err(TaskError::Transient(format!("{} is still running", q.name)));
            }
            let mut rs = athena.results(&q.query_execution_id).await.map_err(query_error)?;
            rs.bytes_scanned = Some(status.bytes_scanned);
            bytes += status.bytes_scanned;
            cost += query_cost_usd(status.bytes_scanned);
            results.insert(Query::from_name(&q.name).expect("checked"), rs);
        }
        let analysis = CurAnalysis::from_results(Schema::Cur2, &range, &results, &self.options).map_err(query_error)?;
        let now = self.clock.now();

        let rates = rate_table(&analysis.rates, &analysis.last_day.map(|d| d.to_string()).unwrap_or_default());
        if !rates.is_empty() {
            self.store.save_rates(RateScope::Tenant(&tenant.id), &rates).await?;
        }
        // Only this account's findings: the CUR of a management account covers members too.
        let own = account.account_id.as_str();
        let mut findings: Vec<Finding> = (analysis.findings.iter())
            .filter(|f| f.account_id == own)
            .map(|f| waste_finding(f.clone(), &tenant.id, &account.account_id, now))
            .collect();
        findings.extend(
            (analysis.anomalies.iter())
                .filter(|a| a.account_id == own)
                .map(|a| anomaly_finding(a, &tenant.id, &account.account_id, now)),
        );
        let summary = self.store.upsert_findings(&tenant.id, &findings).await?;
        let mut resolved = 0;
        let regions: BTreeSet<&str> = analysis.spend.iter().map(|r| r.region.as_str()).collect();
        for region in regions {
            let scope =
                ResolveScope { account_id: &account.account_id, region, rule_prefixes: WASTE_RULES, seen_before: now };
            resolved += self.store.resolve_unseen(&tenant.id, &scope, now).await?.len();
        }
        let cx = confirm::Context {
            range: &range,
            coverage: analysis.first_day.zip(analysis.last_day),
            now,
            settings: &self.options.confirm,
        };
        let entries = confirm::of_account(self.store.realised_savings(&tenant.id).await?, &account.account_id);
        let confirmations = confirm::record(self.store.as_ref(), &tenant.id, &entries, &answers, &cx).await?;
        let report = self.keep_report(&tenant, &account, &analysis, &range).await?;
        Ok(Analysed {
            run_id: s.run_id.clone(),
            tenant_id: s.tenant_id.clone(),
            account_id: s.account_id.clone(),
            anomalies: analysis.anomalies.len(),
            findings: findings.len(),
            findings_opened: summary.opened.len() + summary.reopened.len(),
            findings_resolved: resolved,
            rates: rates.len(),
            confirmations,
            bytes_scanned: bytes,
            query_cost_usd: format!("{:.6}", cost.round_dp(6)),
            report,
        })
    }

    /// Writes the analysis's report to the reports store, tagged with the tenant's retention;
    /// its `report.json` key.
    async fn keep_report(
        &self,
        tenant: &Tenant,
        account: &Account,
        analysis: &CurAnalysis,
        range: &PeriodRange,
    ) -> Result<Option<String>, TaskError> {
        use crate::report::store::{object_key, ReportBody, ReportFile, ReportId};
        let Some(reports) = &self.reports else { return Ok(None) };
        let name = format!("CUR 2.0 of {}", account.account_id);
        let body = ReportBody::of(&crate::report::build(analysis, &name, None));
        let id = ReportId::new(self.clock.now(), range.from, range.to, Some(&account.account_id));
        reports.put(&tenant.id, &id, &body, tenant.report_retention_days).await?;
        Ok(Some(object_key(&tenant.id, &id, ReportFile::Json)))
    }
}

impl<S: CurStore> CurTasks<S> {
    /// Starts the queries that check `account`'s realised savings against the bill
    /// ([`confirm::plan`]): none when nothing is due. `run` is (run id, from, to).
    async fn start_confirmations(
        &self,
        athena: &dyn QueryExecutions,
        tenant: &Tenant,
        account: &Account,
        library: &Library,
        range: &PeriodRange,
        (run_id, from, to): (&str, &str, &str),
    ) -> Result<Vec<StartedQuery>, TaskError> {
        let pending = self.store.pending_confirmations(&tenant.id, &account.account_id).await?;
        let mut started = Vec::new();
        for (i, chunk) in confirm::plan(&pending, range, self.clock.now(), &self.options.confirm).iter().enumerate() {
            let name = confirm::query_name(i);
            let req = confirm::request(library, range, &account.account_id, chunk, &name);
            let token = request_token(run_id, account.account_id.as_str(), &format!("{name}:{from}:{to}"));
            let id = athena.start(&req, &token).await.map_err(query_error)?;
            started.push(StartedQuery {
                name,
                query_execution_id: id,
                from: Some(from.to_owned()),
                to: Some(to.to_owned()),
            });
        }
        Ok(started)
    }

    /// Reads one confirmation query into `answers`; its bytes scanned. A failed query, or an
    /// answer that is not what the query asks for, is recorded in `answers` (its savings stay
    /// pending with the reason); one still running is `Transient`, as for the library's.
    async fn fetch_confirmation(
        athena: &dyn QueryExecutions,
        q: &StartedQuery,
        answers: &mut confirm::Answers,
    ) -> Result<u64, TaskError> {
        let status = match athena.status(&q.query_execution_id).await {
            Err(QueryError::Failed(m)) => {
                answers.failed(format!("{}: {m}", q.name));
                return Ok(0);
            }
            Err(other) => return Err(query_error(other)),
            Ok(status) => status,
        };
        if status.state != QueryState::Succeeded {
            return Err(TaskError::Transient(format!("{} is still running", q.name)));
        }
        match athena.results(&q.query_execution_id).await {
            Ok(rs) => {
                if let Err(e) = answers.read(&rs) {
                    answers.failed(format!("{}: {e}", q.name));
                }
            }
            Err(QueryError::Transient(m)) => return Err(TaskError::Transient(m)),
            Err(e) => answers.failed(format!("{}: {e}", q.name)),
        }
        Ok(status.bytes_scanned)
    }
}

/// A CUR finding of `account` (the caller keeps only that account's rows).
fn waste_finding(f: CurFinding, tenant: &TenantId, account: &AccountId, now: DateTime<Utc>) -> Finding {
    Finding {
        evidence: f.evidence,
        monthly_cost_usd: Some(f.monthly_cost),
        monthly_savings_usd: f.monthly_savings,
        alternative: f.alternative,
        price_source: Some("cur".into()),
        confidence: Some(Confidence::Medium),
        ..Finding::open(tenant.clone(), account.clone(), f.region, f.rule, f.resource_id, f.title, now)
    }
}

/// An anomaly as a finding: keyed by service and day, so a re-run finds the same one.
fn anomaly_finding(a: &Anomaly, tenant: &TenantId, account: &AccountId, now: DateTime<Utc>) -> Finding {
    let what = match a.kind {
        AnomalyKind::Spike => "Spend spike",
        AnomalyKind::NewSeries => "New spend",
    };
    let title = format!("{what} in {} on {}: ${} (expected ${})", a.service, a.date, usd(a.actual), usd(a.expected));
    let resource = format!("{}#{}", a.service, a.date);
    Finding {
        evidence: vec![format!(
            "daily usage cost {} against a baseline of {} ({:?} severity, +${})",
            usd(a.actual),
            usd(a.expected),
            a.severity,
            usd(a.impact)
        )],
        price_source: Some("cur".into()),
        confidence: Some(Confidence::Low),
        ..Finding::open(tenant.clone(), account.clone(), "", ANOMALY_RULE, resource, title, now)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    fn refused(what: &str, payload: &Value) -> String {
        match CurTask::parse(payload) {
            Err(TaskError::InvalidInput(m)) => m,
            other => panic!("{what}: {other:?}"),
        }
    }

    fn ids() -> Value {
        json!({"run_id": "run-1", "tenant_id": "t-abcdefghijklmnop", "account_id": "111122223333"})
    }

    /// `ids()` plus `task` and `fields`.
    fn payload(task: Value, fields: Value) -> Value {
        let mut p = ids();
        p["task"] = task;
        for (k, v) in fields.as_object().unwrap() {
            p[k] = v.clone();
        }
        p
    }

    fn started(queries: Vec<StartedQuery>, state: Option<QueryState>) -> Started {
        Started {
            run_id: "run-1".into(),
            tenant_id: TenantId::parse("t-abcdefghijklmnop").unwrap(),
            account_id: AccountId::parse("111122223333").unwrap(),
            from: None,
            to: None,
            queries,
            state,
        }
    }

    #[test]
    fn each_task_payload_parses_into_its_variant_under_its_documented_name() {
        let start = StartInput {
            run_id: "run-1".into(),
            tenant_id: TenantId::parse("t-abcdefghijklmnop").unwrap(),
            account_id: AccountId::parse("111122223333").unwrap(),
            from: None,
            to: None,
        };
        assert_eq!(CurTask::parse(&payload(json!("start"), json!({}))).unwrap(), CurTask::Start(start.clone()));
        let period = json!({"from": "2025-01", "to": "2025-02"});
        let dated = StartInput { from: Some("2025-01".into()), to: Some("2025-02".into()), ..start };
        assert_eq!(CurTask::parse(&payload(json!("start"), period)).unwrap(), CurTask::Start(dated));

        // What the ASL passes on: the ids and `queries`, and `state` to fetch_and_analyse.
        let query = StartedQuery {
            name: "waste".into(),
            query_execution_id: "q-1".into(),
            from: Some("2025-01".into()),
            to: Some("2025-02".into()),
        };
        let queries = json!({"queries": [query]});
        let s = started(vec![query.clone()], None);
        assert_eq!(CurTask::parse(&payload(json!("poll"), queries.clone())).unwrap(), CurTask::Poll(s.clone()));
        assert_eq!(CurTask::parse(&payload(json!("stop"), queries)).unwrap(), CurTask::Stop(s));
        let fetch = payload(json!("fetch_and_analyse"), json!({"queries": [query], "state": "SUCCEEDED"}));
        let s = started(vec![query], Some(QueryState::Succeeded));
        assert_eq!(CurTask::parse(&fetch).unwrap(), CurTask::FetchAndAnalyse(s.clone()));
        assert_eq!(serde_json::to_value(CurTask::FetchAndAnalyse(s)).unwrap(), fetch);
    }

    #[test]
    fn malformed_payloads_are_invalid_input_naming_what_is_wrong() {
        let q = json!({"name": "waste", "query_execution_id": "q-1"});
        for (p, says) in [
            (json!(null), "body: a JSON object"),
            (json!("start"), "body: a JSON object"),
            (json!(["start", "run-1", "t-abcdefghijklmnop", "111122223333"]), "body: a JSON object"),
            (ids(), "task: missing field `task`"),
            (
                payload(json!("launch"), json!({})),
                "task: unknown variant `launch`, expected one of `start`, `poll`, `stop`, `fetch_and_analyse`",
            ),
            (payload(json!("Start"), json!({})), "task: unknown variant `Start`"),
            (payload(json!("fetch_and_analyze"), json!({"queries": []})), "task: unknown variant"),
            (payload(json!(1), json!({})), "task: invalid type: integer `1`"),
            (payload(json!(null), json!({})), "task: invalid type: null"),
            (payload(json!({"start": {}}), json!({})), "task: invalid type: map"),
            // An extra field, in each task and nested.
            (payload(json!("start"), json!({"acount_id": "x"})), "acount_id: unknown field `acount_id`"),
            (payload(json!("start"), json!({"queries": []})), "queries: unknown field `queries`"),
            (payload(json!("poll"), json!({"queries": [], "extra": 1})), "extra: unknown field `extra`"),
            (payload(json!("stop"), json!({"queries": [], "task2": "stop"})), "task2: unknown field"),
            (
                payload(
                    json!("fetch_and_analyse"),
                    json!({"queries": [q, {"name": "waste", "query_execution_id": "q-2", "sql": "DROP"}]}),
                ),
                "queries[1].sql: unknown field `sql`",
            ),
            // A missing field or one of the wrong type.
            (payload(json!("poll"), json!({})), "queries: missing field `queries`"),
            (
                payload(json!("poll"), json!({"queries": [{"name": "waste"}]})),
                "queries[0].query_execution_id: missing field",
            ),
            (payload(json!("start"), json!({"run_id": 1})), "run_id: invalid type: integer `1`, expected a string"),
            (payload(json!("start"), json!({"account_id": 111122223333u64})), "account_id: invalid type: integer"),
            (payload(json!("start"), json!({"from": 202501})), "from: invalid type: integer `202501`"),
            (
                payload(json!("poll"), json!({"queries": {"waste": "q-1"}})),
                "queries: invalid type: map, expected a sequence",
            ),
            (
                payload(json!("poll"), json!({"queries": [{"name": 7, "query_execution_id": "q-1"}]})),
                "queries[0].name: invalid type: integer `7`",
            ),
            (
                payload(json!("fetch_and_analyse"), json!({"queries": [q], "state": "EXPLODED"})),
                "state: unknown variant `EXPLODED`",
            ),
            (
                payload(json!("fetch_and_analyse"), json!({"queries": [q], "state": true})),
                "state: invalid type: boolean `true`",
            ),
        ] {
            let message = refused(&p.to_string(), &p);
            assert!(message.starts_with(says), "{p}: {message}");
        }
    }

    #[test]
    fn a_huge_payload_is_refused_with_a_bounded_message() {
        let huge = "🦀".repeat(1 << 18);
        let m = refused("huge task", &payload(json!(huge), json!({})));
        assert!(m.chars().count() < 1000 && m.starts_with("task: unknown variant `🦀"), "{m}");
        assert!(m.ends_with("expected one of `start`, `poll`, `stop`, `fetch_and_analyse`"), "{m}");
        let m = refused("huge field", &payload(json!("start"), json!({ huge.as_str(): 1 })));
        assert!(m.chars().count() < 1000 && m.contains("unknown field `🦀"), "{m}");
        let m = refused("huge state", &payload(json!("fetch_and_analyse"), json!({"queries": [], "state": huge})));
        assert!(m.chars().count() < 1000 && m.starts_with("state: unknown variant `🦀"), "{m}");
        // Of the right type, it parses; the task's own checks refuse it.
        let p = payload(json!("poll"), json!({"queries": [{"name": huge, "query_execution_id": huge}]}));
        let CurTask::Poll(s) = CurTask::parse(&p).unwrap() else { panic!("not poll") };
        let checked = CurTasks::<crate::store::MemoryStore>::check(&s);
        assert!(matches!(checked, Err(TaskError::InvalidInput(m)) if m.len() < 1000));
    }
}
