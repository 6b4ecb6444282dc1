//! Convert service: `GET /convert?from=&to=&amount=` in integer minor units over the currency read model.
//!
//! - Rates come from the read model (`CURRENCIES_TABLE`, key `code`) through [`rates::RateCache`]: a
//!   per-currency TTL cache with single-flight refresh, so N concurrent misses cost one DynamoDB read. That
//!   matters most under Lambda Managed Instances, where one environment serves many requests at once.
//! - Conversion and rounding are [`money::Exchange::convert`]: exact, through the base currency, rounded once half to
//!   even ([`routes::ROUNDING`]).
//! - One [`AppState`] per environment, shared as `Arc<AppState>` by every concurrent request; SDK clients are
//!   built once in `main`.
//! - The same [`app`] runs under `lambda_http::run` (standard Lambda, `convert-lambda`) and `run_concurrent`
//!   (LMI, `convert-lmi-lambda`); both drain in-flight invocations on SIGTERM ([`drain`]).

pub mod buffered;
pub mod drain;
pub mod error;
pub mod openapi;
pub mod rates;
pub mod routes;
pub mod runtime_watch;
pub mod serve;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use platform::aws::SdkConfig;
use platform::config::{ConfigError, Env};

pub use openapi::openapi;
use rates::RateCache;
use store::{DynamoRateStore, RateStore};

/// Shared by every request of the environment.
#[derive(Debug)]
pub struct AppState {
    pub rates: RateCache,
}

impl AppState {
    pub fn new(store: Arc<dyn RateStore>, ttl: Duration) -> Self {
        Self {
            rates: RateCache::new(store, ttl),
        }
    }

    /// Production state: `CURRENCIES_TABLE` (required) and `RATE_CACHE_TTL_MS` (default 30 000; 0 keeps no
    /// result, but concurrent lookups of one currency still share one read).
    pub fn from_env(env: &Env, sdk: &SdkConfig) -> Result<Self, ConfigError> {
        let table = env.required("CURRENCIES_TABLE")?;
        let ttl_ms = env.parsed_or("RATE_CACHE_TTL_MS", rates::DEFAULT_TTL.as_millis() as u64)?;
        let store = DynamoRateStore::new(platform::aws::dynamodb(sdk), table);
        Ok(Self::new(Arc::new(store), Duration::from_millis(ttl_ms)))
    }
}

/// `GET /convert` plus `GET /health/convert`.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/convert", get(routes::convert))
        .merge(platform::health::router(
            "convert",
            env!("CARGO_PKG_VERSION"),
        ))
        .with_state(state)
}

/// The drain deadline after SIGTERM: `SHUTDOWN_DRAIN_MS` (default [`drain::DEFAULT_DEADLINE`]).
pub fn drain_deadline(env: &Env) -> Result<Duration, ConfigError> {
    let ms = env.parsed_or(
        "SHUTDOWN_DRAIN_MS",
        drain::DEFAULT_DEADLINE.as_millis() as u64,
    )?;
    Ok(Duration::from_millis(ms))
}
