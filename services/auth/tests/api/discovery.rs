//! Discovery documents, routing problems and the OpenAPI fragment.

use auth::AppState;
use http::StatusCode;
use serde_json::json;
use testkit::TestClient;
use testkit::openapi::{assert_bearer_scheme, assert_schemas};

use crate::helpers::{ISSUER, TestApp, spawn_app};

#[tokio::test]
async fn openid_configuration_points_at_the_jwks() {
    let app = spawn_app();
    // Another Host than the client's default one.
    let reply = TestClient::without_issuer(app.router())
        .get("/.well-known/openid-configuration")
        .header("host", "127.0.0.1:3000")
        .header("x-forwarded-proto", "http")
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    // The configured issuer, whatever the Host header says.
    assert_eq!(reply.body["issuer"], ISSUER);
    assert_eq!(
        reply.body["jwks_uri"],
        format!("{ISSUER}/.well-known/jwks.json")
    );
    assert_eq!(
        reply.body["id_token_signing_alg_values_supported"],
        json!(["ES256"])
    );

    let (fixed, handles) = AppState::for_tests(Some("https://id.example.com"));
    let fixed = TestApp::over(fixed, handles);
    let reply = fixed.get("/.well-known/openid-configuration").send().await;
    assert_eq!(reply.body["issuer"], "https://id.example.com");
}

#[tokio::test]
async fn unknown_route_and_method_are_problems_and_health_still_answers() {
    let app = spawn_app();
    app.assert_not_found("/nope").await;
    app.get("/login")
        .send()
        .await
        .assert_problem(StatusCode::METHOD_NOT_ALLOWED);
    app.assert_healthy("auth").await;
}

#[test]
fn openapi_documents_every_route_with_problem_errors_and_bearer_security() {
    let api = serde_json::to_value(auth::openapi()).unwrap_or_default();
    let paths = &api["paths"];
    for (path, method) in [
        ("/register", "post"),
        ("/login", "post"),
        ("/logout", "post"),
        ("/me", "get"),
        ("/.well-known/jwks.json", "get"),
        ("/.well-known/openid-configuration", "get"),
    ] {
        let operation = &paths[path][method];
        assert!(operation.is_object(), "{method} {path} undocumented");
        let responses = operation["responses"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (status, response) in responses {
            // API Gateway's own throttling answer is `application/json` (platform::openapi::EdgeResponses).
            let edge = response["content"]["application/json"]["schema"]["$ref"]
                == "#/components/schemas/EdgeThrottled";
            if (status.starts_with('4') || status.starts_with('5')) && !edge {
                assert!(
                    response["content"]["application/problem+json"].is_object(),
                    "{method} {path} {status} is not problem+json"
                );
            }
        }
    }
    for path in ["/logout", "/me"] {
        let method = if path == "/me" { "get" } else { "post" };
        assert_eq!(
            paths[path][method]["security"],
            json!([{"bearer": []}]),
            "{path}"
        );
    }
    assert_bearer_scheme(&api);
    assert_schemas(
        &api,
        &[
            "RegisterRequest",
            "LoginRequest",
            "TokenResponse",
            "UserResponse",
            "ProblemDetails",
            "JwksDocument",
            "OpenIdConfiguration",
        ],
    );
    assert!(paths["/register"]["post"]["responses"]["409"].is_object());
    assert!(paths["/login"]["post"]["responses"]["401"].is_object());
}
