//! The findings API's use cases: findings as people browse and triage them, the events feed,
//! the scan runs and the savings ledger, for two kinds of caller ([`Caller`]). Entry points (the
//! onboarding Lambda's HTTP router, `api`, and the CLI) call [`Findings`]; it holds no SDK type,
//! only ports ([`FindingsApiStore`], [`Clock`]).
//!
//! Isolation: a tenant caller reaches its own tenant only. Any other tenant id, existing or not,
//! gets [`FindingsError::TenantNotFound`] before the store is read, the very answer a missing
//! tenant gets, so nothing tells one from the other.

pub mod api;
mod change;
mod csv;
mod query;
pub mod savings;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::domain::finding::Finding;
use crate::domain::scan_run::RunRecord;
use crate::domain::triage::FindingChange;
use crate::domain::{Clock, InvalidInput, TenantId, TenantStatus};
use crate::store::{FindingsApiStore, Page, StoreError};

pub use change::ChangeRequest;
pub use query::{EventsQuery, FindingsQuery};
pub use savings::Ledger;

/// The JWT claim that makes a caller a tenant's user: the user pool's custom attribute
/// `tenant_id`, set by an admin at creation; the console's app client cannot write it.
pub const TENANT_CLAIM: &str = "custom:tenant_id";

/// The JWT claim listing the Cognito groups of the user.
pub const GROUPS_CLAIM: &str = "cognito:groups";

/// The user pool group of the operator's staff: its members are [`Caller::Operator`].
pub const OPERATORS_GROUP: &str = "operators";

/// Who is asking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// The operator: IAM-authenticated on the operator API, or the CLI with table access.
    Operator,
    /// A user of one tenant, from a JWT's [`TENANT_CLAIM`]; `user` is the token's user name
    /// when it has one (recorded as who made a change).
    Tenant { tenant: TenantId, user: Option<String> },
}

impl Caller {
    /// The caller of an HTTP API request: a JWT whose [`GROUPS_CLAIM`] holds [`OPERATORS_GROUP`]
    /// is the operator's staff (the operator); another JWT with [`TENANT_CLAIM`] makes a tenant
    /// user; an IAM caller without a JWT is the operator. `None` (refused): a JWT with neither,
    /// or no authentication at all.
    pub fn from_request(jwt_claims: Option<&HashMap<String, String>>, iam: bool) -> Option<Self> {
        match jwt_claims {
            Some(claims) if claims.get(GROUPS_CLAIM).is_some_and(|g| in_group(g, OPERATORS_GROUP)) => {
                Some(Self::Operator)
            }
            Some(claims) => {
                let tenant = TenantId::parse(claims.get(TENANT_CLAIM)?).ok()?;
                let user = ["cognito:username", "email", "sub"]
                    .iter()
                    .find_map(|k| claims.get(*k))
                    .filter(|u| crate::domain::check_text("by", u, 256).is_ok())
                    .cloned();
                Some(Self::Tenant { tenant, user })
            }
            None if iam => Some(Self::Operator),
            None => None,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Operator => "operator",
            Self::Tenant { .. } => "tenant",
        }
    }
}

/// Whether a groups claim, as an HTTP API's JWT authorizer hands it to the integration, names
/// `group`. The authorizer flattens an array claim to a string: `[operators auditors]` (bracketed,
/// space-separated), or just `operators` for one value; a comma-separated or JSON-quoted list is
/// accepted too. Only a whole group name matches (`operators-old` is not `operators`).
fn in_group(claim: &str, group: &str) -> bool {
    let list = claim.trim();
    let list = list.strip_prefix('[').and_then(|l| l.strip_suffix(']')).unwrap_or(list);
    list.split(|c: char| c.is_whitespace() || c == ',').map(|g| g.trim_matches('"')).any(|g| g == group)
}

