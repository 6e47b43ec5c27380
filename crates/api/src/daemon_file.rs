//! `daemon.json`, which `gaffer up` writes in the state directory: how every client on this
//! machine (the CLI, the interactive shell, `gaffer mcp`) finds the daemon and its token. It is
//! read here, once; the CLI writes it.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DaemonInfo {
    pub pid: u32,
    pub port: u16,
    #[serde(default)]
    pub started_ms: i64,
    /// The address it listens on (absent: 127.0.0.1, as written by older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<IpAddr>,
    /// The API token the daemon generated (absent when a person configured one with
    /// `server.token_env`: clients then read that variable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
}

/// A token as `daemon.json` keeps it: it goes into requests, never into output or logs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: &str) -> Secret {
        Secret(text.to_string())
    }

    pub fn reveal(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Why a `daemon.json` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DaemonFileError {
    #[error("{} cannot be read: {source}", path.display())]
    Unreadable {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a daemon file gaffer understands: {source}", path.display())]
    Malformed {
        path: std::path::PathBuf,
        source: serde_json::Error,
    },
}

impl DaemonInfo {
    /// Reads and parses `path`.
    pub fn read(path: &Path) -> Result<DaemonInfo, DaemonFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| DaemonFileError::Unreadable {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| DaemonFileError::Malformed {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Where clients reach it: its address, with loopback for an unspecified one (a daemon
    /// listening on every interface) or none recorded.
    pub fn addr(&self) -> SocketAddr {
        let host = match self.host {
            Some(IpAddr::V4(ip)) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            Some(IpAddr::V6(ip)) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            Some(ip) => ip,
            None => IpAddr::V4(Ipv4Addr::LOCALHOST),
        };
        SocketAddr::new(host, self.port)
    }

    /// Its base URL, `http://127.0.0.1:7420`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// The token it names, trimmed, when it names one.
    pub fn token(&self) -> Option<&str> {
        self.token
            .as_ref()
            .map(|t| t.reveal().trim())
            .filter(|t| !t.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_and_missing_hosts_are_reached_on_loopback() {
        let parse = |text: &str| serde_json::from_str::<DaemonInfo>(text).unwrap().url();
        assert_eq!(
            parse(r#"{"pid": 1, "port": 7421}"#),
            "http://127.0.0.1:7421"
        );
        assert_eq!(
            parse(r#"{"pid": 1, "port": 7421, "host": "0.0.0.0"}"#),
            "http://127.0.0.1:7421"
        );
        assert_eq!(
            parse(r#"{"pid": 1, "port": 7421, "host": "::1"}"#),
            "http://[::1]:7421"
        );
    }

    #[test]
    fn the_token_never_shows_in_a_debug_print() {
        let info: DaemonInfo =
            serde_json::from_str(r#"{"pid": 1, "port": 1, "token": "hush"}"#).unwrap();
        assert!(!format!("{info:?}").contains("hush"));
        assert_eq!(info.token(), Some("hush"));
    }
}
