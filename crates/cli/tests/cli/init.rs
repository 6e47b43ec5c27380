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

/// A directory of fake agent CLIs that print the versions gaffer was measured with.
fn fake_clis(project: &Project) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = project.path().join(".git/fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    for (name, version) in [
        ("claude", "2.1.329 (Claude Code)"),
        ("codex", "codex-cli 0.169.0"),
    ] {
        let path = bin.join(name);
        std::fs::write(&path, format!("#!/bin/sh\necho '{version}'\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

fn written(project: &Project) -> toml::Table {
    let text = project.repo.read("gaffer.toml");
    text.parse()
        .unwrap_or_else(|e| panic!("init wrote invalid TOML ({e}):\n{text}"))
}

#[test]
fn init_writes_a_crew_of_the_clis_it_finds_that_doctor_accepts() {
    let project = Project::bare();
    project.repo.write("Makefile", "test:\n\ttrue\n");
    let bin = fake_clis(&project);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = project
        .gaffer()
        .arg("init")
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("agents: claude, codex"),
        "{}",
        stdout_of(&out)
    );
    let doc = written(&project);
    assert_eq!(doc["agents"]["claude"]["backend"].as_str(), Some("claude"));
    assert_eq!(doc["agents"]["codex"]["backend"].as_str(), Some("codex"));
    let roles = doc["roles"].as_table().unwrap();
    let names = |key: &str| -> Vec<&str> {
        roles[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect()
    };
    assert_eq!(names("coder"), ["claude"]);
    assert_eq!(names("planner"), ["claude"]);
    // A reviewer of the other family, for diffs and plans.
    assert_eq!(names("reviewer"), ["codex"]);
    assert_eq!(names("plan_reviewer"), ["codex"]);

    let out = project
        .gaffer()
        .args(["doctor", "--json"])
        .env("PATH", &path)
        .env("ANTHROPIC_API_KEY", "test-key")
        .env("OPENAI_API_KEY", "test-key")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout_of(&out));
    let checks: Value = serde_json::from_slice(&out.stdout).unwrap();
    let agents: Vec<&Value> = checks
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == "agent")
        .collect();
    assert_eq!(agents.len(), 2, "{checks:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_finds_a_local_model_server() {
    let server = gaffer_mock_llm::MockServer::start(
        gaffer_mock_llm::Script::default().with_models(["qwen2.5-coder:7b"]),
    )
    .await
    .unwrap();
    let project = Project::bare();
    project.repo.write("Makefile", "test:\n\ttrue\n");
    // Only the system's programs on PATH: a `claude` or `codex` of the machine running the
    // tests must not join the crew.
    let out = project
        .gaffer()
        .arg("init")
        .env("OLLAMA_HOST", server.addr().to_string())
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let doc = written(&project);
    let local = doc["agents"]["local"].as_table().unwrap();
    assert_eq!(local["backend"].as_str(), Some("openai"));
    assert_eq!(local["model"].as_str(), Some("qwen2.5-coder:7b"));
    assert_eq!(local["family"].as_str(), Some("qwen2.5-coder"));
    assert_eq!(
        local["base_url"].as_str(),
        Some(server.openai_base_url().as_str())
    );
    assert_eq!(
        doc["roles"]["coder"].as_array().unwrap()[0].as_str(),
        Some("local")
    );
    let out = project.gaffer().args(["doctor"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout_of(&out),
        stderr_of(&out)
    );
}
