//! OpenSearch Service domains. Instance cost = Σ over data, dedicated master and UltraWarm nodes
//! of count × $/h of the type (`opensearch:<type>:hour`) × 730; storage cost = GiB per data node ×
//! data nodes × $/GB-month of the EBS type (`opensearch-storage:<type>:gb-month`). A part whose
//! rate is not in the price book is named in the evidence and left out of the sums.
//!
//! - `opensearch.idle-domain`: not processing, no search and no indexing request over the idle
//!   window (daily sums of `SearchRate` and `IndexingRate`, AWS/ES per domain and account, = 0)
//!   with a datapoint on at least max(`idle_window_days`, `idle_min_age_days`) days: DescribeDomains
//!   gives no creation date, so the metrics' days stand for the domain's age. Saving = instance
//!   + storage cost (delete it, after a manual snapshot if its indexes matter).
//! - `opensearch.previous-generation`: data or master nodes of a type AWS lists as previous
//!   generation ("Supported instance types in Amazon OpenSearch Service": C4, I2, M3, M4, R3, R4;
//!   T2 has no cheaper successor) moved to the current family of the same size ([`SUCCESSORS`]),
//!   which needs Elasticsearch 5.1 or later. Saving = Σ roles of count × ($/h old − $/h new) × 730,
//!   roles with a positive, priced difference only.
//! - `opensearch.gp2-storage`: gp2 EBS storage. AWS prices OpenSearch gp3 9.6 % below gp2 ("Lower
//!   your Amazon OpenSearch Service storage cost with gp3 Amazon EBS volumes", AWS Big Data Blog)
//!   with a higher baseline. Saving = GiB × data nodes × ($/GB-month gp2 − gp3), floored at 0;
//!   none when either rate is missing.

use rust_decimal::Decimal;

use super::draft::{aws_cli, Ctx, Draft, Pricer};
use super::facts::{RegionInventory, SearchDomain};
use crate::domain::finding::Confidence;
use crate::domain::money::usd;
use crate::pricing::{Sku, HOURS_PER_MONTH};

pub const IDLE: &str = "opensearch.idle-domain";
pub const PREVIOUS_GENERATION: &str = "opensearch.previous-generation";
pub const GP2_STORAGE: &str = "opensearch.gp2-storage";

/// Previous-generation families and the current family of the same sizes.
pub const SUCCESSORS: &[(&str, &str)] =
    &[("c4", "c5"), ("i2", "i3"), ("m3", "m5"), ("m4", "m5"), ("r3", "r5"), ("r4", "r5")];

pub fn evaluate(ctx: &Ctx<'_>, inv: &RegionInventory, out: &mut Vec<Draft>) {
    for d in &inv.search_domains {
        if d.processing || d.deleted {
            continue;
        }
        idle(ctx, inv, d, out);
        previous_generation(ctx, inv, d, out);
        gp2_storage(ctx, inv, d, out);
    }
}

fn base(inv: &RegionInventory, d: &SearchDomain, rule: &str, title: String) -> Draft {
    Draft::new(rule, d.arn.clone(), Some(d.arn.clone()), &inv.region, title)
}

/// `n × type` lines and their monthly sum, for every node role of the domain.
fn instance_cost(p: &mut Pricer<'_>, d: &SearchDomain, lines: &mut Vec<String>) -> Option<Decimal> {
    let roles = [
        ("data", Some(d.instance_type.as_str()), d.instance_count),
        ("dedicated master", d.master_type.as_deref(), d.master_count),
        ("UltraWarm", d.warm_type.as_deref(), d.warm_count),
    ];
    let mut sum = None;
    for (role, t, n) in roles {
        let Some(t) = t.filter(|_| n > 0) else { continue };
        match p.rate(&Sku::OpenSearch { instance_type: t.to_owned() }) {
            Some(h) => {
                let m = h * HOURS_PER_MONTH * Decimal::from(n);
                lines.push(format!("{role}: {n} × {t} × ${h}/h × 730 h = ${}", usd(m)));
                sum = Some(sum.unwrap_or_default() + m);
            }
            None => lines.push(format!("{role}: {n} × {t} is not in the price book (not counted)")),
        }
    }
    sum
}

