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
