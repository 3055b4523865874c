//! The embedded query engine: Apache DataFusion over local files, for local runs and small
//! tenants (in `costradar-cur-local`, which no Lambda links).
//!
//! - A CUR 2.0 export: a directory laid out as the export writes it,
//!   `[data/]BILLING_PERIOD=YYYY-MM/*.parquet`. The partition column is exposed as
//!   `billing_period` (what Glue calls it on Athena), so the library's period filter prunes
//!   whole partitions here as it does there.
//! - A FOCUS 1.0/1.1 file, CSV (plain or gzip) or Parquet, any provider. A CSV is typed by the
//!   specification, not by inference, and `NULL` reads as a missing value. Its conditional columns (tags,
//!   commitment discounts) are always present in the table the library reads, `NULL` when the
//!   file lacks them, and `Tags` is a map as on Athena, even where a CSV holds JSON text.
//!
//! An export in S3 is first synced into a local cache (`s3_export`); the production path for
//! data in S3 is Athena.
//!
//! The library's `?` placeholders become DataFusion's `$1..$n` and are bound as values, never
//! formatted into the text: that rewrite is the whole dialect layer.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, MapBuilder, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Float64Type, Int64Type, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::ScalarValue;
use datafusion::error::DataFusionError;
use datafusion::logical_expr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionConfig, SessionContext};
use rust_decimal::Decimal;

use costradar_core::cur::engine::{Cell, QueryEngine, QueryError, QueryRequest, ResultSet};
use costradar_core::cur::focus::{detect_version, FocusVersion};
use costradar_core::cur::queries::{
    required_columns, scan_placeholders, ColumnKind, Library, PeriodRange, Schema, YearMonth, FOCUS_OPTIONAL_COLUMNS,
};

/// Table names the library is bound to on this engine.
pub const CUR_TABLE: &str = "cur";
pub const FOCUS_TABLE: &str = "focus";

pub struct EmbeddedEngine {
    ctx: SessionContext,
    schema: Schema,
    /// Billing periods present (CUR: the partitions; FOCUS: from the data).
    periods: Vec<YearMonth>,
    focus_version: Option<FocusVersion>,
    source: PathBuf,
    /// The CUR export's data root (holding the partitions).
    root: Option<PathBuf>,
}

/// What a query would read on Athena: the partitions its period filter keeps and, in their
/// files, the compressed column chunks of the columns it uses (Parquet is columnar; Athena bills
/// the bytes it reads). Computed from the optimized plan and the files' footers.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ScanEstimate {
    pub columns: Vec<String>,
    pub partitions: Vec<String>,
    pub files: usize,
    pub rows: u64,
    /// Bytes of the used columns in the kept partitions.
    pub bytes: u64,
    /// Every column chunk of every partition: what a query without pruning or projection reads.
    pub total_bytes: u64,
}

fn invalid(e: impl std::fmt::Display) -> QueryError {
    QueryError::InvalidData(e.to_string())
}

/// DataFusion's errors, sorted into the port's: anything about the data (schema, types, casts,
/// Parquet or CSV decoding) is `InvalidData`; the rest is a failed query.
fn map_df(e: DataFusionError) -> QueryError {
    let msg = e.to_string();
    let data = matches!(
        e.find_root(),
        DataFusionError::ArrowError(..) | DataFusionError::ParquetError(..) | DataFusionError::SchemaError(..)
    ) || msg.contains("Cast error")
        || msg.contains("No field named")
        || msg.contains("Parquet error")
        || msg.contains("Error parsing");
    if data {
        QueryError::InvalidData(msg)
    } else {
        QueryError::Failed(msg)
    }
}

fn session() -> SessionContext {
    let config =
        SessionConfig::new().with_target_partitions(std::thread::available_parallelism().map_or(2, |n| n.get()));
    SessionContext::new_with_config(config)
}

