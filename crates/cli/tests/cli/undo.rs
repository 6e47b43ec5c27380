//! Undo and redirect with the real binary: `gaffer revert N` (through the daemon, and on the
//! board when none runs), `gaffer task edit N` (dependencies, scopes, priority; refusals with
//! exit codes and hints) and `gaffer queue move` (the landing order follows the line).

use crate::common::{Project, stderr_of, stdout_of};
use serde_json::{Value, json};

fn run(project: &Project, args: &[&str]) -> std::process::Output {
    project.gaffer().args(args).output().unwrap()
}

/// The subjects of the landing branch's first-parent line, oldest first.
fn landings(project: &Project) -> Vec<String> {
    let log = project.repo.git(&[
        "log",
        "--first-parent",
        "--reverse",
        "--format=%s",
        "gaffer/landed/main",
    ]);
    log.lines().map(str::to_string).collect()
}

#[test]
fn a_revert_lands_through_the_queue_once_and_is_refused_twice() {
    let project = Project::new();
    let daemon = project.start_daemon();
    let notes = project.add_task("Write the notes", &[]);
    project.wait_for_status(notes, "merged");
    let sid = notes.to_string();

    // Not merged, or no such task: refused with the right exit code.
    let waiting = project.add_task("Write the slow part", &[]);
    let out = run(&project, &["revert", &waiting.to_string()]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("not merged"),
        "{}",
        stderr_of(&out)
    );
    let out = run(&project, &["revert", "999"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr_of(&out));

    let revert = project.json(&["revert", &sid, "--json"]);
    let id = revert["id"].as_i64().unwrap();
    assert_eq!(revert["title"], "Revert \"Write the notes\"");
    assert_eq!(revert["labels"], json!([format!("reverts:{notes}")]));
    let again = run(&project, &["revert", &sid]);
    assert_eq!(again.status.code(), Some(5), "{}", stderr_of(&again));
    assert!(
        stderr_of(&again).contains(&format!("task {id} already reverts task {notes}")),
        "{}",
        stderr_of(&again)
    );
    let shown = project.wait_for_status(id, "merged");
    assert_eq!(shown["runs"], json!([]), "no agent ran for the revert");
    let files = project
        .repo
        .git(&["ls-tree", "--name-only", "gaffer/landed/main"]);
    assert!(
        !files.contains("notes.txt"),
        "notes.txt is still on the target: {files}"
    );
    let lines = landings(&project);
    assert!(
        lines.last().unwrap().contains(&format!("task #{id}")),
        "{lines:?}"
    );
    let history = project.show(notes)["events"].clone();
    assert!(
        history
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "task.revert" && e["data"]["by"] == "cli"),
        "{history:#}"
    );
    let third = run(&project, &["revert", &sid]);
    assert!(
        stderr_of(&third).contains(&format!("gaffer revert {id}")),
        "the hint says how to bring it back: {}",
        stderr_of(&third)
    );

    // Without a daemon the board makes the revert; the next daemon lands it.
    drop(daemon);
    let out = run(&project, &["revert", &id.to_string()]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let printed = stdout_of(&out);
    assert!(printed.contains(&format!("reverts task {id}")), "{printed}");
    let redo: i64 = printed
        .split_whitespace()
        .nth(1)
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no task id in {printed}"));
    let _daemon = project.start_daemon();
    project.wait_for_status(redo, "merged");
    assert_eq!(
        project.repo.git(&["show", "gaffer/landed/main:notes.txt"]),
        "landed notes",
        "reverting the revert brings the change back"
    );
}

#[test]
fn a_waiting_task_gets_new_dependencies_scopes_and_priority() {
    let project = Project::new();
    let first = project.add_task("Write the notes", &[]);
    let second = project.add_task("Retitle the readme", &["--dep", &first.to_string()]);
    let (a, b) = (first.to_string(), second.to_string());

    // Refusals, without a daemon: a cycle, an unknown task, nothing to change, a task at work.
    for (args, code, words) in [
        (vec!["task", "edit", &a, "--dep", &b], 2, "wait for itself"),
        (
            vec!["task", "edit", &b, "--dep", "999"],
            2,
            "does not exist",
        ),
        (vec!["task", "edit", &b], 2, "nothing to change"),
    ] {
        let out = run(&project, &args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            stderr_of(&out)
        );
        assert!(
            stderr_of(&out).contains(words),
            "{args:?}: {}",
            stderr_of(&out)
        );
        assert!(
            stderr_of(&out).contains("hint"),
            "{args:?}: {}",
            stderr_of(&out)
        );
    }

    let edited = project.json(&[
        "task",
        "edit",
        &b,
        "--no-dep",
        &a,
        "--scope",
        "README.md",
        "--read-scope",
        "docs/**",
        "--priority",
        "5",
        "--json",
    ]);
    assert_eq!(edited["blocked_by"], json!([]));
    assert_eq!(edited["write_scope"], json!(["README.md"]));
    assert_eq!(edited["read_scope"], json!(["docs/**"]));
    assert_eq!(edited["priority"], 5);
    let out = run(&project, &["task", "edit", &a, "--dep", &b]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains(&format!("after       {second}")),
        "{}",
        stdout_of(&out)
    );

    // Through the daemon: the first waits for the second, which lands first.
    let _daemon = project.start_daemon();
    project.wait_for_status(first, "merged");
    let second_shown = project.wait_for_status(second, "merged");
    let order = landings(&project);
    assert!(
        order.iter().position(|s| s.contains(&format!("#{second}")))
            < order.iter().position(|s| s.contains(&format!("#{first}"))),
        "{order:?}"
    );
    let edits: Vec<&Value> = second_shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "task.edited")
        .collect();
    assert_eq!(
        edits[0]["data"]["changed"],
        json!(["blocked_by", "priority", "read_scope", "write_scope"])
    );
    let out = run(&project, &["task", "edit", &a, "--priority", "1"]);
    assert_eq!(out.status.code(), Some(5), "too late: {}", stderr_of(&out));
}

