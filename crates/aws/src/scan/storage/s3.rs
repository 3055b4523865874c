//! S3: the buckets of one region (ListBuckets with `BucketRegion`, so each bucket is read once,
//! in its own region, with that region's client), their versioning and lifecycle rules, their
//! incomplete multipart uploads (keys and start times, at most [`MAX_UPLOAD_PAGES`] pages), and
//! the part sizes of the oldest [`MAX_SIZED_UPLOADS`] uploads no lifecycle rule aborts. Never an
//! object, never a key listing.

use aws_sdk_s3::types::{ExpirationStatus, LifecycleRuleFilter};
use aws_sdk_s3::Client;

use super::super::ec2::all_pages;
use super::super::{time, Calls};
use super::{answer, each, Answer};
use costradar_core::rules::facts::{Bucket, LifecycleRule, MultipartUpload};
pub use costradar_core::rules::s3::MAX_SIZED_UPLOADS;

/// ListMultipartUploads answers 1,000 uploads a page: a bucket with more than 10,000 is said to
/// have "at least" that many.
pub const MAX_UPLOAD_PAGES: usize = 10;
/// A bucket deleted between the listing and the call.
const GONE: &[&str] = &["NoSuchBucket"];

pub async fn scan(c: &Client, region: &str) -> (Option<Vec<Bucket>>, Calls) {
    let mut calls = Calls::default();
    let listed = all_pages!(
        calls,
        "s3:ListAllMyBuckets",
        c.list_buckets().bucket_region(region).max_buckets(1000).into_paginator(),
        |p| p
            .buckets()
            .iter()
            // The filter is the region's; a bucket that names another region is not ours here.
            .filter(|b| b.bucket_region().is_none_or(|r| r == region))
            .filter_map(|b| Some((b.name()?.to_owned(), time(b.creation_date()))))
            .collect::<Vec<_>>()
    );
    let Some(names) = listed else { return (None, calls) };
    let found = each(names, |(name, created)| {
        let c = c.clone();
        async move { bucket(&c, name, created).await }
    })
    .await;
    let mut out = Vec::new();
    for (b, cl) in found {
        calls.merge(cl);
        out.extend(b);
    }
    (Some(out), calls)
}

async fn bucket(c: &Client, name: String, created: Option<chrono::DateTime<chrono::Utc>>) -> (Option<Bucket>, Calls) {
    let mut calls = Calls::default();
    let versioning = c.get_bucket_versioning().bucket(&name).send().await;
    let Answer::Got(versioning) = answer(&mut calls, "s3:GetBucketVersioning", versioning, GONE) else {
        return (None, calls);
    };
    let lifecycle = c.get_bucket_lifecycle_configuration().bucket(&name).send().await;
    let absent = ["NoSuchLifecycleConfiguration", "NoSuchBucket"];
    let lifecycle = match answer(&mut calls, "s3:GetLifecycleConfiguration", lifecycle, &absent) {
        Answer::Got(out) => out.rules().iter().map(rule).collect(),
        Answer::Absent => vec![],
        Answer::Failed => return (None, calls),
    };
    let Some((mut uploads, truncated)) = uploads(c, &name, &mut calls).await else { return (None, calls) };
    size_oldest(c, &name, &lifecycle, &mut uploads, &mut calls).await;
    let b = Bucket {
        name,
        created,
        versioning: versioning.status().map(|s| s.as_str().to_owned()),
        lifecycle,
        uploads: uploads.into_iter().map(|(_, u)| u).collect(),
        uploads_truncated: truncated,
        standard_bytes: None,
        objects: None,
    };
    (Some(b), calls)
}

/// Whether a filter is on a key prefix only (`Some(prefix)`), or also on tags or sizes (`None`).
fn prefix_only(f: &LifecycleRuleFilter) -> Option<String> {
    let sized = f.object_size_greater_than().is_some() || f.object_size_less_than().is_some();
    if f.tag().is_some() || sized {
        return None;
    }
    match f.and() {
        Some(a) => {
            let other =
                !a.tags().is_empty() || a.object_size_greater_than().is_some() || a.object_size_less_than().is_some();
            (!other).then(|| a.prefix().unwrap_or_default().to_owned())
        }
        None => Some(f.prefix().unwrap_or_default().to_owned()),
    }
}