/// `BILLING_PERIOD=YYYY-MM` directories under the export's data root.
fn partitions(root: &Path) -> Result<Vec<YearMonth>, QueryError> {
    let entries = std::fs::read_dir(root).map_err(|e| invalid(format!("cannot read {}: {e}", root.display())))?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(p) = name.strip_prefix("BILLING_PERIOD=") {
            if entry.path().is_dir() {
                let m =
                    YearMonth::parse(p).map_err(|e| invalid(format!("{}: partition {name}: {e}", root.display())))?;
                out.push(m);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Checks a Parquet file's frame (magic bytes, footer length) before the reader sees it: a
/// footer that claims more bytes than the file has makes the reader panic in debug builds, and a
/// hostile file must be an error, not a crash.
fn check_parquet_frame(path: &Path) -> Result<(), QueryError> {
    use std::io::{Read, Seek, SeekFrom};
    let corrupt = |why: &str| invalid(format!("corrupt Parquet file {}: {why}", path.display()));
    let mut f = std::fs::File::open(path).map_err(|e| invalid(format!("{}: {e}", path.display())))?;
    let len = f.metadata().map_err(|e| invalid(format!("{}: {e}", path.display())))?.len();
    if len < 12 {
        return Err(corrupt("too short to be Parquet"));
    }
    let mut head = [0u8; 4];
    let mut tail = [0u8; 8];
    f.read_exact(&mut head).map_err(|e| corrupt(&e.to_string()))?;
    f.seek(SeekFrom::End(-8)).and_then(|_| f.read_exact(&mut tail)).map_err(|e| corrupt(&e.to_string()))?;
    if &head != b"PAR1" || &tail[4..] != b"PAR1" {
        return Err(corrupt("no PAR1 magic bytes (encrypted or not Parquet)"));
    }
    let footer = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    if footer + 12 > len {
        return Err(corrupt(&format!("its footer claims {footer} bytes of a {len}-byte file")));
    }
    Ok(())
}

/// Every `.parquet` file under `dir`, recursively.
fn check_parquet_tree(dir: &Path) -> Result<(), QueryError> {
    let entries = std::fs::read_dir(dir).map_err(|e| invalid(format!("cannot read {}: {e}", dir.display())))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            check_parquet_tree(&path)?;
        } else if path.extension().is_some_and(|e| e == "parquet") {
            check_parquet_frame(&path)?;
        }
    }
    Ok(())
}

fn kind_ok(kind: ColumnKind, t: &DataType) -> bool {
    let text = |t: &DataType| matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
    match kind {
        ColumnKind::Text => text(t) || matches!(t, DataType::Dictionary(_, v) if text(v)) || t == &DataType::Null,
        ColumnKind::Number => t.is_numeric() || t == &DataType::Null,
        ColumnKind::Timestamp => matches!(t, DataType::Timestamp(..) | DataType::Date32 | DataType::Date64) || text(t),
        ColumnKind::Map => matches!(t, DataType::Map(..)),
    }
}

/// Every required column present with a usable type, or one error naming all that are not.
pub fn check_columns(schema: Schema, arrow: &SchemaRef) -> Result<(), QueryError> {
    let what = match schema {
        Schema::Cur2 => "CUR 2.0 export",
        Schema::Focus => "FOCUS file",
    };
    let mut missing = Vec::new();
    let mut wrong = Vec::new();
    for (name, kind) in required_columns(schema) {
        match arrow.field_with_name(name) {
            Err(_) => missing.push(*name),
            Ok(f) if !kind_ok(*kind, f.data_type()) => {
                wrong.push(format!("{name} is {}, expected {}", f.data_type(), kind.describe()))
            }
            Ok(_) => {}
        }
    }
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!("missing columns: {}", missing.join(", ")));
    }
    if !wrong.is_empty() {
        problems.push(format!("wrong column types: {}", wrong.join("; ")));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(invalid(format!("not a usable {what}: {}", problems.join("; "))))
    }
}

