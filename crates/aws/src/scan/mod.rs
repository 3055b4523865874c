//! The scan's AWS adapter: one module per service turning SDK answers into
//! `rules::facts`, every list call paginated, every call counted, every failure recorded with
//! its IAM action. [`AwsSessionOpener`] assumes the customer's role with the scan's session
//! policy; [`AwsAccountSession`] implements `scan::AccountSession` over clients built from the
//! assumed credentials with adaptive retry (or over any [`ClientSource`], which is how the
//! aws-smithy-mocks tests drive it).

pub mod analytics;
pub mod coh;
pub mod compute_optimizer;
pub mod dynamodb;
pub mod ec2;
pub mod elasticache;
pub mod elbv2;
pub mod lambda;
pub mod logs;
pub mod metrics;
pub mod network;
pub mod rds;
#[cfg(test)]
mod recommenders_tests;
pub mod regions;
pub mod storage;
#[cfg(test)]
mod tests;
pub mod trusted_advisor;

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use chrono::{DateTime, Utc};

use costradar_core::access::permissions::{session_policy, Task};
use costradar_core::access::{AssumeError, AssumeRequest, RoleAssumer, SessionName, TemporaryCredentials};

use crate::customer_config;
use costradar_core::domain::scan_run::ActionError;
use costradar_core::domain::AccountId;
use costradar_core::rules::facts::{Recommendation, RegionInventory, Tags};
use costradar_core::scan::{
    AccountSession, AccountWide, MetricsWindow, Recommended, RegionScan, SessionOpener, Target,
};

/// Calls made and failures, per region or account-wide.
#[derive(Debug, Default)]
pub struct Calls {
    pub count: u32,
    pub errors: Vec<ActionError>,
}

impl Calls {
    /// Counts one call (one page) and keeps its output, or records why it failed.
    pub fn record<T, E, R>(&mut self, action: &str, r: Result<T, SdkError<E, R>>) -> Option<T>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: Debug,
    {
        self.count += 1;
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                let err = action_error(action, &e);
                tracing::warn!(action, code = %err.code, "scan call failed");
                self.errors.push(err);
                None
            }
        }
    }

    pub fn merge(&mut self, other: Calls) {
        self.count += other.count;
        self.errors.extend(other.errors);
    }
}

/// The error as the run record keeps it: the action, AWS's code, a short message.
pub fn action_error<E, R>(action: &str, e: &SdkError<E, R>) -> ActionError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug,
{
    let code = e.code().map(str::to_owned).unwrap_or_else(|| {
        match e {
            SdkError::TimeoutError(_) => "Timeout",
            SdkError::DispatchFailure(_) => "Unreachable",
            SdkError::ResponseError(_) => "BadResponse",
            SdkError::ConstructionFailure(_) => "BadRequest",
            _ => "Unknown",
        }
        .to_owned()
    });
    let mut message = e.message().map(str::to_owned).unwrap_or_else(|| format!("{}", DisplayErrorContext(e)));
    if message.len() > 300 {
        let mut cut = 300;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
    }
    ActionError { action: action.to_owned(), code, message }
}

/// What one family module's listings found: a function that puts it into the region's
/// inventory, and the calls it made.
pub type Found = (Box<dyn FnOnce(&mut RegionInventory) + Send>, Calls);

pub fn time(t: Option<&aws_sdk_ec2::primitives::DateTime>) -> Option<DateTime<Utc>> {
    let t = t?;
    DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos())
}

pub fn smithy_time(t: DateTime<Utc>) -> aws_sdk_ec2::primitives::DateTime {
    aws_sdk_ec2::primitives::DateTime::from_secs(t.timestamp())
}

/// Tags from any SDK's key/value pairs.
pub fn tags<'a>(pairs: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>) -> Tags {
    pairs.filter_map(|(k, v)| Some((k?.to_owned(), v.unwrap_or_default().to_owned()))).collect()
}

/// The clients of one region.
#[derive(Clone, Debug)]
pub struct RegionClients {
    pub ec2: aws_sdk_ec2::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    pub rds: aws_sdk_rds::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub elasticache: aws_sdk_elasticache::Client,
    pub s3: aws_sdk_s3::Client,
    pub efs: aws_sdk_efs::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub backup: aws_sdk_backup::Client,
    pub redshift: aws_sdk_redshift::Client,
    pub opensearch: aws_sdk_opensearch::Client,
    pub eks: aws_sdk_eks::Client,
    /// Route 53 is global: the network family reads it with the us-east-1 region's clients only.
    pub route53: aws_sdk_route53::Client,
}

