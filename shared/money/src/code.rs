//! [`CurrencyCode`]: an active ISO 4217 alphabetic code, validated once at the edge.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::MoneyError;
use crate::iso4217::{self, Iso4217};

/// An active ISO 4217 currency code (see [`crate::iso4217`]). `Copy`, compares by code.
///
/// Parsing accepts ASCII letters in any case and normalises to upper case (`"usd"` → `USD`), so keys
/// and URLs are canonical; anything else is refused.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CurrencyCode(&'static Iso4217);

impl CurrencyCode {
    /// Validates `raw` against the ISO 4217 table.
    pub fn parse(raw: &str) -> Result<Self, MoneyError> {
        let bytes = raw.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_alphabetic) {
            return Err(MoneyError::MalformedCode(truncate(raw)));
        }
        let upper = raw.to_ascii_uppercase();
        iso4217::lookup(&upper)
            .map(CurrencyCode)
            .ok_or(MoneyError::UnknownCurrency(upper))
    }

    /// The three upper-case letters.
    pub fn as_str(&self) -> &'static str {
        self.0.code
    }

    /// ISO 4217 minor-unit digits (2 for USD, 0 for JPY, 3 for KWD).
    pub fn minor_units(&self) -> u8 {
        self.0.minor_units
    }

    /// The ISO 4217 name.
    pub fn iso_name(&self) -> &'static str {
        self.0.name
    }

    /// The ISO 4217 numeric code.
    pub fn numeric(&self) -> u16 {
        self.0.numeric
    }

    /// Every active currency, sorted by code.
    pub fn all() -> impl Iterator<Item = CurrencyCode> {
        iso4217::CURRENCIES.iter().map(CurrencyCode)
    }
}

/// At most 16 characters of untrusted input go into error messages.
fn truncate(raw: &str) -> String {
    raw.chars().take(16).collect()
}

impl PartialOrd for CurrencyCode {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for CurrencyCode {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl fmt::Debug for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CurrencyCode({})", self.as_str())
    }
}

impl fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CurrencyCode {
    type Err = MoneyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for CurrencyCode {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Serialize for CurrencyCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CurrencyCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises_case() -> Result<(), MoneyError> {
        let usd = CurrencyCode::parse("usd")?;
        assert_eq!(usd.as_str(), "USD");
        assert_eq!(usd, CurrencyCode::parse("USD")?);
        assert_eq!(usd.minor_units(), 2);
        assert_eq!(usd.iso_name(), "US Dollar");
        assert_eq!(usd.numeric(), 840);
        assert_eq!(usd.to_string(), "USD");
        Ok(())
    }

    #[test]
    fn refuses_malformed_and_unknown_codes() {
        assert_eq!(
            CurrencyCode::parse("US"),
            Err(MoneyError::MalformedCode("US".into()))
        );
        assert_eq!(
            CurrencyCode::parse("US1"),
            Err(MoneyError::MalformedCode("US1".into()))
        );
        assert!(matches!(
            CurrencyCode::parse("ÜSD"),
            Err(MoneyError::MalformedCode(_))
        ));
        assert_eq!(
            CurrencyCode::parse("abc"),
            Err(MoneyError::UnknownCurrency("ABC".into()))
        );
        assert_eq!(
            CurrencyCode::parse("XXX"),
            Err(MoneyError::UnknownCurrency("XXX".into()))
        );
    }

    #[test]
    fn serde_round_trips_as_a_string() -> Result<(), serde_json::Error> {
        let code: CurrencyCode = serde_json::from_str("\"eur\"")?;
        assert_eq!(serde_json::to_string(&code)?, "\"EUR\"");
        assert!(serde_json::from_str::<CurrencyCode>("\"EURO\"").is_err());
        Ok(())
    }

    #[test]
    fn all_lists_every_table_entry_in_order() {
        let all: Vec<CurrencyCode> = CurrencyCode::all().collect();
        assert_eq!(all.len(), iso4217::CURRENCIES.len());
        assert!(all.windows(2).all(|w| w[0] < w[1]));
    }
}
