//! The customer stack's custom resource. CloudFormation publishes the request to costradar's
//! SNS topic; we verify and register the account, then PUT the answer to the request's
//! presigned S3 `ResponseURL`.
//!
//! Anyone allowed by the topic policy can publish, so the message grants nothing by itself:
//! - the ResponseURL must be an `https` presigned URL of CloudFormation's response buckets
//!   (no IP literals, no other ports, no redirects): otherwise we never call it (SSRF);
//! - the tenant id and ExternalId must match (constant-time), else a generic FAILED;
//! - access is proved only by AssumeRole with the ExternalId;
//! - SNS delivers at least once: the request id is recorded and a repeat replays the answer.
//!
//! Delete always answers SUCCESS: we never block a customer's stack deletion.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_lambda_events::cloudformation::{
    CloudFormationCustomResourceRequest as CfnRequest, CloudFormationCustomResourceResponse as CfnResponse,
    CloudFormationCustomResourceResponseStatus as CfnStatus,
};
use serde::Deserialize;
use serde_json::Value;
use url::{Host, Url};

use super::{AccountRequest, Onboarding, OnboardingError};
use crate::domain::{parse_regions, Account, AccountId, CurSettings, Registration, RoleArn, Tenant, TenantId};
use crate::store::RequestState;

/// What `FAILED` says when the tenant or ExternalId is wrong: nothing about which.
pub const GENERIC_REASON: &str = "costradar could not verify this connection. Check the TenantId and ExternalId \
parameters against the values your costradar operator gave you.";

/// What `FAILED` says when the role could not be proved (AssumeRole with the ExternalId did not
/// succeed), or when an Update names an account its stack did not register: one answer for every
/// unverified caller, so that it tells nothing about the account.
pub const UNVERIFIED_REASON: &str = "costradar could not verify this connection: it could not assume the role \
with this stack's ExternalId. Check that the role exists and that its trust policy allows costradar's scanner \
role with the ExternalId condition, then update the stack.";

/// At most this many custom-resource requests of one tenant may fail their proof in an hour;
/// past it, Creates and Updates are refused at once, without an AssumeRole. Each failed proof
/// held an onboarding execution for up to the verification budget (docs/security.md).
pub const UNPROVED_PER_TENANT_HOUR: u32 = 20;

/// What `FAILED` says once a tenant's hour of failed proofs is spent.
pub const BUDGET_SPENT_REASON: &str = "costradar could not verify this connection: too many connection attempts \
for this tenant failed in the last hour. Update the stack again later, or ask your costradar operator.";

/// The answer's attribute that carries the account's new ingest token (`!GetAtt
/// Connection.IngestToken` in cfn/costradar-role.yaml). costradar keeps only its hash; the
/// recorded answer keeps the token only until CloudFormation has it.
pub const INGEST_TOKEN_ATTRIBUTE: &str = "IngestToken";

/// CloudFormation refuses responses over 4096 bytes; keep the reason well inside.
const REASON_MAX: usize = 1000;
const MESSAGE_MAX: usize = 64 * 1024;

#[derive(Clone, Debug, Default)]
pub struct ResponseUrlPolicy {
    /// Test and local-demo configuration only (see `OnboardingSettings::from_lookup`).
    pub allow_loopback_http: bool,
}

