//! The families the Price List refresh reads: one row of [`FAMILIES`] each (a service code, a
//! product family, the filters sent, the function from attributes to [`Sku`]). Every key a
//! family produces is in the bundled book's grammar ([`Sku::key`], `crates/core/data/
//! PRICING-SOURCES.md`), and all of them are keys the book has, except the ones the book lacks
//! and this refresh exists to supply: EC2 platforms other than Linux on shared hardware, and
//! SageMaker inference, training and processing.
//!
//! | family | service, product family (filters) | what it reads | key |
//! |---|---|---|---|
//! | `ec2-shared`, `ec2-dedicated` | AmazonEC2, `Compute Instance` (`tenancy` Shared / Dedicated, `capacitystatus` Used) | `BoxUsage:<type>` / `DedicatedUsage:<type>`, Hrs | `ec2:<type>:<os>:<tenancy>` |
//! | `ec2-metal-shared`, `ec2-metal-dedicated` | AmazonEC2, `Compute Instance (bare metal)` (same) | same | same |
//! | `ebs-storage` | AmazonEC2, `Storage` | `volumeApiName`, `EBS:VolumeUsage*`, GB-Mo | `ebs:<type>:gb-month` |
//! | `ebs-iops` | AmazonEC2, `System Operation` | `EBS:VolumeP-IOPS.{gp3,piops,io2}`, `group` `EBS IOPS Tier 2/3`, IOPS-Mo | `ebs:<type>:iops-month`, `ebs:io2-tier2/3:iops-month` |
//! | `ebs-throughput` | AmazonEC2, `Provisioned Throughput` | `EBS:VolumeP-Throughput.gp3`, GiBps-mo ÷ 1024 (or MiBps-Mo) | `ebs:gp3:throughput-mibps-month` |
//! | `ebs-snapshot` | AmazonEC2, `Storage Snapshot` | `EBS:SnapshotUsage`, `EBS:SnapshotArchiveStorage`, GB-Mo | `ebs-snapshot:standard/archive:gb-month` |
//! | `nat` | AmazonEC2, `NAT Gateway` | `NatGateway-Hours` (Hrs), `NatGateway-Bytes` (GB) | `nat:hour`, `nat:gb` |
//! | `public-ipv4` | AmazonVPC (whole) | `PublicIPv4:InUseAddress`, Hrs | `vpc:public-ipv4:hour` |
//! | `elb` | AWSELB (whole) | `Load Balancer-Application/-Network/-Gateway`, `Load Balancer` (classic) × `LoadBalancerUsage` (Hrs), `LCUUsage` (LCU-Hrs; NLCU/GLCU accepted), classic `DataProcessing-Bytes` (GB); `operation` must be the kind's | `elb:<kind>:hour`, `elb:<kind>:<capacity unit>` |
//! | `rds-instance` | AmazonRDS, `Database Instance` | `databaseEngine`, `licenseModel`, `databaseEdition`, `deploymentOption`, `instanceType`, Hrs | `rds:<engine>:<class>:<deployment>:hour` |
//! | `rds-storage` | AmazonRDS, `Database Storage` | `RDS:[Multi-AZ-]{GP2,GP3,PIOPS,IO2-PIOPS}-Storage`, `RDS:[Multi-AZ-]StorageUsage`, GB-Mo | `rds-storage:<type>:<deployment>:gb-month` |
//! | `rds-iops` | AmazonRDS, `Provisioned IOPS` | `RDS:[Multi-AZ-]{PIOPS,GP3-PIOPS,IO2-PIOPS}`, IOPS-Mo | `rds-iops:<type>:<deployment>:iops-month` |
//! | `elasticache` | AmazonElastiCache, `Cache Instance` | `cacheEngine` Redis/Valkey/Memcached, `NodeUsage:<node>`, Hrs | `elasticache:<node>:<engine>:hour` |
//! | `opensearch` | AmazonES, `Amazon OpenSearch Service Instance` | `ESInstance:*`, `instanceType` `*.search`, Hrs | `opensearch:<type>:hour` |
//! | `redshift` | AmazonRedshift, `Compute Instance` | `Node:<type>`, Hrs | `redshift:<type>:hour` |
//! | `msk` | AmazonMSK, `Managed Streaming for Apache Kafka (MSK)` | `Kafka.<family>.<size>`, `Express.<family>.<size>`, Hrs | `msk:<broker>:hour` |
//! | `sagemaker` | AmazonSageMaker, `ML Instance` | `Host:` / `Train:` / `Notebk:` / `Processing:ml.*`, Hrs | `sagemaker:<type>:<usage>:hour` |
//! | `eks` | AmazonEKS, `Compute` | `AmazonEKS-Hours:perCluster`, `AmazonEKS-Hours:extendedSupport` (the surcharge, as the book has it), Hrs | `eks:standard/extended:hour` |
//! | `lambda-provisioned` | AWSLambda, `Serverless` | `group` `AWS-Lambda-Provisioned-Concurrency[-ARM]`, Lambda-GB-Second | `lambda-provisioned:<arch>:gb-second` |
//! | `dynamodb` | AmazonDynamoDB (whole) | `Read/WriteCapacityUnit-Hrs` after the free allowance; `Read/WriteRequestUnits` × 10⁶; `[IA-]TimedStorage-ByteHrs` (GB-Mo) after the free allowance | `dynamodb:provisioned:rcu/wcu:hour`, `dynamodb:on-demand:read/write:million`, `dynamodb-storage:standard[-ia]:gb-month` |
//! | `kinesis` | AmazonKinesis, `Kinesis Streams` | `Storage-ShardHour` | `kinesis:shard-hour` |
//! | `emr` | ElasticMapReduce (`softwareType` EMR) | `BoxUsage:<type>`, Hrs | `emr:<type>:hour` |
//! | `dax` | AmazonDAX, `DAX` | `NodeUsage:dax.<type>`, Hrs | `dax:<node>:hour` |
//! | `logs-ingest`, `logs-storage` | AmazonCloudWatch, `Data Payload` / `Storage Snapshot` | `DataProcessing-Bytes` (GB), `TimedStorage-ByteHrs` (GB-Mo), after the free allowance | `logs:ingest:gb`, `logs:storage:gb-month` |
//! | `efs` | AmazonEFS (whole) | `Storage`: `TimedStorage-ByteHrs`, `IATimedStorage-ByteHrs`, `TimedStorage-Z-ByteHrs`, `IATimedStorage-Z-ByteHrs` (GB-Mo); `Provisioned Throughput`: `ProvisionedTP-MiBpsHrs` (MiBps-Mo) | `efs:standard/ia/one-zone/one-zone-ia:gb-month`, `efs:provisioned-throughput:mibps-month` |
//! | `ecr` | AmazonECR, `EC2 Container Registry` | `TimedStorage-ByteHrs`, GB-Mo | `ecr:storage:gb-month` |
//! | `cloudwatch-alarm` | AmazonCloudWatch, `Alarm` | `CW:AlarmMonitorUsage` (`alarmType` Standard), `CW:HighResAlarmMonitorUsage` (High Resolution), Alarms, after the free allowance | `cloudwatch:alarm:standard/high-resolution:month` |
//! | `vpc-endpoint` | AmazonVPC, `VpcEndpoint` | `VpcEndpoint-Hours` (not `VpcEndpoint-GWLBE-Hours`), Hrs | `vpc:interface-endpoint:az-hour` |
//! | `transit-gateway` | AmazonVPC (`operation` TransitGatewayVPC) | `TransitGateway-Hours`, Hrs (or `hour`) | `vpc:transit-gateway-attachment:hour` |
//! | `opensearch-storage` | AmazonES, `Amazon OpenSearch Service Volume` | `ES:GP2-Storage`, `ES:GP3-Storage`, GB-Mo | `opensearch-storage:gp2/gp3:gb-month` |
//! | `redshift-storage` | AmazonRedshift, `Redshift Managed Storage` | `RMS:<ra3 type>` (not `RMS:Serverless`), GB-Mo | `redshift-storage:managed:gb-month` |
//!
//! Usage types are matched exactly once the billing-region prefix is off, so `RegionalNatGateway-
//! Hours`, `TS-LoadBalancerUsage` (trust stores), `IA-ReadCapacityUnit-Hrs` (Standard-IA tables),
//! `ExtendedSupport` and `SyncDurability` ElastiCache rows, `UnusedBox`/`UnusedDed` capacity
//! reservations and Outposts rows never pass for the rate next to them.
//!
//! EC2's operating system comes from three attributes and is checked against a fourth: the
//! (`operatingSystem`, `licenseModel`, `preInstalledSw`) triple names the [`Os`], and the product's
//! `operation` must be that platform's billing code, or it is skipped:
//!
//! | operatingSystem | licenseModel | preInstalledSw | operation | key os |
//! |---|---|---|---|---|
//! | Linux | No License required | NA | RunInstances | linux |
//! | Windows | No License required | NA | RunInstances:0002 | windows |
//! | Windows | Bring your own license | NA | RunInstances:0800 | windows-byol |
//! | RHEL | No License required | NA | RunInstances:0010 | rhel |
//! | Red Hat Enterprise Linux with HA | No License required | NA | RunInstances:1010 | rhel-ha |
//! | SUSE | No License required | NA | RunInstances:000g | suse |
//! | Ubuntu Pro | No License required | NA | RunInstances:0g00 | ubuntu-pro |
//! | Linux | No License required | SQL Web / SQL Std / SQL Ent | RunInstances:0200 / 0004 / 0100 | linux-sql-web / -std / -ent |
//! | Windows | No License required | SQL Web / SQL Std / SQL Ent | RunInstances:0202 / 0006 / 0102 | windows-sql-web / -std / -ent |
//!
//! RDS engines: MySQL, PostgreSQL, MariaDB with `No license required` → `mysql`, `postgres`,
//! `mariadb`; Oracle `Standard Two` `License included` → `oracle-se2`; Oracle `Enterprise`
//! `Bring your own license` → `oracle-byol`; SQL Server `License included` Express / Web /
//! Standard / Enterprise → `sqlserver-ex/-web/-se/-ee`. Deployments: `Single-AZ`, `Multi-AZ`,
//! `Multi-AZ (readable standbys)` → `single-az`, `multi-az`, `multi-az-cluster`.
//!
//! ## Where the attribute values come from
//!
//! Public copies of Price List documents and of code that reads them, found with the search
//! tool (the fixtures in `crates/core/tests/fixtures/price_list/` are trimmed from these shapes;
//! their README names each one):
//! - the AWS CLI `pricing get-products` example (docs.aws.amazon.com code library): a whole
//!   `Storage` document, `serviceCode`, `usagetype` `APS1-EBS:VolumeUsage.piops`;
//! - the EC2 User Guide's "AMI billing information fields" table: every `PlatformDetails` and its
//!   `RunInstances:*` usage operation (the column the Price List's `operation` carries);
//! - a stored GetProducts product (a public test fixture) with `operatingSystem` `Ubuntu Pro`,
//!   `operation` `RunInstances:0g00`, `usagetype` `NYC1-BoxUsage:c5d.2xlarge`, `capacitystatus`,
//!   `marketoption` and a Local Zone `regionCode`; and one with `preInstalledSw` `SQL Web`,
//!   `operation` `RunInstances:0202`, `tenancy` Dedicated, `usagetype` `APN1-DedicatedUsage:*`;
//! - ComputeSoftware/csp-pricing `src/computesoftware/csp_pricing/aws/{ec2,rds}.clj`: the value
//!   sets of `operatingSystem`, `licenseModel`, `preInstalledSw`, `tenancy`, EBS `group` (`EBS
//!   IOPS`, `EBS IOPS Tier 2`, `EBS IOPS Tier 3`), RDS `deploymentOption`, `databaseEngine`,
//!   `licenseModel`, `databaseEdition`, and the units (`GiBps-mo`, `MiBps-Mo`, `LCU-Hrs`, ...);
//! - vantage-sh/ec2instances.info `scraper/aws/`: EC2 product families `Compute Instance` and
//!   `Compute Instance (bare metal)`, ElastiCache `Cache Instance` with `cacheEngine` and the
//!   `ExtendedSupport`/`SyncDurability` usage types to keep out, OpenSearch's product family,
//!   Redshift's `Compute Instance`, and RDS SQL Server's "Bring your own media" rows that mark an
//!   instance class whose licence is billed apart (`AmazonRDSOCPULicenseFees`);
//! - infracost/infracost `internal/resources/aws/*.go`: product families and usage types of EBS
//!   (`Provisioned Throughput`, `GiBps-mo`), snapshots, NAT, ELB, RDS storage and IOPS, MSK,
//!   EKS, Lambda provisioned concurrency (`group`), DynamoDB (`group`, free-tier description),
//!   Kinesis (`Storage-ShardHour`), CloudWatch Logs (`Data Payload`, `Storage Snapshot`);
//! - a trimmed eu-west-2 offer file in a public test (ELB, public IPv4, NAT, snapshot rows with
//!   their operations and prices: 0.02646, 0.0294, 0.0147, 0.005, 0.05, 0.053, 0.01325), which
//!   match the bundled book;
//! - Price List checks published in public repositories: `USE1-PublicIPv4:InUseAddress`,
//!   `USE1-AmazonEKS-Hours:perCluster` / `:extendedSupport` ($0.10 and a $0.50 surcharge),
//!   `USE1-DataProcessing-Bytes` and `USE1-TimedStorage-ByteHrs` (Logs, $0.50 and $0.03),
//!   `EBS:VolumeP-IOPS.gp3`, `EBS:VolumeP-Throughput.gp3`, `RDS:GP3-PIOPS`,
//!   `RDS:Multi-AZ-GP3-PIOPS`, `RDS:PIOPS`, `RDS:IO2-PIOPS-Storage`, `RDS:Multi-AZ-GP3-Storage`,
//!   `USE1-Kafka.m5.large`, `APN1-Express.m7g.large`, `USE1-Host:ml.m5.large`,
//!   `USE1-Notebk:ml.t3.medium`, `USE1-Train:*`, `Processing:ml.*`, `Node:ra3.xlplus`, and
//!   a public ap-northeast-2 DynamoDB fixture (RCU and WCU with a $0 allowance to 18,600 and the
//!   rate after it, `ReadRequestUnits`, `WriteRequestUnits`, and the `IA-` and `Repl` rows to keep
//!   out) whose rates equal the bundled book's;
//! - aws-samples code that reads DAX from GetProducts: product family `DAX`, `usagetype`
//!   `EUW3-NodeUsage:dax.t3.small`;
//! - for the storage, network and monitoring families: infracost/infracost
//!   `internal/resources/aws/{efs_file_system,ecr_repository,cloudwatch_metric_alarm,vpc_endpoint,
//!   ec2_transit_gateway_vpc_attachment,redshift_cluster}.go` (product families `Storage`,
//!   `Provisioned Throughput`, `EC2 Container Registry`, `Alarm` with `alarmType`, `VpcEndpoint`,
//!   `Redshift Managed Storage`; usage types `TimedStorage[-Z]-ByteHrs`,
//!   `IATimedStorage[-Z]-ByteHrs`, `ProvisionedTP-MiBpsHrs`, `VpcEndpoint-Hours` vs
//!   `VpcEndpoint-GWLBE-Hours`, `TransitGateway-Hours` with `operation` `TransitGatewayVPC`);
//!   public Price List readers and fixtures with the units `MiBps-Mo` (EFS throughput, at 6.00
//!   in us-west-2), `Alarms` (`CW:AlarmMonitorUsage`, 0.10), `GB-Mo` (`RMS:ra3.4xlarge` at 0.024
//!   in us-east-1 and 0.0261 in ap-northeast-2, next to `RMS:Serverless`), TGW attachments'
//!   `attachmentType` `VPC` and `group` `AWSTransitGateway`, and OpenSearch's
//!   `Amazon OpenSearch Service Volume` with `storageMedia` and `ES:GP2/GP3-Storage` (GB-Mo).
//!   The pricing-page feed names the TGW row "... per hour" where endpoints say "per Hrs", so
//!   `hour` is accepted besides the usual hour units.
//!
//! ## Not read, and why
//!
//! - **Aurora** (instances, Serverless v2, storage, I/O): the Price List marks I/O-Optimized with
//!   a `storage` attribute and separate usage types whose full set was not found in any public
//!   copy; guessing which row is Standard would misprice. The bundled book keeps them.
//! - **EC2 Dedicated Hosts** (billed per host), **RHEL with SQL Server** and **RHEL BYOL**
//!   (no key), **Spot**, **Reserved** and **Savings Plans** rates.
//! - **RDS SQL Server on classes with an unbundled licence** (m7i, r7i, ... where a "Bring your own
//!   media" row exists): their `License included` row lacks the licence fee, so it is vetoed.
//!   **SQL Server Multi-AZ rows labelled `Multi-AZ (SQL Server Mirror)`**, **Oracle SE2 BYOL**
//!   (the book's `oracle-byol` is the Enterprise row), **Db2**, **RDS Custom** (`deploymentModel`)
//!   and **Outposts** rows are not mapped; RDS storage and IOPS are read only from rows of the
//!   open-source engines or `Any` (SQL Server uses `Mirror` storage), and Multi-AZ DB cluster
//!   storage has no key in the book.
//! - **Tiered prices, and units without a [`Sku`] yet**: Lambda requests and duration (the
//!   book's `lambda:*`, tiered), S3 storage classes (tiered), vended logs (tiered), Kinesis
//!   on-demand and PUT payload units, DynamoDB Standard-IA requests and replicated writes, MSK
//!   storage and Serverless, ElastiCache Serverless, Redshift Serverless (and its managed
//!   storage, `RMS:Serverless`), RDS backup storage and gp3 throughput,
//!   `lambda-provisioned-duration`.
//! - **EFS Archive** (its usage type was not found in a public copy of a product) and EFS IA in
//!   Elastic throughput mode (no key: `efs:ia` is the `IATimedStorage-ByteHrs` rate, as in the
//!   book); **AWS Backup** (its per-resource usage types were not found), **Route 53** (priced
//!   globally: its products have no `regionCode`, so a regional read skips them).
//! - **Public IPv4 idle addresses** have the same price as in-use ones and one key.
//!
//! A family whose product family or usage type AWS renames reads no rates (its count is 0 in
//! the refresh's report); the stored and bundled rates keep pricing.

