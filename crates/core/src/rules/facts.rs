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
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Snapshot ids some AMI of ours uses.
    pub fn snapshots_in_images(&self) -> HashSet<&str> {
        self.images.iter().flat_map(|i| i.snapshot_ids.iter().map(String::as_str)).collect()
    }
}
