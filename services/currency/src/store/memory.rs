//! In-memory stores for tests, with fault injection.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use money::{CurrencyCode, CurrencyRecord};
use time::OffsetDateTime;

use super::{
    ApplyOutcome, CommandQueue, CommandStore, CurrencyReader, CurrencyWriter, Inserted, StoreError,
};
use crate::domain::{CommandMessage, CommandRecord, Operation, Outcome, Status};

#[derive(Debug, Clone)]
enum Entry {
    Live(CurrencyRecord),
    Tombstone { version: u64 },
}

impl Entry {
    fn version(&self) -> u64 {
        match self {
            Entry::Live(record) => record.version,
            Entry::Tombstone { version } => *version,
        }
    }
}

#[derive(Default)]
struct CurrenciesInner {
    entries: BTreeMap<CurrencyCode, Entry>,
    /// The command that wrote each entry (none for seeded ones).
    writers: HashMap<CurrencyCode, String>,
    /// Successful writes per (code, version): a double apply would show as a count of 2.
    writes: HashMap<(CurrencyCode, u64), u32>,
    /// Remaining injected failures of `apply` per code.
    failures: HashMap<CurrencyCode, u32>,
    lists: u32,
}

/// The read model in memory.
#[derive(Default)]
pub struct MemoryCurrencies {
    inner: Mutex<CurrenciesInner>,
}

impl MemoryCurrencies {
    pub fn new() -> Self {
        Self::default()
    }

    /// Seeds (or overwrites) a live record directly, as if projected.
    pub fn put(&self, record: CurrencyRecord) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.writers.remove(&record.code);
            inner.entries.insert(record.code, Entry::Live(record));
        }
    }

    /// The live record of `code`, if any.
    pub fn get(&self, code: CurrencyCode) -> Option<CurrencyRecord> {
        let inner = self.inner.lock().ok()?;
        match inner.entries.get(&code) {
            Some(Entry::Live(record)) => Some(record.clone()),
            _ => None,
        }
    }

    /// The stored version of `code`, live or tombstone.
    pub fn version(&self, code: CurrencyCode) -> Option<u64> {
        let inner = self.inner.lock().ok()?;
        inner.entries.get(&code).map(Entry::version)
    }

    /// The next `times` applies for `code` fail with [`StoreError::Unavailable`].
    pub fn fail_apply(&self, code: CurrencyCode, times: u32) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.failures.insert(code, times);
        }
    }

    /// How often each (code, version) was written; every value is 1 unless something double-applied.
    pub fn write_counts(&self) -> HashMap<(CurrencyCode, u64), u32> {
        self.inner
            .lock()
            .map(|i| i.writes.clone())
            .unwrap_or_default()
    }

    /// How many times [`CurrencyReader::list`] ran (to observe the read cache).
    pub fn list_calls(&self) -> u32 {
        self.inner.lock().map(|i| i.lists).unwrap_or_default()
    }
}

#[async_trait]
impl CurrencyReader for MemoryCurrencies {
    async fn list(&self) -> Result<Vec<CurrencyRecord>, StoreError> {
        let mut inner = platform::store::locked::<_, StoreError>(&self.inner)?;
        inner.lists += 1;
        Ok(inner
            .entries
            .values()
            .filter_map(|e| match e {
                Entry::Live(record) => Some(record.clone()),
                Entry::Tombstone { .. } => None,
            })
            .collect())
    }
}

#[async_trait]
impl CurrencyWriter for MemoryCurrencies {
    async fn apply(
        &self,
        message: &CommandMessage,
        at: OffsetDateTime,
    ) -> Result<ApplyOutcome, StoreError> {
        let mut inner = platform::store::locked::<_, StoreError>(&self.inner)?;
        if let Some(left) = inner.failures.get_mut(&message.code) {
            if *left > 0 {
                *left -= 1;
                return Err(StoreError::Unavailable("injected failure".into()));
            }
        }
        let current = inner.entries.get(&message.code).map(Entry::version);
        if let Some(current) = current.filter(|v| *v >= message.sequence) {
            let writer = inner.writers.get(&message.code);
            if current == message.sequence && writer.is_some_and(|w| *w != message.command_id) {
                return Ok(ApplyOutcome::Tied);
            }
            return Ok(ApplyOutcome::Stale { current });
        }
        let entry = match message.operation {
            Operation::Delete => Entry::Tombstone {
                version: message.sequence,
            },
            Operation::Create | Operation::Replace => {
                Entry::Live(message.record(at).map_err(StoreError::Internal)?)
            }
        };
        inner.entries.insert(message.code, entry);
        inner
            .writers
            .insert(message.code, message.command_id.clone());
        *inner
            .writes
            .entry((message.code, message.sequence))
            .or_default() += 1;
        Ok(ApplyOutcome::Written)
    }
}

