//! Runs: start, session, finish, loss, and usage totals.

use super::MakeStore;
use super::fixtures::{ExpectSome, cleanup_job, enqueue, fresh, moved, must, project, task};
use crate::{Commit, EventFilter, JobCompletion, JobOutcome, RunFinish, StoreError};
use gaffer_core::{
    NewRun, ProjectId, Role, RunId, RunStatus, Seq, Status, TaskId, Usage, event_kind,
};

pub(super) fn new_run(task: TaskId, role: Role) -> NewRun {
    NewRun {
        task,
        job: None,
        role,
        tier: 1,
        agent: "coder-claude".into(),
        backend: "claude".into(),
        model: "claude-sonnet".into(),
        worktree: "/tmp/wt/1".into(),
    }
}

pub(super) fn usage(input: u64, output: u64, cached: u64, cost: f64) -> Usage {
    Usage {
        input_tokens: input,
        output_tokens: output,
        cached_tokens: cached,
        cost_usd: cost,
    }
}

/// `start_run` records a running run and `run.started`; `set_run_session` records the session;
/// a commit's `finish_run` ends it once, with usage, and writes `run.finished`.
pub fn runs_lifecycle(make: &MakeStore) {
    let (clock, store) = fresh(make);
    let store = store.as_ref();
    let p = project(store, "alpha");
    let t = task(store, p.id, "T");
    enqueue(store, vec![cleanup_job(p.id, Some(t.id), 0)]);
    let job = must(store.claim_job("w", &[], 60_000), "claim").expect_some("job");
    let run = must(
        store.start_run(&NewRun {
            job: Some(job.id),
            ..new_run(t.id, Role::Coder)
        }),
        "start_run",
    );
    assert_eq!(run.status, RunStatus::Running);
    assert_eq!(run.job, Some(job.id));
    assert_eq!(run.tier, 1);
    assert_eq!(run.started_ms, super::START_MS);
    assert_eq!(run.ended_ms, None);
    assert_eq!(run.usage, Usage::default());
    assert_eq!(must(store.run(run.id), "run"), run);
    let started = must(
        store.events_after(
            Seq(0),
            10,
            &EventFilter {
                run: Some(run.id),
                ..EventFilter::default()
            },
        ),
        "events",
    );
    assert_eq!(started.len(), 1);
    assert_eq!(started[0].kind, event_kind::RUN_STARTED);
    assert_eq!(
        (started[0].task, started[0].project),
        (Some(t.id), Some(p.id))
    );

    must(store.set_run_session(run.id, "sess-1"), "set_run_session");
    assert_eq!(
        must(store.run(run.id), "run").session_id.as_deref(),
        Some("sess-1")
    );

    clock.advance(1_234);
    let spent = usage(100, 20, 5, 0.25);
    let finish = RunFinish {
        run: run.id,
        status: RunStatus::Succeeded,
        outcome: Some("committed".into()),
        usage: spent,
        session_id: None,
    };
    let written = must(
        store.commit(&Commit {
            task: Some(moved(&t, Status::Verifying)),
            complete_job: Some(JobCompletion {
                job: job.id,
                owner: "w".into(),
                outcome: JobOutcome::Done,
                error: None,
            }),
            finish_run: Some(finish.clone()),
            ..Commit::default()
        }),
        "finishing commit",
    );
    assert_eq!(written.len(), 1);
    assert_eq!(written[0].kind, event_kind::RUN_FINISHED);
    assert_eq!(
        (written[0].run, written[0].task),
        (Some(run.id), Some(t.id))
    );
    assert_eq!(written[0].project, Some(p.id));
    let ended = must(store.run(run.id), "run");
    assert_eq!(ended.status, RunStatus::Succeeded);
    assert_eq!(ended.outcome.as_deref(), Some("committed"));
    assert_eq!(ended.usage, spent);
    assert_eq!(
        ended.session_id.as_deref(),
        Some("sess-1"),
        "kept when not given"
    );
    assert_eq!(ended.ended_ms, Some(super::START_MS + 1_234));

    // A run ends once.
    assert!(matches!(
        store.commit(&Commit {
            finish_run: Some(finish),
            ..Commit::default()
        }),
        Err(StoreError::Invalid(_))
    ));
    let second = must(store.start_run(&new_run(t.id, Role::Reviewer)), "start_run");
    let runs = must(store.runs(t.id), "runs");
    assert_eq!(
        runs.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![run.id, second.id]
    );
    assert_eq!(runs[1].role, Role::Reviewer);

    let ghost = RunId(second.id.0 + 100);
    assert!(matches!(store.run(ghost), Err(StoreError::RunNotFound(_))));
    assert!(matches!(
        store.set_run_session(ghost, "s"),
        Err(StoreError::RunNotFound(_))
    ));
    assert!(matches!(
        store.start_run(&new_run(TaskId(t.id.0 + 100), Role::Coder)),
        Err(StoreError::TaskNotFound(_))
    ));
    assert!(must(store.runs(TaskId(t.id.0 + 100)), "runs of nothing").is_empty());
}

