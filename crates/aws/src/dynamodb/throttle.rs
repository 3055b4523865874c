//! Waiting out DynamoDB's throttling inside the caller's time budget (issue #20).
//!
//! A throttled write (`ProvisionedThroughputExceededException`, `ThrottlingException`,
//! `RequestLimitExceeded`, or a transaction cancelled with `ThrottlingError`) is retried with
//! exponential back-off and full jitter for as long as the [`WriteBudget`] allows; only then
//! does the error reach the caller (the receiver answers 503 with `Retry-After`, and
//! EventBridge retries). Nothing is half-written: every retried call is one atomic write (a
//! conditional put, one transaction, a batch whose unprocessed items are retried by
//! `batch_write`). Without a budget (scans, the API) a throttle is returned at once, after the
//! SDK's own retries.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

/// First back-off ceiling; each attempt doubles it up to [`MAX_BACKOFF`].
const BASE_BACKOFF: Duration = Duration::from_millis(25);
const MAX_BACKOFF: Duration = Duration::from_millis(800);

/// Until when the current request may keep waiting out throttling. One Lambda execution
/// environment handles one request at a time, so the handler sets it per request on the
/// store's shared handle.
#[derive(Clone, Debug, Default)]
pub struct WriteBudget(Arc<Mutex<Option<Instant>>>);

impl WriteBudget {
    /// Retries may go on until `deadline`.
    pub fn until(&self, deadline: Instant) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(deadline);
    }

    /// No more waiting (between requests).
    pub fn clear(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn deadline(&self) -> Option<Instant> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whether DynamoDB refused the call for capacity (never a conditional failure or a
/// validation error, which no wait changes).
pub(crate) fn is_throttle<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    match e.code() {
        Some("ProvisionedThroughputExceededException" | "ThrottlingException" | "RequestLimitExceeded") => true,
        // A transaction reports throttling as a cancellation reason.
        Some("TransactionCanceledException") => e.message().is_some_and(|m| m.contains("ThrottlingError")),
        _ => false,
    }
}

/// The pause before retry `attempt` (1-based): uniform in [0, min(MAX, BASE × 2^(attempt-1))].
fn backoff(attempt: u32) -> Duration {
    let ceiling = BASE_BACKOFF.saturating_mul(1 << attempt.saturating_sub(1).min(10)).min(MAX_BACKOFF);
    let mut r = [0u8; 4];
    let unit = match getrandom::fill(&mut r) {
        Ok(()) => f64::from(u32::from_le_bytes(r)) / f64::from(u32::MAX),
        Err(_) => 1.0,
    };
    ceiling.mul_f64(unit)
}

/// Runs `call` and retries it while it is throttled and the budget leaves time for the pause.
pub(crate) async fn retry_throttled<T, E, R, F, Fut>(budget: &WriteBudget, mut call: F) -> Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, SdkError<E, R>>>,
{
    let mut attempt = 0;
    loop {
        let err = match call().await {
            Ok(v) => return Ok(v),
            Err(e) if is_throttle(&e) => e,
            Err(e) => return Err(e),
        };
        attempt += 1;
        let pause = backoff(attempt);
        let fits = budget.deadline().is_some_and(|d| Instant::now() + pause < d);
        if !fits {
            tracing::warn!(attempts = attempt, "DynamoDB still throttles at the end of the time budget");
            return Err(err);
        }
        tracing::info!(attempt, pause_ms = pause.as_millis() as u64, "DynamoDB throttled; retrying");
        tokio::time::sleep(pause).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_under_its_ceiling() {
        for attempt in 1..40 {
            let b = backoff(attempt);
            let ceiling = BASE_BACKOFF.saturating_mul(1 << (attempt - 1).min(10)).min(MAX_BACKOFF);
            assert!(b <= ceiling, "{attempt}: {b:?}");
        }
    }
}
