//! The probe events are what the services' runtime (lambda_http) reads as HTTP API payload 2.0 requests.

use deploy_check::probe::http_event;
use lambda_http::request::{RequestContext, from_str};
use lambda_http::{Body, RequestExt};
use serde_json::json;

#[test]
fn a_probe_event_is_an_http_api_request_with_the_token() {
    let event = http_event("GET /posts/{id}/comments", Some("t0k"), None)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let request = from_str(&event.to_string()).unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        request.request_context(),
        RequestContext::ApiGatewayV2(_)
    ));
    assert_eq!(request.method(), "GET");
    assert_eq!(request.uri().path(), "/posts/deploy-check-probe/comments");
    assert_eq!(
        request.headers().get("authorization").map(|v| v.as_bytes()),
        Some(&b"Bearer t0k"[..])
    );
}

#[test]
fn a_login_event_carries_its_json_body() {
    let body = json!({"email": "probe@example.com", "password": "p"});
    let event = http_event("POST /login", None, Some(&body)).unwrap_or_else(|e| panic!("{e:?}"));
    let request = from_str(&event.to_string()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(request.method(), "POST");
    assert_eq!(
        request.headers().get("content-type").map(|v| v.as_bytes()),
        Some(&b"application/json"[..])
    );
    let Body::Text(text) = request.body() else {
        panic!("expected a text body, got {:?}", request.body())
    };
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(text).unwrap_or_else(|e| panic!("{e}")),
        body
    );
}