#[derive(Default)]
struct CommandsInner {
    records: HashMap<String, CommandRecord>,
    /// Every status transition that happened: (id, new status).
    transitions: Vec<(String, Status)>,
    fail_inserts: bool,
}

/// Command statuses in memory.
#[derive(Default)]
pub struct MemoryCommandStore {
    inner: Mutex<CommandsInner>,
}

impl MemoryCommandStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every status change so far, in order (an `applied` twice for one id would be a bug).
    pub fn transitions(&self) -> Vec<(String, Status)> {
        self.inner
            .lock()
            .map(|i| i.transitions.clone())
            .unwrap_or_default()
    }

    /// Makes `insert` fail with [`StoreError::Unavailable`].
    pub fn fail_inserts(&self, fail: bool) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.fail_inserts = fail;
        }
    }

    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .map(|i| i.records.len())
            .unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl CommandStore for MemoryCommandStore {
    async fn insert(&self, record: &CommandRecord) -> Result<Inserted, StoreError> {
        let mut inner = platform::store::locked::<_, StoreError>(&self.inner)?;
        if inner.fail_inserts {
            return Err(StoreError::Unavailable("injected failure".into()));
        }
        if let Some(existing) = inner.records.get(&record.id) {
            return Ok(Inserted::Existing(Box::new(existing.clone())));
        }
        inner.records.insert(record.id.clone(), record.clone());
        inner
            .transitions
            .push((record.id.clone(), Status::Accepted));
        Ok(Inserted::New)
    }

    async fn get(&self, id: &str) -> Result<Option<CommandRecord>, StoreError> {
        let inner = platform::store::locked::<_, StoreError>(&self.inner)?;
        Ok(inner.records.get(id).cloned())
    }

    async fn mark_applied(&self, id: &str, outcome: Outcome, at: &str) -> Result<bool, StoreError> {
        let mut inner = platform::store::locked::<_, StoreError>(&self.inner)?;
        let Some(record) = inner.records.get_mut(id) else {
            return Ok(false);
        };
        if record.status == Status::Applied {
            return Ok(false);
        }
        record.status = Status::Applied;
        record.outcome = Some(outcome);
        record.reason = None;
        record.updated_at = at.to_owned();
        inner.transitions.push((id.to_owned(), Status::Applied));
        Ok(true)
    }

    async fn mark_rejected(&self, id: &str, reason: &str, at: &str) -> Result<bool, StoreError> {
        let mut inner = platform::store::locked::<_, StoreError>(&self.inner)?;
        let Some(record) = inner.records.get_mut(id) else {
            return Ok(false);
        };
        if record.status != Status::Accepted {
            return Ok(false);
        }
        record.status = Status::Rejected;
        record.reason = Some(reason.to_owned());
        record.updated_at = at.to_owned();
        inner.transitions.push((id.to_owned(), Status::Rejected));
        Ok(true)
    }
}

/// A queue that keeps what was sent.
#[derive(Default)]
pub struct MemoryQueue {
    sent: Mutex<Vec<String>>,
    fail: Mutex<bool>,
}

impl MemoryQueue {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every message body sent so far.
    pub fn sent(&self) -> Vec<String> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Removes and returns everything sent so far.
    pub fn drain(&self) -> Vec<String> {
        self.sent
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
    }

    /// Makes `send` fail with [`StoreError::Unavailable`].
    pub fn fail_sends(&self, fail: bool) {
        if let Ok(mut f) = self.fail.lock() {
            *f = fail;
        }
    }
}

#[async_trait]
impl CommandQueue for MemoryQueue {
    async fn send(&self, body: &str) -> Result<(), StoreError> {
        if self.fail.lock().map(|f| *f).unwrap_or(false) {
            return Err(StoreError::Unavailable("injected failure".into()));
        }
        platform::store::locked::<_, StoreError>(&self.sent)?.push(body.to_owned());
        Ok(())
    }
}
