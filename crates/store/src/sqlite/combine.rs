//! Claims and commits of one handle, combined: whoever gets the handle's connection runs every
//! claim and commit waiting for it in one transaction.
//!
//! A daemon's job runners share one [`super::SqliteStore`]. Before, each claim and each
//! completion was a transaction of its own, one after the other behind the handle's mutex:
//! eight runners meant seven waiting while one paid for its `BEGIN`, its pages written to the
//! WAL and its `COMMIT`. Now a caller first puts its request in the handle's queue, then takes
//! the connection: if a previous holder already ran its request, it just takes the result;
//! otherwise it runs all the queued requests, its own among them, in arrival order, in one
//! `BEGIN IMMEDIATE` transaction, each inside a savepoint of its own. A request that fails
//! (a lost lease, a version conflict) rolls back to its savepoint and gets its error; the others
//! are unaffected: each request is all or nothing and sees the ones before it, exactly as if
//! they had run one after the other, and none returns before the transaction that holds it has
//! committed. Pages that several requests touch (the claim indexes' leaves, mostly) are written
//! once per batch instead of once per request.

use super::changes::Touched;
use super::retry::{TxResult, retry};
use super::{commit, jobs};
use crate::{Commit, Result, StoreError};
use gaffer_core::{Clock, Event, Job, JobKind};
use rusqlite::{Connection, TransactionBehavior};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// A write waiting for the connection.
pub(super) enum Op {
    Claim {
        owner: String,
        kinds: Vec<JobKind>,
        labels: Vec<String>,
        lease_ms: i64,
    },
    Commit(Box<Commit>),
}

/// What a request wrote.
pub(super) enum Done {
    Claimed(Option<Box<Job>>),
    Committed(Vec<Event>),
}

impl Done {
    fn touched(&self, op: &Op) -> Touched {
        match (self, op) {
            (Done::Committed(written), Op::Commit(c)) => Touched {
                events: !written.is_empty(),
                jobs: !c.enqueue.is_empty(),
            },
            _ => Touched::NONE,
        }
    }
}

/// Where a request's result goes, and how its caller is told.
#[derive(Default)]
pub(super) struct Answer {
    result: Mutex<Option<Result<Done>>>,
    ready: Condvar,
}

type Slot = Arc<Answer>;

impl Answer {
    fn put(&self, result: Result<Done>) {
        *locked(&self.result) = Some(result);
        self.ready.notify_one();
    }

    /// The result once a holder of the connection has put it there.
    pub(super) fn take(&self) -> Option<Result<Done>> {
        locked(&self.result).take()
    }

    /// Waits up to `timeout` for the result (or for a nudge to try the connection again).
    pub(super) fn wait(&self, timeout: Duration) -> Option<Result<Done>> {
        let mut result = locked(&self.result);
        if result.is_none() {
            result = self
                .ready
                .wait_timeout(result, timeout)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|poisoned| poisoned.into_inner().0);
        }
        result.take()
    }

    fn nudge(&self) {
        self.ready.notify_one();
    }
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A queue and result slots: still valid whatever panicked while one was held.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The requests of one handle waiting for its connection.
#[derive(Default)]
pub(super) struct Queue(Mutex<Vec<(Op, Slot)>>);

impl Queue {
    /// Queues `op`; its result will be in the slot returned.
    pub(super) fn push(&self, op: Op) -> Slot {
        let slot = Slot::default();
        locked(&self.0).push((op, Arc::clone(&slot)));
        slot
    }

    fn take(&self) -> Vec<(Op, Slot)> {
        std::mem::take(&mut *locked(&self.0))
    }

    /// Tells the callers of the waiting requests to try the connection (its holder just let
    /// it go without running them): the first to get it runs them all.
    pub(super) fn nudge_waiting(&self) {
        for (_, slot) in locked(&self.0).iter() {
            slot.nudge();
        }
    }
}

/// The result in `slot`, once a holder of the connection has put it there.
#[cfg(test)]
fn result(slot: &Slot) -> Option<Result<Done>> {
    slot.take()
}

fn run(conn: &Connection, op: &Op, now: i64) -> TxResult<Done> {
    Ok(match op {
        Op::Claim {
            owner,
            kinds,
            labels,
            lease_ms,
        } => Done::Claimed(jobs::claim(conn, owner, kinds, labels, *lease_ms, now)?.map(Box::new)),
        Op::Commit(c) => Done::Committed(commit::apply(conn, c, now)?),
    })
}

/// Runs `op` alone, inside a savepoint of the transaction on `conn`: its failure rolls back
/// only what it wrote. A busy database fails the whole transaction (it is run again).
fn run_in_savepoint(conn: &Connection, op: &Op, now: i64) -> TxResult<Result<Done>> {
    conn.prepare_cached("SAVEPOINT request")?.execute([])?;
    match run(conn, op, now) {
        Ok(done) => {
            conn.prepare_cached("RELEASE request")?.execute([])?;
            Ok(Ok(done))
        }
        Err(e) if e.is_busy() => Err(e),
        Err(e) => {
            conn.prepare_cached("ROLLBACK TO request")?.execute([])?;
            conn.prepare_cached("RELEASE request")?.execute([])?;
            Ok(Err(e.into_store()))
        }
    }
}

/// A batch run and committed whose callers have not been answered yet: the listeners are told
/// what it `touched` first, then [`Batch::answer`] puts each result in its caller's slot.
pub(super) struct Batch {
    answers: Vec<(Slot, Result<Done>)>,
    pub(super) touched: Touched,
}

