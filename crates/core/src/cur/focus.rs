//! FOCUS (FinOps Open Cost and Usage Specification) version detection. costradar reads FOCUS
//! 1.0 and 1.1; a file of another version is refused with a message that says which version it
//! looks like and why, rather than analysed with columns that mean something else.

use super::queries::{required_columns, Schema};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum FocusVersion {
    #[serde(rename = "1.0")]
    V1_0,
    #[serde(rename = "1.1")]
    V1_1,
}

impl FocusVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1_0 => "1.0",
            Self::V1_1 => "1.1",
        }
    }
}

/// Columns FOCUS 1.1 added to 1.0.
const ADDED_IN_1_1: &[&str] = &[
    "CapacityReservationId",
    "CapacityReservationStatus",
    "CommitmentDiscountQuantity",
    "CommitmentDiscountUnit",
    "ServiceSubcategory",
    "SkuMeter",
    "SkuPriceDetails",
];

/// Columns FOCUS 1.2 added.
const ADDED_IN_1_2: &[&str] = &["BillingAccountType", "InvoiceId", "PricingCurrency", "SubAccountType"];

/// Columns FOCUS 1.0 renamed from the 0.5 preview (0.5 name, 1.0 name).
const RENAMED_IN_1_0: &[(&str, &str)] =
    &[("AmortizedCost", "EffectiveCost"), ("ChargeType", "ChargeCategory"), ("UsageQuantity", "ConsumedQuantity")];

/// The columns FOCUS 1.0 and 1.1 type as Decimal. A CSV is read by these types, not by
/// inference: every other column (strings, the ISO 8601 date/times, the JSON of `Tags` and
/// `SkuPriceDetails`, providers' `x_` columns) is text. FOCUS 1.1 added
/// `CommitmentDiscountQuantity`.
pub const DECIMAL_COLUMNS: &[&str] = &[
    "BilledCost",
    "CommitmentDiscountQuantity",
    "ConsumedQuantity",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "ListCost",
    "ListUnitPrice",
    "PricingQuantity",
];

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FocusError {
    #[error("this looks like a FOCUS {version} file (it has {evidence}); costradar reads FOCUS 1.0 and 1.1")]
    UnsupportedVersion { version: &'static str, evidence: String },
    #[error("not a FOCUS 1.0/1.1 file: missing columns {0}")]
    MissingColumns(String),
}

/// The version the columns say, or why they are not a version costradar reads.
pub fn detect_version<S: AsRef<str>>(columns: &[S]) -> Result<FocusVersion, FocusError> {
    let has = |c: &str| columns.iter().any(|x| x.as_ref() == c);
    let newer: Vec<&str> = ADDED_IN_1_2.iter().copied().filter(|c| has(c)).collect();
    if !newer.is_empty() {
        return Err(FocusError::UnsupportedVersion { version: "1.2 or later", evidence: newer.join(", ") });
    }
    let old: Vec<&str> =
        RENAMED_IN_1_0.iter().filter(|(old, new)| has(old) && !has(new)).map(|(old, _)| *old).collect();
    if !old.is_empty() {
        return Err(FocusError::UnsupportedVersion { version: "0.5 (pre-1.0)", evidence: old.join(", ") });
    }
    let missing: Vec<&str> = required_columns(Schema::Focus).iter().map(|(c, _)| *c).filter(|c| !has(c)).collect();
    if !missing.is_empty() {
        return Err(FocusError::MissingColumns(missing.join(", ")));
    }
    Ok(if ADDED_IN_1_1.iter().any(|c| has(c)) { FocusVersion::V1_1 } else { FocusVersion::V1_0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Vec<String> {
        required_columns(Schema::Focus).iter().map(|(c, _)| c.to_string()).collect()
    }

    #[test]
    fn versions() {
        assert_eq!(detect_version(&base()), Ok(FocusVersion::V1_0));
        let mut v11 = base();
        v11.push("SkuPriceDetails".into());
        assert_eq!(detect_version(&v11), Ok(FocusVersion::V1_1));
    }

    #[test]
    fn other_versions_are_refused_with_the_reason() {
        let mut v12 = base();
        v12.push("InvoiceId".into());
        let e = detect_version(&v12).unwrap_err();
        assert!(e.to_string().contains("FOCUS 1.2") && e.to_string().contains("InvoiceId"), "{e}");

        let mut v05: Vec<String> =
            base().into_iter().filter(|c| c != "EffectiveCost" && c != "ChargeCategory").collect();
        v05.push("AmortizedCost".into());
        v05.push("ChargeType".into());
        let e = detect_version(&v05).unwrap_err();
        assert!(e.to_string().contains("0.5") && e.to_string().contains("AmortizedCost"), "{e}");

        let e = detect_version(&["BilledCost".to_string()]).unwrap_err();
        assert!(matches!(e, FocusError::MissingColumns(ref m) if m.contains("ChargePeriodStart")), "{e}");
    }
}
