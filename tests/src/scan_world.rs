//! Builds resources in moto for the scan tests and the scan benchmark: one helper per kind of
//! resource, each returning the id the scan will report.

use aws_sdk_ec2::types::{BlockDeviceMapping, DomainType, EbsBlockDevice, InstanceType, VolumeType};

use crate::sdk_config;

/// An AWS account id no other test uses. moto keeps every account apart, so a scan of it sees
/// only what this test built, whatever other tests left in the shared moto server.
pub fn fresh_account() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let pid = u64::from(std::process::id()) % 1_000_000;
    format!("{:012}", 300_000_000_000 + pid * 1000 + N.fetch_add(1, Ordering::SeqCst) % 1000)
}

/// The role the scan assumes in `account`.
pub fn role_in(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/CostradarReadOnly")
}

/// The settings of a moto scan scenario: a one-day window, no minimum age (moto cannot
/// backdate a resource), AWS's recommenders off (moto has none), and `extra` on top.
pub fn moto_settings(extra: serde_json::Value) -> costradar_core::domain::settings::ScanSettings {
    let mut v = serde_json::json!({
        "idle_window_days": 1, "idle_min_age_days": 0,
        "cost_optimization_hub": false, "compute_optimizer": false, "trusted_advisor": false,
    });
    for (k, x) in extra.as_object().into_iter().flatten() {
        v[k] = x.clone();
    }
    costradar_core::domain::settings::ScanSettings::from_json(v.to_string().as_bytes()).expect("scan settings")
}

/// One scan of `account` in `regions` at `now` through the Lambda's code (STS AssumeRole with
/// the scan's session policy, the scanners, the rules, an in-memory store).
pub async fn scan_account(
    account: &str,
    regions: &[&str],
    settings: &costradar_core::domain::settings::ScanSettings,
    now: chrono::DateTime<chrono::Utc>,
) -> costradar_core::scan::AccountScan {
    use costradar_core::domain::{AccountId, ExternalId, RoleArn, TenantId};
    use std::sync::Arc;
    let sdk = sdk_config().await;
    let opener = costradar_aws::scan::AwsSessionOpener::new(
        Arc::new(costradar_aws::StsRoleAssumer::from_sdk(&sdk)),
        sdk.clone(),
    );
    let store = Arc::new(costradar_core::store::memory::MemoryStore::default());
    let scanner = costradar_core::scan::Scanner::new(Arc::new(opener), store, costradar_core::pricing::bundled());
    let (tenant, external_id) = (TenantId::generate(), ExternalId::generate());
    let role = RoleArn::parse(&role_in(account)).unwrap();
    let account_id = AccountId::parse(account).expect("a 12-digit account");
    let regions: Vec<String> = regions.iter().map(|r| r.to_string()).collect();
    let target = costradar_core::scan::Target {
        tenant_id: &tenant,
        external_id: &external_id,
        account_id: &account_id,
        role_arn: &role,
        regions: &regions,
    };
    scanner.scan(&target, settings, now).await.expect("scan")
}

/// [`scan_account`] in us-east-1 now with [`moto_settings`]`(extra)`; the region complete and
/// error-free.
pub async fn scan_complete(account: &str, extra: serde_json::Value) -> costradar_core::scan::AccountScan {
    let out = scan_account(account, &["us-east-1"], &moto_settings(extra), chrono::Utc::now()).await;
    let region = out.run.regions.iter().find(|r| r.region == "us-east-1").expect("us-east-1 scanned");
    assert_eq!(region.status, costradar_core::domain::scan_run::ScanStatus::Complete, "{region:?}");
    assert!(region.errors.is_empty(), "{region:?}");
    out
}

/// SDK configuration acting in `account` and `region`: moto tells accounts apart by access key,
/// so credentials from AssumeRole into a role of `account` act in `account`.
async fn acting_in(account: &str, region: &str) -> aws_config::SdkConfig {
    let base = sdk_config().await;
    let out = aws_sdk_sts::Client::new(&base)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/world-builder"))
        .role_session_name("world")
        .send()
        .await
        .expect("moto AssumeRole");
    let cr = out.credentials().expect("credentials");
    let creds = aws_sdk_sts::config::Credentials::new(
        cr.access_key_id(),
        cr.secret_access_key(),
        Some(cr.session_token().to_owned()),
        None,
        "world",
    );
    base.to_builder()
        .region(aws_config::Region::new(region.to_owned()))
        .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(creds))
        .build()
}

