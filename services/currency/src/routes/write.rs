//! Admin writes: `POST /currencies`, `PUT /currencies/{code}`, `DELETE /currencies/{code}` validate a
//! command, stamp it with its acceptance-time order key (`sequence`, see [`crate::domain`]), store its
//! status (`accepted`, one conditional put), queue it and answer `202` + `Location: /commands/{id}`;
//! `GET /commands/{id}` shows `accepted → applied | rejected`.
//!
//! Retries are safe: a command id (`Idempotency-Key` or body `command_id`) is stored once; the same id
//! with the same request answers the same 202 (and re-queues the command while it is still
//! `accepted`, which covers a crash between storing and queueing — the projector ignores duplicates);
//! the same id with a different request is a 409.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use platform::Json;
use platform::auth::{Principal, Verifier};

use crate::domain::{
    self, CommandMessage, CommandRecord, CommandView, CurrencyBody, DeleteBody, Intent,
    NewCurrency, Operation, OrderKeys, Status,
};
use crate::error::{CurrencyError, FieldError};
use crate::store::{CommandQueue, CommandStore, Inserted};

/// The role every write needs.
pub const ADMIN_ROLE: &str = "admin";
/// Default retention of command statuses (`COMMAND_RETENTION_SECONDS`): 7 days.
pub const DEFAULT_RETENTION_SECONDS: i64 = 7 * 24 * 3600;

/// State of the write router.
#[derive(Clone)]
pub struct WriteState {
    pub commands: Arc<dyn CommandStore>,
    pub queue: Arc<dyn CommandQueue>,
    pub verifier: Verifier,
    /// How long a command status is kept (DynamoDB TTL), seconds.
    pub retention_seconds: i64,
}

impl axum::extract::FromRef<WriteState> for Verifier {
    fn from_ref(state: &WriteState) -> Self {
        state.verifier.clone()
    }
}

/// The caller, verified and holding the `admin` role. Runs before any body extractor, so a
/// non-admin gets 403 whatever the body looks like (and an anonymous caller 401).
pub struct AdminPrincipal(pub Principal);

impl<S> FromRequestParts<S> for AdminPrincipal
where
    Verifier: axum::extract::FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let principal = Principal::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        principal
            .require_role(ADMIN_ROLE)
            .map_err(IntoResponse::into_response)?;
        Ok(Self(principal))
    }
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<&str>, CurrencyError> {
    headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .map_err(|_| CurrencyError::BadRequest("`Idempotency-Key` is not ASCII.".into()))
        })
        .transpose()
}

fn accepted(record: &CommandRecord) -> Response {
    let mut headers = HeaderMap::new();
    if let Ok(location) = HeaderValue::from_str(&format!("/commands/{}", record.id)) {
        headers.insert(header::LOCATION, location);
    }
    (
        StatusCode::ACCEPTED,
        headers,
        Json(CommandView::from(record)),
    )
        .into_response()
}

/// A retry of an existing command id: same request → same 202 (re-queued while still `accepted`).
async fn replay(
    state: &WriteState,
    existing: &CommandRecord,
    fingerprint: &str,
) -> Result<Response, CurrencyError> {
    if existing.fingerprint != fingerprint {
        return Err(CurrencyError::IdempotencyConflict {
            command_id: existing.id.clone(),
        });
    }
    if existing.status == Status::Accepted {
        enqueue(state, &existing.id, &existing.message).await?;
    }
    tracing::info!(command_id = %existing.id, status = existing.status.as_str(), "command retried");
    Ok(accepted(existing))
}

async fn enqueue(state: &WriteState, command_id: &str, message: &str) -> Result<(), CurrencyError> {
    state.queue.send(message).await.map_err(|e| {
        tracing::warn!(%command_id, error = %e, "sending the command to the queue failed");
        CurrencyError::QueueUnavailable {
            command_id: command_id.to_owned(),
        }
    })
}

