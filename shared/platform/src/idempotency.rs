//! `Idempotency-Key` handling: a store of request fingerprints and their recorded responses.
//!
//! Flow for a handler (see billing's `POST /payments`):
//! 1. [`IdempotencyKey::from_headers`] — missing → 400, malformed → 400.
//! 2. [`IdempotencyStore::claim`] with a `scope` (the caller's user id: keys never collide across users)
//!    and a [`fingerprint`] of the request:
//!    - first use → [`Claim::Acquired`]: the caller now holds a lock and processes the request;
//!    - same key, same fingerprint, finished → [`Claim::Replay`] of the recorded status and body;
//!    - same key, other fingerprint → [`IdempotencyError::Mismatch`] (409);
//!    - same key still being processed → [`IdempotencyError::InProgress`] (409, retry later).
//! 3. [`IdempotencyStore::complete`] records the response (status < 500, except 409/429 which are
//!    transient), or [`IdempotencyStore::release`] drops the lock so a retry can run (5xx).
//!
//! The DynamoDB store claims with one conditional `PutItem`, so of two concurrent first uses exactly
//! one acquires. Records carry `expires_at` (epoch seconds; the table's TTL attribute) and, while in
//! progress, `locked_until`: a lock older than the function timeout belongs to a crashed invocation
//! and may be taken over by a retry with the same fingerprint. DynamoDB deletes expired items lazily,
//! so the conditions also compare `expires_at` with the clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::problem::Problem;

/// The request header carrying the key.
pub const HEADER: &str = "idempotency-key";
/// Longest accepted key.
pub const MAX_KEY_CHARS: usize = 255;
/// Name of the TTL attribute (the table's `TimeToLiveSpecification.AttributeName`).
pub const TTL_ATTRIBUTE: &str = "expires_at";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdempotencyError {
    #[error("the `Idempotency-Key` header is required")]
    MissingKey,
    #[error("the `Idempotency-Key` header must be 1 to {MAX_KEY_CHARS} visible ASCII characters")]
    InvalidKey,
    #[error("this `Idempotency-Key` was already used with a different request")]
    Mismatch,
    #[error("a request with this `Idempotency-Key` is still being processed; retry later")]
    InProgress,
    #[error("idempotency store temporarily unavailable: {0}")]
    Unavailable(String),
    #[error("idempotency store failure: {0}")]
    Store(String),
}

impl From<IdempotencyError> for Problem {
    fn from(err: IdempotencyError) -> Self {
        match err {
            IdempotencyError::MissingKey | IdempotencyError::InvalidKey => {
                Problem::client(StatusCode::BAD_REQUEST, err.to_string())
            }
            // What the key was first used with is stored state, not something the request gets wrong:
            // a conflict (409), as for a request still in progress, and nothing a schema could flag.
            IdempotencyError::Mismatch => Problem::client(StatusCode::CONFLICT, err.to_string()),
            IdempotencyError::InProgress => Problem::client(StatusCode::CONFLICT, err.to_string()),
            IdempotencyError::Unavailable(_) => Problem::unavailable(),
            IdempotencyError::Store(_) => Problem::internal(),
        }
    }
}

/// A validated `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, IdempotencyError> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_KEY_CHARS
            && raw.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(IdempotencyError::InvalidKey)
        }
    }

    /// The key from the request headers (exactly one header).
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, IdempotencyError> {
        let mut values = headers.get_all(HEADER).iter();
        let value = values.next().ok_or(IdempotencyError::MissingKey)?;
        if values.next().is_some() {
            return Err(IdempotencyError::InvalidKey);
        }
        Self::parse(value.to_str().map_err(|_| IdempotencyError::InvalidKey)?)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A hex SHA-256 over length-prefixed parts (so `["ab","c"]` and `["a","bc"]` differ).
pub fn fingerprint(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}

/// A response recorded for replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    /// The JSON body as sent.
    pub body: String,
    /// The `Location` header, when the response had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

impl StoredResponse {
    /// Whether a response with this status should be recorded (else: release the lock).
    pub fn is_recordable(status: StatusCode) -> bool {
        !status.is_server_error()
            && status != StatusCode::CONFLICT
            && status != StatusCode::TOO_MANY_REQUESTS
    }
}

/// The outcome of a successful claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First use: process the request, then `complete` or `release`.
    Acquired,
    /// Already processed with the same fingerprint: send this again.
    Replay(StoredResponse),
}

