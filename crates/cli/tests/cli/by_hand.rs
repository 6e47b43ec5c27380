//! `gaffer attach N` and `gaffer release N` through the real binary and a running daemon: the
//! agent's run stops, the command prints the worktree, `gaffer pending` lists the task while a
//! person has it, what they commit and leave uncommitted there lands after release; attaching a
//! merged task and releasing one not attached are refused.

use crate::common::{Project, stderr_of, stdout_of, wait_until};
use crate::crew::{config, crew, runs, scripted};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

const SLOW: &str = "[[task]]\nmatch = \"greeting\"\n[[task.attempt]]\nsummary = \"Thinking.\"\n\
                    actions = [{ status = \"thinking\" }, { sleep_ms = 120000 }]\n";

fn gaffer_ok(project: &Project, args: &[&str]) -> String {
    let out = project.gaffer().args(args).output().unwrap();
    assert!(out.status.success(), "gaffer {args:?}: {}", stderr_of(&out));
    stdout_of(&out)
}

#[test]
fn a_person_takes_a_task_over_and_their_work_lands_after_release() {
    let toml = config(
        "",
        &format!("{}[roles]\ncoder = [\"writer\"]\n", scripted("writer")),
    );
    let project = crew(&toml, &[("scripts/writer.toml", SLOW)]);
    project.repo.git(&["config", "user.name", "Pat Person"]);
    project
        .repo
        .git(&["config", "user.email", "pat@example.com"]);
    let daemon = project.start_daemon();
    let id = project.add_task("Write the greeting", &[]);
    wait_until("the agent to be at work", Duration::from_secs(60), || {
        let shown = project.show(id);
        runs(&shown).first().map(|_| ())
    });

    let printed = gaffer_ok(&project, &["attach", &id.to_string()]);
    assert!(
        printed.contains(&format!("task {id} is in your hands")),
        "{printed}"
    );
    assert!(
        printed.contains("no agent session to resume by hand"),
        "{printed}"
    );
    assert!(
        printed.contains(&format!("`gaffer release {id}`")),
        "{printed}"
    );
    let attached: Value =
        serde_json::from_str(&gaffer_ok(&project, &["attach", &id.to_string(), "--json"])).unwrap();
    let worktree = PathBuf::from(attached["worktree"].as_str().unwrap());
    assert!(
        printed.contains(&format!("worktree  {}", worktree.display())),
        "{printed}"
    );
    assert_eq!(attached["task"]["state"]["status"], "attached");
    let pending = gaffer_ok(&project, &["pending"]);
    assert!(
        pending.contains(&format!("gaffer release {id} (when done)")),
        "{pending}"
    );
    wait_until("the agent's run to stop", Duration::from_secs(60), || {
        let shown = project.show(id);
        (runs(&shown)[0]["status"] == "cancelled").then_some(())
    });

    std::fs::write(worktree.join("greeting.txt"), "hello, by hand\n").unwrap();
    project.repo.git_in(&worktree, &["add", "greeting.txt"]);
    project
        .repo
        .git_in(&worktree, &["commit", "-q", "-m", "Greet by hand"]);
    std::fs::write(worktree.join("notes.txt"), "left for gaffer to commit\n").unwrap();
    let released = gaffer_ok(&project, &["release", &id.to_string()]);
    assert!(
        released.contains(&format!("task {id}: handed back; verifying")),
        "{released}"
    );
    let shown = project.wait_for_status(id, "merged");
    drop(daemon);
    assert_eq!(runs(&shown).len(), 1, "no agent ran again: {shown:#}");
    for (path, text) in [
        ("greeting.txt", "hello, by hand"),
        ("notes.txt", "left for gaffer to commit"),
    ] {
        let landed = project
            .repo
            .git(&["show", &format!("gaffer/landed/main:{path}")]);
        assert_eq!(landed.trim(), text);
    }
    let left = project
        .repo
        .git(&["log", "-1", "--format=%an <%ae>", "gaffer/landed/main^2"]);
    assert_eq!(left.trim(), "Pat Person <pat@example.com>");

    // Merged: nothing to take over, nothing to hand back.
    let out = project
        .gaffer()
        .args(["attach", &id.to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("merged"), "{}", stderr_of(&out));
    let out = project
        .gaffer()
        .args(["release", &id.to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(
        err.contains("is not attached") && err.contains("gaffer attach"),
        "{err}"
    );
}
