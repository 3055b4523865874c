//! CloudWatch metric alarms. AWS bills an alarm per metric it reads, each month: a metric of
//! period ≥ 60 s at the standard-resolution rate, of 10 or 30 s at the high-resolution rate. An
//! alarm on a metric-math expression pays for every metric in it; an anomaly-detection alarm for
//! three per metric (the metric and the band's two bounds). Alarm cost = Σ its metrics × the rate
//! of their resolution. The first 10 standard alarm metrics of an account are free each month
//! (AWS Free Tier): an account with fewer sees no change on its bill, which the evidence says.
//!
//! - `cloudwatch.insufficient-data-alarm`: state `INSUFFICIENT_DATA`, neither its state nor its
//!   configuration changed for `alarm_insufficient_data_days`: in all that time it had no
//!   datapoint to evaluate (its metric stopped, or its resource is gone). Saving = cost (delete).
//!   Low confidence: an alarm on a metric AWS publishes only when something happens (error
//!   counts) sits in this state too and still guards something; the alternative keeps it with
//!   `--treat-missing-data notBreaching`.
//! - `cloudwatch.alarm-on-deleted-resource`: every metric it reads names a resource
//!   (`InstanceId`, `VolumeId`, `DBInstanceIdentifier`, `LoadBalancer`, `NatGatewayId`) that this
//!   region's complete listing no longer shows (or shows terminated or deleted). Saving = cost
//!   (delete). Kinds whose listing failed are never judged ([`resolve_targets`]).
//!
//! Neither rule reads an alarm an Auto Scaling or Application Auto Scaling policy acts on (the
//! policy owns it and target tracking re-creates it), nor a deleted-resource alarm on another
//! account's metrics. A Metrics Insights alarm (`SELECT ...`) is billed per series it reads,
//! which the scan does not know: its finding stands without a saving.

use rust_decimal::Decimal;

use super::draft::{aws_cli, whole_days, Ctx, Draft, Pricer};
use super::facts::{AlarmMetric, AlarmTarget, MetricAlarm, RegionInventory};
use crate::domain::finding::Confidence;
use crate::domain::money::usd;
use crate::pricing::Sku;
use crate::scan::Listed;

pub const INSUFFICIENT_DATA: &str = "cloudwatch.insufficient-data-alarm";
pub const DELETED_RESOURCE: &str = "cloudwatch.alarm-on-deleted-resource";

/// An anomaly-detection alarm is billed as this many alarm metrics per metric.
pub const ANOMALY_DETECTION_METRICS: u32 = 3;

/// Standard alarm metrics the AWS Free Tier covers each month, account-wide.
pub const FREE_TIER_ALARM_METRICS: u32 = 10;

/// A kind of resource an alarm can name, and the listing that shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Instance,
    Volume,
    DbInstance,
    LoadBalancer,
    NatGateway,
}

/// The dimensions that name one resource of a listing the scan makes, and the namespaces in
/// which they do (elsewhere the same name may mean something else).
const TARGETS: &[(&str, &[&str], Kind)] = &[
    ("InstanceId", &["AWS/EC2", "CWAgent"], Kind::Instance),
    ("VolumeId", &["AWS/EBS"], Kind::Volume),
    ("DBInstanceIdentifier", &["AWS/RDS"], Kind::DbInstance),
    ("LoadBalancer", &["AWS/ApplicationELB", "AWS/NetworkELB", "AWS/GatewayELB"], Kind::LoadBalancer),
    ("NatGatewayId", &["AWS/NATGateway"], Kind::NatGateway),
];

fn complete(kind: Kind, listed: &Listed) -> bool {
    match kind {
        Kind::Instance => listed.instances,
        Kind::Volume => listed.volumes,
        Kind::DbInstance => listed.db_instances,
        Kind::LoadBalancer => listed.load_balancers,
        Kind::NatGateway => listed.nat_gateways,
    }
}

