//! What a scheduled scan did: per account and region, the API calls made, the errors (with the
//! action that was denied), the duration and the findings opened and resolved. These are the
//! `scan_account` and `finish_run` task outputs of `docs/workflows.md` and the `RUN#` item.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{AccountId, TenantId};

/// `complete`: every call succeeded, so findings not seen are resolved. `partial`: something
/// failed, so nothing is resolved (absence proves nothing). `failed`: nothing usable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanStatus {
    Complete,
    Partial,
    Failed,
}

impl ScanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Complete => "complete",
            Self::Partial => "partial",
            Self::Failed => "failed",
        }
    }
}

/// One failed AWS call, by IAM action (`ec2:DescribeVolumes`). `code` is AWS's error code
/// (`UnauthorizedOperation`, `AccessDenied`, `Throttling`, ...).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionError {
    pub action: String,
    pub code: String,
    pub message: String,
}

impl ActionError {
    /// Whether the session policy or the role lacks the action.
    pub fn is_access_denied(&self) -> bool {
        is_access_denied_code(&self.code)
    }
}

/// The error codes AWS services use for a missing permission.
pub fn is_access_denied_code(code: &str) -> bool {
    matches!(code, "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "UnauthorizedException")
}

/// At most this many errors are kept per region: a region where everything is denied says so
/// in its first errors, and the record stays small.
pub const MAX_ERRORS_PER_REGION: usize = 20;

/// One region of one account's scan. `region` is `global` for the account-wide calls (enabled
/// regions, Cost Optimization Hub).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionRun {
    pub region: String,
    pub status: ScanStatus,
    pub api_calls: u32,
    pub errors: Vec<ActionError>,
    pub duration_ms: u64,
    pub findings_opened: u32,
    pub findings_resolved: u32,
}

/// Why an account's scan failed as a whole (the Map's Catch output carries Step Functions'
/// `{"Error", "Cause"}`; our own handler writes `error_type` and `message`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountFailure {
    #[serde(alias = "Error", alias = "errorType")]
    pub error_type: String,
    #[serde(alias = "Cause", alias = "errorMessage", default)]
    pub message: String,
}

/// The `scan_account` output, and what the run record keeps per account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRun {
    pub tenant_id: TenantId,
    pub account_id: AccountId,
    pub status: ScanStatus,
    #[serde(default)]
    pub regions: Vec<RegionRun>,
    #[serde(default)]
    pub findings_opened: u32,
    #[serde(default)]
    pub findings_resolved: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<AccountFailure>,
    /// The CUR part of the account's Map item: absent when the account has no CUR settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cur: Option<CurRun>,
    /// What the scan could not read and why, when that is no error (Compute Optimizer not
    /// enrolled, no Business Support plan for Trusted Advisor): once each, in plain words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The `cur` field of a Map item (`docs/workflows.md`, scan workflow step 3): the counts of the
/// `fetch_and_analyse` output and what our Athena queries cost, or the error that stopped it.
/// Other fields of that output are ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurRun {
    #[serde(default)]
    pub anomalies: u32,
    #[serde(default)]
    pub findings_opened: u32,
    #[serde(default)]
    pub findings_resolved: u32,
    #[serde(default)]
    pub bytes_scanned: u64,
    /// $5 per TB with Athena's 10 MB minimum per query.
    #[serde(default)]
    pub query_cost_usd: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<AccountFailure>,
}

impl AccountRun {
    /// The account's status from its regions': complete when all are, failed when all failed,
    /// else partial.
    pub fn status_of(regions: &[RegionRun]) -> ScanStatus {
        if regions.iter().all(|r| r.status == ScanStatus::Complete) {
            ScanStatus::Complete
        } else if !regions.is_empty() && regions.iter().all(|r| r.status == ScanStatus::Failed) {
            ScanStatus::Failed
        } else {
            ScanStatus::Partial
        }
    }
}

/// One tenant's share of a run: the `RUN#<run-id>` item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    pub run_id: String,
    pub tenant_id: TenantId,
    pub finished_at: DateTime<Utc>,
    pub accounts: Vec<AccountRun>,
    pub complete: u32,
    pub partial: u32,
    pub failed: u32,
    pub findings_opened: u32,
    pub findings_resolved: u32,
    /// The CUR analyses: accounts whose CUR part failed, and what our Athena queries scanned
    /// and cost the customers.
    #[serde(default)]
    pub cur_failed: u32,
    #[serde(default)]
    pub athena_bytes_scanned: u64,
    #[serde(default)]
    pub athena_cost_usd: Decimal,
}

