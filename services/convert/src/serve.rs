//! The one entry point of both convert binaries: the same app, SIGTERM draining and Runtime API watch, with the
//! runtime each topology needs ([`Mode`]).

use std::future::Future;
use std::sync::Arc;

use lambda_http::lambda_runtime::layers::TracingLayer;
use platform::startup::{InitTimer, Phase};
use platform::{config::Env, http_log::instrument};

use crate::drain::{self, Drain};
use crate::runtime_watch::{self, Watch};
use crate::{AppState, app, buffered, drain_deadline};

/// How the environment takes invocations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Standard Lambda: one invocation per environment (`lambda_http`'s sequential `/next` loop).
    Standard,
    /// Lambda Managed Instances: `AWS_LAMBDA_MAX_CONCURRENCY` `/next` workers sharing one state
    /// (`run_concurrent`), watched so that a vanished Runtime API ends the process instead of a busy loop.
    ManagedInstances,
}

/// Runs the convert service until the runtime stops, SIGTERM has drained in-flight work (exit 0), or, under
/// [`Mode::ManagedInstances`], the Runtime API is gone (exit 1).
pub async fn serve(mode: Mode) -> Result<(), lambda_http::Error> {
    let mut init = InitTimer::start();
    platform::telemetry::init();
    init.mark(Phase::Telemetry);
    let env = Env::from_process();
    let deadline = drain_deadline(&env)?;
    let signal = drain::termination_signal()?; // installed before the first /next
    let sdk = platform::aws::sdk_config().await;
    init.mark(Phase::SdkConfig);
    let state = Arc::new(AppState::from_env(&env, &sdk)?);
    init.mark(Phase::State);
    let service = buffered::buffered(instrument(app(state)));
    init.mark(Phase::Router);
    let drain = Drain::new();
    let stopped = drain.shutdown_on(signal, deadline);
    init.ready();
    match mode {
        Mode::Standard => {
            let runtime = lambda_http::runtime(service)
                .layer(TracingLayer::new())
                .layer(drain.layer());
            until_stopped(runtime.run(), stopped).await
        }
        Mode::ManagedInstances => {
            let runtime = lambda_http::runtime_concurrent(service)
                .layer(TracingLayer::new())
                .layer(drain.layer()); // outermost: counts each invocation until its response is posted
            if let Some(address) = env.optional("AWS_LAMBDA_RUNTIME_API") {
                runtime_watch::spawn(address, Watch::default(), |lost| {
                    tracing::error!(error = %lost, "exiting: the Runtime API is gone");
                    drain::flush_logs();
                    std::process::exit(1)
                })?;
            }
            until_stopped(runtime.run_concurrent(), stopped).await
        }
    }
}

async fn until_stopped(
    run: impl Future<Output = Result<(), lambda_http::Error>>,
    stopped: impl Future<Output = drain::DrainReport>,
) -> Result<(), lambda_http::Error> {
    tokio::select! {
        result = run => result,
        _ = stopped => {
            drain::flush_logs();
            std::process::exit(0) // idle workers sit in /next; don't wait for them
        }
    }
}
