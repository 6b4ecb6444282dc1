//! A moto server per test: spawned on a free loopback port, killed on drop.
//!
//! Needs the repository's `.venv` with moto (`.venv/bin/moto_server`; `./inv setup` installs it).
//!
//! moto's server handles requests on several threads without locking its DynamoDB backend, so two
//! concurrent conditional writes can both pass their condition — which real DynamoDB never allows
//! (item writes and transactions are atomic). The race tests would then fail for moto's sake, not
//! ours. So we start moto's own `main` with every request serialised through one lock ([`LOCKED_MOTO`]):
//! clients still race (read, then conditional write), the backend is atomic per request like DynamoDB.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};

pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `moto_server`'s entry point with each request handled under one lock.
const LOCKED_MOTO: &str = r#"
import sys, threading
import moto.server as server
lock = threading.Lock()
run_simple = server.run_simple
def locked_run_simple(host, port, app, **kwargs):
    def locked_app(environ, start_response):
        with lock:
            return list(app(environ, start_response))
    run_simple(host, port, locked_app, **kwargs)
server.run_simple = locked_run_simple
server.main(sys.argv[1:])
"#;

/// The virtualenv's python, after checking moto is installed there.
fn moto_binary() -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin");
    let moto = venv.join("moto_server");
    assert!(
        moto.exists(),
        "moto_server not found at {}: create the virtualenv first (`./inv setup`, or `python -m venv .venv && .venv/bin/pip install -r requirements.lock`)",
        moto.display()
    );
    venv.join("python")
}

impl Moto {
    pub fn start() -> Self {
        let binary = moto_binary();
        // Retry on the (unlikely) race of another process taking the port between probe and bind.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .unwrap_or_else(|e| panic!("no free port: {e}"));
            let mut child = Command::new(&binary)
                .args([
                    "-c",
                    LOCKED_MOTO,
                    "-H",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // exited (port taken?): try another port
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Self {
                        child,
                        endpoint: format!("http://127.0.0.1:{port}"),
                    };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("moto_server did not start listening within 20 s");
    }

    pub fn client(&self) -> aws_sdk_dynamodb::Client {
        client_for(&self.endpoint)
    }

    /// Shared SDK configuration for this server (test credentials, `us-east-1`), as a service's `from_env`
    /// receives it.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "moto"))
            .load()
            .await
    }

    /// An SQS client for this server (feature `sqs`).
    #[cfg(feature = "sqs")]
    pub fn sqs_client(&self) -> aws_sdk_sqs::Client {
        sqs_client_for(&self.endpoint)
    }
}

/// An SQS client for `endpoint` with test credentials (feature `sqs`).
#[cfg(feature = "sqs")]
pub fn sqs_client_for(endpoint: &str) -> aws_sdk_sqs::Client {
    use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "moto"))
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

/// A DynamoDB client for `endpoint` with test credentials.
pub fn client_for(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "moto"))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// An endpoint nobody listens on (a port bound, then released).
pub fn dead_endpoint() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"));
    format!("http://127.0.0.1:{port}")
}

/// A table name no other test uses.
pub fn unique_table(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}
