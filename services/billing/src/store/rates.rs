//! The currency read model (`CURRENCIES_TABLE`), written by the currency service, read here.
//!
//! Items: `{code (S, key), rate_to_base (S, decimal), minor_units (N), version (N)}` where one unit of
//! `code` is worth `rate_to_base` units of the base currency.

use std::collections::HashMap;
use std::sync::RwLock;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::StoreError;
use super::dynamo::sdk_error;
use crate::money::Decimal;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rate {
    pub code: String,
    pub rate_to_base: Decimal,
    pub minor_units: u8,
    pub version: u64,
}

#[async_trait]
pub trait CurrencyRates: Send + Sync {
    /// The current rate of `code`, or `None` when the read model does not have it.
    async fn rate(&self, code: &str) -> Result<Option<Rate>, StoreError>;
}

/// In-memory read model for tests.
#[derive(Default)]
pub struct MemoryCurrencyRates {
    rates: RwLock<HashMap<String, Rate>>,
}

impl MemoryCurrencyRates {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `code`'s rate (a decimal string; invalid strings are ignored) and minor units.
    pub fn set(&self, code: &str, rate_to_base: &str, minor_units: u8) {
        let Some(rate) = Decimal::parse_positive(rate_to_base) else {
            return;
        };
        if let Ok(mut rates) = self.rates.write() {
            let version = rates.get(code).map_or(1, |r| r.version + 1);
            rates.insert(
                code.to_owned(),
                Rate {
                    code: code.to_owned(),
                    rate_to_base: rate,
                    minor_units,
                    version,
                },
            );
        }
    }
}

#[async_trait]
impl CurrencyRates for MemoryCurrencyRates {
    async fn rate(&self, code: &str) -> Result<Option<Rate>, StoreError> {
        self.rates
            .read()
            .map(|r| r.get(code).cloned())
            .map_err(|_| StoreError::Internal("poisoned lock".into()))
    }
}

/// DynamoDB read model (strongly consistent `GetItem` by `code`).
#[derive(Clone)]
pub struct DynamoCurrencyRates {
    client: Client,
    table: String,
}

impl DynamoCurrencyRates {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

#[async_trait]
impl CurrencyRates for DynamoCurrencyRates {
    async fn rate(&self, code: &str) -> Result<Option<Rate>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("code", AttributeValue::S(code.to_owned()))
            .send()
            .await
            .map_err(sdk_error)?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let corrupt = |what: &str| StoreError::Internal(format!("currency {code}: bad {what}"));
        let rate_to_base = item
            .get("rate_to_base")
            .and_then(|v| v.as_s().ok())
            .and_then(|s| Decimal::parse_positive(s))
            .ok_or_else(|| corrupt("rate_to_base"))?;
        let minor_units = item
            .get("minor_units")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| corrupt("minor_units"))?;
        let version = item
            .get("version")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        Ok(Some(Rate {
            code: code.to_owned(),
            rate_to_base,
            minor_units,
            version,
        }))
    }
}
