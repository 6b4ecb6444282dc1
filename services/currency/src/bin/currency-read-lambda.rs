//! CurrencyRead: `GET /currencies`, `GET /currencies/{code}` (public, cached).

use platform::config::Env;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    platform::telemetry::init();
    let sdk = platform::aws::sdk_config().await;
    let state = currency::read_state_from_env(&Env::from_process(), &sdk)?;
    lambda_http::run(platform::http_log::instrument(currency::read_app(state))).await
}
