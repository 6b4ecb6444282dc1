//! DeployCheck: the pre-traffic hook of every function's CodeDeploy deployment.

use deploy_check::HookEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use platform::config::Env;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    platform::telemetry::init();
    let sdk = platform::aws::sdk_config().await;
    let hook = deploy_check::from_env(&Env::from_process(), &sdk)?;
    let hook = &hook;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<HookEvent>| async move {
            hook.handle(&event.payload)
                .await
                .map(|_| ())
                .map_err(lambda_runtime::Error::from)
        },
    ))
    .await
}
