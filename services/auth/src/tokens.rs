//! Access-token minting.

use platform::auth::Claims;
use platform::auth::claims::now;

use crate::domain::User;
use crate::error::Error;
use crate::signing::SigningKeys;

/// Token lifetime bounds for `ACCESS_TOKEN_TTL_SECONDS`.
pub const MIN_TTL_SECONDS: i64 = 60;
pub const MAX_TTL_SECONDS: i64 = 24 * 3600;
/// Default lifetime: short, because there are no refresh tokens to extend a session and a stolen token
/// is only stopped by logout (revocation) or expiry.
pub const DEFAULT_TTL_SECONDS: i64 = 15 * 60;

/// Signs a fresh access token for `user`; returns the compact JWS and its claims.
pub fn mint(
    keys: &SigningKeys,
    issuer: &str,
    audience: &str,
    ttl_seconds: i64,
    user: &User,
) -> Result<(String, Claims), Error> {
    let iat = now();
    let claims = Claims {
        iss: issuer.to_owned(),
        aud: audience.to_owned(),
        sub: user.id.clone(),
        email: user.email.clone(),
        roles: user.roles.clone(),
        jti: uuid::Uuid::new_v4().to_string(),
        iat,
        nbf: None,
        exp: iat + ttl_seconds,
    };
    let token = keys
        .current()
        .sign(&claims)
        .map_err(|e| Error::Signing(e.to_string()))?;
    Ok((token, claims))
}
