//! Exact conversion of integer minor units between two currencies of the read model.
//!
//! ```text
//!                 amount_minor × from.rate_to_base × 10^to.minor_units
//! result_minor = ─────────────────────────────────────────────────────   rounded half to even, once
//!                 to.rate_to_base × 10^from.minor_units
//! ```
//!
//! - Rates are "one major unit in base-currency major units" (see [`crate::rate`]), so the amount goes
//!   through the base currency: `from → base → to`.
//! - The quotient is computed **exactly** (arbitrary-precision integers over the rates' decimal
//!   mantissas), then rounded **once** with banker's rounding (round half to even): 0.5 → 0,
//!   1.5 → 2, 2.5 → 2, -2.5 → -2. Half-to-even has no upward bias over many conversions.
//! - Minor-unit digit differences are part of the formula: 1000 JPY minor units (¥1000) to USD at
//!   JPY 0.0067, USD 1 is 670 cents; 1 KWD (1000 fils) at 3.25 to USD is 325 cents.
//! - The result must fit an `i64`, else [`MoneyError::Overflow`]; nothing wraps or saturates.
//! - Converting a currency to itself returns the amount unchanged.

use num_bigint::BigUint;
use rust_decimal::Decimal;

use crate::error::MoneyError;
use crate::record::CurrencyRecord;

/// One currency's side of a conversion: its rate to the base currency and its minor-unit digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Side {
    pub rate_to_base: Decimal,
    pub minor_units: u8,
}

impl Side {
    pub fn new(rate_to_base: Decimal, minor_units: u8) -> Self {
        Self {
            rate_to_base,
            minor_units,
        }
    }
}

impl From<&CurrencyRecord> for Side {
    fn from(record: &CurrencyRecord) -> Self {
        Self::new(record.rate_to_base, record.minor_units)
    }
}

/// Two currencies of the read model, to change amounts of `from` into `to`. Within one currency an amount
/// is itself.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    from: &'a CurrencyRecord,
    to: &'a CurrencyRecord,
}

impl<'a> Exchange<'a> {
    pub fn new(from: &'a CurrencyRecord, to: &'a CurrencyRecord) -> Self {
        Self { from, to }
    }

    /// `amount_minor` of `from` in minor units of `to`, rounded half to even once; see the module docs.
    pub fn convert(&self, amount_minor: i64) -> Result<i64, MoneyError> {
        self.apply(amount_minor, convert_raw)
    }

    /// What a payment of `amount_minor` (> 0) of `from` credits in `to`: rounded down; see [`crate::credit`].
    pub fn credited(&self, amount_minor: i64) -> Result<i64, MoneyError> {
        self.apply(amount_minor, crate::credit::credited_raw)
    }

    fn apply(
        &self,
        amount_minor: i64,
        raw: fn(i64, Side, Side) -> Result<i64, MoneyError>,
    ) -> Result<i64, MoneyError> {
        if self.from.code == self.to.code {
            return Ok(amount_minor);
        }
        raw(amount_minor, self.from.into(), self.to.into())
    }
}

/// [`Exchange::convert`] over bare sides (for callers without records).
pub fn convert_raw(amount_minor: i64, from: Side, to: Side) -> Result<i64, MoneyError> {
    let (numerator, denominator) = exact_ratio(amount_minor.unsigned_abs(), from, to)?;
    let quotient = &numerator / &denominator;
    let remainder = &numerator - &quotient * &denominator;
    let twice_remainder = remainder * 2_u8;
    let round_up = match twice_remainder.cmp(&denominator) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Equal => quotient.bit(0), // exactly half: go to the even neighbour
        std::cmp::Ordering::Less => false,
    };
    let magnitude = if round_up { quotient + 1_u8 } else { quotient };
    let magnitude = u64::try_from(&magnitude).map_err(|_| MoneyError::Overflow)?;
    if amount_minor < 0 {
        // i64::MIN's magnitude is one more than i64::MAX.
        0_i64
            .checked_sub_unsigned(magnitude)
            .ok_or(MoneyError::Overflow)
    } else {
        i64::try_from(magnitude).map_err(|_| MoneyError::Overflow)
    }
}

/// The exact converted value of `magnitude` minor units as a fraction (numerator, denominator).
pub fn exact_ratio(magnitude: u64, from: Side, to: Side) -> Result<(BigUint, BigUint), MoneyError> {
    let (from_rate, from_minor_units) = (from.rate_to_base, from.minor_units);
    let (to_rate, to_minor_units) = (to.rate_to_base, to.minor_units);
    if from_rate <= Decimal::ZERO || to_rate <= Decimal::ZERO {
        return Err(MoneyError::InvalidRate(
            "rates must be greater than zero".into(),
        ));
    }
    // rate = mantissa / 10^scale, so the quotient is
    //   |amount| × m_from × 10^(s_to + mu_to)  /  (m_to × 10^(s_from + mu_from)).
    let exp_num = to_rate.scale() + u32::from(to_minor_units);
    let exp_den = from_rate.scale() + u32::from(from_minor_units);
    let (exp_num, exp_den) = if exp_num >= exp_den {
        (exp_num - exp_den, 0)
    } else {
        (0, exp_den - exp_num)
    };
    let numerator =
        BigUint::from(magnitude) * mantissa(from_rate) * BigUint::from(10_u8).pow(exp_num);
    let denominator = mantissa(to_rate) * BigUint::from(10_u8).pow(exp_den);
    Ok((numerator, denominator))
}

