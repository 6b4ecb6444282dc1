//! Cursor pagination: `limit` parsing and opaque, tamper-checked `next_token`s.
//!
//! A store returns the position after its last item as a [`Cursor`] (for DynamoDB: the
//! `LastEvaluatedKey`, see [`cursor_from_key`]/[`key_from_cursor`]). The router turns it into a token
//! with [`PageCodec::encode`] and back with [`PageCodec::decode`]:
//!
//! ```text
//! token = base64url(payload) "." base64url(HMAC-SHA256(key, "pagination.v1" 0x00 scope 0x00 payload))
//! ```
//!
//! - the key comes from configuration (`PAGINATION_KEY`), so a token minted by another stage fails;
//! - the `scope` names the listing (e.g. `posts`, `posts:author=42`), so a token from one listing
//!   cannot be replayed against another (a "foreign" token);
//! - any edited byte fails the MAC, which is compared in constant time.
//!
//! Tokens are opaque to clients but not secret: the payload is readable base64 of key attributes that
//! the listing already shows. A token that is not of that shape is a 400; one of that shape that this listing
//! did not issue (an edited byte, another listing's or user's, another stage's) is a 404, "no such page", with
//! no hint of which check failed: the document can state the shape but not the MAC, so a client that
//! validates against it can only be wrong about which pages exist.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::aws::SdkConfig;
use crate::config::{ConfigError, Env};
use crate::problem::Problem;
use crate::startup::Prefetched;

/// Name of the environment variable holding the token key.
pub const KEY_VAR: &str = "PAGINATION_KEY";
/// Name of the environment variable holding the ARN (or name) of a Secrets Manager secret whose
/// `SecretString` is the key; used when [`KEY_VAR`] is unset.
pub const KEY_SECRET_VAR: &str = "PAGINATION_KEY_SECRET_ARN";
/// Smallest accepted key, in bytes.
pub const MIN_KEY_BYTES: usize = 32;
/// Page size bounds and default.
pub const MIN_LIMIT: u16 = 1;
pub const MAX_LIMIT: u16 = 100;
pub const DEFAULT_LIMIT: u16 = 20;
/// Longest token accepted; anything longer is rejected before decoding.
pub const MAX_TOKEN_CHARS: usize = 4096;

const DOMAIN: &[u8] = b"pagination.v1";

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaginationError {
    #[error("`next_token` is not a valid token for this listing")]
    InvalidToken,
    #[error("No such page: this listing did not issue this `next_token` (start again without it)")]
    UnknownToken,
    #[error("`limit` must be an integer from {MIN_LIMIT} to {MAX_LIMIT}")]
    InvalidLimit,
    /// The pagination key could not be read yet (Secrets Manager unreachable): ours, and worth a retry.
    #[error("the pagination key is not available")]
    KeyUnavailable,
}

impl From<PaginationError> for Problem {
    fn from(err: PaginationError) -> Self {
        let status = match err {
            PaginationError::UnknownToken => StatusCode::NOT_FOUND,
            PaginationError::InvalidToken | PaginationError::InvalidLimit => {
                StatusCode::BAD_REQUEST
            }
            PaginationError::KeyUnavailable => return Problem::unavailable(),
        };
        Problem::client(status, err.to_string())
    }
}

/// Characters of unpadded base64url.
fn is_base64url(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Unpadded base64url length of an HMAC-SHA256 tag (32 bytes).
const TAG_CHARS: usize = 43;

/// One key attribute of a position in a listing (DynamoDB key attributes are S, N or B).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CursorValue {
    S(String),
    N(String),
    /// Binary, base64url without padding.
    B(String),
}

/// The position after the last item of a page: attribute name → value, ordered for a stable encoding.
pub type Cursor = BTreeMap<String, CursorValue>;

/// One page of a listing as a store returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// `None` on the last page.
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

/// Validated `limit` (default [`DEFAULT_LIMIT`]).
pub fn parse_limit(raw: Option<&str>) -> Result<u16, PaginationError> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(raw) => raw
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|l| (MIN_LIMIT..=MAX_LIMIT).contains(l))
            .ok_or(PaginationError::InvalidLimit),
    }
}

/// Mints and checks `next_token`s. Cheap to clone.
#[derive(Clone)]
pub struct PageCodec {
    key: Arc<[u8]>,
}

impl std::fmt::Debug for PageCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageCodec").finish_non_exhaustive()
    }
}

impl PageCodec {
    /// A codec with `key` (at least [`MIN_KEY_BYTES`] bytes).
    pub fn new(key: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        let key = key.as_ref();
        if key.len() < MIN_KEY_BYTES {
            return Err(ConfigError::Invalid {
                name: KEY_VAR.to_owned(),
                reason: format!("must be at least {MIN_KEY_BYTES} bytes"),
            });
        }
        Ok(Self { key: key.into() })
    }

