//! The login limiter's counters in DynamoDB (`DynamoAttemptStore`): conditional updates that count every failure
//! once under concurrency, restart after quiet or at a window's end, expire with their TTL, and are shared by
//! every environment (two limiters over one table lock an account together).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use auth::login_limits::{
    AttemptStore, DynamoAttemptStore, Failure, LimitSettings, LoginLimits, Restart, account_key,
};
use auth::throttle::{LoginAttempt, LoginThrottle, Refused};

use crate::helpers::{create_table, fixture, unique};

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;

async fn store() -> (crate::helpers::Fixture, DynamoAttemptStore) {
    let f = fixture().await;
    let table = unique("login-attempts");
    create_table(&f.dynamodb, &table, "pk", Some("expires_at")).await;
    let store = DynamoAttemptStore::new(f.dynamodb.clone(), &table);
    (f, store)
}

fn failure(at: i64, restart: Restart, expires_at: i64) -> Failure {
    Failure {
        at,
        restart,
        expires_at,
    }
}

async fn fail(store: &DynamoAttemptStore, key: &str, now: i64, restart: Restart) -> u32 {
    store
        .add_failure(key, failure(now, restart, now + DAY))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .failures
}

#[tokio::test]
async fn failures_add_up_restart_after_quiet_and_clear() {
    let (_f, store) = store().await;
    let key = account_key("someone@example.test");
    assert_eq!(store.load(&key, NOW).await.ok().flatten(), None);
    let quiet = Restart::AfterQuietSince(NOW - DAY);
    for expected in 1..=3 {
        assert_eq!(
            fail(&store, &key, NOW + expected, quiet).await,
            expected as u32
        );
    }
    let held = store.load(&key, NOW + 3).await.ok().flatten();
    assert_eq!(
        held.map(|c| (c.failures, c.last_failure)),
        Some((3, NOW + 3))
    );

    // A failure after a quiet day starts a new count.
    let later = NOW + 2 * DAY;
    assert_eq!(
        fail(&store, &key, later, Restart::AfterQuietSince(later - DAY)).await,
        1
    );

    store
        .clear(&key, later)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        store
            .load(&key, later)
            .await
            .ok()
            .flatten()
            .map(|c| c.failures),
        Some(0)
    );
    let nobody = account_key("nobody@example.test");
    store
        .clear(&nobody, later)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        store.load(&nobody, later).await.ok().flatten(),
        None,
        "a success creates no item"
    );
}

#[tokio::test]
async fn an_ip_window_restarts_when_it_ends_and_an_expired_counter_is_gone() {
    let (_f, store) = store().await;
    let key = "IP#192.0.2.7";
    let window = 900;
    assert_eq!(
        fail(&store, key, NOW, Restart::WindowBefore(NOW - window)).await,
        1
    );
    assert_eq!(
        fail(&store, key, NOW + 899, Restart::WindowBefore(NOW - 1)).await,
        2
    );
    assert_eq!(
        fail(&store, key, NOW + 900, Restart::WindowBefore(NOW + 1)).await,
        1,
        "a new window"
    );

    let short = "IP#192.0.2.8";
    store
        .add_failure(
            short,
            failure(NOW, Restart::WindowBefore(NOW - window), NOW + 10),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        store.load(short, NOW + 10).await.ok().flatten(),
        None,
        "past expires_at: absent"
    );
    let again = store.add_failure(
        short,
        failure(NOW + 11, Restart::WindowBefore(NOW - window), NOW + DAY),
    );
    assert_eq!(
        again.await.map(|c| c.failures).ok(),
        Some(1),
        "an expired count starts over"
    );
}

#[tokio::test]
async fn concurrent_failures_are_each_counted_once() {
    let (_f, store) = store().await;
    let store = Arc::new(store);
    let key = account_key("stuffed@example.test");
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let (store, key) = (store.clone(), key.clone());
            tokio::spawn(async move {
                fail(&store, &key, NOW, Restart::AfterQuietSince(NOW - DAY)).await
            })
        })
        .collect();
    let mut counts = Vec::new();
    for task in tasks {
        counts.push(task.await.unwrap_or_else(|e| panic!("{e}")));
    }
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=12).collect::<Vec<u32>>(),
        "each failure saw its own count"
    );
    let held = store.load(&key, NOW).await.ok().flatten();
    assert_eq!(held.map(|c| c.failures), Some(12));
}

#[tokio::test]
async fn two_environments_over_one_table_lock_an_account_together() {
    let (_f, store) = store().await;
    let store: Arc<dyn AttemptStore> = Arc::new(store);
    let clock = Arc::new(AtomicI64::new(NOW));
    let environment = || {
        let clock = clock.clone();
        LoginLimits::new(
            store.clone(),
            LimitSettings::default(),
            Arc::new(move || clock.load(Ordering::SeqCst)),
        )
    };
    let (first, second) = (environment(), environment());
    let attempt = LoginAttempt {
        email: "shared@example.test".into(),
        source_ip: Some("198.51.100.4".into()),
    };
    let max = LimitSettings::default().max_failures;
    for n in 0..max {
        let limiter = if n % 2 == 0 { &first } else { &second };
        assert_eq!(limiter.check(&attempt).await, Ok(()), "attempt {n}");
        limiter.record_failure(&attempt).await;
    }
    assert!(matches!(first.check(&attempt).await, Err(Refused::TooMany(s)) if s > 0));
    assert!(matches!(second.check(&attempt).await, Err(Refused::TooMany(s)) if s > 0));
}