impl EmbeddedEngine {
    /// Opens a CUR 2.0 export directory (the one holding `data/` or the partitions themselves).
    pub async fn open_cur(dir: &Path) -> Result<Self, QueryError> {
        if !dir.is_dir() {
            return Err(invalid(format!("{} is not a directory", dir.display())));
        }
        let root = if dir.join("data").is_dir() { dir.join("data") } else { dir.to_owned() };
        let periods = partitions(&root)?;
        if periods.is_empty() {
            return Err(invalid(format!(
                "no BILLING_PERIOD=YYYY-MM partitions under {}: not a CUR 2.0 export directory",
                root.display()
            )));
        }
        let root = std::fs::canonicalize(&root).map_err(|e| invalid(format!("{}: {e}", root.display())))?;
        check_parquet_tree(&root)
            .map_err(|e| invalid(format!("cannot read the CUR Parquet files under {}: {e}", root.display())))?;
        let url = format!("{}/", root.display());
        let ctx = session();
        let opts = ParquetReadOptions::default()
            .file_extension(".parquet")
            .table_partition_cols(vec![("BILLING_PERIOD".to_owned(), DataType::Utf8)]);
        ctx.register_parquet("cur_raw", &url, opts).await.map_err(|e| {
            invalid(format!("cannot read the CUR Parquet files under {}: {}", root.display(), map_df(e)))
        })?;
        let raw = ctx.table("cur_raw").await.map_err(map_df)?;
        let arrow_schema: SchemaRef = Arc::new(raw.schema().as_arrow().clone());
        check_columns(Schema::Cur2, &arrow_schema)?;
        let cols: Vec<String> = arrow_schema
            .fields()
            .iter()
            .filter(|f| f.name() != "BILLING_PERIOD" && f.name() != "billing_period")
            .map(|f| format!("\"{}\"", f.name().replace('"', "\"\"")))
            .collect();
        let view = format!("SELECT {}, \"BILLING_PERIOD\" AS billing_period FROM cur_raw", cols.join(", "));
        let df = ctx.sql(&view).await.map_err(map_df)?;
        ctx.register_table(CUR_TABLE, df.into_view()).map_err(map_df)?;
        Ok(Self { ctx, schema: Schema::Cur2, periods, focus_version: None, source: dir.to_owned(), root: Some(root) })
    }

    /// Opens a FOCUS 1.0/1.1 file: CSV (`.csv`, or `.csv.gz` as AWS Data Exports writes it) or
    /// Parquet. A CSV's missing values may be empty cells or the text `NULL`.
    pub async fn open_focus(file: &Path) -> Result<Self, QueryError> {
        if !file.is_file() {
            return Err(invalid(format!("{} is not a file", file.display())));
        }
        let path = std::fs::canonicalize(file).map_err(|e| invalid(format!("{}: {e}", file.display())))?;
        let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
        let ctx = session();
        let url = path.display().to_string();
        if name.ends_with(".parquet") {
            check_parquet_frame(&path).map_err(|e| invalid(format!("cannot read {}: {e}", file.display())))?;
        }
        let csv = (name.ends_with(".csv") || name.ends_with(".csv.gz"))
            .then(|| FocusCsv { url: url.clone(), gzip: name.ends_with(".gz") });
        let cannot_read = |e: QueryError| {
            let (QueryError::InvalidData(m) | QueryError::Failed(m) | QueryError::Transient(m)) = e;
            invalid(format!("cannot read {}: {m}", file.display()))
        };
        let mut csv_text = None;
        if let Some(csv) = &csv {
            csv_text = Some(csv.register(&ctx).await.map_err(cannot_read)?);
        } else if name.ends_with(".parquet") {
            ctx.register_parquet("focus_raw", &url, ParquetReadOptions::default().file_extension(".parquet"))
                .await
                .map_err(|e| cannot_read(map_df(e)))?;
        } else {
            return Err(invalid(format!("{}: a FOCUS file must be .csv, .csv.gz or .parquet", file.display())));
        }
        let raw = ctx.table("focus_raw").await.map_err(map_df)?;
        let arrow_schema: SchemaRef = Arc::new(raw.schema().as_arrow().clone());
        let names: Vec<&str> = arrow_schema.fields().iter().map(|f| f.name().as_str()).collect();
        let version = detect_version(&names).map_err(|e| invalid(format!("{}: {e}", file.display())))?;
        check_columns(Schema::Focus, &arrow_schema)?;
        if let (Some(csv), Some(text)) = (&csv, &csv_text) {
            csv.check_numbers(text).await.map_err(cannot_read)?;
        }
        let view = focus_view(&ctx, &arrow_schema).map_err(|e| invalid(format!("{}: {e}", file.display())))?;
        let df = ctx.sql(&view).await.map_err(map_df)?;
        ctx.register_table(FOCUS_TABLE, df.into_view()).map_err(map_df)?;
        let mut engine = Self {
            ctx,
            schema: Schema::Focus,
            periods: Vec::new(),
            focus_version: Some(version),
            source: file.to_owned(),
            root: None,
        };
        let found = engine
            .query_raw(&format!(
                "SELECT DISTINCT substr(CAST(\"BillingPeriodStart\" AS VARCHAR), 1, 7) AS p FROM \"{FOCUS_TABLE}\" ORDER BY p"
            ))
            .await?;
        for row in found.rows {
            if let Cell::Text(p) = &row[0] {
                let m =
                    YearMonth::parse(p).map_err(|e| invalid(format!("{}: BillingPeriodStart: {e}", file.display())))?;
                engine.periods.push(m);
            }
        }
        Ok(engine)
    }

