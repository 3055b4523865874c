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
    /// moto tells accounts apart by access key: credentials from AssumeRole into a role of
    /// `account` act in `account`.
    pub async fn new(account: &str, region: &str) -> Self {
        let base = sdk_config().await;
        let sts = aws_sdk_sts::Client::new(&base);
        let out = sts
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
        let c = base
            .to_builder()
            .region(aws_config::Region::new(region.to_owned()))
            .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(creds))
            .build();
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
}
