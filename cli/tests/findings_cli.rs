//! `costradar findings|events|runs|savings` against a table in moto: tables for people, `--json`
//! for programs, decisions recorded, and bad arguments refused with exit code 2 and no change.

use std::process::{Command, Output};

use costradar_aws::DynamoStore;
use costradar_core::domain::finding::Finding;
use costradar_core::domain::{AccountId, Clock, SystemClock, TenantId};
use costradar_core::store::FindingStore;
use serde_json::Value;

fn costradar(table: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_costradar"))
        .args(args)
        .env("TABLE_NAME", table)
        .env("AWS_ENDPOINT_URL", costradar_tests::endpoint())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("COSTRADAR_ACCOUNT_ID", "111122223333")
        .env("COSTRADAR_TOPIC_ARN", "arn:aws:sns:us-east-1:111122223333:costradar-cr")
        .env("COSTRADAR_TEMPLATE_URL", "https://costradar-artifacts.s3.amazonaws.com/costradar-role.yaml")
        .env("COSTRADAR_LOCAL_EMULATOR", "1")
        .env_remove("COSTRADAR_BY")
        .output()
        .expect("run costradar")
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&ok(out)).expect("JSON on stdout")
}

#[tokio::test]
async fn findings_commands_show_tables_record_decisions_and_refuse_bad_arguments() {
    let table = format!("findings-cli-{}", std::process::id());
    ok(&costradar(&table, &["table", "create"]));
    let created = json(&costradar(&table, &["tenants", "create", "--name", "Acme"]));
    let tenant = created["tenant"]["id"].as_str().unwrap().to_owned();
    let store = DynamoStore::from_sdk(&costradar_tests::sdk_config().await, &table);
    let id = TenantId::parse(&tenant).unwrap();
    let f = Finding {
        monthly_savings_usd: Some("1234567.5".parse().unwrap()),
        ..Finding::open(
            id.clone(),
            AccountId::parse("123456789012").unwrap(),
            "us-east-1",
            "ebs.unattached-volume",
            "vol-0abc",
            "2 TB io2 volume unattached",
            SystemClock.now(),
        )
    };
    store.upsert_findings(&id, std::slice::from_ref(&f)).await.unwrap();
    let t = tenant.as_str();

    let listed = json(&costradar(&table, &["findings", "list", "--tenant", t, "--json"]));
    assert_eq!(listed["findings"][0]["monthly_savings_usd"], "1234567.50");
    let human = ok(&costradar(&table, &["findings", "list", "--tenant", t, "--source", "scan"]));
    assert!(human.trim_start().starts_with("SAVING/MONTH"), "{human}");
    assert!(human.contains("$1,234,567.50") && human.contains("vol-0abc"), "{human}");
    let key = f.key();
    let acked = json(&costradar(&table, &["findings", "ack", "--tenant", t, "--by", "ops@acme", &key, "--json"]));
    assert_eq!(acked["history"][0]["action"], "acknowledge");
    ok(&costradar(&table, &["findings", "assign", "--tenant", t, "--by", "ops@acme", "--owner", "storage", &key]));
    let shown = ok(&costradar(&table, &["findings", "show", "--tenant", t, &key]));
    assert!(shown.lines().any(|l| l.starts_with("owner") && l.ends_with(" storage")), "{shown}");
    assert!(shown.contains("assign"), "{shown}");
    let savings = ok(&costradar(&table, &["savings", "--tenant", t]));
    assert!(savings.starts_with("open $1,234,567.50 a month"), "{savings}");
    assert!(json(&costradar(&table, &["events", "list", "--tenant", t, "--json"]))["events"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(ok(&costradar(&table, &["runs", "list", "--tenant", t])).contains("no scan runs"));

    let count = costradar_tests::item_count(&table).await;
    for (args, says) in [
        (vec!["findings", "list", "--tenant", t, "--limit", "0"], "--limit"),
        (vec!["findings", "list", "--tenant", t, "--sort", "price"], "--sort"),
        (vec!["findings", "list", "--tenant", t, "--account", "12"], "\"field\": \"account\""),
        (vec!["findings", "snooze", "--tenant", t, "--by", "o", "--until", "2001-01-01", &key], "\"field\": \"until\""),
        (vec!["findings", "ack", "--tenant", t, &key], "--by"),
        (vec!["findings", "ack", "--tenant", t, "--by", "o", "not-a-key"], "\"field\": \"key\""),
        (vec!["findings", "show", "--tenant", "t-0000000000000000", &key], "tenant_not_found"),
    ] {
        let out = costradar(&table, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "{args:?} printed a result");
        assert_eq!(costradar_tests::item_count(&table).await, count, "{args:?} changed the table");
    }
}
