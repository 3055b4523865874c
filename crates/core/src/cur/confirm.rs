//! Savings confirmed by the bill: a realised saving (a finding resolved because its resource
//! went away or changed, `SAVING#<month>#<key>`) checked against the CUR's line items for that
//! resource, before and after the resolution.
//!
//! # The figure
//!
//! With `N` = [`ConfirmSettings::days`] (7) and `R` the resolution's day (UTC):
//! - **before** = the resource's usage cost over the `N` days `R − N … R − 1`, **after** = over
//!   the `N` days `R + 1 … R + N` (the resolution day itself is in neither: it is billed in part);
//! - confirmed monthly saving = `max(0, before − after) / N × 730 / 24` (`HOURS_PER_MONTH` hours
//!   a month, as every monthly figure of costradar), to the cent, half away from zero.
//!
//! "Cost" is the amortised usage cost (`effective_cost` of the lines whose charge category is
//! `Usage`: the library's canonical projection), so credits, taxes and commitment fees do not
//! move it. The figure is the bill's, not capped at the realised estimate: it may be higher or
//! lower, and the entry keeps both (`monthly_savings_usd` and `confirmation.confirmed_usd`). A
//! resource still billed as much after its resolution is confirmed at 0, with its evidence.
//!
//! # When
//!
//! A realised entry is checked once its resolution is at least `N` days old, the analysed
//! billing periods hold both windows, and the CUR's usage data (its first and last day in the
//! analysis) covers them. Until then it stays pending with the reason; a resource without a
//! line item in the `N` days before cannot be compared and stays pending too. An entry still
//! pending [`ConfirmSettings::give_up_days`] (60) days after its resolution becomes
//! `not_confirmable` with the last reason, and so does one whose ids no query can take.
//!
//! # The query
//!
//! One query per analysis and account for up to [`MAX_IDS_PER_QUERY`] resource ids (at most
//! [`MAX_QUERIES`] of them; more wait for the next analysis, oldest resolution first). A
//! finding's id is matched as the CUR writes it: its `resource_id` (`vol-…`, `i-…`) or its ARN
//! (many services' line items carry the ARN). Ids are `?` parameters like every library value
//! (Athena quotes them, the embedded engine binds them), and an id is refused before it gets
//! there if it is over [`MAX_ID_BYTES`] or holds a quote, a backslash or a control character:
//! no AWS resource id or ARN does. The query echoes every id it was given (`queried_id`, with no
//! date when the id has no line items), so an answer says by itself which entries it checked.
//!
//! # Idempotent
//!
//! A verdict is written on the ledger entry only if the entry is the one read and still pending
//! (`TriageStore::record_confirmation`): a second analysis never changes a confirmed entry, and
//! the ledger's confirmed figure is a figure of its own (a confirmed saving is also realised; it
//! is never added to realised).

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::engine::{Cell, QueryEngine, QueryError, QueryRequest, ResultSet};
use super::queries::{Library, PeriodRange};
use crate::domain::money::cents;
use crate::domain::triage::{BillEvidence, ConfirmationStatus, RealisedSaving, SavingConfirmation};
use crate::domain::{AccountId, TenantId};
use crate::pricing::HOURS_PER_MONTH;
use crate::store::{StoreError, TriageStore};

/// How the bill is compared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfirmSettings {
    /// Days compared on each side of the resolution, and the resolution's minimum age.
    pub days: u32,
    /// Days after the resolution from which a still-pending entry is not confirmable.
    pub give_up_days: u32,
}

impl Default for ConfirmSettings {
    fn default() -> Self {
        Self { days: 7, give_up_days: 60 }
    }
}

/// Query names: `confirm_savings_1` … `confirm_savings_4`.
pub const QUERY_NAME_PREFIX: &str = "confirm_savings_";
pub const MAX_QUERIES: usize = 4;
pub const MAX_IDS_PER_QUERY: usize = 100;
/// The ids' bytes in one query: far below Athena's 262,144-byte query string.
pub const MAX_ID_BYTES_PER_QUERY: usize = 64 * 1024;
/// The longest id a query takes: an ARN is at most 2,048 characters.
pub const MAX_ID_BYTES: usize = 2048;
/// A resource's usage cost on one day above this is refused as absurd ($1,000,000).
pub const MAX_DAILY_USD: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

pub fn query_name(index: usize) -> String {
    format!("{QUERY_NAME_PREFIX}{}", index + 1)
}

/// Whether `name` is one of this module's query names.
pub fn is_query_name(name: &str) -> bool {
    name.strip_prefix(QUERY_NAME_PREFIX)
        .and_then(|n| n.parse::<usize>().ok())
        .is_some_and(|n| (1..=MAX_QUERIES).contains(&n) && query_name(n - 1) == name)
}

/// Why an id cannot go into a query, or `None` when it can.
pub fn id_refusal(id: &str) -> Option<String> {
    if id.is_empty() {
        return Some("the resource id is empty".into());
    }
    if id.len() > MAX_ID_BYTES {
        return Some(format!("the resource id is {} bytes long (at most {MAX_ID_BYTES})", id.len()));
    }
    if let Some(c) = id.chars().find(|c| c.is_control() || matches!(c, '\'' | '"' | '\\')) {
        return Some(format!("the resource id holds {c:?}, which no AWS resource id or ARN does"));
    }
    None
}

/// The ids the CUR may know `entry` by (its resource id, its ARN), those a query can take.
pub fn ids_of(entry: &RealisedSaving) -> (Vec<String>, Vec<String>) {
    let (mut ok, mut refused) = (Vec::new(), Vec::new());
    for id in std::iter::once(&entry.resource_id).chain(entry.arn.as_ref()) {
        match id_refusal(id) {
            None if !ok.contains(id) => ok.push(id.clone()),
            None => {}
            Some(why) => refused.push(why),
        }
    }
    (ok, refused)
}

