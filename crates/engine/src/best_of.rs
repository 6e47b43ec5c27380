//! Best-of-N, the engine's side (the machine's is `gaffer_core::machine`, `step/best_of.rs`).
//!
//! Attempt `k` of task `#id` works in its own worktree `<id>-<slug>-c<k>` on its own branch
//! `gaffer/<id>-<slug>-c<k>`, started from the landing base, by the `k`-th agent of the coder
//! ladder (round the ladder when it is shorter: the same agent N times with one coder). Its
//! commit is verified there. When several pass, the reviewer is shown every passing attempt's
//! diff and answers with a verdict that names the attempt it picks (`"pick": k`); it works in
//! the first passing attempt's worktree (it changes nothing). Once one attempt is adopted (or
//! none is), `settle` removes every attempt's worktree and branch, and records what each cost;
//! the adopted commit becomes the task's own branch (made when missing).

use crate::board::Board;
use crate::error::{EngineError, Result};
use crate::jobs::worktree_name;
use gaffer_config::Settings;
use gaffer_core::payload::AttemptCost;
use gaffer_core::{AttemptStatus, NewTask, Run, Task};

/// The most attempts one task may have.
pub const MAX_BEST_OF: u32 = 8;

/// How much of each attempt's diff the reviewer's prompt shows.
const DIFF_BYTES: usize = 30 * 1024;

/// A best-of-N task needs a reviewer to pick, and a sensible N.
pub(crate) fn check_new(settings: &Settings, task: &NewTask) -> Result<()> {
    if task.best_of < 2 {
        return Ok(());
    }
    if task.best_of > MAX_BEST_OF {
        return Err(EngineError::Invalid(format!(
            "best-of {} is too many: at most {MAX_BEST_OF} attempts",
            task.best_of
        )));
    }
    if settings.roles.reviewer.is_empty() {
        return Err(EngineError::Invalid(
            "a best-of task needs a reviewer to pick among the attempts: add an agent to \
             roles.reviewer in gaffer.toml"
                .into(),
        ));
    }
    Ok(())
}

/// The worktree name of attempt `slot`.
pub(crate) fn attempt_name(task: &Task, slot: u32) -> String {
    format!("{}-c{slot}", worktree_name(task))
}

/// The branch of attempt `slot`.
pub(crate) fn attempt_branch(task: &Task, slot: u32) -> String {
    format!("{}-c{slot}", task.branch)
}

/// The reviewer picks among the attempts (rather than reviewing the task's own change).
pub(crate) fn picking(task: &Task) -> bool {
    !task.state.attempts.is_empty()
}

/// The attempts the reviewer may pick.
pub(crate) fn passed(task: &Task) -> Vec<u32> {
    task.state
        .attempts
        .iter()
        .filter(|a| a.status == AttemptStatus::Passed)
        .map(|a| a.slot)
        .collect()
}

/// The runs that worked in attempt `slot`'s worktree.
fn runs_of<'a>(board: &Board, task: &Task, runs: &'a [Run], slot: u32) -> Vec<&'a Run> {
    let path = board
        .worktrees
        .path_of(&attempt_name(task, slot))
        .display()
        .to_string();
    runs.iter().filter(|r| r.worktree == path).collect()
}

/// What the picking reviewer is shown: every attempt that passed verify, with its agent and
/// diff against where it would land, and why the others failed. Blocking: git.
pub(crate) fn pick_context(board: &Board, task: &Task) -> Result<String> {
    let runs = board.store.runs(task.id)?;
    let landing = board.landing()?;
    let (tip, _) = landing.base(board)?;
    let passed = passed(task);
    let mut out = format!(
        "\n## The attempts\n\n{} coders attempted this task, each on its own branch. {} passed \
         the project's verify command: pick the one that should land. Answer with your verdict \
         about the attempt you pick and its number as `\"pick\"` (for example `\"pick\": {}`): \
         `approve` lands it as it is, `request_changes` sends it back to a coder with your \
         findings. The others are discarded.\n",
        task.state.attempts.len(),
        match passed.len() {
            1 => "One".to_string(),
            n => format!("{n} of them"),
        },
        passed.first().copied().unwrap_or(1),
    );
    for attempt in &task.state.attempts {
        let agents: Vec<String> = runs_of(board, task, &runs, attempt.slot)
            .iter()
            .map(|r| format!("`{}`", r.agent))
            .collect();
        let by = if agents.is_empty() {
            String::new()
        } else {
            format!(" by {}", agents.join(", "))
        };
        match (attempt.status, &attempt.head) {
            (AttemptStatus::Passed, Some(head)) => {
                let head: gaffer_git::Oid = head
                    .as_str()
                    .parse()
                    .map_err(|_| EngineError::Invalid(format!("bad commit id {head}")))?;
                let base = board.git.merge_base(&tip, &head)?.unwrap_or(tip.clone());
                let paths = board.git.diff_stat(&base, &head)?;
                let diff = board.git.diff(&base, &head)?;
                let shown = cut(&diff, DIFF_BYTES);
                out.push_str(&format!(
                    "\n### Attempt {}{by}: passed verify\n\nCommit {} against {}, touching {}:\n\n\
                     ```diff\n{}\n```\n",
                    attempt.slot,
                    short(head.as_str()),
                    landing.branch,
                    paths.join(", "),
                    shown.trim_end()
                ));
                if shown.len() < diff.len() {
                    out.push_str(&format!(
                        "\nThe diff is cut at {} KB of {} KB.\n",
                        DIFF_BYTES / 1024,
                        diff.len().div_ceil(1024)
                    ));
                }
            }
            _ => {
                let why = attempt
                    .note
                    .as_deref()
                    .and_then(|n| n.lines().find(|l| !l.trim().is_empty()))
                    .unwrap_or("it did not produce a change that passed");
                out.push_str(&format!(
                    "\n### Attempt {}{by}: failed\n\n{}\n",
                    attempt.slot,
                    why.trim()
                ));
            }
        }
    }
    Ok(out)
}

/// What each discarded attempt cost, for the record.
pub(crate) fn costs(board: &Board, task: &Task, slots: u32) -> Result<Vec<AttemptCost>> {
    let runs = board.store.runs(task.id)?;
    Ok((1..=slots)
        .map(|slot| {
            let of = runs_of(board, task, &runs, slot);
            AttemptCost {
                slot,
                branch: attempt_branch(task, slot),
                agents: of.iter().map(|r| r.agent.clone()).collect(),
                runs: of.len(),
                cost_usd: crate::budget::spent(of.iter().copied()),
            }
        })
        .collect())
}

/// The worktree names and branches of a task's attempts that must survive a restart.
pub(crate) fn live_attempts(task: &Task) -> Vec<(String, String)> {
    task.state
        .attempts
        .iter()
        .map(|a| (attempt_name(task, a.slot), attempt_branch(task, a.slot)))
        .collect()
}

fn short(commit: &str) -> &str {
    commit.get(..10).unwrap_or(commit)
}

/// At most `max` bytes of `text`, cut at a line end.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    match text[..end].rfind('\n') {
        Some(line_end) => &text[..line_end],
        None => &text[..end],
    }
}
