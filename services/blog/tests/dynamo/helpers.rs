//! A moto server per test with a fresh blog table, the store and the app over it.

use std::sync::Arc;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use blog::domain::{Comment, Post};
use blog::store::{BlogStore, DynamoBlogStore};
use http::StatusCode;
use platform::auth::testing::TestIssuer;
use platform::pagination::PageCodec;
use testkit::TestClient;
use testkit::moto::{Moto, unique_table};

pub struct Fixture {
    _moto: Moto,
    pub client: aws_sdk_dynamodb::Client,
    pub table: String,
    pub store: Arc<DynamoBlogStore>,
}

impl Fixture {
    /// The blog app over this table's store.
    pub fn app(&self) -> TestClient {
        app_over(self.store.clone())
    }

    /// A new post by `author`, stored.
    pub async fn stored_post(&self, author: &str, title: &str) -> Post {
        let post = post(author, title);
        self.store
            .create_post(&post)
            .await
            .unwrap_or_else(|e| panic!("create post: {e}"));
        post
    }

    /// A new comment by `author` on `post`, stored.
    pub async fn stored_comment(&self, post: &Post, author: &str) -> Comment {
        let comment = comment(&post.id, author);
        self.store
            .create_comment(&comment, &post.author_id)
            .await
            .unwrap_or_else(|e| panic!("create comment: {e}"));
        comment
    }
}

/// The blog app over `store`, trusting its own test issuer.
pub fn app_over(store: Arc<dyn BlogStore>) -> TestClient {
    let issuer = TestIssuer::new();
    let router = blog::app(blog::AppState {
        store,
        pages: PageCodec::new(b"moto-test-pagination-key-0123456789")
            .unwrap_or_else(|e| panic!("{e}"))
            .into(),
        verifier: issuer.verifier(),
    });
    TestClient::new(router, issuer)
}

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

pub async fn fixture() -> Fixture {
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

pub fn post(author: &str, title: &str) -> Post {
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

pub fn comment(post_id: &str, author: &str) -> Comment {
    Comment {
        id: platform::ids::new_id(),
        post_id: post_id.into(),
        author_id: author.into(),
        body: "c".into(),
        created_at: platform::ids::now_rfc3339(),
    }
}

pub async fn item_count(f: &Fixture) -> usize {
    f.client
        .scan()
        .table_name(&f.table)
        .send()
        .await
        .map(|o| o.items().len())
        .unwrap_or_else(|e| panic!("scan: {e:?}"))
}

/// Follows `next_token` to the end; returns the ids in order.
pub async fn walk(app: &TestClient, first: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut uri = first.to_owned();
    for _ in 0..50 {
        let reply = app.get(&uri).send().await;
        let body = reply.body;
        assert_eq!(reply.status, StatusCode::OK, "{body}");
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
