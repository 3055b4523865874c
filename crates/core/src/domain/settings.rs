//! Per-tenant scan thresholds, with documented defaults. A JSON object overrides any subset
//! (`costradar scan --settings FILE`, the tenant's stored settings); unknown keys and
//! out-of-range values are refused with the field's name, so a typo never silently keeps a
//! default.
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `unattached_volume_days` | 7 | an EBS volume unattached this long is flagged |
//! | `stopped_instance_days` | 30 | an EC2 instance stopped longer than this is flagged (and its volumes) |
//! | `snapshot_age_days` | 90 | an orphaned snapshot older than this is flagged |
//! | `idle_window_days` | 14 | utilisation window for idle EC2, NAT gateways and RDS |
//! | `idle_min_age_days` | 14 | a resource younger than this is never called idle (its window is not covered) |
//! | `idle_cpu_p95_percent` | 5 | an instance whose CPU p95 over the window is below this is idle |
//! | `nat_idle_max_bytes` | 104857600 (100 MiB) | a NAT gateway that processed at most this over the window is idle |
//! | `elb_no_targets_days` | 7 | a load balancer without a healthy target this long is flagged |
//! | `io_to_gp3_max_iops` | 16000 | io1/io2 volumes with at most this many IOPS are compared with gp3 |
//! | `logs_min_stored_bytes` | 1073741824 (1 GiB) | never-expiring log groups smaller than this are ignored |
//! | `logs_retention_days` | 30 | the retention the fix command sets |
//! | `scan_interval_hours` | 24 | time between two scheduled scans of an account |
//! | `max_concurrent_regions` | 4 | regions of one account scanned at once |
//! | `cost_optimization_hub` | true | read AWS Cost Optimization Hub's recommendations too |
//! | `dynamodb_ia_storage_share_percent` | 50 | a Standard table is compared with Standard-IA when its storage costs at least this share of its throughput (AWS's guidance: 50 %) |
//! | `dynamodb_ia_min_saving_usd` | 5 | a Standard-IA switch saving less than this a month (storage alone when the book lacks Standard-IA throughput rates) is not flagged |
//! | `compute_optimizer` | true | read AWS Compute Optimizer's recommendations too (when the account is enrolled) |
//! | `trusted_advisor` | true | read Trusted Advisor's cost checks too (Business or Enterprise Support) |
//! | `redshift_pause_idle_percent` | 40 | a Redshift cluster with no connection in at least this share of its hours (in stretches of 4 h or more) is worth pausing on a schedule |
//! | `s3_incomplete_upload_days` | 7 | an incomplete multipart upload older than this, that no lifecycle rule aborts, is flagged; the days the fix's rule waits |
//! | `s3_noncurrent_days` | 30 | the days the fix's lifecycle rule keeps noncurrent versions of a versioned bucket |
//! | `s3_versioned_min_gib` | 1 | a versioned bucket known (CloudWatch) to hold less than this is not flagged for keeping noncurrent versions |
//! | `s3_large_bucket_gib` | 1024 | an S3 bucket with at least this much in S3 Standard and no lifecycle transition is flagged |
//! | `cold_data_share_percent` | 80 | the share of stored bytes assumed not read for 30 days, in the S3 and EFS tiering estimates (AWS's EFS pricing page: on average 80 % of files are infrequently accessed) |
//! | `efs_min_standard_gib` | 10 | an EFS file system with less than this in its Standard class is not flagged for a missing IA lifecycle |
//! | `ecr_untagged_days` | 14 | untagged images pushed more than this long ago count as waste; the days the fix's lifecycle policy waits |
//! | `alarm_insufficient_data_days` | 14 | a CloudWatch alarm in `INSUFFICIENT_DATA` this long (its state and configuration unchanged) is flagged |

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::InvalidInput;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScanSettings {
    pub unattached_volume_days: u32,
    pub stopped_instance_days: u32,
    pub snapshot_age_days: u32,
    pub idle_window_days: u32,
    pub idle_min_age_days: u32,
    pub idle_cpu_p95_percent: Decimal,
    pub nat_idle_max_bytes: u64,
    pub elb_no_targets_days: u32,
    pub io_to_gp3_max_iops: u32,
    pub logs_min_stored_bytes: u64,
    pub logs_retention_days: u32,
    pub scan_interval_hours: u32,
    pub max_concurrent_regions: u32,
    pub cost_optimization_hub: bool,
    pub dynamodb_ia_storage_share_percent: u32,
    pub dynamodb_ia_min_saving_usd: Decimal,
    pub compute_optimizer: bool,
    pub trusted_advisor: bool,
    pub redshift_pause_idle_percent: u32,
    pub s3_incomplete_upload_days: u32,
    pub s3_noncurrent_days: u32,
    pub s3_versioned_min_gib: u64,
    pub s3_large_bucket_gib: u64,
    pub cold_data_share_percent: u32,
    pub efs_min_standard_gib: u64,
    pub ecr_untagged_days: u32,
    pub alarm_insufficient_data_days: u32,
}

