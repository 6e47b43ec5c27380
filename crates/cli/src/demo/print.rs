//! The demo's summary as text: the crew, then per task what happened to it, in the pipeline's
//! order (plan, question, verify, reviews, landing, cost).

use super::summary::{Fix, Member, Review, Summary, TaskSummary, VerifyResult};
use crate::error::CliResult;
use crate::output::short;
use gaffer_core::{Role, RunReason, TaskKind};

impl Summary {
    pub fn print(&self) -> CliResult<()> {
        outln!()?;
        outln!("the crew")?;
        for m in &self.crew {
            print_member(m)?;
        }
        for t in &self.tasks {
            outln!()?;
            print_task(self, t)?;
        }
        outln!()?;
        let mut total = gaffer_core::Usage::default();
        for t in &self.tasks {
            total.add(&t.usage);
        }
        outln!(
            "{} tasks, {} agent runs, {:.1} s, {} input + {} output tokens, ${:.4}",
            self.tasks.len(),
            self.tasks.iter().map(|t| t.runs.len()).sum::<usize>(),
            self.duration_ms as f64 / 1000.0,
            total.input_tokens,
            total.output_tokens,
            total.cost_usd
        )?;
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

fn print_member(m: &Member) -> CliResult<()> {
    let roles: Vec<String> = m
        .roles
        .iter()
        .map(|r| r.as_str().replace('_', " "))
        .collect();
    outln!(
        "  {:<14} {}: {} backend, {} family, model {}",
        m.agent,
        roles.join(" and "),
        m.backend,
        m.family,
        m.model.as_deref().unwrap_or("(its default)")
    )
}

fn print_task(summary: &Summary, t: &TaskSummary) -> CliResult<()> {
    let kind = if t.kind == TaskKind::Epic {
        "epic"
    } else {
        "task"
    };
    outln!(
        "{kind} {} · {} · {}{}",
        t.id,
        t.title,
        t.status,
        place(summary, t)
    )?;
    outln!("  states   {}", t.states.join(" → "))?;
    let runs: Vec<String> = t
        .runs
        .iter()
        .map(|r| match r.reason {
            Some(RunReason::Start) | None => format!("{} {}", r.role, r.agent),
            Some(reason) => format!("{} {} ({})", r.role, r.agent, why(reason)),
        })
        .collect();
    outln!("  runs     {}", runs.join(" → "))?;
    if let Some(plan) = &t.plan {
        outln!(
            "  plan     {} split it into {} subtasks:",
            plan.by,
            plan.subtasks.len()
        )?;
        for (i, s) in plan.subtasks.iter().enumerate() {
            let mut facts = Vec::new();
            if !s.depends_on.is_empty() {
                let after: Vec<String> = s.depends_on.iter().map(|d| (d + 1).to_string()).collect();
                facts.push(format!("after {}", after.join(", ")));
            }
            if !s.write_scope.is_empty() {
                facts.push(format!("writes {}", s.write_scope.join(", ")));
            }
            let task = s.task.map(|id| format!(" → task {id}")).unwrap_or_default();
            outln!(
                "             {}. {}{task} ({})",
                i + 1,
                s.title,
                facts.join("; ")
            )?;
        }
    }
    for q in &t.questions {
        outln!("  question {} asked: {}", q.asked_by, q.question)?;
        if let Some(answer) = &q.answer {
            let by = q.answered_by.as_deref().unwrap_or("a person");
            outln!("           {by} answered: {answer}")?;
        }
        if let Some(fix) = &q.resumed {
            print_fix("went on with it", fix)?;
        }
    }
    print_verify(&t.verify)?;
    for r in &t.reviews {
        print_review(r)?;
    }
    if let Some(c) = &t.landed_commit {
        outln!("  landed   {}", short(c))?;
    }
    outln!(
        "  usage    {} input + {} output tokens, ${:.4}",
        t.usage.input_tokens,
        t.usage.output_tokens,
        t.usage.cost_usd
    )
}

/// Where a subtask sits: its epic and what it waited for.
fn place(summary: &Summary, t: &TaskSummary) -> String {
    let Some(parent) = t.parent else {
        return String::new();
    };
    let index = summary
        .tasks
        .iter()
        .find(|e| e.id == parent)
        .and_then(|e| e.plan.as_ref())
        .and_then(|p| p.subtasks.iter().position(|s| s.task == Some(t.id)));
    let mut out = match index {
        Some(i) => format!(" · subtask {} of epic {parent}", i + 1),
        None => format!(" · subtask of epic {parent}"),
    };
    if !t.blocked_by.is_empty() {
        let after: Vec<String> = t.blocked_by.iter().map(|id| format!("task {id}")).collect();
        out.push_str(&format!(", after {}", after.join(", ")));
    }
    out
}

fn print_review(r: &Review) -> CliResult<()> {
    let what = match (r.role, r.approved) {
        (Role::PlanReviewer, true) => "plan approved",
        (Role::PlanReviewer, false) => "plan sent back",
        (_, true) => "approved",
        (_, false) => "changes requested",
    };
    outln!(
        "  review   {what} by {} ({} family): {}",
        r.agent,
        r.family,
        r.summary
    )?;
    for f in &r.findings {
        outln!("             {f}")?;
    }
    if let Some(fix) = &r.fix {
        print_fix("fixed it", fix)?;
    }
    Ok(())
}

/// Verify results in order: passes on one line, each failure with its output and its fix.
fn print_verify(results: &[VerifyResult]) -> CliResult<()> {
    const MORE: &str = "          ";
    let mut label = "  verify  ";
    let mut passes: Vec<String> = Vec::new();
    for v in results {
        let at = format!("{} ({})", short(&v.commit), v.purpose);
        if v.passed {
            passes.push(format!("pass {at}"));
            continue;
        }
        if !passes.is_empty() {
            outln!("{label} {}", passes.join(", "))?;
            passes.clear();
            label = MORE;
        }
        outln!("{label} FAIL {at}:")?;
        label = MORE;
        for line in v.output.as_deref().unwrap_or_default().lines() {
            outln!("             {line}")?;
        }
        if let Some(fix) = &v.fix {
            print_fix("fixed it", fix)?;
        }
    }
    if !passes.is_empty() {
        outln!("{label} {}", passes.join(", "))?;
    }
    Ok(())
}

fn print_fix(did: &str, fix: &Fix) -> CliResult<()> {
    let session = if fix.same_session {
        ", in the same session"
    } else {
        ""
    };
    outln!("           {} {did}{session}: {}", fix.agent, fix.said)
}

/// Why a run ran, in a few words.
fn why(reason: RunReason) -> &'static str {
    match reason {
        RunReason::Start => "start",
        RunReason::VerifyFailed => "verify failed",
        RunReason::Escalated => "escalated",
        RunReason::ChangesRequested => "changes requested",
        RunReason::PlanRejected => "plan sent back",
        RunReason::Answered => "answered",
        RunReason::Rejected => "rejected",
        RunReason::Conflict => "conflict",
        RunReason::Retried => "retried",
        RunReason::Restarted => "restarted",
        RunReason::Pick => "pick",
        RunReason::HandedBack => "handed back",
    }
}
