//! Router tests: every route and error case over the in-memory stores, through `oneshot`.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use billing::AppState;
use billing::store::{MemoryBillingStore, MemoryCurrencyRates};
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use platform::auth::testing::TestIssuer;
use platform::idempotency::{
    IdempotencyKey, IdempotencyStore, MemoryIdempotencyStore, fingerprint,
};
use platform::pagination::PageCodec;
use serde_json::{Value, json};
use tower::ServiceExt;

struct TestApp {
    router: Router,
    issuer: TestIssuer,
    store: Arc<MemoryBillingStore>,
    rates: Arc<MemoryCurrencyRates>,
    idempotency: Arc<MemoryIdempotencyStore>,
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Value,
    raw: Vec<u8>,
}

fn spawn_app() -> TestApp {
    let issuer = TestIssuer::new();
    let store = Arc::new(MemoryBillingStore::new());
    let rates = Arc::new(MemoryCurrencyRates::new());
    let idempotency = Arc::new(MemoryIdempotencyStore::default());
    let state = AppState {
        store: store.clone(),
        rates: rates.clone(),
        idempotency: idempotency.clone(),
        pages: PageCodec::new(b"billing-test-pagination-key-0123456789")
            .unwrap_or_else(|e| panic!("{e}")),
        verifier: issuer.verifier(),
    };
    TestApp {
        router: billing::app(state),
        issuer,
        store,
        rates,
        idempotency,
    }
}

async fn send(router: &Router, request: Request<Body>) -> Reply {
    let response = router
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
    if status.is_client_error() || status.is_server_error() {
        assert_eq!(
            headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "errors are problem+json: {status} {body}"
        );
    }
    Reply {
        status,
        headers,
        body,
        raw,
    }
}

fn request(
    issuer: &TestIssuer,
    method: &str,
    uri: &str,
    user: Option<&str>,
    body: Option<&Value>,
    key: Option<&str>,
) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(user) = user {
        builder = builder.header(
            header::AUTHORIZATION,
            format!("Bearer {}", issuer.token(user, &[])),
        );
    }
    if let Some(key) = key {
        builder = builder.header("idempotency-key", key);
    }
    match body {
        Some(body) => builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => builder.body(Body::empty()),
    }
    .unwrap_or_default()
}

impl TestApp {
    async fn call(
        &self,
        method: &str,
        uri: &str,
        user: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        send(
            &self.router,
            request(&self.issuer, method, uri, user, body.as_ref(), None),
        )
        .await
    }

    async fn pay(&self, user: &str, key: &str, body: Value) -> Reply {
        send(
            &self.router,
            request(
                &self.issuer,
                "POST",
                "/payments",
                Some(user),
                Some(&body),
                Some(key),
            ),
        )
        .await
    }