use crate::pricing::price_list::{ident, Family, Product, Reading, Unit};
use crate::pricing::{Deployment, Os, SageMakerUsage, Sku, Tenancy};

const HOURS: &[Unit] = &[Unit::of("Hrs"), Unit::of("Hours"), Unit::of("hours")];
const GB_MONTH: &[Unit] = &[Unit::of("GB-Mo")];
const GB: &[Unit] = &[Unit::of("GB")];
const IOPS_MONTH: &[Unit] = &[Unit::of("IOPS-Mo")];
const THROUGHPUT: &[Unit] = &[Unit { name: "GiBps-mo", times: 1, per: 1024 }, Unit::of("MiBps-Mo")];
const LCU: &[Unit] = &[Unit::of("LCU-Hrs")];
const NLCU: &[Unit] = &[Unit::of("LCU-Hrs"), Unit::of("NLCU-Hrs")];
const GLCU: &[Unit] = &[Unit::of("LCU-Hrs"), Unit::of("GLCU-Hrs")];
const GB_SECOND: &[Unit] = &[Unit::of("Lambda-GB-Second")];
const RCU: &[Unit] = &[Unit::of("ReadCapacityUnit-Hrs")];
const WCU: &[Unit] = &[Unit::of("WriteCapacityUnit-Hrs")];
const READ_REQUESTS: &[Unit] = &[Unit::per_million("ReadRequestUnits")];
const WRITE_REQUESTS: &[Unit] = &[Unit::per_million("WriteRequestUnits")];
const SHARD_HOURS: &[Unit] = &[Unit::of("Hrs"), Unit::of("Hours"), Unit::of("hours"), Unit::of("ShardHour")];
const ATTACHMENT_HOURS: &[Unit] = &[Unit::of("Hrs"), Unit::of("Hours"), Unit::of("hours"), Unit::of("hour")];
const MIBPS_MONTH: &[Unit] = &[Unit::of("MiBps-Mo")];
const ALARMS: &[Unit] = &[Unit::of("Alarms")];