/// Whether the listing shows the resource, and not terminated or deleted.
fn exists(inv: &RegionInventory, kind: Kind, id: &str) -> bool {
    match kind {
        Kind::Instance => inv.instances.iter().any(|i| i.id == id && i.state != "terminated"),
        Kind::Volume => inv.volumes.iter().any(|v| v.id == id && v.state != "deleted"),
        Kind::DbInstance => inv.db_instances.iter().any(|d| d.id == id),
        // The dimension is the ARN's tail: `app/<name>/<id>`.
        Kind::LoadBalancer => {
            inv.load_balancers.iter().any(|l| l.arn.split_once(":loadbalancer/").is_some_and(|(_, tail)| tail == id))
        }
        Kind::NatGateway => inv.nat_gateways.iter().any(|n| n.id == id && n.state != "deleted"),
    }
}

fn target_of(m: &AlarmMetric) -> Option<(Kind, &str, &str)> {
    TARGETS.iter().find_map(|(dim, namespaces, kind)| {
        if !namespaces.contains(&m.namespace.as_str()) {
            return None;
        }
        m.dimensions.iter().find(|(n, _)| n == dim).map(|(n, v)| (*kind, n.as_str(), v.as_str()))
    })
}

/// Looks up the resource each alarm metric names in this region's listings, judging only kinds
/// whose listing `listed` says is complete. Called by the scanner once every listing is in the
/// inventory, before the scan drops the facts of incomplete ones (`scan::keep_dependable`).
pub fn resolve_targets(inv: &mut RegionInventory, listed: &Listed) {
    let mut alarms = std::mem::take(&mut inv.metric_alarms);
    for m in alarms.iter_mut().flat_map(|a| a.metrics.iter_mut()) {
        m.target = target_of(m).map(|(kind, dim, id)| AlarmTarget {
            dimension: dim.to_owned(),
            id: id.to_owned(),
            exists: complete(kind, listed).then(|| exists(inv, kind, id)),
        });
    }
    inv.metric_alarms = alarms;
}

pub fn evaluate(ctx: &Ctx<'_>, inv: &RegionInventory, out: &mut Vec<Draft>) {
    for a in inv.metric_alarms.iter().filter(|a| !a.scaling_policy) {
        insufficient_data(ctx, inv, a, out);
        deleted_resource(ctx, inv, a, out);
    }
}

fn base(ctx: &Ctx<'_>, inv: &RegionInventory, a: &MetricAlarm, rule: &str, title: String) -> Draft {
    let arn = a
        .arn
        .clone()
        .unwrap_or_else(|| format!("arn:aws:cloudwatch:{}:{}:alarm:{}", inv.region, ctx.account_id, a.name));
    let mut d = Draft::new(rule, arn.clone(), Some(arn), &inv.region, title);
    d.fix_command = aws_cli("cloudwatch", "delete-alarms", &[("--alarm-names", &a.name)], &inv.region);
    d
}

/// (standard, high-resolution) alarm metrics AWS bills for the alarm.
pub fn billed_metrics(a: &MetricAlarm) -> (u32, u32) {
    let high = a.metrics.iter().filter(|m| m.period.is_some_and(|p| p < 60)).count() as u32;
    let standard = (a.metrics.len() as u32 - high).max(u32::from(a.metrics.is_empty()));
    let k = if a.anomaly_detection { ANOMALY_DETECTION_METRICS } else { 1 };
    (standard * k, high * k)
}

/// Prices the alarm into the draft: cost, saving (= cost) and the arithmetic; without a saving
/// when AWS's bill for it cannot be known or the book lacks a rate.
fn price(p: &mut Pricer<'_>, a: &MetricAlarm, d: &mut Draft) {
    if a.metrics_insights {
        d.evidence.push(
            "a Metrics Insights alarm is billed per series its query reads, which the scan does not know: no saving is estimated"
                .into(),
        );
        return;
    }
    let (standard, high) = billed_metrics(a);
    let mut total = Decimal::ZERO;
    let mut terms = vec![];
    for (n, high_resolution, what) in [(standard, false, "standard-resolution"), (high, true, "high-resolution")] {
        if n == 0 {
            continue;
        }
        let Some(rate) = p.rate(&Sku::CloudWatchAlarm { high_resolution }) else {
            d.evidence.push(format!("the {what} alarm rate is not in the price book: no saving is estimated"));
            return;
        };
        total += rate * Decimal::from(n);
        terms.push(format!("{n} {what} alarm metric{} × ${rate}/month", if n == 1 { "" } else { "s" }));
    }
    if a.anomaly_detection {
        d.evidence.push(format!("anomaly detection: AWS bills {ANOMALY_DETECTION_METRICS} alarm metrics per metric"));
    }
    d.evidence.push(format!("{} = ${}", terms.join(" + "), usd(total)));
    d.evidence.extend(p.source_line());
    d.evidence.push(format!(
        "the first {FREE_TIER_ALARM_METRICS} standard alarm metrics of the account are free each month: below that, deleting it changes no bill"
    ));
    d.monthly_cost_usd = Some(total);
    d.monthly_savings_usd = Some(total);
    d.price_source = p.source();
}

