//! Router tests: every auth route and error over the in-memory stores (`tower::ServiceExt::oneshot`).

use platform::store::Failure as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use auth::state::TestHandles;
use auth::store::{StoreError, UserStore};
use auth::throttle::{LoginAttempt, LoginThrottle, RetryAfter};
use auth::{AppState, app};
use axum::body::Body;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use platform::auth::verifier::IssuerPolicy;
use platform::auth::{JwkSet, Verifier};
use serde_json::{Value, json};
use tower::ServiceExt;

const HOST: &str = "api.test.invalid";
const ISSUER: &str = "https://api.test.invalid";
const PASSWORD: &str = "correct horse battery staple";

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
    raw: Vec<u8>,
}

async fn send(state: &AppState, request: Request<Body>) -> Reply {
    let response = app(state.clone())
        .oneshot(request)
        .await
        .unwrap_or_else(|never| match never {});
    let status = response.status();
    let headers = response.headers().clone();
    let raw = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        raw,
    }
}

fn post_json(path: &str, body: &Value) -> Request<Body> {
    Request::post(path)
        .header("host", HOST)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_default()
}

fn with_token(method: &str, path: &str, token: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("host", HOST)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap_or_default()
}

fn get(path: &str) -> Request<Body> {
    Request::get(path)
        .header("host", HOST)
        .body(Body::empty())
        .unwrap_or_default()
}

fn state() -> (AppState, TestHandles) {
    AppState::for_tests(None)
}

async fn register(state: &AppState, email: &str) -> Reply {
    send(
        state,
        post_json("/register", &json!({"email": email, "password": PASSWORD})),
    )
    .await
}

async fn login(state: &AppState, email: &str, password: &str) -> Reply {
    send(
        state,
        post_json("/login", &json!({"email": email, "password": password})),
    )
    .await
}

