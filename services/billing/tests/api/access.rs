//! Health, authentication on every route, and ownership: users see only their own invoices and payments.

use http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{id, spawn_app};

#[tokio::test]
async fn health_answers_ok() {
    spawn_app().assert_healthy("billing").await;
}

#[tokio::test]
async fn every_route_needs_a_valid_unrevoked_token() {
    let app = spawn_app();
    let any = "0193f1a2-7c4e-7a10-9b1d-2f1e0c3d4b5a";
    for (method, uri) in [
        (Method::POST, "/invoices".to_owned()),
        (Method::GET, "/invoices".to_owned()),
        (Method::GET, format!("/invoices/{any}")),
        (Method::POST, "/payments".to_owned()),
        (Method::GET, "/payments".to_owned()),
        (Method::GET, format!("/payments/{any}")),
    ] {
        let reply = app
            .request(method.clone(), &uri)
            .json(&json!({}))
            .send()
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {uri}");
    }
    let claims = app.issuer().claims("alice", &[]);
    let token = app.issuer().sign(&claims);
    app.issuer().revoke(&claims).await;
    let revoked = app.get("/invoices").bearer(&token).send().await;
    assert_eq!(revoked.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn users_see_only_their_own_invoices_and_payments_as_404_otherwise() {
    let app = spawn_app();
    let invoice = app.invoice("alice", "EUR", 1_000).await;
    let others = app
        .get(format!("/invoices/{}", id(&invoice)))
        .as_user("bob")
        .send()
        .await;
    assert_eq!(others.status, StatusCode::NOT_FOUND);
    let missing = app
        .get("/invoices/0193f1a2-7c4e-7a10-9b1d-2f1e0c3d4b5a")
        .as_user("bob")
        .send()
        .await;
    assert_eq!(
        missing.body["detail"], others.body["detail"],
        "indistinguishable from missing"
    );
    assert_eq!(
        app.get("/invoices/not-an-id")
            .as_user("bob")
            .send()
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let listed = app.get("/invoices").as_user("bob").send().await;
    assert_eq!(listed.body["items"], json!([]));

    let paid_by_bob = app.pay_on("bob", "k1", &invoice, 100, "EUR").await;
    assert_eq!(
        paid_by_bob.status,
        StatusCode::NOT_FOUND,
        "bob cannot pay (or probe) alice's invoice"
    );
    let payment = app.pay_on("alice", "k1", &invoice, 100, "EUR").await;
    assert_eq!(payment.status, StatusCode::CREATED);
    let uri = format!("/payments/{}", id(&payment.body));
    assert_eq!(
        app.get(&uri).as_user("bob").send().await.status,
        StatusCode::NOT_FOUND
    );
    let mine = app.get(&uri).as_user("alice").send().await;
    assert_eq!(mine.body, payment.body);
    assert_eq!(
        app.get("/payments").as_user("bob").send().await.body["items"],
        json!([])
    );
    assert_eq!(
        app.get("/payments").as_user("alice").send().await.body["items"],
        json!([payment.body])
    );
}
