//! CUR-query Lambda: Step Functions tasks for Athena queries over the customer's CUR.
//!
//! Not implemented yet: every invocation fails with the error type `NotImplemented`, so a
//! deployed stack says so plainly instead of pretending to work. See README "What works today".

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    lambda_runtime::run(service_fn(|_: LambdaEvent<serde_json::Value>| async {
        Err::<serde_json::Value, _>(Diagnostic {
            error_type: "NotImplemented".into(),
            error_message: "the cur-query function is not implemented yet".into(),
        })
    }))
    .await
}
