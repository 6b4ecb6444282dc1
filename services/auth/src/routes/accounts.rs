//! `POST /register`, `POST /login`, `POST /logout`, `GET /me`.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use platform::Json;
use platform::auth::Principal;

use crate::domain::{Email, User, check_policy};
use crate::error::{Error, FieldError};
use crate::models::{LoginRequest, ProblemDetails, RegisterRequest, TokenResponse, UserResponse};
use crate::state::AppState;
use crate::store::StoreError;
use crate::throttle::{LoginAttempt, SourceIp};
use crate::tokens;

/// Create an account.
///
/// The email is trimmed and lowercased; the password is hashed with argon2id and never stored or
/// returned in clear. Email uniqueness holds under concurrent registrations.
#[utoipa::path(
    post,
    path = "/register",
    tag = "auth",
    request_body(content = RegisterRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Account created.", body = UserResponse,
            headers(("Location" = String, description = "`/me`"))),
        (status = 400, description = "The body is not JSON.", body = ProblemDetails, content_type = "application/problem+json",
            example = json!({"type": "about:blank", "title": "Bad Request", "status": 400, "detail": "The request body is not valid JSON."})),
        (status = 409, description = "The email is already registered.", body = ProblemDetails, content_type = "application/problem+json",
            example = json!({"type": "/problems/email-taken", "title": "Email already registered", "status": 409, "detail": "An account with this email already exists."})),
        (status = 413, description = "The body is larger than 16 KiB.", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`.", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "Invalid email or password, or a missing/mistyped field.", body = ProblemDetails, content_type = "application/problem+json",
            example = json!({"type": "/problems/validation", "title": "Validation failed", "status": 422, "detail": "The request has invalid fields.",
                "errors": [{"field": "password", "message": "must be at least 12 characters"}]})),
        (status = 500, description = "Unexpected failure (details are logged, not returned).", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 503, description = "The user store is throttled or unavailable; retry.", body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
pub async fn register(
    State(state): State<AppState>,
    SourceIp(source_ip): SourceIp,
    Json(body): Json<RegisterRequest>,
) -> Result<Response, Error> {
    if let Err(refused) = state.throttle().check_register(source_ip.as_deref()).await {
        return Err(refused.into());
    }
    let result = create_account(&state, body).await;
    if matches!(
        result,
        Err(Error::Validation(_) | Error::EmailTaken | Error::Store(StoreError::EmailTaken))
    ) {
        state
            .throttle()
            .record_register_failure(source_ip.as_deref())
            .await;
    }
    result
}

async fn create_account(state: &AppState, body: RegisterRequest) -> Result<Response, Error> {
    let mut errors = Vec::new();
    let email = match Email::parse(&body.email) {
        Ok(email) => Some(email),
        Err(err) => {
            errors.push(FieldError {
                field: "email",
                message: err.to_string(),
            });
            None
        }
    };
    if let Err(err) = check_policy(&body.password, email.as_ref()) {
        errors.push(FieldError {
            field: "password",
            message: err.to_string(),
        });
    }
    let Some(email) = email.filter(|_| errors.is_empty()) else {
        return Err(Error::Validation(errors));
    };

    let password_hash = state.config().hasher.hash(body.password).await?;
    let user = User {
        id: uuid::Uuid::new_v4().to_string(),
        email: email.into_string(),
        password_hash,
        roles: Vec::new(),
        created_at: platform::ids::now_rfc3339_seconds(),
    };
    state.store().create(&user).await?;
    tracing::info!(user_id = %user.id, "account created");
    platform::metrics::count("Registrations", 1.0);
    let mut response = (StatusCode::CREATED, Json(UserResponse::from(user))).into_response();
    response
        .headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static("/me"));
    Ok(response)
}

/// Exchange email and password for an access token.
///
/// Unknown emails and wrong passwords get the same 401 body, after the same amount of hashing work, so
/// neither the answer nor its timing tells whether an account exists. A rate-limit hook may answer 429.
#[utoipa::path(
    post,
    path = "/login",
    tag = "auth",
    request_body(content = LoginRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Credentials valid; an access token.", body = TokenResponse,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "The body is not JSON.", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 401, description = "Unknown email or wrong password (indistinguishable).", body = ProblemDetails, content_type = "application/problem+json",
            example = json!({"type": "/problems/invalid-credentials", "title": "Invalid credentials", "status": 401, "detail": "The email or password is incorrect."})),
        (status = 413, description = "The body is larger than 16 KiB.", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`.", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "A missing or mistyped field.", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts (when a rate limiter is configured); see `Retry-After`.", body = ProblemDetails, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 500, description = "Unexpected failure.", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 503, description = "A dependency is throttled or unavailable; retry.", body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    SourceIp(source_ip): SourceIp,
    Json(body): Json<LoginRequest>,
) -> Result<Response, Error> {
    let issuer = state.issuer().to_owned();
    let email = Email::parse(&body.email).ok();
    let attempt = LoginAttempt {
        email: email.as_ref().map_or_else(
            || body.email.trim().to_lowercase(),
            |e| e.as_str().to_owned(),
        ),
        source_ip,
    };
    if let Err(refused) = state.throttle().check(&attempt).await {
        return Err(refused.into());
    }
    let user = match &email {
        Some(email) => state.store().find_by_email(email.as_str()).await?,
        None => None,
    };
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let valid = state
        .config()
        .hasher
        .verify(body.password, stored_hash)
        .await?;
    let user = match user {
        Some(user) if valid => user,
        _ => {
            state.throttle().record_failure(&attempt).await;
            return Err(Error::InvalidCredentials);
        }
    };
    state.throttle().record_success(&attempt).await;
    let config = state.config();
    let keys = state.keys().await;
    let (token, claims) = tokens::mint(
        &keys,
        &issuer,
        &config.audience,
        config.token_ttl_seconds,
        &user,
    )?;
    tracing::info!(user_id = %user.id, jti = %claims.jti, "token issued");
    platform::metrics::count("Logins", 1.0);
    let mut response = Json(TokenResponse {
        access_token: token,
        token_type: "Bearer".into(),
        expires_in: config.token_ttl_seconds,
    })
    .into_response();
    // RFC 6749 section 5.1: token responses must not be cached.
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// Revoke the presented access token.
///
/// The token's `jti` is written to the revoked-tokens table until the token's expiry; from the next
/// request on, every service refuses it.
#[utoipa::path(
    post,
    path = "/logout",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Token revoked."),
        (status = 401, description = "Missing, malformed, invalid, expired or already revoked token.", body = ProblemDetails, content_type = "application/problem+json",
            headers(("WWW-Authenticate" = String, description = "`Bearer …` challenge (RFC 6750)")),
            example = json!({"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": "The access token has been revoked."})),
        (status = 500, description = "Unexpected failure.", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 503, description = "The revocation store is throttled or unavailable; retry.", body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
pub async fn logout(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<StatusCode, Error> {
    state.verifier().revoke(&principal).await?;
    tracing::info!(user_id = %principal.user_id, jti = %principal.token_id, "token revoked");
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's account.
#[utoipa::path(
    get,
    path = "/me",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account of the token's subject.", body = UserResponse),
        (status = 401, description = "Missing, malformed, invalid, expired or revoked token.", body = ProblemDetails, content_type = "application/problem+json",
            headers(("WWW-Authenticate" = String, description = "`Bearer …` challenge (RFC 6750)"))),
        (status = 404, description = "The account no longer exists.", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 500, description = "Unexpected failure.", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 503, description = "A dependency is throttled or unavailable; retry.", body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
pub async fn me(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<UserResponse>, Error> {
    let user = state
        .store()
        .get(&principal.user_id)
        .await?
        .ok_or_else(|| Error::UserNotFound(principal.user_id.clone()))?;
    Ok(Json(user.into()))
}
