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
use http::StatusCode;
use platform::auth::SigningKey;
use platform::auth::keys::{KeyRefresh, MonotonicClock};
use platform::auth::verifier::IssuerPolicy;
use serde_json::json;
use testkit::TestClient;

use crate::helpers::PASSWORD;

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

async fn token(app: &TestClient) -> String {
    let reply = app
        .post("/login")
        .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .ok()
        .and_then(|h| h.kid)
        .unwrap_or_default()
}

async fn kids(app: &TestClient) -> Vec<String> {
    let jwks = app.get("/.well-known/jwks.json").send().await.body;
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
    let app = TestClient::without_issuer(app(state));
    let registered = app
        .post("/register")
        .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
        .send()
        .await;
    assert_eq!(registered.status, StatusCode::CREATED);
    let old_token = token(&app).await;
    assert_eq!(kid_of(&old_token), "k-old");

    // rotate: new current, old kept as previous.
    if let Ok(mut keys) = secret.0.lock() {
        *keys = SigningKeys::new(new.clone(), Some(old.clone()));
    }
    seconds.store(149, Ordering::SeqCst);
    assert_eq!(kid_of(&token(&app).await), "k-old", "not yet re-read");
    seconds.store(150, Ordering::SeqCst);
    assert_eq!(kid_of(&token(&app).await), "k-new");
    assert_eq!(kids(&app).await, vec!["k-new", "k-old"]);
    assert_eq!(
        app.get("/me").bearer(&old_token).send().await.status,
        StatusCode::OK,
        "tokens of the previous key still verify during the rotation"
    );

    // retire-previous: the old key leaves the secret, then the JWKS and the verifier.
    if let Ok(mut keys) = secret.0.lock() {
        *keys = SigningKeys::new(new.clone(), None);
    }
    seconds.store(300, Ordering::SeqCst);
    assert_eq!(kids(&app).await, vec!["k-new"]);
    assert_eq!(
        app.get("/me").bearer(&old_token).send().await.status,
        StatusCode::UNAUTHORIZED
    );
}
