//! The projector: applies a batch of queued commands to the read model.
//!
//! Per message (concurrently within a batch):
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
//!    ([`CurrencyWriter::apply_and_mark`]: one DynamoDB transaction), so an accepted command costs
//!    the projector one write. Any store failure reports the message failed so only it is retried; on the last
//!    receive (`ApproximateReceiveCount` ≥ `COMMANDS_MAX_RECEIVE_COUNT`, the template's
//!    maxReceiveCount) the command is also marked `rejected` because the DLQ will take the message.
//!
//! The response lists exactly the failed message ids (`batchItemFailures`; the event source mapping
//! has `ReportBatchItemFailures`). Every message logs one line with message id, command id and outcome.

use std::sync::Arc;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::LambdaEvent;
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
    /// The read model already had exactly this version: a redelivery of a command already written.
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
pub async fn handle_batch(state: &ProjectorState, event: SqsEvent) -> SqsBatchResponse {
    let tasks: Vec<_> = event
        .records
        .into_iter()
        .map(|message| {
            let id = message.message_id.clone().unwrap_or_default();
            let state = state.clone();
            // The message's own span: its lines carry the trace id of the request that enqueued it.
            let span = message_span(&message);
            let task =
                tokio::spawn(async move { process(&state, &message).await }.instrument(span));
            (id, task)
        })
        .collect();
    let mut response = SqsBatchResponse::default();
    let total = tasks.len();
    for (message_id, task) in tasks {
        let failed = match task.await {
            Ok(disposition) => disposition.is_failure(),
            Err(e) => {
                tracing::error!(%message_id, error = %e, "message task panicked");
                true
            }
        };
        if failed {
            // An empty id (no messageId in the event) makes Lambda retry the whole batch: safe.
            response.add_failure(message_id);
        }
    }
    tracing::info!(
        messages = total,
        failed = response.batch_item_failures.len(),
        "batch done"
    );
    response
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
    let message_id = message.message_id.as_deref().unwrap_or("");
    let receives = receive_count(message);
    let last_receive = receives >= state.max_receive_count;
    let body = message.body.as_deref().unwrap_or("");
    let now = OffsetDateTime::now_utc();
    let at = money::record::format_time(now);

    let command = match CommandMessage::parse(body) {
        Ok(command) => command,
        Err(reason) => {
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
            return Disposition::Poison;
        }
    };

    let (disposition, marked) = match state.currencies.apply_and_mark(&command, now).await {
        Ok((ApplyOutcome::Written, marked)) => (Disposition::Written, marked),
        Ok((ApplyOutcome::Stale { current }, _)) if current == command.sequence => {
            (Disposition::Duplicate, false)
        }
        Ok((ApplyOutcome::Stale { .. } | ApplyOutcome::Tied, _)) => {
            (Disposition::Superseded, false)
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
            return Disposition::ApplyFailed;
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
