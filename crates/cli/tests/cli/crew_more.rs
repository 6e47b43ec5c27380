//! The rest of the crew (DESIGN §2.7, §4), end to end through the real binary and a running
//! daemon, with scripted agents: budgets that stop work and say why, best-of-N with the
//! reviewer picking among the attempts that passed verify, and proposals (filed by agents and by
//! idle surveys) that wait for a person. Each scenario checks the states the task went through,
//! its runs and events, and that the landed target passes the project's tests.

use crate::common::{Project, stdout_of, wait_until};
use crate::crew::{
    act, assert_target_green, config, crew, events, landed, prompt, run_summary, runs, scripted,
    statuses,
};
use serde_json::Value;
use std::time::Duration;

/// A price that makes every scripted run cost dollars: a scripted agent reports a quarter of
/// its prompt's length as input tokens, and this model costs $1 per token.
const PRICEY: &str = "[prices.pricey]\ninput = 1000000.0\noutput = 0.0\n\n";

/// A scripted agent on the pricey model.
fn pricey(name: &str) -> String {
    format!(
        "[agents.{name}]\nbackend = \"scripted\"\nscript = \"scripts/{name}.toml\"\n\
         model = \"pricey\"\n\n"
    )
}

/// Every `kind` event of the project, from the log.
fn log_events(project: &Project, kind: &str) -> Vec<Value> {
    let out = act(project, &["feed", "--after", "0", "--json"]);
    stdout_of(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["kind"] == kind)
        .collect()
}

fn notices(shown: &Value, notice: &str) -> Vec<Value> {
    events(shown, "task.notice")
        .into_iter()
        .filter(|e| e["data"]["notice"] == notice)
        .collect()
}

fn cost(shown: &Value) -> f64 {
    runs(shown)
        .iter()
        .filter_map(|r| r["usage"]["cost_usd"].as_f64())
        .sum()
}

const PARSER_CODER: &str = r#"
[[task]]
match = "Fix the parser"
[[task.attempt]]
summary = "Rewrote the parser; the tests still fail."
actions = [{ write = "parser.txt", content = "v1\n" }, { write = "BROKEN", content = "1\n" }]
[[task.attempt]]
summary = "Finished the parser."
actions = [{ delete = "BROKEN" }, { write = "parser.txt", content = "v2\n" }]
[[task]]
match = "Fix the lexer"
[[task.attempt]]
summary = "Started the lexer."
actions = [{ write = "lexer.txt", content = "v1\n" }, { write = "BROKEN_LEXER", content = "1\n" }]
[[task.attempt]]
summary = "Went on with the lexer."
actions = [{ write = "lexer.txt", content = "v2\n" }]
[[task.attempt]]
summary = "Finished the lexer."
actions = [{ delete = "BROKEN_LEXER" }, { write = "lexer.txt", content = "v3\n" }]
"#;

/// The project's tests also fail while BROKEN_LEXER exists.
const VERIFY_LEXER: &str = "set -e\ntest ! -e BROKEN\ntest ! -e BROKEN_LEXER\n";

