//! DynamoDB [`BillingStore`], one table (`BILLING_TABLE`) keyed `pk`/`sk` (both S):
//!
//! | item | pk | sk |
//! |---|---|---|
//! | invoice | `USER#<owner>` | `INVOICE#<id>` |
//! | payment | `USER#<owner>` | `PAYMENT#<id>` |
//! | payment key marker | `PAYKEY#<owner length>:<owner>#<idempotency key>` | `PAYKEY` (payment_id, fingerprint) |
//! | idempotency record | `IDEMPOTENCY#<owner length>:<owner>#<key>` | `IDEMPOTENCY` (see `platform::idempotency`; TTL `expires_at`) |
//!
//! The owner is part of every key, so another user's invoice cannot even be addressed: it is "not
//! found" by construction. Ids are UUIDv7, so a descending query lists newest first. The other
//! attributes are the domain structs field by field (lines as a list of maps).
//!
//! A payment is one transaction: update the invoice (amount paid, status, version) on the condition
//! that its version is the one the payment was computed from, and put the payment item. Two
//! concurrent payments computed from the same version cannot both commit, so the invoice can never be
//! overpaid; the loser recomputes from the new state.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use platform::dynamo::{put_new, s};
use platform::pagination::{Cursor, Page, cursor_from_key, key_from_cursor};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{BillingStore, KeyedPayment, PaymentKey, Recorded, StoreError};
use crate::domain::{Invoice, Payment};
use platform::store::Failure as _;

type Item = HashMap<String, AttributeValue>;

#[derive(Clone)]
pub struct DynamoBillingStore {
    client: Client,
    table: String,
}

impl DynamoBillingStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

fn key(owner: &str, kind: &str, id: &str) -> Item {
    HashMap::from([
        ("pk".to_owned(), s(format!("USER#{owner}"))),
        ("sk".to_owned(), s(format!("{kind}#{id}"))),
    ])
}

fn marker_key(owner: &str, idempotency_key: &str) -> Item {
    HashMap::from([
        (
            "pk".to_owned(),
            // The owner's length keeps `("a#b", "c")` and `("a", "b#c")` apart.
            s(format!("PAYKEY#{}:{owner}#{idempotency_key}", owner.len())),
        ),
        ("sk".to_owned(), s("PAYKEY")),
    ])
}

fn to_attr(value: Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s),
        Value::Array(a) => AttributeValue::L(a.into_iter().map(to_attr).collect()),
        Value::Object(o) => {
            AttributeValue::M(o.into_iter().map(|(k, v)| (k, to_attr(v))).collect())
        }
    }
}

fn from_attr(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => n
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| n.parse::<u64>().map(Value::from))
            .or_else(|_| n.parse::<f64>().map(Value::from))
            .unwrap_or(Value::Null),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::L(l) => Value::Array(l.iter().map(from_attr).collect()),
        AttributeValue::M(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), from_attr(v))).collect())
        }
        _ => Value::Null,
    }
}

fn to_item<T: Serialize>(key: Item, value: &T) -> Result<Item, StoreError> {
    let Value::Object(fields) =
        serde_json::to_value(value).map_err(|e| StoreError::internal(e.to_string()))?
    else {
        return Err(StoreError::internal("not an object"));
    };
    let mut item = key;
    item.extend(fields.into_iter().map(|(k, v)| (k, to_attr(v))));
    Ok(item)
}

fn from_item<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    let object: serde_json::Map<String, Value> = item
        .iter()
        .map(|(k, v)| (k.clone(), from_attr(v)))
        .collect();
    serde_json::from_value(Value::Object(object))
        .map_err(|e| StoreError::internal(format!("corrupt item: {e}")))
}

/// Maps an SDK failure: throttling/unavailability → `Unavailable` (503), the rest → `Internal`.
pub(crate) fn sdk_error<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    platform::dynamo::failure(&err).into()
}

fn build_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::internal(format!("request build: {e}"))
}

/// A payment-key marker's payment and request fingerprint.
fn keyed_payment(marker: &Item) -> Result<KeyedPayment, StoreError> {
    let get = |name: &str| {
        marker
            .get(name)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .ok_or_else(|| StoreError::internal(format!("marker lacks {name}")))
    };
    Ok(KeyedPayment {
        payment_id: get("payment_id")?,
        fingerprint: get("fingerprint")?,
    })
}

impl DynamoBillingStore {
    /// The item at `key` (a consistent read), if any.
    async fn get_item(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(out.item)
    }

    async fn get<T: DeserializeOwned>(&self, key: Item) -> Result<Option<T>, StoreError> {
        self.get_item(key)
            .await?
            .as_ref()
            .map(from_item)
            .transpose()
    }

