//! A board with a bit of everything, built through the trait, for the board copy check: several
//! projects; tasks with dependencies, children, labels, scopes, budgets, a plan and edits; jobs
//! done, failed, exhausted (acknowledged or not), cancelled, released, leased with a process and
//! leased past their lease; runs with sessions and usage over several days, running and lost;
//! more events than one page; worker tokens used, revoked and never used.

use super::fixtures::{
    ExpectSome, backlog, cleanup_job, complete, enqueue, moved, must, new_task, process, project,
    with_status,
};
use super::runs::{new_run, usage};
use crate::{Commit, JobCompletion, JobOutcome, NewWorkerToken, RunFinish, Store, TaskEdit};
use gaffer_core::{
    FixedClock, Job, NewEvent, NewJob, NewRun, NewTask, ProjectId, Role, RunStatus, Status, TaskId,
    TaskKind,
};
use serde_json::json;

/// One day, in milliseconds.
const DAY_MS: i64 = 86_400_000;
/// A lease that outlives the check.
pub(super) const LONG_LEASE_MS: i64 = 3_600_000_000;
/// The holder of the job left leased with a process.
pub(super) const HOLDER: &str = "host-a:1:worker";
/// Events appended besides those the writes record (more than one page of the copy).
const NOTES: usize = 130;

/// Builds the board in `store`, whose clock is `clock`.
pub(super) fn build(store: &dyn Store, clock: &FixedClock) {
    let alpha = project(store, "alpha");
    let beta = project(store, "beta");
    project(store, "gamma"); // no tasks at all
    clock.advance(1_000);

    let t1 = must(
        store.create_task(
            alpha.id,
            &NewTask {
                priority: 3,
                labels: vec!["backend".into(), "db".into()],
                write_scope: vec!["src/**".into()],
                read_scope: vec!["docs/**".into(), "README.md".into()],
                budget_usd: Some(2.5),
                ..new_task("Index the log")
            },
            &backlog(),
        ),
        "create t1",
    );
    clock.advance(10);
    let t2 = must(
        store.create_task(
            alpha.id,
            &NewTask {
                blocked_by: vec![t1.id],
                priority: -1,
                ..new_task("Use the index")
            },
            &with_status(Status::Ready),
        ),
        "create t2",
    );
    let epic = must(
        store.create_task(
            alpha.id,
            &NewTask {
                kind: TaskKind::Epic,
                budget_usd: Some(0.0),
                ..new_task("Rework storage")
            },
            &with_status(Status::Planning),
        ),
        "create epic",
    );
    clock.advance(10);
    // The plan is approved: the epic is delegated to three children, the first depending on
    // the third (a later id) and on t1.
    let mut delegated = moved(&epic, Status::Delegated);
    delegated.plan = Some(json!({"subtasks": ["a", "b", "c"], "notes": {"risk": "low"}}));
    must(
        store.commit(&Commit {
            task: Some(delegated),
            events: vec![NewEvent::new("plan.approved", json!({"by": "someone"}))],
            children: vec![
                (
                    NewTask {
                        blocked_by: vec![TaskId(-3), t1.id],
                        labels: vec!["child".into()],
                        ..new_task("Child A")
                    },
                    backlog(),
                ),
                (new_task("Child B"), with_status(Status::Ready)),
                (
                    NewTask {
                        write_scope: vec!["crates/store/**".into()],
                        ..new_task("Child C")
                    },
                    backlog(),
                ),
            ],
            ..Commit::default()
        }),
        "delegate the epic",
    );
    clock.advance(10);
    let t1 = must(
        store.edit_task(
            t1.id,
            t1.version,
            &TaskEdit {
                title: Some("Index the event log".into()),
                labels: Some(vec!["backend".into()]),
                budget_usd: Some(None),
                ..TaskEdit::default()
            },
        ),
        "edit t1",
    );
    let b1 = must(
        store.create_task(beta.id, &new_task("Beta work"), &backlog()),
        "create b1",
    );

    // Jobs, one state at a time (each claim finds only the job just enqueued claimable).
    let exhausted = |max_attempts| -> Job {
        let job = enqueue(
            store,
            vec![NewJob {
                max_attempts,
                needs: vec!["gpu".to_string()],
                ..cleanup_job(alpha.id, Some(t2.id), 9)
            }],
        )
        .remove(0);
        let gpu = ["gpu".to_string()];
        must(
            store.claim_job_for("host-b:7:worker", &[], &gpu, 10),
            "claim",
        )
        .expect_some("job");
        clock.advance(20);
        assert!(
            must(
                store.claim_job_for("host-b:8:worker", &[], &gpu, 10),
                "claim"
            )
            .is_none()
        );
        job
    };
    exhausted(1); // left unacknowledged
    let acknowledged = exhausted(1);
    must(complete(store, &acknowledged, "anyone"), "acknowledge");

    let claim_one = |new: NewJob, owner: &str, lease_ms: i64| -> Job {
        enqueue(store, vec![new]);
        let job = must(store.claim_job(owner, &[], lease_ms), "claim").expect_some("job");
        clock.advance(5);
        job
    };
    let done = claim_one(cleanup_job(alpha.id, Some(t1.id), 8), "host-a:1:w", 60_000);
    must(complete(store, &done, "host-a:1:w"), "complete done");
    let failed = claim_one(cleanup_job(alpha.id, Some(t1.id), 7), "host-a:1:w", 60_000);
    must(
        store.commit(&Commit {
            complete_job: Some(JobCompletion {
                job: failed.id,
                owner: "host-a:1:w".into(),
                outcome: JobOutcome::Failed,
                error: Some("verify failed: 3 tests".into()),
            }),
            ..Commit::default()
        }),
        "complete failed",
    );
    let held = claim_one(cleanup_job(alpha.id, Some(t2.id), 6), HOLDER, LONG_LEASE_MS);
    assert!(must(
        store.set_job_process(held.id, HOLDER, &process(4242)),
        "set_job_process"
    ));
    let released = claim_one(cleanup_job(alpha.id, Some(t2.id), 5), "host-c:1:w", 60_000);
    assert!(must(
        store.release_job(released.id, "host-c:1:w"),
        "release"
    ));
    enqueue(
        store,
        vec![
            cleanup_job(beta.id, Some(b1.id), 0),
            super::fixtures::prepare_job(alpha.id, None, 2),
        ],
    );
    must(
        store.commit(&Commit {
            cancel_jobs_of: Some(b1.id),
            ..Commit::default()
        }),
        "cancel b1's jobs",
    );
    // Leased, its lease run out: the first to be claimed again, with one attempt counted.
    let expired = claim_one(cleanup_job(alpha.id, None, 10), "host-d:1:w", 10);
    assert_eq!(expired.priority, 10, "the job just enqueued is the best");
    clock.advance(50);

    // Runs over several days.
    let run = |task, role, job, agent: &str| {
        must(
            store.start_run(&NewRun {
                job,
                agent: agent.into(),
                model: format!("{agent}-model"),
                ..new_run(task, role)
            }),
            "start_run",
        )
    };
    let finish = |r: &gaffer_core::Run, status, spent, outcome: &str, session: Option<&str>| {
        must(
            store.commit(&Commit {
                finish_run: Some(RunFinish {
                    run: r.id,
                    status,
                    outcome: Some(outcome.into()),
                    usage: spent,
                    session_id: session.map(str::to_string),
                }),
                ..Commit::default()
            }),
            "finish_run",
        );
    };
    // Costs are sums of powers of two: exact in any order of addition, in any backend.
    let r1 = run(t1.id, Role::Coder, Some(done.id), "coder-a");
    must(store.set_run_session(r1.id, "sess-1"), "set_run_session");
    clock.advance(3_000);
    finish(
        &r1,
        RunStatus::Succeeded,
        usage(1_000, 200, 50, 0.25),
        "ok",
        None,
    );
    clock.advance(DAY_MS);
    let r2 = run(t1.id, Role::Reviewer, None, "reviewer-b");
    finish(
        &r2,
        RunStatus::Failed,
        usage(10, 5, 0, 0.125),
        "rejected",
        Some("sess-2"),
    );
    let r3 = run(epic.id, Role::Planner, None, "planner-c");
    finish(
        &r3,
        RunStatus::Succeeded,
        usage(500, 100, 7, 1.5),
        "plan",
        None,
    );
    clock.advance(2 * DAY_MS);
    let r4 = run(b1.id, Role::Coder, Some(held.id), "coder-a");
    must(store.set_run_session(r4.id, "sess-4"), "set_run_session");
    run(t2.id, Role::Coder, None, "coder-a");
    clock.advance(100);
    must(
        store.mark_runs_lost(Some(t2.id), "the daemon died"),
        "mark_runs_lost",
    );

    // Notes, some about a task or a run, more than a page of them.
    for i in 0..NOTES {
        clock.advance(1);
        let note = match i % 4 {
            0 => NewEvent::new("agent.output", json!({"line": i})).run(r4.id),
            1 => NewEvent::new("progress.note", json!({"i": i, "of": NOTES})).task(t1.id),
            2 => NewEvent::new("progress.note", json!({"i": i})).project(beta.id),
            _ => NewEvent::new("daemon.tick", json!([i, "tick", null])),
        };
        must(store.append_events(&[note]), "append_events");
    }
    worker_tokens(store, clock, alpha.id, beta.id);
}

