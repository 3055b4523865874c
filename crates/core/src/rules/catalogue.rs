//! Every rule costradar has, in one table: the scan's, the real-time ones, the CUR analysis' and
//! AWS's recommendations as the scan merges them. `costradar rules [--json]` prints it and the
//! rule tables of `docs/rules.md` are generated from it (`crates/core/tests/rules_doc.rs` fails
//! when they are stale); a test below holds it in step with [`super::SCAN_RULES`].

use serde::Serialize;

use crate::domain::triage::Source;

/// One rule as a reader sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RuleInfo {
    pub id: &'static str,
    /// The AWS service it reads about.
    pub service: &'static str,
    pub source: Source,
    pub title: &'static str,
    /// `high`, `medium`, `low`, or how it varies.
    pub confidence: &'static str,
    /// The scan settings (`docs/rules.md`, "Settings") it reads.
    pub settings: &'static [&'static str],
    /// What is flagged, the monthly cost and the monthly saving: the formulas, as in the doc
    /// comment of the rule's family file.
    pub flags: &'static str,
    pub cost: &'static str,
    pub saving: &'static str,
}

macro_rules! rules {
    ($($id:literal $service:literal $source:ident [$($setting:literal),*] $confidence:literal
        $title:literal; $flags:literal; $cost:literal; $saving:literal;)*) => {
        /// The catalogue, scan rules first in evaluation order.
        pub const CATALOGUE: &[RuleInfo] = &[$(RuleInfo {
            id: $id,
            service: $service,
            source: Source::$source,
            title: $title,
            confidence: $confidence,
            settings: &[$($setting),*],
            flags: $flags,
            cost: $cost,
            saving: $saving,
        }),*];
    };
}

