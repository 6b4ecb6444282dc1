//! Cross-cutting concerns shared by every service crate.
//!
//! Nothing here knows about a particular service, table or route: services pass names in through
//! [`config::Env`], map their own error enums onto [`problem::Problem`], and mount [`health::router`].

pub mod auth;
pub mod aws;
pub mod config;
pub mod dynamo;
pub mod error;
pub mod health;
pub mod http_log;
pub mod idempotency;
pub mod ids;
pub mod json;
pub mod metrics;
pub mod openapi;
pub mod pagination;
pub mod problem;
pub mod redact;
pub mod schema;
pub mod startup;
pub mod store;
pub mod telemetry;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;
pub mod text;

pub use json::Json;
pub use problem::Problem;
