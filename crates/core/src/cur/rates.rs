//! The tenant's effective EC2 rates, learned from its line items: effective cost (Savings Plans
//! and RI discounts included) over usage hours, by region and instance type (Linux, shared
//! tenancy: operation `RunInstances`). They go to the pricing port as
//! [`PriceSource::TenantRates`], so the receiver prices with this customer's discounts.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serializer;

use crate::pricing::{PriceSource, Rate, RateTable, Sku, MAX_PLAUSIBLE_USD};

/// A unit rate in USD ($/hour) as report.json writes it: rounded half away from zero to 6
/// decimals, exactly 6 decimals, no `$` (`"0.138240"`). Amounts to the cent go through
/// [`crate::domain::money::usd`] instead.
pub fn usd_rate(d: Decimal) -> String {
    let r = d.round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero);
    // A rate that rounds to zero has no sign.
    format!("{:.6}", if r.is_zero() { Decimal::ZERO } else { r })
}

/// `#[serde(serialize_with = "crate::cur::rates::serialize_rate")]`: the rate as [`usd_rate`]
/// writes it.
pub fn serialize_rate<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&usd_rate(*d))
}

/// Serialised into report.json's `effective_rates`: money fields end in `_usd`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct EffectiveRate {
    pub region: String,
    pub instance_type: String,
    /// A quantity (hours), not money.
    pub usage_hours: Decimal,
    #[serde(rename = "effective_cost_usd", serialize_with = "crate::domain::money::serialize")]
    pub effective_cost: Decimal,
    /// $/hour, 6 decimals.
    #[serde(rename = "hourly_usd", serialize_with = "serialize_rate")]
    pub hourly: Decimal,
}

impl EffectiveRate {
    /// `None` for rows that give no rate: no hours, a negative cost, no region or type, or an
    /// hourly rate no instance has (a crafted CUR: see [`MAX_PLAUSIBLE_USD`]).
    pub fn new(region: &str, instance_type: &str, usage_hours: Decimal, effective_cost: Decimal) -> Option<Self> {
        if usage_hours <= Decimal::ZERO
            || effective_cost < Decimal::ZERO
            || region.is_empty()
            || instance_type.is_empty()
        {
            return None;
        }
        let hourly = effective_cost.checked_div(usage_hours)?.round_dp(6);
        if hourly > MAX_PLAUSIBLE_USD {
            tracing::warn!(region, instance_type, %hourly, "implausible effective rate from the CUR; not used");
            return None;
        }
        Some(Self {
            region: region.to_owned(),
            instance_type: instance_type.to_owned(),
            usage_hours,
            effective_cost,
            hourly,
        })
    }
}

/// The rates as a table for the price book; `as_of` is the last day of the data they come from.
pub fn rate_table(rates: &[EffectiveRate], as_of: &str) -> RateTable {
    let mut t = RateTable::default();
    for r in rates {
        t.insert(
            &r.region,
            Sku::ec2(&r.instance_type),
            Rate { usd: r.hourly, source: PriceSource::TenantRates, as_of: as_of.to_owned() },
        );
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_cost_over_hours_and_skip_nonsense() {
        let r = EffectiveRate::new("us-east-1", "m5.xlarge", Decimal::from(720), Decimal::new(99_5328, 4)).unwrap();
        assert_eq!(r.hourly, Decimal::new(138240, 6));
        assert!(EffectiveRate::new("us-east-1", "m5.xlarge", Decimal::ZERO, Decimal::ONE).is_none());
        assert!(EffectiveRate::new("", "m5.xlarge", Decimal::ONE, Decimal::ONE).is_none());
        // A crafted CUR: a rate no instance has, and one that would overflow the division.
        assert!(EffectiveRate::new("us-east-1", "m5.xlarge", Decimal::ONE, Decimal::from(20_000)).is_none());
        assert!(EffectiveRate::new("us-east-1", "m5.xlarge", Decimal::new(1, 28), Decimal::MAX).is_none());
        let t = rate_table(&[r], "2025-01-31");
        let got = t.get("us-east-1", &Sku::ec2("m5.xlarge")).unwrap();
        assert_eq!(got.source, PriceSource::TenantRates);
        assert_eq!(got.usd, Decimal::new(138240, 6));
    }

    #[test]
    fn rates_are_written_to_six_places_and_money_to_the_cent() {
        assert_eq!(usd_rate(Decimal::new(1382405, 7)), "0.138241", "half away from zero");
        assert_eq!(usd_rate(Decimal::new(144, 2)), "1.440000");
        assert_eq!(usd_rate(Decimal::new(-1, 8)), "0.000000");
        let r = EffectiveRate::new("us-east-1", "m5.xlarge", Decimal::from(720), Decimal::new(99_5328, 4)).unwrap();
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["hourly_usd"], "0.138240");
        assert_eq!(v["effective_cost_usd"], "99.53");
        assert_eq!(v["usage_hours"], "720");
    }
}
