//! Access-token verification: ES256 signature by `kid`, `iss`, `aud`, `exp`/`nbf` (with leeway), then
//! revocation of the `jti`.

use std::sync::Arc;

use aws_config::SdkConfig;
use http::HeaderMap;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{DecodingKey, Validation};

use super::claims::{Claims, now};
use super::keys::{
    ALGORITHM, HttpJwksFetcher, JwkSet, JwksFetcher, KeyError, KeyRefresh, KeySet, RemoteJwks,
};
use super::revocation::{DynamoRevocationStore, RevocationError, RevocationStore, RevokedCache};
use super::{AuthError, Principal};
use crate::config::{ConfigError, Env};

/// Default clock-skew allowance for `exp`/`nbf`, seconds.
pub const DEFAULT_LEEWAY_SECONDS: u64 = 30;
/// Longest token accepted; the verifier refuses longer `Authorization` values before parsing.
const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Path of the JWKS under the issuer.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// Which issuer a token must carry: always configured, never derived from a request (a client chooses
/// its `Host` header; see `docs/security.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerPolicy {
    /// Exactly this issuer (`JWT_ISSUER`).
    Fixed(String),
}

impl IssuerPolicy {
    /// `JWT_ISSUER` (required, an `http(s)://` URL; a trailing `/` is dropped).
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Self::parse(&env.required("JWT_ISSUER")?)
    }

    /// A configured issuer: an absolute `http(s)://` URL.
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let issuer = raw.trim().trim_end_matches('/');
        let rest = issuer
            .strip_prefix("https://")
            .or_else(|| issuer.strip_prefix("http://"));
        match rest {
            Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => {
                Ok(Self::Fixed(issuer.to_owned()))
            }
            _ => Err(ConfigError::Invalid {
                name: "JWT_ISSUER".into(),
                reason: "must be an http(s):// URL".into(),
            }),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Fixed(issuer) => issuer,
        }
    }
}

enum Keys {
    Static(KeySet),
    /// Fetched from `url`, or from `{issuer}/.well-known/jwks.json` when `url` is `None`.
    Remote {
        url: Option<String>,
        jwks: RemoteJwks,
    },
}

struct Inner {
    issuer: IssuerPolicy,
    audience: String,
    leeway: u64,
    keys: Keys,
    revocations: Arc<dyn RevocationStore>,
    revoked: RevokedCache,
}

