//! Who runs an agent job: the agents a `run` or `attempt` job starts, chosen from the settings
//! (`[roles]`, `[[review.extra]]`) and the task's runs. One choice, made the same way when the
//! job is enqueued (its agents' `needs` become the job's: `needs::run_needs`) and when it runs
//! (`jobs/agent`): the same settings and the same runs give the same agents, so a job starts no
//! agent whose labels it did not ask a machine for.

use gaffer_config::Settings;
use gaffer_core::{Effect, Role, Run, Task};

/// What an agent job asks for, as far as it decides who runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Asked {
    pub role: Role,
    pub tier: u32,
    /// Best-of-N: the attempt this coder run is.
    pub slot: Option<u32>,
}

impl Asked {
    /// The agent job `effect` enqueues, if it enqueues one (an attempt is a coder's run).
    pub(crate) fn of(effect: &Effect) -> Option<Asked> {
        match effect {
            Effect::StartRun { role, tier, .. } => Some(Asked {
                role: *role,
                tier: *tier,
                slot: None,
            }),
            Effect::StartAttempt { slot, tier } => Some(Asked {
                role: Role::Coder,
                tier: *tier,
                slot: Some(*slot),
            }),
            _ => None,
        }
    }

    /// Whether the choice reads the task's runs: a reviewer or plan reviewer prefers another
    /// family than the last author's.
    pub(crate) fn reads_runs(self) -> bool {
        self.slot.is_none() && matches!(self.role, Role::Reviewer | Role::PlanReviewer)
    }
}

/// The agent of the job's first run, by name; `None` when its role names nobody.
///
/// - an attempt: the coder ladder's agents in turn, from the task's tier;
/// - an idle survey's planner: the first planner, else the first coder;
/// - a coder or resolver (resolvers fall back to the coders): the ladder's rung at the tier (the
///   top rung past it);
/// - a reviewer or plan reviewer: the first of another family than the last author (coder,
///   resolver or planner) in `previous`, else the first;
/// - a planner: the first.
pub(crate) fn main_agent<'s>(
    settings: &'s Settings,
    task: &Task,
    asked: Asked,
    previous: &[Run],
) -> Option<&'s str> {
    let roles = &settings.roles;
    if let Some(slot) = asked.slot {
        let ladder = &roles.coder;
        let index =
            (asked.tier as usize + slot.saturating_sub(1) as usize).checked_rem(ladder.len());
        return index.and_then(|i| ladder.get(i)).map(String::as_str);
    }
    if asked.role == Role::Planner && crate::idle::is_survey(task) {
        return roles
            .planner
            .first()
            .or_else(|| roles.coder.first())
            .map(String::as_str);
    }
    let ladder: &[String] = match asked.role {
        Role::Coder => &roles.coder,
        Role::Resolver if !roles.resolver.is_empty() => &roles.resolver,
        Role::Resolver => &roles.coder,
        Role::Reviewer => &roles.reviewer,
        Role::Planner => &roles.planner,
        Role::PlanReviewer => &roles.plan_reviewer,
    };
    let name = match asked.role {
        Role::Coder | Role::Resolver => ladder.get(asked.tier as usize).or(ladder.last()),
        Role::Reviewer | Role::PlanReviewer => {
            let author = previous
                .iter()
                .rev()
                .find(|r| matches!(r.role, Role::Coder | Role::Resolver | Role::Planner))
                .and_then(|r| settings.agent(&r.agent))
                .map(|a| a.family.as_str());
            ladder
                .iter()
                .find(|n| {
                    settings
                        .agent(n)
                        .is_some_and(|a| Some(a.family.as_str()) != author)
                })
                .or(ladder.first())
        }
        Role::Planner => ladder.first(),
    };
    name.map(String::as_str)
}