/// GiB × data nodes × $/GB-month of `volume_type`, and its evidence line.
fn storage_cost(p: &mut Pricer<'_>, d: &SearchDomain, volume_type: &str) -> (Option<Decimal>, String) {
    let Some(s) = &d.storage else { return (None, String::new()) };
    let gib = Decimal::from(s.size_gib) * Decimal::from(d.instance_count);
    match p.rate(&Sku::OpenSearchStorage { volume_type: volume_type.to_owned() }) {
        Some(r) => {
            let m = gib * r;
            let line = format!(
                "{volume_type} storage: {} GiB × {} data nodes × ${r}/GB-month = ${}",
                s.size_gib,
                d.instance_count,
                usd(m)
            );
            (Some(m), line)
        }
        None => (None, format!("OpenSearch {volume_type} storage is not in the price book (not counted)")),
    }
}

fn idle(ctx: &Ctx<'_>, inv: &RegionInventory, d: &SearchDomain, out: &mut Vec<Draft>) {
    let s = ctx.settings;
    let days = s.idle_window_days.max(s.idle_min_age_days);
    let quiet = |a: Option<super::facts::DailyActivity>| a.is_some_and(|a| a.total.is_zero() && a.days >= days);
    if !quiet(d.searches) || !quiet(d.indexing) {
        return;
    }
    let mut f =
        base(inv, d, IDLE, format!("OpenSearch domain {} served no request in {} days", d.name, s.idle_window_days));
    f.evidence.push(format!(
        "CloudWatch AWS/ES over the last {} days: SearchRate 0 and IndexingRate 0 on each of the {} days with data",
        s.idle_window_days,
        d.searches.map_or(0, |a| a.days).min(d.indexing.map_or(0, |a| a.days))
    ));
    let mut p = ctx.pricer(&inv.region);
    let mut lines = vec![];
    let nodes = instance_cost(&mut p, d, &mut lines);
    let (storage, line) = match &d.storage {
        Some(st) => storage_cost(&mut p, d, &st.volume_type),
        None => (None, String::new()),
    };
    f.evidence.extend(lines);
    if !line.is_empty() {
        f.evidence.push(line);
    }
    let total = match (nodes, storage) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or_default() + b.unwrap_or_default()),
    };
    if let Some(t) = total {
        f.evidence.push(format!("total: ${} a month", usd(t)));
        f.evidence.extend(p.source_line());
        f.price_source = p.source();
    }
    f.monthly_cost_usd = total;
    f.monthly_savings_usd = total;
    f.confidence = Confidence::Medium;
    f.fix_command = aws_cli("opensearch", "delete-domain", &[("--domain-name", &d.name)], &inv.region);
    f.alternative = Some("delete it, after a manual snapshot if its indexes are worth keeping".into());
    out.push(f);
}

/// The current-generation type of the same size, for a previous-generation one.
pub fn successor(instance_type: &str) -> Option<String> {
    let (family, rest) = instance_type.split_once('.')?;
    let (_, new) = SUCCESSORS.iter().find(|(old, _)| *old == family)?;
    Some(format!("{new}.{rest}"))
}

