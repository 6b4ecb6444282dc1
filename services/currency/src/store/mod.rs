//! Storage behind traits: the read model ([`CurrencyReader`], [`CurrencyWriter`]), command statuses
//! ([`CommandStore`]) and the commands queue ([`CommandQueue`]). DynamoDB/SQS implementations run in
//! Lambda; in-memory ones (with fault injection) make router and projector tests fast.
//!
//! The stores enforce what must hold under concurrency and redelivery with conditional writes:
//! a currency only moves to a higher version, a command id is stored once, statuses only move
//! `accepted → applied | rejected` (and `rejected → applied` if a message thought final is redelivered
//! and succeeds: the read model's truth wins).

mod dynamo;
mod memory;
mod sqs;
pub mod writes;

use async_trait::async_trait;
use money::CurrencyRecord;
use time::OffsetDateTime;

use crate::domain::{CommandMessage, CommandRecord, Outcome};

pub use dynamo::{DynamoCommandStore, DynamoCurrencies};
pub use memory::{MemoryCommandStore, MemoryCurrencies, MemoryQueue};
pub use sqs::SqsCommandQueue;

/// Unavailable (503; the projector retries the message) or anything else (500).
pub type StoreError = platform::store::StoreFailure;

/// Result of applying a command to the read model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// The currency moved to the command's sequence.
    Written,
    /// The currency was already at `current` ≥ the command's sequence: nothing changed. When `current`
    /// equals the sequence, this very command wrote it (a redelivery).
    Stale { current: u64 },
    /// Another command with the same sequence (accepted in the same microsecond by another
    /// environment) was written first: nothing changed, and this one is superseded.
    Tied,
}

/// The read side of the read model.
#[async_trait]
pub trait CurrencyReader: Send + Sync {
    /// Every live currency (tombstones skipped), sorted by code.
    async fn list(&self) -> Result<Vec<CurrencyRecord>, StoreError>;
}

/// The projector's side of the read model.
#[async_trait]
pub trait CurrencyWriter: Send + Sync {
    /// Sets the currency to the command's state (or a tombstone for a delete) at version
    /// `message.sequence`, only if the stored version is lower or there is none.
    async fn apply(
        &self,
        message: &CommandMessage,
        at: OffsetDateTime,
    ) -> Result<ApplyOutcome, StoreError>;

    /// [`apply`](Self::apply) and, when the currency was written, the command marked `applied`
    /// (`written`) in the same write where the store can (DynamoDB: one transaction). Returns the
    /// outcome and whether the status was marked; the default marks nothing (the caller does).
    async fn apply_and_mark(
        &self,
        message: &CommandMessage,
        at: OffsetDateTime,
    ) -> Result<(ApplyOutcome, bool), StoreError> {
        Ok((self.apply(message, at).await?, false))
    }

    /// [`apply_and_mark`](Self::apply_and_mark), and when the currency was written, also the commands
    /// `overtaken` (older ones of the same currency, none of them `message`'s) marked `applied`
    /// (`superseded`) in the same write where the store can. Returns the outcome, whether `message`'s
    /// status was marked and whether the overtaken ones were; the default marks no overtaken one.
    async fn apply_and_mark_overtaking(
        &self,
        message: &CommandMessage,
        at: OffsetDateTime,
        _overtaken: &[String],
    ) -> Result<(ApplyOutcome, bool, bool), StoreError> {
        let (outcome, marked) = self.apply_and_mark(message, at).await?;
        Ok((outcome, marked, false))
    }
}

/// Result of storing a new command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    New,
    /// A command with this id exists already (idempotent retry, or a reused id).
    Existing(Box<CommandRecord>),
}

/// Command statuses (`COMMANDS_TABLE`).
#[async_trait]
pub trait CommandStore: Send + Sync {
    /// Stores `record` if its id is new (one conditional write); `Existing` holds the stored one.
    async fn insert(&self, record: &CommandRecord) -> Result<Inserted, StoreError>;

    async fn get(&self, id: &str) -> Result<Option<CommandRecord>, StoreError>;

    /// `accepted | rejected → applied`. `Ok(false)` when already applied or unknown.
    async fn mark_applied(&self, id: &str, outcome: Outcome, at: &str) -> Result<bool, StoreError>;

    /// `accepted → rejected`. `Ok(false)` when not `accepted` (or unknown).
    async fn mark_rejected(&self, id: &str, reason: &str, at: &str) -> Result<bool, StoreError>;
}

/// The commands queue.
#[async_trait]
pub trait CommandQueue: Send + Sync {
    async fn send(&self, body: &str) -> Result<(), StoreError>;
}
