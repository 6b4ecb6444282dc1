//! The micro-Lambda topology's routers: one operation each, the same handlers and store as the lith.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use blog::store::MemoryBlogStore;
use blog::{AppState, Operation};
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use platform::auth::testing::TestIssuer;
use platform::pagination::PageCodec;
use serde_json::{Value, json};
use tower::ServiceExt;

fn state(issuer: &TestIssuer, store: Arc<MemoryBlogStore>) -> AppState {
    AppState {
        store,
        pages: PageCodec::new(b"test-pagination-key-0123456789abcdef")
            .unwrap_or_else(|e| panic!("{e}")),
        verifier: issuer.verifier(),
    }
}

async fn send(
    router: &Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match body {
        Some(value) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(value.to_string())
        }
        None => Body::empty(),
    };
    let response = router
        .clone()
        .oneshot(request.body(body).unwrap_or_else(|e| panic!("{e}")))
        .await
        .unwrap_or_else(|never| match never {});
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn each_function_serves_its_operation_over_one_shared_store() {
    let issuer = TestIssuer::new();
    let store = Arc::new(MemoryBlogStore::new());
    let micro = |op| blog::operation_app(op, state(&issuer, store.clone()));
    let token = issuer.token("author-1", &[]);

    let (status, created) = send(
        &micro(Operation::CreatePost),
        "POST",
        "/posts",
        Some(&token),
        Some(json!({"title": "Micro", "body": "one function per route"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap_or_default().to_owned();

    let (status, fetched) = send(
        &micro(Operation::GetPost),
        "GET",
        &format!("/posts/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(
        (status, fetched["title"].clone()),
        (StatusCode::OK, json!("Micro"))
    );

    let lith = blog::app(state(&issuer, store.clone()));
    let (status, _) = send(&lith, "GET", &format!("/posts/{id}"), None, None).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the lith sees what a micro function wrote"
    );
}

#[tokio::test]
async fn a_function_answers_404_or_405_for_every_other_operation() {
    let issuer = TestIssuer::new();
    let store = Arc::new(MemoryBlogStore::new());
    let get_post = blog::operation_app(Operation::GetPost, state(&issuer, store));
    let token = issuer.token("author-1", &[]);
    let (status, _) = send(&get_post, "GET", "/posts", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(&get_post, "DELETE", "/posts/p-1", Some(&token), None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _) = send(&get_post, "GET", "/health/blog", None, None).await;
    assert_eq!(status, StatusCode::OK, "health stays on every function");
}

#[test]
fn the_operations_are_exactly_the_documented_routes() {
    let doc = serde_json::to_value(blog::openapi()).unwrap_or_default();
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        if path.starts_with("/health") {
            continue;
        }
        for method in item.as_object().into_iter().flatten().map(|(m, _)| m) {
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    documented.sort();
    let methods = |op: Operation| match op {
        Operation::ListPosts | Operation::GetPost | Operation::ListComments => "GET",
        Operation::CreatePost | Operation::CreateComment => "POST",
        Operation::UpdatePost => "PUT",
        Operation::DeletePost | Operation::DeleteComment => "DELETE",
    };
    let mut served: Vec<(String, String)> = Operation::ALL
        .iter()
        .map(|op| (methods(*op).to_owned(), op.path().to_owned()))
        .collect();
    served.sort();
    assert_eq!(served, documented);
}
