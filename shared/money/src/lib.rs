//! Money shared by every service that handles amounts or currencies.
//!
//! - [`iso4217`]: the compiled-in ISO 4217 table (code, numeric, name, minor-unit digits).
//! - [`CurrencyCode`]: a validated, canonical (upper-case) active ISO 4217 code.
//! - [`rate`]: rates to the base currency as exact decimals with bounds (`parse_rate`).
//! - [`CurrencyRecord`]: the currency **read model** record that the currency projector writes and
//!   the currency read API, convert and billing read; with its DynamoDB item mapping (feature
//!   `dynamodb`, on by default). See [`record`] for the item layout and the tombstone rule.
//! - [`Exchange`] between two records: [`Exchange::convert`], exact minor-unit conversion through the base
//!   currency, banker's rounding, checked overflow; [`Exchange::credited`], what a payment in another
//!   currency settles (rounded down).
//!
//! Amounts are always `i64` minor units of a named currency; there are no floats anywhere.

pub mod code;
pub mod convert;
pub mod credit;
pub mod error;
pub mod iso4217;
pub mod rate;
pub mod record;

pub use code::CurrencyCode;
pub use convert::{Exchange, Side, convert_raw};
pub use credit::credited_raw;
pub use error::MoneyError;
pub use rate::parse_rate;
pub use record::CurrencyRecord;
pub use rust_decimal::Decimal;