const fn family(
    name: &'static str,
    service_code: &'static str,
    product_family: Option<&'static str>,
    filters: &'static [(&'static str, &'static str)],
    read: fn(&Product) -> Reading,
) -> Family {
    Family { name, service_code, product_family, filters, free_allowance: false, read }
}

const fn with_allowance(f: Family) -> Family {
    Family { free_allowance: true, ..f }
}

const SHARED: &[(&str, &str)] = &[("tenancy", "Shared"), ("capacitystatus", "Used")];
const DEDICATED: &[(&str, &str)] = &[("tenancy", "Dedicated"), ("capacitystatus", "Used")];
const EC2: &str = "AmazonEC2";
const RDS: &str = "AmazonRDS";

/// Every family the refresh reads, in the order it reads them.
pub static FAMILIES: &[Family] = &[
    family("ec2-shared", EC2, Some("Compute Instance"), SHARED, ec2_shared),
    family("ec2-dedicated", EC2, Some("Compute Instance"), DEDICATED, ec2_dedicated),
    family("ec2-metal-shared", EC2, Some("Compute Instance (bare metal)"), SHARED, ec2_shared),
    family("ec2-metal-dedicated", EC2, Some("Compute Instance (bare metal)"), DEDICATED, ec2_dedicated),
    family("ebs-storage", EC2, Some("Storage"), &[], ebs_storage),
    family("ebs-iops", EC2, Some("System Operation"), &[], ebs_iops),
    family("ebs-throughput", EC2, Some("Provisioned Throughput"), &[], ebs_throughput),
    family("ebs-snapshot", EC2, Some("Storage Snapshot"), &[], ebs_snapshot),
    family("nat", EC2, Some("NAT Gateway"), &[], nat),
    family("public-ipv4", "AmazonVPC", None, &[], public_ipv4),
    family("elb", "AWSELB", None, &[], elb),
    family("rds-instance", RDS, Some("Database Instance"), &[], rds_instance),
    family("rds-storage", RDS, Some("Database Storage"), &[], rds_storage),
    family("rds-iops", RDS, Some("Provisioned IOPS"), &[], rds_iops),
    family("elasticache", "AmazonElastiCache", Some("Cache Instance"), &[], elasticache),
    family("opensearch", "AmazonES", Some("Amazon OpenSearch Service Instance"), &[], opensearch),
    family("redshift", "AmazonRedshift", Some("Compute Instance"), &[], redshift),
    family("msk", "AmazonMSK", Some("Managed Streaming for Apache Kafka (MSK)"), &[], msk),
    family("sagemaker", "AmazonSageMaker", Some("ML Instance"), &[], sagemaker),
    family("eks", "AmazonEKS", Some("Compute"), &[], eks),
    family("lambda-provisioned", "AWSLambda", Some("Serverless"), &[], lambda_provisioned),
    with_allowance(family("dynamodb", "AmazonDynamoDB", None, &[], dynamodb)),
    family("kinesis", "AmazonKinesis", Some("Kinesis Streams"), &[], kinesis),
    family("emr", "ElasticMapReduce", None, &[("softwareType", "EMR")], emr),
    family("dax", "AmazonDAX", Some("DAX"), &[], dax),
    with_allowance(family("logs-ingest", "AmazonCloudWatch", Some("Data Payload"), &[], logs_ingest)),
    with_allowance(family("logs-storage", "AmazonCloudWatch", Some("Storage Snapshot"), &[], logs_storage)),
    family("efs", "AmazonEFS", None, &[], efs),
    with_allowance(family("ecr", "AmazonECR", Some("EC2 Container Registry"), &[], ecr)),
    with_allowance(family("cloudwatch-alarm", "AmazonCloudWatch", Some("Alarm"), &[], cloudwatch_alarm)),
    family("vpc-endpoint", "AmazonVPC", Some("VpcEndpoint"), &[], vpc_endpoint),
    family("transit-gateway", "AmazonVPC", None, &[("operation", "TransitGatewayVPC")], transit_gateway),
    family("opensearch-storage", "AmazonES", Some("Amazon OpenSearch Service Volume"), &[], opensearch_storage),
    family("redshift-storage", "AmazonRedshift", Some("Redshift Managed Storage"), &[], redshift_storage),
];

