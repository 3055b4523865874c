//! Classifies CloudWatch calls from CloudTrail (`monitoring.amazonaws.com`): PutMetricAlarm.
//! AWS bills an alarm per alarm metric per month: a single-metric alarm is one; a metric math
//! alarm is one per metric it retrieves (`metrics[].metricStat`, the expressions are free); an
//! anomaly detection band adds two (its upper and lower bounds: AWS prices such an alarm at
//! three metrics). High resolution (a period under 60 s) has its own rate.

use serde_json_borrow::Value as Json;

use super::{field, num_at, str_at, string_at, Change, EventKind, InvalidInput};

/// PutMetricAlarm accepts at most 20 entries in `Metrics` (10 metrics and 10 expressions).
pub const MAX_ALARM_QUERIES: usize = 20;

/// A period in seconds: a day is the most an alarm evaluates; anything up to a year is read.
const MAX_PERIOD: u64 = 366 * 86_400;

/// Classifies the CloudWatch call `name` from its request.
pub(super) fn classify(name: &str, req: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    if name != "PutMetricAlarm" {
        return Ok((EventKind::Unknown, Change::Unknown));
    }
    let queries = field(req, "metrics");
    let (metrics, shortest, insights_query) = match queries {
        Json::Null => (1, period(req, "requestParameters.period")?, false),
        Json::Array(list) if list.len() <= MAX_ALARM_QUERIES => metric_math(list)?,
        _ => {
            return Err(InvalidInput::new(
                "detail.requestParameters.metrics",
                format!("a metric alarm has at most {MAX_ALARM_QUERIES} metrics and expressions"),
            ))
        }
    };
    let change = Change::MetricAlarm {
        alarm: string_at(req, &["alarmName"]),
        metrics,
        high_resolution: shortest.is_some_and(|p| p < 60),
        insights_query,
    };
    Ok((EventKind::CloudwatchPutMetricAlarm, change))
}

/// A period in seconds at `path` of `v`, when there is one.
fn period(v: &Json<'_>, field: &str) -> Result<Option<u64>, InvalidInput> {
    num_at(v, &["period"], field, MAX_PERIOD)
}

/// A metric math alarm's `metrics`: the alarm metrics it is billed for, its shortest period,
/// and whether it is a Metrics Insights query (billed per metric the query reads, which the
/// event does not say).
fn metric_math(list: &[Json<'_>]) -> Result<(u32, Option<u64>, bool), InvalidInput> {
    let (mut metrics, mut shortest, mut insights) = (0u32, None::<u64>, false);
    for (i, q) in list.iter().enumerate() {
        let stat = field(q, "metricStat");
        let p = if stat.is_null() {
            period(q, &format!("requestParameters.metrics.{i}.period"))?
        } else {
            metrics += 1;
            period(stat, &format!("requestParameters.metrics.{i}.metricStat.period"))?
        };
        shortest = match (shortest, p) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(e) = str_at(q, &["expression"]) {
            let upper = e.trim_start().to_ascii_uppercase();
            insights |= upper.starts_with("SELECT");
            // One band per expression (an alarm watches one): at most 20 entries, so bounded.
            if upper.contains("ANOMALY_DETECTION_BAND") {
                metrics += 2;
            }
        }
    }
    if insights && metrics == 0 {
        metrics = 1;
    }
    Ok((metrics, shortest, insights))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(req: &str) -> Result<Change, InvalidInput> {
        let req: Json<'_> = serde_json::from_str(req).unwrap();
        classify("PutMetricAlarm", &req).map(|(_, c)| c)
    }

    fn counted(req: &str) -> (u32, bool, bool) {
        match alarm(req).unwrap() {
            Change::MetricAlarm { metrics, high_resolution, insights_query, .. } => {
                (metrics, high_resolution, insights_query)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn single_metric_and_metric_math_alarms() {
        // AWS's documented record: one metric, 60 s (standard resolution).
        let one = r#"{"alarmName": "a", "metricName": "CloudTrail Test", "namespace": "AWS/CloudWatch", "period": 60}"#;
        assert_eq!(counted(one), (1, false, false));
        assert_eq!(counted(r#"{"metricName": "m", "period": 10}"#), (1, true, false));
        // Two metrics and an expression at 30 s: two high-resolution alarm metrics.
        let math = r#"{"metrics": [
            {"id": "m1", "metricStat": {"metric": {"metricName": "Errors"}, "period": 30, "stat": "Sum"}, "returnData": false},
            {"id": "m2", "metricStat": {"metric": {"metricName": "Invocations"}, "period": 60, "stat": "Sum"}, "returnData": false},
            {"id": "e1", "expression": "100 * m1 / m2", "returnData": true}]}"#;
        assert_eq!(counted(math), (2, true, false));
        // Anomaly detection: the metric plus its band's two bounds.
        let band = r#"{"metrics": [
            {"id": "m1", "metricStat": {"metric": {"metricName": "CPUUtilization"}, "period": 300, "stat": "Average"}},
            {"id": "ad1", "expression": "ANOMALY_DETECTION_BAND(m1, 2)", "returnData": true}]}"#;
        assert_eq!(counted(band), (3, false, false));
        let insights = r#"{"metrics": [{"id": "q1", "expression": "SELECT AVG(CPUUtilization) FROM SCHEMA(\"AWS/EC2\", InstanceId)", "period": 60, "returnData": true}]}"#;
        assert_eq!(counted(insights), (1, false, true));
        assert_eq!(
            alarm("{}").unwrap(),
            Change::MetricAlarm { alarm: None, metrics: 1, high_resolution: false, insights_query: false }
        );
    }

    #[test]
    fn ten_thousand_metrics_or_a_bad_period_are_refused() {
        let q = r#"{"id": "m", "metricStat": {"metric": {"metricName": "x"}, "period": 60}}"#;
        let huge = format!(r#"{{"metrics": [{}]}}"#, vec![q; 10_000].join(","));
        let e = alarm(&huge).unwrap_err();
        assert_eq!(e.field, "detail.requestParameters.metrics", "{e}");
        let at_limit = format!(r#"{{"metrics": [{}]}}"#, vec![q; MAX_ALARM_QUERIES].join(","));
        assert_eq!(counted(&at_limit), (20, false, false));
        assert!(alarm(r#"{"metrics": {"id": "m"}}"#).is_err(), "metrics must be a list");
        // An expression naming 10,000 metrics is billed for the metrics the alarm retrieves.
        let terms: Vec<String> = (0..10_000).map(|i| format!("m{i}")).collect();
        let expr =
            format!(r#"{{"metrics": [{q}, {{"id": "e", "expression": "{}", "returnData": true}}]}}"#, terms.join("+"));
        assert_eq!(counted(&expr), (1, false, false));
        let bands = format!(
            r#"{{"metrics": [{q}, {{"id": "e", "expression": "{}"}}]}}"#,
            vec!["ANOMALY_DETECTION_BAND(m, 2)"; 10_000].join("+")
        );
        assert_eq!(counted(&bands), (3, false, false));
        for p in ["-60", "6.5", "\"soon\"", "1e12"] {
            let e = alarm(&format!(r#"{{"period": {p}}}"#)).unwrap_err();
            assert!(e.field.ends_with("period"), "{p}: {e}");
            let e = alarm(&format!(r#"{{"metrics": [{{"metricStat": {{"period": {p}}}}}]}}"#)).unwrap_err();
            assert!(e.field.ends_with("metrics.0.metricStat.period"), "{p}: {e}");
        }
    }
}
