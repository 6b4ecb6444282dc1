//! The DynamoDB rate store against a moto server: the read-model item layout the currency projector writes,
//! tombstones, malformed items and unreachable or missing tables; then the router over it.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use convert::AppState;
use convert::store::{DynamoRateStore, RateStore, StoreError};
use http::StatusCode;
use money::CurrencyRecord;
use testkit::TestClient;
use testkit::fixtures::{code, currency_at};
use testkit::moto::{Moto, client_for, dead_endpoint};
use testkit::tables::{currencies_table, put_item};
use time::OffsetDateTime;

/// A read-model record updated at the epoch.
fn record(raw: &str, rate: &str, version: u64) -> CurrencyRecord {
    currency_at(raw, rate, version, OffsetDateTime::UNIX_EPOCH)
}

/// The table as `infra/template.yaml` declares `CurrenciesTable`, with `records` and a tombstone for GBP.
async fn seeded_table(client: &aws_sdk_dynamodb::Client, records: &[CurrencyRecord]) -> String {
    let table = currencies_table(client, records).await;
    put_item(
        client,
        &table,
        money::record::tombstone_item(code("GBP"), 9, OffsetDateTime::UNIX_EPOCH),
    )
    .await;
    table
}

#[tokio::test]
async fn reads_live_records_and_treats_tombstones_and_gaps_as_absent() {
    let moto = Moto::start();
    let client = moto.client();
    let kwd = record("KWD", "3.25", 12);
    let table = seeded_table(&client, std::slice::from_ref(&kwd)).await;
    let store = DynamoRateStore::new(client, table);
    assert_eq!(store.get(code("KWD")).await, Ok(Some(kwd)));
    assert_eq!(store.get(code("GBP")).await, Ok(None), "tombstone");
    assert_eq!(store.get(code("CHF")).await, Ok(None), "never existed");
}

#[tokio::test]
async fn malformed_items_and_missing_tables_are_internal_failures() {
    let moto = Moto::start();
    let client = moto.client();
    let table = seeded_table(&client, &[]).await;
    let mut item = record("USD", "1", 1).to_item();
    item.insert("rate_to_base".into(), AttributeValue::N("1".into()));
    put_item(&client, &table, item).await;
    let store = DynamoRateStore::new(client.clone(), table);
    assert!(matches!(
        store.get(code("USD")).await,
        Err(StoreError::Internal(detail)) if detail.contains("rate_to_base")
    ));
    let missing = DynamoRateStore::new(client, "no-such-table");
    assert!(matches!(
        missing.get(code("USD")).await,
        Err(StoreError::Internal(_))
    ));
}

#[tokio::test]
async fn an_unreachable_endpoint_is_unavailable() {
    let store = DynamoRateStore::new(client_for(&dead_endpoint()), "currencies");
    assert!(matches!(
        store.get(code("USD")).await,
        Err(StoreError::Unavailable(_))
    ));
}

#[tokio::test]
async fn the_router_converts_over_dynamodb() {
    let moto = Moto::start();
    let client = moto.client();
    let table = seeded_table(
        &client,
        &[record("USD", "1", 3), record("JPY", "0.0067", 8)],
    )
    .await;
    let store = Arc::new(DynamoRateStore::new(client, table));
    let app = convert::app(Arc::new(AppState::new(store, Duration::from_secs(30))));
    let app = TestClient::without_issuer(app);
    let reply = app
        .get("/convert?from=USD&to=JPY&amount=12345")
        .send()
        .await;
    let body = reply.body;
    assert_eq!(reply.status, StatusCode::OK, "{body}");
    assert_eq!(body["converted"], 18_425);
    assert_eq!(body["rates"]["to"]["version"], 8);
    let gone = app.get("/convert?from=GBP&to=JPY&amount=1").send().await;
    assert_eq!(
        gone.status,
        StatusCode::NOT_FOUND,
        "a deleted currency is unknown"
    );
}