    async fn invoice(&self, user: &str, currency: &str, unit_price: i64) -> Value {
        let reply = self
            .call(
                "POST",
                "/invoices",
                Some(user),
                Some(json!({"currency": currency, "lines": [{"description": "item", "quantity": 1, "unit_price": unit_price, "tax_rate_bps": 0}]})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body
    }

    async fn get_invoice(&self, user: &str, id: &str) -> Value {
        let reply = self
            .call("GET", &format!("/invoices/{id}"), Some(user), None)
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        reply.body
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn health_answers_ok() {
    let app = spawn_app();
    let reply = app.call("GET", "/health/billing", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["service"], "billing");
}

#[tokio::test]
async fn every_route_needs_a_valid_unrevoked_token() {
    let app = spawn_app();
    let any = "0193f1a2-7c4e-7a10-9b1d-2f1e0c3d4b5a";
    for (method, uri) in [
        ("POST", "/invoices".to_owned()),
        ("GET", "/invoices".to_owned()),
        ("GET", format!("/invoices/{any}")),
        ("POST", "/payments".to_owned()),
        ("GET", "/payments".to_owned()),
        ("GET", format!("/payments/{any}")),
    ] {
        let reply = app.call(method, &uri, None, Some(json!({}))).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {uri}");
    }
    let claims = app.issuer.claims("alice", &[]);
    let token = app.issuer.sign(&claims);
    app.issuer.revoke(&claims).await;
    let revoked = send(
        &app.router,
        Request::get("/invoices")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap_or_default(),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn invoice_totals_are_computed_server_side_with_half_even_tax_per_line() {
    let app = spawn_app();
    let reply = app
        .call(
            "POST",
            "/invoices",
            Some("alice"),
            Some(json!({"currency": "EUR", "lines": [
                {"description": "a", "quantity": 1, "unit_price": 25, "tax_rate_bps": 1000},
                {"description": "b", "quantity": 1, "unit_price": 35, "tax_rate_bps": 1000},
                {"description": "c", "quantity": 3, "unit_price": 12500, "tax_rate_bps": 1900},
                // Client-sent totals are ignored.
                {"description": "d", "quantity": 2, "unit_price": 100, "total": 1}
            ]})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let invoice = &reply.body;
    let taxes: Vec<i64> = invoice["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["tax"].as_i64())
        .collect();
    assert_eq!(taxes, vec![2, 4, 7125, 0]);
    assert_eq!(invoice["subtotal"], 25 + 35 + 37500 + 200);
    assert_eq!(invoice["tax"], 2 + 4 + 7125);
    assert_eq!(invoice["total"], 37760 + 7131);
    assert_eq!(invoice["amount_due"], invoice["total"]);
    assert_eq!(invoice["status"], "open");
    assert_eq!(
        reply.headers[header::LOCATION],
        format!("/invoices/{}", id(invoice)).as_str()
    );
    assert_eq!(app.get_invoice("alice", &id(invoice)).await, *invoice);
}

#[tokio::test]
async fn invalid_invoices_are_422_and_overflow_is_422_not_a_wrap() {
    let app = spawn_app();
    let line = |q: i64, p: i64, bps: i64| json!({"description": "x", "quantity": q, "unit_price": p, "tax_rate_bps": bps});
    let cases = [
        (
            json!({"currency": "eur", "lines": [line(1, 1, 0)]}),
            "validation",
        ),
        (
            json!({"currency": "XXX", "lines": [line(1, 1, 0)]}),
            "validation",
        ),
        (json!({"currency": "EUR", "lines": []}), "validation"),
        (
            json!({"currency": "EUR", "lines": [line(0, 1, 0)]}),
            "validation",
        ),
        (
            json!({"currency": "EUR", "lines": [line(1, -1, 0)]}),
            "validation",
        ),
        (
            json!({"currency": "EUR", "lines": [line(1, 1, 10_001)]}),
            "validation",
        ),
        (
            json!({"currency": "EUR", "lines": [line(1_000_000_000, 9_007_199_254_740_991_i64, 0)]}),
            "overflow",
        ),
        (
            json!({"currency": "EUR", "lines": [line(1, 9_007_199_254_740_991_i64, 0), line(1, 1, 0)]}),
            "overflow",
        ),
        (
            json!({"currency": "EUR", "lines": [line(1, 9_007_199_254_740_991_i64, 100)]}),
            "overflow",
        ),
    ];
    for (body, code) in cases {
        let reply = app
            .call("POST", "/invoices", Some("alice"), Some(body.clone()))
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(reply.body["code"], code, "{body}");
    }
    // Numbers beyond i64 and wrong types are refused by the JSON extractor (422), bad JSON is 400.
    let huge = app
        .call("POST", "/invoices", Some("alice"), Some(json!({"currency": "EUR", "lines": [{"description": "x", "quantity": 1, "unit_price": 1e30}]})))
        .await;
    assert_eq!(huge.status, StatusCode::UNPROCESSABLE_ENTITY);
    let malformed = send(
        &app.router,
        Request::post("/invoices")
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", app.issuer.token("alice", &[])),
            )
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{\"currency\":"))
            .unwrap_or_default(),
    )
    .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    let listed = app.call("GET", "/invoices", Some("alice"), None).await;
    assert_eq!(listed.body["items"], json!([]), "nothing was stored");
}

#[tokio::test]
async fn users_see_only_their_own_invoices_and_payments_as_404_otherwise() {
    let app = spawn_app();
    let invoice = app.invoice("alice", "EUR", 1_000).await;
    let others = app
        .call(
            "GET",
            &format!("/invoices/{}", id(&invoice)),
            Some("bob"),
            None,
        )
        .await;
    assert_eq!(others.status, StatusCode::NOT_FOUND);
    let missing = app
        .call(
            "GET",
            "/invoices/0193f1a2-7c4e-7a10-9b1d-2f1e0c3d4b5a",
            Some("bob"),
            None,
        )
        .await;
    assert_eq!(
        missing.body["detail"], others.body["detail"],
        "indistinguishable from missing"
    );
    assert_eq!(
        app.call("GET", "/invoices/not-an-id", Some("bob"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let listed = app.call("GET", "/invoices", Some("bob"), None).await;
    assert_eq!(listed.body["items"], json!([]));

    let paid_by_bob = app
        .pay(
            "bob",
            "k1",
            json!({"invoice_id": id(&invoice), "amount": 100, "currency": "EUR"}),
        )
        .await;
    assert_eq!(
        paid_by_bob.status,
        StatusCode::NOT_FOUND,
        "bob cannot pay (or probe) alice's invoice"
    );
    let payment = app
        .pay(
            "alice",
            "k1",
            json!({"invoice_id": id(&invoice), "amount": 100, "currency": "EUR"}),
        )
        .await;
    assert_eq!(payment.status, StatusCode::CREATED);
    let uri = format!("/payments/{}", id(&payment.body));
    assert_eq!(
        app.call("GET", &uri, Some("bob"), None).await.status,
        StatusCode::NOT_FOUND
    );
    let mine = app.call("GET", &uri, Some("alice"), None).await;
    assert_eq!(mine.body, payment.body);
    assert_eq!(
        app.call("GET", "/payments", Some("bob"), None).await.body["items"],
        json!([])
    );
    assert_eq!(
        app.call("GET", "/payments", Some("alice"), None).await.body["items"],
        json!([payment.body])
    );
}

#[tokio::test]
async fn invoices_and_payments_paginate_and_reject_tampered_or_foreign_tokens() {
    let app = spawn_app();
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(id(&app.invoice("alice", "EUR", 100 + i).await));
    }
    app.invoice("bob", "EUR", 1).await;
    let mut seen = Vec::new();
    let mut uri = "/invoices?limit=2".to_owned();
    let mut first_token = String::new();
    for _ in 0..10 {
        let reply = app.call("GET", &uri, Some("alice"), None).await;
        assert_eq!(reply.status, StatusCode::OK);
        seen.extend(reply.body["items"].as_array().into_iter().flatten().map(id));
        match reply.body["next_token"].as_str() {
            Some(token) => {
                if first_token.is_empty() {
                    first_token = token.to_owned();
                }
                uri = format!("/invoices?limit=2&next_token={token}");
            }
            None => break,
        }
    }
    created.reverse();
    assert_eq!(seen, created, "newest first, each once, only alice's");

    let mut tampered = first_token.clone().into_bytes();
    tampered[2] = if tampered[2] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap_or_default();
    let bad = app
        .call(
            "GET",
            &format!("/invoices?next_token={tampered}"),
            Some("alice"),
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let foreign_user = app
        .call(
            "GET",
            &format!("/invoices?next_token={first_token}"),
            Some("bob"),
            None,
        )
        .await;
    assert_eq!(
        foreign_user.status,
        StatusCode::BAD_REQUEST,
        "tokens are bound to their user"
    );
    let foreign_listing = app
        .call(
            "GET",
            &format!("/payments?next_token={first_token}"),
            Some("alice"),
            None,
        )
        .await;
    assert_eq!(foreign_listing.status, StatusCode::BAD_REQUEST);
    let limit = app
        .call("GET", "/payments?limit=0", Some("alice"), None)
        .await;
    assert_eq!(limit.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn payments_require_a_well_formed_idempotency_key() {
    let app = spawn_app();
    let invoice = app.invoice("alice", "EUR", 1_000).await;
    let body = json!({"invoice_id": id(&invoice), "amount": 100, "currency": "EUR"});
    let missing = app
        .call("POST", "/payments", Some("alice"), Some(body.clone()))
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    for bad in ["has space", &"k".repeat(256)] {
        let reply = app.pay("alice", bad, body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(
        app.get_invoice("alice", &id(&invoice)).await["amount_paid"],
        0
    );
    assert!(app.store.all_payments().is_empty());
}

#[tokio::test]
async fn partial_payments_then_full_payment_marks_the_invoice_paid() {
    let app = spawn_app();
    let invoice = app.invoice("alice", "EUR", 1_000).await;
    let pay = |key: &'static str, amount: i64| {
        app.pay(
            "alice",
            key,
            json!({"invoice_id": id(&invoice), "amount": amount, "currency": "EUR"}),
        )
    };
    let first = pay("k1", 300).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.body["applied_amount"], 300);
    assert_eq!(first.body["invoice_status"], "open");
    assert_eq!(
        first.headers[header::LOCATION],
        format!("/payments/{}", id(&first.body)).as_str()
    );
    let after_first = app.get_invoice("alice", &id(&invoice)).await;
    assert_eq!(
        (
            after_first["amount_paid"].as_i64(),
            after_first["amount_due"].as_i64()
        ),
        (Some(300), Some(700))
    );
    assert_eq!(after_first["status"], "open");

    let over = pay("k2", 701).await;
    assert_eq!(over.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(over.body["code"], "overpayment");
    assert_eq!(over.body["amount_due"], 700);
    assert_eq!(
        app.get_invoice("alice", &id(&invoice)).await["amount_paid"],
        300,
        "unchanged"
    );

    let rest = pay("k3", 700).await;
    assert_eq!(rest.status, StatusCode::CREATED);
    assert_eq!(rest.body["invoice_status"], "paid");
    let paid = app.get_invoice("alice", &id(&invoice)).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["amount_due"], 0);
    let after_paid = pay("k4", 1).await;
    assert_eq!(after_paid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(after_paid.body["code"], "invoice_paid");
    assert_eq!(app.store.all_payments().len(), 2);

    let missing_invoice = app
        .pay("alice", "k6", json!({"invoice_id": "0193f1a2-7c4e-7a10-9b1d-2f1e0c3d4b5a", "amount": 1, "currency": "EUR"}))
        .await;
    assert_eq!(missing_invoice.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn invalid_payment_fields_are_422() {
    let app = spawn_app();
    let invoice = app.invoice("alice", "EUR", 1_000).await;
    for (i, body) in [
        json!({"invoice_id": id(&invoice), "amount": 0, "currency": "EUR"}),
        json!({"invoice_id": id(&invoice), "amount": -5, "currency": "EUR"}),
        json!({"invoice_id": id(&invoice), "amount": 5, "currency": "EURO"}),
        json!({"invoice_id": id(&invoice), "amount": 9_007_199_254_740_992_i64, "currency": "EUR"}),
    ]
    .into_iter()
    .enumerate()
    {
        let reply = app.pay("alice", &format!("bad-{i}"), body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(reply.body["code"], "validation", "{body}");
    }
    let wrong_type = app
        .pay(
            "alice",
            "bad-type",
            json!({"invoice_id": id(&invoice), "amount": "5", "currency": "EUR"}),
        )
        .await;
    assert_eq!(wrong_type.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.store.all_payments().is_empty());
}

#[tokio::test]
async fn same_key_same_body_replays_the_same_response_and_pays_once() {
    let app = spawn_app();
    let invoice = app.invoice("alice", "EUR", 1_000).await;
    let body = json!({"invoice_id": id(&invoice), "amount": 250, "currency": "EUR"});
    let first = app.pay("alice", "retry-me", body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert!(first.headers.get("idempotent-replayed").is_none());
    // Same content, other formatting and field order.
    let reordered = send(
        &app.router,
        Request::post("/payments")
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", app.issuer.token("alice", &[])),
            )
            .header(header::CONTENT_TYPE, "application/json")
            .header("idempotency-key", "retry-me")
            .body(Body::from(format!(
                "{{ \"currency\": \"EUR\",\n \"amount\": 250, \"invoice_id\": \"{}\" }}",
                id(&invoice)
            )))
            .unwrap_or_default(),
    )
    .await;
    for replay in [app.pay("alice", "retry-me", body.clone()).await, reordered] {
        assert_eq!(replay.status, StatusCode::CREATED);
        assert_eq!(replay.raw, first.raw, "byte-identical body");
        assert_eq!(
            replay.headers[header::LOCATION],
            first.headers[header::LOCATION]
        );
        assert_eq!(replay.headers["idempotent-replayed"], "true");
    }
    assert_eq!(app.store.all_payments().len(), 1);
    assert_eq!(
        app.get_invoice("alice", &id(&invoice)).await["amount_paid"],
        250
    );

    // Errors are replayed too (same status, same body), and still change nothing.
    let over = json!({"invoice_id": id(&invoice), "amount": 5_000, "currency": "EUR"});
    let refused = app.pay("alice", "too-much", over.clone()).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let again = app.pay("alice", "too-much", over).await;
    assert_eq!((again.status, &again.raw), (refused.status, &refused.raw));
    assert_eq!(again.headers["idempotent-replayed"], "true");
}

#[tokio::test]
async fn same_key_different_body_is_422_and_keys_are_scoped_per_user() {
    let app = spawn_app();
    let invoice = app.invoice("alice", "EUR", 1_000).await;
    let first = app
        .pay(
            "alice",
            "k",
            json!({"invoice_id": id(&invoice), "amount": 100, "currency": "EUR"}),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let changed = app
        .pay(
            "alice",
            "k",
            json!({"invoice_id": id(&invoice), "amount": 200, "currency": "EUR"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.get_invoice("alice", &id(&invoice)).await["amount_paid"],
        100
    );
    // Bob's "k" is his own.
    let bobs = app.invoice("bob", "EUR", 1_000).await;
    let bob = app
        .pay(
            "bob",
            "k",
            json!({"invoice_id": id(&bobs), "amount": 200, "currency": "EUR"}),
        )
        .await;
    assert_eq!(bob.status, StatusCode::CREATED);
    assert_eq!(app.store.all_payments().len(), 2);
}

#[tokio::test]
async fn a_key_still_in_progress_is_409() {
    let app = spawn_app();
    let invoice = app.invoice("alice", "EUR", 1_000).await;
    let body = json!({"invoice_id": id(&invoice), "amount": 100, "currency": "EUR"});
    // Another invocation holds the key right now (claimed, not completed).
    let canonical = serde_json::to_vec(
        &serde_json::from_value::<billing::domain::NewPayment>(body.clone())
            .unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_default();
    let key = IdempotencyKey::parse("busy").unwrap_or_else(|e| panic!("{e}"));
    app.idempotency
        .claim(
            "alice",
            &key,
            &fingerprint(&[b"POST /payments", &canonical]),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let reply = app.pay("alice", "busy", body).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert!(app.store.all_payments().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_with_one_key_make_exactly_one_payment() {
    let app = spawn_app();
    let invoice = app.invoice("alice", "EUR", 1_000).await;
    let body = json!({"invoice_id": id(&invoice), "amount": 100, "currency": "EUR"});
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let router = app.router.clone();
            let req = request(
                &app.issuer,
                "POST",
                "/payments",
                Some("alice"),
                Some(&body),
                Some("same"),
            );
            tokio::spawn(async move { send(&router, req).await })
        })
        .collect();
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.unwrap_or_else(|e| panic!("{e}")));
    }
    let created: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .collect();
    assert!(!created.is_empty());
    assert!(
        replies
            .iter()
            .all(|r| r.status == StatusCode::CREATED || r.status == StatusCode::CONFLICT),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(
        created.iter().all(|r| r.raw == created[0].raw),
        "every 201 is the same payment"
    );
    assert_eq!(app.store.all_payments().len(), 1);
    assert_eq!(
        app.get_invoice("alice", &id(&invoice)).await["amount_paid"],
        100
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_payments_never_overpay() {
    let app = spawn_app();
    let invoice = app.invoice("alice", "EUR", 1_000).await;
    let body = json!({"invoice_id": id(&invoice), "amount": 300, "currency": "EUR"});
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let router = app.router.clone();
            let req = request(
                &app.issuer,
                "POST",
                "/payments",
                Some("alice"),
                Some(&body),
                Some(&format!("key-{i}")),
            );
            tokio::spawn(async move { send(&router, req).await.status })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap_or_else(|e| panic!("{e}")));
    }
    let ok = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    assert_eq!(ok, 3, "{statuses:?}");
    let after = app.get_invoice("alice", &id(&invoice)).await;
    assert_eq!(after["amount_paid"], 900);
    assert_eq!(after["status"], "open");
}

#[tokio::test]
async fn payments_in_another_currency_convert_through_the_read_model() {
    let app = spawn_app();
    // Base USD: 1 EUR = 1.25 USD, 1 JPY = 0.0065 USD.
    app.rates.set("USD", "1");
    app.rates.set("EUR", "1.25");
    app.rates.set("JPY", "0.0065");
    let invoice = app.invoice("alice", "EUR", 10_000).await;
    let usd = app
        .pay(
            "alice",
            "usd",
            json!({"invoice_id": id(&invoice), "amount": 1_000, "currency": "USD"}),
        )
        .await;
    assert_eq!(usd.status, StatusCode::CREATED, "{}", usd.body);
    assert_eq!(usd.body["applied_amount"], 800, "10.00 USD = 8.00 EUR");
    assert_eq!(usd.body["conversion"]["from_rate_to_base"], "1");
    assert_eq!(usd.body["conversion"]["to_rate_to_base"], "1.25");
    // 1000 JPY = 6.5 USD = 5.2 EUR = 520 cents.
    let jpy = app
        .pay(
            "alice",
            "jpy",
            json!({"invoice_id": id(&invoice), "amount": 1_000, "currency": "JPY"}),
        )
        .await;
    assert_eq!(jpy.body["applied_amount"], 520);
    assert_eq!(
        app.get_invoice("alice", &id(&invoice)).await["amount_paid"],
        1_320
    );
    // GBP is ISO 4217 but not in the read model.
    let gbp = app
        .pay(
            "alice",
            "gbp",
            json!({"invoice_id": id(&invoice), "amount": 100, "currency": "GBP"}),
        )
        .await;
    assert_eq!(gbp.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(gbp.body["code"], "currency_not_supported");
    // Converted overpayment is refused: 8 680 cents due = 108.50 USD; 108.52 USD is credited 8 681
    // (8 681.6 rounded down).
    let over = app
        .pay(
            "alice",
            "big",
            json!({"invoice_id": id(&invoice), "amount": 10_852, "currency": "USD"}),
        )
        .await;
    assert_eq!(over.body["code"], "overpayment");
    let exact = app
        .pay(
            "alice",
            "exact",
            json!({"invoice_id": id(&invoice), "amount": 10_850, "currency": "USD"}),
        )
        .await;
    assert_eq!(exact.status, StatusCode::CREATED);
    assert_eq!(exact.body["invoice_status"], "paid");
    // 1 KRW = 0.0007 USD = 0.056 euro cent: rounds to nothing.
    app.rates.set("KRW", "0.0007");
    let tiny = app.invoice("alice", "EUR", 10).await;
    let dust = app
        .pay(
            "alice",
            "dust",
            json!({"invoice_id": id(&tiny), "amount": 1, "currency": "KRW"}),
        )
        .await;
    assert_eq!(dust.body["code"], "amount_too_small");
    // A currency removed from the read model stops converting.
    app.rates.remove("USD");
    let gone = app
        .pay(
            "alice",
            "usd-gone",
            json!({"invoice_id": id(&tiny), "amount": 5, "currency": "USD"}),
        )
        .await;
    assert_eq!(gone.body["code"], "currency_not_supported");
    assert_eq!(app.get_invoice("alice", &id(&tiny)).await["amount_paid"], 0);
}

#[tokio::test]
async fn openapi_documents_every_route_and_bearer_security() {
    let doc = serde_json::to_value(billing::openapi()).unwrap_or_default();
    for (path, methods) in [
        ("/invoices", vec!["get", "post"]),
        ("/invoices/{id}", vec!["get"]),
        ("/payments", vec!["get", "post"]),
        ("/payments/{id}", vec!["get"]),
    ] {
        for method in methods {
            let op = &doc["paths"][path][method];
            assert!(op.is_object(), "{method} {path}");
            assert_eq!(op["security"][0]["bearer"], json!([]), "{method} {path}");
            assert!(op["responses"]["401"].is_object(), "{method} {path}");
        }
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let params = &doc["paths"]["/payments"]["post"]["parameters"];
    assert_eq!(params[0]["name"], "Idempotency-Key");
    assert_eq!(params[0]["in"], "header");
    assert!(doc["components"]["schemas"]["Invoice"]["example"].is_object());
}

/// Contract finding (schemathesis ST103, `./inv contract`): `POST /payments` without `Content-Type` answered 415,
/// which the document did not list. Every operation with a request body documents the 415 it can answer.
#[tokio::test]
async fn a_body_without_content_type_is_415_and_documented() {
    let app = spawn_app();
    let mut builder = Request::builder().method("POST").uri("/payments");
    builder = builder
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", app.issuer.token("alice", &[])),
        )
        .header("idempotency-key", "k-415");
    let request = builder.body(Body::empty()).unwrap_or_default();
    let reply = send(&app.router, request).await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let doc = serde_json::to_value(billing::openapi()).unwrap_or_default();
    for (path, method) in [("/payments", "post"), ("/invoices", "post")] {
        assert!(
            doc["paths"][path][method]["responses"]["415"].is_object(),
            "{method} {path} documents 415"
        );
    }
}
