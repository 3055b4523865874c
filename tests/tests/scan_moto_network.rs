//! The scan's network and monitoring families against moto, each scenario with waste and traps
//! (resources that look wasteful and are not), through STS AssumeRole, the scanners, CloudWatch
//! and an in-memory store.
//!
//! What moto cannot play, and how the scenarios get around it:
//! - moto creates an alarm in `OK` (AWS: `INSUFFICIENT_DATA`) and cannot backdate its state: the
//!   tests set the state with SetAlarmState and `alarm_insufficient_data_days` to 0, so "no data
//!   for the whole threshold" is "no data now".
//! - moto cannot backdate endpoints or attachments: `idle_min_age_days` is 0 and the window one
//!   day. It publishes no AWS metric: the tests put the `AWS/PrivateLinkEndpoints` and
//!   `AWS/TransitGateway` datapoints AWS would (with the dimensions in the scanner's order:
//!   moto, unlike CloudWatch, matches dimensions in order), and ListMetrics answers from them.
//! - Route 53 refuses a private zone without a VPC and never shows one until its VPC is
//!   deleted; moto creates one directly, which stands for the orphan.
//! - Denied listings (alarm targets and endpoints left unjudged) are in the aws-smithy-mocks
//!   tests of `costradar_aws::scan`.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types::StateValue;
use costradar_core::domain::finding::Finding;
use costradar_core::domain::AccountId;
use costradar_tests::scan_world::{fresh_account, World};
use rust_decimal::Decimal;

/// (rule, resource) → monthly saving, for the rules of `prefix`.
fn found<'a>(findings: &'a [Finding], prefix: &str) -> BTreeMap<(&'a str, &'a str), Option<Decimal>> {
    findings
        .iter()
        .filter(|f| f.rule.starts_with(prefix))
        .map(|f| ((f.rule.as_str(), f.resource_id.as_str()), f.monthly_savings_usd))
        .collect()
}

fn d(s: &str) -> Option<Decimal> {
    Some(s.parse().unwrap())
}

#[tokio::test]
async fn alarms_without_data_or_on_deleted_instances_are_found_and_traps_are_left_alone() {
    let account_id = AccountId::parse(&fresh_account()).unwrap();
    let account = account_id.as_str();
    let w = World::new(account, "us-east-1").await;
    let live = w.instance("t3.micro").await;
    let gone = w.instance("t3.micro").await;
    w.terminate(&gone).await;
    // Waste: an alarm on a terminated instance (in OK: the state does not matter); an alarm
    // with no data; a metric-math alarm with no data, one of its metrics high resolution.
    w.metric_alarm("cpu-gone", "AWS/EC2", ("InstanceId", &gone), &[]).await;
    w.metric_alarm("cpu-quiet", "AWS/EC2", ("InstanceId", &live), &[]).await;
    w.alarm_state("cpu-quiet", StateValue::InsufficientData).await;
    w.math_alarm("errors-total", &[("web-1", 60), ("web-2", 10)]).await;
    w.alarm_state("errors-total", StateValue::InsufficientData).await;
    // Traps: an alarm on a live instance; the same dimension in a custom namespace; a target
    // tracking alarm with no data (its scaling policy owns it).
    w.metric_alarm("cpu-live", "AWS/EC2", ("InstanceId", &live), &[]).await;
    w.metric_alarm("app-cpu", "MyApp", ("InstanceId", &gone), &[]).await;
    let policy =
        format!("arn:aws:autoscaling:us-east-1:{account}:scalingPolicy:1:autoScalingGroupName/web:policyName/cpu");
    w.metric_alarm("TargetTracking-web-AlarmLow", "AWS/EC2", ("InstanceId", &gone), &[&policy]).await;
    w.alarm_state("TargetTracking-web-AlarmLow", StateValue::InsufficientData).await;

    let out = scan(account).await;
    let arn = |n: &str| format!("arn:aws:cloudwatch:us-east-1:{account}:alarm:{n}");
    let (gone_arn, quiet_arn, math_arn) = (arn("cpu-gone"), arn("cpu-quiet"), arn("errors-total"));
    let want = BTreeMap::from([
        // 1 standard alarm metric × $0.10
        (("cloudwatch.alarm-on-deleted-resource", gone_arn.as_str()), d("0.10")),
        (("cloudwatch.insufficient-data-alarm", quiet_arn.as_str()), d("0.10")),
        // 1 standard × $0.10 + 1 high-resolution × $0.30
        (("cloudwatch.insufficient-data-alarm", math_arn.as_str()), d("0.40")),
    ]);
    assert_eq!(found(&out.findings, "cloudwatch."), want, "{:#?}", out.findings);
    let gone_finding = out.findings.iter().find(|f| f.resource_id == gone_arn).unwrap();
    assert!(gone_finding.evidence.iter().any(|e| e.starts_with(&format!("InstanceId {gone}: not in"))));
    assert_eq!(
        gone_finding.fix_command.as_deref(),
        Some("aws cloudwatch delete-alarms --alarm-names cpu-gone --region us-east-1")
    );
}

