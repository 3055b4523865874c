//! Compute Optimizer: the account's recommendations for EC2 instances, EBS volumes, Lambda
//! functions, ECS services on Fargate, Auto Scaling groups, RDS DB instances and idle resources.
//! It answers per region: each scanned region is asked, one region after the other (its seven
//! listings at once), every listing paginated by `nextToken` (the SDK has no paginator for
//! most). The enrolment is account-wide and read once (`GetEnrollmentStatus`): an account that
//! is not enrolled, or an `OptInRequiredException`, is a note for the run record, not an error.
//!
//! Each recommendation keeps its rank-1 option (ECS options have no rank: the first) and that
//! option's `savingsOpportunity.estimatedMonthlySavings` when it is in USD; which of them are
//! reported is `rules::recommenders::reportable`'s call.

use aws_sdk_computeoptimizer::types as t;
use aws_sdk_computeoptimizer::Client;
use rust_decimal::Decimal;

use super::Calls;
use costradar_core::domain::money;
use costradar_core::rules::recommenders::{self, AwsRecommendation, CoKind, Origin};
use costradar_core::scan::{AccountWide, Recommended};

const OPT_IN_REQUIRED: &str = "OptInRequiredException";

/// Every page of a `Get*Recommendations` call, or `None` when a page failed.
macro_rules! pages {
    ($calls:expr, $action:literal, $request:expr, |$page:ident| $items:expr) => {{
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let sent = $request.set_next_token(token.clone()).send().await;
            let Some($page) = $calls.record($action, sent) else { break None };
            out.extend($items);
            match $page.next_token().filter(|n| !n.is_empty() && Some(*n) != token.as_deref()) {
                Some(n) => token = Some(n.to_owned()),
                None => break Some(out),
            }
        }
    }};
}

/// The recommendations of `clients`' regions (a client per scanned region).
pub async fn list(clients: &[(String, Client)], account_id: &str) -> AccountWide<Recommended> {
    let mut calls = Calls::default();
    let Some((_, first)) = clients.first() else {
        return AccountWide { value: Some(Recommended::Answered(vec![])), api_calls: 0, errors: vec![] };
    };
    let enrolled = enrolment(first, &mut calls).await;
    let value = match enrolled {
        None => None,
        Some(Err(note)) => Some(Recommended::Unavailable(note)),
        Some(Ok(())) => {
            let mut all = Some(Vec::new());
            for (region, c) in clients {
                let (found, region_calls) = region_recommendations(c, region, account_id).await;
                calls.merge(region_calls);
                match (found, &mut all) {
                    (Some(v), Some(all)) => all.extend(v),
                    _ => all = None,
                }
            }
            all.map(Recommended::Answered)
        }
    };
    // Opted out between two calls: the same note as an account never enrolled.
    if calls.errors.iter().any(|e| e.code == OPT_IN_REQUIRED) {
        calls.errors.retain(|e| e.code != OPT_IN_REQUIRED);
        let note = Recommended::Unavailable(not_enrolled("opt-in required"));
        let value = calls.errors.is_empty().then_some(note);
        return AccountWide { value, api_calls: calls.count, errors: calls.errors };
    }
    AccountWide { value, api_calls: calls.count, errors: calls.errors }
}

fn not_enrolled(status: &str) -> String {
    format!(
        "not read: the account is not enrolled ({status}); opt it in to Compute Optimizer to get its recommendations"
    )
}

/// `Some(Ok)` when enrolled, `Some(Err(note))` when not, `None` when the call failed.
async fn enrolment(c: &Client, calls: &mut Calls) -> Option<Result<(), String>> {
    let out = calls.record("compute-optimizer:GetEnrollmentStatus", c.get_enrollment_status().send().await)?;
    Some(match out.status() {
        Some(t::Status::Active) => Ok(()),
        other => Err(not_enrolled(&format!("status {}", other.map_or("unknown", |s| s.as_str())))),
    })
}

