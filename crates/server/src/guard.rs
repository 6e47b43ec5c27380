//! Keeps web pages on other sites away from the daemon.
//!
//! The daemon listens on 127.0.0.1 without authentication, which is safe from other machines but
//! not from the user's own browser: any page they visit can send requests to 127.0.0.1. Two
//! checks close that:
//!
//! - **`Origin`**: browsers attach it to cross-site requests. A request whose origin is not a
//!   loopback address is refused, so a page elsewhere cannot add, cancel or approve tasks, or
//!   shut the daemon down, with a plain form post.
//! - **`Host`**: DNS rebinding makes an attacker's name resolve to 127.0.0.1, which turns their
//!   page into a "same-origin" one. Its requests still carry the attacker's host name, so any
//!   `Host` that is not a loopback name or address is refused.
//!
//! Clients that send neither header (in-process tests, some tools) are let through. When a
//! person configured the daemon's token (and it may listen beyond loopback), [`crate::access`]
//! relaxes the `Host` rule, since the token then keeps other sites out; with the token the
//! daemon generated itself, both rules hold on top of it.

use crate::error::{ApiError, ErrorCode};
use axum::extract::Request;
use axum::http::header::{HOST, ORIGIN};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;

/// Middleware: refuses requests whose `Origin` or `Host` is not loopback, with a 403.
pub async fn loopback_only(request: Request, next: Next) -> Response {
    let headers = request.headers();
    if let Some(origin) = headers.get(ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        if !origin_is_loopback(origin) {
            return forbidden(format!(
                "requests from the web page at {origin} are not allowed"
            ));
        }
    }
    if let Some(host) = headers.get(HOST) {
        let host = host.to_str().unwrap_or_default();
        if !authority_is_loopback(host) {
            return forbidden(format!("requests for host {host} are not allowed"));
        }
    }
    next.run(request).await
}

fn forbidden(message: String) -> Response {
    refusal(message).into_response()
}

/// The 403 for a request from another site or for another host.
pub(crate) fn refusal(message: String) -> ApiError {
    ApiError::new(ErrorCode::Forbidden, message)
        .with_hint("the gaffer daemon only answers clients on this machine, addressed as 127.0.0.1 or localhost")
}

/// `http://127.0.0.1:7420`, `http://localhost`, `http://[::1]:80`; not `null` or other sites.
pub(crate) fn origin_is_loopback(origin: &str) -> bool {
    match origin.split_once("://") {
        Some((_, authority)) => authority_is_loopback(authority),
        None => false,
    }
}

/// A `host[:port]` naming this machine: `localhost` (or a name under it), or a loopback IP.
pub(crate) fn authority_is_loopback(authority: &str) -> bool {
    let host = if let Some(rest) = authority.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_pass() {
        for host in [
            "127.0.0.1",
            "127.0.0.1:7420",
            "127.1.2.3:80",
            "localhost",
            "LOCALHOST:7420",
            "app.localhost:1",
            "[::1]",
            "[::1]:7420",
        ] {
            assert!(authority_is_loopback(host), "{host}");
        }
    }

    #[test]
    fn other_hosts_are_refused() {
        for host in [
            "evil.example",
            "evil.example:7420",
            "localhost.evil.example",
            "10.0.0.1:7420",
            "[fe80::1]:7420",
            "",
        ] {
            assert!(!authority_is_loopback(host), "{host}");
        }
    }

    #[test]
    fn origins() {
        assert!(origin_is_loopback("http://127.0.0.1:7420"));
        assert!(origin_is_loopback("http://localhost:5173"));
        assert!(!origin_is_loopback("null"));
        assert!(!origin_is_loopback("https://evil.example"));
    }
}
