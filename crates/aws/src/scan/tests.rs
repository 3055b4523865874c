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
        s3: client!(aws_sdk_s3, vec![]),
        efs: client!(aws_sdk_efs, vec![]),
        ecr: client!(aws_sdk_ecr, vec![]),
        backup: client!(aws_sdk_backup, vec![]),
        redshift: client!(aws_sdk_redshift, vec![]),
        opensearch: client!(aws_sdk_opensearch, vec![]),
        eks: client!(aws_sdk_eks, vec![]),
        route53: client!(aws_sdk_route53, vec![]),
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
    assert_eq!(scan.api_calls, 15);
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
    // Every scanner file, so that a new family's file is checked without being listed here.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/scan");
    let sources: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs") && !p.ends_with("tests.rs"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
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
    assert!(named.len() >= 17, "{named:?}");
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
