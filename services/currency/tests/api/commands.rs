//! Accepted commands: 202 with a location, sequences per currency, idempotent command ids, outages.

use currency::domain::CommandMessage;
use http::StatusCode;
use serde_json::json;
use testkit::Reply;

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
    assert_eq!(status.header_or_empty("cache-control"), "no-store");
}

#[tokio::test]
async fn put_and_delete_get_increasing_sequences_per_currency() {
    let h = harness();
    let put = |rate: &str| json!({"name": "Euro", "minor_units": 2, "rate_to_base": rate});
    let a = h.admin_put("eur", &put("1.1")).await;
    let b = h.admin_put("EUR", &put("1.2")).await;
    let usd_body = json!({"name": "US Dollar", "minor_units": 2, "rate_to_base": "1"});
    let usd = h.admin_put("USD", &usd_body).await;
    let c = h.admin_delete("EUR", None).await;
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
    assert_eq!(
        delete.status,
        StatusCode::CONFLICT,
        "another operation too"
    );
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
    h.queue.fail_sends(false);
    let retry = h.admin_post_keyed(&id, &eur()).await;
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
