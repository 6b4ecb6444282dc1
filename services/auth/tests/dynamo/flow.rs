//! Register, login, logout over DynamoDB with the revocation table's TTL; the signing key from Secrets Manager.

use auth::AppState;
use http::StatusCode;
use platform::auth::{DynamoRevocationStore, RevocationStore, SigningKey};
use platform::config::Env;
use serde_json::json;

use crate::helpers::{Fixture, PASSWORD, client, fixture, state_over, unique};

/// The production state's variables over the fixture's tables, its signing key read from `secret_arn`.
fn production_env(f: &Fixture, secret_arn: &str) -> Env {
    Env::from_pairs([
        ("USERS_TABLE", f.users.as_str()),
        ("REVOKED_TOKENS_TABLE", f.revoked.as_str()),
        ("SIGNING_KEY_SECRET_ARN", secret_arn),
        ("JWT_AUDIENCE", "api"),
        ("JWT_ISSUER", "https://api.test.invalid"),
        ("LOGIN_ATTEMPTS_TABLE", "login-attempts"),
        ("ARGON2_MEMORY_KIB", "64"),
        ("ARGON2_ITERATIONS", "1"),
    ])
}

/// A new secret (a unique name starting with `name`) holding `value`: its ARN.
async fn create_secret(f: &Fixture, name: &str, value: &str) -> String {
    aws_sdk_secretsmanager::Client::new(&f.sdk)
        .create_secret()
        .name(unique(name))
        .secret_string(value)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create secret {name}: {e:?}"))
        .arn()
        .unwrap_or_default()
        .to_owned()
}

/// The production state, its signing key read from the secret `secret_arn`.
async fn state_from_secret(f: &Fixture, secret_arn: &str) -> Result<AppState, String> {
    AppState::from_env(&production_env(f, secret_arn), &f.sdk)
        .await
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn full_flow_over_dynamodb_and_revocation_with_ttl() {
    let f = fixture().await;
    let state = state_over(&f);
    let body = json!({"email": "Ada@Example.com", "password": PASSWORD});
    assert_eq!(
        client(&state)
            .post("/register")
            .json(&body)
            .send()
            .await
            .status,
        StatusCode::CREATED
    );
    let reply = client(&state).post("/login").json(&body).send().await;
    let (status, login) = (reply.status, reply.body);
    assert_eq!(status, StatusCode::OK, "{login}");
    let token = login["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let reply = client(&state).get("/me").bearer(&token).send().await;
    let (status, me) = (reply.status, reply.body);
    assert_eq!(
        (status, me["email"].as_str()),
        (StatusCode::OK, Some("ada@example.com"))
    );

    assert_eq!(
        client(&state)
            .post("/logout")
            .bearer(&token)
            .send()
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        client(&state).get("/me").bearer(&token).send().await.status,
        StatusCode::UNAUTHORIZED
    );

    // A fresh environment (no cache) of any service sees the revocation in the table.
    let principal = state
        .verifier()
        .verify(&token, "https://api.test.invalid")
        .await
        .err();
    assert_eq!(principal, Some(platform::auth::AuthError::Revoked));
    let items = f.scan(&f.revoked).await;
    assert_eq!(items.len(), 1);
    let expires_at = platform::dynamo::get_i64(&items[0], "expires_at").unwrap_or_default();
    assert!(
        expires_at > platform::auth::claims::now() + 800,
        "TTL = token exp: {expires_at}"
    );
    let store = DynamoRevocationStore::new(f.dynamodb.clone(), &f.revoked);
    assert_eq!(store.is_revoked("some-other-jti").await, Ok(false));
}

#[tokio::test]
async fn from_env_loads_the_signing_key_from_secrets_manager() {
    let f = fixture().await;
    let pem = SigningKey::generate_pkcs8_pem().unwrap_or_else(|e| panic!("{e}"));
    let key = json!({"current": {"kid": "k-1", "alg": "ES256", "private_key_pem": pem}});
    let secret = create_secret(&f, "signing-key", &key.to_string()).await;
    let state = state_from_secret(&f, &secret)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let reply = client(&state).get("/.well-known/jwks.json").send().await;
    let (status, jwks) = (reply.status, reply.body);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(jwks["keys"][0]["kid"], "k-1");

    // An empty secret (created by the template, not yet seeded) stops the function at start.
    let empty = create_secret(&f, "empty", "{}").await;
    let err = state_from_secret(&f, &empty).await.err();
    assert!(
        err.is_some_and(|e| e.contains("./inv")),
        "the error says how to fix it"
    );
}
