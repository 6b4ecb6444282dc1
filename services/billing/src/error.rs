//! The billing service's one error type and its single mapping to problem+json.
//!
//! 422 problems carry a machine-readable `code` member (`validation`, `overflow`, `overpayment`,
//! `currency_not_supported`, `amount_too_small`) so clients can tell them apart; paying an invoice that is
//! already paid is a 409 with `code` = `invoice_paid` (the same payment was valid before).

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use platform::Problem;
use platform::error::ServiceError;
use platform::idempotency::IdempotencyError;
use platform::pagination::PaginationError;

use crate::store::StoreError;

pub use platform::openapi::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    /// Also for other users' invoices: existence is not revealed.
    #[error("No invoice with this id.")]
    InvoiceNotFound,
    #[error("No payment with this id.")]
    PaymentNotFound,
    #[error("The request has invalid fields.")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    Overflow(String),
    #[error("The payment exceeds the amount due ({amount_due} minor units of {currency}).")]
    Overpayment { amount_due: i64, currency: String },
    #[error("The invoice is already paid.")]
    InvoicePaid,
    #[error("Currency {0} is not supported for conversion.")]
    CurrencyNotSupported(String),
    #[error("The payment converts to less than one minor unit of the invoice's currency.")]
    AmountTooSmall,
    #[error("The invoice is being updated by another payment; retry.")]
    Contention,
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Idempotency(#[from] IdempotencyError),
    #[error(transparent)]
    Pagination(#[from] PaginationError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn unprocessable(detail: String, code: &str) -> Problem {
    Problem::client(StatusCode::UNPROCESSABLE_ENTITY, detail).with_extension("code", code.into())
}

impl ServiceError for BillingError {
    fn problem(&self) -> Problem {
        let detail = self.to_string();
        match self {
            BillingError::InvoiceNotFound | BillingError::PaymentNotFound => {
                Problem::client(StatusCode::NOT_FOUND, detail)
            }
            BillingError::Validation(errors) => unprocessable(detail, "validation")
                .with_extension("errors", serde_json::to_value(errors).unwrap_or_default()),
            BillingError::Overflow(_) => unprocessable(detail, "overflow"),
            BillingError::Overpayment { amount_due, .. } => unprocessable(detail, "overpayment")
                .with_extension("amount_due", (*amount_due).into()),
            // The same payment was valid before the invoice was paid: a conflict with its state, not bad input.
            BillingError::InvoicePaid => Problem::client(StatusCode::CONFLICT, detail)
                .with_extension("code", "invoice_paid".into()),
            BillingError::CurrencyNotSupported(_) => {
                unprocessable(detail, "currency_not_supported")
            }
            BillingError::AmountTooSmall => unprocessable(detail, "amount_too_small"),
            BillingError::Contention => Problem::client(StatusCode::CONFLICT, detail),
            BillingError::BadRequest(_) => Problem::client(StatusCode::BAD_REQUEST, detail),
            BillingError::Idempotency(e) => e.clone().into(),
            BillingError::Pagination(e) => e.clone().into(),
            BillingError::Store(StoreError::Failure(failure)) => failure.problem(),
            BillingError::Store(StoreError::Conflict) => Problem::internal(),
        }
    }
}

impl IntoResponse for BillingError {
    fn into_response(self) -> Response {
        platform::error::respond(self)
    }
}
