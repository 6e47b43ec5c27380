//! Before a coder or resolver run: the worktree on its branch, and for a resolver, the landing
//! tip merged into it so that the conflicts are there to resolve, with both sides shown in the
//! prompt. After the run the engine's commit completes the merge (`MERGE_HEAD` is set), unless
//! conflict markers remain, which fails the run.

use super::blocking;
use crate::board::Board;
use crate::error::Result;
use gaffer_core::{Role, Task};
use gaffer_git::{Oid, WorktreeMerge};
use std::path::Path;
use std::sync::Arc;

/// How much of each conflicting file the prompt shows.
const FILE_BYTES: usize = 8 * 1024;

/// What the run starts from: the commit to compare its result with, and, for a resolver, what
/// it has to resolve (for the prompt).
pub(crate) struct Prepared {
    pub base: Oid,
    pub conflicts: Option<String>,
}

pub(crate) async fn prepare(
    board: &Arc<Board>,
    task: &Task,
    role: Role,
    worktree: &Path,
) -> Result<Prepared> {
    let (b, wt, branch, id) = (
        Arc::clone(board),
        worktree.to_path_buf(),
        task.branch.clone(),
        task.id,
    );
    let known_head = task.state.head.as_ref().map(super::oid).transpose()?;
    blocking(move || {
        let env = b.git.env().to_vec();
        let code_role = matches!(role, Role::Coder | Role::Resolver);
        // A merge in progress (a resolver that left markers) is the next run's to finish, on
        // its branch; otherwise make sure the worktree is on its branch: a candidate's verify
        // cut off by a crash leaves it detached.
        if code_role
            && !gaffer_git::merge_in_progress(&wt, &env)?
            && gaffer_git::branch_of(&wt, &env)?.as_deref() != Some(branch.as_str())
        {
            gaffer_git::checkout_branch(&wt, &branch, &env)?;
        }
        let head = gaffer_git::head_of(&wt, &env)?;
        // Judge the run against what the machine last recorded, not the worktree as found: a
        // crash after gaffer committed an agent's work but before the store recorded it leaves
        // that commit in the worktree, and it is this (re-)run's work too.
        let base = match &known_head {
            Some(known) if b.git.is_ancestor(known, &head)? => known.clone(),
            Some(_) => head.clone(),
            None => match b.landing().and_then(|l| l.base(&b)) {
                Ok((tip, _)) => b
                    .git
                    .merge_base(&tip, &head)?
                    .unwrap_or_else(|| head.clone()),
                Err(_) => head.clone(),
            },
        };
        if role != Role::Resolver {
            return Ok(Prepared {
                base,
                conflicts: None,
            });
        }
        let landing = b.landing()?;
        let (tip, _) = landing.base(&b)?;
        let message = format!(
            "Merge {} into task #{id}'s branch\n\nTo resolve the conflicts that kept it from \
             landing.",
            landing.branch
        );
        let conflicts = match gaffer_git::merge_into_worktree(&wt, &tip, &message, &env)? {
            WorktreeMerge::Clean { .. } => format!(
                "gaffer merged {} ({}) into your branch and it merged cleanly this time; check \
                 that the result still does what the task asks, and fix anything the target's \
                 changes broke.",
                landing.branch,
                short(&tip)
            ),
            WorktreeMerge::Conflicted { files } => describe(&wt, &landing.branch, &tip, &files),
        };
        Ok(Prepared {
            base,
            conflicts: Some(conflicts),
        })
    })
    .await
}

/// The conflicting files with their conflict markers: both sides of each conflict.
fn describe(wt: &Path, target: &str, tip: &Oid, files: &[String]) -> String {
    let mut out = format!(
        "gaffer merged {target} ({}) into your branch; the merge stopped on conflicts in these \
         files, marked as usual: between `<<<<<<<` and `=======` is your branch's side, between \
         `=======` and `>>>>>>>` the target's. Resolve every conflict so that both changes \
         survive, remove the markers, and leave the rest to gaffer: do not run `git merge \
         --abort`, `git reset` or `git commit`; gaffer completes the merge.\n",
        short(tip)
    );
    for file in files {
        let text = std::fs::read(wt.join(file))
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_else(|e| format!("(cannot read it: {e})"));
        let shown = match text.char_indices().nth(FILE_BYTES) {
            Some((cut, _)) => format!("{}\n… (cut at {FILE_BYTES} characters)", &text[..cut]),
            None => text,
        };
        out.push_str(&format!("\n### {file}\n\n```\n{}\n```\n", shown.trim_end()));
    }
    out
}

fn short(oid: &Oid) -> &str {
    oid.as_str().get(..10).unwrap_or(oid.as_str())
}

/// Files that still hold conflict markers while a merge is in progress in `wt`.
pub(crate) async fn unresolved(board: &Arc<Board>, wt: &Path) -> Result<Vec<String>> {
    let (b, wt) = (Arc::clone(board), wt.to_path_buf());
    blocking(move || Ok(gaffer_git::unresolved_conflicts(&wt, b.git.env())?)).await
}