/// How long records and locks live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ttls {
    /// How long a key is remembered after first use.
    pub record: Duration,
    /// How long an in-progress lock is honoured; must exceed the function timeout.
    pub lock: Duration,
}

impl Default for Ttls {
    fn default() -> Self {
        Self {
            record: Duration::from_secs(24 * 3600),
            lock: Duration::from_secs(60),
        }
    }
}

#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    async fn claim(
        &self,
        scope: &str,
        key: &IdempotencyKey,
        fingerprint: &str,
    ) -> Result<Claim, IdempotencyError>;

    async fn complete(
        &self,
        scope: &str,
        key: &IdempotencyKey,
        fingerprint: &str,
        response: &StoredResponse,
    ) -> Result<(), IdempotencyError>;

    async fn release(
        &self,
        scope: &str,
        key: &IdempotencyKey,
        fingerprint: &str,
    ) -> Result<(), IdempotencyError>;
}

/// Seconds since the Unix epoch.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

fn system_clock() -> Clock {
    Arc::new(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    })
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

#[derive(Debug, Clone)]
struct Record {
    fingerprint: String,
    response: Option<StoredResponse>,
    locked_until: i64,
    expires_at: i64,
}

type Records = HashMap<(String, String), Record>;

/// In-memory store for tests and local experiments.
pub struct MemoryIdempotencyStore {
    records: Mutex<Records>,
    ttls: Ttls,
    clock: Clock,
}

impl Default for MemoryIdempotencyStore {
    fn default() -> Self {
        Self::new(Ttls::default(), system_clock())
    }
}

