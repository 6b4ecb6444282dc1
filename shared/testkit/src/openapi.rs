//! Checks every service's OpenAPI document (as JSON) must pass.

use serde_json::Value;

/// `doc` declares the `bearer` HTTP security scheme its protected operations name.
pub fn assert_bearer_scheme(doc: &Value) {
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["scheme"], "bearer", "{scheme}");
}

/// `doc` declares each of the component `schemas`.
pub fn assert_schemas(doc: &Value, schemas: &[&str]) {
    for schema in schemas {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "schema {schema} missing"
        );
    }
}
