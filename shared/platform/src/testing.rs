//! Router test support (feature `test-util`): reading a response body whole.

use axum::body::{Bytes, HttpBody};
use http_body_util::BodyExt;

/// The whole of `body`; empty when reading it fails.
pub async fn body_bytes<B: HttpBody>(body: B) -> Bytes {
    body.collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default()
}
