//! Auth service: accounts, tokens and the JWKS other services verify against.
//!
//! The crate is topology-agnostic: [`app`] returns an axum `Router` that the lith binary, the fat Lambda
//! and the tests all serve unchanged; [`openapi`] is the matching OpenAPI 3.1 fragment.
//!
//! - `domain`: email normalisation, password policy and argon2id hashing, the user record.
//! - `store`: [`store::UserStore`] with DynamoDB and in-memory implementations.
//! - `signing`: ES256 keys from Secrets Manager (current + previous), published as the JWKS.
//! - `routes`: handlers; `error`: the one error enum mapped to problem+json; `throttle`: login rate-limit
//!   hook; `login_limits`: the per-account and per-IP limiter behind it; `issuer_config`: where the
//!   issuer comes from (configuration only).

pub mod domain;
pub mod error;
pub mod issuer_config;
pub mod key_ring;
pub mod login_limits;
pub mod models;
pub mod routes;
pub mod signing;
pub mod state;
pub mod store;
pub mod throttle;
pub mod tokens;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use utoipa::Modify;

pub use error::Error;
pub use state::{AppState, AuthConfig, PendingState, StartupError};

/// Request bodies above this are refused with 413 (credentials are tiny).
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Every auth route (plus `GET /health/auth`).
pub fn app(state: AppState) -> Router {
    let (router, _) = routes::router().split_for_parts();
    let router = router
        .merge(platform::health::router("auth", env!("CARGO_PKG_VERSION")))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state);
    platform::problem::with_fallbacks(router)
}

/// The OpenAPI fragment for every auth route: schemas, examples, problem+json errors and the `bearer`
/// security scheme. The fat Lambda merges it with the other services' fragments.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut api) = routes::router().split_for_parts();
    api.info.title = "Auth".into();
    api.info.version = env!("CARGO_PKG_VERSION").into();
    api.info.description = Some(
        "Accounts, access tokens (ES256 JWT) and the JWKS every service verifies against.".into(),
    );
    platform::openapi::BearerAuth.modify(&mut api);
    platform::openapi::EdgeResponses.modify(&mut api);
    api
}
