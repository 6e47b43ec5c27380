//! Property: whatever the interleaving of claims, heartbeats, completions, releases and clock
//! advances across three owners, no two owners ever hold one job and no job completes twice.
//!
//! A model tracks what the store should say (who holds each job until when, attempts, done,
//! exhausted); every answer of the store is checked against it, and the store's view of every
//! job is compared to the model after each step.

use super::MakeStore;
use super::fixtures::{fresh, must, project};
use crate::{Commit, JobCompletion, JobFilter, JobOutcome, Store, StoreError};
use gaffer_core::{Clock, FixedClock, Job, JobId, JobSpec, JobStatus, NewJob};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::sync::Arc;

const OWNERS: [&str; 3] = ["owner-0", "owner-1", "owner-2"];
const JOBS: usize = 4;
const LEASE_MS: i64 = 100;
const MAX_ATTEMPTS: u32 = 3;
const CASES: u32 = 96;

#[derive(Debug, Clone)]
enum Op {
    Claim(usize),
    Heartbeat(usize, usize),
    Complete(usize, usize),
    Release(usize, usize),
    Advance(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..OWNERS.len()).prop_map(Op::Claim),
        2 => (0..OWNERS.len(), 0..JOBS).prop_map(|(o, j)| Op::Heartbeat(o, j)),
        2 => (0..OWNERS.len(), 0..JOBS).prop_map(|(o, j)| Op::Complete(o, j)),
        1 => (0..OWNERS.len(), 0..JOBS).prop_map(|(o, j)| Op::Release(o, j)),
        2 => (0..(2 * LEASE_MS)).prop_map(Op::Advance),
    ]
}

/// Sequences that once broke a store; they run before the random ones.
fn regressions() -> Vec<Vec<Op>> {
    // A lease that expired exactly one millisecond after its claim.
    vec![vec![Op::Claim(0), Op::Advance(101)]]
}

/// What the store should know about one job.
#[derive(Debug, Clone, Default)]
struct Model {
    holder: Option<(usize, i64)>,
    attempts: u32,
    done: bool,
    exhausted: bool,
    acknowledged: bool,
}

impl Model {
    fn held_by(&self, owner: usize, now: i64) -> bool {
        !self.done
            && !self.exhausted
            && self
                .holder
                .is_some_and(|(o, until)| o == owner && until >= now)
    }
    fn claimable(&self, now: i64) -> bool {
        !self.done && !self.exhausted && self.holder.is_none_or(|(_, until)| until < now)
    }
}

struct World {
    clock: Arc<FixedClock>,
    store: Box<dyn Store>,
    ids: Vec<JobId>,
    models: Vec<Model>,
}

impl World {
    fn new(make: &MakeStore) -> World {
        let (clock, store) = fresh(make);
        let p = project(store.as_ref(), "p");
        let jobs = (0..JOBS)
            .map(|_| NewJob {
                project: p.id,
                task: None,
                spec: JobSpec::PrepareCandidate,
                priority: 0,
                max_attempts: MAX_ATTEMPTS,
                needs: vec![],
            })
            .collect();
        must(
            store.commit(&Commit {
                enqueue: jobs,
                ..Commit::default()
            }),
            "enqueue",
        );
        let ids = must(store.jobs(&JobFilter::default()), "jobs")
            .iter()
            .map(|j| j.id)
            .collect();
        World {
            clock,
            store,
            ids,
            models: vec![Model::default(); JOBS],
        }
    }

    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    fn index(&self, id: JobId) -> Result<usize, TestCaseError> {
        self.ids
            .iter()
            .position(|&i| i == id)
            .ok_or_else(|| TestCaseError::fail(format!("claim returned unknown job {id}")))
    }

    fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let now = self.now();
        match *op {
            Op::Advance(ms) => self.clock.advance(ms),
            Op::Claim(o) => self.claim(o, now)?,
            Op::Heartbeat(o, j) => {
                let ok = must(
                    self.store.heartbeat(self.ids[j], OWNERS[o], LEASE_MS),
                    "heartbeat",
                );
                let m = &mut self.models[j];
                prop_assert_eq!(ok, m.held_by(o, now), "heartbeat of {:?} by {}", m, o);
                if ok {
                    m.holder = Some((o, now + LEASE_MS));
                }
            }
            Op::Release(o, j) => {
                let ok = must(self.store.release_job(self.ids[j], OWNERS[o]), "release");
                let m = &mut self.models[j];
                prop_assert_eq!(ok, m.held_by(o, now), "release of {:?} by {}", m, o);
                if ok {
                    m.holder = None;
                    m.attempts -= 1;
                }
            }
            Op::Complete(o, j) => self.complete(o, j, now)?,
        }
        self.compare()
    }

    fn claim(&mut self, o: usize, now: i64) -> Result<(), TestCaseError> {
        let got = must(self.store.claim_job(OWNERS[o], &[], LEASE_MS), "claim");
        // Jobs the claim found out of attempts are failed now, not handed out.
        for (i, m) in self.models.iter_mut().enumerate() {
            if m.claimable(now) && m.attempts >= MAX_ATTEMPTS {
                let stored = must(self.store.job(self.ids[i]), "job");
                if stored.status == JobStatus::Failed {
                    m.exhausted = true;
                }
            }
        }
        match got {
            Some(job) => {
                let i = self.index(job.id)?;
                let m = &mut self.models[i];
                prop_assert!(
                    m.claimable(now),
                    "job {} handed to {} while {:?} (now {now})",
                    job.id,
                    OWNERS[o],
                    m
                );
                prop_assert!(m.attempts < MAX_ATTEMPTS, "exhausted job handed out");
                m.attempts += 1;
                m.holder = Some((o, now + LEASE_MS));
                prop_assert_eq!(job.attempts, m.attempts);
                prop_assert_eq!(job.lease_owner.as_deref(), Some(OWNERS[o]));
            }
            None => {
                for m in &self.models {
                    prop_assert!(!m.claimable(now), "nothing handed out but {m:?}");
                }
            }
        }
        Ok(())
    }

    fn complete(&mut self, o: usize, j: usize, now: i64) -> Result<(), TestCaseError> {
        let result = self.store.commit(&Commit {
            complete_job: Some(JobCompletion {
                job: self.ids[j],
                owner: OWNERS[o].to_string(),
                outcome: JobOutcome::Done,
                error: None,
            }),
            ..Commit::default()
        });
        let m = &mut self.models[j];
        let acknowledgement = m.exhausted && !m.acknowledged;
        let expected = m.held_by(o, now) || acknowledgement;
        match result {
            Ok(_) if expected => {
                if acknowledgement {
                    m.acknowledged = true;
                } else {
                    prop_assert!(!m.done, "job {} completed twice", j);
                    m.done = true;
                }
            }
            Err(StoreError::LeaseLost { .. }) if !expected => {}
            other => {
                return Err(TestCaseError::fail(format!(
                    "completion of {m:?} by {o}: expected success {expected}, got {other:?}"
                )));
            }
        }
        Ok(())
    }

    /// The store's view of every job agrees with the model.
    fn compare(&self) -> Result<(), TestCaseError> {
        let now = self.now();
        let jobs: Vec<Job> = must(self.store.jobs(&JobFilter::default()), "jobs");
        let mut holders = 0;
        for (job, m) in jobs.iter().zip(&self.models) {
            let expected = if m.done {
                JobStatus::Done
            } else if m.exhausted {
                JobStatus::Failed
            } else if m.holder.is_some() {
                JobStatus::Leased
            } else {
                JobStatus::Queued
            };
            prop_assert_eq!(job.status, expected, "job {:?} vs model {:?}", job, m);
            prop_assert_eq!(job.attempts, m.attempts);
            if let (JobStatus::Leased, Some((o, until))) = (job.status, m.holder) {
                prop_assert_eq!(job.lease_owner.as_deref(), Some(OWNERS[o]));
                prop_assert_eq!(job.lease_expires_ms, Some(until));
                // At most one owner can act on the job right now.
                let acting = (0..OWNERS.len()).filter(|&x| m.held_by(x, now)).count();
                prop_assert!(acting <= 1);
                holders += acting;
            }
        }
        prop_assert!(holders <= JOBS);
        Ok(())
    }
}

/// One sequence of operations on a fresh store, then a probe: each owner holds a job only if
/// the model says it does.
fn run_case(make: &MakeStore, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut world = World::new(make);
    for op in ops {
        world.step(op)?;
    }
    let now = world.now();
    for (j, m) in world.models.iter().enumerate() {
        for (o, owner) in OWNERS.iter().enumerate() {
            let ok = must(
                world.store.heartbeat(world.ids[j], owner, LEASE_MS),
                "probe",
            );
            prop_assert_eq!(ok, m.held_by(o, now));
        }
    }
    Ok(())
}

/// Random interleavings of claims, heartbeats, completions, releases and clock advances by three
/// owners (the known regressions first, then [`CASES`] random ones, shrunk on failure): no two
/// owners ever hold one job, no job completes twice, and the store's view of every job matches
/// a model of the lease rules after each step.
pub fn no_two_owners_hold_a_job_and_none_completes_twice(make: &MakeStore) {
    for ops in regressions() {
        if let Err(e) = run_case(make, &ops) {
            panic!("lease model, known regression {ops:?}: {e}");
        }
    }
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        // The suite runs from other crates' tests: no regression files written beside them.
        failure_persistence: None,
        ..Config::default()
    });
    let ops = proptest::collection::vec(op(), 1..80);
    if let Err(e) = runner.run(&ops, |ops| run_case(make, &ops)) {
        panic!("lease model: {e}");
    }
}
