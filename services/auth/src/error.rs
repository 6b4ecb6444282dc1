//! The service's one error type, and its one mapping to problem+json.

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use platform::Problem;
use platform::auth::AuthError;
use platform::auth::revocation::RevocationError;
use platform::error::ServiceError;
use serde::Serialize;

use crate::domain::password::HashError;
use crate::signing::SigningKeysError;
use crate::store::StoreError;

/// One invalid input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// Problem type URIs (RFC 9457 `type`): stable identifiers clients can switch on.
pub mod types {
    pub const VALIDATION: &str = "/problems/validation";
    pub const EMAIL_TAKEN: &str = "/problems/email-taken";
    pub const INVALID_CREDENTIALS: &str = "/problems/invalid-credentials";
    pub const TOO_MANY_ATTEMPTS: &str = "/problems/too-many-attempts";
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid input: {0:?}")]
    Validation(Vec<FieldError>),
    #[error("email already registered")]
    EmailTaken,
    /// Unknown email or wrong password: one indistinguishable answer.
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("too many login attempts; retry after {retry_after_seconds} s")]
    TooManyAttempts { retry_after_seconds: u64 },
    /// The token is valid but its user no longer exists.
    #[error("user {0} not found")]
    UserNotFound(String),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Revocation(#[from] RevocationError),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error("token signing failed: {0}")]
    Signing(String),
    #[error(transparent)]
    Keys(#[from] SigningKeysError),
}

impl From<crate::throttle::Refused> for Error {
    fn from(refused: crate::throttle::Refused) -> Self {
        match refused {
            crate::throttle::Refused::TooMany(seconds) => Error::TooManyAttempts {
                retry_after_seconds: seconds,
            },
            // Our failure, not the client's: 503 (the limits fail closed; no password work runs).
            crate::throttle::Refused::Unavailable(_) => Error::Store(
                platform::store::Failure::unavailable("login limits unavailable"),
            ),
        }
    }
}

impl ServiceError for Error {
    fn problem(&self) -> Problem {
        match self {
            Error::Validation(errors) => Problem::client(
                StatusCode::UNPROCESSABLE_ENTITY,
                "The request has invalid fields.",
            )
            .with_type(types::VALIDATION)
            .with_title("Validation failed")
            .with_extension(
                "errors",
                serde_json::to_value(errors).unwrap_or(serde_json::Value::Null),
            ),
            Error::EmailTaken => Problem::client(
                StatusCode::CONFLICT,
                "An account with this email already exists.",
            )
            .with_type(types::EMAIL_TAKEN)
            .with_title("Email already registered"),
            Error::InvalidCredentials => Problem::client(
                StatusCode::UNAUTHORIZED,
                "The email or password is incorrect.",
            )
            .with_type(types::INVALID_CREDENTIALS)
            .with_title("Invalid credentials"),
            Error::TooManyAttempts {
                retry_after_seconds,
            } => Problem::client(
                StatusCode::TOO_MANY_REQUESTS,
                format!("Too many login attempts; retry in {retry_after_seconds} seconds."),
            )
            .with_type(types::TOO_MANY_ATTEMPTS),
            Error::UserNotFound(_) => Problem::client(
                StatusCode::NOT_FOUND,
                "The account for this token no longer exists.",
            ),
            Error::Auth(err) => Problem::from(err),
            Error::Store(StoreError::EmailTaken) => Error::EmailTaken.problem(),
            Error::Store(StoreError::Failure(failure)) => failure.problem(),
            Error::Revocation(RevocationError::Unavailable(_)) => Problem::unavailable(),
            Error::Revocation(RevocationError::Failed(_))
            | Error::Hash(_)
            | Error::Signing(_)
            | Error::Keys(_) => Problem::internal(),
        }
    }

    fn headers(&self, headers: &mut HeaderMap) {
        match self {
            Error::InvalidCredentials => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer realm="api""#),
                );
            }
            Error::TooManyAttempts {
                retry_after_seconds,
            } => {
                if let Ok(value) = HeaderValue::from_str(&retry_after_seconds.to_string()) {
                    headers.insert(header::RETRY_AFTER, value);
                }
            }
            _ => {}
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if let Error::Auth(err) = self {
            // Keeps the WWW-Authenticate challenge.
            return err.into_response();
        }
        platform::error::respond(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::store::Failure as _;

    #[test]
    fn server_side_failures_reveal_nothing() {
        for err in [
            Error::Store(StoreError::internal("ValidationException: table foo")),
            Error::Signing("bad key".into()),
            Error::Hash(HashError::Worker("stopped".into())),
        ] {
            let problem = err.problem();
            assert_eq!(problem.status, 500);
            assert_eq!(problem.detail, None);
        }
        let problem = Error::Store(StoreError::unavailable("Throttling")).problem();
        assert_eq!(problem.status, 503);
        assert!(!problem.detail.unwrap_or_default().contains("Throttling"));
    }
}
