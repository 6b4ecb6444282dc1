//! `/payments` and `/payments/{id}`.
//!
//! `POST /payments` requires an `Idempotency-Key` (scoped to the caller):
//! - first use: processed; the response (2xx or 4xx other than 409/429) is recorded for 24 h;
//! - same key, same body: the recorded status and body again (`Idempotent-Replayed: true`);
//! - same key, different body: 409 (the key is bound to its first body); same key while the first is still
//!   running: 409, retry later.
//!
//! Processing: first, the key's payment marker is consulted: a payment this key already committed is
//! answered again (201) before any business check, so a retry whose first attempt committed replays it
//! even when its idempotency record was released (a lost 5xx), taken over after a crash, or the invoice
//! has been paid since. Then the amount is converted to the invoice's currency when they differ (rates
//! from the currency read model; rounded **down** to the invoice's minor unit, so the credit never
//! exceeds the exact value paid; a payment worth less than one minor unit is refused), refused when it
//! exceeds the amount due, and recorded with the invoice update in one conditional transaction (see the
//! store), retried from a fresh read when another payment won the race. The invoice becomes `paid` when
//! fully paid.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use platform::Json;
use platform::auth::Principal;
use platform::error::{ErrorCause, ServiceError};
use platform::idempotency::{Claim, IdempotencyError, IdempotencyKey, StoredResponse, fingerprint};
use platform::pagination::parse_limit;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::invoices::{PageQuery, query_rejection};
use crate::AppState;
use crate::domain::{self, Conversion, InvoiceStatus, NewPayment, Payment};
use crate::error::{BillingError, FieldError};
use crate::money::MAX_AMOUNT;
use crate::store::{PaymentKey, Recorded, StoreError};
use platform::store::Failure as _;

/// How often a payment is recomputed after losing a race on its invoice.
const MAX_ATTEMPTS: usize = 8;

/// A page of payments.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PaymentPage {
    pub items: Vec<Payment>,
    /// Pass as `next_token` for the next page; `null` on the last page.
    pub next_token: Option<String>,
}

/// Pay (part of) one of the caller's invoices.
///
/// A payment in another currency is converted through the currency read model and **rounded down** to
/// a whole minor unit of the invoice's currency: the amount credited (`applied_amount`) never exceeds
/// the exact value paid. A payment worth less than one minor unit of the invoice's currency is refused
/// (422, `code` = `amount_too_small`). A retry with the same `Idempotency-Key` and body after the payment
/// was committed is answered with the original 201 (`Idempotent-Replayed: true`), even when the invoice
/// has been paid since.
#[utoipa::path(
    post, path = "/payments", tag = "billing",
    params(("Idempotency-Key" = String, Header, description = "Client-chosen key, 1–255 visible ASCII characters (`!`–`~`); retries reuse it, a new payment takes a new one (reused with another body: 409)", min_length = 1, max_length = 255, pattern = "^[!-~]+(?![\\s\\S])", extensions(("x-rules" = json!([platform::schema::RULE_ONE_REQUEST_PER_KEY]))))),
    request_body = NewPayment,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded (or replayed: `Idempotent-Replayed: true`)", body = Payment,
         headers(("Location" = String), ("Idempotent-Replayed" = String, description = "`true` on a replay"))),
        (status = 400, description = "Missing or malformed `Idempotency-Key`, or malformed JSON", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        platform::openapi::Unauthorized,
        (status = 404, description = "No such invoice of yours", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "The invoice is already paid (`code` = `invoice_paid`), the key was used with another body, or a request with this key is still in progress or the invoice is too busy (retry)", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        platform::openapi::NotJson,
        (status = 422, description = "Invalid fields; `code` = `overpayment`, `currency_not_supported`, `amount_too_small` or `overflow`", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        platform::openapi::StorageUnavailable,
    )
)]
pub async fn create_payment(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Json(input): Json<NewPayment>,
) -> Result<Response, BillingError> {
    let key = IdempotencyKey::from_headers(&headers)?;
    // The fingerprint is over the parsed body, so formatting and field order do not matter.
    let canonical = serde_json::to_vec(&input)
        .map_err(|e| BillingError::Store(StoreError::internal(e.to_string())))?;
    let fingerprint = fingerprint(&[b"POST /payments", &canonical]);
    let owner = principal.user_id.as_str();
    match state.idempotency.claim(owner, &key, &fingerprint).await? {
        Claim::Replay(stored) => return Ok(replay(stored)),
        Claim::Acquired => {}
    }
    let dedup = PaymentKey {
        key: key.as_str().to_owned(),
        fingerprint: fingerprint.clone(),
    };
    let mut cause = None;
    let stored = match process(&state, owner, input, &dedup).await {
        Ok(Processed::Existing(payment)) => {
            let stored = StoredResponse {
                status: StatusCode::CREATED.as_u16(),
                body: serde_json::to_string(&payment).unwrap_or_default(),
                location: Some(format!("/payments/{}", payment.id)),
            };
            if let Err(e) = state
                .idempotency
                .complete(owner, &key, &fingerprint, &stored)
                .await
            {
                tracing::error!(error = %e, "could not record the idempotent response");
            }
            return Ok(replay(stored));
        }
        Ok(Processed::New(payment)) => {
            // Counted when the payment is made, not when a retry replays it.
            platform::metrics::count("Payments", 1.0);
            StoredResponse {
                status: StatusCode::CREATED.as_u16(),
                body: serde_json::to_string(&payment).unwrap_or_default(),
                location: Some(format!("/payments/{}", payment.id)),
            }
        }
        Err(err) => {
            let problem = err.problem();
            if problem.status_code().is_server_error() {
                cause = Some(ErrorCause::new(&err));
            }
            StoredResponse {
                status: problem.status,
                body: serde_json::to_string(&problem).unwrap_or_default(),
                location: None,
            }
        }
    };
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let recorded = if StoredResponse::is_recordable(status) {
        state
            .idempotency
            .complete(owner, &key, &fingerprint, &stored)
            .await
    } else {
        state.idempotency.release(owner, &key, &fingerprint).await
    };
    if let Err(e) = recorded {
        // The payment itself is safe: its key marker makes a retry return it instead of paying again.
        tracing::error!(error = %e, "could not record the idempotent response");
    }
    let mut response = respond(stored, false);
    if let Some(cause) = cause {
        response.extensions_mut().insert(cause);
    }
    Ok(response)
}

