//! Payment retries and cross-currency credit.
//!
//! A retry of a committed payment replays the original 201 even when its idempotency record is gone
//! (released after a lost 5xx, expired, or taken over after a crash: a second router over the same
//! billing store with a fresh idempotency store) and the invoice changed since. Credit after conversion
//! is rounded down; less than one minor unit is refused.

use http::StatusCode;
use testkit::{Reply, TestClient};

use crate::helpers::{TestApp, id, pay_with, payment, spawn_app};

/// `payer` pays `amount` `currency` on `invoice` through `client`.
async fn pay(client: &TestClient, key: &str, invoice: &str, amount: i64, currency: &str) -> Reply {
    pay_with(client, "payer", key, &payment(invoice, amount, currency)).await
}

fn replayed(reply: &Reply) -> bool {
    reply.header("idempotent-replayed").is_some()
}

#[tokio::test]
async fn a_retry_of_a_payment_that_paid_the_invoice_replays_201_not_invoice_paid() {
    let app = spawn_app();
    let invoice = id(&app.invoice("payer", "EUR", 1_000).await);
    let paid = pay(&app, "key-1", &invoice, 1_000, "EUR").await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);

    // The record is gone (lost 5xx → released, or a crash → taken over): the marker answers.
    let retry = pay(&app.fresh_environment(), "key-1", &invoice, 1_000, "EUR").await;
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.body);
    assert!(replayed(&retry));
    assert_eq!(retry.body, paid.body);
    assert_eq!(app.store.all_payments().len(), 1);
}

#[tokio::test]
async fn a_retry_after_the_invoice_changed_replays_201_not_overpayment() {
    let app = spawn_app();
    let invoice = id(&app.invoice("payer", "EUR", 1_000).await);
    let first = pay(&app, "key-1", &invoice, 600, "EUR").await;
    assert_eq!(first.status, StatusCode::CREATED);
    let other = pay(&app, "key-2", &invoice, 300, "EUR").await;
    assert_eq!(other.status, StatusCode::CREATED);

    let retry = pay(&app.fresh_environment(), "key-1", &invoice, 600, "EUR").await;
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.body);
    assert_eq!(retry.body["id"], first.body["id"]);
    // The same key with another body is still refused.
    let changed = pay(&app.fresh_environment(), "key-1", &invoice, 50, "EUR").await;
    assert_eq!(changed.status, StatusCode::CONFLICT);
    assert_eq!(app.store.all_payments().len(), 2);
}

/// `payer` pays `amount` EUR cents on a 10.00 USD invoice where 1 EUR is `eur_in_usd` USD.
async fn pay_euros_on_a_dollar_invoice(eur_in_usd: &str, amount: i64) -> (TestApp, Reply) {
    let app = spawn_app();
    app.rates.set("USD", "1");
    app.rates.set("EUR", eur_in_usd);
    let invoice = id(&app.invoice("payer", "USD", 1_000).await);
    let reply = pay(&app, "k-1", &invoice, amount, "EUR").await;
    (app, reply)
}

#[tokio::test]
async fn converted_credit_is_rounded_down_never_up() {
    // 3 EUR cents = exactly 1.5 USD cents: credited 1 (half-even credited 2).
    let (_, reply) = pay_euros_on_a_dollar_invoice("0.5", 3).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["applied_amount"], 1);
}

#[tokio::test]
async fn a_payment_worth_less_than_one_minor_unit_is_422() {
    // 1 EUR cent = 0.6 USD cents (half-even credited 1).
    let (app, reply) = pay_euros_on_a_dollar_invoice("0.6", 1).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(reply.body["code"], "amount_too_small");
    assert!(app.store.all_payments().is_empty());
}
