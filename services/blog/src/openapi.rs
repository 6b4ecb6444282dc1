//! The blog service's OpenAPI fragment.

use platform::openapi::{BearerAuth, EdgeResponses};
use utoipa::OpenApi;

platform::problem_doc! {
    #[schema(example = json!({"type": "about:blank", "title": "Not Found", "status": 404, "detail": "No post with this id."}))]
    /// On 422: the invalid fields.
    errors: Option<Vec<crate::error::FieldError>>,
    /// On 409/412: the post's current version.
    current_version: Option<u64>,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Blog", description = "Posts and comments. Reads are public; writes need a bearer token."),
    paths(
        crate::routes::posts::create_post,
        crate::routes::posts::list_posts,
        crate::routes::posts::get_post,
        crate::routes::posts::update_post,
        crate::routes::posts::delete_post,
        crate::routes::comments::create_comment,
        crate::routes::comments::list_comments,
        crate::routes::comments::delete_comment,
    ),
    components(schemas(
        crate::domain::Post,
        crate::domain::Comment,
        crate::domain::NewPost,
        crate::domain::UpdatePost,
        crate::domain::NewComment,
        crate::routes::posts::PostPage,
        crate::routes::comments::CommentPage,
        crate::error::FieldError,
        ProblemDoc,
    )),
    modifiers(&BearerAuth, &EdgeResponses),
    tags((name = "blog", description = "Posts and comments"))
)]
struct BlogApi;

/// Every blog route, schema and error response.
pub fn openapi() -> utoipa::openapi::OpenApi {
    BlogApi::openapi()
}
