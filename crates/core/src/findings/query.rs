//! Query strings of the findings API, parsed strictly: an unknown or repeated parameter, or a
//! value out of its shape, is a 400 that names the parameter.

use rust_decimal::Decimal;

use crate::domain::event::EventKind;
use crate::domain::finding::FindingStatus;
use crate::domain::triage::Source;
use crate::domain::{check_text, AccountId, InvalidInput};
use crate::store::{EventFilter, FindingFilter, FindingSort, PageRequest, MAX_PAGE};

/// `GET /tenants/{id}/findings` (and `findings.csv`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FindingsQuery {
    pub filter: FindingFilter,
    pub sort: FindingSort,
    pub page: PageRequest,
}

/// `GET /tenants/{id}/events`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventsQuery {
    pub filter: EventFilter,
    pub page: PageRequest,
}

fn bad(field: &str, message: impl Into<String>) -> InvalidInput {
    InvalidInput::new(field, message)
}

/// Each parameter once; `allowed` names them all.
fn pairs(query: &str, allowed: &[&str]) -> Result<Vec<(String, String)>, InvalidInput> {
    let mut seen: Vec<(String, String)> = Vec::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        let name: String = k.chars().take(64).collect();
        if !allowed.contains(&k.as_ref()) {
            return Err(bad(&name, "unknown query parameter"));
        }
        if seen.iter().any(|(s, _)| *s == k) {
            return Err(bad(&name, "given more than once"));
        }
        seen.push((k.into_owned(), v.into_owned()));
    }
    Ok(seen)
}

/// Lowercase letters, digits and `-._`, 1 to `max` characters: rule ids, services, regions.
fn token(field: &str, v: &str, max: usize) -> Result<String, InvalidInput> {
    let ok = (1..=max).contains(&v.len())
        && v.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._".contains(&b));
    ok.then(|| v.to_owned()).ok_or_else(|| bad(field, format!("1 to {max} of a-z, 0-9, '-', '.', '_'")))
}

fn limit(v: &str) -> Result<u32, InvalidInput> {
    match v.parse::<u32>() {
        Ok(n @ 1..=MAX_PAGE) => Ok(n),
        _ => Err(bad("limit", format!("a whole number between 1 and {MAX_PAGE}"))),
    }
}

fn cursor(v: &str) -> Result<String, InvalidInput> {
    let ok = (1..=1500).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
    ok.then(|| v.to_owned()).ok_or_else(|| bad("cursor", "not a cursor this API returned"))
}

/// A minimum monthly saving: a decimal in USD, to the cent, from 0 to 1,000,000,000,000.
fn min_savings(v: &str) -> Result<Decimal, InvalidInput> {
    let d: Decimal = v.parse().map_err(|_| bad("min_monthly_savings_usd", "a decimal amount in USD"))?;
    if d.is_sign_negative() || d > Decimal::from(1_000_000_000_000u64) || d.normalize().scale() > 2 {
        return Err(bad("min_monthly_savings_usd", "from 0 to 1000000000000, at most two decimals"));
    }
    Ok(d)
}

fn status(v: &str) -> Result<FindingStatus, InvalidInput> {
    match v {
        "open" => Ok(FindingStatus::Open),
        "resolved" => Ok(FindingStatus::Resolved),
        "suppressed" => Ok(FindingStatus::Suppressed),
        _ => Err(bad("status", "open, resolved or suppressed")),
    }
}

/// The parameters both the page and the CSV take.
pub const FINDINGS_PARAMS: &[&str] = &[
    "account",
    "region",
    "service",
    "rule",
    "source",
    "status",
    "min_monthly_savings_usd",
    "q",
    "sort",
    "limit",
    "cursor",
];

impl FindingsQuery {
    pub fn parse(query: &str) -> Result<Self, InvalidInput> {
        let mut q = Self::default();
        let f = &mut q.filter;
        for (k, v) in pairs(query, FINDINGS_PARAMS)? {
            match k.as_str() {
                "account" => f.account_id = Some(AccountId::parse(&v).map_err(|e| bad("account", e.message))?),
                "region" => f.region = Some(token("region", &v, 32)?),
                "service" if v.contains('.') => {
                    return Err(bad("service", "a rule's prefix before its '.', such as ebs"))
                }
                "service" => f.service = Some(token("service", &v, 32)?),
                "rule" => f.rule = Some(token("rule", &v, 128)?),
                "source" => {
                    f.source =
                        Some(Source::parse(&v).ok_or_else(|| bad("source", "realtime, scan, cur or aws-recommender"))?)
                }
                "status" => f.status = Some(status(&v)?),
                "min_monthly_savings_usd" => f.min_monthly_savings_usd = Some(min_savings(&v)?),
                "q" => {
                    check_text("q", &v, 256)?;
                    f.resource_contains = Some(v);
                }
                "sort" => {
                    q.sort = match v.as_str() {
                        "savings" => FindingSort::Savings,
                        "first_seen" => FindingSort::FirstSeen,
                        _ => return Err(bad("sort", "savings or first_seen")),
                    }
                }
                "limit" => q.page.limit = Some(limit(&v)?),
                "cursor" => q.page.cursor = Some(cursor(&v)?),
                _ => unreachable!("pairs() allows only FINDINGS_PARAMS"),
            }
        }
        Ok(q)
    }
}

impl EventsQuery {
    pub fn parse(query: &str) -> Result<Self, InvalidInput> {
        let mut q = Self::default();
        for (k, v) in pairs(query, &["account", "kind", "limit", "cursor"])? {
            match k.as_str() {
                "account" => q.filter.account_id = Some(AccountId::parse(&v).map_err(|e| bad("account", e.message))?),
                "kind" => {
                    let kind = EventKind::ALL.iter().find(|k| k.as_str() == v);
                    q.filter.kind = Some(
                        kind.ok_or_else(|| bad("kind", "an event kind, such as ec2.run-instances"))?.as_str().into(),
                    );
                }
                "limit" => q.page.limit = Some(limit(&v)?),
                _ => q.page.cursor = Some(cursor(&v)?),
            }
        }
        Ok(q)
    }
}

/// `GET /tenants/{id}/runs`: a page only.
pub fn page_only(query: &str) -> Result<PageRequest, InvalidInput> {
    let mut page = PageRequest::default();
    for (k, v) in pairs(query, &["limit", "cursor"])? {
        match k.as_str() {
            "limit" => page.limit = Some(limit(&v)?),
            _ => page.cursor = Some(cursor(&v)?),
        }
    }
    Ok(page)
}

/// A route without parameters.
pub fn none(query: &str) -> Result<(), InvalidInput> {
    pairs(query, &[]).map(|_| ())
}
