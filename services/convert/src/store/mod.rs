//! Where rates come from: the [`RateStore`] trait over the currency read model, its DynamoDB implementation
//! (used in Lambda) and an in-memory one that counts reads (tests, benchmarks).

mod dynamo;
mod memory;

use async_trait::async_trait;
use money::{CurrencyCode, CurrencyRecord};

pub use dynamo::DynamoRateStore;
pub use memory::MemoryRateStore;

/// Why a read failed: unavailable (503) or anything else (500). `Clone`: one failed read is shared by every
/// request that waited for it.
pub type StoreError = platform::store::StoreFailure;

/// Read access to the currency read model (one record per currency, key `code`).
#[async_trait]
pub trait RateStore: Send + Sync + 'static {
    /// The currency's record, or `None` when the read model has no such currency.
    async fn get(&self, code: CurrencyCode) -> Result<Option<CurrencyRecord>, StoreError>;
}
