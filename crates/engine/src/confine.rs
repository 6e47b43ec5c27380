//! What every process the engine starts for a task is confined to: the sandbox of this host and
//! the policy and environment of each kind of process — an agent run (coders and resolvers may
//! write their worktree; reviewers and planners may not), the commands of gaffer's own agent
//! loop, verify and setup.
//!
//! Hidden from all of them: the user's home, gaffer's state directory (database, other runs'
//! files, other worktrees) and the user's checkout. Visible read-only: the rest of the system,
//! the repository's git directory (so git works in the worktree), the toolchains on `PATH` and
//! `[sandbox] read`. Writable: the worktree, the run's own directories, `[sandbox] write`.
//! The environment is minimal (see [`base_env`]); gaffer's own is never inherited.

use crate::board::Board;
use crate::error::Result;
use gaffer_agents::Confinement;
use gaffer_config::{SandboxModeSetting, Settings};
use gaffer_core::Role;
use gaffer_sandbox::{Network, Policy, PolicyBuilder, Sandbox, SandboxMode};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Variables of gaffer's environment every confined process gets, when set: the search path,
/// the locale, who the user is, and where toolchains and certificates live. Never a secret.
const PASSED: &[&str] = &[
    "PATH",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_MESSAGES",
    "TZ",
    "USER",
    "LOGNAME",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "RUSTUP_TOOLCHAIN",
    "GOPATH",
    "GOROOT",
    "JAVA_HOME",
    "NVM_DIR",
    "NVM_BIN",
    "PYENV_ROOT",
    "PYENV_VERSION",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "NODE_PATH",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
];

/// The sandbox of this host for the configured mode, detected once per process and mode (it
/// starts bwrap once to prove it works). `bwrap` mode on a host that cannot run it is an error.
pub fn sandbox_for(settings: &Settings) -> Result<Arc<Sandbox>> {
    static DETECTED: OnceLock<Mutex<HashMap<SandboxModeSetting, Arc<Sandbox>>>> = OnceLock::new();
    let mode = settings.sandbox.mode;
    let cache = DETECTED.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(found) = cache.lock().ok().and_then(|c| c.get(&mode).cloned()) {
        return Ok(found);
    }
    let sandbox = Arc::new(Sandbox::detect(match mode {
        SandboxModeSetting::Auto => SandboxMode::Auto,
        SandboxModeSetting::Bwrap => SandboxMode::Bwrap,
        SandboxModeSetting::None => SandboxMode::None,
    })?);
    if let Ok(mut c) = cache.lock() {
        c.insert(mode, Arc::clone(&sandbox));
    }
    Ok(sandbox)
}

/// One line for `gaffer up`, `doctor` and `status`: how runs are confined, or loudly that they
/// are not.
pub fn describe(settings: &Settings) -> String {
    match sandbox_for(settings) {
        Ok(sandbox) if sandbox.is_confined() => format!("runs are confined: {sandbox}"),
        Ok(sandbox) => match sandbox.degraded() {
            Some(why) => format!(
                "RUNS ARE NOT CONFINED: no sandbox on this host ({why}); agents and verify run \
                 with your rights, your files and the network"
            ),
            None => "RUNS ARE NOT CONFINED: [sandbox] mode = \"none\"; agents and verify run \
                     with your rights, your files and the network"
                .to_string(),
        },
        Err(e) => format!("RUNS CANNOT START: {e}"),
    }
}

/// What kind of process is confined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An agent run in `role`; `cli` when the agent is a CLI process (claude, codex, command)
    /// rather than gaffer's own loop, whose only processes are its `run` tool's commands.
    Agent {
        role: Role,
        cli: bool,
    },
    Verify,
    Setup,
}

/// Where a confined process works and keeps its own files.
pub(crate) struct Place<'a> {
    pub worktree: &'a Path,
    /// Its own scratch directory: `TMPDIR` and, for verify and setup, `HOME`.
    pub scratch: &'a Path,
    /// An agent's data directory (its CLI's configuration, sessions), kept across runs; its
    /// `home/` is the agent's `HOME`.
    pub data_dir: Option<&'a Path>,
    /// An agent run's own git directory (`gaffer_git::RunRepo`): what it sees of the
    /// repository instead of the repository's git directory, so no ref but its branch moves.
    pub git: Option<&'a gaffer_git::Mounts>,
    /// Where an agent CLI may connect: its model endpoints (URLs) and gaffer's API.
    pub reach: Option<&'a Reach>,
    /// Further paths to show read-only: where the agent's program lives (see
    /// [`program_dirs`]).
    pub read_only: &'a [PathBuf],
}

