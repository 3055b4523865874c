//! CUR 2.0 exports in S3 for the embedded engine. `s3://bucket/prefix` names the export's root
//! (holding `data/BILLING_PERIOD=YYYY-MM/`) or its `data/` folder. Only the billing periods asked
//! for are fetched: partition pruning happens at the listing, before a byte is downloaded. The
//! Parquet files go to a local cache laid out like an export, where a file already fetched with
//! the same ETag and size is not fetched again and a file gone from S3 is removed; the engine
//! then reads the cache like a local export (`EmbeddedEngine::open_cur`).
//!
//! Keys are untrusted: a file lands in the cache only under a name built from a parsed billing
//! period and a plain file name, so no key can write outside the cache.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use serde::Serialize;

use costradar_core::cur::queries::YearMonth;
use costradar_core::cur::QueryError;

/// Where the cache records what it fetched (key -> ETag).
const MANIFEST: &str = ".costradar-s3.json";

/// `s3://bucket/prefix`, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// Empty, or ends with `/`.
    pub prefix: String,
}

impl S3Location {
    pub fn parse(url: &str) -> Result<Self, QueryError> {
        let bad = |why: &str| QueryError::InvalidData(format!("{url:?} is not an S3 export location: {why}"));
        let rest = url.strip_prefix("s3://").ok_or_else(|| bad("expected s3://bucket/prefix"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
            && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !bucket_ok {
            return Err(bad("the bucket name is 3 to 63 of a-z, 0-9, '.' and '-'"));
        }
        if prefix.len() > 1024 || prefix.chars().any(char::is_control) {
            return Err(bad("the prefix is at most 1024 printable characters"));
        }
        let prefix = prefix.trim_matches('/');
        if prefix.split('/').any(|s| s == ".." || s == ".") || prefix.contains("//") {
            return Err(bad("the prefix has an empty, '.' or '..' segment"));
        }
        let prefix = if prefix.is_empty() { String::new() } else { format!("{prefix}/") };
        Ok(Self { bucket: bucket.to_owned(), prefix })
    }

    /// A cache folder for this location under `root`: `root/<bucket>/<prefix>`.
    pub fn cache_dir(&self, root: &Path) -> PathBuf {
        let mut dir = root.join(&self.bucket);
        for seg in self.prefix.split('/').filter(|s| !s.is_empty()) {
            dir.push(seg);
        }
        dir
    }
}

impl std::fmt::Display for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// What a sync did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// The billing periods now in the cache.
    pub periods: Vec<String>,
    pub files_fetched: usize,
    pub bytes_fetched: u64,
    pub files_cached: usize,
    pub files_removed: usize,
    /// Keys under the prefix that are not Parquet files of a billing-period partition (the
    /// export's metadata and manifests, anything else): left alone.
    pub skipped: usize,
}

#[derive(Debug)]
struct Remote {
    key: String,
    period: YearMonth,
    file: String,
    etag: String,
    size: u64,
}

impl Remote {
    /// Its path in the cache, relative: also its key in the manifest.
    fn rel(&self) -> String {
        format!("BILLING_PERIOD={}/{}", self.period, self.file)
    }
}

fn in_range(period: YearMonth, from: Option<YearMonth>, to: Option<YearMonth>) -> bool {
    from.is_none_or(|f| period >= f) && to.is_none_or(|t| period <= t)
}

/// `[data/]BILLING_PERIOD=YYYY-MM/<file>.parquet` relative to the prefix, or `None`.
fn partition_file(relative: &str) -> Option<(YearMonth, String)> {
    let relative = relative.strip_prefix("data/").unwrap_or(relative);
    let (dir, file) = relative.split_once('/')?;
    let period = YearMonth::parse(dir.strip_prefix("BILLING_PERIOD=")?).ok()?;
    let plain = !file.is_empty()
        && file.len() <= 255
        && !file.starts_with('.')
        && !file.contains(['/', '\\', '\0'])
        && file.ends_with(".parquet");
    plain.then(|| (period, file.to_owned()))
}

fn s3_error<E: ProvideErrorMetadata + std::error::Error + 'static>(
    what: &str,
    e: aws_sdk_s3::error::SdkError<E>,
) -> QueryError {
    let code = e.code().unwrap_or_default().to_owned();
    let detail = DisplayErrorContext(&e).to_string();
    match code.as_str() {
        "NoSuchBucket" | "AccessDenied" | "AllBucketsBlocked" | "InvalidBucketName" | "PermanentRedirect" => {
            QueryError::InvalidData(format!("{what}: {code}: {}", e.message().unwrap_or(&detail)))
        }
        _ => QueryError::Transient(format!("{what}: {detail}")),
    }
}

