//! Health and the OpenAPI fragment.

use testkit::openapi::assert_bearer_scheme;

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_answers_ok() {
    spawn_app().assert_healthy("blog").await;
}

#[tokio::test]
async fn openapi_documents_every_route_and_bearer_security() {
    let doc = serde_json::to_value(blog::openapi()).unwrap_or_default();
    for (path, methods) in [
        ("/posts", vec!["get", "post"]),
        ("/posts/{id}", vec!["get", "put", "delete"]),
        ("/posts/{id}/comments", vec!["get", "post"]),
        ("/comments/{id}", vec!["delete"]),
    ] {
        for method in methods {
            assert!(doc["paths"][path][method].is_object(), "{method} {path}");
        }
    }
    assert_bearer_scheme(&doc);
    assert!(doc["components"]["schemas"]["Post"]["example"].is_object());
    assert_eq!(
        doc["paths"]["/posts/{id}"]["put"]["responses"]["412"]["content"]["application/problem+json"]
            ["schema"]["$ref"],
        "#/components/schemas/ProblemDoc"
    );
    assert!(
        doc["paths"]["/posts"]["get"]["security"].is_null(),
        "reads are public"
    );
}
