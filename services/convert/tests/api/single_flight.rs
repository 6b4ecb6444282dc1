//! Concurrent requests share one store read per currency.

use std::time::Duration;

use http::StatusCode;
use testkit::fixtures::code;

use crate::helpers::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_share_one_read_per_currency() {
    let app = spawn_app();
    app.store.set_gate(false);
    let requests = app.spawn_conversions("EUR", "JPY", 128);
    // Both currencies' first reads have started; every other request is waiting for them.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while app.store.total_reads() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "reads never started"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    app.store.set_gate(true);
    for request in requests {
        let reply = request.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    assert_eq!(app.store.reads_of(code("EUR")), 1);
    assert_eq!(app.store.reads_of(code("JPY")), 1);
}

#[tokio::test(start_paused = true)]
async fn a_hundred_concurrent_cold_requests_cost_exactly_one_read_per_currency() {
    let app = spawn_app();
    app.store.set_gate(false);
    let requests = app.spawn_conversions("KWD", "USD", 100);
    // Paused clock: this sleep ends only once all 100 requests are blocked (on the gate or on the cache).
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(app.store.reads_of(code("KWD")), 1);
    assert_eq!(app.store.reads_of(code("USD")), 1);
    app.store.set_gate(true);
    for request in requests {
        assert_eq!(
            request.await.unwrap_or_else(|e| panic!("{e}")).status,
            StatusCode::OK
        );
    }
    assert_eq!(app.store.total_reads(), 2);
}
