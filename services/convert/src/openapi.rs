//! The convert service's OpenAPI fragment (merged by the fat Lambda's document).

use utoipa::OpenApi;

platform::problem_doc! {
    #[schema(example = json!({"type": "about:blank", "title": "Bad Request", "status": 400, "detail": "`amount` must be a non-negative integer number of minor units (e.g. 1050 for 10.50 USD).", "parameter": "amount"}))]
    /// On 400: the offending query parameter (`from`, `to`, `amount` or `query`).
    parameter: Option<String>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Convert",
        description = "Currency conversion in integer minor units over the currency read model. The exact \
                       result is rounded once to the target's minor unit with banker's rounding (half to even)."
    ),
    paths(crate::routes::convert),
    components(schemas(
        crate::routes::Conversion,
        crate::routes::Rates,
        crate::routes::RateUsed,
        ProblemDoc,
    )),
    tags((name = "convert", description = "Currency conversion"))
)]
struct ConvertApi;

/// Every convert route, schema and error response.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ConvertApi::openapi()
}
