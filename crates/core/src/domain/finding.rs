//! A finding: something that costs money and could cost less, keyed by
//! (account, rule, resource). Real-time findings come from events; scans upsert theirs
//! (`store::FindingStore`); CUR analysis saves anomalies the same way. Fields added after the
//! first release have serde defaults, so items written before them still read.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{AccountId, TenantId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    Open,
    Resolved,
    Suppressed,
}

/// How sure a rule is that acting on the finding saves what it says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// Inferred from utilisation or from a recommendation: check before acting.
    Low,
    /// The facts are certain but the saving depends on something we cannot see (for example
    /// how much of an incremental snapshot is shared).
    Medium,
    /// The facts and the arithmetic are certain.
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub tenant_id: TenantId,
    pub account_id: AccountId,
    pub region: String,
    pub rule: String,
    pub resource_id: String,
    pub title: String,
    pub evidence: Vec<String>,
    pub monthly_cost_usd: Option<Decimal>,
    pub monthly_savings_usd: Option<Decimal>,
    pub alternative: Option<String>,
    /// Who made the change, for real-time findings.
    pub actor: Option<String>,
    pub source_event: Option<String>,
    pub price_source: Option<String>,
    pub status: FindingStatus,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// The resource's ARN, when it has one.
    #[serde(default)]
    pub arn: Option<String>,
    #[serde(default)]
    pub confidence: Option<Confidence>,
    /// The fix, as an AWS CLI command.
    #[serde(default)]
    pub fix_command: Option<String>,
    /// Set when this finding's saving is already part of another finding's on the same
    /// resource (the rule id named here): totals skip it, so nothing is counted twice.
    #[serde(default)]
    pub savings_included_in: Option<String>,
    #[serde(default)]
    pub resolved_at: Option<DateTime<Utc>>,
    /// Why the finding is suppressed (the suppression that matched), when it is.
    #[serde(default)]
    pub suppressed_by: Option<String>,
    /// People's decisions (acknowledged, snoozed, owner, their suppression); absent until the
    /// first one. Kept across later sightings (`store::findings::keep_user_state`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triage: Option<super::triage::Triage>,
}

impl Finding {
    /// A new open finding of `rule` on `resource_id`, first and last seen `now`. Every source
    /// (scan rules, real-time events, CUR analysis) starts here and sets what it knows with
    /// struct-update syntax: `Finding { evidence, ..Finding::open(...) }`.
    pub fn open(
        tenant_id: TenantId,
        account_id: AccountId,
        region: impl Into<String>,
        rule: impl Into<String>,
        resource_id: impl Into<String>,
        title: impl Into<String>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            tenant_id,
            account_id,
            region: region.into(),
            rule: rule.into(),
            resource_id: resource_id.into(),
            title: title.into(),
            evidence: Vec::new(),
            monthly_cost_usd: None,
            monthly_savings_usd: None,
            alternative: None,
            actor: None,
            source_event: None,
            price_source: None,
            status: FindingStatus::Open,
            first_seen: now,
            last_seen: now,
            arn: None,
            confidence: None,
            fix_command: None,
            savings_included_in: None,
            resolved_at: None,
            suppressed_by: None,
            triage: None,
        }
    }

    /// The sort-key suffix: unique per (account, rule, resource).
    pub fn key(&self) -> String {
        format!("{}#{}#{}", self.account_id, self.rule, self.resource_id)
    }

    /// Whether this finding's saving belongs in a total: open, and not already part of another
    /// finding's saving.
    pub fn counts_in_total(&self) -> bool {
        self.status == FindingStatus::Open && self.savings_included_in.is_none()
    }
}

/// A user's decision to silence findings: by rule and resource, or by a resource tag
/// (optionally only for one rule). Scans still record a suppressed finding, with status
/// `suppressed`, so the user can see what is hidden and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    pub id: String,
    /// Limits the suppression to one AWS account.
    #[serde(default)]
    pub account_id: Option<AccountId>,
    #[serde(default)]
    pub rule: Option<String>,
    #[serde(default)]
    pub resource_id: Option<String>,
    #[serde(default)]
    pub tag_key: Option<String>,
    /// With `tag_key`: only this value; without: any value of the key.
    #[serde(default)]
    pub tag_value: Option<String>,
    #[serde(default)]
    pub reason: String,
}

