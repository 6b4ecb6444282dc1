//! The projector: applies a batch of queued commands to the read model.
//!
//! Per message (currencies concurrently within a batch; one currency's messages newest first, see
//! [`handle_batch`]):
//! 1. parse and validate the body; a message that fails is **poison**: its command (when the body
//!    still names one) is marked `rejected` with the reason right away — parsing is deterministic, so
//!    no retry can succeed — and the message is reported failed on every receive, so the queue's
//!    redrive policy moves it to the DLQ after `maxReceiveCount` for an operator to inspect;
//! 2. apply it with a conditional write on the currency's version (only a higher sequence, the
//!    command's acceptance-time order key, writes), so duplicates and reordered deliveries change
//!    nothing;
//! 3. mark the command `applied` (`written`, or `superseded` when a newer command was already in
//!    place; a redelivery of a command already written logs `duplicate` and keeps `written`); a
//!    written command's status goes in the same write as the read model where the store can
//!    ([`CurrencyWriter::apply_and_mark`]: one DynamoDB transaction), together with the `superseded`
//!    marks of the older commands of that currency in the batch, so an accepted command costs the
//!    projector at most one write. Any store failure reports the message failed so only it is retried; on the last
//!    receive (`ApproximateReceiveCount` ≥ `COMMANDS_MAX_RECEIVE_COUNT`, the template's
//!    maxReceiveCount) the command is also marked `rejected` because the DLQ will take the message.
//!
//! The response lists exactly the failed message ids (`batchItemFailures`; the event source mapping
//! has `ReportBatchItemFailures`). Every message logs one line with message id, command id and outcome.

use std::collections::HashMap;
use std::sync::Arc;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::LambdaEvent;
use money::CurrencyCode;
use time::OffsetDateTime;
use tracing::Instrument;

use crate::domain::{self, CommandMessage, Outcome};
use crate::store::{ApplyOutcome, CommandStore, CurrencyWriter, writes};

/// Default `COMMANDS_MAX_RECEIVE_COUNT` (must equal the queue's redrive `maxReceiveCount`).
pub const DEFAULT_MAX_RECEIVE_COUNT: u32 = 5;

/// What the projector needs.
#[derive(Clone)]
pub struct ProjectorState {
    pub currencies: Arc<dyn CurrencyWriter>,
    pub commands: Arc<dyn CommandStore>,
    /// The queue's `maxReceiveCount`: the receive on which a failing message is seen for the last time.
    pub max_receive_count: u32,
}

/// What happened to one message (also the `outcome` log field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// The read model now holds this command's version.
    Written,
    /// The read model already had exactly this version: a redelivery of a command already written (or
    /// another copy of a command in the same batch).
    Duplicate,
    /// The read model already had a newer version (late delivery), or another command with the same
    /// order key: nothing written.
    Superseded,
    /// Applied (or stale) but the status update failed: retried.
    StatusFailed,
    /// The read model write failed: retried.
    ApplyFailed,
    /// Unparseable or invalid: reported failed until the DLQ takes it.
    Poison,
}

impl Disposition {
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Disposition::StatusFailed | Disposition::ApplyFailed | Disposition::Poison
        )
    }

    /// Whether the read model is known to hold this command's key or a newer one.
    pub fn settles_read_model(self) -> bool {
        matches!(
            self,
            Disposition::Written
                | Disposition::Duplicate
                | Disposition::Superseded
                | Disposition::StatusFailed
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Written => "written",
            Disposition::Duplicate => "duplicate",
            Disposition::Superseded => "superseded",
            Disposition::StatusFailed => "status_failed",
            Disposition::ApplyFailed => "apply_failed",
            Disposition::Poison => "poison",
        }
    }
}

/// The Lambda handler: `lambda_runtime::run(service_fn(|e| projector::handler(&state, e)))`.
pub async fn handler(
    state: &ProjectorState,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    platform::metrics::cold_start();
    let before = writes::total();
    let response = handle_batch(state, event.payload).await;
    writes::report_since(before);
    Ok(response)
}

