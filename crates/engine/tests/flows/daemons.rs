//! Several daemons on one board (`Daemons`: one bare remote, a clone, a state directory and a
//! store handle each, one SQLite file): jobs are claimed once, a dead daemon's work moves to a
//! live one, the merge queue is driven by one daemon at a time, and code moves only through
//! the remote.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use gaffer_core::{Event, JobStatus, RunStatus, Status, TaskId, event_kind};
use gaffer_engine::{Engine, EngineError, agents_from_settings, queue_lease_name};
use gaffer_store::JobFilter;
use gaffer_test_support::{Agent, Daemons, EngineHarness};
use tokio_util::sync::CancellationToken;

pub(crate) const NAMES: [&str; 8] = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
];

/// A coder that writes `<name>.txt` for a task titled `Write <name>`, taking `delay_ms`.
fn coder(delay_ms: u64) -> Agent {
    let mut script = String::new();
    for name in NAMES {
        script.push_str(&format!(
            "[[task]]\nmatch = \"{name}\"\n[[task.attempt]]\ndelay_ms = {delay_ms}\n\
             summary = \"Wrote {name}.\"\nactions = [{{ write = \"{name}.txt\", content = \"{name}\\n\" }}]\n\n"
        ));
    }
    Agent::scripted(&script)
}

pub(crate) fn daemons(n: usize, delay_ms: u64, extra: &[(&str, &str)]) -> Daemons {
    let mut builder = EngineHarness::builder()
        .agent("writer", coder(delay_ms))
        .set("roles.coder", "writer")
        // Only a tree holding every file its task wrote passes.
        .verify("for f in *.txt; do test -s \"$f\"; done")
        .set("engine.lease", "2s")
        .set("engine.heartbeat", "300ms");
    for (key, value) in extra {
        builder = builder.set(key, value);
    }
    builder.daemons(n)
}

pub(crate) fn add_tasks(d: &mut Daemons, n: usize) -> Vec<TaskId> {
    NAMES[..n]
        .iter()
        .map(|name| d.daemon(0).add(&format!("Write {name}")))
        .collect()
}

pub(crate) async fn wait_all_merged(h: &EngineHarness, ids: &[TaskId]) {
    h.wait_until("every task to merge", |h| {
        ids.iter()
            .all(|id| h.task(*id).status() == Status::Merged)
            .then_some(())
    })
    .await;
}

/// Waits until no job of the board is queued or leased (cleanups included).
pub(crate) async fn wait_no_job_left(h: &EngineHarness) {
    h.wait_until("no job left", |h| {
        let open = h
            .board()
            .jobs(&JobFilter {
                task: None,
                statuses: vec![JobStatus::Queued, JobStatus::Leased],
            })
            .unwrap();
        open.is_empty().then_some(())
    })
    .await;
}

/// Which daemon (by index) worked in `worktree`.
fn daemon_of(d: &mut Daemons, worktree: &str) -> Option<usize> {
    (0..d.all().len()).find(|&i| Path::new(worktree).starts_with(d.daemon(i).repo().path()))
}

