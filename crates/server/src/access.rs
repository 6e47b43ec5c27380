//! Who may use the daemon: every request passes [`check`] before it reaches a handler.
//!
//! Three checks, in order:
//!
//! 1. **Where the request comes from.** Without a token the daemon listens on loopback only, and
//!    the [`crate::guard`] rules apply: a request from a web page on another site (`Origin`) or
//!    for another host name (`Host`, DNS rebinding) is refused. With a token the `Host` may be
//!    anything (the daemon may be reached by a LAN address), and an `Origin` must be loopback or
//!    the daemon's own (`http://<Host>`).
//! 2. **The token**, when the daemon has one (`server.token_env`, see [`ApiToken`]): every request
//!    but `GET /healthz` and the dashboard's static files (`/`, `/assets/…`, which hold no data)
//!    must carry it, as `Authorization: Bearer <token>` or as the `gaffer_token` cookie that the
//!    dashboard sets when it is opened as `/?token=<token>`. Otherwise: 401 `unauthorized`.
//! 3. **Intent.** A request that changes something (any method but `GET`, `HEAD` and `OPTIONS`)
//!    must carry an `X-Gaffer` header (the dashboard sends `X-Gaffer: 1`) or a JSON body
//!    (`Content-Type: application/json`, as the CLI sends). A page on another site can make a
//!    browser send a form post or a `text/plain` fetch without asking, but neither a custom header
//!    nor a JSON content type: those need a CORS preflight, which the daemon never grants.
//!    Otherwise: 403 `forbidden`. The token's cookie is also `SameSite=Strict`, so a browser does
//!    not attach it to another site's requests at all.

use crate::error::{ApiError, ErrorCode};
use crate::guard;
use crate::state::Ctx;
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, HOST, ORIGIN, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::fmt;
use std::sync::Arc;

/// The cookie that carries the token for the dashboard.
pub const TOKEN_COOKIE: &str = "gaffer_token";

/// The header that says a request is meant (a cross-site form cannot send it).
pub const INTENT_HEADER: &str = "x-gaffer";

/// The secret every request must carry when the daemon has one. Compared in constant time and
/// never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(Arc<str>);

impl ApiToken {
    /// The token, or `None` when `text` is blank (a blank token would protect nothing).
    pub fn new(text: &str) -> Option<ApiToken> {
        let text = text.trim();
        (!text.is_empty()).then(|| ApiToken(Arc::from(text)))
    }

    /// Whether `candidate` is this token, in time that does not depend on where they differ.
    pub fn matches(&self, candidate: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), candidate.trim().as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// The token as a cookie value (percent-encoded, so any token fits the cookie syntax).
    pub(crate) fn cookie_value(&self) -> String {
        percent_encode(&self.0)
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(…)")
    }
}

/// Middleware: the three checks of this module.
pub(crate) async fn check(State(ctx): State<Ctx>, request: Request, next: Next) -> Response {
    let token = ctx.app.token.as_ref();
    let headers = request.headers();
    if let Err(refused) = check_origin(headers, token.is_some()) {
        return refused.into_response();
    }
    if let Some(token) = token
        && needs_token(request.method(), request.uri().path())
        && !carries(headers, token)
    {
        return unauthorized();
    }
    if changes_state(request.method()) && !shows_intent(headers) {
        return ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "{} requests must carry an X-Gaffer header or a JSON body",
                request.method()
            ),
        )
        .with_hint("send `X-Gaffer: 1` (curl -H 'X-Gaffer: 1'); web pages on other sites cannot")
        .into_response();
    }
    next.run(request).await
}

fn check_origin(headers: &HeaderMap, has_token: bool) -> Result<(), ApiError> {
    let host = headers
        .get(HOST)
        .map(|h| h.to_str().unwrap_or_default().to_string());
    if let Some(origin) = headers.get(ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        let own = has_token && host.as_deref().is_some_and(|h| origin_is_host(origin, h));
        if !own && !guard::origin_is_loopback(origin) {
            return Err(guard::refusal(format!(
                "requests from the web page at {origin} are not allowed"
            )));
        }
    }
    if !has_token
        && let Some(host) = host
        && !guard::authority_is_loopback(&host)
    {
        return Err(guard::refusal(format!(
            "requests for host {host} are not allowed"
        )));
    }
    Ok(())
}

