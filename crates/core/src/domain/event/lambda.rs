//! Classifies Lambda calls from CloudTrail: PutProvisionedConcurrencyConfig.

use serde_json_borrow::Value as Json;

use super::{count_at, string_at, Change, EventKind, InvalidInput};

/// Classifies the Lambda call `name` from its request. CloudTrail suffixes Lambda event names
/// with an API version, so the name is matched by its prefix.
pub(super) fn classify(name: &str, req: &Json<'_>) -> Result<(EventKind, Change), InvalidInput> {
    if !name.starts_with("PutProvisionedConcurrencyConfig") {
        return Ok((EventKind::Unknown, Change::Unknown));
    }
    Ok((
        EventKind::LambdaProvisionedConcurrency,
        Change::ProvisionedConcurrency {
            function: string_at(req, &["functionName"]),
            units: count_at(
                req,
                &["provisionedConcurrentExecutions"],
                "requestParameters.provisionedConcurrentExecutions",
            )?
            .unwrap_or(0) as u32,
        },
    ))
}
