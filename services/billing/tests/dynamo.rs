//! DynamoDB tests against a moto server (one server, fresh tables per test): the idempotency store,
//! the payment races and conversion through a real currency table.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, KeyType};
use axum::Router;
use axum::body::Body;
use billing::AppState;
use billing::store::{BillingStore, DynamoBillingStore, DynamoCurrencyRates, PaymentKey, Recorded};
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use platform::auth::testing::TestIssuer;
use platform::idempotency::{
    Claim, DynamoIdempotencyStore, IdempotencyError, IdempotencyKey, IdempotencyStore,
    StoredResponse, Ttls,
};
use platform::pagination::PageCodec;
use serde_json::{Value, json};
use support::moto::{Moto, client_for, dead_endpoint, unique_table};
use testkit::tables::create_table;
use tower::ServiceExt;

struct Fixture {
    _moto: Moto,
    client: aws_sdk_dynamodb::Client,
    billing_table: String,
    currencies_table: String,
}

/// `BillingTable` (pk/sk) and `CurrenciesTable` (code) as the template declares them.
async fn fixture() -> Fixture {
    let moto = Moto::start();
    let client = moto.client();
    let billing_table = unique_table("billing");
    let currencies_table = unique_table("currencies");
    create_table(
        &client,
        &billing_table,
        &[("pk", KeyType::Hash), ("sk", KeyType::Range)],
    )
    .await;
    create_table(&client, &currencies_table, &[("code", KeyType::Hash)]).await;
    Fixture {
        _moto: moto,
        client,
        billing_table,
        currencies_table,
    }
}

