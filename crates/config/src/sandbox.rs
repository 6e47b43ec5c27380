//! `[sandbox]`: how the processes gaffer starts for a task are confined (agents, the own loop's
//! commands, verify and setup). The sandbox itself is `gaffer-sandbox`; this is what a project
//! may ask of it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::file::At;
use crate::resolve::Check;

/// `[sandbox]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SandboxSettings {
    /// `auto` (bubblewrap where the host allows it, else none, said loudly), `bwrap` (refuse
    /// to run without it) or `none`. Default: `auto`.
    pub mode: SandboxModeSetting,
    /// Extra paths every confined process may read (`~/` is the user's home).
    pub read: Vec<PathBuf>,
    /// Extra paths every confined process may write.
    pub write: Vec<PathBuf>,
    /// Variables of gaffer's own environment passed on to every run's processes, beside the
    /// minimal environment (PATH, locale, toolchain locations).
    pub pass_env: Vec<String>,
    /// Which processes get the host's network. Everything else gets none.
    pub network: NetworkSettings,
    /// `[sandbox.hosts]`: further endpoints each kind of process may reach, relayed into its
    /// own network, as `host:port` or URLs.
    pub hosts: HostsSettings,
}

/// `[sandbox.hosts]`: what each kind of process may reach beyond what gaffer gives it (an
/// agent its model and gaffer's API).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HostsSettings {
    pub agents: Vec<String>,
    pub tools: Vec<String>,
    pub verify: Vec<String>,
    pub setup: Vec<String>,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        SandboxSettings {
            mode: SandboxModeSetting::Auto,
            read: Vec::new(),
            write: Vec::new(),
            pass_env: Vec::new(),
            network: NetworkSettings::default(),
            hosts: HostsSettings::default(),
        }
    }
}

/// `sandbox.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SandboxModeSetting {
    Auto,
    Bwrap,
    None,
}

impl SandboxModeSetting {
    pub fn as_str(self) -> &'static str {
        match self {
            SandboxModeSetting::Auto => "auto",
            SandboxModeSetting::Bwrap => "bwrap",
            SandboxModeSetting::None => "none",
        }
    }
}

