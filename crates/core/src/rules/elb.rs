//! Elastic Load Balancing v2 (application, network, gateway).
//!
//! - `elb.no-healthy-targets`: an active load balancer none of whose target groups has had a
//!   healthy target for `elb_no_targets_days`, counted from the later of its creation and the
//!   first scan that saw it so. Saving = $/h × 730 for its type (capacity units are billed on
//!   traffic, which a load balancer without targets barely has; they are not counted).
//!   Confidence high with no registered target, medium with registered but unhealthy ones (they
//!   may be coming back).

use super::draft::{aws_cli, whole_days, Ctx, Draft};
use super::facts::RegionInventory;
use crate::domain::finding::Confidence;
use crate::domain::money::usd;
use crate::pricing::Sku;

pub const NO_HEALTHY_TARGETS: &str = "elb.no-healthy-targets";

pub fn evaluate(ctx: &Ctx<'_>, inv: &RegionInventory, out: &mut Vec<Draft>) {
    for lb in &inv.load_balancers {
        if lb.state != "active" || !lb.has_no_healthy_target() {
            continue;
        }
        let Some(since) = lb.no_targets_since else { continue };
        let since = since.max(lb.created);
        if !ctx.at_least(since, ctx.settings.elb_no_targets_days) {
            continue;
        }
        let registered = lb.registered();
        let state = if registered == 0 {
            format!("no registered target in {} target group(s)", lb.target_groups.len())
        } else {
            format!("{registered} registered target(s), none healthy")
        };
        let mut d = Draft {
            rule: NO_HEALTHY_TARGETS.into(),
            // Names repeat across regions; the ARN does not.
            resource_id: lb.arn.clone(),
            arn: Some(lb.arn.clone()),
            region: inv.region.clone(),
            title: format!(
                "{} load balancer {} has had {state} for {} days",
                lb.kind,
                lb.name,
                whole_days(since, ctx.now)
            ),
            evidence: vec![
                format!("{state} since at least {}", since.format("%Y-%m-%d %H:%M UTC")),
                format!("created {}", lb.created.format("%Y-%m-%d")),
            ],
            monthly_cost_usd: None,
            monthly_savings_usd: None,
            confidence: if registered == 0 { Confidence::High } else { Confidence::Medium },
            fix_command: aws_cli("elbv2", "delete-load-balancer", &[("--load-balancer-arn", &lb.arn)], &inv.region),
            alternative: Some("delete the load balancer".into()),
            tags: Default::default(),
            savings_included_in: None,
            price_source: None,
        };
        let mut p = ctx.pricer(&inv.region);
        if let Some((h, m)) = p.monthly_from_hourly(&Sku::LoadBalancer { kind: lb.kind.clone() }) {
            d.evidence.push(format!(
                "{} load balancer: ${h}/h × 730 h = ${} (capacity units not counted)",
                lb.kind,
                usd(m)
            ));
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
    use crate::rules::facts::{LoadBalancer, TargetGroup};
    use crate::rules::testkit::*;

    fn lb(groups: Vec<TargetGroup>, since_days: i64) -> LoadBalancer {
        LoadBalancer {
            arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188".into(),
            name: "web".into(),
            kind: "application".into(),
            state: "active".into(),
            created: now() - Duration::days(100),
            target_groups: groups,
            allocation_ids: vec![],
            no_targets_since: Some(now() - Duration::days(since_days)),
        }
    }

    fn tg(registered: u32, healthy: u32) -> TargetGroup {
        TargetGroup { arn: "tg".into(), registered, healthy }
    }

    fn run(inv: &RegionInventory) -> Vec<Draft> {
        crate::rules::testkit::run(evaluate, inv)
    }

    #[test]
    fn a_load_balancer_without_targets_costs_its_hours() {
        let mut inv = RegionInventory::new("us-east-1");
        inv.load_balancers.push(lb(vec![tg(0, 0)], 10));
        let d = only(run(&inv), NO_HEALTHY_TARGETS);
        // 0.0225 × 730 = 16.425
        assert_eq!(d.monthly_savings_usd, Some(dec("16.425")));
        assert_eq!(d.confidence, Confidence::High);
        inv.load_balancers[0].target_groups = vec![tg(2, 0)];
        assert_eq!(only(run(&inv), NO_HEALTHY_TARGETS).confidence, Confidence::Medium);
        // No target group at all counts as no target.
        inv.load_balancers[0].target_groups = vec![];
        assert_eq!(run(&inv).len(), 1);
    }

    #[test]
    fn one_healthy_target_or_a_recent_outage_is_not_flagged() {
        let mut inv = RegionInventory::new("us-east-1");
        inv.load_balancers.push(lb(vec![tg(0, 0), tg(3, 1)], 10));
        assert!(run(&inv).is_empty());
        inv.load_balancers[0] = lb(vec![tg(2, 0)], 2);
        assert!(run(&inv).is_empty());
        inv.load_balancers[0].no_targets_since = None;
        assert!(run(&inv).is_empty());
    }
}
