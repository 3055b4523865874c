//! `costradar scan` against moto: the JSON contract on a small account, and bad arguments
//! refused with exit code 2 before any AWS call, writing nothing.

use std::process::{Command, Output};

use costradar_tests::scan_world::{fresh_account, role_in, World};
use serde_json::Value;

fn costradar(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_costradar"))
        .args(args)
        .env("AWS_ENDPOINT_URL", costradar_tests::endpoint())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("COSTRADAR_EXTERNAL_ID")
        .output()
        .expect("run costradar")
}

const EXTERNAL_ID: &str = "costradar-abcdefghijklmnopqrstuvwxyz0123456789abcd";

#[tokio::test]
async fn scan_writes_the_json_contract_and_refuses_bad_arguments() {
    let account = fresh_account();
    let w = World::new(&account, "eu-west-1").await;
    let volume = w.volume("gp3", 200, None).await;
    let (eip, ip) = w.address().await;
    let dir = std::env::temp_dir().join(format!("costradar-scan-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let settings = dir.join("settings.json");
    std::fs::write(&settings, r#"{"unattached_volume_days": 0, "cost_optimization_hub": false, "compute_optimizer": false, "trusted_advisor": false}"#).unwrap();
    let out_path = dir.join("findings.json");
    let role = role_in(&account);
    let base = |out: &str| {
        vec![
            "scan".to_owned(),
            "--account-id".into(),
            account.clone(),
            "--role-arn".into(),
            role.clone(),
            "--external-id".into(),
            EXTERNAL_ID.into(),
            "--regions".into(),
            "eu-west-1".into(),
            "--settings".into(),
            settings.display().to_string(),
            "--json".into(),
            out.to_owned(),
        ]
    };
    let args = base(&out_path.display().to_string());
    let out = costradar(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&std::fs::read(&out_path).unwrap()).unwrap();
    assert_eq!(v["account_id"], account.as_str());
    assert_eq!(v["status"], "complete");
    assert_eq!(v["errors"], serde_json::json!([]));
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{v:#}");
    let by_rule = |r: &str| findings.iter().find(|f| f["rule"] == r).unwrap_or_else(|| panic!("{r} in {v:#}"));
    let vol = by_rule("ebs.unattached-volume");
    assert_eq!(vol["resource_id"], volume.as_str());
    assert_eq!(vol["region"], "eu-west-1");
    // 200 GiB gp3 × $0.088 in eu-west-1
    assert_eq!(vol["monthly_cost_usd"], "17.60");
    assert_eq!(vol["monthly_savings_usd"], "17.60");
    assert_eq!(vol["confidence"], "high");
    assert_eq!(vol["fix_command"], format!("aws ec2 delete-volume --volume-id {volume} --region eu-west-1"));
    let ip_finding = by_rule("eip.unassociated");
    assert_eq!(ip_finding["resource_id"], eip.as_str());
    assert!(ip_finding["title"].as_str().unwrap().contains(&ip));
    // 17.60 + 3.65
    assert_eq!(v["total_monthly_savings_usd"], "21.25");
    for k in ["region", "status", "api_calls", "errors", "duration_ms"] {
        assert!(v["regions"][1].get(k).is_some(), "{k}");
    }

    // Bad arguments: exit 2, nothing written, no AWS call needed to refuse them.
    std::fs::remove_file(&out_path).unwrap();
    let bad_settings = dir.join("bad.json");
    std::fs::write(&bad_settings, r#"{"unattached_volume_dayz": 0}"#).unwrap();
    let huge = dir.join("huge.json");
    std::fs::write(&huge, format!(r#"{{"a": "{}"}}"#, "x".repeat(20_000))).unwrap();
    let cases: Vec<(usize, String, &str)> = vec![
        (2, "12345".into(), "--account-id"),
        (2, "123456789012".into(), "--role-arn"), // not the role's account
        (4, "arn:aws:iam::123456789012:user/x".into(), "--role-arn"),
        (4, "arn:aws-cn:iam::123456789012:role/x".into(), "--role-arn"),
        (6, "not-ours".into(), "--external-id"),
        (8, "eu-west-1,us-gov-west-1".into(), "--regions"),
        (8, "eu-west-1;rm".into(), "--regions"),
        (10, dir.join("missing.json").display().to_string(), "--settings"),
        (10, bad_settings.display().to_string(), "unattached_volume_dayz"),
        (10, huge.display().to_string(), "--settings"),
        (12, dir.join("no/such/dir/out.json").display().to_string(), "--json"),
    ];
    for (i, value, field) in cases {
        let mut a = base(&out_path.display().to_string());
        a[i] = value.clone();
        let out = costradar(&a.iter().map(String::as_str).collect::<Vec<_>>());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{value}: {err}");
        assert!(err.contains(field), "{value}: {err}");
        assert!(!out_path.exists(), "{value}: wrote output");
    }
    std::fs::remove_dir_all(&dir).ok();
}
