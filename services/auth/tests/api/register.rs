//! `POST /register`: the user is created without exposing the hash; duplicates, weak passwords and bad bodies are problems.

use auth::store::UserStore;
use http::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, spawn_app};

#[tokio::test]
async fn register_creates_the_user_and_returns_no_hash() {
    let app = spawn_app();
    let reply = app.register("  Ada@Example.COM ").await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.headers["location"], "/me");
    assert_eq!(reply.body["email"], "ada@example.com");
    assert_eq!(reply.body["roles"], json!([]));
    assert!(reply.body["id"].as_str().is_some_and(|id| id.len() == 36));
    assert!(
        reply.body["created_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let text = reply.text();
    assert!(
        !text.contains("argon2") && !text.contains("password"),
        "{text}"
    );
    let stored = app
        .handles
        .store
        .find_by_email("ada@example.com")
        .await
        .ok()
        .flatten();
    assert!(stored.is_some_and(|u| u.password_hash.starts_with("$argon2id$")));
}

#[tokio::test]
async fn duplicate_email_is_409_even_with_other_case_and_spaces() {
    let app = spawn_app();
    assert_eq!(
        app.register("ada@example.com").await.status,
        StatusCode::CREATED
    );
    let reply = app.register(" ADA@example.com").await;
    reply.assert_problem(StatusCode::CONFLICT);
    assert_eq!(reply.body["type"], "/problems/email-taken");
}

#[tokio::test]
async fn weak_password_is_422_with_field_errors() {
    let app = spawn_app();
    let too_long = "ab".repeat(65);
    // Each password with the rule it breaks.
    for (password, rule) in [
        ("short", "at least 12 characters"),
        ("aaaaaaaaaaaaaaaa", "not one repeated character"),
        ("abcdefghijklmnop", "not a simple sequence"),
        ("password1234", "not a common password"),
        ("ada@example.com", "not the email"),
        (too_long.as_str(), "at most 128 characters"),
    ] {
        let reply = app.register_with("ada@example.com", password).await;
        reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
        let field = &reply.body["errors"][0]["field"];
        assert_eq!(field, "password", "{password:?}: {rule}");
    }
    // Nothing was created.
    assert!(matches!(
        app.handles.store.find_by_email("ada@example.com").await,
        Ok(None)
    ));
}

#[tokio::test]
async fn invalid_email_and_password_are_both_reported() {
    let app = spawn_app();
    let reply = app
        .post("/register")
        .json(&json!({"email": "not-an-email", "password": "short"}))
        .send()
        .await;
    reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = reply.body["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(fields, vec!["email", "password"]);
}

#[tokio::test]
async fn bad_bodies_are_problems() {
    let app = spawn_app();
    let bad_json = app
        .post("/register")
        .body("application/json", "{\"email\": ")
        .send()
        .await;
    bad_json.assert_problem(StatusCode::BAD_REQUEST);

    let missing_field = app
        .post("/register")
        .json(&json!({"email": "ada@example.com"}))
        .send()
        .await;
    missing_field.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);

    let wrong_type = app
        .post("/login")
        .json(&json!({"email": 42, "password": PASSWORD}))
        .send()
        .await;
    wrong_type.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);

    let no_content_type = app
        .post("/login")
        .body_without_content_type(json!({"email": "a@b.co", "password": PASSWORD}).to_string())
        .send()
        .await;
    no_content_type.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let huge = app
        .post("/register")
        .json(&json!({"email": "ada@example.com", "password": "x".repeat(20_000)}))
        .send()
        .await;
    huge.assert_problem(StatusCode::PAYLOAD_TOO_LARGE);
}
