//! Accepted commands: 202 with a location, acceptance-time order keys, idempotent command ids, outages.

use currency::domain::CommandMessage;
use http::StatusCode;
use serde_json::json;
use testkit::Reply;
use testkit::fixtures::code;
use time::OffsetDateTime;

use crate::helpers::{Harness, eur, harness};

#[tokio::test]
async fn create_answers_202_with_location_and_queues_the_command() {
    let h = harness();
    let reply = h.admin_post(&eur()).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    let id = reply.body["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(reply.header_or_empty("location"), format!("/commands/{id}"));
    assert_eq!(reply.body["status"], "accepted");
    assert_eq!(reply.body["operation"], "create");
    assert_eq!(reply.body["code"], "EUR");
    let sequence = reply.body["sequence"].as_u64().unwrap_or_default();
    let sent = h.queue.sent();
    assert_eq!(sent.len(), 1);
    let message = CommandMessage::parse(&sent[0]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(message.command_id, id);
    assert_eq!(message.sequence, sequence);
    assert_eq!(
        message.rate_to_base.map(|r| r.to_string()).as_deref(),
        Some("1.0825")
    );
    let status = h.command(&id).await;
    assert_eq!(status.status, StatusCode::OK);
    assert_eq!(status.body["status"], "accepted");
    assert_eq!(status.header_or_empty("cache-control"), "no-store");
}

fn micros_now() -> u64 {
    u64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000).unwrap_or_default()
}

#[tokio::test]
async fn commands_accepted_in_order_get_increasing_acceptance_time_sequences() {
    let h = harness();
    let put = |rate: &str| json!({"name": "Euro", "minor_units": 2, "rate_to_base": rate});
    let before = micros_now();
    let a = h.admin_put("eur", &put("1.1")).await;
    let b = h.admin_put("EUR", &put("1.2")).await;
    let usd_body = json!({"name": "US Dollar", "minor_units": 2, "rate_to_base": "1"});
    let usd = h.admin_put("USD", &usd_body).await;
    let c = h.admin_delete("EUR", None).await;
    let after = micros_now();
    let mut sequences = Vec::new();
    for (reply, operation) in [
        (&a, "replace"),
        (&b, "replace"),
        (&usd, "replace"),
        (&c, "delete"),
    ] {
        assert_eq!(reply.status, StatusCode::ACCEPTED);
        assert_eq!(reply.body["operation"], operation);
        sequences.push(reply.body["sequence"].as_u64().unwrap_or_default());
    }
    // Strictly increasing in acceptance order (across currencies too), and the acceptance time in µs
    // (other tests of this process take keys concurrently, so a key may sit a little past the clock).
    assert!(
        sequences.windows(2).all(|pair| pair[0] < pair[1]),
        "{sequences:?}"
    );
    assert!(
        sequences
            .iter()
            .all(|s| (before..after + 1_000_000).contains(s)),
        "{before} {sequences:?} {after}"
    );
    assert!(
        sequences
            .iter()
            .all(|s| *s <= currency::domain::MAX_ORDER_KEY),
        "exact as JSON numbers"
    );
    // The stored command and the queued message carry the same key as the 202.
    let stored = h.command(a.body["id"].as_str().unwrap_or_default()).await;
    assert_eq!(stored.body["sequence"], a.body["sequence"]);
    let sent = h.queue.sent();
    assert_eq!(sent.len(), 4);
    let queued: Vec<u64> = sent
        .iter()
        .map(|m| CommandMessage::parse(m).map_or(0, |m| m.sequence))
        .collect();
    assert_eq!(queued, sequences);
}

#[tokio::test]
async fn the_last_accepted_command_is_the_one_projected_whatever_the_delivery_order() {
    let h = harness();
    let put = |rate: &str| json!({"name": "Euro", "minor_units": 2, "rate_to_base": rate});
    for rate in ["1.1", "1.2", "1.3"] {
        assert_eq!(
            h.admin_put("EUR", &put(rate)).await.status,
            StatusCode::ACCEPTED
        );
    }
    let last = h.admin_put("EUR", &put("1.4")).await;
    // Delivered newest first, then the older ones: they are superseded.
    let mut sent = h.queue.drain();
    sent.reverse();
    for body in sent {
        let response = h.project(vec![h.message(&body, 1)]).await;
        assert!(response.batch_item_failures.is_empty());
    }
    let record = h
        .currencies
        .get(code("EUR"))
        .unwrap_or_else(|| panic!("no EUR"));
    assert_eq!(record.rate_to_base.to_string(), "1.4");
    assert_eq!(Some(record.version), last.body["sequence"].as_u64());
    let status = h
        .command(last.body["id"].as_str().unwrap_or_default())
        .await;
    assert_eq!(
        (&status.body["status"], &status.body["outcome"]),
        (&json!("applied"), &json!("written"))
    );
}

#[tokio::test]
async fn same_command_id_and_body_gives_the_same_202() {
    let h = harness();
    let key = "eur-2026-11-24";
    let first = h.admin_post_keyed(key, &eur()).await;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    assert_eq!(first.body["id"], "eur-2026-11-24");
    // Same request spelled differently (code case, rate trailing zero): still the same command.
    let same = json!({"code": "eur", "name": "Euro", "minor_units": 2, "rate_to_base": "1.08250"});
    let again = h.admin_post_keyed(key, &same).await;
    assert_eq!(again.status, StatusCode::ACCEPTED);
    assert_eq!(
        again.header_or_empty("location"),
        first.header_or_empty("location")
    );
    assert_eq!(again.body, first.body, "same command, same sequence");
    assert!(first.body["sequence"].as_u64().is_some_and(|s| s > 0));
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
    let later = h.admin_post_keyed(key, &eur()).await;
    assert_eq!(later.status, StatusCode::ACCEPTED);
    assert_eq!(later.body["status"], "applied");
    assert!(h.queue.sent().is_empty());
}

#[tokio::test]
async fn same_command_id_with_another_body_is_409() {
    let h = harness();
    let admin = h.admin();
    let first = h.admin_post_keyed("k-1", &eur()).await;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    let mut changed = eur();
    changed["rate_to_base"] = json!("1.09");
    let reply = h.admin_post_keyed("k-1", &changed).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.body["command_id"], "k-1");
    let delete = h.admin_delete("EUR", Some("k-1")).await;
    assert_eq!(delete.status, StatusCode::CONFLICT, "another operation too");
    // Header and body ids must agree.
    let mut body = eur();
    body["command_id"] = json!("k-2");
    let reply = h
        .write
        .post("/currencies")
        .bearer(&admin)
        .header("idempotency-key", "k-3")
        .json(&body)
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.error_fields(), ["command_id"]);
    assert_eq!(h.queue.sent().len(), 1);
}