    pub fn schema(&self) -> Schema {
        self.schema
    }

    pub fn focus_version(&self) -> Option<FocusVersion> {
        self.focus_version
    }

    pub fn periods(&self) -> &[YearMonth] {
        &self.periods
    }

    /// Fails with a clear error when none of `range`'s billing periods is in the data.
    pub fn check_range(&self, range: &PeriodRange) -> Result<(), QueryError> {
        if self.periods.iter().any(|p| range.contains(*p)) {
            return Ok(());
        }
        let have: Vec<String> = self.periods.iter().map(ToString::to_string).collect();
        Err(invalid(format!(
            "no data for billing periods {} to {} in {}: it has {}",
            range.from,
            range.to,
            self.source.display(),
            if have.is_empty() { "none".to_owned() } else { have.join(", ") }
        )))
    }

    pub fn source(&self) -> &Path {
        &self.source
    }

    /// The library bound to this engine's table.
    pub fn library(&self) -> Library {
        let table = match self.schema {
            Schema::Cur2 => CUR_TABLE,
            Schema::Focus => FOCUS_TABLE,
        };
        Library::new(self.schema, table).expect("a fixed, valid table name")
    }

    /// The optimized plan of a library query, for tests and benchmarks (pruning evidence).
    pub async fn explain(&self, query: &QueryRequest) -> Result<String, QueryError> {
        let df = self.dataframe(query).await?;
        let plan = df.create_physical_plan().await.map_err(map_df)?;
        let text = datafusion::physical_plan::displayable(plan.as_ref()).indent(true).to_string();
        Ok(text)
    }