/// Every agent the job may run, its first run's first: a review of the task's change (not an
/// attempt) also runs each `[[review.extra]]` reviewer when the main one approves.
pub(crate) fn job_agents<'s>(
    settings: &'s Settings,
    task: &Task,
    asked: Asked,
    previous: &[Run],
) -> Vec<&'s str> {
    let mut agents: Vec<&str> = main_agent(settings, task, asked, previous)
        .into_iter()
        .collect();
    if asked.role == Role::Reviewer && asked.slot.is_none() {
        agents.extend(settings.review.extra.iter().map(|e| e.agent.as_str()));
    }
    agents
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use gaffer_core::{Flow, Risk, RunId, RunStatus, TaskId, TaskState};

    /// Settings from `gaffer.toml` text.
    pub(crate) fn settings(text: &str) -> Settings {
        match gaffer_config::parse_str(text, std::path::Path::new("gaffer.toml")) {
            Ok(settings) => settings,
            Err(e) => panic!("{e}"),
        }
    }

    /// A task with these labels.
    pub(crate) fn task(labels: &[&str]) -> Task {
        Task {
            id: TaskId(7),
            project: gaffer_core::ProjectId(1),
            title: "t".into(),
            body: String::new(),
            kind: gaffer_core::TaskKind::Task,
            priority: 0,
            labels: labels.iter().map(|l| l.to_string()).collect(),
            parent: None,
            blocked_by: vec![],
            write_scope: vec![],
            read_scope: vec![],
            budget_usd: None,
            branch: "gaffer/7-t".into(),
            plan: None,
            state: TaskState::new(Flow::default(), Risk::Low, 0),
            version: 1,
            created_ms: 0,
            updated_ms: 0,
        }
    }

    fn run(role: Role, agent: &str) -> Run {
        Run {
            id: RunId(1),
            task: TaskId(7),
            job: None,
            role,
            tier: 0,
            agent: agent.into(),
            backend: "scripted".into(),
            model: "script".into(),
            worktree: String::new(),
            session_id: None,
            status: RunStatus::Succeeded,
            outcome: None,
            usage: Default::default(),
            started_ms: 0,
            ended_ms: None,
        }
    }

    fn asked(role: Role, tier: u32, slot: Option<u32>) -> Asked {
        Asked { role, tier, slot }
    }

    const CREW: &str = "\
[agents.cheap]\nbackend = \"scripted\"\nscript = \"s\"\nfamily = \"a\"\n\
[agents.strong]\nbackend = \"scripted\"\nscript = \"s\"\nfamily = \"b\"\n\
[agents.local]\nbackend = \"scripted\"\nscript = \"s\"\nfamily = \"c\"\nneeds = [\"gpu\"]\n\
[roles]\ncoder = [\"cheap\", \"strong\"]\nreviewer = [\"strong\", \"cheap\"]\n\
[[review.extra]]\nagent = \"local\"\nfocus = \"security\"\n";

    #[test]
    fn coders_climb_the_ladder_and_attempts_take_turns() {
        let s = settings(CREW);
        let t = task(&[]);
        let who = |a: Asked| main_agent(&s, &t, a, &[]);
        assert_eq!(who(asked(Role::Coder, 0, None)), Some("cheap"));
        assert_eq!(who(asked(Role::Coder, 1, None)), Some("strong"));
        assert_eq!(who(asked(Role::Coder, 5, None)), Some("strong"));
        assert_eq!(who(asked(Role::Resolver, 0, None)), Some("cheap"));
        assert_eq!(who(asked(Role::Coder, 0, Some(1))), Some("cheap"));
        assert_eq!(who(asked(Role::Coder, 0, Some(2))), Some("strong"));
        assert_eq!(who(asked(Role::Coder, 1, Some(2))), Some("cheap"));
        assert_eq!(who(asked(Role::Planner, 0, None)), None);
        let nobody = settings("");
        assert_eq!(
            main_agent(&nobody, &t, asked(Role::Coder, 0, Some(1)), &[]),
            None
        );
    }

    #[test]
    fn a_reviewer_is_of_another_family_than_the_last_author() {
        let s = settings(CREW);
        let t = task(&[]);
        let review = asked(Role::Reviewer, 0, None);
        assert!(review.reads_runs());
        assert_eq!(main_agent(&s, &t, review, &[]), Some("strong"));
        let by_strong = [run(Role::Coder, "cheap"), run(Role::Coder, "strong")];
        assert_eq!(main_agent(&s, &t, review, &by_strong), Some("cheap"));
        let by_cheap = [run(Role::Coder, "cheap"), run(Role::Reviewer, "cheap")];
        assert_eq!(main_agent(&s, &t, review, &by_cheap), Some("strong"));
    }

    #[test]
    fn a_review_job_runs_the_extra_reviewers_too() {
        let s = settings(CREW);
        let t = task(&[]);
        assert_eq!(
            job_agents(&s, &t, asked(Role::Reviewer, 0, None), &[]),
            ["strong", "local"]
        );
        assert_eq!(
            job_agents(&s, &t, asked(Role::Coder, 0, None), &[]),
            ["cheap"]
        );
        assert_eq!(
            job_agents(&s, &t, asked(Role::Coder, 0, Some(2)), &[]),
            ["strong"]
        );
    }
}
