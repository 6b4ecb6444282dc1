//! `/posts` and `/posts/{id}`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use platform::Json;
use platform::auth::Principal;
use platform::pagination::parse_limit;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::domain::{self, NewPost, Post, UpdatePost};
use crate::error::BlogError;
use crate::store::StoreError;

/// Longest `author` filter accepted (user ids are far shorter; DynamoDB keys stop at 2 KiB).
const MAX_AUTHOR_BYTES: usize = 256;

/// A page of posts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PostPage {
    pub items: Vec<Post>,
    /// Pass as `next_token` for the next page; `null` on the last page.
    pub next_token: Option<String>,
}

/// Query of `GET /posts`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListPostsQuery {
    /// Only this author's posts.
    pub author: Option<String>,
    /// Page size, 1–100 (default 20).
    #[param(value_type = Option<u16>, minimum = 1, maximum = 100, example = 20)]
    pub limit: Option<String>,
    /// The `next_token` of the previous page (opaque, signed: only a token this listing returned is valid).
    #[param(schema_with = platform::schema::next_token)]
    pub next_token: Option<String>,
}

/// The strong ETag of a post version: `"<version>"`.
pub fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// Whether an `If-Match` value matches `version` (strong comparison, RFC 9110 §13.1.1).
fn if_match_allows(header: &str, version: u64) -> bool {
    let header = header.trim();
    if header == "*" {
        return true;
    }
    header
        .split(',')
        .map(str::trim)
        .filter(|tag| !tag.starts_with("W/"))
        .filter_map(|tag| tag.strip_prefix('"').and_then(|t| t.strip_suffix('"')))
        .any(|tag| tag.parse::<u64>() == Ok(version))
}

fn if_match(headers: &HeaderMap) -> Result<Option<String>, BlogError> {
    let mut values = headers.get_all(header::IF_MATCH).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    let mut joined = first
        .to_str()
        .map_err(|_| BlogError::BadRequest("`If-Match` is not valid ASCII.".into()))?
        .to_owned();
    for more in values {
        joined.push(',');
        joined.push_str(
            more.to_str()
                .map_err(|_| BlogError::BadRequest("`If-Match` is not valid ASCII.".into()))?,
        );
    }
    Ok(Some(joined))
}

pub(crate) fn query_rejection(rejection: QueryRejection) -> BlogError {
    BlogError::BadRequest(format!("Invalid query string: {}", rejection.body_text()))
}

pub(crate) fn post_id(raw: &str) -> Result<String, BlogError> {
    platform::ids::parse_id(raw).ok_or(BlogError::PostNotFound)
}

fn with_etag(status: StatusCode, post: Post, location: bool) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::ETAG, etag(post.version));
    if location {
        if let Ok(value) = HeaderValue::from_str(&format!("/posts/{}", post.id)) {
            headers.insert(header::LOCATION, value);
        }
    }
    (status, headers, Json(post)).into_response()
}

/// Create a post as the caller.
#[utoipa::path(
    post, path = "/posts", tag = "blog",
    request_body = NewPost,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `Location` and `ETag` headers set.", body = Post,
         headers(("ETag" = String, description = "The post's version"), ("Location" = String))),
        platform::openapi::MalformedJson,
        platform::openapi::Unauthorized,
        (status = 413, description = "`body` over 64 KiB", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        platform::openapi::NotJson,
        (status = 422, description = "Invalid fields (`errors` lists them)", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        platform::openapi::StorageUnavailable,
    )
)]
pub async fn create_post(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewPost>,
) -> Result<Response, BlogError> {
    domain::validate_post(&input.title, &input.body)?;
    let now = platform::ids::now_rfc3339();
    let post = Post {
        id: platform::ids::new_id(),
        author_id: principal.user_id,
        title: input.title,
        body: input.body,
        version: 1,
        created_at: now.clone(),
        updated_at: now,
    };
    state.store.create_post(&post).await?;
    Ok(with_etag(StatusCode::CREATED, post, true))
}

/// List posts, newest first; `author` filters by author (author GSI). Public.
#[utoipa::path(
    get, path = "/posts", tag = "blog",
    params(ListPostsQuery),
    responses(
        (status = 200, description = "A page of posts. A page may hold fewer than `limit` items (even none) while `next_token` is set; stop when it is null.", body = PostPage),
        platform::openapi::BadPage,
        platform::openapi::UnknownPage,
        platform::openapi::StorageUnavailable,
    )
)]
pub async fn list_posts(
    State(state): State<AppState>,
    query: Result<Query<ListPostsQuery>, QueryRejection>,
) -> Result<Json<PostPage>, BlogError> {
    let Query(query) = query.map_err(query_rejection)?;
    let limit = parse_limit(query.limit.as_deref())?;
    let author = query.author.filter(|a| !a.is_empty());
    if author.as_ref().is_some_and(|a| a.len() > MAX_AUTHOR_BYTES) {
        return Err(BlogError::BadRequest(format!(
            "`author` must be at most {MAX_AUTHOR_BYTES} bytes."
        )));
    }
    let scope = match &author {
        Some(author) => format!("posts:author={author}"),
        None => "posts".to_owned(),
    };
    let pages = state.pages.codec().await?;
    let after = pages.decode_opt(&scope, query.next_token.as_deref())?;
    let page = state
        .store
        .list_posts(author.as_deref(), limit, after.as_ref())
        .await?;
    Ok(Json(PostPage {
        next_token: page.next.as_ref().map(|c| pages.encode(&scope, c)),
        items: page.items,
    }))
}

