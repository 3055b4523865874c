//! Elastic IP addresses.
//!
//! - `eip.unassociated`: an address with no association, no instance and no network interface,
//!   that no NAT gateway and no network load balancer of the region uses. Since February 2024
//!   every public IPv4 address costs $0.005/h whether in use or not, so only an address nothing
//!   uses is waste. Saving = $/h × 730.
//!
//! Not idle (the false positive other tools report): an address associated with a NAT gateway
//! or a load balancer has no `InstanceId`, but it has a network interface, and the gateway or
//! load balancer lists its allocation. Either is enough to keep it.

use std::collections::HashSet;

use super::draft::{aws_cli, ec2_arn, Ctx, Draft};
use super::facts::{Address, RegionInventory};
use crate::domain::finding::Confidence;
use crate::domain::money::usd;
use crate::pricing::Sku;

pub const UNASSOCIATED: &str = "eip.unassociated";

fn in_use(a: &Address, used_allocations: &HashSet<&str>) -> bool {
    a.association_id.is_some()
        || a.instance_id.is_some()
        || a.network_interface_id.is_some()
        || a.allocation_id.as_deref().is_some_and(|id| used_allocations.contains(id))
}

pub fn evaluate(ctx: &Ctx<'_>, inv: &RegionInventory, out: &mut Vec<Draft>) {
    let used: HashSet<&str> = inv
        .nat_gateways
        .iter()
        .filter(|n| n.state != "deleted")
        .flat_map(|n| n.allocation_ids.iter())
        .chain(inv.load_balancers.iter().flat_map(|l| l.allocation_ids.iter()))
        .map(String::as_str)
        .collect();
    for a in &inv.addresses {
        if in_use(a, &used) {
            continue;
        }
        let id = a.allocation_id.clone().unwrap_or_else(|| a.public_ip.clone());
        let mut d = Draft {
            rule: UNASSOCIATED.into(),
            resource_id: id.clone(),
            arn: a.allocation_id.as_ref().map(|alloc| ec2_arn(&inv.region, ctx.account_id, "elastic-ip", alloc)),
            region: inv.region.clone(),
            title: format!("Elastic IP {} is not associated with anything", a.public_ip),
            evidence: vec![format!(
                "{} ({id}): no association, instance or network interface; no NAT gateway or load balancer uses it",
                a.public_ip
            )],
            monthly_cost_usd: None,
            monthly_savings_usd: None,
            confidence: Confidence::High,
            fix_command: match &a.allocation_id {
                Some(alloc) => aws_cli("ec2", "release-address", &[("--allocation-id", alloc)], &inv.region),
                None => aws_cli("ec2", "release-address", &[("--public-ip", &a.public_ip)], &inv.region),
            },
            alternative: Some("release the address".into()),
            tags: a.tags.clone(),
            savings_included_in: None,
            price_source: None,
        };
        let mut p = ctx.pricer(&inv.region);
        if let Some((h, m)) = p.monthly_from_hourly(&Sku::PublicIpv4) {
            d.evidence.push(format!("public IPv4: ${h}/h × 730 h = ${}", usd(m)));
            d.evidence.extend(p.source_line());
            d.monthly_cost_usd = Some(m);
            d.monthly_savings_usd = Some(m);
            d.price_source = p.source();
        }
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::rules::facts::{LoadBalancer, NatGateway};
    use crate::rules::testkit::*;

    fn address(alloc: &str) -> Address {
        Address {
            allocation_id: Some(alloc.into()),
            public_ip: "198.51.100.4".into(),
            association_id: None,
            instance_id: None,
            network_interface_id: None,
            tags: Default::default(),
        }
    }

    fn run(inv: &RegionInventory) -> Vec<Draft> {
        crate::rules::testkit::run(evaluate, inv)
    }

    #[test]
    fn an_unassociated_address_costs_3_65() {
        let mut inv = RegionInventory::new("eu-west-1");
        inv.addresses.push(address("eipalloc-1"));
        let d = only(run(&inv), UNASSOCIATED);
        assert_eq!(d.monthly_savings_usd, Some(dec("3.65")));
        assert_eq!(d.fix_command, "aws ec2 release-address --allocation-id eipalloc-1 --region eu-west-1");
    }

    #[test]
    fn an_address_on_a_nat_gateway_is_not_idle() {
        let mut inv = RegionInventory::new("eu-west-1");
        // As DescribeAddresses shows a NAT gateway's address: no InstanceId, but an ENI...
        let mut on_nat = address("eipalloc-nat");
        on_nat.association_id = Some("eipassoc-1".into());
        on_nat.network_interface_id = Some("eni-nat".into());
        inv.addresses.push(on_nat);
        // ... and even when an emulator leaves the association out, the gateway lists it.
        inv.addresses.push(address("eipalloc-nat2"));
        inv.nat_gateways.push(NatGateway {
            id: "nat-1".into(),
            state: "available".into(),
            created: now() - Duration::days(100),
            allocation_ids: vec!["eipalloc-nat2".into()],
            tags: Default::default(),
            bytes_processed: None,
        });
        // An ENI of ours (a secondary address of an instance, a Lambda in a VPC, ...).
        let mut on_eni = address("eipalloc-eni");
        on_eni.network_interface_id = Some("eni-2".into());
        inv.addresses.push(on_eni);
        // A network load balancer's subnet mapping.
        inv.addresses.push(address("eipalloc-nlb"));
        inv.load_balancers.push(LoadBalancer {
            arn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/x/1".into(),
            name: "x".into(),
            kind: "network".into(),
            state: "active".into(),
            created: now(),
            target_groups: vec![],
            allocation_ids: vec!["eipalloc-nlb".into()],
            no_targets_since: None,
        });
        // An instance's.
        let mut on_instance = address("eipalloc-i");
        on_instance.instance_id = Some("i-1".into());
        inv.addresses.push(on_instance);
        assert!(run(&inv).is_empty(), "{:#?}", run(&inv));
    }
}
