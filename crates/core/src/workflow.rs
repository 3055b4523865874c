//! Errors of the Step Functions tasks (the `scan` and `cur-query` Lambdas). Their names are the
//! `error_type` of the Lambda's `Diagnostic`, which the state machines' `Retry` and `Catch`
//! match on; the contract is `docs/workflows.md`, and a test checks the ASL against
//! [`ERROR_TYPES`]. And how a task payload is read: [`parse_task`] into the Lambda's
//! `#[serde(tag = "task")]` enum (`scan::tasks::ScanTask`, `cur::tasks::CurTask`).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    /// Throttling or an unavailable dependency; nothing was half-written. Retried.
    #[error("{0}")]
    Transient(String),
    /// The task payload is wrong. Not retried.
    #[error("{0}")]
    InvalidInput(String),
    /// AssumeRole was denied: the customer removed the role. The account is marked revoked.
    #[error("{0}")]
    AccountRevoked(String),
    /// The tenant or account no longer exists.
    #[error("{0}")]
    AccountNotFound(String),
    /// Athena reported FAILED or CANCELLED; the message is Athena's reason.
    #[error("{0}")]
    QueryFailed(String),
}

/// Every error type a task can end with.
pub const ERROR_TYPES: &[&str] = &["Transient", "InvalidInput", "AccountRevoked", "AccountNotFound", "QueryFailed"];

impl TaskError {
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Transient(_) => "Transient",
            Self::InvalidInput(_) => "InvalidInput",
            Self::AccountRevoked(_) => "AccountRevoked",
            Self::AccountNotFound(_) => "AccountNotFound",
            Self::QueryFailed(_) => "QueryFailed",
        }
    }
}

impl From<crate::store::StoreError> for TaskError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::NotFound => Self::AccountNotFound(e.to_string()),
            _ => Self::Transient(e.to_string()),
        }
    }
}

/// The longest field path and message of a parse error; longer ones (a hostile payload's huge
/// key or value, which serde echoes) keep their start and end.
pub(crate) const MAX_PATH_CHARS: usize = 100;
pub(crate) const MAX_ERROR_CHARS: usize = 600;

/// Parses a Step Functions task payload into its `#[serde(tag = "task")]` enum. The payload must
/// be a JSON object (serde would also take an array for an internally tagged enum). An error is
/// `InvalidInput` naming the field at fault, as [`crate::domain::parse_json`] does for the API.
pub(crate) fn parse_task<T: DeserializeOwned>(payload: &Value) -> Result<T, TaskError> {
    if !payload.is_object() {
        return Err(TaskError::InvalidInput("body: a JSON object".into()));
    }
    serde_path_to_error::deserialize(payload)
        .map_err(|e| TaskError::InvalidInput(located(&e.path().to_string(), &e.into_inner().to_string())))
}

/// Deserialises a variant's payload, its error naming the field at fault: an internally tagged
/// enum buffers the payload first and serde's errors then lose their path (`parse_task` alone
/// would only name the `task` field). For `#[serde(deserialize_with = "traced")]`.
pub(crate) fn traced<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    let mut track = serde_path_to_error::Track::new();
    T::deserialize(serde_path_to_error::Deserializer::new(d, &mut track))
        .map_err(|e| serde::de::Error::custom(located(&track.path().to_string(), &e.to_string())))
}

/// `field: message`; serde names a missing field in its message, which the path does not. No
/// path (`.`) leaves the message as it is, bar a bound that a [`traced`] error's message, already
/// located, never reaches.
fn located(path: &str, message: &str) -> String {
    let missing = message.strip_prefix("missing field `").and_then(|m| m.split('`').next());
    let field = match (missing, path) {
        (Some(f), "." | "?") => f.to_owned(),
        (Some(f), p) => format!("{p}.{f}"),
        (None, "." | "?") => return clip(message, 2 * (MAX_PATH_CHARS + MAX_ERROR_CHARS)),
        (None, p) => p.to_owned(),
    };
    format!("{}: {}", clip(&field, MAX_PATH_CHARS), clip(message, MAX_ERROR_CHARS))
}

fn clip(s: &str, max: usize) -> String {
    let chars = s.chars().count();
    if chars <= max {
        return s.to_owned();
    }
    let keep = max / 2;
    let head: String = s.chars().take(keep).collect();
    let tail: String = s.chars().skip(chars - keep).collect();
    format!("{head}[... {} characters cut ...]{tail}", chars - 2 * keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_is_listed() {
        let all = [
            TaskError::Transient(String::new()),
            TaskError::InvalidInput(String::new()),
            TaskError::AccountRevoked(String::new()),
            TaskError::AccountNotFound(String::new()),
            TaskError::QueryFailed(String::new()),
        ];
        let names: Vec<_> = all.iter().map(TaskError::error_type).collect();
        assert_eq!(names, ERROR_TYPES);
    }
}
