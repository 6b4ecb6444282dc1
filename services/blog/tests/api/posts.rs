//! Posts: create, read, input limits, ownership, ids, content type.

use axum::body::Body;
use http::{Request, StatusCode, header};
use serde_json::json;

use crate::helpers::{app_etag, id, spawn_app};

#[tokio::test]
async fn create_then_read_a_post_with_etag_location_and_rfc3339_times() {
    let app = spawn_app();
    let reply = app
        .write_post("alice", &json!({"title": "Hi ✓", "body": "héllo"}))
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
    let read = app.get(format!("/posts/{}", id(&post))).send().await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body, post);
    assert_eq!(read.etag(), "\"1\"");
}

#[tokio::test]
async fn writes_need_a_valid_unrevoked_token() {
    let app = spawn_app();
    let body = json!({"title": "t", "body": "b"});
    let missing = app.post("/posts").json(&body).send().await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    let garbage = app
        .post("/posts")
        .json(&body)
        .header("authorization", "Bearer abc.def.ghi")
        .send()
        .await;
    assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);
    let claims = app.issuer().claims("alice", &[]);
    let token = app.issuer().sign(&claims);
    app.issuer().revoke(&claims).await;
    let revoked = app
        .post("/posts")
        .json(&body)
        .header("authorization", &format!("Bearer {token}"))
        .send()
        .await;
    assert_eq!(revoked.status, StatusCode::UNAUTHORIZED);
    let listed = app.get("/posts").send().await;
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
        let reply = app.write_post("alice", &body).await;
        assert_eq!(
            reply.status,
            expected,
            "{}",
            &body.to_string()[..60.min(body.to_string().len())]
        );
    }
    let invalid = app
        .write_post("alice", &json!({"title": "", "body": "b"}))
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
    let listed = app.get("/posts?limit=100").send().await;
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
    let update = app.put(&uri).as_user("mallory").json(&edit).send().await;
    assert_eq!(update.status, StatusCode::FORBIDDEN);
    let delete = app.delete(&uri).as_user("mallory").send().await;
    assert_eq!(delete.status, StatusCode::FORBIDDEN);
    let read = app.get(&uri).send().await;
    assert_eq!(read.body["title"], "mine");
    assert_eq!(read.body["version"], 1);
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
            app.get(uri).send().await.status,
            StatusCode::NOT_FOUND,
            "{uri}"
        );
        let comments = format!("{uri}/comments");
        assert_eq!(
            app.get(&comments).send().await.status,
            StatusCode::NOT_FOUND
        );
        let put = app
            .put(uri)
            .as_user("alice")
            .json(&json!({"title": "t", "body": "b", "version": 1}))
            .send()
            .await;
        assert_eq!(put.status, StatusCode::NOT_FOUND);
        assert_eq!(
            app.delete(uri).as_user("alice").send().await.status,
            StatusCode::NOT_FOUND
        );
        let comment = app
            .post(&comments)
            .as_user("alice")
            .json(&json!({"body": "hi"}))
            .send()
            .await;
        assert_eq!(comment.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(
        app.delete("/comments/nope")
            .as_user("alice")
            .send()
            .await
            .status,
        StatusCode::NOT_FOUND
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
