//! Storage of invoices and payments ([`BillingStore`]) and the currency read model
//! ([`CurrencyRates`]): DynamoDB implementations for Lambda, in-memory ones for tests.

mod dynamo;
mod memory;
mod rates;

use async_trait::async_trait;
use platform::pagination::{Cursor, Page};
use platform::store::StoreFailure;

use crate::domain::{Invoice, Payment};

pub use dynamo::DynamoBillingStore;
pub use memory::MemoryBillingStore;
pub use rates::{CurrencyRates, DynamoCurrencyRates, MemoryCurrencyRates};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A conditional write lost: the item changed since it was read.
    #[error("condition failed")]
    Conflict,
    /// Unavailable (503) or anything else (500).
    #[error(transparent)]
    Failure(#[from] StoreFailure),
}

/// Ties a payment to the `Idempotency-Key` that created it: stored in the same transaction as the
/// payment, so even a retry that outlives the idempotency record (lock takeover, expiry) cannot
/// create a second payment for the same key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentKey {
    pub key: String,
    pub fingerprint: String,
}

/// A payment key marker: which payment a key created, and the fingerprint of the request that did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedPayment {
    pub payment_id: String,
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    New,
    /// A payment with this key exists already.
    Duplicate {
        payment_id: String,
        fingerprint: String,
    },
}

/// Every read is scoped by owner: another user's invoice or payment is simply not found.
#[async_trait]
pub trait BillingStore: Send + Sync {
    async fn create_invoice(&self, invoice: &Invoice) -> Result<(), StoreError>;

    async fn get_invoice(&self, owner: &str, id: &str) -> Result<Option<Invoice>, StoreError>;

    /// Newest first.
    async fn list_invoices(
        &self,
        owner: &str,
        limit: u16,
        after: Option<&Cursor>,
    ) -> Result<Page<Invoice>, StoreError>;

    /// Atomically stores `payment` (and its key marker) and replaces the invoice with `updated`
    /// (amount paid, status, version) — if the stored invoice still has version `expected_version`
    /// (else [`StoreError::Conflict`]) and no payment used `key` yet (else [`Recorded::Duplicate`]).
    /// Nothing changes unless everything does.
    async fn record_payment(
        &self,
        updated: &Invoice,
        expected_version: u64,
        payment: &Payment,
        key: &PaymentKey,
    ) -> Result<Recorded, StoreError>;

    /// The payment an `Idempotency-Key` created, as its marker records it (`None`: no payment yet).
    /// Consulted before any business check, so a retry of a committed payment is answered with it
    /// whatever happened to the invoice (or the idempotency record) since.
    async fn payment_for_key(
        &self,
        owner: &str,
        key: &str,
    ) -> Result<Option<KeyedPayment>, StoreError>;

    async fn get_payment(&self, owner: &str, id: &str) -> Result<Option<Payment>, StoreError>;

    /// Newest first.
    async fn list_payments(
        &self,
        owner: &str,
        limit: u16,
        after: Option<&Cursor>,
    ) -> Result<Page<Payment>, StoreError>;
}
