//! The worktree pool through the engine: tasks one after another reuse released worktrees, and
//! none sees what an earlier one left (untracked files, ignored build outputs): each task's
//! verify fails if its worktree holds another task's leftovers.

use gaffer_core::Status;
use gaffer_test_support::{Agent, EngineHarness};

/// Each task commits its own file and leaves an untracked-but-ignored build output and a
/// scratch file its commit picks up.
const CODER: &str = r#"
[[task]]
match = "first"
[[task.attempt]]
actions = [{ write = "one.txt", content = "one\n" }, { write = "build/first.o", content = "x\n" }]
[[task]]
match = "second"
[[task.attempt]]
actions = [{ write = "two.txt", content = "two\n" }, { write = "build/second.o", content = "x\n" }]
[[task]]
match = "third"
[[task.attempt]]
actions = [{ write = "three.txt", content = "three\n" }, { write = "build/third.o", content = "x\n" }]
"#;

/// Fails when the worktree holds more than the task's own build output.
const VERIFY: &str = r#"#!/bin/sh
n=$(ls build 2>/dev/null | wc -l)
if [ "$n" -gt 1 ]; then echo "leftovers of another task: $(ls build)"; exit 1; fi
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_in_turn_reuse_pooled_worktrees_and_see_nothing_of_each_other() {
    let mut h = EngineHarness::builder()
        .agent("writer", Agent::scripted(CODER))
        .set("roles.coder", "writer")
        .set("engine.worktree_pool", "1")
        .set("limits.verify_failures_per_tier", "1")
        .file(".gitignore", "build/\n")
        .file("tests/run.sh", VERIFY)
        .verify("sh tests/run.sh")
        .build();
    for title in ["first", "second", "third"] {
        let id = h.add(title);
        h.settle().await;
        assert_eq!(h.task(id).status(), Status::Merged, "{}", h.describe());
    }
    for (file, text) in [
        ("one.txt", "one\n"),
        ("two.txt", "two\n"),
        ("three.txt", "three\n"),
    ] {
        assert_eq!(h.file_on_target(file).as_deref(), Some(text));
    }
    assert_eq!(h.file_on_target("build/first.o"), None);
    // The engine fills the pool when it starts; every task takes a slot, none writes a tree.
    let made = h.board().worktree_checkouts();
    assert_eq!(made.fresh, 1, "{made:?}");
    assert_eq!(made.reused, 3, "{made:?}");
}

/// Makes the ignored build output the verify needs.
const SETUP: &str = "mkdir -p build && echo made > build/setup.o\n";

/// Needs the setup's output; counts its runs in an ignored file and fails the second (the
/// first candidate's, after the branch's), so that the candidate is verified again.
const VERIFY_ONCE_FLAKY: &str = r#"#!/bin/sh
test -f build/setup.o || { echo "the setup's output is gone"; exit 1; }
n=$(cat build/runs 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > build/runs
if [ "$n" = 2 ]; then echo "flaky failure"; exit 1; fi
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worktree_a_candidate_verify_left_detached_keeps_the_setup_outputs() {
    // The candidate's verify leaves the worktree detached; the recheck's checkout must put it
    // back on the branch without deleting what setup built (its marker says it ran).
    let mut h = EngineHarness::builder()
        .agent("writer", Agent::scripted(CODER))
        .set("roles.coder", "writer")
        .set("engine.worktree_pool", "1")
        .set("verify.setup", "sh tests/setup.sh")
        .set("verify.skip_identical_candidates", "false")
        .file(".gitignore", "build/\n")
        .file("tests/setup.sh", SETUP)
        .file("tests/run.sh", VERIFY_ONCE_FLAKY)
        .verify("sh tests/run.sh")
        .build();
    let id = h.add("first");
    h.settle().await;
    assert_eq!(h.task(id).status(), Status::Merged, "{}", h.describe());
}
