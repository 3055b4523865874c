//! The savings ledger's figures: **open** (the monthly savings of open findings, by the month
//! they were first seen), **realised** (findings resolved because the resource went away or
//! changed, by the month it happened) and **confirmed** (realised savings the CUR's line items
//! bear out, `crate::cur::confirm`, in the month of their realisation).
//! Each finding counts once: a finding whose saving another includes (`savings_included_in`)
//! counts in neither figure, a resolved finding is not open, and a reopened one withdraws its
//! realised entry (`store::findings::withdrawn_saving_sk`). Confirmed is a figure of its own,
//! never added to realised: a confirmed saving is also realised, at its estimate, while
//! confirmed holds what the bill showed (higher or lower; not capped).
//!
//! # One saving per resource per fix
//!
//! `savings_included_in` settles overlaps within one source's run; a resource can still be
//! resolved under rules of two sources (a scan's `ebs.gp2-to-gp3` and the CUR's
//! `cur.gp2-volume` on one volume), or two runs apart, and each writes its own ledger entry. The
//! entries stay as written (each keeps its own confirmation), and the ledger counts them by
//! **fix** ([`fixes`]): entries of the same resource (account, region, resource id) realised
//! within [`FIX_WINDOW_DAYS`] days of the fix's first entry are one fix. A fix counts once in
//! realised, at its largest entry's estimate (ties: the oldest, then key order), in that
//! entry's month, service and account; its confirmed figure is the sum of its entries'
//! (`cur::confirm` already confirms a resource's drop in cost on one entry and the others at 0),
//! and it counts once in the confirmation counts (confirmed if any entry is, not confirmable if
//! every entry is, else pending). An entry realised later than the window is a fix of its own.
//! Two different resources (another id, region or account) are two fixes, even with the same
//! saving.

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
    /// Realised entries counted inside another entry's fix ([`fixes`]): in no figure.
    pub merged_entries: u32,
}

/// Entries of one resource realised this close to the fix's first entry are the same fix.
pub const FIX_WINDOW_DAYS: i64 = 31;

/// One fix of one resource: the realised entries it gathers and the one that counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix<'a> {
    /// The largest entry (ties: the oldest, then key order): its estimate, month, service and
    /// account are the fix's.
    pub counted: &'a RealisedSaving,
    /// How many entries the fix gathers (at least 1).
    pub entries: u32,
    /// The sum of the entries' confirmed savings, when at least one is confirmed.
    pub confirmed_usd: Option<Decimal>,
    /// Confirmed if any entry is, not confirmable if every entry is, else pending (`None`:
    /// never checked).
    pub status: Option<ConfirmationStatus>,
}

/// The realised entries as fixes: one per resource (account, region, resource id) and
/// [`FIX_WINDOW_DAYS`] window, in the order of their first entry. See the module docs.
pub fn fixes(realised: &[RealisedSaving]) -> Result<Vec<Fix<'_>>, FindingsError> {
    let mut sorted: Vec<&RealisedSaving> = realised.iter().collect();
    sorted.sort_by(|a, b| {
        (&a.account_id, &a.region, &a.resource_id, a.realised_at, &a.key).cmp(&(
            &b.account_id,
            &b.region,
            &b.resource_id,
            b.realised_at,
            &b.key,
        ))
    });
    let same_resource = |a: &RealisedSaving, b: &RealisedSaving| {
        (&a.account_id, &a.region, &a.resource_id) == (&b.account_id, &b.region, &b.resource_id)
    };
    let window = chrono::Duration::days(FIX_WINDOW_DAYS);
    let mut groups: Vec<Vec<&RealisedSaving>> = Vec::new();
    for r in sorted {
        match groups.last_mut() {
            Some(g) if same_resource(g[0], r) && r.realised_at - g[0].realised_at <= window => g.push(r),
            _ => groups.push(vec![r]),
        }
    }
    let mut out = groups.into_iter().map(|g| fix_of(&g)).collect::<Result<Vec<_>, _>>()?;
    out.sort_by_key(|f| (f.counted.realised_at, f.counted.key.clone()));
    Ok(out)
}

