//! The currency service's one error type and its single mapping to problem+json.

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use platform::Problem;

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
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<CurrencyError> for Problem {
    fn from(err: CurrencyError) -> Self {
        let detail = err.to_string();
        match err {
            CurrencyError::CurrencyNotFound(_) | CurrencyError::CommandNotFound => {
                Problem::client(StatusCode::NOT_FOUND, detail)
            }
            CurrencyError::Validation(errors) => {
                Problem::client(StatusCode::UNPROCESSABLE_ENTITY, detail)
                    .with_extension("errors", serde_json::to_value(errors).unwrap_or_default())
            }
            CurrencyError::IdempotencyConflict { command_id } => {
                Problem::client(StatusCode::UNPROCESSABLE_ENTITY, detail)
                    .with_extension("command_id", command_id.into())
            }
            CurrencyError::BadRequest(_) => Problem::client(StatusCode::BAD_REQUEST, detail),
            CurrencyError::QueueUnavailable { command_id } => {
                tracing::warn!(%command_id, "command stored but not queued");
                Problem::new(StatusCode::SERVICE_UNAVAILABLE)
                    .with_detail(detail)
                    .with_extension("command_id", command_id.into())
            }
            CurrencyError::Store(StoreError::Unavailable(cause)) => {
                tracing::warn!(%cause, "currency store unavailable");
                Problem::unavailable()
            }
            CurrencyError::Store(other) => {
                tracing::error!(error = %other, "currency store failure");
                Problem::internal()
            }
        }
    }
}

impl IntoResponse for CurrencyError {
    fn into_response(self) -> Response {
        Problem::from(self).into_response()
    }
}
