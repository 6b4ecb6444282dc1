//! A moto server per test with the currencies and commands tables, the stores over them, and commands.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, KeyType};
use currency::domain::{CommandMessage, CommandRecord, CurrencyState, Intent, Operation, Status};
use currency::store::{CommandStore, CurrencyReader, DynamoCommandStore, DynamoCurrencies};
use money::{CurrencyRecord, Decimal};
use testkit::fixtures::code;
use testkit::moto::{Moto, unique_table};
use testkit::tables::create_table;
use time::OffsetDateTime;

pub struct Env {
    pub moto: Moto,
    pub currencies: DynamoCurrencies,
    pub commands: DynamoCommandStore,
    pub client: aws_sdk_dynamodb::Client,
    pub currencies_table: String,
}

impl Env {
    /// The raw read-model item of `currency`, as DynamoDB holds it (empty when there is none).
    pub async fn stored_currency(&self, currency: &str) -> HashMap<String, AttributeValue> {
        self.client
            .get_item()
            .table_name(&self.currencies_table)
            .set_key(Some(money::record::key(code(currency))))
            .send()
            .await
            .ok()
            .and_then(|o| o.item)
            .unwrap_or_default()
    }

    /// The command `id` as stored.
    pub async fn stored_command(&self, id: &str) -> CommandRecord {
        self.commands
            .get(id)
            .await
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("no command {id}"))
    }

    /// The read model's currencies, as reads list them.
    pub async fn listed(&self) -> Vec<CurrencyRecord> {
        self.currencies
            .list()
            .await
            .unwrap_or_else(|e| panic!("list: {e}"))
    }
}

/// The codes of `records`, in order.
pub fn codes(records: &[CurrencyRecord]) -> Vec<&str> {
    records.iter().map(|r| r.code.as_str()).collect()
}

pub async fn env() -> Env {
    let moto = Moto::start();
    let client = moto.client();
    let currencies_table = unique_table("currencies");
    let commands_table = unique_table("commands");
    create_table(&client, &currencies_table, &[("code", KeyType::Hash)]).await;
    create_table(&client, &commands_table, &[("id", KeyType::Hash)]).await;
    Env {
        // As the projector has it: statuses marked in the read model write's transaction.
        currencies: DynamoCurrencies::new(client.clone(), &currencies_table)
            .with_commands_table(&commands_table),
        commands: DynamoCommandStore::new(client.clone(), &commands_table),
        client,
        currencies_table,
        moto,
    }
}

pub fn upsert(id: &str, currency: &str, rate: &str, sequence: u64) -> CommandMessage {
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

pub fn delete(id: &str, currency: &str, sequence: u64) -> CommandMessage {
    let intent = Intent {
        operation: Operation::Delete,
        code: code(currency),
        state: None,
    };
    CommandMessage::new(id.to_owned(), &intent, sequence)
}

pub fn command_record(message: &CommandMessage) -> CommandRecord {
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

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// A string attribute of an item.
pub fn text<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}
