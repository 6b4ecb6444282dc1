//! The merged OpenAPI document: nothing is lost in the merge, and the committed `openapi.json` is current.
//!
//! `UPDATE_OPENAPI=1 cargo test -p fat --test openapi` (what `./inv openapi` runs) rewrites the file.

use std::collections::BTreeSet;
use std::path::PathBuf;

use fat::openapi::{Fragment, MergeError, document, fragments, merge};
use serde_json::{Value, json};
use utoipa::openapi::OpenApi;

fn value(api: &OpenApi) -> Value {
    serde_json::to_value(api).unwrap_or_else(|e| panic!("{e}"))
}

fn doc() -> Value {
    value(&document().unwrap_or_else(|e| panic!("{e}")))
}

fn operations(api: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in api["paths"].as_object().into_iter().flatten() {
        for method in item.as_object().into_iter().flatten().map(|(k, _)| k) {
            out.insert((method.to_uppercase(), path.clone()));
        }
    }
    out
}

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../openapi.json")
}

fn rendered() -> String {
    let pretty = serde_json::to_string_pretty(&doc()).unwrap_or_else(|e| panic!("{e}"));
    format!("{pretty}\n")
}

#[test]
fn committed_openapi_json_matches_the_code() {
    let path = committed_path();
    let expected = rendered();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &expected).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != expected {
        let line = committed
            .lines()
            .zip(expected.lines())
            .position(|(a, b)| a != b)
            .map_or_else(|| "its length".to_owned(), |i| format!("line {}", i + 1));
        panic!(
            "openapi.json (repository root) is out of date with the code (first difference at {line}): \
             run `./inv openapi` and commit the file"
        );
    }
}

#[test]
fn is_openapi_3_1_with_relative_servers() {
    let doc = doc();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(
        doc.get("servers").is_none(),
        "servers stay relative to the document's URL"
    );
    assert!(doc["info"]["title"].as_str().is_some_and(|t| !t.is_empty()));
}

#[test]
fn every_fragment_operation_is_in_the_document() {
    let doc = doc();
    let merged = operations(&doc);
    let mut total = 0;
    for fragment in fragments() {
        let own = operations(&value(&fragment.api));
        assert!(
            !own.is_empty(),
            "{} documents no operation",
            fragment.service
        );
        total += own.len();
        for op in &own {
            assert!(
                merged.contains(op),
                "{} {} from {} is missing",
                op.0,
                op.1,
                fragment.service
            );
            let (method, path) = op;
            let ours = &doc["paths"][path][method.to_lowercase()];
            let theirs = &value(&fragment.api)["paths"][path][method.to_lowercase()];
            assert_eq!(ours["operationId"], theirs["operationId"]);
            assert_eq!(ours["parameters"], theirs["parameters"], "{method} {path}");
            let (ours, theirs) = (statuses(ours), statuses(theirs));
            assert!(
                theirs.is_subset(&ours),
                "every status of {method} {path} survives"
            );
            assert!(
                ours.difference(&theirs).all(|status| *status == "429"),
                "only the edge's 429 is added to {method} {path}"
            );
        }
    }
    assert_eq!(merged.len(), total, "no two fragments share an operation");
}

#[test]
fn every_fragment_schema_survives_under_its_name_or_a_service_prefix() {
    let doc = doc();
    let schemas = doc["components"]["schemas"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for fragment in fragments() {
        let api = value(&fragment.api);
        for (name, _) in api["components"]["schemas"]
            .as_object()
            .into_iter()
            .flatten()
        {
            let prefixed = format!("{}{name}", pascal(fragment.service));
            assert!(
                schemas.contains_key(name) || schemas.contains_key(&prefixed),
                "{}'s schema {name} is lost",
                fragment.service
            );
        }
    }
    // Every reference resolves.
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"").skip(1) {
        let target = reference.split('"').next().unwrap_or_default();
        let name = target.trim_start_matches("#/components/schemas/");
        assert!(schemas.contains_key(name), "dangling $ref {target}");
    }
}

