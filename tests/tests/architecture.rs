//! The workspace's shape, as tests: the core links no AWS SDK, Lambda runtime, query engine or
//! HTTP client (its whole dependency tree, not only its manifest), and no Lambda links the
//! embedded query engine.

use std::process::Command;

/// The crates `package` links in normal (not dev, not build) use, by name.
fn normal_dependencies(package: &str) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(costradar_tests::repo_root())
        .args(["tree", "--locked", "--offline", "-e", "normal", "--prefix", "none", "--format", "{p}", "-p", package])
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree -p {package}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[test]
fn the_core_links_no_sdk_runtime_engine_or_http_client() {
    let deps = normal_dependencies("costradar-core");
    assert!(deps.len() > 10, "{deps:?}");
    let forbidden: Vec<&String> = deps
        .iter()
        .filter(|d| {
            ["aws-sdk-", "aws-smithy-", "lambda_", "datafusion", "arrow", "parquet"].iter().any(|p| d.starts_with(p))
                || ["aws-config", "reqwest", "hyper"].contains(&d.as_str())
                || d.starts_with("costradar-") && *d != "costradar-core"
        })
        .collect();
    assert!(forbidden.is_empty(), "costradar-core links {forbidden:?}");
}

#[test]
fn no_lambda_links_the_embedded_query_engine() {
    for lambda in ["costradar-onboarding", "costradar-receiver", "costradar-scan", "costradar-cur-query"] {
        let deps = normal_dependencies(lambda);
        assert!(deps.iter().any(|d| d == "costradar-aws"), "{lambda}");
        let engine: Vec<&String> =
            deps.iter().filter(|d| ["datafusion", "costradar-cur-local"].contains(&d.as_str())).collect();
        assert!(engine.is_empty(), "{lambda} links {engine:?}");
    }
}
