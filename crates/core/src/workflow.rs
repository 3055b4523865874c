//! Errors of the Step Functions tasks (the `scan` and `cur-query` Lambdas). Their names are the
//! `error_type` of the Lambda's `Diagnostic`, which the state machines' `Retry` and `Catch`
//! match on; the contract is `docs/workflows.md`, and a test checks the ASL against
//! [`ERROR_TYPES`].

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
