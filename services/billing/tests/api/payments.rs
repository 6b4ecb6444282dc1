//! Payments: idempotency keys required, partial and full payment, validation, cross-currency credit.

use http::{StatusCode, header};
use serde_json::json;

use crate::helpers::{id, payment, spawn_app};

#[tokio::test]
async fn payments_require_a_well_formed_idempotency_key() {
    let app = spawn_app();
    let invoice = app.invoice("alice", "EUR", 1_000).await;
    let body = payment(&id(&invoice), 100, "EUR");
    app.post("/payments")
        .as_user("alice")
        .json(&body)
        .send_expecting(StatusCode::BAD_REQUEST)
        .await;
    for bad in ["has space", &"k".repeat(256)] {
        let reply = app.pay("alice", bad, body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(app.amount_paid("alice", &invoice).await, 0);
    assert!(app.store.all_payments().is_empty());
}

#[tokio::test]
async fn partial_payments_then_full_payment_marks_the_invoice_paid() {
    let app = spawn_app();
    let invoice = app.invoice("alice", "EUR", 1_000).await;
    let pay = |key: &'static str, amount: i64| app.pay_on("alice", key, &invoice, amount, "EUR");
    let first = pay("k1", 300).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.body["applied_amount"], 300);
    assert_eq!(first.body["invoice_status"], "open");
    assert_eq!(
        first.headers[header::LOCATION],
        format!("/payments/{}", id(&first.body)).as_str()
    );
    let after_first = app.get_invoice("alice", &id(&invoice)).await;
    assert_eq!(
        (
            after_first["amount_paid"].as_i64(),
            after_first["amount_due"].as_i64()
        ),
        (Some(300), Some(700))
    );
    assert_eq!(after_first["status"], "open");

    let over = pay("k2", 701).await;
    assert_eq!(over.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(over.body["code"], "overpayment");
    assert_eq!(over.body["amount_due"], 700);
    assert_eq!(app.amount_paid("alice", &invoice).await, 300, "unchanged");

    let rest = pay("k3", 700).await;
    assert_eq!(rest.status, StatusCode::CREATED);
    assert_eq!(rest.body["invoice_status"], "paid");
    let paid = app.get_invoice("alice", &id(&invoice)).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["amount_due"], 0);
    let after_paid = pay("k4", 1).await;
    assert_eq!(after_paid.status, StatusCode::CONFLICT);
    assert_eq!(after_paid.body["code"], "invoice_paid");
    assert_eq!(app.store.all_payments().len(), 2);

    let nobodys = payment("0193f1a2-7c4e-7a10-9b1d-2f1e0c3d4b5a", 1, "EUR");
    let missing_invoice = app.pay("alice", "k6", nobodys).await;
    assert_eq!(missing_invoice.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn invalid_payment_fields_are_422() {
    let app = spawn_app();
    let invoice = app.invoice("alice", "EUR", 1_000).await;
    for (i, body) in [
        payment(&id(&invoice), 0, "EUR"),
        payment(&id(&invoice), -5, "EUR"),
        payment(&id(&invoice), 5, "EURO"),
        payment(&id(&invoice), 9_007_199_254_740_992_i64, "EUR"),
    ]
    .into_iter()
    .enumerate()
    {
        let reply = app.pay("alice", &format!("bad-{i}"), body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(reply.body["code"], "validation", "{body}");
    }
    let wrong_type = json!({"invoice_id": id(&invoice), "amount": "5", "currency": "EUR"});
    let wrong_type = app.pay("alice", "bad-type", wrong_type).await;
    assert_eq!(wrong_type.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.store.all_payments().is_empty());
}

#[tokio::test]
async fn payments_in_another_currency_convert_through_the_read_model() {
    let app = spawn_app();
    // Base USD: 1 EUR = 1.25 USD, 1 JPY = 0.0065 USD.
    app.rates.set("USD", "1");
    app.rates.set("EUR", "1.25");
    app.rates.set("JPY", "0.0065");
    let invoice = app.invoice("alice", "EUR", 10_000).await;
    let usd = app.pay_on("alice", "usd", &invoice, 1_000, "USD").await;
    assert_eq!(usd.status, StatusCode::CREATED, "{}", usd.body);
    assert_eq!(usd.body["applied_amount"], 800, "10.00 USD = 8.00 EUR");
    assert_eq!(usd.body["conversion"]["from_rate_to_base"], "1");
    assert_eq!(usd.body["conversion"]["to_rate_to_base"], "1.25");
    // 1000 JPY = 6.5 USD = 5.2 EUR = 520 cents.
    let jpy = app.pay_on("alice", "jpy", &invoice, 1_000, "JPY").await;
    assert_eq!(jpy.body["applied_amount"], 520);
    assert_eq!(app.amount_paid("alice", &invoice).await, 1_320);
    // GBP is ISO 4217 but not in the read model.
    let gbp = app.pay_on("alice", "gbp", &invoice, 100, "GBP").await;
    assert_eq!(gbp.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(gbp.body["code"], "currency_not_supported");
    // Converted overpayment is refused: 8 680 cents due = 108.50 USD; 108.52 USD is credited 8 681
    // (8 681.6 rounded down).
    let over = app.pay_on("alice", "big", &invoice, 10_852, "USD").await;
    assert_eq!(over.body["code"], "overpayment");
    let exact = app.pay_on("alice", "exact", &invoice, 10_850, "USD").await;
    assert_eq!(exact.status, StatusCode::CREATED);
    assert_eq!(exact.body["invoice_status"], "paid");
    // 1 KRW = 0.0007 USD = 0.056 euro cent: rounds to nothing.
    app.rates.set("KRW", "0.0007");
    let tiny = app.invoice("alice", "EUR", 10).await;
    let dust = app.pay_on("alice", "dust", &tiny, 1, "KRW").await;
    assert_eq!(dust.body["code"], "amount_too_small");
    // A currency removed from the read model stops converting.
    app.rates.remove("USD");
    let gone = app.pay_on("alice", "usd-gone", &tiny, 5, "USD").await;
    assert_eq!(gone.body["code"], "currency_not_supported");
    assert_eq!(app.amount_paid("alice", &tiny).await, 0);
}
