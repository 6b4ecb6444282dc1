//! Brute-force and credential-stuffing limits on `POST /login` and `POST /register`, shared by every
//! execution environment through a store ([`AttemptStore`]: DynamoDB in Lambda, in memory in tests).
//!
//! - **Per account** (the normalised email as submitted, hashed: the table holds no addresses): after
//!   `max_failures` consecutive failed logins (default 5), the account is locked for `base_lockout`
//!   (default 30 s), doubling with every further failure up to `max_lockout` (default 15 min). While
//!   locked, a login is refused with 429 and `Retry-After` before any user lookup or password hashing.
//!   A successful login resets the count. Unknown emails are counted exactly like existing ones, so the
//!   429 starts at the same attempt and says the same thing: no enumeration.
//! - **Per source IP** (`requestContext.http.sourceIp`): at most `ip_max_failures` failed logins and
//!   refused registrations (default 100) per `ip_window` (default 15 min), then 429 until the window ends.
//!
//! Counters are items with a TTL (`expires_at`), updated with conditional `UpdateItem`s (see
//! [`DynamoAttemptStore`]), so concurrent environments add to one count. If the store cannot be read, the
//! attempt is refused (fails closed) rather than run unlimited.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use platform::config::{ConfigError, Env};
use platform::dynamo::{Item, describe, get_i64, n};
use sha2::{Digest, Sha256};

use crate::throttle::{LoginAttempt, LoginThrottle, Refused};

/// Seconds since the Unix epoch (injectable for tests).
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    })
}

/// Retry-After when the store cannot be read (the attempt is refused, not run unlimited).
const STORE_DOWN_RETRY_SECONDS: u64 = 1;

/// The limits (environment variables in brackets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSettings {
    /// Consecutive failed logins of one account before it locks (`LOGIN_MAX_FAILURES`, default 5).
    pub max_failures: u32,
    /// First lockout, seconds; doubles per further failure (`LOGIN_LOCKOUT_SECONDS`, default 30).
    pub base_lockout: i64,
    /// Longest lockout, seconds (`LOGIN_MAX_LOCKOUT_SECONDS`, default 900).
    pub max_lockout: i64,
    /// How long an account's failures are remembered after the last one (`LOGIN_FAILURE_MEMORY_SECONDS`,
    /// default 86400).
    pub failure_memory: i64,
    /// Failures per source IP per window (`LOGIN_IP_MAX_FAILURES`, default 100).
    pub ip_max_failures: u32,
    /// The per-IP window, seconds (`LOGIN_IP_WINDOW_SECONDS`, default 900).
    pub ip_window: i64,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            max_failures: 5,
            base_lockout: 30,
            max_lockout: 900,
            failure_memory: 86_400,
            ip_max_failures: 100,
            ip_window: 900,
        }
    }
}

impl LimitSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let d = Self::default();
        let settings = Self {
            max_failures: env.parsed_or("LOGIN_MAX_FAILURES", d.max_failures)?,
            base_lockout: env.parsed_or("LOGIN_LOCKOUT_SECONDS", d.base_lockout)?,
            max_lockout: env.parsed_or("LOGIN_MAX_LOCKOUT_SECONDS", d.max_lockout)?,
            failure_memory: env.parsed_or("LOGIN_FAILURE_MEMORY_SECONDS", d.failure_memory)?,
            ip_max_failures: env.parsed_or("LOGIN_IP_MAX_FAILURES", d.ip_max_failures)?,
            ip_window: env.parsed_or("LOGIN_IP_WINDOW_SECONDS", d.ip_window)?,
        };
        let invalid = |name: &str, reason: &str| ConfigError::Invalid {
            name: name.into(),
            reason: reason.into(),
        };
        if settings.max_failures == 0 || settings.ip_max_failures == 0 {
            return Err(invalid("LOGIN_*MAX_FAILURES", "must be at least 1"));
        }
        if !(1..=settings.max_lockout).contains(&settings.base_lockout) {
            return Err(invalid(
                "LOGIN_LOCKOUT_SECONDS",
                "must be between 1 and LOGIN_MAX_LOCKOUT_SECONDS",
            ));
        }
        if settings.ip_window < 1 || settings.failure_memory < settings.max_lockout {
            return Err(invalid(
                "LOGIN_IP_WINDOW_SECONDS / LOGIN_FAILURE_MEMORY_SECONDS",
                "window must be positive and the memory at least the longest lockout",
            ));
        }
        Ok(settings)
    }

    /// The lockout after `failures` consecutive failures (0 below the threshold).
    pub fn lockout(&self, failures: u32) -> i64 {
        if failures < self.max_failures {
            return 0;
        }
        let doublings = (failures - self.max_failures).min(30);
        self.base_lockout
            .saturating_mul(1_i64 << doublings)
            .min(self.max_lockout)
    }
}