/// The days compared for a resolution at `realised_at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Windows {
    pub resolved: NaiveDate,
    pub before: (NaiveDate, NaiveDate),
    pub after: (NaiveDate, NaiveDate),
}

impl Windows {
    pub fn new(realised_at: DateTime<Utc>, days: u32) -> Self {
        let r = realised_at.date_naive();
        let n = i64::from(days.max(1));
        Self {
            resolved: r,
            before: (r - Duration::days(n), r - Duration::days(1)),
            after: (r + Duration::days(1), r + Duration::days(n)),
        }
    }

    fn contains(&self, (first, last): (NaiveDate, NaiveDate)) -> bool {
        first <= self.before.0 && self.after.1 <= last
    }
}

/// First and last day of a range of billing periods.
pub fn range_days(range: &PeriodRange) -> (NaiveDate, NaiveDate) {
    let last = range.to.next().first_day() - Duration::days(1);
    (range.from.first_day(), last)
}

/// Why `entry` is not checked by an analysis of `range` at `now`; `None` when it is eligible.
pub fn not_eligible(
    entry: &RealisedSaving,
    range: &PeriodRange,
    now: DateTime<Utc>,
    s: &ConfirmSettings,
) -> Option<String> {
    let w = Windows::new(entry.realised_at, s.days);
    let age = now - entry.realised_at;
    if age < Duration::days(i64::from(s.days)) {
        return Some(format!(
            "resolved on {}: the bill is compared once the resolution is {} days old",
            w.resolved, s.days
        ));
    }
    let (first, last) = range_days(range);
    if !w.contains((first, last)) {
        return Some(format!(
            "the comparison needs {} to {}, outside the analysed billing periods ({} to {})",
            w.before.0, w.after.1, range.from, range.to
        ));
    }
    if ids_of(entry).0.is_empty() {
        return Some("no id a query can take".into());
    }
    None
}

/// The time a local check runs as of: `YYYY-MM-DD` (midnight UTC) or an RFC 3339 time.
pub fn parse_as_of(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc());
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("{:.40?} is not a day (YYYY-MM-DD) or an RFC 3339 time", s))
}

/// One query's worth of resource ids and the days it reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub ids: Vec<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// The queries an analysis of `range` at `now` runs for `pending` (one account's entries,
/// oldest first): eligible entries' ids, [`MAX_IDS_PER_QUERY`] and [`MAX_ID_BYTES_PER_QUERY`]
/// a query, at most [`MAX_QUERIES`] queries. An entry whose ids do not fit the last query waits.
pub fn plan(pending: &[RealisedSaving], range: &PeriodRange, now: DateTime<Utc>, s: &ConfirmSettings) -> Vec<Chunk> {
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for entry in pending.iter().filter(|e| e.awaits_confirmation() && not_eligible(e, range, now, s).is_none()) {
        let w = Windows::new(entry.realised_at, s.days);
        let ids: Vec<String> = ids_of(entry).0.into_iter().filter(|id| !seen.contains(id)).collect();
        let fits = |c: &Chunk| {
            c.ids.len() + ids.len() <= MAX_IDS_PER_QUERY
                && c.ids.iter().chain(&ids).map(String::len).sum::<usize>() <= MAX_ID_BYTES_PER_QUERY
        };
        if !chunks.last().is_some_and(fits) {
            if chunks.len() == MAX_QUERIES {
                break;
            }
            chunks.push(Chunk { ids: vec![], from: w.before.0, to: w.after.1 });
        }
        let c = chunks.last_mut().expect("pushed above");
        c.from = c.from.min(w.before.0);
        c.to = c.to.max(w.after.1);
        seen.extend(ids.iter().cloned());
        c.ids.extend(ids);
    }
    chunks.retain(|c| !c.ids.is_empty());
    chunks
}

/// The daily usage cost of each id in `chunk`, in `account`, within the analysed periods. Every
/// id comes back at least once (`usage_date` null when it has no line items).
pub fn request(library: &Library, range: &PeriodRange, account: &AccountId, chunk: &Chunk, name: &str) -> QueryRequest {
    let values = vec!["(CAST(? AS VARCHAR))"; chunk.ids.len()].join(", ");
    let sql = format!(
        "{}, ids AS (
  SELECT id FROM (VALUES {values}) AS t (id)
), daily AS (
  SELECT resource_id, CAST(CAST(usage_start AS DATE) AS VARCHAR) AS usage_date,
    SUM(effective_cost) AS total_effective,
    COUNT(*) AS line_items
  FROM li
  WHERE charge_category = 'Usage' AND account_id = ?
    AND resource_id IN (SELECT id FROM ids)
    AND CAST(CAST(usage_start AS DATE) AS VARCHAR) BETWEEN ? AND ?
  GROUP BY resource_id, CAST(CAST(usage_start AS DATE) AS VARCHAR)
)
SELECT ids.id AS queried_id, daily.usage_date, daily.total_effective, daily.line_items
FROM ids LEFT JOIN daily ON daily.resource_id = ids.id",
        library.source_sql()
    );
    let mut params = vec![range.from.to_string(), range.to.to_string()];
    params.extend(chunk.ids.iter().cloned());
    params.extend([account.to_string(), chunk.from.to_string(), chunk.to.to_string()]);
    QueryRequest { name: name.to_owned(), sql, params }
}

/// One id's usage on one day.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Day {
    date: NaiveDate,
    cost: Decimal,
    line_items: u64,
}

/// What the confirmation queries of one analysis answered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answers {
    queried: HashSet<String>,
    days: HashMap<String, Vec<Day>>,
    /// Ids whose rows could not be read, with why.
    unreadable: HashMap<String, String>,
    /// Queries that failed (their ids are unknown): the reason for eligible entries they left.
    failed: Vec<String>,
}