impl MemoryIdempotencyStore {
    pub fn new(ttls: Ttls, clock: Clock) -> Self {
        Self {
            records: Mutex::new(HashMap::new()),
            ttls,
            clock,
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Records>, IdempotencyError> {
        self.records
            .lock()
            .map_err(|_| IdempotencyError::Store("poisoned lock".into()))
    }
}

#[async_trait]
impl IdempotencyStore for MemoryIdempotencyStore {
    async fn claim(
        &self,
        scope: &str,
        key: &IdempotencyKey,
        fingerprint: &str,
    ) -> Result<Claim, IdempotencyError> {
        let now = (self.clock)();
        let mut records = self.lock()?;
        let id = (scope.to_owned(), key.0.clone());
        if let Some(existing) = records.get(&id).filter(|r| r.expires_at >= now) {
            if existing.fingerprint != fingerprint {
                return Err(IdempotencyError::Mismatch);
            }
            match &existing.response {
                Some(response) => return Ok(Claim::Replay(response.clone())),
                None if existing.locked_until >= now => return Err(IdempotencyError::InProgress),
                None => {} // stale lock of a crashed attempt: take it over
            }
        }
        records.insert(
            id,
            Record {
                fingerprint: fingerprint.to_owned(),
                response: None,
                locked_until: now.saturating_add(secs(self.ttls.lock)),
                expires_at: now.saturating_add(secs(self.ttls.record)),
            },
        );
        Ok(Claim::Acquired)
    }

    async fn complete(
        &self,
        scope: &str,
        key: &IdempotencyKey,
        fingerprint: &str,
        response: &StoredResponse,
    ) -> Result<(), IdempotencyError> {
        let now = (self.clock)();
        let mut records = self.lock()?;
        match records.get_mut(&(scope.to_owned(), key.0.clone())) {
            Some(r) if r.fingerprint == fingerprint && r.response.is_none() => {
                r.response = Some(response.clone());
                r.expires_at = now.saturating_add(secs(self.ttls.record));
                Ok(())
            }
            _ => Err(IdempotencyError::Store(
                "completing a key that is not held".into(),
            )),
        }
    }

    async fn release(
        &self,
        scope: &str,
        key: &IdempotencyKey,
        fingerprint: &str,
    ) -> Result<(), IdempotencyError> {
        let mut records = self.lock()?;
        let id = (scope.to_owned(), key.0.clone());
        if records
            .get(&id)
            .is_some_and(|r| r.fingerprint == fingerprint && r.response.is_none())
        {
            records.remove(&id);
        }
        Ok(())
    }
}

/// DynamoDB store: one item per (scope, key) in a table keyed `pk` (S) / `sk` (S) with TTL on
/// [`TTL_ATTRIBUTE`]. Items: `pk = "IDEMPOTENCY#<scope length>:<scope>#<key>"`, `sk = "IDEMPOTENCY"`.
#[derive(Clone)]
pub struct DynamoIdempotencyStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
    ttls: Ttls,
    clock: Clock,
}

impl DynamoIdempotencyStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self::with_ttls(client, table, Ttls::default(), system_clock())
    }

    pub fn with_ttls(
        client: aws_sdk_dynamodb::Client,
        table: impl Into<String>,
        ttls: Ttls,
        clock: Clock,
    ) -> Self {
        Self {
            client,
            table: table.into(),
            ttls,
            clock,
        }
    }

    fn key(scope: &str, key: &IdempotencyKey) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (
                "pk".to_owned(),
                // The scope's length keeps `("a#b", "c")` and `("a", "b#c")` apart.
                AttributeValue::S(format!("IDEMPOTENCY#{}:{scope}#{}", scope.len(), key.0)),
            ),
            ("sk".to_owned(), AttributeValue::S("IDEMPOTENCY".to_owned())),
        ])
    }

    fn classify(
        &self,
        item: &HashMap<String, AttributeValue>,
        fingerprint: &str,
    ) -> Result<Claim, IdempotencyError> {
        let stored_fp = item.get("fingerprint").and_then(|v| v.as_s().ok());
        if stored_fp.map(String::as_str) != Some(fingerprint) {
            return Err(IdempotencyError::Mismatch);
        }
        match item.get("response").and_then(|v| v.as_s().ok()) {
            Some(raw) => serde_json::from_str(raw)
                .map(Claim::Replay)
                .map_err(|e| IdempotencyError::Store(format!("corrupt recorded response: {e}"))),
            None => Err(IdempotencyError::InProgress),
        }
    }
}

fn sdk_failure<E, R>(err: SdkError<E, R>) -> IdempotencyError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let detail = crate::dynamo::describe(&err);
    match crate::dynamo::classify(&err) {
        crate::dynamo::FailureKind::Unavailable => IdempotencyError::Unavailable(detail),
        crate::dynamo::FailureKind::Internal => IdempotencyError::Store(detail),
    }
}

fn is_condition_failure<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    matches!(err, SdkError::ServiceError(s) if s.err().code() == Some("ConditionalCheckFailedException"))
}

