//! Role prompts: shipped inside the binary (`crates/engine/prompts/*.md`), overridable per
//! project, and the run's prompt with the evidence each role needs.
//!
//! A project overrides a role's system prompt with `.gaffer/prompts/<role>.md` at its repository
//! root (`coder`, `resolver`, `reviewer`, `plan_reviewer`, `planner`), read at the start of
//! every run, so an edit applies to the next run without a restart or a commit. The JSON Schema
//! of a structured role (planner, reviewers) is appended to whichever prompt is used: gaffer
//! parses their answers strictly either way.

use gaffer_core::structured::{PLAN_SCHEMA, VERDICT_SCHEMA};
use gaffer_core::{Role, Run, RunReason, RunStatus, Task};
use std::path::Path;

const CODER: &str = include_str!("../prompts/coder.md");
const RESOLVER: &str = include_str!("../prompts/resolver.md");
const REVIEWER: &str = include_str!("../prompts/reviewer.md");
const PLAN_REVIEWER: &str = include_str!("../prompts/plan_reviewer.md");
const PLANNER: &str = include_str!("../prompts/planner.md");

/// Where a project keeps its own role prompts, relative to its repository root.
pub const OVERRIDE_DIR: &str = ".gaffer/prompts";

/// The prompt gaffer ships for a role.
pub(crate) fn shipped(role: Role) -> &'static str {
    match role {
        Role::Coder => CODER,
        Role::Resolver => RESOLVER,
        Role::Reviewer => REVIEWER,
        Role::PlanReviewer => PLAN_REVIEWER,
        Role::Planner => PLANNER,
    }
}

/// The system prompt of a role: the project's `.gaffer/prompts/<role>.md` under `root` when it
/// exists and says something, else the shipped one; structured roles get their published schema
/// appended.
pub(crate) fn system(root: &Path, role: Role) -> String {
    let path = root
        .join(OVERRIDE_DIR)
        .join(format!("{}.md", role.as_str()));
    let own = match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => Some(text),
        Ok(_) => None,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            tracing::warn!(
                "cannot read the prompt override {}: {e}; using the shipped prompt",
                path.display()
            );
            None
        }
    };
    let base = own.as_deref().unwrap_or(shipped(role));
    match role {
        Role::Coder | Role::Resolver => base.to_string(),
        Role::Reviewer | Role::PlanReviewer => {
            format!(
                "{}\n\nThe JSON Schema:\n\n{VERDICT_SCHEMA}",
                base.trim_end()
            )
        }
        Role::Planner => format!("{}\n\nThe JSON Schema:\n\n{PLAN_SCHEMA}", base.trim_end()),
    }
}

/// The follow-up when a plan or verdict did not parse.
pub(crate) fn reask(role: Role, error: &str) -> String {
    let schema = match role {
        Role::Planner => PLAN_SCHEMA,
        _ => VERDICT_SCHEMA,
    };
    format!(
        "Your answer could not be used: {error}.\n\nAnswer again with exactly one JSON object \
         matching this schema, and nothing else:\n\n{schema}"
    )
}

/// The handoff of a task's coding line: the final text of its last coder or resolver run that
/// finished (what was done, what is left, what to watch), if any said something.
pub fn last_handoff(runs: &[Run]) -> Option<&str> {
    runs.iter()
        .rev()
        .filter(|r| matches!(r.role, Role::Coder | Role::Resolver))
        .filter(|r| r.status == RunStatus::Succeeded)
        .find_map(|r| r.outcome.as_deref().filter(|o| !o.trim().is_empty()))
}

/// What people said to the task's agent since its last run (`gaffer say`), for the start of a
/// run's prompt: after `stopped`, the run it resumes was stopped to deliver it.
pub(crate) fn said(messages: &[crate::said::Message], stopped: bool) -> String {
    let one = messages.len() == 1;
    let mut out = String::from(if one {
        "## A message from a person\n\n"
    } else {
        "## Messages from people\n\n"
    });
    if stopped {
        out.push_str(
            "This came while your last run went on, which gaffer ended to give it to you; your \
             work so far is in the worktree and \
             in this conversation. ",
        );
    }
    out.push_str(if one {
        "A person following this task says:\n\n"
    } else {
        "People following this task say, oldest first:\n\n"
    });
    for message in messages {
        quote(&mut out, &message.text);
    }
    out.push_str(
        "Take it into account: it comes from the people you work for, and where it changes \
         what the task below asks, it wins. Then go on with the task.\n\n",
    );
    out
}

