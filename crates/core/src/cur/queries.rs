//! The query library: one SQL text per analysis, the same text on Athena (Trino) and on the
//! embedded engine (DataFusion).
//!
//! Every query is `WITH li AS (<source projection>) <analysis>`. The source projection maps the
//! native columns of a CUR 2.0 export or a FOCUS 1.x file to one canonical set (`billing_period`,
//! `account_id`, `service`, `billed_cost`, ...) and carries the billing-period filter, so every
//! query filters on the billing period (partition pruning on a CUR 2.0 export: the filter is on
//! the partition column) and the analyses are written once for both schemas. Both engines push
//! the filter and the column projection through the CTE.
//!
//! Rules that keep one text valid on both engines (checked by `tests/templates/test_cur_sql.py`
//! with sqlglot's trino dialect, and by running every query on DataFusion):
//! - values are `?` parameters only, always strings (the Athena adapter quotes them, the embedded
//!   adapter binds them); nothing from a user is ever formatted into the text;
//! - money is `CAST(... AS DECIMAL(38,10))` before it is summed, so sums are exact;
//! - no engine-specific functions: `date_trunc`, `CAST`, `substr`, `split_part`, `map_keys`,
//!   `array_sort`, `array_join`, `LIKE`, `CASE` exist in both; percentiles and ratios are
//!   computed in Rust from the aggregates;
//! - `GROUP BY` repeats expressions (no ordinals) and `ORDER BY` names output aliases that are
//!   not also input column names.
//!
//! The only per-engine difference is how `?` reaches the engine (see `embedded.rs`).

use std::sync::OnceLock;

use super::engine::QueryRequest;

/// The schema of the data a library runs over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schema {
    /// A CUR 2.0 data export (Parquet, `BILLING_PERIOD=YYYY-MM/` partitions).
    Cur2,
    /// A FOCUS 1.0 or 1.1 file (any provider).
    Focus,
}

impl Schema {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cur2 => "cur2",
            Self::Focus => "focus",
        }
    }
}

/// The analyses, each one SQL text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Query {
    /// Spend by billing period, provider, account, service and region.
    SpendMonthly,
    /// Usage spend (no credits, refunds, taxes or fees) by day, account, service and region.
    SpendDaily,
    /// The most expensive resources.
    TopResources,
    /// Resources whose spend grew most from one billing period to the next.
    TopMovers,
    /// Usage spend by the set of tag keys a line item carries (coverage and cost by tag key).
    TagKeys,
    /// Line items that are waste on their face: idle Elastic IPs and public IPv4, gp2,
    /// previous-generation instances, NAT gateway hours and bytes, snapshot storage.
    Waste,
    /// Savings Plans and Reserved Instances coverage and utilisation, by billing period.
    Commitments,
    /// Hourly on-demand spend a Compute Savings Plan would cover.
    SavingsPlanHourly,
    /// Effective hourly rate by region and instance type (Linux, shared tenancy).
    InstanceRates,
}

/// How a query's parameters are filled after the period bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Params {
    /// `from`, `to` (billing periods `YYYY-MM`, inclusive).
    Range,
    /// `previous`, `current`: the range is exactly these two periods, and the analysis compares
    /// them.
    TwoPeriods,
}

