#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The merge queue in-process, with the real engine and real git: flaky verify is told apart
//! from a broken branch, and the rebase strategy lands one commit per branch in a line.

use gaffer_agents::{Registry, Script, ScriptedBackend};
use gaffer_core::{NewTask, Seq, Status, event_kind};
use gaffer_engine::{Board, BoardOptions, Engine};
use gaffer_store::EventFilter;
use gaffer_test_support::TestRepo;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

const SCRIPT: &str = r#"
[[task]]
match = "alpha"
[[task.attempt]]
actions = [{ write = "alpha.txt", content = "alpha\n" }]
[[task]]
match = "beta"
[[task.attempt]]
actions = [{ write = "beta.txt", content = "beta\n" }]
[[task]]
match = "gamma"
[[task.attempt]]
actions = [{ write = "gamma.txt", content = "gamma\n" }]
"#;

fn registry() -> Registry {
    let mut registry = Registry::new();
    registry.insert(gaffer_agents::AgentSpec {
        name: "scripted".into(),
        model: "script".into(),
        configured_model: Some("script".into()),
        family: "scripted".into(),
        backend: Arc::new(ScriptedBackend::new(
            toml::from_str::<Script>(SCRIPT).unwrap(),
        )),
    });
    registry
}

fn board(repo: &TestRepo, settings: gaffer_config::Settings) -> Arc<Board> {
    let board = Board::open(
        repo.path(),
        settings,
        BoardOptions {
            git_env: repo.env(),
            clock: None,
            ..BoardOptions::default()
        },
    )
    .unwrap();
    for title in ["alpha file", "beta file", "gamma file"] {
        board
            .add_task(NewTask {
                title: title.into(),
                ..NewTask::default()
            })
            .unwrap();
    }
    Arc::new(board)
}

fn settings(verify: String) -> gaffer_config::Settings {
    let mut settings = gaffer_config::default_settings();
    settings.verify.command = Some(verify);
    settings.roles.coder = vec!["scripted".into()];
    settings.engine.worktree_pool = 0;
    settings.host.heavy_slots = 2;
    settings
}

async fn settle(board: &Arc<Board>) {
    let engine = Engine::new(Arc::clone(board), registry());
    tokio::time::timeout(
        std::time::Duration::from_secs(120),
        engine.run_until_settled(CancellationToken::new()),
    )
    .await
    .expect("the run settles")
    .unwrap();
    for task in board.tasks(&[]).unwrap() {
        assert_eq!(task.status(), Status::Merged, "{task:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flaky_verify_is_reported_and_blamed_on_nobody() {
    let repo = TestRepo::new();
    // Verify of a candidate fails the first time it sees a tree and passes the next.
    let seen = repo.scratch("seen");
    std::fs::create_dir_all(&seen).unwrap();
    let verify = format!(
        "if [ \"$GAFFER_VERIFY_PURPOSE\" = candidate ]; then \
           t=$(git rev-parse HEAD^{{tree}}); \
           if [ ! -e '{dir}'/$t ]; then touch '{dir}'/$t; echo 'flaked'; exit 1; fi; \
         fi; test -f README.md",
        dir = seen.display()
    );
    let mut settings = settings(verify);
    // Verify runs confined; the directory it remembers trees in is outside its worktree.
    settings.sandbox.write = vec![seen.clone()];
    let board = board(&repo, settings);
    settle(&board).await;

    let events = board
        .events_after(Seq(0), 100_000, &EventFilter::default())
        .unwrap();
    let count = |kind: &str| events.iter().filter(|e| e.kind == kind).count();
    assert!(
        count(event_kind::QUEUE_FLAKY) >= 1,
        "no flaky verify was reported"
    );
    assert_eq!(count(event_kind::QUEUE_EJECTED), 0, "someone was blamed");
    for task in board.tasks(&[]).unwrap() {
        assert_eq!(task.state.total_failures, 0, "{task:?}");
        assert_eq!(board.runs(task.id).unwrap().len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rebase_strategy_lands_one_commit_per_branch_in_a_line() {
    let repo = TestRepo::new();
    let base = repo.head();
    let mut settings = settings("test -f README.md".into());
    settings.queue.strategy = gaffer_config::QueueStrategy::Rebase;
    let board = board(&repo, settings);
    settle(&board).await;

    let landed = "gaffer/landed/main";
    let history = repo.git(&["rev-list", "--parents", &format!("{base}..{landed}")]);
    let commits: Vec<&str> = history.lines().collect();
    assert_eq!(commits.len(), 3, "one commit per task: {history}");
    for line in &commits {
        assert_eq!(
            line.split(' ').count(),
            2,
            "not a single-parent commit: {line}"
        );
    }
    for file in ["alpha.txt", "beta.txt", "gamma.txt"] {
        repo.git(&["cat-file", "-e", &format!("{landed}:{file}")]);
    }
    // Each task's landed commit is one of them, and holds its change.
    for task in board.tasks(&[]).unwrap() {
        let commit = task.state.landed.unwrap().commit;
        assert!(history.contains(commit.as_str()));
    }
}
