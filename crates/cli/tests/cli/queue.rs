//! The merge queue end to end, with the real binary and scripted agents: twelve branches, two of
//! which break the project's integration tests (only when merged with the target, not on their
//! own) and one of which conflicts with another. The ten good ones land; the two bad ones are
//! isolated, go back to their coders with the verify output, are fixed and land; the conflicting
//! one goes to a resolver, which resolves it, and lands. Every commit the target passes through
//! passes the tests. The queue tests up to three branches as one candidate (`batch = 3`), so
//! batches form, and a batch holding a bad branch is bisected.

use crate::common::{Project, wait_until};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

const GAFFER_TOML: &str = r#"
[project]
name = "queue"
target = "main"

[verify]
command = "sh tests/run.sh"
timeout = "60s"

[engine]
concurrency = 4
worktree_pool = 0

[limits]
verify_failures_per_tier = 3
merge_attempts = 3

[queue]
max_candidates = 6
batch = 3

[host]
heavy_slots = 2

[agents.scripted-agent]
backend = "scripted"
script = "script.toml"

[roles]
coder = ["scripted-agent"]

[server]
port = 0
"#;

/// The project's tests. The unit part runs everywhere; the integration part (which a
/// `integration-breaker-*` file fails) runs in the merge queue and on the target, not at the
/// coders' verify gate, as projects do with a slow suite. In the queue it also takes a moment,
/// so that candidates visibly stack up.
const RUN_TESTS: &str = r#"#!/bin/sh
test ! -e BROKEN || { echo "unit: BROKEN exists"; exit 1; }
if grep -rIl --exclude-dir=.git '^<<<<<<< ' . ; then echo "unit: conflict markers"; exit 1; fi
if [ "$GAFFER_VERIFY_PURPOSE" = "branch" ]; then exit 0; fi
if [ "$GAFFER_VERIFY_PURPOSE" = "candidate" ]; then sleep 0.5; fi
for f in integration-breaker-*; do
  if [ -e "$f" ]; then echo "integration test failed: $f breaks the API"; exit 1; fi
done
exit 0
"#;

/// Attempts follow one another per task, coder and resolver runs alike.
const SCRIPT: &str = r##"
[[task]]
match = "readme title"
[[task.attempt]]
summary = "Retitled the README."
actions = [{ replace = "README.md", from = "# test repository", to = "# the queue project" }]
[[task.attempt]]
summary = "Resolved the README conflict."
actions = [{ write = "README.md", content = "# the queue project, renamed\n" }]

[[task]]
match = "readme rename"
[[task.attempt]]
delay_ms = 3000
summary = "Renamed the project in the README."
actions = [{ replace = "README.md", from = "# test repository", to = "# renamed repository" }]
[[task.attempt]]
summary = "Resolved the README conflict."
actions = [{ write = "README.md", content = "# the queue project, renamed\n" }]

[[task]]
match = "breaker one"
[[task.attempt]]
summary = "Changed the API (breaks the integration tests)."
actions = [{ write = "integration-breaker-1", content = "old API\n" }]
[[task.attempt]]
summary = "Changed the API without breaking its users."
actions = [{ delete = "integration-breaker-1" }, { write = "api-one.txt", content = "v2\n" }]

[[task]]
match = "breaker two"
[[task.attempt]]
summary = "Changed the API (breaks the integration tests)."
actions = [{ write = "integration-breaker-2", content = "old API\n" }]
[[task.attempt]]
summary = "Changed the API without breaking its users."
actions = [{ delete = "integration-breaker-2" }, { write = "api-two.txt", content = "v2\n" }]
"##;

fn project() -> Project {
    let project = Project::bare();
    let repo = &project.repo;
    repo.write("gaffer.toml", GAFFER_TOML);
    repo.write("tests/run.sh", RUN_TESTS);
    // One script entry per feature, each writing its own file.
    let mut script = SCRIPT.to_string();
    for n in 1..=8 {
        script.push_str(&format!(
            "\n[[task]]\nmatch = \"feature {n} \"\n[[task.attempt]]\nsummary = \"Wrote feature {n}.\"\n\
             actions = [{{ write = \"features/f{n}.txt\", content = \"feature {n}\\n\" }}]\n"
        ));
    }
    repo.write("script.toml", script);
    repo.commit_all("the queue project");
    project
}

/// Every event, in order.
fn events(project: &Project) -> Vec<Value> {
    let out = project
        .gaffer()
        .args(["feed", "--json", "--after", "0"])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn of_task<'a>(events: &'a [Value], task: i64, kind: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["task"] == task && e["kind"] == kind)
        .collect()
}

