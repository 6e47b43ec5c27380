//! The layout of a project's state directory (by default `<git common dir>/gaffer`, so nothing
//! of gaffer's ever appears in the user's work tree).

use gaffer_core::RunId;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatePaths {
    root: PathBuf,
}

impl StatePaths {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
    /// The state directory of the repository `git` opened, as `settings` place it:
    /// `project.state_dir` (relative to the repository root), else `<git common dir>/gaffer`,
    /// which every worktree of the repository shares. Nothing is created or opened.
    pub fn resolve(git: &gaffer_git::Git, settings: &gaffer_config::Settings) -> Self {
        let root = match &settings.project.state_dir {
            Some(p) if p.is_absolute() => p.clone(),
            Some(p) => git.top_level().join(p),
            None => git.common_dir().join("gaffer"),
        };
        Self::new(root)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    /// The SQLite database.
    pub fn database(&self) -> PathBuf {
        self.root.join("gaffer.db")
    }
    /// Task worktrees (and the pool of reusable ones).
    pub fn worktrees(&self) -> PathBuf {
        self.root.join("worktrees")
    }
    /// Per-run data: the full prompt and the raw event transcript, kept apart from gaffer's logs.
    pub fn run_dir(&self, run: RunId) -> PathBuf {
        self.root.join("runs").join(run.0.to_string())
    }
    /// A run's own scratch directory for its backend (prompt files, raw logs, temporary files):
    /// never shared with another run.
    pub fn run_scratch(&self, run: RunId) -> PathBuf {
        self.run_dir(run).join("agent")
    }
    /// A verify or setup command's own scratch directory (its `HOME` and `TMPDIR`), removed when
    /// it ends.
    pub fn command_scratch(&self, name: &str) -> PathBuf {
        self.scratch_root().join(name)
    }

    /// Where verify and setup runs keep their scratch directories (and the clean copy of the
    /// repository's config they see): none outlives its run, so recovery empties it.
    pub fn scratch_root(&self) -> PathBuf {
        self.root.join("scratch")
    }
    /// Data an agent keeps across the runs of one task (its CLI's configuration and sessions):
    /// a run, writing there from its sandbox, never sees another task's conversations.
    pub fn agent_task_dir(&self, agent: &str, task: gaffer_core::TaskId) -> PathBuf {
        self.agent_dir(agent).join("tasks").join(task.0.to_string())
    }
    /// Removes every agent's data for `task` (best effort: a leftover only costs disk).
    pub fn forget_task_data(&self, task: gaffer_core::TaskId) {
        let Ok(agents) = std::fs::read_dir(self.root.join("agents")) else {
            return;
        };
        for agent in agents.flatten() {
            let dir = agent.path().join("tasks").join(task.0.to_string());
            if dir.exists()
                && let Err(e) = std::fs::remove_dir_all(&dir)
            {
                tracing::warn!("cannot remove {}: {e}", dir.display());
            }
        }
    }
    /// Data an agent keeps across runs (isolated CLI configuration, saved conversations).
    pub fn agent_dir(&self, agent: &str) -> PathBuf {
        self.root.join("agents").join(agent)
    }
    /// Written by a running daemon: pid, port, started time.
    pub fn daemon_file(&self) -> PathBuf {
        self.root.join("daemon.json")
    }
    /// Held (flock) by the daemon for its whole life: one engine per state directory.
    pub fn lock_file(&self) -> PathBuf {
        self.root.join("daemon.lock")
    }
    /// Where the notifier keeps its position in the event log (per hook), so that a restart
    /// neither sends a notification twice nor loses one.
    pub fn notify_file(&self) -> PathBuf {
        self.root.join("notify.json")
    }
    /// Where a detached daemon writes its own log.
    pub fn log_file(&self) -> PathBuf {
        self.root.join("daemon.log")
    }
}
