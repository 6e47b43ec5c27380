#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Remote mode: with `project.remote`, every landing is pushed to the remote's target with a
//! lease on the value it was built on. When someone else pushed first, gaffer does not force:
//! it fetches, moves its own landing branch forward to their work, tests the queue again on top
//! of it, and pushes that. A local bare repository plays the remote.

use gaffer_agents::{Registry, Script, ScriptedBackend};
use gaffer_core::{NewTask, Seq, Status, event_kind};
use gaffer_engine::{Board, BoardOptions, Engine};
use gaffer_store::EventFilter;
use gaffer_test_support::TestRepo;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const SCRIPT: &str = r#"
[[task]]
match = "first"
[[task.attempt]]
actions = [{ write = "first.txt", content = "first\n" }]
[[task]]
match = "second"
[[task.attempt]]
delay_ms = 3000
actions = [{ write = "second.txt", content = "second\n" }]
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn landings_are_pushed_with_a_lease_and_a_remote_that_moved_is_built_on_never_forced() {
    let repo = TestRepo::new();
    let bare = repo.scratch("remote.git");
    repo.git(&["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()]);
    repo.git(&["remote", "add", "origin", bare.to_str().unwrap()]);
    repo.git(&["push", "-q", "origin", "main"]);

    let mut settings = gaffer_config::default_settings();
    settings.verify.command = Some("test -f README.md".into());
    settings.roles.coder = vec!["scripted".into()];
    settings.engine.worktree_pool = 0;
    settings.project.remote = Some("origin".into());
    let board = Arc::new(
        Board::open(
            repo.path(),
            settings,
            BoardOptions {
                git_env: repo.env(),
                clock: None,
                ..BoardOptions::default()
            },
        )
        .unwrap(),
    );
    let first = board
        .add_task(NewTask {
            title: "first change".into(),
            ..NewTask::default()
        })
        .unwrap();
    let second = board
        .add_task(NewTask {
            title: "second change".into(),
            ..NewTask::default()
        })
        .unwrap();
    let engine = Engine::new(Arc::clone(&board), registry());
    let shutdown = CancellationToken::new();
    let run = tokio::spawn(Arc::clone(&engine).run(shutdown.clone()));

    // The first change lands and is pushed while the second is still being written.
    let wait = |id, status| {
        let board = Arc::clone(&board);
        async move {
            for _ in 0..600 {
                if board.task(id).unwrap().status() == status {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            panic!(
                "task {id} never reached {status}: {:?}",
                board.task(id).unwrap()
            );
        }
    };
    wait(first.id, Status::Merged).await;
    let pushed_first = repo.git(&["--git-dir", bare.to_str().unwrap(), "rev-parse", "main"]);
    assert_eq!(pushed_first, repo.rev_parse("gaffer/landed/main"));

    // Meanwhile someone else pushes to the remote's main.
    let other = repo.scratch("other");
    repo.git(&[
        "clone",
        "-q",
        bare.to_str().unwrap(),
        other.to_str().unwrap(),
    ]);
    std::fs::write(other.join("theirs.txt"), "theirs\n").unwrap();
    repo.git_in(&other, &["add", "-A"]);
    repo.git_in(&other, &["commit", "-q", "-m", "theirs"]);
    repo.git_in(&other, &["push", "-q", "origin", "main"]);
    let theirs = repo.git_in(&other, &["rev-parse", "HEAD"]);

    wait(second.id, Status::Merged).await;
    shutdown.cancel();
    run.await.unwrap().unwrap();

    // Their commit is still there, under ours: nothing was forced.
    let remote_main = repo.git(&["--git-dir", bare.to_str().unwrap(), "rev-parse", "main"]);
    repo.git(&[
        "--git-dir",
        bare.to_str().unwrap(),
        "merge-base",
        "--is-ancestor",
        &theirs,
        &remote_main,
    ]);
    for file in ["first.txt", "second.txt", "theirs.txt"] {
        repo.git(&[
            "--git-dir",
            bare.to_str().unwrap(),
            "cat-file",
            "-e",
            &format!("main:{file}"),
        ]);
    }
    // The local landing branch is where the remote is.
    assert_eq!(repo.rev_parse("gaffer/landed/main"), remote_main);

    let events = board
        .events_after(Seq(0), 100_000, &EventFilter::default())
        .unwrap();
    let count = |kind: &str| events.iter().filter(|e| e.kind == kind).count();
    assert_eq!(count(event_kind::QUEUE_PUSHED), 2, "one push per landing");
    let moved: Vec<_> = events
        .iter()
        .filter(|e| e.kind == event_kind::QUEUE_TARGET_MOVED)
        .collect();
    assert_eq!(moved.len(), 1, "{moved:#?}");
    assert_eq!(moved[0].data["remote"], "origin");
    assert_eq!(moved[0].data["actual"], theirs);
    // The second change was tested again on top of their work before it landed.
    let second_landed = board.task(second.id).unwrap().state.landed.unwrap();
    repo.git(&[
        "merge-base",
        "--is-ancestor",
        &theirs,
        second_landed.commit.as_str(),
    ]);
}

/// A cleanup asked for a task that is active again (a person retried it meanwhile) skips
/// itself, and leaves the task's refs on the remote (of a board shared with other daemons): its
/// candidate and its batch's merges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cleanup_that_skips_itself_leaves_the_tasks_refs_on_the_remote() {
    let repo = TestRepo::new();
    let bare = repo.scratch("remote.git");
    let remote = bare.to_str().unwrap();
    repo.git(&["init", "-q", "--bare", "-b", "main", remote]);
    repo.git(&["remote", "add", "origin", remote]);
    repo.git(&["push", "-q", "origin", "main"]);
    let mut settings = gaffer_config::default_settings();
    settings.verify.command = Some("test -f README.md".into());
    settings.roles.coder = vec!["scripted".into()];
    settings.engine.worktree_pool = 0;
    settings.project.remote = Some("origin".into());
    let board = Arc::new(
        Board::open(
            repo.path(),
            settings,
            BoardOptions {
                git_env: repo.env(),
                clock: None,
                shared: Some(true),
                ..BoardOptions::default()
            },
        )
        .unwrap(),
    );
    let new = NewTask {
        title: "active again".into(),
        ..NewTask::default()
    };
    let mut state = gaffer_core::TaskState::new(board.flow_for(&new), gaffer_core::Risk::Low, 0);
    state.status = Status::NeedsInput;
    let task = board
        .store()
        .create_task(board.project().id, &new, &state)
        .unwrap();
    let refs = [
        format!("refs/gaffer/candidates/{}", task.id.0),
        format!("refs/gaffer/batches/{}", task.id.0),
    ];
    for refname in &refs {
        repo.git(&["push", "-q", "origin", &format!("main:{refname}")]);
    }
    board
        .store()
        .commit(&gaffer_store::Commit {
            enqueue: vec![gaffer_core::NewJob {
                project: board.project().id,
                task: Some(task.id),
                spec: gaffer_core::JobSpec::Cleanup {
                    delete_branch: false,
                },
                priority: 0,
                max_attempts: 3,
                needs: vec![],
            }],
            ..gaffer_store::Commit::default()
        })
        .unwrap();
    let engine = Engine::new(Arc::clone(&board), registry());
    tokio::time::timeout(
        Duration::from_secs(120),
        engine.run_until_settled(CancellationToken::new()),
    )
    .await
    .expect("the run settles")
    .unwrap();
    let events = board
        .events_after(Seq(0), 100_000, &EventFilter::default())
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == event_kind::WORKTREE_CLEANED && e.data["skipped"].is_string()),
        "the cleanup skipped itself: {events:?}"
    );
    let kept = repo.git(&["--git-dir", remote, "for-each-ref", "--format=%(refname)"]);
    for refname in &refs {
        assert!(kept.lines().any(|l| l == refname), "{refname} kept: {kept}");
    }
}