    /// What `query` would scan on Athena over this export (CUR 2.0 only): its period is the
    /// query's first two parameters, as in every library query.
    pub async fn scan_estimate(&self, query: &QueryRequest) -> Result<ScanEstimate, QueryError> {
        use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
        use logical_expr::LogicalPlan;
        let root = self.root.as_ref().ok_or_else(|| invalid("scan estimates are for CUR 2.0 exports"))?;
        let (Some(from), Some(to)) = (query.params.first(), query.params.get(1)) else {
            return Err(invalid("a library query's first two parameters are its period"));
        };
        let range = PeriodRange::new(YearMonth::parse(from).map_err(invalid)?, YearMonth::parse(to).map_err(invalid)?)
            .map_err(invalid)?;
        let plan = self.dataframe(query).await?.into_optimized_plan().map_err(map_df)?;
        let mut columns = std::collections::BTreeSet::new();
        plan.apply(|node| {
            if let LogicalPlan::TableScan(scan) = node {
                for f in scan.projected_schema.fields() {
                    if f.name() != "BILLING_PERIOD" {
                        columns.insert(f.name().clone());
                    }
                }
            }
            Ok(TreeNodeRecursion::Continue)
        })
        .map_err(map_df)?;
        let mut est = ScanEstimate {
            columns: columns.iter().cloned().collect(),
            partitions: vec![],
            files: 0,
            rows: 0,
            bytes: 0,
            total_bytes: 0,
        };
        for period in &self.periods {
            let keep = range.contains(*period);
            if keep {
                est.partitions.push(period.to_string());
            }
            let dir = root.join(format!("BILLING_PERIOD={period}"));
            let entries = std::fs::read_dir(&dir).map_err(|e| invalid(format!("{}: {e}", dir.display())))?;
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_none_or(|e| e != "parquet") {
                    continue;
                }
                let file = std::fs::File::open(&path).map_err(|e| invalid(format!("{}: {e}", path.display())))?;
                let reader = datafusion::parquet::file::reader::SerializedFileReader::new(file)
                    .map_err(|e| invalid(format!("{}: {e}", path.display())))?;
                let meta = datafusion::parquet::file::reader::FileReader::metadata(&reader);
                if keep {
                    est.files += 1;
                    est.rows += meta.file_metadata().num_rows().max(0) as u64;
                }
                for rg in meta.row_groups() {
                    for col in rg.columns() {
                        let size = col.compressed_size().max(0) as u64;
                        est.total_bytes += size;
                        let top = col.column_path().parts().first().cloned().unwrap_or_default();
                        if keep && columns.contains(&top) {
                            est.bytes += size;
                        }
                    }
                }
            }
        }
        Ok(est)
    }

    async fn dataframe(&self, query: &QueryRequest) -> Result<datafusion::dataframe::DataFrame, QueryError> {
        let sql = positional(&query.sql);
        let df = self.ctx.sql(&sql).await.map_err(map_df)?;
        let params: Vec<ScalarValue> = query.params.iter().map(|p| ScalarValue::Utf8(Some(p.clone()))).collect();
        df.with_param_values(params).map_err(map_df)
    }

    async fn query_raw(&self, sql: &str) -> Result<ResultSet, QueryError> {
        let df = self.ctx.sql(sql).await.map_err(map_df)?;
        let batches = df.collect().await.map_err(map_df)?;
        to_result_set(&batches, None)
    }
}

/// Registers a FOCUS CSV. Type inference would read an all-digit `SubAccountId` as a number
/// (and drop an account id's leading zeros), so FOCUS's text columns are read as text; the
/// rest keeps the inferred type, and a cost column that is not numeric fails the column check.
/// A CSV cell as SQL, with a missing value as `NULL`: an empty cell (the CSV reader's default),
/// or the text `NULL`, as the FOCUS project's own sample files write it. (DataFusion 55 applies
/// `null_regex` only while inferring a schema, not while reading, so this is done in the view.)
fn csv_cell(name: &str) -> String {
    format!("NULLIF(trim(\"{}\"), 'NULL')", name.replace('"', "\"\""))
}

/// A FOCUS CSV (plain, or gzip as AWS Data Exports writes it), typed by the specification
/// rather than by inference: the Decimal columns are numbers, every other column is text.
type ArrowSchema = datafusion::arrow::datatypes::Schema;

struct FocusCsv {
    url: String,
    gzip: bool,
}

