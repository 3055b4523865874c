//! The savings ledger's figures: **open** (the monthly savings of open findings, by the month
//! they were first seen), **realised** (findings resolved because the resource went away or
//! changed, by the month it happened) and **confirmed** (realised savings the CUR's line items
//! bear out, `crate::cur::confirm`, in the month of their realisation).
//! Each finding counts once: a finding whose saving another includes (`savings_included_in`)
//! counts in neither figure, a resolved finding is not open, and a reopened one withdraws its
//! realised entry (`store::findings::withdrawn_saving_sk`). Confirmed is a figure of its own,
//! never added to realised: a confirmed saving is also realised, at its estimate, while
//! confirmed holds what the bill showed (higher or lower; not capped).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::FindingsError;
use crate::domain::money::usd;
use crate::domain::triage::{service_of, ConfirmationStatus, RealisedSaving};
use crate::store::OpenSaving;

/// What confirmed means, in every answer that shows it.
pub const CONFIRMED_MEANING: &str = "monthly savings the bill bears out: for a realised saving at least 7 days old, the resource's daily usage cost in the CUR over the 7 days before its resolution minus the 7 days after, x 730 / 24, floored at 0; part of realised (never added to it) and not capped at the realised estimate";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    pub open: Decimal,
    pub realised: Decimal,
    pub confirmed: Decimal,
    pub findings: u32,
}

impl Figures {
    fn add(&mut self, a: Amounts) -> Result<(), FindingsError> {
        let overflow = || FindingsError::Internal("a savings total overflowed".into());
        self.open = self.open.checked_add(a.open).ok_or_else(overflow)?;
        self.realised = self.realised.checked_add(a.realised).ok_or_else(overflow)?;
        self.confirmed = self.confirmed.checked_add(a.confirmed).ok_or_else(overflow)?;
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

/// One finding's part of the figures.
#[derive(Clone, Copy, Debug, Default)]
struct Amounts {
    open: Decimal,
    realised: Decimal,
    confirmed: Decimal,
}

/// Where the realised entries stand against the bill.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Confirmations {
    pub confirmed: u32,
    pub pending: u32,
    pub not_confirmable: u32,
    /// The realised estimate of the confirmed entries, beside what the bill confirmed of them.
    pub realised_of_confirmed: Decimal,
}

/// The ledger's figures, in total and by month, service and account.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    pub total: Figures,
    pub by_month: BTreeMap<String, Figures>,
    pub by_service: BTreeMap<String, Figures>,
    pub by_account: BTreeMap<String, Figures>,
    pub confirmations: Confirmations,
}

impl Ledger {
    pub fn of(open: &[OpenSaving], realised: &[RealisedSaving]) -> Result<Self, FindingsError> {
        let mut l = Self::default();
        for o in open {
            let month = o.first_seen.format("%Y-%m").to_string();
            let a = Amounts { open: o.monthly_savings_usd, ..Amounts::default() };
            l.add(month, service_of(&o.rule), o.account_id.as_str(), a)?;
        }
        for r in realised {
            let confirmed = r.confirmed_usd();
            let a = Amounts {
                realised: r.monthly_savings_usd,
                confirmed: confirmed.unwrap_or_default(),
                ..Amounts::default()
            };
            l.add(r.month(), service_of(&r.rule), r.account_id.as_str(), a)?;
            l.count(r, confirmed.is_some())?;
        }
        Ok(l)
    }

    fn count(&mut self, r: &RealisedSaving, confirmed: bool) -> Result<(), FindingsError> {
        let c = &mut self.confirmations;
        match r.confirmation.as_ref().map(|c| c.status) {
            Some(ConfirmationStatus::Confirmed) if confirmed => {
                c.confirmed += 1;
                c.realised_of_confirmed = c
                    .realised_of_confirmed
                    .checked_add(r.monthly_savings_usd)
                    .ok_or_else(|| FindingsError::Internal("a savings total overflowed".into()))?;
            }
            Some(ConfirmationStatus::NotConfirmable) => c.not_confirmable += 1,
            _ => c.pending += 1,
        }
        Ok(())
    }

    fn add(&mut self, month: String, service: &str, account: &str, a: Amounts) -> Result<(), FindingsError> {
        self.total.add(a)?;
        self.by_month.entry(month).or_default().add(a)?;
        self.by_service.entry(service.to_owned()).or_default().add(a)?;
        self.by_account.entry(account.to_owned()).or_default().add(a)
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
            "confirmations": {
                "confirmed": self.confirmations.confirmed,
                "pending": self.confirmations.pending,
                "not_confirmable": self.confirmations.not_confirmable,
                "realised_of_confirmed_usd": usd(self.confirmations.realised_of_confirmed),
            },
            "notes": {
                "open": "monthly savings of open findings, by the month they were first seen; a saving included in another finding's counts once",
                "realised": "monthly savings of findings resolved because the resource went away or changed, by the month they were resolved",
                "confirmed": CONFIRMED_MEANING,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::domain::triage::SavingConfirmation;
    use crate::domain::AccountId;

    fn realised(id: &str, usd: i64, confirmation: Option<(ConfirmationStatus, Option<i64>)>) -> RealisedSaving {
        let at = Utc.with_ymd_and_hms(2025, 3, 10, 12, 0, 0).unwrap();
        RealisedSaving {
            key: format!("123456789012#ebs.unattached-volume#{id}"),
            account_id: AccountId::parse("123456789012").unwrap(),
            rule: "ebs.unattached-volume".into(),
            region: "us-east-1".into(),
            resource_id: id.into(),
            monthly_savings_usd: Decimal::from(usd),
            realised_at: at,
            arn: None,
            confirmation: confirmation.map(|(status, confirmed)| SavingConfirmation {
                status,
                checked_at: at,
                reason: None,
                confirmed_usd: confirmed.map(Decimal::from),
                confirmed_at: confirmed.map(|_| at),
                evidence: None,
            }),
        }
    }

    #[test]
    fn confirmed_is_a_figure_of_its_own_never_added_to_realised() {
        let entries = [
            // The bill shows more than the estimate: both are kept, nothing is capped.
            realised("vol-1", 100, Some((ConfirmationStatus::Confirmed, Some(120)))),
            // Still billed after the fix: confirmed at 0, and counted as confirmed.
            realised("vol-2", 40, Some((ConfirmationStatus::Confirmed, Some(0)))),
            realised("vol-3", 7, Some((ConfirmationStatus::Pending, None))),
            realised("vol-4", 3, None),
            realised("vol-5", 5, Some((ConfirmationStatus::NotConfirmable, None))),
        ];
        let l = Ledger::of(&[], &entries).unwrap();
        assert_eq!(
            (l.total.realised, l.total.confirmed, l.total.findings),
            (Decimal::from(155), Decimal::from(120), 5)
        );
        assert_eq!(l.by_month["2025-03"].confirmed, Decimal::from(120));
        assert_eq!(l.by_service["ebs"].realised, Decimal::from(155));
        let c = l.confirmations;
        assert_eq!((c.confirmed, c.pending, c.not_confirmable), (2, 2, 1));
        assert_eq!(c.realised_of_confirmed, Decimal::from(140));
        let v = l.json();
        assert_eq!((v["realised_usd"].as_str(), v["confirmed_usd"].as_str()), (Some("155.00"), Some("120.00")));
        assert_eq!(v["confirmations"]["realised_of_confirmed_usd"], "140.00");
        assert_eq!(v["by_month"][0]["confirmed_usd"], "120.00");
        assert!(v["notes"]["confirmed"].as_str().unwrap().contains("never added"));
    }
}
