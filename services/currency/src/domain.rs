//! Currency commands: what clients send, what goes on the queue, and the status clients poll.
//!
//! ## Ordering model (standard SQS queue + per-currency versions)
//! Every accepted command gets an **order key** from its acceptance time ([`OrderKeys`]): the write
//! function's clock in microseconds since the Unix epoch, made strictly increasing within the process.
//! It is the command's `sequence` and, once applied, the currency's `version`. The projector writes the
//! read model only when the command's key is greater than the stored `version`, so duplicates and late
//! (reordered) deliveries are no-ops and the final state is always that of the command accepted last:
//! last writer wins by acceptance time, as in DynamoDB global tables. Taking the key costs no request
//! (there is no counter to contend on), so accepting a command is one conditional put.
//!
//! **Clock assumption.** Lambda hosts are time-synchronised (Amazon Time Sync, typically well under a
//! millisecond apart). Two commands to the same currency accepted by different environments less than
//! the clock skew apart may be ordered by the clocks rather than by arrival; commands further apart, and
//! any two accepted by one environment, keep their order. Two environments can stamp the same key for the
//! same currency (the same microsecond): the first one projected stays and the other is `superseded`
//! (a version never changes state once written, so ETags stay strong validators).
//!
//! For the order to hold whatever the delivery order, commands carry **full state** and do not depend on
//! the current state: `POST /currencies` and `PUT /currencies/{code}` are both "set this currency to
//! exactly this", `DELETE` writes a tombstone at its key.

use std::sync::atomic::{AtomicU64, Ordering};

use money::{CurrencyCode, CurrencyRecord, Decimal, MoneyError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::error::FieldError;

/// Largest request body accepted by the write routes.
pub const REQUEST_MAX_BYTES: usize = 4 * 1024;
/// Longest client-supplied command id.
pub const COMMAND_ID_MAX_CHARS: usize = 128;

/// The largest order key: 2^53 − 1, the largest integer every JSON parser reads exactly (year 2255 in
/// microseconds).
pub const MAX_ORDER_KEY: u64 = (1 << 53) - 1;

/// Why no order key could be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OrderKeyError {
    /// The clock reads before 1970 or after [`MAX_ORDER_KEY`] microseconds.
    #[error("the clock is outside the range of order keys")]
    ClockOutOfRange,
}

/// Acceptance-time order keys: microseconds since the Unix epoch, strictly increasing per instance
/// (when the clock has not moved past the last key, or went back, the next key is the last one + 1).
/// The write function uses one per process ([`OrderKeys::global`]).
#[derive(Debug, Default)]
pub struct OrderKeys {
    last: AtomicU64,
}

impl OrderKeys {
    pub const fn new() -> Self {
        Self {
            last: AtomicU64::new(0),
        }
    }

    /// This process's keys.
    pub fn global() -> &'static OrderKeys {
        static KEYS: OrderKeys = OrderKeys::new();
        &KEYS
    }

    /// The key of a command accepted at `now`: greater than every key this instance gave before.
    pub fn next(&self, now: time::OffsetDateTime) -> Result<u64, OrderKeyError> {
        let micros = u64::try_from(now.unix_timestamp_nanos() / 1_000)
            .ok()
            .filter(|m| *m <= MAX_ORDER_KEY)
            .ok_or(OrderKeyError::ClockOutOfRange)?;
        let next = |last: u64| micros.max(last.saturating_add(1));
        self.last
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |last| {
                Some(next(last)).filter(|key| *key <= MAX_ORDER_KEY)
            })
            .map(next)
            .map_err(|_| OrderKeyError::ClockOutOfRange)
    }
}