impl ResponseUrlPolicy {
    /// Accepts only CloudFormation's own response bucket of the stack's `region`,
    /// `cloudformation-custom-resource-response-<region without dashes>`, on that region's S3
    /// endpoint (`s3.<region>.amazonaws.com`, `s3-<region>.amazonaws.com`, or
    /// `s3.amazonaws.com` for us-east-1), on the default port, presigned. Access points,
    /// Object Lambda, website and other regions' endpoints are refused.
    pub fn check(&self, raw: &str, region: &str) -> Result<Url, &'static str> {
        if raw.len() > 8192 {
            return Err("response URL too long");
        }
        let url = Url::parse(raw).map_err(|_| "response URL does not parse")?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err("response URL carries credentials");
        }
        if url.fragment().is_some() {
            return Err("response URL has a fragment");
        }
        if self.allow_loopback_http && url.scheme() == "http" {
            return match url.host() {
                Some(Host::Ipv4(ip)) if ip.is_loopback() => Ok(url),
                Some(Host::Ipv6(ip)) if ip.is_loopback() => Ok(url),
                _ => Err("response URL is not https"),
            };
        }
        if url.scheme() != "https" {
            return Err("response URL is not https");
        }
        if url.port().is_some_and(|p| p != 443) {
            return Err("response URL uses a non-standard port");
        }
        let Some(Host::Domain(host)) = url.host() else {
            return Err("response URL host is not a domain name");
        };
        if crate::domain::parse_region("StackId", region).is_err() {
            return Err("the stack's region is unknown, so is its response bucket");
        }
        let bucket = format!("cloudformation-custom-resource-response-{}", region.replace('-', ""));
        let endpoints = [format!("s3.{region}.amazonaws.com"), format!("s3-{region}.amazonaws.com")];
        let host_ok = host.split_once('.').is_some_and(|(first, rest)| {
            first == bucket
                && (endpoints.iter().any(|e| e == rest) || (region == "us-east-1" && rest == "s3.amazonaws.com"))
        });
        if !host_ok {
            return Err("response URL host is not CloudFormation's response bucket of the stack's region");
        }
        let signed = url.query_pairs().any(|(k, _)| k == "X-Amz-Signature" || k == "Signature");
        if !signed {
            return Err("response URL is not presigned");
        }
        Ok(url)
    }
}

/// Sends the answer to CloudFormation.
#[async_trait]
pub trait ResponseSender: Send + Sync {
    async fn put(&self, url: &Url, body: &str) -> Result<(), String>;
}

/// The custom resource's properties, as `cfn/costradar-role.yaml` sends them.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConnectionProperties {
    tenant_id: String,
    account_id: String,
    role_arn: String,
    external_id: String,
    #[serde(default)]
    regions: Vec<String>,
    #[serde(default)]
    cur_bucket: Option<String>,
    #[serde(default)]
    cur_database: Option<String>,
    #[serde(default)]
    cur_table: Option<String>,
    #[serde(default)]
    cur_workgroup: Option<String>,
}

impl ConnectionProperties {
    fn cur(&self) -> Result<Option<CurSettings>, String> {
        let parts = [&self.cur_bucket, &self.cur_database, &self.cur_table, &self.cur_workgroup];
        let given: Vec<&str> = parts.iter().filter_map(|p| p.as_deref()).filter(|s| !s.is_empty()).collect();
        match given.len() {
            0 => Ok(None),
            4 => {
                let cur = CurSettings {
                    bucket: given[0].into(),
                    database: given[1].into(),
                    table: given[2].into(),
                    workgroup: given[3].into(),
                };
                cur.validate().map_err(|e| e.to_string())?;
                Ok(Some(cur))
            }
            _ => Err("CurBucket, CurDatabase, CurTable and CurWorkgroup are given together or not at all".into()),
        }
    }
}

/// How an answer is delivered, by what the caller has proved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Delivery<'a> {
    /// Nothing proved: sent once; a failed PUT is logged, never retried.
    Once,
    /// The registering stack's Delete: a failed PUT is retried (SNS delivers again).
    Retried,
    /// After proof: recorded, so a repeat delivery replays it, and retried.
    Recorded(&'a TenantId),
}

/// What happened to one message, for logs and tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// We answered CloudFormation.
    Answered { success: bool, reason: String },
    /// A repeat delivery: the stored answer was sent again.
    Replayed,
    /// A concurrent delivery is handling it.
    InProgress,
    /// Not answered: the message had no response URL we are willing to call.
    Refused(String),
    /// The answer to an unproved request could not be delivered; not retried.
    Undelivered(String),
}

/// A failure worth a retry (the Lambda fails and SNS delivers again).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Transient(pub String);

struct Common {
    request_id: String,
    stack_id: String,
    logical_resource_id: String,
    physical_resource_id: Option<String>,
    response_url: Url,
}

impl Common {
    /// The PhysicalResourceId of an answer given before the account is known.
    fn fallback_physical(&self) -> String {
        self.physical_resource_id.clone().unwrap_or_else(|| "costradar-invalid-request".into())
    }
}

/// A request's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RequestKind {
    Create,
    Update,
    Delete,
}

/// A message that parsed: where and how to answer it, and what it asks.
struct ParsedRequest {
    common: Common,
    kind: RequestKind,
    props: ConnectionProperties,
}

