//! Money arithmetic: ISO 4217 codes with their minor-unit digits, exact decimal rates, half-even
//! rounding, and checked operations (every overflow is an error, never a wrap or a panic).
//!
//! Amounts are integers in the currency's minor unit (cents for EUR, yen for JPY, fils for KWD).
//! Amounts never exceed [`MAX_AMOUNT`] (2^53 − 1) so that every JSON client, including JavaScript,
//! reads them exactly.

/// Largest amount accepted or produced, in minor units (`Number.MAX_SAFE_INTEGER`).
pub const MAX_AMOUNT: i64 = 9_007_199_254_740_991;

/// Active ISO 4217 currencies with their minor-unit digits (list one, 2025), sorted by code.
/// Funds codes (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW) are included; precious metals, SDR and
/// testing codes (XAU, XDR, XTS, XXX, …) have no minor unit and are not money here.
#[rustfmt::skip]
const ISO_4217: &[(&str, u8)] = &[
    ("AED", 2), ("AFN", 2), ("ALL", 2), ("AMD", 2), ("AOA", 2), ("ARS", 2), ("AUD", 2), ("AWG", 2),
    ("AZN", 2), ("BAM", 2), ("BBD", 2), ("BDT", 2), ("BGN", 2), ("BHD", 3), ("BIF", 0), ("BMD", 2),
    ("BND", 2), ("BOB", 2), ("BOV", 2), ("BRL", 2), ("BSD", 2), ("BTN", 2), ("BWP", 2), ("BYN", 2),
    ("BZD", 2), ("CAD", 2), ("CDF", 2), ("CHE", 2), ("CHF", 2), ("CHW", 2), ("CLF", 4), ("CLP", 0),
    ("CNY", 2), ("COP", 2), ("COU", 2), ("CRC", 2), ("CUP", 2), ("CVE", 2), ("CZK", 2), ("DJF", 0),
    ("DKK", 2), ("DOP", 2), ("DZD", 2), ("EGP", 2), ("ERN", 2), ("ETB", 2), ("EUR", 2), ("FJD", 2),
    ("FKP", 2), ("GBP", 2), ("GEL", 2), ("GHS", 2), ("GIP", 2), ("GMD", 2), ("GNF", 0), ("GTQ", 2),
    ("GYD", 2), ("HKD", 2), ("HNL", 2), ("HTG", 2), ("HUF", 2), ("IDR", 2), ("ILS", 2), ("INR", 2),
    ("IQD", 3), ("IRR", 2), ("ISK", 0), ("JMD", 2), ("JOD", 3), ("JPY", 0), ("KES", 2), ("KGS", 2),
    ("KHR", 2), ("KMF", 0), ("KPW", 2), ("KRW", 0), ("KWD", 3), ("KYD", 2), ("KZT", 2), ("LAK", 2),
    ("LBP", 2), ("LKR", 2), ("LRD", 2), ("LSL", 2), ("LYD", 3), ("MAD", 2), ("MDL", 2), ("MGA", 2),
    ("MKD", 2), ("MMK", 2), ("MNT", 2), ("MOP", 2), ("MRU", 2), ("MUR", 2), ("MVR", 2), ("MWK", 2),
    ("MXN", 2), ("MXV", 2), ("MYR", 2), ("MZN", 2), ("NAD", 2), ("NGN", 2), ("NIO", 2), ("NOK", 2),
    ("NPR", 2), ("NZD", 2), ("OMR", 3), ("PAB", 2), ("PEN", 2), ("PGK", 2), ("PHP", 2), ("PKR", 2),
    ("PLN", 2), ("PYG", 0), ("QAR", 2), ("RON", 2), ("RSD", 2), ("RUB", 2), ("RWF", 0), ("SAR", 2),
    ("SBD", 2), ("SCR", 2), ("SDG", 2), ("SEK", 2), ("SGD", 2), ("SHP", 2), ("SLE", 2), ("SOS", 2),
    ("SRD", 2), ("SSP", 2), ("STN", 2), ("SVC", 2), ("SYP", 2), ("SZL", 2), ("THB", 2), ("TJS", 2),
    ("TMT", 2), ("TND", 3), ("TOP", 2), ("TRY", 2), ("TTD", 2), ("TWD", 2), ("TZS", 2), ("UAH", 2),
    ("UGX", 0), ("USD", 2), ("USN", 2), ("UYI", 0), ("UYU", 2), ("UYW", 4), ("UZS", 2), ("VED", 2),
    ("VES", 2), ("VND", 0), ("VUV", 0), ("WST", 2), ("XAF", 0), ("XCD", 2), ("XCG", 2), ("XOF", 0),
    ("XPF", 0), ("YER", 2), ("ZAR", 2), ("ZMW", 2), ("ZWG", 2),
];