const NO_LICENCE: &str = "No License required";

/// (operatingSystem, licenseModel, preInstalledSw) → the OS, and the `operation` it must have.
const EC2_PLATFORMS: &[(&str, &str, &str, Os, &str)] = &[
    ("Linux", NO_LICENCE, "NA", Os::Linux, "RunInstances"),
    ("Windows", NO_LICENCE, "NA", Os::Windows, "RunInstances:0002"),
    ("Windows", "Bring your own license", "NA", Os::WindowsByol, "RunInstances:0800"),
    ("RHEL", NO_LICENCE, "NA", Os::Rhel, "RunInstances:0010"),
    ("Red Hat Enterprise Linux with HA", NO_LICENCE, "NA", Os::RhelHa, "RunInstances:1010"),
    ("SUSE", NO_LICENCE, "NA", Os::Suse, "RunInstances:000g"),
    ("Ubuntu Pro", NO_LICENCE, "NA", Os::UbuntuPro, "RunInstances:0g00"),
    ("Linux", NO_LICENCE, "SQL Web", Os::LinuxSqlWeb, "RunInstances:0200"),
    ("Linux", NO_LICENCE, "SQL Std", Os::LinuxSqlStd, "RunInstances:0004"),
    ("Linux", NO_LICENCE, "SQL Ent", Os::LinuxSqlEnt, "RunInstances:0100"),
    ("Windows", NO_LICENCE, "SQL Web", Os::WindowsSqlWeb, "RunInstances:0202"),
    ("Windows", NO_LICENCE, "SQL Std", Os::WindowsSqlStd, "RunInstances:0006"),
    ("Windows", NO_LICENCE, "SQL Ent", Os::WindowsSqlEnt, "RunInstances:0102"),
];

