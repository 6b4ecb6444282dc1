//! Store failures: throttling is 503, anything else 500, neither leaks detail.

use std::sync::Arc;

use auth::AppState;
use auth::store::{StoreError, UserStore};
use http::StatusCode;
use platform::auth::verifier::IssuerPolicy;
use platform::store::Failure as _;

use crate::helpers::{ISSUER, PASSWORD, TestApp};

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

fn broken(err: StoreError) -> TestApp {
    let (template, handles) = AppState::for_tests(None);
    let key = platform::auth::SigningKey::generate(None).unwrap_or_else(|e| panic!("{e}"));
    let config = auth::AuthConfig {
        issuer: IssuerPolicy::Fixed(ISSUER.into()),
        audience: "api".into(),
        token_ttl_seconds: 900,
        hasher: auth::domain::PasswordHasher::fast_for_tests(),
    };
    drop(template);
    let state = AppState::new(
        Arc::new(BrokenStore(err)),
        handles.revocations.clone(),
        auth::signing::SigningKeys::new(key, None),
        config,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    TestApp::over(state, handles)
}

#[tokio::test]
async fn throttled_store_is_503_and_other_failures_500_without_detail() {
    let app = broken(StoreError::unavailable(
        "ProvisionedThroughputExceededException: slow down",
    ));
    let reply = app.register("ada@example.com").await;
    reply.assert_problem(StatusCode::SERVICE_UNAVAILABLE);
    assert!(!reply.text().contains("Provisioned"));
    let reply = app.login("ada@example.com", PASSWORD).await;
    reply.assert_problem(StatusCode::SERVICE_UNAVAILABLE);

    let app = broken(StoreError::internal("ResourceNotFoundException: users-dev"));
    let reply = app.register("ada@example.com").await;
    reply.assert_problem(StatusCode::INTERNAL_SERVER_ERROR);
    assert!(reply.body.get("detail").is_none());
    assert!(!reply.text().contains("users-dev"));
}
