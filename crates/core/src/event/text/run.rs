//! The words for runs and their checks. Each run sentence is a predicate: the caller puts the run
//! (`run 7`) before it.

use super::{count, duration, first_line, list, short, usd};
use crate::event::payload::{
    Output, RunFinished, RunStarted, ScopeOutside, SecretRefused, VerifyFinished, VerifyOf,
    VerifyStarted,
};
use serde_json::Value;

pub(super) fn started(p: &RunStarted) -> String {
    format!(
        "started: {}, {} ({}), tier {}",
        p.role.as_str(),
        p.agent,
        p.model,
        p.tier
    )
}

pub(super) fn output(output: &Output) -> String {
    match output {
        Output::Text { text } => format!("said: {}", first_line(text)),
        Output::ToolCall { name, summary } if summary.trim().is_empty() => format!("called {name}"),
        // Backends often start the summary with the tool's name: say it once.
        Output::ToolCall { name, summary } if summary.starts_with(name.as_str()) => {
            format!("called {}", first_line(summary))
        }
        Output::ToolCall { name, summary } => format!("called {name}: {}", first_line(summary)),
        Output::ToolResult { summary, is_error } => format!(
            "got {}: {}",
            if *is_error { "an error" } else { "a result" },
            first_line(summary)
        ),
        Output::Status { text } => format!("reports: {}", first_line(text)),
        Output::Question { text } => format!("asked: {}", first_line(text)),
        Output::Stuck { text } => format!("is stuck: {}", first_line(text)),
        Output::Refused { tool, reason } => format!(
            "was refused: the agent's {tool} call was not allowed: {}",
            first_line(reason)
        ),
        // A turn's usage as the agent reported it: most agents price only the run as a whole
        // (its end says what it cost), so a turn's cost is said only when there is one.
        Output::Usage { usage } => {
            let tokens = format!(
                "used {} tokens in ({} cached), {} out",
                usage.input_tokens, usage.cached_tokens, usage.output_tokens
            );
            if usage.cost_usd > 0.0 {
                format!("{tokens}, {}", usd(usage.cost_usd))
            } else {
                tokens
            }
        }
    }
}

pub(super) fn finished(p: &RunFinished) -> String {
    let mut text = format!(
        "{} after {}",
        p.status.as_str(),
        duration(p.duration_ms.max(0) as u64)
    );
    if p.usage.cost_usd > 0.0 {
        text.push_str(&format!(", {}", usd(p.usage.cost_usd)));
    }
    if let Some(outcome) = p.outcome.as_deref().map(outcome).filter(|o| !o.is_empty()) {
        text.push_str(&format!(": {outcome}"));
    }
    text
}

/// A run's outcome in words: structured output (a verdict, a plan) by its summary, not as JSON.
fn outcome(text: &str) -> String {
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(text.trim()) else {
        return first_line(text);
    };
    let get = |key: &str| fields.get(key).and_then(Value::as_str).map(first_line);
    match (get("verdict"), get("summary")) {
        (Some(verdict), Some(summary)) => format!("{}: {summary}", super::words(&verdict)),
        (Some(verdict), None) => super::words(&verdict),
        (None, Some(summary)) => summary,
        (None, None) => "structured output".to_string(),
    }
}

pub(super) fn scope_outside(p: &ScopeOutside) -> String {
    format!(
        "edits outside its write scope ({}): {} — {}",
        list(&p.scope),
        list(&p.paths),
        if p.enforce == "reject" {
            "sent back to the coder"
        } else {
            "shown to the reviewer"
        }
    )
}

pub(super) fn secret_refused(p: &SecretRefused) -> String {
    format!(
        "added a secret, so its commits were undone and it goes back to the coder: {}",
        list(&p.found)
    )
}

/// `branch`, `candidate`, `attempt 2`.
fn of(purpose: VerifyOf, slot: Option<u32>) -> String {
    match slot {
        Some(slot) => format!("{} {slot}", purpose.as_str()),
        None => purpose.as_str().to_string(),
    }
}

pub(super) fn verify_started(p: &VerifyStarted) -> String {
    format!(
        "verify {}started on {} ({}): {}",
        if p.recheck == Some(true) {
            "again "
        } else {
            ""
        },
        short(&p.commit),
        of(p.purpose, p.slot),
        first_line(&p.command)
    )
}

pub(super) fn verify_finished(p: &VerifyFinished) -> String {
    let how = if p.passed {
        "passed".to_string()
    } else if p.timed_out {
        "TIMED OUT".to_string()
    } else {
        match p.exit_code {
            Some(code) => format!("FAILED (exit {code})"),
            None => "FAILED".to_string(),
        }
    };
    let what = match &p.failure {
        Some(failure) if !p.passed => format!(": {}", first_line(&failure.headline)),
        _ => String::new(),
    };
    format!(
        "verify {how} on {} ({}) in {}{what}",
        short(&p.commit),
        of(p.purpose, p.slot),
        duration(p.duration_ms)
    )
}

/// `2 runs`, for summaries of attempts.
pub(super) fn runs(n: usize) -> String {
    count(n, "run", "runs")
}
