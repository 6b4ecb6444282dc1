//! Health, the OpenAPI fragment and the buffered service the Lambda binaries run.

use axum::body::Body;
use http::{Request, StatusCode};
use testkit::Reply;
use tower::ServiceExt;

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_answers_without_reading_rates() {
    let app = spawn_app();
    app.assert_healthy("convert").await;
    assert_eq!(app.store.total_reads(), 0);
}

#[test]
fn openapi_fragment_documents_the_route_its_parameters_and_errors() {
    let doc = serde_json::to_value(convert::openapi()).unwrap_or_default();
    let op = &doc["paths"]["/convert"]["get"];
    let params: Vec<&str> = op["parameters"]
        .as_array()
        .map(|ps| ps.iter().filter_map(|p| p["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(params, ["from", "to", "amount"]);
    assert!(
        op["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().all(|p| p["required"] == true))
    );
    for status in ["200", "400", "404", "422", "503"] {
        assert!(op["responses"][status].is_object(), "{status} missing");
    }
    assert!(doc["components"]["schemas"]["Conversion"].is_object());
}

#[tokio::test]
async fn buffered_service_answers_like_the_router() {
    let app = spawn_app();
    let service = convert::buffered::buffered::<Body>(app.router());
    let request = Request::get("/convert?from=USD&to=EUR&amount=10800")
        .body(Body::empty())
        .unwrap_or_else(|e| panic!("{e}"));
    let response = service
        .oneshot(request)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let reply = Reply::read(response).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["converted"], 10_000);
}