impl Query {
    pub const ALL: &'static [Query] = &[
        Query::SpendMonthly,
        Query::SpendDaily,
        Query::TopResources,
        Query::TopMovers,
        Query::TagKeys,
        Query::Waste,
        Query::Commitments,
        Query::SavingsPlanHourly,
        Query::InstanceRates,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::SpendMonthly => "spend_monthly",
            Self::SpendDaily => "spend_daily",
            Self::TopResources => "top_resources",
            Self::TopMovers => "top_movers",
            Self::TagKeys => "tag_keys",
            Self::Waste => "waste",
            Self::Commitments => "commitments",
            Self::SavingsPlanHourly => "savings_plan_hourly",
            Self::InstanceRates => "instance_rates",
        }
    }

    pub fn from_name(name: &str) -> Option<Query> {
        Self::ALL.iter().copied().find(|q| q.name() == name)
    }

    /// The schemas the analysis exists for. The FOCUS columns carry no usage type, operation or
    /// instance type, so waste, the Savings Plan recommendation and effective rates are CUR 2.0
    /// only.
    pub fn supports(self, schema: Schema) -> bool {
        match self {
            Self::SpendMonthly
            | Self::SpendDaily
            | Self::TopResources
            | Self::TopMovers
            | Self::TagKeys
            | Self::Commitments => true,
            Self::Waste | Self::SavingsPlanHourly | Self::InstanceRates => schema == Schema::Cur2,
        }
    }

    pub fn params(self) -> Params {
        match self {
            Self::TopMovers => Params::TwoPeriods,
            _ => Params::Range,
        }
    }

    /// The analysis over the canonical columns. Commitments alone differ by schema: CUR 2.0
    /// reports a commitment on its fee lines, FOCUS on used and unused commitment rows.
    fn body(self, schema: Schema) -> &'static str {
        match self {
            Self::SpendMonthly => SPEND_MONTHLY,
            Self::SpendDaily => SPEND_DAILY,
            Self::TopResources => TOP_RESOURCES,
            Self::TopMovers => TOP_MOVERS,
            Self::TagKeys => TAG_KEYS,
            Self::Waste => waste(),
            Self::Commitments if schema == Schema::Focus => COMMITMENTS_FOCUS,
            Self::Commitments => COMMITMENTS,
            Self::SavingsPlanHourly => SAVINGS_PLAN_HOURLY,
            Self::InstanceRates => INSTANCE_RATES,
        }
    }
}

/// Native columns the CUR 2.0 projection reads (the partition column `billing_period` aside).
pub const CUR2_COLUMNS: &[(&str, ColumnKind)] = &[
    ("line_item_usage_account_id", ColumnKind::Text),
    ("line_item_line_item_type", ColumnKind::Text),
    ("line_item_usage_start_date", ColumnKind::Timestamp),
    ("line_item_product_code", ColumnKind::Text),
    ("line_item_usage_type", ColumnKind::Text),
    ("line_item_operation", ColumnKind::Text),
    ("line_item_resource_id", ColumnKind::Text),
    ("line_item_usage_amount", ColumnKind::Number),
    ("line_item_unblended_cost", ColumnKind::Number),
    ("product_region_code", ColumnKind::Text),
    ("product_instance_type", ColumnKind::Text),
    ("pricing_term", ColumnKind::Text),
    ("pricing_public_on_demand_cost", ColumnKind::Number),
    ("savings_plan_savings_plan_effective_cost", ColumnKind::Number),
    ("savings_plan_used_commitment", ColumnKind::Number),
    ("savings_plan_total_commitment_to_date", ColumnKind::Number),
    ("reservation_effective_cost", ColumnKind::Number),
    ("reservation_unused_amortized_upfront_fee_for_billing_period", ColumnKind::Number),
    ("reservation_unused_recurring_fee", ColumnKind::Number),
    ("reservation_reservation_a_r_n", ColumnKind::Text),
    ("resource_tags", ColumnKind::Map),
];

/// Native columns the FOCUS projection reads: present in FOCUS 1.0 and 1.1.
pub const FOCUS_COLUMNS: &[(&str, ColumnKind)] = &[
    ("BillingPeriodStart", ColumnKind::Timestamp),
    ("ProviderName", ColumnKind::Text),
    ("SubAccountId", ColumnKind::Text),
    ("ServiceName", ColumnKind::Text),
    ("RegionId", ColumnKind::Text),
    ("ResourceId", ColumnKind::Text),
    ("ChargeCategory", ColumnKind::Text),
    ("ChargeDescription", ColumnKind::Text),
    ("ChargePeriodStart", ColumnKind::Timestamp),
    ("BilledCost", ColumnKind::Number),
    ("EffectiveCost", ColumnKind::Number),
    ("ConsumedQuantity", ColumnKind::Number),
    ("ListCost", ColumnKind::Number),
    ("PricingCategory", ColumnKind::Text),
];

