//! ElastiCache, judged per replication group (Redis and Valkey members are one-node cache
//! clusters that are deleted or resized together) or per stand-alone cache cluster. Node cost =
//! $/h of the node type and engine × 730; a unit's cost = Σ its nodes.
//!
//! - `elasticache.idle-cluster`: every member `available`, created at least `idle_min_age_days`
//!   ago, no command in the idle window (Σ `GetTypeCmds` + `SetTypeCmds`, memcached `CmdGet` +
//!   `CmdSet`, = 0 on every node) and at most 4 connections on any node (`CurrConnections`
//!   maximum: ElastiCache's own monitoring holds two to four). Saving = cost (delete, with a final
//!   snapshot for Redis and Valkey).
//! - `elasticache.previous-generation`: a previous-generation node family (t1, m1, m2, m3, c1,
//!   r3). Saving = ($/h old − $/h of the current family of the same size) × 730 × nodes, when
//!   positive and both are priced.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::draft::{aws_cli, Ctx, Draft, Pricer};
use super::facts::{CacheCluster, RegionInventory};
use crate::domain::finding::Confidence;
use crate::domain::money::usd;
use crate::pricing::{Sku, HOURS_PER_MONTH};

pub const IDLE: &str = "elasticache.idle-cluster";
pub const PREVIOUS_GENERATION: &str = "elasticache.previous-generation";

/// Connections ElastiCache's own monitoring may hold on an unused node.
pub const IDLE_MAX_CONNECTIONS: u32 = 4;

/// Previous-generation node families and the current family of the same sizes.
pub const SUCCESSORS: &[(&str, &str)] =
    &[("t1", "t3"), ("m1", "m5"), ("m2", "r5"), ("m3", "m5"), ("c1", "m5"), ("r3", "r5")];

/// A replication group, or a stand-alone cluster, with its members.
struct Unit<'a> {
    id: &'a str,
    group: bool,
    members: Vec<&'a CacheCluster>,
}

impl Unit<'_> {
    fn nodes(&self) -> usize {
        self.members.iter().map(|c| c.node_ids.len().max(1)).sum()
    }

    fn engine(&self) -> &str {
        self.members[0].engine.as_str()
    }

    fn node_type(&self) -> &str {
        self.members[0].node_type.as_str()
    }
}

fn units(inv: &RegionInventory) -> Vec<Unit<'_>> {
    let mut groups: BTreeMap<&str, Vec<&CacheCluster>> = BTreeMap::new();
    let mut out = Vec::new();
    for c in &inv.cache_clusters {
        match c.replication_group.as_deref() {
            Some(g) => groups.entry(g).or_default().push(c),
            None => out.push(Unit { id: &c.id, group: false, members: vec![c] }),
        }
    }
    out.extend(groups.into_iter().map(|(id, members)| Unit { id, group: true, members }));
    out
}

pub fn evaluate(ctx: &Ctx<'_>, inv: &RegionInventory, out: &mut Vec<Draft>) {
    for u in units(inv) {
        idle(ctx, inv, &u, out);
        previous_generation(ctx, inv, &u, out);
    }
}

fn arn(ctx: &Ctx<'_>, region: &str, u: &Unit<'_>) -> String {
    match (u.group, u.members[0].arn.as_deref()) {
        (false, Some(a)) => a.to_owned(),
        (false, None) => format!("arn:aws:elasticache:{region}:{}:cluster:{}", ctx.account_id, u.id),
        (true, _) => format!("arn:aws:elasticache:{region}:{}:replicationgroup:{}", ctx.account_id, u.id),
    }
}

fn base(ctx: &Ctx<'_>, inv: &RegionInventory, u: &Unit<'_>, rule: &str, title: String) -> Draft {
    let arn = arn(ctx, &inv.region, u);
    Draft::new(rule, arn.clone(), Some(arn), &inv.region, title)
}

fn describe(u: &Unit<'_>) -> String {
    let what = if u.group { "replication group" } else { "cluster" };
    format!("{what} {} ({} × {} {})", u.id, u.nodes(), u.node_type(), u.engine())
}

/// (monthly cost of the unit's nodes at `node_type`, the hourly rate).
fn monthly(p: &mut Pricer<'_>, u: &Unit<'_>, node_type: &str) -> Option<(Decimal, Decimal)> {
    let h = p.rate(&Sku::CacheNode { node_type: node_type.to_owned(), engine: u.engine().to_owned() })?;
    Some((h * HOURS_PER_MONTH * Decimal::from(u.nodes()), h))
}

