//! Login rate-limit hook.
//!
//! The service does not ship a limiter of its own; it calls a [`LoginThrottle`] around every login so a
//! deployment can plug one in without touching the handlers:
//!
//! 1. **At the edge (recommended first line):** an AWS WAF rate-based rule on `POST /login` (per source IP)
//!    in front of the API (HTTP APIs take WAF through CloudFront), plus HTTP API stage/route throttling
//!    (`DefaultRouteSettings` / `RouteSettings` `ThrottlingBurstLimit`, `ThrottlingRateLimit`).
//! 2. **Per account (this hook):** an implementation backed by DynamoDB counters keyed by
//!    `LOGIN#<email>` and `LOGIN#<source ip>` with a TTL of the window, incremented atomically
//!    (`UpdateItem ADD attempts :one` with a condition on the window start) in `record_failure`, cleared in
//!    `record_success`, and checked in `check` (refuse with `retry_after` when over the limit). Refusals
//!    answer 429 with `Retry-After`, and must not reveal whether the account exists: count by the submitted
//!    email whether or not an account has it.
//!
//! In-environment counters would be a fake limiter (each warm environment counts alone and forgets on
//! recycle), so none is provided.

/// What the limiter sees of one login attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginAttempt {
    /// The normalised email as submitted (whether or not an account exists).
    pub email: String,
    /// The caller's IP as API Gateway saw it (`requestContext.http.sourceIp`), when known.
    pub source_ip: Option<String>,
}

/// Refusal: try again after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

#[async_trait::async_trait]
pub trait LoginThrottle: Send + Sync + 'static {
    /// Before verifying the password: `Err` refuses the attempt with 429.
    async fn check(&self, attempt: &LoginAttempt) -> Result<(), RetryAfter>;
    /// After a failed attempt (unknown email or wrong password).
    async fn record_failure(&self, attempt: &LoginAttempt);
    /// After a successful login.
    async fn record_success(&self, attempt: &LoginAttempt);
}

/// Allows everything (the default until a real limiter is wired in).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoThrottle;

#[async_trait::async_trait]
impl LoginThrottle for NoThrottle {
    async fn check(&self, _: &LoginAttempt) -> Result<(), RetryAfter> {
        Ok(())
    }
    async fn record_failure(&self, _: &LoginAttempt) {}
    async fn record_success(&self, _: &LoginAttempt) {}
}

/// The caller's source IP from the API Gateway request context (absent outside Lambda, e.g. in tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceIp(pub Option<String>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for SourceIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        use lambda_http::RequestExt as _;
        use lambda_http::request::RequestContext;
        let ip = match parts.extensions.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
            _ => None,
        };
        Ok(SourceIp(ip))
    }
}
