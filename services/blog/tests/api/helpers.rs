//! The app under test: the blog router over the in-memory store, and the calls many tests make.

use std::sync::Arc;

use blog::AppState;
use blog::store::MemoryBlogStore;
use http::StatusCode;
use platform::auth::testing::TestIssuer;
use platform::pagination::PageCodec;
use serde_json::{Value, json};
use testkit::{Reply, TestClient};

pub struct TestApp {
    client: TestClient,
    pub store: Arc<MemoryBlogStore>,
}

testkit::deref_to_client!(TestApp, client);

pub fn spawn_app() -> TestApp {
    spawn_app_with_key(b"test-pagination-key-0123456789abcdef")
}

pub fn spawn_app_with_key(key: &[u8]) -> TestApp {
    let issuer = TestIssuer::new();
    let store = Arc::new(MemoryBlogStore::new());
    let state = AppState {
        store: store.clone(),
        pages: PageCodec::new(key).unwrap_or_else(|e| panic!("{e}")).into(),
        verifier: issuer.verifier(),
    };
    TestApp {
        client: TestClient::new(blog::app(state), issuer),
        store,
    }
}

impl TestApp {
    /// `POST /posts` of `body` as `user`.
    pub async fn write_post(&self, user: &str, body: &Value) -> Reply {
        self.post("/posts").as_user(user).json(body).send().await
    }

    pub async fn create_post(&self, user: &str, title: &str) -> Value {
        let reply = self
            .write_post(user, &json!({"title": title, "body": "text"}))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body
    }

    pub async fn create_comment(&self, user: &str, post_id: &str, body: &str) -> Value {
        let reply = self
            .post(format!("/posts/{post_id}/comments"))
            .as_user(user)
            .json(&json!({"body": body}))
            .send()
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body
    }
}

pub fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_default().to_owned()
}

pub fn app_etag(post: &Value) -> String {
    format!("\"{}\"", post["version"].as_u64().unwrap_or_default())
}
