//! Currency service: a read/write split over a DynamoDB read model.
//!
//! - **Read** ([`read_app`], function CurrencyRead): `GET /currencies`, `GET /currencies/{code}` from
//!   the read model (`CURRENCIES_TABLE`) through a short in-environment cache, with strong `ETag`s,
//!   `Cache-Control` and 304s. Public.
//! - **Write** ([`write_app`], function CurrencyWrite): `POST /currencies`, `PUT|DELETE
//!   /currencies/{code}` need the `admin` role; they validate a command, store its status
//!   (`COMMANDS_TABLE`), send it to the commands queue (`COMMANDS_QUEUE_URL`) and answer 202 +
//!   `Location: /commands/{id}`; `GET /commands/{id}` shows `accepted → applied | rejected`.
//! - **Projector** ([`projector`], function CurrencyProjector): the SQS batch handler that applies
//!   commands with per-currency version checks and reports partial batch failures.
//!
//! Ordering and idempotency are explained in [`domain`]; the record layout in [`money::record`].
//! Nothing here knows a table or queue name: they come from [`platform::config::Env`].

pub mod domain;
pub mod error;
pub mod openapi;
pub mod projector;
pub mod routes;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use platform::auth::Verifier;
use platform::aws::SdkConfig;
use platform::config::{ConfigError, Env};

pub use openapi::openapi;
pub use projector::ProjectorState;
pub use routes::read::ReadState;
pub use routes::write::WriteState;

/// `CURRENCIES_TABLE` and `CURRENCY_CACHE_TTL_MS` (default 250, at most 300000; 0 disables the cache).
pub fn read_state_from_env(env: &Env, sdk: &SdkConfig) -> Result<ReadState, ConfigError> {
    let table = env.required("CURRENCIES_TABLE")?;
    let ttl = Duration::from_millis(env.parsed_or(
        "CURRENCY_CACHE_TTL_MS",
        u64::try_from(routes::read::DEFAULT_CACHE_TTL.as_millis()).unwrap_or(250),
    )?);
    if ttl > routes::read::MAX_CACHE_TTL {
        return Err(ConfigError::Invalid {
            name: "CURRENCY_CACHE_TTL_MS".into(),
            reason: "at most 300000 (5 minutes)".into(),
        });
    }
    let store = store::DynamoCurrencies::new(store::writes::client(sdk), table);
    Ok(ReadState::new(Arc::new(store), ttl))
}

/// `COMMANDS_TABLE`, `COMMANDS_QUEUE_URL`, `COMMAND_RETENTION_SECONDS` (default 7 days) and the
/// verifier's variables.
pub fn write_state_from_env(env: &Env, sdk: &SdkConfig) -> Result<WriteState, ConfigError> {
    let table = env.required("COMMANDS_TABLE")?;
    let queue_url = env.required("COMMANDS_QUEUE_URL")?;
    let retention_seconds = env.parsed_or(
        "COMMAND_RETENTION_SECONDS",
        routes::write::DEFAULT_RETENTION_SECONDS,
    )?;
    Ok(WriteState {
        commands: Arc::new(store::DynamoCommandStore::new(
            store::writes::client(sdk),
            table,
        )),
        queue: Arc::new(store::SqsCommandQueue::new(
            aws_sdk_sqs::Client::new(sdk),
            queue_url,
        )),
        verifier: Verifier::from_env(env, sdk)?,
        retention_seconds,
    })
}

/// `CURRENCIES_TABLE`, `COMMANDS_TABLE`, `COMMANDS_MAX_RECEIVE_COUNT` (default 5; set it to the
/// queue's maxReceiveCount).
pub fn projector_state_from_env(env: &Env, sdk: &SdkConfig) -> Result<ProjectorState, ConfigError> {
    let currencies = env.required("CURRENCIES_TABLE")?;
    let commands = env.required("COMMANDS_TABLE")?;
    let max_receive_count = env.parsed_or(
        "COMMANDS_MAX_RECEIVE_COUNT",
        projector::DEFAULT_MAX_RECEIVE_COUNT,
    )?;
    let client = store::writes::client(sdk);
    Ok(ProjectorState {
        currencies: Arc::new(
            store::DynamoCurrencies::new(client.clone(), currencies).with_commands_table(&commands),
        ),
        commands: Arc::new(store::DynamoCommandStore::new(client, commands)),
        max_receive_count: max_receive_count.max(1),
    })
}

/// The read routes plus `GET /health/currency-read`.
pub fn read_app(state: ReadState) -> Router {
    use routes::read;
    Router::new()
        .route("/currencies", get(read::list_currencies))
        .route("/currencies/{code}", get(read::get_currency))
        .merge(platform::health::router(
            "currency-read",
            env!("CARGO_PKG_VERSION"),
        ))
        .with_state(state)
}

/// The write routes plus `GET /health/currency-write`.
pub fn write_app(state: WriteState) -> Router {
    use routes::write;
    Router::new()
        .route("/currencies", axum::routing::post(write::create_currency))
        .route(
            "/currencies/{code}",
            axum::routing::put(write::replace_currency).delete(write::delete_currency),
        )
        .route("/commands/{id}", get(write::get_command))
        .layer(DefaultBodyLimit::max(domain::REQUEST_MAX_BYTES))
        .layer(axum::middleware::from_fn(store::writes::per_request))
        .merge(platform::health::router(
            "currency-write",
            env!("CARGO_PKG_VERSION"),
        ))
        .with_state(state)
}

/// Read and write routes in one router (the fat Lambda): `/currencies` answers GET from the read
/// side and POST from the write side.
pub fn app(read: ReadState, write: WriteState) -> Router {
    read_app(read).merge(write_app(write))
}