/// Clients for one region of one moto account.
pub struct World {
    pub account: String,
    pub region: String,
    pub ec2: aws_sdk_ec2::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    pub rds: aws_sdk_rds::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub elasticache: aws_sdk_elasticache::Client,
}

impl World {
    /// The world of `account` in `region` ([`acting_in`]).
    pub async fn new(account: &str, region: &str) -> Self {
        let c = acting_in(account, region).await;
        Self {
            account: account.to_owned(),
            region: region.to_owned(),
            ec2: aws_sdk_ec2::Client::new(&c),
            elbv2: aws_sdk_elasticloadbalancingv2::Client::new(&c),
            rds: aws_sdk_rds::Client::new(&c),
            logs: aws_sdk_cloudwatchlogs::Client::new(&c),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&c),
            dynamodb: aws_sdk_dynamodb::Client::new(&c),
            elasticache: aws_sdk_elasticache::Client::new(&c),
        }
    }

    pub fn az(&self, letter: char) -> String {
        format!("{}{letter}", self.region)
    }

    /// A VPC with two subnets in two zones.
    pub async fn network(&self) -> (String, Vec<String>) {
        let vpc = self.ec2.create_vpc().cidr_block("10.0.0.0/16").send().await.expect("vpc");
        let vpc = vpc.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_owned();
        let mut subnets = vec![];
        for (i, az) in ['a', 'b'].into_iter().enumerate() {
            let s = self
                .ec2
                .create_subnet()
                .vpc_id(&vpc)
                .cidr_block(format!("10.0.{i}.0/24"))
                .availability_zone(self.az(az))
                .send()
                .await
                .expect("subnet");
            subnets.push(s.subnet().and_then(|s| s.subnet_id()).expect("subnet id").to_owned());
        }
        (vpc, subnets)
    }

    /// An instance with an 8 GiB gp3 root volume (moto's default root would be gp2).
    pub async fn instance(&self, instance_type: &str) -> String {
        let out = self
            .ec2
            .run_instances()
            // Amazon Linux (moto's ami-12c6146b is Windows, which the price book does not price).
            .image_id("ami-760aaa0f")
            .instance_type(InstanceType::from(instance_type))
            .min_count(1)
            .max_count(1)
            .block_device_mappings(
                BlockDeviceMapping::builder()
                    .device_name("/dev/sda1")
                    .ebs(
                        EbsBlockDevice::builder()
                            .volume_size(8)
                            .volume_type(VolumeType::Gp3)
                            .delete_on_termination(true)
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .expect("run instance");
        out.instances()[0].instance_id().expect("instance id").to_owned()
    }

    pub async fn stop(&self, instance: &str) {
        self.ec2.stop_instances().instance_ids(instance).send().await.expect("stop");
    }

    pub async fn volume(&self, volume_type: &str, size: i32, iops: Option<i32>) -> String {
        let out = self
            .ec2
            .create_volume()
            .availability_zone(self.az('a'))
            .volume_type(VolumeType::from(volume_type))
            .size(size)
            .set_iops(iops)
            .send()
            .await
            .expect("create volume");
        out.volume_id().expect("volume id").to_owned()
    }

    pub async fn attach(&self, volume: &str, instance: &str, device: &str) {
        self.ec2.attach_volume().volume_id(volume).instance_id(instance).device(device).send().await.expect("attach");
    }

    pub async fn snapshot(&self, volume: &str) -> String {
        let out = self.ec2.create_snapshot().volume_id(volume).send().await.expect("snapshot");
        out.snapshot_id().expect("snapshot id").to_owned()
    }

    pub async fn delete_volume(&self, volume: &str) {
        self.ec2.delete_volume().volume_id(volume).send().await.expect("delete volume");
    }

    /// An AMI of `instance` and the snapshot it created and uses.
    pub async fn image_of(&self, instance: &str, name: &str) -> (String, String) {
        let out = self.ec2.create_image().instance_id(instance).name(name).send().await.expect("create image");
        let image = out.image_id().expect("image id").to_owned();
        let d = self.ec2.describe_images().image_ids(&image).send().await.expect("describe image");
        let snapshot = d.images()[0]
            .block_device_mappings()
            .iter()
            .find_map(|m| m.ebs().and_then(|e| e.snapshot_id()))
            .expect("the image's snapshot")
            .to_owned();
        (image, snapshot)
    }

    /// An Elastic IP: (allocation id, public IP).
    pub async fn address(&self) -> (String, String) {
        let out = self.ec2.allocate_address().domain(DomainType::Vpc).send().await.expect("allocate");
        (out.allocation_id().expect("allocation").to_owned(), out.public_ip().expect("ip").to_owned())
    }

    pub async fn associate(&self, allocation: &str, instance: &str) {
        self.ec2.associate_address().allocation_id(allocation).instance_id(instance).send().await.expect("associate");
    }

    pub async fn release(&self, allocation: &str) {
        self.ec2.release_address().allocation_id(allocation).send().await.expect("release");
    }

    pub async fn nat_gateway(&self, subnet: &str, allocation: &str) -> String {
        let out = self.ec2.create_nat_gateway().subnet_id(subnet).allocation_id(allocation).send().await.expect("nat");
        out.nat_gateway().and_then(|n| n.nat_gateway_id()).expect("nat id").to_owned()
    }

    /// An application load balancer whose listener forwards to a new target group; the targets
    /// are registered. Returns the load balancer's ARN.
    pub async fn load_balancer(&self, name: &str, vpc: &str, subnets: &[String], targets: &[&str]) -> String {
        use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum, ProtocolEnum, TargetDescription};
        let lb = self
            .elbv2
            .create_load_balancer()
            .name(name)
            .set_subnets(Some(subnets.to_vec()))
            .send()
            .await
            .expect("load balancer");
        let lb_arn = lb.load_balancers()[0].load_balancer_arn().expect("arn").to_owned();
        let tg = self
            .elbv2
            .create_target_group()
            .name(format!("{name}-tg"))
            .protocol(ProtocolEnum::Http)
            .port(80)
            .vpc_id(vpc)
            .send()
            .await
            .expect("target group");
        let tg_arn = tg.target_groups()[0].target_group_arn().expect("tg arn").to_owned();
        self.elbv2
            .create_listener()
            .load_balancer_arn(&lb_arn)
            .protocol(ProtocolEnum::Http)
            .port(80)
            .default_actions(Action::builder().r#type(ActionTypeEnum::Forward).target_group_arn(&tg_arn).build())
            .send()
            .await
            .expect("listener");
        if !targets.is_empty() {
            let mut req = self.elbv2.register_targets().target_group_arn(&tg_arn);
            for t in targets {
                req = req.targets(TargetDescription::builder().id(*t).port(80).build());
            }
            req.send().await.expect("register targets");
        }
        lb_arn
    }

    pub async fn delete_load_balancer(&self, arn: &str) {
        self.elbv2.delete_load_balancer().load_balancer_arn(arn).send().await.expect("delete load balancer");
    }

    /// A DB instance; returns its ARN.
    pub async fn database(
        &self,
        id: &str,
        engine: &str,
        class: &str,
        storage: (&str, i32),
        multi_az: bool,
        tags: &[(&str, &str)],
    ) -> String {
        let mut req = self
            .rds
            .create_db_instance()
            .db_instance_identifier(id)
            .engine(engine)
            .db_instance_class(class)
            .storage_type(storage.0)
            .allocated_storage(storage.1)
            .multi_az(multi_az)
            .master_username("admin")
            .master_user_password("not-a-real-password-1");
        for (k, v) in tags {
            req = req.tags(aws_sdk_rds::types::Tag::builder().key(*k).value(*v).build());
        }
        let out = req.send().await.expect("create db instance");
        out.db_instance().and_then(|d| d.db_instance_arn()).expect("db arn").to_owned()
    }

    pub async fn stop_database(&self, id: &str) {
        self.rds.stop_db_instance().db_instance_identifier(id).send().await.expect("stop db");
    }

    /// A log group holding `bytes` bytes of events, with an optional retention.
    pub async fn log_group(&self, name: &str, retention: Option<i32>, bytes: usize) {
        self.logs.create_log_group().log_group_name(name).send().await.expect("log group");
        if let Some(days) = retention {
            self.logs
                .put_retention_policy()
                .log_group_name(name)
                .retention_in_days(days)
                .send()
                .await
                .expect("retention");
        }
        if bytes > 0 {
            self.logs.create_log_stream().log_group_name(name).log_stream_name("s").send().await.expect("stream");
            let event = aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(chrono::Utc::now().timestamp_millis())
                .message("x".repeat(bytes))
                .build()
                .expect("event");
            self.logs
                .put_log_events()
                .log_group_name(name)
                .log_stream_name("s")
                .log_events(event)
                .send()
                .await
                .expect("put events");
        }
    }

    /// One datapoint of a metric with one dimension, an hour ago (inside any idle window).
    pub async fn metric(&self, namespace: &str, metric: &str, dimension: (&str, &str), value: f64) {
        use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
        let at = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        let datum = MetricDatum::builder()
            .metric_name(metric)
            .dimensions(Dimension::builder().name(dimension.0).value(dimension.1).build())
            .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from(at))
            .value(value)
            .build();
        self.cloudwatch.put_metric_data().namespace(namespace).metric_data(datum).send().await.expect("put metric");
    }

    /// Datapoints of a metric with one dimension, `(seconds ago, value)` each.
    pub async fn metric_series(&self, namespace: &str, metric: &str, dimension: (&str, &str), points: &[(u64, f64)]) {
        self.metric_points(namespace, metric, &[dimension], points).await
    }

    /// Datapoints of a metric with any dimensions, `(seconds ago, value)` each.
    pub async fn metric_points(&self, namespace: &str, metric: &str, dims: &[(&str, &str)], points: &[(u64, f64)]) {
        use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
        // One "now" for all, so points put 300 s apart stay exactly 300 s apart.
        let now = std::time::SystemTime::now();
        for chunk in points.chunks(500) {
            let mut req = self.cloudwatch.put_metric_data().namespace(namespace);
            for (ago, value) in chunk {
                let at = now - std::time::Duration::from_secs(*ago);
                req = req.metric_data(
                    MetricDatum::builder()
                        .metric_name(metric)
                        .set_dimensions(Some(
                            dims.iter().map(|(n, v)| Dimension::builder().name(*n).value(*v).build()).collect(),
                        ))
                        .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from(at))
                        .value(*value)
                        .build(),
                );
            }
            req.send().await.expect("put metric data");
        }
    }

    /// A DynamoDB table with a string hash key `pk`: provisioned `Some((rcu, wcu))`, or on
    /// demand. Returns its ARN.
    pub async fn dynamo_table(&self, name: &str, provisioned: Option<(i64, i64)>) -> String {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ProvisionedThroughput, ScalarAttributeType,
        };
        let mut req = self
            .dynamodb
            .create_table()
            .table_name(name)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("pk")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .expect("attribute"),
            )
            .key_schema(KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build().expect("key"));
        req = match provisioned {
            Some((r, w)) => req.billing_mode(BillingMode::Provisioned).provisioned_throughput(
                ProvisionedThroughput::builder()
                    .read_capacity_units(r)
                    .write_capacity_units(w)
                    .build()
                    .expect("throughput"),
            ),
            None => req.billing_mode(BillingMode::PayPerRequest),
        };
        let out = req.send().await.expect("create table");
        out.table_description().and_then(|t| t.table_arn()).expect("table arn").to_owned()
    }

    /// A stand-alone cache cluster of `nodes` nodes.
    pub async fn cache_cluster(&self, id: &str, engine: &str, node_type: &str, nodes: i32) {
        self.elasticache
            .create_cache_cluster()
            .cache_cluster_id(id)
            .engine(engine)
            .cache_node_type(node_type)
            .num_cache_nodes(nodes)
            .send()
            .await
            .expect("create cache cluster");
    }

    /// An Amazon Linux instance in `subnet` (moto maps no public IPv4 address on launch in a
    /// subnet it did not create as a default one).
    pub async fn instance_in(&self, subnet: &str, instance_type: &str) -> String {
        let out = self
            .ec2
            .run_instances()
            .image_id("ami-760aaa0f")
            .instance_type(InstanceType::from(instance_type))
            .subnet_id(subnet)
            .min_count(1)
            .max_count(1)
            .send()
            .await
            .expect("run instance in subnet");
        out.instances()[0].instance_id().expect("instance id").to_owned()
    }
}