/// An S3 client for exports: path-style addressing when an endpoint URL is set (an emulator on
/// loopback has no per-bucket host names).
pub fn client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(sdk).force_path_style(sdk.endpoint_url().is_some()).build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// Fetches the export's partitions from `from` to `to` (each end open when `None`) into `cache`.
/// The cache keeps periods of earlier syncs, so an engine over it may see more periods than were
/// asked for: callers analyse the same range.
pub async fn sync_export(
    client: &aws_sdk_s3::Client,
    loc: &S3Location,
    from: Option<YearMonth>,
    to: Option<YearMonth>,
    cache: &Path,
) -> Result<SyncReport, QueryError> {
    let mut report = SyncReport::default();
    let remote = list_remote(client, loc, from, to, &mut report).await?;
    if remote.is_empty() {
        return Err(no_files(loc, from, to));
    }
    std::fs::create_dir_all(cache).map_err(|e| local_err(cache, e))?;
    let manifest_path = cache.join(MANIFEST);
    let mut manifest: BTreeMap<String, String> =
        std::fs::read(&manifest_path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();

    let periods: BTreeSet<YearMonth> = remote.iter().map(|r| r.period).collect();
    for r in &remote {
        sync_file(client, loc, r, cache, &mut manifest, &mut report).await?;
    }
    remove_gone(cache, &remote, &periods, from, to, &mut manifest, &mut report)?;
    let json = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
    std::fs::write(&manifest_path, json).map_err(|e| local_err(&manifest_path, e))?;
    report.periods = periods.iter().map(ToString::to_string).collect();
    Ok(report)
}

/// Lists the partition files from `from` to `to` under the location, counting other keys as skipped.
async fn list_remote(
    client: &aws_sdk_s3::Client,
    loc: &S3Location,
    from: Option<YearMonth>,
    to: Option<YearMonth>,
    report: &mut SyncReport,
) -> Result<Vec<Remote>, QueryError> {
    let mut remote = Vec::new();
    let mut pages = client.list_objects_v2().bucket(&loc.bucket).prefix(&loc.prefix).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| s3_error(&format!("listing {loc}"), e))?;
        for o in page.contents() {
            let key = o.key().unwrap_or_default();
            let Some((period, file)) = key.strip_prefix(loc.prefix.as_str()).and_then(partition_file) else {
                report.skipped += 1;
                continue;
            };
            if in_range(period, from, to) {
                let etag = o.e_tag().unwrap_or_default().to_owned();
                let size = o.size().unwrap_or(0).max(0) as u64;
                remote.push(Remote { key: key.to_owned(), period, file, etag, size });
            }
        }
    }
    Ok(remote)
}

/// The error when the location has no partition files from `from` to `to`.
fn no_files(loc: &S3Location, from: Option<YearMonth>, to: Option<YearMonth>) -> QueryError {
    let end = |m: Option<YearMonth>, open: &str| m.map_or(open.to_owned(), |m| m.to_string());
    let which = format!("{} to {}", end(from, "the first period"), end(to, "the last"));
    QueryError::InvalidData(format!(
        "no Parquet files under {loc}[data/]BILLING_PERIOD=YYYY-MM/ for {which}: not a CUR 2.0 export, or not those periods"
    ))
}

/// An error on a local file or folder of the cache.
fn local_err(p: &Path, e: std::io::Error) -> QueryError {
    QueryError::InvalidData(format!("{}: {e}", p.display()))
}

/// Fetches one remote file into the cache, unless the cache has it already with the same ETag and size.
async fn sync_file(
    client: &aws_sdk_s3::Client,
    loc: &S3Location,
    r: &Remote,
    cache: &Path,
    manifest: &mut BTreeMap<String, String>,
    report: &mut SyncReport,
) -> Result<(), QueryError> {
    let rel = r.rel();
    let path = cache.join(&rel);
    let dir = path.parent().expect("a partition folder").to_path_buf();
    let current = std::fs::metadata(&path).is_ok_and(|m| m.len() == r.size)
        && manifest.get(&rel).is_some_and(|etag| *etag == r.etag);
    if current {
        report.files_cached += 1;
        return Ok(());
    }
    std::fs::create_dir_all(&dir).map_err(|e| local_err(&dir, e))?;
    let written = download(client, loc, r, &dir, &path).await?;
    manifest.insert(rel, r.etag.clone());
    report.files_fetched += 1;
    report.bytes_fetched += written;
    Ok(())
}

