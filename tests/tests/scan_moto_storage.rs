//! The scan's storage families against moto, one scenario per family moto plays, each with
//! waste and traps (resources that look wasteful and are not), through STS AssumeRole, the
//! scanners, CloudWatch and an in-memory store.
//!
//! S3: moto lists buckets by region (ListBuckets' `BucketRegion` filter), keeps lifecycle rules,
//! versioning and multipart uploads (every upload "initiated" in 2010: all are old) and sizes
//! parts (ListParts). Its `BucketSizeBytes` is the sum of Python's in-memory size of its key
//! objects (64 bytes an object, whatever the content), so `s3.standard-without-tiering` cannot
//! be played on it (it is tested with aws-smithy-mocks in `costradar_aws::scan`'s tests), and
//! `s3_versioned_min_gib` is 0 here. moto matches a metric's dimensions only in the order it
//! published them, which the scanner's S3 queries follow.
//!
//! EFS: moto creates provisioned and bursting file systems and keeps lifecycle policies, but
//! reports every file system's `SizeInBytes` as 0: `efs.no-ia-lifecycle` cannot fire on moto
//! (its estimate is tested with aws-smithy-mocks in `costradar_aws::scan`'s tests); a bursting
//! file system without a lifecycle is here as a trap. Throughput comes from `MeteredIOBytes`
//! datapoints put into `AWS/EFS`.
//!
//! ECR: moto stores images, sizes them from their manifest's config, and answers
//! GetLifecyclePolicy with `LifecyclePolicyNotFoundException`; it stamps each image with the
//! time of its push and cannot backdate it, so that scenario is scanned as of 30 days later.
//!
//! AWS Backup: moto (5.2) creates and lists vaults but has no recovery points
//! (ListRecoveryPointsByBackupVault is unimplemented): a region with a vault is partial, its
//! error names the action, and no backup finding is drafted from it. The rules are tested with
//! aws-smithy-mocks (`costradar_aws::scan`'s tests) and unit tests.

use std::collections::BTreeSet;

use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, ExpirationStatus, LifecycleRule, LifecycleRuleFilter, NoncurrentVersionExpiration,
};
use chrono::{DateTime, Utc};
use costradar_core::domain::scan_run::ScanStatus;
use costradar_core::domain::AccountId;
use costradar_core::scan::AccountScan;
use costradar_tests::scan_world::{fresh_account, moto_settings, scan_account, World};
use rust_decimal::Decimal;

fn rule(id: &str, prefix: &str) -> aws_sdk_s3::types::builders::LifecycleRuleBuilder {
    LifecycleRule::builder()
        .id(id)
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix(prefix).build())
}

fn abort(days: i32) -> AbortIncompleteMultipartUpload {
    AbortIncompleteMultipartUpload::builder().days_after_initiation(days).build()
}

