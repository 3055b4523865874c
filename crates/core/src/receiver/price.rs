//! Pricing one EventBridge event: parse, classify, price, decide. The receiver and
//! `costradar events price` both call [`price_event`], so the CLI shows exactly what the
//! receiver would record. The serialised [`PricedEvent`] is a stable contract; its money is a
//! decimal string to the cent ([`crate::domain::money::usd`]) in a field named `…_usd`.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::domain::event::{classify, Classified, Envelope, EventKind};
use crate::domain::finding::Finding;
use crate::domain::money::cents;
use crate::domain::{AccountId, InvalidInput, TenantId};
use crate::pricing::model::{estimate, Estimate, InstanceFacts};
use crate::pricing::PriceBook;
use crate::rules::realtime::{evaluate, RealtimeFinding};

/// The API destination's largest event is 256 KB; anything bigger is refused (413).
pub const BODY_MAX: usize = 256 * 1024;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FindingView {
    pub rule: &'static str,
    pub title: String,
    #[serde(serialize_with = "crate::domain::money::serialize_option")]
    pub monthly_cost_usd: Option<Decimal>,
    pub alternative: Option<AlternativeView>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlternativeView {
    pub description: String,
    #[serde(serialize_with = "crate::domain::money::serialize")]
    pub monthly_cost_usd: Decimal,
    #[serde(serialize_with = "crate::domain::money::serialize")]
    pub monthly_savings_usd: Decimal,
}

/// What an event costs and whether it is a finding.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PricedEvent {
    pub event_id: String,
    pub kind: EventKind,
    pub account: AccountId,
    pub region: String,
    /// The CloudTrail identity that made the change, when the event says.
    pub actor: Option<String>,
    /// Signed monthly change; negative for a saving; null when unpriced.
    #[serde(serialize_with = "crate::domain::money::serialize_option")]
    pub monthly_cost_usd: Option<Decimal>,
    /// `tenant_rates`, `price_list_api` or `snapshot`: the least specific source used.
    pub price_source: Option<&'static str>,
    pub price_as_of: Option<String>,
    pub breakdown: Vec<String>,
    pub assumptions: Vec<String>,
    pub unpriced_reason: Option<String>,
    pub finding: Option<FindingView>,
}

impl PricedEvent {
    /// The finding this priced event is, as stored for `tenant`: its arithmetic as evidence,
    /// who made the change, and the event it came from.
    pub fn stored_finding(
        &self,
        ev: &Classified,
        tenant: &TenantId,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Option<Finding> {
        let f = self.finding.as_ref()?;
        let resource = ev.change.resource_id().unwrap_or(&ev.id);
        Some(Finding {
            evidence: self.breakdown.clone(),
            monthly_cost_usd: f.monthly_cost_usd,
            monthly_savings_usd: f.alternative.as_ref().map(|a| a.monthly_savings_usd),
            alternative: f.alternative.as_ref().map(|a| a.description.clone()),
            actor: ev.actor.arn.clone(),
            source_event: Some(ev.id.clone()),
            price_source: self.price_source.map(str::to_owned),
            ..Finding::open(tenant.clone(), ev.account.clone(), &*ev.region, f.rule, resource, &*f.title, now)
        })
    }

    fn new(ev: &Classified, est: Estimate, finding: Option<RealtimeFinding>) -> Self {
        let source = est.price_source();
        Self {
            event_id: ev.id.clone(),
            kind: ev.kind,
            account: ev.account.clone(),
            region: ev.region.clone(),
            actor: ev.actor.arn.clone(),
            monthly_cost_usd: est.monthly_usd.map(cents),
            price_source: source.map(|s| s.as_str()),
            price_as_of: source.and_then(|s| est.sources.iter().find(|(x, _)| *x == s).map(|(_, d)| d.clone())),
            breakdown: est.breakdown,
            assumptions: est.assumptions,
            unpriced_reason: est.unpriced_reason,
            finding: finding.map(|f| FindingView {
                rule: f.rule,
                title: f.title,
                monthly_cost_usd: f.monthly_cost_usd,
                alternative: f.alternative.map(|a| AlternativeView {
                    description: a.description,
                    monthly_cost_usd: a.monthly_cost_usd,
                    monthly_savings_usd: a.monthly_savings_usd,
                }),
            }),
        }
    }
}

/// Parses the envelope; errors name the field.
pub fn parse_envelope(body: &[u8]) -> Result<Envelope, InvalidInput> {
    if body.len() > BODY_MAX {
        return Err(InvalidInput::new("body", format!("larger than {BODY_MAX} bytes")));
    }
    crate::domain::parse_json(body)
}

/// Classifies and prices one event. `instances` supplies what the event lacks of its instances.
pub fn price_classified(
    ev: &Classified,
    book: &PriceBook<'_>,
    instances: &HashMap<String, InstanceFacts>,
    threshold_usd: Decimal,
) -> PricedEvent {
    let est = estimate(&ev.change, &ev.region, book, instances);
    let finding = evaluate(ev, &est, book, threshold_usd);
    PricedEvent::new(ev, est, finding)
}

/// The whole path from bytes, for callers with no store (the CLI).
pub fn price_event(
    body: &[u8],
    book: &PriceBook<'_>,
    instances: &HashMap<String, InstanceFacts>,
    threshold_usd: Decimal,
) -> Result<PricedEvent, InvalidInput> {
    let envelope = parse_envelope(body)?;
    let ev = classify(&envelope)?;
    Ok(price_classified(&ev, book, instances, threshold_usd))
}
