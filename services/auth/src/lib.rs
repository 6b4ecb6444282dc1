//! Auth service: accounts, tokens and the JWKS other services verify against.
//!
//! The crate is topology-agnostic: [`app`] returns an axum `Router` that the lith binary, the fat Lambda
//! and the tests all serve unchanged.

use axum::Router;

/// Shared, cheaply cloneable state for every handler.
#[derive(Clone, Default)]
pub struct AppState {}

/// Every auth route.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(platform::health::router("auth", env!("CARGO_PKG_VERSION")))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    #[tokio::test]
    async fn health_answers_ok() {
        let request = axum::http::Request::get("/health/auth")
            .body(Body::empty())
            .unwrap_or_default();
        let response = app(AppState::default())
            .oneshot(request)
            .await
            .unwrap_or_else(|never| match never {});
        assert_eq!(response.status(), 200);
        let body = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        assert_eq!(json["status"], "ok");
        assert_eq!(json["service"], "auth");
    }

    #[tokio::test]
    async fn unknown_route_is_404() {
        let request = axum::http::Request::get("/nope")
            .body(Body::empty())
            .unwrap_or_default();
        let response = app(AppState::default())
            .oneshot(request)
            .await
            .unwrap_or_else(|never| match never {});
        assert_eq!(response.status(), 404);
    }
}
