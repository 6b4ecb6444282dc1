//! User storage behind a trait: DynamoDB in AWS and the local cloud, in-memory for fast router tests.

mod dynamo;
mod memory;

pub use dynamo::DynamoUserStore;
pub use memory::InMemoryUserStore;

use platform::store::StoreFailure;

use crate::domain::User;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Another account already uses this email (the uniqueness transaction was cancelled).
    #[error("email already registered")]
    EmailTaken,
    /// Unavailable (503) or anything else (500).
    #[error(transparent)]
    Failure(#[from] StoreFailure),
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