/// The hash of the board's worker token that stays live (`w-live`, of project alpha).
pub(super) const LIVE_TOKEN_HASH: &str =
    "1111111111111111111111111111111111111111111111111111111111111111";

/// Worker tokens: one used, one used and revoked, one never used (of another project).
fn worker_tokens(store: &dyn Store, clock: &FixedClock, alpha: ProjectId, beta: ProjectId) {
    let token = |project, name: &str, labels: &[&str], hash: String| {
        must(
            store.create_worker_token(&NewWorkerToken {
                project,
                name: name.to_string(),
                labels: labels.iter().map(|l| l.to_string()).collect(),
                hash,
            }),
            "create_worker_token",
        )
    };
    token(alpha, "w-live", &["gpu"], LIVE_TOKEN_HASH.to_string());
    let revoked = token(alpha, "w-revoked", &[], "2".repeat(64));
    token(beta, "w-unused", &["gtk", "gpu"], "3".repeat(64));
    clock.advance(7);
    must(
        store.worker_token_by_hash(LIVE_TOKEN_HASH),
        "worker_token_by_hash",
    );
    must(
        store.worker_token_by_hash(&"2".repeat(64)),
        "worker_token_by_hash",
    );
    clock.advance(7);
    must(
        store.revoke_worker_token(alpha, revoked.id),
        "revoke_worker_token",
    );
}
