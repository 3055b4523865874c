//! What a scan run keeps in the runs bucket (`ScanRunsBucket`, `docs/workflows.md`): the due
//! accounts as JSON Lines for the distributed Map's `ItemReader`, and the Map's `ResultWriter`
//! output (a `manifest.json` naming `SUCCEEDED_n.json` / `FAILED_n.json` / `PENDING_n.json`)
//! that `finish_run` reads back. Nothing large travels through the execution state.
//!
//! The ResultWriter's shapes are AWS's (Step Functions developer guide, "ResultWriter (Map)";
//! a published run's files in sigpwned.com, 2023-04-27): the Map's output is
//! `{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key": "<prefix>/<map run id>/manifest.json"}}`;
//! the manifest is `{"DestinationBucket", "MapRunArn", "ResultFiles": {"FAILED": [{"Key",
//! "Size"}], "PENDING": [...], "SUCCEEDED": [...]}}`; each result file is a JSON array of child
//! executions `{"ExecutionArn", "Input": "<json text>", "Output": "<json text>", "Status",
//! "Error", "Cause", ...}` (Transformation NONE, the default when exporting to S3).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::{AccountId, TenantId};

/// The runs bucket: one bucket, keys under `runs/<run_id>/`.
#[async_trait]
pub trait RunObjects: Send + Sync {
    /// The bucket's name: what the ItemReader and ResultWriter are given.
    fn bucket(&self) -> &str;
    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), ObjectError>;
    /// `None` when there is no such object.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ObjectError>;
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the runs bucket is unavailable: {0}")]
pub struct ObjectError(pub String);

/// The in-memory runs bucket: tests and local runs.
#[derive(Default)]
pub struct MemoryRunObjects {
    bucket: String,
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl MemoryRunObjects {
    pub fn new(bucket: impl Into<String>) -> Self {
        Self { bucket: bucket.into(), objects: Mutex::default() }
    }

    /// Every key, in order.
    pub fn keys(&self) -> Vec<String> {
        self.objects.lock().unwrap().keys().cloned().collect()
    }
}

#[async_trait]
impl RunObjects for MemoryRunObjects {
    fn bucket(&self) -> &str {
        &self.bucket
    }
    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), ObjectError> {
        self.objects.lock().unwrap().insert(key.to_owned(), body);
        Ok(())
    }
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ObjectError> {
        Ok(self.objects.lock().unwrap().get(key).cloned())
    }
}

/// One line of `accounts.jsonl`: one item of the Map.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DueAccount {
    pub tenant_id: TenantId,
    pub account_id: AccountId,
}

/// `runs/<run_id>/`: every object of a run is under it.
pub fn run_prefix(run_id: &str) -> String {
    format!("runs/{run_id}/")
}

pub fn accounts_key(run_id: &str) -> String {
    format!("{}accounts.jsonl", run_prefix(run_id))
}

/// Where the ResultWriter writes (it adds `/<map run id>/manifest.json` and the result files).
pub fn results_prefix(run_id: &str) -> String {
    format!("{}results", run_prefix(run_id))
}

/// Orders due accounts so that no tenant waits behind another: the first account of every
/// tenant, then the second of every tenant, and so on. `due` is soonest-due first; each
/// tenant keeps that order, and tenants take turns in the order of their soonest-due account.
pub fn round_robin(due: Vec<DueAccount>) -> Vec<DueAccount> {
    let mut order: Vec<TenantId> = Vec::new();
    let mut queues: BTreeMap<TenantId, VecDeque<DueAccount>> = BTreeMap::new();
    let total = due.len();
    for a in due {
        if !queues.contains_key(&a.tenant_id) {
            order.push(a.tenant_id.clone());
        }
        queues.entry(a.tenant_id.clone()).or_default().push_back(a);
    }
    let mut out = Vec::with_capacity(total);
    while out.len() < total {
        for t in &order {
            if let Some(a) = queues.get_mut(t).and_then(VecDeque::pop_front) {
                out.push(a);
            }
        }
    }
    out
}

pub fn to_jsonl(accounts: &[DueAccount]) -> Vec<u8> {
    let mut body = Vec::with_capacity(accounts.len() * 64);
    for a in accounts {
        serde_json::to_writer(&mut body, a).expect("a due account serialises");
        body.push(b'\n');
    }
    body
}