fn fix_of<'a>(group: &[&'a RealisedSaving]) -> Result<Fix<'a>, FindingsError> {
    let counted = *group
        .iter()
        .max_by(|a, b| {
            a.monthly_savings_usd
                .cmp(&b.monthly_savings_usd)
                .then_with(|| (b.realised_at, &b.key).cmp(&(a.realised_at, &a.key)))
        })
        .expect("a fix has an entry");
    let mut confirmed: Option<Decimal> = None;
    for c in group.iter().filter_map(|r| r.confirmed_usd()) {
        let sum = confirmed.unwrap_or_default().checked_add(c);
        confirmed = Some(sum.ok_or_else(|| FindingsError::Internal("a savings total overflowed".into()))?);
    }
    let statuses: Vec<Option<ConfirmationStatus>> =
        group.iter().map(|r| r.confirmation.as_ref().map(|c| c.status)).collect();
    let status = if confirmed.is_some() {
        Some(ConfirmationStatus::Confirmed)
    } else if statuses.iter().all(|s| *s == Some(ConfirmationStatus::NotConfirmable)) {
        Some(ConfirmationStatus::NotConfirmable)
    } else {
        counted.confirmation.as_ref().map(|_| ConfirmationStatus::Pending)
    };
    Ok(Fix { counted, entries: group.len() as u32, confirmed_usd: confirmed, status })
}

impl Ledger {
    pub fn of(open: &[OpenSaving], realised: &[RealisedSaving]) -> Result<Self, FindingsError> {
        let mut l = Self::default();
        for o in open {
            let month = o.first_seen.format("%Y-%m").to_string();
            let a = Amounts { open: o.monthly_savings_usd, ..Amounts::default() };
            l.add(month, service_of(&o.rule), o.account_id.as_str(), a)?;
        }
        for fix in fixes(realised)? {
            let r = fix.counted;
            let a = Amounts {
                realised: r.monthly_savings_usd,
                confirmed: fix.confirmed_usd.unwrap_or_default(),
                ..Amounts::default()
            };
            l.add(r.month(), service_of(&r.rule), r.account_id.as_str(), a)?;
            l.count(&fix)?;
            l.merged_entries += fix.entries - 1;
        }
        Ok(l)
    }