fn describe_metrics(a: &MetricAlarm) -> String {
    let names: Vec<String> = a
        .metrics
        .iter()
        .map(|m| {
            let dims: Vec<String> = m.dimensions.iter().map(|(n, v)| format!("{n}={v}")).collect();
            format!("{} {} [{}]", m.namespace, m.name, dims.join(", "))
        })
        .collect();
    if names.is_empty() {
        "no metric".into()
    } else {
        names.join("; ")
    }
}

fn insufficient_data(ctx: &Ctx<'_>, inv: &RegionInventory, a: &MetricAlarm, out: &mut Vec<Draft>) {
    let days = ctx.settings.alarm_insufficient_data_days;
    let (Some(state_at), Some(config_at)) = (a.state_updated, a.config_updated) else { return };
    if a.state != "INSUFFICIENT_DATA" || !ctx.at_least(state_at, days) || !ctx.at_least(config_at, days) {
        return;
    }
    let since = whole_days(state_at, ctx.now);
    let title = format!("Alarm {} has had no data to evaluate for {since} days", a.name);
    let mut d = base(ctx, inv, a, INSUFFICIENT_DATA, title);
    d.evidence.push(format!(
        "state INSUFFICIENT_DATA since {} ({since} days, StateUpdatedTimestamp); configuration unchanged since {} (AlarmConfigurationUpdatedTimestamp); threshold {days} days",
        state_at.format("%Y-%m-%d"),
        config_at.format("%Y-%m-%d"),
    ));
    d.evidence.push(format!("it reads: {}", describe_metrics(a)));
    d.evidence.push(
        "a metric published only when something happens (error counts) leaves an alarm in this state too: keep such an alarm and treat missing data as not breaching"
            .into(),
    );
    let mut p = ctx.pricer(&inv.region);
    price(&mut p, a, &mut d);
    d.confidence = Confidence::Low;
    d.alternative = Some(
        "for a metric published only when something happens (error counts): keep the alarm and put it again with --treat-missing-data notBreaching"
            .into(),
    );
    out.push(d);
}

