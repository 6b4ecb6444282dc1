//! Invalid commands are 422 naming every field; malformed bodies are 400, 415 or 413.

use http::{StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::harness;

/// A valid new EUR with `field` set to `value`.
fn valid_with(field: &str, value: &Value) -> Value {
    let mut body = json!({"code": "EUR", "name": "Euro", "minor_units": 2, "rate_to_base": "1"});
    body[field] = value.clone();
    body
}

#[tokio::test]
async fn invalid_commands_are_422_with_every_field_and_nothing_queued() {
    let h = harness();
    // Each field with the values it refuses, one at a time in an otherwise valid command.
    let invalid: [(&str, Vec<Value>); 5] = [
        ("code", vec![json!("ABC"), json!("EURO")]),
        ("name", vec![json!("")]),
        ("minor_units", vec![json!(3), json!(-1)]),
        (
            "rate_to_base",
            vec![
                json!(1.08),
                json!("0"),
                json!("-1.5"),
                json!("1e3"),
                json!("10000000000"),
            ],
        ),
        ("command_id", vec![json!("has space"), json!("SEQ#EUR")]),
    ];
    let mut cases: Vec<(Value, Vec<&str>)> = invalid
        .iter()
        .flat_map(|(field, values)| values.iter().map(|v| (valid_with(field, v), vec![*field])))
        .collect();
    // Every invalid field is named at once.
    cases.push((
        json!({"code": "JPY", "name": " ", "minor_units": 2, "rate_to_base": "x"}),
        vec!["name", "minor_units", "rate_to_base"],
    ));
    for (body, fields) in cases {
        let reply = h.admin_post(&body).await;
        reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(reply.error_fields(), fields, "{body}: {}", reply.body);
    }
    // PUT and DELETE validate the path code too.
    let put = h
        .admin_put(
            "XXX",
            &json!({"name": "No", "minor_units": 2, "rate_to_base": "1"}),
        )
        .await;
    assert_eq!(put.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(put.error_fields(), ["code"]);
    let delete = h.admin_delete("EURO", None).await;
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
    let reply = h.admin_delete("EUR", None).await;
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
