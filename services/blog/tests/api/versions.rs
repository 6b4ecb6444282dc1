//! Optimistic concurrency: `If-Match` (412), body `version` (409), neither (428).

use axum::body::Body;
use http::{Request, StatusCode, header};
use serde_json::{Value, json};
use testkit::Reply;
use tower::ServiceExt;

use crate::helpers::{TestApp, id, spawn_app};

/// Alice's `PUT` of `body` to `uri`, with `If-Match` when given.
async fn edit(app: &TestApp, uri: &str, body: Value, if_match: Option<&str>) -> Reply {
    let request = app.put(uri).as_user("alice").json(&body);
    match if_match {
        Some(tag) => request.header("if-match", tag),
        None => request,
    }
    .send()
    .await
}

#[tokio::test]
async fn update_with_if_match_bumps_the_version_and_stale_if_match_is_412() {
    let app = spawn_app();
    let post = app.create_post("alice", "v1").await;
    let uri = format!("/posts/{}", id(&post));
    let v3 = json!({"title": "v3", "body": "b3"});
    let ok = edit(
        &app,
        &uri,
        json!({"title": "v2", "body": "b2"}),
        Some("\"1\""),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["version"], 2);
    assert_eq!(ok.etag(), "\"2\"");
    assert_eq!(ok.body["created_at"], post["created_at"]);
    let stale = edit(&app, &uri, v3.clone(), Some("\"1\"")).await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(stale.body["current_version"], 2);
    let weak = edit(&app, &uri, v3, Some("W/\"2\"")).await;
    assert_eq!(
        weak.status,
        StatusCode::PRECONDITION_FAILED,
        "weak tags never match If-Match"
    );
    let read = app.get(&uri).send().await;
    assert_eq!(read.body["title"], "v2");
}

#[tokio::test]
async fn update_with_body_version_and_stale_version_is_409_and_none_is_428() {
    let app = spawn_app();
    let post = app.create_post("alice", "v1").await;
    let uri = format!("/posts/{}", id(&post));
    let cases = [
        (
            json!({"title": "v2", "body": "b", "version": 1}),
            StatusCode::OK,
        ),
        (
            json!({"title": "v3", "body": "b", "version": 1}),
            StatusCode::CONFLICT,
        ),
        (
            json!({"title": "v3", "body": "b"}),
            StatusCode::PRECONDITION_REQUIRED,
        ),
        (
            json!({"title": "", "body": "b", "version": 2}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (body, expected) in cases {
        let reply = edit(&app, &uri, body.clone(), None).await;
        assert_eq!(reply.status, expected, "{body}: {}", reply.body);
        if expected == StatusCode::CONFLICT {
            assert_eq!(reply.body["current_version"], 2);
        }
    }
    let read = app.get(&uri).send().await;
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
            let router = app.router();
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
    let read = app.get(&uri).send().await;
    assert_eq!(read.body["version"], 2);
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
