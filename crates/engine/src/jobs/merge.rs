//! The merge queue's git work: building a candidate (the task's branch applied on what is ahead
//! of it, in the object store only: `git merge-tree --write-tree` and `commit-tree`, no work tree
//! is touched), and the `land` job, which moves the landing ref to the passing prefix of the
//! train in one compare-and-swap, pushes it when a remote is configured, and records every task
//! of the prefix as landed.

use super::{JobContext, JobResult, blocking, object_id, oid};
use crate::apply::{Extra, apply};
use crate::board::Board;
use crate::error::{EngineError, Result};
use gaffer_config::QueueStrategy;
use gaffer_core::payload::{QueueLanded, QueuePushed, QueueTargetMoved};
use gaffer_core::{CandidateStatus, NewEvent, ObjectId, Payload, Status, Task};
use gaffer_git::{CasOutcome, MergeTree, Oid, PushOutcome};
use std::collections::HashMap;
use std::sync::Arc;

/// What applying a branch on a base gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Built {
    /// The candidate commit and its tree.
    Ready { commit: Oid, tree: Oid },
    /// The branch does not apply on the landing tip itself.
    Conflict { files: Vec<String> },
    /// The branch applies on the tip but not on the branches ahead of it (`files` conflict).
    Park { files: Vec<String> },
}

/// Applies `task`'s branch on `onto` (the landing tip `tip`, or the candidate of the task
/// ahead), as `strategy` says: a merge commit (first parent `onto`, never a fast-forward, so the
/// target's first-parent history is exactly the verified trees) or one squashed commit on top.
pub(crate) fn build(
    board: &Board,
    task: &Task,
    onto: &Oid,
    tip: &Oid,
    strategy: QueueStrategy,
) -> Result<Built> {
    board.phases.time(crate::phases::Phase::CandidateBuild, || {
        build_timed(board, task, onto, tip, strategy)
    })
}

fn build_timed(
    board: &Board,
    task: &Task,
    onto: &Oid,
    tip: &Oid,
    strategy: QueueStrategy,
) -> Result<Built> {
    let head = task
        .state
        .head
        .as_ref()
        .ok_or_else(|| EngineError::Invalid(format!("task {} has no commit to merge", task.id)))
        .and_then(oid)?;
    let git = &board.git;
    let tree = match git.merge_tree(onto, &head)? {
        MergeTree::Clean { tree } => tree,
        MergeTree::Conflicted { files } => {
            if onto == tip {
                return Ok(Built::Conflict { files });
            }
            // Not with what is ahead of it: with the target itself, or only with the train?
            return Ok(match git.merge_tree(tip, &head)? {
                MergeTree::Conflicted { files } => Built::Conflict { files },
                MergeTree::Clean { .. } => Built::Park { files },
            });
        }
    };
    let trailers = crate::authorship::landing_trailers(task, &board.store.runs(task.id)?);
    let commit = match strategy {
        QueueStrategy::Merge => {
            let message = format!(
                "Merge task #{}: {}\n\nBranch {} at {}.\nLanded by gaffer's merge queue.\n\n{trailers}",
                task.id,
                task.title,
                task.branch,
                head.as_str()
            );
            git.commit_tree(&tree, &[onto.clone(), head.clone()], &message)?
        }
        QueueStrategy::Rebase => {
            let message = format!(
                "{}\n\nTask #{}: branch {} at {}, rebased and squashed.\nLanded by gaffer's merge \
                 queue.\n\n{trailers}",
                task.title,
                task.id,
                task.branch,
                head.as_str()
            );
            git.commit_tree(&tree, std::slice::from_ref(onto), &message)?
        }
    };
    Ok(Built::Ready { commit, tree })
}

/// What applying several branches at once on a base gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BuiltBatch {
    /// The tasks whose branches it holds, a prefix of those asked for (it stops before the
    /// first branch that does not apply on the ones before it); at least two.
    pub tasks: Vec<gaffer_core::TaskId>,
    pub commit: Oid,
    pub tree: Oid,
    /// Each task's own change, in the order of `tasks`: the scratch merge of its branch on the
    /// ones before it, whose first parent is the scratch merge before it (the batch's base for
    /// the first). The last reaches all of them and every branch: [`keep_batch`] keeps it.
    pub changes: Vec<Oid>,
}

