//! AuthManager: the auth module as one Lambda function (Lambda-lith).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    platform::telemetry::init();
    let env = platform::config::Env::from_process();
    let sdk = platform::aws::sdk_config().await;
    let state = auth::AppState::from_env(&env, &sdk)
        .await
        .inspect_err(|err| {
            tracing::error!(error = %err, "auth cannot start");
        })?;
    lambda_http::run(platform::http_log::instrument(auth::app(state))).await
}
