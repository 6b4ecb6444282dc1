//! User storage behind a trait: DynamoDB in AWS and the local cloud, in-memory for fast router tests.

mod dynamo;
mod memory;

pub use dynamo::DynamoUserStore;
pub use memory::InMemoryUserStore;

use crate::domain::User;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Another account already uses this email (the uniqueness transaction was cancelled).
    #[error("email already registered")]
    EmailTaken,
    /// Throttled, unavailable or timed out: retry later (503).
    #[error("user store unavailable: {0}")]
    Unavailable(String),
    /// Anything else (misconfiguration, corrupt item): a 500 that reveals nothing.
    #[error("user store failed: {0}")]
    Failed(String),
}

#[async_trait::async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// Creates the user; fails with [`StoreError::EmailTaken`] when the email is in use, atomically
    /// (two concurrent registrations of one email: exactly one succeeds).
    async fn create(&self, user: &User) -> Result<(), StoreError>;
    /// The user with this (normalised) email.
    async fn find_by_email(&self, email: &str) -> Result<Option<User>, StoreError>;
    /// The user with this id.
    async fn get(&self, id: &str) -> Result<Option<User>, StoreError>;
}
