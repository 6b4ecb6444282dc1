//! Payment retries and cross-currency credit, at the router over the in-memory stores.
//!
//! A retry of a committed payment replays the original 201 even when its idempotency record is gone
//! (released after a lost 5xx, expired, or taken over after a crash: a second router over the same
//! billing store with a fresh idempotency store) and the invoice changed since. Credit after conversion
//! is rounded down; less than one minor unit is refused.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use billing::AppState;
use billing::store::{MemoryBillingStore, MemoryCurrencyRates};
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use platform::auth::testing::TestIssuer;
use platform::idempotency::MemoryIdempotencyStore;
use platform::pagination::PageCodec;
use serde_json::{Value, json};
use tower::ServiceExt;

struct Billing {
    issuer: TestIssuer,
    store: Arc<MemoryBillingStore>,
    rates: Arc<MemoryCurrencyRates>,
}

struct Reply {
    status: StatusCode,
    replayed: bool,
    body: Value,
}

impl Billing {
    fn new() -> Self {
        Self {
            issuer: TestIssuer::new(),
            store: Arc::new(MemoryBillingStore::new()),
            rates: Arc::new(MemoryCurrencyRates::new()),
        }
    }

    /// A router (one execution environment's view) with its own idempotency records.
    fn router(&self) -> Router {
        billing::app(AppState {
            store: self.store.clone(),
            rates: self.rates.clone(),
            idempotency: Arc::new(MemoryIdempotencyStore::default()),
            pages: PageCodec::new(b"billing-test-pagination-key-0123456789")
                .unwrap_or_else(|e| panic!("{e}")),
            verifier: self.issuer.verifier(),
        })
    }

    async fn send(&self, router: &Router, path: &str, key: Option<&str>, body: &Value) -> Reply {
        let mut builder = Request::post(path)
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", self.issuer.token("payer", &[])),
            )
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(key) = key {
            builder = builder.header("idempotency-key", key);
        }
        let request = builder
            .body(Body::from(body.to_string()))
            .unwrap_or_default();
        let response = router
            .clone()
            .oneshot(request)
            .await
            .unwrap_or_else(|never| match never {});
        let status = response.status();
        let replayed = response.headers().contains_key("idempotent-replayed");
        let raw = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes().to_vec())
            .unwrap_or_default();
        Reply {
            status,
            replayed,
            body: serde_json::from_slice(&raw).unwrap_or(Value::Null),
        }
    }

    async fn invoice(&self, router: &Router, currency: &str, total: i64) -> String {
        let reply = self
            .send(
                router,
                "/invoices",
                None,
                &json!({"currency": currency, "lines": [{"description": "item", "quantity": 1, "unit_price": total, "tax_rate_bps": 0}]}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["id"].as_str().unwrap_or_default().to_owned()
    }

    async fn pay(
        &self,
        router: &Router,
        key: &str,
        invoice: &str,
        amount: i64,
        currency: &str,
    ) -> Reply {
        self.send(
            router,
            "/payments",
            Some(key),
            &json!({"invoice_id": invoice, "amount": amount, "currency": currency}),
        )
        .await
    }
}

#[tokio::test]
async fn a_retry_of_a_payment_that_paid_the_invoice_replays_201_not_invoice_paid() {
    let billing = Billing::new();
    let first = billing.router();
    let invoice = billing.invoice(&first, "EUR", 1_000).await;
    let paid = billing.pay(&first, "key-1", &invoice, 1_000, "EUR").await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);

    // The record is gone (lost 5xx → released, or a crash → taken over): the marker answers.
    let retry = billing
        .pay(&billing.router(), "key-1", &invoice, 1_000, "EUR")
        .await;
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.body);
    assert!(retry.replayed);
    assert_eq!(retry.body, paid.body);
    assert_eq!(billing.store.all_payments().len(), 1);
}

#[tokio::test]
async fn a_retry_after_the_invoice_changed_replays_201_not_overpayment() {
    let billing = Billing::new();
    let router = billing.router();
    let invoice = billing.invoice(&router, "EUR", 1_000).await;
    let first = billing.pay(&router, "key-1", &invoice, 600, "EUR").await;
    assert_eq!(first.status, StatusCode::CREATED);
    let other = billing.pay(&router, "key-2", &invoice, 300, "EUR").await;
    assert_eq!(other.status, StatusCode::CREATED);

    let retry = billing
        .pay(&billing.router(), "key-1", &invoice, 600, "EUR")
        .await;
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.body);
    assert_eq!(retry.body["id"], first.body["id"]);
    // The same key with another body is still refused.
    let changed = billing
        .pay(&billing.router(), "key-1", &invoice, 50, "EUR")
        .await;
    assert_eq!(changed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(billing.store.all_payments().len(), 2);
}

#[tokio::test]
async fn converted_credit_is_rounded_down_never_up() {
    let billing = Billing::new();
    billing.rates.set("USD", "1");
    billing.rates.set("EUR", "0.5");
    let router = billing.router();
    let invoice = billing.invoice(&router, "USD", 1_000).await;
    // 3 EUR cents = exactly 1.5 USD cents: credited 1 (half-even credited 2).
    let reply = billing.pay(&router, "k-1", &invoice, 3, "EUR").await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["applied_amount"], 1);
}

#[tokio::test]
async fn a_payment_worth_less_than_one_minor_unit_is_422() {
    let billing = Billing::new();
    billing.rates.set("USD", "1");
    billing.rates.set("EUR", "0.6");
    let router = billing.router();
    let invoice = billing.invoice(&router, "USD", 1_000).await;
    // 1 EUR cent = 0.6 USD cents (half-even credited 1).
    let reply = billing.pay(&router, "k-1", &invoice, 1, "EUR").await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(reply.body["code"], "amount_too_small");
    assert!(billing.store.all_payments().is_empty());
}