/// One counter as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counter {
    pub failures: u32,
    /// When the current count began (epoch seconds).
    pub window_start: i64,
    /// The latest failure (epoch seconds).
    pub last_failure: i64,
}

/// Which timestamp decides that a counter starts over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    /// When the last failure is older than the floor (accounts: consecutive failures).
    AfterQuietSince(i64),
    /// When the window began before the floor (IPs: fixed windows).
    WindowBefore(i64),
}

/// One failed attempt to count: when, when the count starts over, and when the counter expires (epoch seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    pub at: i64,
    pub restart: Restart,
    pub expires_at: i64,
}

impl Failure {
    /// A failure in fixed windows of `window` seconds (source IPs).
    pub fn in_window(at: i64, window: i64) -> Self {
        Self {
            at,
            restart: Restart::WindowBefore(at - window),
            expires_at: at + window,
        }
    }

    /// A consecutive failure, forgotten after `memory` quiet seconds (accounts).
    pub fn consecutive(at: i64, memory: i64) -> Self {
        Self {
            at,
            restart: Restart::AfterQuietSince(at - memory),
            expires_at: at + memory,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("login attempt store: {0}")]
pub struct AttemptStoreError(pub String);

/// Counters shared by every environment.
#[async_trait]
pub trait AttemptStore: Send + Sync + 'static {
    /// The counter (`None` when absent or expired at `now`).
    async fn load(&self, key: &str, now: i64) -> Result<Option<Counter>, AttemptStoreError>;
    /// Adds one failure atomically (restarting the count as its `restart` says); returns the result.
    async fn add_failure(&self, key: &str, failure: Failure) -> Result<Counter, AttemptStoreError>;
    /// Resets the count to zero.
    async fn clear(&self, key: &str, now: i64) -> Result<(), AttemptStoreError>;
}

/// The item key of an account counter: a hash of the normalised email (no addresses in the table).
pub fn account_key(email: &str) -> String {
    format!("ACCOUNT#{}", hex::encode(Sha256::digest(email.as_bytes())))
}

pub fn ip_key(ip: &str) -> String {
    format!("IP#{ip}")
}

/// The limiter: a [`LoginThrottle`] over an [`AttemptStore`].
pub struct LoginLimits {
    store: Arc<dyn AttemptStore>,
    settings: LimitSettings,
    clock: Clock,
}

impl LoginLimits {
    pub fn new(store: Arc<dyn AttemptStore>, settings: LimitSettings, clock: Clock) -> Self {
        Self {
            store,
            settings,
            clock,
        }
    }

    pub fn settings(&self) -> &LimitSettings {
        &self.settings
    }

    async fn ip_check(&self, ip: Option<&str>, now: i64) -> Result<(), Refused> {
        let Some(ip) = ip else { return Ok(()) };
        let counter = self
            .store
            .load(&ip_key(ip), now)
            .await
            .map_err(store_down)?;
        let s = &self.settings;
        match counter {
            Some(c) if c.window_start > now - s.ip_window && c.failures >= s.ip_max_failures => {
                Err(retry_after(c.window_start + s.ip_window - now))
            }
            _ => Ok(()),
        }
    }

    async fn ip_failure(&self, ip: Option<&str>, now: i64) {
        let Some(ip) = ip else { return };
        let failure = Failure::in_window(now, self.settings.ip_window);
        self.count(&ip_key(ip), failure, "a failure of a source IP")
            .await;
    }

    /// Counts one failure; a store that cannot be written is logged (the attempt's answer stands).
    async fn count(&self, key: &str, failure: Failure, what: &str) {
        if let Err(err) = self.store.add_failure(key, failure).await {
            tracing::error!(error = %err, "could not count {what}");
        }
    }
}

fn retry_after(seconds: i64) -> Refused {
    Refused::TooMany(u64::try_from(seconds.max(1)).unwrap_or(1))
}

fn store_down(err: AttemptStoreError) -> Refused {
    tracing::error!(error = %err, "login limits unavailable; refusing the attempt");
    platform::metrics::count("LoginLimitStoreErrors", 1.0);
    Refused::Unavailable(STORE_DOWN_RETRY_SECONDS)
}

#[async_trait]
impl LoginThrottle for LoginLimits {
    async fn check(&self, attempt: &LoginAttempt) -> Result<(), Refused> {
        let now = (self.clock)();
        let refused = async {
            self.ip_check(attempt.source_ip.as_deref(), now).await?;
            let counter = self
                .store
                .load(&account_key(&attempt.email), now)
                .await
                .map_err(store_down)?;
            if let Some(c) = counter {
                let until = c.last_failure + self.settings.lockout(c.failures);
                if now < until {
                    return Err(retry_after(until - now));
                }
            }
            Ok(())
        }
        .await;
        if refused.is_err() {
            platform::metrics::count("LoginsRefused", 1.0);
        }
        refused
    }

