//! `GET /openapi.json`, `GET /docs` (Swagger UI) and `GET /docs/{asset}`, all served from the binary.
//!
//! Swagger UI's files come from the `utoipa-swagger-ui-vendored` crate at build time (see `build.rs`): no
//! CDN at run time and no download at build time. Every URL in the page is relative (`docs/…`,
//! `openapi.json`), so the page works at `/docs` on any host and below an API Gateway stage prefix.

use std::sync::OnceLock;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderValue, StatusCode, header};
use platform::Problem;

/// The Swagger UI release bundled (from the vendored archive's folder name).
pub const SWAGGER_UI_VERSION: &str = env!("SWAGGER_UI_VERSION");

const BUNDLE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/swagger-ui/swagger-ui-bundle.js"));
const STYLESHEET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/swagger-ui/swagger-ui.css"));
const FAVICON: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/swagger-ui/favicon-32x32.png"));
const LICENSE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/swagger-ui/LICENSE"));
const NOTICE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/swagger-ui/NOTICE"));

/// Starts Swagger UI on `openapi.json` (a file, not an inline script, so the page's CSP needs no
/// `unsafe-inline` for scripts).
const INITIALIZER: &str = r##"window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "BaseLayout",
  });
};
"##;

/// Swagger UI's own styles are partly inline; scripts, fetches and images stay on this origin.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                        img-src 'self' data:; connect-src 'self'; font-src 'self' data:; base-uri 'none'; \
                        form-action 'self'; frame-ancestors 'none'";

const ASSET_CACHE: &str = "public, max-age=86400";

/// The three documentation routes (stateless; merged into the fat app).
pub fn router() -> Router {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/docs", get(page))
        .route("/docs/{asset}", get(asset))
}

/// The merged document, serialised once per environment on first use.
pub fn document_json() -> Result<&'static Bytes, &'static str> {
    static DOCUMENT: OnceLock<Result<Bytes, String>> = OnceLock::new();
    DOCUMENT
        .get_or_init(|| {
            let api = crate::openapi::document().map_err(|e| e.to_string())?;
            serde_json::to_vec(&api)
                .map(Bytes::from)
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(String::as_str)
}

async fn openapi_json() -> Response {
    match document_json() {
        Ok(json) => (
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "public, max-age=300"),
            ],
            json.clone(),
        )
            .into_response(),
        Err(reason) => {
            tracing::error!(%reason, "the OpenAPI fragments do not merge");
            Problem::internal().into_response()
        }
    }
}

fn page_html() -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Rust on AWS Lambda reference API - Swagger UI</title>
  <link rel="stylesheet" href="docs/swagger-ui.css?v={v}">
  <link rel="icon" type="image/png" href="docs/favicon-32x32.png?v={v}">
  <style>html {{ box-sizing: border-box; overflow-y: scroll; }} *, *::before, *::after {{ box-sizing: inherit; }} body {{ margin: 0; background: #fafafa; }}</style>
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js?v={v}"></script>
  <script src="docs/swagger-initializer.js?v={v}"></script>
</body>
</html>
"#,
        v = SWAGGER_UI_VERSION
    )
}

async fn page() -> Response {
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        page_html(),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn asset(Path(name): Path<String>) -> Response {
    let (content_type, body): (&str, &'static [u8]) = match name.as_str() {
        "swagger-ui-bundle.js" => ("text/javascript; charset=utf-8", BUNDLE),
        "swagger-initializer.js" => ("text/javascript; charset=utf-8", INITIALIZER.as_bytes()),
        "swagger-ui.css" => ("text/css; charset=utf-8", STYLESHEET),
        "favicon-32x32.png" => ("image/png", FAVICON),
        "LICENSE" | "NOTICE" => (
            "text/plain; charset=utf-8",
            if name == "LICENSE" { LICENSE } else { NOTICE },
        ),
        _ => return Problem::client(StatusCode::NOT_FOUND, "No such asset.").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, ASSET_CACHE),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        Bytes::from_static(body),
    )
        .into_response()
}
