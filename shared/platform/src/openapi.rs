//! OpenAPI pieces every service fragment shares, so the fat Lambda's merged document has one definition of each.

use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};

use utoipa::openapi::{Content, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, Modify, PartialSchema, ToSchema};

/// Adds the `bearer` security scheme (a JWT access token from the identity API) to a fragment.
pub struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from `POST /login` (ES256 JWT, verified by every service).",
                    ))
                    .build(),
            ),
        );
    }
}

/// The body API Gateway's JWT authorizer answers a missing or invalid token with, before any function runs
/// (`401 {"message":"Unauthorized"}`, `application/json`; the services' own 401s are problem+json).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"message": "Unauthorized"}))]
pub struct EdgeUnauthorized {
    pub message: String,
}

/// The body API Gateway answers with when it throttles a request, before any function runs (`429
/// {"message":"Too Many Requests"}`, `application/json`; a service's own 429s are problem+json).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"message": "Too Many Requests"}))]
pub struct EdgeThrottled {
    pub message: String,
}

/// Documents what API Gateway itself answers, beside the services' own problem+json: the JWT authorizer's 401
/// on every secured operation (one with a non-empty security requirement), and throttling's 429 on every
/// operation (route, stage and account limits), so a client (and the contract tests) may rely on the document
/// for both. Apply it after the operations exist (a `modifiers(...)` entry or a call on the built document).
pub struct EdgeResponses;

impl Modify for EdgeResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.schemas.insert(
            EdgeUnauthorized::name().into_owned(),
            EdgeUnauthorized::schema(),
        );
        components
            .schemas
            .insert(EdgeThrottled::name().into_owned(), EdgeThrottled::schema());
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                if is_secured(operation) {
                    add_edge_401(operation);
                }
                add_edge_429(operation);
            }
        }
    }
}

fn is_secured(operation: &Operation) -> bool {
    let empty = serde_json::to_value(SecurityRequirement::default()).ok();
    operation.security.as_ref().is_some_and(|requirements| {
        requirements
            .iter()
            .any(|requirement| serde_json::to_value(requirement).ok() != empty)
    })
}

fn add_edge_401(operation: &mut Operation) {
    add_edge_response(
        operation,
        "401",
        "Missing or invalid access token",
        EdgeUnauthorized::name(),
    );
}

fn add_edge_429(operation: &mut Operation) {
    add_edge_response(
        operation,
        "429",
        "Throttled by API Gateway (route, stage or account limit); retry with backoff",
        EdgeThrottled::name(),
    );
}

/// Adds the edge's `application/json` body to `status` (creating the response when the operation has none).
fn add_edge_response(
    operation: &mut Operation,
    status: &str,
    description: &str,
    schema: std::borrow::Cow<'static, str>,
) {
    let response = operation
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| RefOr::T(ResponseBuilder::new().description(description).build()));
    if let RefOr::T(response) = response {
        response
            .content
            .entry("application/json".to_owned())
            .or_insert_with(|| Content::new(Some(Ref::from_schema_name(schema.into_owned()))));
    }
}

