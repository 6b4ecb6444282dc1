//! Revoked tokens: one DynamoDB item per `jti`, deleted by TTL once the token would have expired anyway.
//!
//! Table (from the template, name in `REVOKED_TOKENS_TABLE`): hash key `jti` (S), TTL attribute
//! `expires_at` (N, seconds since the epoch). Checks use strongly consistent reads so a logout is seen by
//! the very next request, in any function; DynamoDB TTL deletes lazily (up to days later), which is
//! harmless because the token itself has expired by then.
//!
//! Caching (in [`super::Verifier`], per execution environment): only *positive* answers are cached — a
//! revocation is permanent until expiry, so a cached "revoked" can never be wrong. "Not revoked" is never
//! cached: caching it for N seconds would let a logged-out token keep working for up to N seconds in every
//! warm environment. The price is one GetItem (0.5–1 RCU, ~5 ms in-region) per authenticated request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use aws_sdk_dynamodb::types::AttributeValue;

use super::keys::BoxFuture;
use crate::dynamo::{FailureKind, classify, describe};

/// The revoked tokens table's hash key.
pub const JTI_ATTRIBUTE: &str = "jti";
/// The revoked tokens table's TTL attribute.
pub const EXPIRES_AT_ATTRIBUTE: &str = "expires_at";

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum RevocationError {
    #[error("revocation store throttled or unavailable: {0}")]
    Unavailable(String),
    #[error("revocation store failed: {0}")]
    Failed(String),
}

/// Where revocations live.
pub trait RevocationStore: Send + Sync + 'static {
    /// Whether `jti` has been revoked.
    fn is_revoked<'a>(&'a self, jti: &'a str) -> BoxFuture<'a, Result<bool, RevocationError>>;
    /// Revokes `jti` until `expires_at` (the token's `exp`). Idempotent.
    fn revoke<'a>(
        &'a self,
        jti: &'a str,
        expires_at: i64,
    ) -> BoxFuture<'a, Result<(), RevocationError>>;
}

/// The DynamoDB store.
#[derive(Clone, Debug)]
pub struct DynamoRevocationStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoRevocationStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn error<E, R>(err: &aws_sdk_dynamodb::error::SdkError<E, R>) -> RevocationError
    where
        E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        match classify(err) {
            FailureKind::Unavailable => RevocationError::Unavailable(describe(err)),
            FailureKind::Internal => RevocationError::Failed(describe(err)),
        }
    }
}

impl RevocationStore for DynamoRevocationStore {
    fn is_revoked<'a>(&'a self, jti: &'a str) -> BoxFuture<'a, Result<bool, RevocationError>> {
        Box::pin(async move {
            let output = self
                .client
                .get_item()
                .table_name(&self.table)
                .key(JTI_ATTRIBUTE, AttributeValue::S(jti.to_owned()))
                .consistent_read(true)
                .projection_expression("#j")
                .expression_attribute_names("#j", JTI_ATTRIBUTE)
                .send()
                .await
                .map_err(|e| Self::error(&e))?;
            Ok(output.item.is_some())
        })
    }

    fn revoke<'a>(
        &'a self,
        jti: &'a str,
        expires_at: i64,
    ) -> BoxFuture<'a, Result<(), RevocationError>> {
        Box::pin(async move {
            self.client
                .put_item()
                .table_name(&self.table)
                .item(JTI_ATTRIBUTE, AttributeValue::S(jti.to_owned()))
                .item(
                    EXPIRES_AT_ATTRIBUTE,
                    AttributeValue::N(expires_at.to_string()),
                )
                .send()
                .await
                .map_err(|e| Self::error(&e))?;
            Ok(())
        })
    }
}

/// An in-process store for tests (and a single-process dev server). Counts lookups so tests can prove
/// that "not revoked" answers are never cached; can be switched to fail like a throttled table.
#[derive(Debug, Default)]
pub struct InMemoryRevocationStore {
    revoked: Mutex<HashMap<String, i64>>,
    lookups: AtomicUsize,
    unavailable: AtomicBool,
}

impl InMemoryRevocationStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many `is_revoked` calls reached the store.
    pub fn lookups(&self) -> usize {
        self.lookups.load(Ordering::SeqCst)
    }

    /// Makes every call fail with [`RevocationError::Unavailable`] (or work again).
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    fn check_available(&self) -> Result<(), RevocationError> {
        if self.unavailable.load(Ordering::SeqCst) {
            Err(RevocationError::Unavailable("simulated outage".into()))
        } else {
            Ok(())
        }
    }
}

impl RevocationStore for InMemoryRevocationStore {
    fn is_revoked<'a>(&'a self, jti: &'a str) -> BoxFuture<'a, Result<bool, RevocationError>> {
        Box::pin(async move {
            self.lookups.fetch_add(1, Ordering::SeqCst);
            self.check_available()?;
            let revoked = self
                .revoked
                .lock()
                .map_err(|_| RevocationError::Failed("poisoned".into()))?;
            Ok(revoked.contains_key(jti))
        })
    }

    fn revoke<'a>(
        &'a self,
        jti: &'a str,
        expires_at: i64,
    ) -> BoxFuture<'a, Result<(), RevocationError>> {
        Box::pin(async move {
            self.check_available()?;
            self.revoked
                .lock()
                .map_err(|_| RevocationError::Failed("poisoned".into()))?
                .insert(jti.to_owned(), expires_at);
            Ok(())
        })
    }
}

/// Positive-only cache of revocations (see the module docs for why negatives are not cached).
#[derive(Debug, Default)]
pub(crate) struct RevokedCache {
    entries: Mutex<HashMap<String, i64>>,
}

/// Bound on cached revocations per environment (~100 bytes each).
const MAX_CACHED_REVOCATIONS: usize = 10_000;

impl RevokedCache {
    pub(crate) fn contains(&self, jti: &str) -> bool {
        self.entries
            .lock()
            .map(|entries| entries.contains_key(jti))
            .unwrap_or(false)
    }

    pub(crate) fn insert(&self, jti: &str, expires_at: i64, now: i64) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_CACHED_REVOCATIONS {
                entries.retain(|_, exp| *exp > now);
                if entries.len() >= MAX_CACHED_REVOCATIONS {
                    // Still full of live revocations: drop them; the store remains the source of truth.
                    entries.clear();
                }
            }
            entries.insert(jti.to_owned(), expires_at);
        }
    }
}
