//! Keys: the auth service's ES256 signing keys and every service's view of the public keys (JWKS).
//!
//! Public keys are either static (tests pin theirs) or fetched from the issuer's JWKS URL and cached per
//! URL ([`RemoteJwks`]) under a [`KeyRefresh`] bound `max_age` (`KEY_REFRESH_SECONDS`, default 300 s):
//! refetched once the set is `max_age / 2` old, refetched at most every [`MIN_REFETCH`] when a token names
//! an unknown `kid` (a new key), served stale when a refresh fails only while younger than `max_age`.
//! So a key retired from the JWKS stops verifying within `max_age`, whatever happens.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, KeyAlgorithm, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};

pub use jsonwebtoken::jwk::JwkSet;

use super::AuthError;
use super::claims::Claims;

/// The only algorithm minted and accepted (no `alg` confusion: HS*/none are refused before any key use).
pub const ALGORITHM: Algorithm = Algorithm::ES256;
/// The default bound on key-set age (`KEY_REFRESH_SECONDS`).
pub const DEFAULT_KEY_REFRESH_SECONDS: u64 = 300;
/// Unknown `kid`s trigger a refetch at most this often per JWKS URL (no amplification of garbage tokens).
pub const MIN_REFETCH: Duration = Duration::from_secs(30);
/// At most this many JWKS URLs are cached (issuers derived from `Host` are bounded by it).
const MAX_CACHED_URLS: usize = 8;
const MAX_JWKS_BYTES: usize = 64 * 1024;
const FETCH_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("not a PKCS#8 P-256 private key: {0}")]
    InvalidPrivateKey(String),
    #[error("signing failed: {0}")]
    Signing(String),
    #[error("invalid JWKS: {0}")]
    InvalidJwks(String),
}

/// An ES256 private key with its `kid` and public JWK. Debug never prints the key.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    public: Jwk,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// From a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). Without a `kid`, the RFC 7638 thumbprint is used.
    pub fn from_pkcs8_pem(pem: &str, kid: Option<&str>) -> Result<Self, KeyError> {
        let encoding = EncodingKey::from_ec_pem(pem.as_bytes())
            .map_err(|e| KeyError::InvalidPrivateKey(e.to_string()))?;
        Self::from_encoding_key(encoding, kid)
    }

    /// From PKCS#8 DER bytes.
    pub fn from_pkcs8_der(der: &[u8], kid: Option<&str>) -> Result<Self, KeyError> {
        Self::from_encoding_key(EncodingKey::from_ec_der(der), kid)
    }

    fn from_encoding_key(encoding: EncodingKey, kid: Option<&str>) -> Result<Self, KeyError> {
        // Parses the key (P-256 only for ES256) and extracts the public point.
        let mut public = Jwk::from_encoding_key(&encoding, ALGORITHM)
            .map_err(|e| KeyError::InvalidPrivateKey(e.to_string()))?;
        let kid = match kid.map(str::trim).filter(|k| !k.is_empty()) {
            Some(kid) => kid.to_owned(),
            None => public.thumbprint(ThumbprintHash::SHA256),
        };
        public.common.key_id = Some(kid.clone());
        public.common.public_key_use = Some(PublicKeyUse::Signature);
        public.common.key_algorithm = Some(KeyAlgorithm::ES256);
        Ok(Self {
            kid,
            encoding,
            public,
        })
    }

    /// A fresh random P-256 key (tests and local tooling; production keys come from Secrets Manager).
    #[cfg(any(test, feature = "test-util"))]
    pub fn generate(kid: Option<&str>) -> Result<Self, KeyError> {
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
        let der =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .map_err(|e| KeyError::InvalidPrivateKey(e.to_string()))?;
        Self::from_pkcs8_der(der.as_ref(), kid)
    }

    /// A fresh random P-256 private key as PKCS#8 PEM (tests of key loading; never commit one).
    #[cfg(any(test, feature = "test-util"))]
    pub fn generate_pkcs8_pem() -> Result<String, KeyError> {
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
        use base64::Engine as _;
        let der =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .map_err(|e| KeyError::InvalidPrivateKey(e.to_string()))?;
        let body = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .filter_map(|chunk| std::str::from_utf8(chunk).ok())
            .collect();
        Ok(format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        ))
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half as a JWK with `kid`, `alg` = ES256 and `use` = sig.
    pub fn public_jwk(&self) -> &Jwk {
        &self.public
    }

    /// A compact JWS over `claims` with header `{alg: ES256, typ: JWT, kid}`.
    pub fn sign(&self, claims: &Claims) -> Result<String, KeyError> {
        let mut header = Header::new(ALGORITHM);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|e| KeyError::Signing(e.to_string()))
    }
}

/// A JWKS document of the given keys' public halves.
pub fn jwks_of<'a>(keys: impl IntoIterator<Item = &'a SigningKey>) -> JwkSet {
    JwkSet {
        keys: keys.into_iter().map(|k| k.public.clone()).collect(),
    }
}