/// Where the scratch merges of the batch whose last task is `lead` are kept, so that a task
/// landed in it can be reverted alone (its change is one of them) even once its branch is gone.
pub(crate) fn batch_ref(lead: gaffer_core::TaskId) -> String {
    format!("refs/gaffer/batches/{}", lead.0)
}

/// Keeps `built`'s scratch merges reachable under [`batch_ref`] of its last task (the last
/// merge reaches the others and every branch of the batch): git's garbage collection must not
/// drop a landed task's own change.
pub(crate) fn keep_batch(board: &Board, built: &BuiltBatch) -> Result<()> {
    let (Some(lead), Some(last)) = (built.tasks.last(), built.changes.last()) else {
        return Ok(());
    };
    let refname = batch_ref(*lead);
    let was = board.git.rev_parse(&refname)?;
    if was.as_ref() != Some(last) {
        pin(board, &refname, last, was.as_ref())?;
    }
    Ok(())
}

/// Sets `refname` from `was` to `to`; a ref that moved meanwhile to anything else is an error
/// (what names the merges would not be what was just built).
fn pin(board: &Board, refname: &str, to: &Oid, was: Option<&Oid>) -> Result<()> {
    match board.git.update_ref_cas(refname, to, was)? {
        CasOutcome::Updated => Ok(()),
        CasOutcome::Moved { actual } if actual.as_ref() == Some(to) => Ok(()),
        CasOutcome::Moved { actual } => Err(EngineError::Invalid(format!(
            "{refname} moved to {} while it was set to {to}: another daemon or job changed it",
            actual.as_ref().map_or("nothing", |o| o.as_str())
        ))),
    }
}

/// Where the scratch merges of a batch that landed, whose last task is `lead`, are pinned: set
/// by the land job once the target moved, before any task is recorded, and never dropped (a
/// cleanup only drops [`batch_ref`]). A lead cancelled between the two would otherwise have its
/// cleanup drop the batch's merges, and a revert of a task of the batch lose its own change.
pub(crate) fn landed_batch_ref(lead: gaffer_core::TaskId) -> String {
    format!("refs/gaffer/landed/{}", lead.0)
}

/// Pins the scratch merges of each batch of `chain` (the tasks just landed, in order) under
/// [`landed_batch_ref`] of its last task, here and (best effort) on the remote.
fn pin_landed_batches(board: &Board, chain: &[Task]) -> Result<()> {
    for task in chain {
        let Some(candidate) = task.state.candidate.as_ref() else {
            continue;
        };
        if candidate.batch.len() < 2 || candidate.batch.last() != Some(&task.id) {
            continue;
        }
        let Some(change) = &candidate.change else {
            continue;
        };
        let last = oid(change)?;
        let refname = landed_batch_ref(task.id);
        let was = board.git.rev_parse(&refname)?;
        if was.as_ref() != Some(&last) {
            pin(board, &refname, &last, was.as_ref())?;
        }
        if let Err(e) = crate::remote_sync::publish_landed_batch(board, task.id, &last) {
            tracing::warn!(task = %task.id, "cannot pin the landed batch on the remote: {e}");
        }
    }
    Ok(())
}

/// Whether [`batch_ref`] of `task` is kept once it ended: it landed as the last task of a
/// batch (a revert of any task of the batch needs it). Any other batch it led never landed.
pub(crate) fn keeps_batch_ref(task: &Task) -> bool {
    task.status() == Status::Merged
        && task
            .state
            .candidate
            .as_ref()
            .is_some_and(|c| c.batch.last() == Some(&task.id))
}

/// Drops [`batch_ref`] of `task`, which ended, unless it keeps it ([`keeps_batch_ref`]); best
/// effort.
pub(crate) fn drop_batch_ref(board: &Board, task: &Task) {
    if keeps_batch_ref(task) {
        return;
    }
    if let Err(e) = board.git.delete_ref(&batch_ref(task.id), None) {
        tracing::debug!(task = %task.id, "cannot drop {}: {e}", batch_ref(task.id));
    }
}

