//! The OpenAPI fragment and the answers it documents.

use http::StatusCode;
use serde_json::json;
use testkit::openapi::assert_bearer_scheme;

use crate::helpers::spawn_app;

#[tokio::test]
async fn openapi_documents_every_route_and_bearer_security() {
    let doc = serde_json::to_value(billing::openapi()).unwrap_or_default();
    for (path, methods) in [
        ("/invoices", vec!["get", "post"]),
        ("/invoices/{id}", vec!["get"]),
        ("/payments", vec!["get", "post"]),
        ("/payments/{id}", vec!["get"]),
    ] {
        for method in methods {
            let op = &doc["paths"][path][method];
            assert!(op.is_object(), "{method} {path}");
            assert_eq!(op["security"][0]["bearer"], json!([]), "{method} {path}");
            assert!(op["responses"]["401"].is_object(), "{method} {path}");
        }
    }
    assert_bearer_scheme(&doc);
    let params = &doc["paths"]["/payments"]["post"]["parameters"];
    assert_eq!(params[0]["name"], "Idempotency-Key");
    assert_eq!(params[0]["in"], "header");
    assert!(doc["components"]["schemas"]["Invoice"]["example"].is_object());
}

/// Contract finding (schemathesis ST103, `./inv contract`): `POST /payments` without `Content-Type` answered 415,
/// which the document did not list. Every operation with a request body documents the 415 it can answer.
#[tokio::test]
async fn a_body_without_content_type_is_415_and_documented() {
    let app = spawn_app();
    app.post("/payments")
        .as_user("alice")
        .header("idempotency-key", "k-415")
        .send_expecting(StatusCode::UNSUPPORTED_MEDIA_TYPE)
        .await;
    let doc = serde_json::to_value(billing::openapi()).unwrap_or_default();
    for (path, method) in [("/payments", "post"), ("/invoices", "post")] {
        assert!(
            doc["paths"][path][method]["responses"]["415"].is_object(),
            "{method} {path} documents 415"
        );
    }
}
