//! Signing keys that follow a rotation in warm environments.
//!
//! The secret (`SIGNING_KEY_SECRET_ARN`) is re-read once the copy in hand is half of `KEY_REFRESH_SECONDS`
//! old (default 300 s). After `./inv keys rotate`, the new key is published in the JWKS at once and signs
//! once it is `KEY_REFRESH_SECONDS` old ([`SigningKeys::as_of`]): by then every verifier has refreshed its key
//! set, so no token reaches a verifier that lacks its key. After `./inv keys retire-previous`, the retired key
//! leaves the JWKS (and this service's own verifier) within the bound. A failed re-read keeps signing with the
//! keys in hand (logged), but the service's own verifier stops trusting them beyond the bound, as every other
//! verifier does.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jsonwebtoken::jwk::JwkSet;
use platform::auth::keys::{BoxFuture, JwksFetcher, KeyRefresh};

use crate::signing::{SigningKeys, SigningKeysError};

/// Where the keys come from (Secrets Manager in Lambda, a fixed value or a fake in tests).
#[async_trait]
pub trait KeySource: Send + Sync + 'static {
    async fn load(&self) -> Result<SigningKeys, SigningKeysError>;
}

/// The signing-key secret in Secrets Manager.
pub struct SecretKeySource {
    pub client: aws_sdk_secretsmanager::Client,
    pub secret_id: String,
}

#[async_trait]
impl KeySource for SecretKeySource {
    async fn load(&self) -> Result<SigningKeys, SigningKeysError> {
        SigningKeys::load(&self.client, &self.secret_id).await
    }
}

/// Keys that never change (tests).
pub struct FixedKeys(pub SigningKeys);

#[async_trait]
impl KeySource for FixedKeys {
    async fn load(&self) -> Result<SigningKeys, SigningKeysError> {
        Ok(self.0.clone())
    }
}

struct Held {
    keys: SigningKeys,
    fetched_at: Duration,
    /// No re-read before this (after a failure).
    retry_at: Duration,
}

/// Wall-clock seconds since the epoch (a key's age is measured from its `created_at`).
pub type WallClock = Arc<dyn Fn() -> i64 + Send + Sync>;

fn system_wall_clock() -> WallClock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    })
}

/// The keys in hand, re-read from the source within the refresh bound.
pub struct KeyRing {
    source: Arc<dyn KeySource>,
    refresh: KeyRefresh,
    wall: WallClock,
    held: tokio::sync::Mutex<Held>,
}

/// After a failed re-read, the next is tried this much later.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(10);

impl KeyRing {
    /// Loads the keys once (startup fails if they cannot be read).
    pub async fn load(
        source: Arc<dyn KeySource>,
        refresh: KeyRefresh,
    ) -> Result<Self, SigningKeysError> {
        let keys = source.load().await?;
        Ok(Self::with_keys(source, keys, refresh))
    }

    /// Starts from `keys` already read from `source`.
    pub fn with_keys(source: Arc<dyn KeySource>, keys: SigningKeys, refresh: KeyRefresh) -> Self {
        let now = refresh.now();
        Self {
            source,
            refresh,
            wall: system_wall_clock(),
            held: tokio::sync::Mutex::new(Held {
                keys,
                fetched_at: now,
                retry_at: now,
            }),
        }
    }

    /// Measures key ages on `wall` instead of the system clock (tests).
    pub fn with_wall_clock(mut self, wall: WallClock) -> Self {
        self.wall = wall;
        self
    }

    /// The keys to sign and publish with, re-read first when due. `fresh` is whether they are within
    /// the bound (a verifier must not trust them otherwise).
    async fn current_with_age(&self) -> (SigningKeys, bool) {
        let mut held = self.held.lock().await;
        let now = self.refresh.now();
        if self.refresh.due(held.fetched_at) && now >= held.retry_at {
            match self.source.load().await {
                Ok(keys) => {
                    if keys.current().kid() != held.keys.current().kid() {
                        tracing::info!(kid = %keys.current().kid(), "a new key: published now, signing once KEY_REFRESH_SECONDS old");
                    }
                    held.keys = keys;
                    held.fetched_at = now;
                }
                Err(err) => {
                    tracing::error!(error = %err, "cannot re-read the signing keys; keeping the keys in hand");
                    held.retry_at = now + RETRY_AFTER_FAILURE;
                }
            }
        }
        let lead = i64::try_from(self.refresh.max_age.as_secs()).unwrap_or(i64::MAX);
        let keys = held.keys.as_of((self.wall)(), lead);
        (keys, self.refresh.usable(held.fetched_at))
    }

    /// The keys to sign and publish with.
    pub async fn current(&self) -> SigningKeys {
        self.current_with_age().await.0
    }
}

/// The ring as the JWKS source of the service's own verifier (no HTTP: the keys in hand).
pub struct RingJwks(pub Arc<KeyRing>);

impl JwksFetcher for RingJwks {
    fn fetch<'a>(&'a self, _url: &'a str) -> BoxFuture<'a, Result<JwkSet, String>> {
        Box::pin(async move {
            match self.0.current_with_age().await {
                (keys, true) => Ok(keys.jwks()),
                (_, false) => Err("signing keys older than KEY_REFRESH_SECONDS".into()),
            }
        })
    }
}