impl Suppression {
    /// A suppression names a rule and a resource, or a tag key; anything broader would silence
    /// everything by accident.
    pub fn validate(&self) -> Result<(), super::InvalidInput> {
        let field_ok = |v: &Option<String>| v.as_deref().is_none_or(|s| !s.trim().is_empty() && s.len() <= 1024);
        for (name, v) in [
            ("rule", &self.rule),
            ("resource_id", &self.resource_id),
            ("tag_key", &self.tag_key),
            ("tag_value", &self.tag_value),
        ] {
            if !field_ok(v) {
                return Err(super::InvalidInput::new(name, "must be 1 to 1024 characters"));
            }
        }
        if self.id.is_empty() || self.id.len() > 128 || self.id.contains('#') {
            return Err(super::InvalidInput::new("id", "1 to 128 characters, no '#'"));
        }
        match (&self.rule, &self.resource_id, &self.tag_key) {
            (Some(_), Some(_), None) | (_, None, Some(_)) => {}
            (None, Some(_), None) => {
                return Err(super::InvalidInput::new("rule", "a resource suppression names its rule"))
            }
            (_, Some(_), Some(_)) => {
                return Err(super::InvalidInput::new("tag_key", "suppress by rule and resource, or by tag, not both"))
            }
            (_, None, None) => {
                return Err(super::InvalidInput::new("resource_id", "name a rule and a resource, or a tag_key"))
            }
        }
        if self.tag_value.is_some() && self.tag_key.is_none() {
            return Err(super::InvalidInput::new("tag_value", "needs tag_key"));
        }
        Ok(())
    }

    /// Whether a finding of `rule` on a resource with these tags is silenced. Tag keys compare
    /// exactly, as AWS does.
    pub fn matches(
        &self,
        account_id: &AccountId,
        rule: &str,
        resource_id: &str,
        tags: &std::collections::BTreeMap<String, String>,
    ) -> bool {
        if self.account_id.as_ref().is_some_and(|a| a != account_id) {
            return false;
        }
        if self.rule.as_deref().is_some_and(|r| r != rule) {
            return false;
        }
        match (&self.resource_id, &self.tag_key) {
            (Some(r), _) => r == resource_id,
            (None, Some(k)) => tags.get(k).is_some_and(|v| self.tag_value.as_deref().is_none_or(|want| want == v)),
            (None, None) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn s(rule: Option<&str>, resource: Option<&str>, key: Option<&str>, value: Option<&str>) -> Suppression {
        Suppression {
            id: "s-1".into(),
            account_id: None,
            rule: rule.map(Into::into),
            resource_id: resource.map(Into::into),
            tag_key: key.map(Into::into),
            tag_value: value.map(Into::into),
            reason: String::new(),
        }
    }

    #[test]
    fn suppressions_match_by_rule_and_resource_or_by_tag() {
        let tags = BTreeMap::from([("costradar".to_owned(), "ignore".to_owned())]);
        let none = BTreeMap::new();
        let one = AccountId::parse("111111111111").unwrap();
        let by_resource = s(Some("ebs.unattached-volume"), Some("vol-1"), None, None);
        assert!(by_resource.matches(&one, "ebs.unattached-volume", "vol-1", &none));
        assert!(!by_resource.matches(&one, "ebs.gp2-to-gp3", "vol-1", &none), "another rule on the same volume");
        assert!(!by_resource.matches(&one, "ebs.unattached-volume", "vol-2", &none));
        let by_tag = s(None, None, Some("costradar"), Some("ignore"));
        assert!(by_tag.matches(&one, "eip.unassociated", "eipalloc-1", &tags));
        assert!(!by_tag.matches(&one, "eip.unassociated", "eipalloc-1", &none));
        let other_value = BTreeMap::from([("costradar".to_owned(), "keep".to_owned())]);
        assert!(!by_tag.matches(&one, "eip.unassociated", "eipalloc-1", &other_value));
        assert!(s(None, None, Some("costradar"), None).matches(&one, "x", "y", &other_value));
        let mut one_account = by_resource.clone();
        one_account.account_id = Some(AccountId::parse("222222222222").unwrap());
        assert!(!one_account.matches(&one, "ebs.unattached-volume", "vol-1", &none));
    }

    #[test]
    fn too_broad_or_malformed_suppressions_are_refused() {
        assert!(s(Some("r"), Some("vol-1"), None, None).validate().is_ok());
        assert!(s(None, None, Some("k"), None).validate().is_ok());
        assert!(s(Some("r"), None, Some("k"), Some("v")).validate().is_ok());
        assert_eq!(s(None, None, None, None).validate().unwrap_err().field, "resource_id");
        assert_eq!(s(Some("r"), None, None, None).validate().unwrap_err().field, "resource_id");
        assert_eq!(s(None, Some("vol-1"), None, None).validate().unwrap_err().field, "rule");
        assert_eq!(s(Some("r"), Some("v"), Some("k"), None).validate().unwrap_err().field, "tag_key");
        assert_eq!(s(Some("r"), None, None, Some("v")).validate().unwrap_err().field, "resource_id");
        assert_eq!(s(Some(" "), Some("vol-1"), None, None).validate().unwrap_err().field, "rule");
        let mut bad_id = s(Some("r"), Some("vol-1"), None, None);
        bad_id.id = "a#b".into();
        assert_eq!(bad_id.validate().unwrap_err().field, "id");
    }
}
