//! The task's worktree: created on first use, from its branch if it has one, else from where new
//! work starts (the landing base).

use super::blocking;
use crate::board::Board;
use crate::error::Result;
use gaffer_core::Task;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The worktree directory name: the branch without its `gaffer/` prefix.
pub(crate) fn worktree_name(task: &Task) -> String {
    task.branch.trim_start_matches("gaffer/").to_string()
}

/// Returns the task's worktree, creating it when it does not exist yet, with the configured
/// setup command run to completion in it. A task whose branch does not exist yet starts from its head when it has
/// one (best-of-N: the picked attempt's commit), else from the landing base.
pub(crate) async fn ensure_worktree(board: &Arc<Board>, task: &Task) -> Result<PathBuf> {
    let head = task.state.head.clone();
    ensure_named(board, worktree_name(task), task.branch.clone(), head).await
}

/// The worktree `name` on `branch`, created when it does not exist: from the branch when it
/// exists, else from `head`, else from the landing base.
pub(crate) async fn ensure_named(
    board: &Arc<Board>,
    name: String,
    branch: String,
    head: Option<gaffer_core::ObjectId>,
) -> Result<PathBuf> {
    let board_for_git = Arc::clone(board);
    let path = blocking(move || checkout_named(&board_for_git, &name, &branch, head)).await?;
    ensure_setup(board, &path).await?;
    Ok(path)
}

/// The worktree `name` on `branch`, checked out when it does not exist (from the branch, else
/// `head`, else the landing base), without running setup: a new one is marked as needing it.
pub(crate) fn checkout_named(
    board: &Board,
    name: &str,
    branch: &str,
    head: Option<gaffer_core::ObjectId>,
) -> Result<PathBuf> {
    let path = board.worktrees.path_of(name);
    let existed = path.join(".git").exists();
    let start = match board
        .git
        .rev_parse_commit(&format!("refs/heads/{branch}"))?
    {
        Some(existing) => existing,
        None => match head {
            // On a shared board the commit may have been named after this daemon's last
            // fetch (a revert's): fetch again for it.
            Some(head) if crate::remote_sync::has_commits(board, &[Some(&head)])? => {
                super::oid(&head)?
            }
            Some(head) => {
                return Err(crate::error::EngineError::Invalid(format!(
                    "the task's commit {head} is neither here nor on the remote"
                )));
            }
            None => board.landing()?.base(board)?.0,
        },
    };
    // A candidate's verify leaves the task's worktree detached (at the candidate, tracked files
    // forced, untracked ones but not ignored ones cleaned). `Worktrees::checkout` takes any
    // detached worktree at a task's path for a take cut off by a crash and makes it right with
    // `clean -ffdx`, which deletes the build outputs `verify.setup` made while its marker
    // stays. A worktree setup ran in is not a slot cut off mid-take: it goes back on its
    // branch the way verify left it, ignored files kept.
    let detached = existed && detached_worktree(board, &path)?;
    let put_back = detached
        && setup_marker(board, &path).exists()
        && board
            .worktrees
            .exclusive(|| put_back_on_branch(board, &path, branch))?;
    let path = board
        .phases
        .time(crate::phases::Phase::WorktreeCheckout, || {
            checkout_or_follow(board, name, branch, &start)
        })?;
    if !existed || (detached && !put_back) {
        forget_setup(board, &path);
    }
    Ok(path)
}

/// Whether the worktree at `path` is a registered worktree with a detached HEAD.
fn detached_worktree(board: &Board, path: &Path) -> Result<bool> {
    Ok(board
        .git
        .worktree_at(path)?
        .is_some_and(|wt| wt.branch.is_none() && !wt.prunable))
}

/// Puts the detached task worktree at `path` back on `branch` (tracked files forced to it,
/// untracked files removed, ignored ones kept) when the branch exists and is checked out
/// nowhere; whether it did. Run with the worktrees' lock held.
fn put_back_on_branch(board: &Board, path: &Path, branch: &str) -> Result<bool> {
    if !detached_worktree(board, path)?
        || board
            .git
            .rev_parse_commit(&format!("refs/heads/{branch}"))?
            .is_none()
        || board.git.checked_out_in(branch)?.is_some()
    {
        return Ok(false);
    }
    gaffer_git::checkout_branch(path, branch, board.git.env())?;
    Ok(true)
}

/// Checks the worktree out at `start`, or at where its branch is when it was made meanwhile.
fn checkout_or_follow(
    board: &Board,
    name: &str,
    branch: &str,
    start: &gaffer_git::Oid,
) -> Result<PathBuf> {
    let path = match board.worktrees.checkout(name, branch, start) {
        Ok(path) => path,
        // The branch was made meanwhile (settling a best-of task's attempts puts the kept
        // commit on the task's branch while the queue may already verify its candidate): the
        // worktree goes on the branch as it now is.
        Err(first) => match board
            .git
            .rev_parse_commit(&format!("refs/heads/{branch}"))?
        {
            Some(now) => board.worktrees.checkout(name, branch, &now)?,
            None => return Err(first.into()),
        },
    };
    Ok(path)
}

/// Where gaffer notes that `verify.setup` ran to completion in a worktree: outside the work
/// tree (so it is never committed), keyed by the worktree's directory name.
fn setup_marker(board: &Board, worktree: &Path) -> PathBuf {
    let name = worktree
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    board.paths.root().join("setup-done").join(name)
}

/// Runs the configured setup command in the worktree unless it already completed there since
/// the worktree was last cleaned. A setup cut off by a crash runs again.
pub(crate) async fn ensure_setup(board: &Arc<Board>, worktree: &Path) -> Result<()> {
    let Some(setup) = board.settings.verify.setup.clone() else {
        return Ok(());
    };
    let marker = setup_marker(board, worktree);
    if marker.exists() {
        return Ok(());
    }
    let spec = gaffer_proc::CommandSpec::shell(&setup, worktree)
        .timeout(board.settings.verify.timeout)
        .tail_bytes(4096);
    let name = worktree
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let scratch = board.paths.command_scratch(&format!("setup-{name}"));
    let outcome = crate::confine::run_command(
        board,
        crate::confine::Kind::Setup,
        spec,
        worktree,
        &scratch,
        &tokio_util::sync::CancellationToken::new(),
        |_| {},
    )
    .await?;
    if !outcome.success() {
        return Err(crate::error::EngineError::Invalid(format!(
            "the setup command `{setup}` failed in {}:\n{}",
            worktree.display(),
            outcome.tail
        )));
    }
    if let Some(dir) = marker.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| crate::error::EngineError::io(format!("creating {}", dir.display()), e))?;
    }
    std::fs::write(&marker, setup)
        .map_err(|e| crate::error::EngineError::io(format!("writing {}", marker.display()), e))?;
    Ok(())
}

/// The worktree was cleaned (`git clean -ffdx` removes what setup installed): setup must run
/// again before anything else runs there.
pub(crate) fn forget_setup(board: &Board, worktree: &Path) {
    let _ = std::fs::remove_file(setup_marker(board, worktree));
}