fn idle(ctx: &Ctx<'_>, inv: &RegionInventory, u: &Unit<'_>, out: &mut Vec<Draft>) {
    let s = ctx.settings;
    let quiet = |c: &&CacheCluster| {
        c.status == "available"
            && c.created.is_some_and(|t| ctx.at_least(t, s.idle_min_age_days))
            && c.commands.is_some_and(|n| n.is_zero())
            && c.max_connections.is_some_and(|n| n <= Decimal::from(IDLE_MAX_CONNECTIONS))
    };
    if !u.members.iter().all(quiet) {
        return;
    }
    let peak = u.members.iter().filter_map(|c| c.max_connections).max().unwrap_or_default();
    let mut d = base(ctx, inv, u, IDLE, format!("{} ran no command in {} days", describe(u), s.idle_window_days));
    d.evidence.push(format!(
        "CloudWatch over the last {} days, every node: 0 commands ({}), at most {} connections (CurrConnections; ElastiCache's monitoring holds 2 to 4)",
        s.idle_window_days,
        if u.engine() == "memcached" { "CmdGet + CmdSet" } else { "GetTypeCmds + SetTypeCmds" },
        peak.normalize()
    ));
    let mut p = ctx.pricer(&inv.region);
    if let Some((m, h)) = monthly(&mut p, u, u.node_type()) {
        d.evidence.push(format!("{} nodes × ${h}/h × 730 h = ${}", u.nodes(), usd(m)));
        d.evidence.extend(p.source_line());
        d.monthly_cost_usd = Some(m);
        d.monthly_savings_usd = Some(m);
        d.price_source = p.source();
    } else {
        d.evidence.push(format!("{} {} is not in the price book", u.node_type(), u.engine()));
    }
    d.confidence = Confidence::Medium;
    let r = &inv.region;
    let snapshot = format!("{}-final", u.id);
    d.fix_command = match (u.group, u.engine()) {
        (true, _) => aws_cli(
            "elasticache",
            "delete-replication-group",
            &[("--replication-group-id", u.id), ("--final-snapshot-identifier", &snapshot)],
            r,
        ),
        (false, "memcached") => aws_cli("elasticache", "delete-cache-cluster", &[("--cache-cluster-id", u.id)], r),
        (false, _) => aws_cli(
            "elasticache",
            "delete-cache-cluster",
            &[("--cache-cluster-id", u.id), ("--final-snapshot-identifier", &snapshot)],
            r,
        ),
    };
    d.alternative = Some("delete it (Redis and Valkey keep a final snapshot)".into());
    out.push(d);
}

/// The current-generation node type of the same size, for a previous-generation one.
pub fn successor(node_type: &str) -> Option<String> {
    let (family, size) = node_type.strip_prefix("cache.")?.split_once('.')?;
    let (_, new) = SUCCESSORS.iter().find(|(old, _)| *old == family)?;
    Some(format!("cache.{new}.{size}"))
}

