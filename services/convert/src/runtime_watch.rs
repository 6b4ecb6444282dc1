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
//! The watch runs on a thread of its own, not on the Tokio runtime: workers that retry a refused connect at
//! once keep every runtime thread busy, and a timer on that runtime would not fire while they spin.
//!
//! A probe is a connect and a close: the Runtime API sees a connection without a request, which Lambda's (and
//! the local cloud's) server ignores.

use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::thread::sleep;
use std::time::Duration;

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

/// Returns once `address` (`host:port`, as in `AWS_LAMBDA_RUNTIME_API`) has refused `watch.failures` probes in
/// a row; never returns while it keeps answering. Blocks the calling thread.
pub fn runtime_api_lost(address: &str, watch: Watch) -> RuntimeApiLost {
    let mut refused = 0u32;
    let mut delay = watch.interval;
    loop {
        sleep(delay);
        match probe(address, watch.connect_timeout) {
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

/// Starts the watch on its own thread; when the Runtime API is lost, `on_lost` runs there (it should exit the
/// process).
pub fn spawn(
    address: String,
    watch: Watch,
    on_lost: impl FnOnce(RuntimeApiLost) + Send + 'static,
) -> io::Result<()> {
    std::thread::Builder::new()
        .name("runtime-api-watch".into())
        .spawn(move || on_lost(runtime_api_lost(&address, watch)))
        .map(drop)
}

fn probe(address: &str, connect_timeout: Duration) -> io::Result<()> {
    let mut last = io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to");
    for socket in address.to_socket_addrs()? {
        match TcpStream::connect_timeout(&socket, connect_timeout) {
            Ok(_) => return Ok(()),
            Err(error) => last = error,
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::sync::mpsc;
    use std::time::Instant;

    fn quick() -> Watch {
        Watch {
            interval: Duration::from_millis(20),
            first_retry: Duration::from_millis(10),
            failures: 4,
            connect_timeout: Duration::from_millis(200),
        }
    }

    fn bound() -> (TcpListener, String) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        let address = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("address: {e}"))
            .to_string();
        (listener, address)
    }

    fn watched(address: &str, watch: Watch) -> mpsc::Receiver<RuntimeApiLost> {
        let (tell, told) = mpsc::channel();
        spawn(address.to_owned(), watch, move |lost| {
            let _ = tell.send(lost);
        })
        .unwrap_or_else(|e| panic!("spawn: {e}"));
        told
    }

    #[test]
    fn keeps_watching_while_the_runtime_api_answers() {
        let (_listener, address) = bound();
        let told = watched(&address, quick());
        assert!(
            told.recv_timeout(Duration::from_millis(300)).is_err(),
            "a listening Runtime API is not lost"
        );
    }

    #[test]
    fn returns_after_the_configured_refusals_in_a_row_with_a_doubling_delay() {
        let (listener, address) = bound();
        drop(listener); // the host is gone: connects are refused
        let started = Instant::now();
        let lost = watched(&address, quick())
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("gives up: {e:?}"));
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

    #[test]
    fn an_answer_resets_the_count() {
        let (listener, address) = bound();
        let told = watched(
            &address,
            Watch {
                failures: 2,
                ..quick()
            },
        );
        assert!(
            told.recv_timeout(Duration::from_millis(100)).is_err(),
            "healthy probes never end the watch"
        );
        drop(listener);
        let lost = told
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("gives up: {e:?}"));
        assert_eq!(lost.failures, 2);
    }
}