impl Default for ScanSettings {
    fn default() -> Self {
        Self {
            unattached_volume_days: 7,
            stopped_instance_days: 30,
            snapshot_age_days: 90,
            idle_window_days: 14,
            idle_min_age_days: 14,
            idle_cpu_p95_percent: Decimal::from(5),
            nat_idle_max_bytes: 100 * 1024 * 1024,
            elb_no_targets_days: 7,
            io_to_gp3_max_iops: 16_000,
            logs_min_stored_bytes: 1024 * 1024 * 1024,
            logs_retention_days: 30,
            scan_interval_hours: 24,
            max_concurrent_regions: 4,
            cost_optimization_hub: true,
            dynamodb_ia_storage_share_percent: 50,
            dynamodb_ia_min_saving_usd: Decimal::from(5),
            compute_optimizer: true,
            trusted_advisor: true,
            redshift_pause_idle_percent: 40,
            s3_incomplete_upload_days: 7,
            s3_noncurrent_days: 30,
            s3_versioned_min_gib: 1,
            s3_large_bucket_gib: 1024,
            cold_data_share_percent: 80,
            efs_min_standard_gib: 10,
            ecr_untagged_days: 14,
            alarm_insufficient_data_days: 14,
        }
    }
}

/// The retention periods CloudWatch Logs accepts.
pub const LOG_RETENTION_DAYS: &[u32] =
    &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/// At most this many bytes of settings JSON.
pub const MAX_SETTINGS_BYTES: usize = 16 * 1024;

impl ScanSettings {
    /// Defaults overridden by a JSON object.
    pub fn from_json(json: &[u8]) -> Result<Self, InvalidInput> {
        if json.len() > MAX_SETTINGS_BYTES {
            return Err(InvalidInput::new("settings", format!("at most {MAX_SETTINGS_BYTES} bytes")));
        }
        // serde would also read a struct from an array: only an object is a settings file.
        if !json.trim_ascii_start().starts_with(b"{") {
            return Err(InvalidInput::new("body", "settings are a JSON object"));
        }
        let s: ScanSettings = crate::domain::parse_json(json)?;
        s.validate()?;
        Ok(s)
    }

    pub fn validate(&self) -> Result<(), InvalidInput> {
        let days = |field: &str, v: u32| {
            if v > 3650 {
                Err(InvalidInput::new(field, "between 0 and 3650 days"))
            } else {
                Ok(())
            }
        };
        days("unattached_volume_days", self.unattached_volume_days)?;
        days("stopped_instance_days", self.stopped_instance_days)?;
        days("snapshot_age_days", self.snapshot_age_days)?;
        days("elb_no_targets_days", self.elb_no_targets_days)?;
        days("idle_min_age_days", self.idle_min_age_days)?;
        days("alarm_insufficient_data_days", self.alarm_insufficient_data_days)?;
        // CloudWatch keeps 1-minute data 15 days and 5-minute data 63 days: the p95 of a longer
        // window would be computed from coarser data than the rule assumes.
        if !(1..=63).contains(&self.idle_window_days) {
            return Err(InvalidInput::new("idle_window_days", "between 1 and 63 days"));
        }
        if self.idle_cpu_p95_percent < Decimal::ZERO || self.idle_cpu_p95_percent > Decimal::from(100) {
            return Err(InvalidInput::new("idle_cpu_p95_percent", "between 0 and 100"));
        }
        if !(3000..=256_000).contains(&self.io_to_gp3_max_iops) {
            return Err(InvalidInput::new("io_to_gp3_max_iops", "between 3000 and 256000"));
        }
        if !LOG_RETENTION_DAYS.contains(&self.logs_retention_days) {
            return Err(InvalidInput::new(
                "logs_retention_days",
                format!("one of the retention periods CloudWatch Logs accepts: {LOG_RETENTION_DAYS:?}"),
            ));
        }
        if !(1..=24 * 30).contains(&self.scan_interval_hours) {
            return Err(InvalidInput::new("scan_interval_hours", "between 1 and 720"));
        }
        if !(1..=32).contains(&self.max_concurrent_regions) {
            return Err(InvalidInput::new("max_concurrent_regions", "between 1 and 32"));
        }
        let usd = self.dynamodb_ia_min_saving_usd;
        if usd < Decimal::ZERO || usd > Decimal::from(100_000) {
            return Err(InvalidInput::new("dynamodb_ia_min_saving_usd", "between 0 and 100000 (USD a month)"));
        }
        if !(1..=1000).contains(&self.dynamodb_ia_storage_share_percent) {
            return Err(InvalidInput::new("dynamodb_ia_storage_share_percent", "between 1 and 1000"));
        }
        if !(1..=100).contains(&self.redshift_pause_idle_percent) {
            return Err(InvalidInput::new("redshift_pause_idle_percent", "between 1 and 100"));
        }
        self.validate_storage()?;
        Ok(())
    }

