//! The tenant's effective EC2 rates, learned from its line items: effective cost (Savings Plans
//! and RI discounts included) over usage hours, by region and instance type (Linux, shared
//! tenancy: operation `RunInstances`). They go to the pricing port as
//! [`PriceSource::TenantRates`], so the receiver prices with this customer's discounts.

use rust_decimal::Decimal;

use crate::pricing::{PriceSource, Rate, RateTable, Sku, MAX_PLAUSIBLE_USD};

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct EffectiveRate {
    pub region: String,
    pub instance_type: String,
    pub usage_hours: Decimal,
    pub effective_cost: Decimal,
    /// $/hour, 6 decimals.
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
            Sku::Ec2Instance { instance_type: r.instance_type.clone() },
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
        let got = t.get("us-east-1", &Sku::Ec2Instance { instance_type: "m5.xlarge".into() }).unwrap();
        assert_eq!(got.source, PriceSource::TenantRates);
        assert_eq!(got.usd, Decimal::new(138240, 6));
    }
}
