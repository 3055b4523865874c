//! VPC interface endpoints and Transit Gateway attachments: both billed by the hour whatever
//! they carry.
//!
//! - `vpc.idle-interface-endpoint`: an `Interface` endpoint, `available`, created at least
//!   `idle_min_age_days` ago, with no traffic: AWS/PrivateLinkEndpoints `BytesProcessed`
//!   (dimensions `Endpoint Type`, `Service Name`, `VPC Endpoint Id`, `VPC Id`) sums to 0 over the
//!   idle window, or has no series at all in ListMetrics. AWS publishes the metric only for
//!   minutes with traffic, so an idle endpoint has no datapoint to sum; ListMetrics lists every
//!   series with a datapoint in the last two weeks, so a successful ListMetrics without the
//!   endpoint is the absence of traffic for two weeks (a failed one proves nothing). Cost = AZs
//!   (its subnets, one network interface each) × $/AZ-hour × 730; saving = cost (delete). Its
//!   data processing ($/GB) is not counted: there is none.
//! - `vpc.idle-transit-gateway-attachment`: a `vpc` attachment, `available`, created at least
//!   `idle_min_age_days` ago, whose VPC this account owns (the VPC owner pays the attachment's
//!   hours), with AWS/TransitGateway `BytesIn` and `BytesOut` (dimensions `TransitGateway`,
//!   `TransitGatewayAttachment`; AWS reports them always, zeros included) both summing to 0 over
//!   the window. Saving = $/attachment-hour × 730 (delete). VPN, Direct Connect, Connect and
//!   peering attachments are left alone: an idle one is often a standby path.

use rust_decimal::Decimal;

use super::draft::{aws_cli, ec2_arn, Ctx, Draft};
use super::facts::{RegionInventory, TransitGatewayAttachment, VpcEndpoint};
use crate::domain::finding::Confidence;
use crate::domain::money::usd;
use crate::pricing::{Sku, HOURS_PER_MONTH};

pub const IDLE_ENDPOINT: &str = "vpc.idle-interface-endpoint";
pub const IDLE_TGW_ATTACHMENT: &str = "vpc.idle-transit-gateway-attachment";

pub fn evaluate(ctx: &Ctx<'_>, inv: &RegionInventory, out: &mut Vec<Draft>) {
    for e in &inv.vpc_endpoints {
        idle_endpoint(ctx, inv, e, out);
    }
    for a in &inv.transit_gateway_attachments {
        idle_attachment(ctx, inv, a, out);
    }
}

/// The evidence that the endpoint carried nothing, or `None` when it is not known.
fn no_traffic(ctx: &Ctx<'_>, e: &VpcEndpoint) -> Option<String> {
    match (e.bytes_processed, e.traffic_series) {
        (Some(0), _) => Some(format!(
            "CloudWatch AWS/PrivateLinkEndpoints BytesProcessed over the last {} days: 0 bytes",
            ctx.settings.idle_window_days
        )),
        (None, Some(false)) => Some(format!(
            "CloudWatch ListMetrics has no AWS/PrivateLinkEndpoints BytesProcessed series for {}: AWS publishes it only for minutes with traffic, and lists every series with a datapoint in the last two weeks",
            e.id
        )),
        _ => None,
    }
}

fn idle_endpoint(ctx: &Ctx<'_>, inv: &RegionInventory, e: &VpcEndpoint, out: &mut Vec<Draft>) {
    let s = ctx.settings;
    let old_enough = e.created.is_some_and(|t| ctx.at_least(t, s.idle_min_age_days));
    if e.endpoint_type != "Interface" || e.state != "available" || !old_enough || e.subnet_ids.is_empty() {
        return;
    }
    let Some(quiet) = no_traffic(ctx, e) else { return };
    let azs = e.subnet_ids.len();
    let title = format!("Interface endpoint {} ({}) carried no traffic", e.id, e.service_name);
    let arn = ec2_arn(&inv.region, ctx.account_id, "vpc-endpoint", &e.id);
    let mut d = Draft::new(IDLE_ENDPOINT, e.id.clone(), Some(arn), &inv.region, title);
    d.evidence.push(quiet);
    d.evidence.push(format!("VPC {}, service {}, subnets {}", e.vpc_id, e.service_name, e.subnet_ids.join(", ")));
    let mut p = ctx.pricer(&inv.region);
    if let Some((h, _)) = p.monthly_from_hourly(&Sku::VpcInterfaceEndpoint) {
        let m = h * Decimal::from(azs) * HOURS_PER_MONTH;
        d.evidence.push(format!("{azs} AZs × ${h}/h × 730 h = ${}", usd(m)));
        d.evidence.extend(p.source_line());
        d.monthly_cost_usd = Some(m);
        d.monthly_savings_usd = Some(m);
        d.price_source = p.source();
    } else {
        d.evidence.push("the interface endpoint hourly rate is not in the price book".into());
    }
    d.evidence.push(
        "a client that resolves the service's name to this endpoint (private DNS) reaches the public endpoint once it is deleted, through a NAT gateway or internet gateway if the subnet has one"
            .into(),
    );
    d.confidence = Confidence::Medium;
    d.tags = e.tags.clone();
    d.fix_command = aws_cli("ec2", "delete-vpc-endpoints", &[("--vpc-endpoint-ids", &e.id)], &inv.region);
    out.push(d);
}