pub fn rule(r: &aws_sdk_s3::types::LifecycleRule) -> LifecycleRule {
    // Rules written before filters carry their own (deprecated) Prefix; neither means every key.
    #[allow(deprecated)]
    let legacy = r.prefix().unwrap_or_default().to_owned();
    let prefix = match r.filter() {
        Some(f) => prefix_only(f),
        None => Some(legacy),
    };
    let expires_current = r.expiration().is_some_and(|e| e.days().is_some() || e.date().is_some());
    LifecycleRule {
        id: r.id().map(str::to_owned),
        enabled: *r.status() == ExpirationStatus::Enabled,
        prefix,
        abort_incomplete_days: r
            .abort_incomplete_multipart_upload()
            .and_then(|a| a.days_after_initiation())
            .and_then(|d| u32::try_from(d).ok()),
        transitions: !r.transitions().is_empty(),
        expires_current,
        noncurrent: r.noncurrent_version_expiration().is_some() || !r.noncurrent_version_transitions().is_empty(),
    }
}

/// The bucket's uploads with their upload ids, and whether there were more pages; `None` when
/// a page failed.
async fn uploads(c: &Client, bucket: &str, calls: &mut Calls) -> Option<(Vec<(String, MultipartUpload)>, bool)> {
    let mut out = Vec::new();
    let (mut key_marker, mut id_marker) = (None, None);
    for _ in 0..MAX_UPLOAD_PAGES {
        let page = c
            .list_multipart_uploads()
            .bucket(bucket)
            .set_key_marker(key_marker.take())
            .set_upload_id_marker(id_marker.take())
            .send()
            .await;
        let Answer::Got(page) = answer(calls, "s3:ListBucketMultipartUploads", page, GONE) else { return None };
        for u in page.uploads() {
            let (Some(key), Some(id)) = (u.key(), u.upload_id()) else { continue };
            let upload = MultipartUpload { key: key.to_owned(), initiated: time(u.initiated()), size_bytes: None };
            out.push((id.to_owned(), upload));
        }
        if page.is_truncated() != Some(true) {
            return Some((out, false));
        }
        key_marker = page.next_key_marker().map(str::to_owned);
        id_marker = page.next_upload_id_marker().map(str::to_owned);
        if key_marker.is_none() && id_marker.is_none() {
            return Some((out, false));
        }
    }
    Some((out, true))
}

/// Σ part sizes (ListParts) of the oldest uploads no lifecycle rule aborts.
async fn size_oldest(
    c: &Client,
    bucket: &str,
    rules: &[LifecycleRule],
    uploads: &mut [(String, MultipartUpload)],
    calls: &mut Calls,
) {
    let mut order: Vec<usize> = (0..uploads.len())
        .filter(|&i| !costradar_core::rules::s3::aborted_by_lifecycle(rules, &uploads[i].1.key))
        .collect();
    order.sort_by_key(|&i| uploads[i].1.initiated);
    for i in order.into_iter().take(MAX_SIZED_UPLOADS) {
        let (id, u) = &uploads[i];
        let mut pages = c.list_parts().bucket(bucket).key(&u.key).upload_id(id).max_parts(1000).into_paginator().send();
        let mut total = Some(0_u64);
        while let Some(page) = pages.next().await {
            // An upload completed or aborted meanwhile has no size to give.
            match answer(calls, "s3:ListMultipartUploadParts", page, &["NoSuchUpload", "NoSuchBucket"]) {
                Answer::Got(p) => {
                    let bytes: u64 = p.parts().iter().map(|part| part.size().unwrap_or(0).max(0) as u64).sum();
                    total = total.map(|t| t + bytes);
                }
                _ => {
                    total = None;
                    break;
                }
            }
        }
        uploads[i].1.size_bytes = total;
    }
}
