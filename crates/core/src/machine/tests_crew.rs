//! Examples of the budget, best-of-N and survey paths (their properties are in `tests.rs`).

use super::*;
use crate::ids::ObjectId;
use crate::task::{Risk, Role, Status};

fn oid(s: &str) -> ObjectId {
    ObjectId::new(s)
}

fn step(s: &TaskState, input: Input, limits: &Limits) -> (TaskState, Vec<Effect>) {
    match transition(s, &input, limits) {
        Ok(r) => r,
        Err(e) => panic!("{input:?} refused in {:?}: {e}", s.status),
    }
}

fn started(flow: Flow, limits: &Limits) -> (TaskState, Vec<Effect>) {
    let s = TaskState::new(flow, Risk::Low, 0);
    let (s, _) = step(&s, Input::Promote, limits);
    step(&s, Input::Start, limits)
}

fn pending(effect: &Effect) -> PendingRun {
    match effect {
        Effect::StartRun {
            role,
            tier,
            session,
            reason,
            feedback,
        } => PendingRun {
            role: *role,
            tier: *tier,
            session: *session,
            reason: *reason,
            feedback: feedback.clone(),
            slot: None,
        },
        Effect::StartAttempt { slot, tier } => PendingRun::attempt(*slot, *tier),
        other => panic!("not a run: {other:?}"),
    }
}

fn hold(run: PendingRun) -> Input {
    Input::Hold {
        reason: "budget: task #1 spent $0.50 of its $0.50".into(),
        run,
    }
}

#[test]
fn a_spent_budget_holds_the_run_and_releasing_starts_exactly_that_run() {
    let limits = Limits::default();
    let (s, fx) = started(Flow::default(), &limits);
    let run = pending(&fx[0]);
    let (held, fx) = step(&s, hold(run.clone()), &limits);
    assert_eq!(held.status, Status::AwaitingApproval);
    assert!(held.status.waits_on_person());
    assert_eq!(
        held.note.as_deref(),
        Some("budget: task #1 spent $0.50 of its $0.50")
    );
    assert_eq!(
        fx,
        vec![Effect::Notify(Notice::BudgetStop {
            reason: "budget: task #1 spent $0.50 of its $0.50".into()
        })]
    );
    // Raised budget: the same run, nothing else; the counters did not move.
    let (released, fx) = step(&held, Input::Release, &limits);
    assert_eq!(released.status, Status::Coding);
    assert_eq!(fx, vec![run.effect()]);
    assert_eq!(released.code_runs, s.code_runs);
    assert!(!released.budget_approved && released.held.is_none());
    // Approved once: the permission lasts until the next run finishes.
    let (approved, fx) = step(&held, Input::Approve, &limits);
    assert_eq!(fx, vec![run.effect()]);
    assert!(approved.budget_approved);
    let (after, _) = step(
        &approved,
        Input::RunFinished {
            role: Role::Coder,
            result: RunResult::Code {
                head: oid("c1"),
                risk: None,
            },
        },
        &limits,
    );
    assert!(!after.budget_approved);
    // Rejected: cancelled, or failed (a person may retry it later).
    let (cancelled, _) = step(
        &held,
        Input::Reject {
            reason: "too dear".into(),
            cancel: true,
        },
        &limits,
    );
    assert_eq!(cancelled.status, Status::Cancelled);
    assert!(cancelled.held.is_none());
    let (failed, _) = step(
        &held,
        Input::Reject {
            reason: "too dear".into(),
            cancel: false,
        },
        &limits,
    );
    assert_eq!(failed.status, Status::Failed);
    assert!(failed.note.unwrap_or_default().contains("too dear"));
}

#[test]
fn hold_is_refused_where_no_run_starts_and_release_only_for_a_held_task() {
    let limits = Limits::default();
    let run = PendingRun {
        role: Role::Coder,
        tier: 0,
        session: SessionMode::Fresh,
        reason: RunReason::Start,
        feedback: None,
        slot: None,
    };
    let backlog = TaskState::new(Flow::default(), Risk::Low, 0);
    assert!(transition(&backlog, &hold(run.clone()), &limits).is_err());
    let (coding, _) = started(Flow::default(), &limits);
    let reviewer = PendingRun {
        role: Role::Reviewer,
        ..run.clone()
    };
    assert!(matches!(
        transition(&coding, &hold(reviewer), &limits),
        Err(TransitionError::WrongRole { .. })
    ));
    assert!(transition(&coding, &Input::Release, &limits).is_err());
    // An approval gate that is not a budget stop is not released by the engine.
    let gate = TaskState {
        status: Status::AwaitingApproval,
        ..coding
    };
    assert!(transition(&gate, &Input::Release, &limits).is_err());
}

