//! Retrying a failed task: on its branch as it is, or afresh (`retry --fresh`).

use super::*;
use crate::ids::ObjectId;
use crate::task::{Risk, Role, Status};

fn step(s: &TaskState, input: Input, limits: &Limits) -> (TaskState, Vec<Effect>) {
    match transition(s, &input, limits) {
        Ok(r) => r,
        Err(e) => panic!("{input:?} refused in {:?}: {e}", s.status),
    }
}

/// A task that coded `c1`, failed verify on every rung of a two-rung ladder, and failed.
fn failed(limits: &Limits) -> TaskState {
    let mut s = TaskState::new(Flow::default(), Risk::Low, 0);
    s = step(&s, Input::Promote, limits).0;
    s = step(&s, Input::Start, limits).0;
    while s.status != Status::Failed {
        let head = ObjectId::new(format!("c{}", s.code_runs));
        let code = Input::RunFinished {
            role: Role::Coder,
            result: RunResult::Code {
                head: head.clone(),
                risk: None,
            },
        };
        s = step(&s, code, limits).0;
        let verify = Input::VerifyFinished {
            commit: head,
            tree: ObjectId::new("t"),
            passed: false,
            summary: "broken".into(),
            conflicts: vec![],
        };
        s = step(&s, verify, limits).0;
    }
    s
}

fn limits() -> Limits {
    Limits {
        failures_per_tier: 2,
        tiers: 2,
        ..Limits::default()
    }
}

fn first_run(fx: &[Effect]) -> (u32, SessionMode, RunReason) {
    match fx.first() {
        Some(Effect::StartRun {
            tier,
            session,
            reason,
            ..
        }) => (*tier, *session, *reason),
        other => panic!("expected a run, got {other:?}"),
    }
}

#[test]
fn a_plain_retry_goes_on_from_the_branch_at_its_tier() {
    let limits = limits();
    let s = failed(&limits);
    assert_eq!(s.tier, 1);
    let (s, fx) = step(&s, Input::Retry { fresh: false }, &limits);
    assert_eq!(fx, vec![Effect::CancelJobs]);
    assert!(s.head.is_some());
    let (s, fx) = step(&s, Input::Start, &limits);
    assert_eq!(first_run(&fx), (1, SessionMode::Fresh, RunReason::Retried));
    assert_eq!(s.restarts, 0);
}

#[test]
fn a_fresh_retry_starts_over_on_a_new_branch_at_the_bottom_of_the_ladder() {
    let limits = limits();
    let s = failed(&limits);
    let runs = s.code_runs;
    let total = s.total_failures;
    let (s, fx) = step(&s, Input::Retry { fresh: true }, &limits);
    assert_eq!(fx, vec![Effect::CancelJobs, Effect::FreshBranch]);
    assert_eq!(s.status, Status::Ready);
    assert_eq!((s.tier, s.failures, s.restarts), (0, 0, 1));
    assert!(s.head.is_none() && s.verified.is_none() && s.note.is_none());
    // The history stays, for people.
    assert_eq!((s.code_runs, s.total_failures), (runs, total));
    let (s, fx) = step(&s, Input::Start, &limits);
    assert_eq!(
        first_run(&fx),
        (0, SessionMode::Fresh, RunReason::Restarted)
    );
    assert!(!s.restarting);
    // Its next failure resumes as usual; a later plain retry is a plain one again.
    let s = failed_from_coding(s, &limits);
    let (s, _) = step(&s, Input::Retry { fresh: false }, &limits);
    let (_, fx) = step(&s, Input::Start, &limits);
    assert_eq!(first_run(&fx).2, RunReason::Retried);
}

fn failed_from_coding(s: TaskState, limits: &Limits) -> TaskState {
    let (s, _) = step(
        &s,
        Input::Fail {
            reason: "lost".into(),
        },
        limits,
    );
    assert_eq!(s.status, Status::Failed);
    s
}

#[test]
fn a_fresh_retry_of_a_planned_task_plans_again_and_clears_its_mark() {
    let limits = limits();
    let flow = Flow {
        plan: true,
        ..Flow::default()
    };
    let mut s = TaskState::new(flow, Risk::Low, 0);
    s = step(&s, Input::Promote, &limits).0;
    s = step(&s, Input::Start, &limits).0;
    s = failed_from_coding(s, &limits);
    let (s, _) = step(&s, Input::Retry { fresh: true }, &limits);
    let (s, fx) = step(&s, Input::Start, &limits);
    assert_eq!(s.status, Status::Planning);
    assert_eq!(first_run(&fx).2, RunReason::Start);
    assert!(!s.restarting);
}

#[test]
fn a_fresh_retry_of_a_best_of_task_fans_out_again() {
    let limits = limits();
    let flow = Flow {
        best_of: 2,
        ..Flow::default()
    };
    let mut s = TaskState::new(flow, Risk::Low, 0);
    s = step(&s, Input::Promote, &limits).0;
    s = step(&s, Input::Start, &limits).0;
    assert_eq!(s.attempts.len(), 2);
    s = failed_from_coding(s, &limits);
    let (s, _) = step(&s, Input::Retry { fresh: true }, &limits);
    let (s, fx) = step(&s, Input::Start, &limits);
    assert_eq!(s.attempts.len(), 2);
    assert!(matches!(fx[0], Effect::StartAttempt { tier: 0, .. }));
}

#[test]
fn only_a_failed_task_is_retried() {
    let limits = limits();
    let s = TaskState::new(Flow::default(), Risk::Low, 0);
    for fresh in [false, true] {
        assert!(transition(&s, &Input::Retry { fresh }, &limits).is_err());
    }
}

#[test]
fn an_old_retry_input_reads_as_a_plain_one() {
    let input: Input = serde_json::from_str(r#"{"input":"retry"}"#).unwrap();
    assert_eq!(input, Input::Retry { fresh: false });
}
