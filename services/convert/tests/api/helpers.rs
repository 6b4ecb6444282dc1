//! The app under test: the convert router over the in-memory rate store, and the calls many tests make.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use convert::AppState;
use convert::store::MemoryRateStore;
use http::StatusCode;
use money::CurrencyRecord;
use testkit::fixtures::currency;
use testkit::{Reply, TestClient};

/// A read-model record (updated 2026-01-01).
pub fn record(raw: &str, rate: &str, version: u64) -> CurrencyRecord {
    currency(raw, rate, version)
}

/// USD is the base; JPY has 0 minor-unit digits, KWD 3. GBP at 0.5 and BHD at 1 make exact ties.
pub fn standard_rates() -> Vec<CurrencyRecord> {
    vec![
        record("USD", "1", 3),
        record("EUR", "1.08", 7),
        record("JPY", "0.0067", 8),
        record("KWD", "3.25", 2),
        record("GBP", "0.5", 1),
        record("BHD", "1", 1),
        record("CLP", "0.01", 1),
    ]
}

pub struct TestApp {
    client: TestClient,
    pub store: Arc<MemoryRateStore>,
}

testkit::deref_to_client!(TestApp, client);

pub fn spawn_app() -> TestApp {
    spawn_app_with(standard_rates())
}

pub fn spawn_app_with(records: Vec<CurrencyRecord>) -> TestApp {
    let store = Arc::new(MemoryRateStore::with_records(records));
    let state = Arc::new(AppState::new(store.clone(), Duration::from_secs(30)));
    TestApp {
        client: TestClient::without_issuer(convert::app(state)),
        store,
    }
}

impl TestApp {
    pub async fn convert(&self, from: &str, to: &str, amount: i64) -> Reply {
        self.get(format!("/convert?from={from}&to={to}&amount={amount}"))
            .send()
            .await
    }

    /// `count` conversions of `from` into `to` (of the amounts 0, 1, …) sent at once from spawned tasks; not awaited.
    pub fn spawn_conversions(&self, from: &str, to: &str, count: i64) -> Vec<JoinHandle<Reply>> {
        (0..count)
            .map(|amount| {
                let client = self.client.clone();
                let uri = format!("/convert?from={from}&to={to}&amount={amount}");
                tokio::spawn(async move { client.get(uri).send().await })
            })
            .collect()
    }

    pub async fn converted(&self, from: &str, to: &str, amount: i64) -> i64 {
        let reply = self.convert(from, to, amount).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["converted"]
            .as_i64()
            .unwrap_or_else(|| panic!("no converted amount in {}", reply.body))
    }
}

/// A problem+json answer with `status` and a `detail`.
pub fn assert_problem(reply: &Reply, status: StatusCode) {
    reply.assert_problem(status);
    assert!(reply.body["detail"].is_string(), "{}", reply.body);
}

/// A 404 problem whose `detail` names the currency `code`.
pub fn assert_unknown_currency(reply: &Reply, code: &str) {
    assert_problem(reply, StatusCode::NOT_FOUND);
    assert!(
        reply.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains(code)),
        "{}",
        reply.body
    );
}
