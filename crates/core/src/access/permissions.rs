//! The one list of AWS actions costradar calls in customer accounts. The customer role's
//! policy (`cfn/costradar-role.yaml`) must grant exactly these (a test checks parity both ways),
//! and per-task session policies are built from it ([`session_policy`]).
//!
//! Every action is enumerated: no `Service:*`, no `Get*`. All are IAM access level List or
//! Read except the CUR exceptions (starting and stopping an Athena query in the customer's own
//! workgroup, writing its results to the customer's results bucket), which the template grants
//! only on those resources and lists in one place (the policy's `Metadata`).

use std::fmt;

use crate::domain::RoleArn;

/// What a session assumed in a customer account is for. Each task's session is narrowed to the
/// actions listed for it here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Task {
    /// Scheduled metadata scans: idle and orphaned resources, old generations, recommendations.
    Scan,
    /// Onboarding verification: proving the role works after AssumeRole.
    Verify,
    /// The receiver looking up what an event did not carry (an instance's type on start/stop).
    RealtimeEnrichment,
    /// Athena queries over the customer's CUR 2.0 export, in the customer's workgroup.
    CurQuery,
}

impl Task {
    pub const ALL: &'static [Task] = &[Task::Scan, Task::Verify, Task::RealtimeEnrichment, Task::CurQuery];

