//! DynamoDB [`BlogStore`], one table (`BLOG_TABLE`) keyed `pk`/`sk` (both S):
//!
//! | item | pk | sk | other attributes |
//! |---|---|---|---|
//! | post | `POST#<id>` | `POST` | id, author_id, title, body, version, created_at, updated_at, `gsi_feed` = "POST", `gsi_author` = author_id, `gsi_sort` = id |
//! | comment | `POST#<post id>` | `COMMENT#<id>` | id, post_id, author_id, post_author, body, created_at |
//! | comment pointer | `COMMENT#<id>` | `COMMENT` | post_id, post_author (finds a comment from its id alone) |
//!
//! Indexes (both project ALL): `feed-index` (`gsi_feed`, `gsi_sort`) lists every post newest first;
//! `author-index` (`gsi_author`, `gsi_sort`) lists one author's posts. Ids are UUIDv7, so sorting by id
//! sorts by creation time. Only post items carry the `gsi_*` attributes (sparse indexes). The feed
//! index has one partition key value: fine for a blog's write rate (a GSI partition takes ~1000
//! writes/s); shard it (`POST#<month>`) before it is not. Index reads are eventually consistent, so a
//! post may appear in listings a moment after it is created.
//!
//! Concurrency: updates are conditional on `version` (and author), so of two writers holding the same
//! version exactly one succeeds. A comment is written in a transaction with a condition check that its
//! post exists, so no comment lands on a deleted post.
//!
//! Deleting a post: the post item is deleted first (conditional on its author) — that is the commit
//! point: from then on the post and its comments are unreachable (every comment route checks the
//! post first). Its comments are then removed with `BatchWriteItem` (25 items a call, unprocessed items
//! retried with backoff). A transaction would cap a post at ~50 comments (100 items a transaction);
//! the batch has no cap but is not atomic: if the function dies mid-way, orphaned comment items stay
//! (unreachable, never shown) until a later sweep; the failure is logged.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, DeleteRequest, TransactWriteItem, WriteRequest,
};
use platform::dynamo::{n, put_new, s};
use platform::pagination::{Cursor, Page, cursor_from_key, key_from_cursor};

use super::{BlogStore, CommentRecord, StoreError};
use crate::domain::{Comment, Post};
use platform::store::Failure as _;

type Item = HashMap<String, AttributeValue>;

const FEED_INDEX: &str = "feed-index";
const AUTHOR_INDEX: &str = "author-index";

#[derive(Clone)]
pub struct DynamoBlogStore {
    client: Client,
    table: String,
}

impl DynamoBlogStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

fn post_key(id: &str) -> Item {
    HashMap::from([
        ("pk".to_owned(), s(format!("POST#{id}"))),
        ("sk".to_owned(), s("POST")),
    ])
}

fn comment_key(post_id: &str, id: &str) -> Item {
    HashMap::from([
        ("pk".to_owned(), s(format!("POST#{post_id}"))),
        ("sk".to_owned(), s(format!("COMMENT#{id}"))),
    ])
}

fn pointer_key(id: &str) -> Item {
    HashMap::from([
        ("pk".to_owned(), s(format!("COMMENT#{id}"))),
        ("sk".to_owned(), s("COMMENT")),
    ])
}

fn get_s(item: &Item, name: &str) -> Result<String, StoreError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .ok_or_else(|| StoreError::internal(format!("item lacks string attribute {name}")))
}

fn get_n(item: &Item, name: &str) -> Result<u64, StoreError> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| StoreError::internal(format!("item lacks number attribute {name}")))
}

fn post_item(post: &Post) -> Item {
    let mut item = post_key(&post.id);
    item.extend([
        ("id".to_owned(), s(&post.id)),
        ("author_id".to_owned(), s(&post.author_id)),
        ("title".to_owned(), s(&post.title)),
        ("body".to_owned(), s(&post.body)),
        ("version".to_owned(), n(post.version)),
        ("created_at".to_owned(), s(&post.created_at)),
        ("updated_at".to_owned(), s(&post.updated_at)),
        ("gsi_feed".to_owned(), s("POST")),
        ("gsi_author".to_owned(), s(&post.author_id)),
        ("gsi_sort".to_owned(), s(&post.id)),
    ]);
    item
}

fn post_from(item: &Item) -> Result<Post, StoreError> {
    Ok(Post {
        id: get_s(item, "id")?,
        author_id: get_s(item, "author_id")?,
        title: get_s(item, "title")?,
        // DynamoDB refuses empty strings only in keys; an empty body is stored as "".
        body: get_s(item, "body")?,
        version: get_n(item, "version")?,
        created_at: get_s(item, "created_at")?,
        updated_at: get_s(item, "updated_at")?,
    })
}