/// `POST /currencies`: set a currency (create it, or replace it if it exists).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "EUR", "name": "Euro", "minor_units": 2, "rate_to_base": "1.0825"}))]
pub struct NewCurrency {
    /// ISO 4217 alphabetic code (case-insensitive; stored upper case).
    #[schema(schema_with = openapi_rules::code)]
    pub code: String,
    /// Display name, 1–64 characters.
    #[schema(schema_with = openapi_rules::name)]
    pub name: String,
    /// Minor-unit digits; must equal ISO 4217's (2 for EUR, 0 for JPY, 3 for KWD).
    #[schema(schema_with = openapi_rules::minor_units)]
    pub minor_units: i64,
    /// Value of one unit in the base currency, as a decimal **string** (see `CurrencyBody`).
    #[schema(schema_with = openapi_rules::rate)]
    pub rate_to_base: serde_json::Value,
    /// Client-chosen command id (or send `Idempotency-Key`).
    #[serde(default)]
    #[schema(schema_with = openapi_rules::command_id)]
    pub command_id: Option<String>,
}

impl NewCurrency {
    /// The code and the rest as a [`CurrencyBody`].
    pub fn split(self) -> (String, CurrencyBody) {
        (
            self.code,
            CurrencyBody {
                name: self.name,
                minor_units: self.minor_units,
                rate_to_base: self.rate_to_base,
                command_id: self.command_id,
            },
        )
    }
}

/// `PUT /currencies/{code}`: the currency's full new state.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Euro", "minor_units": 2, "rate_to_base": "1.0831", "command_id": "eur-rate-2026-11-24"}))]
pub struct CurrencyBody {
    /// Display name, 1–64 characters.
    #[schema(schema_with = openapi_rules::name)]
    pub name: String,
    /// Minor-unit digits; must equal ISO 4217's (2 for EUR, 0 for JPY, 3 for KWD).
    #[schema(schema_with = openapi_rules::minor_units)]
    pub minor_units: i64,
    /// Value of one unit in the base currency, as a decimal **string**: up to 10 integer and 12
    /// fraction digits, greater than zero.
    #[schema(schema_with = openapi_rules::rate)]
    pub rate_to_base: serde_json::Value,
    /// Client-chosen command id (or send `Idempotency-Key`): retries with the same id and body get
    /// the same 202; the same id with another body is refused (409).
    #[serde(default)]
    #[schema(schema_with = openapi_rules::command_id)]
    pub command_id: Option<String>,
}

/// Optional body of `DELETE /currencies/{code}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteBody {
    #[serde(default)]
    #[schema(schema_with = openapi_rules::command_id)]
    pub command_id: Option<String>,
}

/// A path or body currency code in the document: an active ISO 4217 code (the service also takes lower case).
pub struct CodeDoc;

impl utoipa::PartialSchema for CodeDoc {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        platform::schema::schema(openapi_rules::code())
    }
}

impl ToSchema for CodeDoc {
    fn name() -> std::borrow::Cow<'static, str> {
        "CurrencyCode".into()
    }
}

/// The rules of the write API's fields, as schemas (see `platform::schema`).
pub(crate) mod openapi_rules {
    use platform::schema::{
        CONTROL_CLASS, END, RULE_COMMAND_ID_MATCHES_KEY, RULE_ISO_MINOR_UNITS,
        RULE_ONE_REQUEST_PER_KEY, Text, with_rules,
    };
    use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

    /// A command id: 1–128 of `A–Z a–z 0–9 - _ . :`.
    pub const COMMAND_ID_PATTERN: &str = "^[A-Za-z0-9_.:-]+(?![\\s\\S])";

    pub fn code() -> Object {
        platform::schema::currency_code(
            money::CurrencyCode::all().map(|c| (c.as_str(), c.minor_units())),
            "An active ISO 4217 code (the service also takes it in lower case)",
        )
    }

    pub fn name() -> Object {
        Text {
            min: Some(1),
            max: Some(money::record::NAME_MAX_CHARS),
            pattern: Some(format!(
                "^(?!\\s)(?![\\s\\S]*\\s{END})[^{CONTROL_CLASS}{}]+{END}",
                platform::schema::REFUSED_CLASS
            )),
            description: "Display name, 1–64 characters, no leading or trailing whitespace, no control, \
                          bidirectional-control or zero-width characters",
            example: Some("Euro"),
            ..Text::default()
        }
        .build()
    }

