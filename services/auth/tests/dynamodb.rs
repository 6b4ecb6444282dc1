//! The DynamoDB store, revocation table and Secrets Manager key loading against a real moto server.
//!
//! Each test starts its own moto server (`testkit::moto`: the repository's `.venv`, a free loopback port, every
//! request serialised as DynamoDB applies a conditional write or a transaction atomically), creates uniquely
//! named tables, and kills the server when it ends. A missing `.venv/bin/moto_server` fails the test with
//! instructions (never a silent skip).

use std::sync::Arc;

use auth::signing::SigningKeys;
use auth::store::{DynamoUserStore, StoreError, UserStore};
use auth::{AppState, AuthConfig, app};
use aws_sdk_dynamodb::types::{KeyType, TimeToLiveSpecification};
use axum::body::Body;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use platform::auth::verifier::IssuerPolicy;
use platform::auth::{DynamoRevocationStore, RevocationStore, SigningKey};
use platform::config::Env;
use serde_json::{Value, json};
use testkit::moto::Moto;
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery staple";

async fn sdk(moto: &Moto) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&moto.endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .load()
        .await
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str, key: &str, ttl: Option<&str>) {
    testkit::tables::create_table(client, name, &[(key, KeyType::Hash)]).await;
    if let Some(attribute) = ttl {
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name(attribute)
                    .build()
                    .unwrap_or_else(|e| panic!("{e}")),
            )
            .send()
            .await
            .unwrap_or_else(|e| panic!("ttl {name}: {e:?}"));
    }
}

struct Fixture {
    _moto: Moto,
    dynamodb: aws_sdk_dynamodb::Client,
    sdk: aws_config::SdkConfig,
    users: String,
    revoked: String,
}

async fn fixture() -> Fixture {
    let moto = Moto::start();
    let sdk = sdk(&moto).await;
    let dynamodb = platform::aws::dynamodb(&sdk);
    let users = unique("users");
    let revoked = unique("revoked");
    create_table(&dynamodb, &users, "pk", None).await;
    create_table(&dynamodb, &revoked, "jti", Some("expires_at")).await;
    Fixture {
        _moto: moto,
        dynamodb,
        sdk,
        users,
        revoked,
    }
}

fn config() -> AuthConfig {
    AuthConfig {
        issuer: IssuerPolicy::Fixed("https://api.test.invalid".into()),
        audience: "api".into(),
        token_ttl_seconds: 900,
        hasher: auth::domain::PasswordHasher::fast_for_tests(),
    }
}