/// Applies the branches of `tasks` in order on `onto`, in the object store only: each merged
/// (`merge-tree`) on the result of the ones before it, through scratch commits (each task's own
/// change, [`BuiltBatch::changes`]; only [`keep_batch`] names them). The batch is then ONE commit with the final tree: with `merge`, a merge commit whose
/// first parent is `onto` and whose other parents are the branches (so the target's
/// first-parent history gets exactly one commit, the tree verified); with `rebase`, one commit
/// on `onto` holding all their changes. `None` when fewer than two branches apply in a row from
/// the first: the first is then built alone ([`build`]), which says why it does not apply.
pub(crate) fn build_batch(
    board: &Board,
    tasks: &[&Task],
    onto: &Oid,
    strategy: QueueStrategy,
) -> Result<Option<BuiltBatch>> {
    let git = &board.git;
    let mut at = onto.clone();
    let mut tree = None;
    let mut included: Vec<(&Task, Oid)> = Vec::new();
    let mut changes: Vec<Oid> = Vec::new();
    for task in tasks {
        let Some(head) = task.state.head.as_ref() else {
            break;
        };
        let head = oid(head)?;
        match git.merge_tree(&at, &head)? {
            MergeTree::Clean { tree: merged } => {
                // A scratch commit: the next merge's base, and this task's own change (against
                // its first parent), kept for a revert once the batch lands.
                at = git.commit_tree(
                    &merged,
                    &[at.clone(), head.clone()],
                    &format!("gaffer: batch step, task #{}", task.id),
                )?;
                tree = Some(merged);
                included.push((task, head));
                changes.push(at.clone());
            }
            MergeTree::Conflicted { .. } => break,
        }
    }
    let Some(tree) = tree.filter(|_| included.len() >= 2) else {
        return Ok(None);
    };
    let mut lines = String::new();
    let mut trailers = Vec::new();
    for (task, head) in &included {
        lines.push_str(&format!(
            "- #{}: {} (branch {} at {})\n",
            task.id,
            task.title,
            task.branch,
            head.as_str()
        ));
        let t = crate::authorship::landing_trailers(task, &board.store.runs(task.id)?);
        for line in t.lines().map(str::to_string) {
            if !line.is_empty() && !trailers.contains(&line) {
                trailers.push(line);
            }
        }
    }
    let ids: Vec<String> = included.iter().map(|(t, _)| format!("#{}", t.id)).collect();
    let message = format!(
        "{} tasks {}\n\n{lines}\nTested and landed together by gaffer's merge queue.\n\n{}",
        match strategy {
            QueueStrategy::Merge => "Merge",
            QueueStrategy::Rebase => "Land",
        },
        ids.join(", "),
        trailers.join("\n")
    );
    let parents: Vec<Oid> = match strategy {
        QueueStrategy::Merge => std::iter::once(onto.clone())
            .chain(included.iter().map(|(_, head)| head.clone()))
            .collect(),
        QueueStrategy::Rebase => vec![onto.clone()],
    };
    let commit = git.commit_tree(&tree, &parents, &message)?;
    Ok(Some(BuiltBatch {
        tasks: included.iter().map(|(t, _)| t.id).collect(),
        commit,
        tree,
        changes,
    }))
}

/// The tasks a landing from `onto` to `commit` records, in train order: the chain of candidates
/// that leads there. Merged tasks are included (a landing repeated after a crash finds some
/// already recorded). `None` when no such chain exists any more.
fn chain(tasks: &[Task], onto: &ObjectId, commit: &ObjectId) -> Option<Vec<Task>> {
    // A batch's tasks share its candidate commit.
    let mut by_commit: HashMap<&ObjectId, Vec<&Task>> = HashMap::new();
    for t in tasks
        .iter()
        .filter(|t| matches!(t.status(), Status::Merging | Status::Merged))
    {
        if let Some(c) = t.state.candidate.as_ref() {
            by_commit.entry(&c.commit).or_default().push(t);
        }
    }
    let mut chain = Vec::new();
    let mut at = commit;
    while at != onto {
        let unit = by_commit.get(at)?;
        let candidate = unit.first()?.state.candidate.as_ref()?;
        let mut members: Vec<Task> = if candidate.batch.is_empty() {
            vec![(*unit.first()?).clone()]
        } else {
            // In the batch's order, every member present.
            candidate
                .batch
                .iter()
                .map(|id| unit.iter().find(|t| t.id == *id).map(|t| (*t).clone()))
                .collect::<Option<Vec<Task>>>()?
        };
        members.reverse();
        chain.extend(members);
        at = &candidate.onto;
        if chain.len() > tasks.len() {
            return None;
        }
    }
    chain.reverse();
    Some(chain)
}

