//! Router tests: every route and error case over the in-memory store, through `oneshot`.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use blog::AppState;
use blog::store::{BlogStore, MemoryBlogStore};
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use platform::auth::testing::TestIssuer;
use platform::pagination::PageCodec;
use serde_json::{Value, json};
use tower::ServiceExt;

struct TestApp {
    router: Router,
    issuer: TestIssuer,
    store: Arc<MemoryBlogStore>,
}

struct Reply {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Value,
}

impl Reply {
    fn etag(&self) -> String {
        self.headers
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }
}

fn spawn_app() -> TestApp {
    spawn_app_with_key(b"test-pagination-key-0123456789abcdef")
}

fn spawn_app_with_key(key: &[u8]) -> TestApp {
    let issuer = TestIssuer::new();
    let store = Arc::new(MemoryBlogStore::new());
    let state = AppState {
        store: store.clone(),
        pages: PageCodec::new(key).unwrap_or_else(|e| panic!("{e}")),
        verifier: issuer.verifier(),
    };
    TestApp {
        router: blog::app(state),
        issuer,
        store,
    }
}

impl TestApp {
    fn token(&self, user: &str) -> String {
        self.issuer.token(user, &[])
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .unwrap_or_else(|never| match never {});
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        if status.is_client_error() || status.is_server_error() {
            assert_eq!(
                headers
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok()),
                Some("application/problem+json"),
                "errors are problem+json: {status} {body}"
            );
        }
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn call(
        &self,
        method: &str,
        uri: &str,
        user: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        self.call_with(method, uri, user, body, &[]).await
    }

