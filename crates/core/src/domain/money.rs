//! Money: amounts in US dollars, held as [`Decimal`], never as a float.
//!
//! One rounding rule and one text form, for every output (report.json, priced events, the CLI's
//! JSON, evidence lines, titles, notifications):
//! - [`cents`] rounds to the cent, **half away from zero** (as invoices do: 16.425 → 16.43,
//!   −16.425 → −16.43; `Decimal::round_dp` alone would round half to even);
//! - [`usd`] writes a rounded amount as a decimal string with exactly two decimals and no
//!   currency sign (`"123.46"`, `"7.00"`, `"-15.50"`). JSON carries that string in a field named
//!   `…_usd`; text for people puts the `$` before it where it is written (`"${}"`).
//!
//! Amounts that are not to the cent on purpose (a rate per hour, the cost of one Athena query)
//! are rounded, and say so, where they are written.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serializer;

/// Rounds to the cent, half away from zero.
pub fn cents(d: Decimal) -> Decimal {
    let c = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    // -0.001 rounds to a negative zero; money has no sign at zero.
    if c.is_zero() {
        Decimal::ZERO
    } else {
        c
    }
}

/// An amount as every output writes it: rounded by [`cents`], two decimals, no `$`.
pub fn usd(d: Decimal) -> String {
    format!("{:.2}", cents(d))
}

/// An amount AWS reports as a float (Cost Optimization Hub's estimates), as a decimal rounded
/// by [`cents`]; `None` for NaN and the infinities.
pub fn from_f64(v: f64) -> Option<Decimal> {
    Decimal::from_f64_retain(v).filter(|_| v.is_finite()).map(cents)
}

/// `#[serde(serialize_with = "crate::domain::money::serialize")]`: the amount as [`usd`] writes it.
pub fn serialize<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&usd(*d))
}

/// [`serialize`] for an optional amount: `null` when there is none.
pub fn serialize_option<S: Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => serialize(d, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn rounds_half_away_from_zero_to_the_cent() {
        assert_eq!(cents(d("16.425")), d("16.43"));
        assert_eq!(cents(d("-16.425")), d("-16.43"));
        assert_eq!(cents(d("16.4249999")), d("16.42"));
        assert_eq!(cents(d("0.005")), d("0.01"));
        assert_eq!(cents(d("-0.001")), Decimal::ZERO);
        assert!(!cents(d("-0.001")).is_sign_negative());
    }

    #[test]
    fn writes_two_decimals_and_no_sign() {
        assert_eq!(usd(d("123.45678")), "123.46");
        assert_eq!(usd(Decimal::from(7)), "7.00");
        assert_eq!(usd(d("17.6")), "17.60");
        assert_eq!(usd(d("-15.5")), "-15.50");
        assert_eq!(usd(d("16.425")), "16.43");
        assert_eq!(usd(d("-0.004")), "0.00");
        assert_eq!(usd(d("16029.08")), "16029.08");
    }

    #[test]
    fn floats_from_aws_become_cents() {
        assert_eq!(from_f64(140.16), Some(d("140.16")));
        assert_eq!(from_f64(0.1 + 0.2), Some(d("0.30")));
        assert_eq!(from_f64(f64::NAN), None);
        assert_eq!(from_f64(f64::INFINITY), None);
    }

    #[test]
    fn serialises_as_a_decimal_string() {
        #[derive(serde::Serialize)]
        struct T {
            #[serde(serialize_with = "serialize")]
            a_usd: Decimal,
            #[serde(serialize_with = "serialize_option")]
            b_usd: Option<Decimal>,
            #[serde(serialize_with = "serialize_option")]
            c_usd: Option<Decimal>,
        }
        let v = serde_json::to_value(T { a_usd: d("280.32"), b_usd: Some(d("-50")), c_usd: None }).unwrap();
        assert_eq!(v, serde_json::json!({"a_usd": "280.32", "b_usd": "-50.00", "c_usd": null}));
    }
}
