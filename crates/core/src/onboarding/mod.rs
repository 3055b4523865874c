//! Onboarding: tenants and their secrets, connecting accounts (manual and through the customer
//! stack's custom resource), role verification, revocation. Entry points (the onboarding Lambda,
//! the CLI) call [`Onboarding`]; it holds no SDK type, only ports.

pub mod api;
pub mod custom_resource;
mod settings;
pub mod verify;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::access::{RoleAssumer, SessionName};
use crate::domain::{
    check_text, parse_regions, Account, AccountId, AccountStatus, Clock, CurSettings, ExternalId, IngestToken,
    InvalidInput, Registration, RoleArn, RoleArnError, Tenant, TenantId, TenantStatus,
};
use crate::store::{Claim, OnboardingStore, Page, PageRequest, StoreError};

pub use settings::OnboardingSettings;
pub use verify::{verify_role, Verdict, VerifyOptions};

#[derive(Debug, thiserror::Error)]
pub enum OnboardingError {
    #[error("{0}")]
    Invalid(#[from] InvalidInput),
    #[error("the {0} partition is not supported: costradar works with commercial AWS accounts (partition 'aws') only")]
    UnsupportedPartition(String),
    #[error("no such tenant")]
    TenantNotFound,
    #[error("no such account for this tenant")]
    AccountNotFound,
    #[error("this AWS account is already connected to another costradar tenant")]
    AccountClaimed,
    /// AssumeRole with the tenant's ExternalId did not succeed: nothing was written.
    #[error("{0}")]
    NotVerified(String),
    #[error("this AWS account is connected by another costradar stack; delete that stack first")]
    OtherStack,
    #[error("the item was changed by another request; retry")]
    Conflict,
    #[error("the store is unavailable; retry later")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

impl OnboardingError {
    /// Stable machine-readable code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid_request",
            Self::UnsupportedPartition(_) => "unsupported_partition",
            Self::TenantNotFound => "tenant_not_found",
            Self::AccountNotFound => "account_not_found",
            Self::AccountClaimed => "account_claimed",
            Self::NotVerified(_) => "role_not_verified",
            Self::OtherStack => "account_registered_by_another_stack",
            Self::Conflict => "conflict",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    pub fn http_status(&self) -> u16 {
        match self {
            Self::Invalid(_) | Self::UnsupportedPartition(_) => 400,
            Self::TenantNotFound | Self::AccountNotFound => 404,
            Self::NotVerified(_) => 422,
            Self::AccountClaimed | Self::OtherStack | Self::Conflict => 409,
            Self::Unavailable(_) => 503,
            Self::Internal(_) => 500,
        }
    }
}

impl From<StoreError> for OnboardingError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::AlreadyExists | StoreError::VersionConflict | StoreError::NotFound => Self::Conflict,
            StoreError::AccountClaimedByAnotherTenant => Self::AccountClaimed,
            StoreError::InvalidCursor => Self::Invalid(InvalidInput::new("cursor", "not a cursor this API returned")),
            StoreError::Invalid(_) => Self::Invalid(InvalidInput::new("request", "a value is too large to store")),
            StoreError::Unavailable(m) => Self::Unavailable(m),
            e @ (StoreError::Corrupt(_) | StoreError::ExternalIdTaken) => Self::Internal(e.to_string()),
        }
    }
}

impl From<RoleArnError> for OnboardingError {
    fn from(e: RoleArnError) -> Self {
        match e {
            RoleArnError::Invalid(i) => Self::Invalid(i),
            RoleArnError::UnsupportedPartition { partition } => Self::UnsupportedPartition(partition),
        }
    }
}

/// Where new identifiers and secrets come from; replaced in tests to force collisions.
pub trait IdSource: Send + Sync {
    fn tenant_id(&self) -> TenantId {
        TenantId::generate()
    }
    fn external_id(&self) -> ExternalId {
        ExternalId::generate()
    }
    fn ingest_token(&self) -> IngestToken {
        IngestToken::generate()
    }
}

/// The operating system's CSPRNG.
pub struct OsIds;
impl IdSource for OsIds {}

