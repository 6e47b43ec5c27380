//! What other crates may read of a [`Board`]: its parts (read-only) and the queries the
//! surfaces need (runs, events, usage, jobs). Nothing here changes a task.

use crate::board::Board;
use crate::error::Result;
use crate::paths::StatePaths;
use crate::run_access::RunAccess;
use gaffer_config::Settings;
use gaffer_core::{Event, Job, Limits, Project, ProjectId, Run, RunId, Seq, TaskId};
use gaffer_git::{Git, Worktrees};
use gaffer_store::{EventFilter, JobFilter, Store, UsageDimension, UsageRow, UsageTotals};
use std::sync::Arc;

impl Board {
    /// Where the engine's own time went since the board was opened, by phase of a task's way
    /// (wall time summed over jobs, and how often each ran): what the pipeline benchmark
    /// prints.
    pub fn phase_times(&self) -> Vec<crate::phases::PhaseTotal> {
        self.phases.totals()
    }

    /// How the task worktrees handed out since the board was opened were made: fresh
    /// checkouts and pool slots reused.
    pub fn worktree_checkouts(&self) -> gaffer_git::CheckoutCounts {
        self.worktrees.checkout_counts()
    }

    /// Fills the worktree pool with ready slots at where new work starts, at most the pool's
    /// size (see `Worktrees::warm`); how many it made. An engine does it when it starts.
    pub fn warm_worktree_pool(&self) -> Result<usize> {
        let (start, _) = self.landing()?.base(self)?;
        Ok(self.worktrees.warm(&start)?)
    }

    /// How often the per-task passes over a worktree (staging, a candidate's checkout, a
    /// slot's reset) were done on the changed paths only, and how often over every file.
    pub fn worktree_watch_counts(&self) -> gaffer_git::WatchCounts {
        self.worktrees.watch().counts()
    }

    /// Whether the worktrees were told that no process in them can make a hard link (see
    /// [`gaffer_git::Worktrees::set_links_refused`]): set when an engine starts.
    pub fn worktree_links_refused(&self) -> bool {
        self.worktrees.links_refused()
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn paths(&self) -> &StatePaths {
        &self.paths
    }

    pub fn git(&self) -> &Git {
        &self.git
    }

    pub fn project(&self) -> &Project {
        &self.project
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn worktrees(&self) -> &Worktrees {
        &self.worktrees
    }

    pub fn run_access(&self) -> &RunAccess {
        &self.run_access
    }

    pub fn secrets(&self) -> &Arc<crate::secrets::Secrets> {
        &self.secrets
    }

    /// The store itself: for what follows the event log as it grows (the server's event
    /// stream, the notifier), and for tests and benchmarks that set up or inspect what the
    /// surfaces cannot. Everything else reads through the queries below and changes tasks
    /// through the board's actions.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn runs(&self, task: TaskId) -> Result<Vec<Run>> {
        Ok(self.store.runs(task)?)
    }

    pub fn run(&self, id: RunId) -> Result<Run> {
        Ok(self.store.run(id)?)
    }

    /// Events with `seq > after`, oldest first, at most `limit`.
    pub fn events_after(
        &self,
        after: Seq,
        limit: usize,
        filter: &EventFilter,
    ) -> Result<Vec<Event>> {
        Ok(self.store.events_after(after, limit, filter)?)
    }

    /// Every event of run `run`, oldest first.
    pub fn events_of_run(&self, run: RunId) -> Result<Vec<Event>> {
        let filter = EventFilter {
            run: Some(run),
            ..EventFilter::default()
        };
        self.events_after(Seq(0), 1_000_000, &filter)
    }

    pub fn last_seq(&self) -> Result<Seq> {
        Ok(self.store.last_seq()?)
    }

    pub fn usage_totals(&self, project: Option<ProjectId>) -> Result<UsageTotals> {
        Ok(self.store.usage_totals(project)?)
    }

    pub fn usage_breakdown(
        &self,
        project: Option<ProjectId>,
        by: UsageDimension,
    ) -> Result<Vec<UsageRow>> {
        Ok(self.store.usage_breakdown(project, by)?)
    }

    pub fn jobs(&self, filter: &JobFilter) -> Result<Vec<Job>> {
        Ok(self.store.jobs(filter)?)
    }

    pub fn projects(&self) -> Result<Vec<Project>> {
        Ok(self.store.projects()?)
    }
}
