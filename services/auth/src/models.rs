//! Request and response bodies (the API's wire format, documented with utoipa).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::User;

/// `POST /register` body.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery staple"}))]
pub struct RegisterRequest {
    /// Trimmed and lowercased before use; at most 254 characters.
    #[schema(schema_with = openapi_rules::email)]
    pub email: String,
    /// 12–128 characters; not one repeated character, not a simple sequence, not a common password,
    /// not the email.
    #[schema(schema_with = openapi_rules::password)]
    pub password: String,
}

/// The rules of the registration fields, as schemas (see `platform::schema`).
mod openapi_rules {
    use platform::schema::{CONTROL_CLASS, END, RULE_PASSWORD, Text};
    use utoipa::openapi::schema::Object;

    /// `local@domain`: the local part 1–64 of letters, digits and `!#$%&'*+/=?^_`{|}~-` in dot-separated
    /// atoms; at least two domain labels of letters, digits and inner hyphens, 1–63 each. (The service also
    /// takes non-ASCII letters and digits; the document states the ASCII subset.)
    pub fn email() -> Object {
        let atom = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
        let label = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
        Text {
            max: Some(254),
            pattern: Some(format!(
                "^(?=[^@]{{1,64}}@){atom}(?:\\.{atom})*@(?:{label}\\.)+{label}{END}"
            )),
            description: "An email address (`local@domain`, at most 254 characters, the local part at most 64); \
                          lowercased before use",
            example: Some("ada@example.com"),
            ..Text::default()
        }
        .build()
    }

    pub fn password() -> Object {
        Text {
            min: Some(crate::domain::password::MIN_CHARS),
            max: Some(crate::domain::password::MAX_CHARS),
            pattern: Some(format!("^(?!([\\s\\S])\\1*{END})[^{CONTROL_CLASS}]*{END}")),
            description: "12–128 characters, no control characters, not one repeated character; also (the \
                          `x-rules` extension): not a straight run (`abcdefghijkl`), not a well-known password, \
                          and not containing the email address or its local part",
            example: Some("correct horse battery staple"),
            rules: vec![RULE_PASSWORD.to_owned()],
            ..Text::default()
        }
        .build()
    }
}

/// `POST /login` body.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery staple"}))]
pub struct LoginRequest {
    #[schema(example = "ada@example.com")]
    pub email: String,
    #[schema(example = "correct horse battery staple", format = Password)]
    pub password: String,
}

/// An account as clients see it (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "6f1c2a7e-0b7e-4d8a-9a53-2f7d0c3c1e55",
    "email": "ada@example.com",
    "roles": [],
    "created_at": "2026-11-24T00:00:00Z"
}))]
pub struct UserResponse {
    /// The user id (the token's `sub`).
    pub id: String,
    pub email: String,
    /// Role names, e.g. `admin`.
    pub roles: Vec<String>,
    /// RFC 3339 UTC.
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<User> for UserResponse {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            email: user.email,
            roles: user.roles,
            created_at: user.created_at,
        }
    }
}

/// `POST /login` answer (RFC 6749 section 5.1 shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"access_token": "eyJhbGciOiJFUzI1NiIsImtpZCI6Ii4uLiJ9.eyJzdWIiOiIuLi4ifQ.c2ln", "token_type": "Bearer", "expires_in": 900}))]
pub struct TokenResponse {
    /// An ES256 JWT: `iss`, `aud`, `sub`, `email`, `roles`, `jti`, `iat`, `exp`; header `kid`.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the token expires.
    #[schema(example = 900)]
    pub expires_in: i64,
}

/// OpenID Provider metadata (the subset API Gateway's JWT authorizer and verifiers use).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "issuer": "https://abc123.execute-api.eu-west-1.amazonaws.com",
    "jwks_uri": "https://abc123.execute-api.eu-west-1.amazonaws.com/.well-known/jwks.json",
    "id_token_signing_alg_values_supported": ["ES256"],
    "response_types_supported": ["token"],
    "subject_types_supported": ["public"],
    "claims_supported": ["iss", "aud", "sub", "email", "roles", "jti", "iat", "exp"]
}))]
pub struct OpenIdConfiguration {
    pub issuer: String,
    pub jwks_uri: String,
    pub id_token_signing_alg_values_supported: Vec<String>,
    pub response_types_supported: Vec<String>,
    pub subject_types_supported: Vec<String>,
    pub claims_supported: Vec<String>,
}

/// A JSON Web Key Set (RFC 7517) of the ES256 public keys tokens are signed with.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0", "kid": "Vp0Z…", "alg": "ES256", "use": "sig"}]}))]
pub struct JwksDocument {
    pub keys: Vec<JwkDoc>,
}

/// One public key.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JwkDoc {
    #[schema(example = "EC")]
    pub kty: String,
    #[schema(example = "P-256")]
    pub crv: String,
    /// base64url x coordinate.
    pub x: String,
    /// base64url y coordinate.
    pub y: String,
    /// Key id (the token header's `kid`).
    pub kid: String,
    #[schema(example = "ES256")]
    pub alg: String,
    #[serde(rename = "use")]
    #[schema(example = "sig")]
    pub use_: String,
}

/// RFC 9457 problem details (`application/problem+json`); every error response has this shape.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": "A bearer access token is required."}))]
pub struct ProblemDetails {
    /// A URI reference identifying the problem type (`about:blank` when the status says it all).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Validation failures (422 only): one entry per invalid field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldErrorDoc>>,
}

/// One invalid field.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FieldErrorDoc {
    #[schema(example = "password")]
    pub field: String,
    #[schema(example = "must be at least 12 characters")]
    pub message: String,
}