fn state_over(f: &Fixture) -> AppState {
    let key = SigningKey::generate(None).unwrap_or_else(|e| panic!("{e}"));
    AppState::new(
        Arc::new(DynamoUserStore::new(f.dynamodb.clone(), &f.users)),
        Arc::new(DynamoRevocationStore::new(f.dynamodb.clone(), &f.revoked)),
        SigningKeys::new(key, None),
        config(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

async fn call(
    state: &AppState,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "api.test.invalid");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = match body {
        Some(body) => request
            .header("content-type", "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    }
    .unwrap_or_default();
    let response = app(state.clone())
        .oneshot(request)
        .await
        .unwrap_or_else(|never| match never {});
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn user(email: &str) -> auth::domain::User {
    auth::domain::User {
        id: uuid::Uuid::new_v4().to_string(),
        email: email.into(),
        password_hash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA".into(),
        roles: vec![],
        created_at: "2026-11-24T00:00:00Z".into(),
    }
}

#[tokio::test]
async fn dynamo_store_round_trips_and_refuses_duplicate_emails() {
    let f = fixture().await;
    let store = DynamoUserStore::new(f.dynamodb.clone(), &f.users);
    let ada = user("ada@example.com");
    store.create(&ada).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        store.find_by_email("ada@example.com").await,
        Ok(Some(ada.clone()))
    );
    assert_eq!(store.get(&ada.id).await, Ok(Some(ada.clone())));
    assert_eq!(store.find_by_email("bob@example.com").await, Ok(None));
    assert_eq!(store.get("missing").await, Ok(None));
    // Same email, new id: the EMAIL# claim refuses it and nothing of the second user is written.
    let twin = user("ada@example.com");
    assert_eq!(store.create(&twin).await, Err(StoreError::EmailTaken));
    assert_eq!(store.get(&twin.id).await, Ok(None));
}

#[tokio::test]
async fn concurrent_registrations_of_one_email_yield_exactly_one_201() {
    let f = fixture().await;
    let state = state_over(&f);
    let attempts = 8;
    let mut tasks = Vec::new();
    for _ in 0..attempts {
        let state = state.clone();
        tasks.push(tokio::spawn(async move {
            call(
                &state,
                "POST",
                "/register",
                None,
                Some(json!({"email": "race@example.com", "password": PASSWORD})),
            )
            .await
            .0
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap_or(StatusCode::IM_A_TEAPOT));
    }
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, conflicts), (1, attempts - 1), "{statuses:?}");
    // Exactly one user item and one email claim exist.
    let scan = f
        .dynamodb
        .scan()
        .table_name(&f.users)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(scan.count(), 2, "{:?}", scan.items());
}

#[tokio::test]
async fn full_flow_over_dynamodb_and_revocation_with_ttl() {
    let f = fixture().await;
    let state = state_over(&f);
    let body = json!({"email": "Ada@Example.com", "password": PASSWORD});
    assert_eq!(
        call(&state, "POST", "/register", None, Some(body.clone()))
            .await
            .0,
        StatusCode::CREATED
    );
    let (status, login) = call(&state, "POST", "/login", None, Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{login}");
    let token = login["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (status, me) = call(&state, "GET", "/me", Some(&token), None).await;
    assert_eq!(
        (status, me["email"].as_str()),
        (StatusCode::OK, Some("ada@example.com"))
    );

    assert_eq!(
        call(&state, "POST", "/logout", Some(&token), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(&state, "GET", "/me", Some(&token), None).await.0,
        StatusCode::UNAUTHORIZED
    );

    // A fresh environment (no cache) of any service sees the revocation in the table.
    let principal = state
        .verifier()
        .verify(&token, "https://api.test.invalid")
        .await
        .err();
    assert_eq!(principal, Some(platform::auth::AuthError::Revoked));
    let scan = f
        .dynamodb
        .scan()
        .table_name(&f.revoked)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let items = scan.items();
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
async fn missing_table_is_a_500_without_internals() {
    let f = fixture().await;
    let key = SigningKey::generate(None).unwrap_or_else(|e| panic!("{e}"));
    let state = AppState::new(
        Arc::new(DynamoUserStore::new(f.dynamodb.clone(), "no-such-table")),
        Arc::new(DynamoRevocationStore::new(f.dynamodb.clone(), &f.revoked)),
        SigningKeys::new(key, None),
        config(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (status, body) = call(
        &state,
        "POST",
        "/register",
        None,
        Some(json!({"email": "ada@example.com", "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!body.to_string().contains("no-such-table"), "{body}");
}

#[tokio::test]
async fn from_env_loads_the_signing_key_from_secrets_manager() {
    let f = fixture().await;
    let secrets = aws_sdk_secretsmanager::Client::new(&f.sdk);
    let pem = SigningKey::generate_pkcs8_pem().unwrap_or_else(|e| panic!("{e}"));
    let secret = secrets
        .create_secret()
        .name(unique("signing-key"))
        .secret_string(
            json!({"current": {"kid": "k-1", "alg": "ES256", "private_key_pem": pem}}).to_string(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let env = Env::from_pairs([
        ("USERS_TABLE", f.users.as_str()),
        ("REVOKED_TOKENS_TABLE", f.revoked.as_str()),
        ("SIGNING_KEY_SECRET_ARN", secret.arn().unwrap_or_default()),
        ("JWT_AUDIENCE", "api"),
        ("JWT_ISSUER", "https://api.test.invalid"),
        ("LOGIN_ATTEMPTS_TABLE", "login-attempts"),
        ("ARGON2_MEMORY_KIB", "64"),
        ("ARGON2_ITERATIONS", "1"),
    ]);
    let state = AppState::from_env(&env, &f.sdk)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (status, jwks) = call(&state, "GET", "/.well-known/jwks.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(jwks["keys"][0]["kid"], "k-1");

    // An empty secret (created by the template, not yet seeded) stops the function at start.
    let empty = secrets
        .create_secret()
        .name(unique("empty"))
        .secret_string("{}")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let env = Env::from_pairs([
        ("USERS_TABLE", f.users.as_str()),
        ("REVOKED_TOKENS_TABLE", f.revoked.as_str()),
        ("SIGNING_KEY_SECRET_ARN", empty.arn().unwrap_or_default()),
        ("JWT_AUDIENCE", "api"),
        ("JWT_ISSUER", "https://api.test.invalid"),
        ("LOGIN_ATTEMPTS_TABLE", "login-attempts"),
    ]);
    let err = AppState::from_env(&env, &f.sdk)
        .await
        .err()
        .map(|e| e.to_string());
    assert!(
        err.is_some_and(|e| e.contains("./inv")),
        "the error says how to fix it"
    );
}
