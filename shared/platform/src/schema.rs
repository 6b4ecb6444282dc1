//! The validation rules of request fields, as OpenAPI schemas: what the services enforce, stated so that a
//! client (or a generated one) can check a request before sending it.
//!
//! What JSON Schema can state goes into the schema (lengths, patterns, enums, ranges). A rule it cannot state
//! (a password that is one repeated character is already a pattern; "not a simple sequence" is not; a
//! pagination token's HMAC; `If-Match` or `version`) is named in the description and in the [`RULES`] vendor
//! extension, a list of rule names a test-data generator can act on (the contract tests' hooks do).
//!
//! Patterns are written for both ECMA-262 (what JSON Schema names) and Python's `re` (what most validators and
//! generators use): no `\p{…}`, no flags; a string's end is `(?![\s\S])`, since `$` also matches before a
//! final newline in Python.

use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::schema::{Object, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{KnownFormat, RefOr, SchemaFormat};

/// The vendor extension listing rules JSON Schema cannot state (values: the `RULE_…` names of this module).
pub const RULES: &str = "x-rules";

/// Rule: a password that is not a straight run (`abcdefghijkl`), not a well-known password, and does not
/// contain the email address or its local part.
pub const RULE_PASSWORD: &str = "password-policy";
/// Rule: optimistic concurrency by the `If-Match` header or the body's `version`: one of them is required
/// (428 without either), and a stale one is refused (412 for `If-Match`, 409 for `version`).
pub const RULE_VERSION_OR_IF_MATCH: &str = "version-or-if-match";
/// Rule: the body's `command_id` and the `Idempotency-Key` header, when both are sent, are equal.
pub const RULE_COMMAND_ID_MATCHES_KEY: &str = "command-id-equals-idempotency-key";
/// Rule: a key or command id names one request: reused with another body it is refused (409), so a client
/// (or a test-data generator) takes a new one for every new request and the same one only for a retry.
pub const RULE_ONE_REQUEST_PER_KEY: &str = "one-request-per-key";
/// Rule: at most this many bytes of UTF-8 (`max-utf8-bytes:<n>`); JSON Schema counts characters.
pub fn rule_max_utf8_bytes(limit: usize) -> String {
    format!("max-utf8-bytes:{limit}")
}

/// End of string in both ECMA-262 and Python regular expressions.
pub const END: &str = "(?![\\s\\S])";
/// Characters [`crate::text`] refuses (bidirectional controls and zero-width marks), as a class body.
pub const REFUSED_CLASS: &str = "\\u200B-\\u200F\\u202A-\\u202E\\u2066-\\u2069";
/// Unicode control characters (`char::is_control`: Cc), as a class body.
pub const CONTROL_CLASS: &str = "\\x00-\\x1F\\x7F-\\x9F";
/// Largest integer every JSON client reads exactly (2^53 − 1, JavaScript's `Number.MAX_SAFE_INTEGER`).
pub const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;

/// A string field: length bounds in characters, a pattern, a description and rule names.
#[derive(Debug, Clone, Default)]
pub struct Text<'a> {
    pub min: Option<usize>,
    pub max: Option<usize>,
    pub pattern: Option<String>,
    pub description: &'a str,
    pub example: Option<&'a str>,
    pub rules: Vec<String>,
    pub nullable: bool,
}

impl Text<'_> {
    pub fn build(self) -> Object {
        let kind = if self.nullable {
            SchemaType::from_iter([Type::String, Type::Null])
        } else {
            SchemaType::Type(Type::String)
        };
        let mut builder = ObjectBuilder::new()
            .schema_type(kind)
            .description(Some(self.description))
            .min_length(self.min)
            .max_length(self.max)
            .pattern(self.pattern);
        if let Some(example) = self.example {
            builder = builder.examples([example]);
        }
        with_rules(builder, &self.rules).build()
    }
}