/// An admin's `POST /currencies` of EUR while a store or the queue is down: a 503 problem.
async fn post_eur_during_an_outage(h: &Harness) -> Reply {
    let reply = h.admin_post(&eur()).await;
    reply.assert_problem(StatusCode::SERVICE_UNAVAILABLE);
    reply
}

#[tokio::test]
async fn queue_outage_is_503_with_the_command_id_and_a_retry_queues_it() {
    let h = harness();
    h.queue.fail_sends(true);
    let reply = post_eur_during_an_outage(&h).await;
    let id = reply.body["command_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!id.is_empty());
    let stored = h.command(&id).await.body["sequence"].clone();
    assert!(stored.as_u64().is_some_and(|s| s > 0));
    h.queue.fail_sends(false);
    let retry = h.admin_post_keyed(&id, &eur()).await;
    assert_eq!(retry.status, StatusCode::ACCEPTED);
    assert_eq!(retry.body["id"], id.as_str());
    assert_eq!(
        retry.body["sequence"], stored,
        "the stored command, not a new one"
    );
    assert_eq!(h.queue.sent().len(), 1);
}

#[tokio::test]
async fn store_outage_is_503_and_nothing_queued() {
    let h = harness();
    h.commands.fail_inserts(true);
    post_eur_during_an_outage(&h).await;
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
