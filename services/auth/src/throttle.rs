//! The login rate-limit hook: handlers call a [`LoginThrottle`] around every login and registration.
//!
//! The shipped implementation is [`crate::login_limits::LoginLimits`] (per account and per source IP,
//! counters in DynamoDB shared by every environment). In front of it, a deployment should add edge limits:
//! HTTP API route throttling (in the template) and, for per-IP limits before any function runs, an AWS WAF
//! rate-based rule (see `docs/security.md`).

/// What the limiter sees of one login attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginAttempt {
    /// The normalised email as submitted (whether or not an account exists).
    pub email: String,
    /// The caller's IP as API Gateway saw it (`requestContext.http.sourceIp`), when known.
    pub source_ip: Option<String>,
}

/// Why an attempt is refused before any password work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Too many failures (the client's doing): 429, try again after this many seconds.
    TooMany(u64),
    /// The limits cannot be read (ours): 503, fail closed, retry after this many seconds.
    Unavailable(u64),
}

#[async_trait::async_trait]
pub trait LoginThrottle: Send + Sync + 'static {
    /// Before verifying the password: `Err` refuses the attempt with 429.
    async fn check(&self, attempt: &LoginAttempt) -> Result<(), Refused>;
    /// After a failed attempt (unknown email or wrong password).
    async fn record_failure(&self, attempt: &LoginAttempt);
    /// After a successful login.
    async fn record_success(&self, attempt: &LoginAttempt);
    /// Before hashing a registration's password: `Err` refuses it with 429.
    async fn check_register(&self, _source_ip: Option<&str>) -> Result<(), Refused> {
        Ok(())
    }
    /// After a refused registration (invalid fields or email taken).
    async fn record_register_failure(&self, _source_ip: Option<&str>) {}
}

/// Allows everything (tests that are not about limits).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoThrottle;

#[async_trait::async_trait]
impl LoginThrottle for NoThrottle {
    async fn check(&self, _: &LoginAttempt) -> Result<(), Refused> {
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
