//! Exit when the Lambda Runtime API is gone for good.
//!
//! `lambda_runtime` 1.5's `run_concurrent` workers retry a failed `/next` at once and forever (its
//! `concurrent_worker_loop` logs "Error polling /next, retrying" and loops, with no delay). In Lambda the Runtime
//! API outlives the process, but when the host that runs the environment dies first (a local cloud killed with
//! SIGKILL, a crashed emulator), every worker spins on "connection refused" at full CPU. The loop is the
//! library's, so it cannot be slowed from outside; [`runtime_api_lost`] bounds it instead. It probes the Runtime
//! API's address with a plain TCP connect: every [`Watch::interval`] while it answers, and with a delay that
//! doubles from [`Watch::first_retry`] once it stops. After [`Watch::failures`] refusals in a row it returns,
//! and the binary exits non-zero.
//!
//! A probe is a connect and a close: the Runtime API sees a connection without a request, which Lambda's (and
//! the local cloud's) server ignores.

use std::io;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::{sleep, timeout};

/// How often and how patiently the Runtime API is probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watch {
    /// Between probes while the Runtime API answers.
    pub interval: Duration,
    /// Before the first retry after a refused probe; doubles with each further refusal.
    pub first_retry: Duration,
    /// Refused probes in a row that mean the Runtime API is gone.
    pub failures: u32,
    /// A probe that neither connects nor fails within this counts as a refusal.
    pub connect_timeout: Duration,
}

impl Default for Watch {
    /// Gone after 5 refusals over about 3 s (0.1 + 0.2 + 0.4 + 0.8 + 1.6 s), probing every 2 s when healthy.
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(2),
            first_retry: Duration::from_millis(100),
            failures: 5,
            connect_timeout: Duration::from_millis(500),
        }
    }
}

/// Why the watch ended: the Runtime API's address and the last error.
#[derive(Debug, thiserror::Error)]
#[error(
    "the Lambda Runtime API at {address} stopped answering ({failures} refused probes in a row): {last}"
)]
pub struct RuntimeApiLost {
    pub address: String,
    pub failures: u32,
    pub last: io::Error,
}

/// Resolves once `address` (`host:port`, as in `AWS_LAMBDA_RUNTIME_API`) has refused `watch.failures` probes in
/// a row; never resolves while it keeps answering.
pub async fn runtime_api_lost(address: &str, watch: Watch) -> RuntimeApiLost {
    let mut refused = 0u32;
    let mut delay = watch.interval;
    loop {
        sleep(delay).await;
        match probe(address, watch.connect_timeout).await {
            Ok(()) => {
                refused = 0;
                delay = watch.interval;
            }
            Err(last) => {
                refused += 1;
                if refused >= watch.failures.max(1) {
                    return RuntimeApiLost {
                        address: address.to_owned(),
                        failures: refused,
                        last,
                    };
                }
                delay = watch.first_retry.saturating_mul(1 << (refused - 1).min(16));
            }
        }
    }
}

async fn probe(address: &str, connect_timeout: Duration) -> io::Result<()> {
    match timeout(connect_timeout, TcpStream::connect(address)).await {
        Ok(connected) => connected.map(drop),
        Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;
    use tokio::net::TcpListener;

    fn quick() -> Watch {
        Watch {
            interval: Duration::from_millis(20),
            first_retry: Duration::from_millis(10),
            failures: 4,
            connect_timeout: Duration::from_millis(200),
        }
    }

    #[tokio::test]
    async fn keeps_watching_while_the_runtime_api_answers() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        let outcome = timeout(
            Duration::from_millis(300),
            runtime_api_lost(&address, quick()),
        )
        .await;
        assert!(outcome.is_err(), "a listening Runtime API is not lost");
    }

    #[tokio::test]
    async fn returns_after_the_configured_refusals_in_a_row_with_a_doubling_delay() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        drop(listener); // the host is gone: connects are refused
        let started = Instant::now();
        let lost = timeout(Duration::from_secs(5), runtime_api_lost(&address, quick()))
            .await
            .expect("gives up");
        let elapsed = started.elapsed();
        assert_eq!(lost.failures, 4);
        assert_eq!(lost.address, address);
        // 20 ms before the first probe, then 10 + 20 + 40 ms between the four refusals
        assert!(
            elapsed >= Duration::from_millis(90),
            "backs off between probes: {elapsed:?}"
        );
        assert!(lost.to_string().contains("stopped answering"), "{lost}");
    }

    #[tokio::test]
    async fn an_answer_resets_the_count() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        let watch = Watch {
            failures: 2,
            ..quick()
        };
        let mut watched = tokio::spawn({
            let address = address.clone();
            async move { runtime_api_lost(&address, watch).await }
        });
        let healthy = timeout(Duration::from_millis(100), &mut watched).await; // several healthy probes
        assert!(healthy.is_err(), "healthy probes never end the watch");
        drop(listener);
        let lost = timeout(Duration::from_secs(5), watched)
            .await
            .expect("gives up")
            .expect("task");
        assert_eq!(lost.failures, 2);
    }
}
