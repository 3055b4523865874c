//! A CUR 2.0 export in S3 (moto) read by the embedded engine: only the periods asked for are
//! fetched, a second sync fetches nothing, a file gone from S3 leaves the cache, hostile keys
//! never write outside it, and the analysis of the fetched export equals the local one.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_s3::primitives::ByteStream;
use costradar_core::cur::analysis::{analyse, AnalysisOptions};
use costradar_core::cur::queries::{PeriodRange, YearMonth};
use costradar_core::cur::QueryError;
use costradar_cur_local::embedded::EmbeddedEngine;
use costradar_cur_local::generate::{generate, GeneratorConfig};
use costradar_cur_local::s3_export::{self, S3Location};

fn scratch(name: &str) -> PathBuf {
    costradar_tests::scratch(env!("CARGO_TARGET_TMPDIR"), &format!("cur-s3-{name}"))
}

fn ym(s: &str) -> YearMonth {
    YearMonth::parse(s).unwrap()
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

fn bucket_name() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("cur-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: Vec<u8>) {
    s3.put_object().bucket(bucket).key(key).body(ByteStream::from(body)).send().await.expect("put object");
}

#[tokio::test]
async fn an_s3_export_is_fetched_by_period_cached_and_analysed_like_a_local_one() {
    let local = scratch("local");
    let cfg = GeneratorConfig { rows: 12_000, seed: 11, months: 3, ..GeneratorConfig::default() };
    let gt = generate(&cfg, &local).expect("generate");
    assert_eq!(gt.periods.len(), 3);

    let s3 = s3_export::client(&costradar_tests::sdk_config().await);
    let bucket = bucket_name();
    s3.create_bucket().bucket(&bucket).send().await.expect("create bucket");
    let data = files(&local).into_iter().filter(|f| f.starts_with("data/")).collect::<Vec<_>>();
    assert!(!data.is_empty());
    for f in &data {
        put(&s3, &bucket, &format!("exports/acme/{f}"), std::fs::read(local.join(f)).unwrap()).await;
    }
    // What a real export also holds, and hostile keys.
    put(&s3, &bucket, "exports/acme/metadata/BILLING_PERIOD=2025-01/acme-Manifest.json", b"{}".to_vec()).await;
    let p1 = &gt.periods[1];
    put(&s3, &bucket, &format!("exports/acme/data/BILLING_PERIOD={p1}/../../../../escaped.parquet"), b"x".to_vec())
        .await;
    put(&s3, &bucket, "exports/acme/data/BILLING_PERIOD=2025-13/bad.parquet", b"x".to_vec()).await;

    let loc = S3Location::parse(&format!("s3://{bucket}/exports/acme")).unwrap();
    let root = scratch("cache");
    let cache = loc.cache_dir(&root);
    let (from, to) = (ym(&gt.periods[1]), ym(&gt.periods[2]));
    let report = s3_export::sync_export(&s3, &loc, Some(from), Some(to), &cache).await.expect("sync");
    let wanted: Vec<&String> =
        data.iter().filter(|f| !f.contains(&format!("BILLING_PERIOD={}", gt.periods[0]))).collect();
    assert_eq!(report.periods, gt.periods[1..].to_vec(), "only the periods asked for");
    assert_eq!(report.files_fetched, wanted.len());
    assert_eq!(report.files_cached, 0);
    assert_eq!(report.skipped, 3, "the manifest and the two hostile keys");
    // Nothing outside the cache; the cache is the export's partitions plus the manifest.
    assert_eq!(files(&root).len(), wanted.len() + 1, "{:?}", files(&root));
    assert!(files(&root).iter().all(|f| f.ends_with(".costradar-s3.json") || f.contains("/BILLING_PERIOD=")));

    // The same analysis as on the local export, for the same periods.
    let range = PeriodRange::new(from, to).unwrap();
    let opts = AnalysisOptions::default();
    let remote_engine = EmbeddedEngine::open_cur(&cache).await.expect("open the cache");
    let local_engine = EmbeddedEngine::open_cur(&local).await.unwrap();
    let a = analyse(&remote_engine, &remote_engine.library(), &range, &opts).await.unwrap();
    let b = analyse(&local_engine, &local_engine.library(), &range, &opts).await.unwrap();
    assert_eq!(a.spend, b.spend);
    assert_eq!(a.findings, b.findings);
    assert!(!a.spend.is_empty());

    // Again: nothing fetched.
    let again = s3_export::sync_export(&s3, &loc, Some(from), Some(to), &cache).await.unwrap();
    assert_eq!((again.files_fetched, again.files_cached, again.bytes_fetched), (0, wanted.len(), 0));

    // A file deleted from S3 leaves the cache; a changed one (new ETag) is fetched again.
    assert!(wanted.len() >= 2);
    let (gone, changed) = (wanted[0], wanted[1]);
    s3.delete_object().bucket(&bucket).key(format!("exports/acme/{gone}")).send().await.unwrap();
    put(&s3, &bucket, &format!("exports/acme/{changed}"), std::fs::read(local.join(gone)).unwrap()).await;
    let third = s3_export::sync_export(&s3, &loc, Some(from), Some(to), &cache).await.unwrap();
    assert_eq!((third.files_removed, third.files_fetched), (1, 1));
    assert!(!cache.join(gone.trim_start_matches("data/")).exists());
}

#[tokio::test]
async fn bad_locations_and_missing_exports_are_clear_errors_and_write_nothing() {
    let s3 = s3_export::client(&costradar_tests::sdk_config().await);
    let root = scratch("errors");
    // No such bucket.
    let loc = S3Location::parse(&format!("s3://{}/x", bucket_name())).unwrap();
    let err = s3_export::sync_export(&s3, &loc, None, None, &loc.cache_dir(&root)).await.unwrap_err();
    assert!(matches!(&err, QueryError::InvalidData(m) if m.contains("NoSuchBucket")), "{err}");
    // A bucket without an export under the prefix, or without the periods asked for.
    let bucket = bucket_name();
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    put(&s3, &bucket, "exports/acme/data/BILLING_PERIOD=2025-01/part-0.parquet", b"PAR1".to_vec()).await;
    let loc = S3Location::parse(&format!("s3://{bucket}/exports/other")).unwrap();
    let err = s3_export::sync_export(&s3, &loc, None, None, &loc.cache_dir(&root)).await.unwrap_err();
    assert!(err.to_string().contains("no Parquet files under"), "{err}");
    let loc = S3Location::parse(&format!("s3://{bucket}/exports/acme")).unwrap();
    let err = s3_export::sync_export(&s3, &loc, Some(ym("2026-01")), None, &loc.cache_dir(&root)).await.unwrap_err();
    assert!(err.to_string().contains("2026-01 to the last"), "{err}");
    assert!(!root.exists(), "an error leaves no cache behind");
    // A fetched file that is not Parquet is the engine's clear error, not a panic.
    let cache = loc.cache_dir(&root);
    s3_export::sync_export(&s3, &loc, None, None, &cache).await.unwrap();
    let err = EmbeddedEngine::open_cur(&cache).await.err().expect("a corrupt file is refused");
    assert!(matches!(err, QueryError::InvalidData(_)), "{err}");
}