type Found = (Option<Vec<AwsRecommendation>>, Calls);

/// One region's seven listings, at once; `None` when any failed.
async fn region_recommendations(c: &Client, region: &str, account: &str) -> Found {
    let parts = tokio::join!(
        ec2_instances(c, region, account),
        ebs_volumes(c, region, account),
        lambda_functions(c, region, account),
        ecs_services(c, region, account),
        auto_scaling_groups(c, region, account),
        rds_databases(c, region, account),
        idle_resources(c, region, account),
    );
    let mut calls = Calls::default();
    let mut all = Some(Vec::new());
    for (found, c) in [parts.0, parts.1, parts.2, parts.3, parts.4, parts.5, parts.6] {
        calls.merge(c);
        match (found, &mut all) {
            (Some(v), Some(all)) => all.extend(v),
            _ => all = None,
        }
    }
    (all, calls)
}

fn mine(owner: Option<&str>, account: &str) -> bool {
    owner.is_none_or(|a| a == account)
}

async fn ec2_instances(c: &Client, region: &str, account: &str) -> Found {
    let mut calls = Calls::default();
    let v =
        pages!(calls, "compute-optimizer:GetEC2InstanceRecommendations", c.get_ec2_instance_recommendations(), |p| p
            .instance_recommendations()
            .iter()
            .filter(|r| mine(r.account_id(), account))
            .filter_map(|r| ec2_instance(r, region))
            .collect::<Vec<_>>());
    (v, calls)
}

async fn ebs_volumes(c: &Client, region: &str, account: &str) -> Found {
    let mut calls = Calls::default();
    let v = pages!(calls, "compute-optimizer:GetEBSVolumeRecommendations", c.get_ebs_volume_recommendations(), |p| p
        .volume_recommendations()
        .iter()
        .filter(|r| mine(r.account_id(), account))
        .filter_map(|r| ebs_volume(r, region))
        .collect::<Vec<_>>());
    (v, calls)
}

async fn lambda_functions(c: &Client, region: &str, account: &str) -> Found {
    let mut calls = Calls::default();
    let v = pages!(
        calls,
        "compute-optimizer:GetLambdaFunctionRecommendations",
        c.get_lambda_function_recommendations(),
        |p| p
            .lambda_function_recommendations()
            .iter()
            .filter(|r| mine(r.account_id(), account))
            .filter_map(|r| lambda_function(r, region))
            .collect::<Vec<_>>()
    );
    (v, calls)
}

async fn ecs_services(c: &Client, region: &str, account: &str) -> Found {
    let mut calls = Calls::default();
    let v = pages!(calls, "compute-optimizer:GetECSServiceRecommendations", c.get_ecs_service_recommendations(), |p| p
        .ecs_service_recommendations()
        .iter()
        .filter(|r| mine(r.account_id(), account))
        .filter_map(|r| ecs_service(r, region))
        .collect::<Vec<_>>());
    (v, calls)
}

async fn auto_scaling_groups(c: &Client, region: &str, account: &str) -> Found {
    let mut calls = Calls::default();
    let v = pages!(
        calls,
        "compute-optimizer:GetAutoScalingGroupRecommendations",
        c.get_auto_scaling_group_recommendations(),
        |p| p
            .auto_scaling_group_recommendations()
            .iter()
            .filter(|r| mine(r.account_id(), account))
            .filter_map(|r| auto_scaling_group(r, region))
            .collect::<Vec<_>>()
    );
    (v, calls)
}

async fn rds_databases(c: &Client, region: &str, account: &str) -> Found {
    let mut calls = Calls::default();
    let v =
        pages!(calls, "compute-optimizer:GetRDSDatabaseRecommendations", c.get_rds_database_recommendations(), |p| p
            .rds_db_recommendations()
            .iter()
            .filter(|r| mine(r.account_id(), account))
            .filter_map(|r| rds_database(r, region))
            .collect::<Vec<_>>());
    (v, calls)
}