    pub fn idle_window(&self) -> chrono::Duration {
        chrono::Duration::days(self.idle_window_days.into())
    }

    /// The storage families' settings: days a lifecycle rule or policy accepts (1 or more).
    fn validate_storage(&self) -> Result<(), InvalidInput> {
        for (field, v) in [
            ("s3_incomplete_upload_days", self.s3_incomplete_upload_days),
            ("s3_noncurrent_days", self.s3_noncurrent_days),
            ("ecr_untagged_days", self.ecr_untagged_days),
        ] {
            if !(1..=3650).contains(&v) {
                return Err(InvalidInput::new(field, "between 1 and 3650 days"));
            }
        }
        if self.cold_data_share_percent > 100 {
            return Err(InvalidInput::new("cold_data_share_percent", "between 0 and 100"));
        }
        Ok(())
    }
}

/// The retentions a tenant can choose for its CUR reports (`report_retention_days` on the
/// tenant; `PATCH /tenants/{id}`): the reports bucket has one lifecycle rule per value, each
/// filtering on the object tag [`crate::report::store::RETENTION_TAG`] (infra/template.yaml).
pub const REPORT_RETENTION_DAYS: &[u32] = &[7, 30, 90, 365];

/// How long a tenant's CUR reports are kept: one of [`REPORT_RETENTION_DAYS`], 7 by default (as
/// the FinOps Pack seed keeps its reports).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct ReportRetention(u32);

impl ReportRetention {
    pub fn parse(days: u32) -> Result<Self, InvalidInput> {
        if REPORT_RETENTION_DAYS.contains(&days) {
            Ok(Self(days))
        } else {
            Err(InvalidInput::new("report_retention_days", format!("one of {REPORT_RETENTION_DAYS:?} (days)")))
        }
    }

    pub fn days(self) -> u32 {
        self.0
    }
}

impl Default for ReportRetention {
    fn default() -> Self {
        Self(7)
    }
}

impl TryFrom<u32> for ReportRetention {
    type Error = String;

    fn try_from(days: u32) -> Result<Self, String> {
        Self::parse(days).map_err(|e| e.message)
    }
}

impl From<ReportRetention> for u32 {
    fn from(r: ReportRetention) -> u32 {
        r.0
    }
}

/// How often a tenant gets its digest (`crate::digest`): `digest` on the tenant and in
/// `PATCH /tenants/{id}`. Off by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DigestFrequency {
    #[default]
    Off,
    Daily,
    Weekly,
}

/// The weekly digest's day (UTC), `digest_weekday`: Monday by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DigestWeekday {
    #[default]
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl DigestWeekday {
    pub const ALL: [Self; 7] =
        [Self::Monday, Self::Tuesday, Self::Wednesday, Self::Thursday, Self::Friday, Self::Saturday, Self::Sunday];

    pub fn as_str(self) -> &'static str {
        ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"][self as usize]
    }

    pub fn chrono(self) -> chrono::Weekday {
        use chrono::Weekday::*;
        [Mon, Tue, Wed, Thu, Fri, Sat, Sun][self as usize]
    }
}

/// A tenant's digest settings (serde defaults: off, Monday).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestSettings {
    #[serde(default)]
    pub frequency: DigestFrequency,
    /// Only meaningful for a weekly digest.
    #[serde(default)]
    pub weekday: DigestWeekday,
}