    async fn record_failure(&self, attempt: &LoginAttempt) {
        let now = (self.clock)();
        let failure = Failure::consecutive(now, self.settings.failure_memory);
        self.count(&account_key(&attempt.email), failure, "a failed login")
            .await;
        self.ip_failure(attempt.source_ip.as_deref(), now).await;
    }

    async fn record_success(&self, attempt: &LoginAttempt) {
        let now = (self.clock)();
        if let Err(err) = self.store.clear(&account_key(&attempt.email), now).await {
            tracing::error!(error = %err, "could not reset the failed-login count");
        }
    }

    async fn check_register(&self, source_ip: Option<&str>) -> Result<(), Refused> {
        let now = (self.clock)();
        self.ip_check(source_ip, now).await
    }

    async fn record_register_failure(&self, source_ip: Option<&str>) {
        let now = (self.clock)();
        self.ip_failure(source_ip, now).await;
    }
}

// ---- in memory (tests) ---------------------------------------------------------------------------------------

/// Counters in this process only: for tests (a deployment uses [`DynamoAttemptStore`]).
/// Counters by key, with their expiry.
type Items = HashMap<String, (Counter, i64)>;

#[derive(Default)]
pub struct InMemoryAttemptStore {
    items: Mutex<Items>,
}

impl InMemoryAttemptStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn items(&self) -> Result<std::sync::MutexGuard<'_, Items>, AttemptStoreError> {
        self.items
            .lock()
            .map_err(|_| AttemptStoreError("poisoned lock".into()))
    }
}

#[async_trait]
impl AttemptStore for InMemoryAttemptStore {
    async fn load(&self, key: &str, now: i64) -> Result<Option<Counter>, AttemptStoreError> {
        Ok(self
            .items()?
            .get(key)
            .filter(|(_, expires_at)| *expires_at > now)
            .map(|(c, _)| *c))
    }

    async fn add_failure(&self, key: &str, failure: Failure) -> Result<Counter, AttemptStoreError> {
        let now = failure.at;
        let mut items = self.items()?;
        let current = items
            .get(key)
            .filter(|(_, e)| *e > now)
            .map(|(c, _)| *c)
            .filter(|c| !starts_over(c, failure.restart));
        let counter = match current {
            Some(c) => Counter {
                failures: c.failures.saturating_add(1),
                last_failure: now,
                ..c
            },
            None => Counter {
                failures: 1,
                window_start: now,
                last_failure: now,
            },
        };
        items.insert(key.to_owned(), (counter, failure.expires_at));
        Ok(counter)
    }

    async fn clear(&self, key: &str, _now: i64) -> Result<(), AttemptStoreError> {
        self.items()?.remove(key);
        Ok(())
    }
}

fn starts_over(c: &Counter, restart: Restart) -> bool {
    match restart {
        Restart::AfterQuietSince(floor) => c.last_failure < floor,
        Restart::WindowBefore(floor) => c.window_start < floor,
    }
}

// ---- DynamoDB --------------------------------------------------------------------------------------------------

/// Counters in a DynamoDB table (`LOGIN_ATTEMPTS_TABLE`): hash key `pk` (S), TTL attribute `expires_at`.
///
/// | item | `pk` | attributes |
/// |---|---|---|
/// | account | `ACCOUNT#<sha256 of the normalised email>` | `failures`, `window_start`, `last_failure`, `expires_at` |
/// | source IP | `IP#<address>` | same |
///
/// A failure is one conditional `UpdateItem` that adds to a live count (`#since >= :floor`), or, when that
/// condition fails, one that starts a new count (`attribute_not_exists(pk) OR #since < :floor`); under a
/// race the loser retries. The role needs `dynamodb:GetItem` and `dynamodb:UpdateItem` on the table only.
#[derive(Debug, Clone)]
pub struct DynamoAttemptStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoAttemptStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

