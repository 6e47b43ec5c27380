//! Who wrote a change, as git trailers: the engine's commit of a run and the landing of a task
//! name the task and every agent (with its model) that wrote it, so `git log` and forges say who
//! wrote what.

use gaffer_core::{Role, Run, RunStatus, Task};

/// `Co-authored-by: <agent> (<model>) <agent@agents.gaffer.invalid>` for `run`.
pub(crate) fn co_author(run: &Run) -> String {
    let model = if run.model.is_empty() {
        "default model"
    } else {
        run.model.as_str()
    };
    let agent = run.agent.replace(['<', '>', '\n'], "");
    let model = model.replace(['<', '>', '\n'], "");
    let email: String = agent
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("Co-authored-by: {agent} ({model}) <{email}@agents.gaffer.invalid>")
}

/// The trailers of a task's landing: the task, and each agent (and model) whose run wrote its
/// change, once, in the order they first wrote.
pub(crate) fn landing_trailers(task: &Task, runs: &[Run]) -> String {
    let mut lines = vec![format!("Gaffer-Task: #{}", task.id)];
    for run in runs.iter().filter(|r| {
        matches!(r.role, Role::Coder | Role::Resolver) && r.status == RunStatus::Succeeded
    }) {
        let line = co_author(run);
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    lines.join("\n")
}
