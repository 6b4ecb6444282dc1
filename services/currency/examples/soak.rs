//! Soak: ≥ 10,000 commands through the real write router, a real (moto) SQS queue and DynamoDB tables, and
//! the real projector, with injected projector failures — then **count** that every command was applied
//! exactly once.
//!
//! ```text
//! cargo run -p currency --example soak --release -- [commands=10000] [currencies=40] [failure_rate=0.1] \
//!     [crash_rate=0.02] [seed=7]
//! ```
//! Needs the repository's `.venv` (moto). The event source mapping is emulated faithfully: receive up to 10
//! messages (with `ApproximateReceiveCount`), invoke the batch handler, delete exactly the messages not in
//! `batchItemFailures`; failed messages come back after the visibility timeout (1 s here); the redrive
//! policy would move a message to the DLQ after 20 receives. Four projector workers run at once.
//!
//! Injected failures (per attempt, seeded):
//! - `failure_rate / 3`: the read-model write fails before writing (throttling);
//! - `failure_rate / 3`: the read-model write succeeds, then the call fails (crash after the write);
//! - `failure_rate / 3`: the status update fails (after the read-model write);
//! - `crash_rate` per batch: the whole invocation "crashes" (no response: every message comes back).
//!
//! Checks (exit status 1 on any violation): every command ends `applied`, none `rejected`, none in the DLQ;
//! no (currency, version) is ever written twice; every `written` command was written exactly once and every
//! `superseded` one at most once (once when a newer command overwrote it before its status was settled);
//! each currency ends with the state of its highest-sequence command. The summary goes to stderr (stdout
//! carries EMF metric lines): `cargo run … 2>&1 >/dev/null`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, MessageSystemAttributeName, QueueAttributeName,
};
use currency::domain::{CommandMessage, CommandRecord, Outcome, Status};
use currency::store::{
    ApplyOutcome, CommandStore, CurrencyReader, CurrencyWriter, DynamoCommandStore,
    DynamoCurrencies, Inserted, SqsCommandQueue, StoreError,
};
use currency::{ProjectorState, WriteState};
use money::{CurrencyCode, CurrencyRecord};
use platform::auth::testing::TestIssuer;
use testkit::moto::{Moto, unique_table};
use time::OffsetDateTime;
use tower::ServiceExt;

/// A tiny seeded PRNG (xorshift64*), shared by the fault injectors.
struct Dice(Mutex<u64>);

impl Dice {
    fn roll(&self) -> f64 {
        let mut state = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let mut x = *state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *state = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1_u64 << 53) as f64
    }
}

#[derive(Default)]
struct Counters {
    writes: Mutex<HashMap<(CurrencyCode, u64), u32>>,
    injected_before: AtomicU64,
    injected_after: AtomicU64,
    injected_status: AtomicU64,
    crashes: AtomicU64,
    invocations: AtomicU64,
    deliveries: AtomicU64,
}

struct FlakyWriter {
    inner: DynamoCurrencies,
    dice: Arc<Dice>,
    rate: f64,
    counters: Arc<Counters>,
}

#[async_trait]
impl CurrencyWriter for FlakyWriter {
    async fn apply(
        &self,
        message: &CommandMessage,
        at: OffsetDateTime,
    ) -> Result<ApplyOutcome, StoreError> {
        let roll = self.dice.roll();
        if roll < self.rate / 3.0 {
            self.counters
                .injected_before
                .fetch_add(1, Ordering::Relaxed);
            return Err(StoreError::Unavailable("injected: before write".into()));
        }
        let outcome = self.inner.apply(message, at).await?;
        if outcome == ApplyOutcome::Written {
            let mut writes = self
                .counters
                .writes
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            *writes.entry((message.code, message.sequence)).or_default() += 1;
        }
        if roll < 2.0 * self.rate / 3.0 {
            self.counters.injected_after.fetch_add(1, Ordering::Relaxed);
            return Err(StoreError::Unavailable("injected: after write".into()));
        }
        Ok(outcome)
    }
}

struct FlakyCommands {
    inner: DynamoCommandStore,
    dice: Arc<Dice>,
    rate: f64,
    counters: Arc<Counters>,
}