/// Read a post. Public. The `ETag` is its version.
#[utoipa::path(
    get, path = "/posts/{id}", tag = "blog",
    params(("id" = String, Path, description = "Post id (UUID)")),
    responses(
        (status = 200, description = "The post", body = Post, headers(("ETag" = String))),
        (status = 404, description = "No such post", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        platform::openapi::StorageUnavailable,
    )
)]
pub async fn get_post(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, BlogError> {
    let id = post_id(&id)?;
    let post = state
        .store
        .get_post(&id)
        .await?
        .ok_or(BlogError::PostNotFound)?;
    Ok(with_etag(StatusCode::OK, post, false))
}

/// Replace a post's title and body (author only). Name the version being replaced with
/// `If-Match: "<version>"` (mismatch → 412) or the body's `version` (mismatch → 409); neither → 428.
#[utoipa::path(
    put, path = "/posts/{id}", tag = "blog",
    params(
        ("id" = String, Path, description = "Post id (UUID)"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "ETag of the version being replaced, e.g. `\"3\"`, or `*`; without it the body's `version` is required (428 without either)", pattern = "^(\\*|\"[1-9][0-9]{0,15}\")(?![\\s\\S])"),
    ),
    request_body = UpdatePost,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated; new `ETag`", body = Post, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON or header", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        platform::openapi::Unauthorized,
        (status = 403, description = "Not the author", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such post", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "Body `version` is stale (`current_version` tells the current one)", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` is stale", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 413, description = "`body` over 64 KiB", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        platform::openapi::NotJson,
        (status = 422, description = "Invalid fields", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 428, description = "Neither `If-Match` nor `version` given", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        platform::openapi::StorageUnavailable,
    )
)]
pub async fn update_post(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(input): Json<UpdatePost>,
) -> Result<Response, BlogError> {
    let id = post_id(&id)?;
    let if_match = if_match(&headers)?;
    domain::validate_post(&input.title, &input.body)?;
    // The document says `version` is an int64; a larger number is invalid input (422), whatever `If-Match` says.
    if input.version.is_some_and(|v| i64::try_from(v).is_err()) {
        return Err(BlogError::Validation(vec![crate::error::FieldError::new(
            "version",
            "must be at most 9223372036854775807",
        )]));
    }
    if if_match.is_none() && input.version.is_none() {
        return Err(BlogError::PreconditionRequired);
    }
    let current = state
        .store
        .get_post(&id)
        .await?
        .ok_or(BlogError::PostNotFound)?;
    if current.author_id != principal.user_id {
        return Err(BlogError::Forbidden("edit this post"));
    }
    let stale = |current: u64| {
        if if_match.is_some() {
            BlogError::PreconditionFailed { current }
        } else {
            BlogError::VersionConflict { current }
        }
    };
    if let Some(tags) = &if_match {
        if !if_match_allows(tags, current.version) {
            return Err(BlogError::PreconditionFailed {
                current: current.version,
            });
        }
    }
    if let Some(version) = input.version {
        if version != current.version {
            return Err(BlogError::VersionConflict {
                current: current.version,
            });
        }
    }
    let updated = Post {
        title: input.title,
        body: input.body,
        version: current.version.saturating_add(1),
        updated_at: platform::ids::now_rfc3339(),
        ..current.clone()
    };
    match state.store.update_post(&updated, current.version).await {
        Ok(()) => Ok(with_etag(StatusCode::OK, updated, false)),
        // Lost the race: someone updated or deleted it since we read it.
        Err(StoreError::Conflict) => match state.store.get_post(&id).await? {
            None => Err(BlogError::PostNotFound),
            Some(now) => Err(stale(now.version)),
        },
        Err(e) => Err(e.into()),
    }
}

/// Delete a post and its comments (author only).
#[utoipa::path(
    delete, path = "/posts/{id}", tag = "blog",
    params(("id" = String, Path, description = "Post id (UUID)")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted, with its comments"),
        platform::openapi::Unauthorized,
        (status = 403, description = "Not the author", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such post", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        platform::openapi::StorageUnavailable,
    )
)]
pub async fn delete_post(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, BlogError> {
    let id = post_id(&id)?;
    let current = state
        .store
        .get_post(&id)
        .await?
        .ok_or(BlogError::PostNotFound)?;
    if current.author_id != principal.user_id {
        return Err(BlogError::Forbidden("delete this post"));
    }
    match state.store.delete_post(&id, &principal.user_id).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        // Deleted concurrently (authors never change).
        Err(StoreError::Conflict) => Err(BlogError::PostNotFound),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_uses_strong_comparison() {
        assert!(if_match_allows("\"3\"", 3));
        assert!(if_match_allows("\"1\", \"3\"", 3));
        assert!(if_match_allows("*", 3));
        assert!(!if_match_allows("\"2\"", 3));
        assert!(!if_match_allows("W/\"3\"", 3));
        assert!(!if_match_allows("3", 3));
        assert!(!if_match_allows("", 3));
    }
}
