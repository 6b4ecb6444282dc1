//! RFC 9457 `application/problem+json` responses.
//!
//! Every error a client sees goes through [`Problem`]. Service error enums implement
//! `From<TheirError> for Problem` (or `IntoResponse` via it) so the mapping lives in one place.
//! 5xx problems never carry internal detail: log it, then return [`Problem::internal`].

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

pub const CONTENT_TYPE: &str = "application/problem+json";

/// `Retry-After` (seconds) on every 503 problem: the failure is temporary (a dependency is unreachable or
/// throttling), so clients are told when to try again (RFC 9110 section 10.2.3).
pub const RETRY_AFTER_SECONDS: u32 = 1;

/// A problem details object (RFC 9457 section 3).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// A URI reference identifying the problem type; `about:blank` when the status says it all.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Extension members (RFC 9457 section 3.2), e.g. `errors` for field validation.
    #[serde(flatten, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

impl Problem {
    /// A problem whose type is `about:blank` and whose title is the status's reason phrase.
    pub fn new(status: StatusCode) -> Self {
        Self {
            kind: "about:blank".to_owned(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: None,
            instance: None,
            extensions: serde_json::Map::new(),
        }
    }

    /// A client error (4xx) with a human-readable explanation.
    pub fn client(status: StatusCode, detail: impl Into<String>) -> Self {
        debug_assert!(status.is_client_error(), "use Problem::internal for 5xx");
        Self::new(status).with_detail(detail)
    }

    /// A server error that reveals nothing about its cause. Log the cause before returning this.
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// A temporary server-side failure (a dependency is down or throttling); safe to retry.
    pub fn unavailable() -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE)
            .with_detail("A dependency is temporarily unavailable; retry shortly.")
    }

    pub fn with_type(mut self, kind: impl Into<String>) -> Self {
        self.kind = kind.into();
        self
    }

    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_extension(mut self, key: &str, value: serde_json::Value) -> Self {
        self.extensions.insert(key.to_owned(), value);
        self
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.detail {
            Some(detail) => write!(f, "{} {}: {}", self.status, self.title, detail),
            None => write!(f, "{} {}", self.status, self.title),
        }
    }
}

/// A served router's answers for what no route handles: 404 (no such path) and 405 (no such method on a path),
/// both `application/problem+json`. [`crate::http_log::instrument`] applies it to every function's router; a
/// router merged into another (the fat Lambda) gets it from the outermost one.
pub fn with_fallbacks(router: axum::Router) -> axum::Router {
    router
        .method_not_allowed_fallback(|| async {
            Problem::client(
                StatusCode::METHOD_NOT_ALLOWED,
                "This method is not allowed on this resource.",
            )
        })
        .fallback(|| async { Problem::client(StatusCode::NOT_FOUND, "No such resource.") })
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let body = match serde_json::to_vec(&self) {
            Ok(body) => body,
            // Serialising plain strings and JSON values cannot fail; keep a valid body regardless.
            Err(_) => {
                br#"{"type":"about:blank","title":"Internal Server Error","status":500}"#.to_vec()
            }
        };
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_json(response: Response) -> serde_json::Value {
        let bytes = crate::testing::body_bytes(response.into_body()).await;
        serde_json::from_slice(&bytes).unwrap_or_default()
    }

    #[tokio::test]
    async fn client_problem_has_rfc9457_members_and_content_type() {
        let response = Problem::client(StatusCode::NOT_FOUND, "no post 42").into_response();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()[header::CONTENT_TYPE], CONTENT_TYPE);
        let body = body_json(response).await;
        assert_eq!(
            body,
            serde_json::json!({"type": "about:blank", "title": "Not Found", "status": 404, "detail": "no post 42"})
        );
    }

    #[tokio::test]
    async fn internal_problem_reveals_nothing() {
        let body = body_json(Problem::internal().into_response()).await;
        assert_eq!(
            body,
            serde_json::json!({"type": "about:blank", "title": "Internal Server Error", "status": 500})
        );
    }

    #[tokio::test]
    async fn unavailable_problem_says_when_to_retry() {
        let response = Problem::unavailable().into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        assert_eq!(response.headers()[header::CONTENT_TYPE], CONTENT_TYPE);
        let other = Problem::internal().into_response();
        assert!(other.headers().get(header::RETRY_AFTER).is_none());
    }

    #[tokio::test]
    async fn extensions_are_top_level_members() {
        let problem = Problem::client(StatusCode::UNPROCESSABLE_ENTITY, "invalid")
            .with_extension("errors", serde_json::json!([{"field": "email"}]));
        let body = body_json(problem.into_response()).await;
        assert_eq!(body["errors"][0]["field"], "email");
    }
}