/// Adds the [`RULES`] extension when there are rules.
pub fn with_rules(builder: ObjectBuilder, rules: &[String]) -> ObjectBuilder {
    if rules.is_empty() {
        return builder;
    }
    builder.extensions(Some(
        ExtensionsBuilder::new()
            .add(RULES, serde_json::json!(rules))
            .build(),
    ))
}

/// A pattern for text of allowed characters (`class`: a negated class body) that is not blank when `not_blank`.
///
/// "Not blank" is spelled as one allowed non-space character between two runs of allowed ones, not as a
/// lookahead: generators build strings from the pattern, and a lookahead leaves them to filter (schemathesis'
/// coverage phase took minutes on one such field).
pub fn text_pattern(refused: &str, not_blank: bool) -> String {
    if not_blank {
        format!("^[^{refused}]*[^\\s{refused}][^{refused}]*{END}")
    } else {
        format!("^[^{refused}]*{END}")
    }
}

/// Free text others read: no refused invisible characters; optionally not blank and no control characters.
pub fn visible_text(
    min: usize,
    max: usize,
    not_blank: bool,
    no_control: bool,
    description: &str,
) -> Object {
    let refused = if no_control {
        format!("{CONTROL_CLASS}{REFUSED_CLASS}")
    } else {
        REFUSED_CLASS.to_owned()
    };
    Text {
        min: Some(min),
        max: Some(max),
        pattern: Some(text_pattern(&refused, not_blank)),
        description,
        ..Text::default()
    }
    .build()
}

/// An integer field with inclusive bounds.
pub fn integer(min: i64, max: i64, description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Integer))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(min))
        .maximum(Some(max))
        .description(Some(description))
        .build()
}

/// A string enum (e.g. the active ISO 4217 codes).
pub fn string_enum<'a>(values: impl IntoIterator<Item = &'a str>, description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .enum_values(Some(values.into_iter().collect::<Vec<_>>()))
        .description(Some(description))
        .build()
}

/// Rule: a pagination token minted by the listing itself (base64url payload + HMAC); only a `next_token`
/// from a previous page of the same listing is valid.
pub const RULE_SIGNED_TOKEN: &str = "signed-token";

/// The `next_token` query parameter of every listing.
pub fn next_token() -> Object {
    Text {
        min: Some(1),
        max: Some(crate::pagination::MAX_TOKEN_CHARS),
        pattern: Some(format!("^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{{43}}{END}")),
        description: "The `next_token` of the previous page of this listing, as it was returned: a \
                      base64url payload, a dot and its HMAC (any other value is a 400).",
        rules: vec![RULE_SIGNED_TOKEN.to_owned()],
        ..Text::default()
    }
    .build()
}

/// Into the `schema_with` shape utoipa's derives expect.
pub fn schema(object: Object) -> RefOr<Schema> {
    RefOr::T(Schema::Object(object))
}

/// Rule: `minor_units` equals ISO 4217's for the currency `code` (the `x-minor-units` extension of the code
/// schema lists them).
pub const RULE_ISO_MINOR_UNITS: &str = "iso-4217-minor-units";

/// The vendor extension on a currency-code schema mapping each code to its ISO 4217 minor-unit digits.
pub const MINOR_UNITS: &str = "x-minor-units";

/// An active ISO 4217 code (upper case) from `(code, minor units)` pairs (the `money` crate's table): an enum,
/// with the minor units in the [`MINOR_UNITS`] extension.
pub fn currency_code<'a>(
    table: impl IntoIterator<Item = (&'a str, u8)>,
    description: &str,
) -> Object {
    let table: Vec<(&str, u8)> = table.into_iter().collect();
    let digits: serde_json::Map<String, serde_json::Value> = table
        .iter()
        .map(|(code, units)| ((*code).to_owned(), serde_json::json!(units)))
        .collect();
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .enum_values(Some(
            table.iter().map(|(code, _)| *code).collect::<Vec<_>>(),
        ))
        .description(Some(description))
        .examples(["EUR"])
        .extensions(Some(
            ExtensionsBuilder::new()
                .add(MINOR_UNITS, serde_json::Value::Object(digits))
                .build(),
        ))
        .build()
}