fn comment_from(item: &Item) -> Result<Comment, StoreError> {
    Ok(Comment {
        id: get_s(item, "id")?,
        post_id: get_s(item, "post_id")?,
        author_id: get_s(item, "author_id")?,
        body: get_s(item, "body")?,
        created_at: get_s(item, "created_at")?,
    })
}

/// Maps an SDK failure: throttling/unavailability → `Unavailable` (503), the rest → `Internal`.
pub(crate) fn sdk_error<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    platform::dynamo::failure(&err).into()
}

fn is_condition_failure<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    matches!(err, SdkError::ServiceError(s) if s.err().code() == Some("ConditionalCheckFailedException"))
}

fn build_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::internal(format!("request build: {e}"))
}

impl DynamoBlogStore {
    async fn query_page(
        &self,
        query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        limit: u16,
        after: Option<&Cursor>,
    ) -> Result<(Vec<Item>, Option<Cursor>), StoreError> {
        let start = after
            .map(key_from_cursor)
            .transpose()
            .map_err(|_| StoreError::internal("cursor is not a key"))?;
        let out = query
            .table_name(&self.table)
            .limit(i32::from(limit))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(sdk_error)?;
        let next = out.last_evaluated_key().and_then(cursor_from_key);
        Ok((out.items.unwrap_or_default(), next))
    }

