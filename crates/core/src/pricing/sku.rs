//! What a rate is for: [`Sku`], one priced unit of an AWS resource, and its key in the price book
//! (`crates/core/data/PRICING-SOURCES.md` lists the key grammar and where each family comes
//! from). The key is the one place the grammar lives: the bundled book, the Price List cache and
//! a tenant's CUR rates are all tables of keys, and a lookup renders its `Sku` to a key.

use std::fmt;

use serde::Deserialize;

/// An EC2 operating system and licence, as AWS prices it (`PlatformDetails` in
/// DescribeInstances / DescribeImages).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Os {
    #[default]
    Linux,
    Windows,
    Rhel,
    RhelHa,
    Suse,
    UbuntuPro,
    LinuxSqlWeb,
    LinuxSqlStd,
    LinuxSqlEnt,
    WindowsSqlWeb,
    WindowsSqlStd,
    WindowsSqlEnt,
    WindowsByol,
}

impl Os {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Linux => "linux",
            Self::Windows => "windows",
            Self::Rhel => "rhel",
            Self::RhelHa => "rhel-ha",
            Self::Suse => "suse",
            Self::UbuntuPro => "ubuntu-pro",
            Self::LinuxSqlWeb => "linux-sql-web",
            Self::LinuxSqlStd => "linux-sql-std",
            Self::LinuxSqlEnt => "linux-sql-ent",
            Self::WindowsSqlWeb => "windows-sql-web",
            Self::WindowsSqlStd => "windows-sql-std",
            Self::WindowsSqlEnt => "windows-sql-ent",
            Self::WindowsByol => "windows-byol",
        }
    }

    /// The OS from EC2's `PlatformDetails` (DescribeInstances, DescribeImages), or from the
    /// `platform` field RunInstances' CloudTrail record carries (`windows`). `None` for a
    /// platform AWS has but the book does not price (say so, do not guess Linux).
    pub fn from_platform_details(details: &str) -> Option<Self> {
        Some(match details.trim().to_ascii_lowercase().as_str() {
            "linux/unix" | "linux" => Self::Linux,
            "windows" => Self::Windows,
            "windows byol" => Self::WindowsByol,
            "red hat enterprise linux" => Self::Rhel,
            "red hat enterprise linux with ha" => Self::RhelHa,
            "suse linux" => Self::Suse,
            "ubuntu pro" => Self::UbuntuPro,
            "linux with sql server web" => Self::LinuxSqlWeb,
            "linux with sql server standard" => Self::LinuxSqlStd,
            "linux with sql server enterprise" => Self::LinuxSqlEnt,
            "windows with sql server web" => Self::WindowsSqlWeb,
            "windows with sql server standard" => Self::WindowsSqlStd,
            "windows with sql server enterprise" => Self::WindowsSqlEnt,
            _ => return None,
        })
    }
}

/// Shared hardware, or a dedicated instance (`Tenancy: dedicated`; dedicated hosts are billed
/// per host and not priced here).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tenancy {
    #[default]
    Shared,
    Dedicated,
}

/// RDS deployment: one instance, a standby in a second AZ (AWS publishes its own rate, which is
/// not always twice Single-AZ), or a Multi-AZ DB cluster (a writer and two readers).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Deployment {
    #[default]
    SingleAz,
    MultiAz,
    MultiAzCluster,
}

impl Deployment {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SingleAz => "single-az",
            Self::MultiAz => "multi-az",
            Self::MultiAzCluster => "multi-az-cluster",
        }
    }
}

/// How a SageMaker instance is used: AWS prices the same `ml.*` type differently for each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SageMakerUsage {
    /// Real-time inference endpoints.
    Inference,
    Training,
    #[default]
    Notebook,
    Processing,
}

impl SageMakerUsage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inference => "inference",
            Self::Training => "training",
            Self::Notebook => "notebook",
            Self::Processing => "processing",
        }
    }
}