    pub fn as_str(self) -> &'static str {
        match self {
            Task::Scan => "scan",
            Task::Verify => "verify",
            Task::RealtimeEnrichment => "realtime-enrichment",
            Task::CurQuery => "cur-query",
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One action costradar calls in a customer account, who calls it, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Permission {
    pub action: &'static str,
    pub tasks: &'static [Task],
    pub purpose: &'static str,
}

use Task::{CurQuery, RealtimeEnrichment, Scan, Verify};

macro_rules! permissions {
    ($($action:literal [$($task:ident),+] $purpose:literal;)*) => {
        /// The table: one row per action, sorted by service.
        pub const CUSTOMER_PERMISSIONS: &[Permission] = &[
            $(Permission { action: $action, tasks: &[$($task),+], purpose: $purpose }),*
        ];

        /// The plain action list, in table order: what the role's policy must grant, no more.
        pub const CUSTOMER_ACTIONS: &[&str] = &[$($action),*];
    };
}

permissions! {
    // Account and organisation.
    "account:ListRegions" [Scan, Verify] "which regions are enabled, so scans skip opted-out regions";
    "organizations:ListAccounts" [Scan] "member accounts and their names, from the management account";
    // Compute: EC2, EBS, Elastic IPs, NAT.
    "ec2:DescribeRegions" [Scan, Verify] "region endpoints to scan; a free call that proves the session works";
    "ec2:DescribeInstances" [Scan, RealtimeEnrichment] "instance type, state, launch time and tags (idle and old-generation instances; type, platform and public IPv4 of a started or stopped instance)";
    "ec2:DescribeVolumes" [Scan] "EBS volumes: size, type, IOPS, attachment (unattached volumes, gp2 to gp3)";
    "ec2:DescribeSnapshots" [Scan] "snapshots we own: size, age, source volume (old and orphaned snapshots)";
    "ec2:DescribeImages" [Scan, RealtimeEnrichment] "AMIs we own and the snapshots behind them (unused AMIs); a launched AMI's platform (RHEL, Windows, SQL Server licences price differently)";
    "ec2:DescribeAddresses" [Scan] "Elastic IPs and their association (unattached public IPv4)";
    "ec2:DescribeNatGateways" [Scan] "NAT gateways and their state (idle NAT gateways)";
    // Load balancers.
    "elasticloadbalancing:DescribeLoadBalancers" [Scan] "ELBv2 load balancers and their type";
    "elasticloadbalancing:DescribeTargetGroups" [Scan] "target groups of each load balancer";
    "elasticloadbalancing:DescribeTargetHealth" [Scan] "registered targets (load balancers with no healthy target)";
    // Databases.
    "rds:DescribeDBInstances" [Scan] "DB instances: class, engine, Multi-AZ, storage, status";
    "rds:DescribeDBClusters" [Scan] "Aurora clusters: engine, storage type, members";
    "dynamodb:ListTables" [Scan] "DynamoDB table names";
    "dynamodb:DescribeTable" [Scan] "a table's billing mode, provisioned capacity, size and class (never its items)";
    "elasticache:DescribeCacheClusters" [Scan] "ElastiCache clusters: engine, node type, nodes, replication group, status (never cached data)";
    // Analytics and containers: Redshift, OpenSearch Service, EKS.
    "redshift:DescribeClusters" [Scan] "Redshift clusters: node type and count, status, creation time, tags (never their data)";
    "es:ListDomainNames" [Scan] "OpenSearch Service domain names";
    "es:DescribeDomains" [Scan] "OpenSearch domains' node types and counts, EBS storage, engine version and processing state (never indexes or documents)";
    "eks:ListClusters" [Scan] "EKS cluster names";
    "eks:DescribeCluster" [Scan] "an EKS cluster's Kubernetes version, status, upgrade policy and Auto Mode (never Kubernetes objects)";
    "eks:ListNodegroups" [Scan] "an EKS cluster's managed node group names (clusters with no compute)";
    "eks:ListFargateProfiles" [Scan] "an EKS cluster's Fargate profile names (clusters with no compute)";
    // Serverless.
    "lambda:ListProvisionedConcurrencyConfigs" [Scan] "provisioned concurrency of a function: allocated, status, last change (never its code or configuration)";
    // Storage: S3 bucket configuration (never an object), EFS, ECR, AWS Backup.
    "s3:ListAllMyBuckets" [Scan] "bucket names and regions (ListBuckets with BucketRegion), so each bucket is read in its own region";
    "s3:GetBucketVersioning" [Scan] "whether a bucket keeps noncurrent versions (never an object)";
    "s3:GetLifecycleConfiguration" [Scan] "a bucket's lifecycle rules: aborted uploads, noncurrent expiry, transitions (never an object)";
    "s3:ListBucketMultipartUploads" [Scan] "incomplete multipart uploads' keys and start times (uploads no lifecycle rule aborts)";
    "s3:ListMultipartUploadParts" [Scan] "the part sizes of the oldest incomplete uploads, to price what they store (never their content)";
    "elasticfilesystem:DescribeFileSystems" [Scan] "EFS file systems: size by storage class, throughput mode and provisioned MiB/s (never a file)";
    "elasticfilesystem:DescribeLifecycleConfiguration" [Scan] "an EFS file system's lifecycle policies (transition to Infrequent Access)";
    "ecr:DescribeRepositories" [Scan] "ECR repository names and creation dates";
    "ecr:GetLifecyclePolicy" [Scan] "whether a repository has a lifecycle policy";
    "ecr:DescribeImages" [Scan] "image tags, sizes and push dates of repositories without a lifecycle policy (never a layer)";
    "backup:ListBackupVaults" [Scan] "the region's backup vaults";
    "backup:ListRecoveryPointsByBackupVault" [Scan] "recovery points' source resource, size, status and lifecycle (never the backup's data)";
    // Network: VPC endpoints, Transit Gateway, Route 53 (global, read from us-east-1).
    "ec2:DescribeVpcEndpoints" [Scan] "VPC endpoints: type, service, state, subnets, creation time (interface endpoints with no traffic; their policy is not kept)";
    "ec2:DescribeTransitGatewayAttachments" [Scan] "Transit Gateway attachments: resource type, owners, state, creation time (VPC attachments with no traffic)";
    "route53:ListHostedZones" [Scan] "hosted zones' names, public or private, record count, managing service (zones with only their SOA and NS records; never a record)";
    "route53:GetHostedZone" [Scan] "a private hosted zone's associated VPCs (private zones no VPC can query)";
    // CloudWatch.
    "logs:DescribeLogGroups" [Scan] "log groups' retention and stored bytes (never log events)";
    "cloudwatch:GetMetricData" [Scan] "utilisation metrics (CPU, network, connections, capacity consumed, provisioned concurrency use) for idle detection";
    "cloudwatch:ListMetrics" [Scan] "metric names and dimensions, to find the Lambda functions with provisioned concurrency without listing functions, and the VPC interface endpoints with traffic in the last two weeks";
    "cloudwatch:DescribeAlarms" [Scan] "metric alarms' state, when it and the configuration last changed, their metrics and actions (alarms with no data, alarms on deleted resources)";
    // Cost Explorer.
    "ce:GetCostAndUsage" [Scan] "spend by service, account and region";
    "ce:GetCostForecast" [Scan] "month-end forecast";
    "ce:GetAnomalyMonitors" [Scan] "the account's Cost Anomaly Detection monitors (GetAnomalies is granted per monitor)";
    "ce:GetAnomalies" [Scan] "anomalies found by those monitors";
    "ce:GetReservationCoverage" [Scan] "Reserved Instance coverage";
    "ce:GetReservationUtilization" [Scan] "Reserved Instance utilisation";
    "ce:GetSavingsPlansCoverage" [Scan] "Savings Plans coverage";
    "ce:GetSavingsPlansUtilization" [Scan] "Savings Plans utilisation";
    // Cost Optimization Hub.
    "cost-optimization-hub:ListEnrollmentStatuses" [Scan] "whether the account is enrolled";
    "cost-optimization-hub:ListRecommendations" [Scan] "AWS's own savings recommendations";
    // Compute Optimizer.
    "compute-optimizer:GetEnrollmentStatus" [Scan] "whether the account is enrolled";
    "compute-optimizer:GetEC2InstanceRecommendations" [Scan] "rightsizing for EC2 instances";
    "compute-optimizer:GetAutoScalingGroupRecommendations" [Scan] "rightsizing for Auto Scaling groups";
    "compute-optimizer:GetEBSVolumeRecommendations" [Scan] "rightsizing for EBS volumes";
    "compute-optimizer:GetLambdaFunctionRecommendations" [Scan] "memory sizing for Lambda functions";
    "compute-optimizer:GetECSServiceRecommendations" [Scan] "task sizing for ECS services on Fargate";
    "compute-optimizer:GetRDSDatabaseRecommendations" [Scan] "rightsizing for RDS instances";
    "compute-optimizer:GetIdleRecommendations" [Scan] "idle resources found by Compute Optimizer";
    // Trusted Advisor (its API answers accounts on a Business or Enterprise Support plan only).
    "trustedadvisor:ListChecks" [Scan] "the cost-optimizing checks' column headings, to find each check's estimated-savings column";
    "trustedadvisor:ListRecommendations" [Scan] "the account's Trusted Advisor cost-optimizing recommendations";
    "trustedadvisor:ListRecommendationResources" [Scan] "the resources a cost-optimizing recommendation flags, with the check's figures for each";
    // Tags.
    "tag:GetResources" [Scan] "resource tags, to attribute findings to owners and environments";
    // CUR path: only on the stack's own workgroup, Glue table and buckets (see the template).
    "athena:StartQueryExecution" [CurQuery] "start a query in the costradar workgroup (exception: access level Write)";
    "athena:GetQueryExecution" [CurQuery] "poll the query's state and bytes scanned";
    "athena:GetQueryResults" [CurQuery] "read the query's result rows (our own aggregate queries over the CUR)";
    "athena:StopQueryExecution" [CurQuery] "cancel a query that runs too long (exception: access level Write)";
    "glue:GetDatabase" [CurQuery] "the CUR database's definition";
    "glue:GetTable" [CurQuery] "the CUR table's schema and partition projection";
    "glue:GetPartitions" [CurQuery] "partition lookup on the CUR table";
    "s3:GetBucketLocation" [CurQuery] "the results bucket's region";
    "s3:ListBucket" [CurQuery] "list CUR files and query results";
    "s3:GetObject" [CurQuery] "read CUR Parquet files and query results (CUR and results buckets only)";
    "s3:PutObject" [CurQuery] "Athena writes query results (results bucket only; exception: access level Write)";
}

/// The plain action list, as an owned vector (for callers that filter or sort it).
pub fn customer_actions() -> Vec<&'static str> {
    CUSTOMER_ACTIONS.to_vec()
}

/// The actions one task's session may call.
pub fn actions_for(task: Task) -> Vec<&'static str> {
    CUSTOMER_PERMISSIONS.iter().filter(|p| p.tasks.contains(&task)).map(|p| p.action).collect()
}

