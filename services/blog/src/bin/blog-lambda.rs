//! BlogManager: the blog module as one Lambda function (Lambda-lith).

use platform::config::Env;
use platform::startup::{InitTimer, Phase};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let mut init = InitTimer::start();
    platform::telemetry::init();
    init.mark(Phase::Telemetry);
    let sdk = platform::aws::sdk_config().await;
    init.mark(Phase::SdkConfig);
    let state = blog::AppState::from_env(&Env::from_process(), &sdk).await?;
    init.mark(Phase::State);
    let app = platform::http_log::instrument(blog::app(state));
    init.mark(Phase::Router);
    init.ready();
    lambda_http::run(app).await
}
