#![allow(clippy::unwrap_used, clippy::expect_used)]
//! gaffer never touches the user's own checkout: a full run with the target branch checked out
//! and uncommitted changes of every kind leaves every byte of the work tree and the index as it
//! was, lands on the landing branch, and `pull_into_checkout` then brings the work in only when
//! it would not touch those changes.

use gaffer_agents::{Registry, Script, ScriptedBackend};
use gaffer_core::{NewTask, Status};
use gaffer_engine::{Board, BoardOptions, Engine};
use gaffer_test_support::TestRepo;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

const SCRIPT: &str = r#"
[[task]]
match = "alpha"
[[task.attempt]]
actions = [{ write = "src/alpha.txt", content = "alpha\n" }]
[[task]]
match = "notes"
[[task.attempt]]
actions = [{ write = "notes.txt", content = "landed notes\n" }]
"#;

/// Every file under `dir` except `.git`, with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

fn settings() -> gaffer_config::Settings {
    let mut settings = gaffer_config::default_settings();
    settings.verify.command = Some("test -f README.md".into());
    settings.roles.coder = vec!["scripted".into()];
    settings.engine.worktree_pool = 0;
    settings
}

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
async fn a_full_run_leaves_the_users_dirty_checkout_byte_for_byte() {
    let repo = TestRepo::new();
    repo.write("notes.txt", "original\n");
    repo.write(".gitignore", "build/\n");
    repo.write("src/lib.txt", "lib\n");
    repo.commit_all("base");
    let head_before = repo.head();
    // Every kind of uncommitted change.
    repo.write("notes.txt", "my unfinished edit\n");
    repo.write("src/lib.txt", "staged edit\n");
    repo.git(&["add", "src/lib.txt"]);
    repo.write("scratch.txt", "untracked\n");
    repo.write("build/out.bin", [0u8, 159, 146, 150]);
    let files_before = snapshot(repo.path());
    // `git status` may refresh the index's stat cache; take the index after it.
    let status_before = repo.git(&["status", "--porcelain=v2"]);
    let index_before = std::fs::read(repo.path().join(".git/index")).unwrap();

    let board = Arc::new(
        Board::open(
            repo.path(),
            settings(),
            BoardOptions {
                git_env: repo.env(),
                clock: None,
                ..BoardOptions::default()
            },
        )
        .unwrap(),
    );
    for title in ["alpha file", "notes update"] {
        board
            .add_task(NewTask {
                title: title.into(),
                ..NewTask::default()
            })
            .unwrap();
    }
    let engine = Engine::new(Arc::clone(&board), registry());
    tokio::time::timeout(
        std::time::Duration::from_secs(60),
        engine.run_until_settled(CancellationToken::new()),
    )
    .await
    .expect("the run settles")
    .unwrap();

    for task in board.tasks(&[]).unwrap() {
        assert_eq!(task.status(), Status::Merged, "{task:?}");
    }
    // The user's checkout: same bytes, same index, same HEAD, same status.
    assert_eq!(snapshot(repo.path()), files_before);
    assert_eq!(
        std::fs::read(repo.path().join(".git/index")).unwrap(),
        index_before
    );
    assert_eq!(repo.head(), head_before);
    assert_eq!(repo.git(&["status", "--porcelain=v2"]), status_before);
    // The work landed beside it.
    let landing = board.landing().unwrap();
    assert_eq!(landing.branch, "gaffer/landed/main");
    let landed = repo.git(&["show", "gaffer/landed/main:src/alpha.txt"]);
    assert_eq!(landed, "alpha");

    // Pulling would overwrite my unfinished notes.txt: refused, nothing touched.
    let refused = gaffer_git::pull_into_checkout(
        repo.path(),
        "main",
        "refs/heads/gaffer/landed/main",
        &repo.env(),
    );
    assert!(
        matches!(refused, Err(gaffer_git::GitError::PullRefused(_))),
        "{refused:?}"
    );
    assert_eq!(snapshot(repo.path()), files_before);
    assert_eq!(repo.head(), head_before);

    // With my notes edit stashed away, the pull fast-forwards; my other changes survive.
    repo.git(&["stash", "push", "-q", "--", "notes.txt"]);
    let outcome = gaffer_git::pull_into_checkout(
        repo.path(),
        "main",
        "refs/heads/gaffer/landed/main",
        &repo.env(),
    )
    .unwrap();
    assert!(
        matches!(outcome, gaffer_git::PullOutcome::FastForwarded { .. }),
        "{outcome:?}"
    );
    assert_eq!(repo.read("src/alpha.txt"), "alpha\n");
    assert_eq!(repo.read("notes.txt"), "landed notes\n");
    assert_eq!(repo.read("scratch.txt"), "untracked\n");
    assert_eq!(repo.read_bytes("build/out.bin"), vec![0u8, 159, 146, 150]);
    assert_eq!(repo.read("src/lib.txt"), "staged edit\n");
    assert!(
        repo.git(&["diff", "--cached", "--name-only"])
            .contains("src/lib.txt")
    );
}

/// Work landed beside the target while the user had it checked out is not left behind when
/// they switch away without pulling: the target moves forward through it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_target_catches_up_with_work_landed_beside_it() {
    let repo = TestRepo::new();
    let board = Arc::new(
        Board::open(
            repo.path(),
            settings(),
            BoardOptions {
                git_env: repo.env(),
                clock: None,
                ..BoardOptions::default()
            },
        )
        .unwrap(),
    );
    board
        .add_task(NewTask {
            title: "alpha file".into(),
            ..NewTask::default()
        })
        .unwrap();
    let engine = Engine::new(Arc::clone(&board), registry());
    tokio::time::timeout(
        std::time::Duration::from_secs(60),
        engine.run_until_settled(CancellationToken::new()),
    )
    .await
    .expect("the run settles")
    .unwrap();
    assert_eq!(board.landing().unwrap().branch, "gaffer/landed/main");

    // The user leaves main without pulling.
    repo.git(&["switch", "-q", "-c", "elsewhere"]);
    assert_eq!(board.landing().unwrap().branch, "main");
    board
        .add_task(NewTask {
            title: "notes update".into(),
            ..NewTask::default()
        })
        .unwrap();
    let engine = Engine::new(Arc::clone(&board), registry());
    tokio::time::timeout(
        std::time::Duration::from_secs(60),
        engine.run_until_settled(CancellationToken::new()),
    )
    .await
    .expect("the run settles")
    .unwrap();
    for task in board.tasks(&[]).unwrap() {
        assert_eq!(task.status(), Status::Merged, "{task:?}");
    }
    // main has both: the first task's work (landed beside it) and the second's.
    assert_eq!(repo.git(&["show", "main:src/alpha.txt"]), "alpha");
    assert_eq!(repo.git(&["show", "main:notes.txt"]), "landed notes");
}
