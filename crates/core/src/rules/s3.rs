//! S3 buckets, each judged in its own region (the scan lists a region's buckets with
//! ListBuckets' `BucketRegion`). Sizes come from CloudWatch's daily storage metrics
//! (`BucketSizeBytes` by storage type, `NumberOfObjects`): the mean of the daily values over the
//! window. GiB = bytes / 2^30. Every fix adds one lifecycle rule; PutBucketLifecycleConfiguration
//! replaces the whole configuration, so for a bucket that already has rules the command appends
//! the new one to them (`get-bucket-lifecycle-configuration | jq`).
//!
//! - `s3.incomplete-multipart-uploads`: incomplete multipart uploads started at least
//!   `s3_incomplete_upload_days` ago that no enabled lifecycle rule aborts (no
//!   `AbortIncompleteMultipartUpload` on a prefix of their key). Their parts are billed as
//!   S3 Standard until the upload is aborted. Size = Σ parts (ListParts on the oldest 10 such
//!   uploads of a bucket); cost = saving = GiB × $/GB-month of S3 Standard, a lower bound when
//!   some uploads were not sized, empty when none was.
//! - `s3.noncurrent-versions-kept`: versioning `Enabled` or `Suspended` and no enabled lifecycle
//!   rule expires or transitions noncurrent versions, so every overwritten or deleted object
//!   stays billed. CloudWatch does not split current from noncurrent bytes (S3 Storage Lens
//!   does): informational, no amount. A bucket known to hold less than `s3_versioned_min_gib`
//!   is left alone.
//! - `s3.standard-without-tiering`: at least `s3_large_bucket_gib` in S3 Standard, no enabled
//!   lifecycle rule with a transition or an expiry of current versions, and (when
//!   `NumberOfObjects` is known) an average object of at least 128 KiB (smaller objects are
//!   never tiered). An estimate: saving = GiB ×
//!   `cold_data_share_percent` × ($/GB-month of S3 Standard − $/GB-month of S3 Standard-IA),
//!   assuming that share is not read for 30 days and moves to Intelligent-Tiering's Infrequent
//!   Access tier (priced at Standard-IA's rate); Intelligent-Tiering's monitoring fee and
//!   Standard-IA's retrieval fees are not counted. Confidence low.

use rust_decimal::Decimal;

use super::draft::{aws_cli, sh, whole_days, Ctx, Draft};
use super::facts::{Bucket, LifecycleRule, MultipartUpload, RegionInventory};
use crate::domain::finding::Confidence;
use crate::domain::money::usd;
use crate::pricing::Sku;

pub const INCOMPLETE_UPLOADS: &str = "s3.incomplete-multipart-uploads";
pub const NONCURRENT_KEPT: &str = "s3.noncurrent-versions-kept";
pub const STANDARD_WITHOUT_TIERING: &str = "s3.standard-without-tiering";

const GIB: u64 = 1024 * 1024 * 1024;
/// Objects smaller than this are never moved by Intelligent-Tiering nor by a lifecycle
/// transition (S3's default minimum object size for transitions).
pub const MIN_TIERED_OBJECT_BYTES: u64 = 128 * 1024;
/// The scanner sizes (ListParts) at most this many uploads of a bucket, the oldest first.
pub const MAX_SIZED_UPLOADS: usize = 10;

pub fn evaluate(ctx: &Ctx<'_>, inv: &RegionInventory, out: &mut Vec<Draft>) {
    for b in &inv.buckets {
        incomplete_uploads(ctx, inv, b, out);
        noncurrent_kept(ctx, inv, b, out);
        standard_without_tiering(ctx, inv, b, out);
    }
}

/// Whether an enabled lifecycle rule aborts incomplete uploads of `key`.
pub fn aborted_by_lifecycle(rules: &[LifecycleRule], key: &str) -> bool {
    rules.iter().any(|r| {
        r.enabled && r.abort_incomplete_days.is_some() && r.prefix.as_deref().is_some_and(|p| key.starts_with(p))
    })
}