/// `ResultWriterDetails`: where the Map wrote its manifest. Only a JSON object with exactly
/// `Bucket` and `Key` parses (serde's derive would also take a two-element array).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResultWriterDetails {
    #[serde(rename = "Bucket")]
    pub bucket: String,
    #[serde(rename = "Key")]
    pub key: String,
}

impl<'de> Deserialize<'de> for ResultWriterDetails {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Details;
        impl<'de> serde::de::Visitor<'de> for Details {
            type Value = ResultWriterDetails;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object {\"Bucket\", \"Key\"}")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                use serde::de::Error;
                let (mut bucket, mut key) = (None, None);
                while let Some(name) = map.next_key::<String>()? {
                    let slot = match name.as_str() {
                        "Bucket" => &mut bucket,
                        "Key" => &mut key,
                        other => return Err(A::Error::unknown_field(other, &["Bucket", "Key"])),
                    };
                    if slot.is_some() {
                        return Err(A::Error::custom(format!("duplicate field `{name}`")));
                    }
                    *slot = Some(map.next_value::<String>()?);
                }
                Ok(ResultWriterDetails {
                    bucket: bucket.ok_or_else(|| A::Error::missing_field("Bucket"))?,
                    key: key.ok_or_else(|| A::Error::missing_field("Key"))?,
                })
            }
        }
        d.deserialize_map(Details)
    }
}

