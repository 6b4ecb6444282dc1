//! Configuration and the one shared state value.

use std::sync::Arc;

use axum::extract::FromRef;
use http::HeaderMap;
use platform::auth::revocation::RevocationStore;
use platform::auth::verifier::IssuerPolicy;
use platform::auth::{DynamoRevocationStore, Verifier};
use platform::config::{ConfigError, Env};

use crate::domain::PasswordHasher;
use crate::error::Error;
use crate::signing::{SigningKeys, SigningKeysError};
use crate::store::{DynamoUserStore, UserStore};
use crate::throttle::{LoginThrottle, NoThrottle};
use crate::tokens::{DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS, MIN_TTL_SECONDS};

/// Token and hashing settings.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `JWT_ISSUER`, or derived per request (see `platform::auth::issuer`).
    pub issuer: IssuerPolicy,
    /// `JWT_AUDIENCE`.
    pub audience: String,
    /// `ACCESS_TOKEN_TTL_SECONDS` (60–86400, default 900).
    pub token_ttl_seconds: i64,
    /// `ARGON2_MEMORY_KIB` / `ARGON2_ITERATIONS` / `ARGON2_PARALLELISM` (default 19456 / 2 / 1).
    pub hasher: PasswordHasher,
}

impl AuthConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let issuer = match env.optional("JWT_ISSUER") {
            Some(issuer) => IssuerPolicy::Fixed(issuer.trim_end_matches('/').to_owned()),
            None => IssuerPolicy::FromRequest,
        };
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
    #[error("signing keys unusable for verification: {0}")]
    Verifier(String),
}

struct Inner {
    store: Arc<dyn UserStore>,
    keys: SigningKeys,
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
    /// Wires a state from its parts. The service verifies its own tokens with its own public keys (no
    /// JWKS fetch) and the given revocation store.
    pub fn new(
        store: Arc<dyn UserStore>,
        revocations: Arc<dyn RevocationStore>,
        keys: SigningKeys,
        config: AuthConfig,
    ) -> Result<Self, StartupError> {
        let verifier = Verifier::with_keys(
            config.issuer.clone(),
            config.audience.clone(),
            &keys.jwks(),
            revocations,
        )
        .map_err(|e| StartupError::Verifier(e.to_string()))?;
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

    /// From the environment (`USERS_TABLE`, `REVOKED_TOKENS_TABLE`, `SIGNING_KEY_SECRET_ARN`, `JWT_*`, …),
    /// loading the signing keys from Secrets Manager once.
    pub async fn from_env(env: &Env, sdk: &aws_config::SdkConfig) -> Result<Self, StartupError> {
        let config = AuthConfig::from_env(env)?;
        let users_table = env.required("USERS_TABLE")?;
        let revoked_table = env.required("REVOKED_TOKENS_TABLE")?;
        let secret = env.required("SIGNING_KEY_SECRET_ARN")?;
        let secrets = aws_sdk_secretsmanager::Client::new(sdk);
        let keys = SigningKeys::load(&secrets, &secret).await?;
        let dynamodb = platform::aws::dynamodb(sdk);
        Self::new(
            Arc::new(DynamoUserStore::new(dynamodb.clone(), users_table)),
            Arc::new(DynamoRevocationStore::new(dynamodb, revoked_table)),
            keys,
            config,
        )
    }

    /// In-memory stores, a fresh random key and cheap hashing: for router tests (here and in the fat
    /// Lambda). Issuer is derived from the request unless `issuer` is given.
    #[cfg(any(test, feature = "test-util"))]
    #[allow(clippy::expect_used)]
    pub fn for_tests(issuer: Option<&str>) -> (Self, TestHandles) {
        use platform::auth::{InMemoryRevocationStore, SigningKey};
        let store = Arc::new(crate::store::InMemoryUserStore::new());
        let revocations = Arc::new(InMemoryRevocationStore::new());
        let key = SigningKey::generate(None).expect("generate a test key");
        let config = AuthConfig {
            issuer: issuer.map_or(IssuerPolicy::FromRequest, |i| {
                IssuerPolicy::Fixed(i.to_owned())
            }),
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

    pub(crate) fn keys(&self) -> &SigningKeys {
        &self.inner.keys
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

    /// The issuer for a request: `JWT_ISSUER`, or `{proto}://{host}`.
    pub(crate) fn issuer_for(&self, headers: &HeaderMap) -> Result<String, Error> {
        self.inner
            .verifier
            .expected_issuer(headers)
            .ok_or(Error::NoIssuer)
    }
}

/// The in-memory stores behind [`AppState::for_tests`].
#[cfg(any(test, feature = "test-util"))]
pub struct TestHandles {
    pub store: Arc<crate::store::InMemoryUserStore>,
    pub revocations: Arc<platform::auth::InMemoryRevocationStore>,
}