/// A priced unit of some AWS resource in one region. The unit is in the key's last part.
///
/// It deserialises from the tagged form that rate tables were stored in before the book had keys
/// (`{"sku": "ec2_instance", "instance_type": ...}`), so a stored table of that age still reads.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(tag = "sku", rename_all = "snake_case")]
pub enum Sku {
    /// $/hour, on-demand.
    Ec2Instance {
        instance_type: String,
        #[serde(default)]
        os: Os,
        #[serde(default)]
        tenancy: Tenancy,
    },
    /// $/GB-month.
    EbsStorage {
        volume_type: String,
    },
    /// $/provisioned IOPS-month (gp3: above the free 3000; io1: all; io2: the first 32,000).
    EbsIops {
        volume_type: String,
    },
    /// io2 IOPS tiers: tier 1 is 32,001 to 64,000, tier 2 above 64,000.
    EbsIopsTier {
        volume_type: String,
        tier: u8,
    },
    /// $/GB-month of EBS snapshot storage (standard tier).
    EbsSnapshot,
    /// $/GB-month of EBS snapshot storage (archive tier).
    EbsSnapshotArchive,
    /// gp3 $/MiB/s-month above the free 125.
    EbsThroughput,
    /// $/hour, any public IPv4 address (Elastic IPs, auto-assigned and load balancers' alike).
    PublicIpv4,
    /// $/hour.
    NatGateway,
    /// $/GB of data a NAT gateway processes.
    NatGatewayData,
    /// CloudWatch Logs archived storage, $/GB-month.
    LogsStorage,
    /// CloudWatch Logs ingestion (standard class), $/GB.
    LogsIngest,
    /// $/hour for `application`, `network`, `gateway` or `classic`.
    LoadBalancer {
        kind: String,
    },
    /// $/capacity-unit-hour (LCU, NLCU, GLCU); for `classic`, $/GB processed.
    LoadBalancerCapacity {
        kind: String,
    },
    /// $/hour for an engine (`mysql`, `postgres`, `mariadb`, `oracle-se2`, `oracle-byol`,
    /// `sqlserver-ex|web|se|ee`), class and deployment.
    RdsInstance {
        engine: String,
        class: String,
        #[serde(default)]
        deployment: Deployment,
    },
    /// $/GB-month.
    RdsStorage {
        storage_type: String,
        #[serde(default)]
        deployment: Deployment,
    },
    /// $/provisioned IOPS-month (io1, io2; gp3 above its baseline).
    RdsIops {
        storage_type: String,
        deployment: Deployment,
    },
    /// $/hour of an Aurora instance (`aurora-mysql` or `aurora-postgresql`).
    AuroraInstance {
        engine: String,
        class: String,
        io_optimized: bool,
    },
    /// $/ACU-hour of Aurora Serverless v2.
    AuroraServerless {
        io_optimized: bool,
    },
    /// $/GB-month of Aurora cluster storage.
    AuroraStorage {
        io_optimized: bool,
    },
    /// $/million I/O requests (Aurora Standard only).
    AuroraIo,
    /// $/hour of a node (`redis`, `valkey` or `memcached`).
    CacheNode {
        node_type: String,
        #[serde(default = "redis")]
        engine: String,
    },
    /// $/hour of a cluster's control plane; `extended` once its version leaves standard support.
    EksCluster {
        #[serde(default)]
        extended: bool,
    },
    /// $/GB-second for `x86_64` or `arm64`.
    LambdaProvisioned {
        arch: String,
    },
    SageMaker {
        instance_type: String,
        #[serde(default)]
        usage: SageMakerUsage,
    },
    Redshift {
        node_type: String,
    },
    OpenSearch {
        instance_type: String,
    },
    Msk {
        broker_type: String,
    },
    /// $/capacity-unit-hour of provisioned DynamoDB capacity, `rcu` or `wcu`.
    DynamoDbCapacity {
        unit: String,
    },
    /// $/million on-demand DynamoDB request units, `read` or `write`.
    DynamoDbOnDemand {
        op: String,
    },
    /// $/GB-month of DynamoDB table storage, `standard` or `standard-ia`.
    DynamoDbStorage {
        class: String,
    },
    /// $/capacity-unit-hour of provisioned capacity of a Standard-IA table, `rcu` or `wcu`.
    DynamoDbIaCapacity {
        unit: String,
    },
    /// $/million on-demand request units of a Standard-IA table, `read` or `write`.
    DynamoDbIaOnDemand {
        op: String,
    },
    /// $/shard-hour of a provisioned Kinesis data stream.
    KinesisShard,
    /// $/hour EMR adds on top of the instance's EC2 rate.
    Emr {
        instance_type: String,
    },
    /// $/hour of a DAX node.
    Dax {
        node_type: String,
    },
    /// $/GB-month of S3 storage by class (`standard`, `standard-ia`, `onezone-ia`,
    /// `intelligent-tiering`, `glacier-ir`, `glacier-flexible`, `deep-archive`).
    S3Storage {
        class: String,
    },
    /// $/GB-month of EFS storage by class (`standard`, `ia`, `archive`, `one-zone`,
    /// `one-zone-ia`).
    EfsStorage {
        class: String,
    },
    /// $/MiB/s-month of EFS provisioned throughput.
    EfsProvisionedThroughput,
    /// $/GB-month of ECR image storage.
    EcrStorage,
    /// $/month of a Route 53 hosted zone (the first 25 zones' rate).
    Route53HostedZone,
    /// $/month of a Route 53 health check on an AWS endpoint (`aws_endpoint`) or another one.
    Route53HealthCheck {
        aws_endpoint: bool,
    },
    /// $/month of a CloudWatch metric alarm, standard (60 s) or high resolution (10 s).
    CloudWatchAlarm {
        high_resolution: bool,
    },
    /// $/hour of a VPC interface endpoint in one Availability Zone.
    VpcInterfaceEndpoint,
    /// $/hour of a Transit Gateway attachment.
    TransitGatewayAttachment,
    /// $/GB-month of AWS Backup warm storage for a resource type (`ebs`, `efs`, `rds`,
    /// `aurora`, `dynamodb`, `s3`, ...).
    BackupStorage {
        resource: String,
    },
    /// $/GB-month of OpenSearch Service EBS storage (`gp2`, `gp3`).
    OpenSearchStorage {
        volume_type: String,
    },
    /// $/GB-month of Redshift managed storage (RA3).
    RedshiftManagedStorage,
}

