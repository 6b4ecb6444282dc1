//! DynamoDB and SQS stores against a moto server (one server per test, fresh tables), plus the whole
//! write → SQS → projector → read path over the real store implementations.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::sqs::SqsMessage;
use aws_sdk_dynamodb::types::KeyType;
use currency::domain::{
    CommandMessage, CommandRecord, CurrencyState, Intent, Operation, Outcome, Status,
};
use currency::store::{
    ApplyOutcome, CommandQueue, CommandStore, CurrencyReader, CurrencyWriter, DynamoCommandStore,
    DynamoCurrencies, Inserted, SqsCommandQueue, StoreError,
};
use currency::{ProjectorState, ReadState, WriteState};
use http::StatusCode;
use money::{CurrencyRecord, Decimal};
use platform::auth::testing::TestIssuer;
use serde_json::json;
use testkit::TestClient;
use testkit::fixtures::code;
use testkit::moto::{Moto, client_for, dead_endpoint, unique_table};
use testkit::tables::create_table;
use time::OffsetDateTime;

struct Env {
    moto: Moto,
    currencies: DynamoCurrencies,
    commands: DynamoCommandStore,
    client: aws_sdk_dynamodb::Client,
    currencies_table: String,
}

async fn env() -> Env {
    let moto = Moto::start();
    let client = moto.client();
    let currencies_table = unique_table("currencies");
    let commands_table = unique_table("commands");
    create_table(&client, &currencies_table, &[("code", KeyType::Hash)]).await;
    create_table(&client, &commands_table, &[("id", KeyType::Hash)]).await;
    Env {
        currencies: DynamoCurrencies::new(client.clone(), &currencies_table),
        commands: DynamoCommandStore::new(client.clone(), &commands_table),
        client,
        currencies_table,
        moto,
    }
}

fn upsert(id: &str, currency: &str, rate: &str, sequence: u64) -> CommandMessage {
    let c = code(currency);
    let intent = Intent {
        operation: Operation::Replace,
        code: c,
        state: Some(CurrencyState {
            name: c.iso_name().to_owned(),
            minor_units: c.minor_units(),
            rate_to_base: rate.parse::<Decimal>().unwrap_or_else(|e| panic!("{e}")),
        }),
    };
    CommandMessage::new(id.to_owned(), &intent, sequence)
}

fn delete(id: &str, currency: &str, sequence: u64) -> CommandMessage {
    let intent = Intent {
        operation: Operation::Delete,
        code: code(currency),
        state: None,
    };
    CommandMessage::new(id.to_owned(), &intent, sequence)
}

fn command_record(message: &CommandMessage) -> CommandRecord {
    CommandRecord {
        id: message.command_id.clone(),
        status: Status::Accepted,
        operation: message.operation,
        code: message.code,
        sequence: message.sequence,
        fingerprint: "f".repeat(64),
        message: message.to_json(),
        requested_by: "admin-1".into(),
        reason: None,
        outcome: None,
        created_at: "2026-11-24T00:00:00Z".into(),
        updated_at: "2026-11-24T00:00:00Z".into(),
        expires_at: 1_900_000_000,
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

#[tokio::test]
async fn read_model_only_moves_forward_and_hides_tombstones() {
    let e = env().await;
    let w = &e.currencies;
    assert_eq!(
        w.apply(&upsert("a", "EUR", "1.10", 2), now()).await,
        Ok(ApplyOutcome::Written)
    );
    assert_eq!(
        w.apply(&upsert("b", "USD", "1", 1), now()).await,
        Ok(ApplyOutcome::Written)
    );
    // Older and equal versions change nothing and report the current version.
    assert_eq!(
        w.apply(&upsert("old", "EUR", "9", 1), now()).await,
        Ok(ApplyOutcome::Stale { current: 2 })
    );
    assert_eq!(
        w.apply(&upsert("a", "EUR", "1.10", 2), now()).await,
        Ok(ApplyOutcome::Stale { current: 2 })
    );
    let listed = e.currencies.list().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        listed.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
        ["EUR", "USD"]
    );
    assert_eq!(listed[0].rate_to_base.to_string(), "1.1");
    assert_eq!(listed[0].version, 2);

    // The stored item is the shared read-model layout: rate as a decimal string attribute.
    let item = e
        .client
        .get_item()
        .table_name(&e.currencies_table)
        .set_key(Some(money::record::key(code("EUR"))))
        .send()
        .await
        .ok()
        .and_then(|o| o.item)
        .unwrap_or_default();
    assert_eq!(
        item.get("rate_to_base")
            .and_then(|v| v.as_s().ok())
            .map(String::as_str),
        Some("1.1")
    );
    assert!(matches!(CurrencyRecord::from_item(&item), Ok(Some(r)) if r.version == 2));

    // Delete → tombstone: gone from the list, and a late create cannot resurrect it.
    assert_eq!(
        w.apply(&delete("d", "EUR", 3), now()).await,
        Ok(ApplyOutcome::Written)
    );
    assert_eq!(
        w.apply(&upsert("late", "EUR", "5", 2), now()).await,
        Ok(ApplyOutcome::Stale { current: 3 })
    );
    let listed = e.currencies.list().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        listed.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
        ["USD"]
    );
    assert_eq!(
        w.apply(&upsert("new", "EUR", "1.2", 4), now()).await,
        Ok(ApplyOutcome::Written)
    );
    assert_eq!(e.currencies.list().await.map(|l| l.len()), Ok(2));
}