/// Applies a batch; the response names exactly the messages to retry.
///
/// Currencies are processed concurrently; the messages of one currency one after another, newest key
/// first. The newest one's transaction also marks the older ones `superseded` (one request for all of
/// them); when it cannot (an older status refuses), each older one is marked alone once the read model
/// is known to hold a newer key, without trying the read model. So commands of one currency in one
/// batch never contend on its item, and each costs the projector at most one write request.
pub async fn handle_batch(state: &ProjectorState, event: SqsEvent) -> SqsBatchResponse {
    let total = event.records.len();
    let mut groups: HashMap<CurrencyCode, Vec<(SqsMessage, CommandMessage)>> = HashMap::new();
    let mut tasks = Vec::new();
    for message in event.records {
        match CommandMessage::parse(message.body.as_deref().unwrap_or("")) {
            Ok(command) => groups
                .entry(command.code)
                .or_default()
                .push((message, command)),
            Err(reason) => {
                let ids = vec![message.message_id.clone().unwrap_or_default()];
                let state = state.clone();
                // The message's own span: its lines carry the trace id of the request that enqueued it.
                let span = message_span(&message);
                let task = tokio::spawn(
                    async move { vec![poison(&state, &message, &reason).await] }.instrument(span),
                );
                tasks.push((ids, task));
            }
        }
    }
    for (_, mut group) in groups {
        // Newest first; copies of one command side by side.
        group.sort_by(|(_, a), (_, b)| {
            b.sequence
                .cmp(&a.sequence)
                .then_with(|| a.command_id.cmp(&b.command_id))
        });
        let ids = group
            .iter()
            .map(|(message, _)| message.message_id.clone().unwrap_or_default())
            .collect();
        let state = state.clone();
        tasks.push((
            ids,
            // In the invocation's span, so each message's span (and its lines) keeps the request id.
            tokio::spawn(async move { process_currency(&state, group).await }.in_current_span()),
        ));
    }
    let mut response = SqsBatchResponse::default();
    for (message_ids, task) in tasks {
        let failed: Vec<bool> = match task.await {
            Ok(dispositions) => dispositions.iter().map(|d| d.is_failure()).collect(),
            Err(e) => {
                tracing::error!(?message_ids, error = %e, "message task panicked");
                vec![true; message_ids.len()]
            }
        };
        for (message_id, failed) in message_ids.into_iter().zip(failed) {
            if failed {
                // An empty id (no messageId in the event) makes Lambda retry the whole batch: safe.
                response.add_failure(message_id);
            }
        }
    }
    tracing::info!(
        messages = total,
        failed = response.batch_item_failures.len(),
        "batch done"
    );
    response
}

/// One currency's messages of a batch, newest first (see [`handle_batch`]).
async fn process_currency(
    state: &ProjectorState,
    group: Vec<(SqsMessage, CommandMessage)>,
) -> Vec<Disposition> {
    // The older commands, each once: marked `superseded` in the newest one's transaction when it writes.
    let mut overtaken: Vec<String> = Vec::new();
    if let Some((_, newest)) = group.first() {
        for (_, command) in &group[1..] {
            if command.command_id != newest.command_id && !overtaken.contains(&command.command_id) {
                overtaken.push(command.command_id.clone());
            }
        }
    }
    let mut dispositions = Vec::with_capacity(group.len());
    // The last message handled (command id, disposition); whether the read model is known to hold a key
    // at least as new as every message still to come; whether the older ones' statuses are marked.
    let mut previous: Option<(String, Disposition)> = None;
    let mut settled = false;
    let mut marked = false;
    for (message, command) in group {
        let span = message_span(&message);
        let disposition = match &previous {
            // The same command twice in one batch: its first copy decided.
            Some((id, first)) if *id == command.command_id => {
                copy(&message, &command, *first).instrument(span).await
            }
            // Marked in the newest one's transaction: nothing left to write.
            _ if marked => span
                .in_scope(|| settle_status(&message, &command, Disposition::Superseded, Ok(true))),
            _ if settled => {
                overtaken_alone(state, &message, &command)
                    .instrument(span)
                    .await
            }
            None => {
                let (disposition, older_marked) = apply(state, &message, &command, &overtaken)
                    .instrument(span)
                    .await;
                marked = older_marked;
                disposition
            }
            Some(_) => {
                apply(state, &message, &command, &[])
                    .instrument(span)
                    .await
                    .0
            }
        };
        settled |= disposition.settles_read_model();
        previous = Some((command.command_id.clone(), disposition));
        dispositions.push(disposition);
    }
    dispositions
}

