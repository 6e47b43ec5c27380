//! Property: whatever the interleaving of claims, heartbeats, completions, releases and clock
//! advances across three owners, no two owners ever hold one job and no job completes twice.
//!
//! A model tracks what the store should say (who holds each job until when, attempts, done,
//! exhausted); every answer of the store is checked against it, and the store's view of every
//! job is compared to the model after each step.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use gaffer_core::{FixedClock, Job, JobId, JobSpec, JobStatus, NewJob};
use gaffer_store::{
    Commit, JobCompletion, JobFilter, JobOutcome, NewProject, SqliteStore, Store, StoreError,
};
use proptest::prelude::*;
use std::sync::Arc;

const OWNERS: [&str; 3] = ["owner-0", "owner-1", "owner-2"];
const JOBS: usize = 4;
const LEASE_MS: i64 = 100;
const MAX_ATTEMPTS: u32 = 3;

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
    _dir: tempfile::TempDir,
    clock: Arc<FixedClock>,
    store: SqliteStore,
    ids: Vec<JobId>,
    models: Vec<Model>,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(FixedClock::new(1_000_000));
        let store = SqliteStore::open(&dir.path().join("p.db"), clock.clone()).unwrap();
        let project = store
            .upsert_project(&NewProject {
                name: "p".into(),
                root: "/p".into(),
                target: "main".into(),
            })
            .unwrap();
        let jobs = (0..JOBS)
            .map(|_| NewJob {
                project: project.id,
                task: None,
                spec: JobSpec::PrepareCandidate,
                priority: 0,
                max_attempts: MAX_ATTEMPTS,
            })
            .collect();
        store
            .commit(&Commit {
                enqueue: jobs,
                ..Commit::default()
            })
            .unwrap();
        let ids = store
            .jobs(&JobFilter::default())
            .unwrap()
            .iter()
            .map(|j| j.id)
            .collect();
        World {
            _dir: dir,
            clock,
            store,
            ids,
            models: vec![Model::default(); JOBS],
        }
    }

    fn now(&self) -> i64 {
        gaffer_core::Clock::now_ms(self.clock.as_ref())
    }

    fn index(&self, id: JobId) -> usize {
        self.ids.iter().position(|&i| i == id).unwrap()
    }

    fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let now = self.now();
        match *op {
            Op::Advance(ms) => self.clock.advance(ms),
            Op::Claim(o) => {
                let got = self.store.claim_job(OWNERS[o], &[], LEASE_MS).unwrap();
                // Jobs the claim found out of attempts are failed now, not handed out.
                for (i, m) in self.models.iter_mut().enumerate() {
                    if m.claimable(now) && m.attempts >= MAX_ATTEMPTS {
                        let stored = self.store.job(self.ids[i]).unwrap();
                        if stored.status == JobStatus::Failed {
                            m.exhausted = true;
                        }
                    }
                }
                match got {
                    Some(job) => {
                        let i = self.index(job.id);
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
            }
            Op::Heartbeat(o, j) => {
                let ok = self
                    .store
                    .heartbeat(self.ids[j], OWNERS[o], LEASE_MS)
                    .unwrap();
                let m = &mut self.models[j];
                prop_assert_eq!(ok, m.held_by(o, now), "heartbeat of {:?} by {}", m, o);
                if ok {
                    m.holder = Some((o, now + LEASE_MS));
                }
            }
            Op::Release(o, j) => {
                let ok = self.store.release_job(self.ids[j], OWNERS[o]).unwrap();
                let m = &mut self.models[j];
                prop_assert_eq!(ok, m.held_by(o, now), "release of {:?} by {}", m, o);
                if ok {
                    m.holder = None;
                    m.attempts -= 1;
                }
            }
            Op::Complete(o, j) => {
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
            }
        }
        self.compare()
    }

    /// The store's view of every job agrees with the model.
    fn compare(&self) -> Result<(), TestCaseError> {
        let now = self.now();
        let jobs: Vec<Job> = self.store.jobs(&JobFilter::default()).unwrap();
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
            if job.status == JobStatus::Leased {
                let (o, until) = m.holder.unwrap();
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn no_two_owners_hold_a_job_and_none_completes_twice(
        ops in proptest::collection::vec(op(), 1..80)
    ) {
        let mut world = World::new();
        for op in &ops {
            world.step(op)?;
        }
        // Each owner holds a job only if the model says it does: probe with heartbeats.
        let now = world.now();
        for (j, m) in world.models.clone().iter().enumerate() {
            for (o, owner) in OWNERS.iter().enumerate() {
                let ok = world.store.heartbeat(world.ids[j], owner, LEASE_MS).unwrap();
                prop_assert_eq!(ok, m.held_by(o, now));
            }
        }
    }
}
