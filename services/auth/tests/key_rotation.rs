//! Key rotation takes effect in a warm environment: after the secret changes, login signs with the new
//! key and the JWKS publishes it within the refresh bound; a retired key stops verifying within it.
//! The clock is injected (no sleeping).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use auth::key_ring::{KeyRing, KeySource};
use auth::signing::{SigningKeys, SigningKeysError};
use auth::{AppState, app};
use axum::body::Body;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use platform::auth::SigningKey;
use platform::auth::keys::{KeyRefresh, MonotonicClock};
use platform::auth::verifier::IssuerPolicy;
use serde_json::{Value, json};
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery staple";

/// The secret's content, as `./inv keys rotate` / `retire-previous` would leave it.
struct Secret(Mutex<SigningKeys>);

#[async_trait]
impl KeySource for Secret {
    async fn load(&self) -> Result<SigningKeys, SigningKeysError> {
        self.0
            .lock()
            .map(|k| k.clone())
            .map_err(|_| SigningKeysError::Fetch("poisoned".into()))
    }
}

fn key(kid: &str) -> SigningKey {
    SigningKey::generate(Some(kid)).unwrap_or_else(|e| panic!("{e}"))
}

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

fn post(path: &str, body: &Value) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_default()
}

fn get(path: &str, token: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    request.body(Body::empty()).unwrap_or_default()
}

async fn token(state: &AppState) -> String {
    let (status, body) = call(
        state,
        post(
            "/login",
            &json!({"email": "ada@example.com", "password": PASSWORD}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"].as_str().unwrap_or_default().to_owned()
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .ok()
        .and_then(|h| h.kid)
        .unwrap_or_default()
}

async fn kids(state: &AppState) -> Vec<String> {
    let (_, jwks) = call(state, get("/.well-known/jwks.json", None)).await;
    jwks["keys"]
        .as_array()
        .map(|keys| {
            keys.iter()
                .filter_map(|k| k["kid"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_warm_environment_signs_with_a_rotated_key_and_drops_a_retired_one_within_the_bound() {
    let (old, new) = (key("k-old"), key("k-new"));
    let secret = Arc::new(Secret(Mutex::new(SigningKeys::new(old.clone(), None))));
    let seconds = Arc::new(AtomicU64::new(0));
    let clock_seconds = seconds.clone();
    let clock: MonotonicClock =
        Arc::new(move || Duration::from_secs(clock_seconds.load(Ordering::SeqCst)));
    let refresh = KeyRefresh::new(Duration::from_secs(300), clock);
    let ring = KeyRing::load(secret.clone(), refresh.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (template, handles) = AppState::for_tests(None);
    drop(template);
    let config = auth::AuthConfig {
        issuer: IssuerPolicy::Fixed(auth::state::TEST_ISSUER.into()),
        audience: "api".into(),
        token_ttl_seconds: 3600,
        hasher: auth::domain::PasswordHasher::fast_for_tests(),
    };
    let state = AppState::with_key_ring(
        handles.store.clone(),
        handles.revocations.clone(),
        Arc::new(ring),
        refresh,
        config,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (status, _) = call(
        &state,
        post(
            "/register",
            &json!({"email": "ada@example.com", "password": PASSWORD}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let old_token = token(&state).await;
    assert_eq!(kid_of(&old_token), "k-old");

    // rotate: new current, old kept as previous.
    if let Ok(mut keys) = secret.0.lock() {
        *keys = SigningKeys::new(new.clone(), Some(old.clone()));
    }
    seconds.store(149, Ordering::SeqCst);
    assert_eq!(kid_of(&token(&state).await), "k-old", "not yet re-read");
    seconds.store(150, Ordering::SeqCst);
    assert_eq!(kid_of(&token(&state).await), "k-new");
    assert_eq!(kids(&state).await, vec!["k-new", "k-old"]);
    assert_eq!(
        call(&state, get("/me", Some(&old_token))).await.0,
        StatusCode::OK,
        "tokens of the previous key still verify during the rotation"
    );

    // retire-previous: the old key leaves the secret, then the JWKS and the verifier.
    if let Ok(mut keys) = secret.0.lock() {
        *keys = SigningKeys::new(new.clone(), None);
    }
    seconds.store(300, Ordering::SeqCst);
    assert_eq!(kids(&state).await, vec!["k-new"]);
    assert_eq!(
        call(&state, get("/me", Some(&old_token))).await.0,
        StatusCode::UNAUTHORIZED
    );
}
