//! The crew (DESIGN §4, §5), end to end through the real binary and a running daemon: planner and
//! plan reviewer, coders and their tier ladder, reviewers with checklists and extra reviewers,
//! questions and approvals, the watchdog, and task intake. Agents are `scripted` (each with its
//! own script, answering per task title and attempt), except the stalled run, which is gaffer's
//! own `openai` loop against the scripted model server. Each scenario checks the states the task
//! went through, its runs and events, and that the landed target passes the project's tests.

use crate::common::{Project, stderr_of, stdout_of, wait_until};
use gaffer_mock_llm::{MockServer, Script};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// The project's tests: nothing named BROKEN, and gamma only with alpha (so a dependency that
/// landed out of order would break the target).
const VERIFY: &str = "set -e\ntest ! -e BROKEN\nif [ -e gamma.txt ]; then test -e alpha.txt; fi\n";

pub(crate) fn config(engine: &str, rest: &str) -> String {
    format!(
        r#"[project]
name = "crew"
target = "main"

[verify]
command = "sh verify.sh"
timeout = "60s"

[engine]
concurrency = 2
worktree_pool = 0
{engine}

[server]
port = 0

{rest}"#
    )
}

/// A scripted agent reading `scripts/<name>.toml`; its family is its name.
pub(crate) fn scripted(name: &str) -> String {
    format!("[agents.{name}]\nbackend = \"scripted\"\nscript = \"scripts/{name}.toml\"\n\n")
}

/// A repository with `gaffer.toml`, `verify.sh` and `files`, committed on `main`.
pub(crate) fn crew(gaffer_toml: &str, files: &[(&str, &str)]) -> Project {
    let project = Project::bare();
    project.repo.write("gaffer.toml", gaffer_toml);
    project.repo.write("verify.sh", VERIFY);
    for (path, text) in files {
        project.repo.write(path, text);
    }
    project.repo.commit_all("crew fixture");
    project
}

pub(crate) fn runs(shown: &Value) -> Vec<Value> {
    shown["runs"].as_array().cloned().unwrap_or_default()
}