impl FocusCsv {
    fn options(&self) -> CsvReadOptions<'_> {
        use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
        let (extension, compression) = if self.gzip {
            (".csv.gz", FileCompressionType::GZIP)
        } else {
            (".csv", FileCompressionType::UNCOMPRESSED)
        };
        CsvReadOptions::new().has_header(true).file_extension(extension).file_compression_type(compression)
    }

    /// Every column as text, from the header alone: the values decide no type.
    async fn text_schema(&self, ctx: &SessionContext) -> Result<ArrowSchema, QueryError> {
        use datafusion::arrow::datatypes::Field;
        let header = ctx.read_csv(&self.url, self.options().schema_infer_max_records(0)).await.map_err(map_df)?;
        let fields: Vec<Field> =
            header.schema().fields().iter().map(|f| Field::new(f.name(), DataType::Utf8, true)).collect();
        Ok(ArrowSchema::new(fields))
    }

    /// Registers the file as `focus_raw`: missing values as `NULL`, Decimal columns as numbers.
    /// Returns the file's columns, all text, for [`Self::check_numbers`].
    async fn register(&self, ctx: &SessionContext) -> Result<ArrowSchema, QueryError> {
        let text = self.text_schema(ctx).await?;
        ctx.register_csv("focus_text", &self.url, self.options().schema(&text)).await.map_err(map_df)?;
        let cols: Vec<String> = text
            .fields()
            .iter()
            .map(|f| {
                let (cell, name) = (csv_cell(f.name()), f.name().replace('"', "\"\""));
                if costradar_core::cur::focus::DECIMAL_COLUMNS.contains(&f.name().as_str()) {
                    format!("CAST({cell} AS DOUBLE) AS \"{name}\"")
                } else {
                    format!("{cell} AS \"{name}\"")
                }
            })
            .collect();
        let df = ctx.sql(&format!("SELECT {} FROM focus_text", cols.join(", "))).await.map_err(map_df)?;
        ctx.register_table("focus_raw", df.into_view()).map_err(map_df)?;
        Ok(text)
    }

    /// One pass over the file, in file order (one partition), for the first value of a Decimal
    /// column that is not a finite number: refused with its column, its row and the value.
    async fn check_numbers(&self, text: &ArrowSchema) -> Result<(), QueryError> {
        let decimals: Vec<&str> = text
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .filter(|n| costradar_core::cur::focus::DECIMAL_COLUMNS.contains(n))
            .collect();
        if decimals.is_empty() {
            return Ok(());
        }
        let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(1));
        ctx.register_csv("t", &self.url, self.options().schema(text)).await.map_err(map_df)?;
        let cols: Vec<String> = decimals.iter().enumerate().map(|(i, n)| format!("{} AS c{i}", csv_cell(n))).collect();
        let bad: Vec<String> = (0..decimals.len())
            .map(|i| {
                let v = format!("try_cast(c{i} AS DOUBLE)");
                format!("(c{i} IS NOT NULL AND ({v} IS NULL OR isnan({v}) OR abs({v}) = CAST('Infinity' AS DOUBLE)))")
            })
            .collect();
        let sql = format!(
            "SELECT * FROM (SELECT row_number() OVER () AS row_number, {} FROM t) WHERE {} LIMIT 1",
            cols.join(", "),
            bad.join(" OR ")
        );
        let batches = ctx.sql(&sql).await.map_err(map_df)?.collect().await.map_err(map_df)?;
        let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else { return Ok(()) };
        let row = datafusion::arrow::compute::cast(batch.column(0), &DataType::UInt64).map_err(invalid)?;
        let row = row.as_primitive::<datafusion::arrow::datatypes::UInt64Type>().value(0);
        for (i, name) in decimals.iter().enumerate() {
            let cell = batch.column(i + 1).as_string::<i32>();
            let value = if cell.is_null(0) { continue } else { cell.value(0) };
            if value.parse::<f64>().ok().filter(|v| v.is_finite()).is_none() {
                let shown: String = value.chars().take(60).collect();
                return Err(invalid(format!(
                    "{name} on row {row} is {shown:?}, not a number (FOCUS types {name} as Decimal)"
                )));
            }
        }
        Ok(())
    }
}

