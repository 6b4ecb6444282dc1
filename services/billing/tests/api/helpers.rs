//! The app under test: the billing router over in-memory stores, and the calls many tests make.

use std::sync::Arc;

use billing::AppState;
use billing::store::{MemoryBillingStore, MemoryCurrencyRates};
use http::StatusCode;
use platform::auth::testing::TestIssuer;
use platform::idempotency::MemoryIdempotencyStore;
use platform::pagination::PageCodec;
use serde_json::{Value, json};
use testkit::{Reply, TestClient};

pub struct TestApp {
    client: TestClient,
    pub store: Arc<MemoryBillingStore>,
    pub rates: Arc<MemoryCurrencyRates>,
    pub idempotency: Arc<MemoryIdempotencyStore>,
}

testkit::deref_to_client!(TestApp, client);

pub fn spawn_app() -> TestApp {
    let store = Arc::new(MemoryBillingStore::new());
    let rates = Arc::new(MemoryCurrencyRates::new());
    let idempotency = Arc::new(MemoryIdempotencyStore::default());
    let issuer = TestIssuer::new();
    let router = billing::app(state(&store, &rates, &idempotency, &issuer));
    TestApp {
        client: TestClient::new(router, issuer),
        store,
        rates,
        idempotency,
    }
}

fn state(
    store: &Arc<MemoryBillingStore>,
    rates: &Arc<MemoryCurrencyRates>,
    idempotency: &Arc<MemoryIdempotencyStore>,
    issuer: &TestIssuer,
) -> AppState {
    AppState {
        store: store.clone(),
        rates: rates.clone(),
        idempotency: idempotency.clone(),
        pages: PageCodec::new(b"billing-test-pagination-key-0123456789")
            .unwrap_or_else(|e| panic!("{e}"))
            .into(),
        verifier: issuer.verifier(),
    }
}

impl TestApp {
    /// Another execution environment: a router over the same billing store and rates, with idempotency
    /// records of its own (as after a lost record or a crash), trusting the same issuer.
    pub fn fresh_environment(&self) -> TestClient {
        let idempotency = Arc::new(MemoryIdempotencyStore::default());
        let router = billing::app(state(
            &self.store,
            &self.rates,
            &idempotency,
            self.client.issuer(),
        ));
        self.client.with_router(router)
    }

    /// `POST /payments` as `user` with an `Idempotency-Key`.
    pub async fn pay(&self, user: &str, key: &str, body: Value) -> Reply {
        pay_with(&self.client, user, key, &body).await
    }

    /// `user` pays `amount` `currency` on `invoice` (its JSON) under the idempotency key `key`.
    pub async fn pay_on(
        &self,
        user: &str,
        key: &str,
        invoice: &Value,
        amount: i64,
        currency: &str,
    ) -> Reply {
        self.pay(user, key, payment(&id(invoice), amount, currency))
            .await
    }

    /// `POST /invoices` of `body` as `user`.
    pub async fn post_invoice(&self, user: &str, body: &Value) -> Reply {
        self.post("/invoices").as_user(user).json(body).send().await
    }

    pub async fn invoice(&self, user: &str, currency: &str, unit_price: i64) -> Value {
        let line = json!({"description": "item", "quantity": 1, "unit_price": unit_price, "tax_rate_bps": 0});
        let body = json!({"currency": currency, "lines": [line]});
        let reply = self.post_invoice(user, &body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body
    }

    pub async fn get_invoice(&self, user: &str, id: &str) -> Value {
        let reply = self
            .get(format!("/invoices/{id}"))
            .as_user(user)
            .send()
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        reply.body
    }

    /// What `user`'s `invoice` (its JSON) has been paid so far.
    pub async fn amount_paid(&self, user: &str, invoice: &Value) -> Value {
        self.get_invoice(user, &id(invoice)).await["amount_paid"].clone()
    }
}

/// A `POST /payments` body.
pub fn payment(invoice_id: &str, amount: i64, currency: &str) -> Value {
    json!({"invoice_id": invoice_id, "amount": amount, "currency": currency})
}

/// `POST /payments` through `client` as `user` with an `Idempotency-Key`.
pub async fn pay_with(client: &TestClient, user: &str, key: &str, body: &Value) -> Reply {
    client
        .post("/payments")
        .as_user(user)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
}

pub fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_default().to_owned()
}
