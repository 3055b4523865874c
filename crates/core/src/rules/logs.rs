//! CloudWatch Logs.
//!
//! - `logs.never-expire`: a log group without a retention period that stores at least
//!   `logs_min_stored_bytes`. Monthly cost = stored bytes / 2^30 × $/GB-month of archived
//!   storage. The saving of a retention period depends on how much of the data is older than
//!   it, which CloudWatch does not say: it is not estimated (null), never guessed.

use rust_decimal::Decimal;

use super::draft::{aws_cli, Ctx, Draft};
use super::facts::RegionInventory;
use crate::domain::finding::Confidence;
use crate::domain::money::usd;
use crate::pricing::Sku;

pub const NEVER_EXPIRE: &str = "logs.never-expire";

const GIB: u64 = 1024 * 1024 * 1024;

pub fn evaluate(ctx: &Ctx<'_>, inv: &RegionInventory, out: &mut Vec<Draft>) {
    let keep = ctx.settings.logs_retention_days;
    for g in &inv.log_groups {
        if g.retention_days.is_some() || g.stored_bytes < ctx.settings.logs_min_stored_bytes {
            continue;
        }
        let gib = Decimal::from(g.stored_bytes) / Decimal::from(GIB);
        // Names repeat across regions; the ARN does not, so it is the resource id.
        let arn = match &g.arn {
            Some(a) => a.trim_end_matches(":*").to_owned(),
            None => format!("arn:aws:logs:{}:{}:log-group:{}", inv.region, ctx.account_id, g.name),
        };
        let mut d = Draft {
            rule: NEVER_EXPIRE.into(),
            resource_id: arn.clone(),
            arn: Some(arn),
            region: inv.region.clone(),
            title: format!("log group {} never expires and stores {} GiB", g.name, gib.round_dp(2)),
            evidence: vec![format!("retention: never expire; stored bytes: {}", g.stored_bytes)],
            monthly_cost_usd: None,
            monthly_savings_usd: None,
            confidence: Confidence::Medium,
            fix_command: aws_cli(
                "logs",
                "put-retention-policy",
                &[("--log-group-name", &g.name), ("--retention-in-days", &keep.to_string())],
                &inv.region,
            ),
            alternative: Some(format!("keep {keep} days")),
            tags: Default::default(),
            savings_included_in: None,
            price_source: None,
        };
        let mut p = ctx.pricer(&inv.region);
        if let Some(rate) = p.rate(&Sku::LogsStorage) {
            let cost = gib * rate;
            d.evidence.push(format!("{} GiB × ${rate}/GB-month = ${}", gib.round_dp(3), usd(cost)));
            d.evidence.extend(p.source_line());
            d.monthly_cost_usd = Some(cost);
            d.price_source = p.source();
        }
        d.evidence.push(format!(
            "the saving of a {keep}-day retention is the data older than {keep} days, which CloudWatch does not report: not estimated"
        ));
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::facts::LogGroup;
    use crate::rules::testkit::*;

    fn group(name: &str, retention: Option<u32>, bytes: u64) -> LogGroup {
        LogGroup {
            name: name.into(),
            arn: Some(format!("arn:aws:logs:us-east-1:123456789012:log-group:{name}:*")),
            retention_days: retention,
            stored_bytes: bytes,
            created: None,
        }
    }

    fn run(inv: &RegionInventory) -> Vec<Draft> {
        crate::rules::testkit::run(evaluate, inv)
    }

    #[test]
    fn a_large_group_without_retention_shows_its_storage_cost() {
        let mut inv = RegionInventory::new("us-east-1");
        inv.log_groups.push(group("/aws/lambda/api", None, 100 * GIB));
        let d = only(run(&inv), NEVER_EXPIRE);
        // 100 GiB × 0.03 = $3.
        assert_eq!(d.monthly_cost_usd, Some(dec("3")));
        assert_eq!(d.monthly_savings_usd, None);
        assert_eq!(d.arn.as_deref(), Some("arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/api"));
        assert_eq!(
            d.fix_command,
            "aws logs put-retention-policy --log-group-name /aws/lambda/api --retention-in-days 30 --region us-east-1"
        );
    }

    #[test]
    fn groups_with_retention_or_little_data_are_ignored() {
        let mut inv = RegionInventory::new("us-east-1");
        inv.log_groups.push(group("a", Some(14), 100 * GIB));
        inv.log_groups.push(group("b", None, 1000));
        assert!(run(&inv).is_empty());
    }

    #[test]
    fn a_hostile_group_name_cannot_escape_the_fix_command() {
        let mut inv = RegionInventory::new("us-east-1");
        inv.log_groups.push(group("x'; curl evil #", None, 2 * GIB));
        let d = only(run(&inv), NEVER_EXPIRE);
        assert!(d.fix_command.contains(r"--log-group-name 'x'\''; curl evil #'"), "{}", d.fix_command);
    }
}