/// Where the session's clients come from.
pub trait ClientSource: Send + Sync {
    fn region(&self, region: &str) -> RegionClients;
    /// `account` and `ec2` (for DescribeRegions) in the session's home region.
    fn account(&self) -> (aws_sdk_account::Client, aws_sdk_ec2::Client);
    /// Cost Optimization Hub answers in us-east-1 only.
    fn cost_optimization_hub(&self) -> aws_sdk_costoptimizationhub::Client;
    /// Compute Optimizer answers per region.
    fn compute_optimizer(&self, region: &str) -> aws_sdk_computeoptimizer::Client;
    /// The Trusted Advisor API, in us-east-1.
    fn trusted_advisor(&self) -> aws_sdk_trustedadvisor::Client;
}

/// Clients from the assumed role's credentials, with adaptive retry (`aws::customer_config`).
pub struct AssumedClients {
    base: aws_config::SdkConfig,
    creds: TemporaryCredentials,
}

impl ClientSource for AssumedClients {
    fn region(&self, region: &str) -> RegionClients {
        let c = customer_config(&self.base, &self.creds, region);
        RegionClients {
            ec2: aws_sdk_ec2::Client::new(&c),
            elbv2: aws_sdk_elasticloadbalancingv2::Client::new(&c),
            rds: aws_sdk_rds::Client::new(&c),
            logs: aws_sdk_cloudwatchlogs::Client::new(&c),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&c),
            lambda: aws_sdk_lambda::Client::new(&c),
            dynamodb: aws_sdk_dynamodb::Client::new(&c),
            elasticache: aws_sdk_elasticache::Client::new(&c),
            s3: aws_sdk_s3::Client::new(&c),
            efs: aws_sdk_efs::Client::new(&c),
            ecr: aws_sdk_ecr::Client::new(&c),
            backup: aws_sdk_backup::Client::new(&c),
            redshift: aws_sdk_redshift::Client::new(&c),
            opensearch: aws_sdk_opensearch::Client::new(&c),
            eks: aws_sdk_eks::Client::new(&c),
            route53: aws_sdk_route53::Client::new(&c),
        }
    }

    fn account(&self) -> (aws_sdk_account::Client, aws_sdk_ec2::Client) {
        let home = self.base.region().map_or("us-east-1".to_owned(), |r| r.to_string());
        let c = customer_config(&self.base, &self.creds, &home);
        (aws_sdk_account::Client::new(&c), aws_sdk_ec2::Client::new(&c))
    }

    fn cost_optimization_hub(&self) -> aws_sdk_costoptimizationhub::Client {
        aws_sdk_costoptimizationhub::Client::new(&customer_config(&self.base, &self.creds, "us-east-1"))
    }

    fn compute_optimizer(&self, region: &str) -> aws_sdk_computeoptimizer::Client {
        aws_sdk_computeoptimizer::Client::new(&customer_config(&self.base, &self.creds, region))
    }

    fn trusted_advisor(&self) -> aws_sdk_trustedadvisor::Client {
        aws_sdk_trustedadvisor::Client::new(&customer_config(&self.base, &self.creds, "us-east-1"))
    }
}

pub struct AwsAccountSession {
    clients: Box<dyn ClientSource>,
    account_id: AccountId,
}

impl AwsAccountSession {
    pub fn new(clients: Box<dyn ClientSource>, account_id: &AccountId) -> Self {
        Self { clients, account_id: account_id.clone() }
    }
}