/// What the API shows of a tenant.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TenantView {
    pub id: TenantId,
    pub name: String,
    pub external_id: String,
    pub status: TenantStatus,
    pub created_at: DateTime<Utc>,
    /// The effective threshold for real-time findings.
    pub realtime_threshold_usd: rust_decimal::Decimal,
    /// The webhook's scheme and host only: the full URL is a secret.
    pub notify_webhook: Option<String>,
    /// Days the tenant's CUR reports are kept (`domain::settings::REPORT_RETENTION_DAYS`).
    pub report_retention_days: u32,
    /// The tenant's digest (`crate::digest`): `frequency` and `weekday`.
    pub digest: crate::domain::settings::DigestSettings,
}

impl From<&Tenant> for TenantView {
    fn from(t: &Tenant) -> Self {
        Self {
            id: t.id.clone(),
            name: t.name.clone(),
            external_id: t.external_id.as_str().to_owned(),
            status: t.status,
            created_at: t.created_at,
            realtime_threshold_usd: t.realtime_threshold_usd.unwrap_or(crate::rules::realtime::DEFAULT_THRESHOLD_USD),
            notify_webhook: t
                .notify_webhook_url
                .as_deref()
                .and_then(|u| url::Url::parse(u).ok())
                .map(|u| format!("{}://{}/…", u.scheme(), u.host_str().unwrap_or_default())),
            report_retention_days: t.report_retention_days.days(),
            digest: t.digest,
        }
    }
}

#[derive(Debug)]
pub struct CreatedTenant {
    pub tenant: Tenant,
    pub quick_create_url: String,
}

/// A connected account. `ingest_token` exists here and nowhere else: it goes once to the
/// customer's stack (the custom resource's NoEcho answer) or to the operator (API, CLI).
#[derive(Debug)]
pub struct Connected {
    pub account: Account,
    /// A new token when one was issued: always for a stack (which deploys it at once), and for
    /// a manual account only the first time (its deployed token is left alone afterwards).
    pub ingest_token: Option<IngestToken>,
}

#[derive(Debug)]
pub struct RotatedToken {
    pub ingest_token: IngestToken,
    pub previous_expires_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeletedTenant {
    pub accounts_disconnected: usize,
    pub items_expiring: usize,
    pub expires_at: DateTime<Utc>,
}

/// What to connect: from the API, the CLI or the custom resource.
#[derive(Clone, Debug)]
pub struct AccountRequest {
    pub role_arn: String,
    pub regions: Vec<String>,
    pub cur: Option<CurSettings>,
    pub registration: Registration,
}

pub const TENANT_NAME_MAX: usize = 128;
const ID_ATTEMPTS: usize = 5;

/// What `PATCH /tenants/{id}` changes: each field left out (`None`) stays as it is;
/// `Some(None)` resets it to its default.
#[derive(Clone, Debug, Default)]
pub struct TenantChanges {
    pub realtime_threshold_usd: Option<Option<rust_decimal::Decimal>>,
    pub notify_webhook_url: Option<Option<String>>,
    /// Parsed and checked by `ScanSettings::from_json`.
    pub scan_settings: Option<Option<crate::domain::settings::ScanSettings>>,
    pub report_retention_days: Option<Option<crate::domain::settings::ReportRetention>>,
    /// `off`, `daily` or `weekly`.
    pub digest: Option<Option<String>>,
    /// `monday` to `sunday`.
    pub digest_weekday: Option<Option<String>>,
}

pub struct Onboarding {
    store: Arc<dyn OnboardingStore>,
    assumer: Arc<dyn RoleAssumer>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    settings: OnboardingSettings,
}

impl Onboarding {
    pub fn new(
        store: Arc<dyn OnboardingStore>,
        assumer: Arc<dyn RoleAssumer>,
        clock: Arc<dyn Clock>,
        settings: OnboardingSettings,
    ) -> Self {
        Self { store, assumer, clock, ids: Arc::new(OsIds), settings }
    }

    pub fn with_ids(mut self, ids: Arc<dyn IdSource>) -> Self {
        self.ids = ids;
        self
    }

    pub fn settings(&self) -> &OnboardingSettings {
        &self.settings
    }

