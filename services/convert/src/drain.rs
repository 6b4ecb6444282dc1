//! Graceful shutdown that never drops an in-flight invocation.
//!
//! `lambda_runtime` 1.5 has no draining of its own: its `run_concurrent` workers loop on `/next` forever, and
//! `spawn_graceful_shutdown_handler` (feature `graceful-shutdown`) runs a hook and then calls
//! `std::process::exit(0)` at once, killing whatever is still in flight (and it needs the Extensions API, to
//! register the no-op extension that makes Lambda send SIGTERM). Seed 004's SIGTERM example drops in-flight
//! requests the same way.
//!
//! [`Drain`] fixes that with three pieces:
//! - [`DrainLayer`], the *outermost* layer of the runtime's service stack, counts every invocation from the
//!   moment the runtime hands it over until the inner service has posted its response to the Runtime API.
//!   Once draining has begun, a finished invocation parks its worker instead of returning, so that worker never
//!   polls `/next` again: the environment stops taking new work while the others finish.
//! - [`Drain::shutdown_on`] waits for the signal (SIGTERM from Lambda), starts draining, waits until nothing
//!   is in flight (or a deadline below the platform's grace period passes) and reports what happened.
//! - The binary races the runtime against that future, flushes stdout/stderr and exits 0.
//!
//! The layer is generic tower: nothing here knows about Lambda types, so it is tested with plain services.
//! It must wrap a service whose future completes only after its side effect (posting the response) is done,
//! because a parked future never yields its output.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::watch;
use tower::{Layer, Service};

/// The default time allowed for in-flight work after SIGTERM. Lambda's shutdown phase lasts at most 2 s before
/// SIGKILL (the runtime gets only 300-500 ms of it when external extensions are registered: lower
/// `SHUTDOWN_DRAIN_MS` then), and the local cloud's default grace period is 2 s, so stay below both.
pub const DEFAULT_DEADLINE: Duration = Duration::from_millis(1500);

/// Shared in-flight bookkeeping; cheap to clone.
#[derive(Clone, Debug)]
pub struct Drain {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    in_flight: watch::Sender<usize>,
    draining: AtomicBool,
}

/// What happened between the signal and the exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrainReport {
    /// Invocations in flight when the signal arrived.
    pub in_flight_at_signal: usize,
    /// Invocations still in flight when the deadline passed (0: everything finished).
    pub abandoned: usize,
    pub elapsed: Duration,
}

impl DrainReport {
    pub fn completed(&self) -> bool {
        self.abandoned == 0
    }
}

impl Default for Drain {
    fn default() -> Self {
        Self::new()
    }
}

impl Drain {
    pub fn new() -> Self {
        let (in_flight, _) = watch::channel(0);
        Self {
            inner: Arc::new(Inner {
                in_flight,
                draining: AtomicBool::new(false),
            }),
        }
    }

    /// The layer to put outermost on the runtime's service stack.
    pub fn layer(&self) -> DrainLayer {
        DrainLayer {
            drain: self.clone(),
        }
    }

    pub fn in_flight(&self) -> usize {
        *self.inner.in_flight.borrow()
    }

    pub fn is_draining(&self) -> bool {
        self.inner.draining.load(Ordering::SeqCst)
    }

    /// Waits for `signal`, then drains: no worker takes new work, and this resolves once nothing is in
    /// flight or `deadline` has passed, whichever comes first.
    pub async fn shutdown_on<F: Future<Output = ()>>(
        &self,
        signal: F,
        deadline: Duration,
    ) -> DrainReport {
        signal.await;
        self.inner.draining.store(true, Ordering::SeqCst);
        let started = tokio::time::Instant::now();
        let in_flight_at_signal = self.in_flight();
        tracing::info!(
            in_flight = in_flight_at_signal,
            deadline_ms = deadline.as_millis() as u64,
            "shutdown signal: draining in-flight invocations"
        );
        let mut changes = self.inner.in_flight.subscribe();
        let finished = tokio::time::timeout(deadline, changes.wait_for(|n| *n == 0)).await;
        let abandoned = match finished {
            Ok(_) => 0,
            Err(_) => self.in_flight(),
        };
        let report = DrainReport {
            in_flight_at_signal,
            abandoned,
            elapsed: started.elapsed(),
        };
        if report.completed() {
            tracing::info!(
                drained = in_flight_at_signal,
                elapsed_ms = report.elapsed.as_millis() as u64,
                "drained: every in-flight invocation completed"
            );
        } else {
            tracing::warn!(
                abandoned,
                elapsed_ms = report.elapsed.as_millis() as u64,
                "drain deadline passed with invocations still in flight"
            );
        }
        report
    }

    fn enter(&self) -> InFlight {
        self.inner.in_flight.send_modify(|n| *n += 1);
        InFlight {
            drain: self.clone(),
        }
    }
}

/// Counts one invocation while alive (also when its future is dropped or panics).
struct InFlight {
    drain: Drain,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.drain
            .inner
            .in_flight
            .send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// Installs the SIGTERM and SIGINT handlers now (before the runtime starts, so an early signal is not fatal)
/// and returns a future that resolves on the first of them.
pub fn termination_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!(signal = "SIGTERM", "received"),
            _ = int.recv() => tracing::info!(signal = "SIGINT", "received"),
        }
    })
}

