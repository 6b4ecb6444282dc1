//! One OpenAPI 3.1 document for every route, merged from the services' own fragments.
//!
//! Each service documents itself (`auth::openapi()`, `blog::openapi()`, …); this module only merges. utoipa's
//! `OpenApi::merge` keeps the first schema of a given name and silently drops the others, and several services
//! have their own `ProblemDoc` and `FieldError` with different fields. So before merging, a schema (or
//! response) name that two fragments define *differently* is renamed in each of them to `<Service><Name>` —
//! `BlogProblemDoc`, `BillingProblemDoc` — and every `$ref` inside that fragment follows. Identical
//! definitions stay shared under their name. Anything else that could be lost is an error instead: two
//! operations on the same method and path, a repeated `operationId`, or security schemes of one name that
//! mean different things.
//!
//! `servers` is left out on purpose: Swagger UI and clients resolve paths against the document's own URL, so
//! the same document is right on the lith API, the fat API, a custom domain and the local cloud.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::{
    Content, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref, ResponseBuilder, Tag,
};
use utoipa::{PartialSchema, ToSchema};

/// A service's fragment and the prefix its colliding component names get.
pub struct Fragment {
    pub service: &'static str,
    pub api: OpenApi,
}

/// Why fragments cannot be merged without losing something.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MergeError {
    #[error("{method} {path} is documented by both {first} and {second}")]
    DuplicateOperation {
        method: String,
        path: String,
        first: &'static str,
        second: &'static str,
    },
    #[error("operationId {id} is used by both {first} and {second}")]
    DuplicateOperationId {
        id: String,
        first: &'static str,
        second: &'static str,
    },
    #[error("security scheme {name} differs between {first} and {second}")]
    ConflictingSecurityScheme {
        name: String,
        first: &'static str,
        second: &'static str,
    },
    #[error("{service}: the fragment does not round-trip through JSON: {reason}")]
    Serde {
        service: &'static str,
        reason: String,
    },
}

/// Every service's fragment, in the order they are merged (auth first: its `bearer` scheme has the
/// description the others lack).
pub fn fragments() -> Vec<Fragment> {
    vec![
        Fragment {
            service: "auth",
            api: auth::openapi(),
        },
        Fragment {
            service: "blog",
            api: blog::openapi(),
        },
        Fragment {
            service: "billing",
            api: billing::openapi(),
        },
        Fragment {
            service: "currency",
            api: currency::openapi(),
        },
        Fragment {
            service: "convert",
            api: convert::openapi(),
        },
        // (./inv new-service adds a service's fragment above this line.)
        Fragment {
            service: "health",
            api: health_fragment(),
        },
        Fragment {
            service: "docs",
            api: docs_fragment(),
        },
    ]
}

/// The whole API: what `GET /openapi.json` serves and what `openapi.json` at the repository root holds.
pub fn document() -> Result<OpenApi, MergeError> {
    let mut api = merge(fragments())?;
    // The edge's own answers on every route, also those of fragments that do not add them (health, docs, convert).
    utoipa::Modify::modify(&platform::openapi::EdgeResponses, &mut api);
    api.info = InfoBuilder::new()
        .title("Rust on AWS Lambda reference API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Every route of the auth, blog, billing, currency (read and write) and convert services, as served \
             by the fat Lambda (one function) and by the Lambda-liths (one function per module) alike. Errors \
             are `application/problem+json` (RFC 9457). Routes marked with a lock need \
             `Authorization: Bearer <token>` from `POST /login`.",
        ))
        .build();
    // auth's fragment tags its operations without declaring the tag; declare it first, with a description.
    let tags = api.tags.get_or_insert_with(Vec::new);
    if !tags.iter().any(|t| t.name == "auth") {
        tags.insert(0, tag("auth", "Accounts, access tokens and the JWKS"));
    }
    Ok(api)
}

/// Merges fragments without losing a schema, an operation or a security scheme (see the module docs).
pub fn merge(fragments: Vec<Fragment>) -> Result<OpenApi, MergeError> {
    check_operations(&fragments)?;
    check_security_schemes(&fragments)?;
    let renames = colliding_components(&fragments)?;
    let mut merged = OpenApiBuilder::new().paths(PathsBuilder::new()).build();
    for fragment in fragments {
        let api = match renames.get(fragment.service) {
            Some(renames) if !renames.is_empty() => rename(fragment, renames)?,
            _ => fragment.api,
        };
        merged.merge(api);
    }
    Ok(merged)
}

/// Component kinds whose names are referenced with `$ref` (and so can be renamed).
const RENAMABLE: &[&str] = &["schemas", "responses"];

/// Per service: `(kind, old name) → new name` for the components two fragments define differently.
type Renames = BTreeMap<&'static str, BTreeMap<(String, String), String>>;

