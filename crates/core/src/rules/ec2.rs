//! EC2 instances (Linux on shared tenancy is what the price book holds; other platforms are
//! flagged without a price).
//!
//! - `ec2.stopped-instance`: stopped longer than `stopped_instance_days` (the stop time is in
//!   `StateTransitionReason`). A stopped instance pays no compute but keeps paying for its EBS
//!   volumes and Elastic IPs. Monthly cost = Σ its volumes' monthly cost + its Elastic IPs ×
//!   $/h × 730; saving = the same (terminate, delete the volumes, release the addresses). Its
//!   volumes' own `ebs.volume-on-stopped-instance` findings are included here, not added.
//! - `ec2.previous-generation`: a running instance of a previous-generation family (the map in
//!   `rules::realtime`). Saving = ($/h of the type − $/h of the current-generation type of the
//!   same size) × 730, only when positive.
//! - `ec2.idle-instance`: running for the whole idle window with a CPU p95 below
//!   `idle_cpu_p95_percent` (CloudWatch `CPUUtilization`, one p95 over the window). Saving =
//!   $/h × 730 (stopped, it pays only its volumes). Confidence low: CPU is not everything.
//! - `ec2.public-ipv4`: a running instance whose primary network interface has a public IPv4
//!   address that is not an Elastic IP of the account (those are `eip.*` and
//!   `ec2.stopped-instance`). Monthly cost = $/h of a public IPv4 address × 730; saving = the
//!   same if the instance needs no public address. Confidence low: it may be reached from the
//!   internet. Keyed on the network interface, so its saving adds to the instance's other
//!   findings rather than standing in for them.

use rust_decimal::Decimal;

use super::draft::{aws_cli, ec2_arn, whole_days, Ctx, Draft};
use super::facts::{Instance, RegionInventory};
use super::realtime::{current_generation, split_type};
use crate::domain::finding::Confidence;
use crate::domain::money::usd;
use crate::pricing::model::volume_monthly;
use crate::pricing::Sku;

pub const STOPPED: &str = "ec2.stopped-instance";
pub const PREVIOUS_GENERATION: &str = "ec2.previous-generation";
pub const IDLE: &str = "ec2.idle-instance";
pub const PUBLIC_IPV4: &str = "ec2.public-ipv4";

/// Stopped for more than `stopped_instance_days`, at a known time.
pub fn stopped_long_enough(ctx: &Ctx<'_>, i: &Instance) -> bool {
    i.state == "stopped" && i.stopped_at.is_some_and(|t| ctx.now - t > Ctx::days(ctx.settings.stopped_instance_days))
}

/// Why the price book cannot price this instance, if it cannot.
fn unpriceable(i: &Instance) -> Option<String> {
    if i.platform.as_deref().is_some_and(|p| !p.eq_ignore_ascii_case("linux/unix") && !p.is_empty()) {
        return Some(format!(
            "{} instances are not in the price book (Linux only)",
            i.platform.as_deref().unwrap_or("")
        ));
    }
    if i.tenancy.as_deref().is_some_and(|t| t != "default") {
        return Some(format!("{} tenancy is not in the price book", i.tenancy.as_deref().unwrap_or("")));
    }
    None
}

fn base(ctx: &Ctx<'_>, inv: &RegionInventory, i: &Instance, rule: &str, title: String) -> Draft {
    let arn = ec2_arn(&inv.region, ctx.account_id, "instance", &i.id);
    Draft { tags: i.tags.clone(), ..Draft::new(rule, i.id.clone(), Some(arn), &inv.region, title) }
}

pub fn evaluate(ctx: &Ctx<'_>, inv: &RegionInventory, out: &mut Vec<Draft>) {
    for i in &inv.instances {
        stopped(ctx, inv, i, out);
        previous_generation(ctx, inv, i, out);
        idle(ctx, inv, i, out);
        public_ipv4(ctx, inv, i, out);
    }
}