fn ec2_shared(p: &Product) -> Reading {
    ec2_instance(p, Tenancy::Shared)
}

fn ec2_dedicated(p: &Product) -> Reading {
    ec2_instance(p, Tenancy::Dedicated)
}

fn ec2_instance(p: &Product, tenancy: Tenancy) -> Reading {
    let (tenancy_attr, usage_prefix) = match tenancy {
        Tenancy::Shared => ("Shared", "BoxUsage:"),
        Tenancy::Dedicated => ("Dedicated", "DedicatedUsage:"),
    };
    let Some(instance_type) = p.attr("instanceType").and_then(ident) else { return Reading::Skip };
    let platform = (p.attr("operatingSystem"), p.attr("licenseModel"), p.attr("preInstalledSw"));
    let os = EC2_PLATFORMS
        .iter()
        .find(|(os, lic, sw, _, _)| platform == (Some(*os), Some(*lic), Some(*sw)))
        .filter(|(.., operation)| p.attr("operation") == Some(*operation))
        .map(|&(_, _, _, os, _)| os);
    let usage_ok = p.usage().and_then(|u| u.strip_prefix(usage_prefix)) == Some(instance_type);
    match os {
        Some(os) if usage_ok && p.attr("tenancy") == Some(tenancy_attr) && p.attr("capacitystatus") == Some("Used") => {
            Reading::Rate(Sku::Ec2Instance { instance_type: instance_type.to_owned(), os, tenancy }, HOURS)
        }
        _ => Reading::Skip,
    }
}

const EBS_TYPES: &[&str] = &["standard", "gp2", "gp3", "io1", "io2", "st1", "sc1"];

fn volume(p: &Product) -> Option<&'static str> {
    let v = p.attr("volumeApiName")?;
    EBS_TYPES.iter().copied().find(|t| *t == v)
}

fn ebs_storage(p: &Product) -> Reading {
    match (volume(p), p.usage()) {
        (Some(v), Some(u)) if u.starts_with("EBS:VolumeUsage") => {
            Reading::Rate(Sku::EbsStorage { volume_type: v.to_owned() }, GB_MONTH)
        }
        _ => Reading::Skip,
    }
}