    pub fn minor_units() -> Object {
        let builder = ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::Integer))
            .minimum(Some(0))
            .maximum(Some(4))
            .description(Some(
                "Minor-unit digits; must equal ISO 4217's for the code (2 for EUR, 0 for JPY, 3 for KWD: the \
                 code schema's `x-minor-units`)",
            ));
        with_rules(builder, &[RULE_ISO_MINOR_UNITS.to_owned()]).build()
    }

    pub fn rate() -> Object {
        Text {
            min: Some(1),
            pattern: Some(format!(
                "^(?!0*(?:\\.0*)?{END})0*[0-9]{{1,10}}(?:\\.[0-9]{{1,12}})?{END}"
            )),
            description: "Value of one unit in the base currency, as a decimal string: digits, an optional \
                          fraction; at most 10 significant integer and 12 fraction digits; greater than zero",
            example: Some("1.0825"),
            ..Text::default()
        }
        .build()
    }

    pub fn command_id() -> Object {
        Text {
            min: Some(1),
            max: Some(super::COMMAND_ID_MAX_CHARS),
            pattern: Some(COMMAND_ID_PATTERN.to_owned()),
            description: "Client-chosen command id (or send `Idempotency-Key`; when both are sent they must be \
                          equal): 1–128 of `A–Z a–z 0–9 - _ . :`. Retries with the same id and body get the same \
                          202; the same id with another body is refused (409).",
            rules: vec![
                RULE_COMMAND_ID_MATCHES_KEY.to_owned(),
                RULE_ONE_REQUEST_PER_KEY.to_owned(),
            ],
            nullable: true,
            ..Text::default()
        }
        .build()
    }
}

/// What a command asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// `POST /currencies`.
    Create,
    /// `PUT /currencies/{code}`.
    Replace,
    /// `DELETE /currencies/{code}`.
    Delete,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Replace => "replace",
            Operation::Delete => "delete",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "create" => Some(Operation::Create),
            "replace" => Some(Operation::Replace),
            "delete" => Some(Operation::Delete),
            _ => None,
        }
    }
}

/// The validated new state of a currency (create/replace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyState {
    pub name: String,
    pub minor_units: u8,
    pub rate_to_base: Decimal,
}

/// A validated command, before it has an order key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    pub operation: Operation,
    pub code: CurrencyCode,
    /// `None` for deletes.
    pub state: Option<CurrencyState>,
}

impl Intent {
    /// SHA-256 over the canonical command (operation, code, state): equal for equal requests, whatever
    /// the JSON spacing, key order, code case or rate spelling (`"1.50"` = `"1.5"`).
    pub fn fingerprint(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(self.operation.as_str());
        hash.update([0]);
        hash.update(self.code.as_str());
        if let Some(state) = &self.state {
            hash.update([0]);
            hash.update(state.name.as_bytes());
            hash.update([0, state.minor_units, 0]);
            hash.update(state.rate_to_base.normalize().to_string());
        }
        hex::encode(hash.finalize())
    }
}

fn money_field(field: &str, err: &MoneyError) -> FieldError {
    FieldError::new(field, err.to_string())
}

