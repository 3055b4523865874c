//! Elastic Load Balancing v2: load balancers, their target groups and target health.
//! DescribeTargetGroups is listed once for the region (each group names its load balancers);
//! DescribeTargetHealth is one call per target group that belongs to a load balancer.

use std::collections::HashMap;

use super::ec2::all_pages;
use super::{time, Calls};
use costradar_core::rules::facts::{LoadBalancer, TargetGroup};

const PAGE: i32 = 400;

pub async fn scan(c: &aws_sdk_elasticloadbalancingv2::Client) -> (Option<Vec<LoadBalancer>>, Calls) {
    let mut calls = Calls::default();
    let lbs = all_pages!(
        calls,
        "elasticloadbalancing:DescribeLoadBalancers",
        c.describe_load_balancers().page_size(PAGE).into_paginator(),
        |p| p.load_balancers().to_vec()
    );
    let Some(lbs) = lbs else { return (None, calls) };
    if lbs.is_empty() {
        return (Some(vec![]), calls);
    }
    let groups = all_pages!(
        calls,
        "elasticloadbalancing:DescribeTargetGroups",
        c.describe_target_groups().page_size(PAGE).into_paginator(),
        |p| p.target_groups().to_vec()
    );
    let Some(groups) = groups else { return (None, calls) };
    let mut by_lb: HashMap<String, Vec<TargetGroup>> = HashMap::new();
    for g in &groups {
        let (Some(arn), false) = (g.target_group_arn(), g.load_balancer_arns().is_empty()) else { continue };
        let out = calls.record(
            "elasticloadbalancing:DescribeTargetHealth",
            c.describe_target_health().target_group_arn(arn).send().await,
        );
        let Some(out) = out else { return (None, calls) };
        let states: Vec<&str> = out
            .target_health_descriptions()
            .iter()
            .map(|d| d.target_health().and_then(|h| h.state()).map_or("unknown", |s| s.as_str()))
            .collect();
        let tg = TargetGroup {
            arn: arn.to_owned(),
            registered: states.len() as u32,
            healthy: states.iter().filter(|s| **s == "healthy").count() as u32,
        };
        for lb in g.load_balancer_arns() {
            by_lb.entry(lb.clone()).or_default().push(tg.clone());
        }
    }
    let out = lbs
        .iter()
        .filter_map(|l| {
            let arn = l.load_balancer_arn()?.to_owned();
            Some(LoadBalancer {
                name: l.load_balancer_name()?.to_owned(),
                kind: l.r#type()?.as_str().to_owned(),
                state: l.state().and_then(|s| s.code()).map_or("unknown", |c| c.as_str()).to_owned(),
                created: time(l.created_time())?,
                target_groups: by_lb.remove(&arn).unwrap_or_default(),
                allocation_ids: l
                    .availability_zones()
                    .iter()
                    .flat_map(|z| z.load_balancer_addresses())
                    .filter_map(|a| a.allocation_id().map(str::to_owned))
                    .collect(),
                no_targets_since: None,
                arn,
            })
        })
        .collect();
    (Some(out), calls)
}
