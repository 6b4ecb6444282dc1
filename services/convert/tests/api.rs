//! Router tests: every `/convert` case over the in-memory rate store, through `oneshot`.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use convert::AppState;
use convert::store::{MemoryRateStore, StoreError};
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use money::{CurrencyCode, CurrencyRecord, Decimal};
use serde_json::{Value, json};
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
        time::OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// USD is the base; JPY has 0 minor-unit digits, KWD 3. GBP at 0.5 and BHD at 1 make exact ties.
fn standard_rates() -> Vec<CurrencyRecord> {
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

struct TestApp {
    router: Router,
    store: Arc<MemoryRateStore>,
}

fn spawn_app() -> TestApp {
    spawn_app_with(standard_rates())
}

fn spawn_app_with(records: Vec<CurrencyRecord>) -> TestApp {
    let store = Arc::new(MemoryRateStore::with_records(records));
    let state = Arc::new(AppState::new(store.clone(), Duration::from_secs(30)));
    TestApp {
        router: convert::app(state),
        store,
    }
}

struct Reply {
    status: StatusCode,
    content_type: String,
    body: Value,
}

impl TestApp {
    async fn get(&self, uri: &str) -> Reply {
        send(self.router.clone(), uri).await
    }

    async fn convert(&self, from: &str, to: &str, amount: i64) -> Reply {
        self.get(&format!("/convert?from={from}&to={to}&amount={amount}"))
            .await
    }

    async fn converted(&self, from: &str, to: &str, amount: i64) -> i64 {
        let reply = self.convert(from, to, amount).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["converted"]
            .as_i64()
            .unwrap_or_else(|| panic!("no converted amount in {}", reply.body))
    }
}

async fn send(router: Router, uri: &str) -> Reply {
    let request = Request::get(uri)
        .body(Body::empty())
        .unwrap_or_else(|e| panic!("{e}"));
    let response = router
        .oneshot(request)
        .await
        .unwrap_or_else(|never| match never {});
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        content_type,
        body,
    }
}

fn assert_problem(reply: &Reply, status: StatusCode) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.content_type, "application/problem+json");
    assert_eq!(reply.body["status"], status.as_u16());
    assert!(reply.body["detail"].is_string(), "{}", reply.body);
}

// ---- 200 ------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn converts_and_reports_rates_versions_and_rounding() {
    let app = spawn_app();
    let reply = app.convert("USD", "JPY", 12_345).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.content_type, "application/json");
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
    let reply = app.get("/convert?from=eur&to=Usd&amount=10000").await;
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

#[tokio::test]
async fn largest_amount_converts_exactly_when_it_fits() {
    let app = spawn_app_with(vec![record("USD", "1", 1), record("EUR", "1", 1)]);
    assert_eq!(app.converted("USD", "EUR", i64::MAX).await, i64::MAX);
}

// ---- 422 ------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn overflow_is_422_problem() {
    let app = spawn_app_with(vec![record("USD", "1", 1), record("JPY", "1", 1)]);
    // ¥ i64::MAX at par is i64::MAX × 100 cents.
    let reply = app.convert("JPY", "USD", i64::MAX).await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    let reply = app.convert("USD", "KWD", i64::MAX).await;
    assert_problem(&reply, StatusCode::NOT_FOUND);
}

// ---- 400 ------------------------------------------------------------------------------------------------------

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
        let reply = app.get(uri).await;
        assert_problem(&reply, StatusCode::BAD_REQUEST);
        assert_eq!(reply.body["parameter"], parameter, "{uri}: {}", reply.body);
    }
    assert_eq!(
        app.store.total_reads(),
        0,
        "nothing invalid reaches the store"
    );
}

// ---- 404 ------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn unknown_currencies_are_404_problems() {
    let app = spawn_app();
    // Not ISO 4217 at all: refused without a read.
    let reply = app.convert("QQQ", "USD", 1).await;
    assert_problem(&reply, StatusCode::NOT_FOUND);
    assert!(
        reply.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("QQQ"))
    );
    assert_eq!(app.store.reads_of(code("USD")), 0);
    // ISO 4217, but not (or no longer) in the read model.
    let reply = app.convert("USD", "CHF", 1).await;
    assert_problem(&reply, StatusCode::NOT_FOUND);
    assert!(
        reply.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("CHF"))
    );
    let reply = app.convert("CHF", "USD", 1).await;
    assert_problem(&reply, StatusCode::NOT_FOUND);
}

// ---- 5xx ------------------------------------------------------------------------------------------------------

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

// ---- single flight through the router ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_share_one_read_per_currency() {
    let app = spawn_app();
    app.store.set_gate(false);
    let requests: Vec<_> = (0..128)
        .map(|i| {
            let router = app.router.clone();
            tokio::spawn(async move {
                send(router, &format!("/convert?from=EUR&to=JPY&amount={i}")).await
            })
        })
        .collect();
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
    let requests: Vec<_> = (0..100)
        .map(|i| {
            let router = app.router.clone();
            tokio::spawn(async move {
                send(router, &format!("/convert?from=KWD&to=USD&amount={i}")).await
            })
        })
        .collect();
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

// ---- health and OpenAPI -------------------------------------------------------------------------------------------

#[tokio::test]
async fn health_answers_without_reading_rates() {
    let app = spawn_app();
    let reply = app.get("/health/convert").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["service"], "convert");
    assert_eq!(app.store.total_reads(), 0);
}

#[test]
fn openapi_fragment_documents_the_route_its_parameters_and_errors() {
    let doc = serde_json::to_value(convert::openapi()).unwrap_or_default();
    let op = &doc["paths"]["/convert"]["get"];
    let params: Vec<&str> = op["parameters"]
        .as_array()
        .map(|ps| ps.iter().filter_map(|p| p["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(params, ["from", "to", "amount"]);
    assert!(
        op["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().all(|p| p["required"] == true))
    );
    for status in ["200", "400", "404", "422", "503"] {
        assert!(op["responses"][status].is_object(), "{status} missing");
    }
    assert!(doc["components"]["schemas"]["Conversion"].is_object());
}

// ---- buffered service (what both Lambda binaries run) ----------------------------------------------------------

#[tokio::test]
async fn buffered_service_answers_like_the_router() {
    let app = spawn_app();
    let service = convert::buffered::buffered::<Body>(app.router.clone());
    let request = Request::get("/convert?from=USD&to=EUR&amount=10800")
        .body(Body::empty())
        .unwrap_or_else(|e| panic!("{e}"));
    let response = service
        .oneshot(request)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    assert_eq!(body["converted"], 10_000);
}