/// Where `program` (a name looked up in `path`, else in gaffer's `PATH`) lives, so that a
/// sandbox hiding its directory (an install under the home or `/tmp`) still runs it: the
/// directory it was found in, the directory of the file it resolves to, and, for a program that
/// is a Node package's script, the `node_modules` holding the package and its dependencies.
pub(crate) fn program_dirs(program: &str, path: Option<&str>) -> Vec<PathBuf> {
    let search = path
        .map(std::ffi::OsString::from)
        .or_else(|| std::env::var_os("PATH"))
        .unwrap_or_default();
    let Some(found) = std::env::split_paths(&search)
        .filter(|d| d.is_absolute())
        .map(|d| d.join(program))
        .find(|p| p.is_file())
    else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = found.parent().map(Path::to_path_buf).into_iter().collect();
    if let Ok(real) = found.canonicalize() {
        dirs.extend(real.parent().map(Path::to_path_buf));
        if let Some(modules) = real
            .ancestors()
            .find(|a| a.file_name().is_some_and(|n| n == "node_modules"))
        {
            dirs.push(modules.to_path_buf());
        }
    }
    dirs
}

/// Runs the verify or setup command `spec` in `worktree`, confined, with a scratch directory
/// `scratch` of its own (removed afterwards); `on_start` gets the process's identity.
pub(crate) async fn run_command(
    board: &Board,
    kind: Kind,
    spec: gaffer_proc::CommandSpec,
    worktree: &Path,
    scratch: &Path,
    cancel: &tokio_util::sync::CancellationToken,
    on_start: impl FnOnce(&gaffer_proc::ProcessIdentity),
) -> Result<gaffer_proc::ProcessOutcome> {
    let confine = confinement(
        board,
        kind,
        &Place {
            worktree,
            scratch,
            data_dir: None,
            git: None,
            reach: None,
            read_only: &[],
        },
    )?;
    // The ports `[sandbox.hosts]` allows are relayed for as long as the command runs.
    let mut relays = None;
    let outcome =
        gaffer_proc::run_with_listeners(&confine.apply(spec)?, cancel, |id, listeners| {
            on_start(id);
            relays = Some(confine.start_relays(listeners));
        })
        .await;
    drop(relays);
    let _ = std::fs::remove_dir_all(scratch);
    let _ = std::fs::remove_file(scratch.with_extension("gitconfig"));
    Ok(outcome?)
}

/// The endpoints an agent run may reach, as URLs (`https://api.anthropic.com`,
/// `http://127.0.0.1:7420`) or `host:port`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Reach {
    pub endpoints: Vec<String>,
}

impl Reach {
    /// Each endpoint as `(host, port)`, with the scheme's port when none is written.
    fn targets(&self) -> Result<Vec<(String, u16)>> {
        let mut out: Vec<(String, u16)> = Vec::new();
        for endpoint in &self.endpoints {
            let (host, port) = gaffer_config::host_and_port(endpoint).ok_or_else(|| {
                crate::error::EngineError::Invalid(format!(
                    "the endpoint `{endpoint}` names no host and port"
                ))
            })?;
            if let Some((other, _)) = out.iter().find(|(h, p)| *p == port && *h != host) {
                return Err(crate::error::EngineError::Invalid(format!(
                    "the endpoints {other} and {host} both use port {port}, which one private \
                     network cannot tell apart; give this kind of process the whole network \
                     in [sandbox.network]"
                )));
            }
            if !out.contains(&(host.clone(), port)) {
                out.push((host, port));
            }
        }
        Ok(out)
    }
}

