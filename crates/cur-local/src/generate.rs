//! A deterministic synthetic CUR 2.0 export, with its ground truth.
//!
//! `generate` writes Parquet in the export layout (`DIR/data/BILLING_PERIOD=YYYY-MM/*.parquet`)
//! and `DIR/ground_truth.json`: the totals every library query must reproduce to the cent, the
//! waste it injected (idle Elastic IP and public IPv4, gp2 volumes, previous-generation
//! instances, a NAT gateway with hours and no bytes, snapshots) and the anomalies it injected
//! (spikes in daily series, and a service that appears mid-period).
//!
//! The ground truth is accumulated from what each row *is* (the generator knows why it wrote
//! it), not by re-running the SQL, so a wrong query shows up as a difference.
//!
//! Shape: every account has a set of services billed in daily rows with weekday seasonality and
//! noise; the waste, commitment, fee, credit and tax rows are fixed; the rest of the requested
//! row count is on-demand EC2 instances billed hourly, so sizes from 10k to 10M rows differ in
//! EC2 volume only. The same seed and size give byte-identical data.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Builder, MapBuilder, StringBuilder, TimestampMillisecondBuilder};
use arrow::datatypes::{DataType, Field, Schema as ArrowSchema, TimeUnit};
use arrow::record_batch::RecordBatch;
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use costradar_core::cur::queries::YearMonth;

#[derive(Clone, Debug)]
pub struct GeneratorConfig {
    /// Rows to write, exactly.
    pub rows: u64,
    pub seed: u64,
    pub start: YearMonth,
    pub months: u32,
    pub accounts: u32,
    /// Resources billed at a fixed cost a day up to a day, beside the generated ones.
    pub billed: Vec<BilledResource>,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        Self {
            rows: 10_000,
            seed: 42,
            start: YearMonth { year: 2025, month: 1 },
            months: 2,
            accounts: 4,
            billed: vec![],
        }
    }
}

/// A resource billed `daily_usd` every day of the export up to `until` (inclusive), and not
/// after: a resource deleted on `until`, whose saving the bill confirms (the demo's deleted
/// volume, `costradar_core::cur::confirm`). One usage line a day, in `account_id`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BilledResource {
    pub account_id: String,
    pub region: String,
    pub resource_id: String,
    /// `line_item_product_code`: one of [`BILLED_PRODUCTS`].
    pub product: String,
    pub usage_type: String,
    pub daily_usd: Decimal,
    pub until: NaiveDate,
}

/// The product codes a [`BilledResource`] may have.
pub const BILLED_PRODUCTS: &[&str] =
    &["AmazonEC2", "AmazonVPC", "AmazonRDS", "AmazonS3", "AmazonElastiCache", "AmazonCloudWatch", "AWSLambda"];

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("{0}")]
    Invalid(String),
    #[error("writing {path}: {message}")]
    Io { path: String, message: String },
}

fn io(path: &Path, e: impl std::fmt::Display) -> GenerateError {
    GenerateError::Io { path: path.display().to_string(), message: e.to_string() }
}

pub const MAX_ROWS: u64 = 50_000_000;

