//! `gaffer doctor`: what is ready and what is not, with exit code 8 when something is not.

use crate::common::{GAFFER_TOML, Project, stderr_of, stdout_of};
use serde_json::Value;

fn doctor_json(project: &Project) -> (Option<i32>, Value) {
    let out = project
        .gaffer()
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    let checks = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("doctor --json: {e}\n{}", stdout_of(&out)));
    (out.status.code(), checks)
}

fn check<'a>(checks: &'a Value, name: &str) -> &'a Value {
    checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {checks:#}"))
}

#[test]
fn doctor_json_reports_a_ready_project() {
    let project = Project::new();
    let (code, checks) = doctor_json(&project);
    let git = check(&checks, "git");
    assert_eq!(git["ok"], true, "{git:#}");
    assert!(
        git["detail"].as_str().unwrap().starts_with("git 2."),
        "{git:#}"
    );
    let repository = check(&checks, "repository");
    assert_eq!(repository["detail"], project.path().display().to_string());
    for name in ["config", "verify", "agents", "state", "port"] {
        assert_eq!(check(&checks, name)["ok"], true, "{checks:#}");
    }
    assert!(
        check(&checks, "agents")["detail"]
            .as_str()
            .unwrap()
            .contains("scripted-agent"),
        "{checks:#}"
    );
    assert_eq!(code, Some(0), "{checks:#}");
}

#[test]
fn doctor_fails_with_8_on_a_broken_config_and_names_file_and_line() {
    let project = Project::new();
    let line = GAFFER_TOML.lines().count() + 2;
    project.repo.write(
        "gaffer.toml",
        format!("{GAFFER_TOML}\n[engine2]\nconcurrency = 1\n"),
    );

    let (code, checks) = doctor_json(&project);
    assert_eq!(code, Some(8), "{checks:#}");
    assert_eq!(check(&checks, "git")["ok"], true, "{checks:#}");
    let config = check(&checks, "config");
    assert_eq!(config["ok"], false, "{config:#}");
    let detail = config["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("gaffer.toml:{line}")),
        "line {line} not named: {config:#}"
    );
    assert!(detail.contains("engine2"), "{config:#}");

    let out = project.gaffer().arg("doctor").output().unwrap();
    assert_eq!(out.status.code(), Some(8));
    assert!(
        stdout_of(&out).contains("FAIL config"),
        "{}",
        stdout_of(&out)
    );
    assert!(
        stderr_of(&out).contains("check(s) failed"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn doctor_names_line_and_column_of_a_toml_syntax_error() {
    let project = Project::new();
    project.repo.write(
        "gaffer.toml",
        "[project]\nname = \"fixture\"\ntarget = main\n",
    );
    let (code, checks) = doctor_json(&project);
    assert_eq!(code, Some(8));
    let config = check(&checks, "config");
    assert_eq!(config["ok"], false);
    assert!(
        config["detail"]
            .as_str()
            .unwrap()
            .contains("gaffer.toml:3:"),
        "{config:#}"
    );
}

/// Runs without a sandbox are never silent: `doctor` and `status` say so.
#[test]
fn unconfined_runs_are_stated_loudly_by_doctor_and_status() {
    let project = Project::new();
    let (_, checks) = doctor_json(&project);
    let sandbox = check(&checks, "sandbox");
    assert_eq!(sandbox["ok"], true, "{sandbox:#}");
    assert!(
        sandbox["detail"]
            .as_str()
            .unwrap()
            .starts_with("runs are confined"),
        "{sandbox:#}"
    );
    let status = project.gaffer().arg("status").output().unwrap();
    assert!(
        !stdout_of(&status).contains("NOT CONFINED"),
        "{}",
        stdout_of(&status)
    );

    let toml = std::fs::read_to_string(project.path().join("gaffer.toml")).unwrap();
    project.repo.write(
        "gaffer.toml",
        format!("{toml}\n[sandbox]\nmode = \"none\"\n"),
    );
    let (_, checks) = doctor_json(&project);
    let sandbox = check(&checks, "sandbox");
    assert!(
        sandbox["detail"]
            .as_str()
            .unwrap()
            .contains("RUNS ARE NOT CONFINED"),
        "{sandbox:#}"
    );
    let status = project.gaffer().arg("status").output().unwrap();
    assert!(
        stdout_of(&status).contains("sandbox RUNS ARE NOT CONFINED"),
        "{}",
        stdout_of(&status)
    );
}

fn checks_named<'a>(checks: &'a Value, name: &str) -> Vec<&'a Value> {
    checks
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == name)
        .collect()
}