#[tokio::test]
async fn concurrent_applies_leave_the_highest_sequence() {
    let e = env().await;
    let writer = Arc::new(e.currencies.clone());
    let tasks: Vec<_> = (1..=12_u64)
        .rev()
        .map(|sequence| {
            let writer = writer.clone();
            tokio::spawn(async move {
                writer
                    .apply(
                        &upsert(
                            &format!("c{sequence}"),
                            "GBP",
                            &format!("1.{sequence:02}"),
                            sequence,
                        ),
                        now(),
                    )
                    .await
            })
        })
        .collect();
    for task in tasks {
        assert!(matches!(task.await, Ok(Ok(_))));
    }
    let listed = e.currencies.list().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(listed[0].version, 12);
    assert_eq!(listed[0].rate_to_base.to_string(), "1.12");
}

#[tokio::test]
async fn sequences_are_atomic_per_currency() {
    let e = env().await;
    let store = Arc::new(e.commands.clone());
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            let currency = if i % 2 == 0 { "EUR" } else { "USD" };
            tokio::spawn(async move { (currency, store.next_sequence(code(currency)).await) })
        })
        .collect();
    let mut eur = Vec::new();
    let mut usd = Vec::new();
    for task in tasks {
        match task.await {
            Ok(("EUR", Ok(n))) => eur.push(n),
            Ok((_, Ok(n))) => usd.push(n),
            other => panic!("{other:?}"),
        }
    }
    eur.sort_unstable();
    usd.sort_unstable();
    assert_eq!(eur, (1..=8).collect::<Vec<u64>>());
    assert_eq!(usd, (1..=8).collect::<Vec<u64>>());
}

#[tokio::test]
async fn command_statuses_store_once_and_move_forward_only() {
    let e = env().await;
    let s = &e.commands;
    let message = upsert("cmd-1", "EUR", "1.1", 1);
    let record = command_record(&message);
    assert_eq!(s.insert(&record).await, Ok(Inserted::New));
    assert_eq!(s.get("cmd-1").await, Ok(Some(record.clone())), "round trip");
    let mut other = record.clone();
    other.fingerprint = "other".into();
    assert_eq!(
        s.insert(&other).await,
        Ok(Inserted::Existing(Box::new(record.clone())))
    );
    assert_eq!(s.get("missing").await, Ok(None));

    // accepted → rejected → applied (truth wins) → nothing more.
    assert_eq!(s.mark_rejected("cmd-1", "gave up", "t1").await, Ok(true));
    assert_eq!(s.mark_rejected("cmd-1", "again", "t2").await, Ok(false));
    assert_eq!(
        s.mark_applied("cmd-1", Outcome::Written, "t3").await,
        Ok(true)
    );
    assert_eq!(
        s.mark_applied("cmd-1", Outcome::Superseded, "t4").await,
        Ok(false)
    );
    assert_eq!(s.mark_rejected("cmd-1", "late", "t5").await, Ok(false));
    let stored = s
        .get("cmd-1")
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("gone"));
    assert_eq!(stored.status, Status::Applied);
    assert_eq!(stored.outcome, Some(Outcome::Written));
    assert_eq!(stored.reason, None);
    assert_eq!(stored.updated_at, "t3");
    // Unknown ids are no-ops, never half-created items.
    assert_eq!(
        s.mark_applied("ghost", Outcome::Written, "t").await,
        Ok(false)
    );
    assert_eq!(s.get("ghost").await, Ok(None));
}

#[tokio::test]
async fn unreachable_dynamodb_is_unavailable() {
    let client = client_for(&dead_endpoint());
    let reader = DynamoCurrencies::new(client.clone(), "t");
    assert!(matches!(
        reader.list().await,
        Err(StoreError::Unavailable(_))
    ));
    let commands = DynamoCommandStore::new(client, "t");
    assert!(matches!(
        commands.next_sequence(code("EUR")).await,
        Err(StoreError::Unavailable(_))
    ));
}

#[tokio::test]
async fn missing_table_is_internal() {
    let e = env().await;
    let reader = DynamoCurrencies::new(e.client.clone(), "no-such-table");
    assert!(matches!(reader.list().await, Err(StoreError::Internal(_))));
}

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
    assert_eq!(get.header_or_empty("etag"), "\"KWD-1\"");
    // The queue send is a plain SendMessage (standard queue, no group id).
    let queue = SqsCommandQueue::new(sqs, &queue_url);
    assert_eq!(queue.send("{}").await, Ok(()));
}
