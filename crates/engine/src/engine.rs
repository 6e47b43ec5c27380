//! The engine loop: recover, then schedule and work until told to stop.

use crate::apply::{Extra, apply};
use crate::board::Board;
use crate::conclude::JobReport;
use crate::error::{EngineError, Result};
use crate::host::{HeavyPermit, HeldBack, HostBudget};
use crate::jobs::{self, JobContext, JobResult};
use crate::{queue, scheduler};
use gaffer_agents::Registry;
use gaffer_core::payload::EngineOwner;
use gaffer_core::{Input, Job, JobId, JobKind, JobSpec, NewEvent, Payload, Status, TaskId};
use gaffer_store::StoreError;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Job kinds by the slot they use: agents (`engine.concurrency`), heavy commands (the host
/// budget, `[host]`), the merge queue's landing (one at a time, never behind other work), and
/// light bookkeeping.
const AGENT_KINDS: &[JobKind] = &[JobKind::Run];
const HEAVY_KINDS: &[JobKind] = &[JobKind::Verify];
const LAND_KINDS: &[JobKind] = &[JobKind::Land];
const LIGHT_KINDS: &[JobKind] = &[JobKind::PrepareCandidate, JobKind::Cleanup];
const LIGHT_SLOTS: usize = 2;

/// How often a remote worker removes the worktrees and branches of tasks that ended, in
/// heartbeats (five minutes with the default heartbeat of ten seconds).
const WORKER_CLEAN_HEARTBEATS: u32 = 30;

/// How often the loop looks at the board when nothing wakes it.
const TICK: Duration = Duration::from_millis(250);

/// Room to start tasks in one scheduling round: in this machine's free agent slots, and in
/// the live remote workers'.
struct Room {
    own: usize,
    theirs: usize,
    workers: Vec<gaffer_store::HostInfo>,
}

impl Room {
    /// Takes a slot for starting `task`: one of this machine's if it can take a job the start
    /// enqueues, else a worker's if one of them can; `false` when there is none.
    fn take(&mut self, board: &Board, tasks: &[gaffer_core::Task], task: TaskId) -> bool {
        if self.own == usize::MAX {
            return true;
        }
        let Some(task) = tasks.iter().find(|t| t.id == task) else {
            return false;
        };
        let needs = crate::needs::start_needs(board, task);
        let fits = |labels: &[String]| needs.iter().any(|n| crate::routing::fits(n, labels));
        if self.own > 0 && fits(&board.settings.host.labels) {
            self.own -= 1;
            true
        } else if self.theirs > 0 && self.workers.iter().any(|w| fits(&w.labels)) {
            self.theirs -= 1;
            true
        } else {
            false
        }
    }
}

/// A job being worked on: its kind, how to stop it, and its task.
type Running = (JobKind, CancellationToken, Option<TaskId>);

/// A running engine for one board.
pub struct Engine {
    pub(crate) board: Arc<Board>,
    agents: Arc<Registry>,
    owner: String,
    wake: Arc<Notify>,
    concurrency: AtomicUsize,
    /// Verify runs, the queue's and the coders', share the host's heavy-work budget.
    budget: HostBudget,
    /// Why heavy work was last held back by the host's load, to log each change once.
    held_back: Mutex<Option<String>>,
    /// The same for agent runs.
    agents_held_back: Mutex<Option<String>>,
    running: Mutex<HashMap<JobId, Running>>,
    /// Every job future this engine spawned, until it ends or is dropped (see
    /// [`EngineHandle::jobs_dropped`]).
    jobs_alive: tokio_util::task::TaskTracker,
    /// The leases of the running jobs, renewed together (`crate::heartbeats`).
    heartbeats: Arc<crate::heartbeats::Heartbeats>,
    /// Numbers each claim (see `fill`).
    claims: AtomicU64,
    /// When the last agent run was handed out (for `engine.agent_stagger`).
    last_agent_start: Mutex<Option<std::time::Instant>>,
    /// What the budgets last said (to record each change once).
    spend: crate::budget::Watch,
    /// Who drives the merge queue when the board is shared.
    queue: crate::queue_lease::QueueLease,
    /// When this machine last said it is alive, and the jobs (or ready tasks) it said cannot
    /// be routed.
    routing: Mutex<(Option<std::time::Instant>, crate::routing::Said)>,
    /// When this engine started: machines get a moment to say they are up before a job is said
    /// to have none.
    started: std::time::Instant,
    /// On a remote worker, where job results go (the daemon); `None` on a daemon.
    reporter: Option<Arc<dyn crate::worker::Reporter>>,
    /// On a remote worker, when its worktrees were last cleaned up.
    last_clean: Mutex<Option<std::time::Instant>>,
}

/// What the server and the CLI hold to poke a running engine.
#[derive(Clone)]
pub struct EngineHandle {
    wake: Arc<Notify>,
    engine: Arc<Engine>,
}

impl EngineHandle {
    /// Look at the board now (a task was added or a person acted).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
    /// Changes how many agents run at once.
    pub fn set_concurrency(&self, n: usize) {
        self.engine.concurrency.store(n.max(1), Ordering::SeqCst);
        self.wake();
    }
    pub fn concurrency(&self) -> usize {
        self.engine.concurrency.load(Ordering::SeqCst)
    }
    /// Waits until no job future of this engine is left. After the engine's run was aborted its
    /// jobs are aborted too, but one being polled on another thread runs on to its next await
    /// (seeing, say, a cancellation that follows): whoever stands in for a dead process waits
    /// for this before stopping what the jobs left going.
    pub async fn jobs_dropped(&self) {
        let alive = &self.engine.jobs_alive;
        alive.close();
        alive.wait().await;
        alive.reopen();
    }
    /// Stops the running work of a task (after the machine cancelled it): the jobs the store
    /// has as cancelled, not the cleanup the cancel queued.
    pub fn cancel_task_jobs(&self, task: gaffer_core::TaskId) {
        let ids: Vec<JobId> = self
            .engine
            .board
            .store
            .jobs(&gaffer_store::JobFilter {
                task: Some(task),
                statuses: vec![gaffer_core::JobStatus::Cancelled],
            })
            .map(|jobs| jobs.into_iter().map(|j| j.id).collect())
            .unwrap_or_default();
        if let Ok(running) = self.engine.running.lock() {
            for id in ids {
                if let Some((_, token, _)) = running.get(&id) {
                    token.cancel();
                }
            }
        }
        self.wake();
    }

    /// Gives what a person just said to `task` to its agent runs going on in this engine: a
    /// run whose backend takes messages at the agent's next turn is handed it
    /// (`crate::listening`); any other is stopped without failing it: its job goes back to the
    /// queue (no attempt counted), and its next run resumes the stopped run's session with the
    /// message (`crate::said`). Runs on other machines are not reached: they hear it at the
    /// task's next run.
    pub fn deliver_said(&self, task: gaffer_core::TaskId) {
        let board = &self.engine.board;
        let took = board.listening.deliver(board, task).unwrap_or_else(|e| {
            tracing::warn!(%task, "cannot hand a person's message to the running agent: {e}");
            Vec::new()
        });
        if let Ok(running) = self.engine.running.lock() {
            for (job, (kind, token, of)) in running.iter() {
                if *of == Some(task) && AGENT_KINDS.contains(kind) && !took.contains(job) {
                    token.cancel();
                }
            }
        }
        self.wake();
    }
}

impl Engine {
    pub fn new(board: Arc<Board>, agents: Registry) -> Arc<Engine> {
        let me = gaffer_proc::current_identity();
        let owner = format!("{}{}:{}", board.owner_prefix(), me.pid, me.start_time);
        Engine::with_owner(board, agents, owner)
    }

    /// An engine leasing jobs as `owner`. In-process tests start engine after engine on one
    /// board; an owner of its own (under the board's [`Board::owner_prefix`]) makes each look
    /// like another instance, so the next one's recovery treats the leases of one that was
    /// dropped as a dead instance's.
    pub fn with_owner(board: Arc<Board>, agents: Registry, owner: String) -> Arc<Engine> {
        Engine::build(board, agents, owner, None)
    }

    fn build(
        board: Arc<Board>,
        agents: Registry,
        owner: String,
        reporter: Option<Arc<dyn crate::worker::Reporter>>,
    ) -> Arc<Engine> {
        let concurrency = board.settings.engine.concurrency;
        let budget = HostBudget::new(&board.settings.host);
        // Whatever changes the board (this process, another one, another daemon through
        // PostgreSQL's NOTIFY) wakes the loop at once; the tick stays as a fallback.
        let wake = Arc::new(Notify::new());
        let weak = Arc::downgrade(&wake);
        board
            .store
            .subscribe(Arc::new(move |_: gaffer_store::Change| {
                if let Some(wake) = weak.upgrade() {
                    wake.notify_one();
                }
            }));
        Arc::new(Engine {
            agents: Arc::new(agents),
            wake,
            concurrency: AtomicUsize::new(concurrency),
            budget,
            held_back: Mutex::new(None),
            agents_held_back: Mutex::new(None),
            running: Mutex::new(HashMap::new()),
            jobs_alive: tokio_util::task::TaskTracker::new(),
            heartbeats: Arc::default(),
            claims: AtomicU64::new(0),
            last_agent_start: Mutex::new(None),
            spend: crate::budget::Watch::default(),
            queue: crate::queue_lease::QueueLease::new(&board, &owner),
            routing: Mutex::new((None, std::collections::HashSet::new())),
            started: std::time::Instant::now(),
            reporter,
            last_clean: Mutex::new(None),
            board,
            owner,
        })
    }

    /// A remote worker's engine (`crate::worker`): on a board whose store is the daemon, it
    /// only claims agent runs and verify with the machine's labels, runs them and reports each
    /// result to `reporter`. It schedules nothing, drives no merge queue and recovers nothing
    /// (its dead instances' leases run out).
    pub fn worker(
        board: Arc<Board>,
        agents: Registry,
        owner: String,
        reporter: Arc<dyn crate::worker::Reporter>,
    ) -> Arc<Engine> {
        Engine::build(board, agents, owner, Some(reporter))
    }

    fn is_worker(&self) -> bool {
        self.reporter.is_some()
    }

    pub fn handle(self: &Arc<Self>) -> EngineHandle {
        EngineHandle {
            wake: Arc::clone(&self.wake),
            engine: Arc::clone(self),
        }
    }

    pub fn board(&self) -> &Arc<Board> {
        &self.board
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Recovers from whatever the previous instance left, then runs until `shutdown`. On
    /// shutdown, running work is interrupted and its jobs go back to the queue: every task can
    /// be resumed by the next start.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) -> Result<()> {
        self.board.check_shared()?;
        self.board.note_confinement();
        if !self.is_worker() {
            let report = crate::recovery::recover(&self).await?;
            tracing::info!(?report, "recovered");
            self.event(Payload::EngineStarted(EngineOwner {
                owner: self.owner.clone(),
            }));
            warm_pool(&self.board);
        }
        // One heartbeat for every job this engine runs; it outlives them all, and ends with
        // this run even when its future is dropped.
        let beats = Arc::clone(&self.heartbeats).spawn(
            Arc::clone(&self.board.store),
            self.board.settings.engine.heartbeat,
            self.board.settings.engine.lease.as_millis() as i64,
        );
        let mut workers: JoinSet<()> = JoinSet::new();
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            if !self.is_worker() {
                if let Err(e) = self.tick() {
                    tracing::error!("scheduling failed: {e}");
                }
                if self.queue.hold(&self.board) {
                    self.queue_round().await;
                }
            }
            self.routing_round();
            if self.is_worker() {
                self.clean_round().await;
            }
            self.fill(&mut workers, &shutdown);
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(TICK) => {}
                _ = shutdown.cancelled() => {}
                Some(_) = workers.join_next(), if !workers.is_empty() => {}
            }
        }
        // A warming of the pool still under way would hold the stop up by whole trees.
        self.board.worktrees.stop_warming();
        if let Ok(running) = self.running.lock() {
            for (_, token, _) in running.values() {
                token.cancel();
            }
        }
        while workers.join_next().await.is_some() {}
        beats.stop().await;
        if !self.is_worker() {
            self.queue.release(&self.board);
            self.event(Payload::EngineStopped(EngineOwner {
                owner: self.owner.clone(),
            }));
        }
        Ok(())
    }

    /// Runs until every task of the board is terminal or waits on a person or on a task that
    /// will not merge; for `gaffer demo` and tests.
    pub async fn run_until_settled(self: Arc<Self>, shutdown: CancellationToken) -> Result<()> {
        let stop = shutdown.child_token();
        let watcher = {
            let engine = Arc::clone(&self);
            let stop = stop.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    if engine.settled().unwrap_or(false) {
                        stop.cancel();
                        return;
                    }
                    if stop.is_cancelled() {
                        return;
                    }
                }
            })
        };
        let result = Arc::clone(&self).run(stop.clone()).await;
        stop.cancel();
        let _ = watcher.await;
        result
    }

    /// True when nothing can move without a person: no job queued or running, and the
    /// scheduler has nothing to do.
    pub fn settled(&self) -> Result<bool> {
        let active = self.board.store.jobs(&gaffer_store::JobFilter {
            task: None,
            statuses: vec![
                gaffer_core::JobStatus::Queued,
                gaffer_core::JobStatus::Leased,
            ],
        })?;
        if !active.is_empty() {
            return Ok(false);
        }
        let tasks = self.board.tasks(&[])?;
        Ok(scheduler::decide(&self.board, &tasks).is_empty()
            && !tasks.iter().any(|t| {
                matches!(
                    t.status(),
                    Status::Planning
                        | Status::PlanReview
                        | Status::Coding
                        | Status::Verifying
                        | Status::Reviewing
                        | Status::Queued
                        | Status::Merging
                )
            }))
    }

    /// Once per heartbeat: say this machine is alive, and (the queue's driver, or the only
    /// daemon) which jobs no live machine can take.
    fn routing_round(&self) {
        let Ok(mut routing) = self.routing.lock() else {
            return;
        };
        let due = routing
            .0
            .is_none_or(|at| at.elapsed() >= self.board.settings.engine.heartbeat);
        if !due {
            return;
        }
        routing.0 = Some(std::time::Instant::now());
        let running = self.running.lock().map(|r| r.len()).unwrap_or(0);
        let slots = self.concurrency.load(Ordering::SeqCst);
        crate::routing::announce(&self.board, &self.board.owner_prefix, running, slots);
        // Every machine says it is up once per heartbeat: wait a few before judging.
        let settled = self.started.elapsed() >= self.board.settings.engine.heartbeat * 3;
        if settled && !self.is_worker() && (!self.board.shared || self.queue.held()) {
            let now = crate::queue::now_ms();
            if let Err(e) = crate::routing::report_unroutable(&self.board, now, &mut routing.1) {
                tracing::warn!("cannot tell which jobs no machine can take: {e}");
            }
        }
    }

    /// On a worker, once per [`WORKER_CLEAN_HEARTBEATS`] heartbeats: the worktrees and branches of tasks that
    /// ended go (a daemon's recovery and cleanup jobs do it on its own machine; nothing else
    /// would on a worker's).
    async fn clean_round(&self) {
        let due = match self.last_clean.lock() {
            Ok(mut last)
                if last.is_none_or(|at| {
                    at.elapsed() >= self.board.settings.engine.heartbeat * WORKER_CLEAN_HEARTBEATS
                }) =>
            {
                *last = Some(std::time::Instant::now());
                true
            }
            _ => false,
        };
        if !due {
            return;
        }
        let board = Arc::clone(&self.board);
        match jobs::blocking(move || board.clean(false)).await {
            Ok(report) if !report.worktrees_removed.is_empty() => {
                tracing::info!(worktrees = report.worktrees_removed.len(), "cleaned up");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("cleaning up failed: {e}"),
        }
    }

    /// One round of the merge queue (git work, off the async workers); then stops the running
    /// verify of candidates the round dropped.
    async fn queue_round(&self) {
        let board = Arc::clone(&self.board);
        match jobs::blocking(move || queue::round(&board)).await {
            Ok(round) => {
                if round.more {
                    self.wake.notify_one();
                }
                for task in round.stopped {
                    self.stop_running(task);
                }
            }
            Err(e) => tracing::error!("the merge queue failed: {e}"),
        }
    }

    /// Cancels the running jobs of `task` (the machine already cancelled them in the store),
    /// not its cleanups, which must finish.
    fn stop_running(&self, task: TaskId) {
        if let Ok(running) = self.running.lock() {
            for (kind, token, of) in running.values() {
                if *of == Some(task) && *kind != JobKind::Cleanup {
                    token.cancel();
                }
            }
        }
    }

    /// One scheduling round: acknowledge jobs that ran out of attempts, then apply the
    /// scheduler's decisions.
    fn tick(&self) -> Result<()> {
        for job in self.board.store.exhausted_jobs()? {
            let reason = job
                .error
                .clone()
                .unwrap_or_else(|| "the job kept losing its worker".into());
            self.conclude(&job, Err(EngineError::Invalid(reason)));
        }
        let tasks = self.board.tasks(&[])?;
        let mut room = self.room_to_start()?;
        for decision in scheduler::decide(&self.board, &tasks) {
            if matches!(decision.input, Input::Start)
                && !room.take(&self.board, &tasks, decision.task)
            {
                continue;
            }
            match apply(
                &self.board,
                decision.task,
                &decision.input,
                Extra::default(),
            ) {
                Ok(_) => {}
                Err(EngineError::Transition { .. }) => {}
                Err(e) => tracing::warn!(task = %decision.task, "scheduler input failed: {e}"),
            }
        }
        // Budgets: release held tasks they allow again; idle mode: survey an idle board.
        crate::budget::round(&self.board, &tasks, &self.spend);
        if let Err(e) = crate::idle::round(&self.board) {
            tracing::warn!("idle survey failed: {e}");
        }
        Ok(())
    }

    /// How many tasks this engine may start now, for itself and for the remote workers. Alone
    /// on its board, the scheduler's own limit decides; on a shared board, where others start
    /// tasks too, as many as it has free agent slots, and as many as the live workers have
    /// (`routing::workers_free_agent_slots`), that no agent job waiting unclaimed would fill.
    fn room_to_start(&self) -> Result<Room> {
        if !self.board.shared {
            return Ok(Room {
                own: usize::MAX,
                theirs: 0,
                workers: Vec::new(),
            });
        }
        // Remote workers start nothing themselves: daemons start tasks for their free slots
        // (each daemon counts them; the jobs waiting unclaimed keep that from adding up).
        let workers = crate::routing::live_workers(&self.board, crate::queue::now_ms())?;
        let theirs = crate::routing::workers_free_agent_slots(&self.board, &workers)?;
        let (mine, others) = scheduler::waiting_jobs(&self.board, AGENT_KINDS, &workers)?;
        Ok(Room {
            own: self.slots(AGENT_KINDS).saturating_sub(mine),
            theirs: theirs.saturating_sub(others),
            workers,
        })
    }

    fn slots(&self, kinds: &'static [JobKind]) -> usize {
        let running = self
            .running
            .lock()
            .map(|r| r.values().filter(|(k, _, _)| kinds.contains(k)).count())
            .unwrap_or(usize::MAX);
        let capacity = if kinds == LIGHT_KINDS {
            LIGHT_SLOTS
        } else if kinds == LAND_KINDS {
            1
        } else if kinds == HEAVY_KINDS {
            // The budget decides; a permit is taken per job below.
            self.budget.slots()
        } else {
            self.concurrency.load(Ordering::SeqCst)
        };
        capacity.saturating_sub(running)
    }

    /// Claims jobs while slots are free and spawns a worker for each.
    fn fill(self: &Arc<Self>, workers: &mut JoinSet<()>, shutdown: &CancellationToken) {
        let lease_ms = self.board.settings.engine.lease.as_millis() as i64;
        // A worker takes only agent runs and verify (`crate::worker::WORKER_KINDS`).
        let all: &[&'static [JobKind]] = if self.is_worker() {
            &[HEAVY_KINDS, AGENT_KINDS]
        } else {
            &[LAND_KINDS, LIGHT_KINDS, HEAVY_KINDS, AGENT_KINDS]
        };
        for &kinds in all {
            for _ in 0..self.slots(kinds) {
                if kinds == AGENT_KINDS && (!self.agent_admitted() || !self.stagger_allows_start())
                {
                    break;
                }
                let permit = if kinds == HEAVY_KINDS {
                    match self.heavy_permit() {
                        Some(permit) => Some(permit),
                        None => break,
                    }
                } else {
                    None
                };
                // Each claim has its own owner name, so that a lease this engine lost (a long
                // suspend) and claimed again cannot be completed by the first worker too.
                let claim = self.claims.fetch_add(1, Ordering::SeqCst);
                let owner = format!("{}/{claim}", self.owner);
                let labels = &self.board.settings.host.labels;
                let job = match self
                    .board
                    .store
                    .claim_job_for(&owner, kinds, labels, lease_ms)
                {
                    Ok(Some(job)) => job,
                    Ok(None) => break,
                    Err(e) => {
                        tracing::error!("claiming a job failed: {e}");
                        break;
                    }
                };
                crate::recovery::take_over(&self.board, &job);
                let token = shutdown.child_token();
                if let Ok(mut running) = self.running.lock() {
                    running.insert(job.id, (job.spec.kind(), token.clone(), job.task));
                }
                let engine = Arc::clone(self);
                workers.spawn(
                    self.jobs_alive
                        .track_future(async move { engine.drive(job, token, permit).await }),
                );
            }
        }
    }

    /// A slot of the host's heavy-work budget, unless the host is too busy; logs each change of
    /// why heavy work waits.
    fn heavy_permit(&self) -> Option<HeavyPermit> {
        let (permit, why) = match self.budget.try_acquire() {
            Ok(permit) => (Some(permit), None),
            Err(HeldBack::Full { .. }) => return None,
            Err(held) => (None, Some(held.to_string())),
        };
        if let Ok(mut last) = self.held_back.lock()
            && *last != why
        {
            match &why {
                Some(why) => tracing::info!("heavy work waits: {why}"),
                None => tracing::info!("heavy work resumes"),
            }
            *last = why;
        }
        permit
    }

    /// Whether this host can take another agent run (its load and memory thresholds, `[host]`);
    /// logs each change of why agents wait, as heavy work does.
    fn agent_admitted(&self) -> bool {
        let why = self.budget.agent_held_back().map(|held| held.to_string());
        if let Ok(mut last) = self.agents_held_back.lock()
            && *last != why
        {
            match &why {
                Some(why) => tracing::info!("agent runs wait: {why}"),
                None => tracing::info!("agent runs resume"),
            }
            *last = why.clone();
        }
        why.is_none()
    }

    /// Agent starts are spread by `engine.agent_stagger`; true when the next may start now (and
    /// records that it does).
    fn stagger_allows_start(&self) -> bool {
        let stagger = self.board.settings.engine.agent_stagger;
        let Ok(mut last) = self.last_agent_start.lock() else {
            return true;
        };
        let now = std::time::Instant::now();
        if last.is_some_and(|t| now.duration_since(t) < stagger) {
            return false;
        }
        *last = Some(now);
        true
    }

    /// Executes one job under its lease, heartbeating, and records its result. A heavy job holds
    /// its `permit` of the host budget until it is done.
    async fn drive(
        self: Arc<Self>,
        job: Job,
        cancel: CancellationToken,
        permit: Option<HeavyPermit>,
    ) {
        let heartbeat = self
            .heartbeats
            .hold(job.id, self.holder(&job), cancel.clone());
        let ctx = JobContext {
            board: Arc::clone(&self.board),
            agents: Arc::clone(&self.agents),
            job: job.clone(),
            owner: self.holder(&job),
            cancel: cancel.clone(),
        };
        if matches!(job.spec, JobSpec::Cleanup { .. })
            && let Some(task) = job.task
        {
            self.await_task_jobs(job.id, task, &cancel).await;
        }
        let result = jobs::execute(&ctx).await;
        drop(permit);
        if self.is_worker() {
            // A report crosses the network (and is retried while the daemon is out of reach):
            // off the async workers, with the lease kept alive until it has landed.
            let (engine, reported) = (Arc::clone(&self), job.clone());
            let _ = tokio::task::spawn_blocking(move || engine.conclude(&reported, result)).await;
        } else {
            self.conclude(&job, result);
        }
        // The job is held until its result is recorded: its lease is renewed until then (a
        // conclusion that waits on a busy store must not let it run out and the job be claimed
        // again while its result is being written).
        drop(heartbeat);
        if let Ok(mut running) = self.running.lock() {
            running.remove(&job.id);
        }
        self.wake.notify_one();
    }

    /// Waits until no job of `task` but `cleanup` is at work in this engine. A task's end
    /// (cancel, fail) cancels its other jobs, but one of them may be inside a checkout that
    /// cannot be interrupted: cleaning up before it ends would leave the worktree and branch it
    /// is making behind, owned by no task. The jobs were cancelled, so this is short; a
    /// shutdown ends the wait (the next start tidies what is left).
    async fn await_task_jobs(&self, cleanup: JobId, task: TaskId, cancel: &CancellationToken) {
        let busy = || {
            self.running.lock().is_ok_and(|running| {
                running
                    .iter()
                    .any(|(id, (_, _, of))| *id != cleanup && *of == Some(task))
            })
        };
        let started = std::time::Instant::now();
        let mut said = false;
        while busy() {
            if !said && started.elapsed() > Duration::from_secs(30) {
                tracing::warn!(%task, "the task's cleanup still waits for its other jobs to end");
                said = true;
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                _ = cancel.cancelled() => return,
            }
        }
    }

    /// The owner name the job was claimed under.
    fn holder(&self, job: &Job) -> String {
        job.lease_owner
            .clone()
            .unwrap_or_else(|| self.owner.clone())
    }

    /// Records a job's result: here (`crate::conclude`), or, on a worker, by reporting it to
    /// the daemon, which concludes it the same way.
    fn conclude(&self, job: &Job, result: Result<JobResult>) {
        let holder = self.holder(job);
        let report = JobReport::of(result);
        let outcome = match &self.reporter {
            Some(reporter) => reporter.report(job, &holder, report),
            None => crate::conclude::conclude(&self.board, job, &holder, report),
        };
        match outcome {
            Ok(()) => {}
            Err(EngineError::Store(StoreError::LeaseLost { .. })) => {
                tracing::warn!(job = %job.id, "result dropped: the lease was lost, the job will run again");
            }
            Err(e) => tracing::error!(job = %job.id, "recording the job's result failed: {e}"),
        }
    }

    pub(crate) fn event(&self, payload: Payload) {
        let kind = payload.kind().to_string();
        let event = NewEvent::of(payload).project(self.board.project.id);
        if let Err(e) = self.board.store.append_events(&[event]) {
            tracing::warn!("could not record a {kind} event: {e}");
        }
    }
}

/// Fills the worktree pool in the background at the start (see `Worktrees::warm`): a task
/// that comes meanwhile takes a slot as soon as one is ready.
fn warm_pool(board: &Arc<Board>) {
    if board.settings.engine.worktree_pool == 0 {
        return;
    }
    /// Ends the announcement below however the warming ends (a panic included): checkouts
    /// would otherwise wait for it up to their limit.
    struct Coming(Arc<Board>);
    impl Drop for Coming {
        fn drop(&mut self) {
            self.0.worktrees.warm_done();
        }
    }
    // Checkouts wait for it from now, not from when its thread gets going.
    board.worktrees.warm_coming();
    let coming = Coming(Arc::clone(board));
    tokio::task::spawn_blocking(move || match coming.0.warm_worktree_pool() {
        Ok(0) => {}
        Ok(made) => tracing::debug!(made, "worktree pool filled"),
        Err(e) => tracing::warn!("cannot fill the worktree pool: {e}"),
    });
}
