//! BillingManager: the billing module as one Lambda function (Lambda-lith).

use platform::config::Env;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    platform::telemetry::init();
    let sdk = platform::aws::sdk_config().await;
    let state = billing::AppState::from_env(&Env::from_process(), &sdk).await?;
    lambda_http::run(platform::http_log::instrument(billing::app(state))).await
}
