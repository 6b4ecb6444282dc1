//! DynamoDB store tests against a moto server (one server and one fresh table per test).

mod support;

use std::sync::Arc;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use axum::body::Body;
use blog::domain::{Comment, Post};
use blog::store::{BlogStore, DynamoBlogStore, StoreError};
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use platform::auth::testing::TestIssuer;
use platform::pagination::PageCodec;
use serde_json::{Value, json};
use support::moto::{Moto, client_for, dead_endpoint, unique_table};
use tower::ServiceExt;

/// The table as `infra/template.yaml` declares `BlogTable`.
async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) {
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let gsi = |name: &str, hash: &str| {
        GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key(hash, KeyType::Hash))
            .key_schema(key("gsi_sort", KeyType::Range))
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk"))
        .attribute_definitions(attr("sk"))
        .attribute_definitions(attr("gsi_feed"))
        .attribute_definitions(attr("gsi_author"))
        .attribute_definitions(attr("gsi_sort"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .global_secondary_indexes(gsi("feed-index", "gsi_feed"))
        .global_secondary_indexes(gsi("author-index", "gsi_author"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("create table: {e:?}"));
}

struct Fixture {
    _moto: Moto,
    client: aws_sdk_dynamodb::Client,
    table: String,
    store: Arc<DynamoBlogStore>,
}

async fn fixture() -> Fixture {
    let moto = Moto::start();
    let client = moto.client();
    let table = unique_table("blog");
    create_table(&client, &table).await;
    let store = Arc::new(DynamoBlogStore::new(client.clone(), table.clone()));
    Fixture {
        _moto: moto,
        client,
        table,
        store,
    }
}

fn post(author: &str, title: &str) -> Post {
    let now = platform::ids::now_rfc3339();
    Post {
        id: platform::ids::new_id(),
        author_id: author.into(),
        title: title.into(),
        body: String::new(),
        version: 1,
        created_at: now.clone(),
        updated_at: now,
    }
}

fn comment(post_id: &str, author: &str) -> Comment {
    Comment {
        id: platform::ids::new_id(),
        post_id: post_id.into(),
        author_id: author.into(),
        body: "c".into(),
        created_at: platform::ids::now_rfc3339(),
    }
}

async fn item_count(f: &Fixture) -> usize {
    f.client
        .scan()
        .table_name(&f.table)
        .send()
        .await
        .map(|o| o.items().len())
        .unwrap_or_else(|e| panic!("scan: {e:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamo_concurrent_updates_with_the_same_version_have_exactly_one_winner() {
    let f = fixture().await;
    let original = post("alice", "v1");
    f.store
        .create_post(&original)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let store = f.store.clone();
            let edit = Post {
                title: format!("edit {i}"),
                version: 2,
                ..original.clone()
            };
            tokio::spawn(async move { store.update_post(&edit, 1).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap_or_else(|e| panic!("{e}")));
    }
    let wins = outcomes.iter().filter(|o| o.is_ok()).count();
    let conflicts = outcomes
        .iter()
        .filter(|o| **o == Err(StoreError::Conflict))
        .count();
    assert_eq!((wins, conflicts), (1, 9), "{outcomes:?}");
    let stored = f
        .store
        .get_post(&original.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored.map(|p| p.version), Some(2));
    // A stale version and a foreign author both lose.
    let stale = Post {
        version: 3,
        ..original.clone()
    };
    assert_eq!(
        f.store.update_post(&stale, 1).await,
        Err(StoreError::Conflict)
    );
    let foreign = Post {
        author_id: "mallory".into(),
        version: 3,
        ..original.clone()
    };
    assert_eq!(
        f.store.update_post(&foreign, 2).await,
        Err(StoreError::Conflict)
    );
}

#[tokio::test]
async fn dynamo_delete_post_removes_every_comment_and_pointer_in_batches() {
    let f = fixture().await;
    let doomed = post("alice", "doomed");
    let kept = post("alice", "kept");
    f.store
        .create_post(&doomed)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    f.store
        .create_post(&kept)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // 30 comments = 60 items: more than two BatchWriteItem calls.
    let mut ids = Vec::new();
    for _ in 0..30 {
        let c = comment(&doomed.id, "bob");
        f.store
            .create_comment(&c, "alice")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        ids.push(c.id);
    }
    let survivor = comment(&kept.id, "bob");
    f.store
        .create_comment(&survivor, "alice")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(item_count(&f).await, 2 + 31 * 2);

    assert_eq!(
        f.store.delete_post(&doomed.id, "mallory").await,
        Err(StoreError::Conflict)
    );
    f.store
        .delete_post(&doomed.id, "alice")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        item_count(&f).await,
        1 + 2,
        "only the kept post and its comment remain"
    );
    assert_eq!(f.store.get_comment(&ids[0]).await, Ok(None));
    assert!(matches!(
        f.store.get_comment(&survivor.id).await,
        Ok(Some(_))
    ));
    // The transaction's condition check refuses comments on the deleted post.
    assert_eq!(
        f.store
            .create_comment(&comment(&doomed.id, "bob"), "alice")
            .await,
        Err(StoreError::NotFound)
    );
    assert_eq!(
        f.store.delete_post(&doomed.id, "alice").await,
        Err(StoreError::Conflict)
    );
}

#[tokio::test]
async fn dynamo_comment_delete_is_atomic_with_its_pointer() {
    let f = fixture().await;
    let p = post("alice", "p");
    f.store
        .create_post(&p)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let c = comment(&p.id, "bob");
    f.store
        .create_comment(&c, "alice")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let record = f
        .store
        .get_comment(&c.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        record.map(|r| (r.comment, r.post_author)),
        Some((c.clone(), "alice".to_owned()))
    );
    f.store
        .delete_comment(&c)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(f.store.delete_comment(&c).await, Err(StoreError::NotFound));
    assert_eq!(item_count(&f).await, 1);
}

async fn get_json(router: &axum::Router, uri: &str) -> (StatusCode, Value) {
    let response = router
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap_or_default())
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

/// Follows `next_token` to the end; returns the ids in order.
async fn walk(router: &axum::Router, first: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut uri = first.to_owned();
    for _ in 0..50 {
        let (status, body) = get_json(router, &uri).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        ids.extend(
            body["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["id"].as_str().map(str::to_owned)),
        );
        match body["next_token"].as_str() {
            Some(token) => {
                let sep = if first.contains('?') { '&' } else { '?' };
                uri = format!("{first}{sep}next_token={token}");
            }
            None => return ids,
        }
    }
    panic!("pagination did not terminate");
}

#[tokio::test]
async fn dynamo_router_lists_newest_first_across_pages_and_by_author() {
    let f = fixture().await;
    let issuer = TestIssuer::new();
    let router = blog::app(blog::AppState {
        store: f.store.clone(),
        pages: PageCodec::new(b"moto-test-pagination-key-0123456789")
            .unwrap_or_else(|e| panic!("{e}")),
        verifier: issuer.verifier(),
    });
    let mut created = Vec::new();
    for i in 0..7 {
        let author = if i % 3 == 0 { "bob" } else { "alice" };
        let request = Request::post("/posts")
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", issuer.token(author, &[])),
            )
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"title": format!("p{i}"), "body": "b"}).to_string(),
            ))
            .unwrap_or_default();
        let response = router
            .clone()
            .oneshot(request)
            .await
            .unwrap_or_else(|never| match never {});
        assert_eq!(response.status(), StatusCode::CREATED);
        let bytes = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        created.push((author, body["id"].as_str().unwrap_or_default().to_owned()));
    }
    let newest_first: Vec<String> = created.iter().rev().map(|(_, id)| id.clone()).collect();
    assert_eq!(walk(&router, "/posts?limit=3").await, newest_first);
    let bobs: Vec<String> = created
        .iter()
        .rev()
        .filter(|(a, _)| *a == "bob")
        .map(|(_, id)| id.clone())
        .collect();
    assert_eq!(walk(&router, "/posts?author=bob&limit=2").await, bobs);

    let (_, first) = get_json(&router, "/posts?limit=3").await;
    let token = first["next_token"].as_str().unwrap_or_default().to_owned();
    let mut bytes = token.clone().into_bytes();
    bytes[5] = if bytes[5] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap_or_default();
    assert_ne!(tampered, token);
    let (status, _) = get_json(&router, &format!("/posts?limit=3&next_token={tampered}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = get_json(&router, &format!("/posts?author=bob&next_token={token}")).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a feed token is foreign to the author listing"
    );
}

#[tokio::test]
async fn app_state_from_env_reads_the_pagination_key_from_secrets_manager() {
    let moto = Moto::start();
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .endpoint_url(&moto.endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
            aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "moto"),
        ))
        .build();
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let key = "k".repeat(64);
    let arn = secrets
        .create_secret()
        .name(unique_table("pagination-key"))
        .secret_string(&key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create secret: {e:?}"))
        .arn
        .unwrap_or_default();
    let env = platform::config::Env::from_pairs([
        ("BLOG_TABLE", "blog"),
        ("JWT_AUDIENCE", "api"),
        ("JWT_ISSUER", "https://issuer.test"),
        ("REVOKED_TOKENS_TABLE", "revoked"),
        ("PAGINATION_KEY_SECRET_ARN", arn.as_str()),
    ]);
    let state = blog::AppState::from_env(&env, &sdk)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // Tokens minted with the secret's value verify under a codec keyed by it, and only by it.
    let cursor = platform::pagination::Cursor::from([(
        "id".to_owned(),
        platform::pagination::CursorValue::S("x".into()),
    )]);
    let token = state.pages.encode("posts", &cursor);
    let same = PageCodec::new(key.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(same.decode("posts", &token), Ok(cursor));

    let missing = platform::config::Env::from_pairs([
        ("BLOG_TABLE", "blog"),
        ("JWT_AUDIENCE", "api"),
        ("JWT_ISSUER", "https://issuer.test"),
        ("REVOKED_TOKENS_TABLE", "revoked"),
        ("PAGINATION_KEY_SECRET_ARN", "no-such-secret"),
    ]);
    assert!(blog::AppState::from_env(&missing, &sdk).await.is_err());
    let unset = platform::config::Env::from_pairs([("BLOG_TABLE", "blog")]);
    assert!(blog::AppState::from_env(&unset, &sdk).await.is_err());
}

#[tokio::test]
async fn dynamodb_unreachable_is_503_and_other_failures_are_500_without_internals() {
    let moto = Moto::start();
    let issuer = TestIssuer::new();
    let router_for = |client: aws_sdk_dynamodb::Client, table: &str| {
        blog::app(blog::AppState {
            store: Arc::new(DynamoBlogStore::new(client, table)),
            pages: PageCodec::new(b"moto-test-pagination-key-0123456789")
                .unwrap_or_else(|e| panic!("{e}")),
            verifier: issuer.verifier(),
        })
    };
    let unreachable = router_for(client_for(&dead_endpoint()), "blog");
    let (status, body) = get_json(&unreachable, "/posts").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], 503);
    // A table that does not exist (misconfiguration): 500, and the problem names nothing internal.
    let missing_table = router_for(moto.client(), "no-such-table");
    let (status, body) = get_json(
        &missing_table,
        "/posts/0193f1a2-7c4e-7a10-9b1d-2f1e0c3d4b5a",
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        body,
        json!({"type": "about:blank", "title": "Internal Server Error", "status": 500})
    );
}