#[tokio::test]
async fn s3_waste_is_found_once_in_each_buckets_region_and_traps_are_left_alone() {
    let account_id = AccountId::parse(&fresh_account()).unwrap();
    let account = account_id.as_str();
    let us = World::new(account, "us-east-1").await.storage().await;
    let eu = World::new(account, "eu-west-1").await.storage().await;
    // Bucket names are global in moto too: each carries the account.
    let name = |n: &str| format!("{account}-{n}");
    // Waste: an upload nobody aborts; one outside the only aborting prefix; a versioned bucket
    // keeping every version; an upload in Ireland.
    us.bucket(&name("uploads")).await;
    us.incomplete_upload(&name("uploads"), "dumps/2024.tar", 1 << 20).await;
    us.bucket(&name("scoped")).await;
    us.lifecycle(
        &name("scoped"),
        vec![rule("tmp", "tmp/").abort_incomplete_multipart_upload(abort(3)).build().unwrap()],
    )
    .await;
    us.incomplete_upload(&name("scoped"), "data/big.bin", 2 << 20).await;
    us.incomplete_upload(&name("scoped"), "tmp/scratch", 1 << 20).await;
    us.bucket(&name("versions")).await;
    us.versioning(&name("versions")).await;
    us.object(&name("versions"), "state.json", 1024).await;
    eu.bucket(&name("ireland")).await;
    eu.incomplete_upload(&name("ireland"), "backup.tar", 1 << 20).await;
    // Traps: an upload a whole-bucket rule aborts; a versioned bucket expiring noncurrent
    // versions; an unversioned bucket.
    us.bucket(&name("tidy")).await;
    us.lifecycle(&name("tidy"), vec![rule("abort", "").abort_incomplete_multipart_upload(abort(7)).build().unwrap()])
        .await;
    us.incomplete_upload(&name("tidy"), "x", 1 << 20).await;
    us.bucket(&name("versions-expiring")).await;
    us.versioning(&name("versions-expiring")).await;
    let expire = NoncurrentVersionExpiration::builder().noncurrent_days(30).build();
    us.lifecycle(
        &name("versions-expiring"),
        vec![rule("old", "").noncurrent_version_expiration(expire).build().unwrap()],
    )
    .await;
    us.bucket(&name("plain")).await;
    us.object(&name("plain"), "a.parquet", 256 << 10).await;

    let out = scan(&account_id, &["us-east-1", "eu-west-1"], Utc::now()).await;
    let got: BTreeSet<(&str, &str, &str)> = out
        .findings
        .iter()
        .filter(|f| f.rule.starts_with("s3."))
        .map(|f| (f.rule.as_str(), f.resource_id.rsplit(':').next().unwrap(), f.region.as_str()))
        .collect();
    let (uploads, scoped, versions, ireland) = (name("uploads"), name("scoped"), name("versions"), name("ireland"));
    let want = BTreeSet::from([
        ("s3.incomplete-multipart-uploads", uploads.as_str(), "us-east-1"),
        ("s3.incomplete-multipart-uploads", scoped.as_str(), "us-east-1"),
        ("s3.incomplete-multipart-uploads", ireland.as_str(), "eu-west-1"),
        ("s3.noncurrent-versions-kept", versions.as_str(), "us-east-1"),
    ]);
    assert_eq!(got, want, "{:#?}", out.findings);
    assert_eq!(out.findings.iter().filter(|f| f.resource_id.ends_with(&ireland)).count(), 1, "one region only");
    let evidence = |bucket: &str, rule: &str| {
        let f = out.findings.iter().find(|f| f.rule == rule && f.resource_id.ends_with(bucket)).unwrap();
        (f.evidence.join("\n"), f.fix_command.clone().unwrap_or_default(), f.monthly_savings_usd)
    };
    // The upload's part was sized: 1 MiB at $0.023/GB-month rounds to $0.00.
    let (e, fix, saving) = evidence(&uploads, "s3.incomplete-multipart-uploads");
    assert!(e.contains("ListParts on 1 of them: 1048576 bytes"), "{e}");
    assert_eq!(saving, Some(Decimal::ZERO));
    assert!(fix.starts_with("aws s3api put-bucket-lifecycle-configuration --bucket "), "{fix}");
    // Only the upload outside `tmp/` counts; the fix keeps the bucket's rule (jq appends).
    let (e, fix, _) = evidence(&scoped, "s3.incomplete-multipart-uploads");
    assert!(e.contains("1 uploads started") && e.contains("2097152 bytes") && e.contains("`tmp/`"), "{e}");
    assert!(fix.contains("get-bucket-lifecycle-configuration") && fix.contains("| jq "), "{fix}");
    // The versioned bucket's size came from CloudWatch (moto's, see above).
    let (e, _, saving) = evidence(&versions, "s3.noncurrent-versions-kept");
    assert!(e.contains("versioning: Enabled") && e.contains("BucketSizeBytes (StandardStorage)"), "{e}");
    assert_eq!(saving, None, "informational");
}

/// `(seconds ago, value)` every 5 minutes over the last day: `value` MiB/s as 5-minute sums.
fn metered(mibps: f64) -> Vec<(u64, f64)> {
    (0..287).map(|i| (120 + i * 300, mibps * 300.0 * 1_048_576.0)).collect()
}

#[tokio::test]
async fn efs_throughput_provisioned_far_above_use_is_found() {
    let account_id = AccountId::parse(&fresh_account()).unwrap();
    let account = account_id.as_str();
    let w = World::new(account, "us-east-1").await;
    let s = w.storage().await;
    // Waste: 100 MiB/s provisioned, 2.1 MiB/s used at most.
    let fast = s.file_system("fast", Some(100.0)).await;
    // Traps: 10 MiB/s provisioned, 8 used; 50 provisioned with no series; bursting with no
    // lifecycle (moto sizes it 0 bytes).
    let busy = s.file_system("busy", Some(10.0)).await;
    let quiet = s.file_system("unmeasured", Some(50.0)).await;
    let plain = s.file_system("plain", None).await;
    let mut steady = metered(1.0);
    steady[10].1 = 2.1 * 300.0 * 1_048_576.0;
    w.metric_series("AWS/EFS", "MeteredIOBytes", ("FileSystemId", &fast), &steady).await;
    w.metric_series("AWS/EFS", "MeteredIOBytes", ("FileSystemId", &busy), &metered(8.0)).await;

    let out = scan(&account_id, &["us-east-1"], Utc::now()).await;
    let got: Vec<(&str, &str, Option<Decimal>)> = out
        .findings
        .iter()
        .filter(|f| f.rule.starts_with("efs."))
        .map(|f| (f.rule.as_str(), f.resource_id.rsplit('/').next().unwrap(), f.monthly_savings_usd))
        .collect();
    // ⌈2.1 ÷ 0.7⌉ = 3 MiB/s needed; no Standard bytes, no baseline: (100 − 3) × $6.
    assert_eq!(
        got,
        [("efs.overprovisioned-throughput", fast.as_str(), Some(Decimal::from(582)))],
        "{:#?}",
        out.findings
    );
    for id in [&busy, &quiet, &plain] {
        assert!(out.findings.iter().all(|f| !f.resource_id.ends_with(id.as_str())), "false positive on {id}");
    }
    let f = out.findings.iter().find(|f| f.rule == "efs.overprovisioned-throughput").unwrap();
    assert_eq!(
        f.fix_command.as_deref(),
        Some(
            format!(
                "aws efs update-file-system --file-system-id {fast} --throughput-mode provisioned --provisioned-throughput-in-mibps 3 --region us-east-1"
            )
            .as_str()
        )
    );
}