/// What a landing found.
enum Outcome {
    /// The ref is at `commit`: record the tasks.
    Landed { pushed: bool },
    /// Nothing was landed; the event says why. The queue rebuilds on whatever is there now.
    NotLanded(NewEvent),
}

pub(crate) async fn land(
    ctx: &JobContext,
    commit: &ObjectId,
    tree: &ObjectId,
    onto: &ObjectId,
) -> Result<JobResult> {
    let board = Arc::clone(&ctx.board);
    let (commit, tree, onto) = (commit.clone(), tree.clone(), onto.clone());
    blocking(move || {
        board.phases.time(crate::phases::Phase::Landing, || {
            land_blocking(&board, &commit, &tree, &onto)
        })
    })
    .await
}

fn land_blocking(
    board: &Board,
    commit: &ObjectId,
    tree: &ObjectId,
    onto: &ObjectId,
) -> Result<JobResult> {
    let landing = board.landing()?;
    let refname = landing.refname();
    let new = oid(commit)?;
    let tasks = board.tasks(&[Status::Merging, Status::Merged])?;
    let Some(chain) = chain(&tasks, onto, commit) else {
        return Ok(done(not_landed(
            onto,
            commit,
            "the train changed before it landed".into(),
        )));
    };
    let already = board.git.rev_parse(&refname)?.as_ref() == Some(&new);
    let outcome = if already {
        // Landed by an earlier attempt of this job (a crash after the compare-and-swap).
        Outcome::Landed { pushed: false }
    } else {
        let unverified = chain.iter().find(|t| {
            t.status() != Status::Merging
                || !t
                    .state
                    .candidate
                    .as_ref()
                    .is_some_and(|c| c.status == CandidateStatus::Passed)
        });
        if let Some(task) = unverified {
            return Ok(done(not_landed(
                onto,
                commit,
                format!("task #{} changed before the landing", task.id),
            )));
        }
        advance(board, &landing, &new, onto)?
    };
    let pushed = match outcome {
        Outcome::NotLanded(event) => return Ok(done(event)),
        Outcome::Landed { pushed } => pushed,
    };
    // The batches' merges are kept whatever becomes of their tasks from now on.
    pin_landed_batches(board, &chain)?;

    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let batch = chain.len();
    for (index, task) in chain.iter().enumerate() {
        if task.status() != Status::Merging {
            continue;
        }
        let Some(candidate) = task.state.candidate.clone() else {
            continue;
        };
        let since = task.state.queue.as_ref().map_or(now_ms, |q| q.since_ms);
        let event = NewEvent::of(Payload::QueueLanded(QueueLanded {
            commit: candidate.commit.clone(),
            tree: candidate.tree.clone(),
            branch: landing.branch.clone(),
            target: landing.target.clone(),
            redirected: landing.is_redirected(),
            user_checkout: landing
                .checked_out_in
                .as_ref()
                .map(|p| p.display().to_string()),
            landed_to: commit.clone(),
            landed_tree: tree.clone(),
            batch,
            index,
            position: task.state.queue.as_ref().map(|q| q.position),
            flaky: candidate.flaky,
            pushed_to: if pushed {
                board.settings.project.remote.clone()
            } else {
                None
            },
            time_in_queue_ms: (now_ms - since).max(0),
            change: candidate.change.clone(),
        }));
        let input = gaffer_core::Input::Landed {
            commit: candidate.commit.clone(),
            tree: candidate.tree.clone(),
        };
        let extra = Extra {
            events: vec![event],
            ..Extra::default()
        };
        match apply(board, task.id, &input, extra) {
            Ok(_) => {}
            // Cancelled meanwhile, or recorded by an earlier attempt.
            Err(EngineError::Transition { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(JobResult::Done { events: vec![] })
}

/// Moves the landing ref (and the remote's target, when there is one) from `onto` to `new`.
fn advance(
    board: &Board,
    landing: &crate::landing::Landing,
    new: &Oid,
    onto: &ObjectId,
) -> Result<Outcome> {
    let git = &board.git;
    let refname = landing.refname();
    let (base, expected) = landing.base(board)?;
    if object_id(&base) != *onto {
        return Ok(Outcome::NotLanded(moved(onto, Some(&base), None)));
    }
    let mut pushed = false;
    // One exchange with the remote at a time (another job's fetch may be updating the same
    // tracking ref).
    let _one_at_a_time = crate::remote_sync::lock(board);
    if let Some(remote) = &board.settings.project.remote {
        let theirs = git.fetch_branch(remote, &landing.target)?;
        if theirs.as_ref() != Some(new) {
            if let Some(theirs) = &theirs
                && !git.is_ancestor(theirs, new)?
            {
                // Someone pushed first. Their work becomes the base: move the local ref forward
                // to it (when it is ahead of ours) and let the queue build again on top.
                if git.is_ancestor(&base, theirs)? {
                    git.update_ref_cas(&refname, theirs, expected.as_ref())?;
                    return Ok(Outcome::NotLanded(moved(onto, Some(theirs), Some(remote))));
                }
                return Err(EngineError::Invalid(format!(
                    "{remote}/{} ({}) and the local {} ({}) have diverged; gaffer will not \
                     overwrite either: reconcile them (merge or rebase one onto the other)",
                    landing.target,
                    object_id(theirs).short(),
                    landing.branch,
                    object_id(&base).short()
                )));
            }
            match git.push_with_lease(remote, new, &landing.target, theirs.as_ref())? {
                PushOutcome::Pushed => pushed = true,
                PushOutcome::Rejected { reason } => {
                    // A remote that moved meanwhile lost us the race: build again on it. One
                    // that did not move refused the push itself (a protected branch, a hook):
                    // an error, so the queue backs off instead of pushing again at once.
                    let now = git.fetch_branch(remote, &landing.target)?;
                    if now == theirs {
                        return Err(EngineError::Invalid(format!(
                            "{remote} refused the push of {} to {}: {reason}",
                            object_id(new).short(),
                            landing.target
                        )));
                    }
                    let event = QueueTargetMoved {
                        why: Some(reason),
                        ..target_moved(onto, now.as_ref(), Some(remote))
                    };
                    return Ok(Outcome::NotLanded(NewEvent::of(Payload::QueueTargetMoved(
                        event,
                    ))));
                }
            }
        }
    }
    match git.update_ref_cas(&refname, new, expected.as_ref())? {
        CasOutcome::Updated => {}
        CasOutcome::Moved { actual } if actual.as_ref() == Some(new) => {}
        CasOutcome::Moved { actual } => {
            if !pushed {
                return Ok(Outcome::NotLanded(moved(onto, actual.as_ref(), None)));
            }
            // The remote took it (the target is there); the local ref moved meanwhile and is
            // left alone: it catches up at the next landing.
            tracing::warn!(
                "{} moved while landing {}; the remote has the landing",
                landing.branch,
                object_id(new).short()
            );
        }
    }
    if pushed {
        board
            .store
            .append_events(&[NewEvent::of(Payload::QueuePushed(QueuePushed {
                remote: board.settings.project.remote.clone(),
                branch: landing.target.clone(),
                commit: object_id(new),
            }))
            .project(board.project.id)])?;
    }
    Ok(Outcome::Landed { pushed })
}

fn target_moved(
    onto: &ObjectId,
    actual: Option<&Oid>,
    remote: Option<&String>,
) -> QueueTargetMoved {
    QueueTargetMoved {
        expected: onto.clone(),
        actual: actual.map(object_id),
        remote: remote.cloned(),
        landing: None,
        why: None,
    }
}

fn moved(onto: &ObjectId, actual: Option<&Oid>, remote: Option<&String>) -> NewEvent {
    NewEvent::of(Payload::QueueTargetMoved(target_moved(
        onto, actual, remote,
    )))
}

/// The landing of `commit` was given up: the train under it changed (`why`).
fn not_landed(onto: &ObjectId, commit: &ObjectId, why: String) -> NewEvent {
    NewEvent::of(Payload::QueueTargetMoved(QueueTargetMoved {
        landing: Some(commit.clone()),
        why: Some(why),
        ..target_moved(onto, None, None)
    }))
}

fn done(event: NewEvent) -> JobResult {
    JobResult::Done {
        events: vec![event],
    }
}