/// Verification keys by `kid` (ES256 keys only; others in a JWKS are ignored).
#[derive(Clone, Default)]
pub struct KeySet {
    keys: HashMap<String, DecodingKey>,
}

impl KeySet {
    pub fn from_jwks(jwks: &JwkSet) -> Result<Self, KeyError> {
        let mut keys = HashMap::new();
        for jwk in &jwks.keys {
            let Some(kid) = jwk.common.key_id.clone() else {
                continue;
            };
            let es256 = matches!(jwk.common.key_algorithm, None | Some(KeyAlgorithm::ES256));
            let signing = !matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption));
            let ec = matches!(
                jwk.algorithm,
                jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_)
            );
            if !(es256 && signing && ec) {
                continue;
            }
            let key =
                DecodingKey::from_jwk(jwk).map_err(|e| KeyError::InvalidJwks(e.to_string()))?;
            keys.insert(kid, key);
        }
        Ok(Self { keys })
    }

    pub fn get(&self, kid: &str) -> Option<&DecodingKey> {
        self.keys.get(kid)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Fetches a JWKS document (an HTTP GET in production; a fake in tests).
pub trait JwksFetcher: Send + Sync + 'static {
    fn fetch<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<JwkSet, String>>;
}

type JwksClient = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    http_body_util::Empty<axum::body::Bytes>,
>;

/// The fetcher's client, over the system's root certificates (or none: plain HTTP only).
fn jwks_client() -> JwksClient {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let connector = match hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider.clone())
    {
        Ok(builder) => builder.https_or_http().enable_http1().build(),
        Err(err) => {
            // No system CA bundle: only plain-HTTP issuers (the local cloud) can be fetched.
            tracing::warn!(error = %err, "no native root certificates; HTTPS JWKS fetches will fail");
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_protocol_versions(rustls::DEFAULT_VERSIONS)
                .map(|b| {
                    b.with_root_certificates(rustls::RootCertStore::empty())
                        .with_no_client_auth()
                });
            match config {
                Ok(config) => hyper_rustls::HttpsConnectorBuilder::new()
                    .with_tls_config(config)
                    .https_or_http()
                    .enable_http1()
                    .build(),
                Err(_) => hyper_rustls::HttpsConnectorBuilder::new()
                    .with_tls_config(
                        rustls::ClientConfig::builder()
                            .with_root_certificates(rustls::RootCertStore::empty())
                            .with_no_client_auth(),
                    )
                    .https_or_http()
                    .enable_http1()
                    .build(),
            }
        }
    };
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build(connector)
}

/// `GET {url}` over HTTPS (or HTTP, for the local cloud) with a timeout and a body size limit.
///
/// Its client reads the system's root certificates (a few milliseconds) when the first fetch needs it, not when
/// the verifier is built at init: a service that verifies with its own keys, or serves no token before it
/// refreshes, never pays for it.
pub struct HttpJwksFetcher {
    client: OnceLock<JwksClient>,
}

impl HttpJwksFetcher {
    pub fn new() -> Self {
        Self {
            client: OnceLock::new(),
        }
    }

    fn client(&self) -> &JwksClient {
        self.client.get_or_init(jwks_client)
    }

    async fn get(&self, url: &str) -> Result<JwkSet, String> {
        use http_body_util::BodyExt;
        let request = http::Request::get(url)
            .header(http::header::ACCEPT, "application/json")
            .body(http_body_util::Empty::new())
            .map_err(|e| format!("bad JWKS URL {url}: {e}"))?;
        let response = tokio::time::timeout(FETCH_TIMEOUT, self.client().request(request))
            .await
            .map_err(|_| format!("GET {url} timed out"))?
            .map_err(|e| format!("GET {url} failed: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("GET {url} answered {}", response.status()));
        }
        let body = http_body_util::Limited::new(response.into_body(), MAX_JWKS_BYTES);
        let bytes = tokio::time::timeout(FETCH_TIMEOUT, body.collect())
            .await
            .map_err(|_| format!("reading {url} timed out"))?
            .map_err(|e| format!("reading {url} failed: {e}"))?
            .to_bytes();
        serde_json::from_slice(&bytes).map_err(|e| format!("{url} is not a JWKS: {e}"))
    }
}

impl Default for HttpJwksFetcher {
    fn default() -> Self {
        Self::new()
    }
}

impl JwksFetcher for HttpJwksFetcher {
    fn fetch<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<JwkSet, String>> {
        Box::pin(self.get(url))
    }
}

/// A monotonic clock: time elapsed since some fixed start (injectable for tests).
pub type MonotonicClock = Arc<dyn Fn() -> Duration + Send + Sync>;

/// The process's monotonic clock.
pub fn monotonic_clock() -> MonotonicClock {
    let start = Instant::now();
    Arc::new(move || start.elapsed())
}

/// How long key sets live: the bound within which a new key is used and a retired one dropped.
#[derive(Clone)]
pub struct KeyRefresh {
    /// A key set older than this is never used (`KEY_REFRESH_SECONDS`); refreshed from half of it.
    pub max_age: Duration,
    pub clock: MonotonicClock,
}

impl KeyRefresh {
    pub fn new(max_age: Duration, clock: MonotonicClock) -> Self {
        Self { max_age, clock }
    }