/// The analytics and container families: Redshift, OpenSearch Service, EKS.
impl World {
    /// SDK configuration acting in this world's account and region ([`acting_in`]), for clients
    /// the world does not hold.
    pub async fn config(&self) -> aws_config::SdkConfig {
        acting_in(&self.account, &self.region).await
    }

    /// A provisioned Redshift cluster of `nodes` × `node_type`.
    pub async fn redshift_cluster(&self, id: &str, node_type: &str, nodes: i32) {
        let c = aws_sdk_redshift::Client::new(&self.config().await);
        c.create_cluster()
            .cluster_identifier(id)
            .node_type(node_type)
            .number_of_nodes(nodes)
            .cluster_type(if nodes > 1 { "multi-node" } else { "single-node" })
            .master_username("admin")
            .master_user_password("Not-a-real-passw0rd")
            .send()
            .await
            .expect("create redshift cluster");
    }

    /// An OpenSearch domain of `count` × `instance_type` data nodes with `gib` GiB of
    /// `volume_type` EBS storage each. Returns its ARN.
    pub async fn search_domain(
        &self,
        name: &str,
        instance_type: &str,
        count: i32,
        volume_type: &str,
        gib: i32,
    ) -> String {
        use aws_sdk_opensearch::types::{ClusterConfig, EbsOptions, OpenSearchPartitionInstanceType, VolumeType};
        let c = aws_sdk_opensearch::Client::new(&self.config().await);
        let out = c
            .create_domain()
            .domain_name(name)
            .engine_version("OpenSearch_2.11")
            .cluster_config(
                ClusterConfig::builder()
                    .instance_type(OpenSearchPartitionInstanceType::from(instance_type))
                    .instance_count(count)
                    .build(),
            )
            .ebs_options(
                EbsOptions::builder()
                    .ebs_enabled(true)
                    .volume_type(VolumeType::from(volume_type))
                    .volume_size(gib)
                    .build(),
            )
            .send()
            .await
            .expect("create opensearch domain");
        out.domain_status().expect("domain status").arn().to_owned()
    }

