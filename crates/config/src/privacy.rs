//! `[privacy]`: whether agents may send code to endpoints off this machine and its private
//! network.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use crate::agent_settings::AgentSettings;

/// `[privacy]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct PrivacySettings {
    /// Default: [`PrivacyMode::Any`].
    pub mode: PrivacyMode,
}

/// `privacy.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PrivacyMode {
    /// Agents may call any endpoint, including the public providers.
    #[default]
    Any,
    /// Every agent's endpoint must be on this machine or a private network; gaffer refuses to
    /// start otherwise (see [`crate::Settings::privacy_violations`]).
    Local,
}

impl PrivacyMode {
    /// Every mode, in documentation order.
    pub const ALL: [PrivacyMode; 2] = [PrivacyMode::Any, PrivacyMode::Local];

    /// The name used in `gaffer.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            PrivacyMode::Any => "any",
            PrivacyMode::Local => "local",
        }
    }

    /// The mode with this name, if any.
    pub fn from_name(name: &str) -> Option<PrivacyMode> {
        PrivacyMode::ALL
            .into_iter()
            .find(|mode| mode.as_str() == name.trim())
    }
}

impl fmt::Display for PrivacyMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why `agent` may not run under `privacy.mode = "local"`: its endpoint and the reason; `None`
/// when it may.
pub(crate) fn violation(agent: &AgentSettings) -> Option<(String, String)> {
    // Only an agent with a known provider sends code anywhere gaffer can tell.
    let public = agent.kind().public_endpoint()?;
    let Some(url) = &agent.base_url else {
        return Some((
            public.to_string(),
            "no base_url, so it calls the public provider".to_string(),
        ));
    };
    let reason = match url_host(url) {
        None => "the URL names no host".to_string(),
        Some(host) => match host_locality(host) {
            Locality::Local => return None,
            Locality::Public(ip) => format!("{ip} is a public address"),
            Locality::Name => format!(
                "`{host}` is a host name, which gaffer does not resolve: write the address of \
                 the machine"
            ),
        },
    };
    Some((url.clone(), reason))
}

/// The host of an `http(s)://` URL, without brackets for IPv6; `None` when there is none.
pub(crate) fn url_host(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(bracketed) = host_port.strip_prefix('[') {
        bracketed.split_once(']').map(|(host, _)| host)?
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    (!host.is_empty()).then_some(host)
}

/// Where a host is, as far as can be told without resolving names.
#[derive(Debug, PartialEq, Eq)]
enum Locality {
    /// This machine or a private network.
    Local,
    /// A public IP address.
    Public(IpAddr),
    /// A name other than `localhost`.
    Name,
}

fn host_locality(host: &str) -> Locality {
    if host.eq_ignore_ascii_case("localhost") || host.eq_ignore_ascii_case("localhost.") {
        return Locality::Local;
    }
    let Ok(ip) = host.parse::<IpAddr>() else {
        return Locality::Name;
    };
    let local = match ip {
        IpAddr::V4(v4) => v4_is_local(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4_is_local(v4),
            None => v6_is_local(v6),
        },
    };
    if local {
        Locality::Local
    } else {
        Locality::Public(ip)
    }
}

fn v4_is_local(ip: Ipv4Addr) -> bool {
    ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified()
}

fn v6_is_local(ip: Ipv6Addr) -> bool {
    ip.is_loopback() || ip.is_unique_local() || ip.is_unicast_link_local() || ip.is_unspecified()
}

impl AgentSettings {
    /// Whether the agent calls a provider API on this machine or a private network (its
    /// `base_url`), where a key may not be needed; false for `command` and `scripted` agents,
    /// whose endpoint gaffer cannot know.
    pub fn endpoint_is_local(&self) -> bool {
        self.kind().public_endpoint().is_some() && violation(self).is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_urls() {
        assert_eq!(url_host("http://127.0.0.1:11434/v1"), Some("127.0.0.1"));
        assert_eq!(
            url_host("https://user:pw@Example.com/x"),
            Some("Example.com")
        );
        assert_eq!(url_host("http://[::1]:8080/v1"), Some("::1"));
        assert_eq!(url_host("http://localhost"), Some("localhost"));
        assert_eq!(url_host("http://h?q=1"), Some("h"));
        assert_eq!(url_host("http://"), None);
        assert_eq!(url_host("http://:80/"), None);
        assert_eq!(url_host("ftp://x"), None);
    }

    #[test]
    fn local_and_public_hosts() {
        for local in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.20",
            "169.254.0.5",
            "0.0.0.0",
            "::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:192.168.0.1",
        ] {
            assert_eq!(host_locality(local), Locality::Local, "{local}");
        }
        for public in [
            "8.8.8.8",
            "172.32.0.1",
            "100.64.0.1",
            "2001:db8::1",
            "::ffff:1.1.1.1",
        ] {
            assert!(
                matches!(host_locality(public), Locality::Public(_)),
                "{public}"
            );
        }
        for name in ["api.openai.com", "my-gpu-box", "localhost.example.com"] {
            assert_eq!(host_locality(name), Locality::Name, "{name}");
        }
    }
}
