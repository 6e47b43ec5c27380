//! The task's worktree: created on first use, from its branch if it has one, else from where new
//! work starts (the landing base).

use super::blocking;
use crate::board::Board;
use crate::error::Result;
use gaffer_core::Task;
use std::path::PathBuf;
use std::sync::Arc;

/// The worktree directory name: the branch without its `gaffer/` prefix.
pub(crate) fn worktree_name(task: &Task) -> String {
    task.branch.trim_start_matches("gaffer/").to_string()
}

/// Returns the task's worktree, creating it (and running the configured setup command) when it
/// does not exist yet.
pub(crate) async fn ensure_worktree(board: &Arc<Board>, task: &Task) -> Result<PathBuf> {
    let board_for_git = Arc::clone(board);
    let name = worktree_name(task);
    let branch = task.branch.clone();
    let (path, created) = blocking(move || {
        let board = board_for_git;
        let path = board.worktrees.path_of(&name);
        let existed = path.join(".git").exists();
        let start = match board
            .git
            .rev_parse_commit(&format!("refs/heads/{branch}"))?
        {
            Some(head) => head,
            None => board.landing()?.base(&board)?.0,
        };
        let path = board.worktrees.checkout(&name, &branch, &start)?;
        Ok((path, !existed))
    })
    .await?;
    if let (true, Some(setup)) = (created, board.settings.verify.setup.clone()) {
        let spec = gaffer_proc::CommandSpec::shell(&setup, &path)
            .timeout(board.settings.verify.timeout)
            .tail_bytes(4096);
        let outcome =
            gaffer_proc::run(&spec, &tokio_util::sync::CancellationToken::new(), |_| {}).await?;
        if !outcome.success() {
            return Err(crate::error::EngineError::Invalid(format!(
                "the setup command `{setup}` failed in {}:\n{}",
                path.display(),
                outcome.tail
            )));
        }
    }
    Ok(path)
}