#[tokio::test]
async fn ecr_untagged_images_of_a_repository_without_a_policy_are_found_a_month_on() {
    let account_id = AccountId::parse(&fresh_account()).unwrap();
    let account = account_id.as_str();
    let s = World::new(account, "us-east-1").await.storage().await;
    let gib = 1 << 30;
    // Waste: two untagged images (3 GiB) beside a tagged one, no lifecycle policy.
    s.repository("api").await;
    s.image("api", Some("v2"), gib, "aa").await;
    s.image("api", None, 2 * gib, "bb").await;
    s.image("api", None, gib, "cc").await;
    // Traps: a repository whose lifecycle policy expires them; one holding tagged images only.
    s.repository("kept").await;
    s.image("kept", None, 5 * gib, "dd").await;
    s.repository_lifecycle_policy("kept", &costradar_core::rules::ecr::policy(14)).await;
    s.repository("tagged").await;
    s.image("tagged", Some("latest"), 5 * gib, "ee").await;

    // moto stamps images with their push time: scanned as of 30 days later, they are 30 days old.
    let out = scan(&account_id, &["us-east-1"], Utc::now() + chrono::Duration::days(30)).await;
    let got: Vec<(&str, &str, Option<Decimal>)> = out
        .findings
        .iter()
        .filter(|f| f.rule.starts_with("ecr."))
        .map(|f| (f.rule.as_str(), f.resource_id.rsplit('/').next().unwrap(), f.monthly_savings_usd))
        .collect();
    // ≤ 3 GiB × $0.10
    assert_eq!(got, [("ecr.untagged-images", "api", Some("0.3".parse().unwrap()))], "{:#?}", out.findings);
    // The same account scanned today: the images are too young to count.
    let today = scan(&account_id, &["us-east-1"], Utc::now()).await;
    assert!(today.findings.iter().all(|f| !f.rule.starts_with("ecr.")), "{:#?}", today.findings);
}

#[tokio::test]
async fn backup_vaults_are_listed_and_moto_has_no_recovery_points() {
    let account_id = AccountId::parse(&fresh_account()).unwrap();
    let account = account_id.as_str();
    // No vault: nothing to list, the region complete.
    let out = scan(&account_id, &["us-east-1"], Utc::now()).await;
    assert!(out.findings.iter().all(|f| !f.rule.starts_with("backup.")));
    // A vault: moto cannot list its recovery points; the region is partial, the action named.
    World::new(account, "us-east-1").await.storage().await.backup_vault("Default").await;
    let out = run(&account_id, &["us-east-1"], Utc::now()).await;
    let region = out.run.regions.iter().find(|r| r.region == "us-east-1").unwrap();
    assert_eq!(region.status, ScanStatus::Partial, "{region:?}");
    let actions: Vec<&str> = region.errors.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["backup:ListRecoveryPointsByBackupVault"], "{region:?}");
    assert!(out.findings.iter().all(|f| !f.rule.starts_with("backup.")));
}

/// One scan of `account` in `regions` as of `now` (scan_world's moto settings, every bucket's
/// versioning judged however small).
async fn run(account_id: &AccountId, regions: &[&str], now: DateTime<Utc>) -> AccountScan {
    let settings = moto_settings(serde_json::json!({"s3_versioned_min_gib": 0}));
    scan_account(account_id.as_str(), regions, &settings, now).await
}

/// [`run`], every region complete and error-free.
async fn scan(account_id: &AccountId, regions: &[&str], now: DateTime<Utc>) -> AccountScan {
    let out = run(account_id, regions, now).await;
    for region in &out.run.regions {
        assert_eq!(region.status, ScanStatus::Complete, "{region:?}");
        assert!(region.errors.is_empty(), "{region:?}");
    }
    out
}
