//! Crediting a payment made in another currency: never in the payer's favour.
//!
//! A payment of `amount` minor units of `from` settles at most its exact value in `to`: the exact quotient
//! (see [`crate::convert`]) is rounded **down** to a whole minor unit of `to`. Rounding to nearest would
//! credit up to half a minor unit more than was paid on every payment, so many tiny payments could settle
//! up to twice their worth. A payment worth less than one minor unit of `to` credits nothing
//! ([`MoneyError::BelowMinorUnit`]); callers refuse it.

use crate::convert::{Side, exact_ratio};
use crate::error::MoneyError;

/// The amount of `to` minor units credited for `amount_minor` (> 0) minor units of `from`: the exact
/// converted value rounded down (records: [`crate::Exchange::credited`]).
pub fn credited_raw(amount_minor: i64, from: Side, to: Side) -> Result<i64, MoneyError> {
    let magnitude = u64::try_from(amount_minor)
        .map_err(|_| MoneyError::InvalidRate("a credited amount must not be negative".into()))?;
    let (numerator, denominator) = exact_ratio(magnitude, from, to)?;
    let floor = numerator / denominator;
    let floor = i64::try_from(floor).map_err(|_| MoneyError::Overflow)?;
    if floor == 0 && amount_minor > 0 {
        return Err(MoneyError::BelowMinorUnit);
    }
    Ok(floor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(rate: &str) -> Side {
        Side::new(rate.parse().unwrap_or_else(|e| panic!("{e}")), 2)
    }

    #[test]
    fn rounds_down_never_to_nearest() {
        // 3 cents at 0.5 → exactly 1.5 cents: credited 1 (half-even would give 2).
        assert_eq!(credited_raw(3, side("0.5"), side("1")), Ok(1));
        // 0.999… → 0 is below one minor unit: refused, not credited as 1.
        assert_eq!(
            credited_raw(1, side("0.999999"), side("1")),
            Err(MoneyError::BelowMinorUnit)
        );
        assert_eq!(credited_raw(1, side("1.999999"), side("1")), Ok(1));
        assert_eq!(credited_raw(10_000, side("1.08"), side("1")), Ok(10_800));
        assert!(credited_raw(-1, side("1"), side("2")).is_err());
    }
}
