//! `POST /login`: tokens the published JWKS verifies, one 401 for every failure, roles, the throttle hook.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use auth::throttle::{LoginAttempt, LoginThrottle, RetryAfter};
use http::StatusCode;
use platform::auth::{JwkSet, Verifier};
use serde_json::json;

use crate::helpers::{ISSUER, PASSWORD, decode_b64url_json, spawn_app};

#[tokio::test]
async fn login_returns_a_bearer_token_that_the_jwks_verifies() {
    let app = spawn_app();
    app.register("ada@example.com").await;
    let reply = app.login(" ADA@example.com ", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.headers["cache-control"], "no-store");
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 900);
    let token = reply.body["access_token"].as_str().unwrap_or_default();

    // Another service: keys only from the published JWKS, its own revocation store.
    let jwks_reply = app.get("/.well-known/jwks.json").send().await;
    assert_eq!(jwks_reply.status, StatusCode::OK);
    assert_eq!(jwks_reply.headers["cache-control"], "public, max-age=300");
    let key = &jwks_reply.body["keys"][0];
    assert_eq!(key["kty"], "EC");
    assert_eq!(key["crv"], "P-256");
    assert_eq!(key["alg"], "ES256");
    assert_eq!(key["use"], "sig");
    assert!(key["kid"].is_string());
    assert!(key.get("d").is_none(), "private part published: {key}");
    let jwks: JwkSet =
        serde_json::from_value(jwks_reply.body.clone()).unwrap_or(JwkSet { keys: vec![] });
    let verifier = Verifier::for_tests(
        ISSUER,
        "api",
        &jwks,
        Arc::new(platform::auth::InMemoryRevocationStore::new()),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let principal = verifier
        .verify(token, ISSUER)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(principal.email, "ada@example.com");
    assert!(principal.roles.is_empty());

    // Header carries the kid; claims carry everything the design lists.
    let header = jsonwebtoken::decode_header(token).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    assert_eq!(header.kid.as_deref(), key["kid"].as_str());
    let payload = token.split('.').nth(1).unwrap_or_default();
    let claims = decode_b64url_json(payload);
    for claim in ["iss", "aud", "sub", "email", "roles", "jti", "iat", "exp"] {
        assert!(claims.get(claim).is_some(), "missing {claim}: {claims}");
    }
    assert_eq!(claims["iss"], ISSUER);
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_401() {
    let app = spawn_app();
    app.register("ada@example.com").await;
    let wrong = app.login("ada@example.com", "not the right password").await;
    let unknown = app.login("nobody@example.com", PASSWORD).await;
    let malformed = app.login("not an email", PASSWORD).await;
    wrong.assert_problem(StatusCode::UNAUTHORIZED);
    for other in [&unknown, &malformed] {
        assert_eq!(other.status, wrong.status);
        assert_eq!(other.raw, wrong.raw, "bodies differ");
        assert_eq!(other.headers["content-type"], wrong.headers["content-type"]);
        assert_eq!(
            other.headers["www-authenticate"],
            wrong.headers["www-authenticate"]
        );
    }
    assert_eq!(wrong.body["detail"], "The email or password is incorrect.");
}

#[tokio::test]
async fn roles_granted_are_in_the_next_token() {
    let app = spawn_app();
    let before = app.token_for("root@example.com").await;
    assert!(app.handles.store.grant_role("root@example.com", "admin"));
    let after = app.login("root@example.com", PASSWORD).await;
    let after = after.body["access_token"].as_str().unwrap_or_default();
    let roles = |token: &str| {
        decode_b64url_json(token.split('.').nth(1).unwrap_or_default())["roles"].clone()
    };
    assert_eq!(roles(&before), json!([]));
    assert_eq!(roles(after), json!(["admin"]));
}

struct Refuse(AtomicUsize);

#[async_trait::async_trait]
impl LoginThrottle for Refuse {
    async fn check(&self, attempt: &LoginAttempt) -> Result<(), RetryAfter> {
        assert_eq!(attempt.email, "ada@example.com");
        self.0.fetch_add(1, Ordering::SeqCst);
        Err(RetryAfter(60))
    }
    async fn record_failure(&self, _: &LoginAttempt) {}
    async fn record_success(&self, _: &LoginAttempt) {}
}

#[tokio::test]
async fn throttle_hook_refuses_with_429_and_retry_after() {
    let app = spawn_app();
    app.register("ada@example.com").await;
    let throttle = Arc::new(Refuse(AtomicUsize::new(0)));
    let app = app.with_throttle(throttle.clone());
    let reply = app.login("Ada@example.com", PASSWORD).await;
    reply.assert_problem(StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.headers["retry-after"], "60");
    assert_eq!(throttle.0.load(Ordering::SeqCst), 1);
}
