//! Remote workers (`gaffer_engine::worker`): a daemon and workers that reach its board only
//! through worker calls (`Direct`, the HTTP route without the network), each worker in a clone
//! of its own. Work is claimed once and lands once, labelled work goes only to a worker with the
//! label, a dead worker's job moves on, and a worker can do nothing but its jobs.

use std::path::Path;
use std::sync::Arc;

use crate::daemons::{
    add_tasks, assert_landed_once_each, daemons, wait_all_merged, wait_no_job_left,
};
use gaffer_core::{Input, JobKind, NewEvent, Payload, RunStatus, Status, event_kind, payload};
use gaffer_engine::JobReport;
use gaffer_engine::worker::{WorkerCall, WorkerIdentity, serve};
use gaffer_store::HeldLease;
use gaffer_test_support::{Daemons, EngineHarness};

/// Whose clone `worktree` is in: `Some(i)` for worker `i`, `None` for anything else.
fn worker_of(d: &mut Daemons, n: usize, worktree: &str) -> Option<usize> {
    (0..n).find(|&i| Path::new(worktree).starts_with(d.worker(i).repo().path()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workers_take_the_board_s_runs_and_labelled_work_goes_only_to_its_worker() {
    // The daemon runs one agent at a time itself; two workers (one with gpu) add theirs.
    let mut d = daemons(1, 400, &[("engine.concurrency", "1")]);
    d.add_workers(&[&["gpu"], &[]]);
    let mut ids = add_tasks(&mut d, 4);
    for name in ["echo", "foxtrot"] {
        ids.push(d.daemon(0).add_task(gaffer_core::NewTask {
            title: format!("Write {name}"),
            labels: vec!["needs:gpu".into()],
            ..Default::default()
        }));
    }
    d.start_all();
    d.worker(0).start();
    d.worker(1).start();
    wait_all_merged(d.daemon(0), &ids).await;
    wait_no_job_left(d.daemon(0)).await;
    d.stop_all().await;
    assert_landed_once_each(&mut d, &ids);

    let mut by_worker = [0usize; 2];
    for id in &ids {
        let gpu = d.daemon(0).task(*id).needs() == ["gpu"];
        for run in d.daemon(0).runs(*id) {
            let who = worker_of(&mut d, 2, &run.worktree);
            if let Some(i) = who {
                by_worker[i] += 1;
            }
            if gpu {
                assert_eq!(who, Some(0), "a gpu task's run ran on the gpu worker only");
            }
            assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
        }
    }
    assert!(
        by_worker[0] > 0 && by_worker[1] > 0,
        "both workers ran agents: {by_worker:?}"
    );
    // The workers are on the board, with their labels.
    let hosts = d.daemon(0).board().store().hosts().unwrap();
    assert!(
        hosts
            .iter()
            .any(|h| h.name.starts_with("worker:1:") && h.labels == ["gpu"]),
        "{hosts:?}"
    );
    assert!(hosts.iter().any(|h| h.name.starts_with("worker:2:")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dead_worker_s_job_moves_to_another_worker() {
    // The daemon runs no agent (its labels fit none of the tasks): only workers do.
    let mut d = daemons(1, 2_000, &[("engine.lease", "2s")]);
    d.add_workers(&[&["gpu"], &["gpu"]]);
    let id = d.daemon(0).add_task(gaffer_core::NewTask {
        title: "Write alpha".into(),
        labels: vec!["needs:gpu".into()],
        ..Default::default()
    });
    d.daemon(0).start();
    d.worker(0).start();
    let run = d
        .daemon(0)
        .wait_until("worker 0 to run the agent", |h| {
            h.runs(id)
                .into_iter()
                .find(|r| r.status == RunStatus::Running)
        })
        .await;
    d.worker(0).crash().await;
    d.worker(1).start();
    wait_all_merged(d.daemon(0), &[id]).await;
    d.stop_all().await;
    let lost = d.daemon(0).board().run(run.id).unwrap();
    assert_eq!(lost.status, RunStatus::Lost, "{lost:?}");
    let runs = d.daemon(0).runs(id);
    assert!(
        runs.iter()
            .any(|r| r.status == RunStatus::Succeeded
                && worker_of(&mut d, 2, &r.worktree) == Some(1)),
        "worker 1 finished the task: {runs:?}"
    );
    assert_landed_once_each(&mut d, &[id]);
}

fn identity(h: &EngineHarness, token: i64, labels: &[&str]) -> WorkerIdentity {
    WorkerIdentity {
        token,
        name: format!("worker-{token}"),
        project: h.board().project().id,
        labels: labels.iter().map(|l| l.to_string()).collect(),
    }
}

fn refused(result: Result<serde_json::Value, gaffer_engine::EngineError>, what: &str) {
    match result {
        Err(gaffer_engine::EngineError::Forbidden(_)) => {}
        other => panic!("{what}: expected a refusal, got {other:?}"),
    }
}

/// A worker's calls do its jobs and nothing else: no other kinds, labels or owners, no input
/// a person gives, no events of tasks it does not work on, no other project.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_can_do_its_jobs_and_nothing_else() {
    let mut d = daemons(1, 0, &[]);
    let h = d.daemon(0);
    let board = Arc::clone(h.board());
    let me = identity(h, 7, &["gpu"]);
    let id = h.add("Write alpha");
    let other = h.add("Write bravo");
    for input in [Input::Promote, Input::Start] {
        h.act(id, input.clone());
        h.act(other, input);
    }
    let call = |c: WorkerCall| serve(&board, &me, c);

    refused(
        call(WorkerCall::Claim {
            owner: "worker:7:m:1".into(),
            kinds: vec![JobKind::Land],
            labels: vec![],
            lease_ms: 1000,
        }),
        "a landing",
    );
    refused(
        call(WorkerCall::Claim {
            owner: "worker:7:m:1".into(),
            kinds: vec![JobKind::Run],
            labels: vec!["gtk".into()],
            lease_ms: 1000,
        }),
        "a label the token does not grant",
    );
    refused(
        call(WorkerCall::Claim {
            owner: "daemon:x:1".into(),
            kinds: vec![JobKind::Run],
            labels: vec![],
            lease_ms: 1000,
        }),
        "another machine's owner name",
    );
    refused(
        call(WorkerCall::Claim {
            owner: "worker:8:m:1".into(),
            kinds: vec![JobKind::Run],
            labels: vec![],
            lease_ms: 1000,
        }),
        "another token's owner name",
    );
    let job: gaffer_core::Job = serde_json::from_value(
        call(WorkerCall::Claim {
            owner: "worker:7:m:1".into(),
            kinds: vec![JobKind::Run],
            labels: vec![],
            lease_ms: 60_000,
        })
        .unwrap(),
    )
    .unwrap();
    let mine = job.task.unwrap();
    let theirs = if mine == id { other } else { id };
    // Its leases are renewed in one call: the ones it holds; one of its owner names that does
    // not hold the job comes back lost; a batch naming another token's owner is refused whole.
    let lease = |owner: &str| HeldLease {
        job: job.id,
        owner: owner.into(),
    };
    let beat = |leases: Vec<HeldLease>| {
        call(WorkerCall::Heartbeats {
            leases,
            lease_ms: 60_000,
        })
    };
    let lost: Vec<HeldLease> =
        serde_json::from_value(beat(vec![lease("worker:7:m:1"), lease("worker:7:m:0")]).unwrap())
            .unwrap();
    assert_eq!(lost, vec![lease("worker:7:m:0")]);
    refused(
        beat(vec![lease("worker:7:m:1"), lease("worker:8:m:1")]),
        "another token's lease in a batch",
    );
    // A run job cannot approve, answer or say verify passed.
    for input in [
        Input::Approve,
        Input::Answer { text: "yes".into() },
        Input::VerifyFinished {
            commit: gaffer_core::ObjectId::new("0".repeat(40)),
            tree: gaffer_core::ObjectId::new("0".repeat(40)),
            passed: true,
            summary: String::new(),
            conflicts: vec![],
        },
    ] {
        refused(
            call(WorkerCall::Report {
                job: job.id,
                owner: "worker:7:m:1".into(),
                report: JobReport::Input {
                    input,
                    events: vec![],
                    finish_run: None,
                    plan: None,
                },
            }),
            "a person's input",
        );
    }
    // Events of the task it works on: yes; of another task, or of a kind job code does not
    // write, no.
    let progress = |task| {
        NewEvent::new(
            event_kind::RUN_OUTPUT,
            serde_json::json!({"type": "status", "text": "half way"}),
        )
        .task(task)
    };
    call(WorkerCall::AppendEvents {
        events: vec![progress(mine)],
    })
    .unwrap();
    refused(
        call(WorkerCall::AppendEvents {
            events: vec![
                NewEvent::of(Payload::TaskNotice(payload::TaskNotice::Ignored {
                    ignored: "x".into(),
                    why: "y".into(),
                }))
                .task(mine),
            ],
        }),
        "an event kind job code does not write",
    );
    // No claim without kinds (the stores read none as any).
    refused(
        call(WorkerCall::Claim {
            owner: "worker:7:m:1".into(),
            kinds: vec![],
            labels: vec![],
            lease_ms: 1000,
        }),
        "a claim of any kind",
    );
    // A report is its job's: never "done" with nothing said, no plan from a coder, no other
    // job's run ended.
    refused(
        call(WorkerCall::Report {
            job: job.id,
            owner: "worker:7:m:1".into(),
            report: JobReport::Done { events: vec![] },
        }),
        "done with nothing said",
    );
    let coded = Input::RunFinished {
        role: gaffer_core::Role::Coder,
        result: gaffer_core::RunResult::Failed { reason: "x".into() },
    };
    refused(
        call(WorkerCall::Report {
            job: job.id,
            owner: "worker:7:m:1".into(),
            report: JobReport::Input {
                input: coded.clone(),
                events: vec![],
                finish_run: None,
                plan: Some(serde_json::json!({"subtasks": []})),
            },
        }),
        "a plan from a coder",
    );
    let other_run = board
        .store()
        .start_run(&gaffer_core::NewRun {
            task: theirs,
            job: None,
            role: gaffer_core::Role::Coder,
            tier: 0,
            agent: "a".into(),
            backend: "scripted".into(),
            model: "m".into(),
            worktree: "/w".into(),
        })
        .unwrap();
    refused(
        call(WorkerCall::Report {
            job: job.id,
            owner: "worker:7:m:1".into(),
            report: JobReport::Input {
                input: coded,
                events: vec![],
                finish_run: Some(gaffer_store::RunFinish {
                    run: other_run.id,
                    status: RunStatus::Failed,
                    outcome: None,
                    usage: gaffer_core::Usage::default(),
                    session_id: None,
                }),
                plan: None,
            },
        }),
        "another job's run ended",
    );
    assert_eq!(board.run(other_run.id).unwrap().status, RunStatus::Running);
    refused(
        call(WorkerCall::AppendEvents {
            events: vec![progress(theirs)],
        }),
        "events of a task it does not work on",
    );
    // Another project's worker sees nothing.
    let stranger = WorkerIdentity {
        project: gaffer_core::ProjectId(board.project().id.0 + 1),
        ..me.clone()
    };
    refused(
        serve(&board, &stranger, WorkerCall::Task { task: mine }),
        "another project",
    );
    // Its job fails honestly, and the task goes on as the machine says.
    call(WorkerCall::Report {
        job: job.id,
        owner: "worker:7:m:1".into(),
        report: JobReport::Failed {
            error: "the worker's disk is full".into(),
        },
    })
    .unwrap();
    assert_eq!(h_status(&mut d, mine), Status::Failed);
    assert_eq!(h_status(&mut d, theirs), Status::Coding);
    let _ = event_kind::TASK_STATUS;
}

fn h_status(d: &mut Daemons, id: gaffer_core::TaskId) -> Status {
    d.daemon(0).task(id).status()
}

/// Each worker applies its own host budget before claiming: one whose machine is short of
/// memory (by its own `[host] min_free_memory`) takes no agent run or verify; the other does it
/// all.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_past_its_own_host_thresholds_claims_nothing() {
    let mut d = daemons(1, 200, &[]);
    d.add_worker(&["w"], &[("host.min_free_memory", "1000000GiB")]);
    d.add_worker(&["w"], &[]);
    let ids: Vec<gaffer_core::TaskId> = ["alpha", "bravo", "charlie"]
        .iter()
        .map(|name| {
            d.daemon(0).add_task(gaffer_core::NewTask {
                title: format!("Write {name}"),
                labels: vec!["needs:w".into()],
                ..Default::default()
            })
        })
        .collect();
    d.start_all();
    d.worker(0).start();
    d.worker(1).start();
    wait_all_merged(d.daemon(0), &ids).await;
    d.stop_all().await;
    for id in &ids {
        for run in d.daemon(0).runs(*id) {
            assert_eq!(
                worker_of(&mut d, 2, &run.worktree),
                Some(1),
                "run {} ran on the worker short of memory",
                run.id
            );
        }
    }
}

/// What a worker's agent files (`PROPOSAL:`) reaches the board as proposals; a task cancelled
/// while a worker runs it ends that run; and the worker removes the worktrees of tasks that
/// ended.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_files_proposals_ends_a_cancelled_run_and_cleans_up() {
    let script = "[[task]]\nmatch = \"Write alpha\"\n[[task.attempt]]\n\
        summary = \"Wrote alpha.\\nPROPOSAL: Add a changelog -- nobody can tell what changed\"\n\
        actions = [{ write = \"alpha.txt\", content = \"alpha\\n\" }]\n\n\
        [[task]]\nmatch = \"Write slowly\"\n[[task.attempt]]\ndelay_ms = 60000\n\
        actions = [{ write = \"slow.txt\", content = \"slow\\n\" }]\n";
    let mut d = EngineHarness::builder()
        .agent("writer", gaffer_test_support::Agent::scripted(script))
        .set("roles.coder", "writer")
        .verify("for f in *.txt; do test -s \"$f\"; done")
        .set("engine.lease", "2s")
        .set("engine.heartbeat", "200ms")
        .daemons(1);
    d.add_workers(&[&["w"]]);
    let needs_w = |title: &str| gaffer_core::NewTask {
        title: title.into(),
        labels: vec!["needs:w".into()],
        ..Default::default()
    };
    let alpha = d.daemon(0).add_task(needs_w("Write alpha"));
    let slow = d.daemon(0).add_task(needs_w("Write slowly"));
    d.start_all();
    d.worker(0).start();
    wait_all_merged(d.daemon(0), &[alpha]).await;
    let proposals = d.daemon(0).board().tasks(&[]).unwrap();
    let filed: Vec<_> = proposals
        .iter()
        .filter(|t| t.kind == gaffer_core::TaskKind::Proposal)
        .collect();
    assert_eq!(filed.len(), 1, "{filed:?}");
    assert_eq!(filed[0].title, "Add a changelog");

    let run = d
        .daemon(0)
        .wait_until("the worker to run the slow agent", |h| {
            h.runs(slow)
                .into_iter()
                .find(|r| r.status == RunStatus::Running)
        })
        .await;
    d.daemon(0).act(
        slow,
        Input::Cancel {
            reason: "not needed".into(),
        },
    );
    d.daemon(0)
        .wait_until("the cancelled run to end", |h| {
            (h.board().run(run.id).unwrap().status != RunStatus::Running).then_some(())
        })
        .await;
    assert_eq!(d.daemon(0).task(slow).status(), Status::Cancelled);
    // Both tasks ended: the worker's clean-up takes their worktrees (every 30 heartbeats).
    let worktrees = d.worker(0).board().paths().worktrees();
    d.worker(0)
        .wait_until("the worker to remove the ended tasks' worktrees", |_| {
            let left = std::fs::read_dir(&worktrees)
                .map(|entries| entries.count())
                .unwrap_or(0);
            (left == 0).then_some(())
        })
        .await;
    d.stop_all().await;
}

/// A daemon starts tasks for the workers' free slots, not only its own: with one agent slot of
/// its own and two workers of two slots each, more than one task codes at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_daemon_starts_tasks_for_the_workers_free_slots() {
    let mut d = daemons(1, 1_500, &[("engine.concurrency", "1")]);
    d.add_worker(&["w"], &[("engine.concurrency", "2")]);
    d.add_worker(&["w"], &[("engine.concurrency", "2")]);
    let ids: Vec<gaffer_core::TaskId> = ["alpha", "bravo", "charlie", "delta"]
        .iter()
        .map(|name| {
            d.daemon(0).add_task(gaffer_core::NewTask {
                title: format!("Write {name}"),
                labels: vec!["needs:w".into()],
                ..Default::default()
            })
        })
        .collect();
    d.start_all();
    d.worker(0).start();
    d.worker(1).start();
    // Only workers can code these: every run at once is a worker's, started by the daemon.
    let most = d
        .daemon(0)
        .wait_until("several tasks to code at once", |h| {
            let running = ids
                .iter()
                .filter(|id| h.runs(**id).iter().any(|r| r.status == RunStatus::Running))
                .count();
            (running >= 3).then_some(running)
        })
        .await;
    assert!(most >= 3);
    wait_all_merged(d.daemon(0), &ids).await;
    d.stop_all().await;
    assert_landed_once_each(&mut d, &ids);
}