#[test]
fn the_waiting_line_is_reordered_and_lands_in_that_order() {
    let project = Project::new();
    let daemon = project.start_daemon();
    let ids: Vec<i64> = ["Write the notes", "Retitle the readme", "Be leisurely"]
        .iter()
        .map(|title| project.add_task(title, &["--risk", "high"]))
        .collect();
    for id in &ids {
        project.wait_for_status(*id, "awaiting_approval");
    }
    // Approved with no daemon running: they wait to join the train, in the order approved.
    drop(daemon);
    for id in &ids {
        let out = run(&project, &["approve", &id.to_string()]);
        assert!(out.status.success(), "{}", stderr_of(&out));
    }
    let [a, b, c] = [ids[0], ids[1], ids[2]].map(|id| id.to_string());
    let out = run(&project, &["queue", "move", &c, "--to", "1"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains(&format!(
            "place 1 of 3 waiting to join the train: #{c} #{a} #{b}"
        )),
        "{}",
        stdout_of(&out)
    );
    let moved = project.json(&["queue", "move", &a, "--after", &b, "--json"]);
    assert_eq!(moved["state"]["place"]["rank"], 3);
    let queue = project.json(&["queue", "--json"]);
    let line: Vec<i64> = queue["waiting"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["task"].as_i64().unwrap())
        .collect();
    assert_eq!(line, [ids[2], ids[1], ids[0]]);
    let shown = stdout_of(&run(&project, &["queue"]));
    assert!(shown.contains("(placed by a person)"), "{shown}");

    // Refused: no place, beside itself, a task not in the queue.
    for (args, code) in [
        (vec!["queue", "move", &a], 2),
        (vec!["queue", "move", &a, "--before", &a], 2),
        (vec!["queue", "move", "999", "--to", "1"], 4),
    ] {
        let out = run(&project, &args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            stderr_of(&out)
        );
    }

    // One branch per candidate (no batch), so that each lands on its own, in the line's order.
    let _daemon =
        project.start_daemon_with(&["--set", "queue.max_candidates=1", "--set", "queue.batch=1"]);
    for id in &ids {
        project.wait_for_status(*id, "merged");
    }
    let order: Vec<String> = landings(&project)
        .into_iter()
        .filter(|s| s.starts_with("Merge task #"))
        .collect();
    let expected: Vec<String> = [&c, &b, &a]
        .iter()
        .map(|id| format!("Merge task #{id}:"))
        .collect();
    assert_eq!(order.len(), 3, "{order:?}");
    for (subject, prefix) in order.iter().zip(&expected) {
        assert!(subject.starts_with(prefix.as_str()), "{order:?}");
    }
}
