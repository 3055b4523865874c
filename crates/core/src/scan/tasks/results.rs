//! `finish_run`'s input: the distributed Map's ResultWriter output, read back from the runs
//! bucket. Every key comes from outside the function (the state, then the manifest), so each is
//! checked to be under this run's results prefix before it is read: a payload or manifest naming
//! another run's files, another bucket or a path of its own is refused, and nothing is written.

use serde_json::Value;

use super::runs::{self, ChildExecution, Manifest, ResultWriterDetails, RunObjects};
use super::{failed_run, invalid};
use crate::domain::scan_run::AccountRun;
use crate::domain::{AccountId, TenantId};
use crate::workflow::TaskError;

/// S3's own key limit.
const MAX_KEY_BYTES: usize = 1024;

/// Every account's result of the run: the SUCCEEDED children's outputs, and a failed entry for
/// each FAILED child (its `Error` and `Cause`) and each PENDING one (never run).
pub(super) async fn read_results(
    objects: &dyn RunObjects,
    run: &str,
    at: &ResultWriterDetails,
) -> Result<Vec<AccountRun>, TaskError> {
    if at.bucket != objects.bucket() {
        return Err(invalid(format!("results.Bucket: not this stack's runs bucket ({})", objects.bucket())));
    }
    let key = checked_key(run, &at.key, "results.Key")?;
    if !key.ends_with("/manifest.json") {
        return Err(invalid("results.Key: the ResultWriter's manifest.json"));
    }
    let manifest: Manifest = read_json(objects, key).await?;
    let files = &manifest.result_files;
    let mut out = Vec::new();
    for (list, status) in [(&files.succeeded, "SUCCEEDED"), (&files.failed, "FAILED"), (&files.pending, "PENDING")] {
        for f in list {
            let key = checked_key(run, &f.key, "manifest ResultFiles key")?;
            let children: Vec<ChildExecution> = read_json(objects, key).await?;
            out.extend(children.iter().filter_map(|c| child_result(c, status)));
        }
    }
    Ok(out)
}

fn checked_key<'a>(run: &str, key: &'a str, what: &str) -> Result<&'a str, TaskError> {
    let prefix = format!("{}/", runs::results_prefix(run));
    let clean = key.len() <= MAX_KEY_BYTES
        && key.starts_with(&prefix)
        && !key.split('/').any(|part| part.is_empty() || part == "." || part == "..");
    if clean {
        Ok(key)
    } else {
        Err(invalid(format!("{what}: a key under {prefix}")))
    }
}

async fn read_json<T: serde::de::DeserializeOwned>(objects: &dyn RunObjects, key: &str) -> Result<T, TaskError> {
    let body = objects
        .get(key)
        .await
        .map_err(|e| TaskError::Transient(e.to_string()))?
        .ok_or_else(|| invalid(format!("s3://{}/{key} does not exist", objects.bucket())))?;
    serde_json::from_slice(&body).map_err(|e| invalid(format!("{key}: not in the ResultWriter's shape: {e}")))
}

/// The account a child scanned: its input is the Map's ItemSelector output.
fn item_of(c: &ChildExecution) -> Option<(TenantId, AccountId)> {
    let input = runs::unwrap_json_text(&c.input).ok()?;
    let t = TenantId::parse(input.get("tenant_id")?.as_str()?).ok()?;
    let a = AccountId::parse(input.get("account_id")?.as_str()?).ok()?;
    Some((t, a))
}

fn child_result(c: &ChildExecution, status: &str) -> Option<AccountRun> {
    let Some((tenant, account)) = item_of(c) else {
        tracing::warn!(execution = %c.execution_arn, "a child execution without a tenant and account in its input: skipped");
        return None;
    };
    let output = || -> Result<AccountRun, String> {
        let v = runs::unwrap_json_text(c.output.as_ref().unwrap_or(&Value::Null))?;
        serde_json::from_value(v).map_err(|e| e.to_string())
    };
    Some(match status {
        "SUCCEEDED" => match output() {
            Ok(r) if r.tenant_id == tenant && r.account_id == account => r,
            Ok(_) => failed_run(&tenant, &account, "InvalidOutput", "the output names another account than the input"),
            Err(e) => failed_run(&tenant, &account, "InvalidOutput", &e),
        },
        "FAILED" => {
            let error = c.error.as_deref().filter(|e| !e.is_empty()).unwrap_or("States.ALL");
            failed_run(&tenant, &account, error, c.cause.as_deref().unwrap_or_default())
        }
        _ => failed_run(
            &tenant,
            &account,
            "NotRun",
            "the Map run ended before this account's scan started (failure tolerance exceeded or the execution stopped)",
        ),
    })
}
