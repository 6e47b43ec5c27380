//! [`RunRepo`]: a git directory of its own for each agent run, so that nothing a run does can
//! move a ref of the user's repository.
//!
//! # What it guards
//!
//! A task's worktree is a linked worktree: its `.git` file names `<repo>/.git/worktrees/<name>`,
//! whose refs are the repository's refs. Any process of a run could move any of them
//! (`git update-ref refs/heads/main …`, `git branch -f <another task's branch>`), past every
//! gate. With a run repository, inside the sandbox:
//!
//! - git in the worktree finds `<worktree>/.git` = `gitdir: <run repo>` (a file bound read-only
//!   over the real one; a mount point cannot be rewritten, renamed or removed from inside);
//! - the run repository holds only `refs/heads/<branch>` and copies of the extra refs the
//!   engine asked for (the target, so `git diff main` works). Moving them harms nothing;
//! - its `objects/info/alternates` names the main object store, mounted read-only, so the
//!   whole history is there and new objects land in the run repository;
//! - the main repository's git directory is hidden (its object store excepted) and read-only.
//!
//! Without a sandbox none of this holds: any process can name the main repository itself.
//!
//! After the run, [`RunRepo::bring_back`] moves the task branch, and only it, to the run's
//! branch tip: by compare-and-swap from the tip the run started at, after fetching the new
//! objects (checked with `fetch.fsckObjects`). Everything else the run did to refs is reported
//! and dropped.
//!
//! The run repository is written by the agent, so gaffer never runs git *in* it outside the
//! sandbox: git runs the commands its config and hooks name (`core.fsmonitor`, say), and even
//! `upload-pack` carries "some risk" by git's own account (git(1), SECURITY). Instead its refs
//! are read as plain files, and its objects are served by `upload-pack` in a throwaway bare
//! repository gaffer writes, whose alternates name the run's object store: the run's objects
//! are only ever data to gaffer.
//!
//! Outside the sandbox nothing changes: the worktree's real `.git` file is never touched, so
//! gaffer's own commands there (committing what the agent left, merges for a resolver) work as
//! before. After `bring_back` the worktree's HEAD (the task branch) is at the agent's commits
//! while its index still describes the old tip; `git add -A && git commit` (see
//! [`commit_all`](crate::commit_all)) stages the working tree as it is, so that is right
//! ([`is_dirty`](crate::is_dirty) says dirty until then, even if the agent committed all).
//!
//! # What it costs
//!
//! [`RunRepo::prepare`]: four small git processes, a few files and a copy of the worktree's
//! index (about 100 bytes per tracked file); no checkout, no object copied. The run's first
//! `git status` is as fast as one in the worktree itself. [`RunRepo::bring_back`]: nothing
//! when the branch did not move; otherwise a fetch of only the objects the main repository
//! lacks (with `index-pack --strict` and a connectivity check) and three small processes. On
//! 20,000 files (2 loaded cores): prepare about 20 ms, bring_back about 60-75 ms;
//! `cargo bench -p gaffer-git --bench run_repo`.
//!
//! # Order of use
//!
//! `prepare` → run the agent with [`RunRepo::mounts`] in its sandbox → `bring_back` →
//! [`commit_all`](crate::commit_all) in the worktree. After a crash, [`RunRepo::open`] then
//! `bring_back` (it can be repeated) or [`RunRepo::remove`].

mod bring_back;
mod config;
mod error;
mod fetch_dir;
mod object_dirs;
mod prepare;
mod refs_read;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::{Git, GitError, Oid};

pub use bring_back::{BranchChange, BroughtBack, IgnoredRef};
pub use error::{RunRepoError, RunRepoResult};

/// The run repository's directory under the run's scratch directory.
const RUN_REPO_DIR: &str = ".gaffer-run.git";
/// The replacement `.git` file, under the run's scratch directory.
const GITFILE: &str = ".gaffer-run.gitfile";

/// One run's git directory: the design, what it guards and what it costs are in
/// `crates/git/src/run_repo/mod.rs`.
#[derive(Debug, Clone)]
pub struct RunRepo {
    git: Git,
    worktree: PathBuf,
    branch: String,
    dir: PathBuf,
    gitfile: PathBuf,
    start: Oid,
    /// The refs `prepare` wrote (full names), to tell what the run changed.
    seeded: BTreeMap<String, Oid>,
}

/// What the sandbox must mount for a run to use its [`RunRepo`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mounts {
    /// `(source, target)`: bind the file `source` read-only over the file `target` (the
    /// worktree's `.git`).
    pub gitfile_over: (PathBuf, PathBuf),
    /// The run repository.
    pub writable: Vec<PathBuf>,
    /// The main object store and the stores it borrows from (its alternates).
    pub read_only: Vec<PathBuf>,
    /// The main repository's git directory: its refs, config, hooks and other worktrees' files.
    pub hidden: Vec<PathBuf>,
}

impl RunRepo {
    /// The handle of a run repository `prepare` made earlier under `scratch` for `branch` of
    /// the worktree, which started at `start`: to bring a run back after a crash, or remove it.
    /// Touches nothing. Refs other than the branch count as created by the run in its
    /// [`BroughtBack::ignored`], since the extra refs are not known here.
    pub fn open(
        git: &Git,
        worktree: &Path,
        branch: &str,
        scratch: &Path,
        start: Oid,
    ) -> RunRepoResult<RunRepo> {
        crate::cmd::not_an_option("branch name", branch)?;
        let worktree =
            std::path::absolute(worktree).map_err(|e| GitError::io("resolve", worktree, e))?;
        let scratch =
            std::path::absolute(scratch).map_err(|e| GitError::io("resolve", scratch, e))?;
        let seeded = BTreeMap::from([(format!("refs/heads/{branch}"), start.clone())]);
        Ok(RunRepo {
            git: git.clone(),
            worktree,
            branch: branch.to_owned(),
            dir: scratch.join(RUN_REPO_DIR),
            gitfile: scratch.join(GITFILE),
            start,
            seeded,
        })
    }

    /// The run repository's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The task branch (without `refs/heads/`).
    pub fn branch(&self) -> &str {
        &self.branch
    }

    /// The task branch's tip when the run started: what [`RunRepo::bring_back`] expects to find
    /// in the main repository. Record it to [`RunRepo::open`] the run again after a crash.
    pub fn start(&self) -> &Oid {
        &self.start
    }

    /// What the sandbox must mount. The paths are absolute, and exist once `prepare` returned.
    pub fn mounts(&self) -> Mounts {
        let common = self.git.common_dir().to_path_buf();
        Mounts {
            gitfile_over: (self.gitfile.clone(), self.worktree.join(".git")),
            writable: vec![self.dir.clone()],
            read_only: object_dirs::object_dirs(&common.join("objects")),
            hidden: vec![common],
        }
    }

    /// Deletes the run repository and its gitfile (whatever the run left in it). Absent is
    /// not an error.
    pub fn remove(self) -> RunRepoResult<()> {
        remove_path(&self.dir)?;
        remove_path(&self.gitfile)?;
        Ok(())
    }
}

/// Deletes a file, a symlink (not what it points to) or a directory tree; absent is fine.
fn remove_path(path: &Path) -> Result<(), GitError> {
    let result = match path.symlink_metadata() {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => Err(e),
    };
    result.map_err(|e| GitError::io("remove", path, e))
}

/// `path` as text, for the files git reads paths from (gitfile, alternates, config).
fn utf8(path: &Path) -> Result<&str, GitError> {
    path.to_str().ok_or_else(|| {
        GitError::InvalidArgument(format!("path is not valid UTF-8: {}", path.display()))
    })
}
