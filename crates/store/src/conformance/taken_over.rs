//! A job taken over from a holder that died: the runs it had started and that still run are
//! marked lost (`mark_runs_of_job_lost`), and only those.

use super::MakeStore;
use super::fixtures::{ExpectSome, cleanup_job, enqueue, fresh, must, must_fail, project, task};
use super::runs::new_run;
use crate::{Commit, EventFilter, RunFinish, StoreError};
use gaffer_core::{JobId, NewRun, Role, RunStatus, Usage, event_kind};

/// The first holder of a job starts two runs and finishes one, then its lease runs out; the
/// next claim counts the attempt, and marking the job's runs lost ends exactly the run still
/// running (with a `run.lost` event), not another job's. Marking again finds nothing.
pub fn runs_of_a_taken_over_job_are_lost(make: &MakeStore) {
    let (clock, store) = fresh(make);
    let store = store.as_ref();
    let p = project(store, "alpha");
    let t = task(store, p.id, "T");
    let u = task(store, p.id, "U");
    enqueue(
        store,
        vec![
            cleanup_job(p.id, Some(t.id), 1),
            cleanup_job(p.id, Some(u.id), 0),
        ],
    );
    let job = must(store.claim_job("dead", &[], 1_000), "claim").expect_some("job of T");
    let other = must(store.claim_job("live", &[], 60_000), "claim").expect_some("job of U");
    assert_eq!((job.task, other.task), (Some(t.id), Some(u.id)));
    let on = |task, job| NewRun {
        job: Some(job),
        ..new_run(task, Role::Coder)
    };
    let finished = must(store.start_run(&on(t.id, job.id)), "start_run");
    let running = must(store.start_run(&on(t.id, job.id)), "start_run");
    let elsewhere = must(store.start_run(&on(u.id, other.id)), "start_run");
    must(
        store.commit(&Commit {
            finish_run: Some(RunFinish {
                run: finished.id,
                status: RunStatus::Succeeded,
                outcome: None,
                usage: Usage::default(),
                session_id: None,
            }),
            ..Commit::default()
        }),
        "finish",
    );
    clock.advance(1_001);
    let again = must(store.claim_job("next", &[], 1_000), "claim").expect_some("expired job");
    assert_eq!((again.id, again.attempts), (job.id, 2));
    let seq = must(store.last_seq(), "last_seq");
    let lost = must(
        store.mark_runs_of_job_lost(job.id, "its daemon is gone"),
        "mark_runs_of_job_lost",
    );
    assert_eq!(
        lost.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![running.id]
    );
    assert_eq!(lost[0].status, RunStatus::Lost);
    assert_eq!(must(store.run(running.id), "run").status, RunStatus::Lost);
    assert_eq!(
        must(store.run(finished.id), "run").status,
        RunStatus::Succeeded
    );
    assert_eq!(
        must(store.run(elsewhere.id), "run").status,
        RunStatus::Running
    );
    let events = must(
        store.events_after(seq, 10, &EventFilter::default()),
        "events",
    );
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, event_kind::RUN_LOST);
    assert_eq!(
        (events[0].run, events[0].task),
        (Some(running.id), Some(t.id))
    );
    assert_eq!(events[0].data["reason"], "its daemon is gone");
    assert!(must(store.mark_runs_of_job_lost(job.id, "again"), "again").is_empty());
    assert!(matches!(
        must_fail(
            store.mark_runs_of_job_lost(JobId(job.id.0 + 100), "x"),
            "no such job"
        ),
        StoreError::JobNotFound(_)
    ));
}
