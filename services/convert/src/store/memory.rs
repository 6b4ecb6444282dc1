//! An in-memory [`RateStore`] that counts its reads and can hold them at a gate, to test the cache.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use money::{CurrencyCode, CurrencyRecord};
use tokio::sync::watch;

use super::{RateStore, StoreError};

#[derive(Debug)]
pub struct MemoryRateStore {
    records: Mutex<HashMap<CurrencyCode, CurrencyRecord>>,
    reads: Mutex<HashMap<CurrencyCode, usize>>,
    total_reads: AtomicUsize,
    failures: Mutex<Vec<StoreError>>,
    gate: watch::Sender<bool>,
}

impl Default for MemoryRateStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryRateStore {
    pub fn new() -> Self {
        Self {
            records: Mutex::default(),
            reads: Mutex::default(),
            total_reads: AtomicUsize::new(0),
            failures: Mutex::default(),
            gate: watch::channel(true).0,
        }
    }

    pub fn with_records(records: impl IntoIterator<Item = CurrencyRecord>) -> Self {
        let store = Self::new();
        for record in records {
            store.put(record);
        }
        store
    }

    /// Inserts or replaces a record.
    pub fn put(&self, record: CurrencyRecord) {
        lock(&self.records).insert(record.code, record);
    }

    /// Reads of `code` so far (each one a DynamoDB GetItem in the real store).
    pub fn reads_of(&self, code: CurrencyCode) -> usize {
        lock(&self.reads).get(&code).copied().unwrap_or(0)
    }

    pub fn total_reads(&self) -> usize {
        self.total_reads.load(Ordering::SeqCst)
    }

    /// The next reads fail with these errors, in order.
    pub fn fail_next(&self, errors: impl IntoIterator<Item = StoreError>) {
        lock(&self.failures).extend(errors);
    }

    /// Closed: reads wait (after being counted) until the gate opens again.
    pub fn set_gate(&self, open: bool) {
        self.gate.send_replace(open);
    }
}

#[async_trait]
impl RateStore for MemoryRateStore {
    async fn get(&self, code: CurrencyCode) -> Result<Option<CurrencyRecord>, StoreError> {
        *lock(&self.reads).entry(code).or_insert(0) += 1;
        self.total_reads.fetch_add(1, Ordering::SeqCst);
        let mut gate = self.gate.subscribe();
        let _ = gate.wait_for(|open| *open).await;
        // Yield once so that concurrent callers get a chance to pile up even with an open gate.
        tokio::task::yield_now().await;
        let failure = {
            let mut failures = lock(&self.failures);
            (!failures.is_empty()).then(|| failures.remove(0))
        };
        if let Some(error) = failure {
            return Err(error);
        }
        Ok(lock(&self.records).get(&code).cloned())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
