//! The daemon's presence on disk: `daemon.json` (pid, port) written by `gaffer up`, and the lock
//! it holds for its whole life so that two engines never share a state directory.

use crate::client::Client;
use crate::error::{CliError, CliResult, Kind};
use fs2::FileExt;
use gaffer_config::ServerSettings;
use gaffer_engine::StatePaths;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::net::{IpAddr, Ipv4Addr};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DaemonInfo {
    pub pid: u32,
    pub port: u16,
    pub started_ms: i64,
    /// The address it listens on (absent: 127.0.0.1, as written by older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<IpAddr>,
}

impl DaemonInfo {
    pub fn read(paths: &StatePaths) -> Option<DaemonInfo> {
        let text = std::fs::read_to_string(paths.daemon_file()).ok()?;
        serde_json::from_str(&text).ok()
    }

    pub fn write(&self, paths: &StatePaths) -> CliResult<()> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| CliError::new(Kind::Internal, e.to_string()))?;
        let tmp = paths.daemon_file().with_extension("json.tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, paths.daemon_file())?;
        Ok(())
    }

    pub fn remove(paths: &StatePaths) {
        let _ = std::fs::remove_file(paths.daemon_file());
    }

    /// A client for this daemon, sending the token from the environment variable named by
    /// `server.token_env` when it is set.
    pub fn client(&self, server: &ServerSettings) -> Client {
        let host = self.host.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let token = std::env::var(&server.token_env).ok();
        Client::at(host, self.port, token.as_deref())
    }

    /// Where people open the dashboard: the address it listens on, or 127.0.0.1 for loopback
    /// and for every interface.
    pub fn url(&self) -> String {
        let host = self
            .host
            .filter(|h| !h.is_unspecified())
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        format!("http://{}", std::net::SocketAddr::new(host, self.port))
    }

    /// The recorded process still exists.
    pub fn is_alive(&self) -> bool {
        pid_alive(self.pid)
    }
}

pub fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    // Signal 0 checks for existence; a zombie still "exists", so also look at its state.
    if nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_err() {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => true,
    }
}

/// The exclusive lock on the state directory, held while the daemon lives.
pub struct StateLock {
    _file: File,
}

impl StateLock {
    pub fn acquire(paths: &StatePaths) -> CliResult<StateLock> {
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(paths.lock_file())?;
        if file.try_lock_exclusive().is_err() {
            let pid = DaemonInfo::read(paths)
                .map(|d| d.pid.to_string())
                .unwrap_or_else(|| "unknown".into());
            return Err(CliError::new(
                Kind::Daemon,
                format!("gaffer is already running for this repository (pid {pid})"),
            )
            .hint("`gaffer status` talks to it; `gaffer down` stops it"));
        }
        Ok(StateLock { _file: file })
    }
}
