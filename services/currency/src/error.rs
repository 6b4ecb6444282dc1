//! The currency service's one error type and its single mapping to problem+json.

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use platform::Problem;
use platform::error::ServiceError;

use crate::store::StoreError;

pub use platform::openapi::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum CurrencyError {
    #[error("No currency {0} in the read model.")]
    CurrencyNotFound(String),
    #[error("No command with this id.")]
    CommandNotFound,
    #[error("The command is invalid.")]
    Validation(Vec<FieldError>),
    /// The command id was used before with a different request.
    #[error(
        "This command id was already used for a different request; use a new id for a new command."
    )]
    IdempotencyConflict { command_id: String },
    #[error("{0}")]
    BadRequest(String),
    /// Accepted and stored, but the queue refused it: retry with the same command id.
    #[error("The command was stored but could not be queued; retry with the same command id.")]
    QueueUnavailable { command_id: String },
    /// The write function's clock cannot stamp an order key (a host misconfiguration).
    #[error(transparent)]
    OrderKey(#[from] crate::domain::OrderKeyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ServiceError for CurrencyError {
    fn problem(&self) -> Problem {
        let detail = self.to_string();
        match self {
            CurrencyError::CurrencyNotFound(_) | CurrencyError::CommandNotFound => {
                Problem::client(StatusCode::NOT_FOUND, detail)
            }
            CurrencyError::Validation(errors) => {
                Problem::client(StatusCode::UNPROCESSABLE_ENTITY, detail)
                    .with_extension("errors", serde_json::to_value(errors).unwrap_or_default())
            }
            CurrencyError::IdempotencyConflict { command_id } => {
                Problem::client(StatusCode::CONFLICT, detail)
                    .with_extension("command_id", command_id.as_str().into())
            }
            CurrencyError::BadRequest(_) => Problem::client(StatusCode::BAD_REQUEST, detail),
            CurrencyError::QueueUnavailable { command_id } => {
                Problem::new(StatusCode::SERVICE_UNAVAILABLE)
                    .with_detail(detail)
                    .with_extension("command_id", command_id.as_str().into())
            }
            CurrencyError::OrderKey(_) => Problem::internal(),
            CurrencyError::Store(failure) => failure.problem(),
        }
    }
}

impl IntoResponse for CurrencyError {
    fn into_response(self) -> Response {
        platform::error::respond(self)
    }
}
