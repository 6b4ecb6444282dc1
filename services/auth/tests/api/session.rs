//! `GET /me` and `POST /logout`: the profile, the bearer challenge, revocation everywhere.

use http::{Method, StatusCode};
use platform::auth::verifier::IssuerPolicy;
use platform::auth::{JwkSet, Verifier};

use crate::helpers::{ISSUER, PASSWORD, spawn_app};

#[tokio::test]
async fn me_returns_the_profile() {
    let app = spawn_app();
    let token = app.token_for("ada@example.com").await;
    let reply = app
        .get("/me")
        .bearer(&token)
        .send_expecting(StatusCode::OK)
        .await;
    assert_eq!(reply.body["email"], "ada@example.com");
    assert!(reply.body.get("password_hash").is_none());
}

#[tokio::test]
async fn me_without_or_with_bad_token_is_401_with_challenge() {
    let app = spawn_app();
    let reply = app.get("/me").send().await;
    reply.assert_problem(StatusCode::UNAUTHORIZED);
    assert_eq!(reply.headers["www-authenticate"], r#"Bearer realm="api""#);
    let reply = app.get("/me").bearer("not.a.jwt").send().await;
    reply.assert_problem(StatusCode::UNAUTHORIZED);
    assert!(
        reply.headers["www-authenticate"]
            .to_str()
            .unwrap_or_default()
            .contains("invalid_token")
    );
}

#[tokio::test]
async fn logout_revokes_the_token_everywhere() {
    let app = spawn_app();
    let token = app.token_for("ada@example.com").await;
    app.post("/logout")
        .bearer(&token)
        .send_expecting(StatusCode::NO_CONTENT)
        .await;

    // The same token is refused by auth itself…
    for (method, path) in [(Method::GET, "/me"), (Method::POST, "/logout")] {
        let reply = app
            .request(method.clone(), path)
            .bearer(&token)
            .send()
            .await;
        reply.assert_problem(StatusCode::UNAUTHORIZED);
        assert_eq!(reply.body["detail"], "The access token has been revoked.");
    }
    // …and by any other service's verifier sharing the revocation table.
    let jwks: JwkSet = serde_json::from_value(app.get("/.well-known/jwks.json").send().await.body)
        .unwrap_or(JwkSet { keys: vec![] });
    let other_service = Verifier::with_keys(
        IssuerPolicy::Fixed(ISSUER.into()),
        "api",
        &jwks,
        app.handles.revocations.clone(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        other_service.verify(&token, ISSUER).await.err(),
        Some(platform::auth::AuthError::Revoked)
    );
    // A fresh login still works.
    assert_eq!(
        app.login("ada@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn logout_without_token_is_401() {
    let app = spawn_app();
    let reply = app.post("/logout").send().await;
    reply.assert_problem(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revocation_store_outage_is_503_on_logout() {
    let app = spawn_app();
    let token = app.token_for("ada@example.com").await;
    app.handles.revocations.set_unavailable(true);
    let reply = app.post("/logout").bearer(&token).send().await;
    reply.assert_problem(StatusCode::SERVICE_UNAVAILABLE);
}
