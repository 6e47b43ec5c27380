//! An event as a sentence for a person: what `gaffer log`, `gaffer feed`, the shell's panes and
//! the dashboard's timeline (the `text` the server adds) show. One line, no JSON: every kind has
//! its own words, and a kind this version does not know is named with its plain fields.

mod queue;
mod run;
mod task;

use super::{Event, Payload};
use serde_json::Value;

/// What happened, naming the run for a run's event (`run 7 asked: …`) but not the task: for
/// surfaces that show the task beside it.
pub fn describe(event: &Event) -> String {
    let payload = match event.payload() {
        Ok(payload) => payload,
        Err(_) => return format!("{}, with data this version cannot read", event.kind),
    };
    let run = || match event.run {
        Some(run) => format!("run {run}"),
        None => "an agent".to_string(),
    };
    match &payload {
        Payload::RunStarted(p) => format!("{} {}", run(), run::started(p)),
        Payload::RunOutput(p) => format!("{} {}", run(), run::output(&p.output)),
        Payload::RunFinished(p) => format!("{} {}", run(), run::finished(p)),
        Payload::RunLost(p) => format!("{} was lost: {}", run(), first_line(&p.reason)),
        Payload::RunHeard(p) => format!(
            "{} heard a person's message at its next turn: “{}”",
            run(),
            first_line(&p.text)
        ),
        Payload::ScopeOutside(p) => format!("{} {}", run(), run::scope_outside(p)),
        Payload::SecretRefused(p) => format!("{} {}", run(), run::secret_refused(p)),
        Payload::TaskProposed(p) => format!("{} {}", run(), task::proposed(p)),
        Payload::VerifyStarted(p) => run::verify_started(p),
        Payload::VerifyFinished(p) => run::verify_finished(p),
        Payload::Unknown { kind, data } => unknown(kind, data),
        other => task::describe(other)
            .or_else(|| queue::describe(other))
            .unwrap_or_else(|| other.kind().to_string()),
    }
}

/// The whole sentence, for surfaces that mix tasks: `task 3: verify passed on 1a2b3c4 in 2.1 s`.
pub fn sentence(event: &Event) -> String {
    match event.task {
        Some(task) => format!("task {task}: {}", describe(event)),
        None => describe(event),
    }
}

/// A kind this version does not know: its name and its plain fields.
fn unknown(kind: &str, data: &Value) -> String {
    let fields: Vec<String> = match data {
        Value::Object(map) => map
            .iter()
            .filter_map(|(k, v)| plain(v).map(|v| format!("{k}: {v}")))
            .collect(),
        other => plain(other).into_iter().collect(),
    };
    if fields.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} ({})", fields.join(", "))
    }
}

/// A scalar (or a list of scalars) as text; nested data is left out.
fn plain(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(first_line(s)),
        Value::Bool(_) | Value::Number(_) => Some(value.to_string()),
        Value::Array(items) => {
            let items: Option<Vec<String>> = items.iter().map(plain).collect();
            items.filter(|i| !i.is_empty()).map(|i| i.join(", "))
        }
        Value::Object(_) => None,
    }
}

/// The first line of `text`, at most 200 characters.
pub(crate) fn first_line(text: &str) -> String {
    let line = text.trim().lines().next().unwrap_or("");
    if line.chars().count() > 200 {
        format!("{}…", line.chars().take(199).collect::<String>())
    } else {
        line.to_string()
    }
}

/// A commit or tree as people see it: its first 7 characters.
pub(crate) fn short(oid: &crate::ObjectId) -> &str {
    oid.as_str().get(..7).unwrap_or(oid.as_str())
}

/// `850 ms`, `2.1 s`, `3 min 5 s`, `2 h 4 min`.
pub(crate) fn duration(ms: u64) -> String {
    let s = ms / 1000;
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        60_000..3_600_000 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

/// `$0.42`, or `$0.0012` for less than a cent (a single call often costs that).
pub(crate) fn usd(amount: f64) -> String {
    if amount != 0.0 && amount.abs() < 0.01 {
        format!("${amount:.4}")
    } else {
        format!("${amount:.2}")
    }
}

/// Items joined with commas.
pub(crate) fn list<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `1 run`, `2 runs`.
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A snake_case name as words: `needs_input` → `needs input`.
pub(crate) fn words(name: &str) -> String {
    name.replace('_', " ")
}