/// `(role, agent, status)` of each run, in order.
pub(crate) fn run_summary(shown: &Value) -> Vec<(String, String, String)> {
    runs(shown)
        .iter()
        .map(|r| {
            (
                r["role"].as_str().unwrap_or("?").to_string(),
                r["agent"].as_str().unwrap_or("?").to_string(),
                r["status"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect()
}

/// The statuses the task went through (`task.status` events), repeats folded.
pub(crate) fn statuses(shown: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in events(shown, "task.status") {
        let to = e["data"]["to"].as_str().unwrap_or("?").to_string();
        if out.last() != Some(&to) {
            out.push(to);
        }
    }
    out
}

pub(crate) fn events(shown: &Value, kind: &str) -> Vec<Value> {
    shown["events"]
        .as_array()
        .map(|all| all.iter().filter(|e| e["kind"] == kind).cloned().collect())
        .unwrap_or_default()
}

/// The sequence number of the task's first `task.status` event to `to`.
fn seq_of(shown: &Value, to: &str) -> i64 {
    events(shown, "task.status")
        .iter()
        .find(|e| e["data"]["to"] == to)
        .and_then(|e| e["seq"].as_i64())
        .unwrap_or_else(|| panic!("never {to}: {:#}", shown["events"]))
}

pub(crate) fn run_file(project: &Project, run: &Value, file: &str) -> String {
    let id = run["id"].as_i64().unwrap();
    let path = project
        .state_dir()
        .join("runs")
        .join(id.to_string())
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub(crate) fn prompt(project: &Project, run: &Value) -> String {
    run_file(project, run, "prompt.md")
}

pub(crate) fn landed(project: &Project, path: &str) -> String {
    project
        .repo
        .git(&["show", &format!("gaffer/landed/main:{path}")])
}

/// The landed target, checked out on its own, passes the project's tests.
pub(crate) fn assert_target_green(project: &Project) {
    let dir = project.repo.scratch("green");
    let dir_text = dir.display().to_string();
    project.repo.git(&[
        "worktree",
        "add",
        "--detach",
        &dir_text,
        "gaffer/landed/main",
    ]);
    let out = std::process::Command::new("sh")
        .arg("verify.sh")
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the landed target fails its tests: {}{}",
        stdout_of(&out),
        stderr_of(&out)
    );
    project
        .repo
        .git(&["worktree", "remove", "--force", &dir_text]);
}

pub(crate) fn act(project: &Project, args: &[&str]) -> std::process::Output {
    let out = project.gaffer().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "gaffer {args:?} failed: {}",
        stderr_of(&out)
    );
    out
}

const PLAN_ONE: &str = r#"{"subtasks": [{"title": "Write every letter", "body": "All at once."}]}"#;
const PLAN_THREE: &str = r#"{"subtasks": [
  {"title": "Write alpha", "body": "Create alpha.txt.", "write_scope": ["alpha.txt"]},
  {"title": "Write beta", "body": "Create beta.txt.", "write_scope": ["beta.txt"]},
  {"title": "Write gamma", "body": "Create gamma.txt; it needs alpha.", "depends_on": [0], "write_scope": ["gamma.txt"]}
]}"#;

#[test]
fn an_epic_is_planned_reviewed_twice_and_its_children_merge_in_dependency_order() {
    let planner = format!(
        "[[task]]\nmatch = \"Greek letters\"\n[[task.attempt]]\nsummary = '''{PLAN_ONE}'''\n\
         [[task.attempt]]\nsummary = '''{PLAN_THREE}'''\n"
    );
    let critic = r#"
[[task]]
match = "Greek letters"
[[task.attempt]]
summary = '{"verdict": "request_changes", "findings": [{"text": "one subtask is too big: split the work into three"}]}'
[[task.attempt]]
summary = '{"verdict": "approve", "summary": "three independent steps"}'
"#;
    let coder = r#"
[[task]]
match = "Write alpha"
[[task.attempt]]
delay_ms = 1500
summary = "Wrote alpha.txt."
actions = [{ write = "alpha.txt", content = "alpha\n" }]
[[task]]
match = "Write beta"
[[task.attempt]]
summary = "Wrote beta.txt."
actions = [{ write = "beta.txt", content = "beta\n" }]
[[task]]
match = "Write gamma"
[[task.attempt]]
summary = "Wrote gamma.txt."
actions = [{ write = "gamma.txt", content = "gamma\n" }]
"#;
    let toml = config(
        "",
        &format!(
            "{}{}{}[roles]\ncoder = [\"coder\"]\nplanner = [\"planner\"]\nplan_reviewer = [\"critic\"]\n",
            scripted("coder"),
            scripted("planner"),
            scripted("critic")
        ),
    );
    let project = crew(
        &toml,
        &[
            ("scripts/planner.toml", &planner),
            ("scripts/critic.toml", critic),
            ("scripts/coder.toml", coder),
            ("src/letters.rs", "pub fn alpha() {}\npub struct Letters;\n"),
        ],
    );
    let _daemon = project.start_daemon();
    let epic = project.json(&["plan", "Greek letters", "--json"]);
    assert_eq!(epic["kind"], "epic", "{epic:#}");
    let epic_id = epic["id"].as_i64().unwrap();

    let shown = project.wait_for_status(epic_id, "merged");
    assert_eq!(
        statuses(&shown),
        [
            "ready",
            "planning",
            "plan_review",
            "planning",
            "plan_review",
            "delegated",
            "merged"
        ]
    );
    assert_eq!(
        run_summary(&shown),
        [
            ("planner".into(), "planner".into(), "succeeded".into()),
            ("plan_reviewer".into(), "critic".into(), "succeeded".into()),
            ("planner".into(), "planner".into(), "succeeded".into()),
            ("plan_reviewer".into(), "critic".into(), "succeeded".into()),
        ]
    );
    let epic_runs = runs(&shown);
    // The planner plans against the code: the repository map is in its prompt.
    let first_plan = prompt(&project, &epic_runs[0]);
    assert!(first_plan.contains("## The repository"), "{first_plan}");
    assert!(
        first_plan.contains("src/letters.rs (") && first_plan.contains("fn alpha, struct Letters"),
        "{first_plan}"
    );
    assert!(run_file(&project, &epic_runs[0], "system.md").contains("You are a planner"));
    // The plan reviewer sees the plan; the planner sees why it came back.
    let review = prompt(&project, &epic_runs[1]);
    assert!(review.contains("1. Write every letter"), "{review}");
    let second_plan = prompt(&project, &epic_runs[2]);
    assert!(
        second_plan.contains("split the work into three")
            && second_plan.contains("The plan reviewer sent the plan back"),
        "{second_plan}"
    );
    let review = prompt(&project, &epic_runs[3]);
    assert!(
        review.contains("3. Write gamma (after 1; writes gamma.txt; risk low)"),
        "{review}"
    );
    assert_eq!(
        shown["task"]["plan"]["subtasks"].as_array().unwrap().len(),
        3
    );

    let tasks = project.json(&["task", "list", "--json"]);
    let children: Vec<&Value> = tasks
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["parent"] == epic_id)
        .collect();
    let id_of = |title: &str| {
        children
            .iter()
            .find(|t| t["title"] == title)
            .and_then(|t| t["id"].as_i64())
            .unwrap_or_else(|| panic!("no child {title}: {children:#?}"))
    };
    let (alpha, beta, gamma) = (
        id_of("Write alpha"),
        id_of("Write beta"),
        id_of("Write gamma"),
    );
    assert_eq!(children.len(), 3);
    let gamma_shown = project.show(gamma);
    assert_eq!(
        gamma_shown["task"]["blocked_by"],
        serde_json::json!([alpha])
    );
    let alpha_shown = project.show(alpha);
    let beta_shown = project.show(beta);
    for child in [&alpha_shown, &beta_shown, &gamma_shown] {
        assert_eq!(child["task"]["state"]["status"], "merged", "{child:#}");
        assert_eq!(
            statuses(child),
            [
                "ready",
                "coding",
                "verifying",
                "queued",
                "merging",
                "merged"
            ]
        );
    }
    // gamma waited in the backlog until alpha had merged, then merged after it.
    assert!(seq_of(&gamma_shown, "ready") > seq_of(&alpha_shown, "merged"));
    assert!(seq_of(&gamma_shown, "merged") > seq_of(&alpha_shown, "merged"));
    // The coder of a child sees the epic's plan and its place in it.
    let gamma_prompt = prompt(&project, &runs(&gamma_shown)[0]);
    assert!(
        gamma_prompt.contains("This task is subtask 3 of 3 of epic")
            && gamma_prompt
                .contains("3. Write gamma (after 1; writes gamma.txt; risk low) ← this task"),
        "{gamma_prompt}"
    );
    for (file, text) in [
        ("alpha.txt", "alpha"),
        ("beta.txt", "beta"),
        ("gamma.txt", "gamma"),
    ] {
        assert_eq!(landed(&project, file), text);
    }
    assert_target_green(&project);
}

