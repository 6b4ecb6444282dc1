//! Storage of posts and comments: the [`BlogStore`] trait, an in-memory implementation for fast tests
//! and the DynamoDB one used in Lambda.
//!
//! Stores enforce the invariants that must hold under concurrency (conditional writes); handlers
//! decide who may do what and turn store outcomes into HTTP answers.

mod dynamo;
mod memory;

use async_trait::async_trait;
use platform::pagination::{Cursor, Page};
use platform::store::StoreFailure;

use crate::domain::{Comment, Post};

pub use dynamo::DynamoBlogStore;
pub use memory::MemoryBlogStore;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The item a write depends on does not exist (any more).
    #[error("not found")]
    NotFound,
    /// A conditional write lost: the item changed or vanished since it was read.
    #[error("condition failed")]
    Conflict,
    /// Unavailable (503) or anything else (500).
    #[error(transparent)]
    Failure(#[from] StoreFailure),
}

/// A comment with the author of the post it belongs to (who may also delete it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentRecord {
    pub comment: Comment,
    pub post_author: String,
}

#[async_trait]
pub trait BlogStore: Send + Sync {
    /// Stores a new post (its id must be new).
    async fn create_post(&self, post: &Post) -> Result<(), StoreError>;

    async fn get_post(&self, id: &str) -> Result<Option<Post>, StoreError>;

    /// Newest first; only `author`'s posts when given.
    async fn list_posts(
        &self,
        author: Option<&str>,
        limit: u16,
        after: Option<&Cursor>,
    ) -> Result<Page<Post>, StoreError>;

    /// Writes `post` (title, body, version, updated_at) if the stored post still has
    /// `expected_version` and the same author; else [`StoreError::Conflict`].
    async fn update_post(&self, post: &Post, expected_version: u64) -> Result<(), StoreError>;

    /// Deletes the post if `author_id` wrote it (else [`StoreError::Conflict`]), then its comments.
    async fn delete_post(&self, id: &str, author_id: &str) -> Result<(), StoreError>;

    /// Stores a comment if its post still exists (else [`StoreError::NotFound`]).
    async fn create_comment(&self, comment: &Comment, post_author: &str) -> Result<(), StoreError>;

    async fn get_comment(&self, id: &str) -> Result<Option<CommentRecord>, StoreError>;

    /// Oldest first (reading order).
    async fn list_comments(
        &self,
        post_id: &str,
        limit: u16,
        after: Option<&Cursor>,
    ) -> Result<Page<Comment>, StoreError>;

    /// Deletes a comment ([`StoreError::NotFound`] if already gone).
    async fn delete_comment(&self, comment: &Comment) -> Result<(), StoreError>;
}