/// `[sandbox.network]`: which processes get the host's network (none, by default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NetworkSettings {
    /// Agent CLIs (`claude`, `codex`, `command`): the host's whole network instead of only
    /// their model endpoint and gaffer's API, relayed into a network of their own. Default:
    /// false.
    pub agents: bool,
    /// Commands the own agent loop's `run` tool runs. Default: false.
    pub tools: bool,
    /// The verify command. Default: false.
    pub verify: bool,
    /// The setup command. Default: false.
    pub setup: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSandbox {
    pub mode: Option<At<String>>,
    pub read: Option<At<Vec<At<String>>>>,
    pub write: Option<At<Vec<At<String>>>>,
    pub pass_env: Option<At<Vec<At<String>>>>,
    #[serde(default)]
    pub network: RawNetwork,
    #[serde(default)]
    pub hosts: RawHosts,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHosts {
    pub agents: Option<At<Vec<At<String>>>>,
    pub tools: Option<At<Vec<At<String>>>>,
    pub verify: Option<At<Vec<At<String>>>>,
    pub setup: Option<At<Vec<At<String>>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNetwork {
    pub agents: Option<At<bool>>,
    pub tools: Option<At<bool>>,
    pub verify: Option<At<bool>>,
    pub setup: Option<At<bool>>,
}

pub(crate) fn resolve(check: &Check<'_>, raw: &RawSandbox) -> Result<SandboxSettings, ConfigError> {
    let defaults = SandboxSettings::default();
    let mode = match &raw.mode {
        None => defaults.mode,
        Some(at) => match at.get_ref().trim() {
            "auto" => SandboxModeSetting::Auto,
            "bwrap" => SandboxModeSetting::Bwrap,
            "none" => SandboxModeSetting::None,
            _ => {
                return Err(check.error(
                    at,
                    "sandbox.mode",
                    format!("sandbox.mode = {} is not a sandbox mode", check.written(at)),
                    "use \"auto\" (bubblewrap where the host allows it), \"bwrap\" (always; \
                     refuse to run without it) or \"none\" (no confinement)"
                        .to_string(),
                ));
            }
        },
    };
    let paths =
        |raw: &Option<At<Vec<At<String>>>>, key: &str| -> Result<Vec<PathBuf>, ConfigError> {
            let mut out = Vec::new();
            for at in raw.iter().flat_map(|list| list.get_ref().iter()) {
                let text = at.get_ref().trim();
                let path = match text.strip_prefix("~/") {
                    Some(rest) => match std::env::var_os("HOME") {
                        Some(home) => PathBuf::from(home).join(rest),
                        None => PathBuf::from(text),
                    },
                    None => PathBuf::from(text),
                };
                if !path.is_absolute() {
                    return Err(check.error(
                        at,
                        key,
                        format!(
                            "{key} holds {}, which is not an absolute path",
                            check.written(at)
                        ),
                        "write an absolute path, or one starting with ~/".to_string(),
                    ));
                }
                out.push(path);
            }
            Ok(out)
        };
    let mut pass_env = Vec::new();
    for at in raw.pass_env.iter().flat_map(|list| list.get_ref().iter()) {
        let name = at.get_ref().trim();
        if !crate::secrets::is_variable_name(name) {
            return Err(check.error(
                at,
                "sandbox.pass_env",
                format!(
                    "sandbox.pass_env holds {}, which is not a variable name",
                    check.written(at)
                ),
                "list variable names such as \"HTTPS_PROXY\"".to_string(),
            ));
        }
        pass_env.push(name.to_string());
    }
    let flag = |at: &Option<At<bool>>, default: bool| at.as_ref().map_or(default, |a| *a.get_ref());
    let network = NetworkSettings {
        agents: flag(&raw.network.agents, defaults.network.agents),
        tools: flag(&raw.network.tools, defaults.network.tools),
        verify: flag(&raw.network.verify, defaults.network.verify),
        setup: flag(&raw.network.setup, defaults.network.setup),
    };
    let hosts =
        |raw: &Option<At<Vec<At<String>>>>, key: &str| -> Result<Vec<String>, ConfigError> {
            let mut out = Vec::new();
            for at in raw.iter().flat_map(|list| list.get_ref().iter()) {
                let text = at.get_ref().trim();
                if host_and_port(text).is_none() {
                    return Err(check.error(
                        at,
                        key,
                        format!(
                            "{key} holds {}, which names no host and port",
                            check.written(at)
                        ),
                        "write host:port (\"static.crates.io:443\") or a URL \
                     (\"https://index.crates.io\")"
                            .to_string(),
                    ));
                }
                out.push(text.to_string());
            }
            Ok(out)
        };
    let hosts = HostsSettings {
        agents: hosts(&raw.hosts.agents, "sandbox.hosts.agents")?,
        tools: hosts(&raw.hosts.tools, "sandbox.hosts.tools")?,
        verify: hosts(&raw.hosts.verify, "sandbox.hosts.verify")?,
        setup: hosts(&raw.hosts.setup, "sandbox.hosts.setup")?,
    };
    Ok(SandboxSettings {
        hosts,
        mode,
        read: paths(&raw.read, "sandbox.read")?,
        write: paths(&raw.write, "sandbox.write")?,
        pass_env,
        network,
    })
}

/// The host and port an allowed endpoint names: `host:port`, or a URL with a host (and its
/// scheme's port when it writes none: http 80, https 443).
pub fn host_and_port(text: &str) -> Option<(String, u16)> {
    let (scheme, rest) = match text.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, text),
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
            (host, Some(port.parse::<u16>().ok()?))
        }
        _ => (authority, None),
    };
    let port = match (port, scheme) {
        (Some(p), _) => p,
        (None, Some("http")) => 80,
        (None, Some("https")) => 443,
        _ => return None,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty() && port != 0).then(|| (host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_name_host_and_port() {
        assert_eq!(
            host_and_port("static.crates.io:443"),
            Some(("static.crates.io".into(), 443))
        );
        assert_eq!(
            host_and_port("https://index.crates.io"),
            Some(("index.crates.io".into(), 443))
        );
        assert_eq!(
            host_and_port("http://127.0.0.1:8080/v1"),
            Some(("127.0.0.1".into(), 8080))
        );
        assert_eq!(host_and_port("http://[::1]:9/x"), Some(("::1".into(), 9)));
        assert_eq!(host_and_port("crates.io"), None);
        assert_eq!(host_and_port("host:0"), None);
        assert_eq!(host_and_port("host:http"), None);
    }
}
