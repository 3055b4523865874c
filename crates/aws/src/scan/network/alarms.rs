//! CloudWatch metric alarms (DescribeAlarms, metric alarms only): their state, when it and the
//! configuration last changed, the metrics they read and whether a scaling policy acts on them.
//! Nothing of the metrics' data is read here.

use crate::scan::ec2::all_pages;
use crate::scan::{time, Calls};
use costradar_core::rules::facts::{AlarmMetric, MetricAlarm};

/// DescribeAlarms' largest page.
const PAGE: i32 = 100;

pub async fn scan(c: &aws_sdk_cloudwatch::Client) -> (Option<Vec<MetricAlarm>>, Calls) {
    let mut calls = Calls::default();
    let v = all_pages!(
        calls,
        "cloudwatch:DescribeAlarms",
        c.describe_alarms()
            .alarm_types(aws_sdk_cloudwatch::types::AlarmType::MetricAlarm)
            .max_records(PAGE)
            .into_paginator(),
        |p| p.metric_alarms().iter().filter_map(alarm).collect::<Vec<_>>()
    );
    (v, calls)
}

fn dims(d: &[aws_sdk_cloudwatch::types::Dimension]) -> Vec<(String, String)> {
    d.iter().filter_map(|d| Some((d.name()?.to_owned(), d.value()?.to_owned()))).collect()
}

/// Auto Scaling (`arn:aws:autoscaling:`) and Application Auto Scaling
/// (`arn:aws:autoscaling:...:scalingPolicy:`, DynamoDB, ECS, ...) policy actions.
fn is_scaling_action(arn: &str) -> bool {
    arn.split(':').nth(2) == Some("autoscaling")
}

pub fn alarm(a: &aws_sdk_cloudwatch::types::MetricAlarm) -> Option<MetricAlarm> {
    let mut metrics = vec![];
    let (mut anomaly_detection, mut metrics_insights, mut other_account) = (false, false, false);
    if let (Some(namespace), Some(name)) = (a.namespace(), a.metric_name()) {
        metrics.push(AlarmMetric {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            dimensions: dims(a.dimensions()),
            period: a.period(),
            target: None,
        });
    }
    for q in a.metrics() {
        other_account |= q.account_id().is_some();
        if let Some(e) = q.expression() {
            let upper = e.to_ascii_uppercase();
            anomaly_detection |= upper.contains("ANOMALY_DETECTION_BAND");
            metrics_insights |= upper.trim_start().starts_with("SELECT");
        }
        let Some(stat) = q.metric_stat() else { continue };
        let Some(m) = stat.metric() else { continue };
        metrics.push(AlarmMetric {
            namespace: m.namespace().unwrap_or_default().to_owned(),
            name: m.metric_name().unwrap_or_default().to_owned(),
            dimensions: dims(m.dimensions()),
            period: stat.period().or(q.period()),
            target: None,
        });
    }
    let mut actions = a.alarm_actions().iter().chain(a.ok_actions()).chain(a.insufficient_data_actions());
    Some(MetricAlarm {
        name: a.alarm_name()?.to_owned(),
        arn: a.alarm_arn().map(str::to_owned),
        state: a.state_value().map_or("UNKNOWN", |s| s.as_str()).to_owned(),
        state_updated: time(a.state_updated_timestamp()),
        config_updated: time(a.alarm_configuration_updated_timestamp()),
        metrics,
        anomaly_detection,
        metrics_insights,
        scaling_policy: actions.any(|x| is_scaling_action(x)),
        other_account,
    })
}

#[cfg(test)]
mod tests {
    use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricAlarm as Sdk, MetricDataQuery, MetricStat, StateValue};

    use super::*;

    fn stat(id: &str, instance: &str, period: i32) -> MetricDataQuery {
        let metric = Metric::builder()
            .namespace("AWS/EC2")
            .metric_name("CPUUtilization")
            .dimensions(Dimension::builder().name("InstanceId").value(instance).build())
            .build();
        MetricDataQuery::builder()
            .id(id)
            .metric_stat(MetricStat::builder().metric(metric).period(period).stat("Average").build())
            .return_data(false)
            .build()
    }

    #[test]
    fn single_metric_math_and_scaling_alarms_are_read() {
        let single = Sdk::builder()
            .alarm_name("cpu")
            .state_value(StateValue::InsufficientData)
            .namespace("AWS/EC2")
            .metric_name("CPUUtilization")
            .dimensions(Dimension::builder().name("InstanceId").value("i-1").build())
            .period(10)
            .build();
        let a = alarm(&single).unwrap();
        assert_eq!((a.state.as_str(), a.metrics.len(), a.metrics[0].period), ("INSUFFICIENT_DATA", 1, Some(10)));
        assert_eq!(a.metrics[0].dimensions, [("InstanceId".to_owned(), "i-1".to_owned())]);
        let math = Sdk::builder()
            .alarm_name("band")
            .metrics(stat("m1", "i-1", 300))
            .metrics(stat("m2", "i-2", 300))
            .metrics(MetricDataQuery::builder().id("ad").expression("ANOMALY_DETECTION_BAND(m1, 2)").build())
            .alarm_actions(
                "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:abc:resource/dynamodb/table/t:policyName/p",
            )
            .build();
        let a = alarm(&math).unwrap();
        assert_eq!(a.metrics.len(), 2);
        assert!(a.anomaly_detection && a.scaling_policy && !a.metrics_insights && !a.other_account);
        let sns = Sdk::builder().alarm_name("notify").alarm_actions("arn:aws:sns:us-east-1:123456789012:ops").build();
        assert!(!alarm(&sns).unwrap().scaling_policy);
        let query = Sdk::builder()
            .alarm_name("insights")
            .metrics(
                MetricDataQuery::builder().id("q").expression("SELECT AVG(CPUUtilization) FROM \"AWS/EC2\"").build(),
            )
            .build();
        assert!(alarm(&query).unwrap().metrics_insights);
    }
}