#[test]
fn plan_needs_a_planner_and_says_how_to_add_one() {
    let project = crew(
        &config(
            "",
            &format!("{}[roles]\ncoder = [\"coder\"]\n", scripted("coder")),
        ),
        &[("scripts/coder.toml", "")],
    );
    let out = project
        .gaffer()
        .args(["plan", "Rewrite it"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(
        err.contains("needs a planner") && err.contains("hint: add an agent to roles.planner"),
        "{err}"
    );
    assert_eq!(
        project.json(&["task", "list", "--json"]),
        serde_json::json!([])
    );
}

#[test]
fn a_reviewer_requests_changes_once_and_the_coder_fixes_them_in_the_same_session() {
    let coder = r#"
[[task]]
match = "Greeting"
[[task.attempt]]
summary = "Wrote greeting.txt. Left: nothing. Watch: the spelling."
actions = [{ write = "greeting.txt", content = "helo\n" }]
[[task.attempt]]
summary = "Fixed the typo."
actions = [{ replace = "greeting.txt", from = "helo", to = "hello" }]
"#;
    let critic = r#"
[[task]]
match = "Greeting"
[[task.attempt]]
summary = '{"verdict": "request_changes", "findings": [{"file": "greeting.txt", "line": 1, "severity": "medium", "text": "typo: helo"}]}'
[[task.attempt]]
summary = '{"verdict": "approve"}'
"#;
    let toml = config(
        "",
        &format!(
            "{}{}[roles]\ncoder = [\"writer\"]\nreviewer = [\"critic\"]\n",
            scripted("writer"),
            scripted("critic")
        ),
    );
    let project = crew(
        &toml,
        &[
            ("scripts/writer.toml", coder),
            ("scripts/critic.toml", critic),
        ],
    );
    let _daemon = project.start_daemon();
    let id = project.add_task("Greeting", &["--body", "Write a greeting."]);
    let shown = project.wait_for_status(id, "merged");
    assert_eq!(
        statuses(&shown),
        [
            "ready",
            "coding",
            "verifying",
            "reviewing",
            "coding",
            "verifying",
            "reviewing",
            "queued",
            "merging",
            "merged"
        ]
    );
    assert_eq!(
        run_summary(&shown),
        [
            ("coder".into(), "writer".into(), "succeeded".into()),
            ("reviewer".into(), "critic".into(), "succeeded".into()),
            ("coder".into(), "writer".into(), "succeeded".into()),
            ("reviewer".into(), "critic".into(), "succeeded".into()),
        ]
    );
    let all = runs(&shown);
    // Same session: the coder resumed with the findings.
    assert!(all[0]["session_id"].is_string());
    assert_eq!(all[2]["session_id"], all[0]["session_id"]);
    let fix = prompt(&project, &all[2]);
    assert!(
        fix.contains("The reviewer requested changes")
            && fix.contains("greeting.txt:1 [medium] typo: helo"),
        "{fix}"
    );
    // The reviewer saw the task, the diff and the verify result.
    let review = prompt(&project, &all[1]);
    assert!(
        review.contains("# Task #") && review.contains("Write a greeting."),
        "{review}"
    );
    assert!(
        review.contains("```diff") && review.contains("+helo"),
        "{review}"
    );
    assert!(
        review.contains("`sh verify.sh` passed (exit code 0)"),
        "{review}"
    );
    assert_eq!(shown["task"]["state"]["review_rounds"], 1);
    assert_eq!(landed(&project, "greeting.txt"), "hello");
    // The handoff is the last coding run's final text.
    assert_eq!(shown["handoff"], "Fixed the typo.");
    assert_target_green(&project);
}

#[test]
fn checklists_extra_reviewers_and_prompt_overrides_reach_the_reviewers() {
    let coder = r#"
[[task]]
match = "Guide"
[[task.attempt]]
summary = "Wrote the guide."
actions = [{ write = "docs/guide.md", content = "token: abc123\n" }]
[[task.attempt]]
summary = "Took the token out."
actions = [{ write = "docs/guide.md", content = "token: read it from $TOKEN\n" }]
"#;
    let critic =
        "[[task]]\nmatch = \"Guide\"\n[[task.attempt]]\nsummary = '{\"verdict\": \"approve\"}'\n";
    // Attempts count every reviewer run of the task: the guard reviews second and fourth.
    let guard = r#"
[[task]]
match = "Guide"
[[task.attempt]]
summary = '{"verdict": "approve"}'
[[task.attempt]]
summary = '{"verdict": "request_changes", "findings": [{"file": "docs/guide.md", "line": 1, "severity": "high", "text": "a secret in the docs"}]}'
[[task.attempt]]
summary = '{"verdict": "approve"}'
"#;
    let toml = config(
        "",
        &format!(
            "{}{}{}[roles]\ncoder = [\"writer\"]\nreviewer = [\"critic\"]\n\n\
             [review]\nchecklist = [\"no typos\"]\n\n\
             [[review.paths]]\nglob = \"docs/**\"\nchecklist = [\"every link works\"]\n\n\
             [[review.paths]]\nglob = \"migrations/**\"\nchecklist = [\"reversible\"]\n\n\
             [[review.extra]]\nagent = \"guard\"\nfocus = \"security: secrets and injection\"\n",
            scripted("writer"),
            scripted("critic"),
            scripted("guard")
        ),
    );
    let project = crew(
        &toml,
        &[
            ("scripts/writer.toml", coder),
            ("scripts/critic.toml", critic),
            ("scripts/guard.toml", guard),
            (
                ".gaffer/prompts/reviewer.md",
                "House rules: read every line twice.\n",
            ),
        ],
    );
    let _daemon = project.start_daemon();
    let id = project.add_task("Guide", &[]);
    let shown = project.wait_for_status(id, "merged");
    assert_eq!(
        run_summary(&shown),
        [
            ("coder".into(), "writer".into(), "succeeded".into()),
            ("reviewer".into(), "critic".into(), "succeeded".into()),
            ("reviewer".into(), "guard".into(), "succeeded".into()),
            ("coder".into(), "writer".into(), "succeeded".into()),
            ("reviewer".into(), "critic".into(), "succeeded".into()),
            ("reviewer".into(), "guard".into(), "succeeded".into()),
        ]
    );
    let all = runs(&shown);
    let main = prompt(&project, &all[1]);
    assert!(main.contains("## Checklist"), "{main}");
    assert!(main.contains("- no typos\n- every link works\n"), "{main}");
    assert!(
        !main.contains("reversible") && !main.contains("## Your focus"),
        "{main}"
    );
    let system = run_file(&project, &all[1], "system.md");
    assert!(
        system.starts_with("House rules: read every line twice.") && system.contains("\"verdict\""),
        "{system}"
    );
    let guard_prompt = prompt(&project, &all[2]);
    assert!(
        guard_prompt.contains("## Your focus")
            && guard_prompt.contains("security: secrets and injection"),
        "{guard_prompt}"
    );
    assert!(
        guard_prompt.contains("- every link works"),
        "{guard_prompt}"
    );
    // The extra reviewer's request is the review's: the coder gets its findings.
    let fix = prompt(&project, &all[3]);
    assert!(
        fix.contains("[security: secrets and injection reviewer `guard`]")
            && fix.contains("docs/guide.md:1 [high] a secret in the docs"),
        "{fix}"
    );
    assert_eq!(shown["task"]["state"]["review_rounds"], 1);
    assert_eq!(
        landed(&project, "docs/guide.md"),
        "token: read it from $TOKEN"
    );
    assert_target_green(&project);
}

#[test]
fn verify_fails_twice_then_the_task_escalates_one_tier_and_passes() {
    let cheap = r#"
[[task]]
match = "Fix the parser"
[[task.attempt]]
summary = "Rewrote the parser; the tests may still fail."
actions = [{ write = "parser.txt", content = "v1\n" }, { write = "BROKEN", content = "1\n" }]
[[task.attempt]]
summary = "Tried again: the parser is half done, the tests still fail."
actions = [{ write = "BROKEN", content = "2\n" }]
"#;
    let strong = r#"
[[task]]
match = "Fix the parser"
[[task.attempt]]
summary = "Finished the parser and removed BROKEN."
actions = [{ delete = "BROKEN" }, { write = "parser.txt", content = "v2\n" }]
"#;
    let toml = config(
        "",
        &format!(
            "{}{}[limits]\nverify_failures_per_tier = 2\n\n[roles]\ncoder = [\"cheap\", \"strong\"]\n",
            scripted("cheap"),
            scripted("strong")
        ),
    );
    let project = crew(
        &toml,
        &[
            ("scripts/cheap.toml", cheap),
            ("scripts/strong.toml", strong),
        ],
    );
    let _daemon = project.start_daemon();
    let id = project.add_task("Fix the parser", &[]);
    let shown = project.wait_for_status(id, "merged");
    assert_eq!(
        statuses(&shown),
        [
            "ready",
            "coding",
            "verifying",
            "coding",
            "verifying",
            "coding",
            "verifying",
            "queued",
            "merging",
            "merged"
        ]
    );
    let all = runs(&shown);
    let tiers: Vec<(String, i64)> = all
        .iter()
        .map(|r| {
            (
                r["agent"].as_str().unwrap().to_string(),
                r["tier"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tiers,
        [
            ("cheap".into(), 0),
            ("cheap".into(), 0),
            ("strong".into(), 1)
        ]
    );
    assert_eq!(
        all[1]["session_id"], all[0]["session_id"],
        "a failed verify resumes the session"
    );
    assert_ne!(
        all[2]["session_id"], all[0]["session_id"],
        "a new tier starts afresh"
    );
    // The gate's verifies (the queue then verifies the candidate too).
    let verified: Vec<bool> = events(&shown, "verify.finished")
        .iter()
        .filter(|e| e["data"]["purpose"] == "branch")
        .map(|e| e["data"]["passed"].as_bool().unwrap())
        .collect();
    assert_eq!(verified, [false, false, true]);
    let escalated: Vec<Value> = events(&shown, "task.notice")
        .into_iter()
        .filter(|e| e["data"]["notice"] == "escalated")
        .collect();
    assert_eq!(escalated.len(), 1, "{:#}", shown["events"]);
    assert_eq!(escalated[0]["data"]["tier"], 1);
    let state = &shown["task"]["state"];
    assert_eq!(
        (state["tier"].as_i64(), state["total_failures"].as_i64()),
        (Some(1), Some(2))
    );
    // The new tier starts from the handoff of the last run, with the failing output.
    let fresh = prompt(&project, &all[2]);
    assert!(
        fresh.contains("Earlier attempts by another model failed")
            && fresh.contains(
                "## Handoff from the previous run\n\nTried again: the parser is half done"
            )
            && fresh.contains("`sh verify.sh` exit code 1"),
        "{fresh}"
    );
    let retry = prompt(&project, &all[1]);
    assert!(
        retry.contains("`sh verify.sh` exit code 1") && !retry.contains("Handoff"),
        "{retry}"
    );
    // `task show` shows the handoff.
    let out = act(&project, &["task", "show", &id.to_string()]);
    assert!(
        stdout_of(&out).contains("handoff (what the last coding run did")
            && stdout_of(&out).contains("Finished the parser and removed BROKEN."),
        "{}",
        stdout_of(&out)
    );
    assert_eq!(landed(&project, "parser.txt"), "v2");
    assert_target_green(&project);
}

#[test]
fn a_question_holds_only_its_own_task_and_the_answer_resumes_it() {
    let coder = r#"
[[task]]
match = "Greeting"
[[task.attempt]]
summary = "Asked which greeting."
actions = [{ write = "greeting.txt", content = "TODO\n" }, { say = "Two options.\nQUESTION: Hello or Howdy?" }]
[[task.attempt]]
summary = "Wrote the greeting."
actions = [{ write = "greeting.txt", content = "Howdy\n" }]
[[task]]
match = "Notes"
[[task.attempt]]
delay_ms = 500
summary = "Wrote the notes."
actions = [{ write = "notes.txt", content = "notes\n" }]
"#;
    let toml = config(
        "",
        &format!("{}[roles]\ncoder = [\"writer\"]\n", scripted("writer")),
    );
    let project = crew(&toml, &[("scripts/writer.toml", coder)]);
    let _daemon = project.start_daemon();
    let asking = project.add_task("Greeting", &[]);
    let other = project.add_task("Notes", &[]);
    let waiting = project.wait_for_status(asking, "needs_input");
    assert_eq!(waiting["task"]["state"]["note"], "Hello or Howdy?");
    // The other task goes all the way while the question waits.
    project.wait_for_status(other, "merged");
    assert_eq!(project.status_of(asking), "needs_input");
    let pending = project.json(&["pending", "--json"]);
    let pending: Vec<i64> = pending
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(pending, [asking]);

    act(&project, &["answer", &asking.to_string(), "Howdy"]);
    let shown = project.wait_for_status(asking, "merged");
    assert_eq!(
        statuses(&shown),
        [
            "ready",
            "coding",
            "needs_input",
            "coding",
            "verifying",
            "queued",
            "merging",
            "merged"
        ]
    );
    let all = runs(&shown);
    assert_eq!(all.len(), 2);
    assert_eq!(
        all[1]["session_id"], all[0]["session_id"],
        "the answer resumes the session"
    );
    let resumed = prompt(&project, &all[1]);
    assert!(
        resumed.contains("A person answered your question.") && resumed.contains("Howdy"),
        "{resumed}"
    );
    let notices: Vec<Value> = events(&shown, "task.notice")
        .into_iter()
        .filter(|e| e["data"]["notice"] == "needs_input")
        .collect();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0]["data"]["question"], "Hello or Howdy?");
    assert_eq!(landed(&project, "greeting.txt"), "Howdy");
    assert_eq!(landed(&project, "notes.txt"), "notes");
    assert_target_green(&project);
}

#[test]
fn a_change_to_a_high_risk_path_waits_for_approval_and_reject_sends_it_back() {
    let coder = r#"
[[task]]
match = "users migration"
[[task.attempt]]
summary = "Added the users table."
actions = [{ write = "migrations/001_users.sql", content = "create table users (id int);\n" }]
[[task]]
match = "orders migration"
[[task.attempt]]
summary = "Added the orders table."
actions = [{ write = "migrations/002_orders.sql", content = "create table orders (id int, customer_id int);\n" }]
[[task.attempt]]
summary = "Added the index."
actions = [{ append = "migrations/002_orders.sql", content = "create index orders_customer on orders (customer_id);\n" }]
"#;
    let toml = config(
        "",
        &format!(
            "{}[roles]\ncoder = [\"writer\"]\n\n[risk]\napproval_at = \"high\"\n\n\
             [[risk.paths]]\nglob = \"migrations/**\"\nrisk = \"high\"\n",
            scripted("writer")
        ),
    );
    let project = crew(&toml, &[("scripts/writer.toml", coder)]);
    let _daemon = project.start_daemon();
    let users = project.add_task("Add the users migration", &[]);
    let orders = project.add_task("Add the orders migration", &[]);
    let waiting = project.wait_for_status(users, "awaiting_approval");
    assert_eq!(waiting["task"]["state"]["risk"], "high");
    assert_eq!(
        waiting["task"]["state"]["note"],
        "risk high needs a person's approval"
    );
    project.wait_for_status(orders, "awaiting_approval");
    assert!(
        project
            .repo
            .git(&["branch", "--list", "gaffer/landed/main"])
            .is_empty(),
        "something landed before approval"
    );

    // Approve merges it.
    act(&project, &["approve", &users.to_string()]);
    let shown = project.wait_for_status(users, "merged");
    assert_eq!(
        statuses(&shown),
        [
            "ready",
            "coding",
            "verifying",
            "awaiting_approval",
            "queued",
            "merging",
            "merged"
        ]
    );
    let notices: Vec<Value> = events(&shown, "task.notice")
        .into_iter()
        .filter(|e| e["data"]["notice"] == "needs_approval" || e["data"]["action"] == "approve")
        .collect();
    assert_eq!(notices.len(), 2, "{notices:#?}");

    // Reject sends it back to its coder with the reason; it waits again, then merges.
    act(
        &project,
        &[
            "reject",
            &orders.to_string(),
            "--reason",
            "index customer_id",
        ],
    );
    wait_until(
        "the rejected task to be coded again",
        Duration::from_secs(60),
        || (runs(&project.show(orders)).len() == 2).then_some(()),
    );
    let shown = project.wait_for_status(orders, "awaiting_approval");
    let all = runs(&shown);
    assert_eq!(all.len(), 2);
    assert_eq!(all[1]["session_id"], all[0]["session_id"]);
    let again = prompt(&project, &all[1]);
    assert!(
        again.contains("A person rejected the change at the approval gate")
            && again.contains("index customer_id"),
        "{again}"
    );
    act(&project, &["approve", &orders.to_string()]);
    let shown = project.wait_for_status(orders, "merged");
    assert_eq!(
        statuses(&shown),
        [
            "ready",
            "coding",
            "verifying",
            "awaiting_approval",
            "coding",
            "verifying",
            "awaiting_approval",
            "queued",
            "merging",
            "merged"
        ]
    );
    assert!(landed(&project, "migrations/002_orders.sql").contains("create index"));
    assert!(landed(&project, "migrations/001_users.sql").contains("users"));
    assert_target_green(&project);
}

const STALL_SCRIPT: &str = r#"
[[conversations]]
name = "after-the-stall"
marker = "stalled: no event"
  [[conversations.turns]]
  text = "STATUS: writing stall.txt"
    [[conversations.turns.tool_calls]]
    name = "write_file"
    arguments = { path = "stall.txt", content = "written after the stall\n" }
  [[conversations.turns]]
  text = "Wrote stall.txt after the first run stalled."

[[conversations]]
name = "stalls"
marker = "MOCK:stall"
  [[conversations.turns]]
  stall = "no_response"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_run_is_stopped_by_the_watchdog_and_retried() {
    let server = MockServer::start(Script::from_toml_str(STALL_SCRIPT).unwrap())
        .await
        .unwrap();
    let toml = config(
        "stall_after = \"2s\"",
        &format!(
            "[agents.local]\nbackend = \"openai\"\nmodel = \"mock-model\"\nbase_url = \"{}\"\n\n\
             [limits]\nverify_failures_per_tier = 2\n\n[roles]\ncoder = [\"local\"]\n",
            server.openai_base_url()
        ),
    );
    let project = crew(&toml, &[]);
    let daemon = project.start_daemon();
    let id = project.add_task("Write stall.txt", &["--body", "MOCK:stall"]);
    let shown = project.wait_for_status(id, "merged");
    assert_eq!(
        run_summary(&shown),
        [
            ("coder".into(), "local".into(), "failed".into()),
            ("coder".into(), "local".into(), "succeeded".into()),
        ]
    );
    let all = runs(&shown);
    let reason = all[0]["outcome"].as_str().unwrap_or_default();
    assert!(reason.starts_with("stalled: no event for 2s"), "{reason}");
    let watchdog: Vec<Value> = events(&shown, "run.output")
        .into_iter()
        .filter(|e| {
            e["data"]["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("watchdog: stalled"))
        })
        .collect();
    assert_eq!(watchdog.len(), 1);
    assert_eq!(watchdog[0]["run"], all[0]["id"]);
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
    assert_eq!(shown["task"]["state"]["total_failures"], 1);
    let retry = prompt(&project, &all[1]);
    assert!(retry.contains("stalled: no event for 2s"), "{retry}");
    assert_eq!(landed(&project, "stall.txt"), "written after the stall");
    // The server saw the stalled request once, then the retry's two turns.
    let conversations: Vec<Option<String>> = server
        .requests()
        .iter()
        .map(|r| r.conversation.clone())
        .collect();
    assert_eq!(conversations.first(), Some(&Some("stalls".to_string())));
    assert!(conversations.contains(&Some("after-the-stall".to_string())));
    assert_target_green(&project);
    drop(daemon);
    server.shutdown().await.unwrap();
}

#[test]
fn a_stuck_agent_or_one_out_of_time_ends_its_run_with_the_reason() {
    let coder = r#"
[[task]]
match = "Needs the vendor API"
[[task.attempt]]
summary = "never reached"
actions = [{ say = "Looked everywhere.\nSTUCK: the vendor API docs are not in the repository" }, { sleep_ms = 60000 }]
[[task]]
match = "Think forever"
[[task.attempt]]
summary = "never reached"
actions = [{ status = "thinking" }, { sleep_ms = 60000 }]
"#;
    let toml = config(
        "",
        "[agents.writer]\nbackend = \"scripted\"\nscript = \"scripts/writer.toml\"\ntimeout = \"2s\"\n\n\
         [limits]\nverify_failures_per_tier = 1\n\n[roles]\ncoder = [\"writer\"]\n",
    );
    let project = crew(&toml, &[("scripts/writer.toml", coder)]);
    let _daemon = project.start_daemon();
    let stuck = project.add_task("Needs the vendor API", &[]);
    let slow = project.add_task("Think forever", &[]);
    for id in [stuck, slow] {
        wait_until("the task to fail", Duration::from_secs(60), || {
            (project.status_of(id) == "failed").then_some(())
        });
    }
    let shown = project.show(stuck);
    assert_eq!(
        shown["task"]["state"]["note"],
        "stuck: the vendor API docs are not in the repository"
    );
    assert_eq!(
        run_summary(&shown),
        [("coder".into(), "writer".into(), "failed".into())]
    );
    let lines: Vec<Value> = events(&shown, "run.output")
        .into_iter()
        .filter(|e| e["data"]["type"] == "stuck")
        .collect();
    assert_eq!(lines.len(), 1, "{:#}", shown["events"]);

    let shown = project.show(slow);
    let note = shown["task"]["state"]["note"].as_str().unwrap_or_default();
    assert_eq!(
        note,
        "out of time: the run took its whole time limit of 2s; gaffer stopped it"
    );
    assert_eq!(statuses(&shown), ["ready", "coding", "failed"]);
}

#[test]
fn a_configuration_where_a_family_reviews_its_own_work_is_refused_at_start() {
    let toml = config(
        "",
        "[agents.sonnet]\nbackend = \"scripted\"\nscript = \"s.toml\"\nfamily = \"anthropic\"\n\n\
         [agents.opus]\nbackend = \"scripted\"\nscript = \"s.toml\"\nfamily = \"anthropic\"\n\n\
         [agents.gpt]\nbackend = \"scripted\"\nscript = \"s.toml\"\nfamily = \"openai\"\n\n\
         [roles]\ncoder = [\"sonnet\"]\nreviewer = [\"opus\"]\nplanner = [\"gpt\"]\n",
    );
    let project = crew(&toml, &[("s.toml", "")]);
    for args in [&["up", "--port", "0"][..], &["task", "list"][..]] {
        let out = project.gaffer().args(args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(3),
            "gaffer {args:?}: {}",
            stderr_of(&out)
        );
        let err = stderr_of(&out);
        assert!(
            err.contains("gaffer.toml:")
                && err.contains(
                    "review.cross_family is on, but no agent in roles.reviewer is of another family than coder `sonnet`"
                )
                && err.contains("hint: add a reviewer of another family, or set review.cross_family = false"),
            "gaffer {args:?}: {err}"
        );
    }
    assert!(!project.daemon_file().exists(), "a daemon started anyway");
    // Relaxed explicitly, it starts.
    let relaxed = toml.replace("[roles]", "[review]\ncross_family = false\n\n[roles]");
    project.repo.write("gaffer.toml", &relaxed);
    let out = project.gaffer().args(["task", "list"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
}

const TASKS_MD: &str = "\
# Next sprint

## Add the schema
labels: db
scope: migrations/**
risk: high

Create the users table.

## Add the API
depends: 1
priority: 3
Expose users over HTTP.
";

#[test]
fn tasks_import_from_a_markdown_file() {
    let project = crew(&config("", ""), &[]);
    std::fs::write(project.path().join("tasks.md"), TASKS_MD).unwrap();
    let out = act(&project, &["task", "import", "tasks.md"]);
    let text = stdout_of(&out);
    assert!(
        text.contains("added task 1: Add the schema") && text.contains("added task 2: Add the API"),
        "{text}"
    );
    let schema = project.show(1)["task"].clone();
    assert_eq!(schema["labels"], serde_json::json!(["db"]));
    assert_eq!(schema["write_scope"], serde_json::json!(["migrations/**"]));
    assert_eq!(schema["state"]["risk"], "high");
    assert_eq!(schema["body"], "Create the users table.");
    let api = project.show(2)["task"].clone();
    assert_eq!(api["blocked_by"], serde_json::json!([1]));
    assert_eq!(api["priority"], 3);

    // JSON, and a mistake names its line.
    std::fs::write(project.path().join("more.md"), "## Docs\nrisk: severe\n").unwrap();
    let out = project
        .gaffer()
        .args(["task", "import", "more.md"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("more.md:2: risk: `severe`"),
        "{}",
        stderr_of(&out)
    );
    std::fs::write(project.path().join("more.md"), "## Docs\n\nWrite them.\n").unwrap();
    let json = project.json(&["task", "import", "more.md", "--json"]);
    assert_eq!(json["created"][0]["title"], "Docs");
    let out = project
        .gaffer()
        .args(["task", "import", "missing.md"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr_of(&out));
}

/// A fake `gh` on PATH: logged in or not, printing `issues.json` for `issue list`, and recording
/// its arguments.
fn fake_gh(dir: &Path, logged_in: bool) {
    std::fs::create_dir_all(dir).unwrap();
    let auth = if logged_in {
        "exit 0"
    } else {
        "echo 'You are not logged into any GitHub hosts. To log in, run: gh auth login' >&2; exit 1"
    };
    let issues = r#"[
  {"number": 12, "title": "Crash on empty input", "body": "Steps: run it with no input.", "labels": [{"name": "bug"}]},
  {"number": 9, "title": "Document the flags", "body": "", "labels": []}
]"#;
    std::fs::write(dir.join("issues.json"), issues).unwrap();
    let script = format!(
        "#!/bin/sh\necho \"$@\" >> \"{log}\"\ncase \"$1 $2\" in\n  \"auth status\") {auth} ;;\n  \"issue list\") cat \"{issues}\" ;;\n  *) echo \"unexpected: $*\" >&2; exit 2 ;;\nesac\n",
        log = dir.join("calls.log").display(),
        issues = dir.join("issues.json").display(),
    );
    let gh = dir.join("gh");
    std::fs::write(&gh, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn tasks_import_from_github_issues_through_gh() {
    let project = crew(&config("", ""), &[]);
    let bin = project.repo.scratch("bin");
    fake_gh(&bin, true);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let import = |args: &[&str]| {
        project
            .gaffer()
            .env("PATH", &path)
            .args(["task", "import", "--github"])
            .args(args)
            .output()
            .unwrap()
    };
    let out = import(&["--label", "bug", "--limit", "5"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = stdout_of(&out);
    // Oldest issue first.
    assert!(
        text.contains("added task 1: Document the flags")
            && text.contains("added task 2: Crash on empty input"),
        "{text}"
    );
    let calls = std::fs::read_to_string(bin.join("calls.log")).unwrap();
    assert!(calls.contains("auth status"), "{calls}");
    assert!(
        calls.contains(
            "issue list --state open --json number,title,body,labels --limit 5 --label bug"
        ),
        "{calls}"
    );
    let crash = project.show(2)["task"].clone();
    assert_eq!(crash["labels"], serde_json::json!(["bug"]));
    assert_eq!(
        crash["body"],
        "Steps: run it with no input.\n\nImported from GitHub issue #12."
    );
    // Imported once: a second import skips both.
    let out = import(&["--json"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["created"], serde_json::json!([]));
    assert_eq!(json["skipped"].as_array().unwrap().len(), 2);
    assert_eq!(
        project
            .json(&["task", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn github_import_says_when_gh_is_missing_or_not_logged_in() {
    let project = crew(&config("", ""), &[]);
    // Not logged in.
    let bin = project.repo.scratch("bin");
    fake_gh(&bin, false);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = project
        .gaffer()
        .env("PATH", &path)
        .args(["task", "import", "--github"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(
        err.contains("the GitHub CLI is not logged in")
            && err.contains("hint: run `gh auth login`"),
        "{err}"
    );
    // Missing: a PATH with git and sh but no gh.
    let only = project.repo.scratch("only-git");
    std::fs::create_dir_all(&only).unwrap();
    for tool in ["git", "sh"] {
        let found = std::env::var("PATH")
            .unwrap_or_default()
            .split(':')
            .map(|d| Path::new(d).join(tool))
            .find(|p| p.is_file())
            .unwrap_or_else(|| panic!("no {tool} on PATH"));
        std::os::unix::fs::symlink(found, only.join(tool)).unwrap();
    }
    let out = project
        .gaffer()
        .env("PATH", &only)
        .args(["task", "import", "--github"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(
        err.contains("the GitHub CLI `gh` is not installed")
            && err.contains("https://cli.github.com"),
        "{err}"
    );
    assert_eq!(
        project.json(&["task", "list", "--json"]),
        serde_json::json!([])
    );
}