/// A person's message as a run going on is given it, at its next turn (`crate::listening`).
pub(crate) fn said_now(text: &str) -> String {
    let mut out = String::from(
        "## A message from a person\n\nA person following this task says, while you work:\n\n",
    );
    quote(&mut out, text);
    out.push_str(
        "Take it into account: it comes from the people you work for, and where it changes \
         what the task asks, it wins. Then go on with the task. If you had already given your \
         final answer, give it again in full, in the form the task asks for, changed as this \
         message asks.",
    );
    out
}

/// `text` quoted, line by line, then a blank line.
fn quote(out: &mut String, text: &str) {
    for line in text.trim().lines() {
        out.push_str(&format!("> {line}\n"));
    }
    out.push('\n');
}

/// Evidence beyond the task itself, by role; each part is a section of the prompt when present.
#[derive(Debug, Clone, Default)]
pub(crate) struct Context {
    /// The last handoff of the coding line (coders and resolvers that start afresh).
    pub handoff: Option<String>,
    /// The previous run of this line was lost (gaffer stopped while it ran).
    pub interrupted: bool,
    /// The plan, rendered (plan reviewers: the plan under review; reviewers: the epic's plan).
    pub plan: Option<String>,
    /// The repository map (planners).
    pub repo_map: Option<String>,
    /// The change and its evidence (reviewers).
    pub review: Option<crate::review::ReviewContext>,
    /// An extra reviewer's focus.
    pub focus: Option<String>,
    /// Best-of-N: the attempts to pick from, rendered (the picking reviewer).
    pub attempts: Option<String>,
}

/// The run's prompt: the task, why this run happens with its evidence, and what the role needs
/// to see.
pub(crate) fn render(
    role: Role,
    task: &Task,
    reason: RunReason,
    feedback: Option<&str>,
    context: &Context,
) -> String {
    let heading = match role {
        Role::Planner | Role::PlanReviewer => "Goal",
        _ => "Task",
    };
    let mut out = format!("# {heading} #{}: {}\n", task.id, task.title);
    if !task.body.trim().is_empty() {
        out.push_str(&format!("\n{}\n", task.body.trim()));
    }
    if !task.write_scope.is_empty() {
        out.push_str(&format!(
            "\nOnly change files matching: {}\n",
            task.write_scope.join(", ")
        ));
    }
    if let Some(focus) = &context.focus {
        out.push_str(&format!(
            "\n## Your focus\n\nYou are an extra reviewer: the main reviewer has approved this \
             change. Review it for this concern only, and request changes only for problems of \
             this kind: {}\n",
            focus.trim()
        ));
    }
    let why = match reason {
        RunReason::Start => None,
        RunReason::VerifyFailed => Some(
            "Your previous attempt did not succeed: the project's verify command failed on it, \
             it changed nothing, or the run itself failed. What happened is below. Fix it.",
        ),
        RunReason::Escalated => Some(
            "Earlier attempts by another model failed. Start from the branch as it is and from \
             the handoff below.",
        ),
        RunReason::ChangesRequested => {
            Some("The reviewer requested changes. Address every finding.")
        }
        RunReason::PlanRejected => Some("The plan reviewer sent the plan back. Revise it."),
        RunReason::Answered => Some("A person answered your question."),
        RunReason::Rejected => Some("A person rejected the change at the approval gate."),
        RunReason::Conflict => {
            Some("The branch no longer applies on the target branch. Resolve the conflict.")
        }
        RunReason::Retried => Some("A person asked to try again."),
        RunReason::Restarted => Some(
            "A person asked to start this task again from scratch: the branch is new, made from \
             the target, and holds none of the earlier attempts' changes.",
        ),
        RunReason::Pick => None,
        RunReason::HandedBack => Some(
            "A person took this task over by hand and gave it back without changing the branch. \
             Go on with the task from the branch as it is.",
        ),
    };
    if let Some(why) = why {
        out.push_str(&format!("\n## Why you are running again\n\n{why}\n"));
    }
    if let Some(feedback) = feedback {
        out.push_str(&evidence(feedback));
    }
    let code_role = matches!(role, Role::Coder | Role::Resolver);
    // A fresh start is on a new branch: nothing an earlier run left is there to go on from.
    let interrupted = context.interrupted && reason != RunReason::Restarted;
    if code_role && interrupted {
        out.push_str(
            "\n## The previous run was interrupted\n\ngaffer stopped while the previous run on \
             this task was working (it was lost, not finished). The worktree holds what it \
             left: check what is already done before you go on.\n",
        );
    }
    let fresh_start = matches!(reason, RunReason::Escalated | RunReason::Retried);
    if let (true, true, Some(handoff)) = (code_role, fresh_start || interrupted, &context.handoff) {
        out.push_str(&format!(
            "\n## Handoff from the previous run\n\n{}\n",
            handoff.trim()
        ));
    }
    if let Some(plan) = &context.plan {
        out.push_str(&format!("\n## The plan\n\n{}\n", plan.trim_end()));
    }
    if let Some(map) = &context.repo_map {
        out.push_str(&format!("\n## The repository\n\n{}\n", map.trim_end()));
    }
    if let Some(review) = &context.review {
        out.push_str(&review.render());
    }
    if let Some(attempts) = &context.attempts {
        out.push_str(attempts);
    }
    out
}

