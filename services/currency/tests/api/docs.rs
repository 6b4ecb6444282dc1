//! The OpenAPI fragments of the read and write routers.

use testkit::openapi::{assert_bearer_scheme, assert_schemas};

#[test]
fn openapi_documents_every_route_with_problems_and_bearer_writes() {
    let doc = serde_json::to_value(currency::openapi()).unwrap_or_default();
    let paths = &doc["paths"];
    for (path, methods) in [
        ("/currencies", vec!["get", "post"]),
        ("/currencies/{code}", vec!["get", "put", "delete"]),
        ("/commands/{id}", vec!["get"]),
    ] {
        for method in methods {
            let op = &paths[path][method];
            assert!(op.is_object(), "{method} {path} documented");
            let writes = method != "get" || path.starts_with("/commands");
            assert_eq!(
                op["security"].is_array(),
                writes,
                "{method} {path} security"
            );
        }
    }
    let post = &paths["/currencies"]["post"]["responses"];
    assert!(post["202"]["headers"]["Location"].is_object());
    assert!(post["403"]["content"]["application/problem+json"].is_object());
    assert!(post["422"]["content"]["application/problem+json"].is_object());
    assert!(paths["/currencies"]["get"]["responses"]["304"].is_object());
    assert_bearer_scheme(&doc);
    assert_schemas(
        &doc,
        &[
            "CurrencyView",
            "CommandView",
            "NewCurrency",
            "CurrencyBody",
            "ProblemDoc",
        ],
    );
    assert!(doc["components"]["schemas"]["NewCurrency"]["example"].is_object());
}
