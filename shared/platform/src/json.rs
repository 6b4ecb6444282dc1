//! A JSON body extractor whose rejections are problem+json, never a panic or a plain-text body.
//!
//! | cause                              | status |
//! |------------------------------------|--------|
//! | missing/other `Content-Type`       | 415    |
//! | body is not JSON (syntax, EOF)     | 400    |
//! | JSON of the wrong shape (missing or mistyped field) | 422 |
//! | body larger than the limit         | 413    |
//!
//! A number with an integral value is an integer whatever its spelling: JSON Schema's `integer` (which the
//! OpenAPI document names) accepts `6951.0` and `1e3`, so an integer field does too (serde alone would refuse
//! `6951.0` for an `i64`). A fraction, or a value beyond the 64-bit range, stays a float and is refused (422).

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
        let axum::Json(mut value) = axum::Json::<serde_json::Value>::from_request(req, state)
            .await
            .map_err(|rejection| rejection_to_problem(&rejection))?;
        integral_floats_to_integers(&mut value);
        // serde's message names the field and the expected type; it never echoes secrets' values.
        serde_path_to_error::deserialize(value)
            .map(Json)
            .map_err(|err| {
                Problem::client(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("The request body has the wrong shape: {err}"),
                )
            })
    }
}

/// Rewrites every float with an integral value inside the 64-bit range (`6951.0`, `1e3`, `-0.0`) as that integer.
pub fn integral_floats_to_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(number) if number.is_f64() => {
            if let Some(integer) = number.as_f64().and_then(exact_integer) {
                *value = integer;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_to_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_floats_to_integers),
        _ => {}
    }
}

fn exact_integer(float: f64) -> Option<serde_json::Value> {
    // 2^63 and 2^64 are exact in f64; every integral f64 below them converts without loss.
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;
    if float.fract() != 0.0 || !float.is_finite() {
        return None;
    }
    if (-TWO_POW_63..TWO_POW_63).contains(&float) {
        Some(serde_json::Value::from(float as i64))
    } else if (0.0..TWO_POW_64).contains(&float) {
        Some(serde_json::Value::from(float as u64))
    } else {
        None
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

    #[derive(serde::Deserialize, Serialize)]
    struct Line {
        quantity: i64,
        price: u64,
        rate: f64,
    }

    async fn line(body: &'static str) -> Response {
        let app = Router::new().route("/", post(|Json(l): Json<Line>| async move { Json(l) }));
        let request = Request::post("/")
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap_or_default();
        app.oneshot(request)
            .await
            .unwrap_or_else(|never| match never {})
    }

    #[tokio::test]
    async fn integral_floats_are_integers() {
        let response = line(r#"{"quantity": 6951.0, "price": 1e3, "rate": 2.0}"#).await;
        assert_eq!(response.status(), StatusCode::OK);
        let bytes = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap_or_default();
        let echoed: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        assert_eq!(
            echoed,
            serde_json::json!({"quantity": 6951, "price": 1000, "rate": 2.0})
        );
    }

    #[tokio::test]
    async fn fractions_and_out_of_range_floats_are_422_naming_the_field() {
        for body in [
            r#"{"quantity": 1.5, "price": 1, "rate": 1}"#,
            r#"{"quantity": 1e19, "price": 1, "rate": 1}"#,
            r#"{"quantity": 1, "price": -1.0, "rate": 1}"#,
        ] {
            let response = line(body).await;
            assert_eq!(
                response.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{body}"
            );
            let bytes = axum::body::to_bytes(response.into_body(), 4096)
                .await
                .unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                text.contains("quantity") || text.contains("price"),
                "{body}: {text}"
            );
        }
    }

    #[test]
    fn exact_integer_bounds() {
        assert_eq!(exact_integer(-0.0), Some(serde_json::json!(0)));
        assert_eq!(
            exact_integer(-9_223_372_036_854_775_808.0),
            Some(serde_json::json!(i64::MIN))
        );
        assert_eq!(
            exact_integer(9_223_372_036_854_775_808.0),
            Some(serde_json::json!(9_223_372_036_854_775_808_u64))
        );
        assert_eq!(exact_integer(18_446_744_073_709_551_616.0), None);
        assert_eq!(exact_integer(f64::NAN), None);
        assert_eq!(exact_integer(0.5), None);
    }

    #[tokio::test]
    async fn missing_content_type_is_415_problem() {
        let response = send(None, r#"{"name":"ada"}"#).await;
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
}
