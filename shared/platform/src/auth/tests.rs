//! Verifier and extractor tests: every way a token can be refused, and the one way it is accepted.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::response::Response;
use axum::routing::get;
use http::{HeaderMap, HeaderValue, Request, StatusCode};
use tower::ServiceExt;

use super::claims::now;
use super::keys::{BoxFuture, JwkSet, JwksFetcher, KeyRefresh, SigningKey, jwks_of};
use super::revocation::InMemoryRevocationStore;
use super::testing::{TEST_AUDIENCE, TEST_ISSUER, TestIssuer};
use super::verifier::{IssuerPolicy, bearer_token};
use super::*;

fn headers_with(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}")) {
        headers.insert(http::header::AUTHORIZATION, value);
    }
    headers
}

async fn verify(issuer: &TestIssuer, token: &str) -> Result<Principal, AuthError> {
    issuer.verifier().verify_request(&headers_with(token)).await
}

#[tokio::test]
async fn a_valid_token_yields_its_principal() {
    let issuer = TestIssuer::new();
    let claims = issuer.claims("user-1", &["admin"]);
    let principal = verify(&issuer, &issuer.sign(&claims)).await;
    assert_eq!(
        principal,
        Ok(Principal {
            user_id: "user-1".into(),
            email: "user-1@example.test".into(),
            roles: vec!["admin".into()],
            token_id: claims.jti.clone(),
            expires_at: claims.exp,
        })
    );
}

#[tokio::test]
async fn expired_token_is_refused_beyond_the_leeway_only() {
    let issuer = TestIssuer::new();
    let mut claims = issuer.claims("u", &[]);
    claims.exp = now() - 120;
    assert_eq!(
        verify(&issuer, &issuer.sign(&claims)).await,
        Err(AuthError::Expired)
    );
    claims.exp = now() - 5; // within the 30 s leeway
    assert!(verify(&issuer, &issuer.sign(&claims)).await.is_ok());
}

#[tokio::test]
async fn not_yet_valid_token_is_refused() {
    let issuer = TestIssuer::new();
    let mut claims = issuer.claims("u", &[]);
    claims.nbf = Some(now() + 600);
    assert!(matches!(
        verify(&issuer, &issuer.sign(&claims)).await,
        Err(AuthError::InvalidToken(_))
    ));
}

#[tokio::test]
async fn wrong_audience_is_refused() {
    let issuer = TestIssuer::new();
    let mut claims = issuer.claims("u", &[]);
    claims.aud = "another-api".into();
    assert!(matches!(
        verify(&issuer, &issuer.sign(&claims)).await,
        Err(AuthError::InvalidToken(_))
    ));
}

#[tokio::test]
async fn wrong_issuer_is_refused() {
    let issuer = TestIssuer::new();
    let mut claims = issuer.claims("u", &[]);
    claims.iss = "https://evil.example".into();
    assert!(matches!(
        verify(&issuer, &issuer.sign(&claims)).await,
        Err(AuthError::InvalidToken(_))
    ));
}

#[tokio::test]
async fn unknown_kid_is_refused() {
    let issuer = TestIssuer::new();
    let other = SigningKey::generate(Some("other-kid")).map_err(|e| e.to_string());
    let other = other.unwrap_or_else(|e| panic!("{e}"));
    let token = other
        .sign(&issuer.claims("u", &[]))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        verify(&issuer, &token).await,
        Err(AuthError::InvalidToken(reason)) if reason.contains("unknown kid")
    ));
}

#[tokio::test]
async fn bad_signature_is_refused() {
    let issuer = TestIssuer::new();
    // Same kid as the trusted key, different private key: the signature cannot verify.
    let forger = SigningKey::generate(Some("test-key")).unwrap_or_else(|e| panic!("{e}"));
    let forged = forger
        .sign(&issuer.claims("u", &["admin"]))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        verify(&issuer, &forged).await,
        Err(AuthError::InvalidToken(_))
    ));
    // A tampered payload with the original signature.
    let token = issuer.token("u", &[]);
    let parts: Vec<&str> = token.split('.').collect();
    let tampered_claims = issuer.claims("someone-else", &["admin"]);
    let payload = serde_json::to_vec(&tampered_claims).unwrap_or_default();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        base64_url(&payload),
        parts.get(2).copied().unwrap_or_default()
    );
    assert!(matches!(
        verify(&issuer, &tampered).await,
        Err(AuthError::InvalidToken(_))
    ));
}

