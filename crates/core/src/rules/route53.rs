//! Route 53 hosted zones, billed per zone-month (the book's rate is the first 25 zones'; AWS
//! charges less for zones beyond 25, so for a large account the saving is at most this).
//! Route 53 is global: the us-east-1 scan reads it, and its findings are in region `us-east-1`,
//! so that a complete us-east-1 scan resolves them.
//!
//! - `route53.empty-hosted-zone`: `ResourceRecordSetCount` ≤ 2, i.e. only the SOA and NS
//!   records Route 53 creates with the zone, and no service manages it (`LinkedService`, e.g.
//!   Cloud Map, which deletes its own). It answers nothing but its own SOA and NS. Saving =
//!   $/zone-month (delete). Medium: Route 53 reports no creation date, so a zone created for a
//!   migration in progress looks the same.
//! - `route53.private-zone-without-vpc`: a private zone associated with no VPC (GetHostedZone):
//!   no resolver can query it, whatever records it holds. Saving = $/zone-month (delete its
//!   records, then it).
//!
//! (Health checks that nothing uses are not judged: proving that no record set refers to one
//! needs every record of every zone, a wide read of DNS contents and thousands of calls at
//! Route 53's five requests a second.)

use super::draft::{aws_cli, Ctx, Draft};
use super::facts::{HostedZone, RegionInventory};
use crate::domain::finding::Confidence;
use crate::domain::money::usd;
use crate::pricing::Sku;

pub const EMPTY_ZONE: &str = "route53.empty-hosted-zone";
pub const PRIVATE_ZONE_WITHOUT_VPC: &str = "route53.private-zone-without-vpc";

/// The region Route 53's findings are in (and whose scan reads it).
pub const REGION: &str = "us-east-1";

/// Records Route 53 creates with every zone: its SOA and its NS.
pub const DEFAULT_RECORDS: u64 = 2;

pub fn evaluate(ctx: &Ctx<'_>, inv: &RegionInventory, out: &mut Vec<Draft>) {
    for z in inv.hosted_zones.iter().filter(|z| z.linked_service.is_none()) {
        empty_zone(ctx, z, out);
        private_without_vpc(ctx, z, out);
    }
}

fn base(ctx: &Ctx<'_>, z: &HostedZone, rule: &str, title: String) -> Draft {
    let arn = format!("arn:aws:route53:::hostedzone/{}", z.id);
    let mut d = Draft::new(rule, z.id.clone(), Some(arn), REGION, title);
    d.evidence.push(format!(
        "{} zone {} ({}), {} records",
        if z.private { "private" } else { "public" },
        z.name,
        z.id,
        z.record_count.map_or("an unknown number of".into(), |n| n.to_string())
    ));
    let mut p = ctx.pricer(REGION);
    if let Some(m) = p.rate(&Sku::Route53HostedZone) {
        d.evidence.push(format!(
            "1 hosted zone × ${m}/month = ${} (the first 25 zones' rate; AWS charges less beyond 25)",
            usd(m)
        ));
        d.evidence.extend(p.source_line());
        d.monthly_cost_usd = Some(m);
        d.monthly_savings_usd = Some(m);
        d.price_source = p.source();
    } else {
        d.evidence.push("the hosted zone monthly rate is not in the price book".into());
    }
    d.fix_command = aws_cli("route53", "delete-hosted-zone", &[("--id", &z.id)], REGION);
    d
}

fn empty_zone(ctx: &Ctx<'_>, z: &HostedZone, out: &mut Vec<Draft>) {
    if z.record_count.is_none_or(|n| n > DEFAULT_RECORDS) {
        return;
    }
    let mut d = base(ctx, z, EMPTY_ZONE, format!("Hosted zone {} holds only its SOA and NS records", z.name));
    d.evidence.push("it answers nothing but its own SOA and NS records".into());
    if !z.private {
        d.evidence.push(
            "before deleting a public zone, remove the delegation to its name servers (at the registrar or in the parent zone): a delegation to a deleted zone can be taken over"
                .into(),
        );
    }
    d.confidence = Confidence::Medium;
    out.push(d);
}

