//! The DynamoDB rate store against a moto server: the read-model item layout the currency projector writes,
//! tombstones, malformed items and unreachable or missing tables; then the router over it.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use axum::body::Body;
use convert::AppState;
use convert::store::{DynamoRateStore, RateStore, StoreError};
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use money::{CurrencyCode, CurrencyRecord, Decimal};
use serde_json::Value;
use testkit::moto::{Moto, client_for, dead_endpoint, unique_table};
use tower::ServiceExt;

fn code(raw: &str) -> CurrencyCode {
    CurrencyCode::parse(raw).unwrap_or_else(|e| panic!("{e}"))
}

fn record(raw: &str, rate: &str, version: u64) -> CurrencyRecord {
    let code = code(raw);
    CurrencyRecord::new(
        code,
        code.iso_name(),
        code.minor_units(),
        Decimal::from_str(rate).unwrap_or_else(|e| panic!("{e}")),
        version,
        time::OffsetDateTime::UNIX_EPOCH,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// The table as `infra/template.yaml` declares `CurrenciesTable`, with `records` and a tombstone for GBP.
async fn seeded_table(client: &aws_sdk_dynamodb::Client, records: &[CurrencyRecord]) -> String {
    let table = unique_table("currencies");
    client
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("code")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("code")
                .key_type(KeyType::Hash)
                .build()
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("create_table: {e:?}"));
    for record in records {
        client
            .put_item()
            .table_name(&table)
            .set_item(Some(record.to_item()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("put_item: {e:?}"));
    }
    client
        .put_item()
        .table_name(&table)
        .set_item(Some(money::record::tombstone_item(
            code("GBP"),
            9,
            time::OffsetDateTime::UNIX_EPOCH,
        )))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put_item: {e:?}"));
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
    client
        .put_item()
        .table_name(&table)
        .set_item(Some(item))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put_item: {e:?}"));
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
    let get = |uri: &str| {
        let app = app.clone();
        let request = Request::get(uri)
            .body(Body::empty())
            .unwrap_or_else(|e| panic!("{e}"));
        async move {
            let response = app
                .oneshot(request)
                .await
                .unwrap_or_else(|never| match never {});
            let status = response.status();
            let bytes = response
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            (
                status,
                serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
            )
        }
    };
    let (status, body) = get("/convert?from=USD&to=JPY&amount=12345").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["converted"], 18_425);
    assert_eq!(body["rates"]["to"]["version"], 8);
    let (status, _) = get("/convert?from=GBP&to=JPY&amount=1").await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a deleted currency is unknown"
    );
}