fn colliding_components(fragments: &[Fragment]) -> Result<Renames, MergeError> {
    // (kind, name) → service → definition
    let mut seen: BTreeMap<(String, String), BTreeMap<&'static str, Value>> = BTreeMap::new();
    for fragment in fragments {
        let components = to_value(fragment.service, &fragment.api.components)?;
        for kind in RENAMABLE {
            if let Some(Value::Object(items)) = components.get(*kind) {
                for (name, definition) in items {
                    seen.entry(((*kind).to_owned(), name.clone()))
                        .or_default()
                        .insert(fragment.service, definition.clone());
                }
            }
        }
    }
    let mut renames = Renames::new();
    for (key, definitions) in seen {
        let distinct: BTreeSet<String> = definitions.values().map(Value::to_string).collect();
        if distinct.len() < 2 {
            continue;
        }
        for service in definitions.keys() {
            let new = format!("{}{}", pascal(service), key.1);
            renames.entry(service).or_default().insert(key.clone(), new);
        }
    }
    Ok(renames)
}

fn rename(
    fragment: Fragment,
    renames: &BTreeMap<(String, String), String>,
) -> Result<OpenApi, MergeError> {
    let service = fragment.service;
    let mut value = to_value(service, &fragment.api)?;
    if let Some(Value::Object(components)) = value.get_mut("components") {
        for ((kind, old), new) in renames {
            if let Some(Value::Object(items)) = components.get_mut(kind)
                && let Some(definition) = items.remove(old)
            {
                items.insert(new.clone(), definition);
            }
        }
    }
    let refs: BTreeMap<String, String> = renames
        .iter()
        .map(|((kind, old), new)| {
            (
                format!("#/components/{kind}/{old}"),
                format!("#/components/{kind}/{new}"),
            )
        })
        .collect();
    rewrite_refs(&mut value, &refs);
    let api: OpenApi = serde_json::from_value(value.clone()).map_err(|e| MergeError::Serde {
        service,
        reason: e.to_string(),
    })?;
    // utoipa's types must read back exactly what they wrote, or the rename would lose something.
    if to_value(service, &api)? != value {
        return Err(MergeError::Serde {
            service,
            reason: "utoipa does not read back every field of the renamed fragment".into(),
        });
    }
    Ok(api)
}

fn rewrite_refs(value: &mut Value, refs: &BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                match item {
                    Value::String(target) if key == "$ref" => {
                        if let Some(new) = refs.get(target.as_str()) {
                            *target = new.clone();
                        }
                    }
                    _ => rewrite_refs(item, refs),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| rewrite_refs(item, refs)),
        _ => {}
    }
}

fn check_operations(fragments: &[Fragment]) -> Result<(), MergeError> {
    let mut operations: BTreeMap<(String, String), &'static str> = BTreeMap::new();
    let mut ids: BTreeMap<String, &'static str> = BTreeMap::new();
    for fragment in fragments {
        let paths = to_value(fragment.service, &fragment.api.paths)?;
        let Value::Object(paths) = paths else {
            continue;
        };
        for (path, item) in paths {
            let Value::Object(item) = item else { continue };
            for (method, operation) in item.iter().filter(|(k, _)| is_method(k)) {
                if let Some(first) =
                    operations.insert((method.clone(), path.clone()), fragment.service)
                {
                    return Err(MergeError::DuplicateOperation {
                        method: method.to_uppercase(),
                        path,
                        first,
                        second: fragment.service,
                    });
                }
                if let Some(id) = operation.get("operationId").and_then(Value::as_str)
                    && let Some(first) = ids.insert(id.to_owned(), fragment.service)
                {
                    return Err(MergeError::DuplicateOperationId {
                        id: id.to_owned(),
                        first,
                        second: fragment.service,
                    });
                }
            }
        }
    }
    Ok(())
}

fn is_method(key: &str) -> bool {
    matches!(
        key,
        "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace"
    )
}