/// The confinement of one process of `kind` at `place`. Creates the scratch and home
/// directories.
pub(crate) fn confinement(board: &Board, kind: Kind, place: &Place<'_>) -> Result<Confinement> {
    let settings = &board.settings;
    let home = match place.data_dir {
        Some(data) => data.join("home"),
        None => place.scratch.join("home"),
    };
    let tmp = place.scratch.join("tmp");
    for dir in [&home, &tmp] {
        std::fs::create_dir_all(dir)
            .map_err(|e| crate::error::EngineError::io(format!("creating {}", dir.display()), e))?;
    }
    let mut env = base_env(settings, &home, &tmp);
    env.extend(board.git.env().iter().cloned());
    // The user's git identity lives in their (hidden) home: an agent that commits signs as an
    // agent of gaffer's, unless the environment already names someone.
    for (var, value) in [
        ("GIT_AUTHOR_NAME", "gaffer agent"),
        ("GIT_AUTHOR_EMAIL", "agent@gaffer.invalid"),
        ("GIT_COMMITTER_NAME", "gaffer agent"),
        ("GIT_COMMITTER_EMAIL", "agent@gaffer.invalid"),
    ] {
        if !env.iter().any(|(k, _)| k == var) {
            env.push((var.to_string(), value.to_string()));
        }
    }
    let sandbox = sandbox_for(settings)?;
    if !sandbox.is_confined() {
        return Ok(Confinement::new(env, None));
    }
    let whole_network = match kind {
        Kind::Agent { cli: true, .. } => settings.sandbox.network.agents,
        Kind::Agent { cli: false, .. } => settings.sandbox.network.tools,
        Kind::Verify => settings.sandbox.network.verify,
        Kind::Setup => settings.sandbox.network.setup,
    };
    // An agent CLI reaches its model and gaffer's API, each relayed into a private network at
    // its own port and, for a name, under its own name; nothing else.
    let hosts = &settings.sandbox.hosts;
    let mut reach = Reach {
        endpoints: match kind {
            Kind::Agent { cli: true, .. } => hosts.agents.clone(),
            Kind::Agent { cli: false, .. } => hosts.tools.clone(),
            Kind::Verify => hosts.verify.clone(),
            Kind::Setup => hosts.setup.clone(),
        },
    };
    if let (Kind::Agent { cli: true, .. }, Some(given)) = (kind, place.reach) {
        reach.endpoints.extend(given.endpoints.iter().cloned());
    }
    let relayed = if whole_network {
        Vec::new()
    } else {
        reach.targets()?
    };
    let network = if whole_network {
        Network::Host
    } else if relayed.is_empty() {
        Network::None
    } else {
        Network::Private
    };
    let writes = match kind {
        Kind::Agent { role, .. } => matches!(role, Role::Coder | Role::Resolver),
        Kind::Verify | Kind::Setup => true,
    };
    let mut policy = Policy::builder(place.worktree)
        .home(&home)
        .writable(place.scratch)
        .network(network);
    if network == Network::Private {
        let names: Vec<(String, std::net::IpAddr)> = relayed
            .iter()
            .filter(|(host, _)| host.parse::<std::net::IpAddr>().is_err())
            .map(|(host, _)| (host.clone(), std::net::IpAddr::from([127, 0, 0, 1])))
            .collect();
        // Beside the scratch directory, which the run may write; this it may not.
        let file = place
            .scratch
            .parent()
            .unwrap_or(place.scratch)
            .join("hosts");
        policy = policy.hosts(file, names);
    }
    if !writes {
        policy = policy.worktree_read_only();
    }
    if let Some(data) = place.data_dir {
        policy = policy.writable(data);
        // What a backend records there for booking resumed runs is gaffer's, not the run's:
        // hidden, so a run cannot make its next one look cheaper.
        for records in gaffer_agents::LEDGER_DIRS {
            let dir = data.join(records);
            std::fs::create_dir_all(&dir).map_err(|e| {
                crate::error::EngineError::io(format!("creating {}", dir.display()), e)
            })?;
            policy = policy.hide(dir);
        }
    }
    policy = hide_and_show(board, policy, place, place.read_only)?;
    let confinement = Confinement::new(env, Some((sandbox, policy.build()?)));
    Ok(if network == Network::Private {
        confinement.relaying(
            relayed
                .into_iter()
                .map(|(host, port)| (port, format!("{host}:{port}")))
                .collect(),
        )
    } else {
        confinement
    })
}

