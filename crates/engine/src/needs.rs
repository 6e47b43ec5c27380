//! The machine labels a job needs. A task's (`needs:gpu`) go on every job that works on its
//! code (agent runs, attempts, verify: `apply.rs`); an agent's (`[agents.<name>] needs`, a
//! local model only one machine serves) go on the agent jobs that run it, never on verify,
//! which is no agent. Bookkeeping jobs need nothing.

use crate::board::Board;
use crate::error::Result;
use crate::who::{self, Asked};
use gaffer_config::Settings;
use gaffer_core::{Input, Task, transition};

/// The labels an agent job of `task` (`run` or `attempt`) needs: the task's and those of every
/// agent the job may run ([`who::job_agents`]), sorted, without repeats.
pub(crate) fn run_needs(board: &Board, task: &Task, asked: Asked) -> Result<Vec<String>> {
    let settings = &board.settings;
    // Most boards have no agent that needs anything: the task's runs need not be read.
    if !any_agent_needs(settings) {
        return Ok(task.needs());
    }
    let previous = if asked.reads_runs() {
        board.store.runs(task.id)?
    } else {
        Vec::new()
    };
    let agents = who::job_agents(settings, task, asked, &previous);
    Ok(with_agents(settings, task, &agents))
}

/// What starting the ready `task` asks of machines: the labels each agent job its start
/// enqueues needs, one list per job (the task's own needs when the machine would enqueue none).
/// A machine that can take one of those jobs can work on the task.
pub(crate) fn start_needs(board: &Board, task: &Task) -> Vec<Vec<String>> {
    if !any_agent_needs(&board.settings) {
        return vec![task.needs()];
    }
    let asked: Vec<Asked> = match transition(&task.state, &Input::Start, &board.limits) {
        Ok((_, effects)) => effects.iter().filter_map(Asked::of).collect(),
        Err(_) => Vec::new(),
    };
    if asked.is_empty() {
        return vec![task.needs()];
    }
    asked
        .into_iter()
        // A start asks for no reviewer, so nothing is read that could fail; if it did, the
        // task's own needs are the least its jobs need.
        .map(|a| run_needs(board, task, a).unwrap_or_else(|_| task.needs()))
        .collect()
}

/// Whether some agent needs machine labels (else every agent job needs only its task's).
fn any_agent_needs(settings: &Settings) -> bool {
    settings.agents.values().any(|a| !a.needs.is_empty())
}

/// The task's needs and those of `agents` (unknown names add nothing), sorted, without repeats.
fn with_agents(settings: &Settings, task: &Task, agents: &[&str]) -> Vec<String> {
    let mut needs = task.needs();
    for agent in agents.iter().filter_map(|name| settings.agent(name)) {
        needs.extend(agent.needs.iter().cloned());
    }
    needs.sort();
    needs.dedup();
    needs
}

#[cfg(test)]
mod tests {
    use super::with_agents;
    use crate::who::tests::{settings, task};

    #[test]
    fn an_agent_job_needs_the_task_s_labels_and_its_agents() {
        let settings = settings(
            "[agents.local]\nbackend = \"scripted\"\nscript = \"s\"\nneeds = [\"gpu\", \"cuda\"]\n\
             [agents.big]\nbackend = \"scripted\"\nscript = \"s\"\nneeds = [\"gpu\", \"ram\"]\n\
             [agents.plain]\nbackend = \"scripted\"\nscript = \"s\"\n\
             [roles]\ncoder = [\"plain\"]\n",
        );
        let plain = task(&[]);
        let gpu = task(&["needs:gpu", "docs"]);
        assert!(with_agents(&settings, &plain, &["plain"]).is_empty());
        assert_eq!(with_agents(&settings, &gpu, &["plain"]), ["gpu"]);
        assert_eq!(
            with_agents(&settings, &gpu, &["local", "big", "plain"]),
            ["cuda", "gpu", "ram"]
        );
        assert_eq!(
            with_agents(&settings, &plain, &["nobody"]),
            Vec::<String>::new()
        );
    }
}