fn arn(b: &Bucket) -> String {
    format!("arn:aws:s3:::{}", b.name)
}

fn base(inv: &RegionInventory, b: &Bucket, rule: &str, title: String) -> Draft {
    let arn = arn(b);
    Draft::new(rule, arn.clone(), Some(arn), &inv.region, title)
}

fn gib(bytes: u64) -> Decimal {
    Decimal::from(bytes) / Decimal::from(GIB)
}

/// The command that adds `rule` (one lifecycle rule as JSON) to the bucket's configuration.
pub fn add_lifecycle_rule(b: &Bucket, rule: &str, region: &str) -> String {
    let bucket = [("--bucket", b.name.as_str())];
    if b.lifecycle.is_empty() {
        let config = format!(r#"{{"Rules":[{rule}]}}"#);
        return aws_cli(
            "s3api",
            "put-bucket-lifecycle-configuration",
            &[bucket[0], ("--lifecycle-configuration", &config)],
            region,
        );
    }
    let get = aws_cli("s3api", "get-bucket-lifecycle-configuration", &[bucket[0], ("--output", "json")], region);
    let put = aws_cli(
        "s3api",
        "put-bucket-lifecycle-configuration",
        &[bucket[0], ("--lifecycle-configuration", "file://lifecycle.json")],
        region,
    );
    format!("{get} | jq {} > lifecycle.json && {put}", sh(&format!("{{Rules: (.Rules + [{rule}])}}")))
}

/// Uploads old enough and not aborted by a lifecycle rule, oldest first.
fn stale<'a>(ctx: &Ctx<'_>, b: &'a Bucket) -> Vec<&'a MultipartUpload> {
    let days = ctx.settings.s3_incomplete_upload_days;
    let mut v: Vec<&MultipartUpload> = b
        .uploads
        .iter()
        .filter(|u| u.initiated.is_some_and(|t| ctx.at_least(t, days)))
        .filter(|u| !aborted_by_lifecycle(&b.lifecycle, &u.key))
        .collect();
    v.sort_by_key(|u| u.initiated);
    v
}

fn incomplete_uploads(ctx: &Ctx<'_>, inv: &RegionInventory, b: &Bucket, out: &mut Vec<Draft>) {
    let uploads = stale(ctx, b);
    let Some(oldest) = uploads.first().and_then(|u| u.initiated) else { return };
    let days = ctx.settings.s3_incomplete_upload_days;
    let n = uploads.len();
    let more = if b.uploads_truncated { "at least " } else { "" };
    let mut d = base(
        inv,
        b,
        INCOMPLETE_UPLOADS,
        format!("bucket {} keeps {more}{n} incomplete multipart uploads older than {days} days", b.name),
    );
    d.evidence.push(format!(
        "ListMultipartUploads: {more}{n} uploads started more than {days} days ago, the oldest on {} ({} days ago)",
        oldest.format("%Y-%m-%d"),
        whole_days(oldest, ctx.now)
    ));
    d.evidence.push(abort_rules_line(&b.lifecycle));
    let sized: Vec<u64> = uploads.iter().filter_map(|u| u.size_bytes).collect();
    if !sized.is_empty() {
        price_uploads(ctx, inv, &mut d, &sized, n);
    } else {
        d.evidence.push("their parts were not sized (ListParts): no amount".into());
    }
    d.confidence = Confidence::Medium;
    let rule = format!(
        r#"{{"ID":"costradar-abort-incomplete-multipart-uploads","Status":"Enabled","Filter":{{"Prefix":""}},"AbortIncompleteMultipartUpload":{{"DaysAfterInitiation":{days}}}}}"#
    );
    d.fix_command = add_lifecycle_rule(b, &rule, &inv.region);
    d.alternative = Some(format!(
        "abort them now: aws s3api list-multipart-uploads --bucket {}, then abort-multipart-upload each",
        sh(&b.name)
    ));
    out.push(d);
}

fn abort_rules_line(rules: &[LifecycleRule]) -> String {
    let prefixes: Vec<String> = rules
        .iter()
        .filter(|r| r.enabled && r.abort_incomplete_days.is_some())
        .filter_map(|r| r.prefix.as_ref().map(|p| format!("`{p}`")))
        .collect();
    if prefixes.is_empty() {
        "no enabled lifecycle rule aborts incomplete multipart uploads (AbortIncompleteMultipartUpload)".into()
    } else {
        format!("lifecycle rules abort incomplete uploads only under the prefixes {}", prefixes.join(", "))
    }
}

fn price_uploads(ctx: &Ctx<'_>, inv: &RegionInventory, d: &mut Draft, sized: &[u64], n: usize) {
    let bytes: u64 = sized.iter().sum();
    let g = gib(bytes);
    let partial = sized.len() < n;
    d.evidence.push(format!(
        "ListParts on {} of them: {bytes} bytes = {} GiB{}",
        sized.len(),
        g.round_dp(3),
        if partial { " (the others not sized: the amount is a lower bound)" } else { "" }
    ));
    let mut p = ctx.pricer(&inv.region);
    match p.rate(&Sku::S3Storage { class: "standard".into() }) {
        Some(rate) => {
            let m = g * rate;
            d.evidence.push(format!("{} GiB × ${rate}/GB-month (S3 Standard) = ${}", g.round_dp(3), usd(m)));
            d.evidence.extend(p.source_line());
            d.monthly_cost_usd = Some(m);
            d.monthly_savings_usd = Some(m);
            d.price_source = p.source();
        }
        None => d.evidence.push("S3 Standard storage is not in the price book".into()),
    }
}

fn noncurrent_kept(ctx: &Ctx<'_>, inv: &RegionInventory, b: &Bucket, out: &mut Vec<Draft>) {
    let Some(v) = b.versioning.as_deref().filter(|v| *v == "Enabled" || *v == "Suspended") else { return };
    let min = ctx.settings.s3_versioned_min_gib.saturating_mul(GIB);
    if b.lifecycle.iter().any(|r| r.enabled && r.noncurrent) || b.standard_bytes.is_some_and(|s| s < min) {
        return;
    }
    let mut d = base(inv, b, NONCURRENT_KEPT, format!("versioned bucket {} never expires noncurrent versions", b.name));
    d.evidence.push(format!(
        "versioning: {v}; no enabled lifecycle rule expires or transitions noncurrent versions: every overwritten or deleted object stays billed"
    ));
    match b.standard_bytes {
        Some(s) => d.evidence.push(format!(
            "BucketSizeBytes (StandardStorage): {} GiB, current and noncurrent versions together (CloudWatch does not split them; S3 Storage Lens does): no amount",
            gib(s).round_dp(2)
        )),
        None => d.evidence.push("no BucketSizeBytes in CloudWatch for the window: size unknown, no amount".into()),
    }
    d.confidence = Confidence::Low;
    let days = ctx.settings.s3_noncurrent_days;
    let rule = format!(
        r#"{{"ID":"costradar-expire-noncurrent-versions","Status":"Enabled","Filter":{{"Prefix":""}},"NoncurrentVersionExpiration":{{"NoncurrentDays":{days}}}}}"#
    );
    d.fix_command = add_lifecycle_rule(b, &rule, &inv.region);
    d.alternative = Some(format!("keep noncurrent versions {days} days, or move them to a colder class"));
    out.push(d);
}

/// The bucket's Standard bytes when it is large, has no transition and objects big enough to tier.
fn tierable(ctx: &Ctx<'_>, b: &Bucket) -> Option<u64> {
    let bytes = b.standard_bytes?;
    if bytes == 0 || bytes < ctx.settings.s3_large_bucket_gib.saturating_mul(GIB) {
        return None;
    }
    // A transition, or an expiry, shows the data's life is managed already.
    if b.lifecycle.iter().any(|r| r.enabled && (r.transitions || r.expires_current)) {
        return None;
    }
    // Objects under 128 KiB are never tiered: skip buckets whose average object is smaller.
    if b.objects.is_some_and(|n| n > 0 && bytes / n < MIN_TIERED_OBJECT_BYTES) {
        return None;
    }
    Some(bytes)
}

fn standard_without_tiering(ctx: &Ctx<'_>, inv: &RegionInventory, b: &Bucket, out: &mut Vec<Draft>) {
    let Some(bytes) = tierable(ctx, b) else { return };
    let g = gib(bytes);
    let share = Decimal::from(ctx.settings.cold_data_share_percent) / Decimal::from(100);
    let mut d = base(
        inv,
        b,
        STANDARD_WITHOUT_TIERING,
        format!("bucket {} keeps {} GiB in S3 Standard with no lifecycle transition", b.name, g.round_dp(0)),
    );
    d.evidence.push(format!(
        "BucketSizeBytes (StandardStorage), mean of the daily values over the last {} days: {} GiB; no enabled lifecycle rule transitions objects",
        ctx.settings.idle_window_days,
        g.round_dp(2)
    ));
    match b.objects {
        Some(n) if n > 0 => d.evidence.push(format!(
            "NumberOfObjects: {n}, an average of {} KiB an object (objects under 128 KiB are never tiered)",
            (Decimal::from(bytes) / Decimal::from(n) / Decimal::from(1024)).round_dp(0)
        )),
        _ => d
            .evidence
            .push("NumberOfObjects unknown: how many objects are under 128 KiB (never tiered) is not known".into()),
    }
    d.evidence.push(format!(
        "estimate: assumes {}% of the bytes (cold_data_share_percent) are not read for 30 days and move to Intelligent-Tiering's Infrequent Access tier, priced at S3 Standard-IA's rate",
        ctx.settings.cold_data_share_percent
    ));
    let mut p = ctx.pricer(&inv.region);
    let standard = p.rate(&Sku::S3Storage { class: "standard".into() });
    let ia = p.rate(&Sku::S3Storage { class: "standard-ia".into() });
    match (standard, ia) {
        (Some(s), Some(i)) if s > i => {
            let cost = g * s;
            let saving = g * share * (s - i);
            d.evidence.push(format!("now: {} GiB × ${s}/GB-month = ${}", g.round_dp(2), usd(cost)));
            d.evidence.push(format!(
                "{} GiB × {}% × (${s} − ${i})/GB-month = ${} a month",
                g.round_dp(2),
                ctx.settings.cold_data_share_percent,
                usd(saving)
            ));
            d.evidence.push("not counted: Intelligent-Tiering's monitoring fee per object, Standard-IA's retrieval fees and 30-day minimum".into());
            d.evidence.extend(p.source_line());
            d.monthly_cost_usd = Some(cost);
            d.monthly_savings_usd = Some(saving).filter(|s| *s > Decimal::ZERO);
            d.price_source = p.source();
        }
        _ => d.evidence.push("S3 Standard or Standard-IA storage is not in the price book: no amount".into()),
    }
    d.confidence = Confidence::Low;
    let rule = format!(
        r#"{{"ID":"costradar-intelligent-tiering","Status":"Enabled","Filter":{{"ObjectSizeGreaterThan":{MIN_TIERED_OBJECT_BYTES}}},"Transitions":[{{"Days":0,"StorageClass":"INTELLIGENT_TIERING"}}]}}"#
    );
    d.fix_command = add_lifecycle_rule(b, &rule, &inv.region);
    d.alternative =
        Some("a lifecycle transition to S3 Standard-IA after 30 days, for data known to be read rarely".into());
    out.push(d);
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::rules::testkit::*;

    fn bucket(name: &str) -> Bucket {
        Bucket {
            name: name.into(),
            created: Some(now() - Duration::days(400)),
            versioning: None,
            lifecycle: vec![],
            uploads: vec![],
            uploads_truncated: false,
            standard_bytes: None,
            objects: None,
        }
    }

    fn upload(key: &str, days_ago: i64, size: Option<u64>) -> MultipartUpload {
        MultipartUpload { key: key.into(), initiated: Some(now() - Duration::days(days_ago)), size_bytes: size }
    }

    fn rule(prefix: Option<&str>) -> LifecycleRule {
        LifecycleRule {
            id: Some("r".into()),
            enabled: true,
            prefix: prefix.map(Into::into),
            abort_incomplete_days: None,
            transitions: false,
            expires_current: false,
            noncurrent: false,
        }
    }

    fn run(buckets: Vec<Bucket>) -> Vec<Draft> {
        let mut inv = RegionInventory::new("eu-west-1");
        inv.buckets = buckets;
        crate::rules::testkit::run(evaluate, &inv)
    }

    #[test]
    fn old_incomplete_uploads_no_rule_aborts_are_priced_as_standard() {
        let mut b = bucket("uploads");
        b.uploads = vec![upload("a/big.bin", 40, Some(100 * GIB)), upload("b/x", 9, Some(28 * GIB))];
        let d = only(run(vec![b.clone()]), INCOMPLETE_UPLOADS);
        // 128 GiB × $0.023 (eu-west-1 S3 Standard) = $2.944.
        assert_eq!(d.monthly_savings_usd.map(|s| s.round_dp(3)), Some(dec("2.944")));
        assert_eq!(d.resource_id, "arn:aws:s3:::uploads");
        assert!(
            d.evidence[0].contains("2 uploads started more than 7 days ago, the oldest on 2026-10-11"),
            "{:?}",
            d.evidence
        );
        assert_eq!(
            d.fix_command,
            r#"aws s3api put-bucket-lifecycle-configuration --bucket uploads --lifecycle-configuration '{"Rules":[{"ID":"costradar-abort-incomplete-multipart-uploads","Status":"Enabled","Filter":{"Prefix":""},"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":7}}]}' --region eu-west-1"#
        );
        // One upload not sized: the amount is what was sized, said to be a lower bound.
        b.uploads.push(upload("c/y", 20, None));
        let d = only(run(vec![b]), INCOMPLETE_UPLOADS);
        assert_eq!(d.monthly_savings_usd.map(|s| s.round_dp(3)), Some(dec("2.944")));
        assert!(d.evidence.iter().any(|e| e.contains("lower bound")), "{:?}", d.evidence);
    }

    #[test]
    fn young_uploads_and_those_an_abort_rule_covers_are_left_alone() {
        let mut b = bucket("busy");
        b.uploads = vec![upload("logs/a", 2, Some(GIB)), upload("data/b", 30, Some(GIB))];
        let mut abort = rule(Some("data/"));
        abort.abort_incomplete_days = Some(7);
        b.lifecycle = vec![abort.clone()];
        assert!(run(vec![b.clone()]).is_empty(), "young, or under an aborting prefix");
        // A disabled rule, or one filtered on tags, aborts nothing.
        abort.enabled = false;
        b.lifecycle = vec![abort.clone(), rule(None)];
        let d = only(run(vec![b.clone()]), INCOMPLETE_UPLOADS);
        assert!(d.fix_command.contains("get-bucket-lifecycle-configuration --bucket busy --output json --region eu-west-1 | jq '{Rules: (.Rules + [{"), "{}", d.fix_command);
        assert!(d.fix_command.ends_with("--lifecycle-configuration file://lifecycle.json --region eu-west-1"));
        // Unsized uploads still make a finding, without an amount.
        b.lifecycle = vec![];
        b.uploads = vec![upload("x", 100, None)];
        let d = only(run(vec![b]), INCOMPLETE_UPLOADS);
        assert_eq!(d.monthly_savings_usd, None);
        assert!(aborted_by_lifecycle(&[LifecycleRule { abort_incomplete_days: Some(1), ..rule(Some("")) }], "any/key"));
    }

    #[test]
    fn a_versioned_bucket_without_a_noncurrent_rule_is_informational() {
        let mut b = bucket("versions");
        b.versioning = Some("Enabled".into());
        b.standard_bytes = Some(50 * GIB);
        let d = only(run(vec![b.clone()]), NONCURRENT_KEPT);
        assert_eq!((d.monthly_savings_usd, d.confidence), (None, Confidence::Low));
        assert!(d.evidence[1].contains("50 GiB, current and noncurrent versions together"), "{:?}", d.evidence);
        assert!(d.fix_command.contains(r#""NoncurrentVersionExpiration":{"NoncurrentDays":30}"#));
        // Traps: a rule handling noncurrent versions; never versioned; known to be tiny.
        let mut handled = rule(Some("logs/"));
        handled.noncurrent = true;
        b.lifecycle = vec![handled];
        assert!(run(vec![b.clone()]).is_empty());
        b.lifecycle = vec![];
        b.versioning = None;
        assert!(run(vec![b.clone()]).is_empty());
        b.versioning = Some("Suspended".into());
        b.standard_bytes = Some(1000);
        assert!(run(vec![b]).is_empty());
    }

    #[test]
    fn a_large_standard_bucket_without_transition_is_an_estimate() {
        let mut b = bucket("lake");
        b.standard_bytes = Some(2048 * GIB);
        b.objects = Some(1_000_000);
        let d = only(run(vec![b.clone()]), STANDARD_WITHOUT_TIERING);
        // 2048 GiB × 80% × ($0.023 − $0.0125) = $17.2032.
        assert_eq!(d.monthly_savings_usd.map(|s| s.round_dp(4)), Some(dec("17.2032")));
        assert_eq!(d.monthly_cost_usd.map(|s| s.round_dp(3)), Some(dec("47.104")));
        assert_eq!(d.confidence, Confidence::Low);
        assert!(d.evidence.iter().any(|e| e.contains("assumes 80%")));
        assert!(d.fix_command.contains(r#""StorageClass":"INTELLIGENT_TIERING""#));
        // Traps: small objects; a transition already; under the size threshold; no metric.
        let mut small = b.clone();
        small.objects = Some(2048 * 1024 * 16);
        assert!(run(vec![small]).is_empty(), "64 KiB average objects are never tiered");
        let mut moving = b.clone();
        moving.lifecycle = vec![LifecycleRule { transitions: true, ..rule(Some("raw/")) }];
        assert!(run(vec![moving]).is_empty());
        let mut expiring = b.clone();
        expiring.lifecycle = vec![LifecycleRule { expires_current: true, ..rule(Some("")) }];
        assert!(run(vec![expiring]).is_empty(), "data that expires is managed already");
        let mut modest = b.clone();
        modest.standard_bytes = Some(1000 * GIB);
        assert!(run(vec![modest]).is_empty());
        let mut unknown = b;
        unknown.standard_bytes = None;
        assert!(run(vec![unknown]).is_empty(), "no data is no fact");
    }

    #[test]
    fn bucket_names_are_quoted_in_fix_commands() {
        let mut b = bucket("a.b-c");
        b.lifecycle = vec![rule(Some(""))];
        let cmd = add_lifecycle_rule(&b, r#"{"ID":"x"}"#, "us-east-1");
        assert!(cmd.starts_with("aws s3api get-bucket-lifecycle-configuration --bucket a.b-c --output json"));
        assert!(cmd.contains(r#"| jq '{Rules: (.Rules + [{"ID":"x"}])}' > lifecycle.json && "#), "{cmd}");
    }
}
