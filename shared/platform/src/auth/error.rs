//! Why a request was not authenticated, and how that looks to the client.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

use crate::problem::Problem;

/// Authentication failures. 401s carry `WWW-Authenticate: Bearer` (RFC 6750 section 3).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum AuthError {
    #[error("no bearer token in the Authorization header")]
    MissingToken,
    #[error("the Authorization header is not `Bearer <token>`")]
    MalformedHeader,
    #[error("invalid token: {0}")]
    InvalidToken(String),
    #[error("the token has expired")]
    Expired,
    #[error("the token has been revoked")]
    Revoked,
    /// JWKS or revocation store unreachable: not the client's fault, so 503 (fail closed).
    #[error("authentication dependency unavailable: {0}")]
    Unavailable(String),
}

impl AuthError {
    pub fn status(&self) -> StatusCode {
        match self {
            AuthError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// What the client is told; internal detail (which check failed, which key) stays in the logs.
    fn client_detail(&self) -> &'static str {
        match self {
            AuthError::MissingToken => "A bearer access token is required.",
            AuthError::MalformedHeader => {
                "The Authorization header must be `Bearer <access token>`."
            }
            AuthError::InvalidToken(_) => "The access token is invalid.",
            AuthError::Expired => "The access token has expired.",
            AuthError::Revoked => "The access token has been revoked.",
            AuthError::Unavailable(_) => "",
        }
    }

    fn www_authenticate(&self) -> Option<&'static str> {
        match self {
            // RFC 6750 3.1: no error code when the request lacked credentials altogether.
            AuthError::MissingToken => Some(r#"Bearer realm="api""#),
            AuthError::MalformedHeader => Some(r#"Bearer realm="api", error="invalid_request""#),
            AuthError::InvalidToken(_) | AuthError::Expired | AuthError::Revoked => {
                Some(r#"Bearer realm="api", error="invalid_token""#)
            }
            AuthError::Unavailable(_) => None,
        }
    }
}

impl From<&AuthError> for Problem {
    fn from(err: &AuthError) -> Self {
        match err {
            AuthError::Unavailable(_) => Problem::unavailable(),
            other => Problem::client(other.status(), other.client_detail()),
        }
    }
}

impl From<AuthError> for Problem {
    fn from(err: AuthError) -> Self {
        Problem::from(&err)
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        match &self {
            AuthError::Unavailable(detail) => {
                tracing::error!(error = %detail, "token verification dependency failed")
            }
            other => tracing::info!(reason = %other, "request not authenticated"),
        }
        let mut response = Problem::from(&self).into_response();
        if let Some(challenge) = self.www_authenticate() {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}
