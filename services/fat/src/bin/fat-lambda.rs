//! Fat: every service's routes in one Lambda function, with /openapi.json and /docs.

use platform::config::Env;
use platform::startup::{InitTimer, Phase, deferred_router};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let mut init = InitTimer::start();
    platform::telemetry::init();
    init.mark(Phase::Telemetry);
    let sdk = platform::aws::sdk_config().await;
    init.mark(Phase::SdkConfig);
    let env = Env::from_process();
    fat::FatState::check(&env, &sdk)
        .inspect_err(|err| tracing::error!(error = %err, "the fat function cannot start"))?;
    init.mark(Phase::State);
    // The secrets (signing keys, issuer, pagination keys) are read in the background from here on.
    let app = deferred_router("fat state", move || {
        let (env, sdk) = (env.clone(), sdk.clone());
        async move {
            Ok::<_, fat::StartupError>(platform::http_log::instrument(fat::app(
                fat::FatState::from_env(&env, &sdk).await?,
            )))
        }
    });
    init.mark(Phase::Router);
    init.ready();
    lambda_http::run(app).await
}
