//! Lambda: provisioned concurrency configurations, found without listing functions
//! (ListFunctions and GetFunctionConfiguration return environment variables, a data read the
//! role does not grant). CloudWatch ListMetrics names every function whose provisioned
//! concurrency published `ProvisionedConcurrencyUtilization` in the last two weeks (metric
//! names and dimensions only); ListProvisionedConcurrencyConfigs then reads each one's
//! configurations. A configuration that was never invoked publishes no metric and is not seen,
//! which costs nothing here: without a series the rule would not flag it anyway.

use std::collections::BTreeSet;

use aws_sdk_ec2::error::ProvideErrorMetadata;
use chrono::{DateTime, Utc};

use super::ec2::all_pages;
use super::{action_error, Calls};
use costradar_core::rules::facts::ProvisionedConcurrency;

pub const UTILIZATION: &str = "ProvisionedConcurrencyUtilization";

pub async fn scan(
    lambda: &aws_sdk_lambda::Client,
    cloudwatch: &aws_sdk_cloudwatch::Client,
) -> (Option<Vec<ProvisionedConcurrency>>, Calls) {
    let mut calls = Calls::default();
    let names = all_pages!(
        calls,
        "cloudwatch:ListMetrics",
        cloudwatch.list_metrics().namespace("AWS/Lambda").metric_name(UTILIZATION).into_paginator(),
        |p| p
            .metrics()
            .iter()
            .filter(|m| m.dimensions().iter().any(|d| d.name() == Some("Resource")))
            .filter_map(|m| m.dimensions().iter().find(|d| d.name() == Some("FunctionName"))?.value())
            .map(str::to_owned)
            .collect::<Vec<_>>()
    );
    let Some(names) = names else { return (None, calls) };
    let mut out = Vec::new();
    for name in names.into_iter().collect::<BTreeSet<_>>() {
        let mut pages = lambda.list_provisioned_concurrency_configs().function_name(&name).into_paginator().send();
        while let Some(page) = pages.next().await {
            calls.count += 1;
            match page {
                Ok(p) => out.extend(p.provisioned_concurrency_configs().iter().filter_map(|c| config(&name, c))),
                // Deleted since CloudWatch saw it: nothing to report.
                Err(e) if e.code() == Some("ResourceNotFoundException") => break,
                Err(e) => {
                    calls.errors.push(action_error("lambda:ListProvisionedConcurrencyConfigs", &e));
                    return (None, calls);
                }
            }
        }
    }
    (Some(out), calls)
}

pub fn config(
    function_name: &str,
    c: &aws_sdk_lambda::types::ProvisionedConcurrencyConfigListItem,
) -> Option<ProvisionedConcurrency> {
    let arn = c.function_arn()?.to_owned();
    let qualifier = arn.rsplit_once(':').map(|(_, q)| q.to_owned())?;
    let n = |x: Option<i32>| x.and_then(|v| u32::try_from(v).ok()).unwrap_or(0);
    Some(ProvisionedConcurrency {
        function_name: function_name.to_owned(),
        qualifier,
        allocated: n(c.allocated_provisioned_concurrent_executions()),
        requested: n(c.requested_provisioned_concurrent_executions()),
        status: c.status().map_or("UNKNOWN", |s| s.as_str()).to_owned(),
        last_modified: c.last_modified().and_then(lambda_time),
        memory_mib: None,
        architecture: None,
        peak_utilization: None,
        arn,
    })
}

/// Lambda's timestamps: `2024-01-02T03:04:05.678+0000`.
pub fn lambda_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(s))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_timestamps_parse() {
        let t = lambda_time("2024-01-02T03:04:05.678+0000").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-01-02T03:04:05.678+00:00");
        assert!(lambda_time("2024-01-02T03:04:05Z").is_some());
        assert_eq!(lambda_time("yesterday"), None);
    }
}