fn counter_of(item: &Item) -> Counter {
    Counter {
        failures: get_i64(item, "failures")
            .and_then(|f| u32::try_from(f).ok())
            .unwrap_or(0),
        window_start: get_i64(item, "window_start").unwrap_or(0),
        last_failure: get_i64(item, "last_failure").unwrap_or(0),
    }
}

fn failed<E, R>(err: &SdkError<E, R>) -> AttemptStoreError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    AttemptStoreError(describe(err))
}

fn condition_failed<E, R>(err: &SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    err.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "ConditionalCheckFailedException")
}

#[async_trait]
impl AttemptStore for DynamoAttemptStore {
    async fn load(&self, key: &str, now: i64) -> Result<Option<Counter>, AttemptStoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| failed(&e))?;
        // TTL deletion is lazy: an expired item is absent.
        Ok(out
            .item
            .filter(|item| get_i64(item, "expires_at").is_some_and(|e| e > now))
            .map(|item| counter_of(&item)))
    }

    async fn add_failure(&self, key: &str, failure: Failure) -> Result<Counter, AttemptStoreError> {
        let Failure {
            at: now,
            restart,
            expires_at,
        } = failure;
        let (since, floor) = match restart {
            Restart::AfterQuietSince(floor) => ("last_failure", floor),
            Restart::WindowBefore(floor) => ("window_start", floor),
        };
        // One conditional update; `None` when its condition failed (the counter is not in that state).
        let update = |expression: &'static str, condition: &'static str| {
            self.client
                .update_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(key.to_owned()))
                .update_expression(expression)
                .condition_expression(condition)
                .expression_attribute_names("#since", since)
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":now", n(now))
                .expression_attribute_values(":exp", n(expires_at))
                .expression_attribute_values(":floor", n(floor))
                .return_values(ReturnValue::AllNew)
                .send()
        };
        for _ in 0..3 {
            let attempts = [
                // Add to a live count ...
                update(
                    "ADD failures :one SET last_failure = :now, expires_at = :exp",
                    "#since >= :floor AND expires_at > :now",
                ),
                // ... or start a new one; when another environment started it in between, add again.
                update(
                    "SET failures = :one, window_start = :now, last_failure = :now, expires_at = :exp",
                    "attribute_not_exists(pk) OR #since < :floor OR expires_at <= :now",
                ),
            ];
            for attempt in attempts {
                match attempt.await {
                    Ok(out) => {
                        return Ok(out.attributes.as_ref().map(counter_of).unwrap_or_default());
                    }
                    Err(e) if condition_failed(&e) => {}
                    Err(e) => return Err(failed(&e)),
                }
            }
        }
        Err(AttemptStoreError("counter kept changing; gave up".into()))
    }

    async fn clear(&self, key: &str, now: i64) -> Result<(), AttemptStoreError> {
        // Only an existing counter is reset (no item is created for every successful login).
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key.to_owned()))
            .update_expression("SET failures = :zero, expires_at = :exp")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":exp", n(now + 60))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(failed(&e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_doubles_from_the_threshold_and_is_capped() {
        let s = LimitSettings::default();
        assert_eq!(s.lockout(4), 0);
        assert_eq!(s.lockout(5), 30);
        assert_eq!(s.lockout(6), 60);
        assert_eq!(s.lockout(9), 480);
        assert_eq!(s.lockout(10), 900);
        assert_eq!(s.lockout(u32::MAX), 900);
    }

    #[test]
    fn settings_come_from_the_environment_and_are_checked() {
        let env = Env::from_pairs([("LOGIN_MAX_FAILURES", "3"), ("LOGIN_IP_MAX_FAILURES", "7")]);
        let s = LimitSettings::from_env(&env).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((s.max_failures, s.ip_max_failures), (3, 7));
        for (name, value) in [
            ("LOGIN_MAX_FAILURES", "0"),
            ("LOGIN_LOCKOUT_SECONDS", "0"),
            ("LOGIN_LOCKOUT_SECONDS", "901"),
            ("LOGIN_IP_WINDOW_SECONDS", "0"),
        ] {
            assert!(
                LimitSettings::from_env(&Env::from_pairs([(name, value)])).is_err(),
                "{name}={value}"
            );
        }
    }

    #[test]
    fn account_keys_hold_no_address() {
        let key = account_key("alice@example.com");
        assert!(key.starts_with("ACCOUNT#") && !key.contains("alice"));
        assert_eq!(key, account_key("alice@example.com"));
    }
}