/// Runs the project's tests (everything: no purpose set) at `commit` in a scratch worktree.
fn tests_pass_at(project: &Project, dir: &Path, commit: &str) -> Result<(), String> {
    project
        .repo
        .git_in(dir, &["checkout", "-q", "--detach", commit]);
    let out = std::process::Command::new("sh")
        .arg("tests/run.sh")
        .current_dir(dir)
        .env_remove("GAFFER_VERIFY_PURPOSE")
        .output()
        .unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

#[test]
fn twelve_branches_land_green_the_bad_ones_are_isolated_and_the_conflict_is_resolved() {
    let project = project();
    let _daemon = project.start_daemon();

    let mut ids: BTreeMap<&str, i64> = BTreeMap::new();
    // The two README changes start first, so that they are coded from the same target and one
    // lands while the other is still being written: that one conflicts.
    ids.insert("a", project.add_task("readme title", &["--priority", "9"]));
    ids.insert("c", project.add_task("readme rename", &["--priority", "9"]));
    ids.insert("b1", project.add_task("breaker one", &["--priority", "5"]));
    ids.insert("b2", project.add_task("breaker two", &["--priority", "5"]));
    let features: Vec<i64> = (1..=8)
        .map(|n| project.add_task(&format!("feature {n} of the release"), &[]))
        .collect();

    // While it works, the queue shows a train of candidates stacked on one another.
    let mut stacked = false;
    let mut seen_train = 0;
    // A batch seen in `gaffer queue --json`, and in `gaffer queue` right after.
    let (mut batch_json, mut batch_text) = (false, false);
    let all: Vec<i64> = ids
        .values()
        .copied()
        .chain(features.iter().copied())
        .collect();
    wait_until("every task to merge", Duration::from_secs(240), || {
        let queue = project.json(&["queue", "--json"]);
        let train = queue["train"].as_array().cloned().unwrap_or_default();
        seen_train = seen_train.max(train.len());
        stacked |= train
            .iter()
            .any(|e| e["ahead"].as_array().is_some_and(|a| !a.is_empty()));
        let batched = train
            .iter()
            .any(|e| e["batch"].as_array().is_some_and(|b| b.len() > 1));
        if batched && !batch_text {
            batch_json = true;
            let out = project.gaffer().arg("queue").output().unwrap();
            batch_text = String::from_utf8_lossy(&out.stdout).contains("batch of");
        }
        let statuses: Vec<String> = all.iter().map(|id| project.status_of(*id)).collect();
        if let Some(bad) = statuses
            .iter()
            .find(|s| *s == "failed" || *s == "cancelled")
        {
            panic!("a task ended {bad}: {statuses:?}\n{}", project.daemon_log());
        }
        statuses.iter().all(|s| s == "merged").then_some(())
    });
    assert!(seen_train >= 2, "the train never held two tasks");
    assert!(stacked, "no candidate was ever tested on top of another");

    let events = events(&project);
    // Branches were tested together, and `gaffer queue` showed the batch.
    let formed: Vec<&Value> = events
        .iter()
        .filter(|e| e["kind"] == "queue.batch_formed")
        .collect();
    assert!(!formed.is_empty(), "no batch was ever formed");
    if batch_json {
        assert!(
            batch_text,
            "`gaffer queue` did not show a batch the JSON had"
        );
    }
    // A batch that failed was bisected: its tasks were tested again in parts, and only a bad
    // branch was found guilty.
    for failed in events.iter().filter(|e| e["kind"] == "queue.batch_failed") {
        let tasks = failed["data"]["tasks"].as_array().unwrap();
        assert!(tasks.len() > 1, "{failed}");
        assert!(
            events.iter().any(|e| e["kind"] == "queue.bisecting"
                && e["data"]["group"] == failed["data"]["commit"]),
            "batch {} failed and was not bisected",
            failed["data"]["commit"]
        );
    }
    for guilty in events.iter().filter(|e| e["kind"] == "queue.guilty") {
        assert!(
            guilty["task"] == ids["b1"] || guilty["task"] == ids["b2"],
            "an innocent branch was found guilty: {guilty}"
        );
    }
    let ejected_for = |task: i64, reason: &str| -> Vec<&Value> {
        of_task(&events, task, "queue.ejected")
            .into_iter()
            .filter(|e| e["data"]["reason"] == reason)
            .collect()
    };
    let runs_of = |task: i64| -> Vec<Value> {
        project.show(task)["runs"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };

    // The bad branches left the queue once, with the failing output, and went back to their
    // coders with it; their second attempt landed.
    for bad in [ids["b1"], ids["b2"]] {
        let ejected = ejected_for(bad, "verify_failed");
        assert_eq!(ejected.len(), 1, "task {bad} ejected {ejected:?}");
        let summary = ejected[0]["data"]["summary"].as_str().unwrap_or("");
        assert!(
            summary.contains("integration test failed"),
            "evidence: {summary}"
        );
        let runs = runs_of(bad);
        assert_eq!(runs.len(), 2, "task {bad}: {runs:#?}");
        let second = runs[1]["id"].as_i64().unwrap();
        let prompt = std::fs::read_to_string(
            project
                .state_dir()
                .join("runs")
                .join(second.to_string())
                .join("prompt.md"),
        )
        .unwrap();
        assert!(
            prompt.contains("integration test failed"),
            "the coder did not get the evidence:\n{prompt}"
        );
        // Rechecked before it was blamed.
        assert!(!of_task(&events, bad, "queue.recheck").is_empty());
    }

    // Nobody else was ever blamed: one coder run each for the innocent.
    for task in features.iter().chain([&ids["a"], &ids["c"]]) {
        assert!(
            ejected_for(*task, "verify_failed").is_empty(),
            "innocent task {task} was ejected"
        );
        let coders = runs_of(*task)
            .iter()
            .filter(|r| r["role"] == "coder")
            .count();
        assert_eq!(coders, 1, "task {task} was coded {coders} times");
    }

    // Exactly one of the README changes conflicted and was resolved by a resolver run.
    let resolvers: Vec<(i64, Value)> = [ids["a"], ids["c"]]
        .into_iter()
        .flat_map(|t| {
            runs_of(t)
                .into_iter()
                .filter(|r| r["role"] == "resolver")
                .map(move |r| (t, r))
        })
        .collect();
    assert_eq!(resolvers.len(), 1, "{resolvers:#?}");
    let resolved = resolvers[0].0;
    let conflict_seen = !of_task(&events, resolved, "queue.conflict").is_empty()
        || !ejected_for(resolved, "conflict").is_empty();
    assert!(conflict_seen, "no conflict recorded for task {resolved}");
    let resolver_prompt = std::fs::read_to_string(
        project
            .state_dir()
            .join("runs")
            .join(resolvers[0].1["id"].as_i64().unwrap().to_string())
            .join("prompt.md"),
    )
    .unwrap();
    assert!(
        resolver_prompt.contains("README.md") && resolver_prompt.contains("<<<<<<<"),
        "the resolver did not see the conflict:\n{resolver_prompt}"
    );

    // Every task landed exactly once, and the landing branch has all of it.
    for task in &all {
        assert_eq!(
            of_task(&events, *task, "queue.landed").len(),
            1,
            "task {task}"
        );
    }
    let landed = "gaffer/landed/main";
    assert_eq!(
        project.repo.git(&["show", &format!("{landed}:README.md")]),
        "# the queue project, renamed"
    );
    for n in 1..=8 {
        project
            .repo
            .git(&["cat-file", "-e", &format!("{landed}:features/f{n}.txt")]);
    }
    for file in ["api-one.txt", "api-two.txt"] {
        project
            .repo
            .git(&["cat-file", "-e", &format!("{landed}:{file}")]);
    }

    // The target passed through green commits only.
    let walk = project.repo.scratch("walk");
    project.repo.git(&[
        "worktree",
        "add",
        "-q",
        "--detach",
        walk.to_str().unwrap(),
        landed,
    ]);
    // From where it started (the project's commit, `main`) to where it is.
    let history = project.repo.git(&[
        "rev-list",
        "--first-parent",
        &format!("main~1..{landed}"),
        "--",
    ]);
    let commits: Vec<&str> = history.lines().collect();
    // One first-parent commit per landing: a batch brings its branches in as one merge commit
    // (the landing tip, then each branch's head), so the landings' other parents count every
    // task exactly once.
    let merged: usize = commits
        .iter()
        .map(|c| {
            let parents = project.repo.git(&["rev-list", "--parents", "-n1", c]);
            parents.split_whitespace().count().saturating_sub(2)
        })
        .sum();
    assert!(
        merged >= all.len(),
        "{merged} branches merged by {} landings, for {} tasks",
        commits.len(),
        all.len()
    );
    for commit in &commits {
        if let Err(output) = tests_pass_at(&project, &walk, commit) {
            panic!("the tests fail at {commit}, which the target passed through:\n{output}");
        }
    }

    // What `gaffer queue` reports at the end.
    let queue = project.json(&["queue", "--json"]);
    assert_eq!(queue["metrics"]["length"], 0, "{queue:#}");
    assert_eq!(queue["metrics"]["landed_total"], 12, "{queue:#}");
    let left = queue["left"].as_array().unwrap();
    for bad in [ids["b1"], ids["b2"]] {
        assert!(
            left.iter().any(|e| e["task"] == bad
                && e["reason"] == "verify_failed"
                && e["evidence"]
                    .as_str()
                    .is_some_and(|s| s.contains("integration test failed"))),
            "{queue:#}"
        );
    }
    let out = project.gaffer().arg("queue").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.contains("the queue is empty") && text.contains("verify_failed"),
        "{text}"
    );
}
