//! Translates a Step Functions task payload into a `CurTasks` call and its error into the
//! `Diagnostic` whose `error_type` the state machine's Retry and Catch match on.

use costradar_core::cur::tasks::{CurStore, CurTasks};
use lambda_runtime::{Diagnostic, LambdaEvent};

pub async fn handle<S: CurStore>(
    tasks: &CurTasks<S>,
    event: LambdaEvent<serde_json::Value>,
) -> Result<serde_json::Value, Diagnostic> {
    tasks.handle(&event.payload).await.map_err(|e| {
        tracing::warn!(error_type = e.error_type(), "cur-query task failed: {e}");
        Diagnostic { error_type: e.error_type().into(), error_message: e.to_string() }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use async_trait::async_trait;
    use costradar_core::cur::analysis::AnalysisOptions;
    use costradar_core::cur::tasks::AthenaConnector;
    use costradar_core::cur::QueryExecutions;
    use costradar_core::domain::{Account, SystemClock, Tenant};
    use costradar_core::store::MemoryStore;
    use costradar_core::workflow::TaskError;
    use lambda_runtime::{Context, LambdaEvent};
    use serde_json::json;

    use super::*;

    struct NoAthena;

    #[async_trait]
    impl AthenaConnector for NoAthena {
        async fn connect(&self, _: &Tenant, _: &Account) -> Result<Box<dyn QueryExecutions>, TaskError> {
            Err(TaskError::AccountRevoked("AssumeRole denied".into()))
        }
    }

    fn tasks() -> CurTasks<MemoryStore> {
        CurTasks {
            store: Arc::new(MemoryStore::default()),
            athena: Arc::new(NoAthena),
            clock: Arc::new(SystemClock),
            options: AnalysisOptions::default(),
            reports: None,
        }
    }

    async fn error_type(payload: serde_json::Value) -> String {
        handle(&tasks(), LambdaEvent::new(payload, Context::default())).await.unwrap_err().error_type
    }

    #[tokio::test]
    async fn malformed_payloads_are_invalid_input_and_unknown_accounts_not_found() {
        assert_eq!(error_type(json!("start")).await, "InvalidInput");
        assert_eq!(error_type(json!({})).await, "InvalidInput");
        assert_eq!(error_type(json!({"task": "launch"})).await, "InvalidInput");
        assert_eq!(error_type(json!({"task": 1})).await, "InvalidInput");
        // An internally tagged enum would read an array as its fields in order: refused.
        assert_eq!(error_type(json!(["start", "r1", "t-abcdefghijklmnop", "111122223333"])).await, "InvalidInput");
        let start =
            json!({"task": "start", "run_id": "r1", "tenant_id": "t-abcdefghijklmnop", "account_id": "111122223333"});
        let mut typo = start.clone();
        typo["acount_id"] = json!("x");
        assert_eq!(error_type(typo).await, "InvalidInput");
        let mut bad_run = start.clone();
        bad_run["run_id"] = json!("r 1; drop");
        assert_eq!(error_type(bad_run).await, "InvalidInput");
        let mut poll = start.clone();
        poll["task"] = json!("poll");
        poll["queries"] = json!({"waste": "q-1"});
        assert_eq!(error_type(poll).await, "InvalidInput");
        assert_eq!(error_type(start).await, "AccountNotFound");
    }
}
