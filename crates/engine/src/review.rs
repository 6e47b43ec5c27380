//! What a reviewer is shown besides the task: the change (the branch's diff against where it
//! would land), the last verify result, the checklist that applies to the paths it touches, and
//! the plan it belongs to. Gathered from the repository, the event log and the settings; the
//! reviewer never has to find any of it on its own.

use crate::board::Board;
use crate::error::{EngineError, Result};
use gaffer_core::structured::Plan;
use gaffer_core::{Payload, Role, Seq, Task, event_kind};
use gaffer_store::EventFilter;

/// How much of the diff the prompt shows.
const DIFF_BYTES: usize = 60 * 1024;
/// How much of verify's output the prompt shows.
const VERIFY_TAIL_BYTES: usize = 4 * 1024;

/// The change under review and its evidence.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ReviewContext {
    /// The branch it would land on.
    pub landing_branch: String,
    /// The commit the diff starts from (where the branch left the landing branch).
    pub base: String,
    /// The commit under review.
    pub head: String,
    /// Paths the change touches.
    pub paths: Vec<String>,
    /// The diff, cut to [`DIFF_BYTES`].
    pub diff: String,
    /// The diff's full size when it was cut.
    pub diff_bytes: Option<usize>,
    /// The last verify run of the task.
    pub verify: Option<VerifyResult>,
    /// The global checklist and the items of every path rule the change touches.
    pub checklist: Vec<String>,
    /// The task's declared write scope and the paths of the change outside it, shown when
    /// `scope.enforce = "review"` (with `"reject"` such a change never reaches review).
    pub outside_scope: Option<(Vec<String>, Vec<String>)>,
}

/// One verify run, as recorded in the event log.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VerifyResult {
    pub command: String,
    pub commit: String,
    pub passed: bool,
    pub exit_code: Option<i64>,
    pub timed_out: bool,
    pub tail: String,
}

impl ReviewContext {
    /// Reads the change of `task` (its head against the landing tip's merge base), its last
    /// verify and the checklist for the paths it touches. Blocking: git.
    pub(crate) fn gather(board: &Board, task: &Task) -> Result<ReviewContext> {
        let landing = board.landing()?;
        let mut context = ReviewContext {
            landing_branch: landing.branch.clone(),
            verify: last_verify(board, task)?,
            ..ReviewContext::default()
        };
        if let Some(head) = &task.state.head {
            let head: gaffer_git::Oid = head
                .as_str()
                .parse()
                .map_err(|_| EngineError::Invalid(format!("bad commit id {head}")))?;
            let (tip, _) = landing.base(board)?;
            let base = board.git.merge_base(&tip, &head)?.unwrap_or(tip);
            let diff = board.git.diff(&base, &head)?;
            context.paths = board.git.diff_stat(&base, &head)?;
            context.base = base.as_str().to_string();
            context.head = head.as_str().to_string();
            match cut(&diff, DIFF_BYTES) {
                Some(shown) => {
                    context.diff_bytes = Some(diff.len());
                    context.diff = shown.to_string();
                }
                None => context.diff = diff,
            }
        }
        context.checklist = board.settings.review.checklist_for(&context.paths);
        if board.settings.scope.enforce == gaffer_config::ScopeEnforce::Review {
            let outside = crate::write_scope::outside(&task.write_scope, &context.paths);
            if !outside.is_empty() {
                context.outside_scope = Some((task.write_scope.clone(), outside));
            }
        }
        Ok(context)
    }

