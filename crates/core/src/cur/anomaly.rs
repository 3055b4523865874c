//! Cost anomalies in daily usage series (one series per account × service), in Rust, on the
//! aggregates the query library returns.
//!
//! For each day, the baseline comes from the previous 28 days of the same series:
//! - three weeks or more of history: the median of the same weekday (weekday seasonality), and
//!   the spread is the MAD of every day's residual from its own weekday's median;
//! - one to three weeks: the same with weekdays and weekend days as two groups;
//! - three to six days (short history): the median, with a spread of at least half the range;
//! - fewer: no baseline, no verdict.
//!
//! A day is an anomaly when its excess over the baseline is at least `min_impact` dollars (tiny
//! series stay quiet) and at least `threshold` robust standard deviations (1.4826 × MAD, floored
//! at 5 % of the baseline so flat series do not alarm on cents). A series that starts after the
//! data does (a new service, or a service new to an account) is an anomaly on its first day
//! when that day alone costs `min_impact`. Series are continuous across billing periods, so the
//! first days of a month are judged against the end of the previous one; monthly fees, taxes and
//! credits are not usage and never enter a series, so the first of the month is no spike.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::domain::money::cents;

#[derive(Clone, Debug)]
pub struct AnomalyConfig {
    pub min_impact: Decimal,
    /// In robust standard deviations.
    pub threshold: Decimal,
    pub window_days: i64,
}

