//! Every rule costradar has, in one table: the scan's, the real-time ones, the CUR analysis' and
//! AWS's recommendations as the scan merges them. `costradar rules [--json]` prints it and the
//! rule tables of `docs/rules.md` are generated from it (`crates/core/tests/rules_doc.rs` fails
//! when they are stale); a test below holds it in step with [`super::SCAN_RULES`].

use serde::Serialize;

use crate::domain::triage::Source;

/// One rule as a reader sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RuleInfo {
    pub id: &'static str,
    /// The AWS service it reads about.
    pub service: &'static str,
    pub source: Source,
    pub title: &'static str,
    /// `high`, `medium`, `low`, or how it varies.
    pub confidence: &'static str,
    /// The scan settings (`docs/rules.md`, "Settings") it reads.
    pub settings: &'static [&'static str],
    /// What is flagged, the monthly cost and the monthly saving: the formulas, as in the doc
    /// comment of the rule's family file.
    pub flags: &'static str,
    pub cost: &'static str,
    pub saving: &'static str,
}

macro_rules! rules {
    ($($id:literal $service:literal $source:ident [$($setting:literal),*] $confidence:literal
        $title:literal; $flags:literal; $cost:literal; $saving:literal;)*) => {
        /// The catalogue, scan rules first in evaluation order.
        pub const CATALOGUE: &[RuleInfo] = &[$(RuleInfo {
            id: $id,
            service: $service,
            source: Source::$source,
            title: $title,
            confidence: $confidence,
            settings: &[$($setting),*],
            flags: $flags,
            cost: $cost,
            saving: $saving,
        }),*];
    };
}