impl Fixture {
    fn idempotency(&self, now: Arc<AtomicI64>) -> DynamoIdempotencyStore {
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
    async fn put_rate(&self, code: &str, rate: &str) {
        let code = money::CurrencyCode::parse(code).unwrap_or_else(|e| panic!("{e}"));
        let record = money::CurrencyRecord::new(
            code,
            code.iso_name(),
            code.minor_units(),
            money::parse_rate(rate).unwrap_or_else(|e| panic!("{e}")),
            1,
            time::OffsetDateTime::now_utc(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        self.put_item(record.to_item()).await;
    }

    async fn put_item(&self, item: std::collections::HashMap<String, AttributeValue>) {
        self.client
            .put_item()
            .table_name(&self.currencies_table)
            .set_item(Some(item))
            .send()
            .await
            .unwrap_or_else(|e| panic!("put rate: {e:?}"));
    }

    fn router(&self, issuer: &TestIssuer) -> Router {
        billing::app(AppState {
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
                .unwrap_or_else(|e| panic!("{e}")),
            verifier: issuer.verifier(),
        })
    }

    async fn count_with_prefix(&self, prefix: &str) -> usize {
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

fn key(raw: &str) -> IdempotencyKey {
    IdempotencyKey::parse(raw).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamo_idempotency_claims_are_exclusive_then_replay_mismatch_and_expire() {
    let f = fixture().await;
    let now = Arc::new(AtomicI64::new(1_000_000));
    let store = Arc::new(f.idempotency(now.clone()));
    let k = key("pay-1");
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            let k = k.clone();
            tokio::spawn(async move { store.claim("alice", &k, "fp").await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap_or_else(|e| panic!("{e}")));
    }
    let acquired = outcomes
        .iter()
        .filter(|o| **o == Ok(Claim::Acquired))
        .count();
    let busy = outcomes
        .iter()
        .filter(|o| **o == Err(IdempotencyError::InProgress))
        .count();
    assert_eq!((acquired, busy), (1, 7), "{outcomes:?}");

    assert_eq!(
        store.claim("alice", &k, "other").await,
        Err(IdempotencyError::Mismatch)
    );
    assert_eq!(
        store.claim("bob", &k, "other").await,
        Ok(Claim::Acquired),
        "scoped per user"
    );
    let response = StoredResponse {
        status: 201,
        body: "{\"id\":1}".into(),
        location: Some("/payments/1".into()),
    };
    store
        .complete("alice", &k, "fp", &response)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        store.claim("alice", &k, "fp").await,
        Ok(Claim::Replay(response.clone()))
    );
    assert_eq!(
        store.claim("alice", &k, "other").await,
        Err(IdempotencyError::Mismatch)
    );

    // A crashed attempt's lock can be taken over after it expires (same body only).
    let k2 = key("crashed");
    assert_eq!(store.claim("alice", &k2, "fp").await, Ok(Claim::Acquired));
    now.fetch_add(11, Ordering::SeqCst);
    assert_eq!(
        store.claim("alice", &k2, "other").await,
        Err(IdempotencyError::Mismatch)
    );
    assert_eq!(store.claim("alice", &k2, "fp").await, Ok(Claim::Acquired));
    // Released keys can be retried at once.
    store
        .release("alice", &k2, "fp")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(store.claim("alice", &k2, "fp").await, Ok(Claim::Acquired));
    // Records expire logically even before DynamoDB's TTL sweeper deletes them.
    now.fetch_add(200, Ordering::SeqCst);
    assert_eq!(store.claim("alice", &k, "new").await, Ok(Claim::Acquired));
    let ttl = f
        .client
        .get_item()
        .table_name(&f.billing_table)
        .key("pk", AttributeValue::S("IDEMPOTENCY#5:alice#pay-1".into()))
        .key("sk", AttributeValue::S("IDEMPOTENCY".into()))
        .send()
        .await
        .ok()
        .and_then(|o| o.item)
        .and_then(|i| i.get("expires_at").and_then(|v| v.as_n().ok()).cloned());
    assert_eq!(
        ttl,
        Some((1_000_211 + 100).to_string()),
        "TTL attribute is epoch seconds"
    );
}

async fn send(router: &Router, req: Request<Body>) -> (StatusCode, Value, Vec<u8>) {
    let response = router
        .clone()
        .oneshot(req)
        .await
        .unwrap_or_else(|never| match never {});
    let status = response.status();
    let raw = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    (
        status,
        serde_json::from_slice(&raw).unwrap_or(Value::Null),
        raw,
    )
}

fn req(
    issuer: &TestIssuer,
    method: &str,
    uri: &str,
    body: Option<&Value>,
    key: Option<&str>,
) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri).header(
        header::AUTHORIZATION,
        format!("Bearer {}", issuer.token("alice", &[])),
    );
    if let Some(key) = key {
        builder = builder.header("idempotency-key", key);
    }
    match body {
        Some(body) => builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => builder.body(Body::empty()),
    }
    .unwrap_or_default()
}

async fn new_invoice(router: &Router, issuer: &TestIssuer, currency: &str, price: i64) -> String {
    let body = json!({"currency": currency, "lines": [{"description": "x", "quantity": 1, "unit_price": price}]});
    let (status, invoice, _) =
        send(router, req(issuer, "POST", "/invoices", Some(&body), None)).await;
    assert_eq!(status, StatusCode::CREATED, "{invoice}");
    invoice["id"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamo_concurrent_duplicates_make_exactly_one_payment() {
    let f = fixture().await;
    let issuer = TestIssuer::new();
    let router = f.router(&issuer);
    let invoice = new_invoice(&router, &issuer, "EUR", 1_000).await;
    let body = json!({"invoice_id": invoice, "amount": 100, "currency": "EUR"});
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let router = router.clone();
            let request = req(&issuer, "POST", "/payments", Some(&body), Some("dup"));
            tokio::spawn(async move { send(&router, request).await })
        })
        .collect();
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.unwrap_or_else(|e| panic!("{e}")));
    }
    let statuses: Vec<StatusCode> = replies.iter().map(|r| r.0).collect();
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    assert_eq!(f.count_with_prefix("PAYMENT#").await, 1, "{statuses:?}");
    let (_, stored, _) = send(
        &router,
        req(&issuer, "GET", &format!("/invoices/{invoice}"), None, None),
    )
    .await;
    assert_eq!(stored["amount_paid"], 100);
    // After the race, the key replays the one payment.
    let (status, replayed, raw) = send(
        &router,
        req(&issuer, "POST", "/payments", Some(&body), Some("dup")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{replayed}");
    for (s, _, r) in &replies {
        if *s == StatusCode::CREATED {
            assert_eq!(r, &raw);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamo_concurrent_payments_never_overpay_and_the_last_marks_paid() {
    let f = fixture().await;
    let issuer = TestIssuer::new();
    let router = f.router(&issuer);
    let invoice = new_invoice(&router, &issuer, "EUR", 1_000).await;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let router = router.clone();
            let body = json!({"invoice_id": invoice, "amount": 250, "currency": "EUR"});
            let request = req(
                &issuer,
                "POST",
                "/payments",
                Some(&body),
                Some(&format!("k{i}")),
            );
            tokio::spawn(async move { send(&router, request).await })
        })
        .collect();
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.unwrap_or_else(|e| panic!("{e}")));
    }
    let created = replies
        .iter()
        .filter(|r| r.0 == StatusCode::CREATED)
        .count();
    let refused: Vec<&Value> = replies
        .iter()
        .filter(|r| r.0 != StatusCode::CREATED)
        .map(|r| &r.1)
        .collect();
    assert_eq!(created, 4, "{refused:?}");
    assert!(
        refused.iter().all(|b| b["code"] == "invoice_paid"
            || b["code"] == "overpayment"
            || b["status"] == 409),
        "{refused:?}"
    );
    let (_, stored, _) = send(
        &router,
        req(&issuer, "GET", &format!("/invoices/{invoice}"), None, None),
    )
    .await;
    assert_eq!(
        (stored["amount_paid"].as_i64(), stored["status"].as_str()),
        (Some(1_000), Some("paid"))
    );
    assert_eq!(f.count_with_prefix("PAYMENT#").await, 4);
}

#[tokio::test]
async fn dynamo_payment_key_marker_stops_a_second_payment_for_one_key() {
    let f = fixture().await;
    let store = DynamoBillingStore::new(f.client.clone(), f.billing_table.clone());
    let invoice = billing::domain::build_invoice(
        serde_json::from_value(json!({"currency": "EUR", "lines": [{"description": "x", "quantity": 1, "unit_price": 1000}]}))
            .unwrap_or_else(|e| panic!("{e}")),
        "alice",
        platform::ids::new_id(),
        platform::ids::now_rfc3339(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    store
        .create_invoice(&invoice)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let payment = |id: String| billing::domain::Payment {
        id,
        owner_id: "alice".into(),
        invoice_id: invoice.id.clone(),
        amount: 100,
        currency: "EUR".into(),
        applied_amount: 100,
        invoice_currency: "EUR".into(),
        conversion: None,
        invoice_status: billing::domain::InvoiceStatus::Open,
        created_at: platform::ids::now_rfc3339(),
    };
    let updated = |version: u64, paid: i64| billing::domain::Invoice {
        amount_paid: paid,
        amount_due: 1_000 - paid,
        version,
        ..invoice.clone()
    };
    let pk = PaymentKey {
        key: "k".into(),
        fingerprint: "fp".into(),
    };
    let first = payment(platform::ids::new_id());
    assert_eq!(
        store.record_payment(&updated(2, 100), 1, &first, &pk).await,
        Ok(Recorded::New)
    );
    // The same key again (e.g. after the idempotency record expired): no second payment.
    let second = store
        .record_payment(&updated(3, 200), 2, &payment(platform::ids::new_id()), &pk)
        .await;
    assert_eq!(
        second,
        Ok(Recorded::Duplicate {
            payment_id: first.id.clone(),
            fingerprint: "fp".into()
        })
    );
    // A stale invoice version loses without side effects.
    let other = PaymentKey {
        key: "k2".into(),
        fingerprint: "fp".into(),
    };
    assert_eq!(
        store
            .record_payment(
                &updated(2, 200),
                1,
                &payment(platform::ids::new_id()),
                &other
            )
            .await,
        Err(billing::store::StoreError::Conflict)
    );
    let stored = store
        .get_invoice("alice", &invoice.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored.map(|i| (i.amount_paid, i.version)), Some((100, 2)));
    assert_eq!(
        store.get_invoice("bob", &invoice.id).await,
        Ok(None),
        "owner-scoped keys"
    );
    assert_eq!(f.count_with_prefix("PAYMENT#").await, 1);
}

#[tokio::test]
async fn dynamo_conversion_reads_the_currencies_table() {
    let f = fixture().await;
    f.put_rate("USD", "1").await;
    f.put_rate("EUR", "1.25").await;
    f.put_rate("GBP", "1.3").await;
    // GBP was deleted: the projector left a tombstone, which reads as "not supported".
    f.put_item(money::record::tombstone_item(
        money::CurrencyCode::parse("GBP").unwrap_or_else(|e| panic!("{e}")),
        2,
        time::OffsetDateTime::now_utc(),
    ))
    .await;
    let issuer = TestIssuer::new();
    let router = f.router(&issuer);
    let invoice = new_invoice(&router, &issuer, "EUR", 10_000).await;
    let body = json!({"invoice_id": invoice, "amount": 1_000, "currency": "USD"});
    let (status, payment, _) = send(
        &router,
        req(&issuer, "POST", "/payments", Some(&body), Some("usd")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{payment}");
    assert_eq!(payment["applied_amount"], 800);
    let gbp = json!({"invoice_id": invoice, "amount": 1_000, "currency": "GBP"});
    let (status, problem, _) = send(
        &router,
        req(&issuer, "POST", "/payments", Some(&gbp), Some("gbp")),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("currency_not_supported")
        )
    );
    // Listing pages over DynamoDB keys.
    for _ in 0..2 {
        new_invoice(&router, &issuer, "EUR", 1).await;
    }
    let (_, first, _) = send(
        &router,
        req(&issuer, "GET", "/invoices?limit=2", None, None),
    )
    .await;
    let token = first["next_token"].as_str().unwrap_or_default().to_owned();
    let (status, second, _) = send(
        &router,
        req(
            &issuer,
            "GET",
            &format!("/invoices?limit=2&next_token={token}"),
            None,
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = first["items"]
        .as_array()
        .into_iter()
        .chain(second["items"].as_array())
        .flatten()
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[2], invoice, "oldest last");
}

#[tokio::test]
async fn dynamodb_unreachable_is_503_and_other_failures_are_500_without_internals() {
    let f = fixture().await;
    let issuer = TestIssuer::new();
    let router_for = |client: aws_sdk_dynamodb::Client, table: &str| {
        billing::app(AppState {
            store: Arc::new(DynamoBillingStore::new(client.clone(), table)),
            rates: Arc::new(DynamoCurrencyRates::new(
                client.clone(),
                f.currencies_table.clone(),
            )),
            idempotency: Arc::new(DynamoIdempotencyStore::new(client, table)),
            pages: PageCodec::new(b"moto-billing-pagination-key-0123456789")
                .unwrap_or_else(|e| panic!("{e}")),
            verifier: issuer.verifier(),
        })
    };
    let unreachable = router_for(client_for(&dead_endpoint()), "billing");
    let (status, body, _) = send(&unreachable, req(&issuer, "GET", "/invoices", None, None)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let pay = json!({"invoice_id": "0193f1a2-7c4e-7a10-9b1d-2f1e0c3d4b5a", "amount": 1, "currency": "EUR"});
    let (status, _, _) = send(
        &unreachable,
        req(&issuer, "POST", "/payments", Some(&pay), Some("k")),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "the idempotency store is down too"
    );
    let missing_table = router_for(f.client.clone(), "no-such-table");
    let (status, body, _) =
        send(&missing_table, req(&issuer, "GET", "/invoices", None, None)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        body,
        json!({"type": "about:blank", "title": "Internal Server Error", "status": 500})
    );
}
