//! The micro-Lambda topology's routers: one operation each, the same handlers and store as the lith.

use std::sync::Arc;

use blog::store::MemoryBlogStore;
use blog::{AppState, Operation};
use http::StatusCode;
use platform::auth::testing::TestIssuer;
use platform::pagination::PageCodec;
use serde_json::json;
use testkit::TestClient;

fn state(issuer: &TestIssuer, store: Arc<MemoryBlogStore>) -> AppState {
    AppState {
        store,
        pages: PageCodec::new(b"test-pagination-key-0123456789abcdef")
            .unwrap_or_else(|e| panic!("{e}"))
            .into(),
        verifier: issuer.verifier(),
    }
}

/// The lith and any micro function over one store, trusting one issuer.
struct Topologies {
    store: Arc<MemoryBlogStore>,
    lith: TestClient,
}

impl Topologies {
    fn new() -> Self {
        let issuer = TestIssuer::new();
        let store = Arc::new(MemoryBlogStore::new());
        let lith = TestClient::new(blog::app(state(&issuer, store.clone())), issuer);
        Self { store, lith }
    }

    /// The function serving `op` alone.
    fn micro(&self, op: Operation) -> TestClient {
        let router = platform::http_log::instrument(blog::operation_app(
            op,
            state(self.lith.issuer(), self.store.clone()),
        ));
        self.lith.with_router(router)
    }
}

#[tokio::test]
async fn each_function_serves_its_operation_over_one_shared_store() {
    let topologies = Topologies::new();
    let created = topologies
        .micro(Operation::CreatePost)
        .post("/posts")
        .as_user("author-1")
        .json(&json!({"title": "Micro", "body": "one function per route"}))
        .send()
        .await;
    let (status, created) = (created.status, created.body);
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap_or_default().to_owned();

    let fetched = topologies
        .micro(Operation::GetPost)
        .get(format!("/posts/{id}"))
        .send()
        .await;
    assert_eq!(
        (fetched.status, fetched.body["title"].clone()),
        (StatusCode::OK, json!("Micro"))
    );

    let status = topologies
        .lith
        .get(format!("/posts/{id}"))
        .send()
        .await
        .status;
    assert_eq!(
        status,
        StatusCode::OK,
        "the lith sees what a micro function wrote"
    );
}

#[tokio::test]
async fn a_function_answers_404_or_405_for_every_other_operation() {
    let get_post = Topologies::new().micro(Operation::GetPost);
    // Served as the function serves it (platform::http_log::instrument): problem+json, checked by `send`.
    let status = get_post.get("/posts").send().await.status;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let status = get_post
        .delete("/posts/p-1")
        .as_user("author-1")
        .send()
        .await
        .status;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let status = get_post.get("/health/blog").send().await.status;
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
