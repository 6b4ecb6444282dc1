//! The currency read model: one record per currency, written only by the currency projector and read by
//! the currency read API, the convert service and billing.
//!
//! ## DynamoDB item (table `CURRENCIES_TABLE`, partition key `code` (S), no sort key)
//!
//! | attribute | type | meaning |
//! |---|---|---|
//! | `code` | S | ISO 4217 code, upper case (the key) |
//! | `name` | S | display name |
//! | `minor_units` | N | minor-unit digits, equal to ISO 4217's |
//! | `rate_to_base` | S | decimal string: 1 major unit = this many base-currency major units |
//! | `version` | N | order key of the last applied command: its acceptance time in µs since the epoch (strictly increasing) |
//! | `updated_at` | S | RFC 3339 UTC time the projector applied that command |
//! | `deleted` | BOOL | present and `true` on a tombstone (currency deleted at `version`) |
//! | `command_id` | S | the command that wrote this version (the projector's; readers ignore it) |
//!
//! Deleted currencies stay as tombstones so a reordered, older command can never resurrect them (the
//! projector only writes when its command's version is newer). **Readers must skip tombstones**:
//! [`CurrencyRecord::from_item`] returns `Ok(None)` for one, and scans may filter with
//! [`LIVE_FILTER`]. Unknown extra attributes are ignored.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::code::CurrencyCode;
use crate::error::MoneyError;
use crate::rate::check_rate;

/// Attribute names of the read-model item.
pub mod attr {
    pub const CODE: &str = "code";
    pub const NAME: &str = "name";
    pub const MINOR_UNITS: &str = "minor_units";
    pub const RATE_TO_BASE: &str = "rate_to_base";
    pub const VERSION: &str = "version";
    pub const UPDATED_AT: &str = "updated_at";
    pub const DELETED: &str = "deleted";
    pub const COMMAND_ID: &str = "command_id";
}

/// A `FilterExpression` that keeps only live currencies (no tombstones) in a Scan or Query.
pub const LIVE_FILTER: &str = "attribute_not_exists(deleted)";

/// Longest display name, in characters.
pub const NAME_MAX_CHARS: usize = 64;

/// One live currency of the read model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrencyRecord {
    pub code: CurrencyCode,
    pub name: String,
    /// Minor-unit digits; always equal to `code.minor_units()` for a record built by this crate.
    pub minor_units: u8,
    /// Normalised (no trailing zeros); serialised as a decimal string (`"1.0825"`).
    pub rate_to_base: Decimal,
    /// The order key (sequence) of the command that produced this state.
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl CurrencyRecord {
    /// A record whose minor units match ISO 4217 and whose rate is strictly positive and in bounds.
    pub fn new(
        code: CurrencyCode,
        name: impl Into<String>,
        minor_units: u8,
        rate_to_base: Decimal,
        version: u64,
        updated_at: OffsetDateTime,
    ) -> Result<Self, MoneyError> {
        check_minor_units(code, minor_units)?;
        check_rate(rate_to_base)?;
        let name = name.into();
        check_name(&name)?;
        Ok(Self {
            code,
            name,
            minor_units,
            rate_to_base: rate_to_base.normalize(),
            version,
            updated_at,
        })
    }
}

/// `minor_units` must equal ISO 4217's digits for `code`.
pub fn check_minor_units(code: CurrencyCode, minor_units: u8) -> Result<(), MoneyError> {
    if code.minor_units() == minor_units {
        Ok(())
    } else {
        Err(MoneyError::MinorUnitsMismatch {
            code: code.as_str(),
            expected: code.minor_units(),
            actual: minor_units,
        })
    }
}

/// A display name: 1–64 characters after trimming, no control characters.
pub fn check_name(name: &str) -> Result<(), MoneyError> {
    let trimmed = name.trim();
    let reason = if trimmed.is_empty() {
        "must not be empty"
    } else if trimmed.chars().count() > NAME_MAX_CHARS {
        "must be at most 64 characters"
    } else if trimmed.len() != name.len() {
        "must not start or end with whitespace"
    } else if name.chars().any(char::is_control) {
        "must not contain control characters"
    } else {
        return Ok(());
    };
    Err(MoneyError::InvalidRecord {
        attribute: attr::NAME,
        reason: reason.to_owned(),
    })
}

#[cfg(feature = "dynamodb")]
mod item {
    use std::collections::HashMap;

    use aws_sdk_dynamodb::types::AttributeValue;
    use rust_decimal::Decimal;
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    use super::{CurrencyRecord, attr};
    use crate::code::CurrencyCode;
    use crate::error::MoneyError;

    /// A DynamoDB item, as the SDK returns it.
    pub type Item = HashMap<String, AttributeValue>;

    fn bad(attribute: &'static str, reason: impl Into<String>) -> MoneyError {
        MoneyError::InvalidRecord {
            attribute,
            reason: reason.into(),
        }
    }