    /// An EKS cluster on Kubernetes `version`. Returns its ARN.
    pub async fn eks_cluster(&self, name: &str, version: &str) -> String {
        use aws_sdk_eks::types::VpcConfigRequest;
        let c = aws_sdk_eks::Client::new(&self.config().await);
        let out = c
            .create_cluster()
            .name(name)
            .version(version)
            .role_arn(format!("arn:aws:iam::{}:role/eks-cluster", self.account))
            .resources_vpc_config(VpcConfigRequest::builder().subnet_ids("subnet-00000001").build())
            .send()
            .await
            .expect("create eks cluster");
        out.cluster().and_then(|c| c.arn()).expect("cluster arn").to_owned()
    }

    /// A managed node group in an EKS cluster.
    pub async fn eks_node_group(&self, cluster: &str, name: &str) {
        let c = aws_sdk_eks::Client::new(&self.config().await);
        c.create_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .subnets("subnet-00000001")
            .node_role(format!("arn:aws:iam::{}:role/eks-node", self.account))
            .send()
            .await
            .expect("create node group");
    }

    /// A Fargate profile in an EKS cluster, for namespace `default`.
    pub async fn eks_fargate_profile(&self, cluster: &str, name: &str) {
        use aws_sdk_eks::types::FargateProfileSelector;
        let c = aws_sdk_eks::Client::new(&self.config().await);
        c.create_fargate_profile()
            .cluster_name(cluster)
            .fargate_profile_name(name)
            .pod_execution_role_arn(format!("arn:aws:iam::{}:role/eks-fargate", self.account))
            .selectors(FargateProfileSelector::builder().namespace("default").build())
            .send()
            .await
            .expect("create fargate profile");
    }

