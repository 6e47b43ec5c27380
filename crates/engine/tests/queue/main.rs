#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The merge queue in-process, with the real engine and real git: flaky verify is told apart
//! from a broken branch, the rebase strategy lands one commit per branch in a line, a batch
//! lands as one merge commit whose tree passed verify, and a failing batch is bisected down to
//! its guilty branch.

use gaffer_agents::{Registry, Script, ScriptedBackend};
use gaffer_core::{NewTask, ObjectId, Risk, Seq, Status, TaskState, VerifiedTree, event_kind};
use gaffer_engine::{Board, BoardOptions, Engine};
use gaffer_store::EventFilter;
use gaffer_test_support::TestRepo;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

mod bisect;
mod revert;

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
    // One candidate per branch: these tests are about a candidate's own verify and commit.
    settings.queue.batch = gaffer_config::QueueBatch::Fixed(1);
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

/// `n` branches from the tip, each adding a file (those in `breaking` also a `breaks` file that
/// fails verify), queued as verified tasks in order on a board with one heavy slot and batches
/// of up to `batch`. Returns the board, the base and the branches' heads.
fn queued(
    n: usize,
    breaking: &[usize],
    batch: usize,
) -> (TestRepo, Arc<Board>, String, Vec<String>) {
    queued_with(n, breaking, batch, |_, settings| settings, |_, _| {})
}