    fn s<'a>(item: &'a Item, name: &'static str) -> Result<&'a str, MoneyError> {
        match item.get(name) {
            Some(AttributeValue::S(value)) => Ok(value),
            Some(_) => Err(bad(name, "expected a string (S)")),
            None => Err(bad(name, "missing")),
        }
    }

    fn n<'a>(item: &'a Item, name: &'static str) -> Result<&'a str, MoneyError> {
        match item.get(name) {
            Some(AttributeValue::N(value)) => Ok(value),
            Some(_) => Err(bad(name, "expected a number (N)")),
            None => Err(bad(name, "missing")),
        }
    }

    /// RFC 3339 text of a time (UTC), as stored in `updated_at`.
    pub fn format_time(at: OffsetDateTime) -> String {
        at.to_offset(time::UtcOffset::UTC)
            .format(&Rfc3339)
            .unwrap_or_else(|_| at.unix_timestamp().to_string())
    }

    /// The key of a currency's item: `{"code": S}`.
    pub fn key(code: CurrencyCode) -> Item {
        HashMap::from([(
            attr::CODE.to_owned(),
            AttributeValue::S(code.as_str().to_owned()),
        )])
    }

    /// Whether an item is a tombstone (`deleted = true`).
    pub fn is_tombstone(item: &Item) -> bool {
        matches!(item.get(attr::DELETED), Some(AttributeValue::Bool(true)))
    }

    /// The `version` of any read-model item, live or tombstone.
    pub fn item_version(item: &Item) -> Result<u64, MoneyError> {
        n(item, attr::VERSION)?
            .parse()
            .map_err(|_| bad(attr::VERSION, "not an unsigned integer"))
    }

    /// A tombstone: the currency was deleted by the command with `version`.
    pub fn tombstone_item(code: CurrencyCode, version: u64, updated_at: OffsetDateTime) -> Item {
        let mut item = key(code);
        item.insert(attr::VERSION.into(), AttributeValue::N(version.to_string()));
        item.insert(
            attr::UPDATED_AT.into(),
            AttributeValue::S(format_time(updated_at)),
        );
        item.insert(attr::DELETED.into(), AttributeValue::Bool(true));
        item
    }

    impl CurrencyRecord {
        /// The full item (all attributes; no `deleted`).
        pub fn to_item(&self) -> Item {
            let mut item = key(self.code);
            item.insert(attr::NAME.into(), AttributeValue::S(self.name.clone()));
            item.insert(
                attr::MINOR_UNITS.into(),
                AttributeValue::N(self.minor_units.to_string()),
            );
            item.insert(
                attr::RATE_TO_BASE.into(),
                AttributeValue::S(self.rate_to_base.normalize().to_string()),
            );
            item.insert(
                attr::VERSION.into(),
                AttributeValue::N(self.version.to_string()),
            );
            item.insert(
                attr::UPDATED_AT.into(),
                AttributeValue::S(format_time(self.updated_at)),
            );
            item
        }

        /// Reads an item: `Ok(None)` for a tombstone, an error naming the attribute for a malformed one.
        pub fn from_item(item: &Item) -> Result<Option<Self>, MoneyError> {
            if is_tombstone(item) {
                return Ok(None);
            }
            let code = CurrencyCode::parse(s(item, attr::CODE)?)
                .map_err(|e| bad(attr::CODE, e.to_string()))?;
            let name = s(item, attr::NAME)?.to_owned();
            let minor_units: u8 = n(item, attr::MINOR_UNITS)?
                .parse()
                .map_err(|_| bad(attr::MINOR_UNITS, "not a small unsigned integer"))?;
            let rate_to_base: Decimal = s(item, attr::RATE_TO_BASE)?
                .parse()
                .map_err(|_| bad(attr::RATE_TO_BASE, "not a decimal string"))?;
            let version = item_version(item)?;
            let updated_at = OffsetDateTime::parse(s(item, attr::UPDATED_AT)?, &Rfc3339)
                .map_err(|e| bad(attr::UPDATED_AT, e.to_string()))?;
            super::check_minor_units(code, minor_units)?;
            check_rate_attr(rate_to_base)?;
            Ok(Some(Self {
                code,
                name,
                minor_units,
                rate_to_base: rate_to_base.normalize(),
                version,
                updated_at,
            }))
        }
    }

    /// Readers only insist on what conversion needs: a strictly positive rate.
    fn check_rate_attr(rate: Decimal) -> Result<(), MoneyError> {
        if rate > Decimal::ZERO {
            Ok(())
        } else {
            Err(bad(attr::RATE_TO_BASE, "must be greater than zero"))
        }
    }
}

