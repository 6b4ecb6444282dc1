//! Missing or malformed parameters, unknown currencies and store failures are problems (failures not cached).

use convert::store::StoreError;
use http::StatusCode;
use serde_json::json;
use testkit::fixtures::code;

use crate::helpers::{assert_problem, assert_unknown_currency, spawn_app};

#[tokio::test]
async fn missing_or_malformed_parameters_are_400_problems_naming_the_parameter() {
    let app = spawn_app();
    let cases = [
        ("/convert", "from"),
        ("/convert?to=USD&amount=1", "from"),
        ("/convert?from=USD&amount=1", "to"),
        ("/convert?from=USD&to=EUR", "amount"),
        ("/convert?from=US&to=EUR&amount=1", "from"),
        ("/convert?from=USD&to=EURO&amount=1", "to"),
        ("/convert?from=U1D&to=EUR&amount=1", "from"),
        ("/convert?from=&to=EUR&amount=1", "from"),
        ("/convert?from=USD&to=EUR&amount=", "amount"),
        ("/convert?from=USD&to=EUR&amount=abc", "amount"),
        ("/convert?from=USD&to=EUR&amount=-5", "amount"),
        ("/convert?from=USD&to=EUR&amount=10.50", "amount"),
        ("/convert?from=USD&to=EUR&amount=1e3", "amount"),
        (
            "/convert?from=USD&to=EUR&amount=9223372036854775808",
            "amount",
        ),
        (
            "/convert?from=USD&to=EUR&amount=123456789012345678901234567890",
            "amount",
        ),
        ("/convert?from=USD&from=EUR&to=EUR&amount=1", "query"),
    ];
    for (uri, parameter) in cases {
        let reply = app.get(uri).send().await;
        assert_problem(&reply, StatusCode::BAD_REQUEST);
        assert_eq!(reply.body["parameter"], parameter, "{uri}: {}", reply.body);
    }
    assert_eq!(
        app.store.total_reads(),
        0,
        "nothing invalid reaches the store"
    );
}

#[tokio::test]
async fn unknown_currencies_are_404_problems() {
    let app = spawn_app();
    // Not ISO 4217 at all: refused without a read.
    assert_unknown_currency(&app.convert("QQQ", "USD", 1).await, "QQQ");
    assert_eq!(app.store.reads_of(code("USD")), 0);
    // ISO 4217, but not (or no longer) in the read model.
    assert_unknown_currency(&app.convert("USD", "CHF", 1).await, "CHF");
    let reply = app.convert("CHF", "USD", 1).await;
    assert_problem(&reply, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn store_failures_are_503_or_500_and_not_cached() {
    let app = spawn_app();
    app.store
        .fail_next([StoreError::Unavailable("ThrottlingException".into())]);
    let reply = app.convert("USD", "USD", 1).await;
    assert_problem(&reply, StatusCode::SERVICE_UNAVAILABLE);
    app.store
        .fail_next([StoreError::Internal("ResourceNotFoundException".into())]);
    let reply = app.convert("USD", "USD", 1).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        reply.body,
        json!({"type": "about:blank", "title": "Internal Server Error", "status": 500})
    );
    assert_eq!(app.converted("USD", "USD", 1).await, 1, "recovered");
}
