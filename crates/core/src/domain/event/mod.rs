//! The real-time event catalogue: which EventBridge events costradar understands, and the
//! cost-relevant change each one describes. Pure: parsing and classification only; prices
//! come from `pricing`, decisions from `rules::realtime`. CloudTrail API calls are classified
//! by one submodule per AWS service; the field readers they share live here.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json_borrow::Value as Json;

use super::{AccountId, InvalidInput};

mod dax;
mod dynamodb;
mod ebs;
mod ec2;
pub use ec2::is_image_id;
mod cloudwatch;
mod efs;
mod eks;
mod elasticache;
mod elb;
mod emr;
mod kinesis;
mod lambda;
mod msk;
mod nat;
mod opensearch;
mod rds;
mod redshift;
mod route53;
mod sagemaker;
mod vpc;
pub use cloudwatch::MAX_ALARM_QUERIES;
pub use efs::MAX_PROVISIONED_MIBPS;
pub use vpc::MAX_ENDPOINT_ZONES;

/// The envelope an API destination posts: one EventBridge event. `detail` stays raw JSON until
/// [`classify`] reads it into a tree that borrows its strings from it: building an owned tree
/// (with the ordered maps the AWS SDK's `preserve_order` turns on) was most of a request's time.
pub type Envelope = aws_lambda_events::eventbridge::EventBridgeEvent<Box<RawValue>>;

macro_rules! kinds {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// Every kind of event costradar recognises.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum EventKind { $(#[serde(rename = $name)] $variant),* }

        impl EventKind {
            pub const ALL: &'static [EventKind] = &[$(EventKind::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $(EventKind::$variant => $name),* }
            }
        }
    };
}

kinds! {
    Ec2RunInstances => "ec2.run-instances",
    Ec2StartInstances => "ec2.start-instances",
    Ec2StopInstances => "ec2.stop-instances",
    Ec2TerminateInstances => "ec2.terminate-instances",
    Ec2StateRunning => "ec2.state-running",
    Ec2StateStopped => "ec2.state-stopped",
    Ec2StateTerminated => "ec2.state-terminated",
    Ec2ModifyInstanceType => "ec2.modify-instance-type",
    EbsCreateVolume => "ebs.create-volume",
    EbsModifyVolume => "ebs.modify-volume",
    Ec2AllocateAddress => "ec2.allocate-address",
    Ec2ReleaseAddress => "ec2.release-address",
    Ec2CreateNatGateway => "ec2.create-nat-gateway",
    Ec2DeleteNatGateway => "ec2.delete-nat-gateway",
    ElbCreateLoadBalancer => "elb.create-load-balancer",
    RdsCreateDbInstance => "rds.create-db-instance",
    RdsModifyDbInstance => "rds.modify-db-instance",
    RdsCreateDbCluster => "rds.create-db-cluster",
    RdsStartDbInstance => "rds.start-db-instance",
    RdsRestoreDbInstanceFromSnapshot => "rds.restore-db-instance-from-db-snapshot",
    RdsRestoreDbInstanceToPointInTime => "rds.restore-db-instance-to-point-in-time",
    RdsRestoreDbClusterFromSnapshot => "rds.restore-db-cluster-from-snapshot",
    RdsRestoreDbClusterToPointInTime => "rds.restore-db-cluster-to-point-in-time",
    ElasticacheCreateCacheCluster => "elasticache.create-cache-cluster",
    ElasticacheCreateReplicationGroup => "elasticache.create-replication-group",
    EksCreateCluster => "eks.create-cluster",
    EksCreateNodegroup => "eks.create-nodegroup",
    LambdaProvisionedConcurrency => "lambda.provisioned-concurrency",
    SagemakerCreateEndpointConfig => "sagemaker.create-endpoint-config",
    SagemakerCreateEndpoint => "sagemaker.create-endpoint",
    SagemakerCreateNotebookInstance => "sagemaker.create-notebook-instance",
    SagemakerCreateTrainingJob => "sagemaker.create-training-job",
    RedshiftCreateCluster => "redshift.create-cluster",
    OpensearchCreateDomain => "opensearch.create-domain",
    MskCreateCluster => "msk.create-cluster",
    DynamodbCreateTable => "dynamodb.create-table",
    DynamodbUpdateTable => "dynamodb.update-table",
    KinesisCreateStream => "kinesis.create-stream",
    KinesisUpdateShardCount => "kinesis.update-shard-count",
    EmrRunJobFlow => "emr.run-job-flow",
    DaxCreateCluster => "dax.create-cluster",
    EfsCreateFileSystem => "efs.create-file-system",
    EfsUpdateFileSystem => "efs.update-file-system",
    Ec2CreateVpcEndpoint => "ec2.create-vpc-endpoint",
    Ec2CreateTransitGatewayVpcAttachment => "ec2.create-transit-gateway-vpc-attachment",
    Route53CreateHostedZone => "route53.create-hosted-zone",
    CloudwatchPutMetricAlarm => "cloudwatch.put-metric-alarm",
    BillingAlarm => "cloudwatch.billing-alarm",
    Unknown => "unknown",
}