/// A service's `ProblemDoc`: the RFC 9457 members every problem has (`type`, `title`, `status`, `detail`,
/// `instance`) plus the extension members that service adds, documented for utoipa. Give the example first,
/// then the extensions (all optional):
///
/// ```
/// use serde_json::json;
/// use utoipa::PartialSchema;
///
/// platform::problem_doc! {
///     #[schema(example = json!({"type": "about:blank", "title": "Not Found", "status": 404}))]
///     /// On 422: the invalid fields.
///     errors: Option<Vec<platform::openapi::FieldError>>,
/// }
///
/// let schema = serde_json::to_value(ProblemDoc::schema()).unwrap_or_default();
/// assert!(schema["properties"]["errors"].is_object());
/// assert_eq!(schema["properties"]["type"]["type"], "string");
/// ```
#[macro_export]
macro_rules! problem_doc {
    (#[$example:meta] $($(#[$doc:meta])* $field:ident: $ty:ty),* $(,)?) => {
        /// An RFC 9457 problem (`application/problem+json`).
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        #[$example]
        pub struct ProblemDoc {
            #[serde(rename = "type")]
            pub kind: String,
            pub title: String,
            pub status: u16,
            pub detail: Option<String>,
            pub instance: Option<String>,
            $($(#[$doc])* pub $field: $ty,)*
        }
    };
}

/// The problem+json responses many operations share, for `#[utoipa::path(responses(...))]` beside the
/// operation's own tuples: `responses((status = 200, body = Post), Unauthorized, StorageUnavailable)`. Each
/// refers to the fragment's own `ProblemDoc` schema by name (every fragment registers one; the fat Lambda's
/// merge renames it per fragment and follows the reference).
macro_rules! standard_problem {
    ($(#[$doc:meta])* $name:ident, $status:literal, $description:literal) => {
        $(#[$doc])*
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                problem_response($status, $description)
            }
        }
    };
}

standard_problem!(
    /// 400: the JSON body does not parse.
    MalformedJson, "400", "Malformed JSON"
);
standard_problem!(
    /// 400: a listing's `limit` or `next_token` is refused.
    BadPage, "400", "Bad `limit`, or a `next_token` not of the documented shape"
);
standard_problem!(
    /// 404: a listing's `next_token` has the documented shape but this listing did not issue it.
    UnknownPage, "404", "No such page: this listing did not issue this `next_token` (edited, another listing's or user's, another stage's)"
);
standard_problem!(
    /// 401: the service's own refusal of the bearer token.
    Unauthorized, "401", "Missing, invalid, expired or revoked token"
);
standard_problem!(
    /// 403: an admin-only operation called without the role.
    NotAdmin, "403", "The token lacks the `admin` role"
);
standard_problem!(
    /// 415: a body that is not `application/json`.
    NotJson, "415", "Not `application/json`"
);
standard_problem!(
    /// 503: the service's store is throttled or unreachable (retryable).
    StorageUnavailable, "503", "Storage temporarily unavailable"
);

/// One problem+json response whose body is the fragment's `ProblemDoc`.
fn problem_response(status: &str, description: &str) -> BTreeMap<String, RefOr<Response>> {
    let content = Content::new(Some(Ref::from_schema_name("ProblemDoc")));
    let response = ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, content)
        .build();
    BTreeMap::from([(status.to_owned(), RefOr::T(response))])
}

const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid input field (in a validation problem's `errors` member).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_problems_are_problem_json_referring_to_the_fragments_problem_doc() {
        let all = [
            (MalformedJson::responses(), "400"),
            (BadPage::responses(), "400"),
            (UnknownPage::responses(), "404"),
            (Unauthorized::responses(), "401"),
            (NotAdmin::responses(), "403"),
            (NotJson::responses(), "415"),
            (StorageUnavailable::responses(), "503"),
        ];
        for (responses, status) in all {
            let doc = serde_json::to_value(&responses).unwrap_or_default();
            assert_eq!(doc.as_object().map(|o| o.len()), Some(1), "{doc}");
            let schema = &doc[status]["content"]["application/problem+json"]["schema"];
            assert_eq!(schema["$ref"], "#/components/schemas/ProblemDoc", "{doc}");
            assert!(
                doc[status]["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty())
            );
        }
    }

    #[test]
    fn bearer_scheme_is_added_once_under_its_name() {
        let mut api = utoipa::openapi::OpenApiBuilder::new().build();
        BearerAuth.modify(&mut api);
        BearerAuth.modify(&mut api);
        let schemes = api
            .components
            .map(|c| c.security_schemes)
            .unwrap_or_default();
        assert_eq!(schemes.keys().collect::<Vec<_>>(), vec!["bearer"]);
    }

    fn document(security: Option<Vec<SecurityRequirement>>) -> utoipa::openapi::OpenApi {
        use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
        use utoipa::openapi::{ContentBuilder, PathsBuilder};
        let problem_401 = ResponseBuilder::new()
            .description("Missing or invalid token")
            .content("application/problem+json", ContentBuilder::new().build())
            .build();
        let secured = OperationBuilder::new()
            .response("401", problem_401)
            .securities(security)
            .build();
        let open = OperationBuilder::new()
            .response("200", ResponseBuilder::new().description("ok").build())
            .build();
        let paths = PathsBuilder::new()
            .path("/secured", PathItem::new(HttpMethod::Post, secured))
            .path("/open", PathItem::new(HttpMethod::Get, open))
            .build();
        utoipa::openapi::OpenApiBuilder::new().paths(paths).build()
    }

    fn json(api: &utoipa::openapi::OpenApi) -> serde_json::Value {
        serde_json::to_value(api).unwrap_or_default()
    }

    /// The test document with `/secured` behind a bearer requirement, after [`EdgeResponses`].
    fn with_edge_responses() -> serde_json::Value {
        let bearer = SecurityRequirement::new("bearer", Vec::<String>::new());
        let mut api = document(Some(vec![bearer]));
        EdgeResponses.modify(&mut api);
        json(&api)
    }

    #[test]
    fn secured_operations_document_the_edge_401_beside_their_own() {
        let doc = with_edge_responses();
        let content = &doc["paths"]["/secured"]["post"]["responses"]["401"]["content"];
        assert_eq!(
            content["application/json"]["schema"]["$ref"],
            "#/components/schemas/EdgeUnauthorized"
        );
        assert!(
            content.get("application/problem+json").is_some(),
            "the service's own 401 stays"
        );
        assert!(
            doc["paths"]["/open"]["get"]["responses"]
                .get("401")
                .is_none()
        );
        assert_eq!(
            doc["components"]["schemas"]["EdgeUnauthorized"]["required"],
            serde_json::json!(["message"])
        );
    }

    #[test]
    fn every_operation_documents_the_edge_429() {
        let doc = with_edge_responses();
        for (path, method) in [("/secured", "post"), ("/open", "get")] {
            assert_eq!(
                doc["paths"][path][method]["responses"]["429"]["content"]["application/json"]["schema"]
                    ["$ref"],
                "#/components/schemas/EdgeThrottled",
                "{path}"
            );
        }
        assert_eq!(
            doc["components"]["schemas"]["EdgeThrottled"]["required"],
            serde_json::json!(["message"])
        );
    }

    #[test]
    fn optional_security_is_not_secured() {
        let mut api = document(Some(vec![SecurityRequirement::default()]));
        EdgeResponses.modify(&mut api);
        let doc = json(&api);
        let content = &doc["paths"]["/secured"]["post"]["responses"]["401"]["content"];
        assert!(content.get("application/json").is_none());
    }

    #[test]
    fn field_error_serialises_field_and_message() {
        let json = serde_json::to_value(FieldError::new("title", "too long")).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({"field": "title", "message": "too long"})
        );
    }
}