/// The FOCUS table the library reads: the file's columns, with the optional ones always there
/// (`NULL` when the file lacks them) and `Tags` a map whether the file holds a map (Parquet) or
/// JSON text (CSV).
fn focus_view(ctx: &SessionContext, raw: &SchemaRef) -> Result<String, String> {
    let quote = |n: &str| format!("\"{}\"", n.replace('"', "\"\""));
    let optional = |n: &str| FOCUS_OPTIONAL_COLUMNS.iter().any(|(c, _)| *c == n);
    let mut cols: Vec<String> =
        raw.fields().iter().map(|f| f.name().as_str()).filter(|n| !optional(n)).map(quote).collect();
    ctx.register_udf(logical_expr::ScalarUDF::new_from_impl(JsonTags::new()));
    for (name, kind) in FOCUS_OPTIONAL_COLUMNS {
        let field = raw.field_with_name(name).ok();
        let text = |t: &DataType| kind_ok(ColumnKind::Text, t);
        cols.push(match (kind, field.map(|f| f.data_type())) {
            (ColumnKind::Map, Some(DataType::Map(..))) => quote(name),
            (ColumnKind::Map, Some(t)) if text(t) => format!("{}({}) AS {}", JsonTags::NAME, quote(name), quote(name)),
            (ColumnKind::Map, None) => format!("{}(CAST(NULL AS VARCHAR)) AS {}", JsonTags::NAME, quote(name)),
            (_, None) => format!("CAST(NULL AS VARCHAR) AS {}", quote(name)),
            (_, Some(t)) if text(t) => quote(name),
            (_, Some(t)) => return Err(format!("{name} is {t}, expected {}", kind.describe())),
        });
    }
    Ok(format!("SELECT {} FROM focus_raw", cols.join(", ")))
}

type TagMapBuilder = MapBuilder<StringBuilder, StringBuilder>;

/// `Tags` JSON text (`{"team": "data", "env": "prod"}`) to a map of text. A value that is not a
/// string is kept as its JSON text (`42`, `true`); `null` and an empty cell are no tags. Anything
/// but an object is an error that names the row's text.
#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonTags {
    signature: logical_expr::Signature,
}

impl JsonTags {
    const NAME: &'static str = "costradar_focus_tags";

    fn new() -> Self {
        Self { signature: logical_expr::Signature::string(1, logical_expr::Volatility::Immutable) }
    }

    fn builder() -> TagMapBuilder {
        MapBuilder::new(None, StringBuilder::new(), StringBuilder::new())
    }

    fn parse(text: Option<&str>, out: &mut TagMapBuilder) -> Result<(), String> {
        let text = text.map(str::trim).unwrap_or_default();
        if !text.is_empty() && text != "null" {
            let tags: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text).map_err(|e| {
                let shown: String = text.chars().take(60).collect();
                format!("Tags: {shown:?} is not a JSON object of tags: {e}")
            })?;
            for (k, v) in tags {
                out.keys().append_value(k);
                match v {
                    serde_json::Value::Null => out.values().append_null(),
                    serde_json::Value::String(s) => out.values().append_value(s),
                    other => out.values().append_value(other.to_string()),
                }
            }
        }
        out.append(true).map_err(|e| e.to_string())
    }
}