/// Whether the engine runs the current families (Elasticsearch 5.1 or later, any OpenSearch).
fn current_families_supported(engine_version: &str) -> bool {
    let Some(v) = engine_version.strip_prefix("Elasticsearch_") else { return true };
    let mut parts = v.split('.').map(|x| x.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (5, 1)
}

/// One role's move: (role, n, old type, new type, old $/h, new $/h).
type Move<'a> = (&'static str, u32, &'a str, String, Decimal, Decimal);

fn previous_generation(ctx: &Ctx<'_>, inv: &RegionInventory, d: &SearchDomain, out: &mut Vec<Draft>) {
    if !current_families_supported(&d.engine_version) {
        return;
    }
    let mut p = ctx.pricer(&inv.region);
    let roles = [
        ("data", Some(d.instance_type.as_str()), d.instance_count),
        ("dedicated master", d.master_type.as_deref(), d.master_count),
    ];
    let mut moves: Vec<Move<'_>> = vec![];
    for (role, t, n) in roles {
        let Some(t) = t.filter(|_| n > 0) else { continue };
        let Some(to) = successor(t) else { continue };
        let old = p.rate(&Sku::OpenSearch { instance_type: t.to_owned() });
        let new = p.rate(&Sku::OpenSearch { instance_type: to.clone() });
        if let (Some(o), Some(nw)) = (old, new) {
            if nw < o {
                moves.push((role, n, t, to, o, nw));
            }
        }
    }
    if moves.is_empty() {
        return;
    }
    let month = |n: u32, h: Decimal| h * HOURS_PER_MONTH * Decimal::from(n);
    let cost: Decimal = moves.iter().map(|m| month(m.1, m.4)).sum();
    let saving: Decimal = moves.iter().map(|m| month(m.1, m.4 - m.5)).sum();
    let names: Vec<String> = moves.iter().map(|m| format!("{} → {}", m.2, m.3)).collect();
    let mut f = base(
        inv,
        d,
        PREVIOUS_GENERATION,
        format!(
            "OpenSearch domain {} runs previous-generation nodes ({}): ${} less a month",
            d.name,
            names.join(", "),
            usd(saving)
        ),
    );
    for (role, n, from, to, o, nw) in &moves {
        f.evidence.push(format!(
            "{role}: {n} × {from} at ${o}/h → {to} at ${nw}/h: {n} × (${o} − ${nw}) × 730 h = ${}",
            usd(month(*n, *o - *nw))
        ));
    }
    f.evidence.push("AWS lists C4, I2, M3, M4, R3 and R4 as previous generation for OpenSearch Service".into());
    f.evidence.extend(p.source_line());
    f.monthly_cost_usd = Some(cost);
    f.monthly_savings_usd = Some(saving);
    f.price_source = p.source();
    f.confidence = Confidence::High;
    let config: Vec<String> = moves
        .iter()
        .map(|m| match m.0 {
            "data" => format!("InstanceType={},InstanceCount={}", m.3, m.1),
            _ => format!("DedicatedMasterEnabled=true,DedicatedMasterType={},DedicatedMasterCount={}", m.3, m.1),
        })
        .collect();
    let config = config.join(",");
    f.fix_command = aws_cli(
        "opensearch",
        "update-domain-config",
        &[("--domain-name", &d.name), ("--cluster-config", &config)],
        &inv.region,
    );
    f.alternative = Some(
        names.join(", ")
            + " (a blue/green deployment; Graviton m6g/c6g/r6g cost less still where the engine supports them)",
    );
    out.push(f);
}

fn gp2_storage(ctx: &Ctx<'_>, inv: &RegionInventory, d: &SearchDomain, out: &mut Vec<Draft>) {
    let Some(s) = d.storage.as_ref().filter(|s| s.volume_type == "gp2") else { return };
    let mut p = ctx.pricer(&inv.region);
    let (gp2, gp2_line) = storage_cost(&mut p, d, "gp2");
    let (gp3, gp3_line) = storage_cost(&mut p, d, "gp3");
    let saving = match (gp2, gp3) {
        (Some(a), Some(b)) => Some((a - b).max(Decimal::ZERO)),
        _ => None,
    };
    let gib = s.size_gib * d.instance_count;
    let title = match saving {
        Some(v) => format!("OpenSearch domain {} keeps {gib} GiB on gp2: gp3 costs ${} less a month", d.name, usd(v)),
        None => format!("OpenSearch domain {} keeps {gib} GiB on gp2: gp3 is cheaper and faster", d.name),
    };
    let mut f = base(inv, d, GP2_STORAGE, title);
    f.evidence.push(gp2_line);
    f.evidence.push(gp3_line);
    f.evidence
        .push("AWS prices OpenSearch gp3 storage 9.6 % below gp2, with a 3,000 IOPS and 125 MiB/s baseline".into());
    f.evidence.extend(p.source_line());
    f.monthly_cost_usd = gp2;
    f.monthly_savings_usd = saving;
    f.price_source = p.source();
    f.confidence = Confidence::High;
    let ebs = format!("EBSEnabled=true,VolumeType=gp3,VolumeSize={}", s.size_gib);
    f.fix_command = aws_cli(
        "opensearch",
        "update-domain-config",
        &[("--domain-name", &d.name), ("--ebs-options", &ebs)],
        &inv.region,
    );
    f.alternative = Some("gp3 storage".into());
    out.push(f);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::settings::ScanSettings;
    use crate::pricing::{PriceBook, PriceSource, Rate, RateTable};
    use crate::rules::facts::{DailyActivity, DomainStorage};
    use crate::rules::testkit::*;

    fn activity(total: &str, days: u32) -> Option<DailyActivity> {
        Some(DailyActivity { total: dec(total), days })
    }

    fn domain(name: &str, instance_type: &str, count: u32) -> SearchDomain {
        SearchDomain {
            name: name.into(),
            arn: format!("arn:aws:es:us-east-1:123456789012:domain/{name}"),
            engine_version: "OpenSearch_2.11".into(),
            processing: false,
            deleted: false,
            instance_type: instance_type.into(),
            instance_count: count,
            master_type: None,
            master_count: 0,
            warm_type: None,
            warm_count: 0,
            storage: Some(DomainStorage { volume_type: "gp3".into(), size_gib: 100 }),
            searches: activity("5000", 14),
            indexing: activity("900", 14),
        }
    }

    fn run(domains: Vec<SearchDomain>) -> Vec<Draft> {
        run_in("us-east-1", None, domains)
    }

    /// Runs in `region`, over the bundled book and optionally a tenant's own rates.
    fn run_in(region: &str, tenant: Option<&RateTable>, domains: Vec<SearchDomain>) -> Vec<Draft> {
        let mut inv = RegionInventory::new(region);
        inv.search_domains = domains;
        let book = PriceBook { tenant, price_list: None, bundled: rates() };
        let settings = ScanSettings::default();
        let mut out = vec![];
        evaluate(&ctx(&book, &settings), &inv, &mut out);
        out
    }

    /// A tenant's rates for OpenSearch storage (figures of this test, not AWS's).
    fn storage_rates(gp2: &str, gp3: &str) -> RateTable {
        let mut t = RateTable::default();
        for (volume_type, usd) in [("gp2", gp2), ("gp3", gp3)] {
            let rate = Rate { usd: dec(usd), source: PriceSource::TenantRates, as_of: "2026-11-01".into() };
            t.insert("us-east-1", Sku::OpenSearchStorage { volume_type: volume_type.into() }, rate);
        }
        t
    }

    #[test]
    fn a_domain_with_no_request_costs_its_nodes_and_storage() {
        let mut d = domain("logs", "r6g.large.search", 2);
        d.master_type = Some("m6g.large.search".into());
        d.master_count = 3;
        d.searches = activity("0", 14);
        d.indexing = activity("0", 15);
        let f = only(run_in("us-east-1", Some(&storage_rates("0.135", "0.122")), vec![d.clone()]), IDLE);
        // 2 × $0.167 × 730 + 3 × $0.128 × 730 + 100 GiB × 2 × $0.122 = $243.82 + $280.32 + $24.40.
        assert_eq!(f.monthly_savings_usd, Some(dec("548.54")));
        assert_eq!(f.fix_command, "aws opensearch delete-domain --domain-name logs --region us-east-1");
        for e in [
            "data: 2 × r6g.large.search × $0.167/h × 730 h = $243.82",
            "dedicated master: 3 × m6g.large.search × $0.128/h × 730 h = $280.32",
            "gp3 storage: 100 GiB × 2 data nodes × $0.122/GB-month = $24.40",
        ] {
            assert!(f.evidence.iter().any(|x| x == e), "{e}: {:#?}", f.evidence);
        }
        // Where nothing is priced, the finding stands without an amount and says why.
        let f = only(run_in("xx-nowhere-1", None, vec![d]), IDLE);
        assert_eq!(f.monthly_savings_usd, None);
        for e in [
            "data: 2 × r6g.large.search is not in the price book (not counted)",
            "OpenSearch gp3 storage is not in the price book (not counted)",
        ] {
            assert!(f.evidence.iter().any(|x| x == e), "{e}: {:#?}", f.evidence);
        }
    }

    #[test]
    fn requests_short_or_missing_series_keep_a_domain() {
        let mut searched = domain("a", "r6g.large.search", 2);
        searched.indexing = activity("0", 14);
        assert!(run(vec![searched]).is_empty(), "searches but no indexing: in use");
        let mut indexed = domain("b", "r6g.large.search", 2);
        indexed.searches = activity("0", 14);
        assert!(run(vec![indexed]).is_empty(), "indexing but no search: still collecting data");
        let mut young = domain("c", "r6g.large.search", 2);
        (young.searches, young.indexing) = (activity("0", 3), activity("0", 3));
        assert!(run(vec![young]).is_empty(), "three days of metrics: younger than the window");
        let mut unmeasured = domain("d", "r6g.large.search", 2);
        (unmeasured.searches, unmeasured.indexing) = (None, activity("0", 14));
        assert!(run(vec![unmeasured]).is_empty(), "no data is no fact");
        let mut changing = domain("e", "m4.large.search", 2);
        changing.processing = true;
        assert!(run(vec![changing]).is_empty(), "a domain being changed is not judged");
    }

    #[test]
    fn previous_generation_nodes_move_to_the_current_family() {
        assert_eq!(successor("m4.large.search").as_deref(), Some("m5.large.search"));
        assert_eq!(successor("m5.large.search"), None);
        let mut d = domain("search", "m4.xlarge.search", 3);
        d.master_type = Some("c4.large.search".into());
        d.master_count = 3;
        let f = only(run(vec![d.clone()]), PREVIOUS_GENERATION);
        // data 3 × ($0.301 − $0.283) × 730 = $39.42; masters 3 × ($0.148 − $0.125) × 730 = $50.37.
        assert_eq!(f.monthly_savings_usd, Some(dec("89.79")));
        assert_eq!(
            f.fix_command,
            "aws opensearch update-domain-config --domain-name search \
             --cluster-config InstanceType=m5.xlarge.search,InstanceCount=3,DedicatedMasterEnabled=true,\
             DedicatedMasterType=c5.large.search,DedicatedMasterCount=3 --region us-east-1"
        );
        // Current families, an engine too old for them, or a size with no successor: nothing.
        assert!(run(vec![domain("new", "m6g.large.search", 3)]).is_empty());
        d.engine_version = "Elasticsearch_2.3".into();
        assert!(run(vec![d]).is_empty());
        assert!(run(vec![domain("big", "m4.10xlarge.search", 2)]).is_empty(), "no m5.10xlarge");
    }

    #[test]
    fn gp2_storage_saves_the_rate_difference_or_stands_without_rates() {
        let mut d = domain("gp2", "r6g.large.search", 3);
        d.storage = Some(DomainStorage { volume_type: "gp2".into(), size_gib: 200 });
        let f = only(run_in("us-east-1", Some(&storage_rates("0.135", "0.122")), vec![d.clone()]), GP2_STORAGE);
        // 200 GiB × 3 nodes × ($0.135 − $0.122) = $7.80.
        assert_eq!(f.monthly_savings_usd, Some(dec("7.80")));
        assert_eq!(f.monthly_cost_usd, Some(dec("81.000")));
        assert_eq!(
            f.fix_command,
            "aws opensearch update-domain-config --domain-name gp2 \
             --ebs-options EBSEnabled=true,VolumeType=gp3,VolumeSize=200 --region us-east-1"
        );
        let f = only(run_in("xx-nowhere-1", None, vec![d]), GP2_STORAGE);
        assert_eq!(f.title, "OpenSearch domain gp2 keeps 600 GiB on gp2: gp3 is cheaper and faster");
        assert_eq!(f.monthly_savings_usd, None);
        assert!(f.evidence.contains(&"OpenSearch gp2 storage is not in the price book (not counted)".to_owned()));
        // gp3 already, or instance storage: nothing.
        assert!(run(vec![domain("gp3", "r6g.large.search", 3)]).is_empty());
        let mut local = domain("local", "i3.large.search", 3);
        local.storage = None;
        assert!(run(vec![local]).is_empty());
    }
}