    /// `KEY_REFRESH_SECONDS` (10–3600, default 300) over the process clock.
    pub fn from_env(env: &crate::config::Env) -> Result<Self, crate::config::ConfigError> {
        let seconds: u64 = env.parsed_or("KEY_REFRESH_SECONDS", DEFAULT_KEY_REFRESH_SECONDS)?;
        if !(10..=3600).contains(&seconds) {
            return Err(crate::config::ConfigError::Invalid {
                name: "KEY_REFRESH_SECONDS".into(),
                reason: "must be between 10 and 3600".into(),
            });
        }
        Ok(Self::new(Duration::from_secs(seconds), monotonic_clock()))
    }

    pub fn now(&self) -> Duration {
        (self.clock)()
    }

    /// Whether a set fetched at `fetched_at` should be refreshed (half its life is over).
    pub fn due(&self, fetched_at: Duration) -> bool {
        self.now().saturating_sub(fetched_at) >= self.max_age / 2
    }

    /// Whether a set fetched at `fetched_at` may still be used at all.
    pub fn usable(&self, fetched_at: Duration) -> bool {
        self.now().saturating_sub(fetched_at) < self.max_age
    }
}

impl Default for KeyRefresh {
    fn default() -> Self {
        Self::new(
            Duration::from_secs(DEFAULT_KEY_REFRESH_SECONDS),
            monotonic_clock(),
        )
    }
}

struct CachedJwks {
    keys: Arc<KeySet>,
    fetched_at: Duration,
}

/// JWKS documents fetched on demand and cached per URL (single flight: one fetch at a time).
pub struct RemoteJwks {
    fetcher: Arc<dyn JwksFetcher>,
    refresh: KeyRefresh,
    cache: tokio::sync::Mutex<HashMap<String, CachedJwks>>,
}

impl RemoteJwks {
    pub fn new(fetcher: Arc<dyn JwksFetcher>) -> Self {
        Self::with_refresh(fetcher, KeyRefresh::default())
    }

    pub fn with_refresh(fetcher: Arc<dyn JwksFetcher>, refresh: KeyRefresh) -> Self {
        Self {
            fetcher,
            refresh,
            cache: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The verification key `kid` published at `url`.
    pub async fn key(&self, url: &str, kid: &str) -> Result<DecodingKey, AuthError> {
        let mut cache = self.cache.lock().await;
        let now = self.refresh.now();
        let (stale_key, recently_fetched) = match cache.get(url) {
            Some(entry) => {
                let age = now.saturating_sub(entry.fetched_at);
                match entry.keys.get(kid) {
                    Some(key) if !self.refresh.due(entry.fetched_at) => return Ok(key.clone()),
                    // Past half its life: refresh, falling back to it only while it is usable.
                    Some(key) if self.refresh.usable(entry.fetched_at) => {
                        (Some(key.clone()), false)
                    }
                    Some(_) => (None, false),
                    // An unknown kid (a new key?) refetches at most every MIN_REFETCH, and always once the
                    // set is due anyway.
                    None => (
                        None,
                        age < MIN_REFETCH && !self.refresh.due(entry.fetched_at),
                    ),
                }
            }
            None => (None, false),
        };
        if recently_fetched {
            return Err(AuthError::InvalidToken(format!("unknown kid {kid:?}")));
        }
        match self
            .fetcher
            .fetch(url)
            .await
            .and_then(|jwks| KeySet::from_jwks(&jwks).map_err(|e| format!("{url}: {e}")))
        {
            Ok(keys) => {
                let found = keys.get(kid).cloned();
                if cache.len() >= MAX_CACHED_URLS && !cache.contains_key(url) {
                    let oldest = cache
                        .iter()
                        .min_by_key(|(_, entry)| entry.fetched_at)
                        .map(|(url, _)| url.clone());
                    if let Some(oldest) = oldest {
                        cache.remove(&oldest);
                    }
                }
                cache.insert(
                    url.to_owned(),
                    CachedJwks {
                        keys: Arc::new(keys),
                        fetched_at: self.refresh.now(),
                    },
                );
                found.ok_or_else(|| AuthError::InvalidToken(format!("unknown kid {kid:?}")))
            }
            Err(err) => match stale_key {
                Some(key) => {
                    tracing::warn!(error = %err, "JWKS refresh failed; using the cached keys");
                    Ok(key)
                }
                None => Err(AuthError::Unavailable(err)),
            },
        }
    }
}
