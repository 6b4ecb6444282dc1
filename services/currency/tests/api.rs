//! Router tests over in-memory stores: every read and write route and error, through `oneshot`.

mod common;

use std::time::Duration;

use common::{harness, harness_with_ttl};
use currency::domain::{CommandMessage, Status};
use http::{StatusCode, header};
use money::{CurrencyCode, CurrencyRecord, Decimal};
use serde_json::{Value, json};

fn code(raw: &str) -> CurrencyCode {
    CurrencyCode::parse(raw).unwrap_or_else(|e| panic!("{e}"))
}

fn record(raw: &str, rate: &str, version: u64) -> CurrencyRecord {
    let code = code(raw);
    CurrencyRecord::new(
        code,
        code.iso_name(),
        code.minor_units(),
        rate.parse::<Decimal>().unwrap_or_else(|e| panic!("{e}")),
        version,
        time::OffsetDateTime::UNIX_EPOCH,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn eur() -> Value {
    json!({"code": "EUR", "name": "Euro", "minor_units": 2, "rate_to_base": "1.0825"})
}

// ---------------------------------------------------------------- read side

#[tokio::test]
async fn list_is_sorted_with_strong_etag_and_cache_control() {
    let h = harness();
    h.currencies.put(record("USD", "1", 1));
    h.currencies.put(record("EUR", "1.08", 3));
    let reply = h.get("/currencies").await;
    assert_eq!(reply.status, StatusCode::OK);
    let codes: Vec<&str> = reply.body["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["code"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(codes, ["EUR", "USD"]);
    assert_eq!(reply.body["items"][0]["rate_to_base"], "1.08");
    assert_eq!(reply.body["items"][0]["version"], 3);
    let etag = reply.header("etag");
    assert!(etag.starts_with('"') && etag.ends_with('"') && !etag.starts_with("W/"));
    assert_eq!(reply.header("cache-control"), "public, max-age=5");
}

#[tokio::test]
async fn empty_read_model_lists_nothing() {
    let h = harness();
    let reply = h.get("/currencies").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, json!({"items": []}));
}

#[tokio::test]
async fn get_returns_the_currency_with_its_version_etag() {
    let h = harness();
    h.currencies.put(record("JPY", "0.0067", 4));
    for path in ["/currencies/JPY", "/currencies/jpy"] {
        let reply = h.get(path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(
            reply.body,
            json!({"code": "JPY", "name": "Yen", "minor_units": 0, "rate_to_base": "0.0067",
                   "version": 4, "updated_at": "1970-01-01T00:00:00Z"})
        );
        assert_eq!(reply.header("etag"), "\"JPY-4\"");
        assert_eq!(reply.header("cache-control"), "public, max-age=5");
    }
}

#[tokio::test]
async fn unknown_or_invalid_codes_are_404_problems() {
    let h = harness();
    h.currencies.put(record("USD", "1", 1));
    for path in [
        "/currencies/EUR",
        "/currencies/XYZ",
        "/currencies/EURO",
        "/currencies/%00",
    ] {
        let reply = h.get(path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.header("content-type"), "application/problem+json");
        assert_eq!(reply.body["status"], 404);
    }
}

#[tokio::test]
async fn if_none_match_answers_304_without_a_body() {
    let h = harness();
    h.currencies.put(record("USD", "1", 1));
    for path in ["/currencies", "/currencies/USD"] {
        let first = h.get(path).await;
        let etag = first.header("etag");
        let again = h.get_with(path, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(again.body, Value::Null);
        assert_eq!(again.header("etag"), etag);
        assert_eq!(again.header("cache-control"), "public, max-age=5");
        // Weak comparison, lists and `*` also match; another tag does not.
        let weak = format!("W/{etag}");
        let listed = format!("\"other\", {etag}");
        for value in [weak.as_str(), listed.as_str(), "*"] {
            let reply = h.get_with(path, &[("if-none-match", value)]).await;
            assert_eq!(reply.status, StatusCode::NOT_MODIFIED, "{path} {value}");
        }
        let other = h.get_with(path, &[("if-none-match", "\"USD-0\"")]).await;
        assert_eq!(other.status, StatusCode::OK);
    }
}

#[tokio::test(start_paused = true)]
async fn cache_serves_one_snapshot_until_the_ttl_expires() {
    let h = harness_with_ttl(Duration::from_secs(5));
    h.currencies.put(record("USD", "1", 1));
    let first = h.get("/currencies/USD").await;
    assert_eq!(first.header("etag"), "\"USD-1\"");
    h.currencies.put(record("USD", "1.5", 2));
    h.currencies.put(record("EUR", "1.1", 1));

    tokio::time::advance(Duration::from_secs(4)).await;
    let cached = h.get("/currencies/USD").await;
    assert_eq!(cached.header("etag"), "\"USD-1\"", "served from the cache");
    assert_eq!(h.get("/currencies/EUR").await.status, StatusCode::NOT_FOUND);
    assert_eq!(h.currencies.list_calls(), 1, "one scan for every read");

    tokio::time::advance(Duration::from_secs(1)).await;
    let fresh = h.get("/currencies/USD").await;
    assert_eq!(fresh.header("etag"), "\"USD-2\"");
    assert_eq!(fresh.body["rate_to_base"], "1.5");
    assert_eq!(h.get("/currencies/EUR").await.status, StatusCode::OK);
    assert_eq!(h.currencies.list_calls(), 2);
}

#[tokio::test]
async fn list_etag_changes_with_any_version_and_304_stops_matching() {
    let h = harness_with_ttl(Duration::ZERO);
    h.currencies.put(record("USD", "1", 1));
    let before = h.get("/currencies").await;
    assert_eq!(before.header("cache-control"), "no-cache");
    let sub_second = harness_with_ttl(Duration::from_millis(250));
    assert_eq!(
        sub_second.get("/currencies").await.header("cache-control"),
        "no-cache"
    );
    let etag = before.header("etag");
    h.currencies.put(record("USD", "1", 2));
    let after = h.get_with("/currencies", &[("if-none-match", &etag)]).await;
    assert_eq!(after.status, StatusCode::OK);
    assert_ne!(after.header("etag"), etag);
    assert_eq!(h.currencies.list_calls(), 2, "TTL 0 reads every time");
}

#[tokio::test]
async fn read_router_has_no_write_routes_and_a_health_route() {
    let h = harness();
    let health = h.get("/health/currency-read").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["service"], "currency-read");
    let reply = common::send(
        &h.read,
        http::Request::post("/currencies")
            .body(axum::body::Body::empty())
            .unwrap_or_default(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
}

// ---------------------------------------------------------------- write side: auth

#[tokio::test]
async fn writes_need_a_token() {
    let h = harness();
    let reply = h
        .write("POST", "/currencies", None, Some(&eur()), &[])
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(h.queue.sent().is_empty());
    let reply = h.write("GET", "/commands/x", None, None, &[]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn non_admins_get_403_and_nothing_is_stored_or_queued() {
    let h = harness();
    let token = h.user();
    let body = json!({"name": "Euro", "minor_units": 2, "rate_to_base": "1.1"});
    for (method, path, body) in [
        ("POST", "/currencies", Some(eur())),
        ("PUT", "/currencies/EUR", Some(body)),
        ("DELETE", "/currencies/EUR", None),
        ("GET", "/commands/some-id", None),
    ] {
        let reply = h
            .write(method, path, Some(&token), body.as_ref(), &[])
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(reply.header("content-type"), "application/problem+json");
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
    for (method, path) in [("POST", "/currencies"), ("PUT", "/currencies/EUR")] {
        let reply = h
            .write(method, path, Some(&token), Some(&garbage), &[])
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{method} {path}");
    }
    let reply = h
        .write("PUT", "/currencies/EUR", None, Some(&garbage), &[])
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(h.queue.sent().is_empty());
    assert!(h.commands.is_empty());
}

// ---------------------------------------------------------------- write side: validation

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
        assert_eq!(reply.header("content-type"), "application/problem+json");
        assert_eq!(reply.error_fields(), fields, "{body}: {}", reply.body);
    }
    // PUT and DELETE validate the path code too.
    let put = h
        .write(
            "PUT",
            "/currencies/XXX",
            Some(&h.admin()),
            Some(&json!({"name": "No", "minor_units": 2, "rate_to_base": "1"})),
            &[],
        )
        .await;
    assert_eq!(put.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(put.error_fields(), ["code"]);
    let delete = h
        .write("DELETE", "/currencies/EURO", Some(&h.admin()), None, &[])
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
        http::Request::post("/currencies")
            .header(header::AUTHORIZATION, format!("Bearer {admin}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(axum::body::Body::from(body))
            .unwrap_or_default()
    };
    let reply = common::send(&h.write, raw("{not json", "application/json")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = common::send(&h.write, raw("{}", "text/plain")).await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let reply = common::send(
        &h.write,
        raw(
            r#"{"code":"EUR","name":"Euro","minor_units":2,"rate_to_base":"1","extra":1}"#,
            "application/json",
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let big =
        json!({"code": "EUR", "name": "x".repeat(5000), "minor_units": 2, "rate_to_base": "1"});
    let reply = h.admin_post(&big).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    let reply = h
        .write("DELETE", "/currencies/EUR", Some(&admin), None, &[])
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
        common::send(&h.write, bad_delete).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(h.queue.sent().len(), 1, "only the valid delete was queued");
}

// ---------------------------------------------------------------- write side: accepted commands

#[tokio::test]
async fn create_answers_202_with_location_and_queues_the_command() {
    let h = harness();
    let reply = h.admin_post(&eur()).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    let id = reply.body["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(reply.header("location"), format!("/commands/{id}"));
    assert_eq!(reply.body["status"], "accepted");
    assert_eq!(reply.body["operation"], "create");
    assert_eq!(reply.body["code"], "EUR");
    assert_eq!(reply.body["sequence"], 1);
    let sent = h.queue.sent();
    assert_eq!(sent.len(), 1);
    let message = CommandMessage::parse(&sent[0]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(message.command_id, id);
    assert_eq!(message.sequence, 1);
    assert_eq!(
        message.rate_to_base.map(|r| r.to_string()).as_deref(),
        Some("1.0825")
    );
    let status = h.command(&id).await;
    assert_eq!(status.status, StatusCode::OK);
    assert_eq!(status.body["status"], "accepted");
    assert_eq!(status.header("cache-control"), "no-store");
}

#[tokio::test]
async fn put_and_delete_get_increasing_sequences_per_currency() {
    let h = harness();
    let admin = h.admin();
    let put = |rate: &str| json!({"name": "Euro", "minor_units": 2, "rate_to_base": rate});
    let a = h
        .write(
            "PUT",
            "/currencies/eur",
            Some(&admin),
            Some(&put("1.1")),
            &[],
        )
        .await;
    let b = h
        .write(
            "PUT",
            "/currencies/EUR",
            Some(&admin),
            Some(&put("1.2")),
            &[],
        )
        .await;
    let usd = h
        .write(
            "PUT",
            "/currencies/USD",
            Some(&admin),
            Some(&json!({"name": "US Dollar", "minor_units": 2, "rate_to_base": "1"})),
            &[],
        )
        .await;
    let c = h
        .write("DELETE", "/currencies/EUR", Some(&admin), None, &[])
        .await;
    for (reply, operation, sequence) in [
        (&a, "replace", 1),
        (&b, "replace", 2),
        (&usd, "replace", 1),
        (&c, "delete", 3),
    ] {
        assert_eq!(reply.status, StatusCode::ACCEPTED);
        assert_eq!(reply.body["operation"], operation);
        assert_eq!(reply.body["sequence"], sequence);
    }
    assert_eq!(h.queue.sent().len(), 4);
}

#[tokio::test]
async fn same_command_id_and_body_gives_the_same_202() {
    let h = harness();
    let admin = h.admin();
    let key = [("idempotency-key", "eur-2026-11-24")];
    let first = h
        .write("POST", "/currencies", Some(&admin), Some(&eur()), &key)
        .await;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    assert_eq!(first.body["id"], "eur-2026-11-24");
    // Same request spelled differently (code case, rate trailing zero): still the same command.
    let same = json!({"code": "eur", "name": "Euro", "minor_units": 2, "rate_to_base": "1.08250"});
    let again = h
        .write("POST", "/currencies", Some(&admin), Some(&same), &key)
        .await;
    assert_eq!(again.status, StatusCode::ACCEPTED);
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.body, first.body, "same command, same sequence");
    // The body's command_id is the same key.
    let mut in_body = eur();
    in_body["command_id"] = json!("eur-2026-11-24");
    let third = h.admin_post(&in_body).await;
    assert_eq!(third.body, first.body);
    assert_eq!(h.commands.len(), 1);
    // Re-queued while still accepted (covers a crash before the first send); all identical.
    let sent = h.queue.sent();
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(|m| m == &sent[0]));

    // Once applied, a retry answers with the current status and queues nothing.
    h.project_queue().await;
    let later = h
        .write("POST", "/currencies", Some(&admin), Some(&eur()), &key)
        .await;
    assert_eq!(later.status, StatusCode::ACCEPTED);
    assert_eq!(later.body["status"], "applied");
    assert!(h.queue.sent().is_empty());
}

#[tokio::test]
async fn same_command_id_with_another_body_is_422() {
    let h = harness();
    let admin = h.admin();
    let key = [("idempotency-key", "k-1")];
    assert_eq!(
        h.write("POST", "/currencies", Some(&admin), Some(&eur()), &key)
            .await
            .status,
        StatusCode::ACCEPTED
    );
    let mut changed = eur();
    changed["rate_to_base"] = json!("1.09");
    let reply = h
        .write("POST", "/currencies", Some(&admin), Some(&changed), &key)
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["command_id"], "k-1");
    let delete = h
        .write("DELETE", "/currencies/EUR", Some(&admin), None, &key)
        .await;
    assert_eq!(
        delete.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "another operation too"
    );
    // Header and body ids must agree.
    let mut body = eur();
    body["command_id"] = json!("k-2");
    let reply = h
        .write(
            "POST",
            "/currencies",
            Some(&admin),
            Some(&body),
            &[("idempotency-key", "k-3")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.error_fields(), ["command_id"]);
    assert_eq!(h.queue.sent().len(), 1);
}

#[tokio::test]
async fn queue_outage_is_503_with_the_command_id_and_a_retry_queues_it() {
    let h = harness();
    let admin = h.admin();
    h.queue.fail_sends(true);
    let reply = h.admin_post(&eur()).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.header("content-type"), "application/problem+json");
    let id = reply.body["command_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!id.is_empty());
    h.queue.fail_sends(false);
    let retry = h
        .write(
            "POST",
            "/currencies",
            Some(&admin),
            Some(&eur()),
            &[("idempotency-key", &id)],
        )
        .await;
    assert_eq!(retry.status, StatusCode::ACCEPTED);
    assert_eq!(retry.body["id"], id.as_str());
    assert_eq!(
        retry.body["sequence"], 1,
        "the stored command, not a new one"
    );
    assert_eq!(h.queue.sent().len(), 1);
}

#[tokio::test]
async fn store_outage_is_503_and_nothing_queued() {
    let h = harness();
    h.commands.fail_inserts(true);
    let reply = h.admin_post(&eur()).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(h.queue.sent().is_empty());
}

#[tokio::test]
async fn unknown_commands_are_404() {
    let h = harness();
    for id in ["nope", "SEQ%23EUR", "a%20b"] {
        let reply = h.command(id).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{id}");
    }
}

// ---------------------------------------------------------------- status transitions, end to end

#[tokio::test]
async fn command_goes_accepted_then_applied_and_becomes_readable() {
    let h = harness_with_ttl(Duration::ZERO);
    let reply = h.admin_post(&eur()).await;
    let id = reply.body["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(h.command(&id).await.body["status"], "accepted");
    assert_eq!(h.get("/currencies/EUR").await.status, StatusCode::NOT_FOUND);

    let response = h.project_queue().await;
    assert!(response.batch_item_failures.is_empty());
    let status = h.command(&id).await;
    assert_eq!(status.body["status"], "applied");
    assert_eq!(status.body["outcome"], "written");
    let read = h.get("/currencies/EUR").await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["rate_to_base"], "1.0825");
    assert_eq!(read.header("etag"), "\"EUR-1\"");

    // Delete: the command applies and the currency disappears from reads.
    let delete = h
        .write("DELETE", "/currencies/EUR", Some(&h.admin()), None, &[])
        .await;
    let delete_id = delete.body["id"].as_str().unwrap_or_default().to_owned();
    h.project_queue().await;
    assert_eq!(h.command(&delete_id).await.body["status"], "applied");
    assert_eq!(h.get("/currencies/EUR").await.status, StatusCode::NOT_FOUND);
    assert_eq!(h.get("/currencies").await.body, json!({"items": []}));
    assert_eq!(
        h.commands
            .transitions()
            .iter()
            .filter(|(_, s)| *s == Status::Applied)
            .count(),
        2
    );
}

#[tokio::test]
async fn poison_command_shows_rejected_with_a_reason() {
    let h = harness();
    let reply = h.admin_post(&eur()).await;
    let id = reply.body["id"].as_str().unwrap_or_default().to_owned();
    h.queue.drain();
    // The queued body got corrupted (e.g. a bad producer): same command id, invalid state.
    let poison = json!({"command_id": id, "operation": "create", "code": "EUR", "sequence": 1,
                        "name": "Euro", "minor_units": 3, "rate_to_base": "1"});
    let message = h.message(&poison.to_string(), 1);
    let response = h.project(vec![message]).await;
    assert_eq!(
        response.batch_item_failures.len(),
        1,
        "poison stays failed → DLQ"
    );
    let status = h.command(&id).await;
    assert_eq!(status.body["status"], "rejected");
    assert!(
        status.body["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("minor-unit"),
        "{}",
        status.body
    );
}

#[test]
fn openapi_documents_every_route_with_problems_and_bearer_writes() {
    let doc = serde_json::to_value(currency::openapi()).unwrap_or_default();
    let paths = &doc["paths"];
    for (path, method) in [
        ("/currencies", "get"),
        ("/currencies", "post"),
        ("/currencies/{code}", "get"),
        ("/currencies/{code}", "put"),
        ("/currencies/{code}", "delete"),
        ("/commands/{id}", "get"),
    ] {
        let op = &paths[path][method];
        assert!(op.is_object(), "{method} {path} documented");
        let writes = method != "get" || path.starts_with("/commands");
        assert_eq!(
            op["security"].is_array(),
            writes,
            "{method} {path} security"
        );
    }
    let post = &paths["/currencies"]["post"]["responses"];
    assert!(post["202"]["headers"]["Location"].is_object());
    assert!(post["403"]["content"]["application/problem+json"].is_object());
    assert!(post["422"]["content"]["application/problem+json"].is_object());
    assert!(paths["/currencies"]["get"]["responses"]["304"].is_object());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for schema in [
        "CurrencyView",
        "CommandView",
        "NewCurrency",
        "CurrencyBody",
        "ProblemDoc",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
    assert!(doc["components"]["schemas"]["NewCurrency"]["example"].is_object());
}