impl Answers {
    /// Reads one query's result. A missing column is an error (the query is ours: the engine
    /// answered something else); a row that is not a day and an amount marks its id unreadable.
    pub fn read(&mut self, rs: &ResultSet) -> Result<(), QueryError> {
        let col = |name: &str| {
            rs.columns
                .iter()
                .position(|c| c == name)
                .ok_or_else(|| QueryError::InvalidData(format!("{QUERY_NAME_PREFIX}: the result has no column {name}")))
        };
        let (id_c, date_c, cost_c, n_c) =
            (col("queried_id")?, col("usage_date")?, col("total_effective")?, col("line_items")?);
        for row in &rs.rows {
            let Some(Cell::Text(id)) = row.get(id_c) else { continue };
            self.queried.insert(id.clone());
            match parse_day(row.get(date_c), row.get(cost_c), row.get(n_c)) {
                Ok(Some(day)) => self.days.entry(id.clone()).or_default().push(day),
                Ok(None) => {}
                Err(why) => {
                    self.unreadable.entry(id.clone()).or_insert(why);
                }
            }
        }
        Ok(())
    }

    /// A confirmation query that failed: the entries it was for stay pending with `why`.
    pub fn failed(&mut self, why: impl Into<String>) {
        self.failed.push(why.into());
    }
}

fn parse_day(date: Option<&Cell>, cost: Option<&Cell>, n: Option<&Cell>) -> Result<Option<Day>, String> {
    let date = match date {
        None | Some(Cell::Null) => return Ok(None),
        Some(Cell::Text(s)) => NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d")
            .map_err(|_| format!("the CUR gives {s:?} as a usage date"))?,
        Some(other) => return Err(format!("the CUR gives {other:?} as a usage date")),
    };
    let cost = match cost {
        Some(Cell::Decimal(d)) => *d,
        Some(Cell::Int(i)) => Decimal::from(*i),
        Some(Cell::Text(s)) => s.parse().map_err(|_| format!("the CUR gives {s:?} as a cost on {date}"))?,
        other => return Err(format!("the CUR gives {other:?} as a cost on {date}")),
    };
    let line_items = match n {
        Some(Cell::Int(i)) if *i >= 0 => *i as u64,
        Some(Cell::Decimal(d)) if d.fract().is_zero() && d.to_u64().is_some() => d.to_u64().unwrap_or_default(),
        Some(Cell::Text(s)) => s.parse().map_err(|_| format!("the CUR gives {s:?} line items on {date}"))?,
        other => return Err(format!("the CUR gives {other:?} line items on {date}")),
    };
    Ok(Some(Day { date, cost, line_items }))
}

/// Where the analysis stands: what it read and when it runs.
#[derive(Clone, Debug)]
pub struct Context<'a> {
    pub range: &'a PeriodRange,
    /// First and last day with usage in the analysed periods (`CurAnalysis::first_day`,
    /// `last_day`); `None` when there is no usage at all.
    pub coverage: Option<(NaiveDate, NaiveDate)>,
    pub now: DateTime<Utc>,
    pub settings: &'a ConfirmSettings,
}

/// Resource ids whose drop in cost a confirmed entry already holds: id -> that entry's key. A
/// resource realised under two rules (a scan finding and a CUR finding on one volume) has its
/// bill confirmed once, on the oldest entry; the others are confirmed at 0, saying where it is.
pub type Claims = HashMap<String, String>;

/// The claims of the entries confirmed above 0.
pub fn claims(entries: &[RealisedSaving]) -> Claims {
    let mut out = Claims::new();
    for e in entries.iter().filter(|e| e.confirmed_usd().is_some_and(|c| c > Decimal::ZERO)) {
        let ids = e.confirmation.as_ref().and_then(|c| c.evidence.as_ref()).map(|ev| ev.resource_ids.clone());
        for id in ids.unwrap_or_default() {
            out.entry(id).or_insert_with(|| e.key.clone());
        }
    }
    out
}

/// The account's entries among `all`, oldest realisation first.
pub fn of_account(all: Vec<RealisedSaving>, account: &AccountId) -> Vec<RealisedSaving> {
    let mut mine: Vec<RealisedSaving> = all.into_iter().filter(|e| e.account_id == *account).collect();
    crate::store::triage::oldest_first(&mut mine);
    mine
}

/// What to write on `entry`: `None` when the stored confirmation already says the same.
pub fn verdict(
    entry: &RealisedSaving,
    answers: &Answers,
    cx: &Context<'_>,
    claims: &Claims,
) -> Option<SavingConfirmation> {
    if !entry.awaits_confirmation() {
        return None;
    }
    let (ids, refused) = ids_of(entry);
    let outcome = if ids.is_empty() {
        Err((ConfirmationStatus::NotConfirmable, format!("refused: {}", refused.join("; "))))
    } else if !ids.iter().any(|id| answers.queried.contains(id)) {
        let why = not_eligible(entry, cx.range, cx.now, cx.settings)
            .or_else(|| answers.failed.first().map(|f| format!("the confirmation query failed: {f}")))
            .unwrap_or_else(|| "not in this analysis's confirmation queries: the next analysis checks it".into());
        Err((ConfirmationStatus::Pending, why))
    } else {
        compare(entry, &ids, answers, cx).map_err(|why| (ConfirmationStatus::Pending, why))
    };
    let c = match outcome {
        Ok(c) => counted_once(c, &entry.key, claims),
        Err((mut status, mut reason)) => {
            if status == ConfirmationStatus::Pending
                && cx.now - entry.realised_at >= Duration::days(i64::from(cx.settings.give_up_days))
            {
                status = ConfirmationStatus::NotConfirmable;
                reason = format!("still pending {} days after the resolution: {reason}", cx.settings.give_up_days);
            }
            SavingConfirmation {
                status,
                checked_at: cx.now,
                reason: Some(reason),
                confirmed_usd: None,
                confirmed_at: None,
                evidence: None,
            }
        }
    };
    let same = entry.confirmation.as_ref().is_some_and(|old| old.status == c.status && old.reason == c.reason);
    (!same).then_some(c)
}