/// Who made the change and where, from the CloudTrail record when there is one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    pub arn: Option<String>,
    pub source_ip: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceOp {
    Launch,
    Start,
    Stop,
    Terminate,
}

/// An EBS volume's billable configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeSpec {
    pub volume_type: String,
    pub size_gib: u32,
    pub iops: Option<u32>,
    pub throughput_mibps: Option<u32>,
}

/// The cost-relevant change an event describes, normalised across its sources.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    Instances {
        op: InstanceOp,
        ids: Vec<String>,
        /// Known from RunInstances; other operations need enrichment.
        instance_type: Option<String>,
        count: u32,
        tenancy: Option<String>,
        platform: Option<String>,
        /// The AMI a launch runs: its platform (from enrichment) prices licensed OSes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        image_id: Option<String>,
        /// Whether a launch asked for a public IPv4 address (`associatePublicIpAddress`);
        /// `None` when the event does not say (the subnet decides).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        public_ipv4: Option<bool>,
    },
    InstanceType {
        instance_id: String,
        new_type: String,
    },
    Volume {
        volume_id: Option<String>,
        before: Option<VolumeSpec>,
        after: VolumeSpec,
    },
    PublicIpv4 {
        allocated: bool,
        id: Option<String>,
    },
    NatGateway {
        created: bool,
        id: Option<String>,
    },
    LoadBalancer {
        kind: String,
        name: Option<String>,
        /// Availability zones of an internet-facing load balancer, each holding at least one
        /// public IPv4 address; 0 when internal; `None` when the event does not say.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        public_zones: Option<u32>,
    },
    DbInstance {
        /// Created or restored (storage is new) rather than modified or started.
        created: bool,
        id: Option<String>,
        engine: Option<String>,
        class: Option<String>,
        previous_class: Option<String>,
        multi_az: bool,
        storage_type: Option<String>,
        storage_gib: Option<u32>,
        /// Provisioned IOPS (io1, io2; gp3 above its baseline), when the event names them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        iops: Option<u32>,
        non_production: bool,
    },
    /// An Aurora DB instance created or resized (CreateDBInstance or ModifyDBInstance with an
    /// `aurora*` engine). Its storage belongs to the cluster.
    AuroraInstance {
        id: Option<String>,
        engine: Option<String>,
        class: Option<String>,
        previous_class: Option<String>,
        /// `aurora` (Standard) or `aurora-iopt1` (I/O-Optimized) when the event says.
        storage_type: Option<String>,
        /// Serverless v2 (`db.serverless`): the cluster's minimum capacity, when the event has it.
        min_acu: Option<Decimal>,
    },
    DbCluster {
        id: Option<String>,
        engine: Option<String>,
        class: Option<String>,
        storage_type: Option<String>,
        storage_gib: Option<u32>,
        /// Restored from a snapshot or to a point in time (its data is there from the start).
        #[serde(default)]
        restored: bool,
    },
    CacheNodes {
        id: Option<String>,
        node_type: Option<String>,
        /// `redis`, `valkey` or `memcached`, when the event says.
        #[serde(default)]
        engine: Option<String>,
        nodes: u32,
    },
    EksCluster {
        name: Option<String>,
    },
    NodeGroup {
        name: Option<String>,
        instance_type: Option<String>,
        nodes: u32,
    },
    ProvisionedConcurrency {
        function: Option<String>,
        units: u32,
    },
    SageMaker {
        name: Option<String>,
        instance_type: Option<String>,
        instances: u32,
        max_runtime_seconds: Option<u64>,
    },
    /// A SageMaker endpoint configuration: what an endpoint created from it will run. It costs
    /// nothing itself; the receiver remembers it for the CreateEndpoint that uses it.
    EndpointConfig {
        name: Option<String>,
        variants: Vec<EndpointVariant>,
    },
    /// A SageMaker real-time endpoint. Its event names only its configuration: `variants` is
    /// empty until the receiver fills it from a configuration it has seen.
    Endpoint {
        name: Option<String>,
        config: Option<String>,
        variants: Vec<EndpointVariant>,
    },
    Redshift {
        id: Option<String>,
        node_type: Option<String>,
        nodes: u32,
    },
    OpenSearch {
        domain: Option<String>,
        instance_type: Option<String>,
        instances: u32,
        volume_gib: Option<u32>,
    },
    Msk {
        name: Option<String>,
        broker_type: Option<String>,
        brokers: u32,
        volume_gib: Option<u32>,
    },
    /// A DynamoDB table created or updated.
    DynamoDbTable {
        table: Option<String>,
        created: bool,
        /// `PAY_PER_REQUEST`: billed per request, no capacity to price.
        on_demand: bool,
        /// The provisioned capacity the call sets, the table's and its global secondary
        /// indexes' together; `None` when it sets none.
        capacity: Option<TableCapacity>,
        /// What that capacity replaces, when the response shows it (UpdateTable).
        previous: Option<TableCapacity>,
    },
    /// A Kinesis data stream created or resharded.
    KinesisStream {
        stream: Option<String>,
        created: bool,
        /// On-demand mode: billed per stream-hour and GB, no shards to price.
        on_demand: bool,
        shards: Option<u32>,
        /// The shard count before UpdateShardCount, when the response shows it.
        previous_shards: Option<u32>,
    },
    /// An EMR cluster launched (RunJobFlow): its On-Demand instances by type.
    Emr {
        cluster: Option<String>,
        instances: Vec<EmrInstances>,
        /// Spot instances asked for (Spot prices vary: not priced).
        spot_instances: u32,
        /// An instance fleet lists several types EMR may choose from: priced as the first.
        fleet_choice: bool,
    },
    /// A DAX cluster created.
    Dax {
        cluster: Option<String>,
        node_type: Option<String>,
        nodes: u32,
    },
    BillingAlarm {
        alarm: Option<String>,
        state: Option<String>,
        threshold_usd: Option<Decimal>,
    },
    /// An EFS file system created (CreateFileSystem) or its throughput changed (UpdateFileSystem).
    EfsFileSystem {
        id: Option<String>,
        created: bool,
        /// `bursting`, `elastic` or `provisioned`, when the event says.
        throughput_mode: Option<String>,
        /// Provisioned throughput in MiB/s (1 to [`MAX_PROVISIONED_MIBPS`]), when the event sets it.
        provisioned_mibps: Option<Decimal>,
        /// A One Zone file system (`availabilityZoneName` set): its storage has its own rate.
        one_zone: bool,
    },
    /// A VPC endpoint created: an `Interface` endpoint is billed per Availability Zone, a
    /// `Gateway` endpoint (S3, DynamoDB) is free.
    VpcEndpoint {
        id: Option<String>,
        /// As the event says; `Gateway`, the API's default, when it does not.
        endpoint_type: String,
        service: Option<String>,
        /// Distinct subnets (one per Availability Zone) the endpoint is placed in.
        zones: u32,
    },
    /// A VPC attached to a transit gateway.
    TransitGatewayAttachment {
        id: Option<String>,
        transit_gateway: Option<String>,
    },
    /// A Route 53 hosted zone created.
    HostedZone {
        id: Option<String>,
        name: Option<String>,
        private: bool,
    },
    /// A CloudWatch metric alarm created or replaced (PutMetricAlarm).
    MetricAlarm {
        alarm: Option<String>,
        /// The alarm metrics AWS bills it for (a metric math alarm: the metrics it retrieves).
        metrics: u32,
        /// A period under 60 seconds.
        high_resolution: bool,
        /// A Metrics Insights query: billed per metric it reads, which the event does not say.
        insights_query: bool,
    },
    Unknown,
}

