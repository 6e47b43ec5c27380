//! `privacy = "local"`: only endpoints on this machine or a private network.
//!
//! A base URL passes when its host is
//!
//! * a loopback address (`127.0.0.0/8`, `::1`) or the name `localhost` (or `*.localhost`);
//! * a private IPv4 network (`10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`) or a unique local
//!   IPv6 network (`fc00::/7`);
//! * a link-local address (`169.254.0.0/16`, `fe80::/10`) or an mDNS name (`*.local`).
//!
//! Other host names are refused rather than resolved: what a name resolves to can change between
//! this check and the connection. Write the server's IP address instead.

use reqwest::Url;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an endpoint is not local.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotLocal {
    #[error("`{0}` is not a valid URL")]
    InvalidUrl(String),
    #[error("`{0}` has no host")]
    NoHost(String),
    #[error("{ip} is a public address, not this machine or a private network")]
    PublicAddress { ip: IpAddr },
    #[error(
        "the host name `{host}` is not `localhost` or a `.local` name, and names are not resolved \
         for this check; use the server's IP address (e.g. http://192.168.1.20:11434/v1)"
    )]
    HostName { host: String },
}

/// Checks that `base_url` points at this machine or a private network.
pub fn check_local(base_url: &str) -> Result<(), NotLocal> {
    let url = Url::parse(base_url).map_err(|_| NotLocal::InvalidUrl(base_url.to_string()))?;
    match url.host() {
        None => Err(NotLocal::NoHost(base_url.to_string())),
        Some(url::Host::Ipv4(ip)) => check_ip(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => check_ip(IpAddr::V6(ip)),
        Some(url::Host::Domain(host)) => {
            let host = host.trim_end_matches('.').to_ascii_lowercase();
            if host == "localhost" || host.ends_with(".localhost") || host.ends_with(".local") {
                Ok(())
            } else {
                Err(NotLocal::HostName { host })
            }
        }
    }
}

fn check_ip(ip: IpAddr) -> Result<(), NotLocal> {
    let local = match ip {
        IpAddr::V4(v4) => local_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => local_v4(v4),
            None => local_v6(v6),
        },
    };
    if local {
        Ok(())
    } else {
        Err(NotLocal::PublicAddress { ip })
    }
}

fn local_v4(ip: Ipv4Addr) -> bool {
    ip.is_loopback() || ip.is_private() || ip.is_link_local()
}

fn local_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_endpoints_pass() {
        for url in [
            "http://127.0.0.1:11434/v1",
            "http://127.8.9.10/",
            "http://localhost:8080/v1",
            "http://LOCALHOST./v1",
            "http://gpu-box.local:8000/v1",
            "http://10.1.2.3/v1",
            "http://172.16.0.1/v1",
            "http://172.31.255.255/v1",
            "http://192.168.1.20:11434/v1",
            "http://169.254.1.1/",
            "http://[::1]:8000/v1",
            "http://[fd12:3456::1]/v1",
            "http://[fe80::1]/v1",
            "http://[::ffff:192.168.0.1]/v1",
        ] {
            assert_eq!(check_local(url), Ok(()), "{url}");
        }
    }

    #[test]
    fn public_endpoints_are_refused() {
        for url in [
            "https://api.openai.com/v1",
            "https://api.anthropic.com",
            "http://8.8.8.8/v1",
            "http://172.32.0.1/v1",
            "http://[2001:db8::1]/v1",
            "http://[::ffff:8.8.8.8]/v1",
            "http://localhost.example.com/v1",
        ] {
            assert!(check_local(url).is_err(), "{url}");
        }
        let err = check_local("https://api.openai.com/v1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("IP address"), "{err}");
        assert!(check_local("not a url").is_err());
    }
}
