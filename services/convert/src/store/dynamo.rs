//! The DynamoDB [`RateStore`]: one `GetItem` per currency on the read-model table (key `code`).

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use money::{CurrencyCode, CurrencyRecord};

use super::{RateStore, StoreError};

#[derive(Debug, Clone)]
pub struct DynamoRateStore {
    client: Client,
    table: String,
}

impl DynamoRateStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

#[async_trait]
impl RateStore for DynamoRateStore {
    async fn get(&self, code: CurrencyCode) -> Result<Option<CurrencyRecord>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(money::record::key(code)))
            .send()
            .await
            .map_err(|err| platform::dynamo::failure(&err))?;
        match output.item {
            // Tombstones (deleted currencies) read as `None`.
            Some(item) => CurrencyRecord::from_item(&item)
                .map_err(|e| StoreError::Internal(format!("{code}: {e}"))),
            None => Ok(None),
        }
    }
}