/// FOCUS columns the projection reads that a file may lack: FOCUS makes tags and commitment
/// discounts conditional on the provider having them. The embedded engine reads a file without
/// them as untagged, with no commitments; a FOCUS CSV gives `Tags` as JSON text, which it reads
/// into the map that Athena's FOCUS tables hold.
pub const FOCUS_OPTIONAL_COLUMNS: &[(&str, ColumnKind)] = &[
    ("ServiceCategory", ColumnKind::Text),
    ("Tags", ColumnKind::Map),
    ("CommitmentDiscountCategory", ColumnKind::Text),
    ("CommitmentDiscountStatus", ColumnKind::Text),
];

/// What a native column must hold, for the clear errors of a schema check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    Text,
    Number,
    /// A timestamp, or text holding one (FOCUS CSV).
    Timestamp,
    Map,
}

impl ColumnKind {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Number => "a number",
            Self::Timestamp => "a timestamp",
            Self::Map => "a map of tags",
        }
    }
}

pub fn required_columns(schema: Schema) -> &'static [(&'static str, ColumnKind)] {
    match schema {
        Schema::Cur2 => CUR2_COLUMNS,
        Schema::Focus => FOCUS_COLUMNS,
    }
}

// `effective_cost` is AWS's amortised cost: Savings Plans and RI usage at their effective cost,
// unused commitment on the fee lines, negations and RI fee lines covered by amortisation at 0.
const CUR2_SOURCE: &str = "WITH li AS (
  SELECT
    billing_period,
    'AWS' AS provider,
    COALESCE(line_item_usage_account_id, '') AS account_id,
    COALESCE(line_item_product_code, '') AS service,
    COALESCE(product_region_code, '') AS region,
    COALESCE(line_item_resource_id, '') AS resource_id,
    COALESCE(line_item_usage_type, '') AS usage_type,
    COALESCE(line_item_operation, '') AS operation,
    COALESCE(product_instance_type, '') AS instance_type,
    COALESCE(pricing_term, '') AS pricing_term,
    line_item_line_item_type AS line_item_type,
    line_item_usage_start_date AS usage_start,
    CASE
      WHEN line_item_line_item_type IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation') THEN 'Usage'
      WHEN line_item_line_item_type IN ('Credit', 'Refund', 'BundledDiscount', 'EdpDiscount', 'PrivateRateDiscount') THEN 'Credit'
      WHEN line_item_line_item_type = 'Tax' THEN 'Tax'
      ELSE 'Purchase'
    END AS charge_category,
    CAST(line_item_unblended_cost AS DECIMAL(38, 10)) AS billed_cost,
    CAST(CASE
      WHEN line_item_line_item_type = 'SavingsPlanCoveredUsage' THEN savings_plan_savings_plan_effective_cost
      WHEN line_item_line_item_type = 'SavingsPlanRecurringFee' THEN savings_plan_total_commitment_to_date - savings_plan_used_commitment
      WHEN line_item_line_item_type IN ('SavingsPlanNegation', 'SavingsPlanUpfrontFee') THEN 0
      WHEN line_item_line_item_type = 'DiscountedUsage' THEN reservation_effective_cost
      WHEN line_item_line_item_type = 'RIFee' THEN reservation_unused_amortized_upfront_fee_for_billing_period + reservation_unused_recurring_fee
      WHEN line_item_line_item_type = 'Fee' AND COALESCE(reservation_reservation_a_r_n, '') <> '' THEN 0
      ELSE line_item_unblended_cost
    END AS DECIMAL(38, 10)) AS effective_cost,
    CAST(line_item_usage_amount AS DECIMAL(38, 10)) AS usage_amount,
    CAST(pricing_public_on_demand_cost AS DECIMAL(38, 10)) AS on_demand_cost,
    CAST(savings_plan_used_commitment AS DECIMAL(38, 10)) AS sp_used_commitment,
    CAST(savings_plan_total_commitment_to_date AS DECIMAL(38, 10)) AS sp_total_commitment,
    CAST(reservation_unused_recurring_fee AS DECIMAL(38, 10)) + CAST(reservation_unused_amortized_upfront_fee_for_billing_period AS DECIMAL(38, 10)) AS ri_unused_cost,
    resource_tags AS tags
  FROM {table}
  WHERE billing_period BETWEEN ? AND ?
)
";