    /// A running instance tagged as a self-managed node of an EKS cluster.
    pub async fn eks_self_managed_node(&self, cluster: &str) -> String {
        use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
        let out = self
            .ec2
            .run_instances()
            .image_id("ami-760aaa0f")
            .instance_type(InstanceType::M5Large)
            .min_count(1)
            .max_count(1)
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::Instance)
                    .tags(Tag::builder().key(format!("kubernetes.io/cluster/{cluster}")).value("owned").build())
                    .build(),
            )
            .send()
            .await
            .expect("run instance");
        out.instances()[0].instance_id().expect("instance id").to_owned()
    }
}

/// The network and monitoring families: CloudWatch alarms, VPC endpoints, Transit Gateway
/// attachments, Route 53 hosted zones.
impl World {
    /// Terminates an instance (moto keeps listing it as `terminated`).
    pub async fn terminate(&self, instance: &str) {
        self.ec2.terminate_instances().instance_ids(instance).send().await.expect("terminate instance");
    }

    /// A metric alarm on one metric with one dimension (period 60 s), its actions `actions`;
    /// moto creates it in `OK`.
    pub async fn metric_alarm(&self, name: &str, namespace: &str, dimension: (&str, &str), actions: &[&str]) {
        use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic};
        self.cloudwatch
            .put_metric_alarm()
            .alarm_name(name)
            .namespace(namespace)
            .metric_name("CPUUtilization")
            .dimensions(Dimension::builder().name(dimension.0).value(dimension.1).build())
            .statistic(Statistic::Average)
            .period(60)
            .evaluation_periods(1)
            .threshold(90.0)
            .comparison_operator(ComparisonOperator::GreaterThanThreshold)
            .set_alarm_actions(Some(actions.iter().map(|a| a.to_string()).collect()))
            .send()
            .await
            .expect("put metric alarm");
    }

    /// A metric-math alarm summing one custom metric per `(host, period)`.
    pub async fn math_alarm(&self, name: &str, hosts: &[(&str, i32)]) {
        use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Metric, MetricDataQuery, MetricStat};
        let mut req = self
            .cloudwatch
            .put_metric_alarm()
            .alarm_name(name)
            .evaluation_periods(1)
            .threshold(1.0)
            .comparison_operator(ComparisonOperator::GreaterThanThreshold);
        let mut ids = vec![];
        for (i, (host, period)) in hosts.iter().enumerate() {
            let metric = Metric::builder()
                .namespace("App")
                .metric_name("Errors")
                .dimensions(Dimension::builder().name("Host").value(*host).build())
                .build();
            let id = format!("m{i}");
            req = req.metrics(
                MetricDataQuery::builder()
                    .id(&id)
                    .metric_stat(MetricStat::builder().metric(metric).period(*period).stat("Sum").build())
                    .return_data(false)
                    .build(),
            );
            ids.push(id);
        }
        let sum = MetricDataQuery::builder().id("total").expression(ids.join(" + ")).return_data(true).build();
        req.metrics(sum).send().await.expect("put metric-math alarm");
    }

    pub async fn alarm_state(&self, name: &str, state: aws_sdk_cloudwatch::types::StateValue) {
        self.cloudwatch
            .set_alarm_state()
            .alarm_name(name)
            .state_value(state)
            .state_reason("set by the test")
            .send()
            .await
            .expect("set alarm state");
    }

    /// A VPC endpoint to `service` (`com.amazonaws.<region>.ssm`, ...): `Interface` in
    /// `subnets`, or `Gateway` when `subnets` is empty. Returns its id.
    pub async fn vpc_endpoint(&self, vpc: &str, service: &str, subnets: &[String]) -> String {
        use aws_sdk_ec2::types::VpcEndpointType;
        let kind = if subnets.is_empty() { VpcEndpointType::Gateway } else { VpcEndpointType::Interface };
        let out = self
            .ec2
            .create_vpc_endpoint()
            .vpc_id(vpc)
            .service_name(format!("com.amazonaws.{}.{service}", self.region))
            .vpc_endpoint_type(kind)
            .set_subnet_ids((!subnets.is_empty()).then(|| subnets.to_vec()))
            .send()
            .await
            .expect("create vpc endpoint");
        out.vpc_endpoint().and_then(|e| e.vpc_endpoint_id()).expect("endpoint id").to_owned()
    }

    pub async fn transit_gateway(&self) -> String {
        let out = self.ec2.create_transit_gateway().send().await.expect("create transit gateway");
        out.transit_gateway().and_then(|t| t.transit_gateway_id()).expect("tgw id").to_owned()
    }

    /// Attaches `vpc` (in `subnets`) to `tgw`. Returns the attachment id.
    pub async fn tgw_attachment(&self, tgw: &str, vpc: &str, subnets: &[String]) -> String {
        let out = self
            .ec2
            .create_transit_gateway_vpc_attachment()
            .transit_gateway_id(tgw)
            .vpc_id(vpc)
            .set_subnet_ids(Some(subnets.to_vec()))
            .send()
            .await
            .expect("create transit gateway vpc attachment");
        out.transit_gateway_vpc_attachment()
            .and_then(|a| a.transit_gateway_attachment_id())
            .expect("attachment id")
            .to_owned()
    }

    /// A hosted zone: public, or private to `vpc` (moto, unlike Route 53, also creates a
    /// private zone with no VPC: `Some(None)`). Returns its id without `/hostedzone/`.
    pub async fn hosted_zone(&self, name: &str, private: Option<Option<&str>>) -> String {
        use aws_sdk_route53::types::{HostedZoneConfig, Vpc, VpcRegion};
        let c = aws_sdk_route53::Client::new(&self.config().await);
        let mut req = c.create_hosted_zone().name(name).caller_reference(format!("{name}-{}", self.account));
        if let Some(vpc) = private {
            req = req.hosted_zone_config(HostedZoneConfig::builder().private_zone(true).build());
            if let Some(vpc) = vpc {
                req = req.vpc(Vpc::builder().vpc_id(vpc).vpc_region(VpcRegion::from(self.region.as_str())).build());
            }
        }
        let out = req.send().await.expect("create hosted zone");
        out.hosted_zone().expect("zone").id().trim_start_matches("/hostedzone/").to_owned()
    }

    /// An A record `name` in `zone`.
    pub async fn a_record(&self, zone: &str, name: &str) {
        use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType};
        let c = aws_sdk_route53::Client::new(&self.config().await);
        let set = ResourceRecordSet::builder()
            .name(name)
            .r#type(RrType::A)
            .ttl(60)
            .resource_records(ResourceRecord::builder().value("10.0.0.10").build().expect("record"))
            .build()
            .expect("record set");
        let change = Change::builder().action(ChangeAction::Create).resource_record_set(set).build().expect("change");
        c.change_resource_record_sets()
            .hosted_zone_id(zone)
            .change_batch(ChangeBatch::builder().changes(change).build().expect("batch"))
            .send()
            .await
            .expect("create record");
    }
}

