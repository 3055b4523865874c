//! Provisioned Redshift clusters. Node cost = nodes × $/h of the node type (`redshift:<type>:hour`)
//! × 730; RA3 managed storage is billed apart (and still billed while paused), so it is not in
//! these figures.
//!
//! - `redshift.idle-cluster`: `available`, created at least `idle_min_age_days` ago, no connection
//!   in the idle window (`DatabaseConnections` hourly maximum = 0 in every hour with data: the
//!   test of AWS Trusted Advisor's "Underutilized Amazon Redshift Clusters" check) and no
//!   completed query where `QueriesCompletedPerSecond` answers. Saving = node cost (delete with a
//!   final snapshot, or pause).
//! - `redshift.previous-generation`: a node type AWS's "Upgrading to RA3 node types" table
//!   (Amazon Redshift Management Guide) maps to RA3 for the cluster's node count ([`ra3_target`]):
//!   DS2, and DC2 except dc2.large up to 4 nodes. Saving = old node cost − new node cost, when
//!   both are priced and it is positive. DS2 has no rate in the price book (the feeds no longer
//!   list it): a DS2 cluster is flagged without a saving when its rate is missing; a DC2 cluster
//!   only with a positive one.
//! - `redshift.pause-schedule`: `available`, created at least `idle_min_age_days` ago, not idle,
//!   metrics in at least 90 % of the window's hours (a paused cluster publishes none, so a
//!   cluster already paused on a schedule has gaps), and at least `redshift_pause_idle_percent` %
//!   of them with no connection in stretches of [`PAUSE_MIN_RUN_HOURS`] hours or more. Saving =
//!   that share × node cost (low confidence: the quiet hours must recur for a schedule to catch
//!   them).

use rust_decimal::Decimal;

use super::draft::{aws_cli, Ctx, Draft, Pricer};
use super::facts::{RedshiftCluster, RegionInventory};
use crate::domain::finding::Confidence;
use crate::domain::money::usd;
use crate::pricing::{Sku, HOURS_PER_MONTH};

pub const IDLE: &str = "redshift.idle-cluster";
pub const PREVIOUS_GENERATION: &str = "redshift.previous-generation";
pub const PAUSE_SCHEDULE: &str = "redshift.pause-schedule";

/// Quiet stretches shorter than this are not worth a pause and a resume.
pub const PAUSE_MIN_RUN_HOURS: usize = 4;

/// Share of the window's hours the connection series must cover (percent).
pub const PAUSE_MIN_COVERAGE_PERCENT: usize = 90;

/// AWS's recommended RA3 configuration for an existing node type and count ("Upgrading to RA3
/// node types", Amazon Redshift Management Guide): (node type, node count), or `None` where
/// AWS recommends keeping the cluster (dc2.large up to 4 nodes) or the type is not in the table.
pub fn ra3_target(node_type: &str, nodes: u32) -> Option<(&'static str, u32)> {
    let per = |n: u32, of: u32| n.div_ceil(of);
    Some(match (node_type, nodes) {
        ("ds2.xlarge", 1) => ("ra3.xlplus", 1),
        ("ds2.xlarge", 2 | 3) => ("ra3.xlplus", 2),
        ("ds2.xlarge", 4) => ("ra3.xlplus", 3),
        ("ds2.xlarge", 5 | 6) => ("ra3.xlplus", 4),
        ("ds2.xlarge", 7) => ("ra3.xlplus", 5),
        ("ds2.xlarge", 8) => ("ra3.4xlarge", 2),
        ("ds2.xlarge", 9 | 10) => ("ra3.4xlarge", 3),
        ("ds2.xlarge", 11..=128) => ("ra3.4xlarge", per(nodes, 4)),
        ("ds2.8xlarge" | "dc2.8xlarge", 1..=15) => ("ra3.4xlarge", 2 * nodes),
        ("ds2.8xlarge" | "dc2.8xlarge", 16..=128) => ("ra3.16xlarge", per(nodes, 2)),
        ("dc2.large", 5..=15) => ("ra3.xlplus", per(3 * nodes, 8)),
        ("dc2.large", 16..=32) => ("ra3.4xlarge", per(nodes, 8)),
        _ => return None,
    })
}

