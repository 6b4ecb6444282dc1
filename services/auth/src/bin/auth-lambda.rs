//! AuthManager: the auth module as one Lambda function (Lambda-lith).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    platform::telemetry::init();
    let state = auth::AppState::default();
    lambda_http::run(auth::app(state)).await
}