/// Downloads one remote file to `path` in the folder `dir`, and returns the bytes written.
async fn download(
    client: &aws_sdk_s3::Client,
    loc: &S3Location,
    r: &Remote,
    dir: &Path,
    path: &Path,
) -> Result<u64, QueryError> {
    let obj = client
        .get_object()
        .bucket(&loc.bucket)
        .key(&r.key)
        .send()
        .await
        .map_err(|e| s3_error(&format!("s3://{}/{}", loc.bucket, r.key), e))?;
    // Streamed to a file aside, then renamed: a CUR file can be hundreds of MB, and an
    // interrupted fetch never leaves half a file in place.
    let partial = dir.join(format!(".{}.partial", r.file));
    let mut out = std::fs::File::create(&partial).map_err(|e| local_err(&partial, e))?;
    let mut body = obj.body;
    let mut written = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| QueryError::Transient(format!("s3://{}/{}: {e}", loc.bucket, r.key)))?;
        std::io::Write::write_all(&mut out, &chunk).map_err(|e| local_err(&partial, e))?;
        written += chunk.len() as u64;
    }
    out.sync_all().map_err(|e| local_err(&partial, e))?;
    std::fs::rename(&partial, path).map_err(|e| local_err(path, e))?;
    Ok(written)
}

/// Removes the cached files of the periods in range that S3 no longer has, whole periods included.
fn remove_gone(
    cache: &Path,
    remote: &[Remote],
    periods: &BTreeSet<YearMonth>,
    from: Option<YearMonth>,
    to: Option<YearMonth>,
    manifest: &mut BTreeMap<String, String>,
    report: &mut SyncReport,
) -> Result<(), QueryError> {
    let wanted: BTreeSet<String> = remote.iter().map(Remote::rel).collect();
    for entry in std::fs::read_dir(cache).map_err(|e| local_err(cache, e))? {
        let dir = entry.map_err(|e| local_err(cache, e))?.path();
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let Some(period) = name.strip_prefix("BILLING_PERIOD=").and_then(|p| YearMonth::parse(p).ok()) else {
            continue;
        };
        if !dir.is_dir() || !in_range(period, from, to) {
            continue;
        }
        for entry in std::fs::read_dir(&dir).map_err(|e| local_err(&dir, e))? {
            let entry = entry.map_err(|e| local_err(&dir, e))?;
            let rel = format!("{name}/{}", entry.file_name().to_string_lossy());
            if !wanted.contains(&rel) {
                std::fs::remove_file(entry.path()).map_err(|e| local_err(&entry.path(), e))?;
                manifest.remove(&rel);
                report.files_removed += 1;
            }
        }
        if !periods.contains(&period) {
            std::fs::remove_dir(&dir).map_err(|e| local_err(&dir, e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_strictly() {
        let l = S3Location::parse("s3://my-cur.bucket/exports/acme/").unwrap();
        assert_eq!((l.bucket.as_str(), l.prefix.as_str()), ("my-cur.bucket", "exports/acme/"));
        assert_eq!(S3Location::parse("s3://bucket").unwrap().prefix, "");
        for bad in [
            "",
            "bucket/prefix",
            "https://bucket.s3.amazonaws.com/x",
            "s3://",
            "s3://ab/x",
            "s3://Upper/x",
            "s3://-bucket/x",
            "s3://bucket_/x",
            "s3://bucket/../etc",
            "s3://bucket/a/./b",
            "s3://bucket/a//b",
            "s3://bucket/a\nb",
        ] {
            assert!(matches!(S3Location::parse(bad), Err(QueryError::InvalidData(_))), "{bad:?}");
        }
    }

    #[test]
    fn only_parquet_files_of_a_partition_are_taken() {
        let ym = |s: &str| YearMonth::parse(s).unwrap();
        assert_eq!(
            partition_file("data/BILLING_PERIOD=2025-01/part-0.parquet"),
            Some((ym("2025-01"), "part-0.parquet".into()))
        );
        assert_eq!(partition_file("BILLING_PERIOD=2025-02/x.parquet"), Some((ym("2025-02"), "x.parquet".into())));
        for skipped in [
            "metadata/BILLING_PERIOD=2025-01/manifest.json",
            "data/BILLING_PERIOD=2025-01/readme.txt",
            "data/BILLING_PERIOD=2025-13/x.parquet",
            "data/BILLING_PERIOD=2025-01/../../../evil.parquet",
            "data/BILLING_PERIOD=2025-01/sub/x.parquet",
            "data/BILLING_PERIOD=2025-01/.hidden.parquet",
            "data/BILLING_PERIOD=2025-01/",
            "data/x.parquet",
        ] {
            assert_eq!(partition_file(skipped), None, "{skipped}");
        }
    }

    #[test]
    fn the_cache_folder_follows_the_location() {
        let l = S3Location::parse("s3://bucket/exports/acme").unwrap();
        assert_eq!(l.cache_dir(Path::new("/c")), PathBuf::from("/c/bucket/exports/acme"));
        assert_eq!(l.to_string(), "s3://bucket/exports/acme/");
    }
}
