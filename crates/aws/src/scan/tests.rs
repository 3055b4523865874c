//! The scan adapter against aws-smithy-mocks: sequences moto cannot produce (CloudWatch series,
//! Cost Optimization Hub pages, throttling, AccessDenied on one action).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput;
use aws_sdk_cloudwatch::types::{MetricDataResult, StatusCode};
use aws_sdk_ec2::error::ErrorMetadata;
use aws_sdk_ec2::primitives::DateTime as SmithyTime;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use chrono::{TimeZone, Utc};
use rust_decimal::Decimal;

use super::*;
use costradar_core::domain::settings::ScanSettings;
use costradar_core::rules::draft::Ctx;
use costradar_core::rules::{evaluate_region, facts::RegionInventory};
use costradar_core::scan::{keep_dependable, MetricsWindow};

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap()
}

fn days_ago(d: i64) -> SmithyTime {
    SmithyTime::from_secs((now() - chrono::Duration::days(d)).timestamp())
}

fn window() -> MetricsWindow {
    MetricsWindow { end: now(), days: 14, created_before: now() - chrono::Duration::days(14) }
}

macro_rules! client {
    ($crate_:ident, $rules:expr) => {{
        let rules: Vec<Rule> = $rules;
        mock_client!($crate_, RuleMode::MatchAny, &rules, |c| c.retry_config(
            $crate_::config::retry::RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(1))
        ))
    }};
}

/// Rules answering every listing with nothing, after the test's own rules.
fn ec2_rules(mut first: Vec<Rule>) -> Vec<Rule> {
    use aws_sdk_ec2::operation::*;
    use aws_sdk_ec2::Client as C;
    first.extend([
        mock!(C::describe_volumes).then_output(|| describe_volumes::DescribeVolumesOutput::builder().build()),
        mock!(C::describe_instances).then_output(|| describe_instances::DescribeInstancesOutput::builder().build()),
        mock!(C::describe_snapshots).then_output(|| describe_snapshots::DescribeSnapshotsOutput::builder().build()),
        mock!(C::describe_images).then_output(|| describe_images::DescribeImagesOutput::builder().build()),
        mock!(C::describe_addresses).then_output(|| describe_addresses::DescribeAddressesOutput::builder().build()),
        mock!(C::describe_nat_gateways)
            .then_output(|| describe_nat_gateways::DescribeNatGatewaysOutput::builder().build()),
        mock!(C::describe_vpc_endpoints)
            .then_output(|| describe_vpc_endpoints::DescribeVpcEndpointsOutput::builder().build()),
        mock!(C::describe_transit_gateway_attachments).then_output(|| {
            describe_transit_gateway_attachments::DescribeTransitGatewayAttachmentsOutput::builder().build()
        }),
    ]);
    first
}

fn clients(ec2: Vec<Rule>, rds: Vec<Rule>, cloudwatch: Vec<Rule>) -> RegionClients {
    serverless_clients(ec2, rds, cloudwatch, vec![], vec![])
}

/// [`clients`] with Lambda and DynamoDB rules too; every listing not given answers empty.
fn serverless_clients(
    ec2: Vec<Rule>,
    rds: Vec<Rule>,
    cloudwatch: Vec<Rule>,
    lambda: Vec<Rule>,
    dynamodb: Vec<Rule>,
) -> RegionClients {
    use aws_sdk_cloudwatch::operation::list_metrics::ListMetricsOutput;
    use aws_sdk_cloudwatchlogs::operation::describe_log_groups::DescribeLogGroupsOutput;
    use aws_sdk_dynamodb::operation::list_tables::ListTablesOutput;
    use aws_sdk_elasticloadbalancingv2::operation::describe_load_balancers::DescribeLoadBalancersOutput;
    use aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput;
    let (mut rds, mut cloudwatch, mut dynamodb) = (rds, cloudwatch, dynamodb);
    rds.push(
        mock!(aws_sdk_rds::Client::describe_db_instances).then_output(|| DescribeDbInstancesOutput::builder().build()),
    );
    cloudwatch
        .push(mock!(aws_sdk_cloudwatch::Client::list_metrics).then_output(|| ListMetricsOutput::builder().build()));
    cloudwatch.push(
        mock!(aws_sdk_cloudwatch::Client::describe_alarms)
            .then_output(|| aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput::builder().build()),
    );
    let zones = vec![mock!(aws_sdk_route53::Client::list_hosted_zones).then_output(|| {
        aws_sdk_route53::operation::list_hosted_zones::ListHostedZonesOutput::builder()
            .set_hosted_zones(Some(vec![]))
            .marker("")
            .is_truncated(false)
            .max_items(100)
            .build()
            .unwrap()
    })];
    dynamodb.push(mock!(aws_sdk_dynamodb::Client::list_tables).then_output(|| ListTablesOutput::builder().build()));
    let caches = vec![mock!(aws_sdk_elasticache::Client::describe_cache_clusters).then_output(|| {
        aws_sdk_elasticache::operation::describe_cache_clusters::DescribeCacheClustersOutput::builder().build()
    })];
    RegionClients {
        elasticache: client!(aws_sdk_elasticache, caches),
        lambda: client!(aws_sdk_lambda, lambda),
        dynamodb: client!(aws_sdk_dynamodb, dynamodb),
        ec2: client!(aws_sdk_ec2, ec2_rules(ec2)),
        elbv2: client!(
            aws_sdk_elasticloadbalancingv2,
            vec![mock!(aws_sdk_elasticloadbalancingv2::Client::describe_load_balancers)
                .then_output(|| DescribeLoadBalancersOutput::builder().build())]
        ),
        rds: client!(aws_sdk_rds, rds),
        logs: client!(
            aws_sdk_cloudwatchlogs,
            vec![mock!(aws_sdk_cloudwatchlogs::Client::describe_log_groups)
                .then_output(|| DescribeLogGroupsOutput::builder().build())]
        ),
        cloudwatch: client!(aws_sdk_cloudwatch, cloudwatch),
        s3: client!(aws_sdk_s3, storage_empty::s3()),
        efs: client!(aws_sdk_efs, storage_empty::efs()),
        ecr: client!(aws_sdk_ecr, storage_empty::ecr()),
        backup: client!(aws_sdk_backup, storage_empty::backup()),
        redshift: client!(aws_sdk_redshift, analytics_empty::redshift()),
        opensearch: client!(aws_sdk_opensearch, analytics_empty::opensearch()),
        eks: client!(aws_sdk_eks, analytics_empty::eks()),
        route53: client!(aws_sdk_route53, zones),
    }
}

fn running(id: &str, t: &str, launched_days_ago: i64) -> aws_sdk_ec2::types::Instance {
    use aws_sdk_ec2::types::*;
    Instance::builder()
        .instance_id(id)
        .instance_type(InstanceType::from(t))
        .state(InstanceState::builder().name(InstanceStateName::Running).build())
        .launch_time(days_ago(launched_days_ago))
        .placement(Placement::builder().tenancy(Tenancy::Default).build())
        .build()
}

fn instances(list: Vec<aws_sdk_ec2::types::Instance>) -> Rule {
    use aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput;
    use aws_sdk_ec2::types::Reservation;
    let list = Arc::new(list);
    mock!(aws_sdk_ec2::Client::describe_instances).then_output(move || {
        DescribeInstancesOutput::builder()
            .reservations(Reservation::builder().set_instances(Some(list.to_vec())).build())
            .build()
    })
}

/// Answers every query from `value(metric, dimension value)`.
fn metrics(
    value: impl Fn(&str, &str) -> Option<f64> + Send + Sync + 'static,
    calls: Arc<AtomicUsize>,
    max_batch: Arc<AtomicUsize>,
) -> Rule {
    mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_compute_output(move |input| {
        calls.fetch_add(1, Ordering::SeqCst);
        let queries = input.metric_data_queries();
        max_batch.fetch_max(queries.len(), Ordering::SeqCst);
        // A batch of more than 100 answers in two pages, as CloudWatch does when results are long.
        let (from, to, next) = match (queries.len() > 100, input.next_token()) {
            (true, None) => (0, 100, Some("page-2")),
            (true, Some(_)) => (100, queries.len(), None),
            (false, _) => (0, queries.len(), None),
        };
        let results = queries[from..to]
            .iter()
            .map(|q| {
                let stat = q.metric_stat().unwrap();
                let metric = stat.metric().unwrap();
                let dim = metric.dimensions()[0].value().unwrap();
                let v = value(metric.metric_name().unwrap(), dim);
                MetricDataResult::builder()
                    .id(q.id().unwrap())
                    .set_values(Some(v.into_iter().collect()))
                    .status_code(StatusCode::Complete)
                    .build()
            })
            .collect();
        GetMetricDataOutput::builder()
            .set_metric_data_results(Some(results))
            .set_next_token(next.map(Into::into))
            .build()
    })
}

fn evaluate(inv: &RegionInventory) -> Vec<costradar_core::rules::draft::Draft> {
    let snap = costradar_core::rules::testkit::rates();
    let book = costradar_core::rules::testkit::book(snap);
    let settings = ScanSettings::default();
    let ctx = Ctx { book: &book, settings: &settings, now: now(), account_id: "123456789012" };
    evaluate_region(&ctx, inv)
}