impl Batch {
    /// Puts each request's result in its slot and wakes its caller.
    pub(super) fn answer(self) {
        for (slot, result) in self.answers {
            slot.put(result);
        }
    }
}

/// Runs every request queued on `queue` in one write transaction on `conn` and returns their
/// results with what the transaction changed; the caller tells the listeners, then answers
/// (so that no caller returns before the listeners heard of its write). Called with the
/// handle's connection and the file's gate held.
pub(super) fn run_queued(conn: &mut Connection, queue: &Queue, clock: &dyn Clock) -> Batch {
    let batch = queue.take();
    let mut touched = Touched::NONE;
    if batch.is_empty() {
        return Batch {
            answers: Vec::new(),
            touched,
        };
    }
    let results = retry(|| {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let results = if let [(op, _)] = batch.as_slice() {
            // Alone: no savepoint needed, its failure rolls the transaction back.
            match run(&tx, op, clock.now_ms()) {
                Ok(done) => vec![Ok(done)],
                Err(e) => return Err(e),
            }
        } else {
            let mut results = Vec::with_capacity(batch.len());
            for (op, _) in &batch {
                results.push(run_in_savepoint(&tx, op, clock.now_ms())?);
            }
            results
        };
        tx.commit()?;
        Ok(results)
    });
    let answers = match results {
        Ok(results) => batch
            .into_iter()
            .zip(results)
            .map(|((op, slot), result)| {
                if let Ok(done) = &result {
                    let t = done.touched(&op);
                    touched.events |= t.events;
                    touched.jobs |= t.jobs;
                }
                (slot, result)
            })
            .collect(),
        Err(e) => {
            // Nothing was written. A request alone gets its own error; in a batch, each
            // request's own failure stayed in its savepoint, so what failed the batch is the
            // database's, and every request gets what it says.
            if let [(_, slot)] = batch.as_slice() {
                vec![(Arc::clone(slot), Err(e))]
            } else {
                let message = match e {
                    StoreError::Database(m) => m,
                    other => other.to_string(),
                };
                batch
                    .into_iter()
                    .map(|(_, slot)| (slot, Err(StoreError::Database(message.clone()))))
                    .collect()
            }
        }
    };
    Batch { answers, touched }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{JobCompletion, JobOutcome, NewProject, Store};
    use gaffer_core::{FixedClock, JobSpec, JobStatus, NewJob};

    #[test]
    fn a_batch_runs_in_order_and_a_failed_request_is_rolled_back_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("board.db");
        let clock = Arc::new(FixedClock::new(1_000_000));
        let store = super::super::SqliteStore::open(&path, clock.clone()).unwrap();
        let p = store
            .upsert_project(&NewProject {
                name: "p".into(),
                root: "/srv/p".into(),
                target: "main".into(),
            })
            .unwrap();
        let job = |priority| NewJob {
            project: p.id,
            task: None,
            spec: JobSpec::Cleanup {
                delete_branch: false,
            },
            priority,
            max_attempts: 3,
            needs: vec![],
        };
        store
            .commit(&Commit {
                enqueue: vec![job(2), job(1)],
                ..Commit::default()
            })
            .unwrap();
        let claim = |owner: &str| Op::Claim {
            owner: owner.into(),
            kinds: vec![],
            labels: vec![],
            lease_ms: 1_000,
        };
        let complete = |id, owner: &str| {
            Op::Commit(Box::new(Commit {
                complete_job: Some(JobCompletion {
                    job: id,
                    owner: owner.into(),
                    outcome: JobOutcome::Done,
                    error: None,
                }),
                enqueue: vec![job(0)],
                ..Commit::default()
            }))
        };
        let first = gaffer_core::JobId(1);
        let queue = Queue::default();
        let slots = [
            queue.push(claim("a")),
            // Not a's lease: refused, and the job it would enqueue with it is not written.
            queue.push(complete(first, "b")),
            queue.push(complete(first, "a")),
            queue.push(claim("b")),
        ];
        let mut conn = super::super::connection::open(&path).unwrap();
        let batch = run_queued(&mut conn, &queue, clock.as_ref());
        assert!(
            slots.iter().all(|s| result(s).is_none()),
            "no caller is answered before the listeners are told"
        );
        let touched = batch.touched;
        batch.answer();
        assert_eq!(
            touched,
            Touched {
                events: false,
                jobs: true
            }
        );
        let results: Vec<_> = slots.iter().map(|s| result(s).unwrap()).collect();
        match &results[0] {
            Ok(Done::Claimed(Some(j))) => assert_eq!(j.id, first),
            other => panic!("{:?}", other.as_ref().err()),
        }
        assert!(matches!(results[1], Err(StoreError::LeaseLost { .. })));
        assert!(matches!(results[2], Ok(Done::Committed(_))));
        match &results[3] {
            Ok(Done::Claimed(Some(j))) => assert_eq!(j.id, gaffer_core::JobId(2)),
            other => panic!("{:?}", other.as_ref().err()),
        }
        assert_eq!(store.job(first).unwrap().status, JobStatus::Done);
        let all = store.jobs(&crate::JobFilter::default()).unwrap();
        assert_eq!(
            all.len(),
            3,
            "one job enqueued, by the commit that went through"
        );
        assert!(result(&slots[0]).is_none(), "a result is taken once");
    }
}
