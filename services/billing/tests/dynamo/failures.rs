//! An unreachable DynamoDB is 503; other failures are 500 without internals.

use std::sync::Arc;

use billing::AppState;
use billing::store::{DynamoBillingStore, DynamoCurrencyRates};
use http::StatusCode;
use platform::idempotency::DynamoIdempotencyStore;
use platform::pagination::PageCodec;
use serde_json::json;
use testkit::moto::{client_for, dead_endpoint};

use crate::helpers::fixture;

#[tokio::test]
async fn dynamodb_unreachable_is_503_and_other_failures_are_500_without_internals() {
    let f = fixture().await;
    let app = f.app();
    let router_for = |client: aws_sdk_dynamodb::Client, table: &str| {
        app.with_router(billing::app(AppState {
            store: Arc::new(DynamoBillingStore::new(client.clone(), table)),
            rates: Arc::new(DynamoCurrencyRates::new(
                client.clone(),
                f.currencies_table.clone(),
            )),
            idempotency: Arc::new(DynamoIdempotencyStore::new(client, table)),
            pages: PageCodec::new(b"moto-billing-pagination-key-0123456789")
                .unwrap_or_else(|e| panic!("{e}"))
                .into(),
            verifier: app.issuer().verifier(),
        }))
    };
    let unreachable = router_for(client_for(&dead_endpoint()), "billing");
    let reply = unreachable.get("/invoices").as_user("alice").send().await;
    let (status, body) = (reply.status, reply.body);
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let pay = json!({"invoice_id": "0193f1a2-7c4e-7a10-9b1d-2f1e0c3d4b5a", "amount": 1, "currency": "EUR"});
    let status = unreachable
        .post("/payments")
        .as_user("alice")
        .header("idempotency-key", "k")
        .json(&pay)
        .send()
        .await
        .status;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "the idempotency store is down too"
    );
    let missing_table = router_for(f.client.clone(), "no-such-table");
    let reply = missing_table.get("/invoices").as_user("alice").send().await;
    let (status, body) = (reply.status, reply.body);
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        body,
        json!({"type": "about:blank", "title": "Internal Server Error", "status": 500})
    );
}
