//! The `/ops` page's source (`costradar_aws::health::CloudWatchHealth`) against moto's
//! CloudWatch: dead-letter queue depths from `AWS/SQS ApproximateNumberOfMessagesVisible`
//! (`GetMetricData`), the stack's alarms by name prefix (`DescribeAlarms`).
//!
//! moto's SQS does not publish CloudWatch metrics as SQS does, so the test publishes the queue
//! metric itself (`PutMetricData` in the `AWS/SQS` namespace, the queue's name as dimension):
//! what is exercised is our GetMetricData query and its reading of the newest value.

use aws_sdk_cloudwatch::primitives::DateTime as SmithyTime;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, MetricDatum, StateValue, Statistic};
use chrono::Utc;
use costradar_aws::health::CloudWatchHealth;
use costradar_core::health::{HealthConfig, StackHealth};
use costradar_tests::sdk_config;

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}-{}", std::process::id(), Utc::now().timestamp_micros())
}

async fn queue_depth(cw: &aws_sdk_cloudwatch::Client, queue: &str, minutes_ago: i64, value: f64) {
    let at = Utc::now() - chrono::Duration::minutes(minutes_ago);
    cw.put_metric_data()
        .namespace("AWS/SQS")
        .metric_data(
            MetricDatum::builder()
                .metric_name("ApproximateNumberOfMessagesVisible")
                .dimensions(Dimension::builder().name("QueueName").value(queue).build())
                .timestamp(SmithyTime::from_secs(at.timestamp()))
                .value(value)
                .build(),
        )
        .send()
        .await
        .expect("put metric data in moto");
}

async fn alarm(cw: &aws_sdk_cloudwatch::Client, name: &str, queue: &str) {
    cw.put_metric_alarm()
        .alarm_name(name)
        .alarm_description(format!("{queue} has messages"))
        .namespace("AWS/SQS")
        .metric_name("ApproximateNumberOfMessagesVisible")
        .dimensions(Dimension::builder().name("QueueName").value(queue).build())
        .statistic(Statistic::Maximum)
        .period(300)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .send()
        .await
        .expect("put alarm in moto");
}

#[tokio::test]
async fn the_queues_depths_and_the_stacks_alarms_are_read_from_cloudwatch() {
    let sdk = sdk_config().await;
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let stack = unique("ops");
    let (busy, empty, silent) =
        (format!("{stack}-SchedulerDlq"), format!("{stack}-OnboardingDlq"), format!("{stack}-CrDlq"));
    queue_depth(&cw, &busy, 9, 1.0).await;
    queue_depth(&cw, &busy, 2, 4.0).await;
    queue_depth(&cw, &empty, 2, 0.0).await;
    // An old value, outside the window: the queue counts as "no data yet".
    queue_depth(&cw, &silent, 120, 7.0).await;
    for (logical, queue) in [("SchedulerDlqAlarm", &busy), ("OnboardingDlqAlarm", &empty)] {
        alarm(&cw, &format!("{stack}-{logical}-ABC"), queue).await;
    }
    alarm(&cw, &format!("other-{stack}-SchedulerDlqAlarm-ABC"), &busy).await;
    for (logical, state, reason) in [
        ("SchedulerDlqAlarm", StateValue::Alarm, "Threshold Crossed: 1 datapoint [4.0] was >= 1.0"),
        ("OnboardingDlqAlarm", StateValue::InsufficientData, "Insufficient Data: 1 datapoint was unknown"),
    ] {
        cw.set_alarm_state()
            .alarm_name(format!("{stack}-{logical}-ABC"))
            .state_value(state)
            .state_reason(reason)
            .send()
            .await
            .expect("set alarm state in moto");
    }

    let config = HealthConfig {
        dlq_names: vec![busy.clone(), empty.clone(), silent.clone()],
        alarm_prefix: format!("{stack}-"),
    };
    let report = CloudWatchHealth::new(&sdk, config).report().await;
    let depths: Vec<(&str, Option<u64>, Option<&str>)> =
        report.queues.iter().map(|q| (q.queue.as_str(), q.messages, q.error.as_deref())).collect();
    assert_eq!(
        depths,
        [(busy.as_str(), Some(4), None), (empty.as_str(), Some(0), None), (silent.as_str(), None, None)]
    );
    assert_eq!(report.alarms_error, None);
    let alarms: Vec<(&str, &str)> = report.alarms.iter().map(|a| (a.name.as_str(), a.state.as_str())).collect();
    let (onboarding, scheduler) = (format!("{stack}-OnboardingDlqAlarm-ABC"), format!("{stack}-SchedulerDlqAlarm-ABC"));
    assert_eq!(
        alarms,
        [(onboarding.as_str(), "INSUFFICIENT_DATA"), (scheduler.as_str(), "ALARM")],
        "the prefix only, by name"
    );
    let firing = &report.alarms[1];
    assert!(firing.reason.starts_with("Threshold Crossed"), "{firing:?}");
    assert_eq!(firing.description, format!("{busy} has messages"));
    assert!(firing.updated_at.is_some());
}

#[tokio::test]
async fn an_unreachable_cloudwatch_is_shown_per_part_not_as_a_failure_of_the_page() {
    // Nothing listens on port 9 of loopback: every call fails at once.
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url("http://127.0.0.1:9")
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_cloudwatch::config::Credentials::new("t", "t", None, None, "test"))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await;
    let config = HealthConfig { dlq_names: vec!["q1".into(), "q2".into()], alarm_prefix: "costradar-".into() };
    let report = CloudWatchHealth::new(&sdk, config).report().await;
    assert_eq!(report.queues.len(), 2);
    assert!(report.queues.iter().all(|q| q.messages.is_none() && q.error.is_some()), "{:?}", report.queues);
    assert!(report.alarms.is_empty() && report.alarms_error.is_some());
}

#[tokio::test]
async fn without_the_queue_names_or_the_prefix_the_source_says_what_is_missing() {
    let sdk = sdk_config().await;
    let missing = CloudWatchHealth::from_lookup(&sdk, |_| None).err().expect("nothing configured");
    assert!(missing.contains("COSTRADAR_DLQ_NAMES") && missing.contains("COSTRADAR_ALARM_PREFIX"), "{missing}");
    let bad = CloudWatchHealth::from_lookup(&sdk, |k| match k {
        "COSTRADAR_DLQ_NAMES" => Some("https://sqs.us-east-1.amazonaws.com/111122223333/q".into()),
        "COSTRADAR_ALARM_PREFIX" => Some("costradar-".into()),
        _ => None,
    })
    .err()
    .expect("a URL is not a queue name");
    assert!(bad.starts_with("COSTRADAR_DLQ_NAMES"), "{bad}");
}