/// Validated intent + command id → stored, queued, 202.
async fn submit(
    state: &WriteState,
    principal: &Principal,
    headers: &HeaderMap,
    intent: Intent,
    body_command_id: Option<&str>,
) -> Result<Response, CurrencyError> {
    let (id, _client_chosen) = domain::command_id(idempotency_key(headers)?, body_command_id)
        .map_err(CurrencyError::Validation)?;
    let fingerprint = intent.fingerprint();
    // No read first and no counter: a new id (the common case) costs one conditional put; a retry of a
    // known id stamps a key that is dropped (the stored command's key wins) and replays below.
    let now = time::OffsetDateTime::now_utc();
    let sequence = OrderKeys::global().next(now)?;
    let at = money::record::format_time(now);
    let record = CommandRecord {
        id: id.clone(),
        status: Status::Accepted,
        operation: intent.operation,
        code: intent.code,
        sequence,
        fingerprint: fingerprint.clone(),
        message: CommandMessage::new(id.clone(), &intent, sequence).to_json(),
        requested_by: principal.user_id.clone(),
        reason: None,
        outcome: None,
        created_at: at.clone(),
        updated_at: at,
        expires_at: now.unix_timestamp().saturating_add(state.retention_seconds),
    };
    if let Inserted::Existing(existing) = state.commands.insert(&record).await? {
        // A retry, or a race with a concurrent request for the same id: the stored command's key wins.
        return replay(state, &existing, &fingerprint).await;
    }
    enqueue(state, &record.id, &record.message).await?;
    tracing::info!(
        command_id = %record.id,
        operation = record.operation.as_str(),
        code = %record.code,
        sequence = record.sequence,
        requested_by = %record.requested_by,
        "command accepted"
    );
    Ok(accepted(&record))
}

fn upsert_intent(
    operation: Operation,
    code: Result<money::CurrencyCode, FieldError>,
    body: &CurrencyBody,
) -> Result<Intent, CurrencyError> {
    let (code, state) = domain::validate_state(code, body).map_err(CurrencyError::Validation)?;
    Ok(Intent {
        operation,
        code,
        state: Some(state),
    })
}