rules! {
    "ebs.unattached-volume" "EBS" Scan ["unattached_volume_days"] "high"
        "EBS volume unattached";
        "`available` for ≥ N days (see ages above)";
        "GiB × $/GiB-month + IOPS above the type's free baseline × $/IOPS-month + MiB/s above 125 × $/MiB/s-month (gp3)";
        "= cost";
    "ebs.volume-on-stopped-instance" "EBS" Scan ["stopped_instance_days"] "medium"
        "EBS volume attached only to long-stopped instances";
        "attached only to instances stopped > `stopped_instance_days`";
        "the volume's cost";
        "= cost, counted in the instance's `ec2.stopped-instance`";
    "ebs.gp2-to-gp3" "EBS" Scan [] "high"
        "gp2 volume cheaper as gp3";
        "gp2 volume (available or in use)";
        "cost(gp2)";
        "cost(gp2) − cost(gp3 of the same size with IOPS = max(3000, 3 × GiB capped 100..16,000) and 128 MiB/s up to 170 GiB, else 250), only if positive";
    "ebs.io-to-gp3" "EBS" Scan ["io_to_gp3_max_iops"] "high (io1), medium (io2: durability)"
        "io1/io2 volume cheaper as gp3";
        "io1/io2 with ≤ `io_to_gp3_max_iops` IOPS";
        "cost(io) (io2 IOPS in its tiers)";
        "cost(io) − cost(gp3 with IOPS = max(3000, provisioned), MiB/s = max(125, min(IOPS / 4, 1000))), only if positive";
    "snapshot.orphaned" "EBS" Scan ["snapshot_age_days"] "medium"
        "Old snapshot of a deleted volume";
        "completed, ≥ `snapshot_age_days` old, source volume gone, no AMI of ours uses it";
        "≤ GiB × $/GB-month of snapshot storage (GiB = `FullSnapshotSizeInBytes` / 2^30, else the source volume's size)";
        "= cost, an upper bound: snapshots are incremental";
    "ec2.stopped-instance" "EC2" Scan ["stopped_instance_days"] "medium"
        "Long-stopped instance still paying for storage";
        "stopped > `stopped_instance_days` (time from `StateTransitionReason`)";
        "Σ its volumes' cost + its Elastic IPs × $/h × 730";
        "= cost (terminate, delete the volumes, release the addresses); an AMI backup's snapshot storage is shown as an upper bound in the evidence";
    "ec2.previous-generation" "EC2" Scan [] "high"
        "Previous-generation instance type";
        "running, previous-generation family (m1-m4, c1-c4, r3-r4, t1-t2, i2, d2, g2-g3, p2, x1)";
        "$/h × 730";
        "($/h − $/h of the current family, same size) × 730, only if positive";
    "ec2.idle-instance" "EC2" Scan ["idle_window_days", "idle_min_age_days", "idle_cpu_p95_percent"] "low"
        "Idle instance";
        "running ≥ `idle_min_age_days`, CPU p95 over the window < threshold";
        "$/h × 730";
        "= cost (stopped, it pays only its volumes)";
    "eip.unassociated" "EC2" Scan [] "high"
        "Elastic IP not associated";
        "no association, instance or ENI, and no NAT gateway or NLB uses its allocation";
        "$0.005/h × 730 = $3.65";
        "= cost";
    "nat.idle" "VPC" Scan ["idle_window_days", "idle_min_age_days", "nat_idle_max_bytes"] "medium"
        "Idle NAT gateway";
        "available ≥ `idle_min_age_days`, ≤ `nat_idle_max_bytes` in the window (`BytesInFromSource` + `BytesInFromDestination`)";
        "$/h × 730 + bytes / 2^30 × 30 / window days × $/GB + its Elastic IPs × $/h × 730";
        "= cost";
    "elb.no-healthy-targets" "ELB" Scan ["elb_no_targets_days"] "high (none registered), medium (registered, unhealthy)"
        "Load balancer with no healthy target";
        "active, no healthy target in any target group for ≥ `elb_no_targets_days`";
        "$/h × 730 for its type (capacity units not counted)";
        "= cost";
    "logs.never-expire" "CloudWatch Logs" Scan ["logs_min_stored_bytes", "logs_retention_days"] "medium"
        "Log group that never expires";
        "no retention, ≥ `logs_min_stored_bytes` stored";
        "stored bytes / 2^30 × $/GB-month";
        "not estimated (`null`): it depends on how much data is older than the retention, which CloudWatch does not report";
    "rds.stopped" "RDS" Scan [] "medium"
        "Stopped DB instance";
        "stopped (RDS restarts it after 7 days)";
        "instance + storage (instance = $/h × 730 at the published Single-AZ or Multi-AZ rate, storage = GiB × $/GiB-month of the deployment)";
        "the instance cost (delete with a final snapshot; the storage saving is left out: the snapshot's backup storage is not priced)";
    "rds.idle" "RDS" Scan ["idle_window_days", "idle_min_age_days"] "medium"
        "DB instance with no connection";
        "available ≥ `idle_min_age_days`, `DatabaseConnections` maximum 0 over the window";
        "as `rds.stopped`";
        "as `rds.stopped`";
    "rds.gp2-storage" "RDS" Scan [] "high"
        "RDS gp2 storage";
        "gp2 storage ≤ 4,000 GiB (gp3's baseline then covers gp2's)";
        "storage cost";
        "GiB × ($/GiB-month gp2 − gp3) of the deployment: $0 where AWS prices both alike (the finding is then about gp3's 3,000/12,000 IOPS for the same money)";
    "rds.previous-generation" "RDS" Scan [] "high"
        "Previous-generation DB instance class";
        "available, previous-generation class";
        "instance cost";
        "($/h − $/h of the current class, same size, same deployment) × 730, only if positive";
    "rds.multi-az-non-production" "RDS" Scan [] "high"
        "Multi-AZ on a non-production database";
        "Multi-AZ, tagged `environment`/`env`/`stage` = dev, development, test, testing, qa, staging, stage, sandbox, nonprod, non-prod, preprod";
        "instance + storage at Multi-AZ rates";
        "the same at Multi-AZ rates − at Single-AZ rates";
    "lambda.provisioned-concurrency-unused" "Lambda" Scan ["idle_window_days", "idle_min_age_days"] "medium"
        "Provisioned concurrency mostly unused";
        "`READY`, unchanged since before the window, peak `ProvisionedConcurrencyUtilization` over the window < 40 %";
        "allocated × memory GiB × $/GB-second of provisioned concurrency × 2,628,000 s; empty when the memory is unknown (the scan reads no function configuration); arm64 rate when the architecture is unknown";
        "(allocated − ⌈allocated × peak ÷ 0.7⌉) × memory GiB × $/GB-second × 2,628,000 s";
    "dynamodb.overprovisioned-capacity" "DynamoDB" Scan ["idle_window_days", "idle_min_age_days"] "medium"
        "Provisioned capacity far above consumption";
        "provisioned mode, RCU or WCU > 2 × max(1, ⌈busiest 5 minutes' units ÷ 300 ÷ 0.7⌉)";
        "(RCU × $/RCU-h + WCU × $/WCU-h) × 730";
        "the same for the capacity given up (each side over 2× its need set to the need)";
    "dynamodb.unused-table" "DynamoDB" Scan ["idle_window_days", "idle_min_age_days"] "low"
        "Table with no reads or writes";
        "`ConsumedReadCapacityUnits` and `ConsumedWriteCapacityUnits` sums 0 over the window; not a global table";
        "provisioned capacity of the table and its indexes × 730 + GiB × $/GB-month of its table class";
        "= cost (back up, delete)";
    "dynamodb.on-demand-to-provisioned" "DynamoDB" Scan ["idle_window_days", "idle_min_age_days"] "low"
        "Steady on-demand table cheaper provisioned";
        "on-demand mode, provisioned for the 5-minute peak at 70 % would cost ≤ 70 % of on demand";
        "(reads ÷ 10⁶ × $/million reads + writes ÷ 10⁶ × $/million writes) × 730 ÷ (24 × window days)";
        "on demand − (⌈peak reads ÷ 0.7⌉ × $/RCU-h + ⌈peak writes ÷ 0.7⌉ × $/WCU-h) × 730";
    "elasticache.idle-cluster" "ElastiCache" Scan ["idle_window_days", "idle_min_age_days"] "medium"
        "Cache cluster with no commands";
        "every node of the replication group (or stand-alone cluster) available ≥ `idle_min_age_days`, 0 commands (`GetTypeCmds` + `SetTypeCmds`, memcached `CmdGet` + `CmdSet`) and ≤ 4 `CurrConnections` over the window";
        "Σ nodes × $/h of the node type and engine × 730";
        "= cost (delete; Redis and Valkey keep a final snapshot)";
    "elasticache.previous-generation" "ElastiCache" Scan [] "high"
        "Previous-generation cache node type";
        "available, node family t1, m1, m2, m3, c1 or r3";
        "Σ nodes × $/h × 730";
        "($/h − $/h of the current family of the same size: t3, m5 or r5) × 730 × nodes, only if positive";
    "coh.<action>" "any" AwsRecommender ["cost_optimization_hub"] "low"
        "AWS Cost Optimization Hub recommendation";
        "a Cost Optimization Hub recommendation for a scanned region (commitment purchases are left to the CUR analysis)";
        "AWS's `estimatedMonthlyCost`";
        "AWS's `estimatedMonthlySavings` (after the account's discounts); merged with ours for the same resource, ours counted";
    "realtime.accelerated-instance" "EC2" Realtime [] "—"
        "GPU or accelerated instance launched";
        "a launch or resize to a GPU, machine-learning or FPGA family, whatever the amount";
        "the priced change";
        "—";
    "realtime.previous-generation" "EC2" Realtime [] "—"
        "Previous-generation instance type launched";
        "an instance launched or resized to a previous-generation family, whatever the amount";
        "the priced change";
        "price difference with the current family of the same size";
    "realtime.gp2-volume" "EBS" Realtime [] "—"
        "New gp2 volume";
        "a gp2 volume created or modified, whatever the amount";
        "the priced change";
        "cost(gp2) − cost(gp3 equivalent)";
    "realtime.provisioned-iops-volume" "EBS" Realtime [] "—"
        "New io1/io2 volume";
        "an io1/io2 volume created or modified, whatever the amount";
        "the priced change";
        "cost(io) − cost(gp3 with the same size and IOPS), up to 16,000 IOPS";
    "realtime.multi-az-non-production" "RDS" Realtime [] "—"
        "Multi-AZ database tagged non-production";
        "a Multi-AZ DB instance created with a non-production tag";
        "the priced change";
        "half of the cost (the standby)";
    "realtime.billing-alarm" "CloudWatch" Realtime [] "—"
        "Billing alarm in ALARM";
        "an `AWS/Billing` alarm changed to ALARM";
        "—";
        "—";
    "realtime.cost-increase" "any" Realtime [] "—"
        "Change that adds cost";
        "any other priced change adding at least the tenant's threshold (default $100/month)";
        "the priced change";
        "—";
    "cur.idle-elastic-ip" "EC2" Cur [] "medium"
        "Elastic IP address not attached";
        "CUR idle-address usage in the analysed period";
        "the effective cost, per month";
        "= cost";
    "cur.idle-public-ipv4" "VPC" Cur [] "medium"
        "Idle public IPv4 address";
        "CUR idle public IPv4 usage";
        "the effective cost, per month";
        "= cost";
    "cur.gp2-volume" "EBS" Cur [] "medium"
        "EBS gp2 volume";
        "CUR gp2 storage usage";
        "the effective cost, per month";
        "the share gp3 saves";
    "cur.snapshot-storage" "EBS" Cur [] "medium"
        "EBS snapshot storage";
        "CUR snapshot storage usage";
        "the effective cost, per month";
        "the share the archive tier saves";
    "cur.idle-nat-gateway" "VPC" Cur [] "medium"
        "NAT gateway billed with no data processed";
        "CUR NAT gateway hours with no bytes processed";
        "the effective cost, per month";
        "= cost";
    "cur.previous-generation" "EC2" Cur [] "medium"
        "Previous-generation instance";
        "CUR usage of a previous-generation type";
        "the effective cost, per month";
        "cost × (1 − $/h of the current type ÷ $/h of the old)";
    "cur.anomaly" "any" Cur [] "low"
        "Spend spike or new spend";
        "a day's usage cost far above its service's baseline";
        "—";
        "—";
}

