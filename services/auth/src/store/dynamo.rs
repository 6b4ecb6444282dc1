//! DynamoDB [`UserStore`].
//!
//! One table (`USERS_TABLE`), hash key `pk` (S), two item types:
//!
//! | item | `pk` | attributes |
//! |---|---|---|
//! | user | `USER#<id>` | `id`, `email`, `password_hash`, `roles` (L of S), `created_at` |
//! | email claim | `EMAIL#<normalised email>` | `user_id` |
//!
//! Registration writes both in one `TransactWriteItems`, each `attribute_not_exists(pk)`: the email claim
//! makes the email unique even under concurrent registrations (DynamoDB has no unique secondary
//! indexes, and a GSI on email would be eventually consistent). Login reads the claim, then the user
//! (two strongly consistent GetItems), so no GSI is needed.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use platform::dynamo::{Item, get_s, get_strings};

use super::{StoreError, UserStore};
use crate::domain::User;
use platform::store::Failure as _;

const PK: &str = "pk";
/// A user id no account has (UUID v4 never yields the nil UUID).
const UNKNOWN_USER_ID: &str = "00000000-0000-0000-0000-000000000000";
/// Attempts when a transaction is cancelled by a conflicting concurrent transaction.
const CONFLICT_ATTEMPTS: u32 = 3;

#[derive(Debug, Clone)]
pub struct DynamoUserStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

pub fn user_key(id: &str) -> String {
    format!("USER#{id}")
}

pub fn email_key(email: &str) -> String {
    format!("EMAIL#{email}")
}

fn store_error<E, R>(err: &SdkError<E, R>) -> StoreError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    platform::dynamo::failure(err).into()
}

impl DynamoUserStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn get_item(&self, pk: String) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error(&e))?;
        Ok(output.item)
    }

    fn puts(&self, user: &User) -> Result<Vec<TransactWriteItem>, StoreError> {
        let roles = user
            .roles
            .iter()
            .map(|r| AttributeValue::S(r.clone()))
            .collect();
        let user_put = Put::builder()
            .table_name(&self.table)
            .item(PK, AttributeValue::S(user_key(&user.id)))
            .item("id", AttributeValue::S(user.id.clone()))
            .item("email", AttributeValue::S(user.email.clone()))
            .item(
                "password_hash",
                AttributeValue::S(user.password_hash.clone()),
            )
            .item("roles", AttributeValue::L(roles))
            .item("created_at", AttributeValue::S(user.created_at.clone()))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StoreError::internal(e.to_string()))?;
        let email_put = Put::builder()
            .table_name(&self.table)
            .item(PK, AttributeValue::S(email_key(&user.email)))
            .item("user_id", AttributeValue::S(user.id.clone()))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StoreError::internal(e.to_string()))?;
        Ok(vec![
            TransactWriteItem::builder().put(user_put).build(),
            TransactWriteItem::builder().put(email_put).build(),
        ])
    }
}

/// What a cancelled transaction means for us.
enum Cancelled {
    EmailTaken,
    Conflict,
    Other(String),
}

fn cancellation(
    err: &SdkError<TransactWriteItemsError, impl std::fmt::Debug>,
) -> Option<Cancelled> {
    let SdkError::ServiceError(service) = err else {
        return None;
    };
    let TransactWriteItemsError::TransactionCanceledException(cancelled) = service.err() else {
        return None;
    };
    let codes: Vec<&str> = cancelled
        .cancellation_reasons()
        .iter()
        .filter_map(|r| r.code())
        .collect();
    Some(if codes.contains(&"ConditionalCheckFailed") {
        Cancelled::EmailTaken
    } else if codes.contains(&"TransactionConflict") {
        Cancelled::Conflict
    } else {
        Cancelled::Other(format!("transaction cancelled: {codes:?}"))
    })
}

#[async_trait::async_trait]
impl UserStore for DynamoUserStore {
    async fn create(&self, user: &User) -> Result<(), StoreError> {
        let items = self.puts(user)?;
        // Another transaction on the same email item is tried again: the retry sees its outcome.
        let result =
            platform::dynamo::transact_retrying_conflicts(&self.client, items, CONFLICT_ATTEMPTS)
                .await;
        let Err(err) = result else {
            return Ok(());
        };
        match cancellation(&err) {
            // A user id collision (UUID v4: practically impossible) also lands here; both mean
            // "this email cannot be registered now" and nothing was written.
            Some(Cancelled::EmailTaken) => Err(StoreError::EmailTaken),
            Some(Cancelled::Conflict) => Err(StoreError::unavailable("transaction conflict")),
            Some(Cancelled::Other(detail)) => Err(StoreError::internal(detail)),
            None => Err(store_error(&err)),
        }
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let Some(claim) = self.get_item(email_key(email)).await? else {
            // Same number of reads as for a known email, so response time does not tell them apart
            // (argon2 dominates anyway; this removes the remaining ~one-round-trip difference).
            let _ = self.get_item(user_key(UNKNOWN_USER_ID)).await;
            return Ok(None);
        };
        let Some(user_id) = get_s(&claim, "user_id") else {
            return Err(StoreError::internal("email item without user_id"));
        };
        let user = self.get(user_id).await?;
        if user.is_none() {
            tracing::warn!(user_id, "email claim points to a missing user");
        }
        Ok(user)
    }

    async fn get(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.get_item(user_key(id))
            .await?
            .map(|item| user_from_item(&item))
            .transpose()
    }
}

fn user_from_item(item: &Item) -> Result<User, StoreError> {
    let field = |name: &str| {
        get_s(item, name)
            .map(str::to_owned)
            .ok_or_else(|| StoreError::internal(format!("user item without {name}")))
    };
    Ok(User {
        id: field("id")?,
        email: field("email")?,
        password_hash: field("password_hash")?,
        roles: get_strings(item, "roles"),
        created_at: field("created_at")?,
    })
}