    /// Deletes items by key in batches of 25, retrying unprocessed ones with capped backoff.
    async fn batch_delete(&self, keys: Vec<Item>) -> Result<(), StoreError> {
        for chunk in keys.chunks(25) {
            let mut requests: Vec<WriteRequest> = chunk
                .iter()
                .map(|key| {
                    DeleteRequest::builder()
                        .set_key(Some(key.clone()))
                        .build()
                        .map(|d| WriteRequest::builder().delete_request(d).build())
                        .map_err(build_err)
                })
                .collect::<Result<_, _>>()?;
            let mut attempt = 0u32;
            while !requests.is_empty() {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(sdk_error)?;
                requests = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(&self.table))
                    .unwrap_or_default();
                if !requests.is_empty() {
                    attempt += 1;
                    if attempt > 8 {
                        return Err(StoreError::unavailable(
                            "batch delete left unprocessed items",
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(25 << attempt.min(5))).await;
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl BlogStore for DynamoBlogStore {
    async fn create_post(&self, post: &Post) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(post_item(post)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| {
                if is_condition_failure(&e) {
                    StoreError::Conflict
                } else {
                    sdk_error(e)
                }
            })?;
        Ok(())
    }

    async fn get_post(&self, id: &str) -> Result<Option<Post>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(post_key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error)?;
        out.item.as_ref().map(post_from).transpose()
    }

    async fn list_posts(
        &self,
        author: Option<&str>,
        limit: u16,
        after: Option<&Cursor>,
    ) -> Result<Page<Post>, StoreError> {
        let query = self.client.query().scan_index_forward(false);
        let query = match author {
            Some(author) => query
                .index_name(AUTHOR_INDEX)
                .key_condition_expression("gsi_author = :a")
                .expression_attribute_values(":a", s(author)),
            None => query
                .index_name(FEED_INDEX)
                .key_condition_expression("gsi_feed = :f")
                .expression_attribute_values(":f", s("POST")),
        };
        let (items, next) = self.query_page(query, limit, after).await?;
        Ok(Page {
            items: items.iter().map(post_from).collect::<Result<_, _>>()?,
            next,
        })
    }

    async fn update_post(&self, post: &Post, expected_version: u64) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(post_key(&post.id)))
            .update_expression("SET title = :t, body = :b, version = :v, updated_at = :u")
            .condition_expression("attribute_exists(pk) AND version = :expected AND author_id = :a")
            .expression_attribute_values(":t", s(&post.title))
            .expression_attribute_values(":b", s(&post.body))
            .expression_attribute_values(":v", n(post.version))
            .expression_attribute_values(":u", s(&post.updated_at))
            .expression_attribute_values(":expected", n(expected_version))
            .expression_attribute_values(":a", s(&post.author_id))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Err(StoreError::Conflict),
            Err(e) => Err(sdk_error(e)),
        }
    }

    async fn delete_post(&self, id: &str, author_id: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(post_key(id)))
            .condition_expression("attribute_exists(pk) AND author_id = :a")
            .expression_attribute_values(":a", s(author_id))
            .send()
            .await;
        match result {
            Ok(_) => {}
            Err(e) if is_condition_failure(&e) => return Err(StoreError::Conflict),
            Err(e) => return Err(sdk_error(e)),
        }
        // The post is gone (commit point); now sweep its comments and their pointers.
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :c)")
                .expression_attribute_values(":pk", s(format!("POST#{id}")))
                .expression_attribute_values(":c", s("COMMENT#"))
                .projection_expression("id")
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await;
            let out = match out {
                Ok(out) => out,
                Err(e) => {
                    let e = sdk_error(e);
                    tracing::error!(post_id = id, error = %e, "post deleted; comment sweep failed, orphans remain");
                    return Ok(());
                }
            };
            let mut keys = Vec::new();
            for item in out.items() {
                let comment_id = get_s(item, "id")?;
                keys.push(comment_key(id, &comment_id));
                keys.push(pointer_key(&comment_id));
            }
            if let Err(e) = self.batch_delete(keys).await {
                tracing::error!(post_id = id, error = %e, "post deleted; comment sweep failed, orphans remain");
                return Ok(());
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(()),
            }
        }
    }

    async fn create_comment(&self, comment: &Comment, post_author: &str) -> Result<(), StoreError> {
        let mut item = comment_key(&comment.post_id, &comment.id);
        item.extend([
            ("id".to_owned(), s(&comment.id)),
            ("post_id".to_owned(), s(&comment.post_id)),
            ("author_id".to_owned(), s(&comment.author_id)),
            ("post_author".to_owned(), s(post_author)),
            ("body".to_owned(), s(&comment.body)),
            ("created_at".to_owned(), s(&comment.created_at)),
        ]);
        let mut pointer = pointer_key(&comment.id);
        pointer.extend([
            ("post_id".to_owned(), s(&comment.post_id)),
            ("post_author".to_owned(), s(post_author)),
        ]);
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(post_key(&comment.post_id)))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(build_err)?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().condition_check(check).build())
            .transact_items(put_new(&self.table, item).map_err(build_err)?)
            .transact_items(put_new(&self.table, pointer).map_err(build_err)?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(service))
                if service.err().is_transaction_canceled_exception() =>
            {
                let reasons = match service.err() {
                    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => c.cancellation_reasons().to_vec(),
                    _ => Vec::new(),
                };
                let post_missing = reasons
                    .first()
                    .and_then(|r| r.code())
                    .is_some_and(|c| c == "ConditionalCheckFailed");
                if post_missing {
                    Err(StoreError::NotFound)
                } else if reasons.iter().any(|r| {
                    matches!(
                        r.code(),
                        Some(
                            "ThrottlingError"
                                | "ProvisionedThroughputExceeded"
                                | "TransactionConflict"
                        )
                    )
                }) {
                    Err(StoreError::unavailable(format!(
                        "transaction cancelled: {reasons:?}"
                    )))
                } else {
                    Err(StoreError::Conflict)
                }
            }
            Err(e) => Err(sdk_error(e)),
        }
    }

    async fn get_comment(&self, id: &str) -> Result<Option<CommentRecord>, StoreError> {
        let pointer = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(pointer_key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error)?;
        let Some(pointer) = pointer.item else {
            return Ok(None);
        };
        let post_id = get_s(&pointer, "post_id")?;
        let post_author = get_s(&pointer, "post_author")?;
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(comment_key(&post_id, id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error)?;
        out.item
            .as_ref()
            .map(|item| {
                Ok(CommentRecord {
                    comment: comment_from(item)?,
                    post_author: post_author.clone(),
                })
            })
            .transpose()
    }

    async fn list_comments(
        &self,
        post_id: &str,
        limit: u16,
        after: Option<&Cursor>,
    ) -> Result<Page<Comment>, StoreError> {
        let query = self
            .client
            .query()
            .key_condition_expression("pk = :pk AND begins_with(sk, :c)")
            .expression_attribute_values(":pk", s(format!("POST#{post_id}")))
            .expression_attribute_values(":c", s("COMMENT#"))
            .scan_index_forward(true);
        let (items, next) = self.query_page(query, limit, after).await?;
        Ok(Page {
            items: items.iter().map(comment_from).collect::<Result<_, _>>()?,
            next,
        })
    }

    async fn delete_comment(&self, comment: &Comment) -> Result<(), StoreError> {
        let delete = |key: Item| {
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key))
                .condition_expression("attribute_exists(pk)")
                .build()
                .map_err(build_err)
        };
        let result = self
            .client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .delete(delete(comment_key(&comment.post_id, &comment.id))?)
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .delete(delete(pointer_key(&comment.id))?)
                    .build(),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(service))
                if service.err().is_transaction_canceled_exception() =>
            {
                Err(StoreError::NotFound)
            }
            Err(e) => Err(sdk_error(e)),
        }
    }
}
