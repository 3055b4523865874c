//! Compute Optimizer and Trusted Advisor against aws-smithy-mocks (moto has neither): pages,
//! every recommendation kind, an account not enrolled, a support plan that refuses the Trusted
//! Advisor API (a note, once, no error) and a role that lacks the action (an error).

use std::time::Duration;

use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use costradar_core::rules::recommenders::{reportable, AwsRecommendation, CoKind, Origin};
use costradar_core::scan::Recommended;

use super::{compute_optimizer, trusted_advisor};

macro_rules! client {
    ($crate_:ident, $rules:expr) => {{
        let rules: Vec<Rule> = $rules;
        mock_client!($crate_, RuleMode::MatchAny, &rules, |c| c.retry_config(
            $crate_::config::retry::RetryConfig::standard()
                .with_max_attempts(2)
                .with_initial_backoff(Duration::from_millis(1))
        ))
    }};
}

const ACCOUNT: &str = "123456789012";

fn answered(v: Option<Recommended>) -> Vec<AwsRecommendation> {
    match v {
        Some(Recommended::Answered(v)) => v,
        other => panic!("expected an answer, got {other:?}"),
    }
}

mod co {
    use aws_sdk_computeoptimizer::operation::*;
    use aws_sdk_computeoptimizer::types::*;
    use aws_sdk_computeoptimizer::Client as C;

    use super::*;

    fn arn(kind: &str, id: &str) -> String {
        format!("arn:aws:ec2:eu-west-1:{ACCOUNT}:{kind}/{id}")
    }

    pub fn saving(value: f64, currency: Currency, percent: f64) -> SavingsOpportunity {
        SavingsOpportunity::builder()
            .savings_opportunity_percentage(percent)
            .estimated_monthly_savings(EstimatedMonthlySavings::builder().currency(currency).value(value).build())
            .build()
    }

    fn instance(
        id: &str,
        account: &str,
        finding: Finding,
        options: &[(i32, &str, SavingsOpportunity)],
    ) -> InstanceRecommendation {
        let mut b = InstanceRecommendation::builder()
            .instance_arn(arn("instance", id))
            .account_id(account)
            .current_instance_type("m5.2xlarge")
            .finding(finding)
            .finding_reason_codes(InstanceRecommendationFindingReasonCode::CpuOverProvisioned)
            .look_back_period_in_days(14.0);
        for (rank, t, s) in options {
            b = b.recommendation_options(
                InstanceRecommendationOption::builder()
                    .rank(*rank)
                    .instance_type(*t)
                    .savings_opportunity(s.clone())
                    .build(),
            );
        }
        b.build()
    }

    pub fn enrolled(status: Status) -> Rule {
        mock!(C::get_enrollment_status).then_output(move || {
            get_enrollment_status::GetEnrollmentStatusOutput::builder().status(status.clone()).build()
        })
    }

