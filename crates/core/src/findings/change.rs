//! `PATCH /tenants/{id}/findings/{key}`: one decision a request, parsed strictly (an unknown
//! field, a wrong type, an empty or over-long string, a snooze date not in the future: a 400
//! naming the field, and nothing is written), then written with its history entry in one
//! transaction.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Caller, FindingDetail, Findings, FindingsError};
use crate::domain::finding::{Finding, FindingStatus, Suppression};
use crate::domain::triage::{FindingChange, Triage, TriageAction};
use crate::domain::{check_text, InvalidInput, TenantId};
use crate::store::FindingUpdate;

/// The longest text a decision carries (a reason, an owner, a note, who).
pub const TEXT_MAX: usize = 1024;
/// How far ahead a snooze may go.
pub const SNOOZE_MAX_DAYS: i64 = 366;

/// A parsed PATCH body: the decision and, for the operator, who made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeRequest {
    pub action: TriageAction,
    pub by: Option<String>,
}

fn bad(field: &str, message: &str) -> InvalidInput {
    InvalidInput::new(field, message)
}

fn text(body: &serde_json::Map<String, Value>, field: &str) -> Result<String, InvalidInput> {
    match body.get(field) {
        None => Err(bad(field, "missing")),
        Some(Value::String(s)) => {
            check_text(field, s, TEXT_MAX)?;
            Ok(s.trim().to_owned())
        }
        Some(_) => Err(bad(field, "must be a string")),
    }
}

impl ChangeRequest {
    /// Parses a body against `today` (UTC): a snooze must end after it.
    pub fn parse(body: &[u8], today: NaiveDate) -> Result<Self, InvalidInput> {
        let v: Value = serde_json::from_slice(body).map_err(|_| bad("body", "not a JSON document"))?;
        let Value::Object(body) = v else { return Err(bad("body", "must be a JSON object")) };
        let action = match body.get("action") {
            None => return Err(bad("action", "missing")),
            Some(Value::String(a)) => a.as_str(),
            Some(_) => return Err(bad("action", "must be a string")),
        };
        let extra = match action {
            "acknowledge" => "",
            "snooze" => "until",
            "suppress" => "reason",
            "assign" => "owner",
            "note" => "text",
            _ => return Err(bad("action", "acknowledge, snooze, suppress, assign or note")),
        };
        if let Some(k) = body.keys().find(|k| !["action", "by", extra].contains(&k.as_str()) || k.is_empty()) {
            return Err(bad(&k.chars().take(64).collect::<String>(), "unknown field for this action"));
        }
        let by = body.contains_key("by").then(|| text(&body, "by")).transpose()?;
        let action = match extra {
            "until" => TriageAction::Snooze { until: snooze_until(&body, today)? },
            "reason" => TriageAction::Suppress { reason: text(&body, "reason")? },
            "owner" => TriageAction::Assign { owner: text(&body, "owner")? },
            "text" => TriageAction::Note { text: text(&body, "text")? },
            _ => TriageAction::Acknowledge,
        };
        Ok(Self { action, by })
    }
}

fn snooze_until(body: &serde_json::Map<String, Value>, today: NaiveDate) -> Result<NaiveDate, InvalidInput> {
    let s = match body.get("until") {
        None => return Err(bad("until", "missing")),
        Some(Value::String(s)) => s,
        Some(_) => return Err(bad("until", "must be a string")),
    };
    let date = (s.len() == 10).then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()).flatten();
    let date = date.ok_or_else(|| bad("until", "a date, YYYY-MM-DD"))?;
    if date <= today {
        return Err(bad("until", "must be after today (UTC)"));
    }
    if date > today + Duration::days(SNOOZE_MAX_DAYS) {
        return Err(bad("until", "at most 366 days ahead"));
    }
    Ok(date)
}

