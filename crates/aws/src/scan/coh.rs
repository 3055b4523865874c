//! Cost Optimization Hub: the account's recommendations (the highest-saving one per resource,
//! as `ListRecommendations` returns by default), paginated.

use aws_sdk_costoptimizationhub::types::Filter;

use super::ec2::all_pages;
use super::Calls;
use costradar_core::domain::money;
use costradar_core::rules::facts::Recommendation;
use costradar_core::scan::AccountWide;

pub async fn list(c: &aws_sdk_costoptimizationhub::Client, account_id: &str) -> AccountWide<Vec<Recommendation>> {
    let mut calls = Calls::default();
    let filter = Filter::builder().account_ids(account_id).build();
    let v = all_pages!(
        calls,
        "cost-optimization-hub:ListRecommendations",
        c.list_recommendations().filter(filter).max_results(1000).into_paginator(),
        |p| p
            .items()
            .iter()
            .filter(|r| r.account_id().is_none_or(|a| a == account_id))
            .filter(|r| r.currency_code().is_none_or(|c| c == "USD"))
            .filter_map(|r| {
                Some(Recommendation {
                    id: r.recommendation_id()?.to_owned(),
                    region: r.region()?.to_owned(),
                    resource_id: r.resource_id()?.to_owned(),
                    resource_arn: r.resource_arn().map(str::to_owned),
                    action_type: r.action_type()?.to_owned(),
                    current_resource_type: r.current_resource_type().map(str::to_owned),
                    recommended_resource_type: r.recommended_resource_type().map(str::to_owned),
                    current_summary: r.current_resource_summary().map(str::to_owned),
                    recommended_summary: r.recommended_resource_summary().map(str::to_owned),
                    // AWS reports them as floats: decimals at once, rounded to cents.
                    monthly_savings_usd: r.estimated_monthly_savings().and_then(money::from_f64)?,
                    monthly_cost_usd: r.estimated_monthly_cost().and_then(money::from_f64),
                    lookback_days: r.recommendation_lookback_period_in_days(),
                })
            })
            .collect::<Vec<_>>()
    );
    AccountWide { value: v, api_calls: calls.count, errors: calls.errors }
}