/// Validates a currency's new state, collecting every invalid field.
pub fn validate_state(
    code: Result<CurrencyCode, FieldError>,
    body: &CurrencyBody,
) -> Result<(CurrencyCode, CurrencyState), Vec<FieldError>> {
    let mut errors = Vec::new();
    let code = code.map_err(|e| errors.push(e)).ok();
    if let Err(e) = money::record::check_name(&body.name) {
        errors.push(FieldError::new(
            "name",
            match e {
                MoneyError::InvalidRecord { reason, .. } => reason,
                other => other.to_string(),
            },
        ));
    } else if let Some(message) = platform::text::check(&body.name) {
        errors.push(FieldError::new("name", message));
    }
    let minor_units = match u8::try_from(body.minor_units) {
        Ok(digits) if digits <= 4 => Some(digits),
        _ => {
            errors.push(FieldError::new(
                "minor_units",
                "must be an integer from 0 to 4",
            ));
            None
        }
    };
    if let (Some(code), Some(digits)) = (code, minor_units) {
        if let Err(e) = money::record::check_minor_units(code, digits) {
            errors.push(money_field("minor_units", &e));
        }
    }
    let rate = match &body.rate_to_base {
        serde_json::Value::String(raw) => money::parse_rate(raw)
            .map_err(|e| errors.push(money_field("rate_to_base", &e)))
            .ok(),
        _ => {
            errors.push(FieldError::new(
                "rate_to_base",
                "must be a decimal string such as \"1.0825\" (numbers lose precision)",
            ));
            None
        }
    };
    match (code, minor_units, rate) {
        (Some(code), Some(minor_units), Some(rate_to_base)) if errors.is_empty() => Ok((
            code,
            CurrencyState {
                name: body.name.clone(),
                minor_units,
                rate_to_base,
            },
        )),
        _ => Err(errors),
    }
}

/// A currency code from a body field or the path.
pub fn parse_code(field: &str, raw: &str) -> Result<CurrencyCode, FieldError> {
    CurrencyCode::parse(raw).map_err(|e| money_field(field, &e))
}

/// A command id: 1–128 of `A–Z a–z 0–9 - _ . :` (a safe URL path segment).
pub fn valid_command_id(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= COMMAND_ID_MAX_CHARS
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The command id from `Idempotency-Key` and/or the body's `command_id` (they must agree), or a new one.
pub fn command_id(
    header: Option<&str>,
    body: Option<&str>,
) -> Result<(String, bool), Vec<FieldError>> {
    let chosen = match (header, body) {
        (Some(h), Some(b)) if h != b => {
            return Err(vec![FieldError::new(
                "command_id",
                "differs from the `Idempotency-Key` header; send one or make them equal",
            )]);
        }
        (Some(id), _) | (None, Some(id)) => Some(id),
        (None, None) => None,
    };
    match chosen {
        Some(id) if valid_command_id(id) => Ok((id.to_owned(), true)),
        Some(_) => Err(vec![FieldError::new(
            "command_id",
            "must be 1-128 characters of A-Z a-z 0-9 - _ . :",
        )]),
        None => Ok((uuid::Uuid::new_v4().to_string(), false)),
    }
}

/// The message the write function puts on the queue and the projector applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandMessage {
    pub command_id: String,
    pub operation: Operation,
    pub code: CurrencyCode,
    /// The command's order key ([`OrderKeys`]): the currency's version after this command.
    pub sequence: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minor_units: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_to_base: Option<Decimal>,
}

impl CommandMessage {
    pub fn new(command_id: String, intent: &Intent, sequence: u64) -> Self {
        let state = intent.state.as_ref();
        Self {
            command_id,
            operation: intent.operation,
            code: intent.code,
            sequence,
            name: state.map(|s| s.name.clone()),
            minor_units: state.map(|s| s.minor_units),
            rate_to_base: state.map(|s| s.rate_to_base),
        }
    }

