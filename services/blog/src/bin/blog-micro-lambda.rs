//! BlogMicro<Operation>: one blog operation per function (the micro-Lambda topology), `BLOG_OPERATION` picks it.
//!
//! One artifact for every BlogMicro* function: each gets its own IAM role, memory, concurrency and cold starts
//! from the template, while a binary per route would multiply build time and deploy size for the same code.

use platform::config::Env;
use platform::startup::{InitTimer, Phase};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let mut init = InitTimer::start();
    platform::telemetry::init();
    init.mark(Phase::Telemetry);
    let env = Env::from_process();
    // Missing or unknown → the process exits before the first /next, with the known names in the log.
    let operation = env
        .required("BLOG_OPERATION")
        .map_err(lambda_http::Error::from)
        .and_then(|name| Ok(name.parse::<blog::Operation>()?))
        .inspect_err(|err| tracing::error!(error = %err, "the blog micro function cannot start"))?;
    let sdk = platform::aws::sdk_config().await;
    init.mark(Phase::SdkConfig);
    let state = blog::AppState::from_env(&env, &sdk).await?;
    init.mark(Phase::State);
    tracing::info!(%operation, "micro function serves one blog operation");
    let app = platform::http_log::instrument(blog::operation_app(operation, state));
    init.mark(Phase::Router);
    init.ready();
    lambda_http::run(app).await
}