#[async_trait]
impl IdempotencyStore for DynamoIdempotencyStore {
    async fn claim(
        &self,
        scope: &str,
        key: &IdempotencyKey,
        fingerprint: &str,
    ) -> Result<Claim, IdempotencyError> {
        // Two rounds: a record seen as live on the failed put may have expired by the time we read it.
        for _ in 0..2 {
            let now = (self.clock)();
            let mut item = Self::key(scope, key);
            item.insert("fingerprint".into(), AttributeValue::S(fingerprint.into()));
            item.insert(
                "locked_until".into(),
                AttributeValue::N(now.saturating_add(secs(self.ttls.lock)).to_string()),
            );
            item.insert(
                TTL_ATTRIBUTE.into(),
                AttributeValue::N(now.saturating_add(secs(self.ttls.record)).to_string()),
            );
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression(
                    "attribute_not_exists(pk) OR #exp < :now \
                     OR (attribute_not_exists(#resp) AND locked_until < :now AND fingerprint = :fp)",
                )
                .expression_attribute_names("#exp", TTL_ATTRIBUTE)
                .expression_attribute_names("#resp", "response")
                .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
                .expression_attribute_values(":fp", AttributeValue::S(fingerprint.into()))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .send()
                .await;
            match put {
                Ok(_) => return Ok(Claim::Acquired),
                Err(err) if is_condition_failure(&err) => {
                    let old = match &err {
                        SdkError::ServiceError(s) => match s.err() {
                            aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c) => c.item().cloned(),
                            _ => None,
                        },
                        _ => None,
                    };
                    let old = match old {
                        Some(old) => Some(old),
                        None => {
                            self.client
                                .get_item()
                                .table_name(&self.table)
                                .set_key(Some(Self::key(scope, key)))
                                .consistent_read(true)
                                .send()
                                .await
                                .map_err(sdk_failure)?
                                .item
                        }
                    };
                    if let Some(old) = old {
                        return self.classify(&old, fingerprint);
                    }
                }
                Err(err) => return Err(sdk_failure(err)),
            }
        }
        Err(IdempotencyError::InProgress)
    }

    async fn complete(
        &self,
        scope: &str,
        key: &IdempotencyKey,
        fingerprint: &str,
        response: &StoredResponse,
    ) -> Result<(), IdempotencyError> {
        let now = (self.clock)();
        let raw =
            serde_json::to_string(response).map_err(|e| IdempotencyError::Store(e.to_string()))?;
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(scope, key)))
            .update_expression("SET #resp = :resp, #exp = :exp REMOVE locked_until")
            .condition_expression("fingerprint = :fp AND attribute_not_exists(#resp)")
            .expression_attribute_names("#resp", "response")
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_values(":resp", AttributeValue::S(raw))
            .expression_attribute_values(
                ":exp",
                AttributeValue::N(now.saturating_add(secs(self.ttls.record)).to_string()),
            )
            .expression_attribute_values(":fp", AttributeValue::S(fingerprint.into()))
            .send()
            .await
            .map_err(sdk_failure)?;
        Ok(())
    }

    async fn release(
        &self,
        scope: &str,
        key: &IdempotencyKey,
        fingerprint: &str,
    ) -> Result<(), IdempotencyError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(scope, key)))
            .condition_expression("fingerprint = :fp AND attribute_not_exists(#resp)")
            .expression_attribute_names("#resp", "response")
            .expression_attribute_values(":fp", AttributeValue::S(fingerprint.into()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Someone else's record (or already gone): nothing of ours to release.
            Err(err) if is_condition_failure(&err) => Ok(()),
            Err(err) => Err(sdk_failure(err)),
        }
    }
}

/// Checks every [`IdempotencyStore`] must pass, for the stores' own tests (feature `test-util`).
#[cfg(any(test, feature = "test-util"))]
pub mod testing {
    use super::{Claim, IdempotencyKey, IdempotencyStore};

    /// A claim its holder released (the request failed and changed nothing) can be claimed again at once.
    pub async fn assert_a_released_claim_is_claimed_again<S: IdempotencyStore + ?Sized>(
        store: &S,
        scope: &str,
        key: &IdempotencyKey,
        fingerprint: &str,
    ) {
        let claim = store.claim(scope, key, fingerprint).await;
        assert_eq!(claim, Ok(Claim::Acquired), "the first claim");
        store
            .release(scope, key, fingerprint)
            .await
            .unwrap_or_else(|e| panic!("release: {e}"));
        let claim = store.claim(scope, key, fingerprint).await;
        assert_eq!(claim, Ok(Claim::Acquired), "the claim after the release");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};