#[tokio::test]
async fn cloudwatch_series_find_idle_instances_nat_gateways_and_databases() {
    use aws_sdk_ec2::types::{NatGateway, NatGatewayAddress, NatGatewayState};
    let nat = mock!(aws_sdk_ec2::Client::describe_nat_gateways).then_output(|| {
        aws_sdk_ec2::operation::describe_nat_gateways::DescribeNatGatewaysOutput::builder()
            .nat_gateways(
                NatGateway::builder()
                    .nat_gateway_id("nat-idle")
                    .state(NatGatewayState::Available)
                    .create_time(days_ago(60))
                    .nat_gateway_addresses(NatGatewayAddress::builder().allocation_id("eipalloc-1").build())
                    .build(),
            )
            .nat_gateways(
                NatGateway::builder()
                    .nat_gateway_id("nat-busy")
                    .state(NatGatewayState::Available)
                    .create_time(days_ago(60))
                    .build(),
            )
            .build()
    });
    let db = |id: &str| {
        aws_sdk_rds::types::DbInstance::builder()
            .db_instance_identifier(id)
            .db_instance_arn(format!("arn:aws:rds:us-east-1:123456789012:db:{id}"))
            .db_instance_class("db.m5.large")
            .engine("postgres")
            .db_instance_status("available")
            .storage_type("gp3")
            .allocated_storage(100)
            .instance_create_time(days_ago(90))
            .build()
    };
    let dbs = mock!(aws_sdk_rds::Client::describe_db_instances).then_output(move || {
        aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput::builder()
            .db_instances(db("quiet"))
            .db_instances(db("used"))
            .build()
    });
    let (calls, max_batch) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let series = metrics(
        |metric, id| match (metric, id) {
            ("CPUUtilization", "i-idle") => Some(1.25),
            ("CPUUtilization", "i-busy") => Some(41.0),
            // i-new launched 3 days ago is never asked; i-nodata has no series.
            ("BytesInFromSource" | "BytesInFromDestination", "nat-idle") => Some(0.0),
            ("BytesInFromSource", "nat-busy") => Some(9.0e9),
            ("BytesInFromDestination", "nat-busy") => Some(1.0e9),
            ("DatabaseConnections", "quiet") => Some(0.0),
            ("DatabaseConnections", "used") => Some(12.0),
            _ => None,
        },
        calls.clone(),
        max_batch.clone(),
    );
    let c = clients(
        vec![
            instances(vec![
                running("i-idle", "m5.large", 60),
                running("i-busy", "m5.large", 60),
                running("i-new", "m5.large", 3),
                running("i-nodata", "m5.large", 60),
            ]),
            nat,
        ],
        vec![dbs],
        vec![series],
    );
    let scan = scan_region(&c, "123456789012", "us-east-1", &window()).await;
    assert!(scan.errors.is_empty(), "{:?}", scan.errors);
    assert_eq!(calls.load(Ordering::SeqCst), 1, "one GetMetricData for 3 CPU + 4 NAT + 2 RDS queries");
    let inv = &scan.inventory;
    let cpu = |id: &str| inv.instances.iter().find(|i| i.id == id).unwrap().cpu_p95_percent;
    assert_eq!(cpu("i-idle"), Some(Decimal::new(125, 2)));
    assert_eq!(cpu("i-new"), None);
    assert_eq!(cpu("i-nodata"), None);
    assert_eq!(inv.nat_gateways[0].bytes_processed, Some(0));
    assert_eq!(inv.nat_gateways[1].bytes_processed, Some(10_000_000_000));

    let drafts = evaluate(inv);
    let idle: Vec<(&str, &str, Option<Decimal>)> = drafts
        .iter()
        .filter(|d| d.rule.ends_with(".idle") || d.rule.ends_with("idle-instance"))
        .map(|d| (d.rule.as_str(), d.resource_id.as_str(), d.monthly_savings_usd))
        .collect();
    let d = |s: &str| Some(s.parse::<Decimal>().unwrap());
    assert_eq!(
        idle,
        vec![
            // m5.large $0.096/h × 730
            ("ec2.idle-instance", "i-idle", d("70.08")),
            // 0.045 × 730 + its address 0.005 × 730
            ("nat.idle", "nat-idle", d("36.5")),
            // db.m5.large postgres $0.178/h × 730
            ("rds.idle", "arn:aws:rds:us-east-1:123456789012:db:quiet", d("129.94")),
        ]
    );
}

#[tokio::test]
async fn metric_queries_are_batched_at_500_and_paginated() {
    let many: Vec<_> = (0..600).map(|i| running(&format!("i-{i:04}"), "t3.micro", 60)).collect();
    let (calls, max_batch) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let series = metrics(|_, _| Some(0.5), calls.clone(), max_batch.clone());
    let c = clients(vec![instances(many)], vec![], vec![series]);
    let scan = scan_region(&c, "123456789012", "us-east-1", &window()).await;
    assert!(scan.errors.is_empty());
    assert_eq!(max_batch.load(Ordering::SeqCst), 500);
    // 500 in two pages, then 100 in one.
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert!(scan.inventory.instances.iter().all(|i| i.cpu_p95_percent == Some(Decimal::new(5, 1))));
    // 6 EC2 listings + ELB + RDS + Logs + CloudWatch ListMetrics (Lambda) + DynamoDB ListTables
    // + ElastiCache DescribeCacheClusters + 3 GetMetricData pages.
    // + network family: DescribeAlarms, DescribeVpcEndpoints, DescribeTransitGatewayAttachments,
    // ListHostedZones (us-east-1 only; no endpoint, so no ListMetrics of theirs).
    // + storage family: ListBuckets, DescribeFileSystems, DescribeRepositories, ListBackupVaults.
    // + analytics family: Redshift DescribeClusters, OpenSearch ListDomainNames, EKS ListClusters.
    assert_eq!(scan.api_calls, 15 + 4 + 4 + 3);
}

fn error<E: aws_sdk_ec2::error::ProvideErrorMetadata>(code: &str, make: impl Fn(ErrorMetadata) -> E) -> E {
    make(ErrorMetadata::builder().code(code).message(format!("{code} (mocked)")).build())
}

#[tokio::test]
async fn throttling_is_retried_and_a_persistent_one_is_recorded() {
    use aws_sdk_ec2::operation::describe_snapshots::DescribeSnapshotsError;
    use aws_sdk_ec2::operation::describe_volumes::{DescribeVolumesError, DescribeVolumesOutput};
    let volumes = mock!(aws_sdk_ec2::Client::describe_volumes)
        .sequence()
        .error(|| error("RequestLimitExceeded", DescribeVolumesError::generic))
        .times(2)
        .output(|| {
            DescribeVolumesOutput::builder()
                .volumes(
                    aws_sdk_ec2::types::Volume::builder()
                        .volume_id("vol-1")
                        .volume_type(aws_sdk_ec2::types::VolumeType::Gp3)
                        .size(10)
                        .state(aws_sdk_ec2::types::VolumeState::Available)
                        .create_time(days_ago(30))
                        .build(),
                )
                .build()
        })
        .build();
    let snapshots = mock!(aws_sdk_ec2::Client::describe_snapshots)
        .then_error(|| error("RequestLimitExceeded", DescribeSnapshotsError::generic));
    let vols = volumes.clone();
    let c = clients(vec![volumes, snapshots.clone()], vec![], vec![]);
    let scan = scan_region(&c, "123456789012", "us-east-1", &window()).await;
    assert_eq!(vols.num_calls(), 3, "two throttled attempts, then the answer");
    assert!(scan.listed.volumes);
    assert_eq!(scan.inventory.volumes.len(), 1);
    assert_eq!(snapshots.num_calls(), 3, "retried up to the attempt limit");
    assert!(!scan.listed.snapshots);
    assert_eq!(scan.errors.len(), 1);
    assert_eq!(
        (scan.errors[0].action.as_str(), scan.errors[0].code.as_str()),
        ("ec2:DescribeSnapshots", "RequestLimitExceeded")
    );
}

#[tokio::test]
async fn access_denied_on_one_action_is_recorded_and_the_region_continues() {
    use aws_sdk_ec2::operation::describe_addresses::DescribeAddressesOutput;
    use aws_sdk_ec2::operation::describe_nat_gateways::DescribeNatGatewaysError;
    use aws_sdk_rds::operation::describe_db_instances::DescribeDBInstancesError;
    let nat_denied = mock!(aws_sdk_ec2::Client::describe_nat_gateways)
        .then_error(|| error("UnauthorizedOperation", DescribeNatGatewaysError::generic));
    // An address that only the NAT gateway listing would show to be in use.
    let addresses = mock!(aws_sdk_ec2::Client::describe_addresses).then_output(|| {
        DescribeAddressesOutput::builder()
            .addresses(
                aws_sdk_ec2::types::Address::builder().allocation_id("eipalloc-nat").public_ip("198.51.100.9").build(),
            )
            .build()
    });
    let rds_denied = mock!(aws_sdk_rds::Client::describe_db_instances).then_error(|| {
        DescribeDBInstancesError::generic(
            aws_sdk_rds::error::ErrorMetadata::builder().code("AccessDenied").message("not authorized").build(),
        )
    });
    let c = clients(vec![nat_denied.clone(), addresses], vec![rds_denied.clone()], vec![]);
    let scan = scan_region(&c, "123456789012", "eu-west-1", &window()).await;
    assert_eq!(nat_denied.num_calls(), 1, "AccessDenied is not retried");
    let mut denied: Vec<(&str, &str)> = scan.errors.iter().map(|e| (e.action.as_str(), e.code.as_str())).collect();
    denied.sort();
    assert_eq!(
        denied,
        [("ec2:DescribeNatGateways", "UnauthorizedOperation"), ("rds:DescribeDBInstances", "AccessDenied")]
    );
    assert!(scan.errors.iter().all(|e| e.is_access_denied()));
    assert!(scan.listed.volumes && scan.listed.addresses && !scan.listed.nat_gateways && !scan.listed.db_instances);
    // Without the NAT gateways the address's use is unknown: it is not called idle.
    let mut inv = scan.inventory.clone();
    keep_dependable(&mut inv, &scan.listed);
    assert!(evaluate(&inv).is_empty(), "no false positive from a denied listing");
}

