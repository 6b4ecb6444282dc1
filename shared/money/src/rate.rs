//! Rates to the base currency: exact decimals with documented bounds.
//!
//! `rate_to_base` is the value of **one major unit** of a currency in major units of the base
//! currency: with base USD, `EUR.rate_to_base = "1.08"` means 1 EUR = 1.08 USD. The base currency
//! itself has rate `1`.

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::error::MoneyError;

/// Most digits before the decimal point (rates up to 9 999 999 999).
pub const RATE_MAX_INTEGER_DIGITS: usize = 10;
/// Most digits after the decimal point.
pub const RATE_MAX_FRACTION_DIGITS: usize = 12;

/// Parses a rate given as a decimal string: `digits[.digits]`, no sign, exponent or spaces, at most
/// [`RATE_MAX_INTEGER_DIGITS`] + [`RATE_MAX_FRACTION_DIGITS`] digits, strictly positive. The result is
/// normalised (`"1.50"` → `1.5`), so equal rates have equal stored strings.
pub fn parse_rate(raw: &str) -> Result<Decimal, MoneyError> {
    let invalid = |reason: &str| MoneyError::InvalidRate(reason.to_owned());
    let (integer, fraction) = match raw.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (raw, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(integer) || !fraction.is_none_or(all_digits) {
        return Err(invalid(
            "expected a decimal string such as \"1.0825\" (digits, optional fraction; no sign or exponent)",
        ));
    }
    if integer.trim_start_matches('0').len() > RATE_MAX_INTEGER_DIGITS {
        return Err(invalid("at most 10 digits before the decimal point"));
    }
    if fraction.is_some_and(|f| f.len() > RATE_MAX_FRACTION_DIGITS) {
        return Err(invalid("at most 12 digits after the decimal point"));
    }
    let integer = integer.trim_start_matches('0');
    let canonical = match fraction {
        Some(f) => format!("{}.{f}", if integer.is_empty() { "0" } else { integer }),
        None => if integer.is_empty() { "0" } else { integer }.to_owned(),
    };
    let rate = Decimal::from_str(&canonical).map_err(|e| invalid(&e.to_string()))?;
    check_rate(rate)?;
    Ok(rate.normalize())
}

/// A rate every reader can divide by: strictly positive and within the bounds [`parse_rate`] enforces.
pub fn check_rate(rate: Decimal) -> Result<Decimal, MoneyError> {
    if rate <= Decimal::ZERO {
        return Err(MoneyError::InvalidRate("must be greater than zero".into()));
    }
    if rate.scale() as usize > RATE_MAX_FRACTION_DIGITS
        && rate.normalize().scale() as usize > RATE_MAX_FRACTION_DIGITS
    {
        return Err(MoneyError::InvalidRate(
            "at most 12 digits after the decimal point".into(),
        ));
    }
    if rate >= Decimal::from(10_000_000_000_i64) {
        return Err(MoneyError::InvalidRate(
            "at most 10 digits before the decimal point".into(),
        ));
    }
    Ok(rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_default()
    }

    #[test]
    fn accepts_plain_decimals_and_normalises() {
        assert_eq!(parse_rate("1.0825"), Ok(dec("1.0825")));
        assert_eq!(parse_rate("1.50").map(|r| r.to_string()), Ok("1.5".into()));
        assert_eq!(parse_rate("0007").map(|r| r.to_string()), Ok("7".into()));
        assert_eq!(
            parse_rate("0.000000000001").map(|r| r.to_string()),
            Ok("0.000000000001".into())
        );
        assert_eq!(
            parse_rate("9999999999.999999999999").map(|r| r.to_string()),
            Ok("9999999999.999999999999".into())
        );
    }

    #[test]
    fn refuses_out_of_bounds_and_non_decimal_strings() {
        for raw in [
            "",
            "0",
            "0.0",
            "-1",
            "+1",
            "1e3",
            " 1",
            "1 ",
            "1.",
            ".5",
            "1,5",
            "NaN",
            "0x10",
            "10000000000",
            "1.0000000000001",
            "１",
        ] {
            assert!(
                matches!(parse_rate(raw), Err(MoneyError::InvalidRate(_))),
                "{raw:?} must be refused"
            );
        }
    }

    #[test]
    fn check_rate_refuses_zero_and_negative() {
        assert!(check_rate(Decimal::ZERO).is_err());
        assert!(check_rate(dec("-0.5")).is_err());
        assert!(check_rate(dec("0.5")).is_ok());
        assert!(
            check_rate(dec("0.5000000000000000")).is_ok(),
            "trailing zeros are fine"
        );
    }
}
