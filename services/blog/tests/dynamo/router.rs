//! The router over DynamoDB: newest-first pages by feed and by author, signed tokens; store failures as problems.

use std::sync::Arc;

use blog::store::DynamoBlogStore;
use http::StatusCode;
use serde_json::json;
use testkit::moto::{Moto, client_for, dead_endpoint};

use crate::helpers::{app_over, fixture, walk};

#[tokio::test]
async fn dynamo_router_lists_newest_first_across_pages_and_by_author() {
    let f = fixture().await;
    let app = f.app();
    let mut created = Vec::new();
    for i in 0..7 {
        let author = if i % 3 == 0 { "bob" } else { "alice" };
        let reply = app
            .post("/posts")
            .as_user(author)
            .json(&json!({"title": format!("p{i}"), "body": "b"}))
            .send()
            .await;
        assert_eq!(reply.status, StatusCode::CREATED);
        let body = reply.body;
        created.push((author, body["id"].as_str().unwrap_or_default().to_owned()));
    }
    let newest_first: Vec<String> = created.iter().rev().map(|(_, id)| id.clone()).collect();
    assert_eq!(walk(&app, "/posts?limit=3").await, newest_first);
    let bobs: Vec<String> = created
        .iter()
        .rev()
        .filter(|(a, _)| *a == "bob")
        .map(|(_, id)| id.clone())
        .collect();
    assert_eq!(walk(&app, "/posts?author=bob&limit=2").await, bobs);

    let first = app.get("/posts?limit=3").send().await.body;
    let token = first["next_token"].as_str().unwrap_or_default().to_owned();
    let mut bytes = token.clone().into_bytes();
    bytes[5] = if bytes[5] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap_or_default();
    assert_ne!(tampered, token);
    let refused = [
        (
            format!("/posts?limit=3&next_token={tampered}"),
            "a tampered token names no page",
        ),
        (
            format!("/posts?author=bob&next_token={token}"),
            "a feed token is foreign to the author listing",
        ),
    ];
    for (uri, why) in refused {
        assert_eq!(
            app.get(uri).send().await.status,
            StatusCode::NOT_FOUND,
            "{why}"
        );
    }
}

#[tokio::test]
async fn dynamodb_unreachable_is_503_and_other_failures_are_500_without_internals() {
    let moto = Moto::start();
    let app_for = |client: aws_sdk_dynamodb::Client, table: &str| {
        app_over(Arc::new(DynamoBlogStore::new(client, table)))
    };
    let unreachable = app_for(client_for(&dead_endpoint()), "blog");
    let reply = unreachable.get("/posts").send().await;
    let (status, body) = (reply.status, reply.body);
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], 503);
    // A table that does not exist (misconfiguration): 500, and the problem names nothing internal.
    let missing_table = app_for(moto.client(), "no-such-table");
    let reply = missing_table
        .get("/posts/0193f1a2-7c4e-7a10-9b1d-2f1e0c3d4b5a")
        .send()
        .await;
    let (status, body) = (reply.status, reply.body);
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        body,
        json!({"type": "about:blank", "title": "Internal Server Error", "status": 500})
    );
}
