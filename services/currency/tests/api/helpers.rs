//! The apps under test: the read and write routers and the projector over shared in-memory stores, and the
//! calls many tests make.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use currency::domain::Status;
use currency::store::{MemoryCommandStore, MemoryCurrencies, MemoryQueue};
use currency::{ProjectorState, ReadState, WriteState};
use money::CurrencyRecord;
use platform::auth::testing::TestIssuer;
use serde_json::{Value, json};
use testkit::{Reply, TestClient};
use time::OffsetDateTime;

pub struct Harness {
    /// The read router (no tokens).
    pub read: TestClient,
    /// The write router, trusting the harness's issuer.
    pub write: TestClient,
    pub projector: ProjectorState,
    pub currencies: Arc<MemoryCurrencies>,
    pub commands: Arc<MemoryCommandStore>,
    pub queue: Arc<MemoryQueue>,
    next_message: std::sync::atomic::AtomicU64,
}

pub fn harness() -> Harness {
    harness_with_ttl(Duration::from_secs(5))
}

/// A harness whose read model holds `records`.
pub fn harness_holding(records: &[CurrencyRecord]) -> Harness {
    let h = harness();
    for record in records {
        h.currencies.put(record.clone());
    }
    h
}

pub fn harness_with_ttl(ttl: Duration) -> Harness {
    let issuer = TestIssuer::new();
    let currencies = Arc::new(MemoryCurrencies::new());
    let commands = Arc::new(MemoryCommandStore::new());
    let queue = Arc::new(MemoryQueue::new());
    let read =
        platform::http_log::instrument(currency::read_app(ReadState::new(currencies.clone(), ttl)));
    let write = currency::write_app(WriteState {
        commands: commands.clone(),
        queue: queue.clone(),
        verifier: issuer.verifier(),
        retention_seconds: 3600,
    });
    let projector = ProjectorState {
        currencies: currencies.clone(),
        commands: commands.clone(),
        max_receive_count: 3,
    };
    let write = TestClient::new(write, issuer);
    Harness {
        read: write.with_router(read),
        write,
        projector,
        currencies,
        commands,
        queue,
        next_message: std::sync::atomic::AtomicU64::new(1),
    }
}

/// A read-model record for `raw` at `version`, updated at the epoch.
pub fn record(raw: &str, rate: &str, version: u64) -> CurrencyRecord {
    testkit::fixtures::currency_at(raw, rate, version, OffsetDateTime::UNIX_EPOCH)
}

pub fn eur() -> Value {
    json!({"code": "EUR", "name": "Euro", "minor_units": 2, "rate_to_base": "1.0825"})
}

impl Harness {
    /// How many status transitions to `to` the command store recorded.
    pub fn transitions_to(&self, to: Status) -> usize {
        self.commands
            .transitions()
            .iter()
            .filter(|(_, s)| *s == to)
            .count()
    }

    pub fn admin(&self) -> String {
        self.write.issuer().token("admin-1", &["admin"])
    }

    pub fn user(&self) -> String {
        self.write.issuer().token("user-1", &[])
    }

    pub async fn admin_post(&self, body: &Value) -> Reply {
        self.write
            .post("/currencies")
            .bearer(&self.admin())
            .json(body)
            .send()
            .await
    }

    /// An admin's `POST /currencies` with an `Idempotency-Key` (the command id).
    pub async fn admin_post_keyed(&self, key: &str, body: &Value) -> Reply {
        self.write
            .post("/currencies")
            .bearer(&self.admin())
            .header("idempotency-key", key)
            .json(body)
            .send()
            .await
    }

    /// An admin's `PUT /currencies/{code}`.
    pub async fn admin_put(&self, code: &str, body: &Value) -> Reply {
        self.write
            .put(format!("/currencies/{code}"))
            .bearer(&self.admin())
            .json(body)
            .send()
            .await
    }

    /// An admin's `DELETE /currencies/{code}`, with an `Idempotency-Key` when given.
    pub async fn admin_delete(&self, code: &str, key: Option<&str>) -> Reply {
        let request = self
            .write
            .delete(format!("/currencies/{code}"))
            .bearer(&self.admin());
        match key {
            Some(key) => request.header("idempotency-key", key),
            None => request,
        }
        .send()
        .await
    }

    pub async fn command(&self, id: &str) -> Reply {
        self.write
            .get(format!("/commands/{id}"))
            .bearer(&self.admin())
            .send()
            .await
    }

    /// An SQS record with a fresh message id.
    pub fn message(&self, body: &str, receive_count: u32) -> SqsMessage {
        let n = self
            .next_message
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        sqs_message(&format!("msg-{n}"), body, receive_count)
    }

    /// Runs the projector over `messages`.
    pub async fn project(&self, messages: Vec<SqsMessage>) -> SqsBatchResponse {
        let mut event = SqsEvent::default();
        event.records = messages;
        currency::projector::handle_batch(&self.projector, event).await
    }

    /// Projects everything queued so far (first receive each).
    pub async fn project_queue(&self) -> SqsBatchResponse {
        let messages = self
            .queue
            .drain()
            .iter()
            .map(|body| self.message(body, 1))
            .collect();
        self.project(messages).await
    }
}

pub fn sqs_message(id: &str, body: &str, receive_count: u32) -> SqsMessage {
    let mut message = SqsMessage::default();
    message.message_id = Some(id.to_owned());
    message.receipt_handle = Some(format!("rh-{id}"));
    message.body = Some(body.to_owned());
    message.attributes.insert(
        "ApproximateReceiveCount".to_owned(),
        receive_count.to_string(),
    );
    message.event_source = Some("aws:sqs".to_owned());
    message
}

pub fn failed_ids(response: &SqsBatchResponse) -> Vec<String> {
    let mut ids: Vec<String> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    ids.sort();
    ids
}