#[tokio::test]
async fn alg_none_and_hmac_tokens_are_refused() {
    let issuer = TestIssuer::new();
    let claims = serde_json::to_vec(&issuer.claims("u", &["admin"])).unwrap_or_default();
    let none = format!(
        "{}.{}.",
        base64_url(br#"{"alg":"none","typ":"JWT","kid":"test-key"}"#),
        base64_url(&claims)
    );
    assert!(matches!(
        verify(&issuer, &none).await,
        Err(AuthError::InvalidToken(_))
    ));
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("test-key".into());
    let hs = jsonwebtoken::encode(
        &header,
        &issuer.claims("u", &["admin"]),
        &jsonwebtoken::EncodingKey::from_secret(b"guess"),
    )
    .unwrap_or_default();
    assert!(matches!(
        verify(&issuer, &hs).await,
        Err(AuthError::InvalidToken(_))
    ));
}

#[tokio::test]
async fn revoked_token_is_refused_and_the_revocation_is_cached() {
    let issuer = TestIssuer::new();
    let claims = issuer.claims("u", &[]);
    let token = issuer.sign(&claims);
    assert!(verify(&issuer, &token).await.is_ok());
    issuer.revoke(&claims).await;
    assert_eq!(verify(&issuer, &token).await, Err(AuthError::Revoked));
    let lookups = issuer.revocations().lookups();
    // Positive answers are cached: the store is not asked again…
    assert_eq!(verify(&issuer, &token).await, Err(AuthError::Revoked));
    assert_eq!(issuer.revocations().lookups(), lookups);
}

#[tokio::test]
async fn not_revoked_is_never_cached() {
    let issuer = TestIssuer::new();
    let token = issuer.token("u", &[]);
    for expected in 1..=3 {
        assert!(verify(&issuer, &token).await.is_ok());
        assert_eq!(issuer.revocations().lookups(), expected);
    }
}

#[tokio::test]
async fn verifier_revoke_is_seen_by_every_verifier_sharing_the_store() {
    let issuer = TestIssuer::new();
    let token = issuer.token("u", &[]);
    let principal = verify(&issuer, &token)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // Another "service" with its own verifier over the same store.
    let other = Verifier::for_tests(
        TEST_ISSUER,
        TEST_AUDIENCE,
        &jwks_of([issuer.signing_key()]),
        issuer.revocations(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    issuer
        .verifier()
        .revoke(&principal)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        other.verify_request(&headers_with(&token)).await,
        Err(AuthError::Revoked)
    );
}

#[tokio::test]
async fn revocation_store_outage_fails_closed_with_503() {
    let issuer = TestIssuer::new();
    issuer.revocations().set_unavailable(true);
    let err = verify(&issuer, &issuer.token("u", &[]))
        .await
        .err()
        .unwrap_or(AuthError::MissingToken);
    assert!(matches!(err, AuthError::Unavailable(_)));
    assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[test]
fn header_parsing() {
    let mut headers = HeaderMap::new();
    assert_eq!(bearer_token(&headers), Err(AuthError::MissingToken));
    for bad in [
        "Basic abc",
        "Bearer",
        "Bearer ",
        "Bearer a b",
        "Token x.y.z",
        "Bearer <script>",
    ] {
        headers.insert(http::header::AUTHORIZATION, HeaderValue::from_static(bad));
        assert_eq!(
            bearer_token(&headers),
            Err(AuthError::MalformedHeader),
            "{bad}"
        );
    }
    headers.insert(
        http::header::AUTHORIZATION,
        HeaderValue::from_static("bearer a.b.c"),
    );
    assert_eq!(bearer_token(&headers), Ok("a.b.c"));
    headers.append(
        http::header::AUTHORIZATION,
        HeaderValue::from_static("Bearer d.e.f"),
    );
    assert_eq!(bearer_token(&headers), Err(AuthError::MalformedHeader));
}

#[tokio::test]
async fn garbage_tokens_are_invalid_not_panics() {
    let issuer = TestIssuer::new();
    for garbage in [
        "a.b.c",
        "x",
        "....",
        "eyJhbGciOiJFUzI1NiJ9.e30.AAAA",
        &"A".repeat(9000),
    ] {
        assert!(
            matches!(
                verify(&issuer, garbage).await,
                Err(AuthError::InvalidToken(_))
            ),
            "{garbage}"
        );
    }
}

// ---- extractor ---------------------------------------------------------------------------------

#[derive(Clone)]
struct State {
    verifier: Verifier,
}

impl axum::extract::FromRef<State> for Verifier {
    fn from_ref(state: &State) -> Verifier {
        state.verifier.clone()
    }
}

fn app(verifier: Verifier) -> Router {
    Router::new()
        .route(
            "/me",
            get(|principal: Principal| async move { principal.user_id }),
        )
        .route(
            "/admin",
            get(|principal: Principal| async move {
                principal.require_role("admin").map(|()| "ok")
            }),
        )
        .with_state(State { verifier })
}

async fn call(app: Router, path: &str, auth: Option<&str>) -> (Response, serde_json::Value) {
    let mut request = Request::get(path);
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    let response = app
        .oneshot(request.body(Body::empty()).unwrap_or_default())
        .await
        .unwrap_or_else(|never| match never {});
    let (parts, body) = response.into_parts();
    let bytes = crate::testing::body_bytes(body).await;
    let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (Response::from_parts(parts, Body::from(bytes)), json)
}

#[tokio::test]
async fn extractor_accepts_a_valid_token() {
    let issuer = TestIssuer::new();
    let token = issuer.token("user-7", &[]);
    let (response, _) = call(
        app(issuer.verifier()),
        "/me",
        Some(&format!("Bearer {token}")),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn extractor_missing_header_is_401_problem_with_challenge() {
    let issuer = TestIssuer::new();
    let (response, body) = call(app(issuer.verifier()), "/me", None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()["content-type"],
        crate::problem::CONTENT_TYPE
    );
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer realm="api""#
    );
    assert_eq!(body["status"], 401);
}

#[tokio::test]
async fn extractor_malformed_and_invalid_tokens_are_401_invalid_token() {
    let issuer = TestIssuer::new();
    let (response, _) = call(app(issuer.verifier()), "/me", Some("Basic dXNlcjpwYXNz")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap_or_default()
            .contains("invalid_request")
    );
    let (response, body) = call(app(issuer.verifier()), "/me", Some("Bearer a.b.c")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap_or_default()
            .contains("invalid_token")
    );
    assert_eq!(body["detail"], "The access token is invalid.");
}

#[tokio::test]
async fn require_role_is_403_problem() {
    let issuer = TestIssuer::new();
    let user = issuer.token("u", &[]);
    let admin = issuer.token("a", &["admin"]);
    let (response, body) = call(
        app(issuer.verifier()),
        "/admin",
        Some(&format!("Bearer {user}")),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(body["status"], 403);
    let (response, _) = call(
        app(issuer.verifier()),
        "/admin",
        Some(&format!("Bearer {admin}")),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

// ---- remote JWKS and issuer from the request ---------------------------------------------------

/// A JWKS endpoint: serves `jwks` (or fails while `fail` is set), counting calls and recording URLs.
pub(super) struct FakeFetcher {
    pub(super) jwks: std::sync::Mutex<JwkSet>,
    calls: AtomicUsize,
    pub(super) fail: std::sync::atomic::AtomicBool,
    urls: std::sync::Mutex<Vec<String>>,
}

impl JwksFetcher for FakeFetcher {
    fn fetch<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<JwkSet, String>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut urls) = self.urls.lock() {
                urls.push(url.to_owned());
            }
            if self.fail.load(Ordering::SeqCst) {
                return Err("connection refused".into());
            }
            self.jwks
                .lock()
                .map(|j| j.clone())
                .map_err(|_| "poisoned".to_owned())
        })
    }
}

pub(super) fn fake(keys: &[&SigningKey]) -> Arc<FakeFetcher> {
    Arc::new(FakeFetcher {
        jwks: std::sync::Mutex::new(jwks_of(keys.iter().copied())),
        calls: AtomicUsize::new(0),
        fail: std::sync::atomic::AtomicBool::new(false),
        urls: std::sync::Mutex::new(Vec::new()),
    })
}

#[tokio::test]
async fn remote_keys_are_fetched_from_the_configured_issuer_and_cached() {
    let key = SigningKey::generate(None).unwrap_or_else(|e| panic!("{e}"));
    let fetcher = fake(&[&key]);
    let verifier = Verifier::with_fetcher(
        IssuerPolicy::Fixed("http://127.0.0.1:3000".into()),
        "api",
        None,
        fetcher.clone(),
        KeyRefresh::default(),
        Arc::new(InMemoryRevocationStore::new()),
    );
    let issued = TestIssuer::with("http://127.0.0.1:3000", "api");
    let mut claims = issued.claims("u", &[]);
    claims.iss = "http://127.0.0.1:3000".into();
    let token = key.sign(&claims).unwrap_or_else(|e| panic!("{e}"));
    let mut headers = headers_with(&token);
    headers.insert("host", HeaderValue::from_static("127.0.0.1:3000"));
    headers.insert("x-forwarded-proto", HeaderValue::from_static("http"));
    for _ in 0..3 {
        assert!(verifier.verify_request(&headers).await.is_ok());
    }
    assert_eq!(fetcher.calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        fetcher.urls.lock().map(|u| u.clone()).unwrap_or_default(),
        vec!["http://127.0.0.1:3000/.well-known/jwks.json".to_owned()]
    );
    // The Host header does not choose the issuer: a token minted for the Host's issuer is refused.
    headers.insert("host", HeaderValue::from_static("evil.test"));
    let mut forged = issued.claims("u", &[]);
    forged.iss = "https://evil.test".into();
    let forged = key.sign(&forged).unwrap_or_else(|e| panic!("{e}"));
    let mut forged_headers = headers_with(&forged);
    forged_headers.insert("host", HeaderValue::from_static("evil.test"));
    assert!(matches!(
        verifier.verify_request(&forged_headers).await,
        Err(AuthError::InvalidToken(_))
    ));
    assert!(verifier.verify_request(&headers).await.is_ok());
}

#[tokio::test]
async fn rotation_refetches_on_unknown_kid_but_not_more_than_once_per_interval() {
    let old = SigningKey::generate(None).unwrap_or_else(|e| panic!("{e}"));
    let new = SigningKey::generate(None).unwrap_or_else(|e| panic!("{e}"));
    let fetcher = fake(&[&old]);
    let verifier = Verifier::with_fetcher(
        IssuerPolicy::Fixed(TEST_ISSUER.into()),
        TEST_AUDIENCE,
        Some("https://keys.test/jwks.json".into()),
        fetcher.clone(),
        KeyRefresh::default(),
        Arc::new(InMemoryRevocationStore::new()),
    );
    let claims = TestIssuer::new().claims("u", &[]);
    let old_token = old.sign(&claims).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        verifier
            .verify_request(&headers_with(&old_token))
            .await
            .is_ok()
    );
    // The issuer rotates: the new key is published; a token with the new kid triggers a refetch.
    if let Ok(mut jwks) = fetcher.jwks.lock() {
        *jwks = jwks_of([&new, &old]);
    }
    let new_token = new.sign(&claims).unwrap_or_else(|e| panic!("{e}"));
    // Fetched < MIN_REFETCH ago: unknown kids are refused without a refetch.
    assert!(matches!(
        verifier.verify_request(&headers_with(&new_token)).await,
        Err(AuthError::InvalidToken(_))
    ));
    assert_eq!(fetcher.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn unreachable_jwks_is_503_not_401() {
    let key = SigningKey::generate(None).unwrap_or_else(|e| panic!("{e}"));
    let fetcher = fake(&[&key]);
    fetcher.fail.store(true, Ordering::SeqCst);
    let verifier = Verifier::with_fetcher(
        IssuerPolicy::Fixed(TEST_ISSUER.into()),
        TEST_AUDIENCE,
        None,
        fetcher,
        KeyRefresh::default(),
        Arc::new(InMemoryRevocationStore::new()),
    );
    let token = key
        .sign(&TestIssuer::new().claims("u", &[]))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        verifier.verify_request(&headers_with(&token)).await,
        Err(AuthError::Unavailable(_))
    ));
}

#[test]
fn from_env_requires_audience_and_table() {
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    let env = crate::config::Env::from_pairs([("REVOKED_TOKENS_TABLE", "t")]);
    assert_eq!(
        Verifier::from_env(&env, &sdk).err(),
        Some(crate::config::ConfigError::Missing("JWT_AUDIENCE".into()))
    );
    let env = crate::config::Env::from_pairs([("JWT_AUDIENCE", "api")]);
    assert_eq!(
        Verifier::from_env(&env, &sdk).err(),
        Some(crate::config::ConfigError::Missing(
            "REVOKED_TOKENS_TABLE".into()
        ))
    );
    let env = crate::config::Env::from_pairs([
        ("JWT_AUDIENCE", "api"),
        ("REVOKED_TOKENS_TABLE", "t"),
        ("JWT_ISSUER", "https://id.example/"),
    ]);
    let verifier = Verifier::from_env(&env, &sdk).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        verifier.issuer_policy(),
        &IssuerPolicy::Fixed("https://id.example".into())
    );
}

fn base64_url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}