#[test]
fn a_task_budget_stops_new_runs_and_says_why_until_raised_or_approved() {
    let toml = config(
        "",
        &format!(
            "{}{PRICEY}[limits]\nverify_failures_per_tier = 3\n\n[roles]\ncoder = [\"writer\"]\n\n\
             [budget]\ntask_usd = 1.0\n",
            pricey("writer")
        ),
    );
    let project = crew(
        &toml,
        &[
            ("scripts/writer.toml", PARSER_CODER),
            ("verify.sh", VERIFY_LEXER),
        ],
    );
    let _daemon = project.start_daemon();
    let parser = project.add_task("Fix the parser", &[]);
    // Its own budget, above the default: still spent after the first run.
    let lexer = project.add_task("Fix the lexer", &["--budget", "2"]);

    // The first run spends more than the budget; the run after the failed verify does not start.
    let held = project.wait_for_status(parser, "awaiting_approval");
    let note = held["task"]["state"]["note"].as_str().unwrap_or_default();
    assert!(
        note.starts_with(&format!("budget: task #{parser} has spent $"))
            && note.contains("of its $1.0000 budget")
            && note.contains(&format!("gaffer task budget {parser} <USD>")),
        "{note}"
    );
    assert_eq!(runs(&held).len(), 1, "no run started past the budget");
    assert!(cost(&held) >= 1.0, "the first run cost {}", cost(&held));
    let stops = notices(&held, "budget_stop");
    assert_eq!(stops.len(), 1, "{:#}", held["events"]);
    assert_eq!(stops[0]["data"]["reason"], note);
    // The held run is kept exactly: the coder resumed with the failed verify's output.
    let kept = &held["task"]["state"]["held"];
    assert_eq!(kept["status"], "coding");
    assert_eq!(kept["run"]["reason"], "verify_failed");
    assert_eq!(kept["run"]["session"], "resume");
    // People see it among what waits for them, with what they can do.
    let out = act(&project, &["pending"]);
    assert!(
        stdout_of(&out).contains("stopped by a budget: budget: task #")
            && stdout_of(&out).contains(&format!("gaffer task budget {parser} USD")),
        "{}",
        stdout_of(&out)
    );
    let report = project.json(&["budget", "--json"]);
    let held_tasks: Vec<i64> = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["held"].is_string())
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert!(held_tasks.contains(&parser), "{report:#}");
    assert_eq!(report["task_usd"], 1.0);

    // Raising the task's budget lets exactly the held run go: it resumes the session.
    act(
        &project,
        &["task", "budget", &parser.to_string(), "1000000"],
    );
    let shown = project.wait_for_status(parser, "merged");
    assert_eq!(
        statuses(&shown),
        [
            "ready",
            "coding",
            "verifying",
            "coding",
            "awaiting_approval",
            "coding",
            "verifying",
            "queued",
            "merging",
            "merged"
        ]
    );
    let all = runs(&shown);
    assert_eq!(all.len(), 2);
    assert_eq!(all[1]["session_id"], all[0]["session_id"]);
    let resumed = prompt(&project, &all[1]);
    assert!(
        resumed.contains("`sh verify.sh` exit code 1"),
        "the held run kept its feedback: {resumed}"
    );
    assert_eq!(events(&shown, "budget.released").len(), 1);
    assert_eq!(shown["task"]["budget_usd"], 1000000.0);

    // Approving lets one more run go past the budget, and only one: it stops again after it.
    let held = project.wait_for_status(lexer, "awaiting_approval");
    assert!(
        held["task"]["state"]["note"]
            .as_str()
            .is_some_and(|n| n.contains("of its $2.0000 budget")),
        "{:#}",
        held["task"]["state"]
    );
    act(&project, &["approve", &lexer.to_string()]);
    wait_until(
        "the approved run and the next stop",
        Duration::from_secs(60),
        || {
            let shown = project.show(lexer);
            (runs(&shown).len() == 2 && shown["task"]["state"]["status"] == "awaiting_approval")
                .then_some(())
        },
    );
    act(&project, &["approve", &lexer.to_string()]);
    let shown = project.wait_for_status(lexer, "merged");
    assert_eq!(runs(&shown).len(), 3);
    assert_eq!(notices(&shown, "budget_stop").len(), 2);
    assert_eq!(landed(&project, "parser.txt"), "v2");
    assert_eq!(landed(&project, "lexer.txt"), "v3");
    assert_target_green(&project);
}