/// Schemes of one name must mean the same thing; only their prose may differ (the first one's is kept).
fn check_security_schemes(fragments: &[Fragment]) -> Result<(), MergeError> {
    let mut seen: BTreeMap<String, (&'static str, Value)> = BTreeMap::new();
    for fragment in fragments {
        let components = to_value(fragment.service, &fragment.api.components)?;
        let Some(Value::Object(schemes)) = components.get("securitySchemes") else {
            continue;
        };
        for (name, scheme) in schemes {
            let mut scheme = scheme.clone();
            if let Value::Object(fields) = &mut scheme {
                fields.remove("description");
            }
            match seen.get(name) {
                Some((first, existing)) if *existing != scheme => {
                    return Err(MergeError::ConflictingSecurityScheme {
                        name: name.clone(),
                        first,
                        second: fragment.service,
                    });
                }
                Some(_) => {}
                None => {
                    seen.insert(name.clone(), (fragment.service, scheme));
                }
            }
        }
    }
    Ok(())
}

fn to_value(service: &'static str, item: &impl Serialize) -> Result<Value, MergeError> {
    serde_json::to_value(item).map_err(|e| MergeError::Serde {
        service,
        reason: e.to_string(),
    })
}

/// `currency-read` → `CurrencyRead`.
fn pascal(service: &str) -> String {
    service
        .split(['-', '_'])
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect()
}

/// The liveness routes every service mounts (`platform::health::router`), each answering [`Health`].
pub const HEALTH_SERVICES: &[&str] = &[
    "auth",
    "blog",
    "billing",
    "currency-read",
    "currency-write",
    "convert",
    // (./inv new-service adds a service's health route above this line.)
];

/// `GET /health/{service}`'s body (the shape of `platform::health::Health`; a router test checks they agree).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ok", "service": "blog", "version": "0.1.0"}))]
pub struct Health {
    /// Always `ok`: the function is up (no dependency is called).
    pub status: String,
    /// The service answering.
    pub service: String,
    /// The service crate's version.
    pub version: String,
}

fn health_fragment() -> OpenApi {
    let mut paths = PathsBuilder::new();
    for service in HEALTH_SERVICES {
        let operation = OperationBuilder::new()
            .operation_id(Some(format!("health_{}", service.replace('-', "_"))))
            .tag("health")
            .summary(Some(format!("Liveness of the {service} service")))
            .description(Some(
                "Answers without calling any dependency, so it stays cheap under load.",
            ))
            .response(
                "200",
                ResponseBuilder::new()
                    .description("The function is up.")
                    .content(
                        "application/json",
                        Content::new(Some(Ref::from_schema_name("Health"))),
                    ),
            );
        paths = paths.path(
            format!("/health/{service}"),
            PathItem::new(HttpMethod::Get, operation),
        );
    }
    let mut api = OpenApiBuilder::new()
        .paths(paths)
        .tags(Some([tag("health", "Liveness of each service")]))
        .build();
    api.components
        .get_or_insert_with(Default::default)
        .schemas
        .insert("Health".into(), Health::schema());
    api
}

fn docs_fragment() -> OpenApi {
    let json = OperationBuilder::new()
        .operation_id(Some("openapi_document"))
        .tag("docs")
        .summary(Some("This OpenAPI 3.1 document"))
        .description(Some(
            "Generated from the services' code (utoipa); the same document is committed as `openapi.json`.",
        ))
        .response(
            "200",
            ResponseBuilder::new().description("The OpenAPI document.").content(
                "application/json",
                Content::new(Some(utoipa::openapi::ObjectBuilder::new())),
            ),
        );
    let page = OperationBuilder::new()
        .operation_id(Some("swagger_ui"))
        .tag("docs")
        .summary(Some("Swagger UI over this document"))
        .description(Some(
            "Served by the function itself (no CDN), so it works offline and on the local cloud.",
        ))
        .response(
            "200",
            ResponseBuilder::new()
                .description("The Swagger UI page.")
                .content("text/html", Content::new(Some(String::schema()))),
        );
    let asset = OperationBuilder::new()
        .operation_id(Some("swagger_ui_asset"))
        .tag("docs")
        .summary(Some(
            "A Swagger UI asset (script, stylesheet, icon, license)",
        ))
        .parameter(
            ParameterBuilder::new()
                .name("asset")
                .parameter_in(ParameterIn::Path)
                .required(utoipa::openapi::Required::True)
                .description(Some("File name, e.g. `swagger-ui-bundle.js`."))
                .schema(Some(String::schema())),
        )
        .response(
            "200",
            ResponseBuilder::new().description(
                "The file, with a long `Cache-Control` (names change with the Swagger UI version).",
            ),
        )
        .response(
            "404",
            ResponseBuilder::new()
                .description("No such asset.")
                .content(
                    "application/problem+json",
                    Content::new(Some(utoipa::openapi::ObjectBuilder::new())),
                ),
        );
    let paths = PathsBuilder::new()
        .path("/openapi.json", PathItem::new(HttpMethod::Get, json))
        .path("/docs", PathItem::new(HttpMethod::Get, page))
        .path("/docs/{asset}", PathItem::new(HttpMethod::Get, asset));
    OpenApiBuilder::new()
        .paths(paths)
        .tags(Some([tag(
            "docs",
            "This document and Swagger UI (fat API only)",
        )]))
        .build()
}

fn tag(name: &str, description: &str) -> Tag {
    let mut tag = Tag::new(name);
    tag.description = Some(description.to_owned());
    tag
}
