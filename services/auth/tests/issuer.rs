//! The issuer comes from configuration only: a forged `Host` changes neither the discovery document nor
//! the `iss` of minted tokens, and the service refuses to start without one.

use auth::{AppState, app};
use axum::body::Body;
use base64::Engine as _;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use platform::config::Env;
use serde_json::{Value, json};
use tower::ServiceExt;

const ISSUER: &str = "https://id.example.com";
const PASSWORD: &str = "correct horse battery staple";

async fn call(state: &AppState, request: Request<Body>) -> (StatusCode, Value) {
    let response = app(state.clone())
        .oneshot(request)
        .await
        .unwrap_or_else(|never| match never {});
    let status = response.status();
    let raw = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    (status, serde_json::from_slice(&raw).unwrap_or(Value::Null))
}

fn post_from_evil(path: &str, body: &Value) -> Request<Body> {
    Request::post(path)
        .header("host", "evil.test")
        .header("x-forwarded-proto", "http")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_default()
}

#[tokio::test]
async fn a_forged_host_changes_neither_discovery_nor_minted_tokens() {
    let (state, _) = AppState::for_tests(Some(ISSUER));
    let request = Request::get("/.well-known/openid-configuration")
        .header("host", "evil.test")
        .header("x-forwarded-proto", "http")
        .body(Body::empty())
        .unwrap_or_default();
    let (status, document) = call(&state, request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(document["issuer"], ISSUER);
    assert_eq!(
        document["jwks_uri"],
        format!("{ISSUER}/.well-known/jwks.json")
    );

    let credentials = json!({"email": "ada@example.com", "password": PASSWORD});
    let (status, _) = call(&state, post_from_evil("/register", &credentials)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, token) = call(&state, post_from_evil("/login", &credentials)).await;
    assert_eq!(status, StatusCode::OK);
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
