//! Invoice creation: server-side totals, validation and overflow.

use http::{StatusCode, header};
use serde_json::json;

use crate::helpers::{id, spawn_app};

#[tokio::test]
async fn invoice_totals_are_computed_server_side_with_half_even_tax_per_line() {
    let app = spawn_app();
    let reply = app
        .post("/invoices")
        .as_user("alice")
        .json(&json!({"currency": "EUR", "lines": [
            {"description": "a", "quantity": 1, "unit_price": 25, "tax_rate_bps": 1000},
            {"description": "b", "quantity": 1, "unit_price": 35, "tax_rate_bps": 1000},
            {"description": "c", "quantity": 3, "unit_price": 12500, "tax_rate_bps": 1900},
            // Client-sent totals are ignored.
            {"description": "d", "quantity": 2, "unit_price": 100, "total": 1}
        ]}))
        .send()
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
async fn invalid_invoices_are_422_and_lines_beyond_their_bounds_are_invalid() {
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
            "validation",
        ),
        (
            json!({"currency": "EUR", "lines": [line(100_001, 1, 0)]}),
            "validation",
        ),
        (
            json!({"currency": "EUR", "lines": [line(1, 100_000_001, 100)]}),
            "validation",
        ),
    ];
    for (body, code) in cases {
        let reply = app.post_invoice("alice", &body).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(reply.body["code"], code, "{body}");
    }
    // Numbers beyond i64 and wrong types are refused by the JSON extractor (422), bad JSON is 400.
    let huge = json!({"currency": "EUR", "lines": [{"description": "x", "quantity": 1, "unit_price": 1e30}]});
    for (body, status) in [
        (huge.to_string(), StatusCode::UNPROCESSABLE_ENTITY),
        ("{\"currency\":".to_owned(), StatusCode::BAD_REQUEST),
    ] {
        let reply = app
            .post("/invoices")
            .as_user("alice")
            .body("application/json", body.clone())
            .send()
            .await;
        assert_eq!(reply.status, status, "{body}");
    }
    let listed = app.get("/invoices").as_user("alice").send().await;
    assert_eq!(listed.body["items"], json!([]), "nothing was stored");
}