fn ebs_iops(p: &Product) -> Reading {
    let (Some(v), Some(u)) = (volume(p), p.usage()) else { return Reading::Skip };
    let base = match u {
        "EBS:VolumeP-IOPS.gp3" => "gp3",
        "EBS:VolumeP-IOPS.piops" => "io1",
        "EBS:VolumeP-IOPS.io2" => "io2",
        _ => "",
    };
    let sku = match p.attr("group") {
        Some("EBS IOPS Tier 2") if v == "io2" && u.starts_with("EBS:VolumeP-IOPS.io2") => {
            Sku::EbsIopsTier { volume_type: "io2".into(), tier: 1 }
        }
        Some("EBS IOPS Tier 3") if v == "io2" && u.starts_with("EBS:VolumeP-IOPS.io2") => {
            Sku::EbsIopsTier { volume_type: "io2".into(), tier: 2 }
        }
        None | Some("EBS IOPS") if base == v => Sku::EbsIops { volume_type: v.to_owned() },
        _ => return Reading::Skip,
    };
    Reading::Rate(sku, IOPS_MONTH)
}

fn ebs_throughput(p: &Product) -> Reading {
    match (volume(p), p.usage()) {
        (Some("gp3"), Some("EBS:VolumeP-Throughput.gp3")) => Reading::Rate(Sku::EbsThroughput, THROUGHPUT),
        _ => Reading::Skip,
    }
}

fn ebs_snapshot(p: &Product) -> Reading {
    match p.usage() {
        Some("EBS:SnapshotUsage") => Reading::Rate(Sku::EbsSnapshot, GB_MONTH),
        Some("EBS:SnapshotArchiveStorage") => Reading::Rate(Sku::EbsSnapshotArchive, GB_MONTH),
        _ => Reading::Skip,
    }
}

fn nat(p: &Product) -> Reading {
    if p.attr("operation").is_some_and(|o| o != "NatGateway") {
        return Reading::Skip;
    }
    match p.usage() {
        Some("NatGateway-Hours") => Reading::Rate(Sku::NatGateway, HOURS),
        Some("NatGateway-Bytes") => Reading::Rate(Sku::NatGatewayData, GB),
        _ => Reading::Skip,
    }
}

fn public_ipv4(p: &Product) -> Reading {
    match p.usage() {
        Some("PublicIPv4:InUseAddress") => Reading::Rate(Sku::PublicIpv4, HOURS),
        _ => Reading::Skip,
    }
}

fn elb(p: &Product) -> Reading {
    let (kind, operation) = match p.family {
        "Load Balancer-Application" => ("application", "LoadBalancing:Application"),
        "Load Balancer-Network" => ("network", "LoadBalancing:Network"),
        "Load Balancer-Gateway" => ("gateway", "LoadBalancing:Gateway"),
        "Load Balancer" => ("classic", "LoadBalancing"),
        _ => return Reading::Skip,
    };
    if p.attr("operation").is_some_and(|o| o != operation) {
        return Reading::Skip;
    }
    let hour = || Sku::LoadBalancer { kind: kind.to_owned() };
    let capacity = || Sku::LoadBalancerCapacity { kind: kind.to_owned() };
    match (kind, p.usage()) {
        (_, Some("LoadBalancerUsage")) => Reading::Rate(hour(), HOURS),
        ("application", Some("LCUUsage")) => Reading::Rate(capacity(), LCU),
        ("network", Some("LCUUsage" | "NLCUUsage")) => Reading::Rate(capacity(), NLCU),
        ("gateway", Some("LCUUsage" | "GLCUUsage")) => Reading::Rate(capacity(), GLCU),
        ("classic", Some("DataProcessing-Bytes")) => Reading::Rate(capacity(), GB),
        _ => Reading::Skip,
    }
}

fn rds_deployment(option: Option<&str>) -> Option<Deployment> {
    match option? {
        "Single-AZ" => Some(Deployment::SingleAz),
        "Multi-AZ" => Some(Deployment::MultiAz),
        "Multi-AZ (readable standbys)" => Some(Deployment::MultiAzCluster),
        _ => None,
    }
}

/// The book's engine name for an RDS instance row; `None` for rows it has no key for.
fn rds_engine(engine: &str, licence: &str, edition: Option<&str>) -> Option<&'static str> {
    Some(match (engine, licence, edition) {
        ("MySQL", "No license required", _) => "mysql",
        ("PostgreSQL", "No license required", _) => "postgres",
        ("MariaDB", "No license required", _) => "mariadb",
        ("Oracle", "License included", Some("Standard Two")) => "oracle-se2",
        ("Oracle", "Bring your own license", Some("Enterprise")) => "oracle-byol",
        ("SQL Server", "License included", Some("Express")) => "sqlserver-ex",
        ("SQL Server", "License included", Some("Web")) => "sqlserver-web",
        ("SQL Server", "License included", Some("Standard")) => "sqlserver-se",
        ("SQL Server", "License included", Some("Enterprise")) => "sqlserver-ee",
        _ => return None,
    })
}

fn rds_instance(p: &Product) -> Reading {
    let Some(class) = p.attr("instanceType").and_then(ident).filter(|c| c.starts_with("db.")) else {
        return Reading::Skip;
    };
    let (Some(engine), Some(licence)) = (p.attr("databaseEngine"), p.attr("licenseModel")) else {
        return Reading::Skip;
    };
    let edition = p.attr("databaseEdition");
    // A SQL Server "Bring your own media" row of a paid edition marks a class whose Windows and
    // SQL Server licence is billed apart: the `License included` row of that edition is not the
    // whole price.
    if engine == "SQL Server" && licence == "Bring your own media" {
        let Some(ed) = rds_engine(engine, "License included", edition).filter(|e| *e != "sqlserver-ex") else {
            return Reading::Skip;
        };
        let deployments = [Deployment::SingleAz, Deployment::MultiAz, Deployment::MultiAzCluster];
        let sku = |deployment| Sku::RdsInstance { engine: ed.into(), class: class.into(), deployment };
        return Reading::Veto(deployments.into_iter().map(sku).collect());
    }
    let custom = p.attr("deploymentModel").is_some_and(|m| !m.is_empty() && m != "NA");
    let (Some(engine), Some(deployment)) =
        (rds_engine(engine, licence, edition), rds_deployment(p.attr("deploymentOption")))
    else {
        return Reading::Skip;
    };
    let usage_ok = p.usage().is_some_and(|u| u.ends_with(&format!(":{class}")) && !u.contains("ExtendedSupport"));
    let usage_prefix_ok = match deployment {
        Deployment::SingleAz => p.usage().is_some_and(|u| u.starts_with("InstanceUsage:")),
        Deployment::MultiAz => p.usage().is_some_and(|u| u.starts_with("Multi-AZUsage:")),
        Deployment::MultiAzCluster => true,
    };
    if custom || !usage_ok || !usage_prefix_ok {
        return Reading::Skip;
    }
    Reading::Rate(Sku::RdsInstance { engine: engine.to_owned(), class: class.to_owned(), deployment }, HOURS)
}