fn redis() -> String {
    "redis".into()
}

fn io(io_optimized: bool) -> &'static str {
    if io_optimized {
        "io-optimized"
    } else {
        "standard"
    }
}

impl Sku {
    /// Linux on shared hardware: what the rules that compare instance types price.
    pub fn ec2(instance_type: impl Into<String>) -> Self {
        Self::Ec2Instance { instance_type: instance_type.into(), os: Os::Linux, tenancy: Tenancy::Shared }
    }

    /// The price book's key for this unit.
    pub fn key(&self) -> String {
        use Sku::*;
        match self {
            Ec2Instance { instance_type, os, tenancy } => {
                let tenancy = if *tenancy == Tenancy::Dedicated { "dedicated" } else { "shared" };
                format!("ec2:{instance_type}:{}:{tenancy}", os.as_str())
            }
            EbsStorage { volume_type } => format!("ebs:{volume_type}:gb-month"),
            EbsIops { volume_type } => format!("ebs:{volume_type}:iops-month"),
            EbsIopsTier { volume_type, tier } => format!("ebs:{volume_type}-tier{}:iops-month", tier + 1),
            EbsSnapshot => "ebs-snapshot:standard:gb-month".into(),
            EbsSnapshotArchive => "ebs-snapshot:archive:gb-month".into(),
            EbsThroughput => "ebs:gp3:throughput-mibps-month".into(),
            PublicIpv4 => "vpc:public-ipv4:hour".into(),
            NatGateway => "nat:hour".into(),
            NatGatewayData => "nat:gb".into(),
            LogsStorage => "logs:storage:gb-month".into(),
            LogsIngest => "logs:ingest:gb".into(),
            LoadBalancer { kind } => format!("elb:{kind}:hour"),
            LoadBalancerCapacity { kind } => format!("elb:{kind}:{}", capacity_unit(kind)),
            RdsInstance { engine, class, deployment } => format!("rds:{engine}:{class}:{}:hour", deployment.as_str()),
            RdsStorage { storage_type, deployment } => {
                format!("rds-storage:{storage_type}:{}:gb-month", deployment.as_str())
            }
            RdsIops { storage_type, deployment } => {
                format!("rds-iops:{storage_type}:{}:iops-month", deployment.as_str())
            }
            AuroraInstance { engine, class, io_optimized } => {
                format!("aurora:{engine}:{class}:{}:hour", io(*io_optimized))
            }
            AuroraServerless { io_optimized } => format!("aurora:serverless-v2:{}:acu-hour", io(*io_optimized)),
            AuroraStorage { io_optimized } => format!("aurora-storage:{}:gb-month", io(*io_optimized)),
            AuroraIo => "aurora-io:million-requests".into(),
            CacheNode { node_type, engine } => format!("elasticache:{node_type}:{engine}:hour"),
            EksCluster { extended } => format!("eks:{}:hour", if *extended { "extended" } else { "standard" }),
            LambdaProvisioned { arch } => format!("lambda-provisioned:{arch}:gb-second"),
            SageMaker { instance_type, usage } => format!("sagemaker:{instance_type}:{}:hour", usage.as_str()),
            Redshift { node_type } => format!("redshift:{node_type}:hour"),
            OpenSearch { instance_type } => format!("opensearch:{instance_type}:hour"),
            Msk { broker_type } => format!("msk:{broker_type}:hour"),
            DynamoDbCapacity { unit } => format!("dynamodb:provisioned:{unit}:hour"),
            DynamoDbOnDemand { op } => format!("dynamodb:on-demand:{op}:million"),
            DynamoDbStorage { class } => format!("dynamodb-storage:{class}:gb-month"),
            DynamoDbIaCapacity { unit } => format!("dynamodb-ia:provisioned:{unit}:hour"),
            DynamoDbIaOnDemand { op } => format!("dynamodb-ia:on-demand:{op}:million"),
            KinesisShard => "kinesis:shard-hour".into(),
            Emr { instance_type } => format!("emr:{instance_type}:hour"),
            Dax { node_type } => format!("dax:{node_type}:hour"),
            S3Storage { class } => format!("s3:{class}:gb-month"),
            EfsStorage { class } => format!("efs:{class}:gb-month"),
            EfsProvisionedThroughput => "efs:provisioned-throughput:mibps-month".into(),
            EcrStorage => "ecr:storage:gb-month".into(),
            Route53HostedZone => "route53:hosted-zone:month".into(),
            Route53HealthCheck { aws_endpoint } => {
                format!("route53:health-check:{}:month", if *aws_endpoint { "aws" } else { "non-aws" })
            }
            CloudWatchAlarm { high_resolution } => {
                format!("cloudwatch:alarm:{}:month", if *high_resolution { "high-resolution" } else { "standard" })
            }
            VpcInterfaceEndpoint => "vpc:interface-endpoint:az-hour".into(),
            TransitGatewayAttachment => "vpc:transit-gateway-attachment:hour".into(),
            BackupStorage { resource } => format!("backup:{resource}:warm:gb-month"),
            OpenSearchStorage { volume_type } => format!("opensearch-storage:{volume_type}:gb-month"),
            RedshiftManagedStorage => "redshift-storage:managed:gb-month".into(),
        }
    }
}

