//! Bad CUR and FOCUS inputs on the embedded engine: each is refused with an error that says
//! what is wrong, before any analysis runs.

use std::path::{Path, PathBuf};

use costradar_core::cur::QueryError;
use costradar_cur_local::embedded::EmbeddedEngine;
use costradar_cur_local::generate::{generate, GeneratorConfig};
use datafusion::prelude::{ParquetReadOptions, SessionContext};

fn scratch(name: &str) -> PathBuf {
    costradar_tests::scratch(env!("CARGO_TARGET_TMPDIR"), &format!("curbad-{name}"))
}

/// A small valid export to derive bad ones from.
fn source() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch("source");
        generate(&GeneratorConfig { rows: 6_000, months: 1, accounts: 2, ..GeneratorConfig::default() }, &dir).unwrap();
        dir
    })
    .clone()
}

/// Writes `select` over the valid export's columns as one Parquet partition of a new export.
async fn derived(name: &str, select: &str) -> PathBuf {
    let ctx = SessionContext::new();
    let src = source().join("data").join("BILLING_PERIOD=2025-01");
    ctx.register_parquet("src", &format!("{}/", src.display()), ParquetReadOptions::default()).await.unwrap();
    let dir = scratch(name);
    let part = dir.join("data").join("BILLING_PERIOD=2025-01");
    std::fs::create_dir_all(&part).unwrap();
    let file = part.join("part-00000.parquet");
    let df = ctx.sql(&format!("SELECT {select} FROM src")).await.unwrap();
    df.write_parquet(
        file.to_str().unwrap(),
        datafusion::dataframe::DataFrameWriteOptions::new().with_single_file_output(true),
        None,
    )
    .await
    .unwrap();
    dir
}

fn invalid(r: Result<EmbeddedEngine, QueryError>) -> String {
    match r {
        Err(QueryError::InvalidData(m)) => m,
        Err(e) => panic!("expected InvalidData, got {e:?}"),
        Ok(_) => panic!("a bad input was accepted"),
    }
}

const ALL_BUT_COST: &str = "bill_billing_period_start_date, bill_payer_account_id, line_item_usage_account_id, line_item_line_item_type, line_item_usage_start_date, line_item_usage_end_date, line_item_product_code, line_item_usage_type, line_item_operation, line_item_resource_id, line_item_usage_amount, line_item_line_item_description, product_region_code, product_instance_type, pricing_term, pricing_public_on_demand_cost, savings_plan_savings_plan_a_r_n, savings_plan_savings_plan_effective_cost, savings_plan_used_commitment, savings_plan_total_commitment_to_date, reservation_reservation_a_r_n, reservation_effective_cost, reservation_unused_amortized_upfront_fee_for_billing_period, reservation_unused_recurring_fee";

#[tokio::test]
async fn missing_columns_are_named() {
    let dir = derived("missing", ALL_BUT_COST).await;
    let m = invalid(EmbeddedEngine::open_cur(&dir).await);
    assert!(
        m.contains("missing columns") && m.contains("line_item_unblended_cost") && m.contains("resource_tags"),
        "{m}"
    );
}

#[tokio::test]
async fn wrong_types_are_named() {
    let dir = derived(
        "types",
        &format!(
            "{ALL_BUT_COST}, CAST(line_item_unblended_cost AS VARCHAR) AS line_item_unblended_cost, resource_tags"
        ),
    )
    .await;
    let m = invalid(EmbeddedEngine::open_cur(&dir).await);
    assert!(
        m.contains("wrong column types") && m.contains("line_item_unblended_cost is Utf8") && m.contains("a number"),
        "{m}"
    );
}