#[tokio::test]
async fn cost_optimization_hub_is_read_across_pages() {
    use aws_sdk_costoptimizationhub::operation::list_recommendations::ListRecommendationsOutput;
    use aws_sdk_costoptimizationhub::types::Recommendation as Rec;
    let rec = |id: &str, resource: &str, action: &str, saving: f64| {
        Rec::builder()
            .recommendation_id(id)
            .account_id("123456789012")
            .region("us-east-1")
            .resource_id(resource)
            .action_type(action)
            .currency_code("USD")
            .estimated_monthly_savings(saving)
            .estimated_monthly_cost(saving * 2.0)
            .recommendation_lookback_period_in_days(14)
            .build()
    };
    let pages = mock!(aws_sdk_costoptimizationhub::Client::list_recommendations).then_compute_output(move |input| {
        match input.next_token() {
            None => ListRecommendationsOutput::builder()
                .items(rec("r1", "i-0abc", "Rightsize", 140.16))
                .items(rec("r2", "vol-1", "Delete", 8.0))
                .next_token("2")
                .build(),
            Some(_) => ListRecommendationsOutput::builder()
                .items(rec("r3", "arn:aws:savingsplans", "PurchaseSavingsPlans", 1000.0))
                // Another account's (a management account sees its members'): not ours.
                .items(
                    Rec::builder()
                        .recommendation_id("r4")
                        .account_id("999999999999")
                        .region("us-east-1")
                        .resource_id("i-x")
                        .action_type("Stop")
                        .estimated_monthly_savings(5.0)
                        .build(),
                )
                .build(),
        }
    });
    let c = client!(aws_sdk_costoptimizationhub, vec![pages.clone()]);
    let out = coh::list(&c, "123456789012").await;
    assert_eq!(pages.num_calls(), 2);
    assert_eq!(out.api_calls, 2);
    let recs = out.value.unwrap();
    let ids: Vec<&str> = recs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["r1", "r2", "r3"]);
    assert_eq!(recs[0].monthly_savings_usd, "140.16".parse().unwrap());
    // Throttled for good: an error with its action, no value.
    let throttled = mock!(aws_sdk_costoptimizationhub::Client::list_recommendations).then_error(|| {
        aws_sdk_costoptimizationhub::operation::list_recommendations::ListRecommendationsError::generic(
            aws_sdk_costoptimizationhub::error::ErrorMetadata::builder().code("ThrottlingException").build(),
        )
    });
    let c = client!(aws_sdk_costoptimizationhub, vec![throttled]);
    let out = coh::list(&c, "123456789012").await;
    assert!(out.value.is_none());
    assert_eq!(out.errors[0].action, "cost-optimization-hub:ListRecommendations");
    assert_eq!(out.errors[0].code, "ThrottlingException");
}

#[tokio::test]
async fn regions_fall_back_to_describe_regions() {
    use aws_sdk_account::operation::list_regions::{ListRegionsError, ListRegionsOutput};
    use aws_sdk_ec2::operation::describe_regions::DescribeRegionsOutput;
    let described = || {
        mock!(aws_sdk_ec2::Client::describe_regions).then_output(|| {
            DescribeRegionsOutput::builder()
                .regions(aws_sdk_ec2::types::Region::builder().region_name("us-east-1").build())
                .regions(aws_sdk_ec2::types::Region::builder().region_name("eu-west-1").build())
                .build()
        })
    };
    // ListRegions answers: used as is (GovCloud and China names are dropped).
    let listed = mock!(aws_sdk_account::Client::list_regions).then_output(|| {
        ListRegionsOutput::builder()
            .regions(aws_sdk_account::types::Region::builder().region_name("ap-south-2").build())
            .regions(aws_sdk_account::types::Region::builder().region_name("cn-north-1").build())
            .build()
    });
    let out = regions::enabled(&client!(aws_sdk_account, vec![listed]), &client!(aws_sdk_ec2, vec![described()])).await;
    assert_eq!(out.value.unwrap(), ["ap-south-2"]);
    // Denied: DescribeRegions answers, and the missing permission is recorded.
    let denied = mock!(aws_sdk_account::Client::list_regions).then_error(|| {
        ListRegionsError::generic(
            aws_sdk_account::error::ErrorMetadata::builder().code("AccessDeniedException").build(),
        )
    });
    let out = regions::enabled(&client!(aws_sdk_account, vec![denied]), &client!(aws_sdk_ec2, vec![described()])).await;
    assert_eq!(out.value.unwrap(), ["eu-west-1", "us-east-1"]);
    assert_eq!(out.errors.len(), 1);
    assert_eq!(out.errors[0].action, "account:ListRegions");
    assert_eq!(out.api_calls, 2);
}

/// Every action the scanners name is in the scan's session policy and the customer role (the
/// permission table): a call outside it would be denied in every account.
#[test]
fn every_action_the_scanners_call_is_in_the_scan_permissions() {
    // Every scanner file, family folders included, so that a new one is checked without being
    // listed here.
    let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/scan")];
    let mut sources = Vec::new();
    while let Some(dir) = dirs.pop() {
        for p in std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()) {
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") && !p.to_string_lossy().ends_with("tests.rs") {
                sources.push(std::fs::read_to_string(p).unwrap());
            }
        }
    }
    assert!(sources.len() >= 25, "{} scanner files", sources.len());
    let allowed = costradar_core::access::permissions::actions_for(costradar_core::access::permissions::Task::Scan);
    let mut named = std::collections::BTreeSet::new();
    for src in sources {
        // Every `"service:Action"` literal, wherever it starts (comments may hold quotes too).
        for (i, _) in src.match_indices('"') {
            let rest = &src[i + 1..];
            let Some(end) = rest.find('"') else { continue };
            let quoted = &rest[..end];
            let Some((service, action)) = quoted.split_once(':') else { continue };
            let service_ok = !service.is_empty()
                && service.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            let action_ok = action.starts_with(|c: char| c.is_ascii_uppercase())
                && action.bytes().all(|b| b.is_ascii_alphanumeric());
            if service_ok && action_ok {
                named.insert(quoted.to_owned());
            }
        }
    }
    assert!(named.len() >= 50, "{named:?}");
    for a in &named {
        assert!(allowed.contains(&a.as_str()), "{a} is called but not in the scan's permissions");
    }
}

fn lambda_metric(function: &str, resource: Option<&str>) -> aws_sdk_cloudwatch::types::Metric {
    use aws_sdk_cloudwatch::types::{Dimension, Metric};
    let mut m = Metric::builder()
        .namespace("AWS/Lambda")
        .metric_name(lambda::UTILIZATION)
        .dimensions(Dimension::builder().name("FunctionName").value(function).build());
    if let Some(r) = resource {
        m = m.dimensions(Dimension::builder().name("Resource").value(r).build());
    }
    m.build()
}

#[tokio::test]
async fn provisioned_concurrency_is_found_through_its_metrics_and_measured() {
    use aws_sdk_cloudwatch::operation::list_metrics::ListMetricsOutput;
    use aws_sdk_lambda::operation::list_provisioned_concurrency_configs::{
        ListProvisionedConcurrencyConfigsError, ListProvisionedConcurrencyConfigsOutput,
    };
    use aws_sdk_lambda::types::{ProvisionedConcurrencyConfigListItem as Item, ProvisionedConcurrencyStatusEnum};
    let listed = mock!(aws_sdk_cloudwatch::Client::list_metrics).then_output(|| {
        ListMetricsOutput::builder()
            .metrics(lambda_metric("checkout", Some("checkout:live")))
            // The function-wide aggregate names no alias: not a configuration.
            .metrics(lambda_metric("checkout", None))
            .metrics(lambda_metric("search", Some("search:prod")))
            .metrics(lambda_metric("gone", Some("gone:live")))
            .build()
    });
    let item = |f: &str, q: &str, n: i32, days: i64| {
        let at = (now() - chrono::Duration::days(days)).format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string();
        Item::builder()
            .function_arn(format!("arn:aws:lambda:us-east-1:123456789012:function:{f}:{q}"))
            .allocated_provisioned_concurrent_executions(n)
            .requested_provisioned_concurrent_executions(n)
            .available_provisioned_concurrent_executions(n)
            .status(ProvisionedConcurrencyStatusEnum::Ready)
            .last_modified(at)
            .build()
    };
    let configs = mock!(aws_sdk_lambda::Client::list_provisioned_concurrency_configs)
        .match_requests(|r| r.function_name() != Some("gone"))
        .then_compute_output(move |r| {
            let b = ListProvisionedConcurrencyConfigsOutput::builder();
            match r.function_name() {
                // live has run for two months; canary was configured two days ago.
                Some("checkout") => b
                    .provisioned_concurrency_configs(item("checkout", "live", 100, 60))
                    .provisioned_concurrency_configs(item("checkout", "canary", 5, 2)),
                _ => b.provisioned_concurrency_configs(item("search", "prod", 10, 90)),
            }
            .build()
        });
    let gone = mock!(aws_sdk_lambda::Client::list_provisioned_concurrency_configs)
        .match_requests(|r| r.function_name() == Some("gone"))
        .then_error(|| {
            ListProvisionedConcurrencyConfigsError::generic(
                aws_sdk_lambda::error::ErrorMetadata::builder().code("ResourceNotFoundException").build(),
            )
        });
    let (calls, max_batch) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let series = metrics(
        |metric, function| match (metric, function) {
            ("ProvisionedConcurrencyUtilization", "checkout") => Some(0.14),
            ("ProvisionedConcurrencyUtilization", "search") => Some(0.9),
            _ => None,
        },
        calls.clone(),
        max_batch.clone(),
    );
    let c = serverless_clients(vec![], vec![], vec![listed, series], vec![configs, gone.clone()], vec![]);
    let scan = scan_region(&c, "123456789012", "us-east-1", &window()).await;
    assert!(scan.errors.is_empty(), "a function deleted meanwhile is no error: {:?}", scan.errors);
    assert_eq!(gone.num_calls(), 1);
    let pcs = &scan.inventory.provisioned_concurrency;
    let peak = |q: &str| pcs.iter().find(|p| p.qualifier == q).unwrap().peak_utilization;
    assert_eq!(pcs.len(), 3);
    assert_eq!(peak("live"), Some(Decimal::new(14, 2)));
    assert_eq!(peak("prod"), Some(Decimal::new(9, 1)));
    assert_eq!(peak("canary"), None, "configured inside the window: not asked");
    assert_eq!(max_batch.load(Ordering::SeqCst), 2);
    let drafts = evaluate(&scan.inventory);
    let found: Vec<(&str, &str)> = drafts.iter().map(|d| (d.rule.as_str(), d.resource_id.as_str())).collect();
    assert_eq!(
        found,
        [("lambda.provisioned-concurrency-unused", "arn:aws:lambda:us-east-1:123456789012:function:checkout:live")]
    );
    assert_eq!(drafts[0].monthly_savings_usd, None, "memory unknown: no amount");
    assert!(drafts[0].fix_command.contains("--provisioned-concurrent-executions 20"), "{}", drafts[0].fix_command);
}

