//! Configuration and the one shared state value.

use std::sync::Arc;

use axum::extract::FromRef;
use platform::auth::revocation::RevocationStore;
use platform::auth::verifier::IssuerPolicy;
use platform::auth::{DynamoRevocationStore, Verifier};
use platform::config::{ConfigError, Env};

use platform::auth::keys::KeyRefresh;
use platform::auth::verifier::JWKS_PATH;

use crate::domain::PasswordHasher;
use crate::issuer_config::IssuerSource;
use crate::key_ring::{FixedKeys, KeyRing, RingJwks, SecretKeySource};
use crate::login_limits::{DynamoAttemptStore, LimitSettings, LoginLimits};
use crate::signing::{SigningKeys, SigningKeysError};
use crate::store::{DynamoUserStore, UserStore};
use crate::throttle::{LoginThrottle, NoThrottle};
use crate::tokens::{DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS, MIN_TTL_SECONDS};

/// Token and hashing settings.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `JWT_ISSUER`, or the value of the secret `JWT_ISSUER_SECRET_ID` (see [`crate::issuer_config`]).
    /// Never derived from a request.
    pub issuer: IssuerPolicy,
    /// `JWT_AUDIENCE`.
    pub audience: String,
    /// `ACCESS_TOKEN_TTL_SECONDS` (60–86400, default 900).
    pub token_ttl_seconds: i64,
    /// `ARGON2_MEMORY_KIB` / `ARGON2_ITERATIONS` / `ARGON2_PARALLELISM` (default 19456 / 2 / 1).
    pub hasher: PasswordHasher,
}

impl AuthConfig {
    /// Every check of [`Self::from_env`], before the issuer is known.
    pub fn check(env: &Env) -> Result<(), ConfigError> {
        Self::from_env(env, IssuerPolicy::Fixed(String::new())).map(drop)
    }

    /// Everything but the issuer, which the caller resolves ([`crate::issuer_config::resolve`]).
    pub fn from_env(env: &Env, issuer: IssuerPolicy) -> Result<Self, ConfigError> {
        let token_ttl_seconds = env.parsed_or("ACCESS_TOKEN_TTL_SECONDS", DEFAULT_TTL_SECONDS)?;
        if !(MIN_TTL_SECONDS..=MAX_TTL_SECONDS).contains(&token_ttl_seconds) {
            return Err(ConfigError::Invalid {
                name: "ACCESS_TOKEN_TTL_SECONDS".into(),
                reason: format!("must be between {MIN_TTL_SECONDS} and {MAX_TTL_SECONDS}"),
            });
        }
        let hasher = PasswordHasher::new(
            env.parsed_or("ARGON2_MEMORY_KIB", 19_456_u32)?,
            env.parsed_or("ARGON2_ITERATIONS", 2_u32)?,
            env.parsed_or("ARGON2_PARALLELISM", 1_u32)?,
        )
        .map_err(|e| ConfigError::Invalid {
            name: "ARGON2_*".into(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            issuer,
            audience: env.required("JWT_AUDIENCE")?,
            token_ttl_seconds,
            hasher,
        })
    }
}

/// Why the function could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Keys(#[from] SigningKeysError),
    #[error("no issuer: {0}")]
    Issuer(String),
    #[error("signing keys unusable for verification: {0}")]
    Verifier(String),
}

/// A configuration checked by [`AppState::prepare`], its secrets not read yet.
#[derive(Clone)]
pub struct PendingState {
    env: Env,
    sdk: aws_config::SdkConfig,
    users_table: String,
    revoked_table: String,
    attempts_table: String,
    limits: LimitSettings,
    key_secret: String,
    refresh: KeyRefresh,
    issuer: IssuerSource,
}

impl PendingState {
    /// Reads the signing keys (and the issuer, when it is a secret) and builds the state.
    pub async fn load(&self) -> Result<AppState, StartupError> {
        let secrets = aws_sdk_secretsmanager::Client::new(&self.sdk);
        let source = Arc::new(SecretKeySource {
            client: secrets.clone(),
            secret_id: self.key_secret.clone(),
        });
        let (keys, issuer) = tokio::join!(
            KeyRing::load(source, self.refresh.clone()),
            self.issuer.resolve(&secrets)
        );
        let config = AuthConfig::from_env(&self.env, issuer?)?;
        let dynamodb = platform::aws::dynamodb(&self.sdk);
        let limits = LoginLimits::new(
            Arc::new(DynamoAttemptStore::new(
                dynamodb.clone(),
                self.attempts_table.clone(),
            )),
            self.limits,
            crate::login_limits::system_clock(),
        );
        Ok(AppState::with_key_ring(
            Arc::new(DynamoUserStore::new(
                dynamodb.clone(),
                self.users_table.clone(),
            )),
            Arc::new(DynamoRevocationStore::new(
                dynamodb,
                self.revoked_table.clone(),
            )),
            Arc::new(keys?),
            self.refresh.clone(),
            config,
        )?
        .with_throttle(Arc::new(limits)))
    }
}

struct Inner {
    store: Arc<dyn UserStore>,
    keys: Arc<KeyRing>,
    verifier: Verifier,
    config: AuthConfig,
    throttle: Arc<dyn LoginThrottle>,
}

/// Shared, cheaply cloneable state for every handler.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

impl FromRef<AppState> for Verifier {
    fn from_ref(state: &AppState) -> Verifier {
        state.inner.verifier.clone()
    }
}

