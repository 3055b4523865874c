//! Test harness shared by the integration and end-to-end tests: the moto endpoint that
//! `tools/with-moto.sh` started, SDK configuration that can only reach it, and fresh tables.

use std::sync::atomic::{AtomicUsize, Ordering};

use costradar::store::DynamoStore;

/// The moto server's URL. Tests that need it fail loudly without it: run them through
/// `make test`, or start `moto_server` and set `COSTRADAR_TEST_ENDPOINT` yourself.
pub fn endpoint() -> String {
    std::env::var("COSTRADAR_TEST_ENDPOINT").unwrap_or_else(|_| {
        panic!("COSTRADAR_TEST_ENDPOINT is not set: run the tests with `make test` (it starts moto_server on loopback)")
    })
}

/// SDK configuration pointed at moto with throwaway credentials.
pub async fn sdk_config() -> aws_config::SdkConfig {
    let creds = aws_sdk_dynamodb::config::Credentials::new(
        "testing",
        "testing",
        None,
        None,
        "costradar-tests",
    );
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
    let name = format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let store = DynamoStore::from_sdk(&sdk_config().await, name);
    store.create_table().await.expect("create table in moto");
    store
}

/// Repository root, for tests that read templates and fixtures.
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root")
        .to_path_buf()
}