pub fn evaluate(ctx: &Ctx<'_>, inv: &RegionInventory, out: &mut Vec<Draft>) {
    for c in &inv.redshift_clusters {
        if c.status != "available" {
            continue;
        }
        let idle = idle(ctx, inv, c, out);
        previous_generation(ctx, inv, c, out);
        if !idle {
            pause_schedule(ctx, inv, c, out);
        }
    }
}

fn base(ctx: &Ctx<'_>, inv: &RegionInventory, c: &RedshiftCluster, rule: &str, title: String) -> Draft {
    let arn = format!("arn:aws:redshift:{}:{}:cluster:{}", inv.region, ctx.account_id, c.id);
    let mut d = Draft::new(rule, arn.clone(), Some(arn), &inv.region, title);
    d.tags = c.tags.clone();
    d
}

/// (monthly cost, $/h) of `nodes` nodes of `node_type`.
fn monthly(p: &mut Pricer<'_>, node_type: &str, nodes: u32) -> Option<(Decimal, Decimal)> {
    let h = p.rate(&Sku::Redshift { node_type: node_type.to_owned() })?;
    Some((h * HOURS_PER_MONTH * Decimal::from(nodes), h))
}

fn describe(c: &RedshiftCluster) -> String {
    format!("Redshift cluster {} ({} × {})", c.id, c.nodes, c.node_type)
}

/// Puts the node cost into the draft (cost, and `saving_share` of it as the saving), or says the
/// rate is missing.
fn price_nodes(ctx: &Ctx<'_>, inv: &RegionInventory, c: &RedshiftCluster, d: &mut Draft, saving_share: Decimal) {
    let mut p = ctx.pricer(&inv.region);
    match monthly(&mut p, &c.node_type, c.nodes) {
        Some((m, h)) => {
            d.evidence.push(format!("{} nodes × ${h}/h × 730 h = ${}", c.nodes, usd(m)));
            d.evidence.extend(p.source_line());
            d.monthly_cost_usd = Some(m);
            d.monthly_savings_usd = Some((m * saving_share).round_dp(2));
            d.price_source = p.source();
        }
        None => d.evidence.push(format!("{} is not in the price book", c.node_type)),
    }
}

/// Flags a cluster with no connection in the window; whether it did.
fn idle(ctx: &Ctx<'_>, inv: &RegionInventory, c: &RedshiftCluster, out: &mut Vec<Draft>) -> bool {
    let s = ctx.settings;
    let Some(hours) = c.hourly_connections.as_deref().filter(|h| !h.is_empty()) else { return false };
    let old_enough = c.created.is_some_and(|t| ctx.at_least(t, s.idle_min_age_days));
    if !old_enough || hours.iter().any(|v| !v.is_zero()) || c.queries.is_some_and(|q| !q.is_zero()) {
        return false;
    }
    let mut d = base(ctx, inv, c, IDLE, format!("{} had no connection in {} days", describe(c), s.idle_window_days));
    d.evidence.push(format!(
        "CloudWatch DatabaseConnections over the last {} days: maximum 0 in each of the {} hours with data",
        s.idle_window_days,
        hours.len()
    ));
    d.evidence.push(match c.queries {
        Some(_) => "QueriesCompletedPerSecond: 0 queries completed".into(),
        None => "QueriesCompletedPerSecond: no data".into(),
    });
    price_nodes(ctx, inv, c, &mut d, Decimal::ONE);
    d.confidence = Confidence::Medium;
    let snapshot = format!("{}-final", c.id);
    d.fix_command = aws_cli(
        "redshift",
        "delete-cluster",
        &[("--cluster-identifier", &c.id), ("--final-cluster-snapshot-identifier", &snapshot)],
        &inv.region,
    );
    d.alternative = Some("pause it (aws redshift pause-cluster) to keep it without paying for its nodes".into());
    out.push(d);
    true
}