// FOCUS has no billing-period partition: the period is the month of BillingPeriodStart. Its
// columns are CamelCase: quoted, so DataFusion keeps their case (Trino ignores it either way).
// A commitment is provider-neutral by its category: a spend commitment (a Savings Plan, a
// spend-based CUD) or a usage commitment (a Reserved Instance, a reservation, a resource CUD).
const FOCUS_SOURCE: &str = "WITH li AS (
  SELECT
    substr(CAST(\"BillingPeriodStart\" AS VARCHAR), 1, 7) AS billing_period,
    COALESCE(\"ProviderName\", '') AS provider,
    COALESCE(\"SubAccountId\", '') AS account_id,
    COALESCE(\"ServiceName\", '') AS service,
    COALESCE(\"RegionId\", '') AS region,
    COALESCE(\"ResourceId\", '') AS resource_id,
    COALESCE(\"ChargeDescription\", '') AS usage_type,
    COALESCE(\"PricingCategory\", '') AS pricing_term,
    CAST(\"ChargePeriodStart\" AS TIMESTAMP) AS usage_start,
    \"ChargeCategory\" AS charge_category,
    CAST(\"BilledCost\" AS DECIMAL(38, 10)) AS billed_cost,
    CAST(\"EffectiveCost\" AS DECIMAL(38, 10)) AS effective_cost,
    CAST(\"ConsumedQuantity\" AS DECIMAL(38, 10)) AS usage_amount,
    CAST(\"ListCost\" AS DECIMAL(38, 10)) AS on_demand_cost,
    COALESCE(\"ServiceCategory\", '') AS service_category,
    CASE \"CommitmentDiscountCategory\" WHEN 'Spend' THEN 'savings_plan' WHEN 'Usage' THEN 'reservation' ELSE '' END AS commitment_type,
    COALESCE(\"CommitmentDiscountStatus\", '') AS commitment_status,
    \"Tags\" AS tags
  FROM {table}
  WHERE substr(CAST(\"BillingPeriodStart\" AS VARCHAR), 1, 7) BETWEEN ? AND ?
)
";

const SPEND_MONTHLY: &str = "SELECT billing_period, provider, account_id, service, region,
  SUM(billed_cost) AS total_billed,
  SUM(effective_cost) AS total_effective
FROM li
GROUP BY billing_period, provider, account_id, service, region
ORDER BY billing_period, provider, account_id, service, region";

const SPEND_DAILY: &str =
    "SELECT CAST(CAST(usage_start AS DATE) AS VARCHAR) AS usage_date, provider, account_id, service, region,
  SUM(effective_cost) AS total_effective,
  SUM(billed_cost) AS total_billed
FROM li
WHERE charge_category = 'Usage'
GROUP BY CAST(CAST(usage_start AS DATE) AS VARCHAR), provider, account_id, service, region
ORDER BY usage_date, provider, account_id, service, region";

const TOP_RESOURCES: &str = "SELECT resource_id, account_id, service, region,
  SUM(billed_cost) AS total_billed,
  SUM(effective_cost) AS total_effective
FROM li
WHERE resource_id <> ''
GROUP BY resource_id, account_id, service, region
ORDER BY total_billed DESC, resource_id
LIMIT 25";

const TOP_MOVERS: &str = "SELECT resource_id, account_id, service,
  SUM(CASE WHEN billing_period = ? THEN billed_cost ELSE CAST(0 AS DECIMAL(38, 10)) END) AS previous_cost,
  SUM(CASE WHEN billing_period = ? THEN billed_cost ELSE CAST(0 AS DECIMAL(38, 10)) END) AS current_cost,
  SUM(CASE WHEN billing_period = ? THEN billed_cost ELSE -billed_cost END) AS increase
FROM li
WHERE resource_id <> ''
GROUP BY resource_id, account_id, service
ORDER BY increase DESC, resource_id
LIMIT 25";

const TAG_KEYS: &str = "SELECT array_join(array_sort(map_keys(tags)), ',') AS tag_keys,
  SUM(billed_cost) AS total_billed
FROM li
WHERE charge_category = 'Usage'
GROUP BY array_join(array_sort(map_keys(tags)), ',')
ORDER BY total_billed DESC";

fn waste() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        let families: Vec<String> =
            crate::rules::realtime::PREVIOUS_GENERATION.iter().map(|(old, _)| format!("'{old}'")).collect();
        format!(
            "SELECT category, account_id, region, resource_id, instance_type,
  SUM(usage_amount) AS total_usage,
  SUM(effective_cost) AS total_effective
FROM (
  SELECT
    CASE
      WHEN usage_type LIKE '%ElasticIP:IdleAddress%' THEN 'idle_elastic_ip'
      WHEN usage_type LIKE '%PublicIPv4:IdleAddress%' THEN 'idle_public_ipv4'
      WHEN usage_type LIKE '%EBS:VolumeUsage.gp2%' THEN 'gp2_volume'
      WHEN usage_type LIKE '%NatGateway-Hours%' THEN 'nat_gateway_hours'
      WHEN usage_type LIKE '%NatGateway-Bytes%' THEN 'nat_gateway_bytes'
      WHEN usage_type LIKE '%EBS:SnapshotUsage%' THEN 'snapshot_storage'
      WHEN usage_type LIKE '%BoxUsage%' AND split_part(instance_type, '.', 1) IN ({}) THEN 'previous_generation'
    END AS category,
    account_id, region, resource_id, instance_type, usage_amount, effective_cost
  FROM li
  WHERE charge_category = 'Usage'
) w
WHERE category IS NOT NULL
GROUP BY category, account_id, region, resource_id, instance_type
ORDER BY category, account_id, region, resource_id",
            families.join(", ")
        )
    })
}

// Compute a Compute Savings Plan covers: EC2 instances, Fargate, Lambda duration.
const COMMITMENTS: &str = "SELECT billing_period,
  SUM(CASE WHEN line_item_type = 'SavingsPlanCoveredUsage' THEN on_demand_cost ELSE CAST(0 AS DECIMAL(38, 10)) END) AS sp_covered_on_demand,
  SUM(CASE WHEN line_item_type = 'DiscountedUsage' THEN on_demand_cost ELSE CAST(0 AS DECIMAL(38, 10)) END) AS ri_covered_on_demand,
  SUM(CASE WHEN line_item_type = 'Usage' AND pricing_term = 'OnDemand'
      AND (usage_type LIKE '%BoxUsage%' OR usage_type LIKE '%Fargate%' OR usage_type LIKE '%Lambda-GB-Second%')
      THEN billed_cost ELSE CAST(0 AS DECIMAL(38, 10)) END) AS on_demand_eligible,
  SUM(CASE WHEN line_item_type = 'SavingsPlanRecurringFee' THEN sp_total_commitment ELSE CAST(0 AS DECIMAL(38, 10)) END) AS sp_commitment,
  SUM(CASE WHEN line_item_type = 'SavingsPlanRecurringFee' THEN sp_used_commitment ELSE CAST(0 AS DECIMAL(38, 10)) END) AS sp_used,
  SUM(CASE WHEN line_item_type = 'RIFee' THEN billed_cost ELSE CAST(0 AS DECIMAL(38, 10)) END) AS ri_fee,
  SUM(CASE WHEN line_item_type = 'RIFee' THEN ri_unused_cost ELSE CAST(0 AS DECIMAL(38, 10)) END) AS ri_unused
FROM li
GROUP BY billing_period
ORDER BY billing_period";

// FOCUS: a used commitment row is usage the commitment covered (ListCost is its on-demand
// price, EffectiveCost the commitment it used); an unused row is commitment that went to waste.
// Eligible on-demand is compute at on-demand prices (PricingCategory 'On-Demand' in FOCUS 1.0,
// 'Standard' in 1.1) that no commitment covered.
const COMMITMENTS_FOCUS: &str = "SELECT billing_period,
  SUM(CASE WHEN commitment_type = 'savings_plan' AND commitment_status = 'Used' THEN on_demand_cost ELSE CAST(0 AS DECIMAL(38, 10)) END) AS sp_covered_on_demand,
  SUM(CASE WHEN commitment_type = 'reservation' AND commitment_status = 'Used' THEN on_demand_cost ELSE CAST(0 AS DECIMAL(38, 10)) END) AS ri_covered_on_demand,
  SUM(CASE WHEN charge_category = 'Usage' AND commitment_type = '' AND service_category = 'Compute'
      AND pricing_term IN ('On-Demand', 'Standard')
      THEN billed_cost ELSE CAST(0 AS DECIMAL(38, 10)) END) AS on_demand_eligible,
  SUM(CASE WHEN commitment_type = 'savings_plan' AND commitment_status IN ('Used', 'Unused') THEN effective_cost ELSE CAST(0 AS DECIMAL(38, 10)) END) AS sp_commitment,
  SUM(CASE WHEN commitment_type = 'savings_plan' AND commitment_status = 'Used' THEN effective_cost ELSE CAST(0 AS DECIMAL(38, 10)) END) AS sp_used,
  SUM(CASE WHEN commitment_type = 'reservation' AND commitment_status IN ('Used', 'Unused') THEN effective_cost ELSE CAST(0 AS DECIMAL(38, 10)) END) AS ri_fee,
  SUM(CASE WHEN commitment_type = 'reservation' AND commitment_status = 'Unused' THEN effective_cost ELSE CAST(0 AS DECIMAL(38, 10)) END) AS ri_unused
FROM li
GROUP BY billing_period
ORDER BY billing_period";

const SAVINGS_PLAN_HOURLY: &str = "SELECT CAST(date_trunc('hour', usage_start) AS VARCHAR) AS usage_hour,
  SUM(billed_cost) AS on_demand_eligible
FROM li
WHERE line_item_type = 'Usage' AND pricing_term = 'OnDemand'
  AND (usage_type LIKE '%BoxUsage%' OR usage_type LIKE '%Fargate%' OR usage_type LIKE '%Lambda-GB-Second%')
GROUP BY CAST(date_trunc('hour', usage_start) AS VARCHAR)
ORDER BY usage_hour";

const INSTANCE_RATES: &str = "SELECT region, instance_type,
  SUM(usage_amount) AS usage_hours,
  SUM(effective_cost) AS total_effective
FROM li
WHERE line_item_type IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage')
  AND usage_type LIKE '%BoxUsage%' AND operation = 'RunInstances' AND instance_type <> ''
GROUP BY region, instance_type
ORDER BY region, instance_type";

/// A billing period, `YYYY-MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    pub year: i32,
    pub month: u32,
}

impl YearMonth {
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a billing period: expected YYYY-MM");
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) || !(2000..=2100).contains(&year) {
            return Err(bad());
        }
        Ok(Self { year, month })
    }

    pub fn next(self) -> Self {
        if self.month == 12 {
            Self { year: self.year + 1, month: 1 }
        } else {
            Self { year: self.year, month: self.month + 1 }
        }
    }

    pub fn previous(self) -> Self {
        if self.month == 1 {
            Self { year: self.year - 1, month: 12 }
        } else {
            Self { year: self.year, month: self.month - 1 }
        }
    }

    pub fn first_day(self) -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("validated year and month")
    }

    pub fn days(self) -> u32 {
        let next = self.next().first_day();
        (next - self.first_day()).num_days() as u32
    }
}

impl std::fmt::Display for YearMonth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl std::str::FromStr for YearMonth {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

/// An inclusive range of billing periods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeriodRange {
    pub from: YearMonth,
    pub to: YearMonth,
}

impl PeriodRange {
    pub const MAX_MONTHS: usize = 36;

    pub fn new(from: YearMonth, to: YearMonth) -> Result<Self, String> {
        if from > to {
            return Err(format!("the period runs backwards: {from} is after {to}"));
        }
        let r = Self { from, to };
        if r.months().len() > Self::MAX_MONTHS {
            return Err(format!("at most {} billing periods at once", Self::MAX_MONTHS));
        }
        Ok(r)
    }

    pub fn months(&self) -> Vec<YearMonth> {
        let mut out = vec![self.from];
        while *out.last().expect("one") < self.to && out.len() <= Self::MAX_MONTHS {
            let n = out.last().expect("one").next();
            out.push(n);
        }
        out
    }

    pub fn contains(&self, m: YearMonth) -> bool {
        self.from <= m && m <= self.to
    }
}

/// The library bound to one table of one schema.
#[derive(Clone, Debug)]
pub struct Library {
    schema: Schema,
    table: String,
}

impl Library {
    /// `table` is a bare identifier (Glue table names are `[a-z0-9_]`; see
    /// `CurSettings::validate`). It is double-quoted into the text, the one name that is not a
    /// parameter because SQL cannot take a table as one.
    pub fn new(schema: Schema, table: &str) -> Result<Self, String> {
        let ok = !table.is_empty()
            && table.len() <= 255
            && table.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !table.as_bytes()[0].is_ascii_digit();
        if !ok {
            return Err(format!("{table:?} is not a table name: letters, digits and _ only"));
        }
        Ok(Self { schema, table: table.to_owned() })
    }

    pub fn schema(&self) -> Schema {
        self.schema
    }

    pub fn queries(&self) -> impl Iterator<Item = Query> + '_ {
        Query::ALL.iter().copied().filter(|q| q.supports(self.schema))
    }

    /// The full SQL text of a query (placeholders unfilled).
    pub fn sql(&self, query: Query) -> String {
        format!("{}{}", self.source_sql(), query.body(self.schema))
    }

    /// `WITH li AS (<source projection>)` over this table, with the billing-period filter's two
    /// placeholders: what a query outside the fixed library (`super::confirm`) builds on.
    pub fn source_sql(&self) -> String {
        let source = match self.schema {
            Schema::Cur2 => CUR2_SOURCE,
            Schema::Focus => FOCUS_SOURCE,
        };
        source.replace("{table}", &format!("\"{}\"", self.table))
    }

    /// The query with its parameters for `range`. A `TwoPeriods` query compares the range's
    /// last period with the one before it.
    pub fn request(&self, query: Query, range: &PeriodRange) -> QueryRequest {
        let params = match query.params() {
            Params::Range => vec![range.from.to_string(), range.to.to_string()],
            Params::TwoPeriods => {
                let current = range.to.to_string();
                let previous = range.to.previous().to_string();
                vec![previous.clone(), current.clone(), previous, current.clone(), current]
            }
        };
        QueryRequest { name: query.name().to_owned(), sql: self.sql(query), params }
    }
}

/// Every library query as Athena would run it (table `cur`, placeholders unfilled, the
/// parameters for January to February 2025): what `costradar cur queries --json` prints and
/// `tests/templates/fixtures/cur_queries.json` keeps for the Trino parse check.
pub fn library_json() -> serde_json::Value {
    let range = PeriodRange::new(YearMonth { year: 2025, month: 1 }, YearMonth { year: 2025, month: 2 })
        .expect("a valid range");
    let mut out = Vec::new();
    for schema in [Schema::Cur2, Schema::Focus] {
        let lib = Library::new(schema, "cur").expect("a valid table name");
        for q in lib.queries() {
            let req = lib.request(q, &range);
            out.push(serde_json::json!({ "name": q.name(), "schema": schema.as_str(), "sql": req.sql, "params": req.params }));
        }
    }
    serde_json::Value::Array(out)
}

/// Counts the `?` placeholders outside string literals and quoted identifiers.
pub fn placeholder_count(sql: &str) -> usize {
    let mut n = 0;
    scan_placeholders(sql, |_| n += 1);
    n
}

/// Calls `f` with the byte offset of every `?` outside literals and quoted identifiers.
pub fn scan_placeholders(sql: &str, mut f: impl FnMut(usize)) {
    let mut quote: Option<u8> = None;
    for (i, b) in sql.bytes().enumerate() {
        match (quote, b) {
            (None, b'\'' | b'"') => quote = Some(b),
            (Some(q), b2) if b2 == q => quote = None,
            (None, b'?') => f(i),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range() -> PeriodRange {
        PeriodRange::new(YearMonth::parse("2025-01").unwrap(), YearMonth::parse("2025-03").unwrap()).unwrap()
    }

    #[test]
    fn every_query_filters_on_the_billing_period_and_has_as_many_params_as_placeholders() {
        for schema in [Schema::Cur2, Schema::Focus] {
            let lib = Library::new(schema, "cur").unwrap();
            for q in lib.queries() {
                let req = lib.request(q, &range());
                assert!(req.sql.contains("BETWEEN ? AND ?"), "{} lacks the period filter", q.name());
                assert_eq!(placeholder_count(&req.sql), req.params.len(), "{}", q.name());
                assert_eq!(req.params[..2].len(), 2);
            }
        }
    }

    #[test]
    fn focus_runs_the_provider_neutral_analyses_only() {
        let focus: Vec<_> = Library::new(Schema::Focus, "f").unwrap().queries().map(Query::name).collect();
        assert_eq!(focus, ["spend_monthly", "spend_daily", "top_resources", "top_movers", "tag_keys", "commitments"]);
        assert_eq!(Library::new(Schema::Cur2, "c").unwrap().queries().count(), Query::ALL.len());
    }

    #[test]
    fn table_names_cannot_carry_sql() {
        for bad in ["", "a\"b", "a b", "x;drop", "1abc", "t--"] {
            assert!(Library::new(Schema::Cur2, bad).is_err(), "{bad:?}");
        }
        assert!(Library::new(Schema::Cur2, "cur_export_2").is_ok());
    }

    #[test]
    fn periods_parse_strictly() {
        for bad in ["2025-13", "2025-1", "25-01", "2025/01", "", "2025-00", "abcd-ef", "1999-12"] {
            assert!(YearMonth::parse(bad).is_err(), "{bad:?}");
        }
        let m = YearMonth::parse("2024-12").unwrap();
        assert_eq!(m.next().to_string(), "2025-01");
        assert_eq!(m.days(), 31);
        assert_eq!(YearMonth::parse("2024-02").unwrap().days(), 29);
        assert!(PeriodRange::new(m.next(), m).is_err());
        assert_eq!(range().months().len(), 3);
    }

    #[test]
    fn placeholders_inside_literals_do_not_count() {
        assert_eq!(placeholder_count("SELECT '?' , \"a?\" FROM t WHERE x = ? AND y = ?"), 2);
    }

    #[test]
    fn movers_compare_the_last_period_with_the_one_before() {
        let lib = Library::new(Schema::Cur2, "cur").unwrap();
        let req = lib.request(Query::TopMovers, &range());
        assert_eq!(req.params, ["2025-02", "2025-03", "2025-02", "2025-03", "2025-03"]);
    }
}