#[tokio::test]
async fn dynamodb_tables_are_described_and_their_consumption_read_as_five_minute_sums() {
    use aws_sdk_dynamodb::operation::describe_table::DescribeTableOutput;
    use aws_sdk_dynamodb::operation::list_tables::ListTablesOutput;
    use aws_sdk_dynamodb::types::{
        BillingMode, BillingModeSummary, ProvisionedThroughputDescription, TableDescription, TableStatus,
    };
    let list = mock!(aws_sdk_dynamodb::Client::list_tables).then_output(|| {
        ListTablesOutput::builder()
            .set_table_names(Some(["orders", "sessions", "archive", "fresh"].map(String::from).to_vec()))
            .build()
    });
    let describe = mock!(aws_sdk_dynamodb::Client::describe_table).then_compute_output(|r| {
        let name = r.table_name().unwrap().to_owned();
        let (mode, rcu, wcu, age) = match name.as_str() {
            "orders" => (BillingMode::Provisioned, 1000, 100, 200),
            "sessions" => (BillingMode::PayPerRequest, 0, 0, 200),
            "archive" => (BillingMode::Provisioned, 5, 5, 400),
            _ => (BillingMode::Provisioned, 1000, 1000, 3),
        };
        let t = TableDescription::builder()
            .table_arn(format!("arn:aws:dynamodb:us-east-1:123456789012:table/{name}"))
            .table_name(name)
            .table_status(TableStatus::Active)
            .creation_date_time(days_ago(age))
            .billing_mode_summary(BillingModeSummary::builder().billing_mode(mode).build())
            .provisioned_throughput(
                ProvisionedThroughputDescription::builder().read_capacity_units(rcu).write_capacity_units(wcu).build(),
            )
            .table_size_bytes(2 << 30)
            .build();
        DescribeTableOutput::builder().table(t).build()
    });
    let (calls, max_batch) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let series = metrics(
        |metric, table| match (metric, table) {
            // One 5-minute sum each: orders peaks at 7 reads/s and 40 writes/s.
            ("ConsumedReadCapacityUnits", "orders") => Some(2100.0),
            ("ConsumedWriteCapacityUnits", "orders") => Some(12000.0),
            ("ConsumedReadCapacityUnits", "sessions") => Some(300.0),
            ("ConsumedWriteCapacityUnits", "sessions") => Some(30.0),
            (_, "archive") => Some(0.0),
            _ => None,
        },
        calls.clone(),
        max_batch.clone(),
    );
    let c = serverless_clients(vec![], vec![], vec![series], vec![], vec![list, describe.clone()]);
    let scan = scan_region(&c, "123456789012", "us-east-1", &window()).await;
    assert!(scan.errors.is_empty(), "{:?}", scan.errors);
    assert_eq!(describe.num_calls(), 4);
    assert_eq!(max_batch.load(Ordering::SeqCst), 6, "reads and writes of the three tables older than the window");
    let orders = scan.inventory.dynamo_tables.iter().find(|t| t.name == "orders").unwrap();
    assert_eq!(orders.reads.map(|c| (c.total, c.peak_per_second)), Some((Decimal::from(2100), Decimal::from(7))));
    let drafts = evaluate(&scan.inventory);
    let mut found: Vec<(&str, &str, Option<Decimal>)> = drafts
        .iter()
        .map(|d| (d.rule.as_str(), d.resource_id.as_str(), d.monthly_savings_usd.map(|s| s.round_dp(2))))
        .collect();
    found.sort();
    let arn = |t: &str| format!("arn:aws:dynamodb:us-east-1:123456789012:table/{t}");
    let d = |s: &str| Some(s.parse::<Decimal>().unwrap());
    assert_eq!(
        found,
        [
            // (1000 − 10) RCU × $0.00013 × 730; writes: 100 ≤ 2 × ⌈40 ÷ 0.7⌉
            ("dynamodb.overprovisioned-capacity", arn("orders").as_str(), d("93.95")),
            // (5 × 0.00013 + 5 × 0.00065) × 730 + 2 GiB × $0.25
            ("dynamodb.unused-table", arn("archive").as_str(), d("3.35")),
        ]
    );
}

/// GetMetricData answering no series.
fn no_series() -> Rule {
    metrics(|_, _| None, Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)))
}

#[tokio::test]
async fn auto_assigned_public_ipv4_addresses_are_told_from_elastic_ips() {
    use aws_sdk_ec2::operation::describe_addresses::DescribeAddressesOutput;
    use aws_sdk_ec2::types::{Address, InstanceNetworkInterface, InstanceNetworkInterfaceAttachment};
    let with_ip = |id: &str, ip: &str, eni: &str| {
        let mut i = running(id, "m5.large", 60);
        i.public_ip_address = Some(ip.into());
        i.network_interfaces = Some(vec![InstanceNetworkInterface::builder()
            .network_interface_id(eni)
            .attachment(InstanceNetworkInterfaceAttachment::builder().device_index(0).build())
            .build()]);
        i
    };
    let addresses = mock!(aws_sdk_ec2::Client::describe_addresses).then_output(|| {
        DescribeAddressesOutput::builder()
            .addresses(
                Address::builder()
                    .allocation_id("eipalloc-1")
                    .public_ip("203.0.113.9")
                    .association_id("eipassoc-1")
                    .instance_id("i-eip")
                    .build(),
            )
            .build()
    });
    let c = clients(
        vec![
            instances(vec![
                with_ip("i-auto", "198.51.100.1", "eni-auto"),
                with_ip("i-eip", "203.0.113.9", "eni-eip"),
                running("i-private", "m5.large", 60),
            ]),
            addresses,
        ],
        vec![],
        vec![no_series()],
    );
    let scan = scan_region(&c, "123456789012", "us-east-1", &window()).await;
    assert!(scan.errors.is_empty(), "{:?}", scan.errors);
    let auto = scan.inventory.instances.iter().find(|i| i.id == "i-auto").unwrap();
    assert_eq!(auto.public_ip.as_ref().and_then(|p| p.network_interface_id.as_deref()), Some("eni-auto"));
    let drafts = evaluate(&scan.inventory);
    let found: Vec<(&str, Option<Decimal>)> = drafts
        .iter()
        .filter(|d| d.rule == "ec2.public-ipv4")
        .map(|d| (d.resource_id.as_str(), d.monthly_savings_usd))
        .collect();
    // $0.005 × 730.
    assert_eq!(found, [("eni-auto", Some(Decimal::new(3650, 3)))]);
}

#[tokio::test]
async fn a_storage_heavy_standard_table_is_pointed_at_standard_ia() {
    use aws_sdk_dynamodb::operation::describe_table::DescribeTableOutput;
    use aws_sdk_dynamodb::operation::list_tables::ListTablesOutput;
    use aws_sdk_dynamodb::types::{
        BillingMode, BillingModeSummary, ProvisionedThroughputDescription, TableClass, TableClassSummary,
        TableDescription, TableStatus,
    };
    let list = mock!(aws_sdk_dynamodb::Client::list_tables).then_output(|| {
        ListTablesOutput::builder().set_table_names(Some(["history", "archived"].map(String::from).to_vec())).build()
    });
    let describe = mock!(aws_sdk_dynamodb::Client::describe_table).then_compute_output(|r| {
        let name = r.table_name().unwrap().to_owned();
        let mut t = TableDescription::builder()
            .table_arn(format!("arn:aws:dynamodb:us-east-1:123456789012:table/{name}"))
            .table_status(TableStatus::Active)
            .creation_date_time(days_ago(400))
            .billing_mode_summary(BillingModeSummary::builder().billing_mode(BillingMode::Provisioned).build())
            .provisioned_throughput(
                ProvisionedThroughputDescription::builder().read_capacity_units(5).write_capacity_units(5).build(),
            )
            .table_size_bytes(200 << 30);
        if name == "archived" {
            t = t.table_class_summary(
                TableClassSummary::builder().table_class(TableClass::StandardInfrequentAccess).build(),
            );
        }
        DescribeTableOutput::builder().table(t.table_name(name).build()).build()
    });
    let c = serverless_clients(vec![], vec![], vec![no_series()], vec![], vec![list, describe]);
    let scan = scan_region(&c, "123456789012", "us-east-1", &window()).await;
    assert!(scan.errors.is_empty(), "{:?}", scan.errors);
    let drafts = evaluate(&scan.inventory);
    let found: Vec<(&str, Option<Decimal>, Option<Decimal>)> = drafts
        .iter()
        .filter(|d| d.rule == "dynamodb.standard-ia")
        .map(|d| {
            (
                d.resource_id.rsplit('/').next().unwrap(),
                d.monthly_cost_usd.map(|c| c.round_dp(2)),
                d.monthly_savings_usd,
            )
        })
        .collect();
    // 200 GiB × $0.25 + (5 × $0.00013 + 5 × $0.00065) × 730; no Standard-IA throughput rates in
    // the bundled book, so no saving; the Standard-IA table is not flagged.
    assert_eq!(found, [("history", Some(Decimal::new(5285, 2)), None)]);
}

/// The network family's answers: instances, interface endpoints, Transit Gateway attachments,
/// alarms and hosted zones, each with waste and its trap.
mod network_family {
    use aws_sdk_cloudwatch::types::{Dimension, MetricAlarm, StateValue};
    use aws_sdk_ec2::types::{TransitGatewayAttachment, TransitGatewayAttachmentResourceType as Kind, VpcEndpoint};

    use super::*;