/// The user's home, gaffer's state and the user's checkout hidden; the toolchains and
/// `[sandbox] read` shown read-only; `[sandbox] write` writable. The repository's git directory
/// is read-only (verify and setup may run git), or, for an agent run with a git directory of
/// its own, hidden but for the object store.
fn hide_and_show(
    board: &Board,
    mut policy: PolicyBuilder,
    place: &Place<'_>,
    extra_read_only: &[PathBuf],
) -> Result<PolicyBuilder> {
    let (worktree, git) = (place.worktree, place.git);
    let user_home = std::env::var_os("HOME").map(PathBuf::from);
    for home in user_home.iter().chain(account_home().iter()) {
        policy = policy.hide(home);
    }
    policy = policy.hide(&board.project.root).hide(board.paths.root());
    // Sockets of the host's services (the user's D-Bus and systemd, ssh and gpg agents, docker
    // and podman) live under /run: a read-only mount does not stop `connect()`, hiding does.
    // The resolver's files stay, for the runs that have a network.
    policy = policy.hide("/run").read_only("/run/systemd/resolve");
    match git {
        Some(mounts) => {
            for dir in &mounts.hidden {
                policy = policy.hide(dir);
            }
            for dir in &mounts.read_only {
                policy = policy.read_only(dir);
            }
            for dir in &mounts.writable {
                policy = policy.writable(dir);
            }
            let (source, target) = &mounts.gitfile_over;
            policy = policy.read_only_over(source, target);
        }
        None => {
            policy = show_repository(policy, board.git.common_dir(), place.scratch)?;
            // The worktree's `.git` file stays what gaffer made it: a process that could point
            // it elsewhere would choose the git directory gaffer's next command reads.
            let gitfile = worktree.join(".git");
            if gitfile.is_file() {
                policy = policy.read_only_over(&gitfile, &gitfile);
            }
        }
    }
    for dir in toolchain_dirs(user_home.as_deref()) {
        policy = policy.read_only(dir);
    }
    for path in board.settings.sandbox.read.iter().chain(extra_read_only) {
        policy = policy.read_only(path);
    }
    for path in &board.settings.sandbox.write {
        policy = policy.writable(path);
    }
    Ok(policy)
}

/// What verify and setup see of the repository's git directory: read-only, and without its
/// config, which may hold credentials (a remote URL with a password, an `http.extraheader`);
/// a copy of what git needs of it (written beside `scratch`, removed with it) stands in.
///
/// The directory is hidden and its entries shown one by one rather than the config bound over
/// in place: git rewrites its config by renaming a new file over it, and a file bound over a
/// path that the host then renames onto shows the new file, credentials and all.
fn show_repository(
    mut policy: PolicyBuilder,
    common: &Path,
    scratch: &Path,
) -> Result<PolicyBuilder> {
    let io = |what: String| move |e| crate::error::EngineError::io(what, e);
    policy = policy.hide(common);
    let entries = std::fs::read_dir(common).map_err(io(format!("listing {}", common.display())))?;
    for entry in entries {
        let entry = entry.map_err(io(format!("listing {}", common.display())))?;
        let name = entry.file_name();
        // gaffer's state (hidden anyway), the config (below), the user's own index and
        // in-progress operations: nothing a check of a worktree needs.
        if !SHOWN_OF_GIT_DIR.contains(&name.to_str().unwrap_or("")) {
            continue;
        }
        let path = entry.path();
        // An entry that is a link (a shared object store, git-new-workdir) shows what it
        // points to at its own path: the tmpfs has no link to follow.
        let is_link = entry.file_type().is_ok_and(|t| t.is_symlink());
        policy = match (is_link, path.canonicalize()) {
            (true, Ok(target)) => policy.read_only_over(target, &path),
            _ => policy.read_only(&path),
        };
    }
    let config = common.join("config");
    if config.is_file() {
        let clean = scratch.with_extension("gitconfig");
        // Bytes, not text: a config may hold a name in Latin-1.
        let text = std::fs::read(&config).map_err(io(format!("reading {}", config.display())))?;
        std::fs::write(&clean, git_config_essentials(&text))
            .map_err(io(format!("writing {}", clean.display())))?;
        policy = policy.read_only_over(&clean, &config);
    }
    Ok(policy)
}

/// What verify and setup see of the git directory: what git needs to read a worktree's
/// history and status. Not gaffer's state, the config (a clean copy stands in), the user's own
/// index, hooks or operations in progress.
const SHOWN_OF_GIT_DIR: &[&str] = &[
    "objects",
    "refs",
    "reftable",
    "packed-refs",
    "HEAD",
    "worktrees",
    "info",
    "shallow",
    "commondir",
];

