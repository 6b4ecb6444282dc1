//! Billing's money arithmetic on top of the shared [`money`] crate (ISO 4217 table, read-model
//! records, exact conversion): amount bounds, half-even rounding and per-line tax.
//!
//! Amounts are integers in the currency's minor unit (cents for EUR, yen for JPY, fils for KWD).
//! Amounts never exceed [`MAX_AMOUNT`] (2^53 − 1) so that every JSON client, including JavaScript,
//! reads them exactly.

/// Largest amount accepted or produced, in minor units (`Number.MAX_SAFE_INTEGER`).
pub const MAX_AMOUNT: i64 = 9_007_199_254_740_991;

/// Minor-unit digits of an active ISO 4217 code in canonical (upper-case) form, else `None`.
/// The table is the shared one (`money::iso4217`), which the currency service uses too.
pub fn minor_units(code: &str) -> Option<u8> {
    money::CurrencyCode::parse(code)
        .ok()
        .filter(|c| c.as_str() == code)
        .map(|c| c.minor_units())
}

/// `num / den` rounded half to even (banker's rounding); `None` if `den` is zero.
pub fn div_round_half_even(num: i128, den: i128) -> Option<i128> {
    if den == 0 {
        return None;
    }
    let (num, den) = if den < 0 {
        (num.checked_neg()?, den.checked_neg()?)
    } else {
        (num, den)
    };
    let quotient = num.div_euclid(den);
    let remainder = num.rem_euclid(den); // 0 <= remainder < den
    let twice = remainder.checked_mul(2)?;
    let round_up = twice > den || (twice == den && quotient % 2 != 0);
    if round_up {
        quotient.checked_add(1)
    } else {
        Some(quotient)
    }
}

/// Tax of one line: `subtotal × bps / 10 000`, rounded half-even to the minor unit.
pub fn tax(subtotal: i64, basis_points: u32) -> Option<i64> {
    let raw = i128::from(subtotal).checked_mul(i128::from(basis_points))?;
    i64::try_from(div_round_half_even(raw, 10_000)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_active_iso_codes_have_minor_units() {
        assert_eq!(minor_units("EUR"), Some(2));
        assert_eq!(minor_units("JPY"), Some(0));
        assert_eq!(minor_units("KWD"), Some(3));
        for bad in ["eur", "Eur", "EURO", "XXX", "XAU", "ABC", "", "€", "EU"] {
            assert_eq!(minor_units(bad), None, "{bad}");
        }
    }

    #[test]
    fn half_even_rounding() {
        let cases = [
            (5, 10, 0),  // 0.5 → 0
            (15, 10, 2), // 1.5 → 2
            (25, 10, 2), // 2.5 → 2
            (26, 10, 3), // 2.6 → 3
            (24, 10, 2), // 2.4 → 2
            (-25, 10, -2),
            (-15, 10, -2),
            (-26, 10, -3),
            (7, 7, 1),
        ];
        for (num, den, expected) in cases {
            assert_eq!(div_round_half_even(num, den), Some(expected), "{num}/{den}");
        }
        assert_eq!(div_round_half_even(1, 0), None);
    }

    #[test]
    fn tax_per_line_is_half_even() {
        // 19 % of 250 = 47.5 → 48 (the even neighbour).
        assert_eq!(tax(250, 1_900), Some(48));
        // 10 % of 25 = 2.5 → 2; 10 % of 35 = 3.5 → 4.
        assert_eq!(tax(25, 1_000), Some(2));
        assert_eq!(tax(35, 1_000), Some(4));
        assert_eq!(tax(i64::MAX, 10_000), Some(i64::MAX));
    }
}
