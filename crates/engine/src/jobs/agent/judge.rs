//! What a finished run did, from evidence: its commit (secrets refused, write scope checked),
//! its plan or verdict parsed strictly, its question.

use super::*;
use crate::board::Board;
use crate::error::Result;
use crate::jobs::{blocking, object_id};
use crate::{best_of, risk};
use gaffer_agents::Outcome;
use gaffer_core::structured::{parse_plan, parse_verdict};
use gaffer_core::{NewEvent, Role, Run, RunResult, Task};
use gaffer_core::{Payload, payload::SecretRefused};
use std::path::Path;
use std::sync::Arc;

/// Settles which answer of the run counts, for a role that answers in a set form (a plan, a
/// verdict): the last, unless the agent answered again after hearing a person's message (see
/// `crate::listening`) and only an earlier answer has that form; then the newest such one.
pub(super) fn settle_answer(role: Role, outcome: &mut Outcome) {
    let has_form = |text: &str| match role {
        Role::Planner => parse_plan(text).is_ok(),
        Role::Reviewer | Role::PlanReviewer => parse_verdict(text).is_ok(),
        Role::Coder | Role::Resolver => true,
    };
    if has_form(&outcome.final_text) {
        return;
    }
    if let Some(answer) = outcome
        .earlier_answers
        .iter()
        .rev()
        .find(|a| has_form(a))
        .cloned()
    {
        outcome.final_text = answer;
    }
}

/// Decides what the run produced, from evidence.
pub(super) async fn judge(
    board: &Arc<Board>,
    task: &Task,
    role: Role,
    run: &Run,
    spot: &Spot<'_>,
    streamed: Streamed,
) -> Result<Judged> {
    let Streamed {
        outcome,
        question,
        stop,
        refused,
        ..
    } = streamed;
    let refusals = refusals_summary(&refused);
    if let Some(text) = question {
        return Ok(Judged::Done(RunResult::Question { text }, None));
    }
    if let Some(stop) = stop {
        return Ok(Judged::Done(
            RunResult::Failed {
                reason: stop.reason(),
            },
            None,
        ));
    }
    if !outcome.success {
        let reason = outcome
            .error
            .clone()
            .unwrap_or_else(|| "the agent reported failure".into());
        let reason = match &refusals {
            Some(refusals) => format!("{reason} ({refusals})"),
            None => reason,
        };
        return Ok(Judged::Done(RunResult::Failed { reason }, None));
    }
    match role {
        Role::Coder | Role::Resolver => {
            judge_commit(board, task, role, run, spot, &outcome, refusals.as_deref()).await
        }
        Role::Reviewer | Role::PlanReviewer => Ok(judge_verdict(task, role, &outcome)),
        Role::Planner => Ok(match parse_plan(&outcome.final_text) {
            Ok(plan) => {
                let subtasks = plan.subtasks.len() as u32;
                let value = serde_json::to_value(&plan).unwrap_or_default();
                Judged::Done(RunResult::Plan { subtasks }, Some(value))
            }
            Err(e) => Judged::Malformed(e.0),
        }),
    }
}

/// A coder's or resolver's run: what it left in the worktree is committed and checked (no
/// conflict markers, no secret, its write scope), or it made no change and says why.
async fn judge_commit(
    board: &Arc<Board>,
    task: &Task,
    role: Role,
    run: &Run,
    spot: &Spot<'_>,
    outcome: &Outcome,
    refusals: Option<&str>,
) -> Result<Judged> {
    let (worktree, base) = (spot.worktree, spot.base);
    // A merge of the target left half resolved must not be committed with its markers.
    let unresolved = crate::jobs::resolve::unresolved(board, worktree).await?;
    if !unresolved.is_empty() {
        let reason = format!(
            "conflict markers remain in {}: resolve every conflict and remove the markers",
            unresolved.join(", ")
        );
        return Ok(Judged::Done(RunResult::Failed { reason }, None));
    }
    let message = commit_message(task, run, role, outcome.final_text.trim());
    // Commit messages land on the target and are pushed: never with a secret in them.
    let message = board.secrets.redact(&message).into_owned();
    let (b, wt, start) = (Arc::clone(board), worktree.to_path_buf(), base.clone());
    let (head, paths) = blocking(move || {
        b.worktrees.commit_all(&wt, message.trim(), ENGINE_AUTHOR)?;
        let head = b.git.head_of(&wt)?;
        let paths = if head == start {
            Vec::new()
        } else {
            b.git.diff_stat(&start, &head)?
        };
        Ok((head, paths))
    })
    .await?;
    if &head == base {
        // Nothing changed because the agent's CLI would not let it edit: a failed run
        // that says so, not a success that did nothing.
        if let Some(refusals) = &refusals {
            let reason = format!(
                "the agent could not edit: {refusals}. Its CLI refused the tool calls; \
                 check the agent's permission settings (e.g. `permission_mode`)"
            );
            return Ok(Judged::Done(RunResult::Failed { reason }, None));
        }
        let summary = if outcome.final_text.is_empty() {
            "no summary".to_string()
        } else {
            outcome.final_text.clone()
        };
        return Ok(Judged::Done(RunResult::NoChanges { summary }, None));
    }
    if let Some(reason) = refuse_secrets(board, task, run, worktree, base, &head).await? {
        return Ok(Judged::Done(RunResult::Failed { reason }, None));
    }
    if let Some(finding) = check_scope(board, task, run, &head).await?
        && finding.enforce == gaffer_config::ScopeEnforce::Reject
    {
        return Ok(Judged::Done(
            RunResult::Failed {
                reason: finding.rejection(task),
            },
            None,
        ));
    }
    let risk = risk::for_paths(&board.settings, &paths);
    Ok(Judged::Done(
        RunResult::Code {
            head: object_id(&head),
            risk,
        },
        None,
    ))
}

