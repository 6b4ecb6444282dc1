//! DynamoDB helpers shared by services: error classification and attribute access.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;

/// How a failed DynamoDB call should look to a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Throttling, service unavailable, timeouts, connection failures: 503, retry later.
    Unavailable,
    /// Anything else (validation, missing table, access denied, …): 500; a bug or misconfiguration.
    Internal,
}

/// Error codes DynamoDB (and the SDK) use for retryable capacity/availability problems.
const UNAVAILABLE_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
    "LimitExceededException",
];

/// Classifies any DynamoDB SDK error.
pub fn classify<E, R>(err: &SdkError<E, R>) -> FailureKind
where
    E: ProvideErrorMetadata,
{
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => FailureKind::Unavailable,
        SdkError::ResponseError(_) => FailureKind::Unavailable,
        SdkError::ServiceError(service) => classify_code(service.err().code()),
        _ => classify_code(err.code()),
    }
}

/// Classifies an error code string.
pub fn classify_code(code: Option<&str>) -> FailureKind {
    match code {
        Some(code) if UNAVAILABLE_CODES.contains(&code) => FailureKind::Unavailable,
        _ => FailureKind::Internal,
    }
}

/// A display string of an SDK error with its code and message (for logs, never for clients).
pub fn describe<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match (err.code(), err.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => aws_sdk_dynamodb::error::DisplayErrorContext(err).to_string(),
    }
}

/// A failed SDK call as a store failure: classified ([`classify`]) and described ([`describe`]).
pub fn failure<E, R>(err: &SdkError<E, R>) -> crate::store::StoreFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let detail = describe(err);
    match classify(err) {
        FailureKind::Unavailable => crate::store::StoreFailure::Unavailable(detail),
        FailureKind::Internal => crate::store::StoreFailure::Internal(detail),
    }
}

pub type Item = HashMap<String, AttributeValue>;

/// A string attribute.
pub fn s(value: impl Into<String>) -> aws_sdk_dynamodb::types::AttributeValue {
    aws_sdk_dynamodb::types::AttributeValue::S(value.into())
}

/// A transaction item that writes `item` only where its key is free (`attribute_not_exists(pk)`), so the
/// whole transaction is refused when any such item exists.
pub fn put_new(
    table: &str,
    item: Item,
) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, aws_sdk_dynamodb::error::BuildError> {
    let put = aws_sdk_dynamodb::types::Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(pk)")
        .build()?;
    Ok(aws_sdk_dynamodb::types::TransactWriteItem::builder()
        .put(put)
        .build())
}

/// A number attribute.
pub fn n(value: impl ToString) -> aws_sdk_dynamodb::types::AttributeValue {
    aws_sdk_dynamodb::types::AttributeValue::N(value.to_string())
}

pub fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

/// A number attribute parsed as i64.
pub fn get_i64(item: &Item, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
}

/// A string-set or string-list attribute (missing → empty).
pub fn get_strings(item: &Item, name: &str) -> Vec<String> {
    match item.get(name) {
        Some(AttributeValue::Ss(values)) => values.clone(),
        Some(AttributeValue::L(values)) => values
            .iter()
            .filter_map(|v| v.as_s().ok().cloned())
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether a transaction lost to another one on the same item (DynamoDB cancels rather than waits):
/// trying again, soon, is the remedy.
pub fn is_transaction_conflict<R>(
    err: &SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, R>,
) -> bool {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    let SdkError::ServiceError(service) = err else {
        return false;
    };
    match service.err() {
        TransactWriteItemsError::TransactionCanceledException(cancelled) => cancelled
            .cancellation_reasons()
            .iter()
            .any(|r| r.code() == Some("TransactionConflict")),
        TransactWriteItemsError::TransactionInProgressException(_) => true,
        other => other.code() == Some("TransactionConflictException"),
    }
}

/// A short pause before trying a conflicted transaction again: 2, 4, 8 ms, …, plus up to as much jitter.
pub async fn back_off(attempt: u32) {
    let base = 1_u64 << attempt.min(6);
    let jitter = u64::from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos()),
    ) % base.max(1);
    tokio::time::sleep(std::time::Duration::from_millis(base + jitter)).await;
}

/// Sends `items` as one transaction, and again after [`back_off`] while DynamoDB cancels it for a conflict
/// with another transaction, `attempts` times at most; the last answer is returned.
pub async fn transact_retrying_conflicts(
    client: &aws_sdk_dynamodb::Client,
    items: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
    attempts: u32,
) -> Result<
    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput,
    SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        aws_sdk_dynamodb::config::http::HttpResponse,
    >,
> {
    let mut attempt = 1;
    loop {
        let result = client
            .transact_write_items()
            .set_transact_items(Some(items.clone()))
            .send()
            .await;
        match result {
            Err(e) if is_transaction_conflict(&e) && attempt < attempts => {
                back_off(attempt).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_is_unavailable_and_validation_is_internal() {
        assert_eq!(
            classify_code(Some("ProvisionedThroughputExceededException")),
            FailureKind::Unavailable
        );
        assert_eq!(
            classify_code(Some("ThrottlingException")),
            FailureKind::Unavailable
        );
        assert_eq!(
            classify_code(Some("ValidationException")),
            FailureKind::Internal
        );
        assert_eq!(classify_code(None), FailureKind::Internal);
    }

    #[test]
    fn an_unreachable_backend_is_unavailable() {
        use aws_sdk_dynamodb::error::ConnectorError;
        use aws_sdk_dynamodb::operation::get_item::GetItemError;
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let err: SdkError<GetItemError, ()> =
            SdkError::dispatch_failure(ConnectorError::io(Box::new(refused)));
        assert_eq!(classify(&err), FailureKind::Unavailable);
    }

    #[test]
    fn attribute_helpers_read_types_leniently() {
        let item: Item = [
            ("s".to_owned(), AttributeValue::S("x".into())),
            ("n".to_owned(), AttributeValue::N("42".into())),
            (
                "l".to_owned(),
                AttributeValue::L(vec![AttributeValue::S("a".into())]),
            ),
        ]
        .into_iter()
        .collect();
        assert_eq!(get_s(&item, "s"), Some("x"));
        assert_eq!(get_i64(&item, "n"), Some(42));
        assert_eq!(get_i64(&item, "s"), None);
        assert_eq!(get_strings(&item, "l"), vec!["a".to_owned()]);
        assert!(get_strings(&item, "missing").is_empty());
    }
}
