//! The billing service's OpenAPI fragment.

use platform::openapi::{BearerAuth, EdgeResponses};
use utoipa::OpenApi;

platform::problem_doc! {
    #[schema(example = json!({"type": "about:blank", "title": "Unprocessable Entity", "status": 422,
        "detail": "The payment exceeds the amount due (500 minor units of EUR).", "code": "overpayment", "amount_due": 500}))]
    /// On 422: `validation`, `overflow`, `overpayment`, `currency_not_supported`, `amount_too_small`;
    /// on 409: `invoice_paid`.
    code: Option<String>,
    /// With `code` = `validation`: the invalid fields.
    errors: Option<Vec<crate::error::FieldError>>,
    /// With `code` = `overpayment`: what is still due, in the invoice's minor units.
    amount_due: Option<i64>,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Billing", description = "Invoices and idempotent payments. Money is integer minor units plus an ISO 4217 code; every route needs a bearer token and shows only the caller's data."),
    paths(
        crate::routes::invoices::create_invoice,
        crate::routes::invoices::list_invoices,
        crate::routes::invoices::get_invoice,
        crate::routes::payments::create_payment,
        crate::routes::payments::list_payments,
        crate::routes::payments::get_payment,
    ),
    components(schemas(
        crate::domain::NewInvoice,
        crate::domain::NewLine,
        crate::domain::Invoice,
        crate::domain::InvoiceLine,
        crate::domain::InvoiceStatus,
        crate::domain::NewPayment,
        crate::domain::Payment,
        crate::domain::Conversion,
        crate::routes::invoices::InvoicePage,
        crate::routes::payments::PaymentPage,
        crate::error::FieldError,
        ProblemDoc,
    )),
    modifiers(&BearerAuth, &EdgeResponses),
    tags((name = "billing", description = "Invoices and payments"))
)]
struct BillingApi;

/// Every billing route, schema and error response.
pub fn openapi() -> utoipa::openapi::OpenApi {
    BillingApi::openapi()
}