#[async_trait]
impl CommandStore for FlakyCommands {
    async fn insert(&self, record: &CommandRecord) -> Result<Inserted, StoreError> {
        self.inner.insert(record).await
    }
    async fn get(&self, id: &str) -> Result<Option<CommandRecord>, StoreError> {
        self.inner.get(id).await
    }
    async fn mark_applied(&self, id: &str, outcome: Outcome, at: &str) -> Result<bool, StoreError> {
        if self.dice.roll() < self.rate / 3.0 {
            self.counters
                .injected_status
                .fetch_add(1, Ordering::Relaxed);
            return Err(StoreError::Unavailable("injected: status update".into()));
        }
        self.inner.mark_applied(id, outcome, at).await
    }
    async fn mark_rejected(&self, id: &str, reason: &str, at: &str) -> Result<bool, StoreError> {
        self.inner.mark_rejected(id, reason, at).await
    }
}

fn arg<T: std::str::FromStr>(args: &[String], index: usize, default: T) -> T {
    args.get(index)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
    key: &str,
) -> Result<(), String> {
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(key)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| e.to_string())?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(key)
                .key_type(KeyType::Hash)
                .build()
                .map_err(|e| e.to_string())?,
        )
        .send()
        .await
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

struct Sent {
    id: String,
    code: CurrencyCode,
    sequence: u64,
    rate: String,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let commands: usize = arg(&args, 0, 10_000);
    let currencies: usize = arg(&args, 1, 40);
    let failure_rate: f64 = arg(&args, 2, 0.1);
    let crash_rate: f64 = arg(&args, 3, 0.02);
    let seed: u64 = arg(&args, 4, 7);
    let started = Instant::now();

