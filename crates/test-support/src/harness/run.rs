//! Running the engine: to a settled board, or in the background to be stopped, crashed and
//! restarted.

use std::sync::Arc;
use std::time::Duration;

use gaffer_core::{Event, Status, Task, TaskId};
use gaffer_engine::{Engine, EngineError, EngineHandle, agents_from_settings};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::EngineHarness;
use super::setup::open_board;

/// How long anything may take before the test fails: a guard against hanging, not a measure.
const GUARD: Duration = Duration::from_secs(180);

/// How often waiting looks again.
const POLL: Duration = Duration::from_millis(50);

/// An engine running in the background.
pub(super) struct Running {
    handle: JoinHandle<Result<(), EngineError>>,
    shutdown: CancellationToken,
    /// What the server holds to poke it (a person's action stops work through it).
    pub(super) engine: EngineHandle,
}

impl EngineHarness {
    /// A new engine on the board, with the configured agents and an owner of its own.
    fn engine(&mut self) -> Arc<Engine> {
        self.instances += 1;
        let agents = agents_from_settings(self.board.settings(), self.repo.path())
            .unwrap_or_else(|e| panic!("cannot build the agents: {e}"));
        let owner = format!(
            "{}harness:{}:{}",
            self.board.owner_prefix(),
            std::process::id(),
            self.instances
        );
        match &self.sharing.worker {
            // A worker's results go to the daemon through a store of its own (the board's
            // is wrapped in the redactor).
            Some(link) => Engine::worker(
                Arc::clone(&self.board),
                agents,
                owner,
                super::setup::worker_store(link),
            ),
            None => Engine::with_owner(Arc::clone(&self.board), agents, owner),
        }
    }

    /// Runs an engine until nothing moves without a person: every task is merged, failed,
    /// cancelled, or waits for an answer, an approval or a dependency.
    pub async fn settle(&mut self) {
        assert!(
            self.running.is_none(),
            "an engine runs in the background: stop or crash it first"
        );
        let engine = self.engine();
        let run = engine.run_until_settled(CancellationToken::new());
        match tokio::time::timeout(GUARD, run).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("the engine failed: {e}"),
            Err(_) => panic!(
                "the board did not settle within {GUARD:?}:\n{}",
                self.describe()
            ),
        }
    }

    /// Whether an engine runs in the background.
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// Starts an engine in the background (recovery first, as on any start).
    pub fn start(&mut self) {
        assert!(self.running.is_none(), "an engine already runs");
        let engine = self.engine();
        let shutdown = CancellationToken::new();
        let poke = engine.handle();
        let handle = tokio::spawn(engine.run(shutdown.clone()));
        self.running = Some(Running {
            handle,
            shutdown,
            engine: poke,
        });
    }

    /// Stops the background engine as `gaffer down` does: running work is interrupted and its
    /// jobs go back to the queue.
    pub async fn stop(&mut self) {
        let Some(running) = self.running.take() else {
            panic!("no engine runs");
        };
        running.shutdown.cancel();
        match tokio::time::timeout(GUARD, running.handle).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => panic!("the engine failed: {e}"),
            Ok(Err(e)) => panic!("the engine panicked: {e}"),
            Err(_) => panic!("the engine did not stop within {GUARD:?}"),
        }
    }

    /// Drops the background engine where it is, as a crash would: nothing is released or
    /// recorded, its leases stay with it (its owner is dead from now on), runs stay `running`.
    /// Then whatever it left going stops, as a dead process's threads would: the heartbeats of
    /// its leases (so they run out, and another daemon sharing the board can take its jobs
    /// over) and its agents.
    pub async fn crash(&mut self) {
        let Some(running) = self.running.take() else {
            panic!("no engine runs");
        };
        running.handle.abort();
        // Its end (cancelled) is awaited, so nothing of it runs on; then its jobs' ends (a job
        // polled on another thread when the abort came runs on to its next await).
        let _ = running.handle.await;
        if tokio::time::timeout(GUARD, running.engine.jobs_dropped())
            .await
            .is_err()
        {
            panic!("the crashed engine's jobs were not dropped within {GUARD:?}");
        }
        // Only now: its jobs are gone, so none of them reacts to this by recording anything.
        running.shutdown.cancel();
    }

    /// Opens the board again on the same state (a new store connection, nothing in memory
    /// kept), as a new daemon would.
    pub fn reopen(&mut self) {
        assert!(self.running.is_none(), "an engine still runs");
        let settings = self.board.settings().clone();
        self.board = open_board(&self.repo, settings, &self.sharing);
    }

    /// [`reopen`](Self::reopen) and [`start`](Self::start): the next daemon after a crash or a
    /// stop.
    pub fn restart(&mut self) {
        self.reopen();
        self.start();
    }

    /// Waits until `check` returns something, while the engine works in the background.
    pub async fn wait_until<T>(&self, what: &str, mut check: impl FnMut(&Self) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + GUARD;
        loop {
            if let Some(found) = check(self) {
                return found;
            }
            if let Some(running) = &self.running
                && running.handle.is_finished()
            {
                panic!("the engine stopped while waiting for {what}");
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "timed out after {GUARD:?} waiting for {what}:\n{}",
                    self.describe()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until task `id` is `status`.
    pub async fn wait_for_status(&self, id: TaskId, status: Status) -> Task {
        self.wait_until(&format!("task {id} to be {status:?}"), |h| {
            let task = h.task(id);
            (task.status() == status).then_some(task)
        })
        .await
    }

    /// Waits for the first event of `kind` on task `id`.
    pub async fn wait_for_event(&self, id: TaskId, kind: &str) -> Event {
        self.wait_until(&format!("a {kind} event of task {id}"), |h| {
            h.events_of(id, kind).into_iter().next()
        })
        .await
    }
}
