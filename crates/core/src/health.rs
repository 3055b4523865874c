//! The stack's health as the operator's staff see it (the console's `/ops` page): how many
//! messages wait in each dead-letter queue, and the state of each of the stack's CloudWatch
//! alarms. Port [`StackHealth`]; adapter `costradar_aws::health::CloudWatchHealth`; in tests,
//! moto (`tests/tests/ops_health.rs`) and a fake in the console's tests.
//!
//! Which queues and alarms: [`HealthConfig`], read from `COSTRADAR_DLQ_NAMES` (the stack's
//! dead-letter queues' names, comma-separated) and `COSTRADAR_ALARM_PREFIX` (the stack's alarm
//! names begin with it: CloudFormation names an alarm `<stack>-<logical id>-<suffix>`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

pub const DLQ_NAMES_VAR: &str = "COSTRADAR_DLQ_NAMES";
pub const ALARM_PREFIX_VAR: &str = "COSTRADAR_ALARM_PREFIX";
/// At most this many queues: the stack has three.
pub const MAX_QUEUES: usize = 20;

/// The queues and alarms to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthConfig {
    pub dlq_names: Vec<String>,
    pub alarm_prefix: String,
}

impl HealthConfig {
    /// Both variables, checked; the error names every variable missing or malformed, in plain
    /// words (the `/ops` page shows it).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let mut problems = Vec::new();
        let names = get(DLQ_NAMES_VAR).unwrap_or_default();
        let dlq_names: Vec<String> =
            names.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
        if dlq_names.is_empty() {
            problems.push(format!("{DLQ_NAMES_VAR} is not set (the stack's dead-letter queue names, comma-separated)"));
        } else if dlq_names.len() > MAX_QUEUES {
            problems.push(format!("{DLQ_NAMES_VAR} names more than {MAX_QUEUES} queues"));
        } else if let Some(bad) = dlq_names.iter().find(|n| !queue_name_ok(n)) {
            problems.push(format!(
                "{DLQ_NAMES_VAR}: {bad:?} is not an SQS queue name (1 to 80 letters, digits, - and _, optionally .fifo)"
            ));
        }
        let alarm_prefix = get(ALARM_PREFIX_VAR).unwrap_or_default().trim().to_owned();
        if alarm_prefix.is_empty() {
            problems.push(format!(
                "{ALARM_PREFIX_VAR} is not set (the stack's alarm names begin with it: '<stack name>-')"
            ));
        } else if alarm_prefix.len() > 255 || alarm_prefix.chars().any(char::is_control) {
            problems.push(format!("{ALARM_PREFIX_VAR}: at most 255 characters, no control characters"));
        }
        if problems.is_empty() {
            Ok(Self { dlq_names, alarm_prefix })
        } else {
            Err(problems.join("; "))
        }
    }
}

fn queue_name_ok(n: &str) -> bool {
    let base = n.strip_suffix(".fifo").unwrap_or(n);
    (1..=80).contains(&n.len())
        && !base.is_empty()
        && base.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// One dead-letter queue's depth.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueueDepth {
    pub queue: String,
    /// Messages waiting (the queue's `ApproximateNumberOfMessagesVisible`, its latest value);
    /// `None` when the queue could not be read (`error` says why) or reported nothing yet.
    pub messages: Option<u64>,
    pub error: Option<String>,
}

/// One alarm's state, as CloudWatch's DescribeAlarms returns it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlarmState {
    pub name: String,
    /// `OK`, `ALARM` or `INSUFFICIENT_DATA`.
    pub state: String,
    pub reason: String,
    pub description: String,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HealthReport {
    pub queues: Vec<QueueDepth>,
    pub alarms: Vec<AlarmState>,
    /// Why the alarms could not be listed, when they could not.
    pub alarms_error: Option<String>,
}

#[async_trait]
pub trait StackHealth: Send + Sync {
    /// Every configured queue (in order) and every alarm under the prefix (by name). Reading
    /// never fails as a whole: each part carries its own error.
    async fn report(&self) -> HealthReport;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn the_config_names_what_is_missing_or_malformed() {
        let ok = HealthConfig::from_lookup(lookup(&[
            (DLQ_NAMES_VAR, " costradar-OnboardingDlq-1 , costradar-SchedulerDlq-2,"),
            (ALARM_PREFIX_VAR, "costradar-"),
        ]))
        .unwrap();
        assert_eq!(ok.dlq_names, ["costradar-OnboardingDlq-1", "costradar-SchedulerDlq-2"]);
        assert_eq!(ok.alarm_prefix, "costradar-");
        let none = HealthConfig::from_lookup(lookup(&[])).unwrap_err();
        assert!(none.contains(DLQ_NAMES_VAR) && none.contains(ALARM_PREFIX_VAR), "{none}");
        for (names, prefix, var) in [
            ("a/b", "x-", DLQ_NAMES_VAR),
            ("q.fifo.fifo", "x-", DLQ_NAMES_VAR),
            (&*"q".repeat(81), "x-", DLQ_NAMES_VAR),
            ("https://sqs.us-east-1.amazonaws.com/1/q", "x-", DLQ_NAMES_VAR),
            ("q", "a\nb", ALARM_PREFIX_VAR),
            ("q", &*"p".repeat(256), ALARM_PREFIX_VAR),
        ] {
            let e =
                HealthConfig::from_lookup(lookup(&[(DLQ_NAMES_VAR, names), (ALARM_PREFIX_VAR, prefix)])).unwrap_err();
            assert!(e.starts_with(var), "{names:?} {prefix:?}: {e}");
        }
        let many = vec!["q"; MAX_QUEUES + 1].join(",");
        assert!(HealthConfig::from_lookup(lookup(&[(DLQ_NAMES_VAR, &many), (ALARM_PREFIX_VAR, "x")])).is_err());
        assert!(HealthConfig::from_lookup(lookup(&[(DLQ_NAMES_VAR, "q.fifo"), (ALARM_PREFIX_VAR, "x")])).is_ok());
    }
}