/// Verifies bearer tokens. Cheap to clone (one `Arc`); build once per execution environment.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.inner.issuer)
            .field("audience", &self.inner.audience)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// From the environment:
    ///
    /// | variable | meaning |
    /// |---|---|
    /// | `JWT_AUDIENCE` (required) | the `aud` every token must carry |
    /// | `REVOKED_TOKENS_TABLE` (required) | DynamoDB table of revoked `jti`s |
    /// | `JWT_ISSUER` (required) | the exact `iss`; the function refuses to start without it |
    /// | `JWKS_URL` | where to fetch keys; default `{issuer}/.well-known/jwks.json` |
    /// | `JWT_JWKS` | a JWKS JSON document of pinned keys (no fetching) |
    /// | `JWT_LEEWAY_SECONDS` | clock skew allowance for `exp`/`nbf`, default 30, at most 300 |
    /// | `KEY_REFRESH_SECONDS` | fetched keys are refreshed from half this age and never used beyond it (default 300) |
    pub fn from_env(env: &Env, sdk: &SdkConfig) -> Result<Self, ConfigError> {
        let audience = env.required("JWT_AUDIENCE")?;
        let table = env.required("REVOKED_TOKENS_TABLE")?;
        let issuer = IssuerPolicy::from_env(env)?;
        let leeway: u64 = env.parsed_or("JWT_LEEWAY_SECONDS", DEFAULT_LEEWAY_SECONDS)?;
        if leeway > 300 {
            return Err(ConfigError::Invalid {
                name: "JWT_LEEWAY_SECONDS".into(),
                reason: "at most 300".into(),
            });
        }
        let keys = match env.optional("JWT_JWKS") {
            Some(json) => {
                let jwks: JwkSet =
                    serde_json::from_str(&json).map_err(|e| ConfigError::Invalid {
                        name: "JWT_JWKS".into(),
                        reason: e.to_string(),
                    })?;
                Keys::Static(KeySet::from_jwks(&jwks).map_err(|e| ConfigError::Invalid {
                    name: "JWT_JWKS".into(),
                    reason: e.to_string(),
                })?)
            }
            None => Keys::Remote {
                url: env.optional("JWKS_URL"),
                jwks: RemoteJwks::with_refresh(
                    Arc::new(HttpJwksFetcher::new()),
                    KeyRefresh::from_env(env)?,
                ),
            },
        };
        let store = DynamoRevocationStore::new(crate::aws::dynamodb(sdk), table);
        Ok(Self::build(issuer, audience, leeway, keys, Arc::new(store)))
    }

    /// Verifies with the given public keys (no fetching) — what the auth service uses with its own keys.
    pub fn with_keys(
        issuer: IssuerPolicy,
        audience: impl Into<String>,
        jwks: &JwkSet,
        revocations: Arc<dyn RevocationStore>,
    ) -> Result<Self, KeyError> {
        Ok(Self::build(
            issuer,
            audience.into(),
            DEFAULT_LEEWAY_SECONDS,
            Keys::Static(KeySet::from_jwks(jwks)?),
            revocations,
        ))
    }

    /// Fetches keys with `fetcher` from `jwks_url` (or `{issuer}/.well-known/jwks.json`), refreshed within the
    /// key-set age bound `refresh` (`KeyRefresh::default()` unless configured).
    pub fn with_fetcher(
        issuer: IssuerPolicy,
        audience: impl Into<String>,
        jwks_url: Option<String>,
        fetcher: Arc<dyn JwksFetcher>,
        refresh: KeyRefresh,
        revocations: Arc<dyn RevocationStore>,
    ) -> Self {
        Self::build(
            issuer,
            audience.into(),
            DEFAULT_LEEWAY_SECONDS,
            Keys::Remote {
                url: jwks_url,
                jwks: RemoteJwks::with_refresh(fetcher, refresh),
            },
            revocations,
        )
    }

    /// A verifier for tests: fixed issuer, static keys. See also `testing::TestIssuer::verifier`.
    pub fn for_tests(
        issuer: &str,
        audience: &str,
        jwks: &JwkSet,
        revocations: Arc<dyn RevocationStore>,
    ) -> Result<Self, KeyError> {
        Self::with_keys(
            IssuerPolicy::Fixed(issuer.to_owned()),
            audience,
            jwks,
            revocations,
        )
    }

    fn build(
        issuer: IssuerPolicy,
        audience: String,
        leeway: u64,
        keys: Keys,
        revocations: Arc<dyn RevocationStore>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                issuer,
                audience,
                leeway,
                keys,
                revocations,
                revoked: RevokedCache::default(),
            }),
        }
    }

    pub fn audience(&self) -> &str {
        &self.inner.audience
    }

    pub fn issuer_policy(&self) -> &IssuerPolicy {
        &self.inner.issuer
    }

    /// The issuer tokens must carry (configured; the same whatever the request's headers say).
    pub fn issuer(&self) -> &str {
        self.inner.issuer.as_str()
    }

    /// Authenticates a request from its `Authorization: Bearer <token>` header.
    pub async fn verify_request(&self, headers: &HeaderMap) -> Result<Principal, AuthError> {
        let token = bearer_token(headers)?;
        self.verify(token, self.issuer()).await
    }

    /// Verifies `token` as issued by `issuer`, then checks it is not revoked.
    pub async fn verify(&self, token: &str, issuer: &str) -> Result<Principal, AuthError> {
        let claims = self.verify_signature_and_claims(token, issuer).await?;
        self.check_not_revoked(&claims.jti, claims.exp).await?;
        Ok(claims.into())
    }

    async fn verify_signature_and_claims(
        &self,
        token: &str,
        issuer: &str,
    ) -> Result<Claims, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::InvalidToken("token too long".into()));
        }
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| AuthError::InvalidToken(format!("malformed header: {e}")))?;
        if header.alg != ALGORITHM {
            return Err(AuthError::InvalidToken(format!(
                "algorithm {:?} not accepted",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| AuthError::InvalidToken("no kid".into()))?;
        let key = self.key(issuer, &kid).await?;

        let mut validation = Validation::new(ALGORITHM);
        validation.leeway = self.inner.leeway;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[&self.inner.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                other => AuthError::InvalidToken(format!("{other:?}")),
            })
    }

    async fn key(&self, issuer: &str, kid: &str) -> Result<DecodingKey, AuthError> {
        match &self.inner.keys {
            Keys::Static(keys) => keys
                .get(kid)
                .cloned()
                .ok_or_else(|| AuthError::InvalidToken(format!("unknown kid {kid:?}"))),
            Keys::Remote { url, jwks } => {
                let url = match url {
                    Some(url) => url.clone(),
                    None => format!("{}{JWKS_PATH}", issuer.trim_end_matches('/')),
                };
                jwks.key(&url, kid).await
            }
        }
    }

    async fn check_not_revoked(&self, jti: &str, expires_at: i64) -> Result<(), AuthError> {
        if self.inner.revoked.contains(jti) {
            return Err(AuthError::Revoked);
        }
        match self.inner.revocations.is_revoked(jti).await {
            Ok(false) => Ok(()),
            Ok(true) => {
                self.inner.revoked.insert(jti, expires_at, now());
                Err(AuthError::Revoked)
            }
            Err(err) => Err(AuthError::Unavailable(err.to_string())),
        }
    }

    /// Revokes the principal's token everywhere (store) and in this environment's cache.
    pub async fn revoke(&self, principal: &Principal) -> Result<(), RevocationError> {
        self.inner
            .revocations
            .revoke(&principal.token_id, principal.expires_at)
            .await?;
        self.inner
            .revoked
            .insert(&principal.token_id, principal.expires_at, now());
        Ok(())
    }
}

/// The token of a single `Authorization: Bearer <token>` header (scheme case-insensitive).
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
    let value = values.next().ok_or(AuthError::MissingToken)?;
    if values.next().is_some() {
        return Err(AuthError::MalformedHeader);
    }
    let value = value.to_str().map_err(|_| AuthError::MalformedHeader)?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or(AuthError::MalformedHeader)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::MalformedHeader);
    }
    let token = token.trim();
    // RFC 6750 b64token: URL-safe base64 characters plus `.` separators for a JWS.
    let well_formed = !token.is_empty()
        && token.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'+' | b'/' | b'=')
        });
    if !well_formed {
        return Err(AuthError::MalformedHeader);
    }
    Ok(token)
}