rules! {
    "ebs.unattached-volume" "EBS" Scan ["unattached_volume_days"] "high"
        "EBS volume unattached";
        "`available` for ≥ N days (see ages above)";
        "GiB × $/GiB-month + IOPS above the type's free baseline × $/IOPS-month + MiB/s above 125 × $/MiB/s-month (gp3)";
        "= cost";
    "ebs.volume-on-stopped-instance" "EBS" Scan ["stopped_instance_days"] "medium"
        "EBS volume attached only to long-stopped instances";
        "attached only to instances stopped > `stopped_instance_days`";
        "the volume's cost";
        "= cost, counted in the instance's `ec2.stopped-instance`";
    "ebs.gp2-to-gp3" "EBS" Scan [] "high"
        "gp2 volume cheaper as gp3";
        "gp2 volume (available or in use)";
        "cost(gp2)";
        "cost(gp2) − cost(gp3 of the same size with IOPS = max(3000, 3 × GiB capped 100..16,000) and 128 MiB/s up to 170 GiB, else 250), only if positive";
    "ebs.io-to-gp3" "EBS" Scan ["io_to_gp3_max_iops"] "high (io1), medium (io2: durability)"
        "io1/io2 volume cheaper as gp3";
        "io1/io2 with ≤ `io_to_gp3_max_iops` IOPS";
        "cost(io) (io2 IOPS in its tiers)";
        "cost(io) − cost(gp3 with IOPS = max(3000, provisioned), MiB/s = max(125, min(IOPS / 4, 1000))), only if positive";
    "snapshot.orphaned" "EBS" Scan ["snapshot_age_days"] "medium"
        "Old snapshot of a deleted volume";
        "completed, ≥ `snapshot_age_days` old, source volume gone, no AMI of ours uses it";
        "≤ GiB × $/GB-month of snapshot storage (GiB = `FullSnapshotSizeInBytes` / 2^30, else the source volume's size)";
        "= cost, an upper bound: snapshots are incremental";
    "ec2.stopped-instance" "EC2" Scan ["stopped_instance_days"] "medium"
        "Long-stopped instance still paying for storage";
        "stopped > `stopped_instance_days` (time from `StateTransitionReason`)";
        "Σ its volumes' cost + its Elastic IPs × $/h × 730";
        "= cost (terminate, delete the volumes, release the addresses); an AMI backup's snapshot storage is shown as an upper bound in the evidence";
    "ec2.previous-generation" "EC2" Scan [] "high"
        "Previous-generation instance type";
        "running, previous-generation family (m1-m4, c1-c4, r3-r4, t1-t2, i2, d2, g2-g3, p2, x1)";
        "$/h × 730";
        "($/h − $/h of the current family, same size) × 730, only if positive";
    "ec2.idle-instance" "EC2" Scan ["idle_window_days", "idle_min_age_days", "idle_cpu_p95_percent"] "low"
        "Idle instance";
        "running ≥ `idle_min_age_days`, CPU p95 over the window < threshold";
        "$/h × 730";
        "= cost (stopped, it pays only its volumes)";
    "ec2.public-ipv4" "EC2" Scan [] "low"
        "Instance with an auto-assigned public IPv4 address";
        "running, its primary network interface has a public IPv4 address that is no Elastic IP of the account";
        "$/h of a public IPv4 address × 730 ($0.005 × 730 = $3.65)";
        "= cost, if nothing needs to reach it from the internet (behind a load balancer, outbound only)";
    "eip.unassociated" "EC2" Scan [] "high"
        "Elastic IP not associated";
        "no association, instance or ENI, and no NAT gateway or NLB uses its allocation";
        "$0.005/h × 730 = $3.65";
        "= cost";
    "nat.idle" "VPC" Scan ["idle_window_days", "idle_min_age_days", "nat_idle_max_bytes"] "medium"
        "Idle NAT gateway";
        "available ≥ `idle_min_age_days`, ≤ `nat_idle_max_bytes` in the window (`BytesInFromSource` + `BytesInFromDestination`)";
        "$/h × 730 + bytes / 2^30 × 30 / window days × $/GB + its Elastic IPs × $/h × 730";
        "= cost";
    "elb.no-healthy-targets" "ELB" Scan ["elb_no_targets_days"] "high (none registered), medium (registered, unhealthy)"
        "Load balancer with no healthy target";
        "active, no healthy target in any target group for ≥ `elb_no_targets_days`";
        "$/h × 730 for its type (capacity units not counted)";
        "= cost";
    "logs.never-expire" "CloudWatch Logs" Scan ["logs_min_stored_bytes", "logs_retention_days"] "medium"
        "Log group that never expires";
        "no retention, ≥ `logs_min_stored_bytes` stored";
        "stored bytes / 2^30 × $/GB-month";
        "not estimated (`null`): it depends on how much data is older than the retention, which CloudWatch does not report";
    "rds.stopped" "RDS" Scan [] "medium"
        "Stopped DB instance";
        "stopped (RDS restarts it after 7 days)";
        "instance + storage (instance = $/h × 730 at the published Single-AZ or Multi-AZ rate, storage = GiB × $/GiB-month of the deployment)";
        "the instance cost (delete with a final snapshot; the storage saving is left out: the snapshot's backup storage is not priced)";
    "rds.idle" "RDS" Scan ["idle_window_days", "idle_min_age_days"] "medium"
        "DB instance with no connection";
        "available ≥ `idle_min_age_days`, `DatabaseConnections` maximum 0 over the window";
        "as `rds.stopped`";
        "as `rds.stopped`";
    "rds.gp2-storage" "RDS" Scan [] "high"
        "RDS gp2 storage";
        "gp2 storage ≤ 4,000 GiB (gp3's baseline then covers gp2's)";
        "storage cost";
        "GiB × ($/GiB-month gp2 − gp3) of the deployment: $0 where AWS prices both alike (the finding is then about gp3's 3,000/12,000 IOPS for the same money)";
    "rds.previous-generation" "RDS" Scan [] "high"
        "Previous-generation DB instance class";
        "available, previous-generation class";
        "instance cost";
        "($/h − $/h of the current class, same size, same deployment) × 730, only if positive";
    "rds.multi-az-non-production" "RDS" Scan [] "high"
        "Multi-AZ on a non-production database";
        "Multi-AZ, tagged `environment`/`env`/`stage` = dev, development, test, testing, qa, staging, stage, sandbox, nonprod, non-prod, preprod";
        "instance + storage at Multi-AZ rates";
        "the same at Multi-AZ rates − at Single-AZ rates";
    "lambda.provisioned-concurrency-unused" "Lambda" Scan ["idle_window_days", "idle_min_age_days"] "medium"
        "Provisioned concurrency mostly unused";
        "`READY`, unchanged since before the window, peak `ProvisionedConcurrencyUtilization` over the window < 40 %";
        "allocated × memory GiB × $/GB-second of provisioned concurrency × 2,628,000 s; empty when the memory is unknown (the scan reads no function configuration); arm64 rate when the architecture is unknown";
        "(allocated − ⌈allocated × peak ÷ 0.7⌉) × memory GiB × $/GB-second × 2,628,000 s";
    "dynamodb.overprovisioned-capacity" "DynamoDB" Scan ["idle_window_days", "idle_min_age_days"] "medium"
        "Provisioned capacity far above consumption";
        "provisioned mode, RCU or WCU > 2 × max(1, ⌈busiest 5 minutes' units ÷ 300 ÷ 0.7⌉)";
        "(RCU × $/RCU-h + WCU × $/WCU-h) × 730";
        "the same for the capacity given up (each side over 2× its need set to the need)";
    "dynamodb.unused-table" "DynamoDB" Scan ["idle_window_days", "idle_min_age_days"] "low"
        "Table with no reads or writes";
        "`ConsumedReadCapacityUnits` and `ConsumedWriteCapacityUnits` sums 0 over the window; not a global table";
        "provisioned capacity of the table and its indexes × 730 + GiB × $/GB-month of its table class";
        "= cost (back up, delete)";
    "dynamodb.on-demand-to-provisioned" "DynamoDB" Scan ["idle_window_days", "idle_min_age_days"] "low"
        "Steady on-demand table cheaper provisioned";
        "on-demand mode, provisioned for the 5-minute peak at 70 % would cost ≤ 70 % of on demand";
        "(reads ÷ 10⁶ × $/million reads + writes ÷ 10⁶ × $/million writes) × 730 ÷ (24 × window days)";
        "on demand − (⌈peak reads ÷ 0.7⌉ × $/RCU-h + ⌈peak writes ÷ 0.7⌉ × $/WCU-h) × 730";
    "dynamodb.standard-ia" "DynamoDB" Scan ["idle_window_days", "idle_min_age_days", "dynamodb_ia_storage_share_percent", "dynamodb_ia_min_saving_usd"] "medium (provisioned), low (on demand)"
        "Storage-heavy table cheaper as Standard-IA";
        "Standard class, `ACTIVE`, storage (`TableSizeBytes` ÷ 2³⁰ × $/GB-month) ≥ `dynamodb_ia_storage_share_percent` % of throughput at Standard rates (provisioned: table and index capacity × 730; on demand: the window's requests as in `dynamodb.on-demand-to-provisioned`)";
        "storage + throughput at Standard rates";
        "(storage + throughput) at Standard − at Standard-IA rates, ≥ `dynamodb_ia_min_saving_usd`; empty when the book lacks Standard-IA throughput rates (then the storage difference, an upper bound, must reach the minimum)";
    "elasticache.idle-cluster" "ElastiCache" Scan ["idle_window_days", "idle_min_age_days"] "medium"
        "Cache cluster with no commands";
        "every node of the replication group (or stand-alone cluster) available ≥ `idle_min_age_days`, 0 commands (`GetTypeCmds` + `SetTypeCmds`, memcached `CmdGet` + `CmdSet`) and ≤ 4 `CurrConnections` over the window";
        "Σ nodes × $/h of the node type and engine × 730";
        "= cost (delete; Redis and Valkey keep a final snapshot)";
    "elasticache.previous-generation" "ElastiCache" Scan [] "high"
        "Previous-generation cache node type";
        "available, node family t1, m1, m2, m3, c1 or r3";
        "Σ nodes × $/h × 730";
        "($/h − $/h of the current family of the same size: t3, m5 or r5) × 730 × nodes, only if positive";
    "redshift.idle-cluster" "Redshift" Scan ["idle_window_days", "idle_min_age_days"] "medium"
        "Redshift cluster with no connection";
        "available ≥ `idle_min_age_days`, `DatabaseConnections` hourly maximum 0 in every hour of the window (Trusted Advisor's test), no completed query where `QueriesCompletedPerSecond` answers";
        "nodes × $/h of the node type × 730 (RA3 managed storage billed apart, not counted)";
        "= cost (delete with a final snapshot, or pause)";
    "redshift.previous-generation" "Redshift" Scan [] "medium"
        "Redshift node type AWS recommends moving to RA3";
        "available, node type and count in AWS's \"Upgrading to RA3 node types\" table (DS2; DC2 but dc2.large ≤ 4 nodes)";
        "nodes × $/h × 730";
        "old − AWS's recommended RA3 nodes × $/h × 730, only if both priced and positive; DS2 (no rate in the price book) flagged without a saving";
    "redshift.pause-schedule" "Redshift" Scan ["idle_window_days", "idle_min_age_days", "redshift_pause_idle_percent"] "low"
        "Redshift cluster idle nights and weekends";
        "available ≥ `idle_min_age_days`, not idle, metrics in ≥ 90 % of the window's hours (no pause so far), ≥ `redshift_pause_idle_percent` % of hours with 0 connections in stretches of ≥ 4 h";
        "nodes × $/h × 730";
        "quiet hours ÷ measured hours × cost";
    "opensearch.idle-domain" "OpenSearch" Scan ["idle_window_days", "idle_min_age_days"] "medium"
        "OpenSearch domain with no request";
        "not processing, daily `SearchRate` and `IndexingRate` sums 0 on ≥ max(`idle_window_days`, `idle_min_age_days`) days (the metrics stand for the domain's age)";
        "Σ data, dedicated master and UltraWarm nodes × $/h × 730 + GiB × data nodes × $/GB-month of the EBS type (parts not in the price book named and left out)";
        "= cost (delete, after a manual snapshot)";
    "opensearch.previous-generation" "OpenSearch" Scan [] "high"
        "Previous-generation OpenSearch instance type";
        "data or dedicated master nodes of family c4, i2, m3, m4, r3 or r4 (AWS's previous generation), engine Elasticsearch ≥ 5.1 or OpenSearch";
        "Σ moved roles' nodes × $/h × 730";
        "Σ roles of nodes × ($/h − $/h of c5, i3, m5 or r5 of the same size) × 730, roles with a priced, positive difference";
    "opensearch.gp2-storage" "OpenSearch" Scan [] "high"
        "OpenSearch gp2 storage";
        "EBS storage of type gp2";
        "GiB × data nodes × $/GB-month gp2";
        "GiB × data nodes × ($/GB-month gp2 − gp3), floored at 0; none when either rate is not in the price book";
    "eks.extended-support" "EKS" Scan [] "high"
        "EKS cluster in extended support";
        "ACTIVE, Kubernetes version past its end of standard support (AWS's EKS release calendar), upgrade policy not STANDARD";
        "($/h standard + $/h extended-support surcharge) × 730 ($0.10 + $0.50)";
        "the surcharge × 730 (upgrade to a version in standard support)";
    "eks.no-compute" "EKS" Scan ["idle_min_age_days"] "medium"
        "EKS cluster with no nodes";
        "ACTIVE ≥ `idle_min_age_days`, no managed node group, no Fargate profile, no Auto Mode, no EC2 instance tagged `kubernetes.io/cluster/<name>`";
        "the control plane: $/h standard (+ the extended-support surcharge) × 730";
        "= cost (delete)";
    "s3.incomplete-multipart-uploads" "S3" Scan ["s3_incomplete_upload_days"] "medium"
        "Incomplete multipart uploads no lifecycle rule aborts";
        "uploads started ≥ `s3_incomplete_upload_days` ago whose key no enabled `AbortIncompleteMultipartUpload` rule covers";
        "Σ parts GiB (ListParts on the oldest 10) × $/GB-month of S3 Standard; empty when none was sized";
        "= cost (a lower bound when some uploads were not sized); fix: a lifecycle rule aborting them";
    "s3.noncurrent-versions-kept" "S3" Scan ["s3_noncurrent_days", "s3_versioned_min_gib"] "low"
        "Versioned bucket that never expires noncurrent versions";
        "versioning `Enabled` or `Suspended`, no enabled lifecycle rule expiring or transitioning noncurrent versions; not known to hold < `s3_versioned_min_gib`";
        "—: CloudWatch does not split noncurrent bytes (S3 Storage Lens does)";
        "— (informational)";
    "s3.standard-without-tiering" "S3" Scan ["s3_large_bucket_gib", "cold_data_share_percent", "idle_window_days"] "low"
        "Large S3 Standard bucket with no lifecycle transition";
        "`BucketSizeBytes` (StandardStorage, mean of daily values) ≥ `s3_large_bucket_gib` and > 0, no enabled transition or expiry of current versions, average object ≥ 128 KiB when `NumberOfObjects` is known";
        "GiB × $/GB-month of S3 Standard";
        "estimate: GiB × `cold_data_share_percent` × ($/GB-month Standard − Standard-IA), monitoring and retrieval fees not counted";
    "efs.no-ia-lifecycle" "EFS" Scan ["efs_min_standard_gib", "cold_data_share_percent"] "low"
        "EFS file system with no lifecycle to Infrequent Access";
        "`available`, no `TransitionToIA` policy, Standard class ≥ `efs_min_standard_gib` (`SizeInBytes.ValueInStandard`)";
        "Standard GiB × $/GB-month (One Zone: its own class)";
        "estimate: Standard GiB × `cold_data_share_percent` × ($/GB-month Standard − IA), IA access charges not counted";
    "efs.overprovisioned-throughput" "EFS" Scan ["idle_window_days", "idle_min_age_days"] "medium"
        "Provisioned EFS throughput far above use";
        "provisioned mode, MiB/s > 2 × max(1, ⌈busiest 5 minutes of `MeteredIOBytes` in MiB/s ÷ 0.7⌉)";
        "max(0, MiB/s − Standard GiB × 50 KiB/s) × $/MiB/s-month";
        "(billed MiB/s now − billed at the needed MiB/s) × $/MiB/s-month, only if positive";
    "ecr.untagged-images" "ECR" Scan ["ecr_untagged_days"] "medium"
        "ECR repository with no lifecycle policy keeping untagged images";
        "no lifecycle policy, untagged images (not referrers) pushed > `ecr_untagged_days` ago, no multi-architecture image index in the repository";
        "≤ Σ `imageSizeInBytes` GiB × $/GB-month of ECR storage";
        "= cost, an upper bound (layers shared between images are stored once)";
    "backup.orphaned-recovery-points" "AWS Backup" Scan ["snapshot_age_days"] "low"
        "Recovery points of a deleted resource";
        "source (EBS volume, EC2 instance, RDS instance, DynamoDB table, EFS file system) of this region and account not in the scan's complete listing, newest point ≥ `snapshot_age_days` old";
        "Σ warm `BackupSizeInBytes` GiB × $/GB-month (EBS, EC2: EBS snapshot rate; others: AWS Backup warm rate of the type)";
        "= cost (an upper bound for incremental EBS and EC2 backups)";
    "backup.expired-recovery-point" "AWS Backup" Scan [] "high (EXPIRED), medium (past DeleteAt)"
        "Recovery point AWS Backup failed to delete";
        "status `EXPIRED`, or `CalculatedLifecycle.DeleteAt` more than 7 days ago and still listed";
        "warm GiB × $/GB-month of its type";
        "= cost";
    "cloudwatch.insufficient-data-alarm" "CloudWatch" Scan ["alarm_insufficient_data_days"] "low"
        "Alarm with no data to evaluate";
        "metric alarm in `INSUFFICIENT_DATA`, state and configuration unchanged for ≥ `alarm_insufficient_data_days`; not acted on by an Auto Scaling policy";
        "Σ billed alarm metrics × $/alarm-metric-month of their resolution (period < 60 s: high resolution; every metric of a metric-math expression; ×3 for anomaly detection; a Metrics Insights alarm is not priced)";
        "= cost (delete; the first 10 standard alarm metrics of an account are free)";
    "cloudwatch.alarm-on-deleted-resource" "CloudWatch" Scan [] "high"
        "Alarm on a resource that no longer exists";
        "every metric names an `InstanceId`, `VolumeId`, `DBInstanceIdentifier`, `LoadBalancer` or `NatGatewayId` absent from this region's complete listing (or terminated, deleted); incomplete listings are not judged";
        "Σ billed alarm metrics × $/alarm-metric-month of their resolution";
        "= cost (delete)";
    "vpc.idle-interface-endpoint" "VPC" Scan ["idle_window_days", "idle_min_age_days"] "medium"
        "Interface endpoint with no traffic";
        "`Interface` endpoint, available ≥ `idle_min_age_days`, `BytesProcessed` Σ = 0 over the window or no series in ListMetrics (AWS publishes it only with traffic; ListMetrics lists series with data in the last 2 weeks)";
        "AZs (subnets) × $/AZ-hour × 730";
        "= cost (delete)";
    "vpc.idle-transit-gateway-attachment" "VPC" Scan ["idle_window_days", "idle_min_age_days"] "medium"
        "Transit Gateway VPC attachment with no traffic";
        "`vpc` attachment of a VPC this account owns, available ≥ `idle_min_age_days`, `BytesIn` and `BytesOut` Σ = 0 over the window (VPN, Direct Connect, Connect, peering: left alone)";
        "$/attachment-hour × 730";
        "= cost (delete)";
    "route53.empty-hosted-zone" "Route 53" Scan [] "medium"
        "Hosted zone with only its SOA and NS records";
        "`ResourceRecordSetCount` ≤ 2, not managed by a service (`LinkedService`); region `us-east-1` (Route 53 is global)";
        "$/hosted-zone-month (the first 25 zones' rate)";
        "= cost (delete, after removing its delegation)";
    "route53.private-zone-without-vpc" "Route 53" Scan [] "high"
        "Private hosted zone associated with no VPC";
        "private zone whose GetHostedZone lists no VPC, not managed by a service; region `us-east-1`";
        "$/hosted-zone-month (the first 25 zones' rate)";
        "= cost (delete its records, then it)";
    "coh.<action>" "any" AwsRecommender ["cost_optimization_hub"] "low"
        "AWS Cost Optimization Hub recommendation";
        "a Cost Optimization Hub recommendation for a scanned region (commitment purchases are left to the CUR analysis)";
        "AWS's `estimatedMonthlyCost`";
        "AWS's `estimatedMonthlySavings` (after the account's discounts); merged with ours for the same resource, ours counted";
    "co.ec2-rightsize" "EC2" AwsRecommender ["compute_optimizer"] "low"
        "AWS Compute Optimizer: EC2 instance rightsizing";
        "an EC2 instance recommendation of a scanned region, finding not `Optimized`, rank-1 option saving > 0 (USD)";
        "saving ÷ `savingsOpportunityPercentage` × 100";
        "the rank-1 option's `savingsOpportunity.estimatedMonthlySavings` (USD only, before the account's discounts); counted after ours and Cost Optimization Hub's for the same resource";
    "co.ebs-rightsize" "EBS" AwsRecommender ["compute_optimizer"] "low"
        "AWS Compute Optimizer: EBS volume configuration";
        "an EBS volume recommendation, finding `NotOptimized`, rank-1 option saving > 0 (USD)";
        "saving ÷ `savingsOpportunityPercentage` × 100";
        "as `co.ec2-rightsize`";
    "co.lambda-rightsize" "Lambda" AwsRecommender ["compute_optimizer"] "low"
        "AWS Compute Optimizer: Lambda memory size";
        "a Lambda function recommendation, finding `NotOptimized`, rank-1 memory option saving > 0 (USD)";
        "saving ÷ `savingsOpportunityPercentage` × 100";
        "as `co.ec2-rightsize`";
    "co.ecs-rightsize" "ECS" AwsRecommender ["compute_optimizer"] "low"
        "AWS Compute Optimizer: ECS service on Fargate task size";
        "an ECS service on Fargate, finding `Overprovisioned`, first option (ECS options have no rank) saving > 0 (USD)";
        "saving ÷ `savingsOpportunityPercentage` × 100";
        "the first option's `savingsOpportunity.estimatedMonthlySavings` (USD only, before discounts)";
    "co.asg-rightsize" "EC2 Auto Scaling" AwsRecommender ["compute_optimizer"] "low"
        "AWS Compute Optimizer: Auto Scaling group instance type";
        "an Auto Scaling group recommendation, finding not `Optimized`, rank-1 option saving > 0 (USD)";
        "saving ÷ `savingsOpportunityPercentage` × 100";
        "as `co.ec2-rightsize`";
    "co.rds-rightsize" "RDS" AwsRecommender ["compute_optimizer"] "low"
        "AWS Compute Optimizer: DB instance class";
        "an RDS DB instance recommendation, instance finding not `Optimized`, rank-1 instance-class option saving > 0 (USD); storage options left out";
        "saving ÷ `savingsOpportunityPercentage` × 100";
        "as `co.ec2-rightsize`";
    "co.idle" "any" AwsRecommender ["compute_optimizer"] "low"
        "AWS Compute Optimizer: idle resource";
        "a `GetIdleRecommendations` resource (EC2 instance, Auto Scaling group, EBS volume, ECS service, RDS instance, NAT gateway, ...) `Idle`, `Unattached` or `Unused`, saving > 0 (USD)";
        "saving ÷ `savingsOpportunityPercentage` × 100";
        "the recommendation's `savingsOpportunity.estimatedMonthlySavings` (USD only, before discounts); a removal, counted after ours and Cost Optimization Hub's removals";
    "ta.<check>" "any" AwsRecommender ["trusted_advisor"] "low"
        "AWS Trusted Advisor cost-optimizing check";
        "a resource in status `warning` or `error` (not excluded) of a cost-optimizing check of Trusted Advisor's own (`ta_check` source), in a scanned region; needs a Business or Enterprise Support plan";
        "—";
        "the resource's \"Estimated Monthly Savings\" column (USD) when the check has one, else none; counted after ours and the other recommenders' for the same resource";
    "realtime.accelerated-instance" "EC2" Realtime [] "—"
        "GPU or accelerated instance launched";
        "a launch or resize to a GPU, machine-learning or FPGA family, whatever the amount";
        "the priced change";
        "—";
    "realtime.previous-generation" "EC2" Realtime [] "—"
        "Previous-generation instance type launched";
        "an instance launched or resized to a previous-generation family, whatever the amount";
        "the priced change";
        "price difference with the current family of the same size";
    "realtime.gp2-volume" "EBS" Realtime [] "—"
        "New gp2 volume";
        "a gp2 volume created or modified, whatever the amount";
        "the priced change";
        "cost(gp2) − cost(gp3 equivalent)";
    "realtime.provisioned-iops-volume" "EBS" Realtime [] "—"
        "New io1/io2 volume";
        "an io1/io2 volume created or modified, whatever the amount";
        "the priced change";
        "cost(io) − cost(gp3 with the same size and IOPS), up to 16,000 IOPS";
    "realtime.multi-az-non-production" "RDS" Realtime [] "—"
        "Multi-AZ database tagged non-production";
        "a Multi-AZ DB instance created with a non-production tag";
        "the priced change";
        "half of the cost (the standby)";
    "realtime.billing-alarm" "CloudWatch" Realtime [] "—"
        "Billing alarm in ALARM";
        "an `AWS/Billing` alarm changed to ALARM";
        "—";
        "—";
    "realtime.cost-increase" "any" Realtime [] "—"
        "Change that adds cost";
        "any other priced change adding at least the tenant's threshold (default $100/month)";
        "the priced change";
        "—";
    "cur.idle-elastic-ip" "EC2" Cur [] "medium"
        "Elastic IP address not attached";
        "CUR idle-address usage in the analysed period";
        "the effective cost, per month";
        "= cost";
    "cur.idle-public-ipv4" "VPC" Cur [] "medium"
        "Idle public IPv4 address";
        "CUR idle public IPv4 usage";
        "the effective cost, per month";
        "= cost";
    "cur.gp2-volume" "EBS" Cur [] "medium"
        "EBS gp2 volume";
        "CUR gp2 storage usage";
        "the effective cost, per month";
        "the share gp3 saves";
    "cur.snapshot-storage" "EBS" Cur [] "medium"
        "EBS snapshot storage";
        "CUR snapshot storage usage";
        "the effective cost, per month";
        "the share the archive tier saves";
    "cur.idle-nat-gateway" "VPC" Cur [] "medium"
        "NAT gateway billed with no data processed";
        "CUR NAT gateway hours with no bytes processed";
        "the effective cost, per month";
        "= cost";
    "cur.previous-generation" "EC2" Cur [] "medium"
        "Previous-generation instance";
        "CUR usage of a previous-generation type";
        "the effective cost, per month";
        "cost × (1 − $/h of the current type ÷ $/h of the old)";
    "cur.anomaly" "any" Cur [] "low"
        "Spend spike or new spend";
        "a day's usage cost far above its service's baseline";
        "—";
        "—";
}

