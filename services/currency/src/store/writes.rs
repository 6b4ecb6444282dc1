//! Counts this process's DynamoDB write requests: every attempt the SDK transmits of `PutItem`,
//! `UpdateItem`, `DeleteItem`, `BatchWriteItem` or `TransactWriteItems` (a transaction is one
//! request). The write function reports them per request and the projector per batch as the EMF
//! count `DynamoDBWrites`, so a benchmark divides measured writes by accepted commands.

use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use platform::aws::SdkConfig;

static WRITES: AtomicU64 = AtomicU64::new(0);

const WRITE_OPERATIONS: [&str; 5] = [
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
];

/// Write requests sent so far by clients built with [`client`].
pub fn total() -> u64 {
    WRITES.load(Ordering::Relaxed)
}

/// Whether an `X-Amz-Target` header (`DynamoDB_20120810.PutItem`) names a write.
pub fn is_write(target: Option<&str>) -> bool {
    target
        .and_then(|t| t.rsplit('.').next())
        .is_some_and(|operation| WRITE_OPERATIONS.contains(&operation))
}

/// The interceptor behind [`total`].
#[derive(Debug)]
struct CountWrites;

impl Intercept for CountWrites {
    fn name(&self) -> &'static str {
        "CountWrites"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if is_write(context.request().headers().get("x-amz-target")) {
            WRITES.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// A DynamoDB client whose write requests count in [`total`].
pub fn client(sdk: &SdkConfig) -> Client {
    let config = aws_sdk_dynamodb::config::Builder::from(sdk)
        .interceptor(CountWrites)
        .build();
    Client::from_conf(config)
}

/// Emits `DynamoDBWrites` for the writes since `before` (a [`total`]), when there were any; returns them.
pub fn report_since(before: u64) -> u64 {
    let writes = total().saturating_sub(before);
    if writes > 0 {
        platform::metrics::count(
            "DynamoDBWrites",
            f64::from(u32::try_from(writes).unwrap_or(u32::MAX)),
        );
    }
    writes
}

/// Middleware: `DynamoDBWrites` per request. Exact in Lambda, where an environment serves one request
/// at a time; a process serving several at once attributes overlapping writes to whichever ends first.
pub async fn per_request(request: Request, next: Next) -> Response {
    let before = total();
    let response = next.run(request).await;
    report_since(before);
    response
}

#[cfg(test)]
mod tests {
    use super::is_write;

    #[test]
    fn writes_are_the_item_changing_operations() {
        for op in [
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "BatchWriteItem",
            "TransactWriteItems",
        ] {
            assert!(is_write(Some(&format!("DynamoDB_20120810.{op}"))), "{op}");
        }
        for op in [
            "GetItem",
            "Query",
            "Scan",
            "BatchGetItem",
            "TransactGetItems",
        ] {
            assert!(!is_write(Some(&format!("DynamoDB_20120810.{op}"))), "{op}");
        }
        assert!(!is_write(None));
    }
}
