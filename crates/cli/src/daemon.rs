//! The daemon's presence on disk: `daemon.json` (pid, port, and the API token it generated)
//! written by `gaffer up`, and the lock it holds for its whole life so that two engines never
//! share a state directory.
//!
//! `daemon.json` is how every client on this machine finds the daemon and its token: the CLI,
//! the interactive shell and `gaffer mcp`. It is readable by its owner only (0600), and it lives
//! in the state directory, which a sandboxed agent cannot see; agents get a token of their own
//! run instead (`GAFFER_RUN_TOKEN`).

use crate::client::Client;
use crate::error::{CliError, CliResult, Kind};
use fs2::FileExt;
use gaffer_config::ServerSettings;
use gaffer_engine::StatePaths;
use gaffer_server::ApiToken;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

pub use gaffer_api::{DaemonInfo, Secret};

/// The daemon `daemon.json` in `paths` names, when it names one gaffer can read.
pub fn read(paths: &StatePaths) -> Option<DaemonInfo> {
    DaemonInfo::read(&paths.daemon_file()).ok()
}

/// Writes `daemon.json` atomically, readable by this user only: it holds the token.
pub fn write(info: &DaemonInfo, paths: &StatePaths) -> CliResult<()> {
    let text = serde_json::to_string_pretty(info)
        .map_err(|e| CliError::new(Kind::Internal, e.to_string()))?;
    write_private(&paths.daemon_file(), text.as_bytes())
}

pub fn remove(paths: &StatePaths) {
    let _ = std::fs::remove_file(paths.daemon_file());
}

/// What the CLI does with a daemon `daemon.json` names.
pub trait Running {
    /// A client for it, sending its token (see [`Running::token_for`]).
    fn client(&self, server: &ServerSettings) -> Client;
    /// Its token: the one in `daemon.json`, else the one in the variable named by
    /// `server.token_env`.
    fn token_for(&self, server: &ServerSettings) -> Option<String>;
    /// The dashboard's address with `?token=`, which lets a browser in (it keeps the token in
    /// a cookie and drops it from the address); without a token known here, the bare address.
    fn dashboard_link(&self, server: &ServerSettings) -> String;
    /// The recorded process still exists.
    fn is_alive(&self) -> bool;
}

impl Running for DaemonInfo {
    fn client(&self, server: &ServerSettings) -> Client {
        Client::at(&self.url(), self.token_for(server).as_deref())
    }

    fn token_for(&self, server: &ServerSettings) -> Option<String> {
        match self.token() {
            Some(token) => Some(token.to_string()),
            None => std::env::var(&server.token_env)
                .ok()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty()),
        }
    }

    fn dashboard_link(&self, server: &ServerSettings) -> String {
        match self.token_for(server) {
            Some(token) => format!("{}/?token={}", self.url(), query_escape(&token)),
            None => format!("{}/", self.url()),
        }
    }

    fn is_alive(&self) -> bool {
        pid_alive(self.pid)
    }
}

/// Writes `path` atomically (a temporary file beside it, renamed over it), readable and
/// writable by this user only.
fn write_private(path: &Path, bytes: &[u8]) -> CliResult<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    // A leftover of a crash might have other permissions: never write into it.
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    let mut file = File::options()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// The API's token: the one in the variable named by `server.token_env` (required to listen
/// beyond loopback), else the one gaffer generated for this state directory. That one is kept
/// in `api-token` (0600) across restarts, so that an open dashboard stays signed in; deleting
/// the file makes the next `gaffer up` generate a new one.
pub fn api_token(server: &ServerSettings, paths: &StatePaths) -> CliResult<ApiToken> {
    if let Some(token) = std::env::var(&server.token_env)
        .ok()
        .and_then(|t| ApiToken::new(&t))
    {
        return Ok(token);
    }
    if !server.host.is_loopback() {
        return Err(CliError::new(
            Kind::Config,
            format!(
                "server.host = \"{}\" reaches beyond this machine, and {} holds no token",
                server.host, server.token_env
            ),
        )
        .hint(format!(
            "set {} to a long random secret (e.g. `export {}=$(openssl rand -hex 32)`), or listen on 127.0.0.1",
            server.token_env, server.token_env
        )));
    }
    let file = token_file(paths);
    if let Some(token) = kept_token(&file) {
        return Ok(token);
    }
    let token = ApiToken::generate().map_err(|e| {
        CliError::new(Kind::Internal, format!("cannot make the API's token: {e}"))
            .hint(format!("set {} to a long random secret", server.token_env))
    })?;
    write_private(&file, token.reveal().as_bytes())?;
    Ok(token)
}

/// Where the generated token is kept.
pub fn token_file(paths: &StatePaths) -> PathBuf {
    paths.root().join("api-token")
}

/// The kept token, unless the file is missing, holds no token, or others could read it (a
/// token that may have leaked is not reused).
fn kept_token(file: &Path) -> Option<ApiToken> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(file).ok()?;
    if !meta.is_file() || meta.permissions().mode() & 0o077 != 0 {
        return None;
    }
    ApiToken::kept(&std::fs::read_to_string(file).ok()?)
}

/// Percent-encodes every byte outside `A-Z a-z 0-9 - . _ ~`, for a query value.
fn query_escape(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
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
            let pid = read(paths)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn info(token: Option<&str>) -> DaemonInfo {
        DaemonInfo {
            pid: 1,
            port: 7420,
            started_ms: 0,
            host: None,
            token: token.map(Secret::new),
        }
    }

    #[test]
    fn daemon_json_is_private_and_holds_the_token() {
        let dir = tempfile::tempdir().unwrap();
        let paths = StatePaths::new(dir.path());
        // A leftover temporary file open to everyone is not reused.
        let tmp = paths.daemon_file().with_extension("json.tmp");
        std::fs::create_dir_all(dir.path()).unwrap();
        std::fs::write(&tmp, "old").unwrap();
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o666)).unwrap();
        write(&info(Some("abc123")), &paths).unwrap();
        let mode = std::fs::metadata(paths.daemon_file())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(!tmp.exists());
        let read = read(&paths).unwrap();
        assert_eq!(read.token, Some(Secret::new("abc123")));
        assert!(!format!("{read:?}").contains("abc123"));
    }

    #[test]
    fn the_generated_token_is_kept_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let paths = StatePaths::new(dir.path());
        let mut server = gaffer_config::default_settings().server;
        server.token_env = "GAFFER_TEST_TOKEN_THAT_IS_NEVER_SET".into();
        let first = api_token(&server, &paths).unwrap();
        assert!(first.is_generated());
        let file = token_file(&paths);
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(api_token(&server, &paths).unwrap(), first);
        // Readable by others: not trusted, replaced.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let second = api_token(&server, &paths).unwrap();
        assert_ne!(second, first);
        // Gone: a new one.
        std::fs::remove_file(&file).unwrap();
        assert_ne!(api_token(&server, &paths).unwrap(), second);
    }

    #[test]
    fn the_dashboard_link_carries_the_token() {
        let server = gaffer_config::default_settings().server;
        assert_eq!(
            info(Some("abc123")).dashboard_link(&server),
            "http://127.0.0.1:7420/?token=abc123"
        );
        assert_eq!(
            info(Some("a b/c")).dashboard_link(&server),
            "http://127.0.0.1:7420/?token=a%20b%2Fc"
        );
    }
}