impl Default for AnomalyConfig {
    fn default() -> Self {
        Self { min_impact: Decimal::from(50), threshold: Decimal::from(4), window_days: 28 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    Spike,
    NewSeries,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Anomaly {
    pub date: NaiveDate,
    /// `account/service`.
    pub series: String,
    pub account_id: String,
    pub service: String,
    pub expected: Decimal,
    pub actual: Decimal,
    /// actual - expected, in USD.
    pub impact: Decimal,
    pub severity: Severity,
    pub kind: AnomalyKind,
}

/// Daily cost of one series; days without a row inside its life are zero.
pub type Series = BTreeMap<NaiveDate, Decimal>;

fn median(v: &mut [Decimal]) -> Decimal {
    v.sort_unstable();
    let n = v.len();
    if n == 0 {
        Decimal::ZERO
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / Decimal::TWO
    }
}

fn mad(values: &[Decimal]) -> Decimal {
    let mut v = values.to_vec();
    let m = median(&mut v);
    let mut dev: Vec<Decimal> = values.iter().map(|x| (*x - m).abs()).collect();
    median(&mut dev)
}

/// Expected value and robust sigma for `day` from `history` (day, value), or None.
fn baseline(day: NaiveDate, history: &[(NaiveDate, Decimal)]) -> Option<(Decimal, Decimal)> {
    let n = history.len();
    if n < 3 {
        return None;
    }
    let k = Decimal::new(14826, 4);
    let grouped = |key: &dyn Fn(NaiveDate) -> u32| -> Option<(Decimal, Decimal)> {
        let mut groups: BTreeMap<u32, Vec<Decimal>> = BTreeMap::new();
        for (d, v) in history {
            groups.entry(key(*d)).or_default().push(*v);
        }
        let medians: BTreeMap<u32, Decimal> = groups.iter().map(|(g, v)| (*g, median(&mut v.clone()))).collect();
        let own = groups.get(&key(day))?;
        if own.len() < 2 {
            return None;
        }
        // Leave-one-out residuals: a day's distance from the median of the *other* days of its
        // group. With three or four days a group, the plain residuals are zero for the median
        // day itself and the spread would be underestimated.
        let mut residuals = Vec::with_capacity(n);
        for (i, (d, v)) in history.iter().enumerate() {
            let mut others: Vec<Decimal> = history
                .iter()
                .enumerate()
                .filter(|(j, (d2, _))| *j != i && key(*d2) == key(*d))
                .map(|(_, (_, v2))| *v2)
                .collect();
            if !others.is_empty() {
                residuals.push(*v - median(&mut others));
            }
        }
        Some((medians[&key(day)], k * mad(&residuals)))
    };
    if n >= 21 {
        if let Some(b) = grouped(&|d| d.weekday().num_days_from_monday()) {
            return Some(b);
        }
    }
    if n >= 7 {
        if let Some(b) = grouped(&|d| u32::from(d.weekday().number_from_monday() >= 6)) {
            return Some(b);
        }
    }
    let values: Vec<Decimal> = history.iter().map(|(_, v)| *v).collect();
    let mut sorted = values.clone();
    let m = median(&mut sorted);
    let range = sorted[sorted.len() - 1] - sorted[0];
    Some((m, (k * mad(&values)).max(range / Decimal::TWO)))
}

fn severity(impact: Decimal, cfg: &AnomalyConfig) -> Severity {
    if impact >= cfg.min_impact * Decimal::from(10) {
        Severity::High
    } else if impact >= cfg.min_impact * Decimal::from(3) {
        Severity::Medium
    } else {
        Severity::Low
    }
}

/// Finds anomalies in every series. `data_start` is the first day of the data as a whole: a
/// series that starts later is new. Results are sorted by date, then series.
pub fn detect(
    series: &BTreeMap<(String, String), Series>,
    data_start: NaiveDate,
    data_end: NaiveDate,
    cfg: &AnomalyConfig,
) -> Vec<Anomaly> {
    let mut out = Vec::new();
    for ((account, service), points) in series {
        let Some((&first, _)) = points.iter().find(|(_, v)| !v.is_zero()) else {
            continue;
        };
        // The series' days, zero-filled from its first day to the end of the data.
        let days: Vec<(NaiveDate, Decimal)> = first
            .iter_days()
            .take_while(|d| *d <= data_end)
            .map(|d| (d, points.get(&d).copied().unwrap_or_default()))
            .collect();
        let make = |date: NaiveDate, expected: Decimal, actual: Decimal, kind: AnomalyKind| Anomaly {
            date,
            series: format!("{account}/{service}"),
            account_id: account.clone(),
            service: service.clone(),
            expected: cents(expected),
            actual: cents(actual),
            impact: cents(actual) - cents(expected),
            severity: severity(actual - expected, cfg),
            kind,
        };
        for (i, (day, actual)) in days.iter().enumerate() {
            if i == 0 {
                if first > data_start && *actual >= cfg.min_impact {
                    out.push(make(*day, Decimal::ZERO, *actual, AnomalyKind::NewSeries));
                }
                continue;
            }
            let lo = i.saturating_sub(cfg.window_days as usize);
            let Some((expected, sigma)) = baseline(*day, &days[lo..i]) else {
                continue;
            };
            let sigma = sigma.max(expected.abs() * Decimal::new(5, 2)).max(Decimal::new(5, 1));
            let excess = *actual - expected;
            if excess >= cfg.min_impact && excess >= cfg.threshold * sigma {
                out.push(make(*day, expected, *actual, AnomalyKind::Spike));
            }
        }
    }
    out.sort_by(|a, b| (a.date, &a.series).cmp(&(b.date, &b.series)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(n: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 1, 6).unwrap() + chrono::Duration::days(n)
        // a Monday
    }

    fn one(values: &[i64]) -> BTreeMap<(String, String), Series> {
        let s: Series = values.iter().enumerate().map(|(i, v)| (day(i as i64), Decimal::from(*v))).collect();
        BTreeMap::from([(("111122223333".to_string(), "AmazonS3".to_string()), s)])
    }

    #[test]
    fn weekly_seasonality_is_not_an_anomaly_but_a_spike_is() {
        // Weekdays 100, weekends 20, for five weeks, then a Wednesday at 400.
        let mut v: Vec<i64> = (0..35).map(|i| if i % 7 >= 5 { 20 } else { 100 }).collect();
        v.push(100);
        v.push(100);
        v.push(400);
        let found = detect(&one(&v), day(0), day(v.len() as i64 - 1), &AnomalyConfig::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].date, day(37));
        assert_eq!(found[0].expected, Decimal::from(100));
        assert_eq!(found[0].impact, Decimal::from(300));
        assert_eq!(found[0].severity, Severity::Medium);
    }

    #[test]
    fn small_series_stay_quiet() {
        let mut v = vec![2i64; 30];
        v.push(40); // 20x, but $38
        let found = detect(&one(&v), day(0), day(30), &AnomalyConfig::default());
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn short_history_uses_what_there_is() {
        let v = [100, 104, 98, 101, 99, 600];
        let found = detect(&one(&v), day(0), day(5), &AnomalyConfig::default());
        assert_eq!(found.len(), 1);
        let quiet = detect(&one(&[100, 600]), day(0), day(1), &AnomalyConfig::default());
        assert!(quiet.is_empty(), "two days are no baseline");
    }

    #[test]
    fn a_new_service_is_flagged_on_its_first_day_only() {
        let mut s = one(&[100; 20]);
        let new: Series = (10..20).map(|i| (day(i), Decimal::from(300))).collect();
        s.insert(("111122223333".into(), "AmazonSageMaker".into()), new);
        let found = detect(&s, day(0), day(19), &AnomalyConfig::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].kind, found[0].date), (AnomalyKind::NewSeries, day(10)));
    }

    #[test]
    fn series_run_across_month_boundaries() {
        // Dec 1 .. Jan 31 flat at 100; Jan 1 is not special.
        let start = NaiveDate::from_ymd_opt(2024, 12, 1).unwrap();
        let s: Series = (0..62).map(|i| (start + chrono::Duration::days(i), Decimal::from(100 + (i % 3)))).collect();
        let m = BTreeMap::from([(("a".to_string(), "s".to_string()), s)]);
        assert!(detect(&m, start, start + chrono::Duration::days(61), &AnomalyConfig::default()).is_empty());
    }
}