    /// The codec keyed by `PAGINATION_KEY` (required).
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Self::new(env.required(KEY_VAR)?)
    }

    fn mac(&self, scope: &str, payload: &[u8]) -> HmacSha256 {
        // new_from_slice accepts keys of any length for HMAC; the fallback is unreachable.
        let mut mac = HmacSha256::new_from_slice(&self.key)
            .unwrap_or_else(|_| HmacSha256::new(&Default::default()));
        mac.update(DOMAIN);
        mac.update(&[0]);
        mac.update(scope.as_bytes());
        mac.update(&[0]);
        mac.update(payload);
        mac
    }

    /// The token for `cursor` within the listing named `scope`.
    pub fn encode(&self, scope: &str, cursor: &Cursor) -> String {
        // A BTreeMap of strings always serialises.
        let payload = serde_json::to_vec(cursor).unwrap_or_default();
        let tag = self.mac(scope, &payload).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// The cursor inside `token`, if it was minted by this key for this `scope` and is unmodified.
    pub fn decode(&self, scope: &str, token: &str) -> Result<Cursor, PaginationError> {
        if token.is_empty() || token.len() > MAX_TOKEN_CHARS {
            return Err(PaginationError::InvalidToken);
        }
        let (payload, tag) = token.split_once('.').ok_or(PaginationError::InvalidToken)?;
        let well_formed = !payload.is_empty()
            && is_base64url(payload)
            && tag.len() == TAG_CHARS
            && is_base64url(tag);
        if !well_formed {
            return Err(PaginationError::InvalidToken);
        }
        // From here on the token has the documented shape: whatever fails, this listing did not issue it.
        let unknown = |_| PaginationError::UnknownToken;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(unknown)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(unknown)?;
        self.mac(scope, &payload)
            .verify_slice(&tag)
            .map_err(|_| PaginationError::UnknownToken)?;
        serde_json::from_slice(&payload).map_err(|_| PaginationError::UnknownToken)
    }

    /// Optional token → optional cursor.
    pub fn decode_opt(
        &self,
        scope: &str,
        token: Option<&str>,
    ) -> Result<Option<Cursor>, PaginationError> {
        token.map(|t| self.decode(scope, t)).transpose()
    }
}

/// A service's [`PageCodec`], its key read from configuration: `PAGINATION_KEY` when set (tests, local runs),
/// else the secret named by `PAGINATION_KEY_SECRET_ARN` (AWS: generated by Secrets Manager; the local cloud
/// creates it from the template the same way, one per stage). The secret is read once per environment, in the
/// background from init on ([`Prefetched`]): a listing waits for it only if it comes before the read ends, and
/// answers 503 ([`PaginationError::KeyUnavailable`]) if the read failed (the next one reads again).
#[derive(Debug, Clone)]
pub struct Pages(Prefetched<PageCodec, ConfigError>);

impl From<PageCodec> for Pages {
    fn from(codec: PageCodec) -> Self {
        Self(Prefetched::ready(codec))
    }
}

impl Pages {
    /// Checks the configuration now and starts reading the secret (call inside the Tokio runtime).
    pub fn load(env: &Env, sdk: &SdkConfig) -> Result<Self, ConfigError> {
        if env.optional(KEY_VAR).is_some() {
            return PageCodec::from_env(env).map(Self::from);
        }
        let secret_id = env.required(KEY_SECRET_VAR)?;
        let client = aws_sdk_secretsmanager::Client::new(sdk);
        Ok(Self(Prefetched::start("pagination key", move || {
            read_key(client.clone(), secret_id.clone())
        })))
    }

    /// The codec, once its key is in hand.
    pub async fn codec(&self) -> Result<&PageCodec, PaginationError> {
        self.0.get().await.map_err(|err| {
            tracing::error!(error = %err, "no pagination key");
            PaginationError::KeyUnavailable
        })
    }
}

async fn read_key(
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
) -> Result<PageCodec, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        name: KEY_SECRET_VAR.to_owned(),
        reason,
    };
    let key = crate::aws::secret_string(&client, &secret_id)
        .await
        .map_err(|err| invalid(err.to_string()))?;
    PageCodec::new(key.trim())
        .map_err(|_| invalid(format!("must be at least {MIN_KEY_BYTES} bytes")))
}

/// A DynamoDB `LastEvaluatedKey` as a cursor; `None` for an empty key or a non-key attribute type.
pub fn cursor_from_key(key: &HashMap<String, AttributeValue>) -> Option<Cursor> {
    if key.is_empty() {
        return None;
    }
    key.iter()
        .map(|(name, value)| {
            let value = match value {
                AttributeValue::S(s) => CursorValue::S(s.clone()),
                AttributeValue::N(n) => CursorValue::N(n.clone()),
                AttributeValue::B(b) => CursorValue::B(URL_SAFE_NO_PAD.encode(b.as_ref())),
                _ => return None,
            };
            Some((name.clone(), value))
        })
        .collect()
}

