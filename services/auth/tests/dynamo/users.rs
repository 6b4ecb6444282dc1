//! The DynamoDB user store: round trips, one user per email under concurrent registrations, a missing table.

use std::sync::Arc;

use auth::AppState;
use auth::signing::SigningKeys;
use auth::store::{DynamoUserStore, StoreError, UserStore};
use http::StatusCode;
use platform::auth::{DynamoRevocationStore, SigningKey};
use serde_json::json;
use testkit::concurrently;

use crate::helpers::{PASSWORD, client, config, fixture, state_over, user};

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
    let statuses = concurrently(attempts, |_| {
        let state = state.clone();
        async move {
            client(&state)
                .post("/register")
                .json(&json!({"email": "race@example.com", "password": PASSWORD}))
                .send()
                .await
                .status
        }
    })
    .await;
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
    let items = f.scan(&f.users).await;
    assert_eq!(items.len(), 2, "{items:?}");
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
    let reply = client(&state)
        .post("/register")
        .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
        .send()
        .await;
    let (status, body) = (reply.status, reply.body);
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!body.to_string().contains("no-such-table"), "{body}");
}
