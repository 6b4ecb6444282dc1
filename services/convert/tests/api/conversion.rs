//! Conversions that succeed: rates and versions reported, minor-unit digits, half-even ties, the largest amounts, overflow.

use http::StatusCode;
use serde_json::json;

use crate::helpers::{assert_problem, record, spawn_app, spawn_app_with};

#[tokio::test]
async fn converts_and_reports_rates_versions_and_rounding() {
    let app = spawn_app();
    let reply = app.convert("USD", "JPY", 12_345).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header_or_empty("content-type"), "application/json");
    // 123.45 USD / 0.0067 = 18425.373… JPY → 18425
    assert_eq!(
        reply.body,
        json!({
            "from": "USD", "to": "JPY", "amount": 12345, "converted": 18425,
            "rates": {
                "from": {"code": "USD", "rate_to_base": "1", "minor_units": 2, "version": 3,
                         "updated_at": "2026-01-01T00:00:00Z"},
                "to": {"code": "JPY", "rate_to_base": "0.0067", "minor_units": 0, "version": 8,
                       "updated_at": "2026-01-01T00:00:00Z"}
            },
            "rounding": "half-even"
        })
    );
}

#[tokio::test]
async fn codes_are_case_insensitive_and_answered_upper_case() {
    let app = spawn_app();
    let reply = app
        .get("/convert?from=eur&to=Usd&amount=10000")
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["from"], "EUR");
    assert_eq!(reply.body["to"], "USD");
    assert_eq!(reply.body["converted"], 10_800);
}

#[tokio::test]
async fn minor_unit_digits_differ_between_currencies() {
    let app = spawn_app();
    assert_eq!(
        app.converted("JPY", "USD", 1_000).await,
        670,
        "¥1000 = $6.70"
    );
    assert_eq!(app.converted("USD", "JPY", 670).await, 1_000);
    assert_eq!(
        app.converted("KWD", "USD", 1_000).await,
        325,
        "1.000 KWD = $3.25"
    );
    assert_eq!(app.converted("USD", "KWD", 325).await, 1_000);
    assert_eq!(
        app.converted("KWD", "JPY", 1_000).await,
        485,
        "3.25 / 0.0067 = 485.07"
    );
    assert_eq!(
        app.converted("JPY", "KWD", 485).await,
        1_000,
        "485 × 0.0067 / 3.25 = 0.99986 KWD → 1000 fils"
    );
    assert_eq!(app.converted("USD", "USD", 4_242).await, 4_242);
    assert_eq!(app.converted("EUR", "JPY", 0).await, 0);
}

#[tokio::test]
async fn ties_round_half_to_even() {
    let app = spawn_app();
    // 1 GBP minor unit = 0.5 USD minor units: 0.5 → 0, 1.5 → 2, 2.5 → 2, 3.5 → 4, 4.5 → 4.
    for (pence, cents) in [(1, 0), (3, 2), (5, 2), (7, 4), (9, 4), (11, 6)] {
        assert_eq!(
            app.converted("GBP", "USD", pence).await,
            cents,
            "{pence} × 0.5"
        );
    }
    // Across digit counts: 1 fils of BHD (3 digits, rate 1) = 0.1 CLP (0 digits, rate 0.01).
    // 5 fils = 0.5 → 0; 15 = 1.5 → 2; 25 = 2.5 → 2; 35 = 3.5 → 4.
    for (fils, pesos) in [(5, 0), (15, 2), (25, 2), (35, 4), (26, 3), (24, 2)] {
        assert_eq!(
            app.converted("BHD", "CLP", fils).await,
            pesos,
            "{fils} fils"
        );
    }
}

/// 2^53 − 1: the largest `amount` the document allows.
const MAX_AMOUNT: i64 = 9_007_199_254_740_991;

#[tokio::test]
async fn largest_amount_converts_exactly_when_it_fits() {
    let app = spawn_app_with(vec![record("USD", "1", 1), record("EUR", "1", 1)]);
    assert_eq!(app.converted("USD", "EUR", MAX_AMOUNT).await, MAX_AMOUNT);
}

#[tokio::test]
async fn an_amount_over_2_pow_53_is_400_naming_it() {
    let app = spawn_app_with(vec![record("USD", "1", 1), record("EUR", "1", 1)]);
    let reply = app.convert("USD", "EUR", MAX_AMOUNT + 1).await;
    assert_problem(&reply, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body["parameter"], "amount");
}

#[tokio::test]
async fn overflow_is_422_problem() {
    // One yen worth a billion dollars: ¥ 2^53 − 1 is far beyond 64-bit cents.
    let app = spawn_app_with(vec![record("USD", "1", 1), record("JPY", "1000000000", 1)]);
    let reply = app.convert("JPY", "USD", MAX_AMOUNT).await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    let reply = app.convert("USD", "KWD", MAX_AMOUNT).await;
    assert_problem(&reply, StatusCode::NOT_FOUND);
}
