//! Best-of-N: N coders attempt the task at once, each in its own worktree, each verified; the
//! reviewer picks among those that passed; the pick is adopted, the others discarded with what
//! they cost.

use gaffer_core::{Role, Status, event_kind};
use gaffer_test_support::{Agent, EngineHarness};

const PRICEY: &str = "[prices.pricey]\ninput = 1000000.0\noutput = 0.0\n";

fn attempt(summary: &str, actions: &str) -> Agent {
    Agent::scripted(&format!(
        "[[task]]\nmatch = \"Greeting\"\n[[task.attempt]]\nsummary = \"{summary}\"\n\
         actions = {actions}\n"
    ))
    .with("model = \"pricey\"")
}

const CRITIC: &str = r#"
[[task]]
match = "Greeting"
[[task.attempt]]
summary = '{"verdict": "approve", "pick": 3, "summary": "attempt 3 greets the whole world"}'
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn best_of_three_adopts_the_reviewers_pick_among_those_that_passed() {
    let mut h = EngineHarness::builder()
        .agent(
            "c1",
            attempt(
                "A terse greeting; the tests fail.",
                r#"[{ write = "greeting.txt", content = "hi\n" }, { write = "BROKEN", content = "1\n" }]"#,
            ),
        )
        .agent(
            "c2",
            attempt("A plain greeting.", r#"[{ write = "greeting.txt", content = "hello\n" }]"#),
        )
        .agent(
            "c3",
            attempt(
                "The full greeting.",
                r#"[{ write = "greeting.txt", content = "Hello, world\n" }]"#,
            ),
        )
        .agent("critic", Agent::scripted(CRITIC))
        .toml(PRICEY)
        .set("roles.coder", "c1,c2,c3")
        .set("roles.reviewer", "critic")
        .verify("test ! -e BROKEN || { echo 'BROKEN exists'; exit 1; }")
        .build();
    let id = h.add_task(gaffer_core::NewTask {
        title: "Greeting".into(),
        best_of: 3,
        ..gaffer_core::NewTask::default()
    });
    h.settle().await;

    use Status::*;
    assert_eq!(
        h.statuses(id),
        [Ready, Coding, Reviewing, Queued, Merging, Merged]
    );
    let runs = h.runs(id);
    let mut who: Vec<(Role, String)> = runs.iter().map(|r| (r.role, r.agent.clone())).collect();
    who.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        who,
        [
            (Role::Coder, "c1".into()),
            (Role::Coder, "c2".into()),
            (Role::Coder, "c3".into()),
            (Role::Reviewer, "critic".into())
        ]
    );
    // Each attempt in its own worktree, verified there.
    let task = h.task(id);
    let slug = task.branch.trim_start_matches("gaffer/").to_string();
    for k in 1..=3 {
        let run = runs.iter().find(|r| r.agent == format!("c{k}")).unwrap();
        assert!(run.worktree.ends_with(&format!("{slug}-c{k}")), "{run:?}");
        assert!(run.usage.cost_usd > 0.0);
    }
    let mut verified: Vec<(i64, bool)> = h
        .events_of(id, event_kind::VERIFY_FINISHED)
        .iter()
        // The attempts' verifies (the queue then verifies the kept one's candidate too).
        .filter(|e| e.data["purpose"] != "candidate")
        .map(|e| {
            (
                e.data["slot"].as_i64().unwrap_or(0),
                e.data["passed"].as_bool().unwrap(),
            )
        })
        .collect();
    verified.sort();
    assert_eq!(verified, [(1, false), (2, true), (3, true)]);
    // The reviewer was shown the attempts: the two that passed with their diffs.
    let reviewer = runs.iter().find(|r| r.role == Role::Reviewer).unwrap();
    let pick = h.prompt(reviewer);
    assert!(
        pick.contains("### Attempt 1 by `c1`: failed")
            && pick.contains("### Attempt 2 by `c2`: passed verify")
            && pick.contains("+hello")
            && pick.contains("### Attempt 3 by `c3`: passed verify")
            && pick.contains("+Hello, world"),
        "{pick}"
    );
    assert_eq!(task.state.total_failures, 1);
    assert!(task.state.attempts.is_empty());
    // The others are discarded, their cost recorded; nothing of them is left in git.
    let settled = h.events_of(id, "best_of.settled");
    assert_eq!(settled.len(), 1);
    assert_eq!(settled[0].data["kept"], 3);
    let discarded: Vec<(i64, f64)> = settled[0].data["discarded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["slot"].as_i64().unwrap(), d["cost_usd"].as_f64().unwrap()))
        .collect();
    assert_eq!(discarded.iter().map(|d| d.0).collect::<Vec<_>>(), [1, 2]);
    assert!(discarded.iter().all(|d| d.1 > 0.0), "{discarded:?}");
    let branches = h.repo().git(&["branch", "--list", "gaffer/*"]);
    assert!(!branches.contains(&format!("{slug}-c")), "{branches}");
    assert_eq!(
        h.file_on_target("greeting.txt").as_deref(),
        Some("Hello, world\n")
    );
}
