//! Blog service: posts and comments.
//!
//! - Ownership comes from the verified token ([`platform::auth::Principal`]): only a post's author
//!   edits or deletes it; a comment is deleted by its author or by the post's author. Reads are public.
//! - Updates name the version they replace (`If-Match` → 412, body `version` → 409) and are
//!   conditional writes, so there is never a lost update.
//! - Listings are cursor-paginated with HMAC-checked `next_token`s ([`platform::pagination`]).
//!
//! [`app`] is the whole service as an axum `Router`; the lith binary, a fat Lambda and the tests serve
//! it unchanged; [`operation_app`] is one route of it, for the micro-Lambda topology (one function per route). Storage is behind [`store::BlogStore`] (DynamoDB in Lambda, memory in tests).

pub mod domain;
pub mod error;
pub mod openapi;
pub mod routes;
pub mod store;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use platform::auth::Verifier;
use platform::aws::SdkConfig;
use platform::config::{ConfigError, Env};
use platform::pagination::Pages;

pub use openapi::openapi;
pub use routes::operation::{Operation, UnknownOperation};

/// Shared, cheaply cloneable state for every handler (each part extractable with `State<Part>`).
#[derive(Clone, FromRef)]
pub struct AppState {
    pub store: Arc<dyn store::BlogStore>,
    pub pages: Pages,
    pub verifier: Verifier,
}

impl AppState {
    /// Production state: `BLOG_TABLE`, `PAGINATION_KEY` (or `PAGINATION_KEY_SECRET_ARN`) and the verifier's variables.
    pub async fn from_env(env: &Env, sdk: &SdkConfig) -> Result<Self, ConfigError> {
        let table = env.required("BLOG_TABLE")?;
        Ok(Self {
            store: Arc::new(store::DynamoBlogStore::new(
                platform::aws::dynamodb(sdk),
                table,
            )),
            pages: Pages::load(env, sdk)?,
            verifier: Verifier::from_env(env, sdk)?,
        })
    }
}

/// Every blog route plus `GET /health/blog`.
pub fn app(state: AppState) -> Router {
    serve(Operation::ALL, state)
}

/// One operation plus `GET /health/blog` (micro-Lambda topology: a function per route; other paths are 404).
pub fn operation_app(operation: Operation, state: AppState) -> Router {
    serve([operation], state)
}

fn serve(operations: impl IntoIterator<Item = Operation>, state: AppState) -> Router {
    operations
        .into_iter()
        .fold(Router::new(), |router, op| {
            router.route(op.path(), op.handler())
        })
        .layer(DefaultBodyLimit::max(domain::REQUEST_MAX_BYTES))
        .merge(platform::health::router("blog", env!("CARGO_PKG_VERSION")))
        .with_state(state)
}