/// The sections of a git config that git needs to read the repository (`[core]`,
/// `[extensions]`), without the rest: remotes, credentials, URLs rewritten with tokens. Works
/// on bytes: a config need not be UTF-8.
fn git_config_essentials(text: &[u8]) -> Vec<u8> {
    let mut keep = false;
    let mut out = Vec::new();
    for line in text.split_inclusive(|b| *b == b'\n') {
        let start = line
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(line.len());
        if let Some(header) = line[start..].strip_prefix(b"[") {
            let end = header
                .iter()
                .position(|b| matches!(b, b']' | b'"' | b'.') || b.is_ascii_whitespace())
                .unwrap_or(header.len());
            let name = header[..end].to_ascii_lowercase();
            keep = name == b"core" || name == b"extensions";
        }
        if keep {
            out.extend_from_slice(line);
            if !line.ends_with(b"\n") {
                out.push(b'\n');
            }
        }
    }
    out
}

/// The home directory of the account gaffer runs as, from the user database: `$HOME` may be
/// unset or point elsewhere, and the account's home (its `~/.ssh`, `~/.aws`) must be hidden
/// all the same.
fn account_home() -> Option<PathBuf> {
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| u.dir)
}

/// Directories under the user's home that processes need to read to run the project's tools:
/// the entries of `PATH` there, and the toolchain homes (`CARGO_HOME`, `RUSTUP_HOME`, …, or
/// their defaults when they exist).
fn toolchain_dirs(user_home: Option<&Path>) -> Vec<PathBuf> {
    let Some(home) = user_home else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|d| d.is_absolute() && d.starts_with(home))
        .collect();
    for (var, default) in [
        ("CARGO_HOME", ".cargo"),
        ("RUSTUP_HOME", ".rustup"),
        ("NVM_DIR", ".nvm"),
        ("PYENV_ROOT", ".pyenv"),
        ("GOPATH", "go"),
    ] {
        let dir = std::env::var_os(var)
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(default));
        if !dir.starts_with(home) || !dir.exists() {
            continue;
        }
        if var == "CARGO_HOME" {
            // Its tools and caches, not its `credentials.toml` or `config.toml`.
            dirs.extend(["bin", "registry", "git"].map(|d| dir.join(d)));
        } else {
            dirs.push(dir);
        }
    }
    dirs
}

/// The environment a confined process starts from: [`PASSED`] and `[sandbox] pass_env` from
/// gaffer's own, the toolchain homes at their defaults when they exist (the process's `HOME`
/// is not the user's, so `~/.cargo` would not be found), its own `HOME` and `TMPDIR`.
pub(crate) fn base_env(settings: &Settings, home: &Path, tmp: &Path) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = PASSED
        .iter()
        .copied()
        .chain(settings.sandbox.pass_env.iter().map(String::as_str))
        .filter_map(|name| Some((name.to_string(), std::env::var(name).ok()?)))
        .collect();
    if let Some(user_home) = std::env::var_os("HOME").map(PathBuf::from) {
        for (var, default) in [("CARGO_HOME", ".cargo"), ("RUSTUP_HOME", ".rustup")] {
            let dir = user_home.join(default);
            if std::env::var_os(var).is_none() && dir.exists() {
                env.push((var.to_string(), dir.display().to_string()));
            }
        }
    }
    env.push(("HOME".into(), home.display().to_string()));
    env.push(("TMPDIR".into(), tmp.display().to_string()));
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_git_needs_of_a_config_is_kept() {
        let config = "[core]\n\trepositoryformatversion = 0\n[remote \"origin\"]\n\turl = \
                      https://user:secret@example.com/r.git\n[http]\n\textraheader = \
                      AUTHORIZATION: bearer t0ken\n[extensions]\n\tworktreeConfig = true\n";
        let kept = git_config_essentials(config.as_bytes());
        assert_eq!(
            kept,
            b"[core]\n\trepositoryformatversion = 0\n[extensions]\n\tworktreeConfig = true\n"
        );
        // Not UTF-8 (a name in Latin-1): read all the same.
        let latin1 = b"[user]\n\tname = Jos\xe9\n[core]\n\tbare = false\n";
        assert_eq!(git_config_essentials(latin1), b"[core]\n\tbare = false\n");
    }

    #[test]
    fn the_base_environment_holds_no_secret_of_gaffers() {
        let settings = gaffer_config::default_settings();
        let env = base_env(&settings, Path::new("/h"), Path::new("/t"));
        let names: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
        for name in &names {
            assert!(
                PASSED.contains(name) || ["HOME", "TMPDIR"].contains(name),
                "{name} is not part of the minimal environment"
            );
        }
        assert!(env.contains(&("HOME".to_string(), "/h".to_string())));
        assert!(env.contains(&("TMPDIR".to_string(), "/t".to_string())));
    }
}
