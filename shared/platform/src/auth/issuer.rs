//! The issuer URL when `JWT_ISSUER` is not configured.
//!
//! An HTTP API's URL (`https://{api-id}.execute-api.{region}.amazonaws.com`) cannot be passed to its own
//! functions' environment in CloudFormation: the API's routes reference the functions, so a function
//! referencing the API would be a circular dependency. Without a custom domain (then set `JWT_ISSUER`),
//! auth and every service derive the issuer from the request instead: `{x-forwarded-proto or https}://{host}`.
//! API Gateway routes by `Host`, so behind it the header is the API's own domain; a token minted through one
//! API (or stage domain) is accepted only on that API. Set `JWT_ISSUER` wherever `Host` is not trustworthy.

use http::HeaderMap;

/// `{proto}://{host}` from `x-forwarded-proto` (default `https`) and `host`, if both are well formed.
///
/// Only `http`/`https` and host names made of letters, digits, `.`, `-`, `:` (port) and `[]` (IPv6) are
/// accepted, so a forged header can never inject a path, userinfo or query into the issuer or JWKS URL.
pub fn issuer_from_headers(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(http::header::HOST)?.to_str().ok()?.trim();
    let valid_host = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !valid_host {
        return None;
    }
    let proto = match headers.get("x-forwarded-proto") {
        None => "https",
        Some(value) => {
            // A comma-separated list when several proxies appended to it; the first is the client's.
            let first = value.to_str().ok()?.split(',').next()?.trim();
            if first.eq_ignore_ascii_case("http") {
                "http"
            } else if first.eq_ignore_ascii_case("https") {
                "https"
            } else {
                return None;
            }
        }
    };
    Some(format!("{proto}://{}", host.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, http::HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn defaults_to_https() {
        assert_eq!(
            issuer_from_headers(&headers(&[(
                "host",
                "abc.execute-api.eu-west-1.amazonaws.com"
            )])),
            Some("https://abc.execute-api.eu-west-1.amazonaws.com".into())
        );
    }

    #[test]
    fn honours_forwarded_proto_and_port() {
        assert_eq!(
            issuer_from_headers(&headers(&[
                ("host", "127.0.0.1:3000"),
                ("x-forwarded-proto", "http, https")
            ])),
            Some("http://127.0.0.1:3000".into())
        );
    }

    #[test]
    fn rejects_injection_and_missing_host() {
        assert_eq!(issuer_from_headers(&headers(&[])), None);
        assert_eq!(
            issuer_from_headers(&headers(&[("host", "evil.com/x?y")])),
            None
        );
        assert_eq!(issuer_from_headers(&headers(&[("host", "a@b")])), None);
        assert_eq!(
            issuer_from_headers(&headers(&[("host", "a.com"), ("x-forwarded-proto", "ftp")])),
            None
        );
    }
}
