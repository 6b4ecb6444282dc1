//! `GET /health/{service}`: liveness of the function itself (no dependency calls, so it stays cheap under load).

use axum::Router;
use axum::routing::get;
use serde::Serialize;

use crate::json::Json;

#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
    pub service: &'static str,
    pub version: &'static str,
}

/// A router with `GET /health/{service}` answering `{"status":"ok","service":…,"version":…}`.
pub fn router<S: Clone + Send + Sync + 'static>(
    service: &'static str,
    version: &'static str,
) -> Router<S> {
    Router::new().route(
        &format!("/health/{service}"),
        get(move || async move {
            Json(Health {
                status: "ok",
                service,
                version,
            })
        }),
    )
}
