//! Test harness: the fat app over every service's in-memory stores, sharing auth's verifier as in Lambda.
#![allow(dead_code)]

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use fat::FatState;
use http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use money::{CurrencyCode, CurrencyRecord, Decimal};
use platform::auth::testing::TestIssuer;
use platform::idempotency::MemoryIdempotencyStore;
use platform::pagination::PageCodec;
use serde_json::Value;
use tower::ServiceExt;

pub const HOST: &str = "fat.example.test";

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub raw: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

fn record(raw: &str, rate: &str) -> CurrencyRecord {
    let code = CurrencyCode::parse(raw).unwrap_or_else(|e| panic!("{e}"));
    CurrencyRecord::new(
        code,
        code.iso_name(),
        code.minor_units(),
        Decimal::from_str(rate).unwrap_or_else(|e| panic!("{e}")),
        1,
        time::OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Every service's state over memory stores; EUR (base) and USD in the currency read model.
pub fn state() -> FatState {
    let (auth, _handles) = auth::AppState::for_tests(None);
    // Placeholder verifiers: `sharing_auth_verifier` replaces them with auth's, as `from_env` does.
    let placeholder = TestIssuer::new().verifier();
    let pages =
        || PageCodec::new(b"fat-test-pagination-key-0123456789").unwrap_or_else(|e| panic!("{e}"));
    let currencies = Arc::new(currency::store::MemoryCurrencies::new());
    let rates = [record("EUR", "1"), record("USD", "0.9")];
    for rate in rates.clone() {
        currencies.put(rate);
    }
    FatState {
        auth,
        blog: blog::AppState {
            store: Arc::new(blog::store::MemoryBlogStore::new()),
            pages: pages(),
            verifier: placeholder.clone(),
        },
        billing: billing::AppState {
            store: Arc::new(billing::store::MemoryBillingStore::new()),
            rates: Arc::new(billing::store::MemoryCurrencyRates::new()),
            idempotency: Arc::new(MemoryIdempotencyStore::default()),
            pages: pages(),
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

pub fn app() -> Router {
    fat::app(state())
}

pub async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app
        .clone()
        .oneshot(request)
        .await
        .unwrap_or_else(|never| match never {});
    let status = response.status();
    let headers = response.headers().clone();
    let raw = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        raw,
    }
}

pub fn request(method: &str, uri: &str) -> http::request::Builder {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("host", HOST)
}

pub fn get(uri: &str) -> Request<Body> {
    request("GET", uri)
        .body(Body::empty())
        .unwrap_or_else(|e| panic!("{e}"))
}

pub fn json(method: &str, uri: &str, body: &Value, token: Option<&str>) -> Request<Body> {
    let mut builder = request(method, uri).header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    builder
        .body(Body::from(body.to_string()))
        .unwrap_or_else(|e| panic!("{e}"))
}

pub fn authed_get(uri: &str, token: &str) -> Request<Body> {
    request("GET", uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Registers and logs in through the fat app's auth routes; returns the access token.
pub async fn login(app: &Router, email: &str) -> String {
    let credentials =
        serde_json::json!({"email": email, "password": "correct horse battery staple"});
    let registered = send(app, json("POST", "/register", &credentials, None)).await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.body
    );
    let login = send(app, json("POST", "/login", &credentials, None)).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    login.body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access_token in {}", login.body))
        .to_owned()
}