    async fn list<T: DeserializeOwned>(
        &self,
        owner: &str,
        kind: &str,
        limit: u16,
        after: Option<&Cursor>,
    ) -> Result<Page<T>, StoreError> {
        let start = after
            .map(key_from_cursor)
            .transpose()
            .map_err(|_| StoreError::internal("cursor is not a key"))?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :kind)")
            .expression_attribute_values(":pk", s(format!("USER#{owner}")))
            .expression_attribute_values(":kind", s(format!("{kind}#")))
            .scan_index_forward(false)
            .limit(i32::from(limit))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(Page {
            items: out
                .items()
                .iter()
                .map(from_item)
                .collect::<Result<_, _>>()?,
            next: out.last_evaluated_key().and_then(cursor_from_key),
        })
    }
}

#[async_trait]
impl BillingStore for DynamoBillingStore {
    async fn create_invoice(&self, invoice: &Invoice) -> Result<(), StoreError> {
        let item = to_item(key(&invoice.owner_id, "INVOICE", &invoice.id), invoice)?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Err(StoreError::Conflict)
            }
            Err(e) => Err(sdk_error(e)),
        }
    }

    async fn get_invoice(&self, owner: &str, id: &str) -> Result<Option<Invoice>, StoreError> {
        self.get(key(owner, "INVOICE", id)).await
    }

    async fn list_invoices(
        &self,
        owner: &str,
        limit: u16,
        after: Option<&Cursor>,
    ) -> Result<Page<Invoice>, StoreError> {
        self.list(owner, "INVOICE", limit, after).await
    }

    async fn record_payment(
        &self,
        updated: &Invoice,
        expected_version: u64,
        payment: &Payment,
        key: &PaymentKey,
    ) -> Result<Recorded, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(self::key(&updated.owner_id, "INVOICE", &updated.id)))
            .update_expression(
                "SET amount_paid = :paid, amount_due = :due, #status = :status, \
                 version = :version, updated_at = :updated",
            )
            .condition_expression("version = :expected")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(
                ":paid",
                AttributeValue::N(updated.amount_paid.to_string()),
            )
            .expression_attribute_values(":due", AttributeValue::N(updated.amount_due.to_string()))
            .expression_attribute_values(":status", s(updated.status.as_str()))
            .expression_attribute_values(":version", AttributeValue::N(updated.version.to_string()))
            .expression_attribute_values(":updated", s(&updated.updated_at))
            .expression_attribute_values(
                ":expected",
                AttributeValue::N(expected_version.to_string()),
            )
            .build()
            .map_err(build_err)?;
        let payment_item = to_item(
            self::key(&payment.owner_id, "PAYMENT", &payment.id),
            payment,
        )?;
        let marker_key = marker_key(&payment.owner_id, &key.key);
        let mut marker = marker_key.clone();
        marker.insert("payment_id".into(), s(&payment.id));
        marker.insert("fingerprint".into(), s(&key.fingerprint));
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(update).build())
            .transact_items(put_new(&self.table, payment_item).map_err(build_err)?)
            .transact_items(put_new(&self.table, marker).map_err(build_err)?)
            .send()
            .await;
        let codes: Vec<String> = match result {
            Ok(_) => return Ok(Recorded::New),
            Err(SdkError::ServiceError(e)) => match e.err() {
                TransactWriteItemsError::TransactionCanceledException(cancelled) => cancelled
                    .cancellation_reasons()
                    .iter()
                    .map(|r| r.code().unwrap_or("None").to_owned())
                    .collect(),
                _ => return Err(sdk_error(SdkError::ServiceError(e))),
            },
            Err(e) => return Err(sdk_error(e)),
        };
        let code = |i: usize| codes.get(i).map(String::as_str).unwrap_or("None");
        if code(2) == "ConditionalCheckFailed" {
            let marker = self
                .get_item(marker_key)
                .await?
                .ok_or_else(|| StoreError::internal("payment key marker vanished"))?;
            let KeyedPayment {
                payment_id,
                fingerprint,
            } = keyed_payment(&marker)?;
            return Ok(Recorded::Duplicate {
                payment_id,
                fingerprint,
            });
        }
        if codes
            .iter()
            .any(|c| c == "ConditionalCheckFailed" || c == "TransactionConflict")
        {
            // Another payment changed the invoice first (or is committing right now).
            return Err(StoreError::Conflict);
        }
        if codes
            .iter()
            .any(|c| c == "ThrottlingError" || c == "ProvisionedThroughputExceeded")
        {
            return Err(StoreError::unavailable(format!(
                "transaction cancelled: {codes:?}"
            )));
        }
        Err(StoreError::internal(format!(
            "transaction cancelled: {codes:?}"
        )))
    }

    async fn payment_for_key(
        &self,
        owner: &str,
        key: &str,
    ) -> Result<Option<KeyedPayment>, StoreError> {
        let marker = self.get_item(marker_key(owner, key)).await?;
        marker.as_ref().map(keyed_payment).transpose()
    }

    async fn get_payment(&self, owner: &str, id: &str) -> Result<Option<Payment>, StoreError> {
        self.get(key(owner, "PAYMENT", id)).await
    }

    async fn list_payments(
        &self,
        owner: &str,
        limit: u16,
        after: Option<&Cursor>,
    ) -> Result<Page<Payment>, StoreError> {
        self.list(owner, "PAYMENT", limit, after).await
    }
}
