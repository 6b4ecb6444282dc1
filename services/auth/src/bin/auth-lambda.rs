//! AuthManager: the auth module as one Lambda function (Lambda-lith).

use platform::startup::{InitTimer, Phase, deferred_router};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let mut init = InitTimer::start();
    platform::telemetry::init();
    init.mark(Phase::Telemetry);
    let env = platform::config::Env::from_process();
    let sdk = platform::aws::sdk_config().await;
    init.mark(Phase::SdkConfig);
    let pending = auth::AppState::prepare(&env, &sdk)
        .inspect_err(|err| tracing::error!(error = %err, "auth cannot start"))?;
    init.mark(Phase::State);
    // The signing keys and the issuer are read in the background: the first request waits for what is left.
    let app = deferred_router("auth state", move || {
        let pending = pending.clone();
        async move {
            Ok::<_, auth::StartupError>(platform::http_log::instrument(auth::app(
                pending.load().await?,
            )))
        }
    });
    init.mark(Phase::Router);
    init.ready();
    lambda_http::run(app).await
}