fn deleted_resource(ctx: &Ctx<'_>, inv: &RegionInventory, a: &MetricAlarm, out: &mut Vec<Draft>) {
    if a.other_account || a.metrics.is_empty() {
        return;
    }
    let targets: Option<Vec<&AlarmTarget>> = a.metrics.iter().map(|m| m.target.as_ref()).collect();
    let Some(targets) = targets else { return };
    if !targets.iter().all(|t| t.exists == Some(false)) {
        return;
    }
    let names: Vec<String> = targets.iter().map(|t| format!("{} {}", t.dimension, t.id)).collect();
    let title = format!("Alarm {} watches {} that no longer exists", a.name, names.join(", "));
    let mut d = base(ctx, inv, a, DELETED_RESOURCE, title);
    for t in &targets {
        d.evidence.push(format!(
            "{} {}: not in this region's complete listing (or terminated or deleted)",
            t.dimension, t.id
        ));
    }
    d.evidence.push(format!("alarm state {}: it can never evaluate its metric again", a.state));
    let mut p = ctx.pricer(&inv.region);
    price(&mut p, a, &mut d);
    d.confidence = Confidence::High;
    out.push(d);
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::settings::ScanSettings;
    use crate::rules::facts::{LoadBalancer, NatGateway};
    use crate::rules::testkit::*;

    fn metric(namespace: &str, dim: (&str, &str), period: i32) -> AlarmMetric {
        AlarmMetric {
            namespace: namespace.into(),
            name: "CPUUtilization".into(),
            dimensions: vec![(dim.0.into(), dim.1.into())],
            period: Some(period),
            target: None,
        }
    }

    fn alarm(name: &str, state: &str, days_ago: i64, metrics: Vec<AlarmMetric>) -> MetricAlarm {
        MetricAlarm {
            name: name.into(),
            arn: Some(format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}")),
            state: state.into(),
            state_updated: Some(now() - Duration::days(days_ago)),
            config_updated: Some(now() - Duration::days(days_ago + 10)),
            metrics,
            anomaly_detection: false,
            metrics_insights: false,
            scaling_policy: false,
            other_account: false,
        }
    }

    fn inv(alarms: Vec<MetricAlarm>) -> RegionInventory {
        let mut inv = RegionInventory::new("us-east-1");
        inv.metric_alarms = alarms;
        inv
    }

    #[test]
    fn an_alarm_without_data_for_the_whole_window_is_flagged_at_its_metrics_price() {
        let quiet = alarm("disk-full", "INSUFFICIENT_DATA", 30, vec![metric("CWAgent", ("InstanceId", "i-1"), 300)]);
        let d = only(run(evaluate, &inv(vec![quiet])), INSUFFICIENT_DATA);
        // 1 standard alarm metric × $0.10.
        assert_eq!(d.monthly_savings_usd, Some(dec("0.10")));
        assert_eq!(d.confidence, Confidence::Low);
        assert_eq!(d.fix_command, "aws cloudwatch delete-alarms --alarm-names disk-full --region us-east-1");
        assert!(d.evidence.iter().any(|e| e == "1 standard-resolution alarm metric × $0.1/month = $0.10"), "{d:#?}");
        assert!(d.evidence.iter().any(|e| e.contains("free each month")));
        assert_eq!(d.resource_id, "arn:aws:cloudwatch:us-east-1:123456789012:alarm:disk-full");
    }

    #[test]
    fn recent_state_or_configuration_changes_and_other_states_are_not_flagged() {
        let m = || vec![metric("AWS/EC2", ("InstanceId", "i-1"), 60)];
        let ok = alarm("ok", "OK", 60, m());
        let alarming = alarm("firing", "ALARM", 60, m());
        let recent = alarm("recent", "INSUFFICIENT_DATA", 3, m());
        let mut reconfigured = alarm("reconfigured", "INSUFFICIENT_DATA", 60, m());
        reconfigured.config_updated = Some(now() - Duration::days(2));
        let mut scaling = alarm("TargetTracking-table-AlarmLow", "INSUFFICIENT_DATA", 60, m());
        scaling.scaling_policy = true;
        let mut unknown_time = alarm("unknown", "INSUFFICIENT_DATA", 60, m());
        unknown_time.state_updated = None;
        assert!(run(evaluate, &inv(vec![ok, alarming, recent, reconfigured, scaling, unknown_time])).is_empty());
        // The threshold is a setting.
        let settings = ScanSettings { alarm_insufficient_data_days: 2, ..Default::default() };
        let recent = alarm("recent", "INSUFFICIENT_DATA", 3, m());
        assert_eq!(run_with(evaluate, &settings, &inv(vec![recent])).len(), 1);
    }

    #[test]
    fn metric_math_high_resolution_and_anomaly_detection_are_priced_per_billed_metric() {
        let math = alarm(
            "sum",
            "INSUFFICIENT_DATA",
            30,
            vec![
                metric("Custom", ("Host", "a"), 60),
                metric("Custom", ("Host", "b"), 60),
                metric("Custom", ("Host", "c"), 10),
            ],
        );
        assert_eq!(billed_metrics(&math), (2, 1));
        // 2 × $0.10 + 1 × $0.30.
        assert_eq!(only(run(evaluate, &inv(vec![math])), INSUFFICIENT_DATA).monthly_savings_usd, Some(dec("0.50")));
        let mut band = alarm("band", "INSUFFICIENT_DATA", 30, vec![metric("Custom", ("Host", "a"), 300)]);
        band.anomaly_detection = true;
        assert_eq!(billed_metrics(&band), (3, 0));
        let d = only(run(evaluate, &inv(vec![band])), INSUFFICIENT_DATA);
        assert_eq!(d.monthly_savings_usd, Some(dec("0.30")));
        let mut insights = alarm("query", "INSUFFICIENT_DATA", 30, vec![]);
        insights.metrics_insights = true;
        let d = only(run(evaluate, &inv(vec![insights])), INSUFFICIENT_DATA);
        assert_eq!(d.monthly_savings_usd, None, "billed per series read: unknown");
        assert!(d.evidence.iter().any(|e| e.contains("Metrics Insights")));
    }

    #[test]
    fn a_missing_rate_keeps_the_finding_without_a_saving() {
        let quiet = alarm("disk-full", "INSUFFICIENT_DATA", 30, vec![metric("CWAgent", ("InstanceId", "i-1"), 300)]);
        let mut i = inv(vec![quiet]);
        i.region = "xx-nowhere-1".into();
        let d = only(run(evaluate, &i), INSUFFICIENT_DATA);
        assert_eq!((d.monthly_cost_usd, d.monthly_savings_usd), (None, None));
        assert!(d.evidence.iter().any(|e| e.contains("not in the price book")), "{d:#?}");
    }

    fn listed() -> Listed {
        Listed::all()
    }

    #[test]
    fn alarms_on_resources_gone_from_complete_listings_are_flagged() {
        let mut i = inv(vec![
            alarm("cpu-gone", "OK", 1, vec![metric("AWS/EC2", ("InstanceId", "i-gone"), 300)]),
            alarm("cpu-terminated", "ALARM", 1, vec![metric("AWS/EC2", ("InstanceId", "i-dead"), 300)]),
            alarm("cpu-live", "OK", 1, vec![metric("AWS/EC2", ("InstanceId", "i-live"), 300)]),
            alarm("lb-live", "OK", 1, vec![metric("AWS/ApplicationELB", ("LoadBalancer", "app/web/abc"), 60)]),
            alarm("nat-gone", "INSUFFICIENT_DATA", 1, vec![metric("AWS/NATGateway", ("NatGatewayId", "nat-1"), 60)]),
            // Same dimension name in a namespace where it names nothing of ours.
            alarm("custom", "OK", 1, vec![metric("MyApp", ("InstanceId", "i-gone"), 60)]),
            // One live and one gone metric: the alarm still watches something.
            alarm(
                "mixed",
                "OK",
                1,
                vec![metric("AWS/EC2", ("InstanceId", "i-gone"), 60), metric("AWS/EC2", ("InstanceId", "i-live"), 60)],
            ),
        ]);
        i.instances = vec![instance("i-live", "m5.large", "running"), instance("i-dead", "m5.large", "terminated")];
        i.load_balancers.push(LoadBalancer {
            arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/abc".into(),
            name: "web".into(),
            kind: "application".into(),
            state: "active".into(),
            created: now(),
            target_groups: vec![],
            allocation_ids: vec![],
            no_targets_since: None,
        });
        i.nat_gateways.push(NatGateway {
            id: "nat-1".into(),
            state: "deleted".into(),
            created: now() - Duration::days(90),
            allocation_ids: vec![],
            tags: Default::default(),
            bytes_processed: None,
        });
        resolve_targets(&mut i, &listed());
        let mut flagged: Vec<String> =
            run(evaluate, &i).into_iter().filter(|d| d.rule == DELETED_RESOURCE).map(|d| d.resource_id).collect();
        flagged.sort();
        let arn = |n: &str| format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:{n}");
        assert_eq!(flagged, [arn("cpu-gone"), arn("cpu-terminated"), arn("nat-gone")]);
    }

    #[test]
    fn an_incomplete_listing_or_another_accounts_metric_proves_nothing() {
        let mut i = inv(vec![alarm("cpu", "OK", 1, vec![metric("AWS/EC2", ("InstanceId", "i-gone"), 300)])]);
        let denied = Listed { instances: false, ..Listed::all() };
        resolve_targets(&mut i, &denied);
        assert_eq!(i.metric_alarms[0].metrics[0].target.as_ref().and_then(|t| t.exists), None);
        assert!(run(evaluate, &i).is_empty(), "instances not listed: no finding");
        resolve_targets(&mut i, &listed());
        let d = only(run(evaluate, &i), DELETED_RESOURCE);
        assert_eq!(d.confidence, Confidence::High);
        assert_eq!(d.monthly_savings_usd, Some(dec("0.10")));
        assert!(d.evidence.iter().any(|e| e.starts_with("InstanceId i-gone: not in this region's complete listing")));
        i.metric_alarms[0].other_account = true;
        assert!(run(evaluate, &i).is_empty(), "the instance is in another account");
    }
}
