//! A task's course changed: a prepared change (a revert) starts at verify, a ready task given a
//! dependency goes back to the backlog, a waiting task gets a place in the queue's line.

use super::*;
use crate::ids::ObjectId;
use crate::task::{Risk, Role, Status};

fn step(s: &TaskState, input: Input, limits: &Limits) -> (TaskState, Vec<Effect>) {
    match transition(s, &input, limits) {
        Ok(r) => r,
        Err(e) => panic!("{input:?} refused in {:?}: {e}", s.status),
    }
}

/// A revert as `Board::revert` creates it: prepared, no review, its head set.
fn prepared() -> TaskState {
    let flow = Flow {
        review: false,
        prepared: true,
        ..Flow::default()
    };
    let mut s = TaskState::new(flow, Risk::Low, 0);
    s.head = Some(ObjectId::new("r1"));
    s
}

fn verified(commit: &str, passed: bool) -> Input {
    Input::VerifyFinished {
        commit: ObjectId::new(commit),
        tree: ObjectId::new(format!("t-{commit}")),
        passed,
        summary: "out".into(),
        conflicts: vec![],
    }
}

#[test]
fn a_prepared_change_starts_at_verify_and_queues_when_it_passes() {
    let limits = Limits::default();
    let s = step(&prepared(), Input::Promote, &limits).0;
    let (s, fx) = step(&s, Input::Start, &limits);
    assert_eq!(s.status, Status::Verifying);
    assert_eq!(
        fx,
        vec![Effect::Verify {
            commit: ObjectId::new("r1"),
            purpose: VerifyPurpose::Branch,
        }]
    );
    assert_eq!(s.code_runs, 0, "no agent ran");
    let (s, _) = step(&s, verified("r1", true), &limits);
    assert_eq!(s.status, Status::Queued);
    assert_eq!(s.verified.as_ref().map(|v| v.tree.as_str()), Some("t-r1"));
}

#[test]
fn a_prepared_change_that_fails_verify_goes_to_a_coder_with_the_output() {
    let limits = Limits::default();
    let s = step(&prepared(), Input::Promote, &limits).0;
    let s = step(&s, Input::Start, &limits).0;
    let (s, fx) = step(&s, verified("r1", false), &limits);
    assert_eq!(s.status, Status::Coding);
    assert!(matches!(
        fx.as_slice(),
        [Effect::StartRun {
            role: Role::Coder,
            reason: RunReason::VerifyFailed,
            feedback: Some(out),
            ..
        }] if out == "out"
    ));
    // From then on it is a change like any other: a retry after a failure codes.
    let mut failed = s.clone();
    failed.status = Status::Failed;
    let s = step(&failed, Input::Retry { fresh: false }, &limits).0;
    let (s, fx) = step(&s, Input::Start, &limits);
    assert_eq!(s.status, Status::Coding);
    assert!(matches!(
        fx.as_slice(),
        [Effect::StartRun {
            reason: RunReason::Retried,
            ..
        }]
    ));
}

#[test]
fn a_prepared_change_without_a_head_is_coded() {
    let limits = Limits::default();
    let mut s = prepared();
    s.head = None;
    let s = step(&s, Input::Promote, &limits).0;
    let (s, fx) = step(&s, Input::Start, &limits);
    assert_eq!(s.status, Status::Coding);
    assert!(matches!(
        fx.as_slice(),
        [Effect::StartRun {
            role: Role::Coder,
            ..
        }]
    ));
}

#[test]
fn only_a_ready_task_goes_back_to_the_backlog() {
    let limits = Limits::default();
    let s = TaskState::new(Flow::default(), Risk::Low, 0);
    assert!(transition(&s, &Input::Demote, &limits).is_err(), "backlog");
    let ready = step(&s, Input::Promote, &limits).0;
    let (back, fx) = step(&ready, Input::Demote, &limits);
    assert_eq!(back.status, Status::Backlog);
    assert!(fx.is_empty());
    let coding = step(&ready, Input::Start, &limits).0;
    assert!(matches!(
        transition(&coding, &Input::Demote, &limits),
        Err(TransitionError::NotAllowed {
            status: Status::Coding,
            input: "demote"
        })
    ));
}

#[test]
fn a_place_is_kept_only_while_the_task_waits_in_the_queue() {
    let limits = Limits::default();
    let mut s = prepared();
    s = step(&s, Input::Promote, &limits).0;
    assert!(
        transition(
            &s,
            &Input::Place {
                rank: 1,
                since_ms: 5
            },
            &limits
        )
        .is_err(),
        "not queued"
    );
    s = step(&s, Input::Start, &limits).0;
    s = step(&s, verified("r1", true), &limits).0;
    let (placed, fx) = step(
        &s,
        Input::Place {
            rank: 2,
            since_ms: 5,
        },
        &limits,
    );
    assert!(fx.is_empty());
    assert_eq!(
        placed.place,
        Some(WaitingPlace {
            rank: 2,
            since_ms: 5
        })
    );
    let (merging, _) = step(
        &placed,
        Input::BeginMerge {
            position: 1,
            since_ms: 5,
        },
        &limits,
    );
    assert_eq!(merging.place, None, "it left the waiting line");
    assert!(
        transition(
            &merging,
            &Input::Place {
                rank: 1,
                since_ms: 5
            },
            &limits
        )
        .is_err(),
        "the train keeps its order"
    );
    let (cancelled, _) = step(
        &placed,
        Input::Cancel {
            reason: "no".into(),
        },
        &limits,
    );
    assert_eq!(cancelled.place, None);
}
