//! DeployCheck: the pre-traffic hook of every function's CodeDeploy deployment.

use lambda_runtime::service_fn;
use platform::config::Env;
use platform::startup::{InitTimer, Phase};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let mut init = InitTimer::start();
    platform::telemetry::init();
    init.mark(Phase::Telemetry);
    let sdk = platform::aws::sdk_config().await;
    init.mark(Phase::SdkConfig);
    let hook = deploy_check::from_env(&Env::from_process(), &sdk)?;
    init.mark(Phase::State);
    init.ready();
    lambda_runtime::run(service_fn(|event| deploy_check::handler(&hook, event))).await
}