fn previous_generation(ctx: &Ctx<'_>, inv: &RegionInventory, c: &RedshiftCluster, out: &mut Vec<Draft>) {
    let Some((to, to_nodes)) = ra3_target(&c.node_type, c.nodes) else { return };
    let retired = c.node_type.starts_with("ds2.");
    let mut p = ctx.pricer(&inv.region);
    let old = monthly(&mut p, &c.node_type, c.nodes);
    let new = monthly(&mut p, to, to_nodes);
    let saving = match (old, new) {
        (Some((o, _)), Some((n, _))) if o > n => Some(o - n),
        (Some(_), Some(_)) => return,
        _ if retired => None,
        _ => return,
    };
    let title = match saving {
        Some(s) => format!("{}: AWS recommends {to_nodes} × {to}, ${} less a month", describe(c), usd(s)),
        None => format!("{}: AWS recommends moving DS2 to {to_nodes} × {to}", describe(c)),
    };
    let mut d = base(ctx, inv, c, PREVIOUS_GENERATION, title);
    d.evidence.push(format!(
        "AWS's RA3 upgrade table (Amazon Redshift Management Guide): {} × {} → {to_nodes} × {to}",
        c.nodes, c.node_type
    ));
    for (t, n, priced) in [(c.node_type.as_str(), c.nodes, old), (to, to_nodes, new)] {
        d.evidence.push(match priced {
            Some((m, h)) => format!("{t}: {n} nodes × ${h}/h × 730 h = ${}", usd(m)),
            None => format!("{t} is not in the price book"),
        });
    }
    d.evidence.push("RA3 managed storage is billed per GB apart from the nodes and is not counted".into());
    d.evidence.extend(p.source_line());
    d.monthly_cost_usd = old.map(|(m, _)| m);
    d.monthly_savings_usd = saving;
    d.price_source = p.source();
    d.confidence = Confidence::Medium;
    let nodes = to_nodes.to_string();
    let mut args = vec![("--cluster-identifier", c.id.as_str()), ("--node-type", to), ("--number-of-nodes", &nodes)];
    if c.nodes == 1 || to_nodes == 1 {
        // Only classic resize changes a single-node cluster's node type.
        args.push(("--classic", ""));
    }
    d.fix_command = aws_cli("redshift", "resize-cluster", &args, &inv.region);
    d.alternative = Some(format!("{to_nodes} × {to} (add nodes if the workload needs them)"));
    out.push(d);
}

/// Hours in stretches of at least [`PAUSE_MIN_RUN_HOURS`] consecutive hours with no connection.
pub fn pausable_hours(hours: &[Decimal]) -> usize {
    let mut total = 0;
    let mut run = 0;
    for v in hours.iter().chain(std::iter::once(&Decimal::ONE)) {
        if v.is_zero() {
            run += 1;
        } else {
            if run >= PAUSE_MIN_RUN_HOURS {
                total += run;
            }
            run = 0;
        }
    }
    total
}