#[test]
fn the_day_budget_stops_new_tasks_from_starting_and_says_why() {
    let coder = r#"
[[task]]
match = "Fix the parser"
[[task.attempt]]
summary = "Rewrote the parser; the tests still fail."
actions = [{ write = "parser.txt", content = "v1\n" }, { write = "BROKEN", content = "1\n" }]
[[task.attempt]]
summary = "Finished the parser."
actions = [{ delete = "BROKEN" }, { write = "parser.txt", content = "v2\n" }]
[[task]]
match = "Write the notes"
[[task.attempt]]
summary = "Wrote the notes."
actions = [{ write = "notes.txt", content = "notes\n" }]
"#;
    let toml = config(
        "",
        &format!(
            "{}{PRICEY}[limits]\nverify_failures_per_tier = 2\n\n[roles]\ncoder = [\"writer\"]\n\n\
             [budget]\nday_usd = 1.0\n",
            pricey("writer")
        ),
    );
    let project = crew(&toml, &[("scripts/writer.toml", coder)]);
    let daemon = project.start_daemon();
    let parser = project.add_task("Fix the parser", &[]);
    let held = project.wait_for_status(parser, "awaiting_approval");
    let note = held["task"]["state"]["note"].as_str().unwrap_or_default();
    assert!(
        note.starts_with("budget: the project has spent $")
            && note.contains("of its $1.0000 budget for today (UTC)")
            && note.contains(&format!("gaffer approve {parser}")),
        "{note}"
    );

    // A new task does not start while the day's budget is spent, and the log says why.
    let notes = project.add_task("Write the notes", &[]);
    let stop = wait_until("the day's budget stop", Duration::from_secs(30), || {
        log_events(&project, "budget.day_stop").into_iter().next()
    });
    assert!(
        stop["data"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("budget for today")),
        "{stop:#}"
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(project.status_of(notes), "ready");
    assert!(runs(&project.show(notes)).is_empty());
    let report = project.json(&["budget", "--json"]);
    assert!(report["day_stop"].is_string(), "{report:#}");
    assert!(report["spent_today_usd"].as_f64().unwrap_or_default() >= 1.0);

    // Approving the held task lets its one run go; it merges.
    act(&project, &["approve", &parser.to_string()]);
    let shown = project.wait_for_status(parser, "merged");
    assert_eq!(runs(&shown).len(), 2);
    assert_eq!(project.status_of(notes), "ready");
    assert_eq!(
        log_events(&project, "budget.day_stop").len(),
        1,
        "said once: {:#?} {:#?}",
        log_events(&project, "budget.day_stop"),
        log_events(&project, "budget.day_resumed")
    );

    // With a higher day's budget the waiting task starts.
    drop(daemon);
    let _daemon = project.start_daemon_with(&["--set", "budget.day_usd=1000000"]);
    let shown = project.wait_for_status(notes, "merged");
    assert_eq!(
        run_summary(&shown),
        [("coder".into(), "writer".into(), "succeeded".into())]
    );
    assert_eq!(landed(&project, "notes.txt"), "notes");
    assert_target_green(&project);
}

#[test]
fn best_of_three_one_fails_verify_and_the_reviewer_picks_between_the_other_two() {
    let attempt = |summary: &str, actions: &str| {
        format!(
            "[[task]]\nmatch = \"Greeting\"\n[[task.attempt]]\nsummary = \"{summary}\"\n\
             actions = {actions}\n"
        )
    };
    let c1 = attempt(
        "A terse greeting; the tests fail.",
        r#"[{ write = "greeting.txt", content = "hi\n" }, { write = "BROKEN", content = "1\n" }]"#,
    );
    let c2 = attempt(
        "A plain greeting.",
        r#"[{ write = "greeting.txt", content = "hello\n" }]"#,
    );
    let c3 = attempt(
        "The full greeting.",
        r#"[{ write = "greeting.txt", content = "Hello, world\n" }]"#,
    );
    let critic = r#"
[[task]]
match = "Greeting"
[[task.attempt]]
summary = '{"verdict": "approve", "pick": 3, "summary": "attempt 3 greets the whole world"}'
"#;
    let toml = config(
        "",
        &format!(
            "{}{}{}{}{PRICEY}[roles]\ncoder = [\"c1\", \"c2\", \"c3\"]\nreviewer = [\"critic\"]\n",
            pricey("c1"),
            pricey("c2"),
            pricey("c3"),
            scripted("critic")
        ),
    );
    let project = crew(
        &toml,
        &[
            ("scripts/c1.toml", &c1),
            ("scripts/c2.toml", &c2),
            ("scripts/c3.toml", &c3),
            ("scripts/critic.toml", critic),
        ],
    );
    let _daemon = project.start_daemon();
    let id = project.add_task("Greeting", &["--best-of", "3", "--body", "Greet people."]);
    let shown = project.wait_for_status(id, "merged");
    assert_eq!(
        statuses(&shown),
        [
            "ready",
            "coding",
            "reviewing",
            "queued",
            "merging",
            "merged"
        ]
    );
    let mut summary = run_summary(&shown);
    summary.sort();
    assert_eq!(
        summary,
        [
            ("coder".into(), "c1".into(), "succeeded".into()),
            ("coder".into(), "c2".into(), "succeeded".into()),
            ("coder".into(), "c3".into(), "succeeded".into()),
            ("reviewer".into(), "critic".into(), "succeeded".into()),
        ]
    );
    // Each attempt worked in its own worktree and was verified there.
    let all = runs(&shown);
    let branch = shown["task"]["branch"].as_str().unwrap().to_string();
    let slug = branch.trim_start_matches("gaffer/");
    for k in 1..=3 {
        let agent = format!("c{k}");
        let run = all.iter().find(|r| r["agent"] == agent.as_str()).unwrap();
        assert!(
            run["worktree"]
                .as_str()
                .is_some_and(|w| w.ends_with(&format!("{slug}-c{k}"))),
            "{run:#}"
        );
    }
    let verified: Vec<(i64, bool)> = events(&shown, "verify.finished")
        .iter()
        // The attempts' verifies (the queue then verifies the kept one's candidate too).
        .filter(|e| e["data"]["purpose"] != "candidate")
        .map(|e| {
            (
                e["data"]["slot"].as_i64().unwrap_or(0),
                e["data"]["passed"].as_bool().unwrap(),
            )
        })
        .collect();
    let mut sorted = verified.clone();
    sorted.sort();
    assert_eq!(sorted, [(1, false), (2, true), (3, true)], "{verified:?}");
    // The reviewer saw the two that passed, with their diffs, and why the other failed.
    let reviewer = all.iter().find(|r| r["role"] == "reviewer").unwrap();
    let pick = prompt(&project, reviewer);
    assert!(
        pick.contains("## The attempts")
            && pick.contains("### Attempt 1 by `c1`: failed")
            && pick.contains("### Attempt 2 by `c2`: passed verify")
            && pick.contains("+hello")
            && pick.contains("### Attempt 3 by `c3`: passed verify")
            && pick.contains("+Hello, world"),
        "{pick}"
    );
    assert!(pick.contains("\"pick\""), "{pick}");
    // The picked attempt is the task's change; the others are gone, their cost recorded.
    let state = &shown["task"]["state"];
    assert_eq!(state["total_failures"], 1);
    assert!(state["attempts"].is_null(), "{state:#}");
    // Settling the attempts is bookkeeping that may finish just after the landing.
    let settled = wait_until(
        "the attempts to be settled",
        Duration::from_secs(30),
        || {
            let settled = events(&project.show(id), "best_of.settled");
            (!settled.is_empty()).then_some(settled)
        },
    );
    assert_eq!(settled.len(), 1);
    let data = &settled[0]["data"];
    assert_eq!(data["kept"], 3);
    let discarded: Vec<(i64, f64)> = data["discarded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["slot"].as_i64().unwrap(), d["cost_usd"].as_f64().unwrap()))
        .collect();
    assert_eq!(discarded.len(), 2, "{data:#}");
    assert!(
        discarded.iter().all(|(_, cost)| *cost > 0.0),
        "{discarded:?}"
    );
    assert_eq!(
        discarded.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        [1, 2]
    );
    let usage = project.json(&["usage", "--json"]);
    let by_agent: Vec<String> = usage["by"]["agent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_string())
        .collect();
    for agent in ["c1", "c2", "c3"] {
        assert!(by_agent.contains(&agent.to_string()), "{usage:#}");
    }
    let branches = project.repo.git(&["branch", "--list", "gaffer/*"]);
    assert!(
        !branches.contains("-c1") && !branches.contains("-c2") && !branches.contains("-c3"),
        "{branches}"
    );
    let worktrees = project.repo.git(&["worktree", "list"]);
    assert!(!worktrees.contains(&format!("{slug}-c")), "{worktrees}");
    assert_eq!(landed(&project, "greeting.txt"), "Hello, world");
    assert_target_green(&project);
}

fn proposals(project: &Project) -> Vec<Value> {
    project
        .json(&["task", "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "proposal")
        .cloned()
        .collect()
}

fn id_of(tasks: &[Value], title: &str) -> i64 {
    tasks
        .iter()
        .find(|t| t["title"] == title)
        .and_then(|t| t["id"].as_i64())
        .unwrap_or_else(|| panic!("no {title}: {tasks:#?}"))
}

#[test]
fn an_agent_files_proposals_and_an_accepted_one_becomes_a_task_that_runs() {
    let coder = r##"
[[task]]
match = "Write the notes"
[[task.attempt]]
summary = "Wrote the notes.\nPROPOSAL: Add a changelog — nobody can tell what changed between releases"
actions = [
  { write = "notes.txt", content = "notes\n" },
  { say = "While here I noticed two things.\nPROPOSAL: Rename notes.txt -- the name says nothing" },
]
[[task]]
match = "Add a changelog"
[[task.attempt]]
summary = "Started the changelog."
actions = [{ write = "CHANGELOG.md", content = "# Changelog\n" }]
"##;
    let toml = config(
        "",
        &format!("{}[roles]\ncoder = [\"writer\"]\n", scripted("writer")),
    );
    let project = crew(&toml, &[("scripts/writer.toml", coder)]);
    let _daemon = project.start_daemon();
    let notes = project.add_task("Write the notes", &[]);
    let shown = project.wait_for_status(notes, "merged");
    let filed = proposals(&project);
    assert_eq!(filed.len(), 2, "{filed:#?}");
    let (changelog, rename) = (
        id_of(&filed, "Add a changelog"),
        id_of(&filed, "Rename notes.txt"),
    );
    let proposal = project.show(changelog);
    let body = proposal["task"]["body"].as_str().unwrap_or_default();
    assert!(
        body.starts_with("nobody can tell what changed between releases")
            && body.contains("Proposed by agent `writer` (coder run")
            && body.contains(&format!("of task #{notes})")),
        "{body}"
    );
    let proposed = events(&shown, "task.proposed");
    assert_eq!(proposed.len(), 2, "{:#}", shown["events"]);
    assert_eq!(proposed[0]["data"]["proposed_by"]["agent"], "writer");
    assert_eq!(proposed[0]["data"]["proposed_by"]["task"], notes);

    // Proposals wait for a person: nothing starts them.
    std::thread::sleep(Duration::from_secs(1));
    for id in [changelog, rename] {
        assert_eq!(project.status_of(id), "backlog");
        assert!(runs(&project.show(id)).is_empty());
    }
    let pending: Vec<i64> = project
        .json(&["pending", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    let mut expected = vec![changelog, rename];
    expected.sort();
    assert_eq!(pending, expected);
    let out = act(&project, &["pending"]);
    assert!(
        stdout_of(&out).contains(&format!("gaffer accept {changelog}")),
        "{}",
        stdout_of(&out)
    );

    // Accepted, it is a task like any other and runs; declined, it is cancelled.
    act(&project, &["accept", &changelog.to_string()]);
    act(
        &project,
        &[
            "decline",
            &rename.to_string(),
            "--reason",
            "the name is fine",
        ],
    );
    let shown = project.wait_for_status(changelog, "merged");
    assert_eq!(shown["task"]["kind"], "task");
    assert_eq!(
        statuses(&shown),
        [
            "ready",
            "coding",
            "verifying",
            "queued",
            "merging",
            "merged"
        ]
    );
    assert_eq!(events(&shown, "proposal.accepted").len(), 1);
    let declined = project.show(rename);
    assert_eq!(declined["task"]["state"]["status"], "cancelled");
    assert_eq!(
        declined["task"]["state"]["note"],
        "declined: the name is fine"
    );
    // Only proposals are accepted or declined.
    let out = project
        .gaffer()
        .args(["accept", &notes.to_string()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(crate::common::stderr_of(&out).contains("is not a proposal"));
    assert_eq!(landed(&project, "CHANGELOG.md"), "# Changelog");
    assert_target_green(&project);
}

#[test]
fn idle_mode_surveys_the_code_when_nothing_runs_and_files_proposals() {
    let surveyor = r#"
[[task]]
match = "Idle survey"
[[task.attempt]]
summary = '''{"subtasks": [
  {"title": "Add a license", "body": "There is no LICENSE file; add the MIT license.", "risk": "low"},
  {"title": "Explain verify.sh", "body": "Nobody knows what verify.sh checks; say it in the README."}
]}'''
"#;
    let coder = r#"
[[task]]
match = "Add a license"
[[task.attempt]]
summary = "Added the MIT license."
actions = [{ write = "LICENSE", content = "MIT\n" }]
"#;
    let toml = config(
        "idle = true",
        &format!(
            "{}{}[roles]\ncoder = [\"writer\"]\nplanner = [\"surveyor\"]\n",
            scripted("writer"),
            scripted("surveyor")
        ),
    );
    let project = crew(
        &toml,
        &[
            ("scripts/writer.toml", coder),
            ("scripts/surveyor.toml", surveyor),
        ],
    );
    let _daemon = project.start_daemon();
    // Nothing to do: the planner surveys the code, read-only, and files what it proposes.
    let survey = wait_until("an idle survey", Duration::from_secs(60), || {
        project
            .json(&["task", "list", "--json"])
            .as_array()
            .unwrap()
            .iter()
            .find(|t| {
                t["labels"]
                    .as_array()
                    .is_some_and(|l| l.iter().any(|l| l == "idle-survey"))
            })
            .and_then(|t| t["id"].as_i64())
    });
    let shown = project.wait_for_status(survey, "merged");
    assert_eq!(
        shown["task"]["state"]["note"],
        "the survey filed 2 proposals"
    );
    assert_eq!(statuses(&shown), ["ready", "planning", "merged"]);
    assert_eq!(
        run_summary(&shown),
        [("planner".into(), "surveyor".into(), "succeeded".into())]
    );
    let asked = prompt(&project, &runs(&shown)[0]);
    assert!(
        asked.contains("Read only: change no file") && asked.contains("## The repository"),
        "{asked}"
    );
    assert_eq!(events(&shown, "idle.survey").len(), 1);
    let filed = proposals(&project);
    assert_eq!(filed.len(), 2, "{filed:#?}");
    for p in &filed {
        assert_eq!(p["parent"], survey);
        assert_eq!(p["state"]["status"], "backlog");
        assert!(
            p["body"]
                .as_str()
                .is_some_and(|b| b.contains(&format!("Proposed by the idle survey #{survey}."))),
            "{p:#}"
        );
    }
    let license = id_of(&filed, "Add a license");
    act(&project, &["accept", &license.to_string()]);
    project.wait_for_status(license, "merged");
    // One survey per engine.idle_every, and none while proposals wait for a person.
    std::thread::sleep(Duration::from_secs(1));
    let surveys = project
        .json(&["task", "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| {
            t["labels"]
                .as_array()
                .is_some_and(|l| l.iter().any(|l| l == "idle-survey"))
        })
        .count();
    assert_eq!(surveys, 1);
    assert_eq!(landed(&project, "LICENSE"), "MIT");
    assert_target_green(&project);
}
