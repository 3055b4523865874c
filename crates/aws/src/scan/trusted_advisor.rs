//! Trusted Advisor's cost-optimizing checks, through the Trusted Advisor API (us-east-1, every
//! list paginated): the account's recommendations of pillar `cost_optimizing`
//! (`ListRecommendations`), those of Trusted Advisor's own checks (`ta_check`: what it relays
//! from Compute Optimizer or Cost Optimization Hub is read at the source) in status `warning` or
//! `error`; the checks' column headings (`ListChecks`), to know which column of a resource is its
//! "Estimated Monthly Savings"; and each such recommendation's flagged resources, not excluded
//! (`ListRecommendationResources`).
//!
//! The API answers only accounts on a Business, Enterprise On-Ramp or Enterprise Support plan;
//! others get AccessDenied ("Access denied due to support level") or SubscriptionRequired. That
//! is a note for the run record, once, not an error. An AccessDenied that names the IAM action
//! ("... is not authorized to perform: trustedadvisor:...") is the role's, and an error.

use std::collections::HashMap;

use aws_sdk_trustedadvisor::error::SdkError;
use aws_sdk_trustedadvisor::types as t;
use aws_sdk_trustedadvisor::Client;
use rust_decimal::Decimal;

use super::ec2::all_pages;
use super::{action_error, Calls};
use costradar_core::domain::money;
use costradar_core::domain::scan_run::{is_access_denied_code, ActionError};
use costradar_core::rules::recommenders::{self, AwsRecommendation, Origin};
use costradar_core::scan::{AccountWide, Recommended};

const LIST_RECOMMENDATIONS: &str = "trustedadvisor:ListRecommendations";

/// At most this many columns of a resource become evidence lines.
const MAX_DETAILS: usize = 12;

pub const PLAN_NOTE: &str = "not read: the account's support plan does not include the Trusted Advisor API \
     (Business, Enterprise On-Ramp or Enterprise Support)";

/// Whether an error is the support plan's refusal rather than the role's.
pub fn refused_for_plan(e: &ActionError) -> bool {
    e.code == "SubscriptionRequiredException"
        || (is_access_denied_code(&e.code) && !e.message.contains("not authorized to perform"))
}

pub async fn list(c: &Client) -> AccountWide<Recommended> {
    let mut calls = Calls::default();
    let value = match recommendations(c, &mut calls).await {
        Err(refused) => Some(Recommended::Unavailable(refused)),
        Ok(None) => None,
        Ok(Some(recs)) if recs.is_empty() => Some(Recommended::Answered(vec![])),
        Ok(Some(recs)) => resources(c, &recs, &mut calls).await.map(Recommended::Answered),
    };
    AccountWide { value, api_calls: calls.count, errors: calls.errors }
}

/// The flagged cost-optimizing recommendations of Trusted Advisor's own checks; `Ok(None)` when a
/// page failed, `Err(note)` when the support plan refuses the API.
async fn recommendations(c: &Client, calls: &mut Calls) -> Result<Option<Vec<t::RecommendationSummary>>, String> {
    let mut pages = c.list_recommendations().pillar(t::RecommendationPillar::CostOptimizing).into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) => return refused_or_failed(calls, &e),
        };
        calls.count += 1;
        out.extend(
            page.recommendation_summaries()
                .iter()
                .filter(|r| *r.source() == t::RecommendationSource::TaCheck)
                .filter(|r| matches!(r.status(), t::RecommendationStatus::Warning | t::RecommendationStatus::Error))
                .cloned(),
        );
    }
    Ok(Some(out))
}

fn refused_or_failed<E, R>(
    calls: &mut Calls,
    e: &SdkError<E, R>,
) -> Result<Option<Vec<t::RecommendationSummary>>, String>
where
    E: aws_sdk_trustedadvisor::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    calls.count += 1;
    let err = action_error(LIST_RECOMMENDATIONS, e);
    if refused_for_plan(&err) {
        tracing::info!(code = %err.code, "Trusted Advisor refused for the support plan");
        return Err(PLAN_NOTE.to_owned());
    }
    tracing::warn!(action = LIST_RECOMMENDATIONS, code = %err.code, "scan call failed");
    calls.errors.push(err);
    Ok(None)
}

