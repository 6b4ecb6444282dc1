//! The currency read model (`CURRENCIES_TABLE`), written by the currency service's projector and read
//! here through the shared record type ([`money::CurrencyRecord`]): one item per code with
//! `rate_to_base` (decimal string: one unit of the currency in base-currency units), `minor_units`,
//! `version`; deleted currencies are tombstones, which read as absent.

use std::collections::HashMap;
use std::sync::RwLock;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use money::{CurrencyCode, CurrencyRecord};

use super::StoreError;
use super::dynamo::sdk_error;
use platform::store::Failure as _;

#[async_trait]
pub trait CurrencyRates: Send + Sync {
    /// The live record of `code`, or `None` when the read model does not have it (or deleted it).
    async fn rate(&self, code: &str) -> Result<Option<CurrencyRecord>, StoreError>;
}

/// In-memory read model for tests.
#[derive(Default)]
pub struct MemoryCurrencyRates {
    rates: RwLock<HashMap<String, CurrencyRecord>>,
}

impl MemoryCurrencyRates {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `code`'s rate (a decimal string). Invalid codes or rates are ignored.
    pub fn set(&self, code: &str, rate_to_base: &str) {
        let Ok(parsed) = CurrencyCode::parse(code) else {
            return;
        };
        let Ok(rate) = money::parse_rate(rate_to_base) else {
            return;
        };
        if let Ok(mut rates) = self.rates.write() {
            let version = rates.get(code).map_or(1, |r| r.version + 1);
            let record = CurrencyRecord::new(
                parsed,
                code,
                parsed.minor_units(),
                rate,
                version,
                time::OffsetDateTime::now_utc(),
            );
            if let Ok(record) = record {
                rates.insert(code.to_owned(), record);
            }
        }
    }

    /// Deletes `code` from the read model.
    pub fn remove(&self, code: &str) {
        if let Ok(mut rates) = self.rates.write() {
            rates.remove(code);
        }
    }
}

#[async_trait]
impl CurrencyRates for MemoryCurrencyRates {
    async fn rate(&self, code: &str) -> Result<Option<CurrencyRecord>, StoreError> {
        self.rates
            .read()
            .map(|r| r.get(code).cloned())
            .map_err(|_| StoreError::internal("poisoned lock"))
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
    async fn rate(&self, code: &str) -> Result<Option<CurrencyRecord>, StoreError> {
        let Ok(code) = CurrencyCode::parse(code) else {
            return Ok(None);
        };
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(money::record::key(code)))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error)?;
        match out.item {
            None => Ok(None),
            Some(item) => CurrencyRecord::from_item(&item).map_err(|e| {
                StoreError::internal(format!("currency read model item for {code}: {e}"))
            }),
        }
    }
}
