//! The app under test: the auth router over in-memory stores (it issues its own tokens), and the calls many
//! tests make.

use std::sync::Arc;

use auth::state::TestHandles;
use auth::throttle::LoginThrottle;
use auth::{AppState, app};
use http::StatusCode;
use serde_json::{Value, json};
use testkit::{Reply, TestClient};

/// The host every request names (the issuer comes from configuration, not from it).
pub const HOST: &str = "api.test.invalid";
pub const ISSUER: &str = "https://api.test.invalid";
pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    client: TestClient,
    state: AppState,
    pub handles: TestHandles,
}

testkit::deref_to_client!(TestApp, client);

/// Auth over its in-memory stores with the test issuer.
pub fn spawn_app() -> TestApp {
    let (state, handles) = AppState::for_tests(None);
    TestApp::over(state, handles)
}

impl TestApp {
    /// A client for `state`, naming [`HOST`] on every request.
    pub fn over(state: AppState, handles: TestHandles) -> Self {
        Self {
            client: client(state.clone()),
            state,
            handles,
        }
    }

    /// The same stores behind `throttle`.
    pub fn with_throttle(self, throttle: Arc<dyn LoginThrottle>) -> Self {
        Self::over(self.state.with_throttle(throttle), self.handles)
    }

    pub async fn register(&self, email: &str) -> Reply {
        self.register_with(email, PASSWORD).await
    }

    /// `POST /register` of `email` with `password`.
    pub async fn register_with(&self, email: &str, password: &str) -> Reply {
        self.post("/register")
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.post("/login")
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
    }

    /// Registers `email` and logs in: the access token.
    pub async fn token_for(&self, email: &str) -> String {
        let reply = self.register(email).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let reply = self.login(email, PASSWORD).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// A client over `state` naming [`HOST`] on every request.
pub fn client(state: AppState) -> TestClient {
    TestClient::without_issuer(app(state)).with_default_header("host", HOST)
}

/// The JSON in a base64url JWT segment.
pub fn decode_b64url_json(segment: &str) -> Value {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits: u32 = 0;
    let mut count = 0;
    let mut out = Vec::new();
    for byte in segment.bytes() {
        let Some(value) = ALPHABET.iter().position(|b| *b == byte) else {
            continue;
        };
        bits = (bits << 6) | u32::try_from(value).unwrap_or(0);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push(u8::try_from((bits >> count) & 0xff).unwrap_or(0));
        }
    }
    serde_json::from_slice(&out).unwrap_or(Value::Null)
}
