//! A JSON body extractor whose rejections are problem+json, never a panic or a plain-text body.
//!
//! | cause                              | status |
//! |------------------------------------|--------|
//! | missing/other `Content-Type`       | 415    |
//! | body is not JSON (syntax, EOF)     | 400    |
//! | JSON of the wrong shape (missing or mistyped field) | 422 |
//! | body larger than the limit         | 413    |

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::problem::Problem;

/// Drop-in replacement for `axum::Json` with problem+json rejections.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(rejection_to_problem(&rejection)),
        }
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn rejection_to_problem(rejection: &JsonRejection) -> Problem {
    let status = rejection.status();
    let detail = match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "Expected a request body with `Content-Type: application/json`.".to_owned()
        }
        JsonRejection::JsonSyntaxError(_) => "The request body is not valid JSON.".to_owned(),
        // serde's message names the field and the expected type; it never echoes secrets' values.
        JsonRejection::JsonDataError(err) => {
            format!("The request body has the wrong shape: {}", err.body_text())
        }
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => "The request body is too large.".to_owned(),
        _ => "The request body could not be read.".to_owned(),
    };
    let status = if status.is_client_error() {
        status
    } else {
        StatusCode::BAD_REQUEST
    };
    Problem::client(status, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::post;
    use tower::ServiceExt;

    #[derive(serde::Deserialize, Serialize)]
    struct Greeting {
        name: String,
    }

    fn app() -> Router {
        Router::new().route("/", post(|Json(g): Json<Greeting>| async move { Json(g) }))
    }

    async fn send(content_type: Option<&str>, body: &'static str) -> Response {
        let mut request = Request::post("/");
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        let request = request.body(Body::from(body)).unwrap_or_default();
        app()
            .oneshot(request)
            .await
            .unwrap_or_else(|never| match never {})
    }

    #[tokio::test]
    async fn accepts_good_json() {
        assert_eq!(
            send(Some("application/json"), r#"{"name":"ada"}"#)
                .await
                .status(),
            StatusCode::OK
        );
    }

    #[tokio::test]
    async fn bad_syntax_is_400_problem() {
        let response = send(Some("application/json"), "{nope").await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            response.headers()["content-type"],
            crate::problem::CONTENT_TYPE
        );
    }

    #[tokio::test]
    async fn missing_field_is_422_problem() {
        let response = send(Some("application/json"), r#"{"other":1}"#).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            response.headers()["content-type"],
            crate::problem::CONTENT_TYPE
        );
    }

    #[tokio::test]
    async fn missing_content_type_is_415_problem() {
        let response = send(None, r#"{"name":"ada"}"#).await;
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
}
