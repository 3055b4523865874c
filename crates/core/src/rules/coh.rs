//! AWS Cost Optimization Hub recommendations, merged with our own findings.
//!
//! - `coh.<action>` (`coh.rightsize`, `coh.stop`, `coh.delete`, `coh.upgrade`,
//!   `coh.migrate-to-graviton`, `coh.scale-in`, ...): one finding per recommendation for a
//!   resource of a scanned region, with AWS's `estimatedMonthlySavings` (which already accounts
//!   for the account's discounts). Confidence low: it is AWS's estimate, not our arithmetic.
//! - Merging: a recommendation for a resource we already have a finding for gets that
//!   resource's id, so [`super::settle_overlaps`] counts one saving per resource (ours first:
//!   its arithmetic is in the evidence), and our finding's evidence quotes AWS's estimate.
//! - Compute Optimizer's and Trusted Advisor's recommendations are merged after these
//!   ([`super::recommenders`]): Cost Optimization Hub includes Compute Optimizer's rightsizing,
//!   and the same resource's saving still counts once.
//! - Commitment purchases (Savings Plans, Reserved Instances) concern the account, not a
//!   resource; they are left to the CUR analysis.

use std::collections::HashSet;

use super::draft::Draft;
use super::facts::Recommendation;
use crate::domain::finding::Confidence;
use crate::domain::money::usd;

pub const PREFIX: &str = "coh.";

/// `MigrateToGraviton` → `migrate-to-graviton`.
pub fn kebab(action: &str) -> String {
    let mut s = String::with_capacity(action.len() + 4);
    for (i, c) in action.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            s.push('-');
        }
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        }
    }
    s
}

pub fn is_commitment(action: &str) -> bool {
    action.starts_with("Purchase")
}

/// Drafts for the recommendations of the scanned regions, with resource ids aligned to ours
/// where the ARN or the id matches one of `ours`, and our evidence quoting AWS's estimate.
pub fn merge(ours: &mut [Draft], recs: &[Recommendation], regions: &HashSet<&str>) -> Vec<Draft> {
    let mut out = Vec::new();
    for r in recs {
        if is_commitment(&r.action_type) || !regions.contains(r.region.as_str()) || r.resource_id.is_empty() {
            continue;
        }
        let matches = |d: &Draft| {
            d.region == r.region
                && super::recommenders::rank(&d.rule) == 0
                && (d.resource_id == r.resource_id || (r.resource_arn.is_some() && d.arn == r.resource_arn))
        };
        let resource_id =
            ours.iter().find(|d| matches(d)).map_or_else(|| r.resource_id.clone(), |d| d.resource_id.clone());
        let change = match (&r.current_resource_type, &r.recommended_resource_type) {
            (Some(a), Some(b)) if a != b => format!(" ({a} → {b})"),
            _ => String::new(),
        };
        let summary = match (&r.current_summary, &r.recommended_summary) {
            (Some(a), Some(b)) => format!(": {a} → {b}"),
            _ => String::new(),
        };
        for d in ours.iter_mut().filter(|d| matches(d)) {
            d.evidence.push(format!(
                "AWS Cost Optimization Hub also recommends {}{summary}, estimating ${}/month; the saving is counted once",
                r.action_type,
                usd(r.monthly_savings_usd)
            ));
        }
        let mut evidence =
            vec![format!("Cost Optimization Hub recommendation {}: {}{change}{summary}", r.id, r.action_type)];
        if let Some(days) = r.lookback_days {
            evidence.push(format!("based on the last {days} days of usage"));
        }
        evidence.push(format!(
            "AWS's estimated saving: ${}/month (after the account's discounts)",
            usd(r.monthly_savings_usd)
        ));
        out.push(Draft {
            rule: format!("{PREFIX}{}", kebab(&r.action_type)),
            resource_id,
            arn: r.resource_arn.clone(),
            region: r.region.clone(),
            title: format!("AWS recommends: {} {}{change}", r.action_type, r.resource_id),
            evidence,
            monthly_cost_usd: r.monthly_cost_usd,
            monthly_savings_usd: Some(r.monthly_savings_usd),
            confidence: Confidence::Low,
            fix_command: format!(
                "aws cost-optimization-hub get-recommendation --recommendation-id {} --region us-east-1",
                super::draft::sh(&r.id)
            ),
            alternative: r.recommended_resource_type.clone(),
            tags: Default::default(),
            savings_included_in: None,
            price_source: Some("cost_optimization_hub".into()),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names() {
        assert_eq!(kebab("MigrateToGraviton"), "migrate-to-graviton");
        assert_eq!(kebab("Rightsize"), "rightsize");
        assert_eq!(kebab("x;y Z"), "xy-z");
        assert!(is_commitment("PurchaseSavingsPlans"));
    }
}