/// Flushes stdout and stderr (log lines written before exit must reach CloudWatch).
pub fn flush_logs() {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
}

#[derive(Clone, Debug)]
pub struct DrainLayer {
    drain: Drain,
}

impl<S> Layer<S> for DrainLayer {
    type Service = DrainService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        DrainService {
            inner,
            drain: self.drain.clone(),
        }
    }
}

/// See the module documentation.
#[derive(Clone, Debug)]
pub struct DrainService<S> {
    inner: S,
    drain: Drain,
}

impl<S, R> Service<R> for DrainService<S>
where
    S: Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = DrainFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        // Counted before anything else happens, so a drain that starts now waits for this one.
        let guard = self.drain.enter();
        DrainFuture {
            inner: Box::pin(self.inner.call(request)),
            guard: Some(guard),
            drain: self.drain.clone(),
        }
    }
}

/// The inner future, counted as in flight until it completes; parked for good if draining by then.
pub struct DrainFuture<F> {
    inner: Pin<Box<F>>,
    guard: Option<InFlight>,
    drain: Drain,
}

impl<F: Future> Future for DrainFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        if this.guard.is_none() {
            return Poll::Pending; // parked (see below)
        }
        let output = std::task::ready!(this.inner.as_mut().poll(cx));
        this.guard = None;
        if this.drain.is_draining() {
            // The response is out. Park this worker so that it never asks for another invocation; the process
            // exits once every other in-flight invocation is done. No waker is kept: nothing wakes it again.
            drop(output);
            return Poll::Pending;
        }
        Poll::Ready(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use tower::ServiceExt;

    /// A service that completes each call when `release` fires, counting completions.
    fn gated_service(
        release: watch::Receiver<bool>,
        completed: Arc<AtomicUsize>,
    ) -> impl Service<u32, Response = u32, Error = std::convert::Infallible, Future: Send> + Clone
    {
        tower::service_fn(move |n: u32| {
            let mut release = release.clone();
            let completed = completed.clone();
            async move {
                let _ = release.wait_for(|open| *open).await;
                completed.fetch_add(1, Ordering::SeqCst);
                Ok(n)
            }
        })
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_waits_for_every_in_flight_call_then_reports() {
        let drain = Drain::new();
        let (open, release) = watch::channel(false);
        let completed = Arc::new(AtomicUsize::new(0));
        let service = drain
            .layer()
            .layer(gated_service(release, completed.clone()));
        let calls: Vec<_> = (0..64)
            .map(|n| tokio::spawn(service.clone().oneshot(n)))
            .collect();
        let mut watch_count = drain.inner.in_flight.subscribe();
        let _ = watch_count.wait_for(|n| *n == 64).await;

        let (signal_tx, signal_rx) = tokio::sync::oneshot::channel::<()>();
        let shutdown = tokio::spawn({
            let drain = drain.clone();
            async move {
                drain
                    .shutdown_on(
                        async {
                            let _ = signal_rx.await;
                        },
                        Duration::from_secs(60),
                    )
                    .await
            }
        });
        let _ = signal_tx.send(());
        tokio::task::yield_now().await;
        assert!(!shutdown.is_finished(), "64 calls are still in flight");

        let _ = open.send(true);
        let report = shutdown.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.in_flight_at_signal, 64);
        assert!(report.completed());
        assert_eq!(completed.load(Ordering::SeqCst), 64);
        assert_eq!(drain.in_flight(), 0);
        // Every finished call parked its worker instead of returning for more work.
        for call in &calls {
            assert!(!call.is_finished());
        }
    }

    #[tokio::test(start_paused = true)]
    async fn deadline_bounds_the_drain() {
        let drain = Drain::new();
        let (_open, release) = watch::channel(false);
        let service = drain
            .layer()
            .layer(gated_service(release, Arc::new(AtomicUsize::new(0))));
        let _stuck = tokio::spawn(service.clone().oneshot(1));
        let mut watch_count = drain.inner.in_flight.subscribe();
        let _ = watch_count.wait_for(|n| *n == 1).await;

        let report = drain
            .shutdown_on(async {}, Duration::from_millis(500))
            .await;
        assert_eq!(report.in_flight_at_signal, 1);
        assert_eq!(report.abandoned, 1);
        assert!(!report.completed());
        assert!(report.elapsed >= Duration::from_millis(500));
    }

    #[tokio::test]
    async fn calls_return_normally_until_draining_starts() {
        let drain = Drain::new();
        let (_open, release) = watch::channel(true);
        let service = drain
            .layer()
            .layer(gated_service(release, Arc::new(AtomicUsize::new(0))));
        assert_eq!(service.clone().oneshot(7).await, Ok(7));
        assert_eq!(drain.in_flight(), 0);
        let report = drain.shutdown_on(async {}, DEFAULT_DEADLINE).await;
        assert_eq!(report.in_flight_at_signal, 0);
        assert!(report.completed());
    }

    #[tokio::test]
    async fn a_dropped_call_is_no_longer_in_flight() {
        let drain = Drain::new();
        let (_open, release) = watch::channel(false);
        let mut service = drain
            .layer()
            .layer(gated_service(release, Arc::new(AtomicUsize::new(0))));
        let future = service.call(1);
        assert_eq!(drain.in_flight(), 1);
        drop(future);
        assert_eq!(drain.in_flight(), 0);
    }
}