/// The storage families' clients for one world: S3 (path-style, as moto on a loopback port
/// needs), EFS, ECR and AWS Backup.
pub struct Storage {
    pub region: String,
    pub s3: aws_sdk_s3::Client,
    pub efs: aws_sdk_efs::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub backup: aws_sdk_backup::Client,
}

/// The storage families: S3, EFS, ECR, AWS Backup.
impl World {
    pub async fn storage(&self) -> Storage {
        let c = self.config().await;
        let s3 = aws_sdk_s3::config::Builder::from(&c).force_path_style(true).build();
        Storage {
            region: self.region.clone(),
            s3: aws_sdk_s3::Client::from_conf(s3),
            efs: aws_sdk_efs::Client::new(&c),
            ecr: aws_sdk_ecr::Client::new(&c),
            backup: aws_sdk_backup::Client::new(&c),
        }
    }
}

impl Storage {
    /// A bucket in this world's region.
    pub async fn bucket(&self, name: &str) {
        use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
        let mut req = self.s3.create_bucket().bucket(name);
        if self.region != "us-east-1" {
            let at = BucketLocationConstraint::from(self.region.as_str());
            req = req.create_bucket_configuration(CreateBucketConfiguration::builder().location_constraint(at).build());
        }
        req.send().await.expect("create bucket");
    }

