//! The savings ledger's figures: **open** (the monthly savings of open findings, by the month
//! they were first seen), **realised** (findings resolved because the resource went away or
//! changed, by the month it happened) and **confirmed** (by the bill: not built yet, always 0).
//! Each finding counts once: a finding whose saving another includes (`savings_included_in`)
//! counts in neither figure, a resolved finding is not open, and a reopened one withdraws its
//! realised entry (`store::findings::withdrawn_saving_sk`).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::FindingsError;
use crate::domain::money::usd;
use crate::domain::triage::{service_of, RealisedSaving};
use crate::store::OpenSaving;

/// Why confirmed is 0, in every answer that shows it.
pub const CONFIRMED_NOTE: &str =
    "confirmed savings (checked against the CUR's line items after the fix) are not built yet: always 0";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    pub open: Decimal,
    pub realised: Decimal,
    pub confirmed: Decimal,
    pub findings: u32,
}

impl Figures {
    fn add(&mut self, open: Decimal, realised: Decimal) -> Result<(), FindingsError> {
        let overflow = || FindingsError::Internal("a savings total overflowed".into());
        self.open = self.open.checked_add(open).ok_or_else(overflow)?;
        self.realised = self.realised.checked_add(realised).ok_or_else(overflow)?;
        self.findings += 1;
        Ok(())
    }

    fn json(&self, key: (&str, &str)) -> Value {
        let mut v = json!({
            "open_usd": usd(self.open),
            "realised_usd": usd(self.realised),
            "confirmed_usd": usd(self.confirmed),
            "findings": self.findings,
        });
        v[key.0] = json!(key.1);
        v
    }
}

/// The ledger's figures, in total and by month, service and account.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    pub total: Figures,
    pub by_month: BTreeMap<String, Figures>,
    pub by_service: BTreeMap<String, Figures>,
    pub by_account: BTreeMap<String, Figures>,
}

impl Ledger {
    pub fn of(open: &[OpenSaving], realised: &[RealisedSaving]) -> Result<Self, FindingsError> {
        let mut l = Self::default();
        for o in open {
            let month = o.first_seen.format("%Y-%m").to_string();
            l.add(month, service_of(&o.rule), o.account_id.as_str(), o.monthly_savings_usd, Decimal::ZERO)?;
        }
        for r in realised {
            l.add(r.month(), service_of(&r.rule), r.account_id.as_str(), Decimal::ZERO, r.monthly_savings_usd)?;
        }
        Ok(l)
    }

    fn add(
        &mut self,
        month: String,
        service: &str,
        account: &str,
        open: Decimal,
        realised: Decimal,
    ) -> Result<(), FindingsError> {
        self.total.add(open, realised)?;
        self.by_month.entry(month).or_default().add(open, realised)?;
        self.by_service.entry(service.to_owned()).or_default().add(open, realised)?;
        self.by_account.entry(account.to_owned()).or_default().add(open, realised)
    }

    /// The API's answer: money as decimal strings in `_usd` fields, months newest first.
    pub fn json(&self) -> Value {
        let rows = |m: &BTreeMap<String, Figures>, name: &str| -> Vec<Value> {
            m.iter().map(|(k, f)| f.json((name, k))).collect()
        };
        let mut by_month = rows(&self.by_month, "month");
        by_month.reverse();
        json!({
            "open_usd": usd(self.total.open),
            "realised_usd": usd(self.total.realised),
            "confirmed_usd": usd(self.total.confirmed),
            "by_month": by_month,
            "by_service": rows(&self.by_service, "service"),
            "by_account": rows(&self.by_account, "account_id"),
            "notes": {
                "open": "monthly savings of open findings, by the month they were first seen; a saving included in another finding's counts once",
                "realised": "monthly savings of findings resolved because the resource went away or changed, by the month they were resolved",
                "confirmed": CONFIRMED_NOTE,
            },
        })
    }
}