    pub fn endpoints() -> Rule {
        use aws_sdk_ec2::operation::describe_vpc_endpoints::DescribeVpcEndpointsOutput;
        let endpoint = |id: &str, subnets: &[&str]| {
            VpcEndpoint::builder()
                .vpc_endpoint_id(id)
                .vpc_endpoint_type(aws_sdk_ec2::types::VpcEndpointType::Interface)
                .vpc_id("vpc-1")
                .service_name("com.amazonaws.us-east-1.ssm")
                .state(aws_sdk_ec2::types::State::from("available"))
                .creation_timestamp(days_ago(60))
                .set_subnet_ids(Some(subnets.iter().map(|s| s.to_string()).collect()))
                .build()
        };
        mock!(aws_sdk_ec2::Client::describe_vpc_endpoints).then_output(move || {
            DescribeVpcEndpointsOutput::builder()
                .vpc_endpoints(endpoint("vpce-idle", &["subnet-a", "subnet-b"]))
                .vpc_endpoints(endpoint("vpce-busy", &["subnet-a"]))
                .build()
        })
    }

    pub fn attachments() -> Rule {
        use aws_sdk_ec2::operation::describe_transit_gateway_attachments::DescribeTransitGatewayAttachmentsOutput;
        let attachment = |id: &str, tgw: &str| {
            TransitGatewayAttachment::builder()
                .transit_gateway_attachment_id(id)
                .transit_gateway_id(tgw)
                .resource_type(Kind::Vpc)
                .resource_id("vpc-1")
                .resource_owner_id("123456789012")
                .transit_gateway_owner_id("999999999999")
                .state(aws_sdk_ec2::types::TransitGatewayAttachmentState::Available)
                .creation_time(days_ago(60))
                .build()
        };
        mock!(aws_sdk_ec2::Client::describe_transit_gateway_attachments).then_output(move || {
            DescribeTransitGatewayAttachmentsOutput::builder()
                .transit_gateway_attachments(attachment("tgw-attach-idle", "tgw-quiet"))
                .transit_gateway_attachments(attachment("tgw-attach-busy", "tgw-busy"))
                .build()
        })
    }