/// A cursor as a DynamoDB `ExclusiveStartKey`.
pub fn key_from_cursor(
    cursor: &Cursor,
) -> Result<HashMap<String, AttributeValue>, PaginationError> {
    cursor
        .iter()
        .map(|(name, value)| {
            let value = match value {
                CursorValue::S(s) => AttributeValue::S(s.clone()),
                CursorValue::N(n) => AttributeValue::N(n.clone()),
                CursorValue::B(b) => AttributeValue::B(Blob::new(
                    URL_SAFE_NO_PAD
                        .decode(b)
                        .map_err(|_| PaginationError::InvalidToken)?,
                )),
            };
            Ok((name.clone(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn cursor() -> Cursor {
        Cursor::from([
            ("pk".to_owned(), CursorValue::S("POST#1".to_owned())),
            ("n".to_owned(), CursorValue::N("42".to_owned())),
        ])
    }

    fn codec() -> PageCodec {
        PageCodec::new(KEY).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn round_trips_within_the_same_scope() {
        let token = codec().encode("posts", &cursor());
        assert_eq!(codec().decode("posts", &token), Ok(cursor()));
    }

    #[test]
    fn every_single_byte_edit_is_rejected() {
        let token = codec().encode("posts", &cursor());
        let bytes = token.as_bytes();
        for i in 0..bytes.len() {
            for replacement in [b'A', b'z', b'_'] {
                if bytes[i] == replacement {
                    continue;
                }
                let mut edited = bytes.to_vec();
                edited[i] = replacement;
                let edited = String::from_utf8(edited).unwrap_or_default();
                assert!(
                    matches!(
                        codec().decode("posts", &edited),
                        Err(PaginationError::UnknownToken | PaginationError::InvalidToken)
                    ),
                    "edit at {i} accepted"
                );
            }
        }
    }

    #[test]
    fn a_forged_payload_with_the_old_tag_is_rejected() {
        let token = codec().encode("posts", &cursor());
        let tag = token.split_once('.').map(|(_, t)| t).unwrap_or_default();
        let mut forged = cursor();
        forged.insert("pk".into(), CursorValue::S("POST#2".into()));
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap_or_default());
        assert_eq!(
            codec().decode("posts", &format!("{payload}.{tag}")),
            Err(PaginationError::UnknownToken)
        );
    }

    #[test]
    fn a_token_of_the_documented_shape_that_was_not_issued_is_no_such_page() {
        // Five payload characters do not even decode as base64url: still the shape, still a 404.
        for token in [
            format!("AAAAA.{}", "A".repeat(43)),
            format!("e30.{}", "_".repeat(43)),
        ] {
            let err = codec().decode("posts", &token);
            assert_eq!(err, Err(PaginationError::UnknownToken), "{token}");
            let problem = Problem::from(PaginationError::UnknownToken);
            assert_eq!(problem.status_code(), StatusCode::NOT_FOUND);
        }
        assert_eq!(
            Problem::from(PaginationError::InvalidToken).status_code(),
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn tokens_from_another_scope_or_key_are_foreign() {
        let token = codec().encode("posts", &cursor());
        assert_eq!(
            codec().decode("posts:author=1", &token),
            Err(PaginationError::UnknownToken)
        );
        let other = PageCodec::new(b"another-stage-key-another-stage-key!")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            other.decode("posts", &token),
            Err(PaginationError::UnknownToken)
        );
    }

    #[test]
    fn garbage_is_rejected_without_panicking() {
        for token in ["", ".", "abc", "a.b.c", "!!!.???", &"x".repeat(5000)] {
            assert_eq!(
                codec().decode("posts", token),
                Err(PaginationError::InvalidToken)
            );
        }
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(PageCodec::new(b"short").is_err());
        let env = Env::from_pairs([(KEY_VAR, "too-short")]);
        assert!(PageCodec::from_env(&env).is_err());
        assert!(PageCodec::from_env(&Env::default()).is_err());
    }

    #[test]
    fn limit_defaults_and_bounds() {
        assert_eq!(parse_limit(None), Ok(DEFAULT_LIMIT));
        assert_eq!(parse_limit(Some("1")), Ok(1));
        assert_eq!(parse_limit(Some("100")), Ok(100));
        for bad in ["0", "101", "-1", "abc", "", "1.5", "99999999"] {
            assert_eq!(
                parse_limit(Some(bad)),
                Err(PaginationError::InvalidLimit),
                "{bad}"
            );
        }
    }

    #[test]
    fn dynamodb_keys_round_trip_through_cursors() {
        let key = HashMap::from([
            ("pk".to_owned(), AttributeValue::S("POST#1".into())),
            ("n".to_owned(), AttributeValue::N("7".into())),
            (
                "b".to_owned(),
                AttributeValue::B(Blob::new(vec![0, 255, 3])),
            ),
        ]);
        let cursor = cursor_from_key(&key).unwrap_or_default();
        assert_eq!(key_from_cursor(&cursor), Ok(key));
        assert_eq!(cursor_from_key(&HashMap::new()), None);
    }
}