    fn count(&mut self, fix: &Fix<'_>) -> Result<(), FindingsError> {
        let c = &mut self.confirmations;
        match fix.status {
            Some(ConfirmationStatus::Confirmed) if fix.confirmed_usd.is_some() => {
                c.confirmed += 1;
                c.realised_of_confirmed = c
                    .realised_of_confirmed
                    .checked_add(fix.counted.monthly_savings_usd)
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
            "merged_entries": self.merged_entries,
            "notes": {
                "open": "monthly savings of open findings, by the month they were first seen; a saving included in another finding's counts once",
                "realised": "monthly savings of findings resolved because the resource went away or changed, by the month they were resolved; one saving per resource per fix (entries of one resource realised within 31 days count once, at the largest; merged_entries counts the others)",
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

    fn on(rule: &str, region: &str, id: &str, usd: i64, day: u32) -> RealisedSaving {
        RealisedSaving {
            key: format!("123456789012#{rule}#{id}"),
            rule: rule.into(),
            region: region.into(),
            realised_at: Utc.with_ymd_and_hms(2025, 3, day, 12, 0, 0).unwrap(),
            ..realised(id, usd, None)
        }
    }

    #[test]
    fn a_resource_resolved_under_two_rules_counts_one_saving_at_the_largest() {
        // The scan's gp2-to-gp3 and the CUR's unused volume on one volume, resolved a day apart.
        let entries =
            [on("ebs.gp2-to-gp3", "us-east-1", "vol-1", 2, 10), on("cur.gp2-volume", "us-east-1", "vol-1", 10, 11)];
        let l = Ledger::of(&[], &entries).unwrap();
        assert_eq!((l.total.realised, l.total.findings, l.merged_entries), (Decimal::from(10), 1, 1));
        assert_eq!(l.by_service["cur"].realised, Decimal::from(10), "counted where the largest is");
        assert!(!l.by_service.contains_key("ebs"));
        assert_eq!(l.json()["merged_entries"], 1);
        // Same amount, same run: the key order picks one, and it counts once.
        let tie = [on("ebs.a", "us-east-1", "vol-1", 5, 10), on("ebs.b", "us-east-1", "vol-1", 5, 10)];
        let f = fixes(&tie).unwrap();
        assert_eq!((f.len(), f[0].counted.rule.as_str(), f[0].entries), (1, "ebs.a", 2));
    }

    #[test]
    fn two_different_resources_with_the_same_saving_are_both_counted() {
        let entries = [
            on("ebs.unattached-volume", "us-east-1", "vol-1", 7, 10),
            on("ebs.unattached-volume", "us-east-1", "vol-2", 7, 10),
            // Same id in another region: another resource (log groups are named per region).
            on("logs.never-expire", "us-east-1", "/aws/lambda/x", 7, 10),
            on("logs.never-expire", "eu-west-1", "/aws/lambda/x", 7, 10),
            RealisedSaving {
                account_id: crate::domain::AccountId::parse("111122223333").unwrap(),
                ..on("ebs.unattached-volume", "us-east-1", "vol-1", 7, 10)
            },
        ];
        let l = Ledger::of(&[], &entries).unwrap();
        assert_eq!((l.total.realised, l.total.findings, l.merged_entries), (Decimal::from(35), 5, 0));
    }

    #[test]
    fn a_later_fix_of_the_same_resource_is_its_own_saving() {
        let first = on("ec2.rightsize", "us-east-1", "i-1", 50, 1);
        let later = RealisedSaving {
            realised_at: first.realised_at + chrono::Duration::days(FIX_WINDOW_DAYS + 1),
            ..on("ec2.idle", "us-east-1", "i-1", 30, 1)
        };
        let within = RealisedSaving {
            realised_at: first.realised_at + chrono::Duration::days(FIX_WINDOW_DAYS),
            ..on("cur.idle", "us-east-1", "i-1", 20, 1)
        };
        let l = Ledger::of(&[], &[later.clone(), within, first]).unwrap();
        assert_eq!((l.total.realised, l.total.findings, l.merged_entries), (Decimal::from(80), 2, 1));
        assert_eq!(l.by_month["2025-04"].realised, Decimal::from(30), "the later fix in its own month");
    }

    #[test]
    fn a_fix_keeps_the_bill_s_drop_wherever_confirm_put_it() {
        // confirm.rs put the drop on the oldest (smaller) entry and 0 on the other.
        let small = RealisedSaving {
            confirmation: realised("vol-1", 2, Some((ConfirmationStatus::Confirmed, Some(9)))).confirmation,
            ..on("ebs.gp2-to-gp3", "us-east-1", "vol-1", 2, 10)
        };
        let big = RealisedSaving {
            confirmation: realised("vol-1", 10, Some((ConfirmationStatus::Confirmed, Some(0)))).confirmation,
            ..on("cur.gp2-volume", "us-east-1", "vol-1", 10, 11)
        };
        let l = Ledger::of(&[], &[small, big]).unwrap();
        assert_eq!((l.total.realised, l.total.confirmed), (Decimal::from(10), Decimal::from(9)));
        let c = l.confirmations;
        assert_eq!((c.confirmed, c.pending, c.not_confirmable, c.realised_of_confirmed), (1, 0, 0, Decimal::from(10)));
        // Pending beside not confirmable is pending; not confirmable only when every entry is.
        let nc = |e: RealisedSaving| RealisedSaving {
            confirmation: realised("x", 1, Some((ConfirmationStatus::NotConfirmable, None))).confirmation,
            ..e
        };
        let mixed = [nc(on("a.x", "r", "v", 1, 10)), on("b.x", "r", "v", 1, 10)];
        assert_eq!(Ledger::of(&[], &mixed).unwrap().confirmations.pending, 1);
        let both = [nc(on("a.x", "r", "v", 1, 10)), nc(on("b.x", "r", "v", 1, 10))];
        assert_eq!(Ledger::of(&[], &both).unwrap().confirmations.not_confirmable, 1);
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