    pub async fn object(&self, bucket: &str, key: &str, bytes: usize) {
        let body = aws_sdk_s3::primitives::ByteStream::from(vec![b'x'; bytes]);
        self.s3.put_object().bucket(bucket).key(key).body(body).send().await.expect("put object");
    }

    pub async fn versioning(&self, bucket: &str) {
        use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
        let on = VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build();
        self.s3.put_bucket_versioning().bucket(bucket).versioning_configuration(on).send().await.expect("versioning");
    }

    /// A lifecycle configuration of the given rules.
    pub async fn lifecycle(&self, bucket: &str, rules: Vec<aws_sdk_s3::types::LifecycleRule>) {
        use aws_sdk_s3::types::BucketLifecycleConfiguration;
        let config = BucketLifecycleConfiguration::builder().set_rules(Some(rules)).build().expect("lifecycle");
        self.s3
            .put_bucket_lifecycle_configuration()
            .bucket(bucket)
            .lifecycle_configuration(config)
            .send()
            .await
            .expect("put lifecycle");
    }

    /// A multipart upload of one `bytes`-byte part, never completed nor aborted.
    pub async fn incomplete_upload(&self, bucket: &str, key: &str, bytes: usize) -> String {
        let up = self.s3.create_multipart_upload().bucket(bucket).key(key).send().await.expect("create upload");
        let id = up.upload_id().expect("upload id").to_owned();
        let body = aws_sdk_s3::primitives::ByteStream::from(vec![b'x'; bytes]);
        self.s3
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(&id)
            .part_number(1)
            .body(body)
            .send()
            .await
            .expect("upload part");
        id
    }

