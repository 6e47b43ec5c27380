//! `gaffer init`: detects the project's commands and writes a gaffer.toml that loads.

use crate::common::{Project, Sandbox, stderr_of, stdout_of};
use serde_json::Value;

/// The `verify` table of the gaffer.toml that init wrote.
fn written_verify(project: &Project) -> toml::Table {
    let text = project.repo.read("gaffer.toml");
    let doc: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("init wrote invalid TOML ({e}):\n{text}"));
    doc.get("verify")
        .and_then(|v| v.as_table())
        .cloned()
        .unwrap_or_else(|| panic!("no [verify] in:\n{text}"))
}

fn init(project: &Project, args: &[&str]) -> std::process::Output {
    project.gaffer().arg("init").args(args).output().unwrap()
}

#[test]
fn init_in_a_cargo_project_verifies_with_cargo_test() {
    let project = Project::bare();
    project.repo.write(
        "Cargo.toml",
        "[package]\nname = \"demo\"\nversion = \"0.1.0\"\n",
    );
    let out = init(&project, &[]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(stdout_of(&out).contains("cargo"), "{}", stdout_of(&out));
    let verify = written_verify(&project);
    let command = verify["command"].as_str().unwrap();
    assert!(
        command.contains("cargo test"),
        "verify.command = {command:?}"
    );
}

#[test]
fn init_in_a_pnpm_project_verifies_with_pnpm() {
    let project = Project::bare();
    project.repo.write(
        "package.json",
        r#"{ "name": "web", "scripts": { "test": "vitest run" } }"#,
    );
    project
        .repo
        .write("pnpm-lock.yaml", "lockfileVersion: '9.0'\n");
    let out = init(&project, &[]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let verify = written_verify(&project);
    let command = verify["command"].as_str().unwrap();
    assert!(command.starts_with("pnpm "), "verify.command = {command:?}");
    let setup = verify
        .get("setup")
        .and_then(|s| s.as_str())
        .unwrap_or_default();
    assert!(
        setup.starts_with("pnpm install"),
        "verify.setup = {setup:?}"
    );
}

#[test]
fn init_without_a_build_system_leaves_verify_unset_and_says_so() {
    let project = Project::bare();
    let out = init(&project, &[]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("no build system detected"),
        "{}",
        stdout_of(&out)
    );
    assert!(written_verify(&project).get("command").is_none());
}

#[test]
fn init_refuses_to_overwrite_without_force() {
    let project = Project::bare();
    project
        .repo
        .write("Cargo.toml", "[package]\nname = \"demo\"\n");
    let mine = "# my own configuration\n[verify]\ncommand = \"make check\"\n";
    project.repo.write("gaffer.toml", mine);

    let out = init(&project, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    let stderr = stderr_of(&out);
    assert!(stderr.contains("gaffer.toml already exists"), "{stderr}");
    assert!(
        stderr.contains("hint:") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(
        project.repo.read("gaffer.toml"),
        mine,
        "init changed the file it refused to replace"
    );

    let out = init(&project, &["--force"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let command = written_verify(&project)["command"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        command.contains("cargo test"),
        "--force did not replace the file: {command:?}"
    );
}

/// The check of `gaffer doctor --json` with this name.
fn check<'a>(checks: &'a Value, name: &str) -> &'a Value {
    checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {checks:#}"))
}

#[test]
fn init_writes_a_file_that_doctor_loads() {
    let project = Project::bare();
    project
        .repo
        .write("Cargo.toml", "[package]\nname = \"demo\"\n");
    let out = init(&project, &[]);
    assert!(out.status.success(), "{}", stderr_of(&out));

    // Port 0: whether 7420 happens to be free on this machine is not what this test is about.
    let out = project
        .gaffer()
        .args(["--set", "server.port=0", "doctor", "--json"])
        .output()
        .unwrap();
    let checks: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("doctor --json: {e}\n{}", stdout_of(&out)));
    let config = check(&checks, "config");
    assert_eq!(config["ok"], true, "{config:#}");
    let source = config["detail"].as_str().unwrap();
    assert_eq!(
        source,
        project.path().join("gaffer.toml").display().to_string()
    );
    let verify = check(&checks, "verify");
    assert_eq!(verify["ok"], true, "{verify:#}");
    assert!(
        verify["detail"].as_str().unwrap().contains("cargo test"),
        "{verify:#}"
    );

    // A fresh file names no agent, which doctor reports; nothing else may fail.
    let failed: Vec<&str> = checks
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(failed, vec!["agents"], "{checks:#}");
    assert_eq!(out.status.code(), Some(8), "{}", stderr_of(&out));
}

#[test]
fn init_outside_a_repository_fails_with_a_git_error() {
    let sandbox = Sandbox::new();
    let out = sandbox.gaffer().arg("init").output().unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("hint:"), "{}", stderr_of(&out));
    assert!(!sandbox.dir().join("gaffer.toml").exists());
}
