//! Listing invoices and payments page by page with signed, user-bound tokens.

use http::StatusCode;

use crate::helpers::{id, spawn_app};

#[tokio::test]
async fn invoices_and_payments_paginate_and_reject_tampered_or_foreign_tokens() {
    let app = spawn_app();
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(id(&app.invoice("alice", "EUR", 100 + i).await));
    }
    app.invoice("bob", "EUR", 1).await;
    let mut seen = Vec::new();
    let mut uri = "/invoices?limit=2".to_owned();
    let mut first_token = String::new();
    for _ in 0..10 {
        let reply = app.get(&uri).as_user("alice").send().await;
        assert_eq!(reply.status, StatusCode::OK);
        seen.extend(reply.body["items"].as_array().into_iter().flatten().map(id));
        match reply.body["next_token"].as_str() {
            Some(token) => {
                if first_token.is_empty() {
                    first_token = token.to_owned();
                }
                uri = format!("/invoices?limit=2&next_token={token}");
            }
            None => break,
        }
    }
    created.reverse();
    assert_eq!(seen, created, "newest first, each once, only alice's");

    let mut tampered = first_token.clone().into_bytes();
    tampered[2] = if tampered[2] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap_or_default();
    let refused = [
        (
            format!("/invoices?next_token={tampered}"),
            "alice",
            "a tampered token",
        ),
        (
            format!("/invoices?next_token={first_token}"),
            "bob",
            "tokens are bound to their user",
        ),
        (
            format!("/payments?next_token={first_token}"),
            "alice",
            "another listing's token",
        ),
    ];
    for (uri, user, why) in refused {
        let reply = app.get(&uri).as_user(user).send().await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{why}: {uri}");
    }
    let reply = app.get("/payments?limit=0").as_user("alice").send().await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "a zero limit");
}
