//! What the demo prints: per task, the states it passed, its attempts, its verify results and
//! the commit that landed.

use crate::error::CliResult;
use gaffer_core::{Payload, Seq, Status, TaskId};
use gaffer_engine::{Board, Landing};
use gaffer_store::EventFilter;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Serialize)]
pub struct Summary {
    pub repository: PathBuf,
    pub target: String,
    pub landed_on: String,
    pub target_tests_passed: bool,
    pub tasks: Vec<TaskSummary>,
}

#[derive(Debug, Serialize)]
pub struct TaskSummary {
    pub id: TaskId,
    pub title: String,
    pub status: Status,
    /// Coding runs.
    pub attempts: u32,
    pub states: Vec<String>,
    pub verify: Vec<VerifyResult>,
    pub landed_commit: Option<String>,
    /// Tokens and cost of the task's runs.
    pub usage: gaffer_core::Usage,
}

#[derive(Debug, Serialize)]
pub struct VerifyResult {
    pub commit: String,
    pub purpose: String,
    pub passed: bool,
}

impl Summary {
    pub fn collect(
        board: &Board,
        ids: &[TaskId],
        repo: &Path,
        landing: &Landing,
        tests_passed: bool,
    ) -> CliResult<Summary> {
        let mut tasks = Vec::new();
        for id in ids {
            let task = board.task(*id)?;
            let events = board.events_after(
                Seq(0),
                100_000,
                &EventFilter {
                    task: Some(*id),
                    ..EventFilter::default()
                },
            )?;
            let mut states = vec![Status::Backlog.as_str().to_string()];
            let mut verify = Vec::new();
            for e in &events {
                match e.payload() {
                    Ok(Payload::TaskStatus(status)) => {
                        let to = status.to.as_str();
                        if states.last().map(String::as_str) != Some(to) {
                            states.push(to.to_string());
                        }
                    }
                    Ok(Payload::VerifyFinished(v)) => verify.push(VerifyResult {
                        commit: v.commit.0,
                        purpose: v.purpose.as_str().to_string(),
                        passed: v.passed,
                    }),
                    _ => {}
                }
            }
            let mut usage = gaffer_core::Usage::default();
            for run in board.runs(*id)? {
                usage.add(&run.usage);
            }
            tasks.push(TaskSummary {
                id: task.id,
                title: task.title.clone(),
                status: task.status(),
                attempts: task.state.code_runs,
                states,
                verify,
                landed_commit: task.state.landed.as_ref().map(|l| l.commit.to_string()),
                usage,
            });
        }
        Ok(Summary {
            repository: repo.to_path_buf(),
            target: landing.target.clone(),
            landed_on: landing.branch.clone(),
            target_tests_passed: tests_passed,
            tasks,
        })
    }

    pub fn print(&self) -> crate::error::CliResult<()> {
        outln!()?;
        for t in &self.tasks {
            outln!("task {} · {} · {}", t.id, t.title, t.status)?;
            outln!("  states   {}", t.states.join(" → "))?;
            outln!("  attempts {}", t.attempts)?;
            let verify: Vec<String> = t
                .verify
                .iter()
                .map(|v| {
                    format!(
                        "{} {} ({})",
                        if v.passed { "pass" } else { "FAIL" },
                        crate::output::short(&v.commit),
                        v.purpose
                    )
                })
                .collect();
            outln!("  verify   {}", verify.join(", "))?;
            if let Some(c) = &t.landed_commit {
                outln!("  landed   {}", crate::output::short(c))?;
            }
            outln!(
                "  usage    {} input + {} output tokens, ${:.4}",
                t.usage.input_tokens,
                t.usage.output_tokens,
                t.usage.cost_usd
            )?;
        }
        outln!()?;
        if self.landed_on != self.target {
            outln!(
                "work landed on {} ({} is checked out in the repository), then was pulled into {}",
                self.landed_on,
                self.target,
                self.target
            )?;
        }
        outln!(
            "{}'s own tests on {}: {}",
            self.repository.display(),
            self.target,
            if self.target_tests_passed {
                "pass"
            } else {
                "FAIL"
            }
        )?;
        Ok(())
    }
}
