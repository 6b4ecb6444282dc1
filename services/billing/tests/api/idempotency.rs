//! Idempotent payments: replays, key conflicts, keys in progress and concurrent requests.

use http::{StatusCode, header};
use platform::idempotency::{IdempotencyKey, IdempotencyStore, fingerprint};
use serde_json::Value;
use testkit::{Reply, TestClient, concurrently};

use crate::helpers::{id, pay_with, payment, spawn_app};

/// Alice's payments of `body` sent at once, one under each of the idempotency `keys`.
async fn pay_at_once(app: &TestClient, body: &Value, keys: Vec<String>) -> Vec<Reply> {
    concurrently(keys.len(), |i| {
        let (client, body, key) = (app.clone(), body.clone(), keys[i].clone());
        async move { pay_with(&client, "alice", &key, &body).await }
    })
    .await
}

#[tokio::test]
async fn same_key_same_body_replays_the_same_response_and_pays_once() {
    let app = spawn_app();
    let invoice = app.invoice("alice", "EUR", 1_000).await;
    let body = payment(&id(&invoice), 250, "EUR");
    let first = app.pay("alice", "retry-me", body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert!(first.headers.get("idempotent-replayed").is_none());
    // Same content, other formatting and field order.
    let reordered = app
        .post("/payments")
        .as_user("alice")
        .header("idempotency-key", "retry-me")
        .body(
            "application/json",
            format!(
                "{{ \"currency\": \"EUR\",\n \"amount\": 250, \"invoice_id\": \"{}\" }}",
                id(&invoice)
            ),
        )
        .send()
        .await;
    for replay in [app.pay("alice", "retry-me", body.clone()).await, reordered] {
        assert_eq!(replay.status, StatusCode::CREATED);
        assert_eq!(replay.raw, first.raw, "byte-identical body");
        assert_eq!(
            replay.headers[header::LOCATION],
            first.headers[header::LOCATION]
        );
        assert_eq!(replay.headers["idempotent-replayed"], "true");
    }
    assert_eq!(app.store.all_payments().len(), 1);
    assert_eq!(app.amount_paid("alice", &invoice).await, 250);

    // Errors are replayed too (same status, same body), and still change nothing.
    let over = payment(&id(&invoice), 5_000, "EUR");
    let refused = app.pay("alice", "too-much", over.clone()).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let again = app.pay("alice", "too-much", over).await;
    assert_eq!((again.status, &again.raw), (refused.status, &refused.raw));
    assert_eq!(again.headers["idempotent-replayed"], "true");
}

#[tokio::test]
async fn same_key_different_body_is_409_and_keys_are_scoped_per_user() {
    let app = spawn_app();
    let invoice = app.invoice("alice", "EUR", 1_000).await;
    let first = app.pay_on("alice", "k", &invoice, 100, "EUR").await;
    assert_eq!(first.status, StatusCode::CREATED);
    let changed = app.pay_on("alice", "k", &invoice, 200, "EUR").await;
    assert_eq!(changed.status, StatusCode::CONFLICT);
    assert_eq!(app.amount_paid("alice", &invoice).await, 100);
    // Bob's "k" is his own.
    let bobs = app.invoice("bob", "EUR", 1_000).await;
    let bob = app.pay_on("bob", "k", &bobs, 200, "EUR").await;
    assert_eq!(bob.status, StatusCode::CREATED);
    assert_eq!(app.store.all_payments().len(), 2);
}

#[tokio::test]
async fn a_key_still_in_progress_is_409() {
    let app = spawn_app();
    let invoice = app.invoice("alice", "EUR", 1_000).await;
    let body = payment(&id(&invoice), 100, "EUR");
    // Another invocation holds the key right now (claimed, not completed).
    let canonical = serde_json::to_vec(
        &serde_json::from_value::<billing::domain::NewPayment>(body.clone())
            .unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_default();
    let key = IdempotencyKey::parse("busy").unwrap_or_else(|e| panic!("{e}"));
    app.idempotency
        .claim(
            "alice",
            &key,
            &fingerprint(&[b"POST /payments", &canonical]),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let reply = app.pay("alice", "busy", body).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert!(app.store.all_payments().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_with_one_key_make_exactly_one_payment() {
    let app = spawn_app();
    let invoice = app.invoice("alice", "EUR", 1_000).await;
    let body = payment(&id(&invoice), 100, "EUR");
    let replies = pay_at_once(&app, &body, vec!["same".to_owned(); 10]).await;
    let created: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .collect();
    assert!(!created.is_empty());
    assert!(
        replies
            .iter()
            .all(|r| r.status == StatusCode::CREATED || r.status == StatusCode::CONFLICT),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(
        created.iter().all(|r| r.raw == created[0].raw),
        "every 201 is the same payment"
    );
    assert_eq!(app.store.all_payments().len(), 1);
    assert_eq!(app.amount_paid("alice", &invoice).await, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_payments_never_overpay() {
    let app = spawn_app();
    let invoice = app.invoice("alice", "EUR", 1_000).await;
    let body = payment(&id(&invoice), 300, "EUR");
    let keys = (0..8).map(|i| format!("key-{i}")).collect();
    let replies = pay_at_once(&app, &body, keys).await;
    let statuses: Vec<StatusCode> = replies.iter().map(|r| r.status).collect();
    let ok = statuses.iter().filter(|s| **s == StatusCode::CREATED);
    assert_eq!(ok.count(), 3, "{statuses:?}");
    let after = app.get_invoice("alice", &id(&invoice)).await;
    assert_eq!(after["amount_paid"], 900);
    assert_eq!(after["status"], "open");
}
