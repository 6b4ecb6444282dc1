//! Where a cold start goes, and keeping slow work out of it.
//!
//! [`InitTimer`]: a Lambda binary times its init phases and logs them in one line just before it polls the
//! Runtime API for its first event (`message` "init"): `telemetry_ms`, `sdk_config_ms`, `state_ms` (clients
//! and whatever the service builds), `router_ms`, `init_ms` (their sum: `main` to ready), and `main_at_unix_us` /
//! `ready_at_unix_us` so a runner that knows when it spawned the process and when the first `/next` arrived
//! (the local cloud, `./inv bench`) can tell process start and the runtime's own setup apart.
//!
//! [`deferred_router`]: the same for a whole router, when what the service reads at start (the auth service's
//! signing keys and issuer) is woven into its state.
//!
//! [`Prefetched`]: a value read over the network (a secret, signing keys) that init starts fetching but does
//! not wait for. The fetch overlaps the runtime's first poll for an event; the first request that needs the
//! value waits for whatever is left of it. A failed fetch is not kept: the next request tries again (and its
//! caller answers 503 meanwhile), so a secret that was briefly unreadable does not poison the environment.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::Request;
use axum::response::IntoResponse;
use tokio::sync::OnceCell;
use tower::ServiceExt;
use tracing::Instrument;

use crate::problem::Problem;

/// The init phases every binary goes through, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The JSON log subscriber.
    Telemetry,
    /// Region, credentials and endpoint configuration for the AWS SDK.
    SdkConfig,
    /// The service's state: SDK clients, configuration, caches.
    State,
    /// The axum router (or the event handler) wrapped for Lambda.
    Router,
}

/// Times a binary's init phases (see the module docs). Start it first thing in `main`.
#[derive(Debug)]
pub struct InitTimer {
    main_at: SystemTime,
    started: Instant,
    last: Instant,
    phases: [Duration; 4],
}

impl Default for InitTimer {
    fn default() -> Self {
        Self::start()
    }
}

fn unix_us(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

fn ms(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1e6).round() / 1e3
}

impl InitTimer {
    pub fn start() -> Self {
        let now = Instant::now();
        Self {
            main_at: SystemTime::now(),
            started: now,
            last: now,
            phases: [Duration::ZERO; 4],
        }
    }

    /// Ends `phase`: the time since the previous mark is added to it.
    pub fn mark(&mut self, phase: Phase) {
        let now = Instant::now();
        self.phases[phase as usize] += now - self.last;
        self.last = now;
    }

    /// The time spent in `phase` so far.
    pub fn phase(&self, phase: Phase) -> Duration {
        self.phases[phase as usize]
    }

    /// Logs the phases; call right before handing over to the runtime.
    pub fn ready(self) {
        let [telemetry, sdk_config, state, router] = self.phases;
        tracing::info!(
            telemetry_ms = ms(telemetry),
            sdk_config_ms = ms(sdk_config),
            state_ms = ms(state),
            router_ms = ms(router),
            init_ms = ms(self.last - self.started),
            main_at_unix_us = unix_us(self.main_at),
            ready_at_unix_us = unix_us(SystemTime::now()),
            "init"
        );
    }
}

type Fetch<T, E> =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<T, E>> + Send>> + Send + Sync>;

/// A value fetched in the background from init on, awaited by the requests that need it (see the module docs).
pub struct Prefetched<T, E> {
    cell: Arc<OnceCell<T>>,
    fetch: Fetch<T, E>,
}

impl<T, E> Clone for Prefetched<T, E> {
    fn clone(&self) -> Self {
        Self {
            cell: Arc::clone(&self.cell),
            fetch: Arc::clone(&self.fetch),
        }
    }
}

impl<T, E> std::fmt::Debug for Prefetched<T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prefetched")
            .field("ready", &self.cell.initialized())
            .finish_non_exhaustive()
    }
}

impl<T, E> Prefetched<T, E>
where
    T: Send + Sync + 'static,
    E: std::fmt::Display + Send + 'static,
{
    /// Starts `fetch` now on the current Tokio runtime (named `what` in the log line that times it). That line is
    /// written outside any invocation, while one may be in flight: it says so with `"background": true` (and has no
    /// request id of its own).
    pub fn start<F, Fut>(what: &'static str, fetch: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        let this = Self {
            cell: Arc::new(OnceCell::new()),
            fetch: Arc::new(move || {
                let fetched = fetch();
                Box::pin(async move {
                    crate::aws::tls_roots_loaded().await; // see there: keeps the runtime's thread free
                    fetched.await
                })
            }),
        };
        let background = this.clone();
        let began = Instant::now();
        tokio::spawn(
            async move {
                match background.get().await {
                    Ok(_) => tracing::info!(fetch_ms = ms(began.elapsed()), what, background = true, "prefetched"),
                    Err(err) => tracing::warn!(error = %err, what, background = true, "prefetch failed; the next request retries"),
                }
            }
            .in_current_span(),
        );
        this
    }

    /// A value that is already in hand (tests, values from the environment).
    pub fn ready(value: T) -> Self {
        Self {
            cell: Arc::new(OnceCell::new_with(Some(value))),
            fetch: Arc::new(|| Box::pin(std::future::pending())),
        }
    }

    /// The value: at once when fetched, else after the fetch in flight (or a new one after a failure).
    pub async fn get(&self) -> Result<&T, E> {
        self.cell.get_or_try_init(|| (self.fetch)()).await
    }
}