/// Provisioned DynamoDB capacity: read and write capacity units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableCapacity {
    pub rcu: u64,
    pub wcu: u64,
}

/// On-Demand instances of one type in an EMR cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmrInstances {
    pub instance_type: String,
    pub count: u32,
}

impl Change {
    /// The resource a finding about this change is keyed on, when the event names one.
    pub fn resource_id(&self) -> Option<&str> {
        fn o(x: &Option<String>) -> Option<&str> {
            x.as_deref()
        }
        match self {
            Change::Instances { ids, .. } => ids.first().map(String::as_str),
            Change::InstanceType { instance_id, .. } => Some(instance_id),
            Change::Volume { volume_id, .. } => o(volume_id),
            Change::PublicIpv4 { id, .. } | Change::NatGateway { id, .. } | Change::DbInstance { id, .. } => o(id),
            Change::DbCluster { id, .. } | Change::CacheNodes { id, .. } | Change::Redshift { id, .. } => o(id),
            Change::AuroraInstance { id, .. } => o(id),
            Change::DynamoDbTable { table, .. } => o(table),
            Change::KinesisStream { stream, .. } => o(stream),
            Change::Emr { cluster, .. } | Change::Dax { cluster, .. } => o(cluster),
            Change::LoadBalancer { name, .. } | Change::EksCluster { name } | Change::NodeGroup { name, .. } => o(name),
            Change::SageMaker { name, .. } | Change::Msk { name, .. } => o(name),
            Change::EndpointConfig { name, .. } | Change::Endpoint { name, .. } => o(name),
            Change::ProvisionedConcurrency { function, .. } => o(function),
            Change::OpenSearch { domain, .. } => o(domain),
            Change::BillingAlarm { alarm, .. } => o(alarm),
            Change::EfsFileSystem { id, .. } | Change::VpcEndpoint { id, .. } => o(id),
            Change::TransitGatewayAttachment { id, .. } => o(id),
            Change::HostedZone { id, name, .. } => o(id).or(o(name)),
            Change::MetricAlarm { alarm, .. } => o(alarm),
            Change::Unknown => None,
        }
    }
}