/// Keys of the spend maps: `period|provider|account|service|region`.
pub fn spend_key(parts: &[&str]) -> String {
    parts.join("|")
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sums {
    pub billed: Decimal,
    pub effective: Decimal,
}

impl Sums {
    fn add(&mut self, billed: Decimal, effective: Decimal) {
        self.billed += billed;
        self.effective += effective;
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceTotal {
    pub resource_id: String,
    pub account_id: String,
    pub service: String,
    pub region: String,
    pub billed: Decimal,
    pub effective: Decimal,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mover {
    pub resource_id: String,
    pub account_id: String,
    pub service: String,
    pub previous: Decimal,
    pub current: Decimal,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CommitmentTruth {
    pub sp_covered_on_demand: Decimal,
    pub ri_covered_on_demand: Decimal,
    pub on_demand_eligible: Decimal,
    pub sp_commitment: Decimal,
    pub sp_used: Decimal,
    pub ri_fee: Decimal,
    pub ri_unused: Decimal,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WasteTruth {
    pub category: String,
    pub account_id: String,
    pub region: String,
    pub resource_id: String,
    pub instance_type: String,
    pub usage: Decimal,
    pub effective: Decimal,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InjectedAnomaly {
    pub date: String,
    pub account_id: String,
    pub service: String,
    /// What the day would have cost without the anomaly, and the anomaly's extra cost.
    pub normal: Decimal,
    pub extra: Decimal,
    /// `spike` or `new_service`.
    pub kind: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InjectedWaste {
    /// The finding rule the analysis should open (`cur.idle-public-ip`, ...).
    pub rule: String,
    pub account_id: String,
    pub region: String,
    pub resource_id: String,
    /// What it cost over the whole generated period.
    pub cost: Decimal,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateTruth {
    pub usage_hours: Decimal,
    pub effective: Decimal,
}

/// Everything the library's queries must reproduce, plus what was injected.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    pub rows: u64,
    pub seed: u64,
    pub periods: Vec<String>,
    pub first_day: String,
    pub last_day: String,
    pub accounts: Vec<String>,
    pub total_billed: Decimal,
    pub total_effective: Decimal,
    pub by_service: BTreeMap<String, Decimal>,
    pub by_account: BTreeMap<String, Decimal>,
    pub by_region: BTreeMap<String, Decimal>,
    pub by_period: BTreeMap<String, Decimal>,
    /// `spend_monthly`'s rows: `period|provider|account|service|region` -> sums.
    pub spend_monthly: BTreeMap<String, Sums>,
    /// `spend_daily`'s rows (usage only): `date|provider|account|service|region` -> sums.
    pub spend_daily: BTreeMap<String, Sums>,
    pub top_resources: Vec<ResourceTotal>,
    pub top_movers: Vec<Mover>,
    /// Usage billed cost by the sorted, comma-joined tag keys ("" when a line has none).
    pub tag_keys: BTreeMap<String, Decimal>,
    pub waste: Vec<WasteTruth>,
    pub commitments: BTreeMap<String, CommitmentTruth>,
    /// On-demand spend a Compute Savings Plan could cover, by hour `YYYY-MM-DD HH`.
    pub savings_plan_hourly: BTreeMap<String, Decimal>,
    /// `region|instance_type` -> hours and effective cost (Linux, shared tenancy).
    pub instance_rates: BTreeMap<String, RateTruth>,
    pub injected_waste: Vec<InjectedWaste>,
    pub injected_anomalies: Vec<InjectedAnomaly>,
    /// The billed resources' line items: resource id -> day -> cost (one line a day).
    #[serde(default)]
    pub billed_daily: BTreeMap<String, BTreeMap<String, Decimal>>,
}

/// SplitMix64: small, fast, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// Uniform in [0, 1), 4 decimals: decimals keep the money exact and platform-independent.
    fn unit(&mut self) -> Decimal {
        Decimal::new(self.below(10_000) as i64, 4)
    }
    /// Roughly normal noise: 1 + sigma * (sum of 4 uniforms - 2) * sqrt(3), clamped above 0.2.
    fn noise(&mut self, sigma: Decimal) -> Decimal {
        let s: Decimal = (0..4).map(|_| self.unit()).sum::<Decimal>() - Decimal::TWO;
        (Decimal::ONE + sigma * s * Decimal::new(17320, 4)).max(Decimal::new(2, 1))
    }
}

fn d(s: &str) -> Decimal {
    s.parse().expect("a decimal literal")
}

const REGIONS: &[(&str, &str, &str)] = &[
    // region, usage-type prefix, price factor
    ("us-east-1", "", "1.00"),
    ("us-west-2", "USW2-", "1.00"),
    ("eu-west-1", "EU-", "1.10"),
    ("eu-central-1", "EUC1-", "1.15"),
];

/// Current-generation types the on-demand fleet uses, us-east-1 Linux on-demand $/hour.
const FLEET_TYPES: &[(&str, &str)] = &[
    ("m5.large", "0.096"),
    ("m6i.large", "0.096"),
    ("m7g.large", "0.0816"),
    ("c5.xlarge", "0.17"),
    ("c6g.large", "0.068"),
    ("r5.large", "0.126"),
    ("t3.medium", "0.0416"),
    ("m5.xlarge", "0.192"),
];

const TEAMS: &[&str] = &["payments", "search", "platform", "data"];

fn price(base: &str, region: usize) -> Decimal {
    (d(base) * d(REGIONS[region].2)).round_dp(6)
}

/// One line item, before it becomes Arrow columns.
#[derive(Clone, Default)]
struct Row {
    account: String,
    li_type: &'static str,
    start: NaiveDateTime,
    end: NaiveDateTime,
    product: &'static str,
    usage_type: String,
    operation: &'static str,
    resource: String,
    usage: Decimal,
    cost: Decimal,
    description: String,
    region: String,
    instance_type: Option<String>,
    pricing_term: &'static str,
    on_demand: Decimal,
    sp_arn: Option<String>,
    sp_effective: Decimal,
    sp_used: Decimal,
    sp_total: Decimal,
    ri_arn: Option<String>,
    ri_effective: Decimal,
    ri_unused_upfront: Decimal,
    ri_unused_recurring: Decimal,
    tags: Vec<(&'static str, String)>,
    /// The waste query's category, when the row is one it picks up.
    waste: Option<&'static str>,
}

impl Row {
    fn effective(&self) -> Decimal {
        match self.li_type {
            "SavingsPlanCoveredUsage" => self.sp_effective,
            "SavingsPlanRecurringFee" => self.sp_total - self.sp_used,
            "SavingsPlanNegation" | "SavingsPlanUpfrontFee" => Decimal::ZERO,
            "DiscountedUsage" => self.ri_effective,
            "RIFee" => self.ri_unused_upfront + self.ri_unused_recurring,
            "Fee" if self.ri_arn.is_some() => Decimal::ZERO,
            _ => self.cost,
        }
    }

    fn is_usage(&self) -> bool {
        matches!(self.li_type, "Usage" | "DiscountedUsage" | "SavingsPlanCoveredUsage" | "SavingsPlanNegation")
    }

    fn sp_eligible_on_demand(&self) -> bool {
        self.li_type == "Usage"
            && self.pricing_term == "OnDemand"
            && ["BoxUsage", "Fargate", "Lambda-GB-Second"].iter().any(|p| self.usage_type.contains(p))
    }
}

/// A daily-billed series: one row per day.
struct Series {
    account: usize,
    region: usize,
    product: &'static str,
    usage_type: &'static str,
    operation: &'static str,
    resource: String,
    /// $/day on a weekday, before noise.
    base: Decimal,
    /// Weekend factor (1 = no weekly seasonality).
    weekend: Decimal,
    sigma: Decimal,
    /// Per-unit price, to derive usage from cost.
    unit_price: Decimal,
    /// First day index it bills (a service that appears mid-period).
    from_day: usize,
    tags: Vec<(&'static str, String)>,
}

struct Writer {
    dir: PathBuf,
    schema: Arc<ArrowSchema>,
    current: Option<(String, ArrowWriter<fs::File>, u64)>,
    files: u32,
    b: Builders,
}

struct Builders {
    period_start: TimestampMillisecondBuilder,
    payer: StringBuilder,
    account: StringBuilder,
    li_type: StringBuilder,
    start: TimestampMillisecondBuilder,
    end: TimestampMillisecondBuilder,
    product: StringBuilder,
    usage_type: StringBuilder,
    operation: StringBuilder,
    resource: StringBuilder,
    usage: Float64Builder,
    cost: Float64Builder,
    description: StringBuilder,
    region: StringBuilder,
    instance_type: StringBuilder,
    pricing_term: StringBuilder,
    on_demand: Float64Builder,
    sp_arn: StringBuilder,
    sp_effective: Float64Builder,
    sp_used: Float64Builder,
    sp_total: Float64Builder,
    ri_arn: StringBuilder,
    ri_effective: Float64Builder,
    ri_unused_upfront: Float64Builder,
    ri_unused_recurring: Float64Builder,
    tags: MapBuilder<StringBuilder, StringBuilder>,
    len: usize,
}

impl Builders {
    fn new() -> Self {
        Self {
            period_start: TimestampMillisecondBuilder::new(),
            payer: StringBuilder::new(),
            account: StringBuilder::new(),
            li_type: StringBuilder::new(),
            start: TimestampMillisecondBuilder::new(),
            end: TimestampMillisecondBuilder::new(),
            product: StringBuilder::new(),
            usage_type: StringBuilder::new(),
            operation: StringBuilder::new(),
            resource: StringBuilder::new(),
            usage: Float64Builder::new(),
            cost: Float64Builder::new(),
            description: StringBuilder::new(),
            region: StringBuilder::new(),
            instance_type: StringBuilder::new(),
            pricing_term: StringBuilder::new(),
            on_demand: Float64Builder::new(),
            sp_arn: StringBuilder::new(),
            sp_effective: Float64Builder::new(),
            sp_used: Float64Builder::new(),
            sp_total: Float64Builder::new(),
            ri_arn: StringBuilder::new(),
            ri_effective: Float64Builder::new(),
            ri_unused_upfront: Float64Builder::new(),
            ri_unused_recurring: Float64Builder::new(),
            tags: MapBuilder::new(None, StringBuilder::new(), StringBuilder::new()),
            len: 0,
        }
    }

    fn finish(&mut self, schema: &Arc<ArrowSchema>) -> RecordBatch {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.period_start.finish()),
            Arc::new(self.payer.finish()),
            Arc::new(self.account.finish()),
            Arc::new(self.li_type.finish()),
            Arc::new(self.start.finish()),
            Arc::new(self.end.finish()),
            Arc::new(self.product.finish()),
            Arc::new(self.usage_type.finish()),
            Arc::new(self.operation.finish()),
            Arc::new(self.resource.finish()),
            Arc::new(self.usage.finish()),
            Arc::new(self.cost.finish()),
            Arc::new(self.description.finish()),
            Arc::new(self.region.finish()),
            Arc::new(self.instance_type.finish()),
            Arc::new(self.pricing_term.finish()),
            Arc::new(self.on_demand.finish()),
            Arc::new(self.sp_arn.finish()),
            Arc::new(self.sp_effective.finish()),
            Arc::new(self.sp_used.finish()),
            Arc::new(self.sp_total.finish()),
            Arc::new(self.ri_arn.finish()),
            Arc::new(self.ri_effective.finish()),
            Arc::new(self.ri_unused_upfront.finish()),
            Arc::new(self.ri_unused_recurring.finish()),
            Arc::new(self.tags.finish()),
        ];
        self.len = 0;
        RecordBatch::try_new(schema.clone(), cols).expect("columns match the schema")
    }
}

/// The CUR 2.0 columns the generator writes (a subset of the export's ~125).
pub fn cur2_arrow_schema() -> Arc<ArrowSchema> {
    let ts = || DataType::Timestamp(TimeUnit::Millisecond, None);
    let s = |n: &str| Field::new(n, DataType::Utf8, true);
    let f = |n: &str| Field::new(n, DataType::Float64, true);
    let map = DataType::Map(
        Arc::new(Field::new(
            "entries",
            DataType::Struct(
                vec![Field::new("keys", DataType::Utf8, false), Field::new("values", DataType::Utf8, true)].into(),
            ),
            false,
        )),
        false,
    );
    Arc::new(ArrowSchema::new(vec![
        Field::new("bill_billing_period_start_date", ts(), true),
        s("bill_payer_account_id"),
        s("line_item_usage_account_id"),
        s("line_item_line_item_type"),
        Field::new("line_item_usage_start_date", ts(), true),
        Field::new("line_item_usage_end_date", ts(), true),
        s("line_item_product_code"),
        s("line_item_usage_type"),
        s("line_item_operation"),
        s("line_item_resource_id"),
        f("line_item_usage_amount"),
        f("line_item_unblended_cost"),
        s("line_item_line_item_description"),
        s("product_region_code"),
        s("product_instance_type"),
        s("pricing_term"),
        f("pricing_public_on_demand_cost"),
        s("savings_plan_savings_plan_a_r_n"),
        f("savings_plan_savings_plan_effective_cost"),
        f("savings_plan_used_commitment"),
        f("savings_plan_total_commitment_to_date"),
        s("reservation_reservation_a_r_n"),
        f("reservation_effective_cost"),
        f("reservation_unused_amortized_upfront_fee_for_billing_period"),
        f("reservation_unused_recurring_fee"),
        Field::new("resource_tags", map, true),
    ]))
}

const BATCH_ROWS: usize = 65_536;
const FILE_ROWS: u64 = 2_000_000;

impl Writer {
    fn push(&mut self, period: &str, payer: &str, period_start_ms: i64, r: &Row) -> Result<(), GenerateError> {
        let switch = match &self.current {
            Some((p, _, n)) => p != period || *n >= FILE_ROWS,
            None => true,
        };
        if switch {
            self.flush()?;
            self.close()?;
            let dir = self.dir.join("data").join(format!("BILLING_PERIOD={period}"));
            fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
            self.files += 1;
            let path = dir.join(format!("costradar-sample-{:05}.snappy.parquet", self.files));
            let file = fs::File::create(&path).map_err(|e| io(&path, e))?;
            let props = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .set_max_row_group_row_count(Some(262_144))
                .build();
            let w = ArrowWriter::try_new(file, self.schema.clone(), Some(props)).map_err(|e| io(&path, e))?;
            self.current = Some((period.to_owned(), w, 0));
        }
        let ms = |t: NaiveDateTime| t.and_utc().timestamp_millis();
        let f = |v: Decimal| v.to_f64().expect("a finite amount");
        let b = &mut self.b;
        b.period_start.append_value(period_start_ms);
        b.payer.append_value(payer);
        b.account.append_value(&r.account);
        b.li_type.append_value(r.li_type);
        b.start.append_value(ms(r.start));
        b.end.append_value(ms(r.end));
        b.product.append_value(r.product);
        b.usage_type.append_value(&r.usage_type);
        b.operation.append_value(r.operation);
        b.resource.append_value(&r.resource);
        b.usage.append_value(f(r.usage));
        b.cost.append_value(f(r.cost));
        b.description.append_value(&r.description);
        b.region.append_value(&r.region);
        b.instance_type.append_option(r.instance_type.as_deref());
        b.pricing_term.append_value(r.pricing_term);
        b.on_demand.append_value(f(r.on_demand));
        b.sp_arn.append_option(r.sp_arn.as_deref());
        b.sp_effective.append_value(f(r.sp_effective));
        b.sp_used.append_value(f(r.sp_used));
        b.sp_total.append_value(f(r.sp_total));
        b.ri_arn.append_option(r.ri_arn.as_deref());
        b.ri_effective.append_value(f(r.ri_effective));
        b.ri_unused_upfront.append_value(f(r.ri_unused_upfront));
        b.ri_unused_recurring.append_value(f(r.ri_unused_recurring));
        for (k, v) in &r.tags {
            b.tags.keys().append_value(k);
            b.tags.values().append_value(v);
        }
        b.tags.append(true).expect("map entry");
        b.len += 1;
        if let Some((_, _, n)) = &mut self.current {
            *n += 1;
        }
        if b.len >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), GenerateError> {
        if self.b.len == 0 {
            return Ok(());
        }
        let batch = self.b.finish(&self.schema);
        if let Some((_, w, _)) = &mut self.current {
            w.write(&batch).map_err(|e| io(&self.dir, e))?;
        }
        Ok(())
    }

    fn close(&mut self) -> Result<(), GenerateError> {
        if let Some((_, w, _)) = self.current.take() {
            w.close().map_err(|e| io(&self.dir, e))?;
        }
        Ok(())
    }
}

/// (resource, account, product, region).
type ResourceKey = (String, String, String, String);
/// (waste category, account, region, resource, instance type).
type WasteKey = (String, String, String, String, String);

/// Accumulates the ground truth row by row.
#[derive(Default)]
struct Truth {
    gt: GroundTruth,
    resources: HashMap<ResourceKey, Sums>,
    movers: HashMap<(String, String, String), (Decimal, Decimal)>,
    waste: BTreeMap<WasteKey, (Decimal, Decimal)>,
    rates: BTreeMap<String, RateTruth>,
}

impl Truth {
    fn add(&mut self, period: &str, last_two: (&str, &str), r: &Row) {
        let gt = &mut self.gt;
        let eff = r.effective();
        gt.rows += 1;
        gt.total_billed += r.cost;
        gt.total_effective += eff;
        *gt.by_service.entry(r.product.to_owned()).or_default() += r.cost;
        *gt.by_account.entry(r.account.clone()).or_default() += r.cost;
        *gt.by_region.entry(r.region.clone()).or_default() += r.cost;
        *gt.by_period.entry(period.to_owned()).or_default() += r.cost;
        gt.spend_monthly
            .entry(spend_key(&[period, "AWS", &r.account, r.product, &r.region]))
            .or_default()
            .add(r.cost, eff);
        if r.is_usage() {
            let day = r.start.date().to_string();
            gt.spend_daily
                .entry(spend_key(&[&day, "AWS", &r.account, r.product, &r.region]))
                .or_default()
                .add(r.cost, eff);
            let mut keys: Vec<&str> = r.tags.iter().map(|(k, _)| *k).collect();
            keys.sort_unstable();
            *gt.tag_keys.entry(keys.join(",")).or_default() += r.cost;
        }
        if !r.resource.is_empty() {
            self.resources
                .entry((r.resource.clone(), r.account.clone(), r.product.to_owned(), r.region.clone()))
                .or_default()
                .add(r.cost, eff);
            if period == last_two.0 || period == last_two.1 {
                let e = self.movers.entry((r.resource.clone(), r.account.clone(), r.product.to_owned())).or_default();
                if period == last_two.0 {
                    e.0 += r.cost;
                } else {
                    e.1 += r.cost;
                }
            }
        }
        if let (Some(cat), true) = (r.waste, r.is_usage()) {
            let e = self
                .waste
                .entry((
                    cat.to_owned(),
                    r.account.clone(),
                    r.region.clone(),
                    r.resource.clone(),
                    r.instance_type.clone().unwrap_or_default(),
                ))
                .or_default();
            e.0 += r.usage;
            e.1 += eff;
        }
        let c = gt.commitments.entry(period.to_owned()).or_default();
        match r.li_type {
            "SavingsPlanCoveredUsage" => c.sp_covered_on_demand += r.on_demand,
            "DiscountedUsage" => c.ri_covered_on_demand += r.on_demand,
            "SavingsPlanRecurringFee" => {
                c.sp_commitment += r.sp_total;
                c.sp_used += r.sp_used;
            }
            "RIFee" => {
                c.ri_fee += r.cost;
                c.ri_unused += r.ri_unused_recurring + r.ri_unused_upfront;
            }
            _ => {}
        }
        if r.sp_eligible_on_demand() {
            c.on_demand_eligible += r.cost;
            *gt.savings_plan_hourly.entry(r.start.format("%Y-%m-%d %H").to_string()).or_default() += r.cost;
        }
        if matches!(r.li_type, "Usage" | "DiscountedUsage" | "SavingsPlanCoveredUsage")
            && r.usage_type.contains("BoxUsage")
            && r.operation == "RunInstances"
        {
            if let Some(t) = r.instance_type.as_deref().filter(|t| !t.is_empty()) {
                let e = self
                    .rates
                    .entry(format!("{}|{t}", r.region))
                    .or_insert(RateTruth { usage_hours: Decimal::ZERO, effective: Decimal::ZERO });
                e.usage_hours += r.usage;
                e.effective += eff;
            }
        }
    }

    fn finish(mut self) -> GroundTruth {
        let mut res: Vec<ResourceTotal> = self
            .resources
            .into_iter()
            .map(|((resource_id, account_id, service, region), s)| ResourceTotal {
                resource_id,
                account_id,
                service,
                region,
                billed: s.billed,
                effective: s.effective,
            })
            .collect();
        res.sort_by(|a, b| b.billed.cmp(&a.billed).then_with(|| a.resource_id.cmp(&b.resource_id)));
        res.truncate(25);
        self.gt.top_resources = res;
        let mut movers: Vec<Mover> = self
            .movers
            .into_iter()
            .map(|((resource_id, account_id, service), (previous, current))| Mover {
                resource_id,
                account_id,
                service,
                previous,
                current,
            })
            .collect();
        movers.sort_by(|a, b| {
            (b.current - b.previous).cmp(&(a.current - a.previous)).then_with(|| a.resource_id.cmp(&b.resource_id))
        });
        movers.truncate(25);
        self.gt.top_movers = movers;
        self.gt.waste = self
            .waste
            .into_iter()
            .map(|((category, account_id, region, resource_id, instance_type), (usage, effective))| WasteTruth {
                category,
                account_id,
                region,
                resource_id,
                instance_type,
                usage,
                effective,
            })
            .collect();
        self.gt.instance_rates = self.rates;
        self.gt
    }
}

fn day_start(day: NaiveDate) -> NaiveDateTime {
    day.and_hms_opt(0, 0, 0).expect("midnight")
}

/// Writes the export and its ground truth into `out`.
pub fn generate(cfg: &GeneratorConfig, out: &Path) -> Result<GroundTruth, GenerateError> {
    check_config(cfg, out)?;
    // The order of the random draws is part of the output: spikes, series noise, taxes, fleet.
    let mut rng = Rng(cfg.seed ^ 0x5EED_C057_4ADA_0001);
    let cal = Calendar::new(cfg);
    let series = daily_series(&cal.accounts, cal.days.len());
    let spikes = pick_spikes(&mut rng, &series, cal.accounts.len(), cal.days.len());
    let mut truth = Truth::new(cfg.seed, &cal);
    let last_two = last_two_periods(&truth.gt.periods);

    // Count the fixed rows first, so the hourly fleet fills the rest exactly.
    let mut fixed: Vec<(usize, Row)> = Vec::new(); // (day index, row)
    series_rows(&mut rng, &cal, &series, &spikes, &mut fixed, &mut truth.gt.injected_anomalies);
    waste_rows(&cal, &mut fixed, &mut truth.gt.injected_waste);
    billed_rows(&cal, &cfg.billed, &mut fixed, &mut truth.gt.billed_daily);
    let plan = CommitmentPlan::new(&cal.accounts);
    commitment_usage_rows(&cal, &plan, &mut fixed);
    monthly_rows(&mut rng, &cal, &plan, &mut fixed);
    fixed.sort_by_key(|(di, _)| *di);

    let fleet = Fleet::plan(&mut rng, cfg, fixed.len() as u64, &cal)?;
    let mut output = Output::create(out, truth, last_two, cal.payer.clone())?;
    output.write_all(&cal, fixed, &fleet)?;
    let gt = output.finish()?;
    debug_assert_eq!(gt.rows, cfg.rows);
    write_ground_truth(out, &gt)?;
    Ok(gt)
}

/// Rejects a configuration out of range, or an output folder that already holds an export.
fn check_config(cfg: &GeneratorConfig, out: &Path) -> Result<(), GenerateError> {
    if cfg.months == 0 || cfg.months > 24 {
        return Err(GenerateError::Invalid("--months must be between 1 and 24".into()));
    }
    if cfg.accounts == 0 || cfg.accounts > 50 {
        return Err(GenerateError::Invalid("--accounts must be between 1 and 50".into()));
    }
    if cfg.rows > MAX_ROWS {
        return Err(GenerateError::Invalid(format!("--rows is at most {MAX_ROWS}")));
    }
    cfg.billed.iter().try_for_each(check_billed)?;
    let data = out.join("data");
    if data.exists() {
        return Err(GenerateError::Invalid(format!(
            "{} already exists: generate into an empty directory",
            data.display()
        )));
    }
    Ok(())
}

/// Refuses a billed resource the export could not hold as the CUR writes it.
fn check_billed(b: &BilledResource) -> Result<(), GenerateError> {
    let bad = |why: String| Err(GenerateError::Invalid(format!("billed resource {:.80}: {why}", b.resource_id)));
    let text = |v: &str, max: usize| !v.is_empty() && v.len() <= max && !v.chars().any(char::is_control);
    if b.account_id.len() != 12 || !b.account_id.bytes().all(|c| c.is_ascii_digit()) {
        return bad("account_id is 12 digits".into());
    }
    if !text(&b.resource_id, 2048) || !text(&b.region, 32) || !text(&b.usage_type, 200) {
        return bad("resource_id, region and usage_type are 1 to 2,048, 32 and 200 characters".into());
    }
    if !BILLED_PRODUCTS.contains(&b.product.as_str()) {
        return bad(format!("product is one of {}", BILLED_PRODUCTS.join(", ")));
    }
    if b.daily_usd <= Decimal::ZERO || b.daily_usd > Decimal::from(1_000_000) || b.daily_usd.scale() > 8 {
        return bad("daily_usd is above 0, at most 1,000,000, with at most 8 decimals".into());
    }
    Ok(())
}

/// The waste query's category of a usage type (as its CASE reads it), for the ground truth.
fn waste_category(usage_type: &str) -> Option<&'static str> {
    [
        ("ElasticIP:IdleAddress", "idle_elastic_ip"),
        ("PublicIPv4:IdleAddress", "idle_public_ipv4"),
        ("EBS:VolumeUsage.gp2", "gp2_volume"),
        ("NatGateway-Hours", "nat_gateway_hours"),
        ("NatGateway-Bytes", "nat_gateway_bytes"),
        ("EBS:SnapshotUsage", "snapshot_storage"),
    ]
    .into_iter()
    .find(|(p, _)| usage_type.contains(p))
    .map(|(_, c)| c)
}

/// One usage line a day for each billed resource, from the first day up to its `until`.
fn billed_rows(
    cal: &Calendar,
    billed: &[BilledResource],
    fixed: &mut Vec<(usize, Row)>,
    truth: &mut BTreeMap<String, BTreeMap<String, Decimal>>,
) {
    for b in billed {
        let product = BILLED_PRODUCTS.iter().copied().find(|p| *p == b.product).expect("checked");
        for (di, day) in cal.days.iter().enumerate().filter(|(_, d)| **d <= b.until) {
            fixed.push((
                di,
                Row {
                    account: b.account_id.clone(),
                    li_type: "Usage",
                    start: day_start(*day),
                    end: day_start(day.succ_opt().expect("next day")),
                    product,
                    usage_type: b.usage_type.clone(),
                    resource: b.resource_id.clone(),
                    usage: Decimal::ONE,
                    cost: b.daily_usd,
                    description: format!("{} at ${} a day", b.usage_type, b.daily_usd),
                    region: b.region.clone(),
                    pricing_term: "OnDemand",
                    on_demand: b.daily_usd,
                    waste: waste_category(&b.usage_type),
                    ..Row::default()
                },
            ));
            *truth.entry(b.resource_id.clone()).or_default().entry(day.to_string()).or_default() += b.daily_usd;
        }
    }
}

/// The accounts, billing periods and days the export covers.
struct Calendar {
    accounts: Vec<String>,
    /// The first account.
    payer: String,
    periods: Vec<YearMonth>,
    first_day: NaiveDate,
    days: Vec<NaiveDate>,
    hours_total: u64,
}

impl Calendar {
    /// Lays out the accounts, periods and days that `cfg` asks for.
    fn new(cfg: &GeneratorConfig) -> Self {
        let accounts: Vec<String> =
            (0..cfg.accounts).map(|i| format!("{}", 111_122_220_000u64 + 1_001 * i as u64)).collect();
        let payer = accounts[0].clone();
        let periods: Vec<YearMonth> =
            std::iter::successors(Some(cfg.start), |m| Some(m.next())).take(cfg.months as usize).collect();
        let first_day = cfg.start.first_day();
        let days: Vec<NaiveDate> =
            periods.iter().flat_map(|m| m.first_day().iter_days().take(m.days() as usize)).collect();
        let hours_total = days.len() as u64 * 24;
        Self { accounts, payer, periods, first_day, days, hours_total }
    }
}

/// The services every account has, billed daily:
/// product, usage type, operation, weekday $/day base, weekend factor, sigma.
const SERVICES: &[(&str, &str, &str, &str, &str, &str)] = &[
    ("AmazonS3", "TimedStorage-ByteHrs", "StandardStorage", "30", "1.0", "0.03"),
    ("AmazonS3", "Requests-Tier1", "PutObject", "18", "0.6", "0.08"),
    ("AmazonRDS", "InstanceUsage:db.r5.large", "CreateDBInstance:0002", "6.00", "1.0", "0.0"),
    ("AmazonCloudWatch", "CW:MetricMonitorUsage", "MetricStorage", "12", "1.0", "0.05"),
    ("AWSDataTransfer", "DataTransfer-Out-Bytes", "RunInstances", "40", "0.55", "0.10"),
    ("AWSLambda", "Lambda-GB-Second", "Invoke", "25", "0.5", "0.08"),
    ("AmazonDynamoDB", "ReadRequestUnits", "GetItem", "15", "0.7", "0.07"),
    ("AmazonEC2", "EBS:VolumeUsage.gp3", "CreateVolume-Gp3", "8", "1.0", "0.0"),
];

/// Builds the daily series: the services every account has, scaled per account, then the new service.
fn daily_series(accounts: &[String], days: usize) -> Vec<Series> {
    let mut series: Vec<Series> = Vec::new();
    for (a, _) in accounts.iter().enumerate() {
        let scale = Decimal::from(1 + (a as u64 * 7) % 5);
        let region = a % REGIONS.len();
        for (si, (product, ut, op, base, weekend, sigma)) in SERVICES.iter().enumerate() {
            let prefix = REGIONS[region].1;
            series.push(Series {
                account: a,
                region,
                product,
                usage_type: ut,
                operation: op,
                resource: series_resource(product, a, si, region, &accounts[a]),
                base: d(base) * scale,
                weekend: d(weekend),
                sigma: d(sigma),
                unit_price: if prefix.is_empty() { d("0.01") } else { d("0.011") },
                from_day: 0,
                tags: if a % 2 == 0 { vec![("user_team", TEAMS[a % TEAMS.len()].to_owned())] } else { vec![] },
            });
        }
    }
    if let Some(s) = new_service(accounts, days) {
        series.push(s);
    }
    series
}

/// The resource ID of account `a`'s series `si` for `product` ("" for services billed without one).
fn series_resource(product: &str, a: usize, si: usize, region: usize, account: &str) -> String {
    match product {
        "AmazonS3" => format!("costradar-sample-{a}-bucket"),
        "AmazonRDS" => format!("arn:aws:rds:{}:{}:db:orders-{a}", REGIONS[region].0, account),
        "AWSLambda" => format!("arn:aws:lambda:{}:{}:function:api-{a}", REGIONS[region].0, account),
        "AmazonDynamoDB" => format!("arn:aws:dynamodb:{}:{}:table/sessions-{a}", REGIONS[region].0, account),
        "AmazonEC2" => format!("vol-{:017x}", 0x0a00 + a * 16 + si),
        _ => String::new(),
    }
}

/// A service that appears two thirds into the period: the "new service" anomaly (needs two accounts
/// and ten days).
fn new_service(accounts: &[String], days: usize) -> Option<Series> {
    let new_from = days * 2 / 3;
    (accounts.len() > 1 && days >= 10).then(|| Series {
        account: 1,
        region: 0,
        product: "AmazonSageMaker",
        usage_type: "Notebk:ml.g5.xlarge",
        operation: "RunInstance",
        resource: format!("arn:aws:sagemaker:us-east-1:{}:notebook-instance/experiment", accounts[1]),
        base: d("340"),
        weekend: d("1.0"),
        sigma: d("0.02"),
        unit_price: d("1.41"),
        from_day: new_from,
        tags: vec![("user_team", "data".into()), ("user_env", "dev".into())],
    })
}

/// Picks the spikes: (series, day) -> extra cost, on noisy series and days with two weeks of history.
fn pick_spikes(rng: &mut Rng, series: &[Series], accounts: usize, days: usize) -> HashMap<(usize, usize), Decimal> {
    let mut spikes: HashMap<(usize, usize), Decimal> = HashMap::new();
    if days >= 21 {
        let noisy: Vec<usize> =
            (0..series.len()).filter(|&i| series[i].sigma > Decimal::ZERO && series[i].from_day == 0).collect();
        let wanted = (2 * accounts).min(noisy.len());
        let mut tries = 0;
        while spikes.len() < wanted && tries < 1000 {
            tries += 1;
            let s = noisy[rng.below(noisy.len() as u64) as usize];
            let day = 14 + rng.below((days - 14) as u64) as usize;
            if spikes.keys().any(|(s2, d2)| *s2 == s && d2.abs_diff(day) < 7) {
                continue;
            }
            // 2.5x to 4.5x the weekday base, at least $150: far outside the noise.
            let factor = d("2.5") + d("2") * rng.unit();
            spikes.insert((s, day), (series[s].base * factor).max(d("150")).round_dp(2));
        }
    }
    spikes
}

impl Truth {
    /// Starts the ground truth with what the calendar already says.
    fn new(seed: u64, cal: &Calendar) -> Self {
        let gt = GroundTruth {
            seed,
            accounts: cal.accounts.clone(),
            periods: cal.periods.iter().map(|p| p.to_string()).collect(),
            first_day: cal.first_day.to_string(),
            last_day: cal.days.last().expect("at least one day").to_string(),
            ..GroundTruth::default()
        };
        Self { gt, ..Self::default() }
    }
}

/// The last two periods, for the movers ("" for the previous one when there is a single period).
fn last_two_periods(periods: &[String]) -> (String, String) {
    match periods {
        [.., a, b] => (a.clone(), b.clone()),
        [a] => (String::new(), a.clone()),
        [] => unreachable!("months >= 1"),
    }
}

/// Adds one usage row per series and day, spikes included, and records the anomalies injected.
fn series_rows(
    rng: &mut Rng,
    cal: &Calendar,
    series: &[Series],
    spikes: &HashMap<(usize, usize), Decimal>,
    fixed: &mut Vec<(usize, Row)>,
    anomalies: &mut Vec<InjectedAnomaly>,
) {
    for (di, day) in cal.days.iter().enumerate() {
        let weekend = day.weekday().number_from_monday() >= 6;
        let start = day_start(*day);
        let end = day_start(day.succ_opt().expect("a next day"));
        for (si, s) in series.iter().enumerate() {
            if di < s.from_day {
                continue;
            }
            let mut cost = s.base * if weekend { s.weekend } else { Decimal::ONE } * rng.noise(s.sigma);
            cost = cost.round_dp(8);
            let extra = spikes.get(&(si, di)).copied().unwrap_or(Decimal::ZERO);
            let account = &cal.accounts[s.account];
            if di == s.from_day && s.from_day > 0 {
                anomalies.push(injected_anomaly(*day, account, s, Decimal::ZERO, cost, "new_service"));
            }
            if extra > Decimal::ZERO {
                anomalies.push(injected_anomaly(*day, account, s, cost, extra, "spike"));
            }
            fixed.push((di, s.row(account, start, end, cost + extra)));
        }
    }
}

/// An anomaly of `kind` on `day` in series `s`.
fn injected_anomaly(
    day: NaiveDate,
    account: &str,
    s: &Series,
    normal: Decimal,
    extra: Decimal,
    kind: &str,
) -> InjectedAnomaly {
    InjectedAnomaly {
        date: day.to_string(),
        account_id: account.to_owned(),
        service: s.product.to_owned(),
        normal,
        extra,
        kind: kind.into(),
    }
}

impl Series {
    /// The series' usage row for one day, costing `total`.
    fn row(&self, account: &str, start: NaiveDateTime, end: NaiveDateTime, total: Decimal) -> Row {
        let (region, prefix, _) = REGIONS[self.region];
        Row {
            account: account.to_owned(),
            li_type: "Usage",
            start,
            end,
            product: self.product,
            usage_type: format!("{prefix}{}", self.usage_type),
            operation: self.operation,
            resource: self.resource.clone(),
            usage: (total / self.unit_price).round_dp(6),
            cost: total,
            description: format!("{} usage", self.product),
            region: region.to_owned(),
            pricing_term: "OnDemand",
            on_demand: total,
            tags: self.tags.clone(),
            ..Row::default()
        }
    }
}

/// A waste line billed every day, from a template row.
struct WasteLine {
    /// The finding rule it should open, or "" when it is not waste on its own.
    rule: &'static str,
    /// The waste query's category.
    category: &'static str,
    template: Row,
}

/// A daily on-demand usage row: `usage` units at `rate`, in `at` (account, region).
fn daily_usage(
    product: &'static str,
    ut: &str,
    op: &'static str,
    res: &str,
    at: (&str, &str),
    usage: &str,
    rate: &str,
) -> Row {
    Row {
        account: at.0.to_owned(),
        li_type: "Usage",
        product,
        usage_type: ut.to_owned(),
        operation: op,
        resource: res.to_owned(),
        usage: d(usage),
        cost: (d(usage) * d(rate)).round_dp(8),
        description: format!("{ut} at {rate}"),
        region: at.1.to_owned(),
        pricing_term: "OnDemand",
        on_demand: (d(usage) * d(rate)).round_dp(8),
        ..Row::default()
    }
}

/// The waste, one of each kind in the first account (the NAT pair in the second, if any).
fn waste_lines(accounts: &[String]) -> Vec<WasteLine> {
    let a0 = accounts[0].as_str();
    let a1 = accounts.get(1).map_or(a0, String::as_str);
    let mut lines = idle_address_waste(a0);
    lines.extend(gp2_waste(a0));
    lines.extend(previous_generation_waste(a0));
    lines.extend(nat_gateway_waste(a1));
    lines.extend(snapshot_waste(a0));
    lines
}

/// An idle Elastic IP and an idle public IPv4 address in `a0`.
fn idle_address_waste(a0: &str) -> Vec<WasteLine> {
    let eip = daily_usage(
        "AmazonEC2",
        "ElasticIP:IdleAddress",
        "AssociateAddressVPC",
        "eipalloc-0abc1234def567890",
        (a0, "us-east-1"),
        "24",
        "0.005",
    );
    let ipv4 = daily_usage(
        "AmazonVPC",
        "EU-PublicIPv4:IdleAddress",
        "IdleAddress",
        &format!("arn:aws:ec2:eu-west-1:{a0}:ipv4pool-ec2/203.0.113.10"),
        (a0, "eu-west-1"),
        "24",
        "0.005",
    );
    vec![
        WasteLine { rule: "cur.idle-elastic-ip", category: "idle_elastic_ip", template: eip },
        WasteLine { rule: "cur.idle-public-ipv4", category: "idle_public_ipv4", template: ipv4 },
    ]
}

/// Two gp2 volumes in `a0`, at $0.10/GB-month billed daily in GB-months.
fn gp2_waste(a0: &str) -> Vec<WasteLine> {
    let mut lines = Vec::new();
    for (i, gb) in ["500", "1200"].iter().enumerate() {
        let usage = (d(gb) / Decimal::from(30)).round_dp(6);
        let template = daily_usage(
            "AmazonEC2",
            "EBS:VolumeUsage.gp2",
            "CreateVolume-Gp2",
            &format!("vol-0{:016x}", 0x9200 + i),
            (a0, "us-east-1"),
            &usage.to_string(),
            "0.10",
        );
        lines.push(WasteLine { rule: "cur.gp2-volume", category: "gp2_volume", template });
    }
    lines
}

/// Two previous-generation instances in `a0`, running all day.
fn previous_generation_waste(a0: &str) -> Vec<WasteLine> {
    let mut lines = Vec::new();
    for (i, (t, rate)) in [("m4.xlarge", "0.20"), ("c4.2xlarge", "0.398")].iter().enumerate() {
        let mut template = daily_usage(
            "AmazonEC2",
            &format!("BoxUsage:{t}"),
            "RunInstances",
            &format!("i-0{:016x}", 0x4400 + i),
            (a0, "us-east-1"),
            "24",
            rate,
        );
        template.instance_type = Some((*t).into());
        lines.push(WasteLine { rule: "cur.previous-generation", category: "previous_generation", template });
    }
    lines
}

/// Two NAT gateways in `a1`: one moves bytes, one only bills hours (the idle one).
fn nat_gateway_waste(a1: &str) -> Vec<WasteLine> {
    let nat_busy = format!("arn:aws:ec2:us-west-2:{a1}:natgateway/nat-0busy000000000001");
    let nat_idle = format!("arn:aws:ec2:us-west-2:{a1}:natgateway/nat-0idle000000000002");
    let at = (a1, "us-west-2");
    let nat = |ut: &str, res: &str, usage: &str| daily_usage("AmazonEC2", ut, "NatGateway", res, at, usage, "0.045");
    vec![
        WasteLine { rule: "", category: "nat_gateway_hours", template: nat("USW2-NatGateway-Hours", &nat_busy, "24") },
        WasteLine {
            rule: "",
            category: "nat_gateway_bytes",
            template: nat("USW2-NatGateway-Bytes", &nat_busy, "35.5"),
        },
        WasteLine {
            rule: "cur.idle-nat-gateway",
            category: "nat_gateway_hours",
            template: nat("USW2-NatGateway-Hours", &nat_idle, "24"),
        },
    ]
}

/// Two EBS snapshots in `a0`, at $0.05/GB-month billed daily in GB-months.
fn snapshot_waste(a0: &str) -> Vec<WasteLine> {
    let mut lines = Vec::new();
    for (i, gb) in ["800", "250"].iter().enumerate() {
        let usage = (d(gb) / Decimal::from(30)).round_dp(6);
        let template = daily_usage(
            "AmazonEC2",
            "EBS:SnapshotUsage",
            "CreateSnapshot",
            &format!("arn:aws:ec2:us-east-1:{a0}:snapshot/snap-0{:016x}", 0x5500 + i),
            (a0, "us-east-1"),
            &usage.to_string(),
            "0.05",
        );
        lines.push(WasteLine { rule: "cur.snapshot-storage", category: "snapshot_storage", template });
    }
    lines
}

/// Adds every waste line's row for every day, and records each injected waste with its total cost.
fn waste_rows(cal: &Calendar, fixed: &mut Vec<(usize, Row)>, injected: &mut Vec<InjectedWaste>) {
    let lines = waste_lines(&cal.accounts);
    let mut injected_cost: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    for (di, day) in cal.days.iter().enumerate() {
        for line in &lines {
            let mut r = line.template.clone();
            r.start = day_start(*day);
            r.end = day_start(day.succ_opt().expect("next day"));
            r.waste = Some(line.category);
            if !line.rule.is_empty() {
                *injected_cost.entry((line.rule.to_string(), r.resource.clone())).or_default() += r.cost;
            }
            fixed.push((di, r));
        }
    }
    for line in &lines {
        let tmpl = &line.template;
        if line.rule.is_empty() || injected.iter().any(|w| w.resource_id == tmpl.resource) {
            continue;
        }
        injected.push(InjectedWaste {
            rule: line.rule.to_string(),
            account_id: tmpl.account.clone(),
            region: tmpl.region.clone(),
            resource_id: tmpl.resource.clone(),
            cost: injected_cost[&(line.rule.to_string(), tmpl.resource.clone())],
        });
    }
}

/// The commitments: a Compute Savings Plan covering one m5.xlarge in the first account, and an RI
/// for two r5.large of which one runs, in the last account.
struct CommitmentPlan {
    sp_account: String,
    sp_arn: String,
    ri_account: String,
    ri_arn: String,
    /// The m5.xlarge's on-demand $/hour, and its Savings Plan $/hour (28% off).
    sp_rate_od: Decimal,
    sp_rate: Decimal,
    sp_commitment_hour: Decimal,
    /// The r5.large's reserved $/hour.
    ri_rate: Decimal,
}

impl CommitmentPlan {
    /// The plan for these accounts.
    fn new(accounts: &[String]) -> Self {
        let a0 = accounts[0].clone();
        let sp_arn = format!("arn:aws:savingsplans::{a0}:savingsplan/00000000-0000-4000-8000-000000000001");
        let ri_account = accounts.last().expect("one").clone();
        let ri_arn =
            format!("arn:aws:ec2:us-east-1:{ri_account}:reserved-instances/00000000-0000-4000-8000-000000000002");
        Self {
            sp_account: a0,
            sp_arn,
            ri_account,
            ri_arn,
            sp_rate_od: d("0.192"),
            sp_rate: d("0.13824"),
            sp_commitment_hour: d("0.15"),
            ri_rate: d("0.079"),
        }
    }

    /// The Savings Plan's covered usage and its negation for one day.
    fn sp_usage_rows(&self, start: NaiveDateTime, end: NaiveDateTime) -> [Row; 2] {
        let od = (self.sp_rate_od * Decimal::from(24)).round_dp(8);
        let base = Row {
            account: self.sp_account.clone(),
            start,
            end,
            product: "AmazonEC2",
            usage_type: "BoxUsage:m5.xlarge".into(),
            operation: "RunInstances",
            resource: "i-0sp00000000000001".into(),
            usage: Decimal::from(24),
            region: "us-east-1".into(),
            instance_type: Some("m5.xlarge".into()),
            pricing_term: "OnDemand",
            on_demand: od,
            sp_arn: Some(self.sp_arn.clone()),
            tags: vec![("user_team", "platform".into())],
            ..Row::default()
        };
        let covered = Row {
            li_type: "SavingsPlanCoveredUsage",
            cost: od,
            sp_effective: (self.sp_rate * Decimal::from(24)).round_dp(8),
            description: "m5.xlarge covered by Compute Savings Plan".into(),
            ..base.clone()
        };
        let negation = Row {
            li_type: "SavingsPlanNegation",
            cost: -od,
            on_demand: Decimal::ZERO,
            description: "Savings Plan negation".into(),
            ..base
        };
        [covered, negation]
    }

    /// The reserved instance's discounted usage for one day.
    fn ri_usage_row(&self, start: NaiveDateTime, end: NaiveDateTime) -> Row {
        Row {
            account: self.ri_account.clone(),
            li_type: "DiscountedUsage",
            start,
            end,
            product: "AmazonEC2",
            usage_type: "BoxUsage:r5.large".into(),
            operation: "RunInstances",
            resource: "i-0ri00000000000001".into(),
            usage: Decimal::from(24),
            cost: Decimal::ZERO,
            description: "r5.large reserved instance applied".into(),
            region: "us-east-1".into(),
            instance_type: Some("r5.large".into()),
            pricing_term: "Reserved",
            on_demand: (d("0.126") * Decimal::from(24)).round_dp(8),
            ri_arn: Some(self.ri_arn.clone()),
            ri_effective: (self.ri_rate * Decimal::from(24)).round_dp(8),
            ..Row::default()
        }
    }

    /// The Savings Plan's recurring fee for a period of `days` days.
    fn sp_fee_row(&self, span: (NaiveDateTime, NaiveDateTime), hours: Decimal, days: u32) -> Row {
        let sp_total = self.sp_commitment_hour * hours;
        let sp_used = (self.sp_rate * Decimal::from(24) * Decimal::from(days)).round_dp(8);
        Row {
            sp_arn: Some(self.sp_arn.clone()),
            sp_total,
            sp_used,
            usage: hours,
            ..monthly_row(
                span,
                &self.sp_account,
                "SavingsPlanRecurringFee",
                "ComputeSavingsPlans",
                "ComputeSP:1yrNoUpfront",
                sp_total,
                "Savings Plan recurring fee",
            )
        }
    }

    /// The reserved instances' fee for a period of `hours` hours, half of it unused.
    fn ri_fee_row(&self, span: (NaiveDateTime, NaiveDateTime), hours: Decimal) -> Row {
        let ri_fee = (self.ri_rate * Decimal::TWO * hours).round_dp(8);
        Row {
            ri_arn: Some(self.ri_arn.clone()),
            ri_unused_recurring: (self.ri_rate * hours).round_dp(8),
            region: "us-east-1".into(),
            usage: hours * Decimal::TWO,
            ..monthly_row(
                span,
                &self.ri_account,
                "RIFee",
                "AmazonEC2",
                "HeavyUsage:r5.large",
                ri_fee,
                "r5.large reserved instances, 2 x no upfront",
            )
        }
    }
}

/// Adds the commitments' usage rows for every day.
fn commitment_usage_rows(cal: &Calendar, plan: &CommitmentPlan, fixed: &mut Vec<(usize, Row)>) {
    for (di, day) in cal.days.iter().enumerate() {
        let start = day_start(*day);
        let end = day_start(day.succ_opt().expect("next day"));
        for r in plan.sp_usage_rows(start, end) {
            fixed.push((di, r));
        }
        fixed.push((di, plan.ri_usage_row(start, end)));
    }
}

/// A one-unit line of a whole billing period, `span` being its first and next period's first day.
fn monthly_row(
    span: (NaiveDateTime, NaiveDateTime),
    account: &str,
    li_type: &'static str,
    product: &'static str,
    ut: &str,
    cost: Decimal,
    desc: &str,
) -> Row {
    Row {
        account: account.to_owned(),
        li_type,
        start: span.0,
        end: span.1,
        product,
        usage_type: ut.to_owned(),
        operation: "",
        usage: Decimal::ONE,
        cost,
        description: desc.to_owned(),
        ..Row::default()
    }
}

/// Adds the monthly lines on the first day of each period: SP and RI fees, support, tax, a credit
/// and a refund.
fn monthly_rows(rng: &mut Rng, cal: &Calendar, plan: &CommitmentPlan, fixed: &mut Vec<(usize, Row)>) {
    let mut day_index = 0usize;
    for (pi, p) in cal.periods.iter().enumerate() {
        for r in period_rows(rng, cal, plan, *p, pi == 0) {
            fixed.push((day_index, r));
        }
        day_index += p.days() as usize;
    }
}

/// The monthly lines of period `p`; the credit and the refund only in the first period.
fn period_rows(rng: &mut Rng, cal: &Calendar, plan: &CommitmentPlan, p: YearMonth, first: bool) -> Vec<Row> {
    let span = (day_start(p.first_day()), day_start(p.next().first_day()));
    let hours = Decimal::from(p.days() * 24);
    let mut rows = vec![
        plan.sp_fee_row(span, hours, p.days()),
        plan.ri_fee_row(span, hours),
        monthly_row(span, &cal.payer, "Fee", "AWSSupportBusiness", "Dollar", d("100"), "Business support"),
    ];
    for a in &cal.accounts {
        let tax = (d("25") + d("95") * rng.unit()).round_dp(2);
        rows.push(monthly_row(span, a, "Tax", "AmazonEC2", "Tax", tax, "Tax"));
    }
    if first {
        let a0 = &cal.accounts[0];
        rows.push(monthly_row(span, a0, "Credit", "AmazonEC2", "Credit", d("-100"), "Promotional credit"));
        if cal.accounts.len() > 2 {
            rows.push(monthly_row(span, &cal.accounts[2], "Refund", "AmazonS3", "Refund", d("-15.50"), "Refund"));
        }
    }
    rows
}

/// One on-demand EC2 instance of the hourly fleet.
struct Instance {
    account: usize,
    region: usize,
    itype: &'static str,
    rate: Decimal,
    id: String,
    tags: Vec<(&'static str, String)>,
}

impl Instance {
    /// Draws instance `k`'s account, region and type (three draws, in that order).
    fn draw(rng: &mut Rng, k: u64, accounts: usize) -> Self {
        let account = rng.below(accounts as u64) as usize;
        let region = rng.below(REGIONS.len() as u64) as usize;
        let (itype, base) = FLEET_TYPES[rng.below(FLEET_TYPES.len() as u64) as usize];
        let tags = match k % 3 {
            0 => vec![],
            1 => vec![("user_team", TEAMS[(k % 4) as usize].to_owned())],
            _ => vec![("user_env", "prod".to_owned()), ("user_team", TEAMS[(k % 4) as usize].to_owned())],
        };
        Instance { account, region, itype, rate: price(base, region), id: format!("i-0{k:016x}"), tags }
    }

    /// The instance's usage row for the hour from `start`.
    fn row(&self, accounts: &[String], start: NaiveDateTime) -> Row {
        let end = start + chrono::Duration::hours(1);
        let (region, prefix, _) = REGIONS[self.region];
        Row {
            account: accounts[self.account].clone(),
            li_type: "Usage",
            start,
            end,
            product: "AmazonEC2",
            usage_type: format!("{prefix}BoxUsage:{}", self.itype),
            operation: "RunInstances",
            resource: self.id.clone(),
            usage: Decimal::ONE,
            cost: self.rate,
            description: format!("${} per On Demand Linux {} Instance Hour", self.rate, self.itype),
            region: region.to_owned(),
            instance_type: Some(self.itype.to_owned()),
            pricing_term: "OnDemand",
            on_demand: self.rate,
            tags: self.tags.clone(),
            ..Row::default()
        }
    }
}

/// The on-demand fleet billed hourly, sized to fill the rows the fixed lines leave.
struct Fleet {
    instances: Vec<Instance>,
    /// The hours the last instance bills, so the row count comes out exact.
    last_hours: u64,
}

impl Fleet {
    /// Sizes the fleet for `cfg.rows` after `fixed_rows` fixed rows, and draws its instances.
    fn plan(rng: &mut Rng, cfg: &GeneratorConfig, fixed_rows: u64, cal: &Calendar) -> Result<Self, GenerateError> {
        if cfg.rows < fixed_rows + 24 {
            return Err(GenerateError::Invalid(format!(
                "--rows must be at least {} for {} account(s) over {} month(s)",
                fixed_rows + 24,
                cfg.accounts,
                cfg.months
            )));
        }
        let fleet_rows = cfg.rows - fixed_rows;
        let fleet_size = fleet_rows.div_ceil(cal.hours_total);
        let last_hours = fleet_rows - (fleet_size - 1) * cal.hours_total;
        let instances = (0..fleet_size).map(|k| Instance::draw(rng, k, cal.accounts.len())).collect();
        Ok(Self { instances, last_hours })
    }

    /// Whether instance `k` bills the hour numbered `hour_index` from the start.
    fn bills(&self, k: usize, hour_index: u64) -> bool {
        !(k as u64 == self.instances.len() as u64 - 1 && hour_index >= self.last_hours)
    }
}

/// Where the rows go: the Parquet files and the ground truth, fed together.
struct Output {
    w: Writer,
    truth: Truth,
    last_two: (String, String),
    payer: String,
}

impl Output {
    /// Creates `out` and starts writing into it.
    fn create(out: &Path, truth: Truth, last_two: (String, String), payer: String) -> Result<Self, GenerateError> {
        fs::create_dir_all(out).map_err(|e| io(out, e))?;
        let w =
            Writer { dir: out.to_owned(), schema: cur2_arrow_schema(), current: None, files: 0, b: Builders::new() };
        Ok(Self { w, truth, last_two, payer })
    }

    /// Adds one row to the ground truth, then writes it.
    fn emit(&mut self, period: &str, period_ms: i64, r: &Row) -> Result<(), GenerateError> {
        self.truth.add(period, (&self.last_two.0, &self.last_two.1), r);
        self.w.push(period, &self.payer, period_ms, r)
    }

    /// Writes every row in time order: each day's fixed rows, then the day's fleet hour by hour.
    fn write_all(&mut self, cal: &Calendar, fixed: Vec<(usize, Row)>, fleet: &Fleet) -> Result<(), GenerateError> {
        let mut fixed_iter = fixed.into_iter().peekable();
        let mut hour_index: u64 = 0;
        let mut day_cursor = 0usize;
        for p in &cal.periods {
            let period = p.to_string();
            let period_ms = day_start(p.first_day()).and_utc().timestamp_millis();
            for _ in 0..p.days() {
                while let Some((_, r)) = fixed_iter.next_if(|(di, _)| *di == day_cursor) {
                    self.emit(&period, period_ms, &r)?;
                }
                let day = cal.days[day_cursor];
                for h in 0..24u32 {
                    let start = day.and_hms_opt(h, 0, 0).expect("hour");
                    for (k, inst) in fleet.instances.iter().enumerate() {
                        if fleet.bills(k, hour_index) {
                            self.emit(&period, period_ms, &inst.row(&cal.accounts, start))?;
                        }
                    }
                    hour_index += 1;
                }
                day_cursor += 1;
            }
        }
        Ok(())
    }

    /// Finishes the last file and returns the ground truth.
    fn finish(mut self) -> Result<GroundTruth, GenerateError> {
        self.w.flush()?;
        self.w.close()?;
        Ok(self.truth.finish())
    }
}

/// Writes `DIR/ground_truth.json`.
fn write_ground_truth(out: &Path, gt: &GroundTruth) -> Result<(), GenerateError> {
    let path = out.join("ground_truth.json");
    let json = serde_json::to_vec_pretty(gt).map_err(|e| io(&path, e))?;
    fs::write(&path, json).map_err(|e| io(&path, e))
}

/// Reads `DIR/ground_truth.json`.
pub fn read_ground_truth(dir: &Path) -> Result<GroundTruth, GenerateError> {
    let path = dir.join("ground_truth.json");
    let bytes = fs::read(&path).map_err(|e| io(&path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| io(&path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn billed(id: &str, daily: &str, until: NaiveDate) -> BilledResource {
        BilledResource {
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            resource_id: id.into(),
            product: "AmazonEC2".into(),
            usage_type: "EBS:VolumeUsage.gp2".into(),
            daily_usd: d(daily),
            until,
        }
    }

    #[test]
    fn a_billed_resource_has_one_line_a_day_until_its_last_day_and_nothing_after() {
        let dir = std::env::temp_dir().join(format!("costradar-billed-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let until = NaiveDate::from_ymd_opt(2025, 1, 10).unwrap();
        let cfg = GeneratorConfig {
            rows: 3_000,
            months: 1,
            accounts: 1,
            billed: vec![billed("vol-0gone", "1.6438", until)],
            ..GeneratorConfig::default()
        };
        let gt = generate(&cfg, &dir).unwrap();
        assert_eq!(gt.rows, 3_000, "the fleet still fills the requested rows exactly");
        let days = &gt.billed_daily["vol-0gone"];
        assert_eq!(days.len(), 10);
        assert_eq!(days.keys().next().map(String::as_str), Some("2025-01-01"));
        assert_eq!(days.keys().last().map(String::as_str), Some("2025-01-10"));
        assert!(days.values().all(|v| *v == d("1.6438")));
        // Its lines are in every total, and the waste query's gp2 category, like any other line.
        assert_eq!(gt.by_account["123456789012"], d("16.438"));
        let waste = gt.waste.iter().find(|w| w.resource_id == "vol-0gone").unwrap();
        assert_eq!((waste.category.as_str(), waste.effective), ("gp2_volume", d("16.438")));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn billed_resources_the_cur_could_not_hold_are_refused() {
        let until = NaiveDate::from_ymd_opt(2025, 1, 10).unwrap();
        let long = "v".repeat(2049);
        for (b, says) in [
            (BilledResource { account_id: "12345".into(), ..billed("vol-1", "1", until) }, "account_id"),
            (billed(&long, "1", until), "resource_id"),
            (billed("vol-\n1", "1", until), "resource_id"),
            (BilledResource { product: "AmazonMadeUp".into(), ..billed("vol-1", "1", until) }, "product"),
            (billed("vol-1", "0", until), "daily_usd"),
            (billed("vol-1", "-2", until), "daily_usd"),
            (billed("vol-1", "1000000.01", until), "daily_usd"),
        ] {
            let cfg = GeneratorConfig { billed: vec![b], ..GeneratorConfig::default() };
            let e = check_config(&cfg, Path::new("/nonexistent/never-written")).unwrap_err().to_string();
            assert!(e.contains(says), "{e}");
        }
        let json = r#"[{"account_id": "123456789012", "region": "us-east-1", "resource_id": "vol-1",
            "product": "AmazonEC2", "usage_type": "x", "daily_usd": "1", "until": "2025-01-10", "extra": 1}]"#;
        assert!(serde_json::from_str::<Vec<BilledResource>>(json).is_err(), "unknown fields are refused");
    }
}
