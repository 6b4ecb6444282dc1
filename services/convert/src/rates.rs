//! The rate cache: per-currency entries with a TTL and single-flight refresh.
//!
//! One environment serves many requests at once (LMI), so a cold or expired currency must not turn into a
//! burst of identical DynamoDB reads. Each currency has a *slot* holding a `tokio::sync::OnceCell`: the first
//! request that finds the slot empty runs the read, every concurrent request for that currency awaits the
//! same cell, so N concurrent misses cost exactly one read. A slot whose value has expired (or whose read
//! failed — failures are shared by the requests that waited for them but never cached) is swapped for a fresh
//! slot by whichever request notices first; the others find the fresh slot and join its read.
//!
//! "Unknown currency" (no record) is cached like a record, for the same TTL. Keys are validated ISO 4217
//! codes, so the map is bounded by the ISO table (~180 entries).
//!
//! The map's lock is a `std::sync::Mutex` held only to look up or swap a slot, never across an `.await`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use money::{CurrencyCode, CurrencyRecord};
use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::store::{RateStore, StoreError};

/// The default time a read stays fresh. Rates change through the currency write path (seconds of projector
/// lag already), so a few seconds more keep DynamoDB reads per environment near `currencies / ttl`.
pub const DEFAULT_TTL: Duration = Duration::from_secs(30);

pub type Lookup = Result<Option<Arc<CurrencyRecord>>, StoreError>;

#[derive(Default)]
struct Slot {
    cell: OnceCell<Fetched>,
}

struct Fetched {
    at: Instant,
    result: Lookup,
}

impl Fetched {
    fn is_fresh(&self, ttl: Duration) -> bool {
        self.result.is_ok() && self.at.elapsed() < ttl
    }
}

pub struct RateCache {
    store: Arc<dyn RateStore>,
    ttl: Duration,
    slots: Mutex<HashMap<CurrencyCode, Arc<Slot>>>,
}

impl std::fmt::Debug for RateCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateCache")
            .field("ttl", &self.ttl)
            .field("entries", &self.len())
            .finish_non_exhaustive()
    }
}

impl RateCache {
    pub fn new(store: Arc<dyn RateStore>, ttl: Duration) -> Self {
        Self {
            store,
            ttl,
            slots: Mutex::default(),
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Currencies with a slot (fresh, stale or being read).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The currency's record (`None`: not in the read model), from the cache when fresh.
    pub async fn get(&self, code: CurrencyCode) -> Lookup {
        let slot = self.slot(code);
        if let Some(fetched) = slot.cell.get() {
            if fetched.is_fresh(self.ttl) {
                return fetched.result.clone();
            }
            // Expired or failed: replace it (unless another request already did) and read through the new slot.
            let fresh = self.replace(code, &slot);
            return self.read(code, &fresh).await;
        }
        self.read(code, &slot).await
    }

    /// Drops every entry (the next lookups read again).
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Joins the slot's read, starting it if nobody has. Whatever it yields is returned, even an error.
    async fn read(&self, code: CurrencyCode, slot: &Slot) -> Lookup {
        let fetched = slot
            .cell
            .get_or_init(|| async {
                let result = self.store.get(code).await.map(|r| r.map(Arc::new));
                if let Err(error) = &result {
                    tracing::warn!(currency = %code, %error, "rate read failed");
                }
                Fetched {
                    at: Instant::now(),
                    result,
                }
            })
            .await;
        fetched.result.clone()
    }

    fn slot(&self, code: CurrencyCode) -> Arc<Slot> {
        self.lock().entry(code).or_default().clone()
    }

    /// Swaps `stale` for a new empty slot if the map still holds it; returns the map's current slot.
    fn replace(&self, code: CurrencyCode, stale: &Arc<Slot>) -> Arc<Slot> {
        let mut slots = self.lock();
        let current = slots.entry(code).or_default();
        if Arc::ptr_eq(current, stale) {
            *current = Arc::new(Slot::default());
        }
        current.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CurrencyCode, Arc<Slot>>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryRateStore;
    use testkit::fixtures::{code, currency as record};

    fn cache(store: &Arc<MemoryRateStore>, ttl: Duration) -> Arc<RateCache> {
        Arc::new(RateCache::new(store.clone(), ttl))
    }

    /// With time paused, a short sleep returns only once every other task is blocked.
    async fn settle() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_misses_for_one_currency_cost_one_read() {
        let store = Arc::new(MemoryRateStore::with_records([record("EUR", "1.08", 4)]));
        store.set_gate(false);
        let cache = cache(&store, DEFAULT_TTL);
        let lookups: Vec<_> = (0..200)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.get(code("EUR")).await })
            })
            .collect();
        settle().await;
        assert_eq!(
            store.reads_of(code("EUR")),
            1,
            "199 lookups wait on the first read"
        );
        store.set_gate(true);
        for lookup in lookups {
            let found = lookup.await.unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(found.ok().flatten().map(|r| r.version), Some(4));
        }
        assert_eq!(store.total_reads(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn expiry_triggers_exactly_one_refresh_and_sees_the_new_version() {
        let store = Arc::new(MemoryRateStore::with_records([record("EUR", "1.08", 4)]));
        let cache = cache(&store, Duration::from_secs(30));
        assert_eq!(
            cache
                .get(code("EUR"))
                .await
                .ok()
                .flatten()
                .map(|r| r.version),
            Some(4)
        );
        store.put(record("EUR", "1.10", 5));
        tokio::time::advance(Duration::from_secs(29)).await;
        assert_eq!(
            cache
                .get(code("EUR"))
                .await
                .ok()
                .flatten()
                .map(|r| r.version),
            Some(4),
            "still fresh"
        );
        tokio::time::advance(Duration::from_secs(2)).await;
        store.set_gate(false);
        let lookups: Vec<_> = (0..100)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.get(code("EUR")).await })
            })
            .collect();
        settle().await;
        store.set_gate(true);
        for lookup in lookups {
            let found = lookup.await.unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(found.ok().flatten().map(|r| r.version), Some(5));
        }
        assert_eq!(
            store.reads_of(code("EUR")),
            2,
            "one initial read, one refresh"
        );
    }

    #[tokio::test]
    async fn failures_are_shared_by_waiters_but_never_cached() {
        let store = Arc::new(MemoryRateStore::with_records([record("USD", "1", 1)]));
        store.fail_next([StoreError::Unavailable("throttled".into())]);
        let cache = cache(&store, DEFAULT_TTL);
        assert_eq!(
            cache.get(code("USD")).await,
            Err(StoreError::Unavailable("throttled".into()))
        );
        assert_eq!(
            cache
                .get(code("USD"))
                .await
                .ok()
                .flatten()
                .map(|r| r.version),
            Some(1)
        );
        assert_eq!(store.reads_of(code("USD")), 2);
    }

    #[tokio::test]
    async fn unknown_currencies_are_cached_as_absent() {
        let store = Arc::new(MemoryRateStore::new());
        let cache = cache(&store, DEFAULT_TTL);
        assert_eq!(cache.get(code("CHF")).await, Ok(None));
        assert_eq!(cache.get(code("CHF")).await, Ok(None));
        assert_eq!(store.reads_of(code("CHF")), 1);
        assert_eq!(cache.len(), 1);
        cache.clear();
        assert!(cache.is_empty());
    }
}