fn best_of(n: u32, review: bool) -> Flow {
    Flow {
        best_of: n,
        review,
        ..Flow::default()
    }
}

fn attempt_code(slot: u32, head: &str) -> Input {
    Input::AttemptFinished {
        slot,
        result: RunResult::Code {
            head: oid(head),
            risk: None,
        },
    }
}

fn attempt_verified(slot: u32, head: &str, passed: bool) -> Input {
    Input::AttemptVerified {
        slot,
        commit: oid(head),
        tree: oid(&format!("tree-{head}")),
        passed,
        summary: "`sh verify.sh` exit code 1".into(),
    }
}

/// A best-of-3 task whose three attempts committed `a1`, `a2`, `a3`.
fn three_committed(review: bool, limits: &Limits) -> TaskState {
    let (mut s, fx) = started(best_of(3, review), limits);
    assert_eq!(
        fx,
        (1..=3)
            .map(|slot| Effect::StartAttempt { slot, tier: 0 })
            .collect::<Vec<_>>()
    );
    assert_eq!(
        (s.status, s.code_runs, s.attempts.len()),
        (Status::Coding, 3, 3)
    );
    for slot in 1..=3 {
        let (next, fx) = step(&s, attempt_code(slot, &format!("a{slot}")), limits);
        assert_eq!(
            fx,
            vec![Effect::VerifyAttempt {
                slot,
                commit: oid(&format!("a{slot}"))
            }]
        );
        s = next;
    }
    s
}

#[test]
fn best_of_three_one_fails_verify_and_the_reviewer_picks_between_the_other_two() {
    let limits = Limits {
        skip_identical_candidates: true,
        ..Limits::default()
    };
    let s = three_committed(true, &limits);
    let (s, fx) = step(&s, attempt_verified(1, "a1", false), &limits);
    assert!(fx.is_empty());
    let (s, fx) = step(&s, attempt_verified(2, "a2", true), &limits);
    assert!(fx.is_empty(), "attempt 3 still verifies: {fx:?}");
    assert!(
        transition(&s, &attempt_verified(3, "other", true), &limits).is_err(),
        "a stale commit"
    );
    let (s, fx) = step(&s, attempt_verified(3, "a3", true), &limits);
    assert_eq!(s.status, Status::Reviewing);
    assert!(matches!(
        fx[..],
        [Effect::StartRun {
            role: Role::Reviewer,
            reason: RunReason::Pick,
            ..
        }]
    ));
    // A pick of the attempt that failed is refused.
    let pick = |slot| Input::RunFinished {
        role: Role::Reviewer,
        result: RunResult::Pick {
            slot,
            approved: true,
            reasons: "smaller change".into(),
        },
    };
    assert!(transition(&s, &pick(1), &limits).is_err());
    let (s, fx) = step(&s, pick(3), &limits);
    assert_eq!(s.status, Status::Queued, "the pick was the review");
    assert_eq!(s.head, Some(oid("a3")));
    assert_eq!(
        s.verified,
        Some(VerifiedTree {
            commit: oid("a3"),
            tree: oid("tree-a3")
        })
    );
    assert!(s.attempts.is_empty());
    assert_eq!(
        fx,
        vec![Effect::SettleAttempts {
            slots: 3,
            kept: Some(3)
        }]
    );
    assert_eq!(s.total_failures, 1);
    // From here the task merges as usual, without verifying the tree again.
    let (s, _) = step(
        &s,
        Input::BeginMerge {
            position: 1,
            since_ms: 0,
        },
        &limits,
    );
    let (s, fx) = step(
        &s,
        Input::CandidateReady {
            commit: oid("m3"),
            tree: oid("tree-a3"),
            onto: oid("tip"),
        },
        &limits,
    );
    assert!(fx.is_empty());
    let (s, _) = step(
        &s,
        Input::Landed {
            commit: oid("m3"),
            tree: oid("tree-a3"),
        },
        &limits,
    );
    assert_eq!(s.status, Status::Merged);
}

