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
    let path = board
        .phases
        .time(crate::phases::Phase::WorktreeCheckout, || {
            checkout_or_follow(board, name, branch, &start)
        })?;
    if !existed {
        forget_setup(board, &path);
    }
    Ok(path)
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
