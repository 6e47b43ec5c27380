//! `gaffer doctor`: is this machine and repository ready for gaffer?

use crate::context::Context;
use crate::daemon::{self, Running};
use crate::error::{CliError, CliResult, Kind};
use crate::output;
use serde::Serialize;
use std::net::TcpListener;

#[derive(Debug, Serialize)]
struct Check {
    name: &'static str,
    ok: bool,
    detail: String,
    hint: Option<String>,
}

fn check(name: &'static str, ok: bool, detail: impl Into<String>, hint: Option<&str>) -> Check {
    Check {
        name,
        ok,
        detail: detail.into(),
        hint: if ok { None } else { hint.map(str::to_string) },
    }
}

pub fn run(ctx: &Context, json: bool) -> CliResult<()> {
    let mut checks = Vec::new();
    match gaffer_git::git_version() {
        Ok(v) => checks.push(check(
            "git",
            v.supports_merge_tree_write_tree(),
            format!("git {}.{}.{}", v.major, v.minor, v.patch),
            Some("install git 2.38 or newer (gaffer needs `git merge-tree --write-tree`)"),
        )),
        Err(e) => checks.push(check("git", false, e.to_string(), Some("install git"))),
    }
    let repo = ctx.repo_root();
    checks.push(match &repo {
        Ok(root) => check("repository", true, root.display().to_string(), None),
        Err(e) => check(
            "repository",
            false,
            e.message.clone(),
            Some("run inside a git repository or pass -C <dir>"),
        ),
    });
    let settings = ctx.settings();
    match &settings {
        Ok(s) => checks.extend(settings_checks(s)),
        Err(e) => checks.push(check("config", false, e.message.clone(), e.hint.as_deref())),
    }
    if repo.is_ok() && settings.is_ok() {
        match ctx.board() {
            Ok(board) => {
                let dir = board.paths().root().to_path_buf();
                let probe = dir.join(".doctor-probe");
                let writable = std::fs::write(&probe, b"ok").is_ok();
                let _ = std::fs::remove_file(&probe);
                checks.push(check(
                    "state",
                    writable,
                    dir.display().to_string(),
                    Some("make the state directory writable"),
                ));
                let port = board.settings().server.port;
                let daemon = daemon::read(board.paths()).filter(|d| d.is_alive());
                checks.push(match daemon {
                    Some(d) => check("port", true, format!("daemon running on port {} (pid {})", d.port, d.pid), None),
                    None => {
                        let free = port == 0 || TcpListener::bind(("127.0.0.1", port)).is_ok();
                        check("port", free, format!("127.0.0.1:{port}"), Some("another program uses the port: `gaffer up --port N` or set server.port"))
                    }
                });
            }
            Err(e) => checks.push(check("state", false, e.message.clone(), e.hint.as_deref())),
        }
    }
    // The backends' own CLIs, then CLIs people run through a `command` template.
    let backend_clis = gaffer_config::BACKENDS
        .iter()
        .filter_map(|row| match row.runs {
            gaffer_config::Runs::Cli(program) => Some(program),
            _ => None,
        });
    for cli in backend_clis.chain(["aider", "gemini", "opencode"]) {
        let found = find_in_path(cli);
        checks.push(Check {
            name: "agent cli",
            ok: true,
            detail: match found {
                Some(p) => format!("{cli}: {}", p.display()),
                None => format!("{cli}: not installed"),
            },
            hint: None,
        });
    }
    let failed = checks.iter().filter(|c| !c.ok).count();
    if json {
        output::json(&checks)?;
    } else {
        for c in &checks {
            outln!(
                "{} {:<10} {}",
                if c.ok { "ok  " } else { "FAIL" },
                c.name,
                c.detail
            )?;
            if let Some(h) = &c.hint {
                outln!("     hint: {h}")?;
            }
        }
    }
    if failed > 0 {
        return Err(CliError::new(
            Kind::Unfinished,
            format!("{failed} check(s) failed"),
        ));
    }
    Ok(())
}

/// What the settings say: where they come from, the verify command, confinement, agents.
fn settings_checks(s: &gaffer_config::Settings) -> Vec<Check> {
    let mut checks = Vec::new();
    let source = s
        .source
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "defaults (no gaffer.toml)".into());
    checks.push(check("config", true, source, None));
    checks.push(check(
        "verify",
        s.verify.command.is_some(),
        s.verify
            .command
            .clone()
            .unwrap_or_else(|| "no verify command".into()),
        Some("run `gaffer init`, or set verify.command in gaffer.toml"),
    ));
    // How runs are confined, said loudly when they are not.
    let confined = gaffer_engine::sandbox_for(s).is_ok_and(|sb| sb.is_confined());
    let explicitly_none = s.sandbox.mode == gaffer_config::SandboxModeSetting::None;
    checks.push(check(
        "sandbox",
        confined || explicitly_none,
        gaffer_engine::describe_confinement(s),
        Some(
            "install bubblewrap (Debian/Ubuntu: apt install bubblewrap) and allow \
             unprivileged user namespaces, or set [sandbox] mode = \"none\" to accept \
             unconfined runs",
        ),
    ));
    checks.push(check(
        "agents",
        !s.roles.coder.is_empty(),
        if s.roles.coder.is_empty() {
            "no coder configured".to_string()
        } else {
            format!("coders: {}", s.roles.coder.join(", "))
        },
        Some("add an agent under [agents] and list it in roles.coder"),
    ));
    checks
}

fn find_in_path(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}