    pub(crate) fn store(&self) -> &dyn OnboardingStore {
        &*self.store
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub async fn create_tenant(&self, name: &str) -> Result<CreatedTenant, OnboardingError> {
        check_text("name", name, TENANT_NAME_MAX)?;
        for _ in 0..ID_ATTEMPTS {
            let mut tenant =
                Tenant::new(self.ids.tenant_id(), name.trim().to_owned(), self.ids.external_id(), self.now());
            match self.store.save_tenant(&mut tenant).await {
                Ok(()) => {
                    let quick_create_url = self.settings.quick_create_url(&tenant);
                    tracing::info!(tenant = %tenant.id, "tenant created");
                    return Ok(CreatedTenant { tenant, quick_create_url });
                }
                // Astronomically unlikely with 82- and 206-bit ids; a fresh draw fixes it.
                Err(StoreError::AlreadyExists | StoreError::ExternalIdTaken) => {
                    tracing::warn!("identifier collision on tenant creation; drawing again");
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(OnboardingError::Internal("could not draw a unique tenant id and ExternalId".into()))
    }

    /// An active tenant; deleted tenants are not found.
    pub async fn tenant(&self, id: &TenantId) -> Result<Tenant, OnboardingError> {
        match self.store.get_tenant(id).await? {
            Some(t) if t.status == TenantStatus::Active => Ok(t),
            _ => Err(OnboardingError::TenantNotFound),
        }
    }

    pub fn quick_create_url(&self, tenant: &Tenant) -> String {
        self.settings.quick_create_url(tenant)
    }

    pub async fn list_tenants(&self, page: &PageRequest) -> Result<Page<Tenant>, OnboardingError> {
        page.limit()?;
        Ok(self.store.list_tenants(page).await?)
    }

    /// Changes a tenant's settings (`PATCH /tenants/{id}`): everything is validated first, then
    /// the record is read and written once, so a bad field changes nothing and a store failure
    /// never leaves half the changes saved.
    pub async fn configure_tenant(&self, id: &TenantId, c: TenantChanges) -> Result<Tenant, OnboardingError> {
        if let Some(Some(t)) = c.realtime_threshold_usd {
            if t < rust_decimal::Decimal::ZERO || t > rust_decimal::Decimal::from(10_000_000) {
                return Err(InvalidInput::new("realtime_threshold_usd", "between 0 and 10000000").into());
            }
        }
        if let Some(Some(u)) = &c.notify_webhook_url {
            check_webhook_url(u)?;
        }
        if let Some(Some(s)) = &c.scan_settings {
            s.validate()?;
        }
        let mut tenant = self.tenant(id).await?;
        let digest = match (&c.digest, &c.digest_weekday) {
            (None, None) => None,
            (f, w) => {
                let (f, w) = (f.as_ref().map(Option::as_deref), w.as_ref().map(Option::as_deref));
                Some(crate::domain::settings::DigestSettings::changed(tenant.digest, f, w)?)
            }
        };
        if let Some(t) = c.realtime_threshold_usd {
            tenant.realtime_threshold_usd = t;
        }
        if let Some(u) = c.notify_webhook_url {
            tenant.notify_webhook_url = u;
        }
        if let Some(s) = c.scan_settings {
            tenant.scan_settings = s;
        }
        if let Some(r) = c.report_retention_days {
            tenant.report_retention_days = r.unwrap_or_default();
        }
        if let Some(d) = digest {
            tenant.digest = d;
        }
        self.store.save_tenant(&mut tenant).await?;
        tracing::info!(tenant = %id, "tenant settings changed");
        Ok(tenant)
    }

    /// Tokens stop working at once, accounts are disconnected (their claims released), and
    /// every item of the tenant gets a TTL.
    pub async fn delete_tenant(&self, id: &TenantId) -> Result<DeletedTenant, OnboardingError> {
        let mut tenant = self.tenant(id).await?;
        let mut accounts_disconnected = 0;
        let mut page = PageRequest::first(crate::store::MAX_PAGE);
        loop {
            let p = self.store.list_accounts(id, &page).await?;
            for mut a in p.items {
                if a.status != AccountStatus::Disconnected {
                    a.transition(AccountStatus::Disconnected, "tenant deleted by the operator", self.now())
                        .expect("any status can disconnect");
                    self.store.save_account(&mut a, Claim::Release).await?;
                    accounts_disconnected += 1;
                }
            }
            match p.next_cursor {
                Some(c) => page.cursor = Some(c),
                None => break,
            }
        }
        let now = self.now();
        tenant.status = TenantStatus::Deleted;
        tenant.deleted_at = Some(now);
        self.store.save_tenant(&mut tenant).await?;
        let expires_at = now + self.settings.data_retention;
        let items_expiring = self.store.expire_tenant_data(id, expires_at).await?;
        tracing::info!(tenant = %id, accounts_disconnected, items_expiring, "tenant deleted");
        Ok(DeletedTenant { accounts_disconnected, items_expiring, expires_at })
    }

    pub async fn account(&self, tenant: &TenantId, account: &AccountId) -> Result<Account, OnboardingError> {
        self.tenant(tenant).await?;
        self.store.get_account(tenant, account).await?.ok_or(OnboardingError::AccountNotFound)
    }

    pub async fn list_accounts(&self, tenant: &TenantId, page: &PageRequest) -> Result<Page<Account>, OnboardingError> {
        page.limit()?;
        self.tenant(tenant).await?;
        Ok(self.store.list_accounts(tenant, page).await?)
    }

    /// Registers (or re-registers) an account once its role is proved. `opts` bounds how long
    /// verification may wait for IAM propagation.
    ///
    /// Proof comes first: until AssumeRole with the tenant's ExternalId succeeds, nothing is
    /// written and no claim is taken, and an existing account keeps its old, working settings.
    /// An account a stack registered stays that stack's until it is disconnected.
    pub async fn connect_account(
        &self,
        tenant_id: &TenantId,
        req: AccountRequest,
        opts: &VerifyOptions,
    ) -> Result<Connected, OnboardingError> {
        let role = RoleArn::parse(&req.role_arn)?;
        let regions = parse_regions("regions", &req.regions)?;
        if let Some(cur) = &req.cur {
            cur.validate()?;
        }
        let tenant = self.tenant(tenant_id).await?;
        let existing = self.store.get_account(tenant_id, role.account_id()).await?;
        let verdict = self.verify(&tenant, &role, opts).await;
        if !verdict.proved {
            tracing::warn!(tenant = %tenant.id, account = %role.account_id(), "role not proved; nothing written");
            return Err(OnboardingError::NotVerified(verdict.reason));
        }
        let now = self.now();
        let (mut account, claim) = match existing {
            None => {
                (Account::new_pending(tenant_id.clone(), role, regions, req.cur, req.registration, now), Claim::Acquire)
            }
            Some(mut a) => {
                let live = a.status != AccountStatus::Disconnected;
                if live && a.registration.stack_id().is_some_and(|s| req.registration.stack_id() != Some(s)) {
                    return Err(OnboardingError::OtherStack);
                }
                let claim = if live {
                    Claim::Keep
                } else {
                    a.transition(AccountStatus::Pending, "registered again", now)
                        .expect("disconnected can become pending");
                    // A disconnected account's tokens never come back.
                    a.tokens = Default::default();
                    Claim::Acquire
                };
                a.role_arn = role;
                a.regions = regions;
                a.cur = req.cur;
                a.registration = req.registration;
                (a, claim)
            }
        };
        self.apply_verdict(&mut account, verdict, now)?;
        let stack_delivers_it = account.registration.stack_id().is_some();
        let ingest_token = (stack_delivers_it || account.tokens.is_empty()).then(|| {
            let token = self.ids.ingest_token();
            account.tokens.rotate(token.hash(), now, self.settings.token_overlap);
            token
        });
        self.store.save_account(&mut account, claim).await?;
        tracing::info!(tenant = %tenant.id, account = %account.account_id, status = account.status.as_str(), "account connected");
        Ok(Connected { account, ingest_token })
    }

    /// A new ingest token for the account; the previous one works for the overlap window (a
    /// second rotation inside it keeps the deployed token). For accounts whose stack does not
    /// deliver tokens, or to replace a leaked one.
    pub async fn rotate_token(&self, tenant: &TenantId, account: &AccountId) -> Result<RotatedToken, OnboardingError> {
        let mut a = self.account(tenant, account).await?;
        let token = self.ids.ingest_token();
        let previous_expires_at = a.tokens.rotate(token.hash(), self.now(), self.settings.token_overlap);
        self.store.save_account(&mut a, Claim::Keep).await?;
        tracing::info!(tenant = %tenant, account = %account, "ingest token rotated");
        Ok(RotatedToken { ingest_token: token, previous_expires_at })
    }

    /// Stops every token of the account but the newest at once (in every warm receiver within
    /// its account cache's 30 s). Returns how many stopped.
    pub async fn revoke_previous_tokens(
        &self,
        tenant: &TenantId,
        account: &AccountId,
    ) -> Result<usize, OnboardingError> {
        let mut a = self.account(tenant, account).await?;
        let revoked = a.tokens.revoke_previous(self.now());
        if revoked > 0 {
            self.store.save_account(&mut a, Claim::Keep).await?;
        }
        tracing::info!(tenant = %tenant, account = %account, revoked, "previous ingest tokens revoked");
        Ok(revoked)
    }

    pub async fn verify_account(
        &self,
        tenant_id: &TenantId,
        account_id: &AccountId,
        opts: &VerifyOptions,
    ) -> Result<Account, OnboardingError> {
        let tenant = self.tenant(tenant_id).await?;
        let mut account =
            self.store.get_account(tenant_id, account_id).await?.ok_or(OnboardingError::AccountNotFound)?;
        if account.status == AccountStatus::Disconnected {
            return Err(InvalidInput::new("account_id", "the account is disconnected: register it again").into());
        }
        let verdict = self.verify(&tenant, &account.role_arn, opts).await;
        let now = self.now();
        if self.apply_verdict(&mut account, verdict, now)? {
            self.store.save_account(&mut account, Claim::Keep).await?;
            tracing::info!(tenant = %tenant.id, account = %account.account_id, status = account.status.as_str(), "account verified");
        }
        Ok(account)
    }

    async fn verify(&self, tenant: &Tenant, role: &RoleArn, opts: &VerifyOptions) -> Verdict {
        let session = SessionName::new(&tenant.id, self.now());
        verify_role(&*self.assumer, role, &tenant.external_id, &session, opts).await
    }

    /// Moves the account to what the verdict says; `false` when there is nothing to write.
    fn apply_verdict(
        &self,
        account: &mut Account,
        verdict: Verdict,
        now: DateTime<Utc>,
    ) -> Result<bool, OnboardingError> {
        let to = match (account.status, verdict.status) {
            // A role that worked and is now refused was revoked by the customer.
            (AccountStatus::Active | AccountStatus::Revoked, AccountStatus::Failed) if verdict.access_denied => {
                AccountStatus::Revoked
            }
            // STS trouble says nothing about the role: an active account stays active.
            (AccountStatus::Active, AccountStatus::Failed) => {
                tracing::warn!(account = %account.account_id, reason = %verdict.reason, "verification inconclusive");
                return Ok(false);
            }
            (_, s) => s,
        };
        if to == account.status {
            account.status_reason = verdict.reason;
        } else {
            account.transition(to, verdict.reason, now).map_err(|e| OnboardingError::Internal(e.to_string()))?;
        }
        if to == AccountStatus::Active {
            account.last_verified_at = Some(now);
        }
        Ok(true)
    }

    /// Disconnects an account (the customer deleted the stack, or the operator removed it).
    /// Idempotent.
    pub async fn disconnect_account(
        &self,
        tenant_id: &TenantId,
        account_id: &AccountId,
        reason: &str,
    ) -> Result<Account, OnboardingError> {
        self.tenant(tenant_id).await?;
        let mut a = self.store.get_account(tenant_id, account_id).await?.ok_or(OnboardingError::AccountNotFound)?;
        if a.status != AccountStatus::Disconnected {
            a.transition(AccountStatus::Disconnected, reason, self.now()).expect("any status can disconnect");
            self.store.save_account(&mut a, Claim::Release).await?;
            tracing::info!(tenant = %tenant_id, account = %account_id, reason, "account disconnected");
        }
        Ok(a)
    }
}

/// A notification webhook: HTTPS, a host name, no credentials in the URL, at most 2048 bytes.
fn check_webhook_url(u: &str) -> Result<(), InvalidInput> {
    let bad = |m: &str| InvalidInput::new("notify_webhook_url", m);
    if u.len() > 2048 {
        return Err(bad("at most 2048 characters"));
    }
    let url = url::Url::parse(u).map_err(|_| bad("not a URL"))?;
    if url.scheme() != "https" {
        return Err(bad("must be an https:// URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not carry credentials"));
    }
    match url.host() {
        Some(url::Host::Domain(_)) => Ok(()),
        _ => Err(bad("must name a host, not an IP address")),
    }
}