    let moto = Moto::start();
    let dynamodb = moto.client();
    let sqs = moto.sqs_client();
    let currencies_table = unique_table("soak-currencies");
    let commands_table = unique_table("soak-commands");
    create_table(&dynamodb, &currencies_table, "code").await?;
    create_table(&dynamodb, &commands_table, "id").await?;
    let dlq_url = sqs
        .create_queue()
        .queue_name(unique_table("soak-dlq"))
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?
        .queue_url
        .ok_or("no dlq url")?;
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .ok_or("no dlq arn")?;
    let queue_url = sqs
        .create_queue()
        .queue_name(unique_table("soak-commands"))
        .attributes(QueueAttributeName::VisibilityTimeout, "1")
        .attributes(
            QueueAttributeName::RedrivePolicy,
            format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"20"}}"#),
        )
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?
        .queue_url
        .ok_or("no queue url")?;

    let issuer = TestIssuer::new();
    let token = issuer.token("soak-admin", &["admin"]);
    let store = DynamoCommandStore::new(dynamodb.clone(), &commands_table);
    let write = currency::write_app(WriteState {
        commands: Arc::new(store.clone()),
        queue: Arc::new(SqsCommandQueue::new(sqs.clone(), &queue_url)),
        verifier: issuer.verifier(),
        retention_seconds: 3600,
    });
    let dice = Arc::new(Dice(Mutex::new(seed.max(1))));
    let counters = Arc::new(Counters::default());
    let projector = ProjectorState {
        currencies: Arc::new(FlakyWriter {
            inner: DynamoCurrencies::new(dynamodb.clone(), &currencies_table),
            dice: dice.clone(),
            rate: failure_rate,
            counters: counters.clone(),
        }),
        commands: Arc::new(FlakyCommands {
            inner: store.clone(),
            dice: dice.clone(),
            rate: failure_rate,
            counters: counters.clone(),
        }),
        max_receive_count: 20,
    };

    // Projector workers: the event source mapping, emulated.
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (sqs, queue_url, projector, stop, dice, counters) = (
            sqs.clone(),
            queue_url.clone(),
            projector.clone(),
            stop.clone(),
            dice.clone(),
            counters.clone(),
        );
        workers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let Ok(out) = sqs
                    .receive_message()
                    .queue_url(&queue_url)
                    .max_number_of_messages(10)
                    // Short polls: the test moto serialises requests, so a long poll would stall everyone.
                    .wait_time_seconds(0)
                    .message_system_attribute_names(
                        MessageSystemAttributeName::ApproximateReceiveCount,
                    )
                    .send()
                    .await
                else {
                    continue;
                };
                let received = out.messages.unwrap_or_default();
                if received.is_empty() {
                    tokio::time::sleep(Duration::from_millis(25)).await; // idle poll interval
                    continue;
                }
                let mut event = SqsEvent::default();
                let mut handles = HashMap::new();
                for m in &received {
                    let mut message = SqsMessage::default();
                    message.message_id = m.message_id.clone();
                    message.body = m.body.clone();
                    if let Some(count) = m
                        .attributes
                        .as_ref()
                        .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    {
                        message
                            .attributes
                            .insert("ApproximateReceiveCount".into(), count.clone());
                    }
                    handles.insert(
                        m.message_id.clone().unwrap_or_default(),
                        m.receipt_handle.clone(),
                    );
                    event.records.push(message);
                }
                counters.invocations.fetch_add(1, Ordering::Relaxed);
                counters
                    .deliveries
                    .fetch_add(received.len() as u64, Ordering::Relaxed);
                let response = currency::projector::handle_batch(&projector, event).await;
                if dice.roll() < crash_rate {
                    counters.crashes.fetch_add(1, Ordering::Relaxed);
                    continue; // the invocation "crashed": nothing is deleted, everything comes back
                }
                for failure in &response.batch_item_failures {
                    handles.remove(&failure.item_identifier);
                }
                let entries: Vec<_> = handles
                    .into_iter()
                    .filter_map(|(id, handle)| {
                        DeleteMessageBatchRequestEntry::builder()
                            .id(id)
                            .set_receipt_handle(handle)
                            .build()
                            .ok()
                    })
                    .collect();
                if !entries.is_empty() {
                    let _ = sqs
                        .delete_message_batch()
                        .queue_url(&queue_url)
                        .set_entries(Some(entries))
                        .send()
                        .await;
                }
            }
        }));
    }

    // Writers: admin PUTs through the real write router, 16 in flight.
    let codes: Vec<CurrencyCode> = CurrencyCode::all().step_by(3).take(currencies).collect();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(16));
    let mut writes = Vec::with_capacity(commands);
    for i in 0..commands {
        let permit = semaphore
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| e.to_string())?;
        let code = codes[i % codes.len()];
        let rate = format!("{}.{:04}", 1 + i % 7, i % 10_000);
        let router = write.clone();
        let token = token.clone();
        writes.push(tokio::spawn(async move {
            let _permit = permit;
            let body = serde_json::json!({
                "name": code.iso_name(), "minor_units": code.minor_units(), "rate_to_base": rate,
            });
            let request = http::Request::put(format!("/currencies/{code}"))
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .header("idempotency-key", format!("soak-{i}"))
                .body(axum::body::Body::from(body.to_string()))
                .map_err(|e| e.to_string())?;
            let response = router.oneshot(request).await.map_err(|e| e.to_string())?;
            let status = response.status();
            let bytes = http_body_util::BodyExt::collect(response.into_body())
                .await
                .map_err(|e| e.to_string())?
                .to_bytes();
            if status != http::StatusCode::ACCEPTED {
                return Err(format!(
                    "write {i}: {status} {}",
                    String::from_utf8_lossy(&bytes)
                ));
            }
            let view: serde_json::Value =
                serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
            Ok(Sent {
                id: format!("soak-{i}"),
                code,
                sequence: view["sequence"].as_u64().unwrap_or_default(),
                rate,
            })
        }));
    }
    let mut sent = Vec::with_capacity(commands);
    for task in writes {
        sent.push(task.await.map_err(|e| e.to_string())??);
    }
    let written_after = started.elapsed();
    eprintln!(
        "soak: {commands} commands accepted in {:.1} s",
        written_after.as_secs_f64()
    );

    // Wait until the queue is drained (nothing visible or in flight, twice in a row), then read every status.
    let deadline = Instant::now() + Duration::from_secs(3600);
    let mut quiet = 0;
    while quiet < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await; // polling interval of a deadline-bound wait
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .ok()
            .and_then(|o| o.attributes)
            .unwrap_or_default();
        let count = |name: QueueAttributeName| {
            attributes
                .get(&name)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(u64::MAX)
        };
        let outstanding = count(QueueAttributeName::ApproximateNumberOfMessages).saturating_add(
            count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        );
        quiet = if outstanding == 0 { quiet + 1 } else { 0 };
    }
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        let _ = worker.await;
    }
    let mut statuses: HashMap<String, CommandRecord> = HashMap::new();
    let mut pending = Vec::new();
    for command in &sent {
        match store.get(&command.id).await {
            Ok(Some(record)) if record.status != Status::Accepted => {
                statuses.insert(record.id.clone(), record);
            }
            _ => pending.push(command.id.clone()),
        }
    }
    let projected_after = started.elapsed();

    // Count.
    let writes = counters
        .writes
        .lock()
        .map(|w| w.clone())
        .unwrap_or_default();
    let mut violations = Vec::new();
    let double_writes: Vec<_> = writes.iter().filter(|(_, n)| **n > 1).collect();
    if !double_writes.is_empty() {
        violations.push(format!(
            "{} (currency, version) written more than once",
            double_writes.len()
        ));
    }
    let (mut applied, mut rejected, mut written, mut superseded) = (0, 0, 0, 0);
    let mut superseded_after_write = 0_u32;
    for command in &sent {
        let Some(record) = statuses.get(&command.id) else {
            continue;
        };
        match record.status {
            Status::Applied => applied += 1,
            Status::Rejected => rejected += 1,
            Status::Accepted => {}
        }
        let times = writes
            .get(&(command.code, command.sequence))
            .copied()
            .unwrap_or(0);
        match record.outcome {
            Some(Outcome::Written) => {
                written += 1;
                if times != 1 {
                    violations.push(format!(
                        "{}: outcome written but written {times} times",
                        command.id
                    ));
                }
            }
            Some(Outcome::Superseded) => {
                // Superseded: a newer version was in place when the status was settled. Either the command
                // never wrote (it arrived late) or it wrote once and a newer one overwrote it before its
                // status update got through (injected after-write/status failures). Never twice.
                superseded += 1;
                if times > 1 {
                    violations.push(format!("{}: written {times} times", command.id));
                }
                superseded_after_write += times;
            }
            None => {}
        }
    }
    if applied != commands {
        violations.push(format!(
            "{applied} of {commands} applied ({rejected} rejected, {} never left accepted)",
            pending.len()
        ));
    }
    // Final state of each currency = its highest-sequence command.
    let reader = DynamoCurrencies::new(dynamodb.clone(), &currencies_table);
    let final_state: HashMap<CurrencyCode, CurrencyRecord> = reader
        .list()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|r| (r.code, r))
        .collect();
    let mut latest: HashMap<CurrencyCode, &Sent> = HashMap::new();
    for command in &sent {
        let entry = latest.entry(command.code).or_insert(command);
        if command.sequence > entry.sequence {
            *entry = command;
        }
    }
    for (code, command) in &latest {
        let expected = command
            .rate
            .parse::<money::Decimal>()
            .map(|d| d.normalize())
            .ok();
        match final_state.get(code) {
            Some(record)
                if record.version == command.sequence && Some(record.rate_to_base) == expected => {}
            other => violations.push(format!(
                "{code}: expected version {} rate {}, found {other:?}",
                command.sequence, command.rate
            )),
        }
    }
    let dlq = sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .ok()
        .and_then(|o| o.attributes)
        .and_then(|a| {
            a.get(&QueueAttributeName::ApproximateNumberOfMessages)
                .cloned()
        })
        .unwrap_or_default();
    if dlq != "0" {
        violations.push(format!("{dlq} messages in the DLQ"));
    }

    let summary = serde_json::json!({
        "commands": commands,
        "currencies": latest.len(),
        "applied": applied,
        "rejected": rejected,
        "written_once": written,
        "superseded": superseded,
        "superseded_after_writing_once": superseded_after_write,
        "distinct_versions_written": writes.len(),
        "max_writes_per_version": writes.values().max().copied().unwrap_or(0),
        "deliveries": counters.deliveries.load(Ordering::Relaxed),
        "invocations": counters.invocations.load(Ordering::Relaxed),
        "injected_failures": {
            "before_write": counters.injected_before.load(Ordering::Relaxed),
            "after_write": counters.injected_after.load(Ordering::Relaxed),
            "status_update": counters.injected_status.load(Ordering::Relaxed),
            "batch_crashes": counters.crashes.load(Ordering::Relaxed),
        },
        "dlq_messages": dlq,
        "seconds": {"writes": written_after.as_secs_f64(), "total": projected_after.as_secs_f64()},
        "violations": violations,
    });
    // stderr: stdout carries the functions' EMF metric lines.
    eprintln!(
        "{}",
        serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?
    );
    if violations.is_empty() {
        Ok(())
    } else {
        Err(format!("{} violation(s)", violations.len()))
    }
}
