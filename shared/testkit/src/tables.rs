//! Test tables: the one shape most store tests need (string key attributes, on-demand billing).

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};

/// Creates `name` with string key attributes `keys` (hash first, then an optional range key); panics on failure.
pub async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str, keys: &[(&str, KeyType)]) {
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest);
    for (attr, kind) in keys {
        request = request
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(*attr)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap_or_else(|e| panic!("{e}")),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(*attr)
                    .key_type(kind.clone())
                    .build()
                    .unwrap_or_else(|e| panic!("{e}")),
            );
    }
    request
        .send()
        .await
        .unwrap_or_else(|e| panic!("create table {name}: {e:?}"));
}

/// Writes `item` to `table`; panics on failure.
pub async fn put_item(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    item: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
) {
    client
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put_item {table}: {e:?}"));
}

/// A fresh, uniquely named currency read-model table as the template declares `CurrenciesTable` (key `code`),
/// holding `records` as the currency projector writes them.
pub async fn currencies_table(
    client: &aws_sdk_dynamodb::Client,
    records: &[money::CurrencyRecord],
) -> String {
    let table = crate::moto::unique_table("currencies");
    create_table(client, &table, &[("code", KeyType::Hash)]).await;
    for record in records {
        put_item(client, &table, record.to_item()).await;
    }
    table
}