/// The catalogue entry of a rule id.
pub fn find(id: &str) -> Option<&'static RuleInfo> {
    CATALOGUE.iter().find(|r| r.id == id)
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// The scan rules' table of `docs/rules.md` (scan rules and AWS's recommendations).
pub fn scan_table() -> String {
    let mut out = String::from(
        "| rule | service | flags | monthly cost | monthly saving | confidence | settings |\n|---|---|---|---|---|---|---|\n",
    );
    for r in CATALOGUE.iter().filter(|r| matches!(r.source, Source::Scan | Source::AwsRecommender)) {
        let settings = r.settings.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ");
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} |\n",
            r.id,
            r.service,
            cell(r.flags),
            cell(r.cost),
            cell(r.saving),
            r.confidence,
            settings
        ));
    }
    out
}

/// The other sources' table of `docs/rules.md` (real time and the CUR analysis).
pub fn other_table() -> String {
    let mut out = String::from("| rule | source | service | flags | saving |\n|---|---|---|---|---|\n");
    for r in CATALOGUE.iter().filter(|r| matches!(r.source, Source::Realtime | Source::Cur)) {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            r.id,
            r.source.as_str(),
            r.service,
            cell(r.flags),
            cell(r.saving)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::rules::SCAN_RULES;

    #[test]
    fn the_scan_rules_are_the_catalogues_scan_entries_in_order() {
        let scan: Vec<&str> = CATALOGUE.iter().filter(|r| r.source == Source::Scan).map(|r| r.id).collect();
        assert_eq!(scan, SCAN_RULES);
        let mut seen = HashSet::new();
        for r in CATALOGUE {
            assert!(seen.insert(r.id), "{} twice", r.id);
            assert!(!r.title.is_empty() && !r.flags.is_empty() && !r.service.is_empty(), "{}", r.id);
            assert_eq!(Source::of_rule(r.id), r.source, "{}: the id's prefix names another source", r.id);
        }
    }

    #[test]
    fn settings_named_are_real_settings() {
        let known = serde_json::to_value(crate::domain::settings::ScanSettings::default()).unwrap();
        for r in CATALOGUE {
            for s in r.settings {
                assert!(known.get(*s).is_some(), "{}: no setting {s}", r.id);
            }
        }
        let idle: &[&str] = &["idle_window_days", "idle_min_age_days"];
        assert_eq!(find("dynamodb.unused-table").map(|r| r.settings), Some(idle));
    }

    #[test]
    fn tables_have_one_row_per_rule_and_escape_pipes() {
        let scan = scan_table();
        let other = other_table();
        assert_eq!(scan.lines().count() + other.lines().count() - 4, CATALOGUE.len());
        assert!(!scan.contains("| `realtime."));
        let json = serde_json::to_value(CATALOGUE).unwrap();
        assert_eq!(json[0]["source"], "scan");
        assert_eq!(json[0]["settings"][0], "unattached_volume_days");
    }
}
