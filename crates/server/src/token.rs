//! The daemon's API token and the dashboard's cookie that carries it.

use axum::http::HeaderMap;
use axum::http::header::{COOKIE, HOST};
use gaffer_engine::{RandomError, random_secret, same_secret};
use std::fmt;
use std::sync::Arc;

/// The cookie that carries the token for the dashboard (named `gaffer_token_<port>` when the
/// request names a port, so that the dashboards of two daemons on one machine, whose cookies a
/// browser would otherwise share, do not overwrite each other's).
pub const TOKEN_COOKIE: &str = "gaffer_token";

/// The secret every request must carry. Compared in constant time and never printed.
///
/// Either a person configured it (`server.token_env`: the daemon may then listen beyond
/// loopback and be reached under any host name), or the daemon generated it at start
/// ([`ApiToken::generate`]: loopback only, with the `Host` guard of [`crate::guard`] on top).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken {
    text: Arc<str>,
    generated: bool,
}

impl ApiToken {
    /// A configured token, or `None` when `text` is blank (a blank token would protect nothing).
    pub fn new(text: &str) -> Option<ApiToken> {
        let text = text.trim();
        (!text.is_empty()).then(|| ApiToken {
            text: Arc::from(text),
            generated: false,
        })
    }

    /// A fresh random token (256 bits from the operating system), for a daemon nobody gave one.
    pub fn generate() -> Result<ApiToken, RandomError> {
        Ok(ApiToken {
            text: Arc::from(random_secret()?),
            generated: true,
        })
    }

    /// A token [`ApiToken::generate`] made earlier and the daemon kept; `None` when `text` is
    /// too short to be one (at least 128 bits in hex).
    pub fn kept(text: &str) -> Option<ApiToken> {
        let text = text.trim();
        (text.len() >= 32).then(|| ApiToken {
            text: Arc::from(text),
            generated: true,
        })
    }

    /// Whether the daemon made this token itself rather than a person configuring it.
    pub fn is_generated(&self) -> bool {
        self.generated
    }

    /// The secret itself, for the one place that hands it on (`daemon.json`, mode 0600). Never
    /// log it.
    pub fn reveal(&self) -> &str {
        &self.text
    }

    /// Whether `candidate` is this token, in time that does not depend on where they differ.
    pub fn matches(&self, candidate: &str) -> bool {
        same_secret(&self.text, candidate.trim())
    }

    /// The token as a cookie value (percent-encoded, so any token fits the cookie syntax).
    pub(crate) fn cookie_value(&self) -> String {
        percent_encode(&self.text)
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(…)")
    }
}

/// The name of the token's cookie for a request: [`TOKEN_COOKIE`], suffixed with the port the
/// request was sent to.
pub(crate) fn cookie_name(headers: &HeaderMap) -> String {
    let port = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.rsplit_once(':'))
        .map(|(_, port)| port)
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    match port {
        Some(port) => format!("{TOKEN_COOKIE}_{port}"),
        None => TOKEN_COOKIE.to_string(),
    }
}

/// Whether one of the request's token cookies (of any port: a name is no secret) holds `token`.
pub(crate) fn cookie_carries(headers: &HeaderMap, token: &ApiToken) -> bool {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| is_token_cookie(name))
        .any(|(_, value)| percent_decode(value).is_some_and(|value| token.matches(&value)))
}

fn is_token_cookie(name: &str) -> bool {
    name == TOKEN_COOKIE
        || name
            .strip_prefix(TOKEN_COOKIE)
            .and_then(|rest| rest.strip_prefix('_'))
            .is_some_and(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
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
    use axum::http::HeaderValue;

    #[test]
    fn tokens_compare_exactly_and_print_nothing() {
        let token = ApiToken::new(" s3cret ").unwrap();
        assert!(token.matches("s3cret"));
        assert!(!token.matches("s3cre"));
        assert!(!token.matches("s3cret!"));
        assert!(!token.matches(""));
        assert!(!token.is_generated());
        assert_eq!(format!("{token:?}"), "ApiToken(…)");
        assert!(ApiToken::new("  ").is_none());
    }

    #[test]
    fn generated_tokens_are_long_and_new_each_time() {
        let (a, b) = (ApiToken::generate().unwrap(), ApiToken::generate().unwrap());
        assert!(a.is_generated());
        assert!(a.reveal().len() >= 32, "at least 128 bits in hex");
        assert_ne!(a, b);
        assert!(a.matches(a.reveal()));
        assert_eq!(format!("{a:?}"), "ApiToken(…)");
        let kept = ApiToken::kept(&format!("{}\n", a.reveal())).unwrap();
        assert!(kept.is_generated() && kept == a);
        assert!(ApiToken::kept("short").is_none());
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
    fn each_port_has_its_own_cookie_and_any_of_them_may_carry_the_token() {
        let mut headers = HeaderMap::new();
        assert_eq!(cookie_name(&headers), "gaffer_token");
        headers.insert(HOST, HeaderValue::from_static("127.0.0.1:7420"));
        assert_eq!(cookie_name(&headers), "gaffer_token_7420");
        headers.insert(HOST, HeaderValue::from_static("[::1]:9"));
        assert_eq!(cookie_name(&headers), "gaffer_token_9");
        headers.insert(HOST, HeaderValue::from_static("gaffer.lan"));
        assert_eq!(cookie_name(&headers), "gaffer_token");

        let token = ApiToken::new("mine").unwrap();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("gaffer_token_7421=theirs; gaffer_token_7420=mine"),
        );
        assert!(cookie_carries(&headers, &token));
        headers.insert(COOKIE, HeaderValue::from_static("gaffer_token_7421=theirs"));
        assert!(!cookie_carries(&headers, &token));
        headers.insert(
            COOKIE,
            HeaderValue::from_static("gaffer_tokenx=mine; other=mine"),
        );
        assert!(!cookie_carries(&headers, &token));
        headers.insert(COOKIE, HeaderValue::from_static("gaffer_token=mine"));
        assert!(cookie_carries(&headers, &token));
    }
}
