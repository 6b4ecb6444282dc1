//! The access token's claim set.

use serde::{Deserialize, Serialize};

use super::Principal;

/// Claims of an access token minted by the auth service (RFC 7519 registered names plus `email`, `roles`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: String,
    pub email: String,
    #[serde(default)]
    pub roles: Vec<String>,
    /// Unique token id; logout revokes it.
    pub jti: String,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub exp: i64,
}

impl From<Claims> for Principal {
    fn from(claims: Claims) -> Self {
        Principal {
            user_id: claims.sub,
            email: claims.email,
            roles: claims.roles,
            token_id: claims.jti,
            expires_at: claims.exp,
        }
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