impl AppState {
    /// Wires a state from its parts, with keys that never change (see [`Self::with_key_ring`]).
    pub fn new(
        store: Arc<dyn UserStore>,
        revocations: Arc<dyn RevocationStore>,
        keys: SigningKeys,
        config: AuthConfig,
    ) -> Result<Self, StartupError> {
        let refresh = KeyRefresh::default();
        let ring = KeyRing::with_keys(Arc::new(FixedKeys(keys.clone())), keys, refresh.clone());
        Self::with_key_ring(store, revocations, Arc::new(ring), refresh, config)
    }

    /// Wires a state whose keys follow `ring`. The service verifies its own tokens with the ring's
    /// public keys (no HTTP), trusting them no longer than `refresh` allows, and the revocation store.
    pub fn with_key_ring(
        store: Arc<dyn UserStore>,
        revocations: Arc<dyn RevocationStore>,
        keys: Arc<KeyRing>,
        refresh: KeyRefresh,
        config: AuthConfig,
    ) -> Result<Self, StartupError> {
        let jwks_url = format!("{}{JWKS_PATH}", config.issuer.as_str());
        let verifier = Verifier::with_fetcher(
            config.issuer.clone(),
            config.audience.clone(),
            Some(jwks_url),
            Arc::new(RingJwks(keys.clone())),
            refresh,
            revocations,
        );
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                keys,
                verifier,
                config,
                throttle: Arc::new(NoThrottle),
            }),
        })
    }

    /// Replaces the login rate-limit hook (see [`crate::throttle`]).
    pub fn with_throttle(self, throttle: Arc<dyn LoginThrottle>) -> Self {
        let inner = Inner {
            store: self.inner.store.clone(),
            keys: self.inner.keys.clone(),
            verifier: self.inner.verifier.clone(),
            config: self.inner.config.clone(),
            throttle,
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// From the environment (`USERS_TABLE`, `REVOKED_TOKENS_TABLE`, `LOGIN_ATTEMPTS_TABLE`,
    /// `SIGNING_KEY_SECRET_ARN`, `JWT_*`, `LOGIN_*`, …), loading the signing keys (and, when configured
    /// so, the issuer) from Secrets Manager. Refuses to start without an issuer.
    pub async fn from_env(env: &Env, sdk: &aws_config::SdkConfig) -> Result<Self, StartupError> {
        Self::prepare(env, sdk)?.load().await
    }

    /// Every check of [`Self::from_env`] that needs no network call; [`PendingState::load`] does the rest. The
    /// Lambda binary checks at init and loads in the background (`platform::startup::deferred_router`), so
    /// a misconfigured function still fails its init while the secrets' reads overlap the first poll.
    pub fn prepare(env: &Env, sdk: &aws_config::SdkConfig) -> Result<PendingState, StartupError> {
        let pending = PendingState {
            users_table: env.required("USERS_TABLE")?,
            revoked_table: env.required("REVOKED_TOKENS_TABLE")?,
            attempts_table: env.required("LOGIN_ATTEMPTS_TABLE")?,
            limits: LimitSettings::from_env(env)?,
            key_secret: env.required("SIGNING_KEY_SECRET_ARN")?,
            refresh: KeyRefresh::from_env(env)?,
            issuer: IssuerSource::from_env(env)?,
            env: env.clone(),
            sdk: sdk.clone(),
        };
        AuthConfig::check(env)?;
        Ok(pending)
    }

    /// In-memory stores, a fresh random key, cheap hashing and no login limits: for router tests (here and
    /// in the fat Lambda). The issuer is `issuer`, or [`TEST_ISSUER`].
    #[cfg(any(test, feature = "test-util"))]
    #[allow(clippy::expect_used)]
    pub fn for_tests(issuer: Option<&str>) -> (Self, TestHandles) {
        use platform::auth::{InMemoryRevocationStore, SigningKey};
        let store = Arc::new(crate::store::InMemoryUserStore::new());
        let revocations = Arc::new(InMemoryRevocationStore::new());
        let key = SigningKey::generate(None).expect("generate a test key");
        let config = AuthConfig {
            issuer: IssuerPolicy::Fixed(issuer.unwrap_or(TEST_ISSUER).to_owned()),
            audience: "api".into(),
            token_ttl_seconds: DEFAULT_TTL_SECONDS,
            hasher: PasswordHasher::fast_for_tests(),
        };
        let state = Self::new(
            store.clone(),
            revocations.clone(),
            SigningKeys::new(key, None),
            config,
        )
        .expect("state over a fresh key");
        (state, TestHandles { store, revocations })
    }

    pub(crate) fn store(&self) -> &dyn UserStore {
        self.inner.store.as_ref()
    }

    /// The signing keys in hand (re-read from the secret when due).
    pub(crate) async fn keys(&self) -> SigningKeys {
        self.inner.keys.current().await
    }

    pub fn verifier(&self) -> &Verifier {
        &self.inner.verifier
    }

    pub(crate) fn config(&self) -> &AuthConfig {
        &self.inner.config
    }

    pub(crate) fn throttle(&self) -> &dyn LoginThrottle {
        self.inner.throttle.as_ref()
    }

    /// The configured issuer (the same whatever the request's `Host` says).
    pub(crate) fn issuer(&self) -> &str {
        self.inner.verifier.issuer()
    }
}

/// The issuer of [`AppState::for_tests`] without one.
#[cfg(any(test, feature = "test-util"))]
pub const TEST_ISSUER: &str = "https://api.test.invalid";

/// The in-memory stores behind [`AppState::for_tests`].
#[cfg(any(test, feature = "test-util"))]
pub struct TestHandles {
    pub store: Arc<crate::store::InMemoryUserStore>,
    pub revocations: Arc<platform::auth::InMemoryRevocationStore>,
}
