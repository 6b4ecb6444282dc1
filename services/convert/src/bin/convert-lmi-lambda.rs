//! ConvertLmi: the convert service on Lambda Managed Instances. `run_concurrent` starts
//! `AWS_LAMBDA_MAX_CONCURRENCY` `/next` workers sharing one `Arc<AppState>`; on SIGTERM no worker takes new
//! work, every in-flight invocation finishes (bounded by `SHUTDOWN_DRAIN_MS`), logs are flushed, exit 0; when
//! the Runtime API stops answering the process exits 1 (`convert::runtime_watch`).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    convert::serve::serve(convert::serve::Mode::ManagedInstances).await
}