async fn idle_resources(c: &Client, region: &str, account: &str) -> Found {
    let mut calls = Calls::default();
    let v = pages!(calls, "compute-optimizer:GetIdleRecommendations", c.get_idle_recommendations(), |p| p
        .idle_recommendations()
        .iter()
        .filter(|r| mine(r.account_id(), account))
        .filter_map(|r| idle(r, region))
        .collect::<Vec<_>>());
    (v, calls)
}

/// A recommendation with nothing but where it comes from and what it is about.
fn base(kind: CoKind, region: &str, arn_or_id: &str, lookback_days: f64) -> AwsRecommendation {
    AwsRecommendation {
        origin: Origin::ComputeOptimizer(kind),
        region: region.to_owned(),
        resource_id: recommenders::resource_id(arn_or_id),
        resource_arn: arn_or_id.starts_with("arn:").then(|| arn_or_id.to_owned()),
        finding: String::new(),
        current: None,
        recommended: None,
        lookback_days: (lookback_days >= 1.0).then(|| lookback_days.round() as u32),
        monthly_savings_usd: None,
        savings_percent: None,
        details: vec![],
    }
}

/// `Overprovisioned (CPUOverprovisioned, MemoryOverprovisioned)`.
fn finding<'a>(finding: &str, reasons: impl Iterator<Item = &'a str>) -> String {
    let reasons: Vec<&str> = reasons.collect();
    if reasons.is_empty() {
        finding.to_owned()
    } else {
        format!("{finding} ({})", reasons.join(", "))
    }
}

/// The saving in USD (`None` in any other currency) and its percentage of the current cost.
fn usd(value: f64, currency: Option<&t::Currency>, percent: f64) -> (Option<Decimal>, Option<Decimal>) {
    let value = (currency == Some(&t::Currency::Usd)).then(|| money::from_f64(value)).flatten();
    (value, value.and(money::from_f64(percent)))
}

fn savings(s: Option<&t::SavingsOpportunity>) -> (Option<Decimal>, Option<Decimal>) {
    s.and_then(|s| {
        let m = s.estimated_monthly_savings()?;
        Some(usd(m.value(), m.currency(), s.savings_opportunity_percentage()))
    })
    .unwrap_or_default()
}

fn ec2_instance(r: &t::InstanceRecommendation, region: &str) -> Option<AwsRecommendation> {
    let option = r.recommendation_options().iter().find(|o| o.rank() == 1)?;
    let mut a = base(CoKind::Ec2Instance, region, r.instance_arn()?, r.look_back_period_in_days());
    a.finding = finding(r.finding()?.as_str(), r.finding_reason_codes().iter().map(|c| c.as_str()));
    a.current = r.current_instance_type().map(str::to_owned);
    a.recommended = option.instance_type().map(str::to_owned);
    (a.monthly_savings_usd, a.savings_percent) = savings(option.savings_opportunity());
    Some(a)
}

fn volume_configuration(v: &t::VolumeConfiguration) -> String {
    let kind = v.volume_type().unwrap_or("?");
    format!(
        "{kind} {} GiB, {} IOPS, {} MiB/s",
        v.volume_size(),
        v.volume_baseline_iops(),
        v.volume_baseline_throughput()
    )
}

fn ebs_volume(r: &t::VolumeRecommendation, region: &str) -> Option<AwsRecommendation> {
    let option = r.volume_recommendation_options().iter().find(|o| o.rank() == 1)?;
    let mut a = base(CoKind::EbsVolume, region, r.volume_arn()?, r.look_back_period_in_days());
    a.finding = r.finding()?.as_str().to_owned();
    a.current = r.current_configuration().map(volume_configuration);
    a.recommended = option.configuration().map(volume_configuration);
    (a.monthly_savings_usd, a.savings_percent) = savings(option.savings_opportunity());
    Some(a)
}