/// `http://host:port` or `https://host:port` naming exactly `host`.
fn origin_is_host(origin: &str, host: &str) -> bool {
    origin.split_once("://").is_some_and(|(scheme, authority)| {
        matches!(scheme, "http" | "https") && authority.eq_ignore_ascii_case(host)
    })
}

/// Everything needs the token but the health check and the dashboard's static files.
fn needs_token(method: &Method, path: &str) -> bool {
    let public = path == "/healthz" || path == "/" || path.starts_with("/assets/");
    !(public && (method == Method::GET || method == Method::HEAD))
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn shows_intent(headers: &HeaderMap) -> bool {
    let custom = headers
        .get(INTENT_HEADER)
        .is_some_and(|v| !v.as_bytes().is_empty());
    let json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"));
    custom || json
}

/// The request carries the token as a bearer token or in the dashboard's cookie.
fn carries(headers: &HeaderMap, token: &ApiToken) -> bool {
    let bearer = headers
        .get_all(AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split_once(' '))
        .any(|(scheme, value)| scheme.eq_ignore_ascii_case("bearer") && token.matches(value));
    bearer
        || headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .any(|(name, value)| {
                name == TOKEN_COOKIE
                    && percent_decode(value).is_some_and(|value| token.matches(&value))
            })
}

fn unauthorized() -> Response {
    let mut response = ApiError::new(
        ErrorCode::Unauthorized,
        "this gaffer daemon needs its token",
    )
    .with_hint(
        "send `Authorization: Bearer <token>`, or open the dashboard once as /?token=<token>; \
             the token is in the environment variable named by server.token_env (GAFFER_TOKEN)",
    )
    .into_response();
    response.headers_mut().insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"gaffer\""),
    );
    response
}

/// Percent-encodes every byte outside `A-Z a-z 0-9 - . _ ~`.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Undoes [`percent_encode`]; `None` for a malformed escape or text that is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_exactly_and_print_nothing() {
        let token = ApiToken::new(" s3cret ").unwrap();
        assert!(token.matches("s3cret"));
        assert!(!token.matches("s3cre"));
        assert!(!token.matches("s3cret!"));
        assert!(!token.matches(""));
        assert_eq!(format!("{token:?}"), "ApiToken(…)");
        assert!(ApiToken::new("  ").is_none());
    }

    #[test]
    fn cookie_values_round_trip() {
        for text in ["plain", "with space; and=equals", "ünï/cödé+%"] {
            let encoded = percent_encode(text);
            assert!(
                encoded
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)),
                "{encoded}"
            );
            assert_eq!(percent_decode(&encoded).as_deref(), Some(text));
        }
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
    }

    #[test]
    fn what_needs_the_token() {
        assert!(!needs_token(&Method::GET, "/healthz"));
        assert!(!needs_token(&Method::GET, "/"));
        assert!(!needs_token(&Method::GET, "/assets/app.js"));
        assert!(needs_token(&Method::POST, "/"));
        assert!(needs_token(&Method::GET, "/api/tasks"));
        assert!(needs_token(&Method::GET, "/metrics"));
    }

    #[test]
    fn intent_is_a_custom_header_or_a_json_body() {
        let mut headers = HeaderMap::new();
        assert!(!shows_intent(&headers));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert!(!shows_intent(&headers));
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        assert!(!shows_intent(&headers));
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("Application/JSON; charset=utf-8"),
        );
        assert!(shows_intent(&headers));
        let mut headers = HeaderMap::new();
        headers.insert(INTENT_HEADER, HeaderValue::from_static("1"));
        assert!(shows_intent(&headers));
    }

    #[test]
    fn own_origins() {
        assert!(origin_is_host(
            "http://192.168.1.5:7420",
            "192.168.1.5:7420"
        ));
        assert!(origin_is_host("https://gaffer.lan", "GAFFER.lan"));
        assert!(!origin_is_host("http://evil.example", "192.168.1.5:7420"));
        assert!(!origin_is_host("null", "192.168.1.5:7420"));
        assert!(!origin_is_host("ftp://gaffer.lan", "gaffer.lan"));
    }
}