impl RunRecord {
    /// Counts from the accounts.
    pub fn new(run_id: &str, tenant_id: &TenantId, accounts: Vec<AccountRun>, finished_at: DateTime<Utc>) -> Self {
        let count = |s| accounts.iter().filter(|a| a.status == s).count() as u32;
        let curs = || accounts.iter().filter_map(|a| a.cur.as_ref());
        Self {
            run_id: run_id.to_owned(),
            tenant_id: tenant_id.clone(),
            finished_at,
            complete: count(ScanStatus::Complete),
            partial: count(ScanStatus::Partial),
            failed: count(ScanStatus::Failed),
            findings_opened: accounts.iter().map(|a| a.findings_opened).sum(),
            findings_resolved: accounts.iter().map(|a| a.findings_resolved).sum(),
            cur_failed: curs().filter(|c| c.error.is_some()).count() as u32,
            athena_bytes_scanned: curs().map(|c| c.bytes_scanned).sum(),
            athena_cost_usd: curs().map(|c| c.query_cost_usd).sum(),
            accounts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(status: ScanStatus) -> RegionRun {
        RegionRun {
            region: "us-east-1".into(),
            status,
            api_calls: 1,
            errors: vec![],
            duration_ms: 1,
            findings_opened: 0,
            findings_resolved: 0,
        }
    }

    #[test]
    fn account_status_from_regions() {
        use ScanStatus::*;
        assert_eq!(AccountRun::status_of(&[region(Complete), region(Complete)]), Complete);
        assert_eq!(AccountRun::status_of(&[region(Complete), region(Failed)]), Partial);
        assert_eq!(AccountRun::status_of(&[region(Partial)]), Partial);
        assert_eq!(AccountRun::status_of(&[region(Failed), region(Failed)]), Failed);
    }

    #[test]
    fn step_functions_catch_output_reads_as_a_failed_account() {
        let v = serde_json::json!({"tenant_id": "t-aaaaaaaaaaaaaaaa", "account_id": "123456789012", "status": "failed",
            "error": {"Error": "AccountRevoked", "Cause": "{\"errorMessage\": \"denied\"}"}});
        let a: AccountRun = serde_json::from_value(v).unwrap();
        assert_eq!(a.error.unwrap().error_type, "AccountRevoked");
        assert!(a.regions.is_empty());
    }

    #[test]
    fn the_cur_part_of_map_items_adds_up_in_the_run_record() {
        let item = |cur: serde_json::Value| {
            let mut v = serde_json::json!({"tenant_id": "t-aaaaaaaaaaaaaaaa", "account_id": "123456789012", "status": "complete",
                "regions": [], "findings_opened": 1, "findings_resolved": 0});
            if !cur.is_null() {
                v["cur"] = cur;
            }
            serde_json::from_value::<AccountRun>(v).unwrap()
        };
        // fetch_and_analyse outputs (with fields the record does not keep), a caught CUR failure,
        // and an account without CUR settings.
        let analysed = |bytes: u64, cost: &str| {
            serde_json::json!({"run_id": "r", "tenant_id": "t-aaaaaaaaaaaaaaaa", "account_id": "123456789012", "anomalies": 2,
                "findings": 3, "findings_opened": 3, "findings_resolved": 1, "rates": 4,
                "bytes_scanned": bytes, "query_cost_usd": cost})
        };
        let accounts = vec![
            item(analysed(1_000_000_000, "0.004657")),
            item(analysed(5_000, "0.000477")),
            item(serde_json::json!({"error": {"Error": "QueryFailed", "Cause": "spend: SYNTAX_ERROR"}})),
            item(serde_json::Value::Null),
        ];
        assert_eq!(accounts[2].cur.as_ref().unwrap().error.as_ref().unwrap().error_type, "QueryFailed");
        let r = RunRecord::new("r", &TenantId::parse("t-aaaaaaaaaaaaaaaa").unwrap(), accounts, Utc::now());
        assert_eq!(r.athena_bytes_scanned, 1_000_005_000);
        assert_eq!(r.athena_cost_usd, Decimal::new(5134, 6));
        assert_eq!(r.cur_failed, 1);
        assert_eq!(r.findings_opened, 4, "the scan's own counts stay separate from the CUR's");
        // Records written before these fields existed still read.
        let mut old = serde_json::to_value(&r).unwrap();
        for k in ["cur_failed", "athena_bytes_scanned", "athena_cost_usd"] {
            old.as_object_mut().unwrap().remove(k);
        }
        assert_eq!(serde_json::from_value::<RunRecord>(old).unwrap().athena_bytes_scanned, 0);
    }

    #[test]
    fn notes_are_kept_and_old_records_read_without_them() {
        let v =
            serde_json::json!({"tenant_id": "t-aaaaaaaaaaaaaaaa", "account_id": "123456789012", "status": "complete"});
        let mut a: AccountRun = serde_json::from_value(v).unwrap();
        assert!(a.notes.is_empty());
        assert!(serde_json::to_value(&a).unwrap().get("notes").is_none(), "no empty list in the record");
        a.notes.push("Trusted Advisor: not read".into());
        let back: AccountRun = serde_json::from_value(serde_json::to_value(&a).unwrap()).unwrap();
        assert_eq!(back.notes, ["Trusted Advisor: not read"]);
    }

    #[test]
    fn access_denied_codes() {
        for c in ["AccessDenied", "AccessDeniedException", "UnauthorizedOperation"] {
            assert!(is_access_denied_code(c));
        }
        assert!(!is_access_denied_code("Throttling"));
    }
}
