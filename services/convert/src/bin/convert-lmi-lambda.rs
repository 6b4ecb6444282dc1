//! ConvertLmi: the convert service on Lambda Managed Instances. `run_concurrent` starts
//! `AWS_LAMBDA_MAX_CONCURRENCY` `/next` workers sharing one `Arc<AppState>`; on SIGTERM no worker takes new
//! work, every in-flight invocation finishes (bounded by `SHUTDOWN_DRAIN_MS`), logs are flushed, exit 0.

use std::sync::Arc;

use convert::drain::{self, Drain};
use lambda_http::lambda_runtime::layers::TracingLayer;
use platform::{config::Env, http_log::instrument};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    platform::telemetry::init();
    let env = Env::from_process();
    let deadline = convert::drain_deadline(&env)?;
    let signal = drain::termination_signal()?; // installed before the first /next
    let sdk = platform::aws::sdk_config().await;
    let app = convert::app(Arc::new(convert::AppState::from_env(&env, &sdk)?));
    let drain = Drain::new();
    let runtime = lambda_http::runtime_concurrent(convert::buffered::buffered(instrument(app)))
        .layer(TracingLayer::new())
        .layer(drain.layer()); // outermost: counts each invocation until its response is posted
    tokio::select! {
        result = runtime.run_concurrent() => result,
        _ = drain.shutdown_on(signal, deadline) => {
            drain::flush_logs();
            std::process::exit(0) // idle workers sit in /next; don't wait for them
        }
    }
}
