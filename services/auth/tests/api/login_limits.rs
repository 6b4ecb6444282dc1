//! Login limits at the router: per account (lockout after consecutive failures, doubling, reset on
//! success, no enumeration, no hashing while refused) and per source IP (login and register).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

use async_trait::async_trait;
use auth::domain::User;
use auth::login_limits::{
    AttemptStore, AttemptStoreError, Clock, Counter, Failure, InMemoryAttemptStore, LimitSettings,
    LoginLimits,
};
use auth::store::{StoreError, UserStore};
use auth::{AppState, app};
use axum::body::Body;
use http::{Request, StatusCode};
use lambda_http::RequestExt as _;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::request::RequestContext;
use serde_json::{Value, json};
use testkit::{Reply, TestClient};

use crate::helpers::PASSWORD;

/// Counts user lookups: a refused login must not reach the store (nor, after it, the password hash).
struct CountingStore {
    inner: Arc<dyn UserStore>,
    lookups: AtomicUsize,
}

#[async_trait]
impl UserStore for CountingStore {
    async fn create(&self, user: &User) -> Result<(), StoreError> {
        self.inner.create(user).await
    }
    async fn find_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.inner.find_by_email(email).await
    }
    async fn get(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.inner.get(id).await
    }
}

struct Harness {
    client: TestClient,
    now: Arc<AtomicI64>,
    lookups: Arc<CountingStore>,
}

fn harness_with(settings: LimitSettings, store: Arc<dyn AttemptStore>) -> Harness {
    let (template, handles) = AppState::for_tests(None);
    drop(template);
    let lookups = Arc::new(CountingStore {
        inner: handles.store.clone(),
        lookups: AtomicUsize::new(0),
    });
    let key = platform::auth::SigningKey::generate(None).unwrap_or_else(|e| panic!("{e}"));
    let config = auth::AuthConfig {
        issuer: platform::auth::verifier::IssuerPolicy::Fixed(auth::state::TEST_ISSUER.into()),
        audience: "api".into(),
        token_ttl_seconds: 900,
        hasher: auth::domain::PasswordHasher::fast_for_tests(),
    };
    let now = Arc::new(AtomicI64::new(1_000_000));
    let clock_now = now.clone();
    let clock: Clock = Arc::new(move || clock_now.load(Ordering::SeqCst));
    let limits = LoginLimits::new(store, settings, clock);
    let state = AppState::new(
        lookups.clone(),
        handles.revocations,
        auth::signing::SigningKeys::new(key, None),
        config,
    )
    .unwrap_or_else(|e| panic!("{e}"))
    .with_throttle(Arc::new(limits));
    Harness {
        client: TestClient::without_issuer(app(state)),
        now,
        lookups,
    }
}

fn harness() -> Harness {
    harness_with(
        LimitSettings::default(),
        Arc::new(InMemoryAttemptStore::new()),
    )
}

/// The default limits, with ada@example.com registered.
async fn harness_with_ada() -> Harness {
    let h = harness();
    let reply = register(&h, "ada@example.com", None).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    h
}

fn request(path: &str, body: &Value, ip: Option<&str>) -> Request<Body> {
    let request = Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_default();
    match ip {
        Some(ip) => {
            let mut ctx = ApiGatewayV2httpRequestContext::default();
            ctx.http.source_ip = Some(ip.to_owned());
            request.with_request_context(RequestContext::ApiGatewayV2(ctx))
        }
        None => request,
    }
}

/// `POST {path}` of `email` and `password`, from `ip` when given.
async fn send_credentials(
    h: &Harness,
    path: &str,
    email: &str,
    password: &str,
    ip: Option<&str>,
) -> Reply {
    let body = json!({"email": email, "password": password});
    h.client.send(request(path, &body, ip)).await
}

async fn login_from(h: &Harness, email: &str, password: &str, ip: Option<&str>) -> Reply {
    send_credentials(h, "/login", email, password, ip).await
}

async fn login(h: &Harness, email: &str, password: &str) -> Reply {
    login_from(h, email, password, None).await
}

async fn register(h: &Harness, email: &str, ip: Option<&str>) -> Reply {
    send_credentials(h, "/register", email, PASSWORD, ip).await
}

fn advance(h: &Harness, seconds: i64) {
    h.now.fetch_add(seconds, Ordering::SeqCst);
}