/// The flagged resources of `recs`, with their columns; `None` when a call failed.
async fn resources(c: &Client, recs: &[t::RecommendationSummary], calls: &mut Calls) -> Option<Vec<AwsRecommendation>> {
    let headings = headings(c, calls).await?;
    let mut out = Vec::new();
    for r in recs {
        let columns = r.check_arn().and_then(|a| headings.get(a)).map_or(&[][..], Vec::as_slice);
        let flagged = all_pages!(
            calls,
            "trustedadvisor:ListRecommendationResources",
            c.list_recommendation_resources()
                .recommendation_identifier(r.arn())
                .exclusion_status(t::ExclusionStatus::Included)
                .into_paginator(),
            |p| p
                .recommendation_resource_summaries()
                .iter()
                .filter_map(|x| resource(x, r, columns))
                .collect::<Vec<_>>()
        )?;
        out.extend(flagged);
    }
    Some(out)
}

/// Each cost-optimizing check's column headings by check ARN, in column order.
async fn headings(c: &Client, calls: &mut Calls) -> Option<HashMap<String, Vec<(String, String)>>> {
    let checks = all_pages!(
        calls,
        "trustedadvisor:ListChecks",
        c.list_checks().pillar(t::RecommendationPillar::CostOptimizing).into_paginator(),
        |p| p.check_summaries().to_vec()
    )?;
    Some(
        checks
            .into_iter()
            .map(|check| {
                let mut columns: Vec<(String, String)> =
                    check.metadata().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                columns.sort_by_key(|(k, _)| (k.parse::<u32>().unwrap_or(u32::MAX), k.clone()));
                (check.arn().to_owned(), columns)
            })
            .collect(),
    )
}

/// `$1,234.56` → 1234.56; `None` for anything else (another currency, text).
pub fn dollars(s: &str) -> Option<Decimal> {
    let digits: String = s.trim().trim_start_matches("US").trim_start_matches('$').replace(',', "");
    digits.trim().parse::<Decimal>().ok().map(money::cents)
}

fn resource(
    x: &t::RecommendationResourceSummary,
    r: &t::RecommendationSummary,
    columns: &[(String, String)],
) -> Option<AwsRecommendation> {
    let id = x.aws_resource_id().trim();
    let region = x.region_code().trim();
    if id.is_empty()
        || region.is_empty()
        || !matches!(x.status(), t::ResourceStatus::Warning | t::ResourceStatus::Error)
    {
        return None;
    }
    let mut details = Vec::new();
    let mut saving = None;
    for (key, heading) in columns {
        let Some(value) = x.metadata().get(key).map(|v| v.trim()).filter(|v| !v.is_empty()) else { continue };
        if heading.to_ascii_lowercase().contains("estimated monthly savings") {
            saving = saving.or(dollars(value));
        }
        if details.len() < MAX_DETAILS {
            details.push(format!("{heading}: {value}"));
        }
    }
    let refreshed = x.last_updated_at();
    if let Some(day) = chrono::DateTime::from_timestamp(refreshed.secs(), 0) {
        details.push(format!("Trusted Advisor refreshed this result on {}", day.format("%Y-%m-%d")));
    }
    Some(AwsRecommendation {
        origin: Origin::TrustedAdvisor { check: r.name().to_owned(), recommendation_arn: r.arn().to_owned() },
        region: region.to_owned(),
        resource_id: recommenders::resource_id(id),
        resource_arn: id.starts_with("arn:").then(|| id.to_owned()),
        finding: x.status().as_str().to_owned(),
        current: None,
        recommended: None,
        lookback_days: None,
        monthly_savings_usd: saving.filter(|s| *s > Decimal::ZERO),
        savings_percent: None,
        details,
    })
}