/// Storage and IOPS rows of the engines whose rate the book's engine-less keys carry.
fn rds_shared_row<'a>(p: &Product<'a>) -> Option<(Deployment, &'a str)> {
    if !matches!(p.attr("databaseEngine"), Some("Any" | "MySQL" | "PostgreSQL" | "MariaDB")) {
        return None;
    }
    let rest = p.usage()?.strip_prefix("RDS:")?;
    let (deployment, rest) = match rest.strip_prefix("Multi-AZ-") {
        Some(rest) => (Deployment::MultiAz, rest),
        None => (Deployment::SingleAz, rest),
    };
    let option = match deployment {
        Deployment::MultiAz => "Multi-AZ",
        _ => "Single-AZ",
    };
    p.attr("deploymentOption").is_none_or(|o| o == option).then_some((deployment, rest))
}

fn rds_storage(p: &Product) -> Reading {
    let Some((deployment, rest)) = rds_shared_row(p) else { return Reading::Skip };
    let storage_type = match rest {
        "GP2-Storage" => "gp2",
        "GP3-Storage" => "gp3",
        "PIOPS-Storage" => "io1",
        "IO2-PIOPS-Storage" => "io2",
        "StorageUsage" => "magnetic",
        _ => return Reading::Skip,
    };
    Reading::Rate(Sku::RdsStorage { storage_type: storage_type.to_owned(), deployment }, GB_MONTH)
}

fn rds_iops(p: &Product) -> Reading {
    let Some((deployment, rest)) = rds_shared_row(p) else { return Reading::Skip };
    let storage_type = match rest {
        "PIOPS" => "io1",
        "GP3-PIOPS" => "gp3",
        "IO2-PIOPS" => "io2",
        _ => return Reading::Skip,
    };
    Reading::Rate(Sku::RdsIops { storage_type: storage_type.to_owned(), deployment }, IOPS_MONTH)
}

fn elasticache(p: &Product) -> Reading {
    let Some(node) = p.attr("instanceType").and_then(ident).filter(|n| n.starts_with("cache.")) else {
        return Reading::Skip;
    };
    let engine = match p.attr("cacheEngine") {
        Some("Redis") => "redis",
        Some("Valkey") => "valkey",
        Some("Memcached") => "memcached",
        _ => return Reading::Skip,
    };
    if p.usage().and_then(|u| u.strip_prefix("NodeUsage:")) != Some(node) {
        return Reading::Skip;
    }
    Reading::Rate(Sku::CacheNode { node_type: node.to_owned(), engine: engine.to_owned() }, HOURS)
}

fn opensearch(p: &Product) -> Reading {
    let Some(t) = p.attr("instanceType").and_then(ident).filter(|t| t.ends_with(".search")) else {
        return Reading::Skip;
    };
    if !p.usage().is_some_and(|u| u.starts_with("ESInstance:")) {
        return Reading::Skip;
    }
    Reading::Rate(Sku::OpenSearch { instance_type: t.to_owned() }, HOURS)
}

fn redshift(p: &Product) -> Reading {
    let Some(t) = p.attr("instanceType").and_then(ident) else { return Reading::Skip };
    if p.usage().and_then(|u| u.strip_prefix("Node:")) != Some(t) {
        return Reading::Skip;
    }
    Reading::Rate(Sku::Redshift { node_type: t.to_owned() }, HOURS)
}

/// `<prefix>.<family>.<size>` with a lowercase family and size of letters and digits.
fn three_part<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = s.strip_prefix(prefix)?.strip_prefix('.')?;
    let (fam, size) = rest.split_once('.')?;
    let part = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    (part(fam) && part(size) && rest.len() <= 48).then_some(rest)
}

fn msk(p: &Product) -> Reading {
    let Some(u) = p.usage() else { return Reading::Skip };
    let broker = if let Some(rest) = three_part(u, "Kafka") {
        format!("kafka.{rest}")
    } else if let Some(rest) = three_part(u, "Express") {
        format!("express.{rest}")
    } else {
        return Reading::Skip;
    };
    Reading::Rate(Sku::Msk { broker_type: broker }, HOURS)
}

fn sagemaker(p: &Product) -> Reading {
    let Some((kind, instance)) = p.usage().and_then(|u| u.split_once(':')) else { return Reading::Skip };
    let usage = match kind {
        "Host" => SageMakerUsage::Inference,
        "Train" => SageMakerUsage::Training,
        "Notebk" => SageMakerUsage::Notebook,
        "Processing" => SageMakerUsage::Processing,
        _ => return Reading::Skip,
    };
    match three_part(instance, "ml") {
        Some(rest) => Reading::Rate(Sku::SageMaker { instance_type: format!("ml.{rest}"), usage }, HOURS),
        None => Reading::Skip,
    }
}

fn eks(p: &Product) -> Reading {
    match p.usage() {
        Some("AmazonEKS-Hours:perCluster") => Reading::Rate(Sku::EksCluster { extended: false }, HOURS),
        Some("AmazonEKS-Hours:extendedSupport") => Reading::Rate(Sku::EksCluster { extended: true }, HOURS),
        _ => Reading::Skip,
    }
}

