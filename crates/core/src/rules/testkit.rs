//! Test helpers for the scan rules: the bundled price book, a fixed "now", fact builders.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;

use super::draft::{Ctx, Draft};
use super::facts::{Instance, RegionInventory};
use crate::domain::settings::ScanSettings;
use crate::pricing::{bundled, Bundled, PriceBook};

pub fn rates() -> &'static Bundled {
    bundled()
}

pub fn book(t: &'static Bundled) -> PriceBook<'static> {
    PriceBook::bundled_only(t)
}

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap()
}

pub fn ctx<'a>(book: &'a PriceBook<'a>, settings: &'a ScanSettings) -> Ctx<'a> {
    Ctx { book, settings, now: now(), account_id: "123456789012" }
}

/// A rule family's `evaluate`.
pub type Evaluate = fn(&Ctx<'_>, &RegionInventory, &mut Vec<Draft>);

/// Runs one rule family on one region with `settings`, the bundled snapshot and [`now`].
pub fn run_with(evaluate: Evaluate, settings: &ScanSettings, inv: &RegionInventory) -> Vec<Draft> {
    let book = book(rates());
    let mut out = vec![];
    evaluate(&ctx(&book, settings), inv, &mut out);
    out
}

/// [`run_with`] the default settings.
pub fn run(evaluate: Evaluate, inv: &RegionInventory) -> Vec<Draft> {
    run_with(evaluate, &ScanSettings::default(), inv)
}

pub fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub fn instance(id: &str, t: &str, state: &str) -> Instance {
    Instance {
        id: id.into(),
        instance_type: t.into(),
        state: state.into(),
        launched: now() - Duration::days(200),
        stopped_at: None,
        platform: None,
        tenancy: Some("default".into()),
        volume_ids: vec![],
        tags: Default::default(),
        cpu_p95_percent: None,
        public_ip: None,
    }
}

/// The one draft of `rule`; fails if there is none or several.
pub fn only(drafts: Vec<Draft>, rule: &str) -> Draft {
    let mut of_rule: Vec<Draft> = drafts.into_iter().filter(|d| d.rule == rule).collect();
    assert_eq!(of_rule.len(), 1, "expected one {rule} draft, got {of_rule:#?}");
    of_rule.remove(0)
}
