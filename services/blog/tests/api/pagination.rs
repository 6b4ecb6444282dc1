//! Cursor pagination of posts and its tokens.

use http::StatusCode;

use crate::helpers::{id, spawn_app, spawn_app_with_key};

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
        let reply = app.get(&uri).send().await;
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

    let alice = app.get("/posts?author=alice").send().await;
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
    let first = app.get("/posts?limit=1").send().await;
    let token = first.body["next_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!token.is_empty());
    let ok = app
        .get(format!("/posts?limit=1&next_token={token}"))
        .send()
        .await;
    assert_eq!(ok.status, StatusCode::OK);

    let mut tampered = token.clone().into_bytes();
    tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap_or_default();
    let by_author = app.get("/posts?author=alice&limit=1").send().await;
    let foreign = by_author.body["next_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let other_app = spawn_app_with_key(b"another-stage-pagination-key-0123456789");
    for i in 0..3 {
        other_app.create_post("alice", &format!("p{i}")).await;
    }
    // Not of the documented shape: 400. Of that shape but not issued by this listing: 404, no such page.
    let refused = [
        (tampered.as_str(), StatusCode::NOT_FOUND),
        (foreign.as_str(), StatusCode::NOT_FOUND),
        ("garbage", StatusCode::BAD_REQUEST),
        ("a.b", StatusCode::BAD_REQUEST),
    ];
    for (bad, status) in refused {
        let reply = app
            .get(format!("/posts?limit=1&next_token={bad}"))
            .send()
            .await;
        assert_eq!(reply.status, status, "{bad}");
    }
    // A token from another deployment (another key) is no page there either.
    let reply = other_app
        .get(format!("/posts?limit=1&next_token={token}"))
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let long_author = app
        .get(format!("/posts?author={}", "a".repeat(300)))
        .send()
        .await;
    assert_eq!(long_author.status, StatusCode::BAD_REQUEST);
    for limit in ["0", "101", "-3", "ten"] {
        let reply = app.get(format!("/posts?limit={limit}")).send().await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "limit={limit}");
    }
}
