//! Comments: listing, deletion rights, cascade with their post.

use blog::store::BlogStore;
use http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{id, spawn_app};

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
    let first = app.get(&uri).send().await;
    assert_eq!(first.status, StatusCode::OK);
    let token = first.body["next_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let second = app.get(format!("{uri}&next_token={token}")).send().await;
    let seen: Vec<String> = first.body["items"]
        .as_array()
        .into_iter()
        .chain(second.body["items"].as_array())
        .flatten()
        .map(id)
        .collect();
    assert_eq!(seen, created);
    assert_eq!(second.body["next_token"], Value::Null);
    // A comments token is foreign to the posts listing: no such page there.
    let misuse = app.get(format!("/posts?next_token={token}")).send().await;
    assert_eq!(misuse.status, StatusCode::NOT_FOUND);
    // A blank comment, and one without a token.
    for (user, body, expected) in [
        (Some("bob"), " ", StatusCode::UNPROCESSABLE_ENTITY),
        (None, "hi", StatusCode::UNAUTHORIZED),
    ] {
        let reply = app
            .post(format!("/posts/{}/comments", id(&post)))
            .as_maybe_user(user)
            .json(&json!({"body": body}))
            .send()
            .await;
        assert_eq!(reply.status, expected, "{user:?} comments {body:?}");
    }
}

#[tokio::test]
async fn comment_deletion_by_its_author_or_the_posts_author_only() {
    let app = spawn_app();
    let post = app.create_post("alice", "p").await;
    let by_bob = app.create_comment("bob", &id(&post), "bob's").await;
    let by_carol = app.create_comment("carol", &id(&post), "carol's").await;
    // In order: refusals first, then each allowed deletion, then one of an already deleted comment.
    for (user, comment, expected) in [
        ("mallory", &by_bob, StatusCode::FORBIDDEN),
        ("carol", &by_bob, StatusCode::FORBIDDEN),
        ("bob", &by_bob, StatusCode::NO_CONTENT),
        ("alice", &by_carol, StatusCode::NO_CONTENT),
        ("alice", &by_carol, StatusCode::NOT_FOUND),
    ] {
        let reply = app
            .delete(format!("/comments/{}", id(comment)))
            .as_user(user)
            .send()
            .await;
        assert_eq!(reply.status, expected, "{user} deletes {}", comment["body"]);
    }
    let listed = app
        .get(format!("/posts/{}/comments", id(&post)))
        .send()
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
    app.delete(format!("/posts/{}", id(&post)))
        .as_user("alice")
        .send_expecting(StatusCode::NO_CONTENT)
        .await;
    assert_eq!(
        app.get(format!("/posts/{}", id(&post))).send().await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(format!("/posts/{}/comments", id(&post)))
            .send()
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
        app.delete(format!("/posts/{}", id(&post)))
            .as_user("alice")
            .send()
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
