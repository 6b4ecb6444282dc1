//! `GET /.well-known/jwks.json` and `GET /.well-known/openid-configuration`.
//!
//! API Gateway's HTTP API JWT authorizer reads `{issuer}/.well-known/openid-configuration`, then the
//! `jwks_uri` it names; every service's `Verifier` reads the JWKS too. Both are public and cacheable.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use platform::Json;
use platform::auth::verifier::JWKS_PATH;

use crate::error::Error;
use crate::models::{JwksDocument, OpenIdConfiguration};
use crate::state::AppState;

/// Public keys change only on rotation, and the previous key stays published for a token lifetime.
const CACHE_CONTROL: &str = "public, max-age=300";

/// The public keys tokens are signed with (current and, during a rotation, previous).
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "auth",
    responses(
        (status = 200, description = "JSON Web Key Set (RFC 7517).", body = JwksDocument,
            headers(("Cache-Control" = String, description = "`public, max-age=300`"))),
    )
)]
pub async fn jwks(State(state): State<AppState>) -> Response {
    let mut response = Json(state.keys().await.jwks()).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    response
}

/// OpenID Provider discovery metadata (the subset JWT verifiers need).
#[utoipa::path(
    get,
    path = "/.well-known/openid-configuration",
    tag = "auth",
    responses(
        (status = 200, description = "Issuer and JWKS location.", body = OpenIdConfiguration,
            headers(("Cache-Control" = String, description = "`public, max-age=300`"))),
    )
)]
pub async fn openid_configuration(State(state): State<AppState>) -> Result<Response, Error> {
    let issuer = state.issuer().to_owned();
    let strings = |values: &[&str]| values.iter().map(|v| (*v).to_owned()).collect::<Vec<_>>();
    let document = OpenIdConfiguration {
        jwks_uri: format!("{issuer}{JWKS_PATH}"),
        issuer,
        id_token_signing_alg_values_supported: strings(&["ES256"]),
        response_types_supported: strings(&["token"]),
        subject_types_supported: strings(&["public"]),
        claims_supported: strings(&["iss", "aud", "sub", "email", "roles", "jti", "iat", "exp"]),
    };
    let mut response = Json(document).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    Ok(response)
}