    pub fn to_json(&self) -> String {
        // Plain strings, integers and a decimal: serialisation cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses and validates a queue message body. Any error makes the message poison.
    pub fn parse(body: &str) -> Result<Self, String> {
        let message: CommandMessage =
            serde_json::from_str(body).map_err(|e| format!("unreadable command: {e}"))?;
        message.validate()?;
        Ok(message)
    }

    fn validate(&self) -> Result<(), String> {
        if !valid_command_id(&self.command_id) {
            return Err("invalid command_id".into());
        }
        if self.sequence == 0 || self.sequence > MAX_ORDER_KEY {
            return Err(format!("sequence must be from 1 to {MAX_ORDER_KEY}"));
        }
        match (self.operation, self.state()) {
            (Operation::Delete, _) => Ok(()),
            (_, Err(e)) => Err(e),
            (_, Ok(_)) => Ok(()),
        }
    }

    /// The record this command sets (create/replace), validated like the write API does.
    pub fn record(&self, at: time::OffsetDateTime) -> Result<CurrencyRecord, String> {
        let (name, minor_units, rate) = self.state()?;
        CurrencyRecord::new(self.code, name, minor_units, rate, self.sequence, at)
            .map_err(|e| e.to_string())
    }

    fn state(&self) -> Result<(String, u8, Decimal), String> {
        match (&self.name, self.minor_units, self.rate_to_base) {
            (Some(name), Some(minor_units), Some(rate)) => {
                money::record::check_name(name).map_err(|e| e.to_string())?;
                money::record::check_minor_units(self.code, minor_units)
                    .map_err(|e| e.to_string())?;
                money::rate::check_rate(rate).map_err(|e| e.to_string())?;
                Ok((name.clone(), minor_units, rate))
            }
            _ => Err(format!(
                "{} needs name, minor_units and rate_to_base",
                self.operation.as_str()
            )),
        }
    }
}

/// Where a command is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Validated, stored and queued; not yet projected.
    Accepted,
    /// Projected: the read model holds this command's state or a newer one (`outcome`).
    Applied,
    /// Will never be applied (`reason` says why).
    Rejected,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Accepted => "accepted",
            Status::Applied => "applied",
            Status::Rejected => "rejected",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "accepted" => Some(Status::Accepted),
            "applied" => Some(Status::Applied),
            "rejected" => Some(Status::Rejected),
            _ => None,
        }
    }
}

/// How an applied command landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The read model moved to this command's version.
    Written,
    /// When the command was settled, a newer command of the same currency was already in place: it
    /// arrived late and changed nothing, or (after a failure between its write and its status update)
    /// it was written once and overwritten before the retry.
    Superseded,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Written => "written",
            Outcome::Superseded => "superseded",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "written" => Some(Outcome::Written),
            "superseded" => Some(Outcome::Superseded),
            _ => None,
        }
    }
}

/// A command's stored status (the `COMMANDS_TABLE` item).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRecord {
    pub id: String,
    pub status: Status,
    pub operation: Operation,
    pub code: CurrencyCode,
    /// The command's order key ([`CommandMessage::sequence`]).
    pub sequence: u64,
    /// [`Intent::fingerprint`] of the request (idempotency check).
    pub fingerprint: String,
    /// The queue message, kept so that a retry re-sends exactly the same one.
    pub message: String,
    pub requested_by: String,
    pub reason: Option<String>,
    pub outcome: Option<Outcome>,
    pub created_at: String,
    pub updated_at: String,
    /// Unix seconds after which DynamoDB TTL may delete the status.
    pub expires_at: i64,
}