/// The customer stack's managed policy (`ReadOnlyPolicy` in `cfn/costradar-role.yaml`): every
/// action of the table, the CUR ones only on the stack's own CUR resources.
pub const READ_ONLY_POLICY_NAME: &str = "CostradarReadOnlyAccess";

/// STS's limit on the plaintext of a session's inline policy and managed policy ARNs together.
pub const SESSION_POLICY_MAX_CHARS: usize = 2048;

/// What narrows an assumed session to one task's actions: an inline policy, and managed
/// policies by ARN (a session's rights are the role's, intersected with these).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionPolicy {
    pub inline: String,
    pub managed_arns: Vec<String>,
}

impl SessionPolicy {
    /// The plaintext STS counts against [`SESSION_POLICY_MAX_CHARS`].
    pub fn plaintext_len(&self) -> usize {
        self.inline.len() + self.managed_arns.iter().map(String::len).sum::<usize>()
    }
}

/// The session policy of one task in the account of `role`.
///
/// The scan reads dozens of services: its action list would outgrow the 2,048 characters STS
/// allows inline. Its session therefore takes the stack's own managed policy by ARN (every
/// action of the table) and an inline explicit Deny of the actions the scan does not call (the
/// CUR ones): an explicit deny wins over any allow, so the session can do exactly
/// [`actions_for`]`(Task::Scan)` and, being bounded by our managed policy, nothing a customer
/// later attaches to the role. Every other task's list is short and stays an inline Allow.
/// Resources stay `*` here: the role's own policy scopes the CUR actions to the stack's
/// resources, and a session policy can only narrow, never widen.
pub fn session_policy(task: Task, role: &RoleArn) -> SessionPolicy {
    match task {
        Task::Scan => {
            let others: Vec<&str> =
                CUSTOMER_PERMISSIONS.iter().filter(|p| !p.tasks.contains(&task)).map(|p| p.action).collect();
            SessionPolicy {
                inline: policy_json("Deny", &others),
                managed_arns: vec![format!("arn:aws:iam::{}:policy/{READ_ONLY_POLICY_NAME}", role.account_id())],
            }
        }
        _ => SessionPolicy { inline: policy_json("Allow", &actions_for(task)), managed_arns: vec![] },
    }
}

