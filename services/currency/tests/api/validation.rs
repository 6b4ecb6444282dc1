//! Invalid commands are 422 naming every field; malformed bodies are 400, 415 or 413.

use http::{StatusCode, header};
use serde_json::json;

use crate::helpers::harness;

#[tokio::test]
async fn invalid_commands_are_422_with_every_field_and_nothing_queued() {
    let h = harness();
    let cases = [
        (
            json!({"code": "ABC", "name": "x", "minor_units": 2, "rate_to_base": "1"}),
            vec!["code"],
        ),
        (
            json!({"code": "EURO", "name": "Euro", "minor_units": 2, "rate_to_base": "1"}),
            vec!["code"],
        ),
        (
            json!({"code": "EUR", "name": "", "minor_units": 2, "rate_to_base": "1"}),
            vec!["name"],
        ),
        (
            json!({"code": "EUR", "name": "Euro", "minor_units": 3, "rate_to_base": "1"}),
            vec!["minor_units"],
        ),
        (
            json!({"code": "EUR", "name": "Euro", "minor_units": -1, "rate_to_base": "1"}),
            vec!["minor_units"],
        ),
        (
            json!({"code": "EUR", "name": "Euro", "minor_units": 2, "rate_to_base": 1.08}),
            vec!["rate_to_base"],
        ),
        (
            json!({"code": "EUR", "name": "Euro", "minor_units": 2, "rate_to_base": "0"}),
            vec!["rate_to_base"],
        ),
        (
            json!({"code": "EUR", "name": "Euro", "minor_units": 2, "rate_to_base": "-1.5"}),
            vec!["rate_to_base"],
        ),
        (
            json!({"code": "EUR", "name": "Euro", "minor_units": 2, "rate_to_base": "1e3"}),
            vec!["rate_to_base"],
        ),
        (
            json!({"code": "EUR", "name": "Euro", "minor_units": 2, "rate_to_base": "10000000000"}),
            vec!["rate_to_base"],
        ),
        (
            json!({"code": "JPY", "name": " ", "minor_units": 2, "rate_to_base": "x"}),
            vec!["name", "minor_units", "rate_to_base"],
        ),
        (
            json!({"code": "EUR", "name": "Euro", "minor_units": 2, "rate_to_base": "1", "command_id": "has space"}),
            vec!["command_id"],
        ),
        (
            json!({"code": "EUR", "name": "Euro", "minor_units": 2, "rate_to_base": "1", "command_id": "SEQ#EUR"}),
            vec!["command_id"],
        ),
    ];
    for (body, fields) in cases {
        let reply = h.admin_post(&body).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(
            reply.header_or_empty("content-type"),
            "application/problem+json"
        );
        assert_eq!(reply.error_fields(), fields, "{body}: {}", reply.body);
    }
    // PUT and DELETE validate the path code too.
    let put = h
        .write
        .put("/currencies/XXX")
        .bearer(&h.admin())
        .json(&json!({"name": "No", "minor_units": 2, "rate_to_base": "1"}))
        .send()
        .await;
    assert_eq!(put.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(put.error_fields(), ["code"]);
    let delete = h
        .write
        .delete("/currencies/EURO")
        .bearer(&h.admin())
        .send()
        .await;
    assert_eq!(delete.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(h.queue.sent().is_empty(), "nothing queued");
    assert!(h.commands.is_empty(), "nothing stored");
}

#[tokio::test]
async fn malformed_bodies_are_400_415_413_and_unknown_fields_422() {
    let h = harness();
    let admin = h.admin();
    let raw = |body: &'static str, content_type: &'static str| {
        h.write
            .post("/currencies")
            .bearer(&admin)
            .body(content_type, body)
            .send()
    };
    let reply = raw("{not json", "application/json").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = raw("{}", "text/plain").await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let reply = raw(
        r#"{"code":"EUR","name":"Euro","minor_units":2,"rate_to_base":"1","extra":1}"#,
        "application/json",
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let big =
        json!({"code": "EUR", "name": "x".repeat(5000), "minor_units": 2, "rate_to_base": "1"});
    let reply = h.admin_post(&big).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    let reply = h
        .write
        .delete("/currencies/EUR")
        .bearer(&admin)
        .send()
        .await;
    assert_eq!(
        reply.status,
        StatusCode::ACCEPTED,
        "empty delete body is fine"
    );
    let bad_delete = http::Request::delete("/currencies/EUR")
        .header(header::AUTHORIZATION, format!("Bearer {admin}"))
        .body(axum::body::Body::from("{oops"))
        .unwrap_or_default();
    assert_eq!(
        h.write.send(bad_delete).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(h.queue.sent().len(), 1, "only the valid delete was queued");
}

#[tokio::test]
async fn a_null_delete_body_is_no_body_and_numbers_are_integers_whatever_their_spelling() {
    let h = harness();
    let admin = h.admin();
    let reply = h
        .write
        .delete("/currencies/EUR")
        .bearer(&admin)
        .body("application/json", "null")
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "JSON null is no body");
    let reply = h
        .write
        .post("/currencies")
        .bearer(&admin)
        .body(
            "application/json",
            r#"{"code":"JPY","name":"Yen","minor_units":0.0,"rate_to_base":"0.0067"}"#,
        )
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "0.0 is the integer 0");
    assert_eq!(h.queue.sent().len(), 2);
}