/// The ResultWriter's `manifest.json`. Fields AWS may add are ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Manifest {
    #[serde(default)]
    pub destination_bucket: String,
    #[serde(default)]
    pub map_run_arn: String,
    pub result_files: ResultFiles,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub struct ResultFiles {
    #[serde(default)]
    pub succeeded: Vec<ResultFile>,
    #[serde(default)]
    pub failed: Vec<ResultFile>,
    #[serde(default)]
    pub pending: Vec<ResultFile>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResultFile {
    pub key: String,
    #[serde(default)]
    pub size: u64,
}

/// One child execution in a result file. `Input` and `Output` are JSON text (an object is also
/// taken).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChildExecution {
    #[serde(default)]
    pub execution_arn: String,
    #[serde(default)]
    pub input: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    #[serde(default)]
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// A JSON value that Step Functions may have written as JSON text.
pub fn unwrap_json_text(v: &Value) -> Result<Value, String> {
    match v {
        Value::String(text) => serde_json::from_str(text).map_err(|e| e.to_string()),
        other => Ok(other.clone()),
    }
}

/// How a child execution ended, for [`write_result_files`].
#[cfg(any(test, feature = "test-support"))]
#[derive(Clone, Debug)]
pub enum ChildOutcome {
    Succeeded(Value),
    Failed { error: String, cause: String },
    Pending,
}

/// Plays the distributed Map's ResultWriter (Transformation NONE, the default): writes one
/// `<STATUS>_0.json` per status that has children and the `manifest.json` naming them, under
/// `<results prefix>/<map run id>/`, in AWS's shape (module documentation); returns the Map's
/// `ResultWriterDetails`. `children` are (the child's input, how it ended).
#[cfg(any(test, feature = "test-support"))]
pub async fn write_result_files(
    objects: &dyn RunObjects,
    run_id: &str,
    children: &[(Value, ChildOutcome)],
) -> Result<ResultWriterDetails, ObjectError> {
    let map_run = "6dbfba93-bcff-410b-9b5c-abf41ae9eddb";
    let map_run_arn = format!("arn:aws:states:us-east-1:111122223333:mapRun:costradar-scan/ScanAccounts:{map_run}");
    let dir = format!("{}/{map_run}", results_prefix(run_id));
    let mut files = ResultFiles::default();
    for status in ["SUCCEEDED", "FAILED", "PENDING"] {
        let entries: Vec<Value> = children
            .iter()
            .enumerate()
            .filter_map(|(i, (input, outcome))| {
                let arn = format!("arn:aws:states:us-east-1:111122223333:execution:costradar-scan/ScanAccounts:{i}");
                let base = serde_json::json!({"ExecutionArn": arn, "Input": input.to_string(),
                    "InputDetails": {"Included": true}, "Name": i.to_string(), "Status": status,
                    "StateMachineArn": "arn:aws:states:us-east-1:111122223333:stateMachine:costradar-scan/ScanAccounts",
                    "StartDate": "2026-12-06T10:00:00.000Z", "StopDate": "2026-12-06T10:00:09.000Z",
                    "RedriveCount": 0, "RedriveStatus": "NOT_REDRIVABLE"});
                let mut e = base;
                match (status, outcome) {
                    ("SUCCEEDED", ChildOutcome::Succeeded(out)) => {
                        e["Output"] = Value::String(out.to_string());
                        e["OutputDetails"] = serde_json::json!({"Included": true});
                    }
                    ("FAILED", ChildOutcome::Failed { error, cause }) => {
                        e["Error"] = Value::String(error.clone());
                        e["Cause"] = Value::String(cause.clone());
                    }
                    ("PENDING", ChildOutcome::Pending) => {}
                    _ => return None,
                }
                Some(e)
            })
            .collect();
        if entries.is_empty() {
            continue;
        }
        let key = format!("{dir}/{status}_0.json");
        let body = serde_json::to_vec(&entries).expect("result entries serialise");
        let file = ResultFile { key: key.clone(), size: body.len() as u64 };
        objects.put(&key, body).await?;
        match status {
            "SUCCEEDED" => files.succeeded.push(file),
            "FAILED" => files.failed.push(file),
            _ => files.pending.push(file),
        }
    }
    let manifest = Manifest { destination_bucket: objects.bucket().to_owned(), map_run_arn, result_files: files };
    let key = format!("{dir}/manifest.json");
    objects.put(&key, serde_json::to_vec(&manifest).expect("the manifest serialises")).await?;
    Ok(ResultWriterDetails { bucket: objects.bucket().to_owned(), key })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(t: &str, a: u64) -> DueAccount {
        DueAccount {
            tenant_id: TenantId::parse(t).unwrap(),
            account_id: AccountId::parse(&format!("{a:012}")).unwrap(),
        }
    }

    #[test]
    fn round_robin_interleaves_tenants_keeping_each_tenants_order() {
        let (big, small, other) = ("t-bbbbbbbbbbbbbbbb", "t-ssssssssssssssss", "t-oooooooooooooooo");
        let mut input: Vec<DueAccount> = (1..=5).map(|i| due(big, i)).collect();
        input.insert(3, due(small, 100));
        input.push(due(other, 200));
        input.push(due(small, 101));
        let out = round_robin(input.clone());
        let ids: Vec<u64> = out.iter().map(|a| a.account_id.as_str().parse().unwrap()).collect();
        assert_eq!(ids, [1, 100, 200, 2, 101, 3, 4, 5]);
        assert_eq!(out.len(), input.len());
        assert!(round_robin(vec![]).is_empty());
    }

    #[test]
    fn jsonl_is_one_object_per_line() {
        let text = String::from_utf8(to_jsonl(&[due("t-aaaaaaaaaaaaaaaa", 1), due("t-aaaaaaaaaaaaaaaa", 2)])).unwrap();
        assert_eq!(
            text,
            "{\"tenant_id\":\"t-aaaaaaaaaaaaaaaa\",\"account_id\":\"000000000001\"}\n{\"tenant_id\":\"t-aaaaaaaaaaaaaaaa\",\"account_id\":\"000000000002\"}\n"
        );
    }

    #[test]
    fn the_manifest_and_result_files_parse_in_aws_shape() {
        let m: Manifest = serde_json::from_str(
            r#"{"DestinationBucket": "b", "MapRunArn": "arn:aws:states:us-east-1:1:mapRun:m/ScanAccounts:x",
                "ResultFiles": {"FAILED": [], "PENDING": [], "SUCCEEDED": [{"Key": "runs/r/results/x/SUCCEEDED_0.json", "Size": 10}]}}"#,
        )
        .unwrap();
        assert_eq!(m.result_files.succeeded[0].key, "runs/r/results/x/SUCCEEDED_0.json");
        let c: Vec<ChildExecution> = serde_json::from_str(
            r#"[{"ExecutionArn": "e", "Input": "{\"run_id\":\"r\"}", "InputDetails": {"Included": true},
                "Output": "{\"a\":1}", "Status": "SUCCEEDED", "StartDate": "2026-01-01T00:00:00Z"}]"#,
        )
        .unwrap();
        assert_eq!(unwrap_json_text(&c[0].input).unwrap()["run_id"], "r");
        assert_eq!(unwrap_json_text(c[0].output.as_ref().unwrap()).unwrap()["a"], 1);
        assert!(unwrap_json_text(&Value::String("{not json".into())).is_err());
    }
}