/// The capacity unit of a load balancer kind, as its key names it.
fn capacity_unit(kind: &str) -> &'static str {
    match kind {
        "network" => "nlcu-hour",
        "gateway" => "glcu-hour",
        "classic" => "gb",
        _ => "lcu-hour",
    }
}

/// The family of a price-book key: its first part (`ec2`, `rds-storage`, ...). Stores keep and
/// replace rates by family.
pub fn family(key: &str) -> &str {
    key.split(':').next().unwrap_or(key)
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_book_grammar() {
        assert_eq!(Sku::ec2("t2.micro").key(), "ec2:t2.micro:linux:shared");
        let rhel = Sku::Ec2Instance { instance_type: "m5.large".into(), os: Os::Rhel, tenancy: Tenancy::Dedicated };
        assert_eq!(rhel.key(), "ec2:m5.large:rhel:dedicated");
        assert_eq!(Sku::EbsIopsTier { volume_type: "io2".into(), tier: 1 }.key(), "ebs:io2-tier2:iops-month");
        let multi = Sku::RdsInstance {
            engine: "postgres".into(),
            class: "db.r6g.large".into(),
            deployment: Deployment::MultiAz,
        };
        assert_eq!(multi.key(), "rds:postgres:db.r6g.large:multi-az:hour");
        assert_eq!(Sku::LoadBalancerCapacity { kind: "classic".into() }.key(), "elb:classic:gb");
        assert_eq!(Sku::EksCluster { extended: true }.key(), "eks:extended:hour");
    }

    #[test]
    fn dynamodb_standard_ia_throughput_keys() {
        assert_eq!(Sku::DynamoDbIaCapacity { unit: "wcu".into() }.key(), "dynamodb-ia:provisioned:wcu:hour");
        assert_eq!(Sku::DynamoDbIaOnDemand { op: "read".into() }.key(), "dynamodb-ia:on-demand:read:million");
    }

    #[test]
    fn a_stored_tagged_sku_of_the_old_form_still_reads() {
        let old: Sku = serde_json::from_str(r#"{"sku": "ec2_instance", "instance_type": "m5.large"}"#).unwrap();
        assert_eq!(old, Sku::ec2("m5.large"));
        let old: Sku =
            serde_json::from_str(r#"{"sku": "rds_instance", "engine": "mysql", "class": "db.t3.micro"}"#).unwrap();
        assert_eq!(old.key(), "rds:mysql:db.t3.micro:single-az:hour");
        let old: Sku = serde_json::from_str(r#"{"sku": "eks_cluster"}"#).unwrap();
        assert_eq!(old.key(), "eks:standard:hour");
    }

    #[test]
    fn platform_details_name_the_os_or_nothing() {
        assert_eq!(Os::from_platform_details("Linux/UNIX"), Some(Os::Linux));
        assert_eq!(Os::from_platform_details("Red Hat Enterprise Linux"), Some(Os::Rhel));
        assert_eq!(Os::from_platform_details("Windows with SQL Server Enterprise"), Some(Os::WindowsSqlEnt));
        assert_eq!(Os::from_platform_details("Red Hat BYOL Linux"), None);
    }
}
