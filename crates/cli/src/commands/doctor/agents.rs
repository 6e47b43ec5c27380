//! Can each configured agent work? Its CLI is installed at a version gaffer supports, its
//! command's program exists, its script is there, and its key variable is set (never printed).
//! An agent that needs machine labels this machine lacks (`[agents.<name>] needs`, `host.labels`)
//! never runs here, so nothing of it is looked for.

use super::programs::{locate, programs};
use gaffer_config::{AgentSettings, BackendSettings, Runs, Settings};
use std::path::Path;
use std::time::Duration;

/// How long a CLI may take to print its version.
const VERSION_TIMEOUT: Duration = Duration::from_secs(15);

/// One agent's verdict: `Err` says why it cannot work, with a hint.
pub struct AgentCheck {
    pub name: String,
    pub result: Result<String, (String, String)>,
}

/// Every agent a role names (an agent nothing uses cannot stop work), by name.
pub fn check_agents(settings: &Settings, root: &Path) -> Vec<AgentCheck> {
    let roles = &settings.roles;
    let mut used: Vec<&String> = roles
        .coder
        .iter()
        .chain(&roles.reviewer)
        .chain(&roles.planner)
        .chain(&roles.plan_reviewer)
        .chain(&roles.resolver)
        .collect();
    used.sort();
    used.dedup();
    used.into_iter()
        .filter_map(|name| Some((name, settings.agent(name)?)))
        .map(|(name, agent)| AgentCheck {
            name: name.clone(),
            result: check_here(agent, &settings.host.labels, root),
        })
        .collect()
}

/// [`check_agent`] on a machine with `labels` that may run the agent, with what it needs; a
/// machine that may not is told so, and nothing is checked.
fn check_here(
    agent: &AgentSettings,
    labels: &[String],
    root: &Path,
) -> Result<String, (String, String)> {
    if agent.needs.is_empty() {
        return check_agent(agent, root);
    }
    let missing: Vec<&str> = agent
        .needs
        .iter()
        .filter(|label| !labels.contains(label))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Ok(format!(
            "needs {}, which this machine lacks (host.labels): it runs on machines labelled so, \
             not checked here",
            missing.join(", ")
        ));
    }
    check_agent(agent, root).map(|found| format!("{found}, needs {}", agent.needs.join(", ")))
}

fn check_agent(agent: &AgentSettings, root: &Path) -> Result<String, (String, String)> {
    let path = agent
        .env()
        .get("PATH")
        .map(std::ffi::OsString::from)
        .or_else(|| std::env::var_os("PATH"));
    let mut found = match (&agent.backend, agent.kind().info().runs) {
        (_, Runs::Cli(program)) => {
            let at = locate(program, root, path.as_deref()).ok_or_else(|| {
                (
                    format!("{program}: not installed (not on PATH)"),
                    format!("install the {program} CLI, or use another agent in [roles]"),
                )
            })?;
            let version = cli_version(&at);
            if let (Some(min), Some(v)) = (agent.kind().info().min_cli_version, version)
                && v < min
            {
                return Err((
                    format!("{program} {} is older than {}", dotted(v), dotted(min)),
                    format!("upgrade {program} to {} or newer", dotted(min)),
                ));
            }
            match version {
                Some(v) => format!("{program} {} ({})", dotted(v), at.display()),
                None => format!("{program} (version unknown) ({})", at.display()),
            }
        }
        (BackendSettings::Command(command), _) => {
            let mut missing = Vec::new();
            for program in programs(&command.command) {
                if locate(&program, root, path.as_deref()).is_none() {
                    missing.push(program);
                }
            }
            if !missing.is_empty() {
                return Err((
                    format!("its command starts {}, not installed", missing.join(", ")),
                    "install it, or change the agent's command".to_string(),
                ));
            }
            // The programs only: a template may hold a key written inline.
            format!("command starting {}", programs(&command.command).join(", "))
        }
        (BackendSettings::Scripted(scripted), _) => {
            let script = root.join(&scripted.script);
            if !script.is_file() {
                return Err((
                    format!("its script {} does not exist", script.display()),
                    "write the script, or fix the agent's script path".to_string(),
                ));
            }
            format!("script {}", scripted.script.display())
        }
        _ => format!(
            "{} {}",
            agent.kind().as_str(),
            agent.model.as_deref().unwrap_or("(default model)")
        ),
    };
    if let Some(var) = agent.api_key_env() {
        let set = agent.env().contains_key(var)
            || std::env::var_os(var).is_some_and(|value| !value.is_empty());
        if set {
            found.push_str(&format!(", {var} set"));
        } else if agent.endpoint_is_local() {
            found.push_str(&format!(", {var} not set (a local endpoint may need none)"));
        } else {
            return Err((
                format!("{found}, but {var} is not set"),
                format!(
                    "export {var} in the environment gaffer starts from, or name another \
                     variable with api_key_env"
                ),
            ));
        }
    }
    Ok(found)
}

/// The first `x.y.z` the CLI prints for `--version`.
fn cli_version(program: &Path) -> Option<(u32, u32, u32)> {
    let mut child = std::process::Command::new(program)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let deadline = std::time::Instant::now() + VERSION_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take()?, &mut out).ok()?;
    parse_version(&out)
}

/// The first `x.y.z` in `text`.
pub fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .find_map(|word| {
            let mut parts = word.split('.').map(|p| p.parse::<u32>().ok());
            match (parts.next()?, parts.next()?, parts.next()?) {
                (Some(a), Some(b), Some(c)) => Some((a, b, c)),
                _ => None,
            }
        })
}

fn dotted((a, b, c): (u32, u32, u32)) -> String {
    format!("{a}.{b}.{c}")
}

#[cfg(test)]
mod tests {
    use super::parse_version;

    #[test]
    fn versions_as_the_clis_print_them() {
        assert_eq!(parse_version("2.1.329 (Claude Code)\n"), Some((2, 1, 329)));
        assert_eq!(parse_version("codex-cli 0.169.0\n"), Some((0, 169, 0)));
        assert_eq!(parse_version("v1.2\n"), None);
    }
}
