//! The convert service's one error type and its single mapping to problem+json.

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use money::MoneyError;
use platform::Problem;
use platform::error::ServiceError;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// A missing or malformed query parameter (400), named in the problem's `parameter` member.
    #[error("{detail}")]
    BadParameter {
        parameter: &'static str,
        detail: String,
    },
    /// A well-formed code that is not an ISO 4217 currency, or not in the read model (404).
    #[error("Unknown currency `{0}`.")]
    UnknownCurrency(String),
    /// The result does not fit in 64-bit minor units (422).
    #[error("The converted amount does not fit in 64-bit minor units of the target currency.")]
    Overflow,
    /// A read-model record conversion cannot use (500: the projector's invariants were broken).
    #[error("unusable currency record: {0}")]
    BadRecord(MoneyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ConvertError {
    pub fn bad(parameter: &'static str, detail: impl Into<String>) -> Self {
        Self::BadParameter {
            parameter,
            detail: detail.into(),
        }
    }
}

impl ServiceError for ConvertError {
    fn problem(&self) -> Problem {
        let detail = self.to_string();
        match self {
            ConvertError::BadParameter { parameter, .. } => {
                Problem::client(StatusCode::BAD_REQUEST, detail)
                    .with_extension("parameter", (*parameter).into())
            }
            ConvertError::UnknownCurrency(_) => Problem::client(StatusCode::NOT_FOUND, detail),
            ConvertError::Overflow => Problem::client(StatusCode::UNPROCESSABLE_ENTITY, detail),
            ConvertError::BadRecord(_) => Problem::internal(),
            ConvertError::Store(failure) => failure.problem(),
        }
    }
}

impl IntoResponse for ConvertError {
    fn into_response(self) -> Response {
        platform::error::respond(self)
    }
}