/// Minor-unit digits of an ISO 4217 code (exact, upper-case), or `None` if it is not one.
pub fn minor_units(code: &str) -> Option<u8> {
    ISO_4217
        .binary_search_by(|(c, _)| (*c).cmp(code))
        .ok()
        .map(|i| ISO_4217[i].1)
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

/// An exact positive decimal such as `"1.0845"`: `mantissa × 10^-scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    pub mantissa: u128,
    pub scale: u32,
}

impl Decimal {
    /// Parses plain decimal notation (digits, at most one `.`, no sign or exponent), at most 30
    /// significant characters. Zero is refused: a rate of zero converts nothing.
    pub fn parse_positive(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > 32 {
            return None;
        }
        let (int, frac) = raw.split_once('.').unwrap_or((raw, ""));
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits = format!("{int}{frac}");
        let mantissa: u128 = digits.parse().ok()?;
        if mantissa == 0 {
            return None;
        }
        Some(Self {
            mantissa,
            scale: u32::try_from(frac.len()).ok()?,
        })
    }
}

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digits = self.mantissa.to_string();
        let scale = self.scale as usize;
        if scale == 0 {
            return f.write_str(&digits);
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        write!(f, "{int}.{frac}")
    }
}

fn pow10(exp: u32) -> Option<i128> {
    10_i128.checked_pow(exp)
}

/// Converts `amount` minor units of a currency (`from_minor` digits, 1 unit = `from_rate` base) into
/// minor units of another (`to_minor` digits, 1 unit = `to_rate` base), rounded half-even.
/// `None` on overflow.
pub fn convert(
    amount: i64,
    from_minor: u8,
    from_rate: Decimal,
    to_minor: u8,
    to_rate: Decimal,
) -> Option<i64> {
    // amount / 10^fm × (fr / 10^fs) ÷ (tr / 10^ts) × 10^tm
    let num = i128::from(amount)
        .checked_mul(i128::try_from(from_rate.mantissa).ok()?)?
        .checked_mul(pow10(to_rate.scale.checked_add(u32::from(to_minor))?)?)?;
    let den = i128::try_from(to_rate.mantissa)
        .ok()?
        .checked_mul(pow10(from_rate.scale.checked_add(u32::from(from_minor))?)?)?;
    i64::try_from(div_round_half_even(num, den)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_table_is_sorted_unique_and_knows_minor_units() {
        assert!(ISO_4217.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(minor_units("EUR"), Some(2));
        assert_eq!(minor_units("JPY"), Some(0));
        assert_eq!(minor_units("KWD"), Some(3));
        assert_eq!(minor_units("CLF"), Some(4));
        for bad in ["eur", "EURO", "XXX", "XAU", "ABC", "", "€"] {
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
        // 19 % of 250 = 47.5 → 48 (47 is odd → round up to even 48).
        assert_eq!(tax(250, 1_900), Some(48));
        // 10 % of 25 = 2.5 → 2.
        assert_eq!(tax(25, 1_000), Some(2));
        // 10 % of 35 = 3.5 → 4.
        assert_eq!(tax(35, 1_000), Some(4));
        assert_eq!(tax(i64::MAX, 10_000), Some(i64::MAX));
    }

    #[test]
    fn decimals_parse_strictly() {
        assert_eq!(
            Decimal::parse_positive("1.0845"),
            Some(Decimal {
                mantissa: 10845,
                scale: 4
            })
        );
        assert_eq!(
            Decimal::parse_positive("2").map(|d| d.to_string()),
            Some("2".into())
        );
        assert_eq!(
            Decimal::parse_positive("0.005").map(|d| d.to_string()),
            Some("0.005".into())
        );
        for bad in [
            "", "0", "0.000", "-1", "1e3", "1.2.3", "abc", ".", " ", "1,5",
        ] {
            assert_eq!(Decimal::parse_positive(bad), None, "{bad}");
        }
    }

    #[test]
    fn conversion_between_minor_units_and_rates() {
        let d = |s: &str| {
            Decimal::parse_positive(s).unwrap_or(Decimal {
                mantissa: 1,
                scale: 0,
            })
        };
        // 10.00 USD at USD=1, EUR=1.25 (1 EUR = 1.25 USD) → 8.00 EUR.
        assert_eq!(convert(1_000, 2, d("1"), 2, d("1.25")), Some(800));
        // 1000 JPY (0 digits) at JPY=0.0065, EUR=1.1 → 5.909… EUR → 591 cents.
        assert_eq!(convert(1_000, 0, d("0.0065"), 2, d("1.1")), Some(591));
        // 1.000 KWD (3 digits) at 3.25 → USD 3.25 → 325 cents.
        assert_eq!(convert(1_000, 3, d("3.25"), 2, d("1")), Some(325));
        // Half-even at the boundary: 1 cent at rate 0.5 → 0.5 cent → 0; 3 cents → 1.5 → 2.
        assert_eq!(convert(1, 2, d("0.5"), 2, d("1")), Some(0));
        assert_eq!(convert(3, 2, d("0.5"), 2, d("1")), Some(2));
        assert_eq!(
            convert(i64::MAX, 2, d("99999999999999999999"), 2, d("1")),
            None
        );
    }
}