/// The evidence of why a run happens again, fenced. A failed verify's (see
/// `gaffer_core::failures`) leads with its headline, the command and the failing tests with
/// their first lines; the end of its output follows in a block of its own.
fn evidence(feedback: &str) -> String {
    let (lead, output) = gaffer_core::failures::split_evidence(feedback);
    let mut out = format!("\n{}", fenced(lead.trim()));
    if let Some(output) = output.map(str::trim).filter(|o| !o.is_empty()) {
        out.push_str(&format!(
            "\nThe end of verify's output:\n\n{}",
            fenced(output)
        ));
    }
    out
}

/// `text` in a code fence longer than any run of backticks inside it, so test output that
/// quotes markdown cannot end the block early.
fn fenced(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}\n{text}\n{fence}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use gaffer_core::{Flow, ProjectId, RunId, TaskId, TaskKind, TaskState, Usage};

    fn task() -> Task {
        Task {
            id: TaskId(7),
            project: ProjectId(1),
            title: "Add the greeting".into(),
            body: "Say hello.".into(),
            kind: TaskKind::Task,
            priority: 0,
            labels: vec![],
            parent: None,
            blocked_by: vec![],
            write_scope: vec!["src/**".into()],
            read_scope: vec![],
            budget_usd: None,
            branch: "gaffer/7-add-the-greeting".into(),
            plan: None,
            state: TaskState::new(Flow::default(), gaffer_core::Risk::Low, 0),
            version: 1,
            created_ms: 0,
            updated_ms: 0,
        }
    }

    fn run(id: i64, role: Role, status: RunStatus, outcome: &str) -> Run {
        Run {
            id: RunId(id),
            task: TaskId(7),
            job: None,
            role,
            tier: 0,
            agent: "a".into(),
            backend: "scripted".into(),
            model: "m".into(),
            worktree: String::new(),
            session_id: None,
            status,
            outcome: Some(outcome.into()),
            usage: Usage::default(),
            started_ms: 0,
            ended_ms: None,
        }
    }

    #[test]
    fn overrides_replace_the_shipped_prompt_and_keep_the_schema() {
        let dir = tempfile::tempdir().unwrap();
        assert!(system(dir.path(), Role::Coder).contains("You are a coder"));
        let prompts = dir.path().join(OVERRIDE_DIR);
        std::fs::create_dir_all(&prompts).unwrap();
        std::fs::write(prompts.join("coder.md"), "House rules: tabs.\n").unwrap();
        std::fs::write(prompts.join("reviewer.md"), "Be strict.\n").unwrap();
        std::fs::write(prompts.join("planner.md"), "  \n").unwrap();
        assert_eq!(system(dir.path(), Role::Coder), "House rules: tabs.\n");
        let reviewer = system(dir.path(), Role::Reviewer);
        assert!(reviewer.starts_with("Be strict."), "{reviewer}");
        assert!(reviewer.contains("\"verdict\""), "{reviewer}");
        // A blank override is no override.
        assert!(system(dir.path(), Role::Planner).contains("You are a planner"));
        assert!(system(dir.path(), Role::PlanReviewer).contains("You are a plan reviewer"));
    }

    #[test]
    fn the_handoff_is_the_last_finished_coding_run() {
        let runs = vec![
            run(1, Role::Coder, RunStatus::Succeeded, "did A; B is left"),
            run(
                2,
                Role::Reviewer,
                RunStatus::Succeeded,
                "{\"verdict\":\"approve\"}",
            ),
            run(
                3,
                Role::Coder,
                RunStatus::Lost,
                "the gaffer that ran it stopped",
            ),
        ];
        assert_eq!(last_handoff(&runs), Some("did A; B is left"));
        assert_eq!(last_handoff(&runs[1..]), None);
    }

    #[test]
    fn fresh_sessions_start_from_the_handoff() {
        let context = Context {
            handoff: Some("did A; B is left".into()),
            ..Context::default()
        };
        let escalated = render(
            Role::Coder,
            &task(),
            RunReason::Escalated,
            Some("verify failed"),
            &context,
        );
        assert!(escalated.contains("## Handoff from the previous run\n\ndid A; B is left"));
        assert!(escalated.contains("Only change files matching: src/**"));
        // A resumed session remembers; it gets no handoff.
        let resumed = render(
            Role::Coder,
            &task(),
            RunReason::VerifyFailed,
            None,
            &context,
        );
        assert!(!resumed.contains("Handoff"), "{resumed}");
        // After a crash the same run starts again, with the handoff and a warning.
        let interrupted = Context {
            interrupted: true,
            ..context
        };
        let again = render(Role::Coder, &task(), RunReason::Start, None, &interrupted);
        assert!(
            again.contains("The previous run was interrupted"),
            "{again}"
        );
        assert!(again.contains("did A; B is left"), "{again}");
    }

    #[test]
    fn a_failed_verify_leads_with_the_failing_tests_then_the_output() {
        let output = "tests/test_auth.py F\n```\nFAILED tests/test_auth.py::test_login - assert 401 == 200\n1 failed in 0.1s\n";
        let failure = gaffer_core::failures::summarize(output);
        let feedback = failure.evidence("`pytest` exit code 1", output);
        let prompt = render(
            Role::Coder,
            &task(),
            RunReason::VerifyFailed,
            Some(&feedback),
            &Context::default(),
        );
        let why = prompt.find("## Why you are running again").unwrap();
        let headline = prompt.find("1 test failed: test_login").unwrap();
        let tests = prompt
            .find("Failing tests:\n  tests/test_auth.py::test_login\n      assert 401 == 200")
            .unwrap();
        let output_at = prompt
            .find("The end of verify's output:\n\n````\ntests/test_auth.py F")
            .unwrap();
        assert!(
            why < headline && headline < tests && tests < output_at,
            "{prompt}"
        );
        // The fence outlasts the output's own backticks.
        assert!(
            prompt.trim_end().ends_with("1 failed in 0.1s\n````"),
            "{prompt}"
        );
        // Any other feedback is fenced as before.
        let other = render(
            Role::Coder,
            &task(),
            RunReason::VerifyFailed,
            Some("the agent made no changes"),
            &Context::default(),
        );
        assert!(
            other.contains("\n```\nthe agent made no changes\n```\n"),
            "{other}"
        );
    }

    #[test]
    fn extra_reviewers_are_told_their_focus() {
        let context = Context {
            focus: Some("security".into()),
            ..Context::default()
        };
        let prompt = render(Role::Reviewer, &task(), RunReason::Start, None, &context);
        assert!(prompt.contains("## Your focus"), "{prompt}");
        assert!(prompt.contains(
            "concern only, and request changes only for problems of this kind: security"
        ));
    }
}