fn pause_schedule(ctx: &Ctx<'_>, inv: &RegionInventory, c: &RedshiftCluster, out: &mut Vec<Draft>) {
    let s = ctx.settings;
    let Some(hours) = c.hourly_connections.as_deref() else { return };
    let window_hours = 24 * s.idle_window_days as usize;
    let old_enough = c.created.is_some_and(|t| ctx.at_least(t, s.idle_min_age_days));
    if !old_enough || hours.len() * 100 < window_hours * PAUSE_MIN_COVERAGE_PERCENT {
        return;
    }
    let quiet = pausable_hours(hours);
    if quiet * 100 < hours.len() * s.redshift_pause_idle_percent as usize {
        return;
    }
    let share = Decimal::from(quiet) / Decimal::from(hours.len());
    let percent = (share * Decimal::ONE_HUNDRED).round_dp(0);
    let mut d = base(
        ctx,
        inv,
        c,
        PAUSE_SCHEDULE,
        format!("{} had no connection {percent} % of the time: pause it on a schedule", describe(c)),
    );
    let zero = hours.iter().filter(|v| v.is_zero()).count();
    d.evidence.push(format!(
        "CloudWatch DatabaseConnections hourly maximum over the last {} days: 0 in {zero} of {} hours, {quiet} of them in stretches of {PAUSE_MIN_RUN_HOURS} h or more",
        s.idle_window_days,
        hours.len()
    ));
    d.evidence.push(format!(
        "metrics cover {} of the window's {window_hours} hours: the cluster was not paused",
        hours.len()
    ));
    price_nodes(ctx, inv, c, &mut d, share);
    if let (Some(cost), Some(saving)) = (d.monthly_cost_usd, d.monthly_savings_usd) {
        d.evidence.push(format!(
            "paused {quiet} ÷ {} hours: {percent} % × ${} = ${}",
            hours.len(),
            usd(cost),
            usd(saving)
        ));
    }
    d.confidence = Confidence::Low;
    d.fix_command = aws_cli("redshift", "pause-cluster", &[("--cluster-identifier", &c.id)], &inv.region);
    d.alternative =
        Some("schedule pause and resume actions for the quiet hours (aws redshift create-scheduled-action)".into());
    out.push(d);
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::rules::testkit::*;

    fn cluster(id: &str, node_type: &str, nodes: u32, hourly: &[u32]) -> RedshiftCluster {
        RedshiftCluster {
            id: id.into(),
            node_type: node_type.into(),
            nodes,
            status: "available".into(),
            created: Some(now() - Duration::days(200)),
            tags: Default::default(),
            hourly_connections: Some(hourly.iter().map(|&v| Decimal::from(v)).collect()),
            queries: None,
        }
    }

    /// 14 days of working hours: `busy` connections 08:00-18:00 on weekdays, 0 otherwise.
    fn office_hours(busy: u32) -> Vec<u32> {
        (0..14 * 24).map(|h| if (h / 24) % 7 < 5 && (8..18).contains(&(h % 24)) { busy } else { 0 }).collect()
    }

    fn run(clusters: Vec<RedshiftCluster>) -> Vec<Draft> {
        let mut inv = RegionInventory::new("us-east-1");
        inv.redshift_clusters = clusters;
        crate::rules::testkit::run(evaluate, &inv)
    }

    #[test]
    fn a_cluster_with_no_connection_is_idle_and_costs_its_nodes() {
        let d = only(run(vec![cluster("bi", "ra3.4xlarge", 2, &[0; 336])]), IDLE);
        // 2 × $3.26/h × 730 = $4,759.60.
        assert_eq!(d.monthly_savings_usd, Some(dec("4759.60")));
        assert_eq!(d.resource_id, "arn:aws:redshift:us-east-1:123456789012:cluster:bi");
        assert_eq!(
            d.fix_command,
            "aws redshift delete-cluster --cluster-identifier bi --final-cluster-snapshot-identifier bi-final --region us-east-1"
        );
        assert!(d.evidence.iter().any(|e| e == "2 nodes × $3.26/h × 730 h = $4759.60"), "{:?}", d.evidence);
    }

    #[test]
    fn connections_queries_youth_missing_data_or_a_paused_cluster_are_not_idle() {
        let mut one = vec![0; 336];
        one[100] = 1;
        assert!(run(vec![cluster("c", "ra3.4xlarge", 2, &one)]).iter().all(|d| d.rule != IDLE));
        let mut queried = cluster("c", "ra3.4xlarge", 2, &[0; 336]);
        queried.queries = Some(dec("0.5"));
        assert!(run(vec![queried]).iter().all(|d| d.rule != IDLE), "queries ran");
        let mut young = cluster("c", "ra3.4xlarge", 2, &[0; 24]);
        young.created = Some(now() - Duration::days(1));
        assert!(run(vec![young]).is_empty());
        let mut unmeasured = cluster("c", "ra3.4xlarge", 2, &[]);
        unmeasured.hourly_connections = None;
        assert!(run(vec![unmeasured]).is_empty(), "no data is no fact");
        let mut paused = cluster("c", "ra3.4xlarge", 2, &[0; 336]);
        paused.status = "paused".into();
        assert!(run(vec![paused]).is_empty(), "a paused cluster pays no node hours");
    }

    #[test]
    fn aws_upgrade_table_maps_node_counts() {
        assert_eq!(ra3_target("ds2.xlarge", 3), Some(("ra3.xlplus", 2)));
        assert_eq!(ra3_target("ds2.xlarge", 12), Some(("ra3.4xlarge", 3)));
        assert_eq!(ra3_target("ds2.8xlarge", 4), Some(("ra3.4xlarge", 8)));
        assert_eq!(ra3_target("dc2.8xlarge", 20), Some(("ra3.16xlarge", 10)));
        assert_eq!(ra3_target("dc2.large", 8), Some(("ra3.xlplus", 3)));
        assert_eq!(ra3_target("dc2.large", 4), None, "AWS: keep a dc2.large cluster of up to 4 nodes");
        assert_eq!(ra3_target("ra3.4xlarge", 2), None);
    }

    #[test]
    fn dc2_moves_only_for_a_priced_saving_and_ds2_is_flagged_without_one() {
        // dc2.8xlarge 2 × $4.80 = $9.60/h against ra3.4xlarge 4 × $3.26 = $13.04/h: dearer, no finding.
        let busy = office_hours(5);
        assert!(run(vec![cluster("dc", "dc2.8xlarge", 2, &[3; 336])]).is_empty());
        // dc2.large 8 × $0.25 = $2/h against 3 ra3.xlplus × $1.086 = $3.258/h: no finding either.
        assert!(run(vec![cluster("dc", "dc2.large", 8, &[3; 336])]).is_empty());
        // ds2 is not in the price book: flagged, no saving, the RA3 side priced in the evidence.
        let d = only(run(vec![cluster("old", "ds2.xlarge", 3, &busy)]), PREVIOUS_GENERATION);
        assert_eq!(d.monthly_savings_usd, None);
        assert_eq!(d.monthly_cost_usd, None);
        assert!(d.evidence.contains(&"ds2.xlarge is not in the price book".to_owned()), "{:?}", d.evidence);
        assert!(d.evidence.iter().any(|e| e == "ra3.xlplus: 2 nodes × $1.086/h × 730 h = $1585.56"));
        assert_eq!(
            d.fix_command,
            "aws redshift resize-cluster --cluster-identifier old --node-type ra3.xlplus --number-of-nodes 2 --region us-east-1"
        );
        let single = only(run(vec![cluster("one", "ds2.xlarge", 1, &busy)]), PREVIOUS_GENERATION);
        assert!(single.fix_command.ends_with("--number-of-nodes 1 --classic --region us-east-1"));
    }

    #[test]
    fn quiet_nights_and_weekends_are_worth_a_pause_schedule() {
        let d = only(run(vec![cluster("etl", "ra3.xlplus", 2, &office_hours(7))]), PAUSE_SCHEDULE);
        // 100 busy hours of 336; the quiet stretches (nights of 14 h, weekends) are all ≥ 4 h:
        // 236 ÷ 336 of 2 × $1.086 × 730 = $1,585.56 is $1,113.67.
        assert_eq!(d.monthly_cost_usd, Some(dec("1585.56")));
        assert_eq!(d.monthly_savings_usd, Some(dec("1113.67")));
        assert_eq!(d.confidence, Confidence::Low);
        assert_eq!(d.fix_command, "aws redshift pause-cluster --cluster-identifier etl --region us-east-1");
        assert!(d.evidence[0].contains("0 in 236 of 336 hours, 236 of them"), "{:?}", d.evidence);
    }

    #[test]
    fn busy_clusters_short_lulls_and_gaps_get_no_pause_schedule() {
        assert!(run(vec![cluster("busy", "ra3.xlplus", 2, &[4; 336])]).is_empty());
        // Quiet every other hour: half the hours at 0, but never 4 in a row.
        let flicker: Vec<u32> = (0..336).map(|h| h % 2).collect();
        assert_eq!(pausable_hours(&flicker.iter().map(|&v| Decimal::from(v)).collect::<Vec<_>>()), 0);
        assert!(run(vec![cluster("flicker", "ra3.xlplus", 2, &flicker)]).is_empty());
        // Already paused on a schedule: its paused hours have no datapoint (only 100 of 336).
        assert!(run(vec![cluster("scheduled", "ra3.xlplus", 2, &[7; 100])]).is_empty());
        // Quiet only 30 % of the time, under the 40 % default.
        let mostly: Vec<u32> = (0..336).map(|h| u32::from(h % 24 >= 7)).collect();
        assert!(run(vec![cluster("mostly", "ra3.xlplus", 2, &mostly)]).is_empty());
        let s = ScanSettings { redshift_pause_idle_percent: 25, ..Default::default() };
        let mut inv = RegionInventory::new("us-east-1");
        inv.redshift_clusters = vec![cluster("mostly", "ra3.xlplus", 2, &mostly)];
        assert_eq!(run_with(evaluate, &s, &inv).len(), 1, "a lower threshold flags it");
    }

    use crate::domain::settings::ScanSettings;
}
