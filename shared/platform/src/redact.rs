//! What must never reach a log line: passwords, tokens, credentials, cookies and idempotency keys.
//!
//! Handlers log chosen fields, never headers or bodies wholesale. As a safety net the log formatter
//! ([`crate::telemetry`]) passes every field through [`field`], so a field *named* like a secret
//! (`password`, `authorization`, `token`, `idempotency_key`, …) prints as [`REDACTED`] whatever its value.

/// What a sensitive value prints as.
pub const REDACTED: &str = "[REDACTED]";

/// Name fragments that mark a header, field or JSON member as sensitive (compared case-insensitively, with
/// `-` and `_` ignored). `jti` (a token's public id) and `token_id` are identifiers, not secrets.
const SENSITIVE: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "authorization",
    "cookie",
    "accesstoken",
    "refreshtoken",
    "idtoken",
    "bearer",
    "apikey",
    "xapikey",
    "idempotencykey",
    "signingkey",
    "privatekey",
    "credential",
    "session",
];

/// Exact names (normalised) that are sensitive on their own.
const SENSITIVE_EXACT: &[&str] = &["token", "key", "jwt", "otp", "pin"];

fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '-' && *c != '_' && *c != '.')
        .flat_map(char::to_lowercase)
        .collect()
}

/// True when a header, log field or JSON member called `name` may hold a secret.
pub fn is_sensitive(name: &str) -> bool {
    let name = normalise(name);
    SENSITIVE_EXACT.contains(&name.as_str()) || SENSITIVE.iter().any(|s| name.contains(s))
}

/// `value`, or [`REDACTED`] when `name` is sensitive.
pub fn field<'v>(name: &str, value: &'v str) -> &'v str {
    if is_sensitive(name) { REDACTED } else { value }
}

/// A JSON value with every sensitive member (at any depth) replaced by [`REDACTED`].
pub fn json(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                let v = if is_sensitive(k) {
                    serde_json::Value::String(REDACTED.to_owned())
                } else {
                    json(v)
                };
                (k.clone(), v)
            })
            .collect(),
        serde_json::Value::Array(items) => items.iter().map(json).collect(),
        other => other.clone(),
    }
}

/// Header pairs safe to log: sensitive headers keep their name, their value is [`REDACTED`].
pub fn headers(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let shown = if is_sensitive(name.as_str()) {
                REDACTED.to_owned()
            } else {
                value.to_str().unwrap_or("<binary>").to_owned()
            };
            (name.as_str().to_owned(), shown)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_recognised_by_name() {
        for name in [
            "password",
            "new_password",
            "Authorization",
            "cookie",
            "Set-Cookie",
            "Idempotency-Key",
            "idempotency_key",
            "access_token",
            "token",
            "X-Api-Key",
            "client_secret",
        ] {
            assert!(is_sensitive(name), "{name}");
        }
        for name in [
            "jti",
            "token_id",
            "user_id",
            "route",
            "status",
            "email_domain",
            "command_id",
        ] {
            assert!(!is_sensitive(name), "{name}");
        }
    }

    #[test]
    fn json_members_and_headers_are_redacted() {
        let body = serde_json::json!({"email": "a@b.c", "password": "hunter2", "nested": [{"token": "t"}]});
        let shown = json(&body).to_string();
        assert!(
            !shown.contains("hunter2") && !shown.contains("\"t\""),
            "{shown}"
        );
        assert!(shown.contains("a@b.c"));
        let mut map = http::HeaderMap::new();
        map.insert(
            "authorization",
            http::HeaderValue::from_static("Bearer abc"),
        );
        map.insert(
            "content-type",
            http::HeaderValue::from_static("application/json"),
        );
        let pairs = headers(&map);
        assert!(pairs.iter().all(|(_, v)| v != "Bearer abc"));
        assert!(pairs.contains(&("content-type".into(), "application/json".into())));
    }
}
