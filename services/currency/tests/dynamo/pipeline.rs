//! The whole write → SQS → projector → read path over the real store implementations.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::sqs::SqsMessage;
use currency::domain::Status;
use currency::store::{CommandQueue, CommandStore, SqsCommandQueue};
use currency::{ProjectorState, ReadState, WriteState};
use http::StatusCode;
use platform::auth::testing::TestIssuer;
use serde_json::json;
use testkit::TestClient;
use testkit::moto::unique_table;

use crate::helpers::env;

#[tokio::test]
async fn write_queue_project_read_over_dynamodb_and_sqs() {
    let e = env().await;
    let sqs = e.moto.sqs_client();
    let queue_url = sqs
        .create_queue()
        .queue_name(unique_table("commands"))
        .send()
        .await
        .ok()
        .and_then(|o| o.queue_url)
        .unwrap_or_else(|| panic!("no queue"));
    let issuer = TestIssuer::new();
    let commands = Arc::new(e.commands.clone());
    let write = currency::write_app(WriteState {
        commands: commands.clone(),
        queue: Arc::new(SqsCommandQueue::new(sqs.clone(), &queue_url)),
        verifier: issuer.verifier(),
        retention_seconds: 600,
    });
    let read = currency::read_app(ReadState::new(
        Arc::new(e.currencies.clone()),
        Duration::ZERO,
    ));
    let projector = ProjectorState {
        currencies: Arc::new(e.currencies.clone()),
        commands: commands.clone(),
        max_receive_count: 5,
    };
    let write = TestClient::new(write, issuer);
    let reply = write
        .post("/currencies")
        .as_user_with_roles("admin-1", &["admin"])
        .header("idempotency-key", "dyn-1")
        .json(&json!({"code": "KWD", "name": "Kuwaiti Dinar", "minor_units": 3, "rate_to_base": "3.25"}))
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    assert_eq!(reply.header_or_empty("location"), "/commands/dyn-1");

    // Receive what the write function sent, as the event source mapping would.
    let received = sqs
        .receive_message()
        .queue_url(&queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let messages: Vec<_> = received
        .messages()
        .iter()
        .map(|m| {
            let mut message = SqsMessage::default();
            message.message_id = m.message_id().map(str::to_owned);
            message.body = m.body().map(str::to_owned);
            message
                .attributes
                .insert("ApproximateReceiveCount".to_owned(), "1".to_owned());
            message
        })
        .collect();
    assert_eq!(messages.len(), 1);
    let mut event = aws_lambda_events::sqs::SqsEvent::default();
    event.records = messages;
    let response = currency::projector::handle_batch(&projector, event).await;
    assert!(response.batch_item_failures.is_empty());

    let status = commands.get("dyn-1").await.ok().flatten().map(|c| c.status);
    assert_eq!(status, Some(Status::Applied));
    let get = write.with_router(read).get("/currencies/KWD").send().await;
    assert_eq!(get.status, StatusCode::OK);
    assert_eq!(get.body["rate_to_base"], "3.25");
    assert_eq!(get.body["minor_units"], 3);
    let sequence = reply.body["sequence"].as_u64().unwrap_or_default();
    assert_eq!(
        get.body["version"], sequence,
        "the read model is at the command's key"
    );
    assert_eq!(get.header_or_empty("etag"), format!("\"KWD-{sequence}\""));
    // The queue send is a plain SendMessage (standard queue, no group id).
    let queue = SqsCommandQueue::new(sqs, &queue_url);
    assert_eq!(queue.send("{}").await, Ok(()));
}