/// One instance-backed production variant of an endpoint configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointVariant {
    pub instance_type: String,
    pub instances: u32,
}

impl EndpointVariant {
    /// Where the receiver remembers a configuration's variants (next to the instance types it
    /// has seen), for a name SageMaker accepts (1 to 63 letters, digits and dashes); `None`
    /// otherwise, and such a configuration is never looked up.
    pub fn memory_key(config: &str) -> Option<String> {
        let ok = (1..=63).contains(&config.len()) && config.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        ok.then(|| format!("endpoint-config/{config}"))
    }
}

/// A parsed and classified event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Classified {
    pub id: String,
    pub kind: EventKind,
    pub account: AccountId,
    pub region: String,
    pub time: Option<chrono::DateTime<chrono::Utc>>,
    pub detail_type: String,
    pub source: String,
    pub actor: Actor,
    pub change: Change,
}

/// Upper bounds on counts taken from events, so a hostile event cannot ask us to price a
/// million instances (RunInstances accepts at most a few thousand per call anyway).
pub const MAX_COUNT: u64 = 10_000;

/// At most this many instance ids of one event are looked up, remembered or priced: one
/// 256 KB event can name about 10,000. An event over the cap is still stored, unpriced, with
/// the reason ([`too_many_ids`]).
pub const MAX_IDS_PER_EVENT: usize = 50;

/// A resource id is at most this long: it becomes part of a DynamoDB key (1,024 bytes at most).
pub const RESOURCE_ID_MAX: usize = 512;

