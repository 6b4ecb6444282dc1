//! Payment races over DynamoDB: one payment per key, never an overpayment.

use http::StatusCode;
use serde_json::Value;
use testkit::{Reply, TestClient, concurrently};

use crate::helpers::{fixture, new_invoice, pay, payment, stored_invoice};

/// Alice's eight `POST /payments` at once: request `i` with the key and body `payment(i)` gives.
async fn pay_concurrently(
    app: &TestClient,
    payment: impl Fn(usize) -> (String, Value),
) -> Vec<Reply> {
    concurrently(8, |i| {
        let app = app.clone();
        let (key, body) = payment(i);
        async move { pay(&app, &key, &body).await }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamo_concurrent_duplicates_make_exactly_one_payment() {
    let f = fixture().await;
    let app = f.app();
    let invoice = new_invoice(&app, "EUR", 1_000).await;
    let body = payment(&invoice, 100, "EUR");
    let replies = pay_concurrently(&app, |_| ("dup".to_owned(), body.clone())).await;
    let statuses: Vec<StatusCode> = replies.iter().map(|r| r.status).collect();
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    assert_eq!(f.count_with_prefix("PAYMENT#").await, 1, "{statuses:?}");
    let stored = stored_invoice(&app, &invoice).await;
    assert_eq!(stored["amount_paid"], 100);
    // After the race, the key replays the one payment.
    let reply = pay(&app, "dup", &body).await;
    let (status, replayed, raw) = (reply.status, reply.body, reply.raw);
    assert_eq!(status, StatusCode::CREATED, "{replayed}");
    for reply in &replies {
        if reply.status == StatusCode::CREATED {
            assert_eq!(reply.raw, raw);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamo_concurrent_payments_never_overpay_and_the_last_marks_paid() {
    let f = fixture().await;
    let app = f.app();
    let invoice = new_invoice(&app, "EUR", 1_000).await;
    let replies =
        pay_concurrently(&app, |i| (format!("k{i}"), payment(&invoice, 250, "EUR"))).await;
    let created = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let refused: Vec<&Value> = replies
        .iter()
        .filter(|r| r.status != StatusCode::CREATED)
        .map(|r| &r.body)
        .collect();
    assert_eq!(created, 4, "{refused:?}");
    assert!(
        refused.iter().all(|b| b["code"] == "invoice_paid"
            || b["code"] == "overpayment"
            || b["status"] == 409),
        "{refused:?}"
    );
    let stored = stored_invoice(&app, &invoice).await;
    assert_eq!(
        (stored["amount_paid"].as_i64(), stored["status"].as_str()),
        (Some(1_000), Some("paid"))
    );
    assert_eq!(f.count_with_prefix("PAYMENT#").await, 4);
}
