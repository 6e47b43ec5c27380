//! Invalid configuration fails at start with exit code 3, the file, the line and a fix.

use crate::common::{GAFFER_TOML, Project, stderr_of};

#[test]
fn unknown_key_fails_with_3_naming_file_line_and_a_hint() {
    let project = Project::new();
    // The fixture has an [engine] table; put a misspelt key right after its header.
    let mut lines: Vec<&str> = GAFFER_TOML.lines().collect();
    let engine = lines.iter().position(|l| *l == "[engine]").unwrap();
    lines.insert(engine + 1, "concurency = 3");
    project.repo.write("gaffer.toml", lines.join("\n") + "\n");
    let line = engine + 2;

    let out = project.gaffer().args(["task", "list"]).output().unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!("gaffer.toml:{line}")),
        "line {line} not named: {stderr}"
    );
    assert!(stderr.contains("concurency"), "{stderr}");
    assert!(stderr.contains("hint:"), "no hint: {stderr}");
    assert!(out.stdout.is_empty(), "printed a listing anyway");
}

#[test]
fn set_override_out_of_range_fails_with_3() {
    let project = Project::new();
    let out = project
        .gaffer()
        .args(["--set", "engine.concurrency=0", "task", "list"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("engine.concurrency"), "{stderr}");
}

#[test]
fn set_override_without_a_value_fails_with_3() {
    let project = Project::new();
    let out = project
        .gaffer()
        .args(["--set", "engine.concurrency", "task", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
}

#[test]
fn environment_override_out_of_range_fails_with_3() {
    let project = Project::new();
    let out = project
        .gaffer()
        .env("GAFFER_ENGINE__CONCURRENCY", "0")
        .args(["task", "list"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("GAFFER_ENGINE__CONCURRENCY"),
        "the variable is not named: {stderr}"
    );
}

#[test]
fn missing_config_file_fails_with_3() {
    let project = Project::new();
    let out = project
        .gaffer()
        .args(["--config", "nowhere.toml", "task", "list"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("nowhere.toml"), "{stderr}");
}

/// `-C` means "as if started there", so a relative `--config` is found there.
#[test]
fn relative_config_is_relative_to_dash_c() {
    let project = Project::new();
    project.repo.git(&["mv", "gaffer.toml", "alt.toml"]);
    let parent = project.path().parent().unwrap();
    let out = project
        .gaffer_at(parent)
        .arg("-C")
        .arg(project.path())
        .args(["--config", "alt.toml", "doctor", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        stderr_of(&out)
    );
}
