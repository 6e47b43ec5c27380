//! Write scopes hold (`[scope] enforce`): a coder that edits a path outside its task's declared
//! scope has its change sent back with the paths (`reject`, the default) or shown to the reviewer
//! (`review`), end to end through the daemon with scripted agents.

use crate::crew::{config, crew, events, landed, prompt, run_summary, runs, scripted};

/// The coder writes its own file and, on its first attempt, one reserved for someone else; told
/// so, it puts that file back.
const CODER: &str = r#"
[[task]]
match = "Write alpha"
[[task.attempt]]
summary = "Wrote alpha.txt, and fixed a typo in notes/other.txt while there."
actions = [{ write = "alpha.txt", content = "alpha\n" }, { write = "notes/other.txt", content = "mine now\n" }]
[[task.attempt]]
summary = "Restored notes/other.txt; only alpha.txt is changed."
actions = [{ delete = "notes/other.txt" }]
"#;

const REVIEWER: &str = r#"
[[task]]
match = "Write alpha"
[[task.attempt]]
summary = '{"verdict": "approve", "summary": "fine"}'
"#;

#[test]
fn a_change_outside_the_write_scope_goes_back_to_its_coder_with_the_paths() {
    let toml = config(
        "",
        &format!("{}[roles]\ncoder = [\"coder\"]\n", scripted("coder")),
    );
    let project = crew(&toml, &[("scripts/coder.toml", CODER)]);
    let _daemon = project.start_daemon();
    let id = project.add_task("Write alpha", &["--scope", "alpha.txt"]);
    let shown = project.wait_for_status(id, "merged");

    let outside = events(&shown, "scope.outside");
    assert_eq!(outside.len(), 1, "{:#}", shown["events"]);
    assert_eq!(
        outside[0]["data"]["paths"],
        serde_json::json!(["notes/other.txt"])
    );
    assert_eq!(outside[0]["data"]["enforce"], "reject");
    assert_eq!(
        run_summary(&shown),
        [
            ("coder".into(), "coder".into(), "failed".into()),
            ("coder".into(), "coder".into(), "succeeded".into()),
        ]
    );
    let all = runs(&shown);
    assert!(
        all[0]["outcome"]
            .as_str()
            .unwrap_or("")
            .contains("outside this task's write scope"),
        "{:#}",
        all[0]
    );
    // The coder is told which paths, and what to do.
    let retry = prompt(&project, &all[1]);
    assert!(
        retry.contains("outside this task's write scope (alpha.txt)")
            && retry.contains("- notes/other.txt"),
        "{retry}"
    );
    assert_eq!(landed(&project, "alpha.txt"), "alpha");
    let files = project
        .repo
        .git(&["ls-tree", "-r", "--name-only", "gaffer/landed/main"]);
    assert!(
        !files.contains("notes/other.txt"),
        "the out-of-scope file landed: {files}"
    );
}

#[test]
fn in_review_mode_the_reviewer_is_shown_the_paths_outside_the_scope() {
    let toml = config(
        "",
        &format!(
            "{}{}[roles]\ncoder = [\"coder\"]\nreviewer = [\"critic\"]\n\n[scope]\nenforce = \"review\"\n",
            scripted("coder"),
            scripted("critic")
        ),
    );
    let project = crew(
        &toml,
        &[
            ("scripts/coder.toml", CODER),
            ("scripts/critic.toml", REVIEWER),
        ],
    );
    let _daemon = project.start_daemon();
    let id = project.add_task("Write alpha", &["--scope", "alpha.txt"]);
    let shown = project.wait_for_status(id, "merged");

    let outside = events(&shown, "scope.outside");
    assert_eq!(outside.len(), 1, "{:#}", shown["events"]);
    assert_eq!(outside[0]["data"]["enforce"], "review");
    let all = runs(&shown);
    let review = all
        .iter()
        .find(|r| r["role"] == "reviewer")
        .unwrap_or_else(|| panic!("no review: {:#}", shown["runs"]));
    let text = prompt(&project, review);
    assert!(
        text.contains("## Outside the write scope")
            && text.contains("writes only alpha.txt")
            && text.contains("- notes/other.txt"),
        "{text}"
    );
    // `gaffer log` tells it in words.
    let log = project
        .gaffer()
        .args(["log", &id.to_string()])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&log.stdout);
    assert!(
        log.contains("edits outside its write scope (alpha.txt): notes/other.txt"),
        "{log}"
    );
}
