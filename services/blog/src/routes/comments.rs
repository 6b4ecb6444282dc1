//! `/posts/{id}/comments` and `/comments/{id}`.
//!
//! A comment may be deleted by its own author or by the author of the post it is on (moderation of
//! one's own posts). Nobody edits comments.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use platform::Json;
use platform::auth::Principal;
use platform::pagination::parse_limit;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::posts::{post_id, query_rejection};
use crate::AppState;
use crate::domain::{self, Comment, NewComment};
use crate::error::BlogError;
use crate::store::StoreError;

/// A page of comments.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CommentPage {
    pub items: Vec<Comment>,
    /// Pass as `next_token` for the next page; `null` on the last page.
    pub next_token: Option<String>,
}

/// Query of `GET /posts/{id}/comments`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListCommentsQuery {
    /// Page size, 1–100 (default 20).
    #[param(value_type = Option<u16>, minimum = 1, maximum = 100, example = 20)]
    pub limit: Option<String>,
    /// The `next_token` of the previous page (opaque, signed: only a token this listing returned is valid).
    #[param(schema_with = platform::schema::next_token)]
    pub next_token: Option<String>,
}

/// Comment on a post as the caller.
#[utoipa::path(
    post, path = "/posts/{id}/comments", tag = "blog",
    params(("id" = String, Path, description = "Post id (UUID)")),
    request_body = NewComment,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Comment),
        platform::openapi::MalformedJson,
        platform::openapi::Unauthorized,
        (status = 404, description = "No such post", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 413, description = "Request body too large", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        platform::openapi::NotJson,
        (status = 422, description = "Invalid fields", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        platform::openapi::StorageUnavailable,
    )
)]
pub async fn create_comment(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(input): Json<NewComment>,
) -> Result<(StatusCode, Json<Comment>), BlogError> {
    let post_id = post_id(&id)?;
    domain::validate_comment(&input.body)?;
    let post = state
        .store
        .get_post(&post_id)
        .await?
        .ok_or(BlogError::PostNotFound)?;
    let comment = Comment {
        id: platform::ids::new_id(),
        post_id,
        author_id: principal.user_id,
        body: input.body,
        created_at: platform::ids::now_rfc3339(),
    };
    match state.store.create_comment(&comment, &post.author_id).await {
        Ok(()) => Ok((StatusCode::CREATED, Json(comment))),
        Err(StoreError::NotFound) => Err(BlogError::PostNotFound),
        Err(e) => Err(e.into()),
    }
}

/// List a post's comments, oldest first. Public.
#[utoipa::path(
    get, path = "/posts/{id}/comments", tag = "blog",
    params(("id" = String, Path, description = "Post id (UUID)"), ListCommentsQuery),
    responses(
        (status = 200, description = "A page of comments (may be short or empty while `next_token` is set)", body = CommentPage),
        platform::openapi::BadPage,
        (status = 404, description = "No such post, or a `next_token` this listing did not issue", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        platform::openapi::StorageUnavailable,
    )
)]
pub async fn list_comments(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<ListCommentsQuery>, QueryRejection>,
) -> Result<Json<CommentPage>, BlogError> {
    let post_id = post_id(&id)?;
    let Query(query) = query.map_err(query_rejection)?;
    let limit = parse_limit(query.limit.as_deref())?;
    let scope = format!("comments:{post_id}");
    let pages = state.pages.codec().await?;
    let after = pages.decode_opt(&scope, query.next_token.as_deref())?;
    if state.store.get_post(&post_id).await?.is_none() {
        return Err(BlogError::PostNotFound);
    }
    let page = state
        .store
        .list_comments(&post_id, limit, after.as_ref())
        .await?;
    Ok(Json(CommentPage {
        next_token: page.next.as_ref().map(|c| pages.encode(&scope, c)),
        items: page.items,
    }))
}

/// Delete a comment: its author or the post's author may.
#[utoipa::path(
    delete, path = "/comments/{id}", tag = "blog",
    params(("id" = String, Path, description = "Comment id (UUID)")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        platform::openapi::Unauthorized,
        (status = 403, description = "Neither the comment's nor the post's author", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such comment (or its post is gone)", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        platform::openapi::StorageUnavailable,
    )
)]
pub async fn delete_comment(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, BlogError> {
    let id = platform::ids::parse_id(&id).ok_or(BlogError::CommentNotFound)?;
    let record = state
        .store
        .get_comment(&id)
        .await?
        .ok_or(BlogError::CommentNotFound)?;
    // A comment whose post was deleted (an orphan awaiting the sweep) does not exist for clients.
    if state
        .store
        .get_post(&record.comment.post_id)
        .await?
        .is_none()
    {
        return Err(BlogError::CommentNotFound);
    }
    let me = principal.user_id.as_str();
    if record.comment.author_id != me && record.post_author != me {
        return Err(BlogError::Forbidden(
            "delete this comment (the post's author may too)",
        ));
    }
    match state.store.delete_comment(&record.comment).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::NotFound) => Err(BlogError::CommentNotFound),
        Err(e) => Err(e.into()),
    }
}