fn idle_attachment(ctx: &Ctx<'_>, inv: &RegionInventory, a: &TransitGatewayAttachment, out: &mut Vec<Draft>) {
    let s = ctx.settings;
    let old_enough = a.created.is_some_and(|t| ctx.at_least(t, s.idle_min_age_days));
    let ours = a.resource_owner.as_deref() == Some(ctx.account_id);
    if a.resource_type != "vpc" || a.state != "available" || !old_enough || !ours {
        return;
    }
    if a.bytes_in != Some(0) || a.bytes_out != Some(0) {
        return;
    }
    let vpc = a.resource_id.as_deref().unwrap_or("(unknown VPC)");
    let title = format!("Transit Gateway attachment {} of {vpc} carried no traffic", a.id);
    let arn = ec2_arn(&inv.region, ctx.account_id, "transit-gateway-attachment", &a.id);
    let mut d = Draft::new(IDLE_TGW_ATTACHMENT, a.id.clone(), Some(arn), &inv.region, title);
    d.evidence.push(format!(
        "CloudWatch AWS/TransitGateway over the last {} days (TransitGateway {}, TransitGatewayAttachment {}): BytesIn 0, BytesOut 0",
        s.idle_window_days, a.transit_gateway_id, a.id
    ));
    d.evidence.push(format!("this account owns {vpc}: the VPC owner pays the attachment's hours"));
    let mut p = ctx.pricer(&inv.region);
    if let Some((h, m)) = p.monthly_from_hourly(&Sku::TransitGatewayAttachment) {
        d.evidence.push(format!("1 attachment × ${h}/h × 730 h = ${}", usd(m)));
        d.evidence.extend(p.source_line());
        d.monthly_cost_usd = Some(m);
        d.monthly_savings_usd = Some(m);
        d.price_source = p.source();
    } else {
        d.evidence.push("the Transit Gateway attachment hourly rate is not in the price book".into());
    }
    d.evidence
        .push("routes to the transit gateway in the VPC's route tables stop working: none carried traffic".into());
    d.confidence = Confidence::Medium;
    d.tags = a.tags.clone();
    d.fix_command = aws_cli(
        "ec2",
        "delete-transit-gateway-vpc-attachment",
        &[("--transit-gateway-attachment-id", &a.id)],
        &inv.region,
    );
    out.push(d);
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::rules::testkit::*;

    fn endpoint(id: &str, subnets: usize) -> VpcEndpoint {
        VpcEndpoint {
            id: id.into(),
            endpoint_type: "Interface".into(),
            vpc_id: "vpc-1".into(),
            service_name: "com.amazonaws.us-east-1.ssm".into(),
            state: "available".into(),
            created: Some(now() - Duration::days(60)),
            subnet_ids: (0..subnets).map(|i| format!("subnet-{i}")).collect(),
            tags: Default::default(),
            traffic_series: Some(false),
            bytes_processed: None,
        }
    }

    fn attachment(id: &str, bytes: (Option<u64>, Option<u64>)) -> TransitGatewayAttachment {
        TransitGatewayAttachment {
            id: id.into(),
            transit_gateway_id: "tgw-1".into(),
            resource_type: "vpc".into(),
            resource_id: Some("vpc-1".into()),
            resource_owner: Some("123456789012".into()),
            transit_gateway_owner: Some("999999999999".into()),
            state: "available".into(),
            created: Some(now() - Duration::days(60)),
            tags: Default::default(),
            bytes_in: bytes.0,
            bytes_out: bytes.1,
        }
    }

    fn inv(endpoints: Vec<VpcEndpoint>, attachments: Vec<TransitGatewayAttachment>) -> RegionInventory {
        let mut inv = RegionInventory::new("us-east-1");
        inv.vpc_endpoints = endpoints;
        inv.transit_gateway_attachments = attachments;
        inv
    }

    #[test]
    fn an_endpoint_without_traffic_costs_its_zones_hours() {
        let d = only(run(evaluate, &inv(vec![endpoint("vpce-1", 3)], vec![])), IDLE_ENDPOINT);
        // 3 AZs × $0.01/h × 730.
        assert_eq!(d.monthly_savings_usd, Some(dec("21.90")));
        assert!(d.evidence.iter().any(|e| e == "3 AZs × $0.01/h × 730 h = $21.90"), "{d:#?}");
        assert!(d.evidence[0].contains("no AWS/PrivateLinkEndpoints BytesProcessed series for vpce-1"));
        assert_eq!(d.fix_command, "aws ec2 delete-vpc-endpoints --vpc-endpoint-ids vpce-1 --region us-east-1");
        assert_eq!(d.arn.as_deref(), Some("arn:aws:ec2:us-east-1:123456789012:vpc-endpoint/vpce-1"));
        // A series that sums to zero is no traffic too.
        let mut zero = endpoint("vpce-2", 1);
        (zero.traffic_series, zero.bytes_processed) = (Some(true), Some(0));
        let d = only(run(evaluate, &inv(vec![zero], vec![])), IDLE_ENDPOINT);
        assert_eq!(d.monthly_savings_usd, Some(dec("7.30")));
        assert!(d.evidence[0].ends_with("BytesProcessed over the last 14 days: 0 bytes"));
    }

    #[test]
    fn busy_unknown_young_gateway_or_pending_endpoints_are_left_alone() {
        let mut busy = endpoint("busy", 2);
        (busy.traffic_series, busy.bytes_processed) = (Some(true), Some(5_000));
        let mut listed_but_unmeasured = endpoint("series", 2);
        listed_but_unmeasured.traffic_series = Some(true);
        let mut unknown = endpoint("unknown", 2);
        unknown.traffic_series = None;
        let mut young = endpoint("young", 2);
        young.created = Some(now() - Duration::days(3));
        let mut gateway = endpoint("gateway", 0);
        gateway.endpoint_type = "Gateway".into();
        let mut pending = endpoint("pending", 2);
        pending.state = "pendingacceptance".into();
        let all = vec![busy, listed_but_unmeasured, unknown, young, gateway, pending];
        assert!(run(evaluate, &inv(all, vec![])).is_empty());
    }

    #[test]
    fn an_idle_vpc_attachment_of_ours_is_flagged() {
        let d = only(
            run(evaluate, &inv(vec![], vec![attachment("tgw-attach-1", (Some(0), Some(0)))])),
            IDLE_TGW_ATTACHMENT,
        );
        // $0.05/h × 730.
        assert_eq!(d.monthly_savings_usd, Some(dec("36.50")));
        assert_eq!(
            d.fix_command,
            "aws ec2 delete-transit-gateway-vpc-attachment --transit-gateway-attachment-id tgw-attach-1 --region us-east-1"
        );
        assert!(d.evidence[0].ends_with("BytesIn 0, BytesOut 0"));
        assert_eq!(d.confidence, Confidence::Medium);
    }

    #[test]
    fn busy_one_sided_unmeasured_foreign_or_standby_attachments_are_left_alone() {
        let busy = attachment("busy", (Some(10), Some(20)));
        let one_way = attachment("one-way", (Some(0), Some(4096)));
        let unmeasured = attachment("unmeasured", (Some(0), None));
        let mut theirs = attachment("theirs", (Some(0), Some(0)));
        theirs.resource_owner = Some("999999999999".into());
        let mut vpn = attachment("vpn", (Some(0), Some(0)));
        vpn.resource_type = "vpn".into();
        let mut young = attachment("young", (Some(0), Some(0)));
        young.created = Some(now() - Duration::days(1));
        let all = vec![busy, one_way, unmeasured, theirs, vpn, young];
        assert!(run(evaluate, &inv(vec![], all)).is_empty());
    }

    #[test]
    fn missing_rates_keep_the_findings_without_savings() {
        let mut i = inv(vec![endpoint("vpce-1", 2)], vec![attachment("tgw-attach-1", (Some(0), Some(0)))]);
        i.region = "xx-nowhere-1".into();
        let drafts = run(evaluate, &i);
        assert_eq!(drafts.len(), 2);
        for d in drafts {
            assert_eq!(d.monthly_savings_usd, None);
            assert!(d.evidence.iter().any(|e| e.ends_with("is not in the price book")), "{d:#?}");
        }
    }
}