async fn token_for(state: &AppState, email: &str) -> String {
    let reply = register(state, email).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let reply = login(state, email, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn assert_problem(reply: &Reply, status: StatusCode) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(
        reply.headers["content-type"], "application/problem+json",
        "{}",
        reply.body
    );
    assert_eq!(reply.body["status"], status.as_u16());
    assert!(reply.body["title"].is_string());
}

// ---- register ----------------------------------------------------------------------------------

#[tokio::test]
async fn register_creates_the_user_and_returns_no_hash() {
    let (state, handles) = state();
    let reply = register(&state, "  Ada@Example.COM ").await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.headers["location"], "/me");
    assert_eq!(reply.body["email"], "ada@example.com");
    assert_eq!(reply.body["roles"], json!([]));
    assert!(reply.body["id"].as_str().is_some_and(|id| id.len() == 36));
    assert!(
        reply.body["created_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let text = String::from_utf8_lossy(&reply.raw);
    assert!(
        !text.contains("argon2") && !text.contains("password"),
        "{text}"
    );
    let stored = handles
        .store
        .find_by_email("ada@example.com")
        .await
        .ok()
        .flatten();
    assert!(stored.is_some_and(|u| u.password_hash.starts_with("$argon2id$")));
}

#[tokio::test]
async fn duplicate_email_is_409_even_with_other_case_and_spaces() {
    let (state, _) = state();
    assert_eq!(
        register(&state, "ada@example.com").await.status,
        StatusCode::CREATED
    );
    let reply = register(&state, " ADA@example.com").await;
    assert_problem(&reply, StatusCode::CONFLICT);
    assert_eq!(reply.body["type"], "/problems/email-taken");
}

#[tokio::test]
async fn weak_password_is_422_with_field_errors() {
    let (state, handles) = state();
    for password in [
        "short",
        "aaaaaaaaaaaaaaaa",
        "abcdefghijklmnop",
        "password1234",
        "ada@example.com",
    ] {
        let reply = send(
            &state,
            post_json(
                "/register",
                &json!({"email": "ada@example.com", "password": password}),
            ),
        )
        .await;
        assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(reply.body["errors"][0]["field"], "password", "{password}");
    }
    let too_long = "ab".repeat(65);
    let reply = send(
        &state,
        post_json(
            "/register",
            &json!({"email": "ada@example.com", "password": too_long}),
        ),
    )
    .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    // Nothing was created.
    assert!(matches!(
        handles.store.find_by_email("ada@example.com").await,
        Ok(None)
    ));
}

#[tokio::test]
async fn invalid_email_and_password_are_both_reported() {
    let (state, _) = state();
    let reply = send(
        &state,
        post_json(
            "/register",
            &json!({"email": "not-an-email", "password": "short"}),
        ),
    )
    .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = reply.body["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(fields, vec!["email", "password"]);
}

#[tokio::test]
async fn bad_bodies_are_problems() {
    let (state, _) = state();
    let bad_json = Request::post("/register")
        .header("host", HOST)
        .header("content-type", "application/json")
        .body(Body::from("{\"email\": "))
        .unwrap_or_default();
    assert_problem(&send(&state, bad_json).await, StatusCode::BAD_REQUEST);

    let missing_field = post_json("/register", &json!({"email": "ada@example.com"}));
    assert_problem(
        &send(&state, missing_field).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );

    let wrong_type = post_json("/login", &json!({"email": 42, "password": PASSWORD}));
    assert_problem(
        &send(&state, wrong_type).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );

    let no_content_type = Request::post("/login")
        .header("host", HOST)
        .body(Body::from(
            json!({"email": "a@b.co", "password": PASSWORD}).to_string(),
        ))
        .unwrap_or_default();
    assert_problem(
        &send(&state, no_content_type).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    );

    let huge = post_json(
        "/register",
        &json!({"email": "ada@example.com", "password": "x".repeat(20_000)}),
    );
    assert_problem(&send(&state, huge).await, StatusCode::PAYLOAD_TOO_LARGE);
}

// ---- login -------------------------------------------------------------------------------------

#[tokio::test]
async fn login_returns_a_bearer_token_that_the_jwks_verifies() {
    let (state, _) = state();
    register(&state, "ada@example.com").await;
    let reply = login(&state, " ADA@example.com ", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.headers["cache-control"], "no-store");
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 900);
    let token = reply.body["access_token"].as_str().unwrap_or_default();

    // Another service: keys only from the published JWKS, its own revocation store.
    let jwks_reply = send(&state, get("/.well-known/jwks.json")).await;
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
    let (state, _) = state();
    register(&state, "ada@example.com").await;
    let wrong = login(&state, "ada@example.com", "not the right password").await;
    let unknown = login(&state, "nobody@example.com", PASSWORD).await;
    let malformed = login(&state, "not an email", PASSWORD).await;
    assert_problem(&wrong, StatusCode::UNAUTHORIZED);
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
    let (state, handles) = state();
    let before = token_for(&state, "root@example.com").await;
    assert!(handles.store.grant_role("root@example.com", "admin"));
    let after = login(&state, "root@example.com", PASSWORD).await;
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
    let (state, _) = state();
    register(&state, "ada@example.com").await;
    let throttle = Arc::new(Refuse(AtomicUsize::new(0)));
    let state = state.with_throttle(throttle.clone());
    let reply = login(&state, "Ada@example.com", PASSWORD).await;
    assert_problem(&reply, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.headers["retry-after"], "60");
    assert_eq!(throttle.0.load(Ordering::SeqCst), 1);
}

// ---- logout and /me ----------------------------------------------------------------------------

#[tokio::test]
async fn me_returns_the_profile() {
    let (state, _) = state();
    let token = token_for(&state, "ada@example.com").await;
    let reply = send(&state, with_token("GET", "/me", &token)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["email"], "ada@example.com");
    assert!(reply.body.get("password_hash").is_none());
}

#[tokio::test]
async fn me_without_or_with_bad_token_is_401_with_challenge() {
    let (state, _) = state();
    let reply = send(&state, get("/me")).await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.headers["www-authenticate"], r#"Bearer realm="api""#);
    let reply = send(&state, with_token("GET", "/me", "not.a.jwt")).await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED);
    assert!(
        reply.headers["www-authenticate"]
            .to_str()
            .unwrap_or_default()
            .contains("invalid_token")
    );
}

#[tokio::test]
async fn logout_revokes_the_token_everywhere() {
    let (state, handles) = state();
    let token = token_for(&state, "ada@example.com").await;
    let reply = send(&state, with_token("POST", "/logout", &token)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);

    // The same token is refused by auth itself…
    for (method, path) in [("GET", "/me"), ("POST", "/logout")] {
        let reply = send(&state, with_token(method, path, &token)).await;
        assert_problem(&reply, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.body["detail"], "The access token has been revoked.");
    }
    // …and by any other service's verifier sharing the revocation table.
    let jwks: JwkSet =
        serde_json::from_value(send(&state, get("/.well-known/jwks.json")).await.body)
            .unwrap_or(JwkSet { keys: vec![] });
    let other_service = Verifier::with_keys(
        IssuerPolicy::Fixed(ISSUER.into()),
        "api",
        &jwks,
        handles.revocations.clone(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        other_service.verify(&token, ISSUER).await.err(),
        Some(platform::auth::AuthError::Revoked)
    );
    // A fresh login still works.
    assert_eq!(
        login(&state, "ada@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn logout_without_token_is_401() {
    let (state, _) = state();
    let request = Request::post("/logout")
        .header("host", HOST)
        .body(Body::empty())
        .unwrap_or_default();
    assert_problem(&send(&state, request).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revocation_store_outage_is_503_on_logout() {
    let (state, handles) = state();
    let token = token_for(&state, "ada@example.com").await;
    handles.revocations.set_unavailable(true);
    let reply = send(&state, with_token("POST", "/logout", &token)).await;
    assert_problem(&reply, StatusCode::SERVICE_UNAVAILABLE);
}

// ---- store failures ----------------------------------------------------------------------------

struct BrokenStore(StoreError);

#[async_trait::async_trait]
impl UserStore for BrokenStore {
    async fn create(&self, _: &auth::domain::User) -> Result<(), StoreError> {
        Err(self.0.clone())
    }
    async fn find_by_email(&self, _: &str) -> Result<Option<auth::domain::User>, StoreError> {
        Err(self.0.clone())
    }
    async fn get(&self, _: &str) -> Result<Option<auth::domain::User>, StoreError> {
        Err(self.0.clone())
    }
}

fn broken(err: StoreError) -> AppState {
    let (template, handles) = state();
    let key = platform::auth::SigningKey::generate(None).unwrap_or_else(|e| panic!("{e}"));
    let config = auth::AuthConfig {
        issuer: IssuerPolicy::Fixed(ISSUER.into()),
        audience: "api".into(),
        token_ttl_seconds: 900,
        hasher: auth::domain::PasswordHasher::fast_for_tests(),
    };
    drop(template);
    AppState::new(
        Arc::new(BrokenStore(err)),
        handles.revocations,
        auth::signing::SigningKeys::new(key, None),
        config,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn throttled_store_is_503_and_other_failures_500_without_detail() {
    let state = broken(StoreError::unavailable(
        "ProvisionedThroughputExceededException: slow down",
    ));
    let reply = register(&state, "ada@example.com").await;
    assert_problem(&reply, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!String::from_utf8_lossy(&reply.raw).contains("Provisioned"));
    let reply = login(&state, "ada@example.com", PASSWORD).await;
    assert_problem(&reply, StatusCode::SERVICE_UNAVAILABLE);

    let state = broken(StoreError::internal("ResourceNotFoundException: users-dev"));
    let reply = register(&state, "ada@example.com").await;
    assert_problem(&reply, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(reply.body.get("detail").is_none());
    assert!(!String::from_utf8_lossy(&reply.raw).contains("users-dev"));
}

// ---- well-known, routing, OpenAPI --------------------------------------------------------------

#[tokio::test]
async fn openid_configuration_points_at_the_jwks() {
    let (state, _) = state();
    let request = Request::get("/.well-known/openid-configuration")
        .header("host", "127.0.0.1:3000")
        .header("x-forwarded-proto", "http")
        .body(Body::empty())
        .unwrap_or_default();
    let reply = send(&state, request).await;
    assert_eq!(reply.status, StatusCode::OK);
    // The configured issuer, whatever the Host header says.
    assert_eq!(reply.body["issuer"], ISSUER);
    assert_eq!(
        reply.body["jwks_uri"],
        format!("{ISSUER}/.well-known/jwks.json")
    );
    assert_eq!(
        reply.body["id_token_signing_alg_values_supported"],
        json!(["ES256"])
    );

    let (fixed, _) = AppState::for_tests(Some("https://id.example.com"));
    let reply = send(&fixed, get("/.well-known/openid-configuration")).await;
    assert_eq!(reply.body["issuer"], "https://id.example.com");
}

#[tokio::test]
async fn unknown_route_and_method_are_problems_and_health_still_answers() {
    let (state, _) = state();
    assert_problem(&send(&state, get("/nope")).await, StatusCode::NOT_FOUND);
    assert_problem(
        &send(&state, get("/login")).await,
        StatusCode::METHOD_NOT_ALLOWED,
    );
    let reply = send(&state, get("/health/auth")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["service"], "auth");
}

#[test]
fn openapi_documents_every_route_with_problem_errors_and_bearer_security() {
    let api = serde_json::to_value(auth::openapi()).unwrap_or_default();
    let paths = &api["paths"];
    for (path, method) in [
        ("/register", "post"),
        ("/login", "post"),
        ("/logout", "post"),
        ("/me", "get"),
        ("/.well-known/jwks.json", "get"),
        ("/.well-known/openid-configuration", "get"),
    ] {
        let operation = &paths[path][method];
        assert!(operation.is_object(), "{method} {path} undocumented");
        let responses = operation["responses"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (status, response) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                assert!(
                    response["content"]["application/problem+json"].is_object(),
                    "{method} {path} {status} is not problem+json"
                );
            }
        }
    }
    for path in ["/logout", "/me"] {
        let method = if path == "/me" { "get" } else { "post" };
        assert_eq!(
            paths[path][method]["security"],
            json!([{"bearer": []}]),
            "{path}"
        );
    }
    assert_eq!(
        api["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for schema in [
        "RegisterRequest",
        "LoginRequest",
        "TokenResponse",
        "UserResponse",
        "ProblemDetails",
        "JwksDocument",
        "OpenIdConfiguration",
    ] {
        assert!(
            api["components"]["schemas"][schema].is_object(),
            "{schema} missing"
        );
    }
    assert!(paths["/register"]["post"]["responses"]["409"].is_object());
    assert!(paths["/login"]["post"]["responses"]["401"].is_object());
}

fn decode_b64url_json(segment: &str) -> Value {
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