impl ParsedRequest {
    /// Whether the request is a Delete, which is always answered SUCCESS.
    fn is_delete(&self) -> bool {
        self.kind == RequestKind::Delete
    }
}

/// Why a message did not parse.
enum Unparsed {
    /// Not answered: the message had no response URL we are willing to call.
    Refused(String),
    /// Malformed, but answerable: refused once, SUCCESS for a Delete and FAILED otherwise.
    Malformed { common: Box<Common>, is_delete: bool, why: String },
}

/// The tenant and account of a request whose tenant and ExternalId matched.
struct Caller {
    tenant: Tenant,
    role: RoleArn,
    /// The answer's PhysicalResourceId: `costradar-<tenant>-<account>`.
    physical: String,
}

/// What to do with an authenticated request.
enum Decision<'a> {
    /// Answer CloudFormation, delivered as `delivery` says.
    Answer { delivery: Delivery<'a>, success: bool, reason: String, data: HashMap<String, String> },
    /// A repeat delivery: send the recorded answer again.
    Replay(String),
    /// A concurrent delivery is handling the request.
    InProgress,
}

impl Decision<'_> {
    /// A FAILED answer to a request that proved nothing: sent once.
    fn refuse(reason: impl Into<String>) -> Self {
        Decision::Answer { delivery: Delivery::Once, success: false, reason: reason.into(), data: HashMap::new() }
    }
}

fn check_field(name: &str, value: &str, max: usize, allowed: impl Fn(u8) -> bool) -> Result<(), String> {
    if value.is_empty() || value.len() > max || !value.bytes().all(allowed) {
        return Err(format!("malformed {name}"));
    }
    Ok(())
}

/// Checks the fields the answer echoes: an id CloudFormation would not accept is refused.
fn check_header(common: &Common) -> Result<(), String> {
    check_field("RequestId", &common.request_id, 128, |b| b.is_ascii_alphanumeric() || b == b'-')?;
    check_field("StackId", &common.stack_id, 1024, |b| b.is_ascii_graphic())?;
    check_field("LogicalResourceId", &common.logical_resource_id, 255, |b| b.is_ascii_alphanumeric())?;
    match &common.physical_resource_id {
        Some(p) => check_field("PhysicalResourceId", p, 1024, |b| b.is_ascii_graphic()),
        None => Ok(()),
    }
}

/// `arn:aws:cloudformation:<region>:<account>:stack/<name>/<id>` → the stack's region, when it
/// is a well-formed region name.
fn stack_region(stack_id: &str) -> Option<&str> {
    let region = stack_id.strip_prefix("arn:aws:cloudformation:")?.split(':').next()?;
    crate::domain::parse_region("StackId", region).ok().map(|_| region)
}

