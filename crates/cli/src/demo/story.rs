//! A task's history as the demo's summary tells it: its events walked in order, each run,
//! verdict, question and verify result put where a reader looks for it (a fix beside what it
//! fixed, an answer beside its question).

use super::summary::{Fix, Question, Review, RunSummary, VerifyResult};
use gaffer_core::structured::{Finding, parse_verdict};
use gaffer_core::{Run, RunReason, Status};

/// A task's history as the summary tells it, built from its events in order.
#[derive(Default)]
pub(super) struct Story {
    pub states: Vec<String>,
    pub runs: Vec<RunSummary>,
    pub reviews: Vec<Review>,
    pub questions: Vec<Question>,
    pub verify: Vec<VerifyResult>,
}

impl Story {
    pub(super) fn status(&mut self, to: &str) {
        if self.states.is_empty() {
            self.states.push(Status::Backlog.as_str().to_string());
        }
        if self.states.last().map(String::as_str) != Some(to) {
            self.states.push(to.to_string());
        }
    }

    /// A run started: a fix of what the last review, failed verify or question gave it.
    pub(super) fn started(
        &mut self,
        run: &Run,
        reason: Option<RunReason>,
        feedback: Option<String>,
        family: String,
    ) {
        let previous = self
            .runs
            .iter()
            .rev()
            .find(|r| r.role == run.role)
            .and_then(|r| r.session_id.clone());
        let fix = || Fix {
            run: run.id,
            agent: run.agent.clone(),
            same_session: previous.is_some() && previous == run.session_id,
            said: run.outcome.clone().unwrap_or_default().trim().to_string(),
        };
        match reason {
            Some(RunReason::ChangesRequested | RunReason::PlanRejected) => {
                if let Some(review) = self.reviews.iter_mut().rev().find(|r| !r.approved) {
                    review.fix.get_or_insert_with(fix);
                }
            }
            Some(RunReason::VerifyFailed) => {
                if let Some(failed) = self
                    .verify
                    .iter_mut()
                    .rev()
                    .find(|v| !v.passed && v.purpose == "branch")
                {
                    failed.fix.get_or_insert_with(fix);
                }
            }
            Some(RunReason::Answered) => {
                if let Some(question) = self.questions.last_mut() {
                    question.answer = feedback;
                    question.resumed.get_or_insert_with(fix);
                }
            }
            _ => {}
        }
        self.runs.push(RunSummary {
            id: run.id,
            role: run.role,
            agent: run.agent.clone(),
            family,
            reason,
            status: run.status,
            session_id: run.session_id.clone(),
        });
    }

    /// A reviewer's run finished: its verdict, as it answered it.
    pub(super) fn reviewed(&mut self, run: &Run, family: String) {
        let Ok(verdict) = parse_verdict(run.outcome.as_deref().unwrap_or_default()) else {
            return;
        };
        self.reviews.push(Review {
            role: run.role,
            agent: run.agent.clone(),
            family,
            approved: verdict.approved(),
            summary: verdict.summary.trim().to_string(),
            findings: verdict.findings.iter().map(finding).collect(),
            fix: None,
        });
    }

    pub(super) fn asked(&mut self, question: String) {
        let asked_by = self
            .runs
            .last()
            .map(|r| r.agent.clone())
            .unwrap_or_default();
        self.questions.push(Question {
            asked_by,
            question,
            answer: None,
            answered_by: None,
            resumed: None,
        });
    }

    pub(super) fn answered_by(&mut self, by: String) {
        if let Some(question) = self.questions.last_mut() {
            question.answered_by = Some(by);
        }
    }

    pub(super) fn verified(&mut self, result: VerifyResult) {
        self.verify.push(result);
    }
}

/// A finding as the coder is shown it: `file:line [severity] text`.
fn finding(f: &Finding) -> String {
    let place = match (&f.file, f.line) {
        (Some(file), Some(line)) => format!("{file}:{line} "),
        (Some(file), None) => format!("{file} "),
        _ => String::new(),
    };
    let severity = f.severity.map(|s| format!("[{s}] ")).unwrap_or_default();
    format!("{place}{severity}{}", f.text.trim())
}

/// The last `n` non-blank lines of `text`.
pub(super) fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