fn private_without_vpc(ctx: &Ctx<'_>, z: &HostedZone, out: &mut Vec<Draft>) {
    if !z.private || z.vpcs.as_ref().is_none_or(|v| !v.is_empty()) {
        return;
    }
    let title = format!("Private hosted zone {} is associated with no VPC", z.name);
    let mut d = base(ctx, z, PRIVATE_ZONE_WITHOUT_VPC, title);
    d.evidence.push("GetHostedZone lists no VPC: no resolver can query it".into());
    if z.record_count.is_some_and(|n| n > DEFAULT_RECORDS) {
        d.evidence.push("Route 53 deletes a zone only once its other records are deleted".into());
    }
    d.confidence = Confidence::High;
    out.push(d);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testkit::*;

    fn zone(id: &str, private: bool, records: u64, vpcs: Option<usize>) -> HostedZone {
        HostedZone {
            id: id.into(),
            name: format!("{}.example.com.", id.to_lowercase()),
            private,
            record_count: Some(records),
            linked_service: None,
            vpcs: vpcs.map(|n| (0..n).map(|i| (format!("vpc-{i}"), "us-east-1".to_owned())).collect()),
        }
    }

    fn run_zones(zones: Vec<HostedZone>) -> Vec<Draft> {
        // Any region's inventory: the findings are in us-east-1.
        let mut inv = RegionInventory::new("us-east-1");
        inv.hosted_zones = zones;
        run(evaluate, &inv)
    }

    #[test]
    fn a_zone_with_only_soa_and_ns_is_flagged_at_the_zone_rate() {
        let d = only(run_zones(vec![zone("Z1EMPTY", false, 2, None)]), EMPTY_ZONE);
        assert_eq!(d.monthly_savings_usd, Some(dec("0.50")));
        assert_eq!((d.region.as_str(), d.resource_id.as_str()), ("us-east-1", "Z1EMPTY"));
        assert_eq!(d.fix_command, "aws route53 delete-hosted-zone --id Z1EMPTY --region us-east-1");
        assert_eq!(d.arn.as_deref(), Some("arn:aws:route53:::hostedzone/Z1EMPTY"));
        assert!(d.evidence.iter().any(|e| e.contains("remove the delegation")), "{d:#?}");
        assert_eq!(d.confidence, Confidence::Medium);
    }

    #[test]
    fn zones_with_records_unknown_counts_or_managed_by_a_service_are_left_alone() {
        let busy = zone("ZBUSY", false, 3, None);
        let mut unknown = zone("ZUNKNOWN", false, 2, None);
        unknown.record_count = None;
        let mut cloud_map = zone("ZMAP", true, 2, Some(1));
        cloud_map.linked_service = Some("servicediscovery.amazonaws.com".into());
        let private_in_use = zone("ZPRIV", true, 7, Some(2));
        let private_unread = zone("ZUNREAD", true, 7, None);
        assert!(run_zones(vec![busy, unknown, cloud_map, private_in_use, private_unread]).is_empty());
    }

    #[test]
    fn a_private_zone_no_vpc_can_query_is_flagged_whatever_it_holds() {
        let d = only(run_zones(vec![zone("ZORPHAN", true, 12, Some(0))]), PRIVATE_ZONE_WITHOUT_VPC);
        assert_eq!(d.confidence, Confidence::High);
        assert_eq!(d.monthly_savings_usd, Some(dec("0.50")));
        assert!(d.evidence.iter().any(|e| e.contains("other records are deleted")));
        // Empty and orphaned: both rules, one resource (`settle_overlaps` counts one saving).
        let drafts = run_zones(vec![zone("ZBOTH", true, 2, Some(0))]);
        assert_eq!(drafts.len(), 2);
        assert!(drafts.iter().all(|d| d.resource_id == "ZBOTH"));
    }

    #[test]
    fn a_book_without_the_zone_rate_keeps_the_finding_without_a_saving() {
        let json = r#"{"schema": 2, "currency": "USD", "generated": "2026-11-01", "sources": [], "regions": {}}"#;
        let empty = crate::pricing::Bundled::parse(json).unwrap();
        let book = crate::pricing::PriceBook::bundled_only(&empty);
        let settings = crate::domain::settings::ScanSettings::default();
        let mut inv = RegionInventory::new("us-east-1");
        inv.hosted_zones = vec![zone("Z1EMPTY", false, 2, None)];
        let mut out = vec![];
        evaluate(&ctx(&book, &settings), &inv, &mut out);
        let d = only(out, EMPTY_ZONE);
        assert_eq!((d.monthly_cost_usd, d.monthly_savings_usd, d.price_source), (None, None, None));
        assert!(d.evidence.iter().any(|e| e == "the hosted zone monthly rate is not in the price book"));
    }
}
