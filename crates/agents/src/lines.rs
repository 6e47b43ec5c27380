//! Conventions agents use in plain text: `STATUS: …` reports progress, `QUESTION: …` asks a
//! person, `STUCK: …` says the agent cannot go on (and why). Shared by every backend that sees
//! the agent's text.

use crate::event::AgentEvent;

/// The event a line of agent text stands for.
pub fn classify_line(line: &str) -> AgentEvent {
    let trimmed = line.trim();
    if let Some(rest) = trimmed.strip_prefix("STATUS:") {
        AgentEvent::Status {
            text: rest.trim().to_string(),
        }
    } else if let Some(rest) = trimmed.strip_prefix("QUESTION:") {
        AgentEvent::Question {
            text: rest.trim().to_string(),
        }
    } else if let Some(rest) = trimmed.strip_prefix("STUCK:") {
        AgentEvent::Stuck {
            text: rest.trim().to_string(),
        }
    } else {
        AgentEvent::Text {
            text: line.to_string(),
        }
    }
}

/// Events for a block of agent text: one `Text` for the block (when anything is left), plus a
/// `Status`, `Question` or `Stuck` for each line that carries one.
pub fn classify_text(text: &str) -> Vec<AgentEvent> {
    let mut out = Vec::new();
    let mut plain = Vec::new();
    for line in text.lines() {
        match classify_line(line) {
            AgentEvent::Text { .. } => plain.push(line),
            other => out.push(other),
        }
    }
    let plain = plain.join("\n");
    if !plain.trim().is_empty() {
        out.insert(0, AgentEvent::Text { text: plain });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_question_lines_are_recognised() {
        let events = classify_text("Working on it.\nSTATUS: tests pass\nQUESTION: which db?\n");
        assert_eq!(
            events,
            vec![
                AgentEvent::Text {
                    text: "Working on it.".into()
                },
                AgentEvent::Status {
                    text: "tests pass".into()
                },
                AgentEvent::Question {
                    text: "which db?".into()
                },
            ]
        );
    }

    #[test]
    fn stuck_lines_are_recognised() {
        assert_eq!(
            classify_line("  STUCK: the API docs are missing "),
            AgentEvent::Stuck {
                text: "the API docs are missing".into()
            }
        );
        let events = classify_text("Tried twice.\nSTUCK: no network");
        assert_eq!(
            events[1],
            AgentEvent::Stuck {
                text: "no network".into()
            }
        );
        assert_eq!(
            classify_line("not STUCK: here"),
            AgentEvent::Text {
                text: "not STUCK: here".into()
            }
        );
    }
}