/// A span for one message: `message_id`, and `xrayTraceId` from the `AWSTraceHeader` system attribute
/// when the sender propagated one (see `store::sqs`), overriding the invocation's own trace id.
fn message_span(message: &SqsMessage) -> tracing::Span {
    let message_id = message.message_id.as_deref().unwrap_or("");
    match message.attributes.get("AWSTraceHeader") {
        Some(header) => tracing::info_span!("sqs_message", message_id, xrayTraceId = %header),
        None => tracing::info_span!("sqs_message", message_id),
    }
}

fn receive_count(message: &SqsMessage) -> u32 {
    message
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

/// The `command_id` of a body that did not validate, if it still names a plausible one.
fn salvage_command_id(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    value
        .get("command_id")?
        .as_str()
        .filter(|id| domain::valid_command_id(id))
        .map(str::to_owned)
}

/// Processes one message; never panics, never returns early without logging its outcome.
pub async fn process(state: &ProjectorState, message: &SqsMessage) -> Disposition {
    match CommandMessage::parse(message.body.as_deref().unwrap_or("")) {
        Ok(command) => apply(state, message, &command, &[]).await.0,
        Err(reason) => poison(state, message, &reason).await,
    }
}

/// A message whose body did not parse or validate.
async fn poison(state: &ProjectorState, message: &SqsMessage, reason: &str) -> Disposition {
    let message_id = message.message_id.as_deref().unwrap_or("");
    let receives = receive_count(message);
    let last_receive = receives >= state.max_receive_count;
    let body = message.body.as_deref().unwrap_or("");
    let at = money::record::format_time(OffsetDateTime::now_utc());
    let command_id = salvage_command_id(body);
    let rejected = match &command_id {
        Some(id) => state
            .commands
            .mark_rejected(id, &format!("poison message: {reason}"), &at)
            .await
            .map_err(|e| e.to_string()),
        None => Ok(false),
    };
    tracing::warn!(
        message_id,
        command_id = command_id.as_deref().unwrap_or(""),
        receives,
        outcome = Disposition::Poison.as_str(),
        %reason,
        status_update = ?rejected,
        "poison message: failing it until the DLQ takes it"
    );
    if receives == 1 {
        platform::metrics::count("CommandsRejected", 1.0);
    }
    if last_receive {
        platform::metrics::count("PoisonMessages", 1.0);
    }
    Disposition::Poison
}

/// A second copy of a command in the same batch: no request; it shares the first copy's fate (a
/// failed first copy fails this one too, so both come back).
async fn copy(message: &SqsMessage, command: &CommandMessage, first: Disposition) -> Disposition {
    let disposition = if first.is_failure() {
        first
    } else {
        Disposition::Duplicate
    };
    tracing::info!(
        message_id = message.message_id.as_deref().unwrap_or(""),
        command_id = %command.command_id,
        code = %command.code,
        sequence = command.sequence,
        operation = command.operation.as_str(),
        receives = receive_count(message),
        outcome = disposition.as_str(),
        status_changed = false,
        "command projected (another copy of it in this batch)"
    );
    disposition
}

/// A command older than one of the same batch already settled in the read model: superseded without
/// trying the read model, its status mark is its only write.
async fn overtaken_alone(
    state: &ProjectorState,
    message: &SqsMessage,
    command: &CommandMessage,
) -> Disposition {
    let at = money::record::format_time(OffsetDateTime::now_utc());
    let status = state
        .commands
        .mark_applied(&command.command_id, Outcome::Superseded, &at)
        .await;
    settle_status(message, command, Disposition::Superseded, status)
}

/// Applies a parsed command to the read model and marks its status (and, when it writes, those of the
/// `overtaken` commands where the store can: the second value says whether it did).
async fn apply(
    state: &ProjectorState,
    message: &SqsMessage,
    command: &CommandMessage,
    overtaken: &[String],
) -> (Disposition, bool) {
    let message_id = message.message_id.as_deref().unwrap_or("");
    let receives = receive_count(message);
    let last_receive = receives >= state.max_receive_count;
    let now = OffsetDateTime::now_utc();
    let at = money::record::format_time(now);
    let applied = state
        .currencies
        .apply_and_mark_overtaking(command, now, overtaken)
        .await;
    let (disposition, marked, older_marked) = match applied {
        Ok((ApplyOutcome::Written, marked, older)) => (Disposition::Written, marked, older),
        Ok((ApplyOutcome::Stale { current }, ..)) if current == command.sequence => {
            (Disposition::Duplicate, false, false)
        }
        Ok((ApplyOutcome::Stale { .. } | ApplyOutcome::Tied, ..)) => {
            (Disposition::Superseded, false, false)
        }
        Err(e) => {
            let mut rejected = None;
            if last_receive {
                let reason = format!("not applied after {receives} attempts: {e}");
                rejected = Some(
                    state
                        .commands
                        .mark_rejected(&command.command_id, &reason, &at)
                        .await
                        .map_err(|e| e.to_string()),
                );
            }
            tracing::warn!(
                message_id,
                command_id = %command.command_id,
                code = %command.code,
                sequence = command.sequence,
                receives,
                outcome = Disposition::ApplyFailed.as_str(),
                error = %e,
                last_receive,
                status_update = ?rejected,
                "applying the command failed; the message will be retried"
            );
            if last_receive {
                platform::metrics::count("CommandsRejected", 1.0);
                platform::metrics::count("PoisonMessages", 1.0);
            }
            return (Disposition::ApplyFailed, false);
        }
    };
    // A duplicate is our own earlier delivery's write (whose status update may have failed): `written`.
    let applied = match disposition {
        Disposition::Superseded => Outcome::Superseded,
        _ => Outcome::Written,
    };
    let status = if marked {
        Ok(true)
    } else {
        state
            .commands
            .mark_applied(&command.command_id, applied, &at)
            .await
    };
    (
        settle_status(message, command, disposition, status),
        older_marked,
    )
}

/// Logs how a command whose read model write is settled ended, given its status update's result.
fn settle_status(
    message: &SqsMessage,
    command: &CommandMessage,
    disposition: Disposition,
    status: Result<bool, crate::store::StoreError>,
) -> Disposition {
    let message_id = message.message_id.as_deref().unwrap_or("");
    let receives = receive_count(message);
    match status {
        Ok(changed) => {
            tracing::info!(
                message_id,
                command_id = %command.command_id,
                code = %command.code,
                sequence = command.sequence,
                operation = command.operation.as_str(),
                receives,
                outcome = disposition.as_str(),
                status_changed = changed,
                "command projected"
            );
            if disposition != Disposition::Duplicate {
                platform::metrics::count("CommandsApplied", 1.0);
            }
            disposition
        }
        Err(e) => {
            tracing::warn!(
                message_id,
                command_id = %command.command_id,
                code = %command.code,
                sequence = command.sequence,
                receives,
                outcome = Disposition::StatusFailed.as_str(),
                error = %e,
                "read model written but the command status was not; retrying the message"
            );
            Disposition::StatusFailed
        }
    }
}
