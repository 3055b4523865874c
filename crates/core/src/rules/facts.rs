//! What the scan rules read: plain facts about one region's resources, filled by the scanners
//! (`costradar_aws::scan`) from the SDK's answers and by the scan orchestration from its own memory
//! (`unattached_since`, `no_targets_since`) and CloudWatch (utilisation). No SDK type here.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

pub type Tags = BTreeMap<String, String>;

#[derive(Clone, Debug, PartialEq)]
pub struct Volume {
    pub id: String,
    pub volume_type: String,
    pub size_gib: u32,
    pub iops: Option<u32>,
    pub throughput_mibps: Option<u32>,
    /// `creating`, `available`, `in-use`, `deleting`, `deleted`, `error`.
    pub state: String,
    pub created: DateTime<Utc>,
    /// Instances the volume is attached to (several with Multi-Attach).
    pub attached_to: Vec<String>,
    pub tags: Tags,
    /// Since when the volume is known to be unattached: the later of its creation and the first
    /// scan that saw it unattached (AWS records no detach time). `None` until the orchestration
    /// fills it; the rule then does not flag the volume.
    pub unattached_since: Option<DateTime<Utc>>,
}

impl Volume {
    /// What prices the volume: its type, size and provisioned performance.
    pub fn spec(&self) -> crate::domain::event::VolumeSpec {
        crate::domain::event::VolumeSpec {
            volume_type: self.volume_type.clone(),
            size_gib: self.size_gib,
            iops: self.iops,
            throughput_mibps: self.throughput_mibps,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    pub id: String,
    pub instance_type: String,
    /// `pending`, `running`, `stopping`, `stopped`, `shutting-down`, `terminated`.
    pub state: String,
    pub launched: DateTime<Utc>,
    /// When it was stopped, from `StateTransitionReason` ("User initiated (2024-01-02 03:04:05
    /// GMT)"); `None` when AWS did not say.
    pub stopped_at: Option<DateTime<Utc>>,
    /// Windows, or anything but Linux on shared tenancy: the price book has Linux only.
    pub platform: Option<String>,
    pub tenancy: Option<String>,
    pub volume_ids: Vec<String>,
    pub tags: Tags,
    /// p95 of `CPUUtilization` (percent) over the idle window; `None` without data.
    pub cpu_p95_percent: Option<Decimal>,
    /// The public IPv4 address of its primary network interface (`PublicIpAddress`):
    /// auto-assigned or an Elastic IP (`addresses` tells which); `None` without one.
    pub public_ip: Option<PublicIp>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub id: String,
    /// The source volume; `vol-ffffffff` for copies.
    pub volume_id: Option<String>,
    pub volume_size_gib: u32,
    /// `FullSnapshotSizeInBytes` when AWS gives it.
    pub full_size_bytes: Option<u64>,
    /// `pending`, `completed`, `error`, ...
    pub state: String,
    pub started: DateTime<Utc>,
    pub tags: Tags,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Image {
    pub id: String,
    pub snapshot_ids: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Address {
    pub allocation_id: Option<String>,
    pub public_ip: String,
    pub association_id: Option<String>,
    pub instance_id: Option<String>,
    pub network_interface_id: Option<String>,
    pub tags: Tags,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NatGateway {
    pub id: String,
    /// `pending`, `available`, `deleting`, `deleted`, `failed`.
    pub state: String,
    pub created: DateTime<Utc>,
    /// Elastic IP allocations the gateway uses.
    pub allocation_ids: Vec<String>,
    pub tags: Tags,
    /// Bytes processed over the idle window (`BytesInFromSource` + `BytesInFromDestination`);
    /// `None` without data.
    pub bytes_processed: Option<u64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TargetGroup {
    pub arn: String,
    pub registered: u32,
    pub healthy: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LoadBalancer {
    pub arn: String,
    pub name: String,
    /// `application`, `network` or `gateway`.
    pub kind: String,
    /// `active`, `provisioning`, `active_impaired`, `failed`.
    pub state: String,
    pub created: DateTime<Utc>,
    pub target_groups: Vec<TargetGroup>,
    /// Elastic IPs of a network load balancer's subnet mappings.
    pub allocation_ids: Vec<String>,
    /// Since when the load balancer is known to have no healthy target: the later of its
    /// creation and the first scan that saw it so. Filled by the orchestration.
    pub no_targets_since: Option<DateTime<Utc>>,
}

impl LoadBalancer {
    pub fn registered(&self) -> u32 {
        self.target_groups.iter().map(|t| t.registered).sum()
    }

    pub fn healthy(&self) -> u32 {
        self.target_groups.iter().map(|t| t.healthy).sum()
    }

    /// No registered target, or none healthy.
    pub fn has_no_healthy_target(&self) -> bool {
        self.healthy() == 0
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct LogGroup {
    pub name: String,
    pub arn: Option<String>,
    pub retention_days: Option<u32>,
    pub stored_bytes: u64,
    pub created: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DbInstance {
    pub id: String,
    pub arn: Option<String>,
    pub class: String,
    pub engine: String,
    /// `available`, `stopped`, `stopping`, `starting`, ...
    pub status: String,
    pub multi_az: bool,
    pub storage_type: String,
    pub allocated_gib: u32,
    pub created: Option<DateTime<Utc>>,
    pub tags: Tags,
    /// Maximum of `DatabaseConnections` over the idle window; `None` without data.
    pub max_connections: Option<Decimal>,
}

/// A Lambda function version or alias with provisioned concurrency
/// (ListProvisionedConcurrencyConfigs), and its utilisation over the idle window.
#[derive(Clone, Debug, PartialEq)]
pub struct ProvisionedConcurrency {
    pub function_name: String,
    /// The qualified ARN (`...:function:name:alias`).
    pub arn: String,
    /// The alias or version it is configured on.
    pub qualifier: String,
    pub allocated: u32,
    pub requested: u32,
    /// `READY`, `IN_PROGRESS` or `FAILED`.
    pub status: String,
    /// When the configuration last changed.
    pub last_modified: Option<DateTime<Utc>>,
    /// The function's memory in MiB. The scan role does not read function configurations
    /// (ListFunctions and GetFunctionConfiguration return environment variables, a data read),
    /// so this is known only where something else says it; `None` leaves the amount empty.
    pub memory_mib: Option<u32>,
    /// `x86_64` or `arm64` when known; `None` is priced at the lower (arm64) rate.
    pub architecture: Option<String>,
    /// Maximum of `ProvisionedConcurrencyUtilization` (0 to 1) over the idle window; `None`
    /// without data.
    pub peak_utilization: Option<Decimal>,
}

/// A DynamoDB table (DescribeTable: its settings and size, never its items).
#[derive(Clone, Debug, PartialEq)]
pub struct DynamoTable {
    pub name: String,
    pub arn: String,
    /// `CREATING`, `ACTIVE`, `UPDATING`, `DELETING`, `ARCHIVED`, ...
    pub status: String,
    pub created: Option<DateTime<Utc>>,
    /// `PROVISIONED` or `PAY_PER_REQUEST`.
    pub billing_mode: String,
    /// Provisioned read and write capacity units of the table (0 on demand); its global
    /// secondary indexes have their own, in `index_capacity`.
    pub read_capacity: u64,
    pub write_capacity: u64,
    /// Σ provisioned (read, write) capacity of its global secondary indexes.
    pub index_capacity: (u64, u64),
    /// `TableSizeBytes` (DynamoDB updates it about every six hours).
    pub size_bytes: u64,
    /// `STANDARD` or `STANDARD_INFREQUENT_ACCESS`.
    pub table_class: String,
    pub deletion_protection: bool,
    /// Replicas in other regions (a global table).
    pub replica_regions: Vec<String>,
    /// Consumed capacity over the idle window, from 5-minute sums of
    /// `ConsumedReadCapacityUnits` / `ConsumedWriteCapacityUnits`; `None` without data.
    pub reads: Option<Consumption>,
    pub writes: Option<Consumption>,
}

/// Capacity units consumed over a window, from 5-minute sums.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Consumption {
    /// Σ units over the window.
    pub total: Decimal,
    /// The busiest 5 minutes' units ÷ 300: the peak rate in units per second.
    pub peak_per_second: Decimal,
}

/// An ElastiCache cache cluster (DescribeCacheClusters with its nodes). A Redis or Valkey
/// replication group's members are cache clusters of one node each.
#[derive(Clone, Debug, PartialEq)]
pub struct CacheCluster {
    pub id: String,
    pub arn: Option<String>,
    /// `redis`, `valkey` or `memcached`.
    pub engine: String,
    /// `cache.m5.large`.
    pub node_type: String,
    /// `available`, `creating`, `modifying`, `snapshotting`, ...
    pub status: String,
    pub node_ids: Vec<String>,
    pub replication_group: Option<String>,
    pub created: Option<DateTime<Utc>>,
    /// Highest `CurrConnections` of any node over the idle window; `None` unless every node
    /// answered.
    pub max_connections: Option<Decimal>,
    /// Commands run over the window on all nodes (`GetTypeCmds` + `SetTypeCmds`, memcached
    /// `CmdGet` + `CmdSet`); `None` unless every node's series answered.
    pub commands: Option<Decimal>,
}

/// A Cost Optimization Hub recommendation for the scanned account.
#[derive(Clone, Debug, PartialEq)]
pub struct Recommendation {
    pub id: String,
    pub region: String,
    pub resource_id: String,
    pub resource_arn: Option<String>,
    /// `Rightsize`, `Stop`, `Delete`, `Upgrade`, `MigrateToGraviton`, `PurchaseSavingsPlans`, ...
    pub action_type: String,
    pub current_resource_type: Option<String>,
    pub recommended_resource_type: Option<String>,
    pub current_summary: Option<String>,
    pub recommended_summary: Option<String>,
    pub monthly_savings_usd: Decimal,
    pub monthly_cost_usd: Option<Decimal>,
    pub lookback_days: Option<i32>,
}

/// Everything one region's scan learned.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RegionInventory {
    pub region: String,
    pub volumes: Vec<Volume>,
    pub instances: Vec<Instance>,
    pub snapshots: Vec<Snapshot>,
    pub images: Vec<Image>,
    pub addresses: Vec<Address>,
    pub nat_gateways: Vec<NatGateway>,
    pub load_balancers: Vec<LoadBalancer>,
    pub log_groups: Vec<LogGroup>,
    pub db_instances: Vec<DbInstance>,
    pub provisioned_concurrency: Vec<ProvisionedConcurrency>,
    pub dynamo_tables: Vec<DynamoTable>,
    pub cache_clusters: Vec<CacheCluster>,
    pub redshift_clusters: Vec<RedshiftCluster>,
    pub search_domains: Vec<SearchDomain>,
    pub eks_clusters: Vec<EksCluster>,
    pub buckets: Vec<Bucket>,
    pub file_systems: Vec<FileSystem>,
    pub repositories: Vec<Repository>,
    pub recovery_points: Vec<RecoveryPoint>,
    /// Listings of this region known complete (`volumes`, `instances`, `db_instances`,
    /// `dynamo_tables`, `file_systems`), for rules that read an absence (`backup.`): a source
    /// missing from an incomplete listing proves nothing. Filled by the scanners.
    pub listed_completely: std::collections::BTreeSet<String>,
    pub metric_alarms: Vec<MetricAlarm>,
    pub vpc_endpoints: Vec<VpcEndpoint>,
    pub transit_gateway_attachments: Vec<TransitGatewayAttachment>,
    /// Route 53 is global: filled in the us-east-1 scan only.
    pub hosted_zones: Vec<HostedZone>,
}

impl RegionInventory {
    pub fn new(region: &str) -> Self {
        Self { region: region.to_owned(), ..Self::default() }
    }

    /// Number of resources, for benchmarks and logs.
    pub fn len(&self) -> usize {
        self.volumes.len()
            + self.instances.len()
            + self.snapshots.len()
            + self.images.len()
            + self.addresses.len()
            + self.nat_gateways.len()
            + self.load_balancers.len()
            + self.log_groups.len()
            + self.db_instances.len()
            + self.provisioned_concurrency.len()
            + self.dynamo_tables.len()
            + self.cache_clusters.len()
            + self.redshift_clusters.len()
            + self.search_domains.len()
            + self.eks_clusters.len()
            + self.buckets.len()
            + self.file_systems.len()
            + self.repositories.len()
            + self.recovery_points.len()
            + self.metric_alarms.len()
            + self.vpc_endpoints.len()
            + self.transit_gateway_attachments.len()
            + self.hosted_zones.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Snapshot ids some AMI of ours uses.
    pub fn snapshots_in_images(&self) -> HashSet<&str> {
        self.images.iter().flat_map(|i| i.snapshot_ids.iter().map(String::as_str)).collect()
    }
}

// --- Compute additions: public IPv4 of instances. ---

/// An instance's public IPv4 address and the network interface that holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct PublicIp {
    pub address: String,
    /// The primary network interface (`NetworkInterfaces[DeviceIndex 0]`); `None` when the
    /// answer did not list it.
    pub network_interface_id: Option<String>,
}

// ---- Analytics and containers: Redshift, OpenSearch Service, EKS (`rules::{redshift, opensearch, eks}`).

/// A provisioned Redshift cluster (DescribeClusters: its nodes and status, never its data).
#[derive(Clone, Debug, PartialEq)]
pub struct RedshiftCluster {
    pub id: String,
    /// `ra3.4xlarge`, `dc2.large`, `ds2.xlarge`, ...
    pub node_type: String,
    pub nodes: u32,
    /// `available`, `paused`, `resizing`, `modifying`, `creating`, ...
    pub status: String,
    pub created: Option<DateTime<Utc>>,
    pub tags: Tags,
    /// The hourly maximum of `DatabaseConnections` over the idle window, one value per hour that
    /// has a datapoint, in CloudWatch's order (newest first). A paused cluster publishes nothing,
    /// so its paused hours are absent. `None` without data.
    pub hourly_connections: Option<Vec<Decimal>>,
    /// Σ of `QueriesCompletedPerSecond` over the window; `None` without data.
    pub queries: Option<Decimal>,
}

/// Requests a domain served over a window, from daily sums of one metric.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DailyActivity {
    /// Σ over the window.
    pub total: Decimal,
    /// Days with a datapoint: a domain younger than the window has fewer.
    pub days: u32,
}

/// The EBS storage of an OpenSearch domain's data nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct DomainStorage {
    /// `gp2`, `gp3`, `io1`, `standard`.
    pub volume_type: String,
    /// GiB per data node.
    pub size_gib: u32,
}

/// An OpenSearch Service domain (ListDomainNames, DescribeDomains: its cluster configuration,
/// never its indexes).
#[derive(Clone, Debug, PartialEq)]
pub struct SearchDomain {
    pub name: String,
    pub arn: String,
    /// `OpenSearch_2.11`, `Elasticsearch_7.10`.
    pub engine_version: String,
    /// Being created, changed (blue/green) or upgraded: not judged.
    pub processing: bool,
    pub deleted: bool,
    /// Data nodes: `m5.large.search` × count.
    pub instance_type: String,
    pub instance_count: u32,
    /// Dedicated master nodes, when enabled.
    pub master_type: Option<String>,
    pub master_count: u32,
    /// UltraWarm nodes, when enabled.
    pub warm_type: Option<String>,
    pub warm_count: u32,
    /// EBS storage of the data nodes; `None` for instance storage (i3, r6gd, ...).
    pub storage: Option<DomainStorage>,
    /// Daily sums of `SearchRate` and `IndexingRate` (AWS/ES, per domain) over the idle window;
    /// `None` without data.
    pub searches: Option<DailyActivity>,
    pub indexing: Option<DailyActivity>,
}

/// An EKS cluster (ListClusters, DescribeCluster, ListNodegroups, ListFargateProfiles).
#[derive(Clone, Debug, PartialEq)]
pub struct EksCluster {
    pub name: String,
    pub arn: Option<String>,
    /// Kubernetes minor version, `1.29`.
    pub version: String,
    /// `ACTIVE`, `CREATING`, `UPDATING`, `DELETING`, `FAILED`, `PENDING`.
    pub status: String,
    pub created: Option<DateTime<Utc>>,
    /// The upgrade policy's support type: `STANDARD` (upgraded automatically at the end of
    /// standard support) or `EXTENDED`; `None` when not given (EKS's default is `EXTENDED`).
    pub support_type: Option<String>,
    pub tags: Tags,
    /// Managed node groups and Fargate profiles; `None` when the listing failed.
    pub node_groups: Option<u32>,
    pub fargate_profiles: Option<u32>,
    /// EKS Auto Mode runs nodes without node groups (`computeConfig.enabled`).
    pub auto_mode: bool,
    /// EC2 instances, not terminated, tagged `kubernetes.io/cluster/<name>` (self-managed nodes,
    /// Karpenter's). Asked only for a cluster with no node group, no Fargate profile and no
    /// Auto Mode; `None` otherwise or when DescribeInstances failed.
    pub tagged_instances: Option<u32>,
}

// ---- Storage: S3, EFS, ECR, AWS Backup (`rules::{s3, efs, ecr, backup}`).

/// An S3 bucket of the region (ListBuckets with its region, GetBucketVersioning,
/// GetBucketLifecycleConfiguration, ListMultipartUploads, ListParts: configuration and upload
/// metadata, never an object).
#[derive(Clone, Debug, PartialEq)]
pub struct Bucket {
    pub name: String,
    pub created: Option<DateTime<Utc>>,
    /// `Enabled`, `Suspended`, or `None` (never versioned).
    pub versioning: Option<String>,
    /// Its lifecycle rules; empty without a lifecycle configuration.
    pub lifecycle: Vec<LifecycleRule>,
    /// Incomplete multipart uploads (ListMultipartUploads).
    pub uploads: Vec<MultipartUpload>,
    /// The bucket holds more uploads than the scanner lists.
    pub uploads_truncated: bool,
    /// `BucketSizeBytes` of `StandardStorage` (a daily metric): the mean of its daily values
    /// over the window; `None` without data.
    pub standard_bytes: Option<u64>,
    /// `NumberOfObjects` (`AllStorageTypes`), the mean of its daily values; `None` without data.
    pub objects: Option<u64>,
}

/// One rule of a bucket's lifecycle configuration, as far as the rules need it.
#[derive(Clone, Debug, PartialEq)]
pub struct LifecycleRule {
    pub id: Option<String>,
    pub enabled: bool,
    /// The key prefix it applies to (`""`: every key); `None` when it also filters on tags or
    /// object size (it applies to some objects only).
    pub prefix: Option<String>,
    /// `AbortIncompleteMultipartUpload.DaysAfterInitiation`.
    pub abort_incomplete_days: Option<u32>,
    /// It transitions current versions to another storage class.
    pub transitions: bool,
    /// It expires current versions (`Expiration` with days or a date).
    pub expires_current: bool,
    /// It expires or transitions noncurrent versions.
    pub noncurrent: bool,
}

/// An incomplete multipart upload: its key, when it started and, when the scanner sized it
/// (ListParts), the bytes its parts hold.
#[derive(Clone, Debug, PartialEq)]
pub struct MultipartUpload {
    pub key: String,
    pub initiated: Option<DateTime<Utc>>,
    pub size_bytes: Option<u64>,
}

/// An EFS file system (DescribeFileSystems, DescribeLifecycleConfiguration: settings and
/// sizes, never a file).
#[derive(Clone, Debug, PartialEq)]
pub struct FileSystem {
    pub id: String,
    pub arn: Option<String>,
    pub name: Option<String>,
    /// `available`, `creating`, `updating`, `deleting`, `deleted`, `error`.
    pub state: String,
    pub created: Option<DateTime<Utc>>,
    /// One Zone storage (`AvailabilityZoneName` set), priced apart from Regional.
    pub one_zone: bool,
    /// `SizeInBytes.ValueInStandard` (the Standard or One Zone class).
    pub standard_bytes: u64,
    /// `bursting`, `provisioned` or `elastic`.
    pub throughput_mode: String,
    pub provisioned_mibps: Option<Decimal>,
    /// Its lifecycle policies as `Key=VALUE` (`TransitionToIA=AFTER_30_DAYS`,
    /// `TransitionToArchive=AFTER_90_DAYS`, `TransitionToPrimaryStorageClass=AFTER_1_ACCESS`).
    pub lifecycle_policies: Vec<String>,
    /// The busiest 5 minutes of `MeteredIOBytes` over the window, in MiB/s; `None` without data.
    pub peak_metered_mibps: Option<Decimal>,
}

/// An ECR repository (DescribeRepositories, GetLifecyclePolicy; DescribeImages when it has no
/// lifecycle policy: image metadata, never a layer).
#[derive(Clone, Debug, PartialEq)]
pub struct Repository {
    pub name: String,
    pub arn: String,
    pub created: Option<DateTime<Utc>>,
    pub has_lifecycle_policy: bool,
    /// Untagged images that are not referrers (a signature or SBOM attached to another image).
    /// Listed only for a repository without a lifecycle policy.
    pub untagged: Vec<ContainerImage>,
    /// It holds a multi-architecture image index (manifest list), whose platform images are
    /// untagged.
    pub holds_image_index: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ContainerImage {
    pub digest: String,
    /// `imageSizeInBytes`: compressed, and counting layers other images may share.
    pub size_bytes: u64,
    pub pushed: Option<DateTime<Utc>>,
}

/// A recovery point in one of the region's backup vaults (ListBackupVaults,
/// ListRecoveryPointsByBackupVault: metadata, never the backup).
#[derive(Clone, Debug, PartialEq)]
pub struct RecoveryPoint {
    pub arn: String,
    pub vault: String,
    /// The backed-up resource; for a copy from another region or account, that one's ARN.
    pub resource_arn: Option<String>,
    /// `EBS`, `EC2`, `EFS`, `RDS`, `Aurora`, `DynamoDB`, `S3`, ...
    pub resource_type: String,
    pub created: Option<DateTime<Utc>>,
    /// `BackupSizeInBytes`.
    pub size_bytes: Option<u64>,
    /// `COMPLETED`, `PARTIAL`, `DELETING`, `EXPIRED`, `AVAILABLE`, `STOPPED`, `CREATING`.
    pub status: String,
    /// `Lifecycle.DeleteAfterDays`.
    pub delete_after_days: Option<i64>,
    /// `CalculatedLifecycle.DeleteAt` and `MoveToColdStorageAt`.
    pub delete_at: Option<DateTime<Utc>>,
    pub cold_at: Option<DateTime<Utc>>,
    /// A composite recovery point's parent (its members are listed on their own).
    pub is_parent: bool,
}

// ---- Network and monitoring: CloudWatch alarms, VPC endpoints, Transit Gateway attachments,
// Route 53 (`rules::{cloudwatch, vpc, route53}`).

/// A CloudWatch metric alarm (DescribeAlarms, metric alarms only: its configuration and state).
#[derive(Clone, Debug, PartialEq)]
pub struct MetricAlarm {
    pub name: String,
    pub arn: Option<String>,
    /// `OK`, `ALARM` or `INSUFFICIENT_DATA`.
    pub state: String,
    /// `StateUpdatedTimestamp`: the last change of its state.
    pub state_updated: Option<DateTime<Utc>>,
    /// `AlarmConfigurationUpdatedTimestamp`.
    pub config_updated: Option<DateTime<Utc>>,
    /// The metrics it reads: its one metric, or every `MetricStat` of its metric-math expression.
    pub metrics: Vec<AlarmMetric>,
    /// An expression uses `ANOMALY_DETECTION_BAND`: AWS bills three alarm metrics per metric.
    pub anomaly_detection: bool,
    /// A Metrics Insights query (`SELECT ...`): billed per series it reads, which the scan does
    /// not know.
    pub metrics_insights: bool,
    /// An action is an Auto Scaling or Application Auto Scaling policy: the policy owns the
    /// alarm (target tracking re-creates it).
    pub scaling_policy: bool,
    /// A metric of another account (cross-account observability).
    pub other_account: bool,
}

/// One metric an alarm reads.
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmMetric {
    pub namespace: String,
    pub name: String,
    pub dimensions: Vec<(String, String)>,
    /// Seconds; under 60 is high resolution.
    pub period: Option<i32>,
    /// The resource of this region it names, once `rules::cloudwatch::resolve_targets` has
    /// looked it up; `None` before, or when it names no resource of a kind the scan lists.
    pub target: Option<AlarmTarget>,
}

/// A resource an alarm's metric names, and whether this region's listing still shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmTarget {
    /// The dimension naming it: `InstanceId`, `VolumeId`, `DBInstanceIdentifier`,
    /// `LoadBalancer`, `NatGatewayId`.
    pub dimension: String,
    pub id: String,
    /// `None` when the listing of its kind was incomplete: an absence then proves nothing.
    pub exists: Option<bool>,
}

/// A VPC endpoint (DescribeVpcEndpoints; its policy document is not kept).
#[derive(Clone, Debug, PartialEq)]
pub struct VpcEndpoint {
    pub id: String,
    /// `Interface`, `Gateway`, `GatewayLoadBalancer`, `Resource`, `ServiceNetwork`.
    pub endpoint_type: String,
    pub vpc_id: String,
    pub service_name: String,
    /// Lower case: `available`, `pending`, `pendingacceptance`, `deleting`, `failed`, ...
    pub state: String,
    pub created: Option<DateTime<Utc>>,
    /// One network interface per subnet, one subnet per Availability Zone.
    pub subnet_ids: Vec<String>,
    pub tags: Tags,
    /// Whether ListMetrics shows an `AWS/PrivateLinkEndpoints` `BytesProcessed` series for it
    /// (any datapoint in the last two weeks; AWS publishes one only for minutes with traffic);
    /// `None` when not asked or ListMetrics failed.
    pub traffic_series: Option<bool>,
    /// Σ `BytesProcessed` over the idle window; `None` without data.
    pub bytes_processed: Option<u64>,
}

/// A Transit Gateway attachment (DescribeTransitGatewayAttachments).
#[derive(Clone, Debug, PartialEq)]
pub struct TransitGatewayAttachment {
    pub id: String,
    pub transit_gateway_id: String,
    /// `vpc`, `vpn`, `direct-connect-gateway`, `connect`, `peering`, `tgw-peering`, ...
    pub resource_type: String,
    pub resource_id: Option<String>,
    /// The account of the attached resource: for a `vpc` attachment, the one billed its hours.
    pub resource_owner: Option<String>,
    pub transit_gateway_owner: Option<String>,
    /// `available`, `pending`, `pendingAcceptance`, `deleting`, ...
    pub state: String,
    pub created: Option<DateTime<Utc>>,
    pub tags: Tags,
    /// Σ `BytesIn` and Σ `BytesOut` over the idle window (AWS reports them always, zeros
    /// included); `None` without data.
    pub bytes_in: Option<u64>,
    pub bytes_out: Option<u64>,
}

/// A Route 53 hosted zone (ListHostedZones; GetHostedZone for a private zone's VPCs; never
/// its records).
#[derive(Clone, Debug, PartialEq)]
pub struct HostedZone {
    /// The id without `/hostedzone/`.
    pub id: String,
    pub name: String,
    pub private: bool,
    /// `ResourceRecordSetCount`: 2 for a zone holding only the SOA and NS records.
    pub record_count: Option<u64>,
    /// The service that manages it (`LinkedService.ServicePrincipal`, e.g. Cloud Map's).
    pub linked_service: Option<String>,
    /// A private zone's associated VPCs (id, region); `None` when not read.
    pub vpcs: Option<Vec<(String, String)>>,
}
