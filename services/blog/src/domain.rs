//! Posts, comments, their input limits and validation.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{BlogError, FieldError};

/// Longest title, in Unicode scalar values.
pub const TITLE_MAX_CHARS: usize = 200;
/// Largest post body, in UTF-8 bytes (larger → 413).
pub const BODY_MAX_BYTES: usize = 64 * 1024;
/// Longest comment, in Unicode scalar values.
pub const COMMENT_MAX_CHARS: usize = 4_000;
/// Largest request body the router reads: a maximal post body plus room for the title and JSON framing.
pub const REQUEST_MAX_BYTES: usize = BODY_MAX_BYTES + 8 * 1024;

/// A blog post. `version` starts at 1 and grows by one per update; it is also the `ETag`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "0193f1a2-7c4e-7a10-9b1d-2f1e0c3d4b5a",
    "author_id": "user-1",
    "title": "Hello, Lambda",
    "body": "Rust on AWS Lambda starts in milliseconds.",
    "version": 1,
    "created_at": "2026-11-24T00:00:00Z",
    "updated_at": "2026-11-24T00:00:00Z"
}))]
pub struct Post {
    /// UUIDv7: ids sort by creation time.
    pub id: String,
    pub author_id: String,
    pub title: String,
    pub body: String,
    pub version: u64,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

/// A comment on a post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "0193f1a3-0000-7000-8000-000000000001",
    "post_id": "0193f1a2-7c4e-7a10-9b1d-2f1e0c3d4b5a",
    "author_id": "user-2",
    "body": "Nice post!",
    "created_at": "2026-11-24T00:01:00Z"
}))]
pub struct Comment {
    pub id: String,
    pub post_id: String,
    pub author_id: String,
    pub body: String,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// `POST /posts` body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"title": "Hello, Lambda", "body": "Rust on AWS Lambda starts in milliseconds."}))]
pub struct NewPost {
    /// 1–200 characters, not blank, no control characters.
    #[schema(schema_with = openapi_rules::title)]
    pub title: String,
    /// At most 64 KiB of UTF-8.
    #[schema(schema_with = openapi_rules::body)]
    pub body: String,
}

/// `PUT /posts/{id}` body: the full new content, plus the version being replaced unless `If-Match`
/// carries it (one of the two is required: 428 without either; the `x-rules` extension names the rule).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"title": "Hello again", "body": "Edited.", "version": 1}))]
pub struct UpdatePost {
    #[schema(schema_with = openapi_rules::title)]
    pub title: String,
    #[schema(schema_with = openapi_rules::body)]
    pub body: String,
    /// The version this edit is based on (alternative to `If-Match`); mismatch → 409.
    #[serde(default)]
    #[schema(schema_with = openapi_rules::version)]
    pub version: Option<u64>,
}

/// `POST /posts/{id}/comments` body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"body": "Nice post!"}))]
pub struct NewComment {
    /// 1–4000 characters, not blank.
    #[schema(schema_with = openapi_rules::comment)]
    pub body: String,
}

/// The rules of the blog's text fields, as schemas (see `platform::schema`).
mod openapi_rules {
    use platform::schema::RULE_VERSION_OR_IF_MATCH;
    use platform::schema::{REFUSED_CLASS, Text, rule_max_utf8_bytes, text_pattern};
    use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};
    use utoipa::openapi::{KnownFormat, SchemaFormat};

    pub fn title() -> Object {
        platform::schema::visible_text(
            1,
            super::TITLE_MAX_CHARS,
            true,
            true,
            "1–200 characters, not blank, no control characters, no bidirectional-control or zero-width \
             characters (U+200B–U+200F, U+202A–U+202E, U+2066–U+2069)",
        )
    }

    pub fn body() -> Object {
        Text {
            max: Some(super::BODY_MAX_BYTES),
            pattern: Some(text_pattern(&format!("\\x00{REFUSED_CLASS}"), false)),
            description: "At most 64 KiB of UTF-8 (bytes; 413 beyond), no NUL, no bidirectional-control or \
                          zero-width characters",
            rules: vec![rule_max_utf8_bytes(super::BODY_MAX_BYTES)],
            ..Text::default()
        }
        .build()
    }

    pub fn version() -> Object {
        let builder = ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(1))
            .maximum(Some(platform::schema::MAX_SAFE_INTEGER))
            .description(Some(
                "The version this edit is based on (alternative to `If-Match`); mismatch → 409. One of \
                 `version` and `If-Match` is required (428 without either).",
            ));
        platform::schema::with_rules(builder, &[RULE_VERSION_OR_IF_MATCH.to_owned()]).build()
    }

    pub fn comment() -> Object {
        Text {
            min: Some(1),
            max: Some(super::COMMENT_MAX_CHARS),
            pattern: Some(text_pattern(&format!("\\x00{REFUSED_CLASS}"), true)),
            description: "1–4000 characters, not blank, no NUL, no bidirectional-control or zero-width characters",
            ..Text::default()
        }
        .build()
    }
}

/// Checks title and body; 413 for an oversized body, else 422 listing every violation.
pub fn validate_post(title: &str, body: &str) -> Result<(), BlogError> {
    if body.len() > BODY_MAX_BYTES {
        return Err(BlogError::TooLarge(format!(
            "`body` is {} bytes; the limit is {BODY_MAX_BYTES}.",
            body.len()
        )));
    }
    let mut errors = Vec::new();
    let chars = title.chars().count();
    if title.trim().is_empty() {
        errors.push(FieldError::new("title", "must not be blank"));
    } else if chars > TITLE_MAX_CHARS {
        errors.push(FieldError::new(
            "title",
            format!("must be at most {TITLE_MAX_CHARS} characters (got {chars})"),
        ));
    }
    if title.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "title",
            "must not contain control characters",
        ));
    }
    if body.contains('\0') {
        errors.push(FieldError::new("body", "must not contain NUL characters"));
    }
    for (field, value) in [("title", title), ("body", body)] {
        if let Some(message) = platform::text::check(value) {
            errors.push(FieldError::new(field, message));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(BlogError::Validation(errors))
    }
}

pub fn validate_comment(body: &str) -> Result<(), BlogError> {
    let chars = body.chars().count();
    let error = if body.trim().is_empty() {
        Some("must not be blank".to_owned())
    } else if chars > COMMENT_MAX_CHARS {
        Some(format!(
            "must be at most {COMMENT_MAX_CHARS} characters (got {chars})"
        ))
    } else if body.contains('\0') {
        Some("must not contain NUL characters".to_owned())
    } else {
        platform::text::check(body)
    };
    match error {
        Some(message) => Err(BlogError::Validation(vec![FieldError::new(
            "body", message,
        )])),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_limits_count_characters_not_bytes() {
        assert!(validate_post(&"é".repeat(200), "").is_ok());
        assert!(matches!(
            validate_post(&"é".repeat(201), ""),
            Err(BlogError::Validation(_))
        ));
        assert!(matches!(
            validate_post("   ", "x"),
            Err(BlogError::Validation(_))
        ));
        assert!(matches!(
            validate_post("a\u{7}b", "x"),
            Err(BlogError::Validation(_))
        ));
    }

    #[test]
    fn body_limit_is_64_kib_and_413() {
        assert!(validate_post("t", &"a".repeat(BODY_MAX_BYTES)).is_ok());
        assert!(matches!(
            validate_post("t", &"a".repeat(BODY_MAX_BYTES + 1)),
            Err(BlogError::TooLarge(_))
        ));
    }
}
