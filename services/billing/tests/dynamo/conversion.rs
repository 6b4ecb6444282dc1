//! Conversion reads the currencies table the projector writes; listings page over DynamoDB keys.

use http::StatusCode;

use crate::helpers::{fixture, new_invoice, pay, payment};

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
    let app = f.app();
    let invoice = new_invoice(&app, "EUR", 10_000).await;
    let usd = pay(&app, "usd", &payment(&invoice, 1_000, "USD")).await;
    assert_eq!(usd.status, StatusCode::CREATED, "{}", usd.body);
    assert_eq!(usd.body["applied_amount"], 800);
    let gbp = pay(&app, "gbp", &payment(&invoice, 1_000, "GBP")).await;
    assert_eq!(
        (gbp.status, gbp.body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("currency_not_supported")
        )
    );
    // Listing pages over DynamoDB keys.
    for _ in 0..2 {
        new_invoice(&app, "EUR", 1).await;
    }
    let first = app
        .get("/invoices?limit=2")
        .as_user("alice")
        .send()
        .await
        .body;
    let token = first["next_token"].as_str().unwrap_or_default().to_owned();
    let reply = app
        .get(format!("/invoices?limit=2&next_token={token}"))
        .as_user("alice")
        .send()
        .await;
    let (status, second) = (reply.status, reply.body);
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