/// Scans one region of `account_id`: the listings at once, then the metrics of what they
/// found.
pub async fn scan_region(c: &RegionClients, account_id: &str, region: &str, window: &MetricsWindow) -> RegionScan {
    let (ec2, lbs, dbs, logs, pcs, tables, caches, (storage, c7), (analytics, c8), (network, c9)) = tokio::join!(
        ec2::scan(&c.ec2, account_id),
        elbv2::scan(&c.elbv2),
        rds::scan(&c.rds),
        logs::scan(&c.logs),
        lambda::scan(&c.lambda, &c.cloudwatch),
        dynamodb::scan(&c.dynamodb),
        elasticache::scan(&c.elasticache),
        storage::scan(c, account_id, region),
        analytics::scan(c, account_id, region),
        network::scan(c, account_id, region)
    );
    let mut calls = Calls::default();
    let mut scan = RegionScan { inventory: RegionInventory::new(region), ..Default::default() };
    let inv = &mut scan.inventory;
    let listed = &mut scan.listed;
    let (e, ec2_calls) = ec2;
    calls.merge(ec2_calls);
    listed.volumes = e.volumes.is_some();
    listed.instances = e.instances.is_some();
    listed.snapshots = e.snapshots.is_some();
    listed.images = e.images.is_some();
    listed.addresses = e.addresses.is_some();
    listed.nat_gateways = e.nat_gateways.is_some();
    inv.volumes = e.volumes.unwrap_or_default();
    inv.instances = e.instances.unwrap_or_default();
    inv.snapshots = e.snapshots.unwrap_or_default();
    inv.images = e.images.unwrap_or_default();
    inv.addresses = e.addresses.unwrap_or_default();
    inv.nat_gateways = e.nat_gateways.unwrap_or_default();
    let (l, c1) = lbs;
    calls.merge(c1);
    listed.load_balancers = l.is_some();
    inv.load_balancers = l.unwrap_or_default();
    let (d, c2) = dbs;
    calls.merge(c2);
    listed.db_instances = d.is_some();
    inv.db_instances = d.unwrap_or_default();
    let (g, c3) = logs;
    calls.merge(c3);
    listed.log_groups = g.is_some();
    inv.log_groups = g.unwrap_or_default();
    // Lambda, DynamoDB and ElastiCache rules read one resource (or replication group) each and
    // depend on no other listing: a failed listing leaves them empty (the region partial), never wrong.
    let ((p, c4), (t, c5), (k, c6)) = (pcs, tables, caches);
    // A table whose DescribeTable failed is left out of the list: complete only without errors.
    listed.dynamo_tables = t.is_some() && c5.errors.is_empty();
    calls.merge(c4);
    calls.merge(c5);
    calls.merge(c6);
    inv.provisioned_concurrency = p.unwrap_or_default();
    inv.dynamo_tables = t.unwrap_or_default();
    inv.cache_clusters = k.unwrap_or_default();
    // The families of the storage, analytics and network modules fill their own facts.
    for (fill, family_calls) in [(storage, c7), (analytics, c8), (network, c9)] {
        fill(inv);
        calls.merge(family_calls);
    }
    // Alarms name resources of the other listings: judged here, where it is known which are
    // complete, before the scan drops the facts of incomplete ones (`keep_dependable`).
    costradar_core::rules::cloudwatch::resolve_targets(inv, listed);
    calls.merge(metrics::fill(&c.cloudwatch, inv, window).await);
    scan.api_calls = calls.count;
    scan.errors = calls.errors;
    scan
}

#[async_trait]
impl AccountSession for AwsAccountSession {
    async fn enabled_regions(&self) -> AccountWide<Vec<String>> {
        let (account, ec2) = self.clients.account();
        regions::enabled(&account, &ec2).await
    }

    async fn scan_region(&self, region: &str, window: &MetricsWindow) -> RegionScan {
        scan_region(&self.clients.region(region), self.account_id.as_str(), region, window).await
    }

    async fn recommendations(&self, account_id: &AccountId) -> AccountWide<Vec<Recommendation>> {
        coh::list(&self.clients.cost_optimization_hub(), account_id.as_str()).await
    }

    async fn compute_optimizer(&self, account_id: &AccountId, regions: &[String]) -> AccountWide<Recommended> {
        let clients: Vec<_> = regions.iter().map(|r| (r.clone(), self.clients.compute_optimizer(r))).collect();
        compute_optimizer::list(&clients, account_id.as_str()).await
    }

    async fn trusted_advisor(&self, _: &AccountId) -> AccountWide<Recommended> {
        trusted_advisor::list(&self.clients.trusted_advisor()).await
    }
}

/// Assumes the customer's role for a scan: ExternalId, `costradar-<tenant>-<time>` session
/// name, and the scan's session policy (exactly the scan's actions).
pub struct AwsSessionOpener {
    assumer: Arc<dyn RoleAssumer>,
    base: aws_config::SdkConfig,
}

impl AwsSessionOpener {
    pub fn new(assumer: Arc<dyn RoleAssumer>, base: aws_config::SdkConfig) -> Self {
        Self { assumer, base }
    }
}

#[async_trait]
impl SessionOpener for AwsSessionOpener {
    async fn open(&self, target: &Target<'_>, now: DateTime<Utc>) -> Result<Arc<dyn AccountSession>, AssumeError> {
        let policy = session_policy(Task::Scan, target.role_arn);
        let creds = self
            .assumer
            .assume(&AssumeRequest {
                role_arn: target.role_arn,
                external_id: Some(target.external_id),
                session_name: &SessionName::new(target.tenant_id, now),
                policy: Some(&policy.inline),
                policy_arns: &policy.managed_arns,
            })
            .await?;
        let clients = AssumedClients { base: self.base.clone(), creds };
        Ok(Arc::new(AwsAccountSession::new(Box::new(clients), target.account_id)))
    }
}
