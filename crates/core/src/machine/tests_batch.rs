//! The machine's side of batches: a task takes a batch's candidate, becomes a suspect of the
//! batch it failed in (and of no other), and is cleared.

use super::*;
use crate::ids::{ObjectId, TaskId};
use crate::task::{Risk, Role, Status};

fn oid(s: &str) -> ObjectId {
    ObjectId::new(s)
}

fn step(s: &TaskState, input: Input) -> (TaskState, Vec<Effect>) {
    match transition(s, &input, &Limits::default()) {
        Ok(r) => r,
        Err(e) => panic!("{input:?} refused in {:?}: {e}", s.status),
    }
}

/// A task in the merge train whose candidate is batch `b1` of tasks 1 and 2.
fn in_batch() -> TaskState {
    let mut s = TaskState::new(Flow::default(), Risk::Low, 0);
    for input in [
        Input::Promote,
        Input::Start,
        Input::RunFinished {
            role: Role::Coder,
            result: RunResult::Code {
                head: oid("h1"),
                risk: None,
            },
        },
        Input::VerifyFinished {
            commit: oid("h1"),
            tree: oid("t1"),
            passed: true,
            summary: String::new(),
            conflicts: vec![],
        },
        Input::BeginMerge {
            position: 1,
            since_ms: 0,
        },
        Input::BatchReady {
            commit: oid("b1"),
            tree: oid("tb1"),
            onto: oid("tip"),
            batch: vec![TaskId(1), TaskId(2)],
            lead: false,
            change: Some(oid("s1")),
        },
    ] {
        s = step(&s, input).0;
    }
    s
}

fn bisect(group: &str) -> Input {
    Input::Bisect {
        group: oid(group),
        tasks: vec![TaskId(1), TaskId(2)],
    }
}

#[test]
fn a_task_becomes_a_suspect_only_of_the_batch_it_was_tested_in() {
    let s = in_batch();
    assert_eq!(
        s.candidate.as_ref().and_then(|c| c.change.clone()),
        Some(oid("s1")),
        "its own change in the batch"
    );
    // Another batch's failure says nothing of this task.
    assert!(transition(&s, &bisect("b9"), &Limits::default()).is_err());
    let (suspect, fx) = step(&s, bisect("b1"));
    assert_eq!(suspect.candidate, None);
    assert_eq!(fx, vec![Effect::CancelJobs]);
    let slot = suspect.queue.clone().expect("still in the train");
    assert_eq!(slot.suspect, Some(oid("b1")));
    assert_eq!(slot.group, vec![TaskId(1), TaskId(2)]);
    // Taken up again after a crash: the same group again changes nothing; another is refused.
    let (again, fx) = step(&suspect, bisect("b1"));
    assert_eq!(again, suspect);
    assert!(fx.is_empty());
    assert!(transition(&suspect, &bisect("b9"), &Limits::default()).is_err());
    // A candidate of one task is never bisected: it is rechecked.
    let mut single = in_batch();
    if let Some(c) = &mut single.candidate {
        c.batch.clear();
    }
    assert!(transition(&single, &bisect("b1"), &Limits::default()).is_err());
    // Cleared: no group left either.
    // Not of another group than its own (it became a suspect of a part since, say).
    let other = Input::Acquit {
        group: Some(oid("b9")),
        flaky: false,
    };
    assert!(transition(&suspect, &other, &Limits::default()).is_err());
    let (cleared, _) = step(
        &suspect,
        Input::Acquit {
            group: Some(oid("b1")),
            flaky: false,
        },
    );
    let slot = cleared.queue.expect("still in the train");
    assert_eq!((slot.suspect, slot.group), (None, vec![]));
    assert_eq!(cleared.status, Status::Merging);
}
