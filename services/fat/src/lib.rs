//! The fat Lambda: every HTTP route of every service in one function.
//!
//! [`app`] merges the services' own routers — `auth::app`, `blog::app`, `billing::app`, `currency::app` (read
//! and write; the projector has no HTTP surface) and `convert::app` — with [`docs::router`] (`/openapi.json`,
//! `/docs`). No handler is copied: each router keeps its layers (body limits, auth's 405 fallback) and its own
//! state. Paths never collide: each module owns its resources, `GET /health/{service}` differs per service,
//! and `/currencies` and `/currencies/{code}` combine the read side's GET with the write side's POST/PUT/DELETE
//! (axum merges method routers of one path and panics on an overlapping method, which the tests would show).
//!
//! [`openapi::document`] is the one OpenAPI 3.1 document of the whole API, merged from the services'
//! fragments; it is served at `/openapi.json` and committed as `openapi.json` at the repository root.

pub mod docs;
pub mod openapi;
pub mod state;

use axum::Router;

pub use state::{FatState, StartupError};

/// Every route of every service, plus `/openapi.json`, `/docs` and `/docs/{asset}`.
pub fn app(state: FatState) -> Router {
    let router = Router::new()
        .merge(auth::app(state.auth))
        .merge(blog::app(state.blog))
        .merge(billing::app(state.billing))
        .merge(currency::app(state.currency_read, state.currency_write))
        .merge(convert::app(state.convert))
        // (./inv new-service adds a service's router above this line.)
        .merge(docs::router());
    platform::problem::with_fallbacks(router)
}
