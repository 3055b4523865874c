//! Plain types and pure logic: tenants, accounts and their lifecycle, identifiers. No AWS SDK
//! type appears here.

pub mod account;
pub mod event;
pub mod finding;
pub mod ids;
pub mod money;
pub mod scan_run;
pub mod settings;
pub mod tenant;
pub mod token;
pub mod triage;

pub use account::{Account, AccountStatus, CurSettings, Registration, Transition};
pub use ids::{
    AccountId, ExternalId, IngestToken, RoleArn, RoleArnError, TenantId, TokenHash, CUSTOMER_ROLE_NAME,
    ENRICHMENT_ROLE_NAME,
};
pub use tenant::{Tenant, TenantStatus};
pub use token::{TokenCredential, TokenView, Tokens};

use chrono::{DateTime, Utc};

/// A value from outside that we refuse, and which field it came in. `field` is what an HTTP 400
/// names, so it uses the API's field names.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidInput {
    pub field: String,
    pub message: String,
}

impl InvalidInput {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Parses a JSON body; an error names the field at fault (`body` when it is the whole
/// document), as every 400 from costradar does.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, InvalidInput> {
    // Valid input, the usual case, parses at full speed; only an error pays for a second pass
    // that tracks the path to name the field.
    if let Ok(v) = serde_json::from_slice(body) {
        return Ok(v);
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let msg = e.into_inner().to_string();
        // serde names a missing field in its message; an unknown one is already the path.
        let missing = msg.strip_prefix("missing field `").and_then(|m| m.split('`').next());
        let field = match (missing, path.as_str()) {
            (Some(f), "." | "?") => f.to_owned(),
            (Some(f), p) => format!("{p}.{f}"),
            (None, "." | "?") => "body".to_owned(),
            (None, p) => p.to_owned(),
        };
        InvalidInput::new(field, msg.split(" at line").next().unwrap_or(&msg).to_owned())
    })
}

/// Checks a free-text field: length in characters, no control characters.
pub fn check_text(field: &str, value: &str, max_chars: usize) -> Result<(), InvalidInput> {
    if value.trim().is_empty() {
        return Err(InvalidInput::new(field, "must not be empty"));
    }
    if value.chars().count() > max_chars {
        return Err(InvalidInput::new(field, format!("at most {max_chars} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(InvalidInput::new(field, "must not contain control characters"));
    }
    Ok(())
}

/// Where "now" comes from, so lifecycle and expiry logic can be tested at fixed times.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A commercial-partition region name such as `eu-west-1`. GovCloud and China are refused.
pub fn parse_region(field: &str, s: &str) -> Result<String, InvalidInput> {
    let parts: Vec<&str> = s.split('-').collect();
    let shape_ok = s.len() <= 25
        && parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().take(parts.len() - 1).all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts.last().is_some_and(|p| !p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit()));
    if !shape_ok {
        return Err(InvalidInput::new(field, format!("{s:?} is not an AWS region name such as eu-west-1")));
    }
    if s.starts_with("us-gov-") || s.starts_with("cn-") || s.starts_with("us-iso") {
        return Err(InvalidInput::new(
            field,
            format!("{s} is outside the commercial partition, which is the only one costradar supports"),
        ));
    }
    Ok(s.to_owned())
}

/// A list of regions: at most 40, no duplicates, each valid.
pub fn parse_regions(field: &str, regions: &[String]) -> Result<Vec<String>, InvalidInput> {
    if regions.len() > 40 {
        return Err(InvalidInput::new(field, "at most 40 regions"));
    }
    let mut out: Vec<String> = Vec::with_capacity(regions.len());
    for r in regions {
        let r = parse_region(field, r.trim())?;
        if !out.contains(&r) {
            out.push(r);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        for ok in ["us-east-1", "eu-west-3", "ap-southeast-4", "il-central-1", "ca-west-1"] {
            assert_eq!(parse_region("r", ok).unwrap(), ok);
        }
        for bad in [
            "",
            "us-east",
            "US-EAST-1",
            "us-east-1a",
            "us_east_1",
            "us-gov-west-1",
            "cn-north-1",
            "us-east-1; rm -rf",
            "x",
        ] {
            assert!(parse_region("r", bad).is_err(), "{bad}");
        }
        let dup = parse_regions("regions", &["us-east-1".into(), "us-east-1".into()]).unwrap();
        assert_eq!(dup, vec!["us-east-1"]);
    }

    #[test]
    fn text_fields() {
        assert!(check_text("name", "Acme Corp — prod", 128).is_ok());
        assert!(check_text("name", "", 128).is_err());
        assert!(check_text("name", "   ", 128).is_err());
        assert!(check_text("name", "a\u{0}b", 128).is_err());
        assert!(check_text("name", &"é".repeat(129), 128).is_err());
        assert!(check_text("name", &"é".repeat(128), 128).is_ok());
    }
}
