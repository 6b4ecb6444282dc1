//! Records the tests of several services build the same way.

use money::{CurrencyCode, CurrencyRecord, Decimal};
use time::OffsetDateTime;

/// 2026-01-01T00:00:00Z: when fixture records were last updated.
pub const UPDATED_AT: i64 = 1_767_225_600;

pub fn code(raw: &str) -> CurrencyCode {
    CurrencyCode::parse(raw).unwrap_or_else(|e| panic!("{e}"))
}

/// A read-model record for the ISO currency `raw`: `rate` units of the base per unit, at `version`.
pub fn currency(raw: &str, rate: &str, version: u64) -> CurrencyRecord {
    let at = OffsetDateTime::from_unix_timestamp(UPDATED_AT).unwrap_or_else(|e| panic!("{e}"));
    currency_at(raw, rate, version, at)
}

/// [`currency`] updated at `at`.
pub fn currency_at(raw: &str, rate: &str, version: u64, at: OffsetDateTime) -> CurrencyRecord {
    let code = code(raw);
    let rate = rate.parse::<Decimal>().unwrap_or_else(|e| panic!("{e}"));
    CurrencyRecord::new(code, code.iso_name(), code.minor_units(), rate, version, at)
        .unwrap_or_else(|e| panic!("{e}"))
}
