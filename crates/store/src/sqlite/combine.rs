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
//! are unaffected; a request whose code panics is rolled back the same way, and its panic is
//! resumed in its own caller's thread, not in the runner's: each request is all or nothing and sees the ones before it, exactly as if
//! they had run one after the other, and none returns before the transaction that holds it has
//! committed. Pages that several requests touch (the claim indexes' leaves, mostly) are written
//! once per batch instead of once per request.

use super::changes::Touched;
use super::retry::{TxResult, retry_since};
use super::{commit, jobs};
use crate::{Commit, Result, StoreError};
use gaffer_core::{Clock, Event, Job, JobKind};
use rusqlite::{Connection, TransactionBehavior};
use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// A write waiting for the connection.
pub(super) enum Op {
    Claim {
        owner: String,
        kinds: Vec<JobKind>,
        labels: Vec<String>,
        lease_ms: i64,
    },
    Commit(Box<Commit>),
    /// A commit whose code panics once it has written (the tests' stand-in for a bug).
    #[cfg(test)]
    PanicAfter(Box<Commit>),
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

/// A request's answer: its result, or the panic of the code that ran it, which is resumed in
/// its own caller's thread (not in the thread of whoever ran the batch).
enum Answered {
    Result(Result<Done>),
    Panicked(Box<dyn Any + Send>),
}

impl Answered {
    /// The result; a panic is resumed here, in the caller's thread.
    fn into_result(self) -> Result<Done> {
        match self {
            Answered::Result(result) => result,
            Answered::Panicked(panic) => std::panic::resume_unwind(panic),
        }
    }
}

/// Where a request's result goes, and how its caller is told: its thread is unparked when the
/// result is put there or when it should try the connection again. Unparking a thread that is
/// not parked costs no system call (a condition variable's notify always made one).
pub(super) struct Answer {
    result: Mutex<Option<Answered>>,
    /// Set when the caller should try the connection again.
    nudged: AtomicBool,
    /// The thread that queued the request and waits for its answer.
    caller: Thread,
    #[cfg(test)]
    nudges: std::sync::atomic::AtomicUsize,
}

type Slot = Arc<Answer>;

impl Answer {
    /// A slot for a request of the current thread.
    fn new() -> Answer {
        Answer {
            result: Mutex::new(None),
            nudged: AtomicBool::new(false),
            caller: std::thread::current(),
            #[cfg(test)]
            nudges: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    fn put(&self, answer: Answered) {
        *locked(&self.result) = Some(answer);
        self.caller.unpark();
    }

    /// The result once a holder of the connection has put it there. If the request's code
    /// panicked, the panic resumes here.
    pub(super) fn take(&self) -> Option<Result<Done>> {
        let answer = locked(&self.result).take();
        answer.map(Answered::into_result)
    }

    /// Waits up to `timeout` for the result, or for a nudge to try the connection again
    /// (`None`). Called by the thread that queued the request: it is the one woken.
    pub(super) fn wait(&self, timeout: Duration) -> Option<Result<Done>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(done) = self.take() {
                return Some(done);
            }
            // A nudge that came before the wait is not lost: the flag stays set.
            if self.nudged.swap(false, Ordering::AcqRel) {
                return None;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            // Woken by `put` or `nudge`, or spuriously: the loop looks again.
            std::thread::park_timeout(left);
        }
    }

    fn nudge(&self) {
        #[cfg(test)]
        self.nudges.fetch_add(1, Ordering::Relaxed);
        self.nudged.store(true, Ordering::Release);
        self.caller.unpark();
    }

    /// How many times its caller was told to try the connection.
    #[cfg(test)]
    pub(super) fn nudges(&self) -> usize {
        self.nudges.load(Ordering::Relaxed)
    }
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A queue and result slots: still valid whatever panicked while one was held.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The requests of one handle waiting for its connection.
#[derive(Default)]
pub(super) struct Queue {
    waiting: Mutex<Vec<(Op, Slot)>>,
    /// How many requests the last batch took.
    last_batch: std::sync::atomic::AtomicUsize,
}

impl Queue {
    /// Queues `op`; its result will be in the slot returned.
    pub(super) fn push(&self, op: Op) -> Slot {
        let slot = Arc::new(Answer::new());
        locked(&self.waiting).push((op, Arc::clone(&slot)));
        slot
    }

    fn take(&self) -> Vec<(Op, Slot)> {
        let batch = std::mem::take(&mut *locked(&self.waiting));
        self.last_batch.store(batch.len(), Ordering::Relaxed);
        batch
    }

    /// Whether the caller of the only waiting request, about to run it alone, should first let
    /// the callers of the last batch run: they were answered together, and they have not come
    /// back yet only because they wait for a processor.
    pub(super) fn alone_after_company(&self) -> bool {
        locked(&self.waiting).len() == 1 && self.last_batch.load(Ordering::Relaxed) > 1
    }

    /// Whether no request waits.
    pub(super) fn is_empty(&self) -> bool {
        locked(&self.waiting).is_empty()
    }

    /// Tells the caller of the oldest waiting request to try the connection (its holder just
    /// let it go without running it): if it gets it, it runs them all. Every holder of the
    /// connection calls it once it lets go (a read, a write of its own, a batch): a waiting
    /// caller does not queue on the connection's mutex, so it would otherwise sleep out its
    /// [`COMBINED_WAIT`](super::COMBINED_WAIT) while readers took the connection again and
    /// again. One caller, not all: the others would wake only to find the connection taken
    /// again and go back to sleep. The oldest request stays in the queue until a holder of the
    /// connection runs it, and every holder nudges its caller when it lets go, so one of them
    /// always runs the queue.
    pub(super) fn nudge_waiting(&self) {
        if let Some((_, slot)) = locked(&self.waiting).first() {
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
        #[cfg(test)]
        Op::PanicAfter(c) => {
            commit::apply(conn, c, now)?;
            panic!("a request's bug");
        }
    })
}

/// [`run`], with a panic caught: it is the request's own, for its caller.
fn run_caught(conn: &Connection, op: &Op, now: i64) -> std::thread::Result<TxResult<Done>> {
    std::panic::catch_unwind(AssertUnwindSafe(|| run(conn, op, now)))
}

/// Runs `op` alone, inside a savepoint of the transaction on `conn`: its failure rolls back
/// only what it wrote. A busy database fails the whole transaction (it is run again).
/// A panic in its code rolls back the same way and is kept for its caller.
fn run_in_savepoint(conn: &Connection, op: &Op, now: i64) -> TxResult<Answered> {
    conn.prepare_cached("SAVEPOINT request")?.execute([])?;
    let failed = match run_caught(conn, op, now) {
        Ok(Ok(done)) => {
            conn.prepare_cached("RELEASE request")?.execute([])?;
            return Ok(Answered::Result(Ok(done)));
        }
        Ok(Err(e)) if e.is_busy() => return Err(e),
        Ok(Err(e)) => Answered::Result(Err(e.into_store())),
        Err(panic) => Answered::Panicked(panic),
    };
    conn.prepare_cached("ROLLBACK TO request")?.execute([])?;
    conn.prepare_cached("RELEASE request")?.execute([])?;
    Ok(failed)
}

/// A batch run and committed whose callers have not been answered yet: the listeners are told
/// what it `touched` first, then [`Batch::answer`] puts each result in its caller's slot.
pub(super) struct Batch {
    answers: Vec<(Slot, Answered)>,
    pub(super) touched: Touched,
}

impl Batch {
    /// Puts each request's result in its slot and wakes its caller.
    pub(super) fn answer(self) {
        for (slot, answer) in self.answers {
            slot.put(answer);
        }
    }
}

/// Answers every request queued on `queue` with `error`, running none (no turn to write came).
pub(super) fn refuse_queued(queue: &Queue, error: fn() -> StoreError) -> Batch {
    let answers = queue
        .take()
        .into_iter()
        .map(|(_, slot)| (slot, Answered::Result(Err(error()))))
        .collect();
    Batch {
        answers,
        touched: Touched::NONE,
    }
}

/// Runs every request queued on `queue` in one write transaction on `conn` and returns their
/// results with what the transaction changed; the caller tells the listeners, then answers
/// (so that no caller returns before the listeners heard of its write). Called with the
/// handle's connection and the file's gate held.
pub(super) fn run_queued(
    conn: &mut Connection,
    queue: &Queue,
    clock: &dyn Clock,
    started: Instant,
) -> Batch {
    let batch = queue.take();
    let mut touched = Touched::NONE;
    if batch.is_empty() {
        return Batch {
            answers: Vec::new(),
            touched,
        };
    }
    let results = retry_since(started, || {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let results = if let [(op, _)] = batch.as_slice() {
            // Alone: no savepoint needed, its failure rolls the transaction back.
            match run_caught(&tx, op, clock.now_ms()) {
                Ok(Ok(done)) => vec![Answered::Result(Ok(done))],
                Ok(Err(e)) => return Err(e),
                // Its panic is its caller's; dropping the transaction rolls it back.
                Err(panic) => return Ok(vec![Answered::Panicked(panic)]),
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
                if let Answered::Result(Ok(done)) = &result {
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
                vec![(Arc::clone(slot), Answered::Result(Err(e)))]
            } else {
                let message = match e {
                    StoreError::Database(m) => m,
                    other => other.to_string(),
                };
                batch
                    .into_iter()
                    .map(|(_, slot)| {
                        let e = StoreError::Database(message.clone());
                        (slot, Answered::Result(Err(e)))
                    })
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

    /// A store on a new file (its path) in a temporary directory the caller keeps alive, its
    /// clock, and one project.
    fn store_with_project() -> (
        tempfile::TempDir,
        std::path::PathBuf,
        Arc<FixedClock>,
        super::super::SqliteStore,
        gaffer_core::Project,
    ) {
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
        (dir, path, clock, store, p)
    }

    #[test]
    fn a_batch_runs_in_order_and_a_failed_request_is_rolled_back_alone() {
        let (_dir, path, clock, store, p) = store_with_project();
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
        let task = store
            .create_task(
                p.id,
                &gaffer_core::NewTask {
                    title: "t".into(),
                    ..gaffer_core::NewTask::default()
                },
                &gaffer_core::TaskState::new(
                    gaffer_core::Flow::default(),
                    gaffer_core::Risk::Low,
                    0,
                ),
            )
            .unwrap();
        let first = gaffer_core::JobId(1);
        // Not a's lease: refused after it moved the task (written first, with its event),
        // so the move, its event and the job it would enqueue with it are all rolled back.
        let refused = {
            let mut state = task.state.clone();
            state.status = gaffer_core::Status::Ready;
            let Op::Commit(mut c) = complete(first, "b") else {
                unreachable!()
            };
            c.task = Some(crate::TaskUpdate {
                task: task.id,
                expected_version: task.version,
                state,
                plan: None,
                branch: None,
            });
            c.events = vec![gaffer_core::NewEvent::new("note", serde_json::json!({}))];
            Op::Commit(c)
        };
        let last_seq = store.last_seq().unwrap();
        let queue = Queue::default();
        let slots = [
            queue.push(claim("a")),
            queue.push(refused),
            queue.push(complete(first, "a")),
            queue.push(claim("b")),
        ];
        let mut conn = super::super::connection::open(&path).unwrap();
        let batch = run_queued(&mut conn, &queue, clock.as_ref(), Instant::now());
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
        let after = store.task(task.id).unwrap();
        assert_eq!(
            (after.version, after.state.status),
            (task.version, task.state.status),
            "the refused request's task update is rolled back"
        );
        assert_eq!(store.last_seq().unwrap(), last_seq, "and its events");
        let all = store.jobs(&crate::JobFilter::default()).unwrap();
        assert_eq!(
            all.len(),
            3,
            "one job enqueued, by the commit that went through"
        );
        assert!(result(&slots[0]).is_none(), "a result is taken once");
    }

    #[test]
    fn a_request_that_panics_is_rolled_back_and_its_panic_goes_to_its_own_caller() {
        let (_dir, path, clock, store, p) = store_with_project();
        let enqueue = |priority| {
            Box::new(Commit {
                enqueue: vec![NewJob {
                    project: p.id,
                    task: None,
                    spec: JobSpec::Cleanup {
                        delete_branch: false,
                    },
                    priority,
                    max_attempts: 3,
                    needs: vec![],
                }],
                ..Commit::default()
            })
        };
        let queue = Queue::default();
        let slots = [
            queue.push(Op::Commit(enqueue(1))),
            queue.push(Op::PanicAfter(enqueue(2))),
            queue.push(Op::Commit(enqueue(3))),
        ];
        let mut conn = super::super::connection::open(&path).unwrap();
        // The runner does not panic: the batch goes through.
        let batch = run_queued(&mut conn, &queue, clock.as_ref(), Instant::now());
        assert!(batch.touched.jobs);
        batch.answer();
        assert!(matches!(result(&slots[0]), Some(Ok(Done::Committed(_)))));
        assert!(matches!(result(&slots[2]), Some(Ok(Done::Committed(_)))));
        let Err(panic) = std::panic::catch_unwind(AssertUnwindSafe(|| result(&slots[1]))) else {
            panic!("the panic is resumed in its caller's thread");
        };
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"a request's bug"));
        let priorities: Vec<_> = store
            .jobs(&crate::JobFilter::default())
            .unwrap()
            .iter()
            .map(|j| j.priority)
            .collect();
        assert_eq!(
            priorities.len(),
            2,
            "the panicked request's job is not written"
        );
        assert!(!priorities.contains(&2), "{priorities:?}");

        // Alone in its batch: rolled back all the same.
        let slot = queue.push(Op::PanicAfter(enqueue(4)));
        run_queued(&mut conn, &queue, clock.as_ref(), Instant::now()).answer();
        assert!(std::panic::catch_unwind(AssertUnwindSafe(|| result(&slot))).is_err());
        assert_eq!(store.jobs(&crate::JobFilter::default()).unwrap().len(), 2);
    }

    #[test]
    fn only_the_oldest_waiting_caller_is_nudged_and_a_nudge_before_its_wait_is_not_lost() {
        let queue = Queue::default();
        let first = queue.push(Op::Commit(Box::default()));
        let second = queue.push(Op::Commit(Box::default()));
        queue.nudge_waiting();
        assert_eq!((first.nudges(), second.nudges()), (1, 0));
        // Nudged before it waits: the wait returns without an answer (it would otherwise
        // sleep out its whole timeout), and the nudge is used up.
        assert!(first.wait(Duration::from_secs(600)).is_none());
        assert!(!first.nudged.load(Ordering::Acquire));
    }

    #[test]
    fn a_waiting_caller_is_woken_by_its_answer_from_another_thread() {
        let queue = Arc::new(Queue::default());
        let slot = queue.push(Op::Commit(Box::default()));
        let answering = {
            let queue = Arc::clone(&queue);
            std::thread::spawn(move || {
                for (_, slot) in queue.take() {
                    slot.put(Answered::Result(Ok(Done::Committed(Vec::new()))));
                }
            })
        };
        // Woken by the answer (or finding it there): never a timeout, which is ten minutes.
        let done = loop {
            if let Some(done) = slot.wait(Duration::from_secs(600)) {
                break done;
            }
        };
        answering.join().unwrap();
        assert!(matches!(done, Ok(Done::Committed(_))));
        assert!(queue.is_empty());
    }
}