/// Every task merged exactly once, and the remote's target holds one landing per candidate on
/// its first-parent line (a task alone, or a batch of them: `queue.batch = "auto"`), each a tree
/// that passed verify, together landing every task.
pub(crate) fn assert_landed_once_each(d: &mut Daemons, ids: &[TaskId]) {
    let h = d.daemon(0);
    let mut landings: HashSet<String> = HashSet::new();
    for id in ids {
        let task = h.task(*id);
        assert_eq!(task.status(), Status::Merged, "{}", h.describe());
        assert_eq!(
            h.events_of(*id, event_kind::QUEUE_LANDED).len(),
            1,
            "task {id}"
        );
        let merged = h
            .statuses(*id)
            .into_iter()
            .filter(|s| *s == Status::Merged)
            .count();
        assert_eq!(merged, 1, "task {id}");
        if let Some(landed) = &task.state.landed {
            landings.insert(landed.commit.as_str().to_string());
        }
    }
    let passed: HashSet<String> = h
        .all_events()
        .into_iter()
        .filter(|e| e.kind == event_kind::VERIFY_FINISHED && e.data["passed"] == true)
        .filter_map(|e| e.data["tree"].as_str().map(str::to_string))
        .collect();
    let line = d.remote_first_parents("main");
    assert_eq!(
        line.len(),
        landings.len() + 1,
        "one landing per candidate on main"
    );
    for commit in &line[..landings.len()] {
        let tree = d.remote_git(&["rev-parse", &format!("{commit}^{{tree}}")]);
        assert!(
            passed.contains(&tree),
            "{commit} landed a tree that never passed verify"
        );
        assert!(landings.contains(commit), "{commit} landed no task");
    }
    for name in &NAMES[..ids.len()] {
        let text = d.remote_git(&["show", &format!("main:{name}.txt")]);
        assert_eq!(text, *name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_daemons_share_eight_tasks_and_land_each_once() {
    let mut d = daemons(2, 300, &[]);
    let ids = add_tasks(&mut d, 8);
    d.start_all();
    wait_all_merged(d.daemon(0), &ids).await;
    // And their cleanups done.
    wait_no_job_left(d.daemon(0)).await;
    d.stop_all().await;
    assert_landed_once_each(&mut d, &ids);

    // Both did agent work, each in its own clone.
    let mut by_daemon: HashMap<usize, usize> = HashMap::new();
    for id in &ids {
        for run in d.daemon(0).runs(*id) {
            let who = daemon_of(&mut d, &run.worktree).expect("a run in a daemon's clone");
            *by_daemon.entry(who).or_default() += 1;
        }
    }
    assert_eq!(by_daemon.len(), 2, "both daemons ran agents: {by_daemon:?}");
    // Nothing left on the remote but what landed: branches and candidates were cleaned up;
    // the merges of each batch that landed stay, kept for a revert of one of its tasks (and
    // pinned apart, where no cleanup drops them).
    let mut kept = vec!["refs/heads/main".to_string()];
    for id in &ids {
        let task = d.daemon(0).task(*id);
        if let Some(candidate) = task.state.candidate
            && candidate.batch.last() == Some(id)
        {
            kept.push(format!("refs/gaffer/batches/{}", id.0));
            kept.push(format!("refs/gaffer/landed/{}", id.0));
        }
    }
    kept.sort();
    let refs = d.remote_git(&["for-each-ref", "--format=%(refname)"]);
    let mut refs: Vec<&str> = refs.lines().collect();
    refs.sort_unstable();
    assert_eq!(refs, kept);
}

fn lease_holder(h: &EngineHarness) -> Option<String> {
    let name = queue_lease_name(h.board());
    h.board()
        .store()
        .lease_holder(&name)
        .unwrap()
        .map(|l| l.owner)
}

fn running_runs_in(d: &mut Daemons, i: usize, ids: &[TaskId]) -> Vec<gaffer_core::Run> {
    let mut out = Vec::new();
    for id in ids {
        for run in d.daemon(0).runs(*id) {
            if run.status == RunStatus::Running && daemon_of(d, &run.worktree) == Some(i) {
                out.push(run);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crashed_daemon_s_work_and_queue_move_to_the_survivor() {
    let mut d = daemons(2, 1_500, &[]);
    let ids = add_tasks(&mut d, 4);
    // Daemon 0 starts first: it takes the queue's lease and the first runs.
    d.daemon(0).start();
    let first = d
        .daemon(0)
        .wait_until("daemon 0 to drive the queue", lease_holder)
        .await;
    assert!(
        first.starts_with(d.daemon(0).board().owner_prefix()),
        "{first}"
    );
    d.daemon(1).start();
    let mut dead_runs = Vec::new();
    for _ in 0..200 {
        dead_runs = running_runs_in(&mut d, 0, &ids);
        if !dead_runs.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(!dead_runs.is_empty(), "daemon 0 never ran an agent");
    d.daemon(0).crash().await;

    // The survivor finishes everything, the queue included.
    wait_all_merged(d.daemon(1), &ids).await;
    let holder = lease_holder(d.daemon(1)).expect("someone drives the queue");
    assert!(
        holder.starts_with(d.daemon(1).board().owner_prefix()),
        "the queue's lease moved to the survivor: {holder}"
    );
    d.daemon(1).stop().await;
    assert_eq!(lease_holder(d.daemon(1)), None, "released on a clean stop");
    // The crashed daemon's runs were lost when the survivor took their jobs over.
    for run in &dead_runs {
        let now = d.daemon(1).board().run(run.id).unwrap();
        assert_eq!(now.status, RunStatus::Lost, "{now:?}");
        let lost: Vec<Event> = d
            .daemon(1)
            .events_of(run.task, event_kind::RUN_LOST)
            .into_iter()
            .filter(|e| e.run == Some(run.id))
            .collect();
        assert_eq!(lost.len(), 1);
    }
    assert_landed_once_each(&mut d, &ids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restarted_daemon_recovers_only_its_own_work() {
    // One agent at a time per daemon, slow: each daemon holds one run.
    let mut d = daemons(
        2,
        3_000,
        &[("engine.concurrency", "1"), ("engine.lease", "5s")],
    );
    let ids = add_tasks(&mut d, 2);
    d.start_all();
    let mut live = Vec::new();
    let mut mine = Vec::new();
    for _ in 0..200 {
        live = running_runs_in(&mut d, 0, &ids);
        mine = running_runs_in(&mut d, 1, &ids);
        if !live.is_empty() && !mine.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        !live.is_empty() && !mine.is_empty(),
        "both daemons run an agent"
    );
    let live_jobs: Vec<gaffer_core::Job> = d
        .daemon(0)
        .board()
        .jobs(&JobFilter {
            task: None,
            statuses: vec![JobStatus::Leased],
        })
        .unwrap()
        .into_iter()
        .filter(|j| {
            j.lease_owner
                .as_deref()
                .is_some_and(|o| o.starts_with(d.daemon(0).board().owner_prefix()))
        })
        .collect();
    assert!(!live_jobs.is_empty());

    // Daemon 1 dies and comes back before its leases run out: its recovery releases its own
    // job and loses its own run, and touches nothing of daemon 0's.
    d.daemon(1).crash().await;
    d.daemon(1).restart();
    let recovery = d
        .daemon(1)
        .wait_until("daemon 1's second recovery", |h| {
            let recoveries: Vec<Event> = h
                .all_events()
                .into_iter()
                .filter(|e| e.kind == event_kind::RECOVERY)
                .collect();
            (recoveries.len() == 3).then(|| recoveries[2].clone())
        })
        .await;
    // Its agent's job at least (a cleanup of its own may have been running too on a busy
    // machine); daemon 0's jobs are checked below.
    assert!(
        recovery.data["jobs_released"].as_u64().unwrap_or(0) >= 1,
        "{recovery:?}"
    );
    assert_eq!(recovery.data["runs_lost"], 1, "{recovery:?}");
    for run in &live {
        let now = d.daemon(0).board().run(run.id).unwrap();
        assert_ne!(now.status, RunStatus::Lost, "daemon 0's run was left alone");
    }
    for run in &mine {
        assert_eq!(
            d.daemon(0).board().run(run.id).unwrap().status,
            RunStatus::Lost
        );
    }
    for job in &live_jobs {
        let now = d.daemon(0).board().store().job(job.id).unwrap();
        assert_ne!(
            now.status,
            JobStatus::Queued,
            "daemon 0's job was not released"
        );
        assert_eq!(
            now.attempts, job.attempts,
            "daemon 0's job was not taken over"
        );
    }
    wait_all_merged(d.daemon(1), &ids).await;
    d.stop_all().await;
    assert_landed_once_each(&mut d, &ids);
}

#[tokio::test]
async fn a_shared_board_without_a_remote_does_not_start() {
    let h = EngineHarness::builder()
        .agent("writer", coder(0))
        .set("roles.coder", "writer")
        .shared()
        .build();
    let agents = agents_from_settings(h.board().settings(), h.repo().path()).unwrap();
    let engine = Engine::new(Arc::clone(h.board()), agents);
    let err = engine.run(CancellationToken::new()).await.unwrap_err();
    assert!(
        matches!(err, EngineError::SharedBoardWithoutRemote),
        "{err}"
    );
    assert!(err.hint().unwrap().contains("project.remote"));
}

/// A task that needs `gpu` runs (agent and verify) only on the daemon labelled gpu; one that
/// needs a label no machine has waits, and the board says so once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labelled_tasks_go_only_to_machines_with_the_labels() {
    let mut d = EngineHarness::builder()
        .agent("writer", coder(0))
        .set("roles.coder", "writer")
        .verify("for f in *.txt; do test -s \"$f\"; done")
        .set("engine.lease", "2s")
        .set("engine.heartbeat", "300ms")
        .labelled_daemons(&[&[], &["gpu"]]);
    let gpu = d.daemon(0).add_task(gaffer_core::NewTask {
        title: "Write alpha".into(),
        labels: vec!["needs:gpu".into()],
        ..Default::default()
    });
    let plain = d.daemon(0).add("Write bravo");
    let nowhere = d.daemon(0).add_task(gaffer_core::NewTask {
        title: "Write charlie".into(),
        labels: vec!["needs:gtk".into()],
        ..Default::default()
    });
    d.start_all();
    wait_all_merged(d.daemon(0), &[gpu, plain]).await;
    d.daemon(0)
        .wait_until("the board to say no machine has gtk", |h| {
            h.events_of(nowhere, event_kind::JOB_UNROUTABLE)
                .first()
                .cloned()
        })
        .await;
    d.stop_all().await;

    // Every run and verify of the gpu task happened in the gpu daemon's clone.
    let gpu_clone = d.daemon(1).repo().path().to_path_buf();
    let runs = d.daemon(0).runs(gpu);
    assert!(!runs.is_empty());
    for run in &runs {
        assert!(
            Path::new(&run.worktree).starts_with(&gpu_clone),
            "run {} of the gpu task was in {}",
            run.id,
            run.worktree
        );
    }
    let jobs = d
        .daemon(0)
        .board()
        .store()
        .jobs(&JobFilter {
            task: Some(gpu),
            statuses: vec![],
        })
        .unwrap();
    for job in jobs.iter().filter(|j| !j.needs.is_empty()) {
        assert_eq!(job.needs, ["gpu"]);
    }
    assert!(
        jobs.iter()
            .any(|j| j.spec.kind() == gaffer_core::JobKind::Verify && j.needs == ["gpu"]),
        "verify of a gpu task needs gpu too"
    );
    // The gtk task waits, said once, naming the machines that are up.
    let said = d.daemon(0).events_of(nowhere, event_kind::JOB_UNROUTABLE);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].data["machines"].to_string().contains("gpu"),
        "{:?}",
        said[0].data
    );
    assert_ne!(d.daemon(0).task(nowhere).status(), Status::Merged);
    // Both machines are on the board with their labels.
    let hosts = d.daemon(0).board().store().hosts().unwrap();
    assert_eq!(hosts.len(), 2, "{hosts:?}");
    assert!(hosts.iter().any(|h| h.labels == ["gpu"]));
}
