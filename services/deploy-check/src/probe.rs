//! What to ask a new version, and how to judge its answers.
//!
//! `PROBES` (JSON, from the template) maps each function name to its checks:
//! `{"<name>": {"health": "GET /health/auth", "authenticated": "GET /me"}}` for HTTP functions (either key may be
//! left out, not both), `{"<name>": {"queue": true}}` for a queue consumer (an empty SQS batch must succeed).
//! Requests are API Gateway HTTP API (payload 2.0) events invoked on the version itself: before traffic shifts no
//! route reaches it.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::CheckError;

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    /// `METHOD /path` that must answer 200.
    pub health: Option<String>,
    /// `METHOD /path` sent with the probe account's token: must neither refuse the token (401/403) nor fail (5xx).
    pub authenticated: Option<String>,
    /// A queue consumer: an empty batch must return without a function error.
    #[serde(default)]
    pub queue: bool,
}

impl Probe {
    pub fn needs_token(&self) -> bool {
        self.authenticated.is_some()
    }
}

/// The probes of every function, by function name.
#[derive(Debug, Clone, Default)]
pub struct Probes(HashMap<String, Probe>);

impl Probes {
    pub fn parse(json: &str) -> Result<Self, CheckError> {
        let map: HashMap<String, Probe> =
            serde_json::from_str(json).map_err(|e| CheckError::Config(format!("PROBES: {e}")))?;
        for (name, probe) in &map {
            if probe.health.is_none() && probe.authenticated.is_none() && !probe.queue {
                return Err(CheckError::Config(format!("PROBES: {name} has no check")));
            }
            for route in probe.health.iter().chain(probe.authenticated.iter()) {
                split_route(route)?;
            }
        }
        Ok(Self(map))
    }

    pub fn get(&self, function: &str) -> Result<&Probe, CheckError> {
        self.0
            .get(function)
            .ok_or_else(|| CheckError::UnknownFunction(function.to_owned()))
    }
}

/// `"GET /me"` → `("GET", "/me")`.
pub fn split_route(route: &str) -> Result<(&str, &str), CheckError> {
    match route.split_once(' ') {
        Some((method, path)) if !method.is_empty() && path.starts_with('/') => Ok((method, path)),
        _ => Err(CheckError::Config(format!(
            "route {route:?} is not `METHOD /path`"
        ))),
    }
}

/// An HTTP API payload 2.0 event for `route` (path parameters like `{id}` are sent as a fixed probe id).
pub fn http_event(
    route: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Result<Value, CheckError> {
    let (method, template) = split_route(route)?;
    let path = concrete_path(template);
    let mut headers = json!({"user-agent": "deploy-check", "accept": "application/json"});
    if let Some(token) = token {
        headers["authorization"] = json!(format!("Bearer {token}"));
    }
    if body.is_some() {
        headers["content-type"] = json!("application/json");
    }
    Ok(json!({
        "version": "2.0",
        "routeKey": route,
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "deploy-check",
            "apiId": "deploy-check",
            "domainName": "deploy-check.invalid",
            "domainPrefix": "deploy-check",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                     "userAgent": "deploy-check"},
            "requestId": "deploy-check",
            "routeKey": route,
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 1_767_225_600_000_u64
        },
        "body": body.map(Value::to_string),
        "isBase64Encoded": false
    }))
}

fn concrete_path(template: &str) -> String {
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "deploy-check-probe"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The status code of an HTTP API response payload.
pub fn status_of(payload: &[u8]) -> Result<u16, String> {
    let response: Value =
        serde_json::from_slice(payload).map_err(|e| format!("response is not JSON: {e}"))?;
    response
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .ok_or_else(|| "response has no statusCode".to_owned())
}

/// The health check passes on 200 only.
pub fn health_ok(status: u16) -> bool {
    status == 200
}

/// The authenticated request passes when the token was accepted and the code did not fail: a 404 for the probe
/// id or a 400/422 for an empty body still proves the version starts, verifies tokens and reaches its handler.
pub fn authenticated_ok(status: u16) -> bool {
    status < 500 && status != 401 && status != 403
}

/// The empty SQS batch a queue consumer must accept.
pub fn empty_batch() -> Value {
    json!({"Records": []})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_probes_and_refuses_bad_ones() {
        let probes = Probes::parse(
            r#"{"a": {"health": "GET /health/a", "authenticated": "GET /me"}, "q": {"queue": true}}"#,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert!(
            probes
                .get("a")
                .unwrap_or_else(|e| panic!("{e:?}"))
                .needs_token()
        );
        assert!(probes.get("q").unwrap_or_else(|e| panic!("{e:?}")).queue);
        assert!(matches!(probes.get("zz"), Err(CheckError::UnknownFunction(n)) if n == "zz"));
        assert!(matches!(
            Probes::parse(r#"{"a": {}}"#),
            Err(CheckError::Config(_))
        ));
        assert!(matches!(
            Probes::parse(r#"{"a": {"health": "/x"}}"#),
            Err(CheckError::Config(_))
        ));
        assert!(matches!(
            Probes::parse(r#"{"a": {"helth": "GET /x"}}"#),
            Err(CheckError::Config(_))
        ));
    }

    #[test]
    fn builds_an_http_api_event_with_the_token() {
        let event =
            http_event("GET /posts/{id}", Some("t0k"), None).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(event["rawPath"], "/posts/deploy-check-probe");
        assert_eq!(event["requestContext"]["http"]["method"], "GET");
        assert_eq!(event["headers"]["authorization"], "Bearer t0k");
        assert!(event["body"].is_null());
        let post = http_event("POST /login", None, Some(&json!({"email": "e"})))
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(post["body"], r#"{"email":"e"}"#);
        assert!(post["headers"].get("authorization").is_none());
    }

    #[test]
    fn judges_statuses() {
        assert_eq!(status_of(br#"{"statusCode": 204}"#), Ok(204));
        assert!(status_of(b"null").is_err());
        assert!(health_ok(200) && !health_ok(503) && !health_ok(204));
        assert!(authenticated_ok(200) && authenticated_ok(404) && authenticated_ok(422));
        assert!(!authenticated_ok(401) && !authenticated_ok(403) && !authenticated_ok(500));
    }
}
