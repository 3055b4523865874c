//! The `cur-query` Step Functions tasks for one tenant account (contract: docs/workflows.md):
//! `start` the library's queries in the customer's Athena workgroup, `poll` them (the state
//! machine waits between polls), `stop` them on timeout, and `fetch_and_analyse`: results to the
//! analysis, anomalies and waste to the findings store, effective rates to the pricing port.
//! Only aggregates leave the customer's account.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Datelike, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::analysis::{AnalysisOptions, CurAnalysis, CurFinding};
use super::anomaly::{Anomaly, AnomalyKind};
use super::engine::{query_cost_usd, request_token, QueryError, QueryExecutions, QueryState};
use super::queries::{Library, PeriodRange, Query, Schema, YearMonth};
use super::rates::rate_table;
use crate::domain::finding::{Confidence, Finding};
use crate::domain::{parse_json, Account, AccountId, AccountStatus, Clock, Tenant, TenantId};
use crate::store::{AccountStore, FindingStore, RateScope, RateStore, ResolveScope, TenantStore};
use crate::workflow::TaskError;

/// Everything the tasks need from the store.
pub trait CurStore: TenantStore + AccountStore + FindingStore + RateStore {}
impl<T: TenantStore + AccountStore + FindingStore + RateStore> CurStore for T {}

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
    pub tenant_id: String,
    pub account_id: String,
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
    pub tenant_id: String,
    pub account_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Empty when the account has no CUR settings: nothing to poll or fetch.
    pub queries: Vec<StartedQuery>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<QueryState>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stopped {
    pub stopped: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Analysed {
    pub run_id: String,
    pub tenant_id: String,
    pub account_id: String,
    pub anomalies: usize,
    pub findings: usize,
    pub findings_opened: usize,
    pub findings_resolved: usize,
    pub rates: usize,
    pub bytes_scanned: u64,
    /// What our own queries cost the customer in Athena ($5/TB, 10 MB minimum per query).
    pub query_cost_usd: String,
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
    /// Dispatches on the payload's `task`.
    pub async fn handle(&self, payload: &serde_json::Value) -> Result<serde_json::Value, TaskError> {
        let mut body = payload.as_object().cloned().ok_or_else(|| invalid("body", "a JSON object"))?;
        let task = match body.remove("task") {
            Some(serde_json::Value::String(t)) => t,
            _ => return Err(invalid("task", "missing: start, poll, stop or fetch_and_analyse")),
        };
        let bytes = serde_json::to_vec(&body).expect("a JSON object serialises");
        let started = |b: &[u8]| parse_json::<Started>(b).map_err(|e| TaskError::InvalidInput(e.to_string()));
        let out = match task.as_str() {
            "start" => {
                let input = parse_json::<StartInput>(&bytes).map_err(|e| TaskError::InvalidInput(e.to_string()))?;
                serde_json::to_value(self.start(&input).await?)
            }
            "poll" => serde_json::to_value(self.poll(&started(&bytes)?).await?),
            "stop" => serde_json::to_value(self.stop(&started(&bytes)?).await?),
            "fetch_and_analyse" => serde_json::to_value(self.fetch_and_analyse(&started(&bytes)?).await?),
            other => return Err(invalid("task", format!("unknown task {other:?}"))),
        };
        Ok(out.expect("task outputs serialise"))
    }

    async fn load(&self, run_id: &str, tenant: &str, account: &str) -> Result<(Tenant, Account), TaskError> {
        if !crate::store::valid_run_id(run_id) {
            return Err(invalid("run_id", "1-80 of A-Z, a-z, 0-9, - and _"));
        }
        let tenant_id = TenantId::parse(tenant).map_err(|e| invalid("tenant_id", e.message))?;
        let account_id = AccountId::parse(account).map_err(|e| invalid("account_id", e.message))?;
        let tenant = self
            .store
            .get_tenant(&tenant_id)
            .await?
            .ok_or_else(|| TaskError::AccountNotFound(format!("tenant {tenant_id} does not exist")))?;
        let account = self.store.get_account(&tenant_id, &account_id).await?.ok_or_else(|| {
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
            if Query::from_name(&q.name).is_none() {
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
            let status = athena.status(&q.query_execution_id).await.map_err(|e| match e {
                QueryError::Failed(m) => TaskError::QueryFailed(format!("{}: {m}", q.name)),
                other => query_error(other),
            })?;
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
        let (mut bytes, mut cost) = (0u64, Decimal::ZERO);
        for q in &s.queries {
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
        let mut findings: Vec<Finding> =
            analysis.findings.iter().cloned().map(|f| waste_finding(f, &tenant.id, now)).collect();
        findings.extend(analysis.anomalies.iter().map(|a| anomaly_finding(a, &tenant.id, now)));
        // Only this account's findings: the CUR of a management account covers members too.
        findings.retain(|f| f.account_id == account.account_id.as_str());
        let summary = self.store.upsert_findings(&tenant.id, &findings).await?;
        let mut resolved = 0;
        let regions: BTreeSet<&str> = analysis.spend.iter().map(|r| r.region.as_str()).collect();
        for region in regions {
            let scope = ResolveScope {
                account_id: account.account_id.as_str(),
                region,
                rule_prefixes: WASTE_RULES,
                seen_before: now,
            };
            resolved += self.store.resolve_unseen(&tenant.id, &scope, now).await?.len();
        }
        Ok(Analysed {
            run_id: s.run_id.clone(),
            tenant_id: s.tenant_id.clone(),
            account_id: s.account_id.clone(),
            anomalies: analysis.anomalies.len(),
            findings: findings.len(),
            findings_opened: summary.opened.len() + summary.reopened.len(),
            findings_resolved: resolved,
            rates: rates.len(),
            bytes_scanned: bytes,
            query_cost_usd: format!("{:.6}", cost.round_dp(6)),
        })
    }
}

fn waste_finding(f: CurFinding, tenant: &TenantId, now: DateTime<Utc>) -> Finding {
    Finding {
        evidence: f.evidence,
        monthly_cost_usd: Some(f.monthly_cost),
        monthly_savings_usd: f.monthly_savings,
        alternative: f.alternative,
        price_source: Some("cur".into()),
        confidence: Some(Confidence::Medium),
        ..Finding::open(tenant.clone(), f.account_id, f.region, f.rule, f.resource_id, f.title, now)
    }
}

/// An anomaly as a finding: keyed by service and day, so a re-run finds the same one.
fn anomaly_finding(a: &Anomaly, tenant: &TenantId, now: DateTime<Utc>) -> Finding {
    let what = match a.kind {
        AnomalyKind::Spike => "Spend spike",
        AnomalyKind::NewSeries => "New spend",
    };
    let title = format!("{what} in {} on {}: ${} (expected ${})", a.service, a.date, a.actual, a.expected);
    let resource = format!("{}#{}", a.service, a.date);
    Finding {
        evidence: vec![format!(
            "daily usage cost {} against a baseline of {} ({:?} severity, +${})",
            a.actual, a.expected, a.severity, a.impact
        )],
        price_source: Some("cur".into()),
        confidence: Some(Confidence::Low),
        ..Finding::open(tenant.clone(), a.account_id.clone(), "", ANOMALY_RULE, resource, title, now)
    }
}