/// The (positive) mantissa of a positive decimal.
fn mantissa(rate: Decimal) -> BigUint {
    BigUint::from(rate.mantissa().unsigned_abs())
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::code::CurrencyCode;
    use time::OffsetDateTime;

    fn convert(amount: i64, from: &CurrencyRecord, to: &CurrencyRecord) -> Result<i64, MoneyError> {
        Exchange::new(from, to).convert(amount)
    }

    fn rec(code: &str, rate: &str) -> CurrencyRecord {
        let code = CurrencyCode::parse(code).unwrap_or_else(|e| panic!("{e}"));
        CurrencyRecord::new(
            code,
            code.iso_name(),
            code.minor_units(),
            Decimal::from_str(rate).unwrap_or_else(|e| panic!("{e}")),
            1,
            OffsetDateTime::UNIX_EPOCH,
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn same_currency_is_identity() {
        let usd = rec("USD", "1");
        assert_eq!(convert(i64::MIN, &usd, &usd), Ok(i64::MIN));
        assert_eq!(convert(12_345, &usd, &usd), Ok(12_345));
    }

    #[test]
    fn converts_through_the_base_with_minor_unit_differences() {
        let usd = rec("USD", "1");
        let eur = rec("EUR", "1.08");
        let jpy = rec("JPY", "0.0067");
        let kwd = rec("KWD", "3.25");
        assert_eq!(convert(10_000, &eur, &usd), Ok(10_800), "€100 = $108");
        assert_eq!(convert(10_800, &usd, &eur), Ok(10_000));
        assert_eq!(convert(1_000, &jpy, &usd), Ok(670), "¥1000 = $6.70");
        assert_eq!(convert(670, &usd, &jpy), Ok(1_000));
        assert_eq!(convert(1_000, &kwd, &usd), Ok(325), "1 KWD = $3.25");
        assert_eq!(convert(325, &usd, &kwd), Ok(1_000));
        assert_eq!(
            convert(1_000, &kwd, &jpy),
            Ok(485),
            "3.25/0.0067 = 485.07 → 485"
        );
        assert_eq!(convert(0, &kwd, &jpy), Ok(0));
    }

    #[test]
    fn rounds_half_to_even_exactly_once() {
        let usd = rec("USD", "1");
        let half = rec("EUR", "0.5"); // 1 EUR cent = 0.5 USD cent
        // 1 → 0.5 → 0; 3 → 1.5 → 2; 5 → 2.5 → 2; 7 → 3.5 → 4: ties go to the even neighbour.
        assert_eq!(convert(1, &half, &usd), Ok(0));
        assert_eq!(convert(3, &half, &usd), Ok(2));
        assert_eq!(convert(5, &half, &usd), Ok(2));
        assert_eq!(convert(7, &half, &usd), Ok(4));
        assert_eq!(convert(-5, &half, &usd), Ok(-2), "symmetric for negatives");
        assert_eq!(convert(-3, &half, &usd), Ok(-2));
        // Not a tie: 0.5000…01 rounds up, 0.4999…9 rounds down (exact, no float error).
        let just_over = rec("GBP", "0.500000000001");
        let just_under = rec("CHF", "0.499999999999");
        assert_eq!(convert(1, &just_over, &usd), Ok(1));
        assert_eq!(convert(1, &just_under, &usd), Ok(0));
        // Thirds never tie: 1/3 → 0, 2/3 → 1.
        let third = rec("CAD", "3");
        assert_eq!(convert(1, &usd, &third), Ok(0));
        assert_eq!(convert(2, &usd, &third), Ok(1));
    }

    #[test]
    fn huge_amounts_stay_exact_or_report_overflow() {
        let usd = rec("USD", "1");
        let tiny = rec("EUR", "0.000000000001");
        let clf = rec("CLF", "9999999999.999999999999");
        // i64::MAX cents to a currency worth 1e-12 USD needs 1e21 minor units: overflow, not wrap.
        assert_eq!(convert(i64::MAX, &usd, &tiny), Err(MoneyError::Overflow));
        assert_eq!(convert(i64::MIN, &usd, &tiny), Err(MoneyError::Overflow));
        // The other way shrinks: exact quotient 9223372.036854775807 → 9223372.
        assert_eq!(convert(i64::MAX, &tiny, &usd), Ok(9_223_372));
        // Cross-checked with Python `round(Fraction(...))` (also half-to-even): 92233720368.5… → …369.
        assert_eq!(convert(i64::MAX, &usd, &clf), Ok(92_233_720_369));
        assert_eq!(convert(i64::MIN, &usd, &clf), Ok(-92_233_720_369));
        // Exactly i64::MIN survives a 1:1 conversion between different currencies.
        let eur_par = rec("EUR", "1");
        assert_eq!(convert(i64::MIN, &usd, &eur_par), Ok(i64::MIN));
        assert_eq!(convert(i64::MAX, &usd, &eur_par), Ok(i64::MAX));
        assert_eq!(
            convert(i64::MAX, &rec("JPY", "1"), &usd),
            Err(MoneyError::Overflow),
            "×100 for the minor-unit difference"
        );
    }

    #[test]
    fn raw_refuses_non_positive_rates() {
        assert!(matches!(
            convert_raw(1, Side::new(Decimal::ZERO, 2), Side::new(Decimal::ONE, 2)),
            Err(MoneyError::InvalidRate(_))
        ));
        assert!(matches!(
            convert_raw(
                1,
                Side::new(Decimal::ONE, 2),
                Side::new(Decimal::NEGATIVE_ONE, 2)
            ),
            Err(MoneyError::InvalidRate(_))
        ));
    }
}
