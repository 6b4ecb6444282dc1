//! CurrencyProjector: SQS batches of commands → the read model, with partial batch failures.

use lambda_runtime::{LambdaEvent, service_fn};
use platform::config::Env;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    platform::telemetry::init();
    let sdk = platform::aws::sdk_config().await;
    let state = currency::projector_state_from_env(&Env::from_process(), &sdk)?;
    let state = &state;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| {
        currency::projector::handler(state, event)
    }))
    .await
}
