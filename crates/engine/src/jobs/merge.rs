//! The plain serial merge: build the commit that would land (the branch on top of the landing
//! base, or the branch itself when that is a fast-forward), and land it by compare-and-swap.
//! Nothing here touches a work tree: `git merge-tree --write-tree` and `commit-tree` build the
//! candidate in the object store.

use super::{JobContext, JobResult, blocking, object_id, oid};
use crate::apply::Extra;
use crate::error::{EngineError, Result};
use gaffer_core::{Input, NewEvent, ObjectId, event_kind};
use gaffer_git::{CasOutcome, MergeTree, Oid};
use std::sync::Arc;

/// The all-zero id, meaning "the ref must not exist yet" in a compare-and-swap.
fn absent() -> ObjectId {
    ObjectId::new("0".repeat(40))
}

pub(crate) async fn prepare(ctx: &JobContext) -> Result<JobResult> {
    let task_id = ctx
        .job
        .task
        .ok_or_else(|| EngineError::Invalid("a merge job without a task".into()))?;
    let task = ctx.board.store.task(task_id)?;
    let head =
        task.state.head.clone().ok_or_else(|| {
            EngineError::Invalid(format!("task {} has no commit to merge", task.id))
        })?;
    let board = Arc::clone(&ctx.board);
    let title = task.title.clone();
    let id = task.id;
    let (input, event) = blocking(move || {
        let landing = board.landing()?;
        let (base, expected) = landing.base(&board)?;
        let onto = expected.as_ref().map(object_id).unwrap_or_else(absent);
        let head = oid(&head)?;
        let git = &board.git;
        if git.is_ancestor(&base, &head)? {
            let tree = git.tree_of(&head)?;
            let input = Input::CandidateReady {
                commit: object_id(&head),
                tree: object_id(&tree),
                onto,
            };
            let event = serde_json::json!({
                "commit": head.as_str(), "tree": tree.as_str(), "onto": base.as_str(),
                "fast_forward": true, "landing": landing.branch,
            });
            return Ok((input, (event_kind::MERGE_CANDIDATE, event)));
        }
        match git.merge_tree(&base, &head)? {
            MergeTree::Clean { tree } => {
                let message = format!("Merge task #{id}: {title}\n\nLanded by gaffer.");
                let commit = git.commit_tree(&tree, &[base.clone(), head.clone()], &message)?;
                let input = Input::CandidateReady {
                    commit: object_id(&commit),
                    tree: object_id(&tree),
                    onto,
                };
                let event = serde_json::json!({
                    "commit": commit.as_str(), "tree": tree.as_str(), "onto": base.as_str(),
                    "fast_forward": false, "landing": landing.branch,
                });
                Ok((input, (event_kind::MERGE_CANDIDATE, event)))
            }
            MergeTree::Conflicted { files } => {
                let event = serde_json::json!({ "onto": base.as_str(), "files": files });
                Ok((
                    Input::Conflict { files },
                    (event_kind::MERGE_CONFLICT, event),
                ))
            }
        }
    })
    .await?;
    Ok(JobResult::Input {
        input,
        extra: Extra {
            events: vec![NewEvent::new(event.0, event.1)],
            ..Extra::default()
        },
    })
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
        let landing = board.landing()?;
        let new = oid(&commit)?;
        let expected: Option<Oid> = if onto == absent() {
            None
        } else {
            Some(oid(&onto)?)
        };
        let refname = landing.refname();
        let landed = |extra: serde_json::Value| {
            let mut data = serde_json::json!({
                "commit": commit, "tree": tree, "branch": landing.branch,
                "target": landing.target, "redirected": landing.is_redirected(),
                "user_checkout": landing.checked_out_in,
            });
            if let (Some(obj), Some(more)) = (data.as_object_mut(), extra.as_object()) {
                obj.extend(more.clone());
            }
            JobResult::Input {
                input: Input::Landed {
                    commit: commit.clone(),
                    tree: tree.clone(),
                },
                extra: Extra {
                    events: vec![NewEvent::new(event_kind::MERGE_LANDED, data)],
                    ..Extra::default()
                },
            }
        };
        // The target may have moved to a place where landing would no longer be a plain
        // forward step from what we verified against; the CAS refuses that.
        match board
            .git
            .update_ref_cas(&refname, &new, expected.as_ref())?
        {
            CasOutcome::Updated => Ok(landed(serde_json::json!({}))),
            CasOutcome::Moved { actual } if actual.as_ref() == Some(&new) => {
                // Landed by an earlier attempt of this very job (a crash after the CAS).
                Ok(landed(serde_json::json!({ "already": true })))
            }
            CasOutcome::Moved { actual } => Ok(JobResult::Input {
                input: Input::TargetMoved,
                extra: Extra {
                    events: vec![NewEvent::new(
                        event_kind::MERGE_TARGET_MOVED,
                        serde_json::json!({
                            "branch": landing.branch,
                            "expected": onto,
                            "actual": actual.map(|a| a.as_str().to_string()),
                        }),
                    )],
                    ..Extra::default()
                },
            }),
        }
    })
    .await
}
