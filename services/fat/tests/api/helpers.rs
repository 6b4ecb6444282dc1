//! The app under test: the fat app over every service's in-memory stores, sharing auth's verifier as in Lambda.

use std::sync::Arc;
use std::time::Duration;

use fat::FatState;
use http::StatusCode;
use platform::auth::testing::TestIssuer;
use platform::idempotency::MemoryIdempotencyStore;
use platform::pagination::PageCodec;
use testkit::TestClient;
use testkit::fixtures::currency;

/// The host every request names.
pub const HOST: &str = "fat.example.test";

/// Every service's state over memory stores; EUR (base) and USD in the currency read model.
pub fn state() -> FatState {
    let (auth, _handles) = auth::AppState::for_tests(None);
    // Placeholder verifiers: `sharing_auth_verifier` replaces them with auth's, as `from_env` does.
    let placeholder = TestIssuer::new().verifier();
    let pages =
        || PageCodec::new(b"fat-test-pagination-key-0123456789").unwrap_or_else(|e| panic!("{e}"));
    let currencies = Arc::new(currency::store::MemoryCurrencies::new());
    let rates = [currency("EUR", "1", 1), currency("USD", "0.9", 1)];
    for rate in rates.clone() {
        currencies.put(rate);
    }
    FatState {
        auth,
        blog: blog::AppState {
            store: Arc::new(blog::store::MemoryBlogStore::new()),
            pages: pages().into(),
            verifier: placeholder.clone(),
        },
        billing: billing::AppState {
            store: Arc::new(billing::store::MemoryBillingStore::new()),
            rates: Arc::new(billing::store::MemoryCurrencyRates::new()),
            idempotency: Arc::new(MemoryIdempotencyStore::default()),
            pages: pages().into(),
            verifier: placeholder.clone(),
        },
        currency_read: currency::ReadState::new(currencies, Duration::from_secs(5)),
        currency_write: currency::WriteState {
            commands: Arc::new(currency::store::MemoryCommandStore::new()),
            queue: Arc::new(currency::store::MemoryQueue::new()),
            verifier: placeholder,
            retention_seconds: 3600,
        },
        convert: Arc::new(convert::AppState::new(
            Arc::new(convert::store::MemoryRateStore::with_records(rates)),
            Duration::from_secs(30),
        )),
        // (./inv new-service adds a service's state above this line.)
    }
    .sharing_auth_verifier()
}

/// The fat app (tokens come from its own auth routes: see [`login`]).
pub fn spawn_app() -> TestClient {
    TestClient::without_issuer(fat::app(state())).with_default_header("host", HOST)
}

/// Registers and logs in through the fat app's auth routes; returns the access token.
pub async fn login(app: &TestClient, email: &str) -> String {
    let credentials =
        serde_json::json!({"email": email, "password": "correct horse battery staple"});
    let registered = app.post("/register").json(&credentials).send().await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.body
    );
    let login = app.post("/login").json(&credentials).send().await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    login.body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access_token in {}", login.body))
        .to_owned()
}