fn lambda_function(r: &t::LambdaFunctionRecommendation, region: &str) -> Option<AwsRecommendation> {
    let option = r.memory_size_recommendation_options().iter().find(|o| o.rank() == 1)?;
    let mut a = base(CoKind::LambdaFunction, region, r.function_arn()?, r.lookback_period_in_days());
    a.finding = finding(r.finding()?.as_str(), r.finding_reason_codes().iter().map(|c| c.as_str()));
    a.current = Some(format!("{} MB", r.current_memory_size()));
    a.recommended = Some(format!("{} MB", option.memory_size()));
    (a.monthly_savings_usd, a.savings_percent) = savings(option.savings_opportunity());
    Some(a)
}

fn ecs_service(r: &t::EcsServiceRecommendation, region: &str) -> Option<AwsRecommendation> {
    if r.launch_type().is_some_and(|l| *l != t::EcsServiceLaunchType::Fargate) {
        return None;
    }
    let option = r.service_recommendation_options().first()?;
    let mut a = base(CoKind::EcsService, region, r.service_arn()?, r.lookback_period_in_days());
    a.finding = finding(r.finding()?.as_str(), r.finding_reason_codes().iter().map(|c| c.as_str()));
    let size = |cpu: Option<i32>, memory: Option<i32>| Some(format!("{} CPU units, {} MiB", cpu?, memory?));
    a.current = r.current_service_configuration().and_then(|c| size(c.cpu(), c.memory()));
    a.recommended = size(option.cpu(), option.memory());
    (a.monthly_savings_usd, a.savings_percent) = savings(option.savings_opportunity());
    Some(a)
}

fn auto_scaling_group(r: &t::AutoScalingGroupRecommendation, region: &str) -> Option<AwsRecommendation> {
    let option = r.recommendation_options().iter().find(|o| o.rank() == 1)?;
    let mut a = base(CoKind::AutoScalingGroup, region, r.auto_scaling_group_arn()?, r.look_back_period_in_days());
    a.finding = r.finding()?.as_str().to_owned();
    let size =
        |c: &t::AutoScalingGroupConfiguration| Some(format!("{} × {}", c.instance_type()?, c.desired_capacity()));
    a.current = r.current_configuration().and_then(size);
    a.recommended = option.configuration().and_then(size);
    (a.monthly_savings_usd, a.savings_percent) = savings(option.savings_opportunity());
    Some(a)
}

fn rds_database(r: &t::RdsdbRecommendation, region: &str) -> Option<AwsRecommendation> {
    let option = r.instance_recommendation_options().iter().find(|o| o.rank() == 1)?;
    let mut a = base(CoKind::RdsDatabase, region, r.resource_arn()?, r.lookback_period_in_days());
    a.finding = finding(r.instance_finding()?.as_str(), r.instance_finding_reason_codes().iter().map(|c| c.as_str()));
    a.current = r.current_db_instance_class().map(str::to_owned);
    a.recommended = option.db_instance_class().map(str::to_owned);
    (a.monthly_savings_usd, a.savings_percent) = savings(option.savings_opportunity());
    Some(a)
}

fn idle(r: &t::IdleRecommendation, region: &str) -> Option<AwsRecommendation> {
    let mut a = base(CoKind::Idle, region, r.resource_arn().or(r.resource_id())?, r.look_back_period_in_days());
    a.finding = r.finding()?.as_str().to_owned();
    if let Some(kind) = r.resource_type() {
        a.details.push(format!("resource type: {}", kind.as_str()));
    }
    a.details.extend(r.finding_description().map(|d| format!("Compute Optimizer: {d}")));
    (a.monthly_savings_usd, a.savings_percent) = r
        .savings_opportunity()
        .and_then(|s| {
            let m = s.estimated_monthly_savings()?;
            Some(usd(m.value(), m.currency(), s.savings_opportunity_percentage()))
        })
        .unwrap_or_default();
    Some(a)
}