    /// The prompt's sections: the change, verify, the checklist.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        if self.head.is_empty() {
            out.push_str("\n## The change\n\nThe branch has no commit to review.\n");
        } else {
            out.push_str(&format!(
                "\n## The change\n\nThe branch at {} against {} (from {}), touching {}:\n\n\
                 ```diff\n{}\n```\n",
                short(&self.head),
                self.landing_branch,
                short(&self.base),
                match self.paths.len() {
                    1 => "1 file".to_string(),
                    n => format!("{n} files"),
                },
                self.diff.trim_end()
            ));
            if let Some(total) = self.diff_bytes {
                out.push_str(&format!(
                    "\nThe diff is cut at {} of {} KB; the files it changes: {}. Read the rest \
                     in the worktree.\n",
                    DIFF_BYTES / 1024,
                    total.div_ceil(1024),
                    self.paths.join(", ")
                ));
            }
        }
        if let Some(v) = &self.verify {
            let verdict = match (v.passed, v.timed_out, v.exit_code) {
                (true, _, _) => "passed".to_string(),
                (false, true, _) => "timed out".to_string(),
                (false, false, Some(code)) => format!("failed with exit code {code}"),
                (false, false, None) => "failed".to_string(),
            };
            let exit = v
                .exit_code
                .map(|c| format!(" (exit code {c})"))
                .unwrap_or_default();
            let tail = tail(&v.tail, VERIFY_TAIL_BYTES);
            out.push_str(&format!(
                "\n## Verify\n\n`{}` {verdict}{} on {}.",
                v.command,
                if v.passed { exit } else { String::new() },
                short(&v.commit)
            ));
            if tail.trim().is_empty() {
                out.push_str(" It printed nothing.\n");
            } else {
                out.push_str(&format!(
                    " The end of its output:\n\n```\n{}\n```\n",
                    tail.trim_end()
                ));
            }
        }
        if let Some((scope, outside)) = &self.outside_scope {
            out.push_str(&format!(
                "\n## Outside the write scope\n\nThis task declared that it writes only {}. The \
                 change also edits these paths, outside that scope:\n\n",
                scope.join(", ")
            ));
            for path in outside {
                out.push_str(&format!("- {path}\n"));
            }
            out.push_str(
                "\nRequest changes unless each of these edits is needed for the task and safe for \
                 the tasks that own those paths.\n",
            );
        }
        if !self.checklist.is_empty() {
            out.push_str(
                "\n## Checklist\n\nCheck each item; report every one the change fails as a \
                 finding:\n\n",
            );
            for item in &self.checklist {
                out.push_str(&format!("- {item}\n"));
            }
        }
        out
    }
}

/// The plan a run of `role` on `task` is shown: the plan under review for a plan reviewer;
/// for coders and reviewers, the plan of the task's epic (with the task's place in it) or the
/// task's own. Blocking: the store.
pub(crate) fn plan_for(board: &Board, task: &Task, role: Role) -> Result<Option<String>> {
    let parse = |value: &serde_json::Value| serde_json::from_value::<Plan>(value.clone()).ok();
    match role {
        Role::PlanReviewer => Ok(task
            .plan
            .as_ref()
            .and_then(parse)
            .map(|plan| render_plan(&plan, None))),
        Role::Planner | Role::Resolver => Ok(None),
        Role::Coder | Role::Reviewer => {
            if let Some(parent) = task.parent {
                let epic = board.store.task(parent)?;
                if let Some(plan) = epic.plan.as_ref().and_then(parse) {
                    let place = plan
                        .subtasks
                        .iter()
                        .position(|s| s.title.trim() == task.title.trim());
                    let intro = match place {
                        Some(i) => format!(
                            "This task is subtask {} of {} of epic #{} \"{}\".\n\n",
                            i + 1,
                            plan.subtasks.len(),
                            epic.id,
                            epic.title
                        ),
                        None => format!(
                            "This task belongs to epic #{} \"{}\".\n\n",
                            epic.id, epic.title
                        ),
                    };
                    return Ok(Some(format!("{intro}{}", render_plan(&plan, place))));
                }
            }
            Ok(task
                .plan
                .as_ref()
                .and_then(parse)
                .filter(|p| !p.subtasks.is_empty())
                .map(|plan| render_plan(&plan, None)))
        }
    }
}

/// A plan as a numbered list (1-based, as people count), `this` marked.
pub(crate) fn render_plan(plan: &Plan, this: Option<usize>) -> String {
    if plan.subtasks.is_empty() {
        return "No subtasks: the goal is to be coded as it is.\n".to_string();
    }
    let mut out = String::new();
    for (i, sub) in plan.subtasks.iter().enumerate() {
        let mut facts = Vec::new();
        if !sub.depends_on.is_empty() {
            let deps: Vec<String> = sub.depends_on.iter().map(|d| (d + 1).to_string()).collect();
            facts.push(format!("after {}", deps.join(", ")));
        }
        if !sub.write_scope.is_empty() {
            facts.push(format!("writes {}", sub.write_scope.join(", ")));
        }
        facts.push(format!("risk {}", sub.risk));
        if sub.tier > 0 {
            facts.push(format!("tier {}", sub.tier));
        }
        let marker = if this == Some(i) {
            " ← this task"
        } else {
            ""
        };
        out.push_str(&format!(
            "{}. {} ({}){marker}\n",
            i + 1,
            sub.title.trim(),
            facts.join("; ")
        ));
        for line in sub.body.trim().lines() {
            out.push_str(&format!("   {line}\n"));
        }
    }
    out
}