    pub fn alarms() -> Rule {
        use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
        let alarm = |name: &str, state: StateValue, since: i64, instance: &str| {
            MetricAlarm::builder()
                .alarm_name(name)
                .alarm_arn(format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"))
                .state_value(state)
                .state_updated_timestamp(days_ago(since))
                .alarm_configuration_updated_timestamp(days_ago(since + 5))
                .namespace("AWS/EC2")
                .metric_name("CPUUtilization")
                .dimensions(Dimension::builder().name("InstanceId").value(instance).build())
                .period(300)
                .build()
        };
        let mut scaling = alarm("TargetTracking-web-AlarmLow", StateValue::InsufficientData, 30, "i-gone");
        scaling.alarm_actions = Some(vec!["arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:p".into()]);
        let all = vec![
            alarm("cpu-gone", StateValue::Ok, 2, "i-gone"),
            alarm("cpu-live", StateValue::Ok, 2, "i-live"),
            alarm("cpu-live-quiet", StateValue::InsufficientData, 30, "i-live"),
            scaling,
        ];
        mock!(aws_sdk_cloudwatch::Client::describe_alarms)
            .then_output(move || DescribeAlarmsOutput::builder().set_metric_alarms(Some(all.clone())).build())
    }

    /// ListMetrics of AWS/PrivateLinkEndpoints: a series for `vpce-busy` only.
    pub fn endpoint_series() -> Rule {
        use aws_sdk_cloudwatch::operation::list_metrics::ListMetricsOutput;
        mock!(aws_sdk_cloudwatch::Client::list_metrics)
            .match_requests(|r| r.namespace() == Some("AWS/PrivateLinkEndpoints"))
            .then_output(|| {
                let metric = aws_sdk_cloudwatch::types::Metric::builder()
                    .namespace("AWS/PrivateLinkEndpoints")
                    .metric_name("BytesProcessed")
                    .dimensions(Dimension::builder().name("VPC Endpoint Id").value("vpce-busy").build())
                    .dimensions(Dimension::builder().name("Subnet Id").value("subnet-a").build())
                    .build();
                ListMetricsOutput::builder().metrics(metric).build()
            })
    }

    pub fn zones() -> (Rule, Rule) {
        use aws_sdk_route53::operation::get_hosted_zone::GetHostedZoneOutput;
        use aws_sdk_route53::operation::list_hosted_zones::ListHostedZonesOutput;
        use aws_sdk_route53::types::{HostedZone, HostedZoneConfig, LinkedService, Vpc};
        let zone = |id: &str, private: bool, records: i64| {
            HostedZone::builder()
                .id(format!("/hostedzone/{id}"))
                .name(format!("{}.example.com.", id.to_lowercase()))
                .caller_reference(id)
                .config(HostedZoneConfig::builder().private_zone(private).build())
                .resource_record_set_count(records)
                .build()
                .unwrap()
        };
        let mut cloud_map = zone("ZMAP", true, 2);
        cloud_map.linked_service =
            Some(LinkedService::builder().service_principal("servicediscovery.amazonaws.com").build());
        let all = vec![
            zone("ZEMPTY", false, 2),
            zone("ZBUSY", false, 9),
            zone("ZORPHAN", true, 5),
            zone("ZUSED", true, 4),
            cloud_map,
        ];
        let list = mock!(aws_sdk_route53::Client::list_hosted_zones).then_output(move || {
            ListHostedZonesOutput::builder()
                .set_hosted_zones(Some(all.clone()))
                .marker("")
                .is_truncated(false)
                .max_items(100)
                .build()
                .unwrap()
        });
        let get = mock!(aws_sdk_route53::Client::get_hosted_zone).then_compute_output(|input| {
            let id = input.id().unwrap_or_default();
            let vpcs = if id == "ZUSED" { vec![Vpc::builder().vpc_id("vpc-1").build()] } else { vec![] };
            GetHostedZoneOutput::builder().set_vpcs(Some(vpcs)).build()
        });
        (list, get)
    }
}

/// Which scan rules of the network family flag what, after the scan's own dependency checks.
fn network_findings(scan: &costradar_core::scan::RegionScan) -> Vec<(String, String)> {
    let mut inv = scan.inventory.clone();
    keep_dependable(&mut inv, &scan.listed);
    let mut out: Vec<(String, String)> = evaluate(&inv)
        .into_iter()
        .filter(|d| ["cloudwatch.", "vpc.", "route53."].iter().any(|p| d.rule.starts_with(p)))
        .map(|d| (d.rule, d.resource_id))
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn the_network_family_finds_dead_alarms_idle_endpoints_and_attachments_and_empty_zones() {
    let series = metrics(
        |metric, dim| match (metric, dim) {
            ("BytesProcessed", "vpce-busy") => Some(5e6),
            ("BytesIn" | "BytesOut", "tgw-quiet") => Some(0.0),
            ("BytesIn", "tgw-busy") => Some(2048.0),
            ("BytesOut", "tgw-busy") => Some(0.0),
            ("CPUUtilization", _) => Some(40.0),
            _ => None,
        },
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let ec2 = vec![
        instances(vec![running("i-live", "m5.large", 60)]),
        network_family::endpoints(),
        network_family::attachments(),
    ];
    let cw = vec![network_family::alarms(), network_family::endpoint_series(), series];
    let mut c = clients(ec2, vec![], cw);
    let (list, get) = network_family::zones();
    c.route53 = client!(aws_sdk_route53, vec![list, get.clone()]);
    let scan = scan_region(&c, "123456789012", "us-east-1", &window()).await;
    assert!(scan.errors.is_empty(), "{:?}", scan.errors);
    assert_eq!(get.num_calls(), 2, "GetHostedZone for the private zones no service manages");
    let inv = &scan.inventory;
    let idle = inv.vpc_endpoints.iter().find(|e| e.id == "vpce-idle").unwrap();
    assert_eq!((idle.traffic_series, idle.bytes_processed), (Some(false), None));
    let busy = inv.vpc_endpoints.iter().find(|e| e.id == "vpce-busy").unwrap();
    assert_eq!((busy.traffic_series, busy.bytes_processed), (Some(true), Some(5_000_000)));
    let arn = |n: &str| format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:{n}");
    let want = [
        ("cloudwatch.alarm-on-deleted-resource", arn("cpu-gone")),
        ("cloudwatch.insufficient-data-alarm", arn("cpu-live-quiet")),
        ("route53.empty-hosted-zone", "ZEMPTY".into()),
        ("route53.private-zone-without-vpc", "ZORPHAN".into()),
        ("vpc.idle-interface-endpoint", "vpce-idle".into()),
        ("vpc.idle-transit-gateway-attachment", "tgw-attach-idle".into()),
    ];
    let want: Vec<(String, String)> = want.into_iter().map(|(r, id)| (r.to_owned(), id)).collect();
    assert_eq!(network_findings(&scan), want);
}

#[tokio::test]
async fn denied_listings_leave_the_network_rules_silent_and_route53_is_read_in_us_east_1_only() {
    use aws_sdk_cloudwatch::operation::list_metrics::ListMetricsError;
    use aws_sdk_ec2::operation::describe_instances::DescribeInstancesError;
    let denied_instances = mock!(aws_sdk_ec2::Client::describe_instances)
        .then_error(|| error("UnauthorizedOperation", DescribeInstancesError::generic));
    let denied_series = mock!(aws_sdk_cloudwatch::Client::list_metrics)
        .match_requests(|r| r.namespace() == Some("AWS/PrivateLinkEndpoints"))
        .then_error(|| {
            ListMetricsError::generic(
                aws_sdk_cloudwatch::error::ErrorMetadata::builder().code("AccessDenied").message("no").build(),
            )
        });
    let ec2 = vec![denied_instances, network_family::endpoints()];
    // Without ListMetrics the endpoints' bytes are still asked for; CloudWatch has none.
    let no_data = metrics(|_, _| None, Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let cw = vec![network_family::alarms(), denied_series, no_data];
    let mut c = clients(ec2, vec![], cw);
    let (list, get) = network_family::zones();
    c.route53 = client!(aws_sdk_route53, vec![list.clone(), get]);
    let scan = scan_region(&c, "123456789012", "eu-west-1", &window()).await;
    let mut denied: Vec<&str> = scan.errors.iter().map(|e| e.action.as_str()).collect();
    denied.sort();
    assert_eq!(denied, ["cloudwatch:ListMetrics", "ec2:DescribeInstances"]);
    assert_eq!(list.num_calls(), 0, "Route 53 is global: read in the us-east-1 scan only");
    let alarm = scan.inventory.metric_alarms.iter().find(|a| a.name == "cpu-gone").unwrap();
    assert_eq!(alarm.metrics[0].target.as_ref().map(|t| t.exists), Some(None), "instances not listed: unknown");
    assert!(scan.inventory.vpc_endpoints.iter().all(|e| e.traffic_series.is_none()));
    // The old INSUFFICIENT_DATA alarm stands on its own facts; nothing reads an absence.
    let found = network_findings(&scan);
    assert!(found.iter().all(|(rule, _)| rule == "cloudwatch.insufficient-data-alarm"), "{found:?}");
}

/// The analytics family's listings answering nothing (Redshift, OpenSearch, EKS).
mod analytics_empty {
    use aws_smithy_mocks::{mock, Rule};

    pub fn redshift() -> Vec<Rule> {
        use aws_sdk_redshift::operation::describe_clusters::DescribeClustersOutput;
        vec![mock!(aws_sdk_redshift::Client::describe_clusters)
            .then_output(|| DescribeClustersOutput::builder().build())]
    }

    pub fn opensearch() -> Vec<Rule> {
        use aws_sdk_opensearch::operation::list_domain_names::ListDomainNamesOutput;
        vec![mock!(aws_sdk_opensearch::Client::list_domain_names)
            .then_output(|| ListDomainNamesOutput::builder().build())]
    }

    pub fn eks() -> Vec<Rule> {
        use aws_sdk_eks::operation::list_clusters::ListClustersOutput;
        vec![mock!(aws_sdk_eks::Client::list_clusters).then_output(|| ListClustersOutput::builder().build())]
    }
}

/// The storage family's listings, answering nothing (the other tests' regions stay complete).
mod storage_empty {
    use aws_smithy_mocks::{mock, Rule};

    pub fn s3() -> Vec<Rule> {
        use aws_sdk_s3::operation::list_buckets::ListBucketsOutput;
        vec![mock!(aws_sdk_s3::Client::list_buckets).then_output(|| ListBucketsOutput::builder().build())]
    }

    pub fn efs() -> Vec<Rule> {
        use aws_sdk_efs::operation::describe_file_systems::DescribeFileSystemsOutput;
        vec![mock!(aws_sdk_efs::Client::describe_file_systems)
            .then_output(|| DescribeFileSystemsOutput::builder().build())]
    }

    pub fn ecr() -> Vec<Rule> {
        use aws_sdk_ecr::operation::describe_repositories::DescribeRepositoriesOutput;
        vec![mock!(aws_sdk_ecr::Client::describe_repositories)
            .then_output(|| DescribeRepositoriesOutput::builder().build())]
    }

    pub fn backup() -> Vec<Rule> {
        use aws_sdk_backup::operation::list_backup_vaults::ListBackupVaultsOutput;
        vec![mock!(aws_sdk_backup::Client::list_backup_vaults).then_output(|| ListBackupVaultsOutput::builder().build())]
    }
}

/// The clients of [`serverless_clients`] with the storage family's own rules first (the empty
/// listings after them answer whatever a test does not).
fn storage_clients(
    s3: Vec<Rule>,
    efs: Vec<Rule>,
    ecr: Vec<Rule>,
    backup: Vec<Rule>,
    cloudwatch: Vec<Rule>,
) -> RegionClients {
    let with = |mut first: Vec<Rule>, rest: Vec<Rule>| {
        first.extend(rest);
        first
    };
    let mut c = serverless_clients(vec![], vec![], cloudwatch, vec![], vec![]);
    c.s3 = client!(aws_sdk_s3, with(s3, storage_empty::s3()));
    c.efs = client!(aws_sdk_efs, with(efs, storage_empty::efs()));
    c.ecr = client!(aws_sdk_ecr, with(ecr, storage_empty::ecr()));
    c.backup = client!(aws_sdk_backup, with(backup, storage_empty::backup()));
    c
}

fn found(drafts: &[costradar_core::rules::draft::Draft], prefix: &str) -> Vec<(String, String, Option<Decimal>)> {
    let mut v: Vec<(String, String, Option<Decimal>)> = drafts
        .iter()
        .filter(|d| d.rule.starts_with(prefix))
        .map(|d| (d.rule.clone(), d.resource_id.clone(), d.monthly_savings_usd.map(|s| s.round_dp(4))))
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn s3_buckets_are_read_in_their_own_region_with_uploads_sized_and_daily_metrics() {
    use aws_sdk_s3::operation::get_bucket_lifecycle_configuration::{
        GetBucketLifecycleConfigurationError, GetBucketLifecycleConfigurationOutput,
    };
    use aws_sdk_s3::operation::get_bucket_versioning::{GetBucketVersioningError, GetBucketVersioningOutput};
    use aws_sdk_s3::operation::list_buckets::ListBucketsOutput;
    use aws_sdk_s3::operation::list_multipart_uploads::ListMultipartUploadsOutput;
    use aws_sdk_s3::operation::list_parts::ListPartsOutput;
    use aws_sdk_s3::types::{
        AbortIncompleteMultipartUpload, Bucket, BucketVersioningStatus, ExpirationStatus, LifecycleRule,
        LifecycleRuleFilter, MultipartUpload, Part,
    };
    let bucket = |name: &str, region: &str| {
        Bucket::builder().name(name).bucket_region(region).creation_date(days_ago(400)).build()
    };
    let list = mock!(aws_sdk_s3::Client::list_buckets).then_compute_output(move |input| {
        assert_eq!(input.bucket_region(), Some("us-east-1"), "the region's buckets only");
        ListBucketsOutput::builder()
            .buckets(bucket("logs", "us-east-1"))
            .buckets(bucket("tidy", "us-east-1"))
            .buckets(bucket("locked", "us-east-1"))
            // An answer naming another region (the filter ignored): not read here.
            .buckets(bucket("elsewhere", "eu-west-1"))
            .build()
    });
    let versioning = mock!(aws_sdk_s3::Client::get_bucket_versioning)
        .match_requests(|r| r.bucket() != Some("locked"))
        .then_compute_output(|r| {
            let b = GetBucketVersioningOutput::builder();
            match r.bucket() {
                Some("logs") => b.status(BucketVersioningStatus::Enabled).build(),
                Some("elsewhere") => panic!("a bucket of another region is read"),
                _ => b.build(),
            }
        });
    let denied = mock!(aws_sdk_s3::Client::get_bucket_versioning)
        .match_requests(|r| r.bucket() == Some("locked"))
        .then_error(|| error("AccessDenied", GetBucketVersioningError::generic));
    let lifecycle = mock!(aws_sdk_s3::Client::get_bucket_lifecycle_configuration)
        .match_requests(|r| r.bucket() == Some("tidy"))
        .then_output(|| {
            let abort = LifecycleRule::builder()
                .id("abort")
                .status(ExpirationStatus::Enabled)
                .filter(LifecycleRuleFilter::builder().prefix("").build())
                .abort_incomplete_multipart_upload(
                    AbortIncompleteMultipartUpload::builder().days_after_initiation(7).build(),
                )
                .build()
                .unwrap();
            GetBucketLifecycleConfigurationOutput::builder().rules(abort).build()
        });
    // No lifecycle configuration is an answer, not an error.
    let no_lifecycle = mock!(aws_sdk_s3::Client::get_bucket_lifecycle_configuration)
        .then_error(|| error("NoSuchLifecycleConfiguration", GetBucketLifecycleConfigurationError::generic));
    let upload = |key: &str, id: &str, age: i64| {
        MultipartUpload::builder().key(key).upload_id(id).initiated(days_ago(age)).build()
    };
    let uploads = mock!(aws_sdk_s3::Client::list_multipart_uploads).then_compute_output(move |r| {
        let b = ListMultipartUploadsOutput::builder();
        match (r.bucket(), r.key_marker()) {
            // Two pages: an old upload and a young one.
            (Some("logs"), None) => b
                .uploads(upload("dump/a", "u-1", 40))
                .is_truncated(true)
                .next_key_marker("dump/a")
                .next_upload_id_marker("u-1"),
            (Some("logs"), Some(_)) => b.uploads(upload("dump/b", "u-2", 1)).is_truncated(false),
            // An old upload a lifecycle rule aborts: never sized.
            (Some("tidy"), _) => b.uploads(upload("x", "u-3", 90)).is_truncated(false),
            _ => b.is_truncated(false),
        }
        .build()
    });
    let parts = mock!(aws_sdk_s3::Client::list_parts).then_compute_output(|r| {
        let part = |n: i32, gib: i64| Part::builder().part_number(n).size(gib << 30).build();
        let b = ListPartsOutput::builder().is_truncated(false);
        match r.upload_id() {
            Some("u-1") => b.parts(part(1, 5)).parts(part(2, 3)),
            _ => b.parts(part(1, 1)),
        }
        .build()
    });
    // Daily values by metric and bucket; the storage type must be the one each metric has.
    let max_batch = Arc::new(AtomicUsize::new(0));
    let batch = max_batch.clone();
    let series = mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_compute_output(move |input| {
        batch.fetch_max(input.metric_data_queries().len(), Ordering::SeqCst);
        let results = input.metric_data_queries().iter().map(|q| {
            let stat = q.metric_stat().unwrap();
            let m = stat.metric().unwrap();
            let dim = |n: &str| m.dimensions().iter().find(|d| d.name() == Some(n)).and_then(|d| d.value()).unwrap();
            assert_eq!((stat.period(), stat.stat()), (Some(86_400), Some("Average")));
            let v = match (m.metric_name().unwrap(), dim("StorageType"), dim("BucketName")) {
                ("BucketSizeBytes", "StandardStorage", "logs") => vec![2048.0 * 1073741824.0, 2048.0 * 1073741824.0],
                ("NumberOfObjects", "AllStorageTypes", "logs") => vec![1_000_000.0],
                ("BucketSizeBytes", "StandardStorage", "tidy") => vec![10.0 * 1073741824.0],
                _ => vec![],
            };
            MetricDataResult::builder()
                .id(q.id().unwrap())
                .set_values(Some(v))
                .status_code(StatusCode::Complete)
                .build()
        });
        GetMetricDataOutput::builder().set_metric_data_results(Some(results.collect())).build()
    });
    let c = storage_clients(
        vec![list, versioning, denied, lifecycle, no_lifecycle, uploads.clone(), parts.clone()],
        vec![],
        vec![],
        vec![],
        vec![series],
    );
    let scan = scan_region(&c, "123456789012", "us-east-1", &window()).await;
    let errors: Vec<(&str, &str)> = scan.errors.iter().map(|e| (e.action.as_str(), e.code.as_str())).collect();
    assert_eq!(errors, [("s3:GetBucketVersioning", "AccessDenied")], "the locked bucket is left out, the rest read");
    let names: Vec<&str> = scan.inventory.buckets.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["logs", "tidy"]);
    assert_eq!(uploads.num_calls(), 3, "two pages of logs, one of tidy");
    assert_eq!(parts.num_calls(), 2, "the uploads of logs (oldest first); tidy's is aborted by its rule");
    assert_eq!(max_batch.load(Ordering::SeqCst), 4, "size and objects of each bucket, daily");
    let logs = &scan.inventory.buckets[0];
    assert_eq!(logs.standard_bytes, Some(2048 << 30));
    assert_eq!(logs.uploads.iter().map(|u| u.size_bytes).collect::<Vec<_>>(), [Some(8 << 30), Some(1 << 30)]);
    let drafts = evaluate(&scan.inventory);
    let d = |s: &str| Some(s.parse::<Decimal>().unwrap());
    assert_eq!(
        found(&drafts, "s3."),
        [
            // 8 GiB × $0.023
            ("s3.incomplete-multipart-uploads".into(), "arn:aws:s3:::logs".into(), d("0.184")),
            ("s3.noncurrent-versions-kept".into(), "arn:aws:s3:::logs".into(), None),
            // 2048 GiB × 80% × ($0.023 − $0.0125)
            ("s3.standard-without-tiering".into(), "arn:aws:s3:::logs".into(), d("17.2032")),
        ]
    );
}

#[tokio::test]
async fn efs_throughput_is_read_as_five_minute_sums_and_ecr_images_only_without_a_policy() {
    use aws_sdk_ecr::operation::describe_images::DescribeImagesOutput;
    use aws_sdk_ecr::operation::describe_repositories::DescribeRepositoriesOutput;
    use aws_sdk_ecr::operation::get_lifecycle_policy::{GetLifecyclePolicyError, GetLifecyclePolicyOutput};
    use aws_sdk_ecr::types::{ImageDetail, Repository};
    use aws_sdk_efs::operation::describe_file_systems::DescribeFileSystemsOutput;
    use aws_sdk_efs::operation::describe_lifecycle_configuration::{
        DescribeLifecycleConfigurationError, DescribeLifecycleConfigurationOutput,
    };
    use aws_sdk_efs::types::{
        FileSystemDescription, FileSystemSize, LifeCycleState, LifecyclePolicy, PerformanceMode, ThroughputMode,
        TransitionToArchiveRules,
    };
    let fs = |id: &str, gib: i64, mibps: Option<f64>| {
        FileSystemDescription::builder()
            .owner_id("123456789012")
            .creation_token(id)
            .file_system_id(id)
            .creation_time(days_ago(200))
            .life_cycle_state(LifeCycleState::Available)
            .number_of_mount_targets(2)
            .performance_mode(PerformanceMode::GeneralPurpose)
            .set_tags(Some(vec![]))
            .size_in_bytes(FileSystemSize::builder().value(gib << 30).value_in_standard(gib << 30).build())
            .throughput_mode(if mibps.is_some() { ThroughputMode::Provisioned } else { ThroughputMode::Bursting })
            .set_provisioned_throughput_in_mibps(mibps)
            .build()
            .unwrap()
    };
    let systems = mock!(aws_sdk_efs::Client::describe_file_systems).then_output(move || {
        DescribeFileSystemsOutput::builder()
            .file_systems(fs("fs-fast", 5, Some(100.0)))
            .file_systems(fs("fs-home", 500, None))
            .file_systems(fs("fs-gone", 50, None))
            .build()
    });
    let lifecycle = mock!(aws_sdk_efs::Client::describe_lifecycle_configuration)
        .match_requests(|r| r.file_system_id() != Some("fs-gone"))
        .then_output(|| {
            let archive =
                LifecyclePolicy::builder().transition_to_archive(TransitionToArchiveRules::After90Days).build();
            DescribeLifecycleConfigurationOutput::builder().lifecycle_policies(archive).build()
        });
    let gone = mock!(aws_sdk_efs::Client::describe_lifecycle_configuration)
        .then_error(|| error("FileSystemNotFound", DescribeLifecycleConfigurationError::generic));
    let repo = |name: &str| {
        Repository::builder()
            .repository_name(name)
            .repository_arn(format!("arn:aws:ecr:us-east-1:123456789012:repository/{name}"))
            .created_at(days_ago(300))
            .build()
    };
    let repos = mock!(aws_sdk_ecr::Client::describe_repositories).then_output(move || {
        DescribeRepositoriesOutput::builder()
            .repositories(repo("api"))
            .repositories(repo("multi"))
            .repositories(repo("kept"))
            .build()
    });
    let policy = mock!(aws_sdk_ecr::Client::get_lifecycle_policy)
        .match_requests(|r| r.repository_name() == Some("kept"))
        .then_output(|| GetLifecyclePolicyOutput::builder().repository_name("kept").build());
    let no_policy = mock!(aws_sdk_ecr::Client::get_lifecycle_policy)
        .then_error(|| error("LifecyclePolicyNotFoundException", GetLifecyclePolicyError::generic));
    let image = |digest: &str, tag: Option<&str>, mib: i64, age: i64, media: &str| {
        ImageDetail::builder()
            .image_digest(digest)
            .set_image_tags(tag.map(|t| vec![t.to_owned()]))
            .image_size_in_bytes(mib << 20)
            .image_pushed_at(days_ago(age))
            .image_manifest_media_type(media)
            .build()
    };
    let manifest = "application/vnd.oci.image.manifest.v1+json";
    let images = mock!(aws_sdk_ecr::Client::describe_images).then_compute_output(move |r| {
        let b = DescribeImagesOutput::builder();
        match r.repository_name() {
            Some("api") => b
                .image_details(image("sha256:1", Some("v2"), 900, 5, manifest))
                .image_details(image("sha256:2", None, 2048, 60, manifest))
                .image_details(image("sha256:3", None, 1024, 30, manifest))
                .image_details(image("sha256:4", None, 512, 1, manifest)),
            _ => b
                .image_details(image("sha256:5", Some("latest"), 1, 5, "application/vnd.oci.image.index.v1+json"))
                .image_details(image("sha256:6", None, 700, 60, manifest)),
        }
        .build()
    });
    let (calls, max_batch) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let series = metrics(
        // The busiest 5 minutes moved 6.3 MiB/s.
        |metric, id| (metric, id).eq(&("MeteredIOBytes", "fs-fast")).then_some(6.3 * 300.0 * 1_048_576.0),
        calls.clone(),
        max_batch.clone(),
    );
    let c = storage_clients(
        vec![],
        vec![systems, lifecycle, gone],
        vec![repos, policy, no_policy, images.clone()],
        vec![],
        vec![series],
    );
    let scan = scan_region(&c, "123456789012", "us-east-1", &window()).await;
    assert!(
        scan.errors.is_empty(),
        "no lifecycle, no policy or a file system deleted meanwhile is no error: {:?}",
        scan.errors
    );
    assert_eq!(images.num_calls(), 2, "the repository with a policy is not listed");
    assert_eq!(max_batch.load(Ordering::SeqCst), 1, "the provisioned file system only");
    let inv = &scan.inventory;
    assert_eq!(inv.file_systems.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["fs-fast", "fs-home"]);
    assert!(inv.listed_completely.contains("file_systems"));
    assert_eq!(inv.file_systems[0].peak_metered_mibps, Some(Decimal::new(63, 1)));
    assert_eq!(inv.file_systems[1].lifecycle_policies, ["TransitionToArchive=AFTER_90_DAYS"]);
    let multi = inv.repositories.iter().find(|r| r.name == "multi").unwrap();
    assert!(multi.holds_image_index && multi.untagged.len() == 1);
    let drafts = evaluate(inv);
    let d = |s: &str| Some(s.parse::<Decimal>().unwrap());
    let efs = |id: &str| format!("arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/{id}");
    assert_eq!(
        found(&drafts, "e"),
        [
            // (2048 + 1024) MiB = 3 GiB × $0.10; the 1-day-old image is not counted; multi is multi-arch
            ("ecr.untagged-images".into(), "arn:aws:ecr:us-east-1:123456789012:repository/api".into(), d("0.3")),
            // 500 GiB × 80% × ($0.30 − $0.025)
            ("efs.no-ia-lifecycle".into(), efs("fs-home"), d("110")),
            // ⌈6.3 ÷ 0.7⌉ = 9 MiB/s; (100 − 9) × $6 (5 GiB earn 0.24 MiB/s of baseline on both sides)
            ("efs.overprovisioned-throughput".into(), efs("fs-fast"), d("546")),
        ]
    );
    let home = drafts.iter().find(|d| d.rule == "efs.no-ia-lifecycle").unwrap();
    assert!(home.fix_command.contains(r#"{"TransitionToArchive":"AFTER_90_DAYS"}"#), "the archive policy is kept");
}

#[tokio::test]
async fn backup_points_of_a_deleted_file_system_and_a_point_backup_failed_to_delete() {
    use aws_sdk_backup::operation::list_backup_vaults::ListBackupVaultsOutput;
    use aws_sdk_backup::operation::list_recovery_points_by_backup_vault::ListRecoveryPointsByBackupVaultOutput;
    use aws_sdk_backup::types::{
        BackupVaultListMember, CalculatedLifecycle, RecoveryPointByBackupVault, RecoveryPointStatus,
    };
    use aws_sdk_efs::operation::describe_file_systems::DescribeFileSystemsOutput;
    use aws_sdk_efs::operation::describe_lifecycle_configuration::DescribeLifecycleConfigurationOutput;
    use aws_sdk_efs::types::{FileSystemDescription, LifeCycleState, PerformanceMode};
    let live = mock!(aws_sdk_efs::Client::describe_file_systems).then_output(|| {
        let f = FileSystemDescription::builder()
            .owner_id("123456789012")
            .creation_token("t")
            .file_system_id("fs-live")
            .creation_time(days_ago(500))
            .life_cycle_state(LifeCycleState::Available)
            .number_of_mount_targets(1)
            .performance_mode(PerformanceMode::GeneralPurpose)
            .set_tags(Some(vec![]))
            .build()
            .unwrap();
        DescribeFileSystemsOutput::builder().file_systems(f).build()
    });
    let lifecycle = mock!(aws_sdk_efs::Client::describe_lifecycle_configuration)
        .then_output(|| DescribeLifecycleConfigurationOutput::builder().build());
    let vaults = mock!(aws_sdk_backup::Client::list_backup_vaults).then_output(|| {
        ListBackupVaultsOutput::builder()
            .backup_vault_list(BackupVaultListMember::builder().backup_vault_name("Default").build())
            .build()
    });
    let rp = |n: u32, resource: &str, age: i64, gib: i64, status: RecoveryPointStatus| {
        RecoveryPointByBackupVault::builder()
            .recovery_point_arn(format!("arn:aws:backup:us-east-1:123456789012:recovery-point:{n}"))
            .backup_vault_name("Default")
            .resource_arn(resource)
            .resource_type("EFS")
            .creation_date(days_ago(age))
            .backup_size_in_bytes(gib << 30)
            .status(status)
            .build()
    };
    let efs = |id: &str| format!("arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/{id}");
    let copy = "arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system/fs-eu".to_owned();
    let points = mock!(aws_sdk_backup::Client::list_recovery_points_by_backup_vault).then_compute_output(move |r| {
        assert_eq!(r.backup_vault_name(), Some("Default"));
        let mut stuck = rp(4, &efs("fs-live"), 400, 12, RecoveryPointStatus::Expired);
        stuck.calculated_lifecycle = Some(CalculatedLifecycle::builder().delete_at(days_ago(365)).build());
        let b = ListRecoveryPointsByBackupVaultOutput::builder();
        match r.next_token() {
            None => b
                .recovery_points(rp(1, &efs("fs-gone"), 200, 30, RecoveryPointStatus::Completed))
                .recovery_points(rp(2, &efs("fs-live"), 1, 30, RecoveryPointStatus::Completed))
                .next_token("page-2"),
            Some(_) => b
                .recovery_points(rp(3, &efs("fs-gone"), 120, 10, RecoveryPointStatus::Completed))
                .recovery_points(stuck)
                // A copy from another region: its source is not ours to look for here.
                .recovery_points(rp(5, &copy, 300, 99, RecoveryPointStatus::Completed)),
        }
        .build()
    });
    let c = storage_clients(vec![], vec![live, lifecycle], vec![], vec![vaults, points.clone()], vec![]);
    let scan = scan_region(&c, "123456789012", "us-east-1", &window()).await;
    assert!(scan.errors.is_empty(), "{:?}", scan.errors);
    assert_eq!(points.num_calls(), 2);
    assert_eq!(scan.inventory.recovery_points.len(), 5);
    let drafts = evaluate(&scan.inventory);
    let d = |s: &str| Some(s.parse::<Decimal>().unwrap());
    assert_eq!(
        found(&drafts, "backup."),
        [
            // 12 GiB × $0.05, status EXPIRED
            (
                "backup.expired-recovery-point".into(),
                "arn:aws:backup:us-east-1:123456789012:recovery-point:4".into(),
                d("0.6")
            ),
            // (30 + 10) GiB × $0.05
            (
                "backup.orphaned-recovery-points".into(),
                "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-gone".into(),
                d("2")
            ),
        ]
    );
}

/// What moto cannot play for the analytics family: DescribeDomains' five-name limit, dedicated
/// master and UltraWarm nodes, EKS Auto Mode and the `STANDARD` upgrade policy.
#[tokio::test]
async fn analytics_domains_are_described_five_at_a_time_and_eks_policies_are_read() {
    use aws_sdk_eks::operation::{describe_cluster::*, list_clusters::*, list_fargate_profiles::*, list_nodegroups::*};
    use aws_sdk_eks::types::{Cluster, ClusterStatus, ComputeConfigResponse, SupportType, UpgradePolicyResponse};
    use aws_sdk_opensearch::operation::{describe_domains::*, list_domain_names::*};
    use aws_sdk_opensearch::types::{
        ClusterConfig, DomainInfo, DomainStatus, OpenSearchPartitionInstanceType, OpenSearchWarmPartitionInstanceType,
    };
    let names: Vec<String> = (1..=7).map(|i| format!("d{i}")).collect();
    let listed = names.clone();
    let list = mock!(aws_sdk_opensearch::Client::list_domain_names).then_output(move || {
        let infos = listed.iter().map(|n| DomainInfo::builder().domain_name(n).build()).collect();
        ListDomainNamesOutput::builder().set_domain_names(Some(infos)).build()
    });
    let batch = Arc::new(AtomicUsize::new(0));
    let biggest = batch.clone();
    let describe = mock!(aws_sdk_opensearch::Client::describe_domains).then_compute_output(move |input| {
        biggest.fetch_max(input.domain_names().len(), Ordering::SeqCst);
        let statuses = input
            .domain_names()
            .iter()
            .map(|n| {
                let config = ClusterConfig::builder()
                    .instance_type(OpenSearchPartitionInstanceType::from("r6g.large.search"))
                    .instance_count(2)
                    .dedicated_master_enabled(n == "d1")
                    .dedicated_master_type(OpenSearchPartitionInstanceType::from("m6g.large.search"))
                    .dedicated_master_count(3)
                    .warm_enabled(n == "d1")
                    .warm_type(OpenSearchWarmPartitionInstanceType::from("ultrawarm1.medium.search"))
                    .warm_count(2)
                    .build();
                DomainStatus::builder()
                    .domain_id(format!("123456789012/{n}"))
                    .domain_name(n)
                    .arn(format!("arn:aws:es:us-east-1:123456789012:domain/{n}"))
                    .engine_version("OpenSearch_2.11")
                    .processing(n == "d7")
                    .cluster_config(config)
                    .build()
                    .unwrap()
            })
            .collect();
        DescribeDomainsOutput::builder().set_domain_status_list(Some(statuses)).build().unwrap()
    });
    let eks_list = mock!(aws_sdk_eks::Client::list_clusters)
        .then_output(|| ListClustersOutput::builder().set_clusters(Some(vec!["auto".into(), "pinned".into()])).build());
    let eks_describe = mock!(aws_sdk_eks::Client::describe_cluster).then_compute_output(|input| {
        let name = input.name().unwrap();
        let c = Cluster::builder()
            .name(name)
            .arn(format!("arn:aws:eks:us-east-1:123456789012:cluster/{name}"))
            .version("1.29")
            .status(ClusterStatus::Active)
            .created_at(days_ago(500))
            .upgrade_policy(UpgradePolicyResponse::builder().support_type(SupportType::Standard).build())
            .compute_config(ComputeConfigResponse::builder().enabled(name == "auto").build())
            .build();
        DescribeClusterOutput::builder().cluster(c).build()
    });
    let groups = mock!(aws_sdk_eks::Client::list_nodegroups).then_output(|| ListNodegroupsOutput::builder().build());
    let profiles =
        mock!(aws_sdk_eks::Client::list_fargate_profiles).then_output(|| ListFargateProfilesOutput::builder().build());
    let (calls, max_batch) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut c = clients(vec![], vec![], vec![metrics(|_, _| None, calls, max_batch)]);
    c.opensearch = client!(aws_sdk_opensearch, vec![list, describe.clone()]);
    c.eks = client!(aws_sdk_eks, vec![eks_list, eks_describe, groups, profiles]);
    let scan = scan_region(&c, "123456789012", "us-east-1", &window()).await;
    assert!(scan.errors.is_empty(), "{:?}", scan.errors);
    assert_eq!((describe.num_calls(), batch.load(Ordering::SeqCst)), (2, 5), "7 domains: 5, then 2");
    let domains = &scan.inventory.search_domains;
    assert_eq!(domains.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), names);
    let d1 = &domains[0];
    assert_eq!((d1.master_type.as_deref(), d1.master_count), (Some("m6g.large.search"), 3));
    assert_eq!((d1.warm_type.as_deref(), d1.warm_count), (Some("ultrawarm1.medium.search"), 2));
    assert_eq!((domains[1].master_type.as_deref(), domains[1].master_count), (None, 0), "master not enabled");
    assert!(domains[6].processing);
    let eks = &scan.inventory.eks_clusters;
    assert_eq!(eks.len(), 2);
    assert!(eks[0].auto_mode && eks[0].tagged_instances.is_none(), "Auto Mode: no instance count asked");
    assert_eq!(eks[1].support_type.as_deref(), Some("STANDARD"));
    assert_eq!((eks[1].node_groups, eks[1].fargate_profiles, eks[1].tagged_instances), (Some(0), Some(0), Some(0)));
    // 1.29 is past standard support, but the STANDARD policy upgrades it instead of billing
    // extended support; with no compute of any kind, only `pinned` costs its control plane.
    let drafts = evaluate(&scan.inventory);
    let eks_found: Vec<(&str, &str)> = drafts
        .iter()
        .filter(|d| d.rule.starts_with("eks."))
        .map(|d| (d.rule.as_str(), d.resource_id.rsplit('/').next().unwrap()))
        .collect();
    assert_eq!(eks_found, [("eks.no-compute", "pinned")]);
}