fn lambda_provisioned(p: &Product) -> Reading {
    let arch = match p.attr("group") {
        Some("AWS-Lambda-Provisioned-Concurrency") => "x86_64",
        Some("AWS-Lambda-Provisioned-Concurrency-ARM") => "arm64",
        _ => return Reading::Skip,
    };
    Reading::Rate(Sku::LambdaProvisioned { arch: arch.to_owned() }, GB_SECOND)
}

fn dynamodb(p: &Product) -> Reading {
    let sku = |s: Sku, units| Reading::Rate(s, units);
    match p.usage() {
        Some("ReadCapacityUnit-Hrs") => sku(Sku::DynamoDbCapacity { unit: "rcu".into() }, RCU),
        Some("WriteCapacityUnit-Hrs") => sku(Sku::DynamoDbCapacity { unit: "wcu".into() }, WCU),
        Some("ReadRequestUnits") => sku(Sku::DynamoDbOnDemand { op: "read".into() }, READ_REQUESTS),
        Some("WriteRequestUnits") => sku(Sku::DynamoDbOnDemand { op: "write".into() }, WRITE_REQUESTS),
        Some("TimedStorage-ByteHrs") => sku(Sku::DynamoDbStorage { class: "standard".into() }, GB_MONTH),
        Some("IA-TimedStorage-ByteHrs") => sku(Sku::DynamoDbStorage { class: "standard-ia".into() }, GB_MONTH),
        _ => Reading::Skip,
    }
}

fn kinesis(p: &Product) -> Reading {
    match p.usage() {
        Some("Storage-ShardHour") => Reading::Rate(Sku::KinesisShard, SHARD_HOURS),
        _ => Reading::Skip,
    }
}

fn emr(p: &Product) -> Reading {
    let Some(t) = p.attr("instanceType").and_then(ident) else { return Reading::Skip };
    if p.attr("softwareType") != Some("EMR") || p.usage().and_then(|u| u.strip_prefix("BoxUsage:")) != Some(t) {
        return Reading::Skip;
    }
    Reading::Rate(Sku::Emr { instance_type: t.to_owned() }, HOURS)
}

fn dax(p: &Product) -> Reading {
    match p.usage().and_then(|u| u.strip_prefix("NodeUsage:")).and_then(|n| three_part(n, "dax")) {
        Some(rest) => Reading::Rate(Sku::Dax { node_type: format!("dax.{rest}") }, HOURS),
        None => Reading::Skip,
    }
}

fn logs_ingest(p: &Product) -> Reading {
    match p.usage() {
        Some("DataProcessing-Bytes") => Reading::Rate(Sku::LogsIngest, GB),
        _ => Reading::Skip,
    }
}

fn logs_storage(p: &Product) -> Reading {
    match p.usage() {
        Some("TimedStorage-ByteHrs") => Reading::Rate(Sku::LogsStorage, GB_MONTH),
        _ => Reading::Skip,
    }
}

fn efs(p: &Product) -> Reading {
    let class = match (p.family, p.usage()) {
        ("Provisioned Throughput", Some("ProvisionedTP-MiBpsHrs")) => {
            return Reading::Rate(Sku::EfsProvisionedThroughput, MIBPS_MONTH)
        }
        ("Storage", Some("TimedStorage-ByteHrs")) => "standard",
        ("Storage", Some("IATimedStorage-ByteHrs")) => "ia",
        ("Storage", Some("TimedStorage-Z-ByteHrs")) => "one-zone",
        ("Storage", Some("IATimedStorage-Z-ByteHrs")) => "one-zone-ia",
        _ => return Reading::Skip,
    };
    Reading::Rate(Sku::EfsStorage { class: class.to_owned() }, GB_MONTH)
}

fn ecr(p: &Product) -> Reading {
    match p.usage() {
        Some("TimedStorage-ByteHrs") => Reading::Rate(Sku::EcrStorage, GB_MONTH),
        _ => Reading::Skip,
    }
}

fn cloudwatch_alarm(p: &Product) -> Reading {
    let (high_resolution, alarm_type) = match p.usage() {
        Some("CW:AlarmMonitorUsage") => (false, "Standard"),
        Some("CW:HighResAlarmMonitorUsage") => (true, "High Resolution"),
        _ => return Reading::Skip,
    };
    if p.attr("alarmType").is_some_and(|t| t != alarm_type) {
        return Reading::Skip;
    }
    Reading::Rate(Sku::CloudWatchAlarm { high_resolution }, ALARMS)
}

fn vpc_endpoint(p: &Product) -> Reading {
    match p.usage() {
        Some("VpcEndpoint-Hours") => Reading::Rate(Sku::VpcInterfaceEndpoint, HOURS),
        _ => Reading::Skip,
    }
}

fn transit_gateway(p: &Product) -> Reading {
    let vpc_attachment = p.attr("attachmentType").is_none_or(|t| t == "VPC");
    match p.usage() {
        Some("TransitGateway-Hours") if vpc_attachment => {
            Reading::Rate(Sku::TransitGatewayAttachment, ATTACHMENT_HOURS)
        }
        _ => Reading::Skip,
    }
}

fn opensearch_storage(p: &Product) -> Reading {
    let volume = match p.usage() {
        Some("ES:GP2-Storage") => "gp2",
        Some("ES:GP3-Storage") => "gp3",
        _ => return Reading::Skip,
    };
    Reading::Rate(Sku::OpenSearchStorage { volume_type: volume.to_owned() }, GB_MONTH)
}

fn redshift_storage(p: &Product) -> Reading {
    match p.usage().and_then(|u| u.strip_prefix("RMS:")).and_then(ident) {
        Some(node) if node.starts_with("ra3.") => Reading::Rate(Sku::RedshiftManagedStorage, GB_MONTH),
        _ => Reading::Skip,
    }
}

#[cfg(test)]
mod tests;
