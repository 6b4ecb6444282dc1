//! CurrencyProjector: SQS batches of commands → the read model, with partial batch failures.

use lambda_runtime::{LambdaEvent, service_fn};
use platform::config::Env;
use platform::startup::{InitTimer, Phase};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let mut init = InitTimer::start();
    platform::telemetry::init();
    init.mark(Phase::Telemetry);
    let sdk = platform::aws::sdk_config().await;
    init.mark(Phase::SdkConfig);
    let state = currency::projector_state_from_env(&Env::from_process(), &sdk)?;
    let state = &state;
    init.mark(Phase::State);
    init.ready();
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| {
        currency::projector::handler(state, event)
    }))
    .await
}
