//! Buffered responses: an axum app as a service whose responses are `Send + Sync`.
//!
//! `lambda_http::run_concurrent`, `runtime` and `runtime_concurrent` (1.3) require the handler's response to be
//! `Send + Sync`, and `axum::response::Response` is not (its body is an `UnsyncBoxBody`), so
//! `lambda_http::run_concurrent(router)` does not compile. A payload-2.0 response is a whole JSON document
//! anyway, so collecting the body first costs nothing extra: lambda_http then applies the same
//! content-type → text/base64 rules it applies to axum responses under `run`.

use axum::Router;
use axum::body::{Bytes, HttpBody};
use http_body_util::{BodyExt, Full};
use tower::{Service, ServiceExt};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// `app` as a `Clone + Send` service over any request body axum accepts, answering `Response<Full<Bytes>>`.
pub fn buffered<B>(
    app: Router,
) -> impl Service<
    http::Request<B>,
    Response = http::Response<Full<Bytes>>,
    Error = BoxError,
    Future: Send + 'static,
> + Clone
+ Send
+ 'static
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    tower::service_fn(move |request: http::Request<B>| {
        let app = app.clone();
        async move {
            let response = match app.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            let (parts, body) = response.into_parts();
            let bytes = body.collect().await?.to_bytes();
            Ok::<_, BoxError>(http::Response::from_parts(parts, Full::new(bytes)))
        }
    })
}