fn stopped(ctx: &Ctx<'_>, inv: &RegionInventory, i: &Instance, out: &mut Vec<Draft>) {
    if !stopped_long_enough(ctx, i) {
        return;
    }
    let at = i.stopped_at.expect("checked");
    let mut d = base(
        ctx,
        inv,
        i,
        STOPPED,
        format!(
            "{} ({}) stopped for {} days still pays for its storage",
            i.id,
            i.instance_type,
            whole_days(at, ctx.now)
        ),
    );
    d.evidence.push(format!("stopped at {} (StateTransitionReason)", at.format("%Y-%m-%d %H:%M UTC")));
    let mut p = ctx.pricer(&inv.region);
    let mut total = Decimal::ZERO;
    let mut priced = true;
    let mut gib = 0u32;
    for v in inv.volumes.iter().filter(|v| v.attached_to.contains(&i.id)) {
        gib += v.size_gib;
        match volume_monthly(ctx.book, &inv.region, &v.spec()).priced() {
            Some(e) => {
                p.note(&e.sources);
                let c = e.monthly_usd.unwrap_or_default();
                d.evidence.push(format!("{}: {} GiB {} = ${}", v.id, v.size_gib, v.volume_type, usd(c)));
                total += c;
            }
            None => {
                priced = false;
                d.evidence.push(format!("{}: {} has no price in {}", v.id, v.volume_type, inv.region));
            }
        }
    }
    let mut release = vec![];
    for a in inv.addresses.iter().filter(|a| a.instance_id.as_deref() == Some(i.id.as_str())) {
        match p.monthly_from_hourly(&Sku::PublicIpv4) {
            Some((h, m)) => {
                d.evidence.push(format!("Elastic IP {}: ${h}/h × 730 h = ${}", a.public_ip, usd(m)));
                total += m;
            }
            None => priced = false,
        }
        if let Some(id) = &a.allocation_id {
            release.push(aws_cli("ec2", "release-address", &[("--allocation-id", id)], &inv.region));
        }
    }
    if priced {
        d.monthly_cost_usd = Some(total);
        d.monthly_savings_usd = Some(total);
        d.price_source = p.source();
        d.evidence.extend(p.source_line());
    }
    if let Some(rate) = p.rate(&Sku::EbsSnapshot) {
        d.evidence.push(format!(
            "keeping an AMI of it costs snapshot storage: at most {gib} GiB × ${rate}/GiB-month = ${} (snapshots are incremental and compressed, usually less)",
            usd(Decimal::from(gib) * rate)
        ));
    }
    d.confidence = Confidence::Medium;
    let mut fix = vec![
        aws_cli(
            "ec2",
            "create-image",
            &[("--instance-id", &i.id), ("--name", &format!("{}-backup", i.id))],
            &inv.region,
        ),
        aws_cli("ec2", "terminate-instances", &[("--instance-ids", &i.id)], &inv.region),
    ];
    fix.extend(release);
    d.fix_command = fix.join(" && ");
    d.alternative = Some("keep an AMI, terminate the instance, delete its volumes and release its addresses".into());
    out.push(d);
}

fn previous_generation(ctx: &Ctx<'_>, inv: &RegionInventory, i: &Instance, out: &mut Vec<Draft>) {
    if i.state != "running" || unpriceable(i).is_some() {
        return;
    }
    let Some((family, size)) = split_type(&i.instance_type) else { return };
    let Some(current) = current_generation(family) else { return };
    let to = format!("{current}.{size}");
    let mut p = ctx.pricer(&inv.region);
    let Some((old_h, old_m)) = p.monthly_from_hourly(&Sku::ec2(&i.instance_type)) else {
        return;
    };
    let Some((new_h, new_m)) = p.monthly_from_hourly(&Sku::ec2(&to)) else { return };
    let saving = old_m - new_m;
    if saving <= Decimal::ZERO {
        return;
    }
    let mut d = base(
        ctx,
        inv,
        i,
        PREVIOUS_GENERATION,
        format!("{} runs {} (previous generation): {to} costs ${} less a month", i.id, i.instance_type, usd(saving)),
    );
    d.evidence.push(format!("{}: ${old_h}/h × 730 h = ${}", i.instance_type, usd(old_m)));
    d.evidence.push(format!("{to}: ${new_h}/h × 730 h = ${}", usd(new_m)));
    d.evidence.push(format!("{to} is the current-generation family of the same size; it needs ENA and NVMe drivers, which current AMIs have"));
    d.evidence.extend(p.source_line());
    d.monthly_cost_usd = Some(old_m);
    d.monthly_savings_usd = Some(saving);
    d.price_source = p.source();
    d.alternative = Some(to.clone());
    let r = &inv.region;
    d.fix_command = [
        aws_cli("ec2", "stop-instances", &[("--instance-ids", &i.id)], r),
        aws_cli("ec2", "wait", &[("instance-stopped", ""), ("--instance-ids", &i.id)], r),
        aws_cli(
            "ec2",
            "modify-instance-attribute",
            &[("--instance-id", &i.id), ("--instance-type", &format!("Value={to}"))],
            r,
        ),
        aws_cli("ec2", "start-instances", &[("--instance-ids", &i.id)], r),
    ]
    .join(" && ");
    out.push(d);
}

