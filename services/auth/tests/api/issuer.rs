//! The issuer comes from configuration only: a forged `Host` changes neither the discovery document nor
//! the `iss` of minted tokens, and the service refuses to start without one.

use auth::{AppState, app};
use base64::Engine as _;
use http::StatusCode;
use platform::config::Env;
use serde_json::{Value, json};
use testkit::TestClient;

use crate::helpers::PASSWORD;

const ISSUER: &str = "https://id.example.com";

#[tokio::test]
async fn a_forged_host_changes_neither_discovery_nor_minted_tokens() {
    let (state, _) = AppState::for_tests(Some(ISSUER));
    // Every request names a forged host.
    let evil = TestClient::without_issuer(app(state))
        .with_default_header("host", "evil.test")
        .with_default_header("x-forwarded-proto", "http");
    let reply = evil.get("/.well-known/openid-configuration").send().await;
    assert_eq!(reply.status, StatusCode::OK);
    let document = reply.body;
    assert_eq!(document["issuer"], ISSUER);
    assert_eq!(
        document["jwks_uri"],
        format!("{ISSUER}/.well-known/jwks.json")
    );

    let credentials = json!({"email": "ada@example.com", "password": PASSWORD});
    let registered = evil.post("/register").json(&credentials).send().await;
    assert_eq!(registered.status, StatusCode::CREATED);
    let reply = evil.post("/login").json(&credentials).send().await;
    assert_eq!(reply.status, StatusCode::OK);
    let token = reply.body;
    let payload = token["access_token"]
        .as_str()
        .and_then(|t| t.split('.').nth(1))
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .unwrap_or(Value::Null);
    assert_eq!(payload["iss"], ISSUER);
}

#[test]
fn every_verifier_refuses_to_start_without_an_issuer() {
    let env = Env::from_pairs([("JWT_AUDIENCE", "api"), ("REVOKED_TOKENS_TABLE", "revoked")]);
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    let err = platform::auth::Verifier::from_env(&env, &sdk)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("JWT_ISSUER"), "{err}");
    let empty = Env::from_pairs([
        ("JWT_AUDIENCE", "api"),
        ("REVOKED_TOKENS_TABLE", "revoked"),
        ("JWT_ISSUER", "evil.test"),
    ]);
    assert!(platform::auth::Verifier::from_env(&empty, &sdk).is_err());
}
