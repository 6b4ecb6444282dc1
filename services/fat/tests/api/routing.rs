//! The fat app routes every request to the module that owns it, and serves the docs.

use http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{login, spawn_app};

#[tokio::test]
async fn auth_routes_reach_the_auth_module() {
    let app = spawn_app();
    let jwks = app.get("/.well-known/jwks.json").send().await;
    assert_eq!(jwks.status, StatusCode::OK);
    assert_eq!(jwks.body["keys"][0]["kty"], "EC", "{}", jwks.body);

    let token = login(&app, "ada@example.com").await;
    let me = app.get("/me").bearer(&token).send().await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["email"], "ada@example.com");
}

#[tokio::test]
async fn blog_routes_reach_the_blog_module_and_accept_auth_tokens() {
    let app = spawn_app();
    let token = login(&app, "author@example.com").await;
    let created = app
        .post("/posts")
        .bearer(&token)
        .json(&json!({"title": "Fat", "body": "One function."}))
        .send()
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap_or_default().to_owned();

    let read = app.get(format!("/posts/{id}")).send().await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["title"], "Fat");
}

#[tokio::test]
async fn billing_routes_reach_the_billing_module() {
    let app = spawn_app();
    let anonymous = app.get("/invoices").send().await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    let token = login(&app, "payer@example.com").await;
    let invoices = app.get("/invoices").bearer(&token).send().await;
    assert_eq!(invoices.status, StatusCode::OK, "{}", invoices.body);
    assert!(invoices.body["items"].is_array(), "{}", invoices.body);
}

#[tokio::test]
async fn currency_reads_and_writes_share_their_paths() {
    let app = spawn_app();
    let list = app.get("/currencies").send_expecting(StatusCode::OK).await;
    assert!(
        !list.header_or_empty("etag").is_empty(),
        "the read side sets ETag"
    );
    let one = app.get("/currencies/USD").send().await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    assert_eq!(one.body["code"], "USD");

    // Same path, write side: a token without the admin role is refused by currency-write itself.
    let token = login(&app, "not-admin@example.com").await;
    let write = app.post("/currencies").bearer(&token).json(&json!({"code": "GBP", "name": "Pound sterling", "minor_units": 2, "rate_to_base": "1.17"})).send()
    .await;
    assert_eq!(write.status, StatusCode::FORBIDDEN, "{}", write.body);
    let anonymous = app.delete("/currencies/USD").json(&json!({})).send().await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let command = app.get("/commands/unknown").send().await;
    assert_eq!(
        command.status,
        StatusCode::UNAUTHORIZED,
        "GET /commands/{{id}} is the write side's"
    );
}

#[tokio::test]
async fn convert_route_reaches_the_convert_module() {
    let app = spawn_app();
    let converted = app.get("/convert?from=USD&to=EUR&amount=1000").send().await;
    assert_eq!(converted.status, StatusCode::OK, "{}", converted.body);
    assert_eq!(converted.body["converted"], 900, "{}", converted.body);
    let bad = app.get("/convert?from=USD&to=EUR&amount=-1").send().await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn every_service_keeps_its_own_health_route() {
    let app = spawn_app();
    for service in fat::openapi::HEALTH_SERVICES {
        let health = app.assert_healthy(service).await;
        // The documented `Health` schema has exactly the fields platform::health answers with.
        let mut fields: Vec<&str> = health
            .body
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        fields.sort_unstable();
        assert_eq!(fields, ["service", "status", "version"]);
    }
}

#[tokio::test]
async fn serves_the_openapi_document() {
    let app = spawn_app();
    let doc = app.get("/openapi.json").send().await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(doc.header_or_empty("content-type"), "application/json");
    assert_eq!(doc.body["openapi"], "3.1.0");
    assert!(doc.body["paths"]["/convert"]["get"].is_object());
    assert!(doc.body["paths"]["/posts/{id}"]["put"].is_object());
}

#[tokio::test]
async fn serves_swagger_ui_without_a_cdn() {
    let app = spawn_app();
    let page = app.get("/docs").send_expecting(StatusCode::OK).await;
    assert!(
        page.header_or_empty("content-type")
            .starts_with("text/html")
    );
    let html = page.text();
    assert!(html.contains(r#"<div id="swagger-ui">"#));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "every URL is relative: {html}"
    );
    assert!(
        page.header_or_empty("content-security-policy")
            .contains("script-src 'self'")
    );

    for (asset, content_type, marker) in [
        ("swagger-ui-bundle.js", "text/javascript", "SwaggerUIBundle"),
        (
            "swagger-initializer.js",
            "text/javascript",
            r#"url: "openapi.json""#,
        ),
        ("swagger-ui.css", "text/css", ".swagger-ui"),
    ] {
        let reply = app.get(format!("/docs/{asset}")).send().await;
        assert_eq!(reply.status, StatusCode::OK, "{asset}");
        assert!(
            reply
                .header_or_empty("content-type")
                .starts_with(content_type),
            "{asset}"
        );
        assert!(reply.text().contains(marker), "{asset}");
        assert!(
            html.contains(&format!("docs/{asset}"))
                || asset == "swagger-ui.css" && html.contains("docs/swagger-ui.css")
        );
    }
    app.assert_not_found("/docs/swagger-ui.js.map").await;
}

#[tokio::test]
async fn unknown_paths_are_problem_json_404s() {
    let app = spawn_app();
    app.assert_not_found("/nope").await;
}

/// Every operation of the document is served by the fat app: a request with placeholder path parameters
/// reaches a handler (whatever it answers), never the fallback or a 405.
#[tokio::test]
async fn every_documented_operation_is_routed() {
    let app = spawn_app();
    let doc = app.get("/openapi.json").send().await;
    let paths = doc.body["paths"].as_object().cloned().unwrap_or_default();
    assert!(paths.len() > 20, "{} paths", paths.len());
    for (path, item) in paths {
        let uri = path
            .replace("{id}", "01ARZ3NDEKTSV4RRFFQ69G5FAV")
            .replace("{code}", "USD")
            .replace("{asset}", "swagger-ui.css");
        assert!(!uri.contains('{'), "unhandled parameter in {path}");
        for method in item
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            let method = Method::from_bytes(method.to_uppercase().as_bytes())
                .unwrap_or_else(|e| panic!("{method}: {e}"));
            // Whatever it answers: the check is only that a handler answered.
            let reply = app
                .request(method.clone(), &uri)
                .body("application/json", "{}")
                .send_unchecked()
                .await;
            assert_ne!(
                reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            let fallback = reply.status == StatusCode::NOT_FOUND
                && reply.body["detail"] == "No such resource.";
            assert!(!fallback, "{method} {path} is documented but not routed");
        }
    }
}
