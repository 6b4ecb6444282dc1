//! The blog's operations one by one, so one router definition serves every topology: the lith mounts them all
//! ([`crate::app`]), the micro-Lambda topology one per function ([`crate::operation_app`]).

use std::fmt;
use std::str::FromStr;

use axum::routing::{MethodRouter, delete, get, post, put};

use super::{comments, posts};
use crate::AppState;

/// One HTTP operation of the blog (the `operationId` in the OpenAPI document, in PascalCase).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    ListPosts,
    CreatePost,
    GetPost,
    UpdatePost,
    DeletePost,
    ListComments,
    CreateComment,
    DeleteComment,
}

/// `BLOG_OPERATION` named no operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown blog operation {0:?}: expected one of {names}", names = Operation::names())]
pub struct UnknownOperation(pub String);

impl Operation {
    pub const ALL: [Operation; 8] = [
        Operation::ListPosts,
        Operation::CreatePost,
        Operation::GetPost,
        Operation::UpdatePost,
        Operation::DeletePost,
        Operation::ListComments,
        Operation::CreateComment,
        Operation::DeleteComment,
    ];

    /// The name used in `BLOG_OPERATION` and in the template's function names (`BlogMicro<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Operation::ListPosts => "ListPosts",
            Operation::CreatePost => "CreatePost",
            Operation::GetPost => "GetPost",
            Operation::UpdatePost => "UpdatePost",
            Operation::DeletePost => "DeletePost",
            Operation::ListComments => "ListComments",
            Operation::CreateComment => "CreateComment",
            Operation::DeleteComment => "DeleteComment",
        }
    }

    /// The route's path (axum syntax, the same as the HTTP API's).
    pub fn path(self) -> &'static str {
        match self {
            Operation::ListPosts | Operation::CreatePost => "/posts",
            Operation::GetPost | Operation::UpdatePost | Operation::DeletePost => "/posts/{id}",
            Operation::ListComments | Operation::CreateComment => "/posts/{id}/comments",
            Operation::DeleteComment => "/comments/{id}",
        }
    }

    /// The handler, bound to its method.
    pub fn handler(self) -> MethodRouter<AppState> {
        match self {
            Operation::ListPosts => get(posts::list_posts),
            Operation::CreatePost => post(posts::create_post),
            Operation::GetPost => get(posts::get_post),
            Operation::UpdatePost => put(posts::update_post),
            Operation::DeletePost => delete(posts::delete_post),
            Operation::ListComments => get(comments::list_comments),
            Operation::CreateComment => post(comments::create_comment),
            Operation::DeleteComment => delete(comments::delete_comment),
        }
    }

    fn names() -> String {
        Operation::ALL.map(Operation::name).join(", ")
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Operation {
    type Err = UnknownOperation;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Operation::ALL
            .into_iter()
            .find(|op| op.name() == s.trim())
            .ok_or_else(|| UnknownOperation(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for op in Operation::ALL {
            assert_eq!(op.name().parse::<Operation>(), Ok(op));
        }
    }

    #[test]
    fn an_unknown_name_lists_the_known_ones() {
        let err = "listposts".parse::<Operation>().err();
        let message = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("\"listposts\""), "{message}");
        assert!(message.contains("ListPosts, CreatePost"), "{message}");
    }
}