fn respond(stored: StoredResponse, replayed: bool) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let content_type = if status.is_success() {
        "application/json"
    } else {
        platform::problem::CONTENT_TYPE
    };
    let mut response = (status, stored.body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(location) = stored.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(header::LOCATION, location);
    }
    if replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

fn replay(stored: StoredResponse) -> Response {
    respond(stored, true)
}

fn invalid(field: &str, message: &str) -> BillingError {
    BillingError::Validation(vec![FieldError::new(field, message)])
}

/// The amount credited to an invoice in `to`, and how it was converted.
async fn applied_amount(
    state: &AppState,
    amount: i64,
    from: &str,
    to: &str,
) -> Result<(i64, Option<Conversion>), BillingError> {
    if from == to {
        return Ok((amount, None));
    }
    let from_rate = state
        .rates
        .rate(from)
        .await?
        .ok_or_else(|| BillingError::CurrencyNotSupported(from.to_owned()))?;
    let to_rate = state
        .rates
        .rate(to)
        .await?
        .ok_or_else(|| BillingError::CurrencyNotSupported(to.to_owned()))?;
    // Exact, rounded down once: the credit never exceeds the value paid (`money::Exchange::credited`).
    let applied = match money::Exchange::new(&from_rate, &to_rate).credited(amount) {
        Ok(applied) if (1..=MAX_AMOUNT).contains(&applied) => applied,
        Err(money::MoneyError::BelowMinorUnit) => return Err(BillingError::AmountTooSmall),
        _ => {
            return Err(BillingError::Overflow(
                "The converted amount is too large.".into(),
            ));
        }
    };
    Ok((
        applied,
        Some(Conversion {
            from: from.to_owned(),
            to: to.to_owned(),
            from_rate_to_base: from_rate.rate_to_base.to_string(),
            to_rate_to_base: to_rate.rate_to_base.to_string(),
        }),
    ))
}

/// What [`process`] did.
enum Processed {
    /// Recorded now.
    New(Payment),
    /// This key's payment was committed before (a retry): answered again, nothing recorded.
    Existing(Payment),
}

/// The payment this key already created, if any (another request's fingerprint: 409).
async fn committed_payment(
    state: &AppState,
    owner: &str,
    dedup: &PaymentKey,
) -> Result<Option<Payment>, BillingError> {
    let Some(marker) = state.store.payment_for_key(owner, &dedup.key).await? else {
        return Ok(None);
    };
    if marker.fingerprint != dedup.fingerprint {
        return Err(IdempotencyError::Mismatch.into());
    }
    state
        .store
        .get_payment(owner, &marker.payment_id)
        .await?
        .map(Some)
        .ok_or_else(|| {
            BillingError::Store(StoreError::internal("payment of a recorded key is missing"))
        })
}