/// `c` at 0 when another entry already holds the drop in cost of one of its ids.
fn counted_once(mut c: SavingConfirmation, key: &str, claims: &Claims) -> SavingConfirmation {
    let ids = c.evidence.as_ref().map(|e| e.resource_ids.as_slice()).unwrap_or_default();
    let other = ids.iter().find_map(|id| claims.get(id).filter(|k| *k != key).map(|k| (id.clone(), k.clone())));
    if let (Some((id, k)), true) = (other, c.confirmed_usd.is_some_and(|v| v > Decimal::ZERO)) {
        c.confirmed_usd = Some(Decimal::ZERO);
        c.reason = Some(format!("the bill's drop for {id} is counted once, in {k}"));
    }
    c
}

/// The comparison of one queried entry: its confirmation, or why it stays pending.
fn compare(
    entry: &RealisedSaving,
    ids: &[String],
    answers: &Answers,
    cx: &Context<'_>,
) -> Result<SavingConfirmation, String> {
    let n = cx.settings.days.max(1);
    let w = Windows::new(entry.realised_at, n);
    let Some((first, last)) = cx.coverage else {
        return Err("the CUR has no usage line items in the analysed billing periods".into());
    };
    if !w.contains((first, last)) {
        return Err(format!(
            "the CUR's usage runs from {first} to {last}; the comparison needs {} to {}",
            w.before.0, w.after.1
        ));
    }
    if let Some(why) = ids.iter().find_map(|id| answers.unreadable.get(id)) {
        return Err(format!("{why}: not compared"));
    }
    let (mut before, mut after) = ((Decimal::ZERO, 0u64), (Decimal::ZERO, 0u64));
    let mut matched = BTreeSet::new();
    for id in ids {
        for day in answers.days.get(id).map(Vec::as_slice).unwrap_or_default() {
            let side = if (w.before.0..=w.before.1).contains(&day.date) {
                &mut before
            } else if (w.after.0..=w.after.1).contains(&day.date) {
                &mut after
            } else {
                continue;
            };
            if day.cost < Decimal::ZERO || day.cost > MAX_DAILY_USD {
                return Err(format!(
                    "the CUR gives {id} a usage cost of ${} on {}, {}: not compared",
                    day.cost.normalize(),
                    day.date,
                    if day.cost < Decimal::ZERO { "below zero" } else { "over $1,000,000 a day" }
                ));
            }
            side.0 += day.cost;
            side.1 += day.line_items;
            matched.insert(id.clone());
        }
    }
    if before.1 == 0 {
        return Err(format!(
            "no line item for {} from {} to {} (the {n} days before the resolution): nothing to compare",
            ids.join(" or "),
            w.before.0,
            w.before.1
        ));
    }
    let days = Decimal::from(n);
    let saving = (before.0 - after.0).max(Decimal::ZERO) * HOURS_PER_MONTH / (days * Decimal::from(24));
    Ok(SavingConfirmation {
        status: ConfirmationStatus::Confirmed,
        checked_at: cx.now,
        reason: None,
        confirmed_usd: Some(cents(saving)),
        confirmed_at: Some(cx.now),
        evidence: Some(BillEvidence {
            days: n,
            before_from: w.before.0,
            before_to: w.before.1,
            after_from: w.after.0,
            after_to: w.after.1,
            resource_ids: matched.into_iter().collect(),
            line_items_before: before.1,
            line_items_after: after.1,
            before_usd: before.0.normalize(),
            after_usd: after.0.normalize(),
            before_per_day_usd: (before.0 / days).round_dp(6).normalize(),
            after_per_day_usd: (after.0 / days).round_dp(6).normalize(),
        }),
    })
}

/// The verdicts one analysis wrote, by status.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Entries of the account that awaited the bill.
    pub pending_before: usize,
    pub confirmed: usize,
    pub pending: usize,
    pub not_confirmable: usize,
    /// Verdicts written (a verdict that says what the entry already says is not rewritten).
    pub written: usize,
    /// Sum of the confirmed monthly savings written by this analysis.
    #[serde(rename = "confirmed_usd", serialize_with = "crate::domain::money::serialize")]
    pub confirmed_usd: Decimal,
}

/// Writes the verdicts for the pending ones of `entries` (one account's realised entries, all of
/// them: the confirmed ones say which resources' drops are already counted) from `answers`,
/// oldest realisation first.
pub async fn record<S: TriageStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    entries: &[RealisedSaving],
    answers: &Answers,
    cx: &Context<'_>,
) -> Result<Summary, StoreError> {
    let mut claimed = claims(entries);
    let mut pending: Vec<&RealisedSaving> = entries.iter().filter(|e| e.awaits_confirmation()).collect();
    pending.sort_by(|a, b| (a.realised_at, &a.key).cmp(&(b.realised_at, &b.key)));
    let mut sum = Summary { pending_before: pending.len(), ..Summary::default() };
    for entry in pending {
        let stored_status = entry.confirmation.as_ref().map(|c| c.status);
        let Some(c) = verdict(entry, answers, cx, &claimed) else {
            if stored_status.is_none_or(|s| s == ConfirmationStatus::Pending) {
                sum.pending += 1;
            }
            continue;
        };
        if !store.record_confirmation(tenant, entry, &c).await? {
            continue;
        }
        sum.written += 1;
        if c.confirmed_usd.is_some_and(|v| v > Decimal::ZERO) {
            for id in c.evidence.iter().flat_map(|e| &e.resource_ids) {
                claimed.entry(id.clone()).or_insert_with(|| entry.key.clone());
            }
        }
        match c.status {
            ConfirmationStatus::Confirmed => {
                sum.confirmed += 1;
                sum.confirmed_usd += c.confirmed_usd.unwrap_or_default();
            }
            ConfirmationStatus::Pending => sum.pending += 1,
            ConfirmationStatus::NotConfirmable => sum.not_confirmable += 1,
        }
    }
    Ok(sum)
}