#[test]
fn a_pick_with_requested_changes_goes_back_to_a_coder_on_the_picked_change() {
    let limits = Limits::default();
    let mut s = three_committed(true, &limits);
    for slot in 1..=3 {
        s = step(
            &s,
            attempt_verified(slot, &format!("a{slot}"), true),
            &limits,
        )
        .0;
    }
    let (s, fx) = step(
        &s,
        Input::RunFinished {
            role: Role::Reviewer,
            result: RunResult::Pick {
                slot: 2,
                approved: false,
                reasons: "rename x".into(),
            },
        },
        &limits,
    );
    assert_eq!(
        (s.status, s.head.clone()),
        (Status::Coding, Some(oid("a2")))
    );
    assert_eq!(s.review_rounds, 1);
    assert_eq!(
        fx,
        vec![
            Effect::SettleAttempts {
                slots: 3,
                kept: Some(2)
            },
            Effect::StartRun {
                role: Role::Coder,
                tier: 0,
                session: SessionMode::Fresh,
                reason: RunReason::ChangesRequested,
                feedback: Some("rename x".into()),
            }
        ]
    );
}

#[test]
fn a_single_passing_attempt_is_adopted_and_reviewed_as_usual() {
    let limits = Limits::default();
    let s = three_committed(true, &limits);
    let s = step(&s, attempt_verified(1, "a1", false), &limits).0;
    let s = step(&s, attempt_verified(2, "a2", true), &limits).0;
    let (s, fx) = step(&s, attempt_verified(3, "a3", false), &limits);
    assert_eq!(
        (s.status, s.head.clone()),
        (Status::Reviewing, Some(oid("a2")))
    );
    assert!(matches!(
        fx[..],
        [
            Effect::SettleAttempts {
                slots: 3,
                kept: Some(2)
            },
            Effect::StartRun {
                role: Role::Reviewer,
                reason: RunReason::Start,
                ..
            }
        ]
    ));
}

#[test]
fn when_every_attempt_fails_one_coder_goes_on_afresh_with_the_evidence() {
    let limits = Limits::default();
    let (s, _) = started(best_of(2, false), &limits);
    let s = step(
        &s,
        Input::AttemptFinished {
            slot: 1,
            result: RunResult::NoChanges {
                summary: "nothing to do".into(),
            },
        },
        &limits,
    )
    .0;
    let s = step(&s, attempt_code(2, "a2"), &limits).0;
    let (s, fx) = step(&s, attempt_verified(2, "a2", false), &limits);
    assert_eq!(
        (s.status, s.failures, s.head.clone()),
        (Status::Coding, 1, None)
    );
    assert_eq!(
        fx[0],
        Effect::SettleAttempts {
            slots: 2,
            kept: None
        }
    );
    match &fx[1] {
        Effect::StartRun {
            role: Role::Coder,
            session: SessionMode::Fresh,
            feedback: Some(f),
            ..
        } => assert!(
            f.contains("attempt 1: the agent made no changes") && f.contains("exit code 1"),
            "{f}"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_held_attempt_fails_alone_and_cancelling_discards_the_attempts() {
    let limits = Limits::default();
    let (s, fx) = started(best_of(2, false), &limits);
    let (s, fx2) = step(&s, hold(pending(&fx[0])), &limits);
    assert_eq!(s.status, Status::Coding, "the other attempt goes on");
    assert!(matches!(
        fx2[..],
        [Effect::Notify(Notice::BudgetStop { .. })]
    ));
    let (cancelled, fx) = step(
        &s,
        Input::Cancel {
            reason: "enough".into(),
        },
        &limits,
    );
    assert!(cancelled.attempts.is_empty());
    assert!(fx.contains(&Effect::CancelJobs));
    assert!(fx.contains(&Effect::SettleAttempts {
        slots: 2,
        kept: None
    }));
}

#[test]
fn a_survey_files_its_plan_as_proposals_and_ends() {
    let limits = Limits::default();
    let flow = Flow {
        plan: true,
        plan_review: false,
        survey: true,
        ..Flow::default()
    };
    let (s, fx) = started(flow, &limits);
    assert_eq!(s.status, Status::Planning);
    assert!(matches!(
        fx[..],
        [Effect::StartRun {
            role: Role::Planner,
            ..
        }]
    ));
    let (s, fx) = step(
        &s,
        Input::RunFinished {
            role: Role::Planner,
            result: RunResult::Plan { subtasks: 2 },
        },
        &limits,
    );
    assert_eq!(s.status, Status::Merged);
    assert_eq!(s.note.as_deref(), Some("the survey filed 2 proposals"));
    assert_eq!(
        fx,
        vec![
            Effect::CreateChildren,
            Effect::Cleanup {
                delete_branch: true
            }
        ]
    );
}
