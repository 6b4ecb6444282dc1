//! A builder-style client over a service's `Router`, served in process with `oneshot`:
//! `app.post("/posts").as_user("bob").json(&body).send().await`.
//!
//! Every 4xx/5xx answer is checked to be `application/problem+json` (`send_unchecked` skips that for answers known
//! not to be, e.g. a router's own 405); [`Reply::assert_problem`] checks the status and title too. Tokens come from
//! a [`TestIssuer`] whose verifier the service under test trusts, or from the service itself
//! ([`TestClient::without_issuer`] and [`RequestBuilder::bearer`]).

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use http::{HeaderMap, Method, Request, StatusCode, header};
use platform::auth::testing::TestIssuer;
use serde::Serialize;
use serde_json::Value;
use tower::ServiceExt;

/// The service under test and the issuer of its callers' tokens. Clones share the router and the issuer
/// (for requests sent from spawned tasks).
#[derive(Clone)]
pub struct TestClient {
    router: Router,
    issuer: Arc<TestIssuer>,
    headers: Vec<(String, String)>,
}

impl TestClient {
    pub fn new(router: Router, issuer: TestIssuer) -> Self {
        Self {
            router,
            issuer: Arc::new(issuer),
            headers: Vec::new(),
        }
    }

    /// A client for a service that issues its own tokens (use [`RequestBuilder::bearer`]); its
    /// [`TestIssuer`] is one nobody trusts.
    pub fn without_issuer(router: Router) -> Self {
        Self::new(router, TestIssuer::new())
    }

    /// The same issuer (and default headers) in front of another router, e.g. a second execution
    /// environment over the same stores.
    pub fn with_router(&self, router: Router) -> Self {
        Self {
            router,
            issuer: self.issuer.clone(),
            headers: self.headers.clone(),
        }
    }

    /// A header every request carries (e.g. `Host` for a service that builds absolute URLs).
    pub fn with_default_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The router under test (for requests the client does not send, e.g. concurrent ones).
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    pub fn issuer(&self) -> &TestIssuer {
        &self.issuer
    }

    /// A bearer token for `user` (no roles).
    pub fn token(&self, user: &str) -> String {
        self.issuer.token(user, &[])
    }

    pub fn request(&self, method: Method, uri: impl Into<String>) -> RequestBuilder<'_> {
        RequestBuilder {
            client: self,
            method,
            uri: uri.into(),
            headers: self.headers.clone(),
            body: None,
        }
    }

    pub fn get(&self, uri: impl Into<String>) -> RequestBuilder<'_> {
        self.request(Method::GET, uri)
    }

    pub fn post(&self, uri: impl Into<String>) -> RequestBuilder<'_> {
        self.request(Method::POST, uri)
    }

    pub fn put(&self, uri: impl Into<String>) -> RequestBuilder<'_> {
        self.request(Method::PUT, uri)
    }

    pub fn patch(&self, uri: impl Into<String>) -> RequestBuilder<'_> {
        self.request(Method::PATCH, uri)
    }

    pub fn delete(&self, uri: impl Into<String>) -> RequestBuilder<'_> {
        self.request(Method::DELETE, uri)
    }

    /// `GET /health/{service}` answers 200 naming `service`; the reply.
    pub async fn assert_healthy(&self, service: &str) -> Reply {
        let reply = self.get(format!("/health/{service}")).send().await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "/health/{service}: {}",
            reply.body
        );
        assert_eq!(reply.body["service"], service);
        reply
    }

    /// `GET uri` answers a 404 problem; the reply.
    pub async fn assert_not_found(&self, uri: &str) -> Reply {
        let reply = self.get(uri).send().await;
        reply.assert_problem(StatusCode::NOT_FOUND);
        reply
    }

    /// Sends a request built by hand (every 4xx/5xx must be problem+json).
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let reply = self.send_unchecked(request).await;
        reply.assert_errors_are_problems();
        reply
    }

    /// Sends a request without checking that errors are problem+json (for answers that are known not to be).
    pub async fn send_unchecked(&self, request: Request<Body>) -> Reply {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .unwrap_or_else(|never| match never {});
        Reply::read(response).await
    }
}

