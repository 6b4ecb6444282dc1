//! Billing service: invoices with server-computed totals and idempotent payments.
//!
//! - Money is integer minor units plus an ISO 4217 code checked against a compiled-in table
//!   ([`money`]); totals and tax are computed here with checked arithmetic ([`domain`]).
//! - `POST /payments` requires an `Idempotency-Key` ([`platform::idempotency`]); payments in another
//!   currency convert through the currency read model ([`store::CurrencyRates`]); overpayment is
//!   refused; concurrent payments cannot overpay (conditional transaction, see [`store`]).
//! - Users see only their own invoices and payments: others' are 404, like missing ones.
//!
//! [`app`] is the whole service as an axum `Router`; the lith binary, a fat Lambda and the tests serve
//! it unchanged.

pub mod domain;
pub mod error;
pub mod money;
pub mod openapi;
pub mod routes;
pub mod store;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::routing::get;
use platform::auth::Verifier;
use platform::aws::SdkConfig;
use platform::config::{ConfigError, Env};
use platform::idempotency::{DynamoIdempotencyStore, IdempotencyStore};
use platform::pagination::Pages;

pub use openapi::openapi;

/// Largest request body read (an invoice of 100 long lines fits comfortably).
pub const REQUEST_MAX_BYTES: usize = 256 * 1024;

/// Shared, cheaply cloneable state for every handler (each part extractable with `State<Part>`).
#[derive(Clone, FromRef)]
pub struct AppState {
    pub store: Arc<dyn store::BillingStore>,
    pub rates: Arc<dyn store::CurrencyRates>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub pages: Pages,
    pub verifier: Verifier,
}

impl AppState {
    /// Production state: `BILLING_TABLE`, `CURRENCIES_TABLE`, `PAGINATION_KEY` (or `PAGINATION_KEY_SECRET_ARN`) and the verifier's
    /// variables. Idempotency records live in the billing table.
    pub async fn from_env(env: &Env, sdk: &SdkConfig) -> Result<Self, ConfigError> {
        let table = env.required("BILLING_TABLE")?;
        let currencies = env.required("CURRENCIES_TABLE")?;
        let client = platform::aws::dynamodb(sdk);
        Ok(Self {
            store: Arc::new(store::DynamoBillingStore::new(
                client.clone(),
                table.clone(),
            )),
            rates: Arc::new(store::DynamoCurrencyRates::new(client.clone(), currencies)),
            idempotency: Arc::new(DynamoIdempotencyStore::new(client, table)),
            pages: Pages::load(env, sdk)?,
            verifier: Verifier::from_env(env, sdk)?,
        })
    }
}

/// Every billing route plus `GET /health/billing`.
pub fn app(state: AppState) -> Router {
    use routes::{invoices, payments};
    Router::new()
        .route(
            "/invoices",
            get(invoices::list_invoices).post(invoices::create_invoice),
        )
        .route("/invoices/{id}", get(invoices::get_invoice))
        .route(
            "/payments",
            get(payments::list_payments).post(payments::create_payment),
        )
        .route("/payments/{id}", get(payments::get_payment))
        .layer(DefaultBodyLimit::max(REQUEST_MAX_BYTES))
        .merge(platform::health::router(
            "billing",
            env!("CARGO_PKG_VERSION"),
        ))
        .with_state(state)
}
