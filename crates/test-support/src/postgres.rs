//! A PostgreSQL server for tests: the one `GAFFER_TEST_PG_URL` names, or a throwaway cluster
//! started once per test process and stopped when the process ends.
//!
//! [`server`] finds or starts it. A throwaway cluster lives in a temporary directory (owned by
//! the `postgres` user when the tests run as root: PostgreSQL refuses to run as root), listens
//! on a free port of 127.0.0.1 only, trusts local connections, and trades durability for speed
//! (`fsync=off`). A watcher process stops it and removes the directory once the test process is
//! gone, however it ends: a test process has no destructor for statics.
//!
//! With neither a URL nor PostgreSQL's programs, the tests that need a server are skipped, loudly
//! on stderr, except under CI (`CI` set), where that is a failure: no test skips silently there.

use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The variable naming a server to use instead of starting one.
pub const URL_VAR: &str = "GAFFER_TEST_PG_URL";

/// A PostgreSQL server the tests of this process may use.
#[derive(Debug)]
pub struct PgServer {
    url: String,
    /// The throwaway cluster's directory, when this process started one.
    dir: Option<PathBuf>,
}

impl PgServer {
    /// `postgres://user@host:port/db` of a database on the server.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The throwaway cluster's directory, when this process started one.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// A schema name no other caller (in this process or another) gets: `t_<pid>_<n>_<nanos>`.
    /// The schema itself is not created.
    pub fn fresh_schema(&self) -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        format!("t_{}_{n}_{nanos}", std::process::id())
    }
}

impl PgServer {
    /// A new, empty database on the server (created with `psql`), as a URL: for tests of
    /// programs that use a database's default schema.
    pub fn fresh_database(&self) -> String {
        let name = self.fresh_schema();
        let psql = binaries()
            .map(|b| b.join("psql"))
            .filter(|p| p.is_file())
            .unwrap_or_else(|| PathBuf::from("psql"));
        let out = Command::new(psql)
            .args(["-v", "ON_ERROR_STOP=1", "-qc"])
            .arg(format!("CREATE DATABASE {name}"))
            .arg(&self.url)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run psql: {e}"));
        assert!(
            out.status.success(),
            "CREATE DATABASE failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        match self.url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("no database in {}", self.url),
        }
    }
}

/// The server for this process's tests, started on first use; `None` (after saying so on
/// stderr) when there is none to be had outside CI. Panics under CI instead.
pub fn server() -> Option<&'static PgServer> {
    static SERVER: OnceLock<Option<PgServer>> = OnceLock::new();
    SERVER
        .get_or_init(|| match find_or_start() {
            Ok(server) => Some(server),
            Err(why) if std::env::var_os("CI").is_some() => {
                panic!("PostgreSQL tests cannot run under CI: {why}")
            }
            Err(why) => {
                eprintln!(
                    "\n!!! SKIPPING the PostgreSQL tests: {why}.\n!!! Set {URL_VAR} to a \
                     server's URL, or install PostgreSQL (initdb and pg_ctl).\n"
                );
                None
            }
        })
        .as_ref()
}

fn find_or_start() -> Result<PgServer, String> {
    if let Ok(url) = std::env::var(URL_VAR)
        && !url.trim().is_empty()
    {
        return Ok(PgServer {
            url: url.trim().to_string(),
            dir: None,
        });
    }
    let bin = binaries().ok_or_else(|| {
        format!(
            "{URL_VAR} is not set and no initdb/pg_ctl was found on PATH or under \
             /usr/lib/postgresql/*/bin"
        )
    })?;
    let mut last = String::new();
    // A free port may be taken between finding it and the server binding it: try a few.
    for _ in 0..3 {
        match start(&bin) {
            Ok(server) => return Ok(server),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The directory holding `initdb` and `pg_ctl`: on PATH, else the newest
/// `/usr/lib/postgresql/<version>/bin`.
pub fn binaries() -> Option<PathBuf> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_both(&dir) {
                return Some(dir);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            has_both(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// Whether this process runs as root (who owns this process's `/proc` entry).
fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A command running `program` as the `postgres` user when this process is root.
fn as_server_user(program: &Path, root: bool) -> Command {
    if root {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

fn run(cmd: &mut Command, what: &str, log: Option<&Path>) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let log = log
        .and_then(|l| std::fs::read_to_string(l).ok())
        .unwrap_or_default();
    Err(format!(
        "{what} failed ({}): {}{}{log}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free local port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free local port: {e}"))
}

fn start(bin: &Path) -> Result<PgServer, String> {
    let root = is_root();
    let dir =
        std::env::temp_dir().join(format!("gaffer-pg-{}-{}", std::process::id(), free_port()?));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    if root {
        run(
            Command::new("chown").arg("postgres:").arg(&dir),
            "chown of the cluster directory to postgres",
            None,
        )?;
    }
    let data = dir.join("data");
    let log = dir.join("server.log");
    run(
        as_server_user(&bin.join("initdb"), root)
            .current_dir(&dir)
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "-D",
            ])
            .arg(&data),
        "initdb",
        None,
    )?;
    let port = free_port()?;
    let options = format!(
        "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} \
         -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
        dir.display()
    );
    watch(bin, &dir, &data, root)?;
    run(
        as_server_user(&bin.join("pg_ctl"), root)
            .current_dir(&dir)
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "-o", &options, "start"])
            .stdout(Stdio::null()),
        "pg_ctl start",
        Some(&log),
    )?;
    Ok(PgServer {
        url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        dir: Some(dir),
    })
}

/// Starts a process that waits for this one to end, then stops the cluster and removes its
/// directory. It is its own process group, so that a signal to the tests' group spares it.
fn watch(bin: &Path, dir: &Path, data: &Path, root: bool) -> Result<(), String> {
    use std::os::unix::process::CommandExt;
    let pg_ctl = bin.join("pg_ctl");
    let stop = if root {
        format!(
            "runuser -u postgres -- '{}' stop -m immediate -D '{}'",
            pg_ctl.display(),
            data.display()
        )
    } else {
        format!(
            "'{}' stop -m immediate -D '{}'",
            pg_ctl.display(),
            data.display()
        )
    };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; cd /; {stop} >/dev/null 2>&1; \
         rm -rf '{dir}'",
        pid = std::process::id(),
        dir = dir.display()
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map(|_| ())
        .map_err(|e| format!("cannot start the cluster's watcher: {e}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_server_is_found_or_started_and_answers() {
        let Some(server) = server() else { return };
        assert!(server.url().starts_with("postgres://"));
        let a = server.fresh_schema();
        let b = server.fresh_schema();
        assert_ne!(a, b);
        assert!(a.len() <= 49, "{a}");
        assert!(
            a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        );
        // The server accepts connections: psql, when there is one, runs a query.
        let psql = binaries().map(|b| b.join("psql"));
        if let Some(psql) = psql.filter(|p| p.is_file()) {
            let out = Command::new(psql)
                .args(["-tA", "-c", "SELECT 40 + 2", server.url()])
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "42", "{out:?}");
        }
        // A second call is the same server.
        assert_eq!(super::server().unwrap().url(), server.url());
    }
}