fn pascal(service: &str) -> String {
    let mut chars = service.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[test]
fn services_own_problem_schemas_are_kept_apart() {
    let doc = doc();
    let schemas = &doc["components"]["schemas"];
    // Blog's 409/412 carry `current_version`, billing's 422 `amount_due`: both documented, each where it belongs.
    assert!(schemas["BlogProblemDoc"]["properties"]["current_version"].is_object());
    assert!(schemas["BillingProblemDoc"]["properties"]["amount_due"].is_object());
    assert!(
        schemas.get("ProblemDoc").is_none(),
        "differing ProblemDocs are renamed, not merged"
    );
    let conflict = &doc["paths"]["/posts/{id}"]["put"]["responses"]["409"]["content"]["application/problem+json"];
    assert_eq!(
        conflict["schema"]["$ref"],
        "#/components/schemas/BlogProblemDoc"
    );
}

#[test]
fn documents_the_bearer_scheme_and_which_operations_need_it() {
    let doc = doc();
    let bearer = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(bearer["type"], "http");
    assert_eq!(bearer["scheme"], "bearer");
    assert_eq!(
        doc["paths"]["/posts"]["post"]["security"],
        json!([{"bearer": []}])
    );
    assert!(
        doc["paths"]["/currencies"]["get"].get("security").is_none(),
        "reads are public"
    );
}

#[test]
fn documents_the_fat_only_routes() {
    let doc = doc();
    for path in ["/openapi.json", "/docs", "/docs/{asset}"] {
        assert!(doc["paths"][path]["get"].is_object(), "{path}");
    }
    for service in fat::openapi::HEALTH_SERVICES {
        assert!(
            doc["paths"][format!("/health/{service}")]["get"].is_object(),
            "{service}"
        );
    }
}

/// The statuses an operation documents responses for.
fn statuses(operation: &Value) -> BTreeSet<&String> {
    operation["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(status, _)| status)
        .collect()
}

fn fragment(service: &'static str, json: Value) -> Fragment {
    Fragment {
        service,
        api: serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}")),
    }
}

fn op(id: &str, schema: &str) -> Value {
    json!({"operationId": id, "responses": {"200": {"description": "ok",
        "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}}}})
}

#[test]
fn merge_renames_conflicting_schemas_and_follows_references() {
    let a = fragment(
        "a-one",
        json!({"openapi": "3.1.0", "info": {"title": "a", "version": "1"},
        "paths": {"/a": {"get": op("a", "Thing")}},
        "components": {"schemas": {"Thing": {"type": "string"}, "Same": {"type": "integer"}}}}),
    );
    let b = fragment(
        "b",
        json!({"openapi": "3.1.0", "info": {"title": "b", "version": "1"},
        "paths": {"/b": {"get": op("b", "Thing")}},
        "components": {"schemas": {"Thing": {"type": "object"}, "Same": {"type": "integer"}}}}),
    );
    let merged = value(&merge(vec![a, b]).unwrap_or_else(|e| panic!("{e}")));
    let schemas = &merged["components"]["schemas"];
    assert_eq!(schemas["AOneThing"]["type"], "string");
    assert_eq!(schemas["BThing"]["type"], "object");
    assert_eq!(
        schemas["Same"]["type"], "integer",
        "identical definitions stay shared"
    );
    assert!(schemas.get("Thing").is_none());
    let schema = |path: &str| {
        merged["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].clone()
    };
    assert_eq!(schema("/a"), "#/components/schemas/AOneThing");
    assert_eq!(schema("/b"), "#/components/schemas/BThing");
}

#[test]
fn merge_refuses_to_drop_an_operation() {
    let doc = |service| {
        json!({"openapi": "3.1.0", "info": {"title": service, "version": "1"},
        "paths": {"/same": {"get": op(service, "X")}}, "components": {"schemas": {"X": {"type": "object"}}}})
    };
    let error = merge(vec![fragment("a", doc("a")), fragment("b", doc("b"))]).err();
    assert_eq!(
        error,
        Some(MergeError::DuplicateOperation {
            method: "GET".into(),
            path: "/same".into(),
            first: "a",
            second: "b"
        })
    );
}

#[test]
fn merge_refuses_repeated_operation_ids_and_conflicting_schemes() {
    let doc = |path: &str, scheme: &str| {
        json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
        "paths": {path: {"get": op("same_id", "X")}},
        "components": {"schemas": {"X": {"type": "object"}}, "securitySchemes": {"bearer": {"type": "http", "scheme": scheme}}}})
    };
    let error = merge(vec![
        fragment("a", doc("/a", "bearer")),
        fragment("b", doc("/b", "bearer")),
    ])
    .err();
    assert!(
        matches!(error, Some(MergeError::DuplicateOperationId { .. })),
        "{error:?}"
    );

    let mut second = doc("/b", "basic");
    second["paths"]["/b"]["get"]["operationId"] = json!("other");
    let error = merge(vec![
        fragment("a", doc("/a", "bearer")),
        fragment("b", second),
    ])
    .err();
    assert!(
        matches!(error, Some(MergeError::ConflictingSecurityScheme { .. })),
        "{error:?}"
    );
}
