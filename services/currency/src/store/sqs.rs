//! The commands queue in SQS (a standard queue; ordering comes from per-currency sequences).

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use super::{CommandQueue, StoreError};

#[derive(Clone)]
pub struct SqsCommandQueue {
    client: Client,
    queue_url: String,
}

impl SqsCommandQueue {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }
}

fn queue_error<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let transient = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => matches!(
            service.err().code(),
            Some(
                "ThrottlingException"
                    | "RequestThrottled"
                    | "KmsThrottled"
                    | "ServiceUnavailable"
                    | "InternalError"
                    | "InternalFailure"
            )
        ),
        _ => false,
    };
    let detail = DisplayErrorContext(&err).to_string();
    if transient {
        StoreError::Unavailable(detail)
    } else {
        StoreError::Internal(detail)
    }
}

#[async_trait]
impl CommandQueue for SqsCommandQueue {
    async fn send(&self, body: &str) -> Result<(), StoreError> {
        let mut request = self
            .client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body);
        // Trace propagation: the HTTP request's X-Ray header rides on the message as the `AWSTraceHeader`
        // system attribute (what X-Ray-instrumented senders set), so the projector logs under the same trace.
        if let Some(header) = platform::telemetry::current_trace_header() {
            request = request.message_system_attributes(
                aws_sdk_sqs::types::MessageSystemAttributeNameForSends::AwsTraceHeader,
                aws_sdk_sqs::types::MessageSystemAttributeValue::builder()
                    .data_type("String")
                    .string_value(header)
                    .build()
                    .map_err(|e| StoreError::Internal(e.to_string()))?,
            );
        }
        request.send().await.map(|_| ()).map_err(queue_error)
    }
}