    async fn call_with(
        &self,
        method: &str,
        uri: &str,
        user: Option<&str>,
        body: Option<Value>,
        extra: &[(&str, &str)],
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(user) = user {
            request = request.header(
                header::AUTHORIZATION,
                format!("Bearer {}", self.token(user)),
            );
        }
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        };
        self.send(request.unwrap_or_default()).await
    }

    async fn create_post(&self, user: &str, title: &str) -> Value {
        let reply = self
            .call(
                "POST",
                "/posts",
                Some(user),
                Some(json!({"title": title, "body": "text"})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body
    }

    async fn create_comment(&self, user: &str, post_id: &str, body: &str) -> Value {
        let reply = self
            .call(
                "POST",
                &format!("/posts/{post_id}/comments"),
                Some(user),
                Some(json!({"body": body})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn health_answers_ok() {
    let app = spawn_app();
    let reply = app.call("GET", "/health/blog", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["service"], "blog");
}

#[tokio::test]
async fn create_then_read_a_post_with_etag_location_and_rfc3339_times() {
    let app = spawn_app();
    let reply = app
        .call(
            "POST",
            "/posts",
            Some("alice"),
            Some(json!({"title": "Hi ✓", "body": "héllo"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let post = reply.body.clone();
    assert_eq!(post["author_id"], "alice");
    assert_eq!(post["version"], 1);
    assert_eq!(reply.etag(), "\"1\"");
    assert_eq!(
        reply.headers[header::LOCATION],
        format!("/posts/{}", id(&post)).as_str()
    );
    for field in ["created_at", "updated_at"] {
        let raw = post[field].as_str().unwrap_or_default();
        assert!(
            time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
                .is_ok(),
            "{field}={raw}"
        );
    }
    let read = app
        .call("GET", &format!("/posts/{}", id(&post)), None, None)
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body, post);
    assert_eq!(read.etag(), "\"1\"");
}

#[tokio::test]
async fn writes_need_a_valid_unrevoked_token() {
    let app = spawn_app();
    let body = json!({"title": "t", "body": "b"});
    let missing = app.call("POST", "/posts", None, Some(body.clone())).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    let garbage = app
        .call_with(
            "POST",
            "/posts",
            None,
            Some(body.clone()),
            &[("authorization", "Bearer abc.def.ghi")],
        )
        .await;
    assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);
    let claims = app.issuer.claims("alice", &[]);
    let token = app.issuer.sign(&claims);
    app.issuer.revoke(&claims).await;
    let revoked = app
        .call_with(
            "POST",
            "/posts",
            None,
            Some(body),
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::UNAUTHORIZED);
    let listed = app.call("GET", "/posts", None, None).await;
    assert_eq!(listed.body["items"], json!([]), "nothing was created");
}

#[tokio::test]
async fn post_input_limits_are_422_and_413() {
    let app = spawn_app();
    let cases = [
        (
            json!({"title": "", "body": "b"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"title": "   ", "body": "b"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"title": "x".repeat(201), "body": "b"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"title": "é".repeat(200), "body": "b"}),
            StatusCode::CREATED,
        ),
        (
            json!({"title": 5, "body": "b"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({"body": "b"}), StatusCode::UNPROCESSABLE_ENTITY),
        (
            json!({"title": "t", "body": "a".repeat(64 * 1024 + 1)}),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            json!({"title": "t", "body": "a".repeat(64 * 1024)}),
            StatusCode::CREATED,
        ),
        (
            json!({"title": "t", "body": "a".repeat(200 * 1024)}),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for (body, expected) in cases {
        let reply = app
            .call("POST", "/posts", Some("alice"), Some(body.clone()))
            .await;
        assert_eq!(
            reply.status,
            expected,
            "{}",
            &body.to_string()[..60.min(body.to_string().len())]
        );
    }
    let invalid = app
        .call(
            "POST",
            "/posts",
            Some("alice"),
            Some(json!({"title": "", "body": "b"})),
        )
        .await;
    assert_eq!(invalid.body["errors"][0]["field"], "title");
    let malformed = app
        .send(
            Request::post("/posts")
                .header(
                    header::AUTHORIZATION,
                    format!("Bearer {}", app.token("alice")),
                )
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{not json"))
                .unwrap_or_default(),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    let listed = app.call("GET", "/posts?limit=100", None, None).await;
    assert_eq!(
        listed.body["items"].as_array().map(Vec::len),
        Some(2),
        "only the valid ones"
    );
}

#[tokio::test]
async fn only_the_author_updates_or_deletes_a_post() {
    let app = spawn_app();
    let post = app.create_post("alice", "mine").await;
    let uri = format!("/posts/{}", id(&post));
    let edit = json!({"title": "stolen", "body": "x", "version": 1});
    let update = app.call("PUT", &uri, Some("mallory"), Some(edit)).await;
    assert_eq!(update.status, StatusCode::FORBIDDEN);
    let delete = app.call("DELETE", &uri, Some("mallory"), None).await;
    assert_eq!(delete.status, StatusCode::FORBIDDEN);
    let read = app.call("GET", &uri, None, None).await;
    assert_eq!(read.body["title"], "mine");
    assert_eq!(read.body["version"], 1);
}

#[tokio::test]
async fn update_with_if_match_bumps_the_version_and_stale_if_match_is_412() {
    let app = spawn_app();
    let post = app.create_post("alice", "v1").await;
    let uri = format!("/posts/{}", id(&post));
    let ok = app
        .call_with(
            "PUT",
            &uri,
            Some("alice"),
            Some(json!({"title": "v2", "body": "b2"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["version"], 2);
    assert_eq!(ok.etag(), "\"2\"");
    assert_eq!(ok.body["created_at"], post["created_at"]);
    let stale = app
        .call_with(
            "PUT",
            &uri,
            Some("alice"),
            Some(json!({"title": "v3", "body": "b3"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(stale.body["current_version"], 2);
    let weak = app
        .call_with(
            "PUT",
            &uri,
            Some("alice"),
            Some(json!({"title": "v3", "body": "b3"})),
            &[("if-match", "W/\"2\"")],
        )
        .await;
    assert_eq!(
        weak.status,
        StatusCode::PRECONDITION_FAILED,
        "weak tags never match If-Match"
    );
    let read = app.call("GET", &uri, None, None).await;
    assert_eq!(read.body["title"], "v2");
}

#[tokio::test]
async fn update_with_body_version_and_stale_version_is_409_and_none_is_428() {
    let app = spawn_app();
    let post = app.create_post("alice", "v1").await;
    let uri = format!("/posts/{}", id(&post));
    let ok = app
        .call(
            "PUT",
            &uri,
            Some("alice"),
            Some(json!({"title": "v2", "body": "b", "version": 1})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    let stale = app
        .call(
            "PUT",
            &uri,
            Some("alice"),
            Some(json!({"title": "v3", "body": "b", "version": 1})),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(stale.body["current_version"], 2);
    let none = app
        .call(
            "PUT",
            &uri,
            Some("alice"),
            Some(json!({"title": "v3", "body": "b"})),
        )
        .await;
    assert_eq!(none.status, StatusCode::PRECONDITION_REQUIRED);
    let invalid = app
        .call(
            "PUT",
            &uri,
            Some("alice"),
            Some(json!({"title": "", "body": "b", "version": 2})),
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    let read = app.call("GET", &uri, None, None).await;
    assert_eq!(read.body["title"], "v2");
    assert_eq!(read.body["version"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_updates_with_the_same_version_have_exactly_one_winner() {
    let app = spawn_app();
    let post = app.create_post("alice", "v1").await;
    let uri = format!("/posts/{}", id(&post));
    let token = app.token("alice");
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let router = app.router.clone();
            let request = Request::put(&uri)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::IF_MATCH, "\"1\"")
                .body(Body::from(
                    json!({"title": format!("edit {i}"), "body": "b"}).to_string(),
                ))
                .unwrap_or_default();
            tokio::spawn(async move {
                router
                    .oneshot(request)
                    .await
                    .map(|r| r.status())
                    .unwrap_or_else(|never| match never {})
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    }
    let wins = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let losses = statuses
        .iter()
        .filter(|s| **s == StatusCode::PRECONDITION_FAILED)
        .count();
    assert_eq!((wins, losses), (1, 7), "{statuses:?}");
    let read = app.call("GET", &uri, None, None).await;
    assert_eq!(read.body["version"], 2);
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_404() {
    let app = spawn_app();
    for uri in [
        "/posts/0193f1a2-7c4e-7a10-9b1d-2f1e0c3d4b5a",
        "/posts/not-a-uuid",
        "/posts/%F0%9F%92%A9",
    ] {
        assert_eq!(
            app.call("GET", uri, None, None).await.status,
            StatusCode::NOT_FOUND,
            "{uri}"
        );
        let comments = format!("{uri}/comments");
        assert_eq!(
            app.call("GET", &comments, None, None).await.status,
            StatusCode::NOT_FOUND
        );
        let put = app
            .call(
                "PUT",
                uri,
                Some("alice"),
                Some(json!({"title": "t", "body": "b", "version": 1})),
            )
            .await;
        assert_eq!(put.status, StatusCode::NOT_FOUND);
        assert_eq!(
            app.call("DELETE", uri, Some("alice"), None).await.status,
            StatusCode::NOT_FOUND
        );
        let comment = app
            .call(
                "POST",
                &comments,
                Some("alice"),
                Some(json!({"body": "hi"})),
            )
            .await;
        assert_eq!(comment.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(
        app.call("DELETE", "/comments/nope", Some("alice"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn posts_page_newest_first_across_pages_without_gaps_or_repeats() {
    let app = spawn_app();
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(id(&app
            .create_post(if i % 2 == 0 { "alice" } else { "bob" }, &format!("p{i}"))
            .await));
    }
    let mut seen = Vec::new();
    let mut uri = "/posts?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let reply = app.call("GET", &uri, None, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        pages += 1;
        let items = reply.body["items"].as_array().cloned().unwrap_or_default();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(id));
        match reply.body["next_token"].as_str() {
            Some(token) => uri = format!("/posts?limit=2&next_token={token}"),
            None => break,
        }
        assert!(pages < 10, "pagination does not terminate");
    }
    created.reverse();
    assert_eq!(seen, created, "newest first, every post exactly once");
    assert_eq!(pages, 3);

    let alice = app.call("GET", "/posts?author=alice", None, None).await;
    let authors: Vec<&str> = alice.body["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p["author_id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(authors, vec!["alice"; 3]);
}

#[tokio::test]
async fn tampered_foreign_and_garbage_tokens_and_bad_limits_are_400() {
    let app = spawn_app();
    for i in 0..3 {
        app.create_post("alice", &format!("p{i}")).await;
    }
    let first = app.call("GET", "/posts?limit=1", None, None).await;
    let token = first.body["next_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!token.is_empty());
    let ok = app
        .call(
            "GET",
            &format!("/posts?limit=1&next_token={token}"),
            None,
            None,
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);

    let mut tampered = token.clone().into_bytes();
    tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap_or_default();
    let by_author = app
        .call("GET", "/posts?author=alice&limit=1", None, None)
        .await;
    let foreign = by_author.body["next_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let other_app = spawn_app_with_key(b"another-stage-pagination-key-0123456789");
    for i in 0..3 {
        other_app.create_post("alice", &format!("p{i}")).await;
    }
    for bad in [tampered.as_str(), foreign.as_str(), "garbage", "a.b"] {
        let reply = app
            .call(
                "GET",
                &format!("/posts?limit=1&next_token={bad}"),
                None,
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    // A token from another deployment (another key) is refused too.
    let reply = other_app
        .call(
            "GET",
            &format!("/posts?limit=1&next_token={token}"),
            None,
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let long_author = app
        .call(
            "GET",
            &format!("/posts?author={}", "a".repeat(300)),
            None,
            None,
        )
        .await;
    assert_eq!(long_author.status, StatusCode::BAD_REQUEST);
    for limit in ["0", "101", "-3", "ten"] {
        let reply = app
            .call("GET", &format!("/posts?limit={limit}"), None, None)
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "limit={limit}");
    }
}

#[tokio::test]
async fn comments_are_listed_oldest_first_and_paginated() {
    let app = spawn_app();
    let post = app.create_post("alice", "p").await;
    let mut created = Vec::new();
    for i in 0..3 {
        created.push(id(&app
            .create_comment("bob", &id(&post), &format!("c{i}"))
            .await));
    }
    let uri = format!("/posts/{}/comments?limit=2", id(&post));
    let first = app.call("GET", &uri, None, None).await;
    assert_eq!(first.status, StatusCode::OK);
    let token = first.body["next_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let second = app
        .call("GET", &format!("{uri}&next_token={token}"), None, None)
        .await;
    let seen: Vec<String> = first.body["items"]
        .as_array()
        .into_iter()
        .chain(second.body["items"].as_array())
        .flatten()
        .map(id)
        .collect();
    assert_eq!(seen, created);
    assert_eq!(second.body["next_token"], Value::Null);
    // A comments token is foreign to the posts listing.
    let misuse = app
        .call("GET", &format!("/posts?next_token={token}"), None, None)
        .await;
    assert_eq!(misuse.status, StatusCode::BAD_REQUEST);
    let blank = app
        .call(
            "POST",
            &format!("/posts/{}/comments", id(&post)),
            Some("bob"),
            Some(json!({"body": " "})),
        )
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    let anonymous = app
        .call(
            "POST",
            &format!("/posts/{}/comments", id(&post)),
            None,
            Some(json!({"body": "hi"})),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn comment_deletion_by_its_author_or_the_posts_author_only() {
    let app = spawn_app();
    let post = app.create_post("alice", "p").await;
    let by_bob = app.create_comment("bob", &id(&post), "bob's").await;
    let by_carol = app.create_comment("carol", &id(&post), "carol's").await;
    let stranger = app
        .call(
            "DELETE",
            &format!("/comments/{}", id(&by_bob)),
            Some("mallory"),
            None,
        )
        .await;
    assert_eq!(stranger.status, StatusCode::FORBIDDEN);
    let other_commenter = app
        .call(
            "DELETE",
            &format!("/comments/{}", id(&by_bob)),
            Some("carol"),
            None,
        )
        .await;
    assert_eq!(other_commenter.status, StatusCode::FORBIDDEN);
    let own = app
        .call(
            "DELETE",
            &format!("/comments/{}", id(&by_bob)),
            Some("bob"),
            None,
        )
        .await;
    assert_eq!(own.status, StatusCode::NO_CONTENT);
    let moderated = app
        .call(
            "DELETE",
            &format!("/comments/{}", id(&by_carol)),
            Some("alice"),
            None,
        )
        .await;
    assert_eq!(moderated.status, StatusCode::NO_CONTENT);
    let again = app
        .call(
            "DELETE",
            &format!("/comments/{}", id(&by_carol)),
            Some("alice"),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let listed = app
        .call("GET", &format!("/posts/{}/comments", id(&post)), None, None)
        .await;
    assert_eq!(listed.body["items"], json!([]));
}

#[tokio::test]
async fn deleting_a_post_deletes_its_comments() {
    let app = spawn_app();
    let post = app.create_post("alice", "p").await;
    let other = app.create_post("alice", "keep").await;
    let comment = app.create_comment("bob", &id(&post), "c").await;
    let kept = app.create_comment("bob", &id(&other), "c").await;
    let deleted = app
        .call(
            "DELETE",
            &format!("/posts/{}", id(&post)),
            Some("alice"),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.call("GET", &format!("/posts/{}", id(&post)), None, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.call("GET", &format!("/posts/{}/comments", id(&post)), None, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.store.get_comment(&id(&comment)).await,
        Ok(None),
        "comment removed from storage"
    );
    assert!(
        matches!(app.store.get_comment(&id(&kept)).await, Ok(Some(_))),
        "other posts' comments stay"
    );
    assert_eq!(
        app.call(
            "DELETE",
            &format!("/posts/{}", id(&post)),
            Some("alice"),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
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
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
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

/// Contract finding (schemathesis ST103, `./inv contract`): `PUT /posts/{id}` and `POST /posts/{id}/comments` without
/// `Content-Type` answered 415, which the document did not list. Every body-taking operation documents it.
#[tokio::test]
async fn a_body_without_content_type_is_415_and_documented() {
    let app = spawn_app();
    let post = app.create_post("alice", "t").await;
    for (method, uri) in [
        ("PUT", format!("/posts/{}", id(&post))),
        ("POST", format!("/posts/{}/comments", id(&post))),
        ("POST", "/posts".to_owned()),
    ] {
        let request = Request::builder()
            .method(method)
            .uri(&uri)
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", app.token("alice")),
            )
            .header(header::IF_MATCH, app_etag(&post))
            .body(Body::empty())
            .unwrap_or_default();
        let reply = app.send(request).await;
        assert_eq!(
            reply.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{method} {uri}"
        );
    }
    let doc = serde_json::to_value(blog::openapi()).unwrap_or_default();
    for (path, method) in [
        ("/posts", "post"),
        ("/posts/{id}", "put"),
        ("/posts/{id}/comments", "post"),
    ] {
        assert!(
            doc["paths"][path][method]["responses"]["415"].is_object(),
            "{method} {path} documents 415"
        );
    }
}

fn app_etag(post: &Value) -> String {
    format!("\"{}\"", post["version"].as_u64().unwrap_or_default())
}

/// Contract finding (schemathesis ST201, `./inv contract`): `PUT /posts/{id}` with a body `version` above int64 (the
/// documented format) and an empty `If-Match` answered 412; schema-invalid input is 422 before preconditions.
#[tokio::test]
async fn a_version_beyond_int64_is_422_even_with_if_match() {
    let app = spawn_app();
    let post = app.create_post("alice", "t").await;
    let body = r#"{"title": "t2", "body": "b", "version": 9223372036854775808}"#;
    for if_match in ["", "\"1\""] {
        let request = Request::builder()
            .method("PUT")
            .uri(format!("/posts/{}", id(&post)))
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", app.token("alice")),
            )
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::IF_MATCH, if_match)
            .body(Body::from(body))
            .unwrap_or_default();
        let reply = app.send(request).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "If-Match {if_match:?}: {}",
            reply.body
        );
    }
}
