//! The read side: lists and single currencies with ETags, conditional requests and the cache.

use std::time::Duration;

use http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{harness, harness_holding, harness_with_ttl, record};

#[tokio::test]
async fn list_is_sorted_with_strong_etag_and_cache_control() {
    let h = harness_holding(&[record("USD", "1", 1), record("EUR", "1.08", 3)]);
    let reply = h.read.get("/currencies").send().await;
    assert_eq!(reply.status, StatusCode::OK);
    let codes: Vec<&str> = reply.body["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["code"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(codes, ["EUR", "USD"]);
    assert_eq!(reply.body["items"][0]["rate_to_base"], "1.08");
    assert_eq!(reply.body["items"][0]["version"], 3);
    let etag = reply.header_or_empty("etag");
    assert!(etag.starts_with('"') && etag.ends_with('"') && !etag.starts_with("W/"));
    assert_eq!(reply.header_or_empty("cache-control"), "public, max-age=5");
}

#[tokio::test]
async fn empty_read_model_lists_nothing() {
    let h = harness();
    let reply = h.read.get("/currencies").send().await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, json!({"items": []}));
}

#[tokio::test]
async fn get_returns_the_currency_with_its_version_etag() {
    let h = harness_holding(&[record("JPY", "0.0067", 4)]);
    for path in ["/currencies/JPY", "/currencies/jpy"] {
        let reply = h.read.get(path).send().await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(
            reply.body,
            json!({"code": "JPY", "name": "Yen", "minor_units": 0, "rate_to_base": "0.0067",
                   "version": 4, "updated_at": "1970-01-01T00:00:00Z"})
        );
        assert_eq!(reply.header_or_empty("etag"), "\"JPY-4\"");
        assert_eq!(reply.header_or_empty("cache-control"), "public, max-age=5");
    }
}

#[tokio::test]
async fn unknown_or_invalid_codes_are_404_problems() {
    let h = harness_holding(&[record("USD", "1", 1)]);
    for path in [
        "/currencies/EUR",
        "/currencies/XYZ",
        "/currencies/EURO",
        "/currencies/%00",
    ] {
        let reply = h.read.get(path).send().await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            reply.header_or_empty("content-type"),
            "application/problem+json"
        );
        assert_eq!(reply.body["status"], 404);
    }
}

#[tokio::test]
async fn if_none_match_answers_304_without_a_body() {
    let h = harness_holding(&[record("USD", "1", 1)]);
    for path in ["/currencies", "/currencies/USD"] {
        let first = h.read.get(path).send().await;
        let etag = first.header_or_empty("etag");
        let again = h.read.get(path).header("if-none-match", etag).send().await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(again.body, Value::Null);
        assert_eq!(again.header_or_empty("etag"), etag);
        assert_eq!(again.header_or_empty("cache-control"), "public, max-age=5");
        // Weak comparison, lists and `*` also match; another tag does not.
        let weak = format!("W/{etag}");
        let listed = format!("\"other\", {etag}");
        for value in [weak.as_str(), listed.as_str(), "*"] {
            let reply = h.read.get(path).header("if-none-match", value).send().await;
            assert_eq!(reply.status, StatusCode::NOT_MODIFIED, "{path} {value}");
        }
        let other = h
            .read
            .get(path)
            .header("if-none-match", "\"USD-0\"")
            .send()
            .await;
        assert_eq!(other.status, StatusCode::OK);
    }
}

#[tokio::test(start_paused = true)]
async fn cache_serves_one_snapshot_until_the_ttl_expires() {
    let h = harness_with_ttl(Duration::from_secs(5));
    h.currencies.put(record("USD", "1", 1));
    let first = h.read.get("/currencies/USD").send().await;
    assert_eq!(first.header_or_empty("etag"), "\"USD-1\"");
    h.currencies.put(record("USD", "1.5", 2));
    h.currencies.put(record("EUR", "1.1", 1));

    tokio::time::advance(Duration::from_secs(4)).await;
    let cached = h.read.get("/currencies/USD").send().await;
    assert_eq!(
        cached.header_or_empty("etag"),
        "\"USD-1\"",
        "served from the cache"
    );
    assert_eq!(
        h.read.get("/currencies/EUR").send().await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(h.currencies.list_calls(), 1, "one scan for every read");

    tokio::time::advance(Duration::from_secs(1)).await;
    let fresh = h.read.get("/currencies/USD").send().await;
    assert_eq!(fresh.header_or_empty("etag"), "\"USD-2\"");
    assert_eq!(fresh.body["rate_to_base"], "1.5");
    assert_eq!(
        h.read.get("/currencies/EUR").send().await.status,
        StatusCode::OK
    );
    assert_eq!(h.currencies.list_calls(), 2);
}

#[tokio::test]
async fn list_etag_changes_with_any_version_and_304_stops_matching() {
    let h = harness_with_ttl(Duration::ZERO);
    h.currencies.put(record("USD", "1", 1));
    let before = h.read.get("/currencies").send().await;
    assert_eq!(before.header_or_empty("cache-control"), "no-cache");
    let sub_second = harness_with_ttl(Duration::from_millis(250));
    assert_eq!(
        sub_second
            .read
            .get("/currencies")
            .send()
            .await
            .header_or_empty("cache-control"),
        "no-cache"
    );
    let etag = before.header_or_empty("etag");
    h.currencies.put(record("USD", "1", 2));
    let after = h
        .read
        .get("/currencies")
        .header("if-none-match", etag)
        .send()
        .await;
    assert_eq!(after.status, StatusCode::OK);
    assert_ne!(after.header_or_empty("etag"), etag);
    assert_eq!(h.currencies.list_calls(), 2, "TTL 0 reads every time");
}

#[tokio::test]
async fn read_router_has_no_write_routes_and_a_health_route() {
    let h = harness();
    h.read.assert_healthy("currency-read").await;
    // The function's own 405 (instrumented as the bin serves it): problem+json, checked by `send`.
    let reply = h.read.post("/currencies").send().await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
}