/// A router that forwards every request to the router `build` makes. `build` runs in the background from init on
/// ([`Prefetched`]), so init does not wait for what it reads over the network. Until it has succeeded once, a
/// request waits for it; if it failed, the request is answered 503 (and logged) and the next one builds again.
/// Check the configuration before (what needs no network), so a misconfigured function still fails its init.
pub fn deferred_router<F, Fut, E>(what: &'static str, build: F) -> Router
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Router, E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let ready = Prefetched::start(what, build);
    Router::new().fallback(move |request: Request| {
        let ready = ready.clone();
        async move {
            match ready.get().await {
                Ok(router) => match router.clone().oneshot(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                },
                Err(err) => {
                    tracing::error!(error = %err, what, "cannot serve yet");
                    Problem::unavailable().into_response()
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// One GET through `app`: its status and body.
    async fn get_through(app: Router, uri: &str) -> (http::StatusCode, axum::body::Bytes) {
        let request = Request::builder()
            .uri(uri)
            .body(axum::body::Body::empty())
            .unwrap_or_default();
        let response = app
            .oneshot(request)
            .await
            .unwrap_or_else(|never| match never {});
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap_or_default();
        (status, body)
    }

    #[test]
    fn marks_add_up_per_phase() {
        let mut timer = InitTimer::start();
        std::thread::sleep(Duration::from_millis(2));
        timer.mark(Phase::Telemetry);
        timer.mark(Phase::SdkConfig);
        std::thread::sleep(Duration::from_millis(1));
        timer.mark(Phase::Router);
        assert!(timer.phase(Phase::Telemetry) >= Duration::from_millis(2));
        assert!(timer.phase(Phase::SdkConfig) < Duration::from_millis(2));
        assert!(timer.phase(Phase::Router) >= Duration::from_millis(1));
        assert_eq!(timer.phase(Phase::State), Duration::ZERO);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_fetch_starts_without_waiting_and_runs_once() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let value = Prefetched::start("test value", move || {
            let counted = Arc::clone(&counted);
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
                Ok::<_, String>(42)
            }
        });
        assert_eq!(
            calls.load(Ordering::SeqCst),
            0,
            "start does not run the fetch inline"
        );
        tokio::task::yield_now().await; // the background task runs while init goes on
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(value.get().await.copied(), Ok(42));
        assert_eq!(value.clone().get().await.copied(), Ok(42));
        assert_eq!(calls.load(Ordering::SeqCst), 1, "one fetch per environment");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_failed_fetch_is_retried_by_the_next_request() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let value = Prefetched::start("flaky value", move || {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    Err("unreachable secret".to_owned())
                } else {
                    Ok(7)
                }
            }
        });
        tokio::task::yield_now().await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(value.get().await.copied(), Ok(7));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_deferred_router_serves_once_built_and_503s_while_it_cannot_be() {
        use axum::routing::get;
        use http::StatusCode;

        let attempts = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&attempts);
        let app = deferred_router("test router", move || {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    Err("secret unreadable")
                } else {
                    Ok(Router::new().route("/items/{id}", get(|axum::extract::Path(id): axum::extract::Path<String>| async move { id })))
                }
            }
        });
        tokio::task::yield_now().await; // the first build runs (and fails) in the background
        assert_eq!(attempts.load(Ordering::SeqCst), 1);
        let (status, _) = get_through(app.clone(), "/items/42").await;
        assert_eq!(
            status,
            StatusCode::OK,
            "the request built it again, then was served"
        );
        let (status, body) = get_through(app, "/items/42").await;
        assert_eq!((status, &body[..]), (StatusCode::OK, &b"42"[..]));
        assert_eq!(attempts.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_deferred_router_that_cannot_be_built_answers_503() {
        use http::StatusCode;

        let app = deferred_router("test router", || async {
            Err::<Router, _>("secret unreadable")
        });
        let (status, _) = get_through(app, "/anything").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_ready_value_needs_no_fetch() {
        let value: Prefetched<u8, String> = Prefetched::ready(3);
        assert_eq!(value.get().await.copied(), Ok(3));
    }
}