/// A reviewer's or plan reviewer's verdict, parsed strictly; a best-of review must pick one of
/// the attempts that passed.
fn judge_verdict(task: &Task, role: Role, outcome: &Outcome) -> Judged {
    match parse_verdict(&outcome.final_text) {
        Ok(verdict) => {
            let approved = verdict.approved();
            let findings = verdict.findings_text();
            let result = if role == Role::Reviewer && best_of::picking(task) {
                let passed = best_of::passed(task);
                match verdict.pick {
                    Some(slot) if passed.contains(&slot) => RunResult::Pick {
                        slot,
                        approved,
                        reasons: findings,
                    },
                    _ => {
                        let choices: Vec<String> = passed.iter().map(u32::to_string).collect();
                        return Judged::Malformed(format!(
                            "the verdict must pick one of the attempts that passed verify: add \"pick\" with one of {}",
                            choices.join(", ")
                        ));
                    }
                }
            } else if role == Role::Reviewer {
                RunResult::Review { approved, findings }
            } else {
                RunResult::PlanVerdict {
                    approved,
                    reasons: findings,
                }
            };
            Judged::Done(result, None)
        }
        Err(e) => Judged::Malformed(e.0),
    }
}

/// Push protection, and no nested repositories: a change that adds a secret gaffer knows (or a
/// well-known key shape) — in its net diff against where the branch left the target, in any of
/// its own commits (the branch's commits land as the merge's second parent, so a secret added
/// and removed again would still be pushed), or in a commit message — or that adds a nested
/// repository (a gitlink: gaffer's git would look into it) is not kept. The run's commits are
/// undone (`reset --soft` to where the run started: the files stay as the agent left them, so
/// the next run can take the secret out) and the reason names each path and line, never the
/// value. What the target brought in (a resolver's merge) is not held against the task.
pub(super) async fn refuse_secrets(
    board: &Arc<Board>,
    task: &Task,
    run: &Run,
    worktree: &Path,
    base: &gaffer_git::Oid,
    head: &gaffer_git::Oid,
) -> Result<Option<String>> {
    let (b, wt, start, to) = (
        Arc::clone(board),
        worktree.to_path_buf(),
        base.clone(),
        head.clone(),
    );
    let (secrets, nested) = blocking(move || {
        let (tip, _) = b.landing()?.base(&b)?;
        let from = b
            .git
            .merge_base(&tip, &to)?
            .unwrap_or_else(|| start.clone());
        let own = format!("{}..{}", tip.as_str(), to.as_str());
        let mut found: Vec<String> = Vec::new();
        let mut note = |hits: Vec<gaffer_core::secrets::SecretHit>| {
            for hit in hits {
                let hit = hit.to_string();
                if !found.contains(&hit) {
                    found.push(hit);
                }
            }
        };
        note(b.secrets.added_in(&b.git.diff_text(&from, &to)?));
        let commits = b.git.commits_of(&own)?;
        // Each commit's own change too (a secret added, then removed by a later commit, is in
        // no diff of the whole but stays in history), merges aside. A commit of the task's own
        // is never a root: it has a first parent. The usual case, one commit on `from`, is the
        // whole diff again and is not read twice.
        for commit in commits.iter().rev() {
            if let [parent] = commit.parents.as_slice()
                && !(parent == &from && commit.oid == to)
            {
                note(b.secrets.added_in(&b.git.diff_text(parent, &commit.oid)?));
            }
        }
        let redactor = b.secrets.redactor();
        for commit in &commits {
            if redactor.contains_secret(&commit.message) {
                let id = commit.oid.as_str();
                found.push(format!("the message of commit {}", &id[..id.len().min(10)]));
            }
        }
        let nested = b.git.gitlinks_added(&from, &to)?;
        if !found.is_empty() || !nested.is_empty() {
            gaffer_git::reset_soft(&wt, &start, b.git.env())?;
        }
        Ok((found, nested))
    })
    .await?;
    let listed = |items: &[String]| {
        items
            .iter()
            .map(|f| format!("- {f}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    if !nested.is_empty() {
        return Ok(Some(format!(
            "the change adds nested git repositories, which gaffer does not land (its commits \
             were undone; the files are as you left them):\n{}\n\nRemove their `.git` \
             directories (or the directories) and commit the files themselves.",
            listed(&nested)
        )));
    }
    if secrets.is_empty() {
        return Ok(None);
    }
    board
        .store
        .append_events(&[NewEvent::of(Payload::SecretRefused(SecretRefused {
            found: secrets.clone(),
            run: run.id,
        }))
        .task(task.id)
        .project(task.project)
        .run(run.id)])?;
    Ok(Some(format!(
        "the change adds a secret, so it was not kept (its commits were undone; the files are \
         as you left them):\n{}\n\nRemove the secret (read it from the environment or a file \
         outside the repository instead) and commit again.",
        listed(&secrets)
    )))
}

/// Checks a coder's change against the task's write scope and records what is outside it.
pub(super) async fn check_scope(
    board: &Arc<Board>,
    task: &Task,
    run: &Run,
    head: &gaffer_git::Oid,
) -> Result<Option<crate::write_scope::Finding>> {
    let (b, t, h) = (Arc::clone(board), task.clone(), head.clone());
    let finding = blocking(move || crate::write_scope::check(&b, &t, &h)).await?;
    if let Some(finding) = &finding {
        board
            .store
            .append_events(&[
                NewEvent::of(Payload::ScopeOutside(finding.event(task, run.id)))
                    .task(task.id)
                    .project(task.project)
                    .run(run.id),
            ])?;
    }
    Ok(finding)
}

/// What a run produced, before deciding whether to re-ask.
pub(super) enum Judged {
    Done(RunResult, Option<serde_json::Value>),
    /// Structured output that did not parse, with the parse error.
    Malformed(String),
}

impl Judged {
    pub(super) fn into_result(self, outcome: &Outcome) -> (RunResult, Option<serde_json::Value>) {
        match self {
            Judged::Done(result, plan) => (result, plan),
            Judged::Malformed(error) => (
                RunResult::Failed {
                    reason: format!(
                        "the answer did not parse ({error}); raw answer:\n{}",
                        outcome.final_text
                    ),
                },
                None,
            ),
        }
    }
}

/// The engine's commit of a run's work: the task's title, what the agent said, and trailers
/// naming the task, the run and the agent with its model (`Co-authored-by`, which forges and
/// `git log` show), so that history tells who wrote what.
fn commit_message(task: &Task, run: &Run, role: impl std::fmt::Display, said: &str) -> String {
    let body = if said.is_empty() {
        String::new()
    } else {
        format!("{said}\n\n")
    };
    format!(
        "{}\n\n{body}Gaffer-Task: #{}\nGaffer-Run: {} ({role})\n{}",
        task.title,
        task.id,
        run.id,
        crate::authorship::co_author(run)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERDICT: &str = r#"{"verdict": "approve", "summary": "Fine."}"#;

    fn answered(last: &str, earlier: &[&str]) -> Outcome {
        Outcome {
            success: true,
            final_text: last.to_string(),
            earlier_answers: earlier.iter().map(|a| a.to_string()).collect(),
            ..Outcome::default()
        }
    }

    #[test]
    fn an_earlier_answer_in_the_set_form_counts_when_the_last_is_not() {
        // The reviewer gave its verdict, heard a message during it and only answered that.
        let mut outcome = answered("Noted, thanks.", &["thinking", VERDICT]);
        settle_answer(Role::Reviewer, &mut outcome);
        assert_eq!(outcome.final_text, VERDICT);
        // The last answer wins when it has the form.
        let newer = r#"{"verdict": "request_changes", "summary": "As asked."}"#;
        let mut outcome = answered(newer, &[VERDICT]);
        settle_answer(Role::PlanReviewer, &mut outcome);
        assert_eq!(outcome.final_text, newer);
        // None has it: the last stays, to be asked again.
        let mut outcome = answered("Noted.", &["Sure."]);
        settle_answer(Role::Planner, &mut outcome);
        assert_eq!(outcome.final_text, "Noted.");
        // A coder's last words are its handoff, whatever they say.
        let mut outcome = answered("Done, in French now.", &[VERDICT]);
        settle_answer(Role::Coder, &mut outcome);
        assert_eq!(outcome.final_text, "Done, in French now.");
    }
}