/// Appends `extra` to the fixture's gaffer.toml (its `[roles]` and `[verify]` replaced when
/// `extra` has its own).
fn with_config(project: &Project, verify: &str, agents: &str, coder: &str) {
    let toml = GAFFER_TOML
        .replace(
            "command = \"test ! -e BROKEN\"",
            &format!("command = {verify:?}"),
        )
        .replace(
            "coder = [\"scripted-agent\"]",
            &if coder == "scripted-agent" {
                "coder = [\"scripted-agent\"]".to_string()
            } else {
                format!("coder = [\"scripted-agent\", {coder:?}]")
            },
        );
    project
        .repo
        .write("gaffer.toml", format!("{toml}\n{agents}\n"));
}

#[test]
fn doctor_fails_with_8_when_the_verify_command_s_tool_is_missing() {
    let project = Project::new();
    with_config(
        &project,
        "cd . && no-such-test-runner -q || true",
        "",
        "scripted-agent",
    );
    let (code, checks) = doctor_json(&project);
    assert_eq!(code, Some(8), "{checks:#}");
    let tools = checks_named(&checks, "verify tool");
    assert_eq!(tools.len(), 1, "{checks:#}");
    assert_eq!(tools[0]["ok"], false);
    assert_eq!(tools[0]["detail"], "no-such-test-runner: not installed");
    assert!(
        tools[0]["hint"]
            .as_str()
            .unwrap()
            .contains("verify.command"),
        "{checks:#}"
    );

    with_config(&project, "sh -c 'exit 0'", "", "scripted-agent");
    let (code, checks) = doctor_json(&project);
    assert_eq!(code, Some(0), "{checks:#}");
    assert_eq!(checks_named(&checks, "verify tool")[0]["ok"], true);
}

