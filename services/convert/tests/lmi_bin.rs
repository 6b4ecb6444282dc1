//! The `convert-lmi-lambda` binary exits on its own when its Runtime API goes away (the host that ran it was
//! killed), instead of spinning on `/next` for ever: `convert::runtime_watch`.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use testkit::process::offline_lambda;

/// A Runtime API that accepts connections and never answers: the binary's workers sit in `/next`.
struct SilentRuntimeApi {
    address: String,
    accepted: Arc<Mutex<Vec<TcpStream>>>,
    stop: Arc<AtomicBool>,
    acceptor: std::thread::JoinHandle<()>,
}

impl SilentRuntimeApi {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        let address = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("address: {e}"))
            .to_string();
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|e| panic!("nonblocking: {e}"));
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (into, stopped) = (Arc::clone(&accepted), Arc::clone(&stop));
        // The thread owns the only listening socket: it closes when the thread ends.
        let acceptor = std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        if let Ok(mut held) = into.lock() {
                            held.push(stream);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Self {
            address,
            accepted,
            stop,
            acceptor,
        }
    }

    fn connections(&self) -> usize {
        self.accepted.lock().map(|held| held.len()).unwrap_or(0)
    }

    /// The host dies: the listening socket closes and every held connection is shut down.
    fn vanish(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.acceptor.join();
        let held = self
            .accepted
            .lock()
            .map(|mut held| std::mem::take(&mut *held))
            .unwrap_or_default();
        for stream in held {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }
}

fn spawn_lmi(runtime_api: &str) -> Child {
    offline_lambda(env!("CARGO_BIN_EXE_convert-lmi-lambda"))
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_MAX_CONCURRENCY", "2")
        .env("AWS_LAMBDA_FUNCTION_NAME", "ConvertLmi")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "2048")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("CURRENCIES_TABLE", "currencies")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"))
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    })
}

fn wait_until(what: &str, deadline: Duration, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + deadline;
    while !done() {
        assert!(
            Instant::now() < until,
            "timed out after {deadline:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn exits_non_zero_soon_after_its_runtime_api_goes_away() {
    let api = SilentRuntimeApi::start();
    let address = api.address.clone();
    let mut child = spawn_lmi(&address);
    // Drained while it runs: the spinning workers log a warning per failed /next, which would fill a pipe.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    wait_until(
        "both workers to poll /next",
        Duration::from_secs(30),
        || api.connections() >= 2,
    );
    assert!(
        child.try_wait().ok().flatten().is_none(),
        "runs while its Runtime API is there"
    );

    api.vanish();
    let mut status = None;
    // 2 s healthy interval + about 3 s of doubling retries, with room for a loaded machine.
    wait_until("the binary to exit", Duration::from_secs(30), || {
        status = child.try_wait().ok().flatten();
        status.is_some()
    });
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let code = status.and_then(|s| s.code());
    assert_eq!(code, Some(1), "exit code; output: {stdout}{stderr}");
    assert!(
        stdout.contains("the Runtime API is gone") || stderr.contains("the Runtime API is gone"),
        "{stdout}{stderr}"
    );
    assert!(
        stdout.contains(&address) || stderr.contains(&address),
        "names the address: {stdout}{stderr}"
    );
}