fn idle(ctx: &Ctx<'_>, inv: &RegionInventory, i: &Instance, out: &mut Vec<Draft>) {
    let s = ctx.settings;
    if i.state != "running" || !ctx.at_least(i.launched, s.idle_min_age_days) {
        return;
    }
    let Some(p95) = i.cpu_p95_percent else { return };
    if p95 >= s.idle_cpu_p95_percent {
        return;
    }
    let mut d = base(
        ctx,
        inv,
        i,
        IDLE,
        format!("{} ({}) looks idle: CPU p95 {p95}% over {} days", i.id, i.instance_type, s.idle_window_days),
    );
    d.evidence.push(format!(
        "CloudWatch CPUUtilization p95 over the last {} days: {p95}% (threshold {}%)",
        s.idle_window_days, s.idle_cpu_p95_percent
    ));
    d.evidence.push(format!("running since {}", i.launched.format("%Y-%m-%d")));
    match unpriceable(i) {
        Some(why) => d.evidence.push(why),
        None => {
            let mut p = ctx.pricer(&inv.region);
            if let Some((h, m)) = p.monthly_from_hourly(&Sku::ec2(&i.instance_type)) {
                d.evidence.push(format!("{}: ${h}/h × 730 h = ${}", i.instance_type, usd(m)));
                d.evidence.extend(p.source_line());
                d.monthly_cost_usd = Some(m);
                d.monthly_savings_usd = Some(m);
                d.price_source = p.source();
            }
        }
    }
    d.evidence
        .push("stopped, it pays only for its volumes; check memory, network and schedules before stopping".into());
    d.confidence = Confidence::Low;
    d.fix_command = aws_cli("ec2", "stop-instances", &[("--instance-ids", &i.id)], &inv.region);
    d.alternative = Some("stop (or terminate) the instance".into());
    out.push(d);
}