fn policy_json(effect: &str, actions: &[&str]) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": effect, "Action": actions, "Resource": "*" }],
    })
    .to_string()
}

/// What IAM's evaluation lets a session under `policy` call: an action the role allows
/// (`role_allows`), allowed by a session policy (inline, or a managed one: `managed_allows` is
/// what the ARNs' policies allow), and not explicitly denied. In the role's order.
pub fn session_actions(policy: &SessionPolicy, role_allows: &[&str], managed_allows: &[&str]) -> Vec<String> {
    let doc: serde_json::Value = serde_json::from_str(&policy.inline).expect("our own JSON");
    let statement = &doc["Statement"][0];
    let listed: Vec<&str> = statement["Action"].as_array().into_iter().flatten().filter_map(|a| a.as_str()).collect();
    let deny = statement["Effect"] == "Deny";
    let by_managed = |a: &str| !policy.managed_arns.is_empty() && managed_allows.contains(&a);
    let allowed = |a: &str| (!deny && listed.contains(&a)) || by_managed(a);
    let denied = |a: &str| deny && listed.contains(&a);
    role_allows.iter().filter(|a| allowed(a) && !denied(a)).map(|a| a.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn actions_are_unique_enumerated_and_well_formed() {
        let mut seen = HashSet::new();
        for p in CUSTOMER_PERMISSIONS {
            assert!(seen.insert(p.action), "{} is listed twice", p.action);
            assert!(!p.action.contains('*') && !p.action.contains('?'), "{} is a wildcard", p.action);
            let (service, name) = p.action.split_once(':').expect("service:Action");
            assert!(
                !service.is_empty()
                    && service.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            );
            assert!(name.starts_with(|c: char| c.is_ascii_uppercase()), "{}", p.action);
            assert!(!p.purpose.is_empty());
        }
        assert_eq!(CUSTOMER_ACTIONS.len(), CUSTOMER_PERMISSIONS.len());
    }

    #[test]
    fn every_task_has_actions_and_only_the_cur_task_touches_s3_athena_glue() {
        for t in Task::ALL {
            assert!(!actions_for(*t).is_empty(), "{t} has no actions");
        }
        // The scan reads S3 buckets' configuration (enumerated List and Read actions on buckets);
        // reading or writing an object, locating a bucket or listing its keys stays the CUR
        // task's, on the stack's own buckets.
        const SCAN_S3: &[&str] = &[
            "s3:ListAllMyBuckets",
            "s3:GetBucketVersioning",
            "s3:GetLifecycleConfiguration",
            "s3:ListBucketMultipartUploads",
            "s3:ListMultipartUploadParts",
        ];
        for p in CUSTOMER_PERMISSIONS {
            let cur_service = ["s3:", "athena:", "glue:"].iter().any(|s| p.action.starts_with(s));
            if SCAN_S3.contains(&p.action) {
                assert_eq!(p.tasks, [Scan], "{}", p.action);
                continue;
            }
            assert_eq!(cur_service, p.tasks == [CurQuery], "{}", p.action);
        }
        for object_data in
            ["s3:GetObject", "s3:PutObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:GetBucketLocation"]
        {
            assert!(!actions_for(Scan).contains(&object_data), "{object_data} outside the CUR task");
        }
    }

    fn role() -> RoleArn {
        RoleArn::parse("arn:aws:iam::123456789012:role/CostradarReadOnly").unwrap()
    }

    #[test]
    fn session_policy_lists_exactly_the_task_actions() {
        let p = session_policy(Task::RealtimeEnrichment, &role());
        let v: serde_json::Value = serde_json::from_str(&p.inline).unwrap();
        let actions: Vec<&str> =
            v["Statement"][0]["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
        assert_eq!(actions, ["ec2:DescribeInstances", "ec2:DescribeImages"]);
        assert!(p.managed_arns.is_empty());
    }

    #[test]
    fn every_task_session_can_do_exactly_its_actions_within_the_sts_limit() {
        for t in Task::ALL {
            let p = session_policy(*t, &role());
            assert!(p.plaintext_len() <= SESSION_POLICY_MAX_CHARS, "{t}: {} characters", p.plaintext_len());
            // The role's one policy is the stack's managed policy: every action of the table.
            assert_eq!(session_actions(&p, CUSTOMER_ACTIONS, CUSTOMER_ACTIONS), actions_for(*t), "{t}");
        }
        let scan = session_policy(Task::Scan, &role());
        assert_eq!(scan.managed_arns, ["arn:aws:iam::123456789012:policy/CostradarReadOnlyAccess"]);
        assert!(!session_actions(&scan, CUSTOMER_ACTIONS, CUSTOMER_ACTIONS).contains(&"s3:GetObject".to_owned()));
        // Bounded by our managed policy: a right the customer later gives the role by another
        // policy is not the scan's.
        let role_allows = [CUSTOMER_ACTIONS, &["iam:ListUsers"]].concat();
        assert_eq!(session_actions(&scan, &role_allows, CUSTOMER_ACTIONS), actions_for(Task::Scan));
    }
}