#[cfg(feature = "dynamodb")]
pub use item::{Item, format_time, is_tombstone, item_version, key, tombstone_item};

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    pub(crate) fn record(code: &str, rate: &str, version: u64) -> CurrencyRecord {
        let code = CurrencyCode::parse(code).unwrap_or_else(|e| panic!("{e}"));
        CurrencyRecord::new(
            code,
            code.iso_name(),
            code.minor_units(),
            Decimal::from_str(rate).unwrap_or_else(|e| panic!("{e}")),
            version,
            OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap_or_else(|e| panic!("{e}")),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn new_checks_minor_units_rate_and_name() -> Result<(), MoneyError> {
        let usd = CurrencyCode::parse("USD")?;
        let at = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(
            CurrencyRecord::new(usd, "US Dollar", 3, Decimal::ONE, 1, at),
            Err(MoneyError::MinorUnitsMismatch {
                code: "USD",
                expected: 2,
                actual: 3
            })
        );
        assert!(CurrencyRecord::new(usd, "US Dollar", 2, Decimal::ZERO, 1, at).is_err());
        assert!(CurrencyRecord::new(usd, " ", 2, Decimal::ONE, 1, at).is_err());
        assert!(CurrencyRecord::new(usd, "a\u{7}b", 2, Decimal::ONE, 1, at).is_err());
        assert!(CurrencyRecord::new(usd, "x".repeat(65), 2, Decimal::ONE, 1, at).is_err());
        assert!(CurrencyRecord::new(usd, "x".repeat(64), 2, Decimal::ONE, 1, at).is_ok());
        Ok(())
    }

    #[test]
    fn json_has_rate_as_a_string_and_rfc3339_time() -> Result<(), serde_json::Error> {
        let eur = record("EUR", "1.0825", 7);
        let json = serde_json::to_value(&eur)?;
        assert_eq!(
            json,
            serde_json::json!({
                "code": "EUR", "name": "Euro", "minor_units": 2, "rate_to_base": "1.0825",
                "version": 7, "updated_at": "2023-11-14T22:13:20Z"
            })
        );
        assert_eq!(serde_json::from_value::<CurrencyRecord>(json)?, eur);
        Ok(())
    }

    #[cfg(feature = "dynamodb")]
    mod dynamodb {
        use super::*;
        use aws_sdk_dynamodb::types::AttributeValue;

        #[test]
        fn item_round_trip_uses_a_decimal_string_attribute() -> Result<(), MoneyError> {
            let kwd = record("KWD", "3.2500", 12);
            let item = kwd.to_item();
            assert_eq!(item.get("code"), Some(&AttributeValue::S("KWD".into())));
            assert_eq!(
                item.get("rate_to_base"),
                Some(&AttributeValue::S("3.25".into()))
            );
            assert_eq!(
                item.get("minor_units"),
                Some(&AttributeValue::N("3".into()))
            );
            assert_eq!(item.get("version"), Some(&AttributeValue::N("12".into())));
            assert_eq!(
                item.get("updated_at"),
                Some(&AttributeValue::S("2023-11-14T22:13:20Z".into()))
            );
            assert_eq!(CurrencyRecord::from_item(&item)?, Some(kwd));
            Ok(())
        }

        #[test]
        fn tombstones_read_as_none_and_keep_their_version() -> Result<(), MoneyError> {
            let code = CurrencyCode::parse("GBP")?;
            let item = tombstone_item(code, 9, OffsetDateTime::UNIX_EPOCH);
            assert!(is_tombstone(&item));
            assert_eq!(CurrencyRecord::from_item(&item)?, None);
            assert_eq!(item_version(&item)?, 9);
            Ok(())
        }

        #[test]
        fn malformed_items_name_the_attribute() {
            let good = record("USD", "1", 1).to_item();
            let with = |name: &str, value: Option<AttributeValue>| {
                let mut item = good.clone();
                match value {
                    Some(v) => item.insert(name.to_owned(), v),
                    None => item.remove(name),
                };
                CurrencyRecord::from_item(&item)
            };
            let attribute_of = |r: Result<Option<CurrencyRecord>, MoneyError>| match r {
                Err(MoneyError::InvalidRecord { attribute, .. }) => attribute,
                Err(MoneyError::MinorUnitsMismatch { .. }) => "minor_units(iso)",
                other => panic!("expected an error, got {other:?}"),
            };
            assert_eq!(attribute_of(with("rate_to_base", None)), "rate_to_base");
            assert_eq!(
                attribute_of(with("rate_to_base", Some(AttributeValue::N("1".into())))),
                "rate_to_base"
            );
            assert_eq!(
                attribute_of(with("rate_to_base", Some(AttributeValue::S("0".into())))),
                "rate_to_base"
            );
            assert_eq!(
                attribute_of(with("code", Some(AttributeValue::S("XYZ".into())))),
                "code"
            );
            assert_eq!(
                attribute_of(with("version", Some(AttributeValue::N("-1".into())))),
                "version"
            );
            assert_eq!(
                attribute_of(with("minor_units", Some(AttributeValue::N("0".into())))),
                "minor_units(iso)"
            );
            assert_eq!(
                attribute_of(with(
                    "updated_at",
                    Some(AttributeValue::S("yesterday".into()))
                )),
                "updated_at"
            );
            assert_eq!(attribute_of(with("name", None)), "name");
        }
    }
}
