//! Fat: every service's routes in one Lambda function, with /openapi.json and /docs.

use platform::config::Env;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    platform::telemetry::init();
    let sdk = platform::aws::sdk_config().await;
    let state = fat::FatState::from_env(&Env::from_process(), &sdk)
        .await
        .inspect_err(|err| tracing::error!(error = %err, "the fat function cannot start"))?;
    lambda_http::run(platform::http_log::instrument(fat::app(state))).await
}