/// Why an event naming `n` instances is not priced when it arrives.
pub fn too_many_ids(n: usize) -> String {
    format!(
        "too many resources to price at event time: {n} instances named, at most {MAX_IDS_PER_EVENT} are priced per \
         event; the next scan prices them"
    )
}

/// `i-` and up to 32 letters and digits (EC2 writes 8 or 17 hex digits).
fn is_instance_id(id: &str) -> bool {
    id.strip_prefix("i-").is_some_and(|h| (1..=32).contains(&h.len()) && h.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The ids an event names become keys: instance ids must look like instance ids, and any other
/// resource id is at most [`RESOURCE_ID_MAX`] bytes with no control characters. A hostile id
/// is a 400 here, never a store error later.
fn check_ids(change: &Change) -> Result<(), InvalidInput> {
    let instance_ids: &[String] = match change {
        Change::Instances { ids, .. } => ids,
        Change::InstanceType { instance_id, .. } => std::slice::from_ref(instance_id),
        _ => &[],
    };
    if let Some(bad) = instance_ids.iter().find(|id| !is_instance_id(id)) {
        let shown: String = bad.chars().take(40).collect();
        return Err(InvalidInput::new("instanceId", format!("{shown:?} is not an EC2 instance id")));
    }
    if let Some(id) = change.resource_id() {
        if id.len() > RESOURCE_ID_MAX || id.chars().any(char::is_control) {
            return Err(InvalidInput::new(
                "resource id",
                format!("at most {RESOURCE_ID_MAX} bytes with no control characters"),
            ));
        }
    }
    Ok(())
}

static NULL: Json<'static> = Json::Null;

/// The member `key` of an object; `null` when `v` is not an object or has no such member.
fn field<'a, 'c>(v: &'a Json<'c>, key: &str) -> &'a Json<'c> {
    v.as_object().and_then(|o| o.get(key)).unwrap_or(&NULL)
}

/// The value at `path`; `null` when any step is missing.
fn at<'a, 'c>(v: &'a Json<'c>, path: &[&str]) -> &'a Json<'c> {
    path.iter().fold(v, |cur, p| field(cur, p))
}

fn str_at<'a>(v: &'a Json<'_>, path: &[&str]) -> Option<&'a str> {
    at(v, path).as_str()
}

/// The string at `path` as an owned `String`.
fn string_at(v: &Json<'_>, path: &[&str]) -> Option<String> {
    str_at(v, path).map(str::to_owned)
}

/// A non-negative integer at `path` up to `max`, whether JSON gave it as a number or a string
/// (CloudTrail does both). Out-of-range values are an error, not a silent clamp.
fn num_at(v: &Json<'_>, path: &[&str], field: &str, max: u64) -> Result<Option<u64>, InvalidInput> {
    let n = match at(v, path) {
        Json::Null => return Ok(None),
        Json::Number(n) => n.as_u64(),
        Json::Str(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    match n {
        Some(n) if n <= max => Ok(Some(n)),
        _ => Err(InvalidInput::new(format!("detail.{field}"), format!("must be a whole number from 0 to {max}"))),
    }
}

/// A count of resources.
fn count_at(v: &Json<'_>, path: &[&str], field: &str) -> Result<Option<u64>, InvalidInput> {
    num_at(v, path, field, MAX_COUNT)
}

/// A size or rate (GiB, IOPS, MiB/s), bounded by what AWS allows (64 TiB, 256k IOPS).
fn u32_at(v: &Json<'_>, path: &[&str], field: &str) -> Result<Option<u32>, InvalidInput> {
    Ok(num_at(v, path, field, 1_000_000)?.map(|n| n as u32))
}

fn bool_at(v: &Json<'_>, path: &[&str]) -> bool {
    let v = at(v, path);
    v.as_bool() == Some(true) || v.as_str() == Some("true")
}

/// `items` of a CloudTrail EC2 list (`{"items": [...]}`), or the array itself.
fn items<'a, 'c>(v: &'a Json<'c>) -> &'a [Json<'c>] {
    match v {
        Json::Array(a) => a,
        o => field(o, "items").as_array().unwrap_or(&[]),
    }
}

/// The first member of `keys` that `v` has (CloudTrail spells some fields two ways).
fn either<'a, 'c>(v: &'a Json<'c>, keys: &[&str]) -> &'a Json<'c> {
    keys.iter().map(|k| field(v, k)).find(|x| !x.is_null()).unwrap_or(&NULL)
}

/// Tags in either CloudTrail shape (`[{key, value}]` or `[{Key, Value}]`) or a map.
fn tag_value<'a>(tags: &'a Json<'_>, key: &str) -> Option<&'a str> {
    match tags {
        Json::Array(list) => list.iter().find_map(|t| {
            let k = either(t, &["key", "Key"]).as_str()?;
            if k.eq_ignore_ascii_case(key) {
                either(t, &["value", "Value"]).as_str()
            } else {
                None
            }
        }),
        Json::Object(map) => map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).and_then(|(_, v)| v.as_str()),
        _ => None,
    }
}

/// Tag values that mark a resource as not production (case-insensitive).
pub fn is_non_production(value: &str) -> bool {
    matches!(
        value.to_ascii_lowercase().as_str(),
        "dev"
            | "development"
            | "test"
            | "testing"
            | "qa"
            | "staging"
            | "stage"
            | "sandbox"
            | "nonprod"
            | "non-prod"
            | "preprod"
    )
}

/// Tag keys whose value can mark a resource as not production (case-insensitive).
pub const NON_PRODUCTION_TAG_KEYS: &[&str] = &["environment", "env", "stage"];

fn non_production(tags: &Json<'_>) -> bool {
    NON_PRODUCTION_TAG_KEYS.iter().any(|k| tag_value(tags, k).is_some_and(is_non_production))
}

/// Validates the envelope and classifies the event. Unknown events are not an error: they are
/// accepted and recorded without a price.
pub fn classify(e: &Envelope) -> Result<Classified, InvalidInput> {
    let id = e.id.as_deref().ok_or_else(|| InvalidInput::new("id", "missing"))?;
    if id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(InvalidInput::new("id", "an EventBridge event id is 1 to 128 letters, digits and dashes"));
    }
    let account = e.account.as_deref().ok_or_else(|| InvalidInput::new("account", "missing"))?;
    let account = AccountId::parse(account)
        .map_err(|_| InvalidInput::new("account", "an AWS account id is exactly 12 digits"))?;
    let region = e.region.as_deref().ok_or_else(|| InvalidInput::new("region", "missing"))?;
    super::parse_region("region", region)?;
    if e.detail_type.is_empty() || e.detail_type.len() > 256 || e.source.is_empty() || e.source.len() > 256 {
        return Err(InvalidInput::new("detail-type", "detail-type and source are 1 to 256 characters"));
    }
    // The envelope's parse has checked that `detail` is JSON; this cannot fail on syntax.
    let detail: Json<'_> = serde_json::from_str(e.detail.get())
        .map_err(|err| InvalidInput::new("detail", format!("invalid JSON: {err}")))?;
    if !detail.is_object() {
        return Err(InvalidInput::new("detail", "must be a JSON object"));
    }
    let d = &detail;
    let actor = Actor {
        arn: str_at(d, &["userIdentity", "arn"]).map(str::to_owned),
        source_ip: str_at(d, &["sourceIPAddress"]).map(str::to_owned),
    };
    let (kind, change) = match e.detail_type.as_str() {
        "AWS API Call via CloudTrail" => cloudtrail(d)?,
        "EC2 Instance State-change Notification" => {
            let id = str_at(d, &["instance-id"]).map(str::to_owned);
            let op = match str_at(d, &["state"]) {
                Some("running") => Some((EventKind::Ec2StateRunning, InstanceOp::Start)),
                Some("stopped") => Some((EventKind::Ec2StateStopped, InstanceOp::Stop)),
                Some("terminated") => Some((EventKind::Ec2StateTerminated, InstanceOp::Terminate)),
                _ => None,
            };
            match (op, id) {
                (Some((kind, op)), Some(id)) => (
                    kind,
                    Change::Instances {
                        op,
                        ids: vec![id],
                        instance_type: None,
                        count: 1,
                        tenancy: None,
                        platform: None,
                        image_id: None,
                        public_ipv4: None,
                    },
                ),
                // pending, stopping, shutting-down: transitions with no cost change of their own.
                _ => (EventKind::Unknown, Change::Unknown),
            }
        }
        "CloudWatch Alarm State Change" if is_billing_alarm(d) => (
            EventKind::BillingAlarm,
            Change::BillingAlarm {
                alarm: str_at(d, &["alarmName"]).map(str::to_owned),
                state: str_at(d, &["state", "value"]).map(str::to_owned),
                threshold_usd: billing_threshold(d),
            },
        ),
        _ => (EventKind::Unknown, Change::Unknown),
    };
    check_ids(&change)?;
    Ok(Classified {
        id: id.to_owned(),
        kind,
        account,
        region: region.to_owned(),
        time: e.time,
        detail_type: e.detail_type.clone(),
        source: e.source.clone(),
        actor,
        change,
    })
}

fn is_billing_alarm(d: &Json<'_>) -> bool {
    let metrics = at(d, &["configuration", "metrics"]).as_array().unwrap_or(&[]);
    metrics.iter().any(|m| {
        let metric = at(m, &["metricStat", "metric"]);
        str_at(metric, &["name"]) == Some("EstimatedCharges") && str_at(metric, &["namespace"]) == Some("AWS/Billing")
    })
}

fn billing_threshold(d: &Json<'_>) -> Option<Decimal> {
    // The state-change event carries no threshold field of its own; CloudWatch writes it into
    // the reason data as JSON ("threshold": 5000.0).
    #[derive(Deserialize)]
    struct ReasonData {
        threshold: Option<serde_json::Number>,
    }
    let reason_data = str_at(d, &["state", "reasonData"])?;
    let data: ReasonData = serde_json::from_str(reason_data).ok()?;
    Decimal::from_str_exact(&data.threshold?.to_string()).ok()
}

/// Classifies an "AWS API Call via CloudTrail" event: the service named by `eventSource`
/// reads its own calls. Failed calls and calls costradar does not know are `Unknown`.
fn cloudtrail(d: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    let source = str_at(d, &["eventSource"]).unwrap_or_default();
    let name = str_at(d, &["eventName"]).unwrap_or_default();
    // A failed API call changed nothing.
    if !field(d, "errorCode").is_null() {
        return Ok((EventKind::Unknown, Change::Unknown));
    }
    let req = field(d, "requestParameters");
    let resp = field(d, "responseElements");
    match source {
        "ec2.amazonaws.com" => ec2::classify(name, req, resp),
        "elasticloadbalancing.amazonaws.com" => Ok(elb::classify(name, str_at(d, &["apiVersion"]), req)),
        "rds.amazonaws.com" => rds::classify(name, req, resp),
        "elasticache.amazonaws.com" => elasticache::classify(name, req),
        "eks.amazonaws.com" => eks::classify(name, req),
        "lambda.amazonaws.com" => lambda::classify(name, req),
        "sagemaker.amazonaws.com" => sagemaker::classify(name, req),
        "redshift.amazonaws.com" => redshift::classify(name, req),
        "es.amazonaws.com" => opensearch::classify(name, req),
        "kafka.amazonaws.com" => msk::classify(name, req),
        "dynamodb.amazonaws.com" => dynamodb::classify(name, req, resp),
        "kinesis.amazonaws.com" => kinesis::classify(name, req, resp),
        "elasticmapreduce.amazonaws.com" => emr::classify(name, req, resp),
        "dax.amazonaws.com" => dax::classify(name, req, resp),
        "elasticfilesystem.amazonaws.com" => efs::classify(name, req, resp),
        "route53.amazonaws.com" => Ok(route53::classify(name, req, resp)),
        "monitoring.amazonaws.com" => cloudwatch::classify(name, req),
        _ => Ok((EventKind::Unknown, Change::Unknown)),
    }
}
