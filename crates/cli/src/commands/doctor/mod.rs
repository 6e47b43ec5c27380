//! `gaffer doctor`: is this machine and repository ready for gaffer? Every check that fails
//! means some work cannot happen (exit 8): a missing tool of the verify command, an agent a role
//! names whose CLI, script or key is missing; `--verify` runs verify once on the landing branch.

mod agents;
mod programs;

pub use programs::locate;

use crate::cli::DoctorArgs;
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

pub fn run(ctx: &Context, args: &DoctorArgs) -> CliResult<()> {
    let json = args.json;
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
        Ok(s) => {
            checks.extend(settings_checks(s));
            let root = repo.as_deref().unwrap_or(ctx.dir());
            checks.extend(tool_checks(s, root));
            checks.extend(agents::check_agents(s, root).into_iter().map(|a| {
                let (ok, detail, hint) = match a.result {
                    Ok(detail) => (true, detail, None),
                    Err((detail, hint)) => (false, detail, Some(hint)),
                };
                Check {
                    name: "agent",
                    ok,
                    detail: format!("{}: {detail}", a.name),
                    hint,
                }
            }));
        }
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
                if args.verify && board.settings().verify.command.is_some() {
                    checks.push(baseline_check(&board));
                }
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
        let found = programs::locate(
            cli,
            std::path::Path::new("."),
            std::env::var_os("PATH").as_deref(),
        );
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

/// The programs the verify and setup commands start are installed (a missing `pytest` fails
/// every task's verify, and would look like the agents' fault).
fn tool_checks(s: &gaffer_config::Settings, root: &std::path::Path) -> Vec<Check> {
    let commands = [
        ("verify tool", s.verify.command.as_deref(), "verify.command"),
        ("setup tool", s.verify.setup.as_deref(), "verify.setup"),
    ];
    let path = std::env::var_os("PATH");
    let mut checks = Vec::new();
    for (name, command, key) in commands {
        let Some(command) = command else { continue };
        for program in programs::programs(command) {
            let found = programs::locate(&program, root, path.as_deref());
            let hint = format!("install {program}, or change {key} (it runs `{command}`)");
            checks.push(check(
                name,
                found.is_some(),
                match &found {
                    Some(at) => format!("{program}: {}", at.display()),
                    None => format!("{program}: not installed"),
                },
                Some(hint.as_str()),
            ));
        }
    }
    checks
}

/// Verify once on the landing branch: a red baseline fails every task through no fault of its
/// own.
fn baseline_check(board: &gaffer_engine::Board) -> Check {
    let runtime = match super::runtime() {
        Ok(runtime) => runtime,
        Err(e) => return check("baseline", false, e.message, None),
    };
    let cancel = tokio_util::sync::CancellationToken::new();
    match runtime.block_on(board.verify_baseline(&cancel)) {
        Ok(b) => {
            let at = format!("{} ({})", b.branch, &b.commit[..b.commit.len().min(12)]);
            let mut detail = match &b.setup_failed {
                Some(setup) => format!("setup {setup} on {at}: verify did not run"),
                None => format!(
                    "verify on {at}: {} in {:.1}s",
                    b.verdict,
                    b.duration.as_secs_f64()
                ),
            };
            if !b.passed {
                detail.push('\n');
                detail.push_str(&indent_tail(&b.tail));
            }
            check(
                "baseline",
                b.passed,
                detail,
                Some(
                    "the landing branch fails its own verify: fix it first (every task would fail), or correct verify.command",
                ),
            )
        }
        Err(e) => check("baseline", false, e.to_string(), None),
    }
}

/// The last lines of the output, indented under the check.
fn indent_tail(tail: &str) -> String {
    let lines: Vec<&str> = tail.lines().collect();
    let start = lines.len().saturating_sub(15);
    lines[start..]
        .iter()
        .map(|l| format!("     | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
