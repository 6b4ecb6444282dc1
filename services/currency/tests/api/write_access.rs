//! The write side needs a token with the admin role; the role is checked before the body is read.

use http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{eur, harness};

#[tokio::test]
async fn writes_need_a_token() {
    let h = harness();
    let reply = h.write.post("/currencies").json(&eur()).send().await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(h.queue.sent().is_empty());
    let reply = h.write.get("/commands/x").send().await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn non_admins_get_403_and_nothing_is_stored_or_queued() {
    let h = harness();
    let token = h.user();
    let body = json!({"name": "Euro", "minor_units": 2, "rate_to_base": "1.1"});
    for (method, path, body) in [
        (Method::POST, "/currencies", Some(eur())),
        (Method::PUT, "/currencies/EUR", Some(body)),
        (Method::DELETE, "/currencies/EUR", None),
        (Method::GET, "/commands/some-id", None),
    ] {
        let request = h.write.request(method.clone(), path).bearer(&token);
        let reply = match &body {
            Some(body) => request.json(body),
            None => request,
        }
        .send()
        .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(
            reply.header_or_empty("content-type"),
            "application/problem+json"
        );
        assert!(
            reply.body["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("admin"),
            "{}",
            reply.body
        );
    }
    // The role is checked before the body is read: an invalid body is still a 403, not a 422.
    let garbage = json!({"code": "nope", "unexpected": true});
    for (method, path) in [
        (Method::POST, "/currencies"),
        (Method::PUT, "/currencies/EUR"),
    ] {
        let reply = h
            .write
            .request(method.clone(), path)
            .bearer(&token)
            .json(&garbage)
            .send()
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{method} {path}");
    }
    let reply = h.write.put("/currencies/EUR").json(&garbage).send().await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(h.queue.sent().is_empty());
    assert!(h.commands.is_empty());
}
