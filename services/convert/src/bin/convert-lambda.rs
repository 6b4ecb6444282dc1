//! Convert: the convert service as a standard Lambda function (one invocation per environment). Same app
//! and same SIGTERM draining as `convert-lmi-lambda`; the runtime is `lambda_http::run`'s (the sequential
//! `/next` loop with its tracing layer), built explicitly so the drain layer can wrap it.

use std::sync::Arc;

use convert::drain::{self, Drain};
use lambda_http::lambda_runtime::layers::TracingLayer;
use platform::{config::Env, http_log::instrument};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    platform::telemetry::init();
    let env = Env::from_process();
    let deadline = convert::drain_deadline(&env)?;
    let signal = drain::termination_signal()?;
    let sdk = platform::aws::sdk_config().await;
    let app = convert::app(Arc::new(convert::AppState::from_env(&env, &sdk)?));
    let drain = Drain::new();
    let runtime = lambda_http::runtime(convert::buffered::buffered(instrument(app)))
        .layer(TracingLayer::new())
        .layer(drain.layer());
    tokio::select! {
        result = runtime.run() => result,
        _ = drain.shutdown_on(signal, deadline) => {
            drain::flush_logs();
            std::process::exit(0)
        }
    }
}