impl logical_expr::ScalarUDFImpl for JsonTags {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn signature(&self) -> &logical_expr::Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(Self::builder().finish().data_type().clone())
    }

    fn invoke_with_args(
        &self,
        args: logical_expr::ScalarFunctionArgs,
    ) -> datafusion::error::Result<logical_expr::ColumnarValue> {
        let arrays = logical_expr::ColumnarValue::values_to_arrays(&args.args)?;
        let input = datafusion::arrow::compute::cast(&arrays[0], &DataType::Utf8)?;
        let input = input.as_string::<i32>();
        let mut out = Self::builder();
        for i in 0..input.len() {
            let text = (!input.is_null(i)).then(|| input.value(i));
            Self::parse(text, &mut out).map_err(|e| DataFusionError::from(ArrowError::ParseError(e)))?;
        }
        Ok(logical_expr::ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// `?` → `$1..$n`, outside literals and quoted identifiers.
fn positional(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut last = 0;
    let mut n = 0;
    scan_placeholders(sql, |i| {
        n += 1;
        out.push_str(&sql[last..i]);
        out.push_str(&format!("${n}"));
        last = i + 1;
    });
    out.push_str(&sql[last..]);
    out
}

fn bytes_scanned(plan: &Arc<dyn ExecutionPlan>) -> u64 {
    let own = plan.metrics().and_then(|m| m.sum_by_name("bytes_scanned")).map_or(0, |v| v.as_usize() as u64);
    own + plan.children().into_iter().map(bytes_scanned).sum::<u64>()
}

fn cell(col: &ArrayRef, fmt: &ArrayFormatter<'_>, i: usize) -> Result<Cell, QueryError> {
    if col.is_null(i) {
        return Ok(Cell::Null);
    }
    Ok(match col.data_type() {
        DataType::Boolean => Cell::Bool(col.as_boolean().value(i)),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => {
            let v = datafusion::arrow::compute::cast(&col.slice(i, 1), &DataType::Int64).map_err(invalid)?;
            Cell::Int(v.as_primitive::<Int64Type>().value(0))
        }
        DataType::Decimal128(_, scale) if (0..=28).contains(scale) => {
            let v = col.as_primitive::<Decimal128Type>().value(i);
            Cell::Decimal(
                Decimal::try_from_i128_with_scale(v, *scale as u32)
                    .map_err(|e| invalid(format!("a decimal result out of range: {e}")))?,
            )
        }
        DataType::Float32 | DataType::Float64 => {
            let v = datafusion::arrow::compute::cast(&col.slice(i, 1), &DataType::Float64).map_err(invalid)?;
            let f = v.as_primitive::<Float64Type>().value(0);
            Cell::Decimal(Decimal::try_from(f).map_err(|e| invalid(format!("{f} is not a finite decimal: {e}")))?)
        }
        _ => Cell::Text(fmt.value(i).to_string()),
    })
}

fn to_result_set(batches: &[RecordBatch], bytes: Option<u64>) -> Result<ResultSet, QueryError> {
    let mut rs = ResultSet { bytes_scanned: bytes, ..ResultSet::default() };
    let opts = FormatOptions::default();
    for batch in batches {
        if rs.columns.is_empty() {
            rs.columns = batch.schema().fields().iter().map(|f| f.name().clone()).collect();
        }
        let fmts: Vec<ArrayFormatter<'_>> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts))
            .collect::<Result<_, _>>()
            .map_err(invalid)?;
        for i in 0..batch.num_rows() {
            let row = batch.columns().iter().zip(&fmts).map(|(c, f)| cell(c, f, i)).collect::<Result<Vec<_>, _>>()?;
            rs.rows.push(row);
        }
    }
    Ok(rs)
}

#[async_trait]
impl QueryEngine for EmbeddedEngine {
    async fn run(&self, query: &QueryRequest) -> Result<ResultSet, QueryError> {
        let df = self.dataframe(query).await?;
        let task = self.ctx.task_ctx();
        let plan = df.create_physical_plan().await.map_err(map_df)?;
        let batches = datafusion::physical_plan::collect(plan.clone(), task).await.map_err(map_df)?;
        let mut rs = to_result_set(&batches, Some(bytes_scanned(&plan)))?;
        if rs.columns.is_empty() {
            rs.columns = plan.schema().fields().iter().map(|f| f.name().clone()).collect();
        }
        Ok(rs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_positional() {
        assert_eq!(positional("a = ? AND b = '?' AND c = ?"), "a = $1 AND b = '?' AND c = $2");
    }
}
