//! Role prompts, shipped inside the binary.

use gaffer_core::structured::{PLAN_SCHEMA, VERDICT_SCHEMA};
use gaffer_core::{Role, RunReason, Task};

const CODER: &str = include_str!("../prompts/coder.md");
const REVIEWER: &str = include_str!("../prompts/reviewer.md");
const PLANNER: &str = include_str!("../prompts/planner.md");

/// The system prompt of a role; structured roles get their published schema appended.
pub(crate) fn system(role: Role) -> String {
    match role {
        Role::Coder | Role::Resolver => CODER.to_string(),
        Role::Reviewer | Role::PlanReviewer => {
            format!("{REVIEWER}\nThe JSON Schema:\n\n{VERDICT_SCHEMA}")
        }
        Role::Planner => format!("{PLANNER}\nThe JSON Schema:\n\n{PLAN_SCHEMA}"),
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

/// The run's prompt: the task, and why this run happens with its evidence.
pub(crate) fn render(
    role: Role,
    task: &Task,
    reason: RunReason,
    feedback: Option<&str>,
    handoff: Option<&str>,
) -> String {
    let mut out = format!(
        "# Task #{}: {}\n\n{}\n",
        task.id,
        task.title,
        task.body.trim()
    );
    if !task.write_scope.is_empty() {
        out.push_str(&format!(
            "\nOnly change files matching: {}\n",
            task.write_scope.join(", ")
        ));
    }
    let why = match (role, reason) {
        (_, RunReason::Start) => None,
        (_, RunReason::VerifyFailed) => {
            Some("The project's verify command failed on your change. Fix it.")
        }
        (_, RunReason::Escalated) => {
            Some("Earlier attempts by another model failed verify. Start from the branch as it is.")
        }
        (_, RunReason::ChangesRequested) => {
            Some("The reviewer requested changes. Address every finding.")
        }
        (_, RunReason::PlanRejected) => Some("The plan reviewer sent the plan back. Revise it."),
        (_, RunReason::Answered) => Some("A person answered your question."),
        (_, RunReason::Rejected) => Some("A person rejected the change at the approval gate."),
        (_, RunReason::Conflict) => {
            Some("The branch no longer applies on the target branch. Resolve the conflict.")
        }
        (_, RunReason::Retried) => Some("A person asked to try again."),
    };
    if let Some(why) = why {
        out.push_str(&format!("\n## Why you are running again\n\n{why}\n"));
    }
    if let Some(feedback) = feedback {
        out.push_str(&format!("\n```\n{}\n```\n", feedback.trim()));
    }
    if let (
        Some(handoff),
        Role::Coder | Role::Resolver,
        RunReason::Escalated | RunReason::Retried,
    ) = (handoff, role, reason)
    {
        out.push_str(&format!(
            "\n## Handoff from the previous run\n\n{}\n",
            handoff.trim()
        ));
    }
    out
}
