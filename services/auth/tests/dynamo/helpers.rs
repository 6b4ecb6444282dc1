//! Auth over DynamoDB and Secrets Manager on a moto server per test: fixtures and the client.

use std::collections::HashMap;
use std::sync::Arc;

use auth::signing::SigningKeys;
use auth::store::DynamoUserStore;
use auth::{AppState, AuthConfig, app};
use aws_sdk_dynamodb::types::{AttributeValue, KeyType, TimeToLiveSpecification};
use platform::auth::verifier::IssuerPolicy;
use platform::auth::{DynamoRevocationStore, SigningKey};
use testkit::TestClient;
use testkit::moto::Moto;

pub const PASSWORD: &str = "correct horse battery staple";

/// A client over `state` naming the test host on every request.
pub fn client(state: &AppState) -> TestClient {
    TestClient::without_issuer(app(state.clone())).with_default_header("host", "api.test.invalid")
}

pub struct Fixture {
    _moto: Moto,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sdk: aws_config::SdkConfig,
    pub users: String,
    pub revoked: String,
}

impl Fixture {
    /// Every item of `table`.
    pub async fn scan(&self, table: &str) -> Vec<HashMap<String, AttributeValue>> {
        self.dynamodb
            .scan()
            .table_name(table)
            .send()
            .await
            .unwrap_or_else(|e| panic!("scan {table}: {e:?}"))
            .items
            .unwrap_or_default()
    }
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

pub async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
    key: &str,
    ttl: Option<&str>,
) {
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

pub async fn fixture() -> Fixture {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
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

pub fn config() -> AuthConfig {
    AuthConfig {
        issuer: IssuerPolicy::Fixed("https://api.test.invalid".into()),
        audience: "api".into(),
        token_ttl_seconds: 900,
        hasher: auth::domain::PasswordHasher::fast_for_tests(),
    }
}

pub fn state_over(f: &Fixture) -> AppState {
    let key = SigningKey::generate(None).unwrap_or_else(|e| panic!("{e}"));
    AppState::new(
        Arc::new(DynamoUserStore::new(f.dynamodb.clone(), &f.users)),
        Arc::new(DynamoRevocationStore::new(f.dynamodb.clone(), &f.revoked)),
        SigningKeys::new(key, None),
        config(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

pub fn user(email: &str) -> auth::domain::User {
    auth::domain::User {
        id: uuid::Uuid::new_v4().to_string(),
        email: email.into(),
        password_hash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA".into(),
        roles: vec![],
        created_at: "2026-11-24T00:00:00Z".into(),
    }
}