    /// A file system: provisioned at `mibps`, or bursting. Returns its id.
    pub async fn file_system(&self, token: &str, mibps: Option<f64>) -> String {
        use aws_sdk_efs::types::ThroughputMode;
        let mode = if mibps.is_some() { ThroughputMode::Provisioned } else { ThroughputMode::Bursting };
        let out = self
            .efs
            .create_file_system()
            .creation_token(token)
            .throughput_mode(mode)
            .set_provisioned_throughput_in_mibps(mibps)
            .send()
            .await
            .expect("create file system");
        out.file_system_id().to_owned()
    }

    pub async fn repository(&self, name: &str) {
        self.ecr.create_repository().repository_name(name).send().await.expect("create repository");
    }

    /// An image whose manifest's config says `size` bytes (moto's imageSizeInBytes), tagged or
    /// not. Returns its digest.
    pub async fn image(&self, repository: &str, tag: Option<&str>, size: u64, layer: &str) -> String {
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": size, "digest": format!("sha256:{layer}0")},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": size, "digest": format!("sha256:{layer}")}],
        });
        let out = self
            .ecr
            .put_image()
            .repository_name(repository)
            .image_manifest(manifest.to_string())
            .set_image_tag(tag.map(str::to_owned))
            .send()
            .await
            .expect("put image");
        out.image().and_then(|i| i.image_id()).and_then(|i| i.image_digest()).expect("digest").to_owned()
    }

    pub async fn repository_lifecycle_policy(&self, repository: &str, text: &str) {
        self.ecr
            .put_lifecycle_policy()
            .repository_name(repository)
            .lifecycle_policy_text(text)
            .send()
            .await
            .expect("put lifecycle policy");
    }

    pub async fn backup_vault(&self, name: &str) {
        self.backup.create_backup_vault().backup_vault_name(name).send().await.expect("create backup vault");
    }
}
