//! Test support: mint tokens that a matching [`Verifier`] accepts, without the auth service.
//!
//! ```text
//! let issuer = TestIssuer::new();
//! let state = AppState { verifier: issuer.verifier(), .. };
//! let token = issuer.token("user-1", &["admin"]);
//! let request = Request::get("/posts").header("authorization", format!("Bearer {token}"));
//! ```
//! Enable with `platform = { workspace = true, features = ["test-util"] }` under `[dev-dependencies]`.

use std::sync::Arc;

use super::claims::{Claims, now};
use super::keys::{SigningKey, jwks_of};
use super::revocation::{InMemoryRevocationStore, RevocationStore};
use super::verifier::Verifier;

pub const TEST_ISSUER: &str = "https://auth.test.invalid";
pub const TEST_AUDIENCE: &str = "api";

/// Mints ES256 tokens with a random key; [`TestIssuer::verifier`] trusts exactly that key.
pub struct TestIssuer {
    key: SigningKey,
    issuer: String,
    audience: String,
    revocations: Arc<InMemoryRevocationStore>,
    verifier: Verifier,
}

impl Default for TestIssuer {
    fn default() -> Self {
        Self::new()
    }
}

impl TestIssuer {
    /// Issuer [`TEST_ISSUER`], audience [`TEST_AUDIENCE`].
    pub fn new() -> Self {
        Self::with(TEST_ISSUER, TEST_AUDIENCE)
    }

    /// Panics only if the platform's crypto cannot generate a P-256 key (a broken build, not input).
    #[allow(clippy::expect_used)]
    pub fn with(issuer: &str, audience: &str) -> Self {
        let key = SigningKey::generate(Some("test-key")).expect("generate a P-256 test key");
        let revocations = Arc::new(InMemoryRevocationStore::new());
        let store: Arc<dyn RevocationStore> = revocations.clone();
        let verifier = Verifier::for_tests(issuer, audience, &jwks_of([&key]), store)
            .expect("verifier over the test key");
        Self {
            key,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            revocations,
            verifier,
        }
    }

    /// A verifier (sharing this issuer's revocation store) that accepts this issuer's tokens.
    pub fn verifier(&self) -> Verifier {
        self.verifier.clone()
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    pub fn revocations(&self) -> Arc<InMemoryRevocationStore> {
        self.revocations.clone()
    }

    /// Claims valid for 15 minutes for `user_id` (email `{user_id}@example.test`) with `roles`.
    pub fn claims(&self, user_id: &str, roles: &[&str]) -> Claims {
        let iat = now();
        Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id.to_owned(),
            email: format!("{user_id}@example.test"),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            jti: format!("jti-{}-{}", user_id, unique()),
            iat,
            nbf: None,
            exp: iat + 900,
        }
    }

    /// A valid token for `user_id` with `roles`.
    pub fn token(&self, user_id: &str, roles: &[&str]) -> String {
        self.sign(&self.claims(user_id, roles))
    }

    /// A token over arbitrary claims (expired, wrong audience, …) signed with this issuer's key.
    #[allow(clippy::expect_used)]
    pub fn sign(&self, claims: &Claims) -> String {
        self.key.sign(claims).expect("sign test claims")
    }

    /// Revokes a token's `jti` in the shared store, as logout would.
    pub async fn revoke(&self, claims: &Claims) {
        let _ = self.revocations.revoke(&claims.jti, claims.exp).await;
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
