//! One path from a service's error to its response.
//!
//! A service's error enum implements [`ServiceError`] (its variants → [`Problem`]) and answers with
//! [`respond`]. Conversions have no side effects: a 5xx carries its cause in the response's extensions
//! ([`ErrorCause`]) and the request log ([`crate::http_log`]) writes it once, beside the route and status.

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use http::HeaderMap;

use crate::Problem;

/// An error a route may answer with.
pub trait ServiceError: std::error::Error + Send + Sync + 'static {
    /// What the client sees (5xx problems reveal nothing).
    fn problem(&self) -> Problem;

    /// Headers beside the problem (a challenge, `Retry-After`, …); none by default.
    fn headers(&self, _headers: &mut HeaderMap) {}
}

/// Why a request failed with a 5xx: for the request log, never for the client.
#[derive(Debug, Clone)]
pub struct ErrorCause(Arc<str>);

impl ErrorCause {
    pub fn new(cause: impl std::fmt::Debug) -> Self {
        Self(format!("{cause:?}").into())
    }
}

impl std::fmt::Display for ErrorCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The response for `err`: its problem+json and headers, and on a 5xx its cause for the request log.
pub fn respond<E: ServiceError>(err: E) -> Response {
    let problem = err.problem();
    let server_error = problem.status_code().is_server_error();
    let mut response = problem.into_response();
    err.headers(response.headers_mut());
    if server_error {
        response.extensions_mut().insert(ErrorCause::new(&err));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    #[derive(Debug, thiserror::Error)]
    enum Failing {
        #[error("no such thing")]
        Missing,
        #[error("disk on fire")]
        Broken,
    }

    impl ServiceError for Failing {
        fn problem(&self) -> Problem {
            match self {
                Failing::Missing => Problem::client(StatusCode::NOT_FOUND, self.to_string()),
                Failing::Broken => Problem::internal(),
            }
        }
    }

    #[test]
    fn server_errors_carry_their_cause_and_client_errors_do_not() {
        let broken = respond(Failing::Broken);
        assert_eq!(broken.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let cause = broken
            .extensions()
            .get::<ErrorCause>()
            .map(|c| c.to_string());
        assert_eq!(cause.as_deref(), Some("Broken"));
        let missing = respond(Failing::Missing);
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert!(missing.extensions().get::<ErrorCause>().is_none());
    }
}