async fn process(
    state: &AppState,
    owner: &str,
    input: NewPayment,
    dedup: &PaymentKey,
) -> Result<Processed, BillingError> {
    // Before any business check: a committed payment is answered again, never re-judged.
    if let Some(payment) = committed_payment(state, owner, dedup).await? {
        return Ok(Processed::Existing(payment));
    }
    if !(1..=MAX_AMOUNT).contains(&input.amount) {
        return Err(invalid(
            "amount",
            "must be a positive number of minor units, at most 2^53 - 1",
        ));
    }
    domain::validate_currency("currency", &input.currency)?;
    let invoice_id =
        platform::ids::parse_id(&input.invoice_id).ok_or(BillingError::InvoiceNotFound)?;
    for _ in 0..MAX_ATTEMPTS {
        let invoice = state
            .store
            .get_invoice(owner, &invoice_id)
            .await?
            .ok_or(BillingError::InvoiceNotFound)?;
        if invoice.status == InvoiceStatus::Paid {
            return Err(BillingError::InvoicePaid);
        }
        let (applied, conversion) =
            applied_amount(state, input.amount, &input.currency, &invoice.currency).await?;
        if applied == 0 {
            return Err(BillingError::AmountTooSmall);
        }
        if applied > invoice.amount_due {
            return Err(BillingError::Overpayment {
                amount_due: invoice.amount_due,
                currency: invoice.currency,
            });
        }
        let now = platform::ids::now_rfc3339();
        let amount_paid = invoice.amount_paid.saturating_add(applied);
        let status = if amount_paid >= invoice.total {
            InvoiceStatus::Paid
        } else {
            InvoiceStatus::Open
        };
        let updated = domain::Invoice {
            amount_paid,
            amount_due: invoice.total.saturating_sub(amount_paid),
            status,
            version: invoice.version.saturating_add(1),
            updated_at: now.clone(),
            ..invoice.clone()
        };
        let payment = Payment {
            id: platform::ids::new_id(),
            owner_id: owner.to_owned(),
            invoice_id: invoice.id.clone(),
            amount: input.amount,
            currency: input.currency.clone(),
            applied_amount: applied,
            invoice_currency: invoice.currency.clone(),
            conversion,
            invoice_status: status,
            created_at: now,
        };
        match state
            .store
            .record_payment(&updated, invoice.version, &payment, dedup)
            .await
        {
            Ok(Recorded::New) => return Ok(Processed::New(payment)),
            // Committed concurrently by another attempt with this key.
            Ok(Recorded::Duplicate { .. }) => {
                return committed_payment(state, owner, dedup)
                    .await?
                    .map(Processed::Existing)
                    .ok_or_else(|| {
                        BillingError::Store(StoreError::internal("payment key marker vanished"))
                    });
            }
            // Another payment updated the invoice since we read it: recompute from the new state.
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(BillingError::Contention)
}

/// The caller's payments, newest first.
#[utoipa::path(
    get, path = "/payments", tag = "billing",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of payments (may be short or empty while `next_token` is set)", body = PaymentPage),
        platform::openapi::BadPage,
        platform::openapi::UnknownPage,
        platform::openapi::Unauthorized,
        platform::openapi::StorageUnavailable,
    )
)]
pub async fn list_payments(
    State(state): State<AppState>,
    principal: Principal,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<PaymentPage>, BillingError> {
    let Query(query) = query.map_err(query_rejection)?;
    let limit = parse_limit(query.limit.as_deref())?;
    let scope = format!("payments:{}", principal.user_id);
    let pages = state.pages.codec().await?;
    let after = pages.decode_opt(&scope, query.next_token.as_deref())?;
    let page = state
        .store
        .list_payments(&principal.user_id, limit, after.as_ref())
        .await?;
    Ok(Json(PaymentPage {
        next_token: page.next.as_ref().map(|c| pages.encode(&scope, c)),
        items: page.items,
    }))
}

/// One of the caller's payments (another user's is 404).
#[utoipa::path(
    get, path = "/payments/{id}", tag = "billing",
    params(("id" = String, Path, description = "Payment id (UUID)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The payment", body = Payment),
        platform::openapi::Unauthorized,
        (status = 404, description = "No such payment of yours", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        platform::openapi::StorageUnavailable,
    )
)]
pub async fn get_payment(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Payment>, BillingError> {
    let id = platform::ids::parse_id(&id).ok_or(BillingError::PaymentNotFound)?;
    state
        .store
        .get_payment(&principal.user_id, &id)
        .await?
        .map(Json)
        .ok_or(BillingError::PaymentNotFound)
}
