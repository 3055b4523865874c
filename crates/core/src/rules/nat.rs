//! NAT gateways.
//!
//! - `nat.idle`: available for the whole idle window and processed at most
//!   `nat_idle_max_bytes` in it (CloudWatch `BytesInFromSource` + `BytesInFromDestination`,
//!   summed over the window). Saving = $/h × 730 + GB processed in the window scaled to a month
//!   (bytes / 2^30 × $/GB × 30 / window days) + its Elastic IPs × $/h × 730 (released with it).

use rust_decimal::Decimal;

use super::draft::{aws_cli, ec2_arn, whole_days, Ctx, Draft};
use super::facts::RegionInventory;
use crate::domain::finding::Confidence;
use crate::domain::money::usd;
use crate::pricing::Sku;

pub const IDLE: &str = "nat.idle";

const GIB: u64 = 1024 * 1024 * 1024;

pub fn evaluate(ctx: &Ctx<'_>, inv: &RegionInventory, out: &mut Vec<Draft>) {
    let s = ctx.settings;
    for n in &inv.nat_gateways {
        if n.state != "available" || !ctx.at_least(n.created, s.idle_min_age_days) {
            continue;
        }
        let Some(bytes) = n.bytes_processed else { continue };
        if bytes > s.nat_idle_max_bytes {
            continue;
        }
        let mut d = Draft {
            rule: IDLE.into(),
            resource_id: n.id.clone(),
            arn: Some(ec2_arn(&inv.region, ctx.account_id, "natgateway", &n.id)),
            region: inv.region.clone(),
            title: format!("NAT gateway {} processed {bytes} bytes in {} days", n.id, s.idle_window_days),
            evidence: vec![
                format!(
                    "CloudWatch BytesInFromSource + BytesInFromDestination over the last {} days: {bytes} bytes (threshold {})",
                    s.idle_window_days, s.nat_idle_max_bytes
                ),
                format!("available since {} ({} days)", n.created.format("%Y-%m-%d"), whole_days(n.created, ctx.now)),
            ],
            monthly_cost_usd: None,
            monthly_savings_usd: None,
            confidence: Confidence::Medium,
            fix_command: String::new(),
            alternative: Some("delete the gateway and release its addresses".into()),
            tags: n.tags.clone(),
            savings_included_in: None,
            price_source: None,
        };
        let mut p = ctx.pricer(&inv.region);
        let hourly = p.monthly_from_hourly(&Sku::NatGateway);
        let data = p.rate(&Sku::NatGatewayData);
        let ip = p.monthly_from_hourly(&Sku::PublicIpv4);
        if let (Some((h, m)), Some(gb_rate), Some((ip_h, ip_m))) = (hourly, data, ip) {
            let gb_month =
                Decimal::from(bytes) / Decimal::from(GIB) * Decimal::from(30) / Decimal::from(s.idle_window_days);
            let data_m = gb_month * gb_rate;
            let ips = Decimal::from(n.allocation_ids.len() as u64);
            let total = m + data_m + ips * ip_m;
            d.evidence.push(format!("gateway hours: ${h}/h × 730 h = ${}", usd(m)));
            d.evidence.push(format!(
                "data processed: {} GB/month at this rate × ${gb_rate}/GB = ${}",
                gb_month.round_dp(6),
                usd(data_m)
            ));
            if !n.allocation_ids.is_empty() {
                d.evidence.push(format!("{ips} Elastic IP(s): ${ip_h}/h × 730 h each = ${}", usd(ips * ip_m)));
            }
            d.evidence.extend(p.source_line());
            d.monthly_cost_usd = Some(total);
            d.monthly_savings_usd = Some(total);
            d.price_source = p.source();
        }
        d.evidence
            .push("check the route tables: a subnet whose default route points here loses internet access".into());
        let mut fix = vec![aws_cli("ec2", "delete-nat-gateway", &[("--nat-gateway-id", &n.id)], &inv.region)];
        if !n.allocation_ids.is_empty() {
            fix.push(aws_cli("ec2", "wait", &[("nat-gateway-deleted", ""), ("--nat-gateway-ids", &n.id)], &inv.region));
        }
        for a in &n.allocation_ids {
            fix.push(aws_cli("ec2", "release-address", &[("--allocation-id", a)], &inv.region));
        }
        d.fix_command = fix.join(" && ");
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::rules::facts::NatGateway;
    use crate::rules::testkit::*;

    fn nat(bytes: Option<u64>) -> NatGateway {
        NatGateway {
            id: "nat-1".into(),
            state: "available".into(),
            created: now() - Duration::days(60),
            allocation_ids: vec!["eipalloc-1".into()],
            tags: Default::default(),
            bytes_processed: bytes,
        }
    }

    fn run(inv: &RegionInventory) -> Vec<Draft> {
        crate::rules::testkit::run(evaluate, inv)
    }

    #[test]
    fn an_idle_gateway_costs_its_hours_and_address() {
        let mut inv = RegionInventory::new("us-east-1");
        inv.nat_gateways.push(nat(Some(0)));
        let d = only(run(&inv), IDLE);
        // 0.045 × 730 = 32.85; address 0.005 × 730 = 3.65; data 0.
        assert_eq!(d.monthly_savings_usd, Some(dec("36.5")));
        assert!(d.fix_command.ends_with("release-address --allocation-id eipalloc-1 --region us-east-1"));
        // 14 GiB over 14 days = 30 GiB a month × 0.045 = 1.35 (the threshold raised to allow it).
        let settings = crate::domain::settings::ScanSettings { nat_idle_max_bytes: 20 * GIB, ..Default::default() };
        inv.nat_gateways[0].bytes_processed = Some(14 * GIB);
        assert_eq!(only(run_with(evaluate, &settings, &inv), IDLE).monthly_savings_usd, Some(dec("37.85")));
    }

    #[test]
    fn a_busy_new_or_unmeasured_gateway_is_not_idle() {
        let mut inv = RegionInventory::new("us-east-1");
        inv.nat_gateways.push(nat(Some(5 * GIB)));
        assert!(run(&inv).is_empty());
        inv.nat_gateways[0].bytes_processed = None;
        assert!(run(&inv).is_empty());
        inv.nat_gateways[0].bytes_processed = Some(0);
        inv.nat_gateways[0].created = now() - Duration::days(2);
        assert!(run(&inv).is_empty());
        inv.nat_gateways[0].created = now() - Duration::days(60);
        inv.nat_gateways[0].state = "deleting".into();
        assert!(run(&inv).is_empty());
    }
}