/// `GET /commands/{id}` and the 202 body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "eur-rate-2026-11-24", "status": "applied", "operation": "replace", "code": "EUR",
    "sequence": 1_795_479_302_118_403_u64, "outcome": "written", "reason": null,
    "created_at": "2026-11-24T00:15:02.118403Z", "updated_at": "2026-11-24T00:15:02.41Z"
}))]
pub struct CommandView {
    pub id: String,
    pub status: Status,
    pub operation: Operation,
    #[schema(value_type = String, example = "EUR")]
    pub code: CurrencyCode,
    /// The command's order key: microseconds since the Unix epoch when it was accepted (strictly
    /// increasing per currency in acceptance order); the currency's `version` once applied.
    pub sequence: u64,
    /// For `applied`.
    pub outcome: Option<Outcome>,
    /// For `rejected`.
    pub reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&CommandRecord> for CommandView {
    fn from(record: &CommandRecord) -> Self {
        Self {
            id: record.id.clone(),
            status: record.status,
            operation: record.operation,
            code: record.code,
            sequence: record.sequence,
            outcome: record.outcome,
            reason: record.reason.clone(),
            created_at: record.created_at.clone(),
            updated_at: record.updated_at.clone(),
        }
    }
}

/// A currency as the read API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"code": "EUR", "name": "Euro", "minor_units": 2, "rate_to_base": "1.0825", "version": 1_795_479_302_118_403_u64, "updated_at": "2026-11-24T00:15:02.41Z"}))]
pub struct CurrencyView {
    #[schema(value_type = String)]
    pub code: CurrencyCode,
    pub name: String,
    pub minor_units: u8,
    /// Decimal string: one unit of this currency in base-currency units.
    #[schema(value_type = String)]
    pub rate_to_base: Decimal,
    /// The order key of the command that set this state (`sequence` of its command): increases with
    /// every applied command; the `ETag` is derived from it.
    pub version: u64,
    pub updated_at: String,
}

impl From<&CurrencyRecord> for CurrencyView {
    fn from(record: &CurrencyRecord) -> Self {
        Self {
            code: record.code,
            name: record.name.clone(),
            minor_units: record.minor_units,
            rate_to_base: record.rate_to_base.normalize(),
            version: record.version,
            updated_at: money::record::format_time(record.updated_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use time::{Duration, OffsetDateTime};

    use super::{MAX_ORDER_KEY, OrderKeyError, OrderKeys};

    fn at(micros: i128) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(micros * 1_000).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn an_order_key_is_the_acceptance_time_in_microseconds() {
        let keys = OrderKeys::new();
        assert_eq!(
            keys.next(at(1_795_479_302_118_403)),
            Ok(1_795_479_302_118_403)
        );
        assert_eq!(
            keys.next(at(1_795_479_302_500_000)),
            Ok(1_795_479_302_500_000)
        );
    }

    #[test]
    fn commands_accepted_in_order_get_increasing_keys_whatever_the_clock_does() {
        let keys = OrderKeys::new();
        let start = OffsetDateTime::now_utc();
        // The same microsecond, a clock stepped back, then forward again.
        let clock = [
            start,
            start,
            start,
            start - Duration::seconds(2),
            start - Duration::microseconds(1),
            start + Duration::microseconds(1),
            start + Duration::milliseconds(5),
        ];
        let taken: Vec<u64> = clock
            .iter()
            .map(|now| keys.next(*now).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        assert!(
            taken.windows(2).all(|pair| pair[0] < pair[1]),
            "not strictly increasing: {taken:?}"
        );
        let micros =
            |t: OffsetDateTime| u64::try_from(t.unix_timestamp_nanos() / 1_000).unwrap_or(0);
        assert_eq!(taken[0], micros(start));
        assert_eq!(
            taken[6],
            micros(start + Duration::milliseconds(5)),
            "back on the clock"
        );
    }

    #[test]
    fn concurrent_commands_get_distinct_keys() {
        let keys = std::sync::Arc::new(OrderKeys::new());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let keys = keys.clone();
                std::thread::spawn(move || {
                    (0..500)
                        .map(|_| keys.next(OffsetDateTime::now_utc()))
                        .collect::<Result<Vec<u64>, _>>()
                })
            })
            .collect();
        let mut all = Vec::new();
        for thread in threads {
            let taken = thread
                .join()
                .unwrap_or_else(|_| panic!("thread panicked"))
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(taken.windows(2).all(|pair| pair[0] < pair[1]));
            all.extend(taken);
        }
        let count = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), count, "a key was given twice");
    }

    #[test]
    fn keys_stay_exact_json_numbers() {
        let keys = OrderKeys::new();
        let max = i128::from(MAX_ORDER_KEY);
        assert_eq!(keys.next(at(max)), Ok(MAX_ORDER_KEY));
        assert_eq!(
            keys.next(at(max)),
            Err(OrderKeyError::ClockOutOfRange),
            "no room for + 1"
        );
        assert_eq!(
            OrderKeys::new().next(at(max + 1)),
            Err(OrderKeyError::ClockOutOfRange)
        );
        assert_eq!(
            OrderKeys::new().next(at(-1)),
            Err(OrderKeyError::ClockOutOfRange)
        );
    }
}
