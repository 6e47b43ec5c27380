//! The planner driven by a simulated engine over random queues: random priorities,
//! dependencies, branches that break the target, conflicting branches, flaky verify, targets
//! that move, verify results arriving in any order, cancels and crashes. Every task goes through
//! the real machine.

use super::*;
use crate::machine::CandidateStatus;
use proptest::prelude::*;
use std::collections::BTreeSet;

mod checks;
mod sim;
use sim::*;

fn arb_specs() -> impl Strategy<Value = (Vec<Spec>, Vec<(usize, usize)>)> {
    (2usize..10).prop_flat_map(|n| {
        let spec = (0i32..3, any::<u16>(), proptest::bool::weighted(0.25));
        (
            proptest::collection::vec(spec, n),
            proptest::collection::vec((0..n, 0..n), 0..3),
        )
            .prop_map(move |(raw, pairs)| {
                let specs = raw
                    .into_iter()
                    .enumerate()
                    .map(|(i, (priority, deps, guilty))| Spec {
                        priority,
                        // Up to two earlier tasks, chosen by the bits of `deps`.
                        deps: (0..i)
                            .filter(|j| deps & (1 << (j % 16)) != 0 && (deps >> 8) % 3 == 0)
                            .take(2)
                            .collect(),
                        guilty,
                    })
                    .collect();
                let pairs = pairs.into_iter().filter(|(a, b)| a != b).collect();
                (specs, pairs)
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// Random queues under a random but well-behaved engine: every landed tree passed verify
    /// exactly as landed; the target only moves forward; a guilty branch never lands; only the
    /// guilty branch is ever ejected and only genuine conflicts go to a resolver (an innocent
    /// branch is never rejected because of another, nor because verify is flaky); a task never
    /// lands before what it depends on; tasks join by priority, then arrival; at most
    /// `max_train` candidates are in the train; every suspect's bisection can still conclude
    /// whenever the queue settled (people cancel tasks, suspects among them, and the engine
    /// crashes halfway through carrying out a plan); and in the end every task that was not
    /// cancelled lands.
    #[test]
    fn the_queue_lands_exactly_the_innocent_and_keeps_every_promise(
        (specs, conflicts) in arb_specs(),
        picks in proptest::collection::vec(any::<u16>(), 50..400),
        batch in prop_oneof![Just(1usize), 2usize..9],
    ) {
        let guilty: Vec<usize> =
            (0..specs.len()).filter(|i| specs[*i].guilty).collect();
        let mut sim = Sim::new(specs, conflicts);
        sim.batch = batch;
        for pick in picks {
            sim.step(pick)?;
        }
        sim.settle()?;
        let mut ejected = sim.ejected.clone();
        ejected.sort_unstable();
        ejected.dedup();
        // A guilty branch that reached the queue with its bad version was ejected once; every
        // task merged in the end (the coders fixed theirs).
        prop_assert!(ejected.iter().all(|t| guilty.contains(t)));
        prop_assert_eq!(sim.ejected.len(), ejected.len(), "a branch was ejected twice");
        prop_assert_eq!(sim.landed_order.len(), sim.specs.len() - sim.cancelled.len());
        // Only a branch that really conflicts with another ever goes to a resolver.
        for task in &sim.resolver_runs {
            prop_assert!(!sim.partners(*task).is_empty(), "task {task} was sent to a resolver");
        }
        // Every version of a branch that left the queue left it once: landed, ejected (only
        // a guilty one), sent to a resolver, or cancelled.
        for ((task, version), how) in &sim.outcomes {
            prop_assert_eq!(how.len(), 1, "task {} version {}: {:?}", task, version, how);
            if how[0] == "ejected" {
                prop_assert!(sim.guilty(*task, *version), "innocent {task}.{version} ejected");
            }
            if how[0] == "landed" {
                prop_assert!(!sim.guilty(*task, *version), "guilty {task}.{version} landed");
            }
        }
        for task in 0..sim.specs.len() {
            let landed = sim.outcomes.iter().filter(|((t, _), h)| *t == task && h[0] == "landed").count();
            let expected = usize::from(!sim.cancelled.contains(&task));
            prop_assert_eq!(landed, expected, "task {} landed {} times", task, landed);
        }
    }
}

/// A small queue by hand: three branches, the middle one guilty. The first and third land, the
/// middle one is ejected after a recheck, and the third is rebuilt without it.
#[test]
fn the_guilty_middle_branch_is_ejected_and_the_others_land() {
    let specs = vec![
        Spec {
            priority: 0,
            deps: vec![],
            guilty: false,
        },
        Spec {
            priority: 0,
            deps: vec![],
            guilty: true,
        },
        Spec {
            priority: 0,
            deps: vec![],
            guilty: false,
        },
    ];
    let mut sim = Sim::new(specs, vec![]);
    // Code and verify every branch.
    while !sim.jobs.is_empty() {
        sim.run_job(0).unwrap();
    }
    sim.drive().unwrap();
    let train: Vec<i64> = train(&sim.view()).iter().map(|e| e.task.0).collect();
    assert_eq!(train, vec![0, 1, 2]);
    // Verify the three candidates, last first.
    while let Some(i) = sim
        .jobs
        .iter()
        .rposition(|j| matches!(j, Job::Verify { .. }))
    {
        sim.run_job(i).unwrap();
    }
    sim.drive().unwrap();
    assert!(
        sim.land_job.as_ref().is_some_and(|l| l.tasks.len() == 1),
        "only the first lands: {:?}",
        sim.land_job
    );
    sim.land().unwrap();
    sim.drive().unwrap();
    // Task 1 is rechecked (once) and fails again.
    while let Some(i) = sim
        .jobs
        .iter()
        .position(|j| matches!(j, Job::Verify { .. }))
    {
        sim.run_job(i).unwrap();
    }
    sim.drive().unwrap();
    assert_eq!(sim.ejected, vec![1]);
    assert_eq!(sim.states[1].status, Status::Coding);
    sim.settle().unwrap();
    assert_eq!(sim.landed_order[..2], [0, 2]);
    assert_eq!(sim.landed_order[2], 1);
}

/// The landing is one step for the whole passing prefix.
#[test]
fn the_longest_passing_prefix_lands_at_once() {
    let cand = |commit: &str, onto: &str, status: CandidateStatus| Candidate {
        commit: oid(commit),
        tree: oid(&format!("tree-{commit}")),
        onto: oid(onto),
        status,
        flaky: false,
        batch: vec![],
        change: None,
    };
    let entry = |task: i64, position: u64, candidate: Candidate| Entry {
        task: TaskId(task),
        priority: 0,
        arrival: 0,
        waiting_on: vec![],
        place: None,
        slot: Some(QueueSlot {
            position,
            since_ms: 0,
            parked_on: None,
            suspect: None,
            group: vec![],
        }),
        candidate: Some(candidate),
    };
    let view = View {
        tip: oid("tip"),
        entries: vec![
            entry(3, 3, cand("c3", "c2", CandidateStatus::Pending)),
            entry(1, 1, cand("c1", "tip", CandidateStatus::Passed)),
            entry(2, 2, cand("c2", "c1", CandidateStatus::Passed)),
        ],
        max_train: 8,
        batch: 1,
        landed: BTreeSet::new(),
    };
    let actions = plan(&view);
    assert_eq!(actions.len(), 1, "{actions:?}");
    let Action::Land(landing) = &actions[0] else {
        panic!("{actions:?}")
    };
    assert_eq!(landing.commit, oid("c2"));
    assert_eq!(landing.onto, oid("tip"));
    assert_eq!(
        landing.tasks.iter().map(|t| t.task.0).collect::<Vec<_>>(),
        [1, 2]
    );
}

/// A person's places come first in the waiting line, whatever the priorities; the rest wait by
/// priority, then arrival. The train keeps its order.
#[test]
fn placed_tasks_join_first_in_the_order_of_their_places() {
    let waiting = |task: i64, priority: i32, arrival: i64, place: Option<u32>| Entry {
        task: TaskId(task),
        priority,
        arrival,
        waiting_on: vec![],
        slot: None,
        place,
        candidate: None,
    };
    let view = View {
        tip: oid("tip"),
        entries: vec![
            waiting(1, 5, 10, None),
            waiting(2, 0, 20, Some(2)),
            waiting(3, 9, 30, None),
            waiting(4, 0, 40, Some(1)),
        ],
        max_train: 2,
        batch: 1,
        landed: BTreeSet::new(),
    };
    let order: Vec<i64> = waiting_order(&view);
    assert_eq!(order, [4, 2, 3, 1]);
    let joined: Vec<i64> = plan(&view)
        .iter()
        .filter_map(|a| match a {
            Action::Join { task, .. } => Some(task.0),
            _ => None,
        })
        .collect();
    assert_eq!(joined, [4, 2], "the two placed tasks fill the train");
}

fn waiting_order(view: &View) -> Vec<i64> {
    waiting(view).iter().map(|e| e.task.0).collect()
}

impl Sim {
    /// As [`Sim::settle`], with one heavy slot: the oldest job runs alone, and the queue plans
    /// after each (as the engine does).
    fn settle_one_at_a_time(&mut self) -> Result<(), TestCaseError> {
        for _ in 0..2000 {
            if self.states.iter().all(|s| s.status == Status::Merged) {
                return Ok(());
            }
            self.clock += 1;
            self.drive()?;
            self.land()?;
            self.drive()?;
            if !self.jobs.is_empty() {
                self.run_job(0)?;
            }
        }
        Err(TestCaseError::fail("the queue did not drain"))
    }
}

fn plain(n: usize, guilty: &[usize]) -> Vec<Spec> {
    (0..n)
        .map(|i| Spec {
            priority: 0,
            deps: vec![],
            guilty: guilty.contains(&i),
        })
        .collect()
}

/// Codes and verifies every branch, so that all of them wait in the queue.
fn all_queued(specs: Vec<Spec>, batch: usize) -> Sim {
    let mut sim = Sim::new(specs, vec![]);
    sim.batch = batch;
    sim.flaky_every = 0;
    while !sim.jobs.is_empty() {
        sim.run_job(0).unwrap();
    }
    sim
}

/// Eight innocent branches, batches of eight: one candidate (one commit on the target, whose
/// tree is the one verified), one verify, one landing.
#[test]
fn a_batch_that_passes_lands_as_one_commit_after_one_verify() {
    let mut sim = all_queued(plain(8, &[]), 8);
    sim.drive().unwrap();
    let view = sim.view();
    let units = units(&train(&view));
    assert_eq!(units.len(), 1, "one batch of eight: {units:?}");
    assert_eq!(units[0].len(), 8);
    sim.settle().unwrap();
    assert_eq!(sim.candidate_verifies, 1);
    assert_eq!(sim.landed_order, (0..8).collect::<Vec<_>>());
    assert_eq!(sim.bisections, 0);
}

/// Eight branches, the sixth guilty, tested as one batch: the batch fails, its first half
/// passes and lands, the rest is known to hold the guilty branch and is halved again without
/// being tested whole, down to the guilty branch, which fails twice alone and is ejected; the
/// innocent last one lands, then the guilty one once its coder fixed it.
#[test]
fn a_failed_batch_is_bisected_down_to_the_guilty_branch() {
    let mut sim = all_queued(plain(8, &[5]), 8);
    sim.settle_one_at_a_time().unwrap();
    assert_eq!(sim.ejected, vec![5]);
    assert!(sim.bisections >= 1);
    // The batch, the halves on the way to #5 ([0, 4), [4, 6), [4], [5] twice), the two
    // innocent ones behind it, #5 fixed: 8 (a serial queue: 8, a recheck, #5 fixed: 10).
    assert!(
        sim.candidate_verifies <= 8,
        "{} verify runs for eight branches with one guilty",
        sim.candidate_verifies
    );
    assert_eq!(&sim.landed_order[..4], &[0, 1, 2, 3]);
    assert_eq!(sim.landed_order.len(), 8);
    assert_eq!(sim.landed_order.iter().filter(|t| **t == 5).count(), 1);
}

/// While a batch is bisected, its suspects are only tested with each other, in halves that
/// stack: the first half on the tip, the first half of the rest on it, and so on.
#[test]
fn suspects_are_tested_in_stacked_halves() {
    let mut sim = all_queued(plain(8, &[6]), 8);
    sim.drive().unwrap();
    // The batch of eight fails.
    sim.run_job(0).unwrap();
    sim.drive().unwrap();
    let view = sim.view();
    let sizes: Vec<usize> = units(&train(&view)).iter().map(Vec::len).collect();
    assert_eq!(sizes, [4, 2, 1, 1], "{sizes:?}");
    assert!(
        train(&view).iter().all(|e| e.suspect().is_some()),
        "every task of the failed batch is a suspect"
    );
    sim.settle().unwrap();
    assert_eq!(sim.ejected, vec![6]);
}
