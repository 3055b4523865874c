//! The `costradar` binary against a table in moto: the operator's path end to end, and bad
//! arguments refused with exit code 2 and no change to the table.

use std::process::{Command, Output};

use serde_json::Value;

const ROLE: &str = "arn:aws:iam::123456789012:role/CostradarReadOnly";

fn costradar(table: &str, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_costradar"));
    cmd.args(args)
        .env("TABLE_NAME", table)
        .env("AWS_ENDPOINT_URL", costradar_tests::endpoint())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("COSTRADAR_ACCOUNT_ID", "111122223333")
        .env("COSTRADAR_TOPIC_ARN", "arn:aws:sns:us-east-1:111122223333:costradar-cr")
        .env("COSTRADAR_TEMPLATE_URL", "https://costradar-artifacts.s3.amazonaws.com/costradar-role.yaml")
        .env("COSTRADAR_LOCAL_EMULATOR", "1");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.output().expect("run costradar")
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// (case, arguments, extra environment, expected in stderr).
type BadCase<'a> = (&'a str, Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);

#[tokio::test]
async fn operator_flow_and_bad_arguments() {
    let table = format!("cli-{}", std::process::id());
    json(&costradar(&table, &["table", "create"], &[]));
    let created = json(&costradar(&table, &["tenants", "create", "--name", "Acme Corp"], &[]));
    let tenant = created["tenant"]["id"].as_str().unwrap().to_owned();
    assert!(created.get("ingest_token").is_none(), "tokens belong to accounts");
    assert!(created["quick_create_url"].as_str().unwrap().contains(&format!("param_TenantId={tenant}")));
    let account = json(&costradar(
        &table,
        &["accounts", "add", "--tenant", &tenant, "--role-arn", ROLE, "--regions", "us-east-1,eu-west-1"],
        &[],
    ));
    assert_eq!(account["status"], "active", "{account}");
    assert_eq!(account["regions"], serde_json::json!(["us-east-1", "eu-west-1"]));
    assert!(account["ingest_token"].as_str().unwrap().starts_with("crt_"), "{account}");
    let listed = json(&costradar(&table, &["accounts", "list", "--tenant", &tenant], &[]));
    assert_eq!(listed["accounts"].as_array().unwrap().len(), 1);
    assert!(listed["accounts"][0].get("ingest_token").is_none(), "the token is shown once, at connection");
    assert!(listed["accounts"][0]["tokens"][0].get("hash").is_none(), "hashes never leave the store");
    let acct = account["account_id"].as_str().unwrap().to_owned();
    let rotated =
        json(&costradar(&table, &["accounts", "rotate-token", "--tenant", &tenant, "--account-id", &acct], &[]));
    assert!(rotated["ingest_token"].as_str().unwrap().starts_with("crt_"));
    let revoked =
        json(&costradar(&table, &["accounts", "revoke-token", "--tenant", &tenant, "--account-id", &acct], &[]));
    assert_eq!(revoked["revoked"], 1, "the token from `accounts add` stops at once");

    let count = costradar_tests::item_count(&table).await;
    let t = tenant.as_str();
    let bad: Vec<BadCase> = vec![
        ("empty name", vec!["tenants", "create", "--name", ""], vec![], "\"field\": \"name\""),
        (
            "path traversal as tenant id",
            vec!["tenants", "show", "../../etc/passwd"],
            vec![],
            "\"field\": \"tenant_id\"",
        ),
        (
            "GovCloud role",
            vec!["accounts", "add", "--tenant", t, "--role-arn", "arn:aws-us-gov:iam::123456789012:role/R"],
            vec![],
            "unsupported_partition",
        ),
        (
            "China role",
            vec!["accounts", "add", "--tenant", t, "--role-arn", "arn:aws-cn:iam::123456789012:role/R"],
            vec![],
            "not supported",
        ),
        (
            "bad region",
            vec!["accounts", "add", "--tenant", t, "--role-arn", ROLE, "--regions", "mars-1"],
            vec![],
            "\"field\": \"regions\"",
        ),
        ("page too large", vec!["tenants", "list", "--limit", "1000"], vec![], "\"field\": \"limit\""),
        (
            "short account id",
            vec!["accounts", "verify", "--tenant", t, "--account-id", "123"],
            vec![],
            "\"field\": \"account_id\"",
        ),
        ("unknown tenant", vec!["accounts", "list", "--tenant", "t-0000000000000000"], vec![], "tenant_not_found"),
        ("missing argument", vec!["accounts", "add", "--tenant", t], vec![], "--role-arn"),
        ("unknown subcommand", vec!["tenants", "explode"], vec![], "unrecognized subcommand"),
        (
            "missing configuration",
            vec!["tenants", "create", "--name", "X"],
            vec![("COSTRADAR_ACCOUNT_ID", "")],
            "COSTRADAR_ACCOUNT_ID",
        ),
        (
            "emulator mode against AWS",
            vec!["tenants", "create", "--name", "X", "--endpoint-url", "https://dynamodb.us-east-1.amazonaws.com"],
            vec![],
            "COSTRADAR_LOCAL_EMULATOR",
        ),
    ];
    for (name, args, env, expect) in bad {
        let out = costradar(&table, &args, &env);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expect), "{name}: {stderr}");
        assert!(out.stdout.is_empty(), "{name}: printed a result");
        assert_eq!(costradar_tests::item_count(&table).await, count, "{name} changed the table");
    }
}
