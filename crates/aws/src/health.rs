//! The stack's health for the operator's `/ops` page ([`costradar_core::health::StackHealth`]),
//! read from CloudWatch alone:
//! - each dead-letter queue's depth: the latest 5-minute maximum of SQS's
//!   `AWS/SQS ApproximateNumberOfMessagesVisible` for the queue (`GetMetricData`, the last 30
//!   minutes). SQS publishes it every minute while the queue exists; it is what the stack's DLQ
//!   alarms watch. (The workspace has no SQS client; `sqs:GetQueueAttributes` would give the
//!   same count without the metric's few minutes of lag.)
//! - every alarm whose name begins with the stack's prefix (`DescribeAlarms` with
//!   `AlarmNamePrefix`, every page, at most [`MAX_ALARMS`]).
//!
//! IAM: `cloudwatch:GetMetricData` and `cloudwatch:DescribeAlarms`, neither of which takes a
//! resource narrower than `*` (the Service Authorization Reference lists no resource type for
//! them).

use async_trait::async_trait;
use aws_sdk_cloudwatch::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
use chrono::{DateTime, Utc};
use costradar_core::health::{AlarmState, HealthConfig, HealthReport, QueueDepth, StackHealth};

use crate::scan::smithy_time;

pub const MAX_ALARMS: usize = 500;
/// How far back a queue's depth is looked for.
const WINDOW_MINUTES: i64 = 30;

pub struct CloudWatchHealth {
    cw: aws_sdk_cloudwatch::Client,
    config: HealthConfig,
}

impl CloudWatchHealth {
    pub fn new(sdk: &aws_config::SdkConfig, config: HealthConfig) -> Self {
        Self { cw: aws_sdk_cloudwatch::Client::new(sdk), config }
    }

    /// From `COSTRADAR_DLQ_NAMES` and `COSTRADAR_ALARM_PREFIX`; the error says what is missing.
    pub fn from_lookup(sdk: &aws_config::SdkConfig, get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        HealthConfig::from_lookup(get).map(|c| Self::new(sdk, c))
    }

    async fn queues(&self) -> Vec<QueueDepth> {
        let end = Utc::now();
        let mut req = self
            .cw
            .get_metric_data()
            .start_time(smithy_time(end - chrono::Duration::minutes(WINDOW_MINUTES)))
            .end_time(smithy_time(end))
            .scan_by(ScanBy::TimestampDescending);
        for (i, q) in self.config.dlq_names.iter().enumerate() {
            let metric = Metric::builder()
                .namespace("AWS/SQS")
                .metric_name("ApproximateNumberOfMessagesVisible")
                .dimensions(Dimension::builder().name("QueueName").value(q).build())
                .build();
            let stat = MetricStat::builder().metric(metric).period(300).stat("Maximum").build();
            req = req.metric_data_queries(
                MetricDataQuery::builder().id(format!("q{i}")).metric_stat(stat).return_data(true).build(),
            );
        }
        let mut latest: Vec<Option<u64>> = vec![None; self.config.dlq_names.len()];
        let mut pages = req.into_paginator().send();
        while let Some(page) = pages.next().await {
            let out = match page {
                Ok(o) => o,
                Err(e) => {
                    let why = describe(&e);
                    return self.config.dlq_names.iter().map(|q| depth(q, None, Some(why.clone()))).collect();
                }
            };
            for r in out.metric_data_results() {
                let Some(i) = r.id().and_then(|id| id.strip_prefix('q')).and_then(|n| n.parse::<usize>().ok()) else {
                    continue;
                };
                // Newest first: the first value of a query is its latest.
                let newest = r.timestamps().iter().zip(r.values()).max_by_key(|(t, _)| t.secs()).map(|(_, v)| *v);
                if let (Some(slot), Some(v)) = (latest.get_mut(i), newest) {
                    if slot.is_none() && v.is_finite() && v >= 0.0 {
                        *slot = Some(v.round() as u64);
                    }
                }
            }
        }
        self.config.dlq_names.iter().zip(latest).map(|(q, n)| depth(q, n, None)).collect()
    }

    async fn alarms(&self) -> Result<Vec<AlarmState>, String> {
        let mut out = Vec::new();
        let mut pages = self
            .cw
            .describe_alarms()
            .alarm_name_prefix(&self.config.alarm_prefix)
            .max_records(100)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| describe(&e))?;
            for a in page.metric_alarms() {
                out.push(AlarmState {
                    name: a.alarm_name().unwrap_or_default().to_owned(),
                    state: a.state_value().map(|s| s.as_str().to_owned()).unwrap_or_else(|| "UNKNOWN".into()),
                    reason: a.state_reason().unwrap_or_default().to_owned(),
                    description: a.alarm_description().unwrap_or_default().to_owned(),
                    updated_at: a.state_updated_timestamp().and_then(|t| DateTime::from_timestamp(t.secs(), 0)),
                });
            }
            if out.len() >= MAX_ALARMS {
                out.truncate(MAX_ALARMS);
                break;
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}

fn depth(queue: &str, messages: Option<u64>, error: Option<String>) -> QueueDepth {
    QueueDepth { queue: queue.to_owned(), messages, error }
}

/// An SDK error as the page shows it: AWS's code and message (AccessDenied, …), or the
/// transport's failure.
fn describe<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    e: &aws_sdk_cloudwatch::error::SdkError<E, R>,
) -> String {
    match (e.code(), e.message()) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.to_owned(),
        _ => DisplayErrorContext(e).to_string(),
    }
}

#[async_trait]
impl StackHealth for CloudWatchHealth {
    async fn report(&self) -> HealthReport {
        let (queues, alarms) = tokio::join!(self.queues(), self.alarms());
        match alarms {
            Ok(alarms) => HealthReport { queues, alarms, alarms_error: None },
            Err(e) => HealthReport { queues, alarms: Vec::new(), alarms_error: Some(e) },
        }
    }
}
