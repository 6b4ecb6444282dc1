//! `/invoices` and `/invoices/{id}`. Every route needs a token and sees only the caller's invoices.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use platform::Json;
use platform::auth::Principal;
use platform::pagination::parse_limit;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::domain::{self, Invoice, NewInvoice};
use crate::error::BillingError;

/// A page of invoices.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InvoicePage {
    pub items: Vec<Invoice>,
    /// Pass as `next_token` for the next page; `null` on the last page.
    pub next_token: Option<String>,
}

/// Page parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1–100 (default 20).
    #[param(value_type = Option<u16>, minimum = 1, maximum = 100, example = 20)]
    pub limit: Option<String>,
    /// The `next_token` of the previous page (opaque, signed: only a token this listing returned is valid).
    #[param(schema_with = platform::schema::next_token)]
    pub next_token: Option<String>,
}

pub(crate) fn query_rejection(rejection: QueryRejection) -> BillingError {
    BillingError::BadRequest(format!("Invalid query string: {}", rejection.body_text()))
}

/// Create an invoice; subtotal, tax and total are computed by the server.
#[utoipa::path(
    post, path = "/invoices", tag = "billing",
    request_body = NewInvoice,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `Location` set", body = Invoice, headers(("Location" = String))),
        platform::openapi::MalformedJson,
        platform::openapi::Unauthorized,
        platform::openapi::NotJson,
        (status = 422, description = "Invalid fields (`code` = `validation`, with `errors`) or an amount overflow (`code` = `overflow`)", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        platform::openapi::StorageUnavailable,
    )
)]
pub async fn create_invoice(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewInvoice>,
) -> Result<Response, BillingError> {
    let invoice = domain::build_invoice(
        input,
        &principal.user_id,
        platform::ids::new_id(),
        platform::ids::now_rfc3339(),
    )?;
    state.store.create_invoice(&invoice).await?;
    let location = HeaderValue::from_str(&format!("/invoices/{}", invoice.id))
        .unwrap_or(HeaderValue::from_static("/invoices"));
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(invoice),
    )
        .into_response())
}

/// The caller's invoices, newest first.
#[utoipa::path(
    get, path = "/invoices", tag = "billing",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of invoices (may be short or empty while `next_token` is set)", body = InvoicePage),
        platform::openapi::BadPage,
        platform::openapi::UnknownPage,
        platform::openapi::Unauthorized,
        platform::openapi::StorageUnavailable,
    )
)]
pub async fn list_invoices(
    State(state): State<AppState>,
    principal: Principal,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<InvoicePage>, BillingError> {
    let Query(query) = query.map_err(query_rejection)?;
    let limit = parse_limit(query.limit.as_deref())?;
    // Tokens are bound to the caller: another user's token is foreign.
    let scope = format!("invoices:{}", principal.user_id);
    let pages = state.pages.codec().await?;
    let after = pages.decode_opt(&scope, query.next_token.as_deref())?;
    let page = state
        .store
        .list_invoices(&principal.user_id, limit, after.as_ref())
        .await?;
    Ok(Json(InvoicePage {
        next_token: page.next.as_ref().map(|c| pages.encode(&scope, c)),
        items: page.items,
    }))
}

/// One of the caller's invoices. Another user's invoice is 404, exactly like a missing one.
#[utoipa::path(
    get, path = "/invoices/{id}", tag = "billing",
    params(("id" = String, Path, description = "Invoice id (UUID)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The invoice", body = Invoice),
        platform::openapi::Unauthorized,
        (status = 404, description = "No such invoice of yours", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        platform::openapi::StorageUnavailable,
    )
)]
pub async fn get_invoice(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Invoice>, BillingError> {
    let id = platform::ids::parse_id(&id).ok_or(BillingError::InvoiceNotFound)?;
    state
        .store
        .get_invoice(&principal.user_id, &id)
        .await?
        .map(Json)
        .ok_or(BillingError::InvoiceNotFound)
}