#[tokio::test]
async fn idle_interface_endpoints_and_transit_gateway_attachments_are_found() {
    let account_id = AccountId::parse(&fresh_account()).unwrap();
    let account = account_id.as_str();
    let w = World::new(account, "us-east-1").await;
    let (vpc, subnets) = w.network().await;
    // Waste: an interface endpoint in two zones that carried nothing (no series at all, as AWS
    // publishes none without traffic).
    let idle = w.vpc_endpoint(&vpc, "ssm", &subnets).await;
    // Traps: one with traffic; a (free) gateway endpoint.
    let busy = w.vpc_endpoint(&vpc, "ec2messages", &subnets[..1]).await;
    let gateway = w.vpc_endpoint(&vpc, "s3", &[]).await;
    let service = "com.amazonaws.us-east-1.ec2messages";
    let dims = [
        ("VPC Endpoint Id", busy.as_str()),
        ("VPC Id", vpc.as_str()),
        ("Endpoint Type", "Interface"),
        ("Service Name", service),
    ];
    w.metric_points("AWS/PrivateLinkEndpoints", "BytesProcessed", &dims, &[(3600, 5e6)]).await;

    // Waste: an attachment whose BytesIn and BytesOut are 0 (AWS reports zeros). Traps: one
    // that carried bytes one way; one with no series (no data is no fact).
    let tgw = w.transit_gateway().await;
    let mut attachments = vec![];
    for _ in 0..3 {
        let (v, s) = w.network().await;
        attachments.push(w.tgw_attachment(&tgw, &v, &s[..1]).await);
    }
    let (quiet, one_way, unmeasured) = (&attachments[0], &attachments[1], &attachments[2]);
    for (att, bytes_in, bytes_out) in [(quiet, 0.0, 0.0), (one_way, 0.0, 4096.0)] {
        let dims = [("TransitGateway", tgw.as_str()), ("TransitGatewayAttachment", att.as_str())];
        w.metric_points("AWS/TransitGateway", "BytesIn", &dims, &[(3600, bytes_in)]).await;
        w.metric_points("AWS/TransitGateway", "BytesOut", &dims, &[(3600, bytes_out)]).await;
    }

    let out = scan(account).await;
    let want = BTreeMap::from([
        // 2 AZs × $0.01/h × 730
        (("vpc.idle-interface-endpoint", idle.as_str()), d("14.60")),
        // $0.05/h × 730
        (("vpc.idle-transit-gateway-attachment", quiet.as_str()), d("36.50")),
    ]);
    assert_eq!(found(&out.findings, "vpc."), want, "{:#?}", out.findings);
    for id in [&busy, &gateway, one_way, unmeasured] {
        assert!(out.findings.iter().all(|f| &f.resource_id != id), "false positive on {id}");
    }
    let endpoint = out.findings.iter().find(|f| f.resource_id == idle).unwrap();
    assert!(endpoint.evidence.iter().any(|e| e.contains("no AWS/PrivateLinkEndpoints BytesProcessed series")));
}

#[tokio::test]
async fn empty_and_orphaned_hosted_zones_are_found_in_us_east_1() {
    let account_id = AccountId::parse(&fresh_account()).unwrap();
    let account = account_id.as_str();
    let w = World::new(account, "us-east-1").await;
    let (vpc, _) = w.network().await;
    // Waste: a public zone with only its SOA and NS; a private zone no VPC can query.
    let empty = w.hosted_zone("empty.example.com", None).await;
    let orphan = w.hosted_zone("orphan.internal", Some(None)).await;
    w.a_record(&orphan, "db.orphan.internal").await;
    // Traps: a public zone with a record; a private zone of a VPC.
    let busy = w.hosted_zone("busy.example.com", None).await;
    w.a_record(&busy, "www.busy.example.com").await;
    let used = w.hosted_zone("used.internal", Some(Some(&vpc))).await;
    w.a_record(&used, "db.used.internal").await;

    let out = scan(account).await;
    let want = BTreeMap::from([
        (("route53.empty-hosted-zone", empty.as_str()), d("0.50")),
        (("route53.private-zone-without-vpc", orphan.as_str()), d("0.50")),
    ]);
    assert_eq!(found(&out.findings, "route53."), want, "{:#?}", out.findings);
    assert!(out.findings.iter().filter(|f| f.rule.starts_with("route53.")).all(|f| f.region == "us-east-1"));
    for id in [&busy, &used] {
        assert!(out.findings.iter().all(|f| &f.resource_id != id), "false positive on {id}");
    }
}

/// One scan of `account` in us-east-1 (scan_world's moto settings), complete and error-free.
async fn scan(account: &str) -> costradar_core::scan::AccountScan {
    costradar_tests::scan_world::scan_complete(account, serde_json::json!({"alarm_insufficient_data_days": 0})).await
}
