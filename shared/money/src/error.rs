//! The crate's one error type.

/// Why a code, rate, record or conversion was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not three ASCII letters.
    #[error("`{0}` is not a currency code: expected three letters (ISO 4217)")]
    MalformedCode(String),
    /// Three letters, but not an active ISO 4217 currency with minor units.
    #[error("`{0}` is not an active ISO 4217 currency")]
    UnknownCurrency(String),
    /// A rate outside the accepted bounds or not a decimal.
    #[error("invalid rate: {0}")]
    InvalidRate(String),
    /// A record's minor-unit digits disagree with ISO 4217.
    #[error("{code} has {expected} minor-unit digits in ISO 4217, not {actual}")]
    MinorUnitsMismatch {
        code: &'static str,
        expected: u8,
        actual: u8,
    },
    /// The converted amount does not fit in an `i64` of minor units.
    #[error("the converted amount does not fit in 64-bit minor units")]
    Overflow,
    /// A payment worth less than one minor unit of the currency it is credited in.
    #[error("the amount is worth less than one minor unit of the target currency")]
    BelowMinorUnit,
    /// A read-model item is missing an attribute or holds an unreadable value.
    #[error("currency record attribute `{attribute}`: {reason}")]
    InvalidRecord {
        attribute: &'static str,
        reason: String,
    },
}