    /// EC2 on two pages; one recommendation of every other kind; what is not ours or not
    /// worth reporting among them.
    pub fn everything() -> Vec<Rule> {
        use get_ec2_instance_recommendations::GetEc2InstanceRecommendationsOutput as Ec2Out;
        let ec2 = mock!(C::get_ec2_instance_recommendations).then_compute_output(|input| match input.next_token() {
            None => Ec2Out::builder()
                .instance_recommendations(instance(
                    "i-1",
                    ACCOUNT,
                    Finding::OverProvisioned,
                    // The rank-1 option counts, whatever the order.
                    &[
                        (2, "m5.large", saving(210.0, Currency::Usd, 75.0)),
                        (1, "m5.xlarge", saving(140.16, Currency::Usd, 50.0)),
                    ],
                ))
                // A member account's, seen from a management account: not ours.
                .instance_recommendations(instance(
                    "i-9",
                    "999999999999",
                    Finding::OverProvisioned,
                    &[(1, "t3.small", saving(99.0, Currency::Usd, 90.0))],
                ))
                .next_token("2")
                .build(),
            Some(_) => Ec2Out::builder()
                .instance_recommendations(instance(
                    "i-2",
                    ACCOUNT,
                    Finding::Optimized,
                    &[(1, "m5.2xlarge", saving(0.0, Currency::Usd, 0.0))],
                ))
                // China regions answer in CNY: not counted.
                .instance_recommendations(instance(
                    "i-3",
                    ACCOUNT,
                    Finding::OverProvisioned,
                    &[(1, "m5.xlarge", saving(900.0, Currency::Cny, 50.0))],
                ))
                .build(),
        });
        let volume = |t: &str, size: i32| {
            VolumeConfiguration::builder()
                .volume_type(t)
                .volume_size(size)
                .volume_baseline_iops(3000)
                .volume_baseline_throughput(125)
                .build()
        };
        let ebs = mock!(C::get_ebs_volume_recommendations).then_output(move || {
            get_ebs_volume_recommendations::GetEbsVolumeRecommendationsOutput::builder()
                .volume_recommendations(
                    VolumeRecommendation::builder()
                        .volume_arn(arn("volume", "vol-1"))
                        .account_id(ACCOUNT)
                        .finding(EbsFinding::NotOptimized)
                        .current_configuration(volume("io1", 500))
                        .look_back_period_in_days(14.0)
                        .volume_recommendation_options(
                            VolumeRecommendationOption::builder()
                                .rank(1)
                                .configuration(volume("gp3", 500))
                                .savings_opportunity(saving(30.0, Currency::Usd, 60.0))
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
        let lambda = mock!(C::get_lambda_function_recommendations).then_output(|| {
            get_lambda_function_recommendations::GetLambdaFunctionRecommendationsOutput::builder()
                .lambda_function_recommendations(
                    LambdaFunctionRecommendation::builder()
                        .function_arn(format!("arn:aws:lambda:eu-west-1:{ACCOUNT}:function:resize:$LATEST"))
                        .current_memory_size(2048)
                        .finding(LambdaFunctionRecommendationFinding::NotOptimized)
                        .lookback_period_in_days(14.0)
                        .memory_size_recommendation_options(
                            LambdaFunctionMemoryRecommendationOption::builder()
                                .rank(1)
                                .memory_size(1024)
                                .savings_opportunity(saving(4.2, Currency::Usd, 50.0))
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
        let ecs = mock!(C::get_ecs_service_recommendations).then_output(|| {
            let service = |name: &str, launch: EcsServiceLaunchType| {
                EcsServiceRecommendation::builder()
                    .service_arn(format!("arn:aws:ecs:eu-west-1:{ACCOUNT}:service/prod/{name}"))
                    .launch_type(launch)
                    .finding(EcsServiceRecommendationFinding::OverProvisioned)
                    .lookback_period_in_days(14.0)
                    .current_service_configuration(ServiceConfiguration::builder().cpu(1024).memory(4096).build())
                    .service_recommendation_options(
                        EcsServiceRecommendationOption::builder()
                            .cpu(512)
                            .memory(2048)
                            .savings_opportunity(saving(25.0, Currency::Usd, 50.0))
                            .build(),
                    )
                    .build()
            };
            get_ecs_service_recommendations::GetEcsServiceRecommendationsOutput::builder()
                .ecs_service_recommendations(service("api", EcsServiceLaunchType::Fargate))
                // Compute Optimizer covers Fargate only; anything else is not read.
                .ecs_service_recommendations(service("batch", EcsServiceLaunchType::Ec2))
                .build()
        });
        let asg = mock!(C::get_auto_scaling_group_recommendations).then_output(|| {
            let config =
                |t: &str| AutoScalingGroupConfiguration::builder().instance_type(t).desired_capacity(4).build();
            get_auto_scaling_group_recommendations::GetAutoScalingGroupRecommendationsOutput::builder()
                .auto_scaling_group_recommendations(
                    AutoScalingGroupRecommendation::builder()
                        .auto_scaling_group_arn(format!(
                            "arn:aws:autoscaling:eu-west-1:{ACCOUNT}:autoScalingGroup:uuid:autoScalingGroupName/web"
                        ))
                        .auto_scaling_group_name("web")
                        .finding(Finding::OverProvisioned)
                        .look_back_period_in_days(14.0)
                        .current_configuration(config("m5.xlarge"))
                        .recommendation_options(
                            AutoScalingGroupRecommendationOption::builder()
                                .rank(1)
                                .configuration(config("m5.large"))
                                .savings_opportunity(saving(280.32, Currency::Usd, 50.0))
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
        let rds = mock!(C::get_rds_database_recommendations).then_output(|| {
            get_rds_database_recommendations::GetRdsDatabaseRecommendationsOutput::builder()
                .rds_db_recommendations(
                    RdsdbRecommendation::builder()
                        .resource_arn(format!("arn:aws:rds:eu-west-1:{ACCOUNT}:db:orders"))
                        .current_db_instance_class("db.r6g.2xlarge")
                        .instance_finding(RdsInstanceFinding::OverProvisioned)
                        .lookback_period_in_days(14.0)
                        .instance_recommendation_options(
                            RdsdbInstanceRecommendationOption::builder()
                                .rank(1)
                                .db_instance_class("db.r6g.xlarge")
                                .savings_opportunity(saving(350.4, Currency::Usd, 50.0))
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
        let idle = mock!(C::get_idle_recommendations).then_output(|| {
            get_idle_recommendations::GetIdleRecommendationsOutput::builder()
                .idle_recommendations(
                    IdleRecommendation::builder()
                        .resource_arn(arn("volume", "vol-2"))
                        .resource_id("vol-2")
                        .resource_type(IdleRecommendationResourceType::EbsVolume)
                        .finding(IdleFinding::Unattached)
                        .finding_description("The volume has been unattached for 32 days")
                        .look_back_period_in_days(32.0)
                        .savings_opportunity(
                            IdleSavingsOpportunity::builder()
                                .savings_opportunity_percentage(100.0)
                                .estimated_monthly_savings(
                                    IdleEstimatedMonthlySavings::builder().currency(Currency::Usd).value(8.0).build(),
                                )
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
        vec![ec2, ebs, lambda, ecs, asg, rds, idle]
    }
}

#[tokio::test]
async fn compute_optimizer_reads_every_kind_across_pages() {
    use aws_sdk_computeoptimizer::types::Status;
    let mut rules = vec![co::enrolled(Status::Active)];
    rules.extend(co::everything());
    let ec2_pages = rules[1].clone();
    let c = client!(aws_sdk_computeoptimizer, rules);
    let out = compute_optimizer::list(&[("eu-west-1".to_owned(), c)], ACCOUNT).await;
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(ec2_pages.num_calls(), 2);
    assert_eq!(out.api_calls, 1 + 2 + 6, "enrolment, two EC2 pages, six other listings");
    let recs = answered(out.value);
    let summary: Vec<(String, &str, Option<rust_decimal::Decimal>)> = recs
        .iter()
        .filter(|r| reportable(r))
        .map(|r| (r.origin.rule(), r.resource_id.as_str(), r.monthly_savings_usd))
        .collect();
    let s = |x: &str| Some(x.parse().unwrap());
    assert_eq!(
        summary,
        [
            ("co.ec2-rightsize".to_owned(), "i-1", s("140.16")),
            ("co.ebs-rightsize".to_owned(), "vol-1", s("30")),
            (
                "co.lambda-rightsize".to_owned(),
                "arn:aws:lambda:eu-west-1:123456789012:function:resize:$LATEST",
                s("4.2")
            ),
            ("co.ecs-rightsize".to_owned(), "arn:aws:ecs:eu-west-1:123456789012:service/prod/api", s("25")),
            (
                "co.asg-rightsize".to_owned(),
                "arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:uuid:autoScalingGroupName/web",
                s("280.32")
            ),
            ("co.rds-rightsize".to_owned(), "arn:aws:rds:eu-west-1:123456789012:db:orders", s("350.4")),
            ("co.idle".to_owned(), "vol-2", s("8")),
        ]
    );
    // Read but not reported: the Optimized instance (no saving) and the CNY one (no USD saving).
    let unreported: Vec<&str> = recs.iter().filter(|r| !reportable(r)).map(|r| r.resource_id.as_str()).collect();
    assert_eq!(unreported, ["i-2", "i-3"]);
    let i1 = &recs[0];
    assert_eq!(i1.finding, "Overprovisioned (CPUOverprovisioned)");
    assert_eq!((i1.current.as_deref(), i1.recommended.as_deref()), (Some("m5.2xlarge"), Some("m5.xlarge")));
    assert_eq!((i1.lookback_days, i1.savings_percent), (Some(14), Some("50".parse().unwrap())));
    let ebs = recs.iter().find(|r| r.origin == Origin::ComputeOptimizer(CoKind::EbsVolume)).unwrap();
    assert_eq!(ebs.current.as_deref(), Some("io1 500 GiB, 3000 IOPS, 125 MiB/s"));
    let idle = recs.iter().find(|r| r.origin == Origin::ComputeOptimizer(CoKind::Idle)).unwrap();
    assert_eq!(
        idle.details,
        ["resource type: EBSVolume", "Compute Optimizer: The volume has been unattached for 32 days"]
    );
}

#[tokio::test]
async fn compute_optimizer_not_enrolled_is_a_note_and_asks_nothing_else() {
    use aws_sdk_computeoptimizer::types::Status;
    let everything = co::everything();
    let mut rules = vec![co::enrolled(Status::Inactive)];
    rules.extend(everything.iter().cloned());
    let c = client!(aws_sdk_computeoptimizer, rules);
    let out = compute_optimizer::list(&[("eu-west-1".to_owned(), c)], ACCOUNT).await;
    assert!(out.errors.is_empty());
    assert_eq!(out.api_calls, 1);
    match out.value {
        Some(Recommended::Unavailable(note)) => assert!(note.contains("not enrolled (status Inactive)"), "{note}"),
        other => panic!("{other:?}"),
    }
    assert!(everything.iter().all(|r| r.num_calls() == 0));
}

#[tokio::test]
async fn compute_optimizer_opt_in_required_is_a_note_and_denied_is_an_error() {
    use aws_sdk_computeoptimizer::error::ErrorMetadata;
    use aws_sdk_computeoptimizer::operation::get_ec2_instance_recommendations::GetEC2InstanceRecommendationsError as Ec2Error;
    use aws_sdk_computeoptimizer::operation::get_enrollment_status::GetEnrollmentStatusError;
    use aws_sdk_computeoptimizer::types::Status;
    // Enrolled when asked, opted out by the time the instances are listed.
    let opt_in = mock!(aws_sdk_computeoptimizer::Client::get_ec2_instance_recommendations)
        .then_error(|| Ec2Error::generic(ErrorMetadata::builder().code("OptInRequiredException").build()));
    let mut rules = vec![co::enrolled(Status::Active), opt_in];
    rules.extend(co::everything().into_iter().skip(1));
    let out =
        compute_optimizer::list(&[("eu-west-1".to_owned(), client!(aws_sdk_computeoptimizer, rules))], ACCOUNT).await;
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert!(matches!(out.value, Some(Recommended::Unavailable(_))), "{:?}", out.value);
    // The role lacks the action: an error naming it, no value.
    let denied = mock!(aws_sdk_computeoptimizer::Client::get_enrollment_status).then_error(|| {
        GetEnrollmentStatusError::generic(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("User: x is not authorized to perform: compute-optimizer:GetEnrollmentStatus")
                .build(),
        )
    });
    let out =
        compute_optimizer::list(&[("eu-west-1".to_owned(), client!(aws_sdk_computeoptimizer, vec![denied]))], ACCOUNT)
            .await;
    assert!(out.value.is_none());
    assert_eq!(out.errors[0].action, "compute-optimizer:GetEnrollmentStatus");
}

mod ta {
    use aws_sdk_trustedadvisor::operation::*;
    use aws_sdk_trustedadvisor::primitives::DateTime;
    use aws_sdk_trustedadvisor::types::*;
    use aws_sdk_trustedadvisor::Client as C;

    use super::*;

    pub const LOW_USE: &str = "arn:aws:trustedadvisor:::check/Qch7DwouX1";
    pub const REC: &str = "arn:aws:trustedadvisor::123456789012:recommendation/low-use";

    fn summary(
        id: &str,
        name: &str,
        source: RecommendationSource,
        status: RecommendationStatus,
    ) -> RecommendationSummary {
        RecommendationSummary::builder()
            .id(id)
            .arn(if id == "low-use" {
                REC.to_owned()
            } else {
                format!("arn:aws:trustedadvisor::{ACCOUNT}:recommendation/{id}")
            })
            .check_arn(LOW_USE)
            .r#type(RecommendationType::Standard)
            .name(name)
            .source(source)
            .status(status)
            .pillars(RecommendationPillar::CostOptimizing)
            .build()
            .unwrap()
    }

    fn resource(id: &str, status: ResourceStatus, savings: &str) -> RecommendationResourceSummary {
        RecommendationResourceSummary::builder()
            .id(format!("r-{id}"))
            .arn(format!("{REC}/resource/{id}"))
            .aws_resource_id(id)
            .region_code("eu-west-1")
            .status(status)
            .metadata("0", "eu-west-1a")
            .metadata("1", id)
            .metadata("2", "m5.large")
            .metadata("3", savings)
            .last_updated_at(DateTime::from_secs(1_795_000_000))
            .recommendation_arn(REC)
            .build()
            .unwrap()
    }

    /// Three recommendations on two pages (one of Trusted Advisor's own checks, one relayed from
    /// Compute Optimizer, one all fine); the check's columns; its resources on two pages.
    pub fn results() -> Vec<Rule> {
        use list_recommendations::ListRecommendationsOutput as Out;
        let recs = mock!(C::list_recommendations).then_compute_output(|input| match input.next_token() {
            None => Out::builder()
                .recommendation_summaries(summary(
                    "low-use",
                    "Low Utilization Amazon EC2 Instances",
                    RecommendationSource::TaCheck,
                    RecommendationStatus::Warning,
                ))
                .recommendation_summaries(summary(
                    "relayed",
                    "Amazon EC2 instances over-provisioned",
                    RecommendationSource::ComputeOptimizer,
                    RecommendationStatus::Warning,
                ))
                .next_token("2")
                .build()
                .unwrap(),
            Some(_) => Out::builder()
                .recommendation_summaries(summary(
                    "fine",
                    "Idle Load Balancers",
                    RecommendationSource::TaCheck,
                    RecommendationStatus::Ok,
                ))
                .build()
                .unwrap(),
        });
        let checks = mock!(C::list_checks).then_output(|| {
            let check = CheckSummary::builder()
                .id("Qch7DwouX1")
                .arn(LOW_USE)
                .name("Low Utilization Amazon EC2 Instances")
                .description("d")
                .pillars(RecommendationPillar::CostOptimizing)
                .aws_services("EC2")
                .source(RecommendationSource::TaCheck)
                .metadata("0", "Region/AZ")
                .metadata("1", "Instance ID")
                .metadata("2", "Instance Type")
                .metadata("3", "Estimated Monthly Savings")
                .build()
                .unwrap();
            list_checks::ListChecksOutput::builder().check_summaries(check).build().unwrap()
        });
        use list_recommendation_resources::ListRecommendationResourcesOutput as ResOut;
        let resources = mock!(C::list_recommendation_resources)
            .match_requests(|input| input.recommendation_identifier() == Some(REC))
            .then_compute_output(|input| match input.next_token() {
                None => ResOut::builder()
                    .recommendation_resource_summaries(resource("i-1", ResourceStatus::Warning, "$1,234.50"))
                    .next_token("2")
                    .build()
                    .unwrap(),
                Some(_) => ResOut::builder()
                    .recommendation_resource_summaries(resource("i-2", ResourceStatus::Ok, "$0.00"))
                    // No resource id: nothing to tie it to.
                    .recommendation_resource_summaries(resource("", ResourceStatus::Warning, "$5.00"))
                    .build()
                    .unwrap(),
            });
        vec![recs, checks, resources]
    }
}

#[tokio::test]
async fn trusted_advisor_reads_flagged_resources_with_their_saving() {
    let rules = ta::results();
    let c = client!(aws_sdk_trustedadvisor, rules.clone());
    let out = trusted_advisor::list(&c).await;
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!((rules[0].num_calls(), rules[1].num_calls(), rules[2].num_calls()), (2, 1, 2));
    assert_eq!(out.api_calls, 5);
    let recs = answered(out.value);
    assert_eq!(recs.len(), 1, "{recs:#?}");
    let r = &recs[0];
    assert_eq!(r.origin.rule(), "ta.low-utilization-amazon-ec2-instances");
    assert_eq!((r.resource_id.as_str(), r.region.as_str(), r.finding.as_str()), ("i-1", "eu-west-1", "warning"));
    assert_eq!(r.monthly_savings_usd, Some("1234.50".parse().unwrap()));
    assert_eq!(
        &r.details[..4],
        [
            "Region/AZ: eu-west-1a",
            "Instance ID: i-1",
            "Instance Type: m5.large",
            "Estimated Monthly Savings: $1,234.50"
        ]
    );
    assert!(r.details[4].starts_with("Trusted Advisor refreshed this result on 2026-"), "{:?}", r.details);
    assert!(matches!(&r.origin, Origin::TrustedAdvisor { recommendation_arn, .. } if recommendation_arn == ta::REC));
    assert_eq!(trusted_advisor::dollars("$12"), Some("12".parse().unwrap()));
    assert_eq!(trusted_advisor::dollars("¥12"), None, "another currency is no saving");
}

#[tokio::test]
async fn trusted_advisor_refused_for_the_support_plan_is_one_note_and_no_error() {
    use aws_sdk_trustedadvisor::error::ErrorMetadata;
    use aws_sdk_trustedadvisor::operation::list_recommendations::ListRecommendationsError;
    let refusal = |code: &'static str, message: &'static str| {
        mock!(aws_sdk_trustedadvisor::Client::list_recommendations).then_error(move || {
            ListRecommendationsError::generic(ErrorMetadata::builder().code(code).message(message).build())
        })
    };
    for (code, message) in [
        ("AccessDeniedException", "Access denied due to support level"),
        ("SubscriptionRequiredException", "AWS Premium Support Subscription is required to use this service."),
    ] {
        let mut rules = ta::results();
        rules[0] = refusal(code, message);
        let c = client!(aws_sdk_trustedadvisor, rules.clone());
        let out = trusted_advisor::list(&c).await;
        assert!(out.errors.is_empty(), "{code}: {:?}", out.errors);
        assert_eq!(out.api_calls, 1, "{code}: asked once, nothing else");
        assert_eq!(out.value, Some(Recommended::Unavailable(trusted_advisor::PLAN_NOTE.to_owned())), "{code}");
        assert_eq!(rules[1].num_calls() + rules[2].num_calls(), 0);
    }
    // The role lacks the action: that is the customer's to fix, an error.
    let c = client!(
        aws_sdk_trustedadvisor,
        vec![refusal(
            "AccessDeniedException",
            "User: arn:aws:sts::123456789012:assumed-role/CostradarReadOnly/x is not authorized to perform: trustedadvisor:ListRecommendations"
        )]
    );
    let out = trusted_advisor::list(&c).await;
    assert!(out.value.is_none());
    assert_eq!(out.errors.len(), 1);
    assert_eq!(
        (out.errors[0].action.as_str(), out.errors[0].code.as_str()),
        ("trustedadvisor:ListRecommendations", "AccessDeniedException")
    );
}
