//! Test harness shared by the integration and end-to-end tests: the moto endpoint that
//! `tools/with-moto.sh` started, SDK configuration that can only reach it, and fresh tables.

pub mod scan_world;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use costradar_aws::DynamoStore;

/// The moto server's URL. Tests that need it fail loudly without it: run them through
/// `make test`, or start `moto_server` and set `COSTRADAR_TEST_ENDPOINT` yourself.
pub fn endpoint() -> String {
    std::env::var("COSTRADAR_TEST_ENDPOINT").unwrap_or_else(|_| {
        panic!("COSTRADAR_TEST_ENDPOINT is not set: run the tests with `make test` (it starts moto_server on loopback)")
    })
}

/// SDK configuration pointed at moto with throwaway credentials.
pub async fn sdk_config() -> aws_config::SdkConfig {
    let creds = aws_sdk_dynamodb::config::Credentials::new("testing", "testing", None, None, "costradar-tests");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(creds)
        .load()
        .await
}

/// A table of our schema with a name no other test uses.
pub async fn fresh_table(prefix: &str) -> DynamoStore {
    static N: AtomicUsize = AtomicUsize::new(0);
    let name = format!("{prefix}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
    let store = DynamoStore::from_sdk(&sdk_config().await, name);
    store.create_table().await.expect("create table in moto");
    store
}

/// Repository root, for tests that read templates and fixtures.
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repo root").to_path_buf()
}

/// A loopback HTTP server standing in for CloudFormation's presigned response URL: it records
/// each request and answers with `status` (and a `Location` header for 3xx, to prove we never
/// follow redirects).
pub struct CaptureServer {
    pub url: String,
    pub requests: std::sync::Arc<std::sync::Mutex<Vec<Captured>>>,
}

#[derive(Clone, Debug)]
pub struct Captured {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl CaptureServer {
    pub async fn start(status: u16) -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests: std::sync::Arc<std::sync::Mutex<Vec<Captured>>> = Default::default();
        let log = requests.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let log = log.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let header_end = loop {
                        let n = sock.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
                    let mut lines = head.split("\r\n");
                    let mut first = lines.next().unwrap_or_default().split(' ');
                    let (method, path) =
                        (first.next().unwrap_or_default().to_owned(), first.next().unwrap_or_default().to_owned());
                    let headers: Vec<(String, String)> = lines
                        .filter_map(|l| {
                            l.split_once(':').map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                        })
                        .collect();
                    let len: usize = headers
                        .iter()
                        .find(|(k, _)| k == "content-length")
                        .and_then(|(_, v)| v.parse().ok())
                        .unwrap_or(0);
                    while buf.len() < header_end + len {
                        let n = sock.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    let body = String::from_utf8_lossy(&buf[header_end..]).to_string();
                    log.lock().unwrap().push(Captured { method, path, headers, body });
                    let extra =
                        if (300..400).contains(&status) { "Location: http://127.0.0.1:9/elsewhere\r\n" } else { "" };
                    let resp = format!("HTTP/1.1 {status} X\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n");
                    let _ = sock.write_all(resp.as_bytes()).await;
                });
            }
        });
        Self { url, requests }
    }

    pub fn captured(&self) -> Vec<Captured> {
        self.requests.lock().unwrap().clone()
    }
}

/// Loads `events/<path>`.
pub fn event(path: &str) -> serde_json::Value {
    let text =
        std::fs::read_to_string(repo_root().join("events").join(path)).unwrap_or_else(|e| panic!("events/{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// The CloudFormation request inside an SNS-wrapped fixture, rewritten for a real tenant, and
/// re-serialised as the SNS message string.
pub fn custom_resource_message(fixture: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let sns = event(fixture);
    let mut msg: serde_json::Value =
        serde_json::from_str(sns["Records"][0]["Sns"]["Message"].as_str().unwrap()).unwrap();
    edit(&mut msg);
    msg.to_string()
}

/// Number of items in a table (a full scan; test tables are small).
pub async fn item_count(table: &str) -> usize {
    let client = aws_sdk_dynamodb::Client::new(&sdk_config().await);
    let mut n = 0;
    let mut pages =
        client.scan().table_name(table).select(aws_sdk_dynamodb::types::Select::Count).into_paginator().send();
    while let Some(p) = pages.next().await {
        n += p.expect("scan").count as usize;
    }
    n
}

/// Every item of a test table, in all pages.
pub async fn items(table: &str) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    let client = aws_sdk_dynamodb::Client::new(&sdk_config().await);
    let mut items = Vec::new();
    let mut pages = client.scan().table_name(table).into_paginator().items().send();
    while let Some(item) = pages.next().await {
        items.push(item.expect("scan"));
    }
    items
}

/// A fresh, empty folder under `base` (a test's `env!("CARGO_TARGET_TMPDIR")`) that no other
/// test or process uses.
pub fn scratch(base: &str, name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = Path::new(base).join(format!("{name}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}
