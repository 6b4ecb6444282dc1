//! The blog service's one error type and its single mapping to problem+json.

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use platform::Problem;
use platform::error::ServiceError;
use platform::pagination::PaginationError;

use crate::store::StoreError;

pub use platform::openapi::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum BlogError {
    #[error("No post with this id.")]
    PostNotFound,
    #[error("No comment with this id.")]
    CommentNotFound,
    #[error("Only the author may {0}.")]
    Forbidden(&'static str),
    /// `If-Match` named another version (412).
    #[error("The post has changed: `If-Match` does not match its current ETag.")]
    PreconditionFailed { current: u64 },
    /// The body's `version` is not the current one (409).
    #[error("The post has changed: `version` is not its current version.")]
    VersionConflict { current: u64 },
    #[error("Updates must name the version they replace: send `If-Match` or a `version` field.")]
    PreconditionRequired,
    #[error("{0}")]
    BadRequest(String),
    #[error("The request has invalid fields.")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    TooLarge(String),
    #[error(transparent)]
    Pagination(#[from] PaginationError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ServiceError for BlogError {
    fn problem(&self) -> Problem {
        let detail = self.to_string();
        match self {
            BlogError::PostNotFound | BlogError::CommentNotFound => {
                Problem::client(StatusCode::NOT_FOUND, detail)
            }
            BlogError::Forbidden(_) => Problem::client(StatusCode::FORBIDDEN, detail),
            BlogError::PreconditionFailed { current } => {
                Problem::client(StatusCode::PRECONDITION_FAILED, detail)
                    .with_extension("current_version", (*current).into())
            }
            BlogError::VersionConflict { current } => Problem::client(StatusCode::CONFLICT, detail)
                .with_extension("current_version", (*current).into()),
            BlogError::PreconditionRequired => {
                Problem::client(StatusCode::PRECONDITION_REQUIRED, detail)
            }
            BlogError::BadRequest(_) => Problem::client(StatusCode::BAD_REQUEST, detail),
            BlogError::Validation(errors) => {
                Problem::client(StatusCode::UNPROCESSABLE_ENTITY, detail)
                    .with_extension("errors", serde_json::to_value(errors).unwrap_or_default())
            }
            BlogError::TooLarge(_) => Problem::client(StatusCode::PAYLOAD_TOO_LARGE, detail),
            BlogError::Pagination(e) => e.clone().into(),
            BlogError::Store(StoreError::Failure(failure)) => failure.problem(),
            BlogError::Store(StoreError::NotFound | StoreError::Conflict) => Problem::internal(),
        }
    }
}

impl IntoResponse for BlogError {
    fn into_response(self) -> Response {
        platform::error::respond(self)
    }
}