#[test]
fn doctor_fails_with_8_for_a_missing_or_too_old_agent_cli() {
    let project = Project::new();
    let empty = project.path().join(".git/empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let agent = format!(
        "[agents.claude-coder]\nbackend = \"claude\"\nenv = {{ PATH = {:?} }}\n",
        empty.display().to_string()
    );
    with_config(&project, "true", &agent, "claude-coder");
    let (code, checks) = doctor_json(&project);
    assert_eq!(code, Some(8), "{checks:#}");
    let agent = checks_named(&checks, "agent")
        .into_iter()
        .find(|c| c["detail"].as_str().unwrap().starts_with("claude-coder:"))
        .unwrap();
    assert_eq!(agent["ok"], false, "{agent:#}");
    assert!(
        agent["detail"]
            .as_str()
            .unwrap()
            .contains("claude: not installed"),
        "{agent:#}"
    );

    // An old CLI is refused by version.
    let old = project.path().join(".git/old-bin");
    std::fs::create_dir_all(&old).unwrap();
    let claude = old.join("claude");
    std::fs::write(&claude, "#!/bin/sh\necho '1.0.3 (Claude Code)'\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&claude, std::fs::Permissions::from_mode(0o755)).unwrap();
    let agent = format!(
        "[agents.claude-coder]\nbackend = \"claude\"\nenv = {{ PATH = {:?} }}\n",
        old.display().to_string()
    );
    with_config(&project, "true", &agent, "claude-coder");
    let (code, checks) = doctor_json(&project);
    assert_eq!(code, Some(8), "{checks:#}");
    let detail = checks_named(&checks, "agent")
        .into_iter()
        .find(|c| c["detail"].as_str().unwrap().starts_with("claude-coder:"))
        .unwrap()["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(detail.contains("1.0.3 is older than 2.1.0"), "{detail}");
}

/// An agent that needs a label this machine lacks runs elsewhere: its missing CLI is no fault
/// here; on a machine with the label it is.
#[test]
fn doctor_checks_an_agent_only_where_its_labels_are() {
    let project = Project::new();
    let empty = project.path().join(".git/empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let agent = format!(
        "[agents.gpu-coder]\nbackend = \"claude\"\nneeds = [\"gpu\"]\nenv = {{ PATH = {:?} }}\n",
        empty.display().to_string()
    );
    with_config(&project, "true", &agent, "gpu-coder");
    let (code, checks) = doctor_json(&project);
    let detail = |checks: &Value| {
        checks_named(checks, "agent")
            .into_iter()
            .find(|c| c["detail"].as_str().unwrap().starts_with("gpu-coder:"))
            .unwrap()
            .clone()
    };
    let here = detail(&checks);
    assert_eq!(here["ok"], true, "{here:#}");
    assert!(
        here["detail"]
            .as_str()
            .unwrap()
            .contains("needs gpu, which this machine lacks"),
        "{here:#}"
    );
    assert_eq!(code, Some(0), "{checks:#}");

    let out = project
        .gaffer()
        .env("GAFFER_HOST__LABELS", "gpu")
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    let checks: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(8), "{checks:#}");
    let there = detail(&checks);
    assert_eq!(there["ok"], false, "{there:#}");
    assert!(
        there["detail"]
            .as_str()
            .unwrap()
            .contains("claude: not installed"),
        "{there:#}"
    );
}

#[test]
fn doctor_fails_with_8_for_an_unset_key_variable_and_never_prints_it() {
    let project = Project::new();
    let agent = "[agents.helper]\nbackend = \"command\"\ncommand = \"sh -c 'cat {prompt_file}'\"\napi_key_env = \"HELPER_API_KEY\"\n";
    with_config(&project, "true", agent, "helper");
    let (code, checks) = doctor_json(&project);
    assert_eq!(code, Some(8), "{checks:#}");
    let helper = checks_named(&checks, "agent")
        .into_iter()
        .find(|c| c["detail"].as_str().unwrap().starts_with("helper:"))
        .unwrap()
        .clone();
    assert_eq!(helper["ok"], false, "{helper:#}");
    assert!(
        helper["detail"]
            .as_str()
            .unwrap()
            .contains("HELPER_API_KEY is not set"),
        "{helper:#}"
    );

    let out = project
        .gaffer()
        .args(["doctor", "--json"])
        .env("HELPER_API_KEY", "sk-very-secret-value")
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("HELPER_API_KEY set"), "{text}");
    assert!(!text.contains("sk-very-secret-value"), "{text}");
}

#[test]
fn doctor_verify_runs_verify_once_on_the_landing_branch() {
    let project = Project::new();
    let out = project
        .gaffer()
        .args(["doctor", "--verify"])
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr_of(&out));
    assert!(
        text.lines().any(|l| l.starts_with("ok   baseline")
            && l.contains("verify on main (")
            && l.contains("exit code 0")),
        "{text}"
    );

    // A red baseline: verify fails on the target itself.
    project.repo.write("BROKEN", "x\n");
    project.repo.commit_all("break the baseline");
    let out = project
        .gaffer()
        .args(["doctor", "--verify"])
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(8), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("FAIL baseline") && l.contains("exit code 1")),
        "{text}"
    );
    // The check's worktree and branch are gone.
    let branches = std::process::Command::new("git")
        .args(["branch", "--list", "gaffer/*"])
        .current_dir(project.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&branches.stdout).trim().is_empty());
}
