//! One access-log line and one EMF document per HTTP request, for every topology.
//!
//! Apply with [`instrument`] in each Lambda binary (`lambda_http::run(platform::http_log::instrument(app))`):
//! the layer runs after routing, so `route` is the matched path template (`/posts/{id}`), never the raw path
//! with ids in it. The line has `method`, `route`, `status`, `latency_ms` (plus the request id, trace id and
//! cold-start flag from [`crate::telemetry`]); it never includes headers, bodies or the query string —
//! tokens, passwords, cookies and `Idempotency-Key` values travel there. A 5xx answered through
//! [`crate::error::respond`] adds its cause as `error`.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::Response;

use crate::error::ErrorCause;

/// `router` as a function serves it: the problem+json 404/405 fallbacks ([`crate::problem::with_fallbacks`]) and
/// the request log/metrics layer on every route and the fallbacks.
pub fn instrument(router: Router) -> Router {
    crate::problem::with_fallbacks(router).layer(middleware::from_fn(log_request))
}

/// The middleware behind [`instrument`].
pub async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    crate::metrics::cold_start();
    let mut response = next.run(request).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let status = response.status().as_u16();
    // The cause of a 5xx (crate::error::respond) is logged here, once, and never leaves the process.
    let cause = response.extensions_mut().remove::<ErrorCause>();
    if let Some(error) = cause {
        tracing::error!(%method, %route, status, latency_ms, %error, "request");
    } else if status >= 500 {
        tracing::error!(%method, %route, status, latency_ms, "request");
    } else {
        tracing::info!(%method, %route, status, latency_ms, "request");
    }
    crate::metrics::request(&format!("{method} {route}"), status, latency_ms);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use serde_json::Value;
    use tower::ServiceExt;

    /// Serves `request` with the JSON log layer capturing, and returns the response and the log lines.
    async fn serve_logged(app: Router, request: http::Request<Body>) -> (Response, Vec<Value>) {
        let buffer = crate::telemetry::testing::Buffer::default();
        let _guard =
            tracing::subscriber::set_default(tracing_subscriber::layer::SubscriberExt::with(
                tracing_subscriber::registry::Registry::default(),
                crate::telemetry::JsonLayer::new(buffer.clone(), None),
            ));
        let response = app.oneshot(request).await;
        let response = response.unwrap_or_else(|never| match never {});
        (response, buffer.lines())
    }

    fn request_line(lines: &[Value]) -> Value {
        let line = lines.iter().find(|l| l["message"] == "request");
        line.cloned().unwrap_or_default()
    }

    #[tokio::test]
    async fn logs_route_method_status_latency_and_no_secrets() {
        let app = instrument(Router::new().route("/posts/{id}", get(|| async { "ok" })));
        let request = http::Request::get("/posts/42?token=query-secret")
            .header("authorization", "Bearer header-secret")
            .header("idempotency-key", "idem-secret")
            .body(Body::empty())
            .unwrap_or_default();
        let (response, lines) = serve_logged(app, request).await;
        assert_eq!(response.status().as_u16(), 200);
        let line = request_line(&lines);
        assert_eq!(line["route"], "/posts/{id}");
        assert_eq!(line["method"], "GET");
        assert_eq!(line["status"], 200);
        assert!(line["latency_ms"].is_number());
        let all = serde_json::to_string(&lines).unwrap_or_default();
        for secret in ["query-secret", "header-secret", "idem-secret", "/posts/42"] {
            assert!(!all.contains(secret), "{secret} in {all}");
        }
    }

    #[tokio::test]
    async fn logs_the_cause_of_a_server_error_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("boom")]
        struct Boom(&'static str);
        impl crate::error::ServiceError for Boom {
            fn problem(&self) -> crate::Problem {
                crate::Problem::internal()
            }
        }
        let app = instrument(Router::new().route(
            "/fail",
            get(|| async { crate::error::respond(Boom("table missing")) }),
        ));
        let request = http::Request::get("/fail")
            .body(Body::empty())
            .unwrap_or_default();
        let (response, lines) = serve_logged(app, request).await;
        assert_eq!(response.status().as_u16(), 500);
        assert!(response.extensions().get::<ErrorCause>().is_none());
        let all = serde_json::to_string(&lines).unwrap_or_default();
        assert_eq!(all.matches("table missing").count(), 1, "{all}");
        let line = request_line(&lines);
        assert_eq!(line["status"], 500);
        assert!(
            line["error"]
                .as_str()
                .unwrap_or_default()
                .contains("table missing")
        );
    }
}