/// Who made a change: the operator says so in `by`; a tenant user is who the token names
/// (their `by` is refused, so no one can write in another's name).
fn author(caller: &Caller, by: Option<String>) -> Result<String, InvalidInput> {
    match (caller, by) {
        (Caller::Operator, Some(by)) => Ok(by),
        (Caller::Operator, None) => Err(bad("by", "missing: say who makes the change")),
        (Caller::Tenant { .. }, Some(_)) => Err(bad("by", "taken from your sign-in; leave it out")),
        (Caller::Tenant { tenant, user }, None) => Ok(user.clone().unwrap_or_else(|| format!("a user of {tenant}"))),
    }
}

/// The suppression a person makes for one finding: by rule and resource in its account, with
/// an id derived from the key (suppressing twice rewrites the same one).
fn suppression_for(f: &Finding, reason: &str) -> Result<Suppression, InvalidInput> {
    let digest = hex::encode(Sha256::digest(f.key().as_bytes()));
    let s = Suppression {
        id: format!("finding-{}", &digest[..32]),
        account_id: Some(f.account_id.clone()),
        rule: Some(f.rule.clone()),
        resource_id: Some(f.resource_id.clone()),
        tag_key: None,
        tag_value: None,
        reason: reason.to_owned(),
    };
    s.validate()?;
    Ok(s)
}

/// The update a decision makes to `f` at `now`, and `f` as it will be.
pub(super) fn plan(
    f: &Finding,
    caller: &Caller,
    req: ChangeRequest,
    now: DateTime<Utc>,
) -> Result<(FindingUpdate, Finding), InvalidInput> {
    let by = author(caller, req.by)?;
    let mut triage = f.triage.clone().unwrap_or_default();
    let expected_changes = triage.changes;
    triage.changes += 1;
    let (mut suppress, mut suppression) = (None, None);
    match &req.action {
        TriageAction::Acknowledge => {
            triage.acknowledged_at = Some(now);
            triage.acknowledged_by = Some(by.clone());
        }
        TriageAction::Snooze { until } => triage.snoozed_until = Some(*until),
        TriageAction::Assign { owner } => triage.owner = Some(owner.clone()),
        TriageAction::Note { .. } => {}
        TriageAction::Suppress { reason } => {
            let s = suppression_for(f, reason)?;
            let status = if f.status == FindingStatus::Open { FindingStatus::Suppressed } else { f.status };
            suppress = Some((status, format!("{}: {reason}", s.id)));
            triage.suppression_id = Some(s.id.clone());
            suppression = Some(s);
        }
    }
    let entry = FindingChange { seq: triage.changes, at: now, by, caller: caller.kind().into(), action: req.action };
    let mut after = f.clone();
    after.triage = Some(triage.clone());
    if let Some((status, by)) = &suppress {
        after.status = *status;
        after.suppressed_by = Some(by.clone());
    }
    Ok((FindingUpdate { key: f.key(), expected_changes, triage, suppress, suppression, entry }, after))
}

impl Findings {
    /// Applies one decision to a finding of the tenant and returns the finding as it is now,
    /// with its history. Nothing is written unless everything is valid.
    pub async fn change(
        &self,
        caller: &Caller,
        id: &TenantId,
        key: &str,
        req: ChangeRequest,
    ) -> Result<FindingDetail, FindingsError> {
        self.authorize(caller, id).await?;
        let f = self.store.get_finding(id, key).await?.ok_or(FindingsError::FindingNotFound)?;
        let (update, after) = plan(&f, caller, req, self.now())?;
        self.store.change_finding(id, &update).await?;
        tracing::info!(tenant = %id, key, action = update.entry.action.name(), "finding changed");
        let history = self.store.finding_history(id, key).await?;
        Ok(FindingDetail { finding: after, history, price_as_of: None })
    }
}

/// Whether a finding is snoozed on `today`.
pub fn snoozed(t: Option<&Triage>, today: NaiveDate) -> bool {
    t.and_then(|t| t.snoozed_until).is_some_and(|d| d > today)
}