fn public_ipv4(ctx: &Ctx<'_>, inv: &RegionInventory, i: &Instance, out: &mut Vec<Draft>) {
    let Some(ip) = &i.public_ip else { return };
    if i.state != "running" || inv.addresses.iter().any(|a| a.public_ip == ip.address) {
        return;
    }
    let r = &inv.region;
    let (resource, arn) = match &ip.network_interface_id {
        Some(eni) => (eni.clone(), ec2_arn(r, ctx.account_id, "network-interface", eni)),
        None => (ip.address.clone(), ec2_arn(r, ctx.account_id, "instance", &i.id)),
    };
    let title =
        format!("{} ({}) has a public IPv4 address, {}, that is not an Elastic IP", i.id, i.instance_type, ip.address);
    let mut d = Draft { tags: i.tags.clone(), ..Draft::new(PUBLIC_IPV4, resource, Some(arn), r, title) };
    d.evidence.push(format!(
        "{}: PublicIpAddress {} on {}, auto-assigned at launch (no Elastic IP of this account has it)",
        i.id,
        ip.address,
        ip.network_interface_id.as_deref().unwrap_or("its primary network interface")
    ));
    let mut p = ctx.pricer(r);
    match p.monthly_from_hourly(&Sku::PublicIpv4) {
        Some((h, m)) => {
            d.evidence.push(format!("1 public IPv4 address × ${h}/h × 730 h = ${}", usd(m)));
            d.evidence.extend(p.source_line());
            d.monthly_cost_usd = Some(m);
            d.monthly_savings_usd = Some(m);
            d.price_source = p.source();
        }
        None => d.evidence.push(format!("public IPv4 addresses have no price in {r}")),
    }
    d.evidence.push(format!(
        "check whether anything reaches {} from the internet (security group inbound rules, DNS records, VPC Flow Logs): behind a load balancer, or only calling out (a NAT gateway or VPC endpoints carry that), it needs no public address; Session Manager or EC2 Instance Connect Endpoint give a shell without one",
        ip.address
    ));
    d.confidence = Confidence::Low;
    d.fix_command = match &ip.network_interface_id {
        Some(eni) => aws_cli(
            "ec2",
            "modify-network-interface-attribute",
            &[("--network-interface-id", eni), ("--no-associate-public-ip-address", "")],
            r,
        ),
        None => aws_cli(
            "ec2",
            "describe-network-interfaces",
            &[("--filters", &format!("Name=attachment.instance-id,Values={}", i.id))],
            r,
        ),
    };
    d.alternative = Some("remove the public IPv4 address (an Elastic IP only where a fixed address is needed)".into());
    out.push(d);
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::rules::facts::{Address, Volume};
    use crate::rules::testkit::*;

    fn run(inv: &RegionInventory) -> Vec<Draft> {
        crate::rules::testkit::run(evaluate, inv)
    }

    #[test]
    fn a_long_stopped_instance_costs_its_volumes_and_addresses() {
        let mut inv = RegionInventory::new("us-east-1");
        let mut i = instance("i-1", "m5.large", "stopped");
        i.stopped_at = Some(now() - Duration::days(31));
        inv.instances.push(i);
        inv.volumes.push(Volume {
            id: "vol-1".into(),
            volume_type: "gp2".into(),
            size_gib: 100,
            iops: Some(300),
            throughput_mibps: None,
            state: "in-use".into(),
            created: now() - Duration::days(300),
            attached_to: vec!["i-1".into()],
            tags: Default::default(),
            unattached_since: None,
        });
        inv.addresses.push(Address {
            allocation_id: Some("eipalloc-1".into()),
            public_ip: "203.0.113.7".into(),
            association_id: Some("eipassoc-1".into()),
            instance_id: Some("i-1".into()),
            network_interface_id: Some("eni-1".into()),
            tags: Default::default(),
        });
        let d = only(run(&inv), STOPPED);
        // gp2 100 × 0.10 = $10; EIP 0.005 × 730 = $3.65.
        assert_eq!(d.monthly_savings_usd, Some(dec("13.65")));
        assert!(d.fix_command.contains("terminate-instances --instance-ids i-1"));
        assert!(d.fix_command.contains("release-address --allocation-id eipalloc-1"));
        // Stopped 29 days ago: not yet (and no stop time: never).
        inv.instances[0].stopped_at = Some(now() - Duration::days(29));
        assert!(run(&inv).is_empty());
        inv.instances[0].stopped_at = None;
        assert!(run(&inv).is_empty());
    }

    #[test]
    fn previous_generation_names_the_current_type_and_the_delta() {
        let mut inv = RegionInventory::new("us-east-1");
        inv.instances.push(instance("i-1", "m4.large", "running"));
        let d = only(run(&inv), PREVIOUS_GENERATION);
        // m4.large $0.10/h = $73; m6i.large $0.096/h = $70.08; saving $2.92.
        assert_eq!(d.monthly_cost_usd, Some(dec("73.000")));
        assert_eq!(d.monthly_savings_usd, Some(dec("2.920")));
        assert_eq!(d.alternative.as_deref(), Some("m6i.large"));
        assert!(d.fix_command.contains("--instance-type Value=m6i.large"), "{}", d.fix_command);
        // A current-generation type, or a stopped one, is not flagged.
        inv.instances[0].instance_type = "m6i.large".into();
        assert!(run(&inv).is_empty());
        inv.instances[0].instance_type = "m4.large".into();
        inv.instances[0].state = "stopped".into();
        assert!(run(&inv).is_empty());
    }

    #[test]
    fn idle_needs_the_whole_window_and_a_low_p95() {
        let mut inv = RegionInventory::new("us-east-1");
        let mut i = instance("i-1", "m5.large", "running");
        i.cpu_p95_percent = Some(dec("1.5"));
        inv.instances.push(i);
        let d = only(run(&inv), IDLE);
        // m5.large $0.096/h × 730 = $70.08.
        assert_eq!(d.monthly_savings_usd, Some(dec("70.080")));
        assert_eq!(d.confidence, Confidence::Low);
        // Busy: p95 at the threshold is not idle.
        inv.instances[0].cpu_p95_percent = Some(dec("5"));
        assert!(run(&inv).is_empty());
        // No data: not idle.
        inv.instances[0].cpu_p95_percent = None;
        assert!(run(&inv).is_empty());
        // Launched 3 days ago: the window is not covered.
        inv.instances[0].cpu_p95_percent = Some(dec("0"));
        inv.instances[0].launched = now() - Duration::days(3);
        assert!(run(&inv).is_empty());
    }

    #[test]
    fn windows_is_flagged_idle_without_a_price() {
        let mut inv = RegionInventory::new("us-east-1");
        let mut i = instance("i-1", "m4.large", "running");
        i.platform = Some("windows".into());
        i.cpu_p95_percent = Some(dec("0.5"));
        inv.instances.push(i);
        let drafts = run(&inv);
        let d = only(drafts.clone(), IDLE);
        assert_eq!(d.monthly_savings_usd, None);
        assert!(drafts.iter().all(|d| d.rule != PREVIOUS_GENERATION), "no price delta without a Windows price");
    }

    fn with_public_ip(eni: Option<&str>) -> RegionInventory {
        let mut inv = RegionInventory::new("us-east-1");
        let mut i = instance("i-1", "m5.large", "running");
        i.public_ip = Some(crate::rules::facts::PublicIp {
            address: "198.51.100.4".into(),
            network_interface_id: eni.map(str::to_owned),
        });
        inv.instances.push(i);
        inv
    }

    #[test]
    fn an_auto_assigned_public_ipv4_address_is_priced_on_its_network_interface() {
        let d = only(run(&with_public_ip(Some("eni-1"))), PUBLIC_IPV4);
        // $0.005/h × 730 h = $3.65.
        assert_eq!(d.monthly_savings_usd, Some(dec("3.650")));
        assert_eq!(d.monthly_cost_usd, d.monthly_savings_usd);
        assert_eq!(d.confidence, Confidence::Low);
        assert_eq!(d.resource_id, "eni-1");
        assert_eq!(
            d.fix_command,
            "aws ec2 modify-network-interface-attribute --network-interface-id eni-1 \
             --no-associate-public-ip-address --region us-east-1"
        );
        assert!(d.evidence.iter().any(|e| e.contains("$0.005/h × 730 h = $3.65")), "{:?}", d.evidence);
        assert!(d.evidence.iter().any(|e| e.contains("load balancer")), "{:?}", d.evidence);
        // Without the interface id, the fix finds it first; the ARN is the instance's.
        let d = only(run(&with_public_ip(None)), PUBLIC_IPV4);
        assert_eq!(d.resource_id, "198.51.100.4");
        assert!(d.fix_command.starts_with("aws ec2 describe-network-interfaces --filters"), "{}", d.fix_command);
    }

    #[test]
    fn an_elastic_ip_a_stopped_instance_or_no_address_is_not_a_public_ipv4_finding() {
        // The address is an Elastic IP of the account: eip.* rules own it.
        let mut inv = with_public_ip(Some("eni-1"));
        inv.addresses.push(Address {
            allocation_id: Some("eipalloc-1".into()),
            public_ip: "198.51.100.4".into(),
            association_id: Some("eipassoc-1".into()),
            instance_id: Some("i-1".into()),
            network_interface_id: Some("eni-1".into()),
            tags: Default::default(),
        });
        assert!(run(&inv).iter().all(|d| d.rule != PUBLIC_IPV4));
        let mut inv = with_public_ip(Some("eni-1"));
        inv.instances[0].state = "stopped".into();
        assert!(run(&inv).iter().all(|d| d.rule != PUBLIC_IPV4));
        let mut inv = with_public_ip(Some("eni-1"));
        inv.instances[0].public_ip = None;
        assert!(run(&inv).is_empty());
    }
}
