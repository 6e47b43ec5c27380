//! A person takes a task over by hand (`attach`) and hands it back (`hand_back`).

use super::*;
use crate::ids::ObjectId;
use crate::task::{Risk, Role, Status};

fn step(s: &TaskState, input: Input, limits: &Limits) -> (TaskState, Vec<Effect>) {
    match transition(s, &input, limits) {
        Ok(r) => r,
        Err(e) => panic!("{input:?} refused in {:?}: {e}", s.status),
    }
}

fn oid(s: &str) -> ObjectId {
    ObjectId::new(s)
}

fn code(head: &str) -> Input {
    Input::RunFinished {
        role: Role::Coder,
        result: RunResult::Code {
            head: oid(head),
            risk: None,
        },
    }
}

fn coding(flow: Flow, limits: &Limits) -> TaskState {
    let s = TaskState::new(flow, Risk::Low, 0);
    let s = step(&s, Input::Promote, limits).0;
    step(&s, Input::Start, limits).0
}

fn hand_back(head: Option<&str>) -> Input {
    Input::HandBack {
        head: head.map(oid),
        risk: None,
    }
}

#[test]
fn attaching_a_coding_task_stops_its_work_and_handing_back_a_change_verifies_it() {
    let limits = Limits::default();
    let s = coding(Flow::default(), &limits);
    let (attached, fx) = step(&s, Input::Attach, &limits);
    assert_eq!(attached.status, Status::Attached);
    assert_eq!(fx, vec![Effect::CancelJobs]);
    assert_eq!(attached.note.as_deref(), Some(ATTACHED_NOTE));
    // While attached nothing of the engine's moves it.
    for input in [Input::Start, code("c1"), Input::Release, Input::Attach] {
        assert!(transition(&attached, &input, &limits).is_err(), "{input:?}");
    }
    let (back, fx) = step(&attached, hand_back(Some("p1")), &limits);
    assert_eq!(back.status, Status::Verifying);
    assert_eq!(back.head, Some(oid("p1")));
    assert_eq!(back.note, None);
    assert_eq!(
        fx,
        vec![Effect::Verify {
            commit: oid("p1"),
            purpose: VerifyPurpose::Branch
        }]
    );
    assert_eq!(
        back.code_runs, s.code_runs,
        "a person's work is no agent run"
    );
}

#[test]
fn handed_back_without_a_change_the_coder_goes_on_in_its_session() {
    let limits = Limits::default();
    let s = coding(Flow::default(), &limits);
    let attached = step(&s, Input::Attach, &limits).0;
    let (back, fx) = step(&attached, hand_back(None), &limits);
    assert_eq!(back.status, Status::Coding);
    assert!(matches!(
        fx.as_slice(),
        [Effect::StartRun {
            role: Role::Coder,
            session: SessionMode::Resume,
            reason: RunReason::HandedBack,
            ..
        }]
    ));
}

#[test]
fn a_failed_task_can_be_taken_over_and_its_attempts_start_again() {
    let limits = Limits {
        failures_per_tier: 1,
        ..Limits::default()
    };
    let s = coding(Flow::default(), &limits);
    let s = step(&s, code("c1"), &limits).0;
    let verify = Input::VerifyFinished {
        commit: oid("c1"),
        tree: oid("t1"),
        passed: false,
        summary: "broken".into(),
        conflicts: vec![],
    };
    let failed = step(&s, verify, &limits).0;
    assert_eq!(failed.status, Status::Failed);
    let attached = step(&failed, Input::Attach, &limits).0;
    let back = step(&attached, hand_back(Some("p1")), &limits).0;
    assert_eq!((back.status, back.failures), (Status::Verifying, 0));
    let high = Input::HandBack {
        head: Some(oid("p2")),
        risk: Some(Risk::High),
    };
    let attached = step(&back, Input::Attach, &limits).0;
    assert_eq!(step(&attached, high, &limits).0.risk, Risk::High);
}

#[test]
fn a_question_or_a_held_run_is_dropped_when_a_person_takes_over() {
    let limits = Limits::default();
    let s = coding(Flow::default(), &limits);
    let asked = Input::RunFinished {
        role: Role::Coder,
        result: RunResult::Question { text: "?".into() },
    };
    let waiting = step(&s, asked, &limits).0;
    assert_eq!(waiting.status, Status::NeedsInput);
    let attached = step(&waiting, Input::Attach, &limits).0;
    assert_eq!((attached.paused, attached.held.clone()), (None, None));
    let held = Input::Hold {
        reason: "budget".into(),
        run: PendingRun {
            role: Role::Coder,
            tier: 0,
            session: SessionMode::Fresh,
            reason: RunReason::Start,
            feedback: None,
            slot: None,
        },
    };
    let held = step(&s, held, &limits).0;
    assert!(held.held.is_some());
    let attached = step(&held, Input::Attach, &limits).0;
    assert!(attached.held.is_none());
}

#[test]
fn only_tasks_an_agent_works_on_or_that_wait_can_be_attached() {
    let limits = Limits::default();
    let backlog = TaskState::new(Flow::default(), Risk::Low, 0);
    let planning = coding(
        Flow {
            plan: true,
            ..Flow::default()
        },
        &limits,
    );
    assert_eq!(planning.status, Status::Planning);
    let best_of = coding(
        Flow {
            best_of: 2,
            ..Flow::default()
        },
        &limits,
    );
    assert!(!best_of.attempts.is_empty());
    let mut merged = backlog.clone();
    merged.status = Status::Merged;
    let mut queued = backlog.clone();
    queued.status = Status::Queued;
    for s in [backlog, planning, best_of, merged, queued] {
        let refused = transition(&s, &Input::Attach, &limits);
        assert!(
            matches!(
                refused,
                Err(TransitionError::NotAllowed {
                    input: "attach",
                    ..
                })
            ),
            "{:?}: {refused:?}",
            s.status
        );
    }
    // Handing back what was not taken.
    let s = coding(Flow::default(), &limits);
    assert!(transition(&s, &hand_back(Some("x")), &limits).is_err());
    // An attached task can still be cancelled.
    let attached = step(&s, Input::Attach, &limits).0;
    let cancelled = step(
        &attached,
        Input::Cancel {
            reason: "no".into(),
        },
        &limits,
    )
    .0;
    assert_eq!(cancelled.status, Status::Cancelled);
}
