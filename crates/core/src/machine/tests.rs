//! Example-based and property tests of the machine.

use super::*;
use crate::ids::ObjectId;
use crate::task::{Risk, Role, Status};
use proptest::prelude::*;
use std::collections::HashSet;

fn oid(s: &str) -> ObjectId {
    ObjectId::new(s)
}

fn step(s: &TaskState, input: Input, limits: &Limits) -> (TaskState, Vec<Effect>) {
    match transition(s, &input, limits) {
        Ok(r) => r,
        Err(e) => panic!("{input:?} refused in {:?}: {e}", s.status),
    }
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

fn verified(commit: &str, tree: &str, passed: bool) -> Input {
    Input::VerifyFinished {
        commit: oid(commit),
        tree: oid(tree),
        passed,
        summary: "out".into(),
        conflicts: vec![],
    }
}

fn begin_merge() -> Input {
    Input::BeginMerge {
        position: 1,
        since_ms: 0,
    }
}

/// A task that passed verify with commit `c1` (tree `t1`) and joined the merge train.
fn merging(limits: &Limits) -> TaskState {
    let mut s = TaskState::new(Flow::default(), Risk::Low, 0);
    for i in [
        Input::Promote,
        Input::Start,
        code("c1"),
        verified("c1", "t1", true),
        begin_merge(),
    ] {
        s = step(&s, i, limits).0;
    }
    s
}

fn candidate(commit: &str, tree: &str) -> Input {
    Input::CandidateReady {
        commit: oid(commit),
        tree: oid(tree),
        onto: oid("tip"),
    }
}

#[test]
fn a_candidate_is_verified_even_when_its_branch_passed_the_same_tree_unless_verify_is_the_same() {
    let queued = |limits: &Limits| {
        let s = TaskState::new(Flow::default(), Risk::Low, 0);
        let (s, _) = step(&s, Input::Promote, limits);
        let (s, _) = step(&s, Input::Start, limits);
        let (s, _) = step(&s, code("c1"), limits);
        let (s, _) = step(&s, verified("c1", "t1", true), limits);
        let (s, _) = step(&s, begin_merge(), limits);
        step(&s, candidate("m1", "t1"), limits)
    };
    // By default a branch's pass may be a quick check (`GAFFER_VERIFY_PURPOSE=branch`).
    let (s, fx) = queued(&Limits::default());
    assert_eq!(
        fx,
        vec![Effect::Verify {
            commit: oid("m1"),
            purpose: VerifyPurpose::Candidate
        }]
    );
    assert!(!s.candidate.as_ref().is_some_and(Candidate::passed));
    let (s, fx) = queued(&Limits {
        skip_identical_candidates: true,
        ..Limits::default()
    });
    assert!(fx.is_empty(), "no second verify of a verified tree: {fx:?}");
    assert!(s.candidate.as_ref().is_some_and(Candidate::passed));
}

#[test]
fn happy_path_reaches_merged_with_verified_tree() {
    let limits = Limits {
        skip_identical_candidates: true,
        ..Limits::default()
    };
    let s = TaskState::new(Flow::default(), Risk::Low, 0);
    let (s, _) = step(&s, Input::Promote, &limits);
    let (s, fx) = step(&s, Input::Start, &limits);
    assert_eq!(s.status, Status::Coding);
    assert!(matches!(
        fx[0],
        Effect::StartRun {
            role: Role::Coder,
            ..
        }
    ));
    let (s, fx) = step(&s, code("c1"), &limits);
    assert_eq!(
        fx,
        vec![Effect::Verify {
            commit: oid("c1"),
            purpose: VerifyPurpose::Branch
        }]
    );
    let (s, _) = step(&s, verified("c1", "t1", true), &limits);
    assert_eq!(s.status, Status::Queued);
    let (s, fx) = step(&s, begin_merge(), &limits);
    assert_eq!(s.status, Status::Merging);
    assert!(
        fx.is_empty(),
        "the queue builds candidates, not the task: {fx:?}"
    );
    // The branch applied on the tip without changes of the target: the very tree that passed.
    let (s, fx) = step(&s, candidate("m1", "t1"), &limits);
    assert!(fx.is_empty(), "no second verify of a verified tree: {fx:?}");
    assert!(s.candidate.as_ref().is_some_and(Candidate::passed));
    let (s, fx) = step(
        &s,
        Input::Landed {
            commit: oid("m1"),
            tree: oid("t1"),
        },
        &limits,
    );
    assert_eq!(s.status, Status::Merged);
    assert_eq!(s.queue, None);
    assert!(fx.contains(&Effect::Cleanup {
        delete_branch: true
    }));
}

#[test]
fn a_merged_candidate_with_a_new_tree_is_verified_before_landing() {
    let limits = Limits::default();
    let s = merging(&limits);
    let (s, fx) = step(&s, candidate("m1", "t2"), &limits);
    assert_eq!(
        fx,
        vec![Effect::Verify {
            commit: oid("m1"),
            purpose: VerifyPurpose::Candidate
        }]
    );
    let landed = Input::Landed {
        commit: oid("m1"),
        tree: oid("t2"),
    };
    assert_eq!(
        transition(&s, &landed, &limits),
        Err(TransitionError::UnverifiedTree { tree: "t2".into() })
    );
    let (s, fx) = step(&s, verified("m1", "t2", true), &limits);
    assert!(fx.is_empty(), "landing is the queue's decision: {fx:?}");
    let (s, _) = step(&s, landed, &limits);
    assert_eq!(s.landed.as_ref().map(|l| l.tree.clone()), Some(oid("t2")));
}

#[test]
fn a_failed_candidate_is_rechecked_and_a_pass_is_flaky_not_a_failure() {
    let limits = Limits::default();
    let s = merging(&limits);
    let (s, _) = step(&s, candidate("m1", "t2"), &limits);
    let (s, fx) = step(&s, verified("m1", "t2", false), &limits);
    assert!(fx.is_empty(), "a first failure blames nobody: {fx:?}");
    assert_eq!(s.status, Status::Merging);
    assert!(
        transition(&s, &Input::Eject, &limits).is_err(),
        "one failure is not enough to eject"
    );
    let (s, fx) = step(&s, Input::Recheck, &limits);
    assert_eq!(
        fx,
        vec![Effect::Verify {
            commit: oid("m1"),
            purpose: VerifyPurpose::Candidate
        }]
    );
    let (s, _) = step(&s, verified("m1", "t2", true), &limits);
    let c = s.candidate.clone().unwrap();
    assert!(c.passed() && c.flaky, "{c:?}");
    assert_eq!(s.total_failures, 0);
}

#[test]
fn a_candidate_failing_twice_is_ejected_to_its_coder_with_the_evidence() {
    let limits = Limits::default();
    let s = merging(&limits);
    let (s, _) = step(&s, candidate("m1", "t2"), &limits);
    let fail = |commit: &str| Input::VerifyFinished {
        commit: oid(commit),
        tree: oid("t2"),
        passed: false,
        summary: "test integration failed".into(),
        conflicts: vec![],
    };
    let (s, _) = step(&s, fail("m1"), &limits);
    let (s, _) = step(&s, Input::Recheck, &limits);
    let (s, _) = step(&s, fail("m1"), &limits);
    assert_eq!(s.status, Status::Merging, "the queue decides who is guilty");
    let (s, fx) = step(&s, Input::Eject, &limits);
    assert_eq!(s.status, Status::Coding);
    assert_eq!((s.queue.clone(), s.candidate.clone()), (None, None));
    match &fx[0] {
        Effect::StartRun {
            role: Role::Coder,
            reason: RunReason::VerifyFailed,
            feedback: Some(feedback),
            ..
        } => assert!(feedback.contains("test integration failed"), "{feedback}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn conflicts_go_to_a_resolver_and_parking_waits_for_the_train_ahead() {
    let limits = Limits::default();
    let s = merging(&limits);
    let (parked, _) = step(
        &s,
        Input::Park {
            onto: oid("ahead"),
            files: vec!["README.md".into()],
        },
        &limits,
    );
    assert_eq!(parked.status, Status::Merging);
    assert_eq!(
        parked.queue.as_ref().and_then(|q| q.parked_on.clone()),
        Some(oid("ahead"))
    );
    // Built later on another base: the park is over.
    let (built, _) = step(&parked, candidate("m2", "t3"), &limits);
    assert_eq!(built.queue.as_ref().and_then(|q| q.parked_on.clone()), None);
    let (s, fx) = step(
        &parked,
        Input::Conflict {
            files: vec!["README.md".into()],
        },
        &limits,
    );
    assert_eq!(s.status, Status::Coding);
    assert!(matches!(
        &fx[0],
        Effect::StartRun {
            role: Role::Resolver,
            reason: RunReason::Conflict,
            feedback: Some(f),
            ..
        } if f.contains("README.md")
    ));
}

#[test]
fn a_conflict_predicted_when_verify_passes_goes_to_the_resolver_at_once() {
    let limits = Limits::default();
    let mut s = TaskState::new(Flow::default(), Risk::Low, 0);
    for i in [Input::Promote, Input::Start, code("c1")] {
        s = step(&s, i, &limits).0;
    }
    let (s, fx) = step(
        &s,
        Input::VerifyFinished {
            commit: oid("c1"),
            tree: oid("t1"),
            passed: true,
            summary: String::new(),
            conflicts: vec!["src/lib.rs".into()],
        },
        &limits,
    );
    assert_eq!(s.status, Status::Coding);
    assert_eq!(s.merge_attempts, 1);
    assert!(matches!(
        fx[0],
        Effect::StartRun {
            role: Role::Resolver,
            ..
        }
    ));
}

#[test]
fn a_stale_candidate_is_dropped_and_its_verify_stopped_and_requeue_waits_again() {
    let limits = Limits::default();
    let s = merging(&limits);
    let (s, _) = step(&s, candidate("m1", "t2"), &limits);
    let (moved, fx) = step(&s, Input::TargetMoved, &limits);
    assert_eq!(moved.status, Status::Merging);
    assert_eq!(moved.candidate, None);
    assert_eq!(moved.merge_attempts, 0, "not the branch's fault");
    assert_eq!(fx, vec![Effect::CancelJobs]);
    assert!(transition(&moved, &verified("m1", "t2", true), &limits).is_err());
    let (requeued, _) = step(&s, Input::Requeue, &limits);
    assert_eq!(requeued.status, Status::Queued);
    assert_eq!(requeued.queue, None);
}

#[test]
fn verify_failures_resume_then_escalate_then_fail() {
    let limits = Limits {
        failures_per_tier: 2,
        tiers: 2,
        ..Limits::default()
    };
    let mut s = TaskState::new(Flow::default(), Risk::Low, 0);
    for i in [Input::Promote, Input::Start, code("c1")] {
        s = step(&s, i, &limits).0;
    }
    let (s1, fx) = step(&s, verified("c1", "t", false), &limits);
    assert!(matches!(
        fx[0],
        Effect::StartRun {
            session: SessionMode::Resume,
            reason: RunReason::VerifyFailed,
            tier: 0,
            ..
        }
    ));
    let s1 = step(&s1, code("c2"), &limits).0;
    let (s2, fx) = step(&s1, verified("c2", "t", false), &limits);
    assert_eq!(s2.tier, 1);
    assert!(fx.contains(&Effect::Notify(Notice::Escalated { tier: 1 })));
    let mut s3 = s2;
    for c in ["c3", "c4"] {
        s3 = step(&s3, code(c), &limits).0;
        s3 = step(&s3, verified(c, "t", false), &limits).0;
    }
    assert_eq!(s3.status, Status::Failed);
    assert_eq!(s3.total_failures, 4);
    let (s4, _) = step(&s3, Input::Retry { fresh: false }, &limits);
    assert_eq!(s4.status, Status::Ready);
}

#[test]
fn questions_pause_and_answers_resume_the_same_role() {
    let limits = Limits::default();
    let mut s = TaskState::new(Flow::default(), Risk::Low, 0);
    for i in [Input::Promote, Input::Start] {
        s = step(&s, i, &limits).0;
    }
    let ask = Input::RunFinished {
        role: Role::Coder,
        result: RunResult::Question {
            text: "which db?".into(),
        },
    };
    let (s, _) = step(&s, ask, &limits);
    assert_eq!(s.status, Status::NeedsInput);
    let (s, fx) = step(
        &s,
        Input::Answer {
            text: "sqlite".into(),
        },
        &limits,
    );
    assert_eq!(s.status, Status::Coding);
    assert_eq!(
        fx,
        vec![Effect::StartRun {
            role: Role::Coder,
            tier: 0,
            session: SessionMode::Resume,
            reason: RunReason::Answered,
            feedback: Some("sqlite".into())
        }]
    );
}

#[test]
fn risky_changes_wait_for_approval() {
    let limits = Limits::default();
    let mut s = TaskState::new(Flow::default(), Risk::Low, 0);
    for i in [Input::Promote, Input::Start] {
        s = step(&s, i, &limits).0;
    }
    let risky = Input::RunFinished {
        role: Role::Coder,
        result: RunResult::Code {
            head: oid("c1"),
            risk: Some(Risk::High),
        },
    };
    s = step(&s, risky, &limits).0;
    s = step(&s, verified("c1", "t1", true), &limits).0;
    assert_eq!(s.status, Status::AwaitingApproval);
    let rejected = step(
        &s,
        Input::Reject {
            reason: "no".into(),
            cancel: false,
        },
        &limits,
    )
    .0;
    assert_eq!(rejected.status, Status::Coding);
    let approved = step(&s, Input::Approve, &limits).0;
    assert_eq!(approved.status, Status::Queued);
}

#[test]
fn review_rounds_are_bounded_then_a_person_decides() {
    let limits = Limits {
        review_rounds: 2,
        ..Limits::default()
    };
    let flow = Flow {
        review: true,
        ..Flow::default()
    };
    let mut s = TaskState::new(flow, Risk::Low, 0);
    for i in [
        Input::Promote,
        Input::Start,
        code("c1"),
        verified("c1", "t", true),
    ] {
        s = step(&s, i, &limits).0;
    }
    assert_eq!(s.status, Status::Reviewing);
    let changes = || Input::RunFinished {
        role: Role::Reviewer,
        result: RunResult::Review {
            approved: false,
            findings: "fix x".into(),
        },
    };
    s = step(&s, changes(), &limits).0;
    assert_eq!(s.status, Status::Coding);
    s = step(&s, code("c2"), &limits).0;
    s = step(&s, verified("c2", "t2", true), &limits).0;
    s = step(&s, changes(), &limits).0;
    assert_eq!(s.status, Status::AwaitingApproval);
}

#[test]
fn epics_plan_and_wait_on_children() {
    let limits = Limits::default();
    let flow = Flow {
        plan: true,
        ..Flow::default()
    };
    let mut s = TaskState::new(flow, Risk::Low, 0);
    for i in [Input::Promote, Input::Start] {
        s = step(&s, i, &limits).0;
    }
    assert_eq!(s.status, Status::Planning);
    let plan = Input::RunFinished {
        role: Role::Planner,
        result: RunResult::Plan { subtasks: 3 },
    };
    s = step(&s, plan, &limits).0;
    assert_eq!(s.status, Status::PlanReview);
    let ok = Input::RunFinished {
        role: Role::PlanReviewer,
        result: RunResult::PlanVerdict {
            approved: true,
            reasons: String::new(),
        },
    };
    let (s, fx) = step(&s, ok, &limits);
    assert_eq!(s.status, Status::Delegated);
    assert!(fx.contains(&Effect::CreateChildren));
    let (s, _) = step(&s, Input::ChildrenSettled { all_merged: true }, &limits);
    assert_eq!(s.status, Status::Merged);
}

#[test]
fn wrong_roles_and_stale_results_are_typed_errors() {
    let limits = Limits::default();
    let mut s = TaskState::new(Flow::default(), Risk::Low, 0);
    for i in [Input::Promote, Input::Start] {
        s = step(&s, i, &limits).0;
    }
    let review = Input::RunFinished {
        role: Role::Reviewer,
        result: RunResult::Review {
            approved: true,
            findings: String::new(),
        },
    };
    assert!(matches!(
        transition(&s, &review, &limits),
        Err(TransitionError::WrongRole { .. })
    ));
    s = step(&s, code("c1"), &limits).0;
    assert!(matches!(
        transition(&s, &verified("other", "t", true), &limits),
        Err(TransitionError::StaleCommit { .. })
    ));
    let merged = TaskState {
        status: Status::Merged,
        ..s
    };
    assert!(transition(&merged, &Input::Cancel { reason: "x".into() }, &limits).is_err());
}

// ---- property tests ------------------------------------------------------------------------

fn arb_oid() -> impl Strategy<Value = ObjectId> {
    (0u8..4).prop_map(|n| oid(&format!("o{n}")))
}

fn arb_role() -> impl Strategy<Value = Role> {
    prop_oneof![
        Just(Role::Planner),
        Just(Role::PlanReviewer),
        Just(Role::Coder),
        Just(Role::Reviewer),
        Just(Role::Resolver)
    ]
}

fn arb_result() -> impl Strategy<Value = RunResult> {
    prop_oneof![
        (0u32..3).prop_map(|subtasks| RunResult::Plan { subtasks }),
        any::<bool>().prop_map(|approved| RunResult::PlanVerdict {
            approved,
            reasons: "r".into()
        }),
        (arb_oid(), proptest::option::of(Just(Risk::High)))
            .prop_map(|(head, risk)| RunResult::Code { head, risk }),
        Just(RunResult::NoChanges {
            summary: "s".into()
        }),
        any::<bool>().prop_map(|approved| RunResult::Review {
            approved,
            findings: "f".into()
        }),
        Just(RunResult::Question { text: "q".into() }),
        Just(RunResult::Failed {
            reason: "boom".into()
        }),
        (1u32..4, any::<bool>()).prop_map(|(slot, approved)| RunResult::Pick {
            slot,
            approved,
            reasons: "p".into()
        }),
    ]
}

fn arb_pending_run() -> impl Strategy<Value = PendingRun> {
    (arb_role(), proptest::option::of(1u32..4)).prop_map(|(role, slot)| PendingRun {
        role,
        tier: 0,
        session: SessionMode::Fresh,
        reason: RunReason::Start,
        feedback: None,
        slot,
    })
}

/// Any input at all, including nonsense for the current state.
fn arb_input() -> impl Strategy<Value = Input> {
    prop_oneof![
        Just(Input::Promote),
        Just(Input::Start),
        Just(Input::Demote),
        (1u32..4).prop_map(|rank| Input::Place { rank, since_ms: 1 }),
        (arb_role(), arb_result()).prop_map(|(role, result)| Input::RunFinished { role, result }),
        (arb_oid(), arb_oid(), any::<bool>(), any::<bool>()).prop_map(
            |(commit, tree, passed, conflict)| {
                Input::VerifyFinished {
                    commit,
                    tree,
                    passed,
                    summary: "s".into(),
                    conflicts: if conflict { vec!["f".into()] } else { vec![] },
                }
            }
        ),
        any::<bool>().prop_map(|all_merged| Input::ChildrenSettled { all_merged }),
        (0u64..3).prop_map(|position| Input::BeginMerge {
            position,
            since_ms: 0
        }),
        (arb_oid(), arb_oid(), arb_oid()).prop_map(|(commit, tree, onto)| Input::CandidateReady {
            commit,
            tree,
            onto
        }),
        (arb_oid(), arb_oid(), arb_oid(), 1i64..4, any::<bool>()).prop_map(
            |(commit, tree, onto, n, lead)| Input::BatchReady {
                commit,
                tree,
                onto,
                batch: (0..n).map(crate::TaskId).collect(),
                lead,
                change: None,
            }
        ),
        arb_oid().prop_map(|group| Input::Bisect {
            group,
            tasks: vec![crate::TaskId(1), crate::TaskId(2)]
        }),
        (proptest::option::of(arb_oid()), any::<bool>())
            .prop_map(|(group, flaky)| Input::Acquit { group, flaky }),
        arb_oid().prop_map(|onto| Input::Park {
            onto,
            files: vec!["a".into()]
        }),
        Just(Input::Conflict {
            files: vec!["a".into()]
        }),
        Just(Input::TargetMoved),
        Just(Input::Recheck),
        Just(Input::Eject),
        Just(Input::Requeue),
        (arb_oid(), arb_oid()).prop_map(|(commit, tree)| Input::Landed { commit, tree }),
        Just(Input::Answer { text: "a".into() }),
        Just(Input::Approve),
        any::<bool>().prop_map(|cancel| Input::Reject {
            reason: "r".into(),
            cancel
        }),
        Just(Input::Cancel { reason: "c".into() }),
        any::<bool>().prop_map(|fresh| Input::Retry { fresh }),
        Just(Input::Fail {
            reason: "gave up".into()
        }),
        arb_pending_run().prop_map(|run| Input::Hold {
            reason: "budget".into(),
            run
        }),
        Just(Input::Release),
        (1u32..4, arb_result()).prop_map(|(slot, result)| Input::AttemptFinished { slot, result }),
        (1u32..4, arb_oid(), arb_oid(), any::<bool>()).prop_map(|(slot, commit, tree, passed)| {
            Input::AttemptVerified {
                slot,
                commit,
                tree,
                passed,
                summary: "s".into(),
            }
        }),
        Just(Input::Attach),
        (
            proptest::option::of(arb_oid()),
            proptest::option::of(Just(Risk::High))
        )
            .prop_map(|(head, risk)| Input::HandBack { head, risk }),
    ]
}

fn arb_flow() -> impl Strategy<Value = Flow> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(Just(Risk::High)),
        prop_oneof![Just(0u32), 2u32..4],
        proptest::bool::weighted(0.1),
        proptest::bool::weighted(0.15),
    )
        .prop_map(
            |(plan, plan_review, review, approval_at, best_of, survey, prepared)| {
                // A prepared change (a revert) is made by gaffer: one branch, no plan.
                let prepared = prepared && !survey;
                Flow {
                    // A survey is a planner run; the engine always makes it one.
                    plan: (plan || survey) && !prepared,
                    plan_review: plan_review && !survey,
                    review,
                    approval_at,
                    best_of: if prepared { 0 } else { best_of },
                    survey,
                    prepared,
                }
            },
        )
}

/// A new task of `flow`: a prepared change is created with its head (the revert commit).
fn new_task(flow: Flow) -> TaskState {
    let mut s = TaskState::new(flow, Risk::Low, 0);
    if flow.prepared {
        s.head = Some(oid("prepared"));
    }
    s
}

fn arb_limits() -> impl Strategy<Value = Limits> {
    (1u32..4, 1u32..4, 1u32..4, 1u32..4, 1u32..4, any::<bool>()).prop_map(
        |(f, t, r, p, m, skip)| Limits {
            failures_per_tier: f,
            tiers: t,
            review_rounds: r,
            plan_rounds: p,
            merge_attempts: m,
            skip_identical_candidates: skip,
        },
    )
}

fn within_limits(s: &TaskState, l: &Limits) -> bool {
    s.tier < l.tiers
        && s.failures <= l.failures_per_tier
        && s.review_rounds <= l.review_rounds
        && s.plan_rounds <= l.plan_rounds
        && s.merge_attempts <= l.merge_attempts
}

/// What the budget and best-of paths keep is consistent with the status: a held run only while
/// waiting for a person, attempts only while they run or are picked from, neither once ended.
fn side_state_consistent(s: &TaskState) -> Result<(), String> {
    if s.held.is_some() && s.status != Status::AwaitingApproval {
        return Err(format!("a held run while {}", s.status));
    }
    let attempt_states = [
        Status::Coding,
        Status::Reviewing,
        Status::AwaitingApproval,
        Status::NeedsInput,
    ];
    if !s.attempts.is_empty() && !attempt_states.contains(&s.status) {
        return Err(format!("attempts while {}", s.status));
    }
    if s.place.is_some() && s.status != Status::Queued {
        return Err(format!("a place in the waiting line while {}", s.status));
    }
    if s.status.is_terminal() && (s.held.is_some() || s.budget_approved) {
        return Err("an ended task holds a run or a permission".into());
    }
    if s.status == Status::Attached
        && (s.candidate.is_some() || s.queue.is_some() || s.paused.is_some() || s.budget_approved)
    {
        return Err("an attached task keeps what it waited for".into());
    }
    let open = s.attempts.iter().filter(|a| a.is_open()).count();
    if s.status == Status::Reviewing && !s.attempts.is_empty() && open > 0 {
        return Err("picking while attempts still run".into());
    }
    Ok(())
}

/// A simulated engine: answers each effect with a random but well-formed result, remembering
/// which trees it reported as passing verify.
struct World {
    passing_trees: HashSet<ObjectId>,
    next: u32,
    tip: u32,
    /// Times the target moved under a candidate (bounded: a target that moves for ever would
    /// keep any queue busy).
    moves: u32,
}

impl World {
    fn fresh(&mut self, prefix: &str) -> ObjectId {
        self.next += 1;
        oid(&format!("{prefix}{}", self.next))
    }

    /// The inputs an effect leads to, chosen by `pick`. Cleanup, CancelJobs, Notify and
    /// CreateChildren need no answer (children are other tasks; settling is scheduler input).
    fn answer(&mut self, s: &TaskState, effect: &Effect, pick: u8) -> Option<Input> {
        // Now and then a budget is spent when a run comes to start.
        if pick % 23 == 7 {
            let run = match effect {
                Effect::StartRun {
                    role,
                    tier,
                    session,
                    reason,
                    feedback,
                } => Some(PendingRun {
                    role: *role,
                    tier: *tier,
                    session: *session,
                    reason: *reason,
                    feedback: feedback.clone(),
                    slot: None,
                }),
                Effect::StartAttempt { slot, tier } => Some(PendingRun::attempt(*slot, *tier)),
                _ => None,
            };
            if let Some(run) = run {
                return Some(Input::Hold {
                    reason: "budget: spent".into(),
                    run,
                });
            }
        }
        match effect {
            Effect::StartRun {
                role: Role::Reviewer,
                reason: RunReason::Pick,
                ..
            } => {
                let passed: Vec<u32> = s
                    .attempts
                    .iter()
                    .filter(|a| a.status == AttemptStatus::Passed)
                    .map(|a| a.slot)
                    .collect();
                let result = if pick.is_multiple_of(5) || passed.is_empty() {
                    RunResult::Failed { reason: "x".into() }
                } else {
                    RunResult::Pick {
                        slot: passed[usize::from(pick) % passed.len()],
                        approved: !pick.is_multiple_of(3),
                        reasons: "picked".into(),
                    }
                };
                Some(Input::RunFinished {
                    role: Role::Reviewer,
                    result,
                })
            }
            Effect::StartAttempt { slot, .. } => {
                let result = match pick % 4 {
                    0 => RunResult::NoChanges {
                        summary: "n".into(),
                    },
                    1 => RunResult::Failed { reason: "x".into() },
                    _ => RunResult::Code {
                        head: self.fresh("a"),
                        risk: None,
                    },
                };
                Some(Input::AttemptFinished {
                    slot: *slot,
                    result,
                })
            }
            Effect::VerifyAttempt { slot, commit } => {
                let tree = oid(&format!("tree-of-{commit}"));
                let passed = !pick.is_multiple_of(3);
                if passed {
                    self.passing_trees.insert(tree.clone());
                }
                Some(Input::AttemptVerified {
                    slot: *slot,
                    commit: commit.clone(),
                    tree,
                    passed,
                    summary: "s".into(),
                })
            }
            Effect::StartRun { role, .. } => {
                let result = match (role, pick % 4) {
                    (_, 3) => RunResult::Failed { reason: "x".into() },
                    (Role::Planner, p) => RunResult::Plan {
                        subtasks: u32::from(p),
                    },
                    (Role::PlanReviewer, p) => RunResult::PlanVerdict {
                        approved: p != 0,
                        reasons: "r".into(),
                    },
                    (Role::Coder | Role::Resolver, 0) => RunResult::NoChanges {
                        summary: "n".into(),
                    },
                    (Role::Coder | Role::Resolver, _) => RunResult::Code {
                        head: self.fresh("c"),
                        risk: None,
                    },
                    (Role::Reviewer, p) => RunResult::Review {
                        approved: p != 0,
                        findings: "f".into(),
                    },
                };
                Some(Input::RunFinished {
                    role: *role,
                    result,
                })
            }
            Effect::Verify { commit, purpose } => {
                let tree = match &s.candidate {
                    Some(c) if &c.commit == commit => c.tree.clone(),
                    _ => oid(&format!("tree-of-{commit}")),
                };
                let passed = !pick.is_multiple_of(3);
                if passed {
                    self.passing_trees.insert(tree.clone());
                }
                let conflicts = if *purpose == VerifyPurpose::Branch && pick % 7 == 1 {
                    vec!["f".into()]
                } else {
                    vec![]
                };
                Some(Input::VerifyFinished {
                    commit: commit.clone(),
                    tree,
                    passed,
                    summary: "s".into(),
                    conflicts,
                })
            }
            Effect::CreateChildren
            | Effect::CancelJobs
            | Effect::Cleanup { .. }
            | Effect::FreshBranch
            | Effect::SettleAttempts { .. }
            | Effect::Notify(_) => None,
        }
    }

    /// What the merge queue would tell a task in the train.
    fn queue_input(&mut self, s: &TaskState, pick: u8) -> Option<Input> {
        let onto = oid(&format!("tip{}", self.tip));
        match &s.candidate {
            None => {
                let parked = s.queue.as_ref().is_some_and(|q| q.parked_on.is_some());
                match pick % 4 {
                    0 => Some(Input::Conflict {
                        files: vec!["f".into()],
                    }),
                    1 if !parked => Some(Input::Park {
                        onto,
                        files: vec!["f".into()],
                    }),
                    1 => {
                        // Applied on the tip it descends from: the tree that passed.
                        let tree = s.verified.as_ref()?.tree.clone();
                        Some(Input::CandidateReady {
                            commit: self.fresh("m"),
                            tree,
                            onto,
                        })
                    }
                    _ => {
                        let commit = self.fresh("m");
                        let tree = oid(&format!("tree-of-{commit}"));
                        Some(Input::CandidateReady { commit, tree, onto })
                    }
                }
            }
            Some(c) => match &c.status {
                CandidateStatus::Passed if pick.is_multiple_of(5) && self.moves < 3 => {
                    self.moves += 1;
                    self.tip += 1;
                    Some(Input::TargetMoved)
                }
                CandidateStatus::Passed => Some(Input::Landed {
                    commit: c.commit.clone(),
                    tree: c.tree.clone(),
                }),
                CandidateStatus::Failed { .. } => Some(Input::Recheck),
                CandidateStatus::FailedTwice { .. } => Some(Input::Eject),
                // Its verify is among the pending effects.
                CandidateStatus::Pending | CandidateStatus::Rechecking { .. } => None,
            },
        }
    }
}

/// Scheduler and queue inputs the engine would send on its own (no person involved).
fn scheduler_input(world: &mut World, s: &TaskState, pick: u8) -> Option<Input> {
    match s.status {
        Status::Backlog => Some(Input::Promote),
        Status::Ready => Some(Input::Start),
        Status::Queued => Some(Input::BeginMerge {
            position: 1,
            since_ms: 0,
        }),
        Status::Merging => world.queue_input(s, pick),
        Status::Delegated => Some(Input::ChildrenSettled {
            all_merged: !pick.is_multiple_of(4),
        }),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Random inputs in random order: never a panic; a refused input changes nothing; counters
    /// stay within limits; merged only with a landed tree that the machine saw pass verify.
    #[test]
    fn arbitrary_inputs_never_break_invariants(
        flow in arb_flow(),
        limits in arb_limits(),
        inputs in proptest::collection::vec(arb_input(), 0..60),
    ) {
        let mut s = new_task(flow);
        let mut passing: HashSet<ObjectId> = HashSet::new();
        for input in &inputs {
            if let Ok((next, fx)) = transition(&s, input, &limits) {
                match input {
                    Input::VerifyFinished { tree, passed: true, .. }
                    | Input::AttemptVerified { tree, passed: true, .. } => {
                        passing.insert(tree.clone());
                    }
                    // Letting a held task go starts exactly the run that was held.
                    Input::Release | Input::Approve if s.held.is_some() => {
                        let held = s.held.clone().map(|h| h.run.effect());
                        prop_assert_eq!(fx.first(), held.as_ref());
                        prop_assert_eq!(fx.len(), 1);
                    }
                    // A fresh retry forgets the branch and its verification and starts at the
                    // bottom of the ladder, on a new branch (an epic has none).
                    Input::Retry { fresh: true } => {
                        prop_assert_eq!(next.status == Status::Ready, !s.delegated);
                        prop_assert_eq!(fx.contains(&Effect::FreshBranch), !s.delegated);
                        if !s.delegated {
                            prop_assert!(next.head.is_none() && next.verified.is_none());
                            prop_assert_eq!((next.tier, next.failures), (0, 0));
                            prop_assert_eq!(next.restarts, s.restarts + 1);
                        }
                    }
                    // A person takes over only where an agent works or the task waits, and
                    // everything running for it stops; handing back is what a coder's commit is.
                    Input::Attach => {
                        prop_assert!(
                            !matches!(
                                s.status,
                                Status::Backlog
                                    | Status::Planning
                                    | Status::PlanReview
                                    | Status::Delegated
                                    | Status::Queued
                                    | Status::Merging
                            ),
                            "attached from {:?}",
                            s.status
                        );
                        prop_assert_eq!(&fx, &vec![Effect::CancelJobs]);
                    }
                    Input::HandBack { head: Some(head), .. } => {
                        prop_assert_eq!(s.status, Status::Attached);
                        prop_assert_eq!(next.status, Status::Verifying);
                        prop_assert_eq!(next.head.as_ref(), Some(head));
                    }
                    _ => {}
                }
                // While attached, only a person moves the task.
                if s.status == Status::Attached {
                    prop_assert!(
                        matches!(input, Input::HandBack { .. } | Input::Cancel { .. } | Input::Fail { .. }),
                        "{input:?} moved an attached task"
                    );
                }
                s = next;
            }
            prop_assert!(within_limits(&s, &limits), "{s:?} exceeds {limits:?}");
            if let Err(e) = side_state_consistent(&s) {
                prop_assert!(false, "{e}: {s:?}");
            }
            // Whatever the machine counts as verified (a branch, an adopted attempt) passed.
            if let Some(v) = &s.verified {
                prop_assert!(passing.contains(&v.tree), "verified without a pass: {s:?}");
            }
            if let (Status::Merged, Some(landed)) = (s.status, &s.landed) {
                prop_assert!(passing.contains(&landed.tree), "landed unverified tree {landed:?}");
            }
        }
    }

    /// Driven by a well-behaved but unlucky engine (random run results, verify outcomes,
    /// conflicts and moved targets) and no person, every task ends terminal or waiting on a person
    /// or a dependency, within a bounded number of steps, and a merged task's landed tree passed
    /// verify exactly as landed.
    #[test]
    fn every_task_settles(
        flow in arb_flow(),
        limits in arb_limits(),
        picks in proptest::collection::vec(any::<u8>(), 400),
    ) {
        drive(flow, limits, picks, false)?;
    }

    /// The same with a person who now and then takes the task over by hand and hands it back
    /// (with a change or without): the task still settles, and whatever lands passed verify.
    #[test]
    fn a_person_taking_over_now_and_then_never_breaks_the_flow(
        flow in arb_flow(),
        limits in arb_limits(),
        picks in proptest::collection::vec(any::<u8>(), 400),
    ) {
        drive(flow, limits, picks, true)?;
    }
}

/// Drives one task with the simulated engine (and, with `person`, someone who attaches and
/// hands back at random moments) until nothing moves without a person; checks the invariants
/// at every step and what it settled in.
fn drive(flow: Flow, limits: Limits, picks: Vec<u8>, person: bool) -> Result<(), TestCaseError> {
    let mut world = World {
        passing_trees: HashSet::new(),
        next: 0,
        tip: 0,
        moves: 0,
    };
    let mut s = new_task(flow);
    let mut pending: Vec<Effect> = Vec::new();
    let mut picks = picks.into_iter().cycle();
    let mut settled = false;
    // At most a few times, so that the task has room to settle.
    let mut takeovers = 0;
    for _ in 0..400 {
        let pick = picks.next().unwrap_or(0);
        let input = if s.status == Status::Attached {
            let head = (!pick.is_multiple_of(4)).then(|| world.fresh("p"));
            Input::HandBack { head, risk: None }
        } else if person && takeovers < 3 && pick % 11 == 3 {
            match transition(&s, &Input::Attach, &limits) {
                Ok(_) => {
                    takeovers += 1;
                    Input::Attach
                }
                Err(_) => continue,
            }
        } else if pending.is_empty() {
            match scheduler_input(&mut world, &s, pick) {
                Some(input) => input,
                None => {
                    settled = true;
                    break;
                }
            }
        } else {
            let effect = pending.remove(0);
            match world.answer(&s, &effect, pick) {
                Some(input) => input,
                None => continue,
            }
        };
        let (next, fx) = transition(&s, &input, &limits)
            .map_err(|e| TestCaseError::fail(format!("{input:?} in {:?}: {e}", s.status)))?;
        s = next;
        for effect in fx {
            if effect == Effect::CancelJobs {
                // The engine stops the task's queued and running work.
                pending.retain(|e| {
                    !matches!(
                        e,
                        Effect::Verify { .. }
                            | Effect::StartRun { .. }
                            | Effect::StartAttempt { .. }
                            | Effect::VerifyAttempt { .. }
                    )
                });
            }
            pending.push(effect);
        }
        prop_assert!(within_limits(&s, &limits));
        if let Err(e) = side_state_consistent(&s) {
            prop_assert!(false, "{e}: {s:?}");
        }
    }
    prop_assert!(settled, "did not settle: {s:?}");
    prop_assert!(
        s.status.is_terminal() || s.status.waits_on_person() || s.status == Status::Backlog,
        "ended in {:?}",
        s.status
    );
    if s.status == Status::Merged {
        if let Some(landed) = &s.landed {
            prop_assert!(world.passing_trees.contains(&landed.tree));
        } else {
            prop_assert!(flow.plan, "only an epic merges without a tree");
        }
    }
    Ok(())
}

#[test]
fn attempts_read_the_same_everywhere() {
    let mut s = TaskState::new(Flow::default(), Risk::Low, 0);
    assert_eq!(
        s.attempts_summary(),
        "0 coding runs, 0 attempts sent back, tier 0"
    );
    s.code_runs = 2;
    s.total_failures = 1;
    s.tier = 1;
    assert_eq!(
        s.attempts_summary(),
        "2 coding runs, 1 attempt sent back, tier 1"
    );
    s.code_runs = 1;
    assert_eq!(
        s.attempts_summary(),
        "1 coding run, 1 attempt sent back, tier 1"
    );
}