/// The task's last `verify.finished` event.
fn last_verify(board: &Board, task: &Task) -> Result<Option<VerifyResult>> {
    let filter = EventFilter {
        task: Some(task.id),
        kind_prefix: Some(event_kind::VERIFY_FINISHED.into()),
        ..EventFilter::default()
    };
    let mut after = Seq(0);
    let mut found = None;
    loop {
        let events = board.store.events_after(after, 1000, &filter)?;
        let Some(last) = events.last() else {
            break;
        };
        after = last.seq;
        found = events
            .iter()
            .rev()
            .find_map(|e| match e.payload() {
                Ok(Payload::VerifyFinished(v)) => Some(v),
                _ => None,
            })
            .or(found);
    }
    let command = board
        .settings
        .verify
        .command
        .clone()
        .unwrap_or_else(|| "verify".into());
    Ok(found.map(|e| VerifyResult {
        command,
        commit: e.commit.0,
        passed: e.passed,
        exit_code: e.exit_code.map(i64::from),
        timed_out: e.timed_out,
        tail: e.tail,
    }))
}

/// `text` cut to at most `max` bytes on a line boundary, or `None` when it fits.
fn cut(text: &str, max: usize) -> Option<&str> {
    if text.len() <= max {
        return None;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let end = text[..end].rfind('\n').map_or(end, |n| n + 1);
    Some(&text[..end])
}

/// The last `max` bytes of `text`, from a line start when possible.
fn tail(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let rest = &text[start..];
    match rest.find('\n') {
        Some(n) if n + 1 < rest.len() => &rest[n + 1..],
        _ => rest,
    }
}

fn short(oid: &str) -> &str {
    oid.get(..10).unwrap_or(oid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gaffer_core::structured::parse_plan;

    #[test]
    fn plans_render_one_line_per_subtask_with_this_task_marked() {
        let plan = parse_plan(
            r#"{"subtasks": [
                {"title": "Schema", "body": "Add the table.", "write_scope": ["migrations/**"], "risk": "high"},
                {"title": "API", "depends_on": [0], "tier": 1}
            ]}"#,
        )
        .unwrap();
        let text = render_plan(&plan, Some(1));
        assert_eq!(
            text,
            "1. Schema (writes migrations/**; risk high)\n   Add the table.\n\
             2. API (after 1; risk low; tier 1) ← this task\n"
        );
    }

    #[test]
    fn the_review_sections_show_the_change_verify_and_checklist() {
        let context = ReviewContext {
            landing_branch: "main".into(),
            base: "1111111111aaaa".into(),
            head: "2222222222bbbb".into(),
            paths: vec!["a.txt".into()],
            diff: "+hello\n".into(),
            diff_bytes: None,
            verify: Some(VerifyResult {
                command: "cargo test".into(),
                commit: "2222222222bbbb".into(),
                passed: true,
                exit_code: Some(0),
                timed_out: false,
                tail: "test result: ok\n".into(),
            }),
            checklist: vec!["tests for new code".into()],
            outside_scope: Some((vec!["src/a/**".into()], vec!["b.txt".into()])),
        };
        let text = context.render();
        assert!(
            text.contains("## Outside the write scope")
                && text.contains("writes only src/a/**")
                && text.contains("- b.txt"),
            "{text}"
        );
        assert!(
            text.contains(
                "The branch at 2222222222 against main (from 1111111111), touching 1 file"
            ),
            "{text}"
        );
        assert!(text.contains("```diff\n+hello\n```"), "{text}");
        assert!(
            text.contains("`cargo test` passed (exit code 0) on 2222222222. The end of its output:\n\n```\ntest result: ok\n```"),
            "{text}"
        );
        assert!(text.contains("## Checklist"), "{text}");
        assert!(text.contains("- tests for new code\n"), "{text}");
    }

    #[test]
    fn long_text_is_cut_on_lines() {
        let text = "aaaa\nbbbb\ncccc\n";
        assert_eq!(cut(text, 100), None);
        assert_eq!(cut(text, 12), Some("aaaa\nbbbb\n"));
        assert_eq!(tail(text, 7), "cccc\n");
        assert_eq!(tail("é", 1), "");
    }
}
