//! OpenAPI pieces every service fragment shares, so the fat Lambda's merged document has one definition of each.

use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, ToSchema};

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
                    .build(),
            ),
        );
    }
}

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

    #[test]
    fn field_error_serialises_field_and_message() {
        let json = serde_json::to_value(FieldError::new("title", "too long")).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({"field": "title", "message": "too long"})
        );
    }
}