    fn key(raw: &str) -> IdempotencyKey {
        IdempotencyKey::parse(raw).unwrap_or_else(|e| panic!("{e}"))
    }

    fn store_at(now: Arc<AtomicI64>) -> MemoryIdempotencyStore {
        MemoryIdempotencyStore::new(
            Ttls {
                record: Duration::from_secs(100),
                lock: Duration::from_secs(10),
            },
            Arc::new(move || now.load(Ordering::SeqCst)),
        )
    }

    fn response() -> StoredResponse {
        StoredResponse {
            status: 201,
            body: "{}".into(),
            location: Some("/payments/1".into()),
        }
    }

    #[test]
    fn keys_are_validated() {
        assert!(IdempotencyKey::parse("abc-123_XYZ").is_ok());
        for bad in ["", "has space", "tab\t", "é", &"k".repeat(256)] {
            assert_eq!(
                IdempotencyKey::parse(bad),
                Err(IdempotencyError::InvalidKey),
                "{bad}"
            );
        }
        assert_eq!(
            IdempotencyKey::from_headers(&HeaderMap::new()),
            Err(IdempotencyError::MissingKey)
        );
    }

    #[test]
    fn fingerprints_are_length_prefixed() {
        assert_ne!(fingerprint(&[b"ab", b"c"]), fingerprint(&[b"a", b"bc"]));
        assert_eq!(fingerprint(&[b"x"]), fingerprint(&[b"x"]));
    }

    #[tokio::test]
    async fn claim_replay_mismatch_and_in_progress() {
        let now = Arc::new(AtomicI64::new(1_000));
        let store = store_at(now.clone());
        let k = key("k1");
        assert_eq!(store.claim("u1", &k, "fp").await, Ok(Claim::Acquired));
        assert_eq!(
            store.claim("u1", &k, "fp").await,
            Err(IdempotencyError::InProgress)
        );
        assert_eq!(
            store.claim("u1", &k, "other").await,
            Err(IdempotencyError::Mismatch)
        );
        // Another user's identical key is independent.
        assert_eq!(store.claim("u2", &k, "other").await, Ok(Claim::Acquired));
        store
            .complete("u1", &k, "fp", &response())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            store.claim("u1", &k, "fp").await,
            Ok(Claim::Replay(response()))
        );
        assert_eq!(
            store.claim("u1", &k, "other").await,
            Err(IdempotencyError::Mismatch)
        );
    }

    #[tokio::test]
    async fn stale_locks_are_taken_over_and_records_expire() {
        let now = Arc::new(AtomicI64::new(1_000));
        let store = store_at(now.clone());
        let k = key("k1");
        assert_eq!(store.claim("u", &k, "fp").await, Ok(Claim::Acquired));
        now.store(1_011, Ordering::SeqCst);
        assert_eq!(store.claim("u", &k, "fp").await, Ok(Claim::Acquired));
        store
            .complete("u", &k, "fp", &response())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        now.store(1_200, Ordering::SeqCst);
        assert_eq!(store.claim("u", &k, "new body").await, Ok(Claim::Acquired));
    }

    #[tokio::test]
    async fn release_lets_a_retry_run() {
        let store = MemoryIdempotencyStore::default();
        testing::assert_a_released_claim_is_claimed_again(&store, "u", &key("k1"), "fp").await;
    }

    #[test]
    fn recordable_statuses() {
        assert!(StoredResponse::is_recordable(StatusCode::CREATED));
        assert!(StoredResponse::is_recordable(
            StatusCode::UNPROCESSABLE_ENTITY
        ));
        assert!(!StoredResponse::is_recordable(StatusCode::CONFLICT));
        assert!(!StoredResponse::is_recordable(
            StatusCode::SERVICE_UNAVAILABLE
        ));
    }
}