impl DigestSettings {
    /// `current` changed by the API's `digest` and `digest_weekday` fields (`None`: left
    /// alone, `Some(None)`: reset to the default). A weekday is refused unless the digest ends
    /// up weekly; switching away from weekly resets it.
    pub fn changed(
        current: Self,
        frequency: Option<Option<&str>>,
        weekday: Option<Option<&str>>,
    ) -> Result<Self, InvalidInput> {
        let mut s = current;
        if let Some(f) = frequency {
            s.frequency = match f {
                None | Some("off") => DigestFrequency::Off,
                Some("daily") => DigestFrequency::Daily,
                Some("weekly") => DigestFrequency::Weekly,
                Some(_) => return Err(InvalidInput::new("digest", "off, daily or weekly")),
            };
        }
        if let Some(w) = weekday {
            let day = match w {
                None => DigestWeekday::default(),
                Some(w) => *DigestWeekday::ALL
                    .iter()
                    .find(|d| d.as_str() == w)
                    .ok_or_else(|| InvalidInput::new("digest_weekday", "monday, tuesday, ..., sunday (lower case)"))?,
            };
            if s.frequency != DigestFrequency::Weekly && w.is_some() {
                return Err(InvalidInput::new("digest_weekday", "only with a weekly digest (\"digest\": \"weekly\")"));
            }
            s.weekday = day;
        }
        if s.frequency != DigestFrequency::Weekly {
            s.weekday = DigestWeekday::default();
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_retention_is_one_of_the_lifecycle_rules_values_and_a_tenant_without_one_keeps_7_days() {
        assert_eq!(ReportRetention::default().days(), 7);
        for d in REPORT_RETENTION_DAYS {
            assert_eq!(ReportRetention::parse(*d).unwrap().days(), *d);
            assert_eq!(serde_json::from_str::<ReportRetention>(&d.to_string()).unwrap().days(), *d);
        }
        for d in [0, 1, 6, 8, 14, 31, 180, 366, u32::MAX] {
            assert_eq!(ReportRetention::parse(d).unwrap_err().field, "report_retention_days", "{d}");
            assert!(serde_json::from_str::<ReportRetention>(&d.to_string()).is_err(), "{d}");
        }
        for bad in ["\"30\"", "-7", "30.0", "null", "[30]"] {
            assert!(serde_json::from_str::<ReportRetention>(bad).is_err(), "{bad}");
        }
        // A tenant stored before the setting existed reads with the default.
        let mut t = serde_json::to_value(crate::domain::Tenant::new(
            crate::domain::TenantId::generate(),
            "Acme".into(),
            crate::domain::ExternalId::generate(),
            chrono::Utc::now(),
        ))
        .unwrap();
        assert_eq!(t["report_retention_days"], 7);
        t.as_object_mut().unwrap().remove("report_retention_days");
        let t: crate::domain::Tenant = serde_json::from_value(t).unwrap();
        assert_eq!(t.report_retention_days, ReportRetention::default());
    }

    #[test]
    fn defaults_are_valid_and_a_subset_overrides() {
        ScanSettings::default().validate().unwrap();
        let s = ScanSettings::from_json(br#"{"unattached_volume_days": 0, "idle_cpu_p95_percent": 2.5}"#).unwrap();
        assert_eq!(s.unattached_volume_days, 0);
        assert_eq!(s.idle_cpu_p95_percent, "2.5".parse().unwrap());
        assert_eq!(s.snapshot_age_days, 90, "the rest keeps its default");
        assert_eq!(ScanSettings::from_json(b"{}").unwrap(), ScanSettings::default());
    }

    #[test]
    fn bad_settings_name_the_field() {
        for (json, field) in [
            (r#"{"unattached_volume_dayz": 1}"#, "unattached_volume_dayz"),
            (r#"{"unattached_volume_days": -1}"#, "unattached_volume_days"),
            (r#"{"unattached_volume_days": "7"}"#, "unattached_volume_days"),
            (r#"{"snapshot_age_days": 100000}"#, "snapshot_age_days"),
            (r#"{"idle_window_days": 0}"#, "idle_window_days"),
            (r#"{"idle_window_days": 90}"#, "idle_window_days"),
            (r#"{"idle_cpu_p95_percent": 101}"#, "idle_cpu_p95_percent"),
            (r#"{"logs_retention_days": 31}"#, "logs_retention_days"),
            (r#"{"max_concurrent_regions": 0}"#, "max_concurrent_regions"),
            (r#"{"io_to_gp3_max_iops": 10}"#, "io_to_gp3_max_iops"),
            (r#"{"dynamodb_ia_storage_share_percent": 0}"#, "dynamodb_ia_storage_share_percent"),
            (r#"{"dynamodb_ia_min_saving_usd": 1000000}"#, "dynamodb_ia_min_saving_usd"),
            (r#"{"redshift_pause_idle_percent": 0}"#, "redshift_pause_idle_percent"),
            (r#"{"alarm_insufficient_data_days": 4000}"#, "alarm_insufficient_data_days"),
            (r#"{"s3_incomplete_upload_days": 0}"#, "s3_incomplete_upload_days"),
            (r#"{"ecr_untagged_days": 4000}"#, "ecr_untagged_days"),
            (r#"{"cold_data_share_percent": 101}"#, "cold_data_share_percent"),
            (r#"[]"#, "body"),
            (r#"{"#, "body"),
            (r#"null"#, "body"),
        ] {
            let err = ScanSettings::from_json(json.as_bytes()).unwrap_err();
            assert_eq!(err.field, field, "{json}: {err}");
        }
        let huge = format!(r#"{{"x": "{}"}}"#, "a".repeat(MAX_SETTINGS_BYTES));
        assert_eq!(ScanSettings::from_json(huge.as_bytes()).unwrap_err().field, "settings");
    }
}