/// `mark_runs_lost` ends the running runs (of one task, or all) as lost, with a `run.lost`
/// event each, and leaves finished runs alone.
pub fn runs_lost(make: &MakeStore) {
    let (clock, store) = fresh(make);
    let store = store.as_ref();
    let p = project(store, "alpha");
    let t = task(store, p.id, "T");
    let u = task(store, p.id, "U");
    let t1 = must(store.start_run(&new_run(t.id, Role::Coder)), "start_run");
    let t2 = must(store.start_run(&new_run(t.id, Role::Reviewer)), "start_run");
    let u1 = must(store.start_run(&new_run(u.id, Role::Coder)), "start_run");
    must(
        store.commit(&Commit {
            finish_run: Some(RunFinish {
                run: t2.id,
                status: RunStatus::Failed,
                outcome: None,
                usage: Usage::default(),
                session_id: None,
            }),
            ..Commit::default()
        }),
        "finish",
    );
    clock.advance(50);
    let seq = must(store.last_seq(), "last_seq");
    let lost = must(
        store.mark_runs_lost(Some(t.id), "daemon restarted"),
        "mark_runs_lost",
    );
    assert_eq!(lost.iter().map(|r| r.id).collect::<Vec<_>>(), vec![t1.id]);
    assert_eq!(lost[0].status, RunStatus::Lost);
    let stored = must(store.run(t1.id), "run");
    assert_eq!(stored.status, RunStatus::Lost);
    assert_eq!(stored.ended_ms, Some(super::START_MS + 50));
    assert_eq!(must(store.run(t2.id), "run").status, RunStatus::Failed);
    assert_eq!(must(store.run(u1.id), "run").status, RunStatus::Running);
    let events = must(
        store.events_after(seq, 10, &EventFilter::default()),
        "events",
    );
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, event_kind::RUN_LOST);
    assert_eq!((events[0].run, events[0].task), (Some(t1.id), Some(t.id)));
    assert_eq!(events[0].data["reason"], "daemon restarted");

    let all = must(store.mark_runs_lost(None, "gone"), "mark all lost");
    assert_eq!(all.iter().map(|r| r.id).collect::<Vec<_>>(), vec![u1.id]);
    assert!(must(store.mark_runs_lost(None, "gone"), "again").is_empty());
}

/// `usage_totals` sums the usage of every run, overall or for one project.
pub fn usage_totals(make: &MakeStore) {
    let (_clock, store) = fresh(make);
    let store = store.as_ref();
    let empty = must(store.usage_totals(None), "usage_totals");
    assert_eq!((empty.runs, empty.usage), (0, Usage::default()));
    let p = project(store, "alpha");
    let q = project(store, "beta");
    let t = task(store, p.id, "T");
    let u = task(store, q.id, "U");
    let spend = [
        (t.id, usage(100, 10, 1, 0.5)),
        (t.id, usage(200, 20, 2, 0.25)),
        (u.id, usage(7, 3, 0, 1.0)),
    ];
    for (task, spent) in spend {
        let run = must(store.start_run(&new_run(task, Role::Coder)), "start_run");
        must(
            store.commit(&Commit {
                finish_run: Some(RunFinish {
                    run: run.id,
                    status: RunStatus::Succeeded,
                    outcome: None,
                    usage: spent,
                    session_id: Some("s".into()),
                }),
                ..Commit::default()
            }),
            "finish",
        );
    }
    must(
        store.start_run(&new_run(t.id, Role::Reviewer)),
        "a running run with no usage yet",
    );
    let near = |a: f64, b: f64| (a - b).abs() < 1e-9;
    let all = must(store.usage_totals(None), "usage_totals");
    assert_eq!(all.runs, 4);
    assert_eq!(
        (
            all.usage.input_tokens,
            all.usage.output_tokens,
            all.usage.cached_tokens
        ),
        (307, 33, 3)
    );
    assert!(
        near(all.usage.cost_usd, 1.75),
        "cost {}",
        all.usage.cost_usd
    );
    let alpha = must(store.usage_totals(Some(p.id)), "usage_totals");
    assert_eq!(alpha.runs, 3);
    assert_eq!(alpha.usage.input_tokens, 300);
    assert!(near(alpha.usage.cost_usd, 0.75));
    let beta = must(store.usage_totals(Some(q.id)), "usage_totals");
    assert_eq!((beta.runs, beta.usage.output_tokens), (1, 3));
    let none = must(
        store.usage_totals(Some(ProjectId(q.id.0 + 100))),
        "usage_totals",
    );
    assert_eq!(none.runs, 0);
}