/// `arn:aws:cloudformation:<region>:<account>:stack/<name>/<id>` → the stack's account.
fn stack_account(stack_id: &str) -> Option<AccountId> {
    let mut parts = stack_id.splitn(6, ':');
    let (Some("arn"), Some("aws"), Some("cloudformation"), Some(_region), Some(account), Some(res)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    res.starts_with("stack/").then_some(())?;
    AccountId::parse(account).ok()
}

fn response(common: &Common, physical: &str, success: bool, reason: &str, data: HashMap<String, String>) -> String {
    let mut r = CfnResponse::default();
    r.status = if success { CfnStatus::Success } else { CfnStatus::Failed };
    let mut reason = reason.to_owned();
    if reason.len() > REASON_MAX {
        let mut cut = REASON_MAX;
        while !reason.is_char_boundary(cut) {
            cut -= 1;
        }
        reason.truncate(cut);
    }
    r.reason = Some(reason);
    r.physical_resource_id = physical.to_owned();
    r.stack_id = common.stack_id.clone();
    r.request_id = common.request_id.clone();
    r.logical_resource_id = common.logical_resource_id.clone();
    // The answer may carry the account's ingest token: CloudFormation masks it (NoEcho).
    r.no_echo = data.contains_key(INGEST_TOKEN_ATTRIBUTE);
    r.data = data;
    serde_json::to_string(&r).expect("response serialises")
}

impl Onboarding {
    /// Handles one SNS message. `Ok` whenever the message needs no retry (including refusals);
    /// `Err` only for a transient failure before CloudFormation was answered.
    ///
    /// The message is parsed, its caller authenticated, the request decided, then answered.
    pub async fn handle_custom_resource(
        &self,
        sender: &dyn ResponseSender,
        message: &str,
    ) -> Result<Outcome, Transient> {
        let request = match self.parse(message) {
            Ok(r) => r,
            Err(Unparsed::Refused(why)) => return Ok(Outcome::Refused(why)),
            Err(Unparsed::Malformed { common, is_delete, why }) => {
                return self.refuse(sender, &common, &common.fallback_physical(), is_delete, &why).await
            }
        };
        let caller = match self.authenticate(&request).await? {
            Ok(c) => c,
            Err(why) => {
                let physical = request.common.fallback_physical();
                return self.refuse(sender, &request.common, &physical, request.is_delete(), &why).await;
            }
        };
        let common = &request.common;
        match self.decide(&request, &caller).await? {
            Decision::Answer { delivery, success, reason, data } => {
                self.answer(sender, delivery, common, &caller.physical, success, &reason, data).await
            }
            Decision::Replay(body) => {
                sender.put(&common.response_url, &body).await.map_err(Transient)?;
                Ok(Outcome::Replayed)
            }
            Decision::InProgress => Ok(Outcome::InProgress),
        }
    }

    /// Reads the fields an answer needs; refuses a message with no ResponseURL we are willing to call.
    fn route(&self, message: &str) -> Result<(Value, Common), String> {
        if message.len() > MESSAGE_MAX {
            tracing::warn!(len = message.len(), "custom-resource message too large; refused");
            return Err("message too large".into());
        }
        let Ok(raw) = serde_json::from_str::<Value>(message) else {
            tracing::warn!("custom-resource message is not JSON; refused");
            return Err("message is not JSON".into());
        };
        let Some(url) = raw.get("ResponseURL").and_then(Value::as_str) else {
            tracing::warn!("custom-resource message without ResponseURL; refused");
            return Err("no ResponseURL".into());
        };
        // The response bucket must be the stack's region's: no StackId region, no call.
        let region = raw.get("StackId").and_then(Value::as_str).and_then(stack_region).unwrap_or_default();
        let response_url = match self.settings().response_urls.check(url, region) {
            Ok(u) => u,
            Err(why) => {
                // Possible SSRF attempt: log the host only, never call it.
                let host = Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
                tracing::warn!(host, why, "custom-resource ResponseURL refused");
                return Err(why.into());
            }
        };
        let str_field = |k: &str| raw.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        let common = Common {
            request_id: str_field("RequestId"),
            stack_id: str_field("StackId"),
            logical_resource_id: str_field("LogicalResourceId"),
            physical_resource_id: raw.get("PhysicalResourceId").and_then(Value::as_str).map(str::to_owned),
            response_url,
        };
        Ok((raw, common))
    }

    /// Turns the raw message into a request, or says why it is refused.
    fn parse(&self, message: &str) -> Result<ParsedRequest, Unparsed> {
        let (raw, common) = self.route(message).map_err(Unparsed::Refused)?;
        let common = Box::new(common);
        let is_delete = raw.get("RequestType").and_then(Value::as_str) == Some("Delete");
        // CloudFormation needs an answer even to a malformed request; a FAILED (or, for
        // Delete, SUCCESS) that changes nothing.
        if let Err(why) = check_header(&common) {
            return Err(Unparsed::Malformed { common, is_delete, why });
        }
        let Ok(request) = serde_json::from_value::<CfnRequest<Value, Value>>(raw) else {
            let why = "malformed custom-resource request".into();
            return Err(Unparsed::Malformed { common, is_delete, why });
        };
        let (props, kind) = match request {
            CfnRequest::Create(r) => (r.resource_properties, RequestKind::Create),
            CfnRequest::Update(r) => (r.resource_properties, RequestKind::Update),
            CfnRequest::Delete(r) => (r.resource_properties, RequestKind::Delete),
            _ => return Err(Unparsed::Malformed { common, is_delete: false, why: "unknown RequestType".into() }),
        };
        match serde_json::from_value::<ConnectionProperties>(props) {
            Ok(props) => Ok(ParsedRequest { common: *common, kind, props }),
            Err(e) => {
                let why = format!("malformed ResourceProperties: {e}");
                Err(Unparsed::Malformed { common, is_delete: kind == RequestKind::Delete, why })
            }
        }
    }

    /// Checks the tenant, the ExternalId and that role, AccountId and stack agree; `Ok(Err(why))` refuses.
    async fn authenticate(&self, request: &ParsedRequest) -> Result<Result<Caller, String>, Transient> {
        let (common, props) = (&request.common, &request.props);
        // Authenticate before anything is written: the tenant exists and the ExternalId matches.
        let tenant = match TenantId::parse(&props.tenant_id) {
            Ok(id) => match self.tenant(&id).await {
                Ok(t) if t.external_id.ct_eq(&props.external_id) => Some(t),
                Ok(_) | Err(OnboardingError::TenantNotFound) => None,
                Err(e) if request.is_delete() => {
                    tracing::error!(error = %e, "store unavailable on Delete; answering SUCCESS, the next assume will mark the account revoked");
                    None
                }
                Err(e) => return Err(Transient(e.to_string())),
            },
            Err(_) => None,
        };
        let Some(tenant) = tenant else {
            tracing::warn!(request_id = %common.request_id, "custom resource for an unknown tenant or with a wrong ExternalId");
            return Ok(Err(GENERIC_REASON.into()));
        };

        let role = match RoleArn::parse(&props.role_arn) {
            Ok(r) => r,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let same_account = AccountId::parse(&props.account_id).ok().as_ref() == Some(role.account_id())
            && stack_account(&common.stack_id).as_ref() == Some(role.account_id());
        if !same_account {
            let why = "the AccountId parameter, the RoleArn's account and the stack's account must be the same account";
            return Ok(Err(why.into()));
        }
        let physical = format!("costradar-{}-{}", tenant.id, role.account_id());
        Ok(Ok(Caller { tenant, role, physical }))
    }

    /// Decides an authenticated request: Delete, Update from its stack, budget, request record, connection.
    async fn decide<'a>(&self, request: &ParsedRequest, caller: &'a Caller) -> Result<Decision<'a>, Transient> {
        let (common, props, tenant) = (&request.common, &request.props, &caller.tenant.id);
        // Update and Delete come only from the stack that registered the account: the StackId
        // it recorded. The ExternalId is no secret, and the role ARN is predictable.
        let registered = match self.account(tenant, caller.role.account_id()).await {
            Ok(a) => Some(a),
            Err(OnboardingError::AccountNotFound) => None,
            Err(e) if request.is_delete() => {
                tracing::error!(error = %e, "store unavailable on Delete; answering SUCCESS, the next assume will mark the account revoked");
                None
            }
            Err(e) => return Err(Transient(e.to_string())),
        };
        let from_its_stack =
            registered.as_ref().filter(|a| a.registration.stack_id() == Some(common.stack_id.as_str()));
        if request.is_delete() {
            return Ok(self.decide_delete(caller, from_its_stack).await);
        }
        if request.kind == RequestKind::Update && from_its_stack.is_none() {
            tracing::warn!(request_id = %common.request_id, "Update from a stack that did not register the account");
            return Ok(Decision::refuse(UNVERIFIED_REASON));
        }

        // Everything that can be refused is checked before the request is recorded, so a bad
        // request leaves no trace.
        let cur = match props
            .cur()
            .and_then(|c| parse_regions("Regions", &props.regions).map(|_| c).map_err(|e| e.to_string()))
        {
            Ok(c) => c,
            Err(why) => return Ok(Decision::refuse(why)),
        };
        // The tenant's verification budget: forged requests cannot hold executions without end.
        let hour = self.now().timestamp().div_euclid(3600) * 3600;
        match self.store().unproved_count(tenant, hour).await {
            Ok(n) if n >= UNPROVED_PER_TENANT_HOUR => {
                tracing::warn!(tenant = %tenant, "the tenant's hour of failed proofs is spent; refused without verifying");
                return Ok(Decision::refuse(BUDGET_SPENT_REASON));
            }
            Ok(_) => {}
            Err(e) => return Err(Transient(e.to_string())),
        }
        match self.store().begin_request(tenant, &common.request_id, self.now(), chrono::Duration::minutes(5)).await {
            Ok(RequestState::Started) => {}
            Ok(RequestState::InProgress) => return Ok(Decision::InProgress),
            Ok(RequestState::Done(body)) => return Ok(Decision::Replay(body)),
            Err(e) => return Err(Transient(e.to_string())),
        }
        self.decide_connect(request, caller, cur, hour).await
    }

    /// Decides a Delete: the account is disconnected if its own stack asks; the answer is SUCCESS.
    async fn decide_delete(&self, caller: &Caller, from_its_stack: Option<&Account>) -> Decision<'static> {
        // Idempotent by nature, so not recorded. Whatever happens, the answer is SUCCESS.
        let reason = match from_its_stack {
            Some(a) if a.status != crate::domain::AccountStatus::Disconnected => {
                match self
                    .disconnect_account(
                        &caller.tenant.id,
                        caller.role.account_id(),
                        "the customer deleted the costradar stack",
                    )
                    .await
                {
                    Ok(_) => "disconnected",
                    Err(e) => {
                        tracing::error!(error = %e, "disconnect failed; answering SUCCESS, the next assume will mark the account revoked");
                        "costradar will detect the removal on its next access"
                    }
                }
            }
            _ => "nothing to disconnect",
        };
        // The registering stack's Delete is worth a retry; anyone else's is answered once.
        let delivery = if from_its_stack.is_some() { Delivery::Retried } else { Delivery::Once };
        Decision::Answer { delivery, success: true, reason: reason.into(), data: HashMap::new() }
    }

    /// Connects a recorded request's account; an unproved role releases the request and spends budget.
    async fn decide_connect<'a>(
        &self,
        request: &ParsedRequest,
        caller: &'a Caller,
        cur: Option<CurSettings>,
        hour: i64,
    ) -> Result<Decision<'a>, Transient> {
        let (common, props, tenant) = (&request.common, &request.props, &caller.tenant.id);
        let req = AccountRequest {
            role_arn: props.role_arn.clone(),
            regions: props.regions.clone(),
            cur,
            registration: Registration::CustomResource { stack_id: common.stack_id.clone() },
        };
        let (success, reason, data) = match self.connect_account(tenant, req, &self.settings().verify).await {
            Ok(c) => {
                let mut data = HashMap::from([
                    ("AccountStatus".to_owned(), c.account.status.as_str().to_owned()),
                    ("TenantId".to_owned(), tenant.to_string()),
                ]);
                if let Some(token) = c.ingest_token {
                    data.insert(INGEST_TOKEN_ATTRIBUTE.to_owned(), token.expose().to_owned());
                }
                (c.account.is_usable(), c.account.status_reason.clone(), data)
            }
            Err(e @ (OnboardingError::Unavailable(_) | OnboardingError::Internal(_) | OnboardingError::Conflict)) => {
                self.release_request(tenant, &common.request_id).await;
                return Err(Transient(e.to_string()));
            }
            // Not proved: the request leaves no trace either, and the answer is the generic one.
            Err(OnboardingError::NotVerified(_)) => {
                self.release_request(tenant, &common.request_id).await;
                if let Err(e) = self.store().count_unproved(tenant, hour).await {
                    tracing::error!(error = %e, "could not count a failed proof");
                }
                return Ok(Decision::refuse(UNVERIFIED_REASON));
            }
            Err(e) => (false, e.to_string(), HashMap::new()),
        };
        Ok(Decision::Answer { delivery: Delivery::Recorded(tenant), success, reason, data })
    }

    async fn release_request(&self, tenant: &TenantId, request_id: &str) {
        if let Err(e) = self.store().abandon_request(tenant, request_id).await {
            tracing::error!(error = %e, "could not release the request record");
        }
    }

    /// A FAILED (or, for a Delete, SUCCESS) answer to a request that proved nothing: sent once.
    async fn refuse(
        &self,
        sender: &dyn ResponseSender,
        common: &Common,
        physical: &str,
        success: bool,
        reason: &str,
    ) -> Result<Outcome, Transient> {
        self.answer(sender, Delivery::Once, common, physical, success, reason, HashMap::new()).await
    }

    /// Sends the answer as `delivery` says: recorded first (so that a repeat delivery replays
    /// exactly this body) and retried, retried only, or sent once. Requests refused before the
    /// caller proved anything are never recorded and never retried.
    #[allow(clippy::too_many_arguments)]
    async fn answer(
        &self,
        sender: &dyn ResponseSender,
        delivery: Delivery<'_>,
        common: &Common,
        physical: &str,
        success: bool,
        reason: &str,
        mut data: HashMap<String, String>,
    ) -> Result<Outcome, Transient> {
        let body = response(common, physical, success, reason, data.clone());
        if let Delivery::Recorded(tenant) = delivery {
            let recorded = self.store().finish_request(tenant, &common.request_id, &body, self.now()).await;
            recorded.map_err(|e| Transient(e.to_string()))?;
        }
        if let Err(e) = sender.put(&common.response_url, &body).await {
            if delivery == Delivery::Once {
                // A forged message's URL may fail on purpose: no retry, no dead letter to bury
                // the real stuck stacks under.
                tracing::warn!(request_id = %common.request_id, error = %e, "answer to an unproved request undelivered; not retried");
                return Ok(Outcome::Undelivered(e));
            }
            return Err(Transient(e));
        }
        if let (Delivery::Recorded(tenant), Some(_)) = (delivery, data.remove(INGEST_TOKEN_ATTRIBUTE)) {
            // CloudFormation has the token: the record keeps the answer without it. A repeat
            // delivery then replays an answer CloudFormation has already taken.
            let redacted = response(common, physical, success, reason, data);
            if let Err(e) = self.store().finish_request(tenant, &common.request_id, &redacted, self.now()).await {
                tracing::error!(error = %e, "could not redact the recorded answer; it expires with the request record");
            }
        }
        tracing::info!(request_id = %common.request_id, success, ?delivery, "custom resource answered");
        Ok(Outcome::Answered { success, reason: reason.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_url_allow_list() {
        let p = ResponseUrlPolicy::default();
        let ok = [
            ("us-east-1", "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/s/1%7CRes%7C2?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc"),
            ("us-east-1", "https://cloudformation-custom-resource-response-useast1.s3.us-east-1.amazonaws.com/x?X-Amz-Signature=abc"),
            ("eu-west-1", "https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/x?X-Amz-Signature=abc"),
            ("ap-southeast-2", "https://cloudformation-custom-resource-response-apsoutheast2.s3-ap-southeast-2.amazonaws.com/x?AWSAccessKeyId=A&Expires=1&Signature=abc"),
            ("us-east-1", "https://CLOUDFORMATION-custom-resource-response-useast1.s3.amazonaws.com:443/x?X-Amz-Signature=abc"),
        ];
        for (region, u) in ok {
            assert!(p.check(u, region).is_ok(), "{u}: {:?}", p.check(u, region));
        }
        let bad = [
            "http://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?X-Amz-Signature=a",
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com:8443/x?X-Amz-Signature=a",
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x",
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com.evil.com/x?X-Amz-Signature=a",
            "https://evil.com/cloudformation-custom-resource-response-useast1.s3.amazonaws.com?X-Amz-Signature=a",
            "https://user:pw@cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?X-Amz-Signature=a",
            "https://169.254.169.254/latest/meta-data?X-Amz-Signature=a",
            "https://[::1]/x?X-Amz-Signature=a",
            "http://127.0.0.1:8080/x",
            "https://my-bucket.s3.amazonaws.com/x?X-Amz-Signature=a",
            "https://cloudformation-custom-resource-response-.s3.amazonaws.com/x?X-Amz-Signature=a",
            "file:///etc/passwd",
            "gopher://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/",
            "not a url",
        ];
        for u in bad {
            assert!(p.check(u, "us-east-1").is_err(), "{u} was accepted");
        }
        let test = ResponseUrlPolicy { allow_loopback_http: true };
        assert!(test.check("http://127.0.0.1:8080/x", "").is_ok());
        assert!(test.check("http://10.0.0.1:8080/x", "").is_err());
        assert!(test.check("http://example.com/x", "").is_err());
    }

    #[test]
    fn stack_account_comes_from_the_stack_arn() {
        assert_eq!(
            stack_account("arn:aws:cloudformation:eu-west-1:123456789012:stack/costradar/1e2f").unwrap().as_str(),
            "123456789012"
        );
        assert!(stack_account("arn:aws-cn:cloudformation:cn-north-1:123456789012:stack/x/y").is_none());
        assert!(stack_account("arn:aws:cloudformation:eu-west-1:123456789012:changeSet/x/y").is_none());
    }
}
