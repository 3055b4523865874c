//! `costradar digest --dry-run` against a table in moto: the digest the daily task would send,
//! printed and never sent (no `DIGEST#` marker is written), and bad arguments refused with exit
//! code 2 and no change.

use std::process::{Command, Output};

use costradar_aws::DynamoStore;
use costradar_core::domain::finding::Finding;
use costradar_core::domain::{AccountId, TenantId};
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
        .output()
        .expect("run costradar")
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[tokio::test]
async fn the_dry_run_prints_the_digest_and_sends_nothing() {
    let table = format!("digest-cli-{}", std::process::id());
    ok(&costradar(&table, &["table", "create"]));
    let created: Value =
        serde_json::from_str(&ok(&costradar(&table, &["tenants", "create", "--name", "Acme"]))).unwrap();
    let t = created["tenant"]["id"].as_str().unwrap().to_owned();
    let id = TenantId::parse(&t).unwrap();
    let store = DynamoStore::from_sdk(&costradar_tests::sdk_config().await, &table);
    let seen = costradar_core::cur::confirm::parse_as_of("2026-12-06T09:00:00Z").unwrap();
    let f = Finding {
        monthly_savings_usd: Some("1234.5".parse().unwrap()),
        ..Finding::open(
            id.clone(),
            AccountId::parse("123456789012").unwrap(),
            "us-east-1",
            "ebs.unattached-volume",
            "vol-0abc",
            "Unattached EBS volume",
            seen,
        )
    };
    store.upsert_findings(&id, &[f]).await.unwrap();

    // Off by default: not due, said so.
    let off = ok(&costradar(&table, &["digest", "--tenant", &t, "--dry-run", "--as-of", "2026-12-07"]));
    assert!(off.starts_with("not due"), "{off}");
    ok(&costradar(&table, &["tenants", "configure", &t, "--digest", "weekly", "--digest-weekday", "monday"]));
    let before = costradar_tests::items(&table).await;
    let text = ok(&costradar(&table, &["digest", "--tenant", &t, "--dry-run", "--as-of", "2026-12-07T08:00:00Z"]));
    assert!(text.starts_with("costradar weekly digest for Acme (2026-11-30 to 2026-12-06)"), "{text}");
    assert!(text.contains("New: 1 open finding, $1,234.50/month of savings"), "{text}");
    let v: Value = serde_json::from_str(&ok(&costradar(
        &table,
        &["digest", "--tenant", &t, "--dry-run", "--as-of", "2026-12-07", "--json"],
    )))
    .unwrap();
    assert_eq!((v["due"].as_bool(), v["would_send"].as_bool()), (Some(true), Some(true)));
    assert_eq!(v["message"]["digest"]["top_open"][0]["monthly_savings_usd"], "1234.50");
    // Tuesday: a weekly Monday digest is not due.
    let tue = ok(&costradar(&table, &["digest", "--tenant", &t, "--dry-run", "--as-of", "2026-12-08"]));
    assert!(tue.starts_with("not due"), "{tue}");
    assert_eq!(costradar_tests::items(&table).await, before, "a dry run writes nothing (no marker)");

    let unknown = TenantId::generate();
    for (args, code) in [
        (vec!["digest", "--tenant", t.as_str()], 2),
        (vec!["digest", "--tenant", "t-1", "--dry-run"], 2),
        (vec!["digest", "--tenant", "../x", "--dry-run"], 2),
        (vec!["digest", "--tenant", t.as_str(), "--dry-run", "--as-of", "yesterday"], 2),
        (vec!["digest", "--tenant", t.as_str(), "--dry-run", "--as-of", "2026-13-01"], 2),
        (vec!["digest", "--dry-run"], 2),
        (vec!["digest", "--tenant", unknown.as_str(), "--dry-run"], 1),
    ] {
        let out = costradar(&table, &args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // A bad digest value through `tenants configure` is the API's 400: nothing changed.
    let out = costradar(&table, &["tenants", "configure", &t, "--digest", "hourly"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("digest"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(costradar_tests::items(&table).await, before);
}