#[tokio::test]
async fn a_corrupt_parquet_file_is_refused() {
    let dir = scratch("corrupt");
    let part = dir.join("BILLING_PERIOD=2025-01");
    std::fs::create_dir_all(&part).unwrap();
    std::fs::write(part.join("export-00001.snappy.parquet"), b"PAR1 this is not a parquet file at all PAR1").unwrap();
    let m = invalid(EmbeddedEngine::open_cur(&dir).await);
    assert!(m.contains("cannot read the CUR Parquet files") && m.to_lowercase().contains("parquet"), "{m}");
    // A truncated real file, too.
    let dir = scratch("truncated");
    let part = dir.join("data").join("BILLING_PERIOD=2025-01");
    std::fs::create_dir_all(&part).unwrap();
    let good = std::fs::read_dir(source().join("data").join("BILLING_PERIOD=2025-01"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let bytes = std::fs::read(good).unwrap();
    std::fs::write(part.join("x.parquet"), &bytes[..bytes.len() / 2]).unwrap();
    let m = invalid(EmbeddedEngine::open_cur(&dir).await);
    assert!(m.contains("cannot read the CUR Parquet files"), "{m}");
}

#[tokio::test]
async fn not_an_export_directory() {
    let dir = scratch("empty");
    std::fs::create_dir_all(&dir).unwrap();
    let m = invalid(EmbeddedEngine::open_cur(&dir).await);
    assert!(m.contains("no BILLING_PERIOD=YYYY-MM partitions"), "{m}");
    let m = invalid(EmbeddedEngine::open_cur(&dir.join("nope")).await);
    assert!(m.contains("is not a directory"), "{m}");
    std::fs::create_dir_all(dir.join("BILLING_PERIOD=2025-13")).unwrap();
    let m = invalid(EmbeddedEngine::open_cur(&dir).await);
    assert!(m.contains("BILLING_PERIOD=2025-13") && m.contains("YYYY-MM"), "{m}");
}

const FOCUS_10: &str = "BillingPeriodStart,ChargePeriodStart,ProviderName,SubAccountId,ServiceName,RegionId,ResourceId,ChargeCategory,ChargeDescription,BilledCost,EffectiveCost,ListCost,ConsumedQuantity,PricingCategory";
const FOCUS_ROW: &str = "2025-03-01T00:00:00Z,2025-03-02T00:00:00Z,AWS,111122223333,Amazon S3,us-east-1,bucket,Usage,storage,1.50,1.50,1.50,10,Standard";

fn focus_file(name: &str, header: &str, row: &str, ext: &str) -> PathBuf {
    let dir = scratch(name);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("focus.{ext}"));
    std::fs::write(&path, format!("{header}\n{row}\n")).unwrap();
    path
}

#[tokio::test]
async fn focus_of_the_wrong_version_is_refused() {
    let v12 =
        focus_file("v12", &format!("{FOCUS_10},InvoiceId,PricingCurrency"), &format!("{FOCUS_ROW},inv-1,USD"), "csv");
    let m = invalid(EmbeddedEngine::open_focus(&v12).await);
    assert!(m.contains("FOCUS 1.2") && m.contains("InvoiceId") && m.contains("reads FOCUS 1.0 and 1.1"), "{m}");

    let v05 = focus_file(
        "v05",
        &FOCUS_10.replace("EffectiveCost", "AmortizedCost").replace("ChargeCategory", "ChargeType"),
        FOCUS_ROW,
        "csv",
    );
    let m = invalid(EmbeddedEngine::open_focus(&v05).await);
    assert!(m.contains("FOCUS 0.5") && m.contains("AmortizedCost"), "{m}");
}

#[tokio::test]
async fn focus_bad_columns_types_and_files() {
    let missing =
        focus_file("fmissing", &FOCUS_10.replace(",BilledCost", ""), &FOCUS_ROW.replacen(",1.50", "", 1), "csv");
    let m = invalid(EmbeddedEngine::open_focus(&missing).await);
    assert!(m.contains("missing columns") && m.contains("BilledCost"), "{m}");

    // A value that is not a number: its column, its row and the value. The second data row,
    // whatever rows before it hold (NULL and empty are missing values, not errors).
    let rows = format!("{}\n{}", FOCUS_ROW.replacen("1.50", "NULL", 1), FOCUS_ROW.replacen("1.50", "one fifty", 1));
    let wrong = focus_file("ftype", FOCUS_10, &rows, "csv");
    let m = invalid(EmbeddedEngine::open_focus(&wrong).await);
    assert!(m.contains("BilledCost on row 2 is \"one fifty\", not a number"), "{m}");
    for (what, value) in [("infinite", "inf"), ("not a number", "NaN"), ("hex", "0x10")] {
        let rows = FOCUS_ROW.replacen(",10,", &format!(",{value},"), 1);
        let m = invalid(EmbeddedEngine::open_focus(&focus_file("fnum", FOCUS_10, &rows, "csv")).await);
        assert!(m.contains(&format!("ConsumedQuantity on row 1 is \"{value}\"")), "{what}: {m}");
    }
    // A gzip name over plain text is a clear error, not a panic.
    let fake_gz = focus_file("fgz", FOCUS_10, FOCUS_ROW, "csv.gz");
    let m = invalid(EmbeddedEngine::open_focus(&fake_gz).await);
    assert!(m.contains("cannot read"), "{m}");

    let txt = focus_file("fext", FOCUS_10, FOCUS_ROW, "txt");
    let m = invalid(EmbeddedEngine::open_focus(&txt).await);
    assert!(m.contains("must be .csv, .csv.gz or .parquet"), "{m}");

    let corrupt = focus_file("fcorrupt", "garbage", "", "parquet");
    let m = invalid(EmbeddedEngine::open_focus(&corrupt).await);
    assert!(m.contains("cannot read"), "{m}");

    let m = invalid(EmbeddedEngine::open_focus(Path::new("/nonexistent/focus.csv")).await);
    assert!(m.contains("is not a file"), "{m}");
}