fn assert_429(reply: &Reply, retry_after: &str) {
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.body
    );
    assert_eq!(
        reply.header_or_empty("content-type"),
        "application/problem+json"
    );
    assert_eq!(reply.header("retry-after"), Some(retry_after));
    assert_eq!(reply.body["status"], 429);
    assert_eq!(reply.body["type"], "/problems/too-many-attempts");
}

#[tokio::test]
async fn an_account_locks_after_five_failures_and_the_wait_doubles_up_to_the_cap() {
    let h = harness_with_ada().await;
    for _ in 0..5 {
        let reply = login(&h, "ada@example.com", "wrong password!!").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    // Locked: even the right password is refused, without a lookup or a hash.
    let lookups = h.lookups.lookups.load(Ordering::SeqCst);
    assert_429(&login(&h, "ADA@example.com ", PASSWORD).await, "30");
    assert_eq!(h.lookups.lookups.load(Ordering::SeqCst), lookups);

    let mut wait = 30;
    for expected in [60, 120, 240, 480, 900, 900] {
        advance(&h, wait);
        let reply = login(&h, "ada@example.com", "wrong password!!").await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "one try per lockout"
        );
        assert_429(
            &login(&h, "ada@example.com", PASSWORD).await,
            &expected.to_string(),
        );
        wait = expected;
    }
    advance(&h, 900);
    assert_eq!(
        login(&h, "ada@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
    // A success resets the count: five more failures before the next lockout.
    for _ in 0..5 {
        assert_eq!(
            login(&h, "ada@example.com", "wrong password!!")
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_429(&login(&h, "ada@example.com", PASSWORD).await, "30");
}

#[tokio::test]
async fn an_unknown_email_is_limited_exactly_like_an_existing_one() {
    let h = harness_with_ada().await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..7 {
        known.push(login(&h, "ada@example.com", "wrong password!!").await);
        unknown.push(login(&h, "nobody@example.com", "wrong password!!").await);
    }
    for (k, u) in known.iter().zip(&unknown) {
        assert_eq!(k.status, u.status);
        assert_eq!(k.header("retry-after"), u.header("retry-after"));
        assert_eq!(k.body, u.body);
    }
    assert_eq!(known[5].status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_source_ip_has_a_budget_across_accounts_on_login_and_register() {
    let settings = LimitSettings {
        ip_max_failures: 4,
        ..LimitSettings::default()
    };
    let h = harness_with(settings, Arc::new(InMemoryAttemptStore::new()));
    let ip = Some("203.0.113.7");
    for i in 0..3 {
        let reply = login_from(&h, &format!("user{i}@example.com"), "wrong password!!", ip).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    // A refused registration (invalid email) counts too.
    let reply = register(&h, "not-an-email", ip).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_429(
        &login_from(&h, "fresh@example.com", PASSWORD, ip).await,
        "900",
    );
    assert_429(&register(&h, "fresh@example.com", ip).await, "900");
    // Another IP is not affected; the window ends.
    assert_eq!(
        register(&h, "fresh@example.com", Some("198.51.100.1"))
            .await
            .status,
        StatusCode::CREATED
    );
    advance(&h, 900);
    assert_eq!(
        login_from(&h, "fresh@example.com", PASSWORD, ip)
            .await
            .status,
        StatusCode::OK
    );
}

struct DownStore;

#[async_trait]
impl AttemptStore for DownStore {
    async fn load(&self, _: &str, _: i64) -> Result<Option<Counter>, AttemptStoreError> {
        Err(AttemptStoreError("ServiceUnavailable".into()))
    }
    async fn add_failure(&self, _: &str, _: Failure) -> Result<Counter, AttemptStoreError> {
        Err(AttemptStoreError("ServiceUnavailable".into()))
    }
    async fn clear(&self, _: &str, _: i64) -> Result<(), AttemptStoreError> {
        Err(AttemptStoreError("ServiceUnavailable".into()))
    }
}

#[tokio::test]
async fn an_unreadable_limit_store_refuses_rather_than_runs_unlimited() {
    let h = harness_with(LimitSettings::default(), Arc::new(DownStore));
    let reply = login(&h, "ada@example.com", PASSWORD).await;
    // Our failure, not the client's: 503 problem+json (retryable), and no password work.
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        reply.body
    );
    assert_eq!(reply.body["status"], 503);
    assert_eq!(h.lookups.lookups.load(Ordering::SeqCst), 0);
}