fn previous_generation(ctx: &Ctx<'_>, inv: &RegionInventory, u: &Unit<'_>, out: &mut Vec<Draft>) {
    if u.members.iter().any(|c| c.status != "available" || c.node_type != u.node_type()) {
        return;
    }
    let Some(to) = successor(u.node_type()) else { return };
    let mut p = ctx.pricer(&inv.region);
    let (Some((old, old_h)), Some((new, new_h))) = (monthly(&mut p, u, u.node_type()), monthly(&mut p, u, &to)) else {
        return;
    };
    if new >= old {
        return;
    }
    let mut d = base(
        ctx,
        inv,
        u,
        PREVIOUS_GENERATION,
        format!("{} is previous generation: {to} costs ${} less a month", describe(u), usd(old - new)),
    );
    d.evidence.push(format!("{}: {} nodes × ${old_h}/h × 730 h = ${}", u.node_type(), u.nodes(), usd(old)));
    d.evidence.push(format!("{to}: {} nodes × ${new_h}/h × 730 h = ${}", u.nodes(), usd(new)));
    d.evidence.extend(p.source_line());
    d.monthly_cost_usd = Some(old);
    d.monthly_savings_usd = Some(old - new);
    d.price_source = p.source();
    let r = &inv.region;
    let nodes = u.nodes().to_string();
    d.fix_command = match (u.group, u.engine()) {
        (true, _) => aws_cli(
            "elasticache",
            "modify-replication-group",
            &[("--replication-group-id", u.id), ("--cache-node-type", &to), ("--apply-immediately", "")],
            r,
        ),
        // Memcached cannot change node type in place: a new cluster, then move the clients.
        (false, "memcached") => {
            d.evidence.push(
                "Memcached cannot change node type in place: create the new cluster, move clients, delete the old one"
                    .into(),
            );
            let new_id = format!("{}-{}", u.id, to.replace('.', "-"));
            aws_cli(
                "elasticache",
                "create-cache-cluster",
                &[
                    ("--cache-cluster-id", &new_id),
                    ("--engine", "memcached"),
                    ("--cache-node-type", &to),
                    ("--num-cache-nodes", &nodes),
                ],
                r,
            )
        }
        (false, _) => aws_cli(
            "elasticache",
            "modify-cache-cluster",
            &[("--cache-cluster-id", u.id), ("--cache-node-type", &to), ("--apply-immediately", "")],
            r,
        ),
    };
    d.alternative = Some(to);
    out.push(d);
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::rules::testkit::*;

    fn cluster(id: &str, node_type: &str, engine: &str, group: Option<&str>) -> CacheCluster {
        CacheCluster {
            id: id.into(),
            arn: None,
            engine: engine.into(),
            node_type: node_type.into(),
            status: "available".into(),
            node_ids: vec!["0001".into()],
            replication_group: group.map(Into::into),
            created: Some(now() - Duration::days(100)),
            max_connections: Some(dec("3")),
            commands: Some(dec("0")),
        }
    }

    fn run(clusters: Vec<CacheCluster>) -> Vec<Draft> {
        let mut inv = RegionInventory::new("us-east-1");
        inv.cache_clusters = clusters;
        crate::rules::testkit::run(evaluate, &inv)
    }

    #[test]
    fn an_idle_replication_group_is_one_finding_for_all_its_nodes() {
        let g = Some("sessions");
        let drafts = run(vec![
            cluster("sessions-001", "cache.m5.large", "redis", g),
            cluster("sessions-002", "cache.m5.large", "redis", g),
        ]);
        let d = only(drafts, IDLE);
        // 2 × $0.156/h × 730 = $227.76.
        assert_eq!(d.monthly_savings_usd, Some(dec("227.76")));
        assert_eq!(d.resource_id, "arn:aws:elasticache:us-east-1:123456789012:replicationgroup:sessions");
        assert_eq!(
            d.fix_command,
            "aws elasticache delete-replication-group --replication-group-id sessions \
             --final-snapshot-identifier sessions-final --region us-east-1"
        );
    }

    #[test]
    fn one_busy_member_commands_connections_or_missing_data_keep_a_group() {
        let g = Some("g");
        let mut busy = cluster("g-002", "cache.m5.large", "redis", g);
        busy.commands = Some(dec("12"));
        assert!(run(vec![cluster("g-001", "cache.m5.large", "redis", g), busy]).is_empty());
        let mut connected = cluster("c", "cache.m5.large", "valkey", None);
        connected.max_connections = Some(dec("5"));
        assert!(run(vec![connected]).is_empty(), "clients connected, even without commands");
        let mut unmeasured = cluster("c", "cache.m5.large", "redis", None);
        unmeasured.commands = None;
        assert!(run(vec![unmeasured]).is_empty(), "no data is no fact");
        let mut young = cluster("c", "cache.m5.large", "redis", None);
        young.created = Some(now() - Duration::days(2));
        assert!(run(vec![young]).is_empty());
    }

    #[test]
    fn a_standalone_memcached_cluster_is_deleted_without_a_snapshot() {
        let mut c = cluster("tokens", "cache.t3.medium", "memcached", None);
        c.node_ids = vec!["0001".into(), "0002".into(), "0003".into()];
        let d = only(run(vec![c]), IDLE);
        assert_eq!(d.fix_command, "aws elasticache delete-cache-cluster --cache-cluster-id tokens --region us-east-1");
        assert!(d.monthly_savings_usd.is_some_and(|s| s > Decimal::ZERO));
    }

    #[test]
    fn previous_generation_nodes_move_to_the_current_family_of_the_same_size() {
        assert_eq!(successor("cache.m3.large").as_deref(), Some("cache.m5.large"));
        assert_eq!(successor("cache.m4.large"), None, "m4 is still a current generation");
        let mut c = cluster("cache", "cache.m3.large", "redis", None);
        c.commands = Some(dec("1000"));
        let d = only(run(vec![c.clone()]), PREVIOUS_GENERATION);
        // ($0.182 − $0.156) × 730 = $18.98.
        assert_eq!(d.monthly_savings_usd, Some(dec("18.98")));
        assert_eq!(d.confidence, Confidence::High);
        assert!(d
            .fix_command
            .contains("modify-cache-cluster --cache-cluster-id cache --cache-node-type cache.m5.large"));
        // A current family, or a cluster being modified, is left alone.
        c.node_type = "cache.m6g.large".into();
        assert!(run(vec![c.clone()]).is_empty());
        c.node_type = "cache.m3.large".into();
        c.status = "modifying".into();
        assert!(run(vec![c]).is_empty());
    }
}
