//! A moto server per test with the billing and currencies tables, and the app over them.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, KeyType};
use billing::AppState;
use billing::store::{DynamoBillingStore, DynamoCurrencyRates};
use http::StatusCode;
use platform::auth::testing::TestIssuer;
use platform::idempotency::{DynamoIdempotencyStore, IdempotencyKey, Ttls};
use platform::pagination::PageCodec;
use serde_json::{Value, json};
use testkit::fixtures::currency_at;
use testkit::moto::{Moto, unique_table};
use testkit::tables::{create_table, currencies_table, put_item};
use testkit::{Reply, TestClient};

pub struct Fixture {
    _moto: Moto,
    pub client: aws_sdk_dynamodb::Client,
    pub billing_table: String,
    pub currencies_table: String,
}

/// `BillingTable` (pk/sk) and `CurrenciesTable` (code) as the template declares them.
pub async fn fixture() -> Fixture {
    let moto = Moto::start();
    let client = moto.client();
    let billing_table = unique_table("billing");
    create_table(
        &client,
        &billing_table,
        &[("pk", KeyType::Hash), ("sk", KeyType::Range)],
    )
    .await;
    let currencies_table = currencies_table(&client, &[]).await;
    Fixture {
        _moto: moto,
        client,
        billing_table,
        currencies_table,
    }
}

impl Fixture {
    pub fn idempotency(&self, now: Arc<AtomicI64>) -> DynamoIdempotencyStore {
        DynamoIdempotencyStore::with_ttls(
            self.client.clone(),
            self.billing_table.clone(),
            Ttls {
                record: Duration::from_secs(100),
                lock: Duration::from_secs(10),
            },
            Arc::new(move || now.load(Ordering::SeqCst)),
        )
    }

    /// Writes a read-model item exactly as the currency projector does (`money::CurrencyRecord`).
    pub async fn put_rate(&self, code: &str, rate: &str) {
        let record = currency_at(code, rate, 1, time::OffsetDateTime::now_utc());
        self.put_item(record.to_item()).await;
    }

    pub async fn put_item(&self, item: std::collections::HashMap<String, AttributeValue>) {
        put_item(&self.client, &self.currencies_table, item).await;
    }

    /// The billing app over the tables, trusting its own test issuer.
    pub fn app(&self) -> TestClient {
        let issuer = TestIssuer::new();
        let router = billing::app(AppState {
            store: Arc::new(DynamoBillingStore::new(
                self.client.clone(),
                self.billing_table.clone(),
            )),
            rates: Arc::new(DynamoCurrencyRates::new(
                self.client.clone(),
                self.currencies_table.clone(),
            )),
            idempotency: Arc::new(DynamoIdempotencyStore::new(
                self.client.clone(),
                self.billing_table.clone(),
            )),
            pages: PageCodec::new(b"moto-billing-pagination-key-0123456789")
                .unwrap_or_else(|e| panic!("{e}"))
                .into(),
            verifier: issuer.verifier(),
        });
        TestClient::new(router, issuer)
    }

    pub async fn count_with_prefix(&self, prefix: &str) -> usize {
        self.client
            .scan()
            .table_name(&self.billing_table)
            .send()
            .await
            .map(|o| {
                o.items()
                    .iter()
                    .filter(|i| {
                        i.get("sk")
                            .and_then(|v| v.as_s().ok())
                            .is_some_and(|s| s.starts_with(prefix))
                    })
                    .count()
            })
            .unwrap_or_else(|e| panic!("scan: {e:?}"))
    }
}

pub fn key(raw: &str) -> IdempotencyKey {
    IdempotencyKey::parse(raw).unwrap_or_else(|e| panic!("{e}"))
}

/// Alice's new invoice of one line: its id.
pub async fn new_invoice(app: &TestClient, currency: &str, price: i64) -> String {
    let body = json!({"currency": currency, "lines": [{"description": "x", "quantity": 1, "unit_price": price}]});
    let reply = app
        .post("/invoices")
        .as_user("alice")
        .json(&body)
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_str().unwrap_or_default().to_owned()
}

/// A `POST /payments` body.
pub fn payment(invoice_id: &str, amount: i64, currency: &str) -> Value {
    json!({"invoice_id": invoice_id, "amount": amount, "currency": currency})
}

/// Alice's `POST /payments` of `body` under the idempotency key `key`.
pub async fn pay(app: &TestClient, key: &str, body: &Value) -> Reply {
    app.post("/payments")
        .as_user("alice")
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
}

/// Alice's invoice as stored now.
pub async fn stored_invoice(app: &TestClient, id: &str) -> Value {
    let reply = app
        .get(format!("/invoices/{id}"))
        .as_user("alice")
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}