#[derive(Debug, thiserror::Error)]
pub enum FindingsError {
    #[error("{0}")]
    Invalid(#[from] InvalidInput),
    #[error("no such tenant")]
    TenantNotFound,
    #[error("no such finding for this tenant")]
    FindingNotFound,
    #[error("the finding was changed by another request; read it again and retry")]
    Conflict,
    #[error("the store is unavailable; retry later")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

impl FindingsError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid_request",
            Self::TenantNotFound => "tenant_not_found",
            Self::FindingNotFound => "finding_not_found",
            Self::Conflict => "conflict",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    pub fn http_status(&self) -> u16 {
        match self {
            Self::Invalid(_) => 400,
            Self::TenantNotFound | Self::FindingNotFound => 404,
            Self::Conflict => 409,
            Self::Unavailable(_) => 503,
            Self::Internal(_) => 500,
        }
    }
}

impl From<StoreError> for FindingsError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidCursor => Self::Invalid(InvalidInput::new("cursor", "not a cursor this API returned")),
            StoreError::VersionConflict | StoreError::AlreadyExists => Self::Conflict,
            StoreError::NotFound => Self::FindingNotFound,
            StoreError::Invalid(_) => Self::Invalid(InvalidInput::new("request", "a value is too large to store")),
            StoreError::Unavailable(m) => Self::Unavailable(m),
            e => Self::Internal(e.to_string()),
        }
    }
}

/// A finding with what its page shows besides it.
#[derive(Clone, Debug, PartialEq)]
pub struct FindingDetail {
    pub finding: Finding,
    pub history: Vec<FindingChange>,
    /// The date of the prices a real-time finding was priced with (from its event).
    pub price_as_of: Option<String>,
}

pub struct Findings {
    store: Arc<dyn FindingsApiStore>,
    clock: Arc<dyn Clock>,
    /// The CUR reports (`GET /tenants/{id}/reports`); `None` where none are kept.
    reports: Option<Arc<dyn crate::report::store::ReportStore>>,
}

impl Findings {
    pub fn new(store: Arc<dyn FindingsApiStore>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock, reports: None }
    }

    /// Serves the tenants' CUR reports from `reports`.
    pub fn with_reports(mut self, reports: Arc<dyn crate::report::store::ReportStore>) -> Self {
        self.reports = Some(reports);
        self
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Checks that the caller may see `id` and that it is an active tenant. Another tenant's
    /// id is refused before any read, with the answer a missing tenant gets.
    pub async fn authorize(&self, caller: &Caller, id: &TenantId) -> Result<(), FindingsError> {
        if let Caller::Tenant { tenant, .. } = caller {
            if tenant != id {
                return Err(FindingsError::TenantNotFound);
            }
        }
        match self.store.get_tenant(id).await? {
            Some(t) if t.status == TenantStatus::Active => Ok(()),
            _ => Err(FindingsError::TenantNotFound),
        }
    }

    /// One page of findings: one Query ([`crate::store::TriageStore::query_findings`]).
    pub async fn list(
        &self,
        caller: &Caller,
        id: &TenantId,
        q: &FindingsQuery,
    ) -> Result<Page<Finding>, FindingsError> {
        self.authorize(caller, id).await?;
        Ok(self.store.query_findings(id, &q.filter, q.sort, &q.page).await?)
    }

    pub async fn finding(&self, caller: &Caller, id: &TenantId, key: &str) -> Result<FindingDetail, FindingsError> {
        self.authorize(caller, id).await?;
        let finding = self.store.get_finding(id, key).await?.ok_or(FindingsError::FindingNotFound)?;
        let history = self.store.finding_history(id, key).await?;
        let price_as_of = match &finding.source_event {
            Some(ev) => self.store.get_event(id, ev).await?.and_then(|e| e["price_as_of"].as_str().map(str::to_owned)),
            None => None,
        };
        Ok(FindingDetail { finding, history, price_as_of })
    }

    pub async fn events(
        &self,
        caller: &Caller,
        id: &TenantId,
        q: &EventsQuery,
    ) -> Result<Page<serde_json::Value>, FindingsError> {
        self.authorize(caller, id).await?;
        Ok(self.store.list_events(id, &q.filter, &q.page).await?)
    }

    pub async fn runs(
        &self,
        caller: &Caller,
        id: &TenantId,
        page: &crate::store::PageRequest,
    ) -> Result<Page<RunRecord>, FindingsError> {
        self.authorize(caller, id).await?;
        Ok(self.store.list_runs(id, page).await?)
    }

    pub async fn savings(&self, caller: &Caller, id: &TenantId) -> Result<Ledger, FindingsError> {
        self.authorize(caller, id).await?;
        let open = self.store.open_savings(id).await?;
        let realised = self.store.realised_savings(id).await?;
        Ledger::of(&open, &realised)
    }
}

#[cfg(test)]
mod tests;
