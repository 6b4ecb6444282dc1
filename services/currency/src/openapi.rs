//! The currency service's OpenAPI fragment (read and write routes; the projector has no HTTP surface).

use platform::openapi::{BearerAuth, EdgeResponses};
use utoipa::OpenApi;

platform::problem_doc! {
    #[schema(example = json!({
        "type": "about:blank", "title": "Unprocessable Entity", "status": 422,
        "detail": "The command is invalid.",
        "errors": [{"field": "rate_to_base", "message": "invalid rate: must be greater than zero"}]
    }))]
    /// On 422 (invalid command): the invalid fields.
    errors: Option<Vec<crate::error::FieldError>>,
    /// On 409 (reused id) and 503 (not queued): the command id to retry with.
    command_id: Option<String>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Currency",
        description = "Currencies with a read/write split. Reads are public and cached (ETag, Cache-Control). \
            Writes need the `admin` role; they are queued commands answered with 202 and a `Location` to poll."
    ),
    paths(
        crate::routes::read::list_currencies,
        crate::routes::read::get_currency,
        crate::routes::write::create_currency,
        crate::routes::write::replace_currency,
        crate::routes::write::delete_currency,
        crate::routes::write::get_command,
    ),
    components(schemas(
        crate::domain::CurrencyView,
        crate::routes::read::CurrencyList,
        crate::domain::NewCurrency,
        crate::domain::CurrencyBody,
        crate::domain::DeleteBody,
        crate::domain::CommandView,
        crate::domain::Status,
        crate::domain::Operation,
        crate::domain::Outcome,
        crate::error::FieldError,
        ProblemDoc,
    )),
    modifiers(&BearerAuth, &EdgeResponses),
    tags((name = "currency", description = "Currencies (read model) and currency commands"))
)]
struct CurrencyApi;

/// Every currency route, schema and error response.
pub fn openapi() -> utoipa::openapi::OpenApi {
    CurrencyApi::openapi()
}