/// The catalogue entry of a rule id.
pub fn find(id: &str) -> Option<&'static RuleInfo> {
    CATALOGUE.iter().find(|r| r.id == id)
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// The scan rules' table of `docs/rules.md` (scan rules and AWS's recommendations).
pub fn scan_table() -> String {
    let mut out = String::from(
        "| rule | service | flags | monthly cost | monthly saving | confidence | settings |\n|---|---|---|---|---|---|---|\n",
    );
    for r in CATALOGUE.iter().filter(|r| matches!(r.source, Source::Scan | Source::AwsRecommender)) {
        let settings = r.settings.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ");
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} |\n",
            r.id,
            r.service,
            cell(r.flags),
            cell(r.cost),
            cell(r.saving),
            r.confidence,
            settings
        ));
    }
    out
}

/// The other sources' table of `docs/rules.md` (real time and the CUR analysis).
pub fn other_table() -> String {
    let mut out = String::from("| rule | source | service | flags | saving |\n|---|---|---|---|---|\n");
    for r in CATALOGUE.iter().filter(|r| matches!(r.source, Source::Realtime | Source::Cur)) {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            r.id,
            r.source.as_str(),
            r.service,
            cell(r.flags),
            cell(r.saving)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::rules::SCAN_RULES;

    #[test]
    fn the_scan_rules_are_the_catalogues_scan_entries_in_order() {
        let scan: Vec<&str> = CATALOGUE.iter().filter(|r| r.source == Source::Scan).map(|r| r.id).collect();
        assert_eq!(scan, SCAN_RULES);
        let mut seen = HashSet::new();
        for r in CATALOGUE {
            assert!(seen.insert(r.id), "{} twice", r.id);
            assert!(!r.title.is_empty() && !r.flags.is_empty() && !r.service.is_empty(), "{}", r.id);
            assert_eq!(Source::of_rule(r.id), r.source, "{}: the id's prefix names another source", r.id);
        }
    }

    #[test]
    fn settings_named_are_real_settings() {
        let known = serde_json::to_value(crate::domain::settings::ScanSettings::default()).unwrap();
        for r in CATALOGUE {
            for s in r.settings {
                assert!(known.get(*s).is_some(), "{}: no setting {s}", r.id);
            }
        }
        let idle: &[&str] = &["idle_window_days", "idle_min_age_days"];
        assert_eq!(find("dynamodb.unused-table").map(|r| r.settings), Some(idle));
    }

    #[test]
    fn tables_have_one_row_per_rule_and_escape_pipes() {
        let scan = scan_table();
        let other = other_table();
        assert_eq!(scan.lines().count() + other.lines().count() - 4, CATALOGUE.len());
        assert!(!scan.contains("| `realtime."));
        let json = serde_json::to_value(CATALOGUE).unwrap();
        assert_eq!(json[0]["source"], "scan");
        assert_eq!(json[0]["settings"][0], "unattached_volume_days");
    }
}