/// The whole check on an engine that runs a query to completion (the embedded engine; the CLI's
/// `costradar analyze --tenant`): reads `account`'s realised entries, runs the queries planned for
/// the pending ones, writes the verdicts. A query that fails leaves its entries pending with the
/// reason.
pub async fn confirm_with_engine<S: TriageStore + ?Sized>(
    engine: &dyn QueryEngine,
    library: &Library,
    store: &S,
    tenant: &TenantId,
    account: &AccountId,
    cx: &Context<'_>,
) -> Result<Summary, StoreError> {
    let entries = of_account(store.realised_savings(tenant).await?, account);
    let mut answers = Answers::default();
    for (i, chunk) in plan(&entries, cx.range, cx.now, cx.settings).iter().enumerate() {
        let req = request(library, cx.range, account, chunk, &query_name(i));
        match engine.run(&req).await.and_then(|rs| answers.read(&rs)) {
            Ok(()) => {}
            Err(e) => answers.failed(e.to_string()),
        }
    }
    record(store, tenant, &entries, &answers, cx).await
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::super::queries::{placeholder_count, Schema, YearMonth};
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// The verdict with nothing claimed yet.
    fn judge(e: &RealisedSaving, a: &Answers, cx: &Context<'_>) -> Option<SavingConfirmation> {
        verdict(e, a, cx, &Claims::new())
    }

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn account() -> AccountId {
        AccountId::parse("123456789012").unwrap()
    }

    /// A volume deleted on 2025-03-10 at noon, realised at $36.50 a month.
    fn entry(id: &str) -> RealisedSaving {
        RealisedSaving {
            key: format!("123456789012#ebs.unattached-volume#{id}"),
            account_id: account(),
            rule: "ebs.unattached-volume".into(),
            region: "us-east-1".into(),
            resource_id: id.into(),
            monthly_savings_usd: dec("36.50"),
            realised_at: at(2025, 3, 10, 12),
            arn: None,
            confirmation: None,
        }
    }

    fn range() -> PeriodRange {
        PeriodRange::new(YearMonth::parse("2025-02").unwrap(), YearMonth::parse("2025-03").unwrap()).unwrap()
    }

    fn settings() -> ConfirmSettings {
        ConfirmSettings::default()
    }

    /// The answer of a query over `ids`: (id, date, cost) rows, each one line item.
    fn answer(ids: &[&str], rows: &[(&str, NaiveDate, &str)]) -> Answers {
        let mut rs = ResultSet {
            columns: ["queried_id", "usage_date", "total_effective", "line_items"].map(String::from).to_vec(),
            ..ResultSet::default()
        };
        for id in ids {
            if !rows.iter().any(|r| r.0 == *id) {
                rs.rows.push(vec![Cell::Text((*id).into()), Cell::Null, Cell::Null, Cell::Null]);
            }
        }
        for (id, date, cost) in rows {
            rs.rows.push(vec![
                Cell::Text((*id).into()),
                Cell::Text(date.to_string()),
                Cell::Decimal(dec(cost)),
                Cell::Int(1),
            ]);
        }
        let mut a = Answers::default();
        a.read(&rs).unwrap();
        a
    }

    /// `cost` a day for `id` from `from` to `to` inclusive.
    fn daily<'a>(id: &'a str, from: NaiveDate, to: NaiveDate, cost: &'a str) -> Vec<(&'a str, NaiveDate, &'a str)> {
        from.iter_days().take_while(|d| *d <= to).map(|d| (id, d, cost)).collect()
    }

    fn cx<'a>(range: &'a PeriodRange, s: &'a ConfirmSettings, now: DateTime<Utc>) -> Context<'a> {
        Context { range, coverage: Some((day(2025, 2, 1), day(2025, 3, 31))), now, settings: s }
    }

    #[test]
    fn a_deleted_volume_is_confirmed_from_its_daily_cost_before_and_after() {
        // Billed $1.20 a day until the deletion day (half a day: $0.60, in neither window).
        let mut rows = daily("vol-1", day(2025, 2, 20), day(2025, 3, 9), "1.20");
        rows.push(("vol-1", day(2025, 3, 10), "0.60"));
        let (r, s) = (range(), settings());
        let c = judge(&entry("vol-1"), &answer(&["vol-1"], &rows), &cx(&r, &s, at(2025, 3, 20, 0))).unwrap();
        assert_eq!(c.status, ConfirmationStatus::Confirmed);
        // (8.40 - 0) / 7 days = 1.20 a day; x 730 / 24 = 36.50.
        assert_eq!(c.confirmed_usd, Some(dec("36.50")));
        assert_eq!(c.confirmed_at, Some(at(2025, 3, 20, 0)));
        let e = c.evidence.unwrap();
        assert_eq!((e.before_from, e.before_to), (day(2025, 3, 3), day(2025, 3, 9)));
        assert_eq!((e.after_from, e.after_to), (day(2025, 3, 11), day(2025, 3, 17)));
        assert_eq!((e.before_usd, e.after_usd), (dec("8.4"), Decimal::ZERO));
        assert_eq!((e.before_per_day_usd, e.after_per_day_usd), (dec("1.2"), Decimal::ZERO));
        assert_eq!((e.line_items_before, e.line_items_after, e.days), (7, 0, 7));
        assert_eq!(e.resource_ids, ["vol-1"]);
    }

    #[test]
    fn a_partial_drop_rounds_half_away_from_zero_and_is_not_capped_at_the_estimate() {
        // $2.00 a day before, $0.50 after: 1.50 x 730 / 24 = 45.625 -> 45.63, above the $36.50
        // the price book estimated: the bill's figure is kept as it is.
        let mut rows = daily("vol-1", day(2025, 3, 3), day(2025, 3, 9), "2.00");
        rows.extend(daily("vol-1", day(2025, 3, 11), day(2025, 3, 17), "0.50"));
        let (r, s) = (range(), settings());
        let c = judge(&entry("vol-1"), &answer(&["vol-1"], &rows), &cx(&r, &s, at(2025, 3, 20, 0))).unwrap();
        assert_eq!(c.confirmed_usd, Some(dec("45.63")));
        assert_eq!(c.evidence.unwrap().after_per_day_usd, dec("0.5"));
    }

    #[test]
    fn a_resource_still_billed_after_its_deletion_is_confirmed_at_zero_with_the_evidence() {
        let mut rows = daily("vol-1", day(2025, 3, 3), day(2025, 3, 9), "1.20");
        rows.extend(daily("vol-1", day(2025, 3, 11), day(2025, 3, 17), "1.30"));
        let (r, s) = (range(), settings());
        let c = judge(&entry("vol-1"), &answer(&["vol-1"], &rows), &cx(&r, &s, at(2025, 3, 20, 0))).unwrap();
        assert_eq!((c.status, c.confirmed_usd), (ConfirmationStatus::Confirmed, Some(Decimal::ZERO)));
        let e = c.evidence.unwrap();
        assert_eq!((e.before_per_day_usd, e.after_per_day_usd), (dec("1.2"), dec("1.3")));
        assert_eq!(e.line_items_after, 7);
    }

    #[test]
    fn the_cur_is_matched_by_resource_id_or_arn() {
        let arn = "arn:aws:ec2:us-east-1:123456789012:natgateway/nat-1";
        let e = RealisedSaving { arn: Some(arn.into()), ..entry("nat-1") };
        assert_eq!(ids_of(&e).0, ["nat-1", arn]);
        let rows = daily(arn, day(2025, 3, 3), day(2025, 3, 9), "1.08");
        let (r, s) = (range(), settings());
        let c = judge(&e, &answer(&["nat-1", arn], &rows), &cx(&r, &s, at(2025, 3, 20, 0))).unwrap();
        // 1.08 x 730 / 24 = 32.85
        assert_eq!(c.confirmed_usd, Some(dec("32.85")));
        assert_eq!(c.evidence.unwrap().resource_ids, [arn]);
    }

    #[test]
    fn a_resolution_the_cur_does_not_cover_yet_stays_pending_and_is_not_rewritten() {
        let (r, s) = (range(), settings());
        let rows = daily("vol-1", day(2025, 3, 3), day(2025, 3, 9), "1.20");
        // The CUR's usage stops on the 15th: the 7 days after the resolution end on the 17th.
        let short = Context { coverage: Some((day(2025, 2, 1), day(2025, 3, 15))), ..cx(&r, &s, at(2025, 3, 20, 0)) };
        let c = judge(&entry("vol-1"), &answer(&["vol-1"], &rows), &short).unwrap();
        assert_eq!((c.status, c.confirmed_usd), (ConfirmationStatus::Pending, None));
        let why = c.reason.clone().unwrap();
        assert!(why.contains("2025-03-15") && why.contains("2025-03-03 to 2025-03-17"), "{why}");
        // The same answer again: nothing new to write.
        let checked = RealisedSaving { confirmation: Some(c), ..entry("vol-1") };
        assert_eq!(judge(&checked, &answer(&["vol-1"], &rows), &short), None);
        // No usage at all in the periods.
        let none = Context { coverage: None, ..short };
        assert!(judge(&entry("vol-1"), &answer(&["vol-1"], &[]), &none).unwrap().reason.unwrap().contains("no usage"));
    }

    #[test]
    fn a_recent_resolution_is_neither_queried_nor_compared() {
        let (r, s) = (range(), settings());
        let now = at(2025, 3, 16, 12); // 6 days after
        assert!(plan(&[entry("vol-1")], &r, now, &s).is_empty());
        let c = judge(&entry("vol-1"), &Answers::default(), &cx(&r, &s, now)).unwrap();
        assert_eq!(c.status, ConfirmationStatus::Pending);
        assert!(c.reason.unwrap().contains("7 days old"));
        // Outside the analysed periods: a range that ends with February.
        let feb = PeriodRange::new(YearMonth::parse("2025-01").unwrap(), YearMonth::parse("2025-02").unwrap()).unwrap();
        assert!(plan(&[entry("vol-1")], &feb, at(2025, 4, 1, 0), &s).is_empty());
        let why = not_eligible(&entry("vol-1"), &feb, at(2025, 4, 1, 0), &s).unwrap();
        assert!(why.contains("outside the analysed billing periods"), "{why}");
    }

    #[test]
    fn no_line_item_before_the_resolution_stays_pending_then_is_not_confirmable_after_60_days() {
        let (r, s) = (range(), settings());
        let after_only = daily("vol-1", day(2025, 3, 11), day(2025, 3, 17), "1.00");
        let c = judge(&entry("vol-1"), &answer(&["vol-1"], &after_only), &cx(&r, &s, at(2025, 3, 20, 0))).unwrap();
        assert_eq!(c.status, ConfirmationStatus::Pending);
        assert!(c.reason.as_deref().unwrap().starts_with("no line item for vol-1 from 2025-03-03 to 2025-03-09"));
        let late = cx(&r, &s, at(2025, 5, 9, 12)); // 60 days after the resolution
        let c = judge(&entry("vol-1"), &answer(&["vol-1"], &after_only), &late).unwrap();
        assert_eq!(c.status, ConfirmationStatus::NotConfirmable);
        assert!(c.reason.unwrap().starts_with("still pending 60 days after the resolution: no line item"));
        // Settled: never checked again.
        let settled = RealisedSaving {
            confirmation: Some(SavingConfirmation { status: ConfirmationStatus::NotConfirmable, ..c_pending() }),
            ..entry("vol-1")
        };
        assert!(!settled.awaits_confirmation());
        assert!(plan(std::slice::from_ref(&settled), &r, at(2025, 5, 9, 12), &s).is_empty());
        assert_eq!(judge(&settled, &answer(&["vol-1"], &after_only), &late), None);
    }

    fn c_pending() -> SavingConfirmation {
        SavingConfirmation {
            status: ConfirmationStatus::Pending,
            checked_at: at(2025, 3, 20, 0),
            reason: Some("x".into()),
            confirmed_usd: None,
            confirmed_at: None,
            evidence: None,
        }
    }

    #[test]
    fn hostile_costs_are_refused_with_a_reason() {
        let (r, s) = (range(), settings());
        let now = at(2025, 3, 20, 0);
        for (cost, says) in [("-3.5", "below zero"), ("1000000.01", "over $1,000,000 a day")] {
            let mut rows = daily("vol-1", day(2025, 3, 3), day(2025, 3, 8), "1.20");
            rows.push(("vol-1", day(2025, 3, 9), cost));
            let c = judge(&entry("vol-1"), &answer(&["vol-1"], &rows), &cx(&r, &s, now)).unwrap();
            assert_eq!((c.status, c.confirmed_usd), (ConfirmationStatus::Pending, None), "{cost}");
            let why = c.reason.unwrap();
            assert!(why.contains(says) && why.contains("2025-03-09") && why.contains(cost), "{why}");
        }
        // A row the engine answered with text where a date or an amount goes.
        let mut rs = ResultSet {
            columns: ["queried_id", "usage_date", "total_effective", "line_items"].map(String::from).to_vec(),
            ..ResultSet::default()
        };
        rs.rows.push(vec![Cell::Text("vol-1".into()), Cell::Text("yesterday".into()), Cell::Int(1), Cell::Int(1)]);
        let mut a = Answers::default();
        a.read(&rs).unwrap();
        let why = judge(&entry("vol-1"), &a, &cx(&r, &s, now)).unwrap().reason.unwrap();
        assert!(why.contains("\"yesterday\" as a usage date"), "{why}");
        // A result without the expected columns is the engine's error, not a verdict.
        let wrong = ResultSet { columns: vec!["resource_id".into()], ..ResultSet::default() };
        assert!(matches!(Answers::default().read(&wrong), Err(QueryError::InvalidData(_))));
    }

    #[test]
    fn hostile_ids_are_refused_and_never_reach_the_sql_text() {
        let (r, s) = (range(), settings());
        let now = at(2025, 3, 20, 0);
        let quoted = "vol-1' OR '1'='1";
        let long = "v".repeat(10_000);
        for bad in [quoted, long.as_str(), "vol-\n1", ""] {
            let c = judge(&entry(bad), &Answers::default(), &cx(&r, &s, now)).unwrap();
            assert_eq!(c.status, ConfirmationStatus::NotConfirmable, "{bad:.20}");
            assert!(c.reason.as_deref().unwrap().starts_with("refused: the resource id"), "{:?}", c.reason);
            assert!(c.reason.unwrap().len() < 200, "the reason does not repeat a huge id");
            assert!(plan(&[entry(bad)], &r, now, &s).is_empty());
        }
        // A bad resource id with a good ARN is queried by its ARN only.
        let arn = "arn:aws:ec2:us-east-1:123456789012:volume/vol-1";
        let e = RealisedSaving { arn: Some(arn.into()), ..entry(quoted) };
        let chunks = plan(&[e, entry("vol-2")], &r, now, &s);
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].ids, [arn, "vol-2"]);
        assert_eq!((chunks[0].from, chunks[0].to), (day(2025, 3, 3), day(2025, 3, 17)));
        let lib = Library::new(Schema::Cur2, "cur").unwrap();
        let req = request(&lib, &r, &account(), &chunks[0], "confirm_savings_1");
        assert!(!req.sql.contains(arn) && !req.sql.contains("vol-2") && !req.sql.contains("123456789012"));
        assert_eq!(placeholder_count(&req.sql), req.params.len());
        assert_eq!(req.params, ["2025-02", "2025-03", arn, "vol-2", "123456789012", "2025-03-03", "2025-03-17"]);
        assert!(req.sql.contains("BETWEEN ? AND ?"), "the billing-period filter");
    }

    #[test]
    fn ids_are_chunked_by_count_and_bytes_with_a_bounded_number_of_queries() {
        let (r, s) = (range(), settings());
        let now = at(2025, 3, 20, 0);
        let many = |n: usize, len: usize| -> Vec<RealisedSaving> {
            (0..n).map(|i| entry(&format!("vol-{i:0>width$}", width = len.saturating_sub(4)))).collect()
        };
        let sizes = |c: Vec<Chunk>| c.iter().map(|c| c.ids.len()).collect::<Vec<_>>();
        assert_eq!(sizes(plan(&many(250, 21), &r, now, &s)), [100, 100, 50]);
        // At most 4 queries: the rest wait for the next analysis.
        assert_eq!(sizes(plan(&many(450, 21), &r, now, &s)), [100, 100, 100, 100]);
        // 2,000-byte ids: 32 fit in 64 KiB.
        assert_eq!(sizes(plan(&many(40, 2000), &r, now, &s)), [32, 8]);
        // An id shared by two entries is queried once.
        let twice = [entry("vol-9"), RealisedSaving { key: "other".into(), ..entry("vol-9") }];
        assert_eq!(sizes(plan(&twice, &r, now, &s)), [1]);
        // Not queried because the cap was reached: pending, and said so.
        let left = &many(450, 21)[449];
        let why = judge(left, &Answers::default(), &cx(&r, &s, now)).unwrap().reason.unwrap();
        assert!(why.contains("the next analysis"), "{why}");
        let mut failed = Answers::default();
        failed.failed("confirm_savings_1: HIVE_BAD_DATA");
        let why = judge(left, &failed, &cx(&r, &s, now)).unwrap().reason.unwrap();
        assert_eq!(why, "the confirmation query failed: confirm_savings_1: HIVE_BAD_DATA");
    }

    #[test]
    fn query_names_are_the_module_s_own() {
        assert!(is_query_name("confirm_savings_1") && is_query_name("confirm_savings_4"));
        for bad in ["confirm_savings_0", "confirm_savings_5", "confirm_savings_01", "confirm_savings_", "waste"] {
            assert!(!is_query_name(bad), "{bad}");
        }
        assert_eq!(query_name(0), "confirm_savings_1");
    }

    #[tokio::test]
    async fn recording_twice_settles_an_entry_once() {
        use crate::store::{FindingStore, MemoryStore, ResolveScope};
        let store = MemoryStore::new();
        let tenant = TenantId::generate();
        let f = crate::domain::finding::Finding {
            monthly_savings_usd: Some(dec("36.50")),
            arn: Some("arn:aws:ec2:us-east-1:123456789012:volume/vol-1".into()),
            ..crate::domain::finding::Finding::open(
                tenant.clone(),
                account(),
                "us-east-1",
                "ebs.unattached-volume",
                "vol-1",
                "t",
                at(2025, 3, 1, 0),
            )
        };
        store.upsert_findings(&tenant, &[f]).await.unwrap();
        let scope = ResolveScope {
            account_id: &account(),
            region: "us-east-1",
            rule_prefixes: &["ebs."],
            seen_before: at(2025, 3, 10, 12),
        };
        store.resolve_unseen(&tenant, &scope, at(2025, 3, 10, 12)).await.unwrap();
        let pending = store.pending_confirmations(&tenant, &account()).await.unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].arn.as_deref(), Some("arn:aws:ec2:us-east-1:123456789012:volume/vol-1"));
        let rows = daily("vol-1", day(2025, 3, 3), day(2025, 3, 9), "1.20");
        let (r, s) = (range(), settings());
        let a = answer(&["vol-1"], &rows);
        let sum = record(&store, &tenant, &pending, &a, &cx(&r, &s, at(2025, 3, 20, 0))).await.unwrap();
        assert_eq!(sum.pending_before, 1);
        assert_eq!((sum.confirmed, sum.written, sum.confirmed_usd), (1, 1, dec("36.50")));
        // The same analysis again, from the same read (a retried task) or a fresh one.
        let again = record(&store, &tenant, &pending, &a, &cx(&r, &s, at(2025, 3, 21, 0))).await.unwrap();
        assert_eq!((again.confirmed, again.written), (0, 0));
        assert!(store.pending_confirmations(&tenant, &account()).await.unwrap().is_empty());
        let all = store.realised_savings(&tenant).await.unwrap();
        assert_eq!(all[0].confirmed_usd(), Some(dec("36.50")));
        assert_eq!(all[0].confirmation.as_ref().unwrap().confirmed_at, Some(at(2025, 3, 20, 0)));
        assert_eq!(all[0].monthly_savings_usd, dec("36.50"), "the realised estimate is kept beside it");
    }

    #[tokio::test]
    async fn a_resource_realised_under_two_rules_has_its_drop_confirmed_once() {
        use crate::store::{FindingStore, MemoryStore, ResolveScope};
        let store = MemoryStore::new();
        let tenant = TenantId::generate();
        // A scan finding and a CUR finding on one volume, both counting, both resolved.
        for (rule, when) in [("ebs.gp2-to-gp3", at(2025, 3, 10, 12)), ("cur.gp2-volume", at(2025, 3, 10, 13))] {
            let f = crate::domain::finding::Finding {
                monthly_savings_usd: Some(dec("10")),
                ..crate::domain::finding::Finding::open(
                    tenant.clone(),
                    account(),
                    "us-east-1",
                    rule,
                    "vol-1",
                    "t",
                    at(2025, 3, 1, 0),
                )
            };
            store.upsert_findings(&tenant, &[f]).await.unwrap();
            let scope =
                ResolveScope { account_id: &account(), region: "us-east-1", rule_prefixes: &[rule], seen_before: when };
            store.resolve_unseen(&tenant, &scope, when).await.unwrap();
        }
        let rows = daily("vol-1", day(2025, 3, 3), day(2025, 3, 9), "1.20");
        let (r, s) = (range(), settings());
        let entries = of_account(store.realised_savings(&tenant).await.unwrap(), &account());
        assert_eq!(entries.len(), 2);
        let sum = record(&store, &tenant, &entries, &answer(&["vol-1"], &rows), &cx(&r, &s, at(2025, 3, 20, 0)))
            .await
            .unwrap();
        assert_eq!((sum.confirmed, sum.confirmed_usd), (2, dec("36.50")), "36.50 once, not twice");
        let all = of_account(store.realised_savings(&tenant).await.unwrap(), &account());
        assert_eq!(all[0].rule, "ebs.gp2-to-gp3", "the oldest holds the drop");
        assert_eq!(all[0].confirmed_usd(), Some(dec("36.50")));
        assert_eq!(all[1].confirmed_usd(), Some(Decimal::ZERO));
        let why = all[1].confirmation.as_ref().unwrap().reason.clone().unwrap();
        assert_eq!(why, "the bill's drop for vol-1 is counted once, in 123456789012#ebs.gp2-to-gp3#vol-1");
        // A later entry on the same resource meets the claim of the confirmed one.
        let later = RealisedSaving { key: "123456789012#ec2.x#vol-1".into(), ..entry("vol-1") };
        let c = verdict(&later, &answer(&["vol-1"], &rows), &cx(&r, &s, at(2025, 3, 20, 0)), &claims(&all)).unwrap();
        assert_eq!(c.confirmed_usd, Some(Decimal::ZERO));
    }
}
