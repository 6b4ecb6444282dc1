//! DeployCheck: the pre-traffic hook of every function's CodeDeploy deployment.

use lambda_runtime::service_fn;
use platform::config::Env;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    platform::telemetry::init();
    let sdk = platform::aws::sdk_config().await;
    let hook = deploy_check::from_env(&Env::from_process(), &sdk)?;
    lambda_runtime::run(service_fn(|event| deploy_check::handler(&hook, event))).await
}
