//! Convert: the convert service as a standard Lambda function (one invocation per environment). Same app
//! and same SIGTERM draining as `convert-lmi-lambda`; the runtime is `lambda_http::run`'s (the sequential
//! `/next` loop with its tracing layer), built explicitly so the drain layer can wrap it.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    convert::serve::serve(convert::serve::Mode::Standard).await
}
