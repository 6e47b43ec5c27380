//! Where the engine's own time goes, by phase of a task's way through it: wall time summed over
//! every job since the board was opened, and how many times each phase ran. Concurrent jobs
//! each count their own time, so the sum over phases may exceed the elapsed time. Read by the
//! pipeline benchmark (`Board::phase_times`); nothing decides on it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A phase of the engine's work on a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Getting the task's worktree: a pool slot moved to the start, or a fresh checkout.
    WorktreeCheckout,
    /// Before the agent starts: the worktree put on its branch, the prompt's context, the
    /// run's own git directory.
    RunPrepare,
    /// The agent itself (and bringing its commits back from a confined run's directory).
    Agent,
    /// After the agent: its work committed (`git add -A`, the commit) and checked (secrets,
    /// write scope).
    Commit,
    /// The worktree put on the commit to verify (the branch, or a merge candidate).
    VerifyCheckout,
    /// The project's verify command.
    VerifyCommand,
    /// A passing branch checked for a conflict with the landing tip (`git merge-tree`).
    ConflictCheck,
    /// A merge candidate built in the object store (`git merge-tree`, `commit-tree`).
    CandidateBuild,
    /// The landing ref moved by compare-and-swap and the landed tasks recorded.
    Landing,
    /// The task's worktree released (parked in the pool and reset, or deleted).
    Cleanup,
    /// The store's transactions for task state (`apply`).
    Store,
}

impl Phase {
    /// Every phase, in the order of a task's way.
    pub const ALL: [Phase; 11] = [
        Phase::WorktreeCheckout,
        Phase::RunPrepare,
        Phase::Agent,
        Phase::Commit,
        Phase::VerifyCheckout,
        Phase::VerifyCommand,
        Phase::ConflictCheck,
        Phase::CandidateBuild,
        Phase::Landing,
        Phase::Cleanup,
        Phase::Store,
    ];

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Phase::WorktreeCheckout => "worktree checkout",
            Phase::RunPrepare => "run prepare",
            Phase::Agent => "agent",
            Phase::Commit => "commit (add -A)",
            Phase::VerifyCheckout => "verify checkout",
            Phase::VerifyCommand => "verify command",
            Phase::ConflictCheck => "conflict check",
            Phase::CandidateBuild => "candidate build",
            Phase::Landing => "landing",
            Phase::Cleanup => "cleanup/release",
            Phase::Store => "store (apply)",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The total of one phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhaseTotal {
    pub phase: Phase,
    /// Wall time summed over every time it ran.
    pub total: Duration,
    /// How many times it ran.
    pub count: u64,
}

/// Sums per phase; shared by every job of a board.
#[derive(Debug, Default)]
pub(crate) struct PhaseTimes {
    nanos: [AtomicU64; Phase::ALL.len()],
    counts: [AtomicU64; Phase::ALL.len()],
}

impl PhaseTimes {
    /// Adds one run of `phase` that took `took`.
    pub(crate) fn add(&self, phase: Phase, took: Duration) {
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.nanos[phase.index()].fetch_add(nanos, Ordering::Relaxed);
        self.counts[phase.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Runs `f`, counting its time as `phase`.
    pub(crate) fn time<T>(&self, phase: Phase, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let result = f();
        self.add(phase, start.elapsed());
        result
    }

    /// Awaits `f`, counting its time as `phase`.
    pub(crate) async fn time_async<T>(&self, phase: Phase, f: impl Future<Output = T>) -> T {
        let start = Instant::now();
        let result = f.await;
        self.add(phase, start.elapsed());
        result
    }

    /// The totals so far, one per phase in [`Phase::ALL`] order.
    pub(crate) fn totals(&self) -> Vec<PhaseTotal> {
        Phase::ALL
            .iter()
            .map(|&phase| PhaseTotal {
                phase,
                total: Duration::from_nanos(self.nanos[phase.index()].load(Ordering::Relaxed)),
                count: self.counts[phase.index()].load(Ordering::Relaxed),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_per_phase() {
        let times = PhaseTimes::default();
        times.add(Phase::Commit, Duration::from_millis(3));
        times.add(Phase::Commit, Duration::from_millis(4));
        let seven = times.time(Phase::Landing, || 7);
        assert_eq!(seven, 7);
        let totals = times.totals();
        assert_eq!(totals.len(), Phase::ALL.len());
        let commit = totals.iter().find(|t| t.phase == Phase::Commit).unwrap();
        assert_eq!((commit.total, commit.count), (Duration::from_millis(7), 2));
        let landing = totals.iter().find(|t| t.phase == Phase::Landing).unwrap();
        assert_eq!(landing.count, 1);
    }
}