/// One request to the client's router.
#[must_use = "send() it"]
pub struct RequestBuilder<'a> {
    client: &'a TestClient,
    method: Method,
    uri: String,
    headers: Vec<(String, String)>,
    body: Option<Body>,
}

impl RequestBuilder<'_> {
    /// `Authorization: Bearer` a token for `user` (no roles).
    pub fn as_user(self, user: &str) -> Self {
        self.as_user_with_roles(user, &[])
    }

    /// `Authorization: Bearer` a token for `user` with `roles`.
    pub fn as_user_with_roles(self, user: &str, roles: &[&str]) -> Self {
        let token = self.client.issuer.token(user, roles);
        self.bearer(&token)
    }

    /// [`Self::as_user`] when there is a user, else no `Authorization`.
    pub fn as_maybe_user(self, user: Option<&str>) -> Self {
        match user {
            Some(user) => self.as_user(user),
            None => self,
        }
    }

    /// `Authorization: Bearer {token}`.
    pub fn bearer(self, token: &str) -> Self {
        self.header(header::AUTHORIZATION.as_str(), &format!("Bearer {token}"))
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Several headers at once.
    pub fn headers(self, headers: &[(&str, &str)]) -> Self {
        headers
            .iter()
            .fold(self, |builder, (name, value)| builder.header(name, value))
    }

    /// A JSON body (`Content-Type: application/json`).
    pub fn json(self, body: &impl Serialize) -> Self {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        self.body("application/json", bytes)
    }

    /// A body sent without a `Content-Type`.
    pub fn body_without_content_type(mut self, body: impl Into<Body>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// A raw body with its content type.
    pub fn body(mut self, content_type: &str, body: impl Into<Body>) -> Self {
        self.body = Some(body.into());
        self.header(header::CONTENT_TYPE.as_str(), content_type)
    }

    pub async fn send(self) -> Reply {
        let client = self.client;
        client.send(self.build()).await
    }

    /// [`Self::send`], asserting the answer's status (the body is in the failure message).
    pub async fn send_expecting(self, status: StatusCode) -> Reply {
        let reply = self.send().await;
        assert_eq!(reply.status, status, "{}", reply.body);
        reply
    }

    /// [`Self::send`] without the problem+json check on errors.
    pub async fn send_unchecked(self) -> Reply {
        let client = self.client;
        client.send_unchecked(self.build()).await
    }

    fn build(self) -> Request<Body> {
        let mut request = Request::builder().method(self.method).uri(self.uri);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        request
            .body(self.body.unwrap_or_else(Body::empty))
            .unwrap_or_else(|e| panic!("a request the test built is invalid: {e}"))
    }
}

/// A response, its body read (JSON, a JSON string for other text, `null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub raw: Bytes,
}

impl Reply {
    /// Reads any service's response (for services the client does not call itself, e.g. a buffered one).
    pub async fn read<B: axum::body::HttpBody>(response: http::Response<B>) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let raw = platform::testing::body_bytes(response.into_body()).await;
        let body = if raw.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&raw)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&raw).into()))
        };
        Reply {
            status,
            headers,
            body,
            raw,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The header's value, empty when there is none.
    pub fn header_or_empty(&self, name: &str) -> &str {
        self.header(name).unwrap_or_default()
    }

    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }

    /// The `field`s named in a 422's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every 4xx/5xx answer is `application/problem+json`.
    pub fn assert_errors_are_problems(&self) {
        if self.status.is_client_error() || self.status.is_server_error() {
            assert_eq!(
                self.header(header::CONTENT_TYPE.as_str()),
                Some(platform::problem::CONTENT_TYPE),
                "errors are problem+json: {} {}",
                self.status,
                self.body
            );
        }
    }

    /// The `ETag` header (empty when there is none).
    pub fn etag(&self) -> String {
        self.header(header::ETAG.as_str())
            .unwrap_or_default()
            .to_owned()
    }

    /// Asserts a problem+json answer with this status; returns the problem.
    pub fn assert_problem(&self, status: StatusCode) -> &Value {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(
            self.header(header::CONTENT_TYPE.as_str()),
            Some(platform::problem::CONTENT_TYPE)
        );
        assert_eq!(self.body["status"], status.as_u16(), "{}", self.body);
        assert!(self.body["title"].is_string(), "{}", self.body);
        &self.body
    }
}