/// As [`queued`], with the settings as `adjust` makes them (given the repository), and each
/// task's state (task `i` has id `i + 1`) as `shape` leaves it.
fn queued_with(
    n: usize,
    breaking: &[usize],
    batch: usize,
    adjust: impl FnOnce(&TestRepo, gaffer_config::Settings) -> gaffer_config::Settings,
    shape: impl Fn(usize, &mut TaskState),
) -> (TestRepo, Arc<Board>, String, Vec<String>) {
    let repo = TestRepo::new();
    let base = repo.head();
    let mut heads = Vec::new();
    for i in 0..n {
        repo.git(&["checkout", "-q", "-b", &format!("b/{i}"), &base]);
        repo.write(&format!("f{i}.txt"), format!("{i}\n"));
        if breaking.contains(&i) {
            repo.write(&format!("breaks-{i}"), "");
        }
        heads.push(repo.commit_all(&format!("change {i}")));
    }
    repo.git(&["checkout", "-q", "--detach", &base]);
    let mut settings = settings("for f in breaks-*; do test ! -e \"$f\" || exit 1; done".into());
    settings.host.heavy_slots = 1;
    settings.queue.batch = gaffer_config::QueueBatch::Fixed(batch);
    settings.limits.verify_failures_per_tier = 1;
    let settings = adjust(&repo, settings);
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
    for (i, head) in heads.iter().enumerate() {
        let new = NewTask {
            title: format!("change {i}"),
            ..NewTask::default()
        };
        let mut state = TaskState::new(board.flow_for(&new), Risk::Low, 0);
        state.status = Status::Queued;
        state.code_runs = 1;
        state.head = Some(ObjectId::new(head.clone()));
        state.verified = Some(VerifiedTree {
            commit: ObjectId::new(head.clone()),
            tree: ObjectId::new(repo.rev_parse(&format!("{head}^{{tree}}"))),
        });
        shape(i, &mut state);
        let task = board
            .store()
            .create_task(board.project().id, &new, &state)
            .unwrap();
        repo.git(&["branch", &task.branch, head]);
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    (repo, board, base, heads)
}

async fn run(board: &Arc<Board>) {
    let engine = Engine::new(Arc::clone(board), Registry::new());
    tokio::time::timeout(
        std::time::Duration::from_secs(120),
        engine.run_until_settled(CancellationToken::new()),
    )
    .await
    .expect("the run settles")
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_lands_as_one_merge_commit_whose_tree_passed_verify() {
    let (repo, board, base, heads) = queued(3, &[], 4);
    run(&board).await;
    let line = repo.git(&[
        "rev-list",
        "--first-parent",
        "--parents",
        &format!("{base}..main"),
    ]);
    let commits: Vec<&str> = line.lines().collect();
    assert_eq!(commits.len(), 1, "one commit for the batch: {line}");
    let parents: Vec<&str> = commits[0].split(' ').skip(1).collect();
    let mut expected = vec![base.as_str()];
    expected.extend(heads.iter().map(String::as_str));
    assert_eq!(
        parents, expected,
        "first parent the base, then the branches"
    );
    let landed = commits[0].split(' ').next().unwrap();
    let tree = repo.rev_parse(&format!("{landed}^{{tree}}"));
    let events = board
        .events_after(Seq(0), 100_000, &EventFilter::default())
        .unwrap();
    let verified: Vec<_> = events
        .iter()
        .filter(|e| e.kind == event_kind::QUEUE_VERIFIED)
        .collect();
    assert_eq!(verified.len(), 1, "one verify for the batch");
    assert_eq!(verified[0].data["tree"], tree.as_str());
    assert_eq!(verified[0].data["passed"], true);
    for task in board.tasks(&[]).unwrap() {
        assert_eq!(task.status(), Status::Merged);
        assert_eq!(task.state.landed.unwrap().commit.as_str(), landed);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_batch_is_bisected_and_only_its_guilty_branch_leaves() {
    let (repo, board, base, _) = queued(6, &[4], 6);
    run(&board).await;
    let events = board
        .events_after(Seq(0), 100_000, &EventFilter::default())
        .unwrap();
    let of = |kind: &str| events.iter().filter(|e| e.kind == kind).collect::<Vec<_>>();
    assert_eq!(
        of(event_kind::QUEUE_BATCH_FAILED).len(),
        1 + 1,
        "the batch, then its half"
    );
    assert!(!of(event_kind::QUEUE_BISECTING).is_empty());
    let guilty = of(event_kind::QUEUE_GUILTY);
    assert_eq!(guilty.len(), 1);
    let tasks = board.tasks(&[]).unwrap();
    for (i, task) in tasks.iter().enumerate() {
        let want = if i == 4 {
            Status::Failed
        } else {
            Status::Merged
        };
        assert_eq!(task.status(), want, "task {i}: {:?}", task.state.note);
    }
    assert_eq!(guilty[0].task, Some(tasks[4].id));
    // The batch's halves: 0-2 passed, 3-4 failed and was bisected (5, behind it, cleared: the
    // failure is within 3-4), 3 passed, 4 failed alone. The guilty one clears 3, unless 3
    // landed already (a task that landed is not said to be acquitted).
    let landed_3 = of(event_kind::QUEUE_LANDED)
        .into_iter()
        .find(|e| e.task == Some(tasks[3].id))
        .expect("3 landed");
    let acquitted = if landed_3.seq < guilty[0].seq {
        serde_json::json!([])
    } else {
        serde_json::json!([tasks[3].id.0])
    };
    assert_eq!(guilty[0].data["acquitted"], acquitted);
    let cleared: Vec<_> = of(event_kind::QUEUE_ACQUITTED)
        .into_iter()
        .filter(|e| e.task == Some(tasks[5].id))
        .collect();
    assert_eq!(cleared.len(), 1, "{cleared:?}");
    assert_eq!(cleared[0].data["reason"], "within");
    assert_eq!(
        cleared[0].data["by"],
        serde_json::json!([tasks[3].id.0, tasks[4].id.0])
    );
    // The target is green at every first-parent commit.
    let line = repo.git(&["rev-list", "--first-parent", &format!("{base}..main")]);
    for commit in line.lines() {
        let files = repo.git(&["ls-tree", "--name-only", commit]);
        assert!(!files.contains("breaks-"), "red at {commit}: {files}");
    }
}

/// A batch fails once and every part of it passes when bisected: verify was flaky. Nobody is
/// blamed, and it is recorded as flaky, as a candidate that passes when run again is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_whose_parts_all_pass_is_recorded_as_flaky() {
    let (_repo, board, _, _) = queued_with(
        3,
        &[],
        4,
        |repo, mut settings| {
            // The first candidate verify fails, every other one passes.
            let seen = repo.scratch("flaked");
            std::fs::create_dir_all(&seen).unwrap();
            settings.verify.command = Some(format!(
                "if [ ! -e '{dir}/once' ]; then touch '{dir}/once'; echo 'flaked'; exit 1; fi",
                dir = seen.display()
            ));
            settings.sandbox.write = vec![seen];
            settings
        },
        |_, _| {},
    );
    run(&board).await;
    let events = board
        .events_after(Seq(0), 100_000, &EventFilter::default())
        .unwrap();
    let of = |kind: &str| events.iter().filter(|e| e.kind == kind).collect::<Vec<_>>();
    assert_eq!(of(event_kind::QUEUE_BATCH_FAILED).len(), 1);
    assert!(
        of(event_kind::QUEUE_EJECTED).is_empty(),
        "someone was blamed"
    );
    assert!(of(event_kind::QUEUE_GUILTY).is_empty());
    let cleared: Vec<_> = of(event_kind::QUEUE_ACQUITTED)
        .into_iter()
        .filter(|e| e.data["reason"] == "not_reproduced")
        .collect();
    assert!(!cleared.is_empty(), "the bisection did not end as flaky");
    assert_eq!(of(event_kind::QUEUE_FLAKY).len(), 1);
    // The tasks cleared as flaky land as such.
    for event in &cleared {
        let landed: Vec<_> = of(event_kind::QUEUE_LANDED)
            .into_iter()
            .filter(|e| e.task == event.task)
            .collect();
        assert_eq!(landed.len(), 1);
        assert_eq!(landed[0].data["flaky"], true, "{:?}", landed[0]);
    }
    for task in board.tasks(&[]).unwrap() {
        assert_eq!(task.status(), Status::Merged, "{:?}", task.state.note);
        assert_eq!(task.state.total_failures, 0);
    }
}
