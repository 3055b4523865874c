//! The anomaly detector on many synthetic daily series (weekly seasonality, noise, short
//! histories, new services, tiny series), against the anomalies injected into them. Precision
//! and recall are printed and held to a floor.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use costradar_core::cur::anomaly::{detect, AnomalyConfig, AnomalyKind, Series};
use rust_decimal::Decimal;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> Decimal {
        Decimal::new((self.next() % 10_000) as i64, 4)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

type Key = (String, String, NaiveDate);

/// Synthetic series by (account, service), the injected anomalies, the first and last day.
type Synthetic = (BTreeMap<(String, String), Series>, BTreeSet<Key>, NaiveDate, NaiveDate);

/// `n` series over `days` days starting on a Wednesday in the middle of a month (so the data
/// crosses a month boundary), some starting late, some tiny. Returns the series and the
/// injected anomalies.
fn synthetic(seed: u64, n: usize, days: i64) -> Synthetic {
    let mut rng = Rng(seed);
    let start = NaiveDate::from_ymd_opt(2025, 1, 15).unwrap();
    let end = start + chrono::Duration::days(days - 1);
    let min_impact = Decimal::from(50);
    let mut all = BTreeMap::new();
    let mut injected = BTreeSet::new();
    for i in 0..n {
        let account = format!("{:012}", 100_000_000_000u64 + (i as u64 % 7));
        let service = format!("Service{i}");
        // Scale from $3 to $3,000 a day; a tenth of the series are tiny (<$10/day).
        let base = if i % 10 == 0 {
            Decimal::from(3) + rng.unit() * Decimal::from(5)
        } else {
            Decimal::from(20) + rng.unit() * Decimal::from(3000)
        };
        let weekend = if i % 3 == 0 {
            Decimal::new(45, 2)
        } else if i % 3 == 1 {
            Decimal::new(80, 2)
        } else {
            Decimal::ONE
        };
        let sigma = Decimal::new(2 + (rng.below(11) as i64), 2); // 2%..12%
                                                                 // A fifth of the series start late (new services), some with only a few days of history.
        let first = if i % 5 == 4 { rng.below(days as u64 - 3) as i64 } else { 0 };
        let mut s = Series::new();
        for d in first..days {
            let day = start + chrono::Duration::days(d);
            let is_weekend = chrono::Datelike::weekday(&day).number_from_monday() >= 6;
            let noise: Decimal = (0..4).map(|_| rng.unit()).sum::<Decimal>() - Decimal::TWO;
            let mut v = base
                * if is_weekend { weekend } else { Decimal::ONE }
                * (Decimal::ONE + sigma * noise * Decimal::new(1732, 3));
            // Spikes: about 1 day in 40, once the series has a week of history.
            if d - first >= 7 && rng.below(40) == 0 {
                let extra = (base * (Decimal::from(2) + Decimal::from(2) * rng.unit())).max(Decimal::from(120));
                v += extra;
                injected.insert((account.clone(), service.clone(), day));
            }
            s.insert(day, v.round_dp(2));
        }
        if first > 0 && s.values().next().is_some_and(|v| *v >= min_impact) {
            injected.insert((account.clone(), service.clone(), start + chrono::Duration::days(first)));
        }
        all.insert((account, service), s);
    }
    (all, injected, start, end)
}

#[test]
fn precision_and_recall_on_synthetic_series() {
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    let (mut new_found, mut new_injected) = (0usize, 0usize);
    for seed in 1..=4u64 {
        let (series, injected, start, end) = synthetic(seed, 150, 75);
        let found = detect(&series, start, end, &AnomalyConfig::default());
        let got: BTreeSet<Key> = found.iter().map(|a| (a.account_id.clone(), a.service.clone(), a.date)).collect();
        tp += got.intersection(&injected).count();
        fp += got.difference(&injected).count();
        fn_ += injected.difference(&got).count();
        new_found += found.iter().filter(|a| a.kind == AnomalyKind::NewSeries).count();
        new_injected += series
            .iter()
            .filter(|((a, s), v)| {
                let first = *v.keys().next().unwrap();
                first > start && injected.contains(&(a.clone(), s.clone(), first))
            })
            .count();
        for a in &found {
            assert!(a.impact >= Decimal::from(50), "below the minimum impact: {a:?}");
            assert_eq!(a.impact, a.actual - a.expected);
        }
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    println!(
        "anomaly detector on 600 synthetic series x 75 days: tp={tp} fp={fp} fn={fn_} precision={precision:.3} recall={recall:.3} (new services {new_found}/{new_injected})"
    );
    assert!(tp >= 500, "a meaningful sample: {tp}");
    assert!(precision >= 0.90, "precision {precision:.3}");
    assert!(recall >= 0.85, "recall {recall:.3}");
}