/// Set a currency (create or replace) by code: queued, applied asynchronously.
#[utoipa::path(
    post, path = "/currencies", tag = "currency",
    request_body = NewCurrency,
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, description = "Command id (1-128 of A-Z a-z 0-9 - _ . :); same key + same body → same 202", min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9_.:-]+(?![\\s\\S])", extensions(("x-rules" = json!([platform::schema::RULE_ONE_REQUEST_PER_KEY]))))),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Accepted and queued; poll `Location`.", body = CommandView,
         headers(("Location" = String, description = "`/commands/{id}`"))),
        (status = 400, description = "Malformed JSON or header", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        platform::openapi::Unauthorized,
        platform::openapi::NotAdmin,
        (status = 413, description = "Body over 4 KiB", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        platform::openapi::NotJson,
        (status = 409, description = "The command id was used before with a different body (nothing queued): take a new id", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Invalid command (`errors` lists the fields; nothing queued), ", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 503, description = "Storage or queue temporarily unavailable; retry with the same command id (`command_id` member)", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn create_currency(
    State(state): State<WriteState>,
    AdminPrincipal(principal): AdminPrincipal,
    headers: HeaderMap,
    Json(input): Json<NewCurrency>,
) -> Result<Response, CurrencyError> {
    let (code, body) = input.split();
    let intent = upsert_intent(Operation::Create, domain::parse_code("code", &code), &body)?;
    submit(
        &state,
        &principal,
        &headers,
        intent,
        body.command_id.as_deref(),
    )
    .await
}

/// Replace a currency's full state (creates it if absent): queued, applied asynchronously.
#[utoipa::path(
    put, path = "/currencies/{code}", tag = "currency",
    request_body = CurrencyBody,
    params(
        ("code" = inline(crate::domain::CodeDoc), Path, description = "ISO 4217 code", example = "EUR"),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, description = "Command id; same key + same body → same 202", min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9_.:-]+(?![\\s\\S])", extensions(("x-rules" = json!([platform::schema::RULE_ONE_REQUEST_PER_KEY])))),
    ),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Accepted and queued; poll `Location`.", body = CommandView,
         headers(("Location" = String, description = "`/commands/{id}`"))),
        (status = 400, description = "Malformed JSON or header", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        platform::openapi::Unauthorized,
        platform::openapi::NotAdmin,
        platform::openapi::NotJson,
        (status = 409, description = "The command id was used before with a different body (nothing queued): take a new id", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Invalid command (nothing queued)", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 503, description = "Storage or queue temporarily unavailable; retry with the same command id", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn replace_currency(
    State(state): State<WriteState>,
    AdminPrincipal(principal): AdminPrincipal,
    Path(code): Path<String>,
    headers: HeaderMap,
    Json(body): Json<CurrencyBody>,
) -> Result<Response, CurrencyError> {
    let intent = upsert_intent(Operation::Replace, domain::parse_code("code", &code), &body)?;
    submit(
        &state,
        &principal,
        &headers,
        intent,
        body.command_id.as_deref(),
    )
    .await
}

/// Delete a currency: queued; the read model keeps a tombstone so late commands cannot revive it.
#[utoipa::path(
    delete, path = "/currencies/{code}", tag = "currency",
    request_body(content = Option<DeleteBody>, description = "Optional: `{\"command_id\": …}`"),
    params(
        ("code" = inline(crate::domain::CodeDoc), Path, description = "ISO 4217 code", example = "EUR"),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, description = "Command id; same key + same request → same 202", min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9_.:-]+(?![\\s\\S])", extensions(("x-rules" = json!([platform::schema::RULE_ONE_REQUEST_PER_KEY])))),
    ),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Accepted and queued; poll `Location`.", body = CommandView,
         headers(("Location" = String, description = "`/commands/{id}`"))),
        (status = 400, description = "Malformed JSON body or header", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        platform::openapi::Unauthorized,
        platform::openapi::NotAdmin,
        (status = 409, description = "The command id was used before with a different body (nothing queued): take a new id", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Not an ISO 4217 code (nothing queued)", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 503, description = "Storage or queue temporarily unavailable; retry with the same command id", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn delete_currency(
    State(state): State<WriteState>,
    AdminPrincipal(principal): AdminPrincipal,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, CurrencyError> {
    // No body, or JSON `null` (what the document's optional body allows), is an empty delete body.
    let body: DeleteBody = if body.iter().all(u8::is_ascii_whitespace) {
        DeleteBody::default()
    } else {
        serde_json::from_slice::<Option<DeleteBody>>(&body)
            .map_err(|e| {
                CurrencyError::BadRequest(format!(
                    "The request body is not a valid delete body: {e}"
                ))
            })?
            .unwrap_or_default()
    };
    let code = domain::parse_code("code", &code).map_err(|e| CurrencyError::Validation(vec![e]))?;
    let intent = Intent {
        operation: Operation::Delete,
        code,
        state: None,
    };
    submit(
        &state,
        &principal,
        &headers,
        intent,
        body.command_id.as_deref(),
    )
    .await
}

/// A command's status: `accepted`, then `applied` (with `outcome`) or `rejected` (with `reason`).
#[utoipa::path(
    get, path = "/commands/{id}", tag = "currency",
    params(("id" = String, Path, description = "The command id from `Location`")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The command's status.", body = CommandView),
        platform::openapi::Unauthorized,
        platform::openapi::NotAdmin,
        (status = 404, description = "No such command (or expired)", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        platform::openapi::StorageUnavailable,
    )
)]
pub async fn get_command(
    State(state): State<WriteState>,
    _admin: AdminPrincipal,
    Path(id): Path<String>,
) -> Result<Response, CurrencyError> {
    if !domain::valid_command_id(&id) {
        return Err(CurrencyError::CommandNotFound);
    }
    let record = state
        .commands
        .get(&id)
        .await?
        .ok_or(CurrencyError::CommandNotFound)?;
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok((headers, Json(CommandView::from(&record))).into_response())
}
