//! Bearer-token authentication shared by every service.
//!
//! The auth service mints ES256 JWTs; every service re-verifies them (defence in depth behind the
//! API Gateway JWT authorizer) with a [`Verifier`] and refuses revoked tokens.
//!
//! ```text
//! async fn handler(principal: Principal) -> Result<Json<Post>, Problem> {
//!     principal.require_role("admin")?;
//!     // …
//! }
//! ```
//! The [`Principal`] extractor finds the verifier through `FromRef`, so a service's state only needs
//! `impl FromRef<AppState> for Verifier` (or `#[derive(FromRef)]`-style manual impl).
//!
//! Modules:
//! - [`claims`]: the token's claim set (minted by auth, read here).
//! - [`keys`]: signing keys (auth only) and JWKS public keys, static or fetched from the issuer and cached.
//! - [`revocation`]: the revoked-token store (DynamoDB, item per `jti` with TTL) with a positive-only cache.
//! - [`verifier`]: signature, `iss`, `aud`, `exp`/`nbf`, then revocation.
//! - `testing` (feature `test-util`): [`testing::TestIssuer`] mints tokens for router tests.

pub mod claims;
mod error;
pub mod keys;
pub mod revocation;
pub mod verifier;

#[cfg(any(test, feature = "test-util"))]
pub mod testing;

use axum::extract::{FromRef, FromRequestParts};
use http::StatusCode;
use http::request::Parts;

pub use claims::Claims;
pub use error::AuthError;
pub use keys::{JwkSet, KeyError, SigningKey};
pub use revocation::{DynamoRevocationStore, InMemoryRevocationStore, RevocationStore};
pub use verifier::Verifier;

use crate::problem::Problem;

/// The authenticated caller of a request, taken from a verified, unrevoked access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's `sub`: the user's id.
    pub user_id: String,
    pub email: String,
    pub roles: Vec<String>,
    /// The token's `jti` (what logout revokes).
    pub token_id: String,
    /// The token's `exp`, seconds since the Unix epoch.
    pub expires_at: i64,
}

impl Principal {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// `Ok(())` when the principal holds `role`, else a 403 problem.
    // `Problem` is the crate's error currency; handlers `?` it straight into a response.
    #[allow(clippy::result_large_err)]
    pub fn require_role(&self, role: &str) -> Result<(), Problem> {
        if self.has_role(role) {
            Ok(())
        } else {
            Err(Problem::client(
                StatusCode::FORBIDDEN,
                format!("This action requires the `{role}` role."),
            ))
        }
    }
}

impl<S> FromRequestParts<S> for Principal
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let verifier = Verifier::from_ref(state);
        verifier.verify_request(&parts.headers).await
    }
}

#[cfg(test)]
mod key_rotation_tests;
#[cfg(test)]
mod tests;
